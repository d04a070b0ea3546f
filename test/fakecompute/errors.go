package fakecompute

import (
	"fmt"
	"net/http"

	"github.com/kfederation/federation/test/fakegoogle"
)

// apiError is an error answer in Google's JSON error shape.
type apiError = fakegoogle.Error

func errorf(code int, reason, format string, args ...any) *apiError {
	return fakegoogle.Errorf(code, reason, format, args...)
}

// notFound is the API's answer for a resource that does not exist, whether
// the path names it or a reference in the body does.
func notFound(r ref) *apiError {
	return errorf(http.StatusNotFound, "notFound", "The resource '%s' was not found", r.key())
}

func alreadyExists(r ref) *apiError {
	return errorf(http.StatusConflict, "alreadyExists", "The resource '%s' already exists", r.key())
}

// invalidField is the API's 400 for a field of the request body; field is
// named as the API names it, "resource.healthChecks[0]".
func invalidField(field string, value any, format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "invalid", "Invalid value for field '%s': '%v'. %s", field, value, fmt.Sprintf(format, args...))
}

// inUse refuses to delete a resource that another one references, as the
// API does: teardown has to go from the users inward.
func inUse(typeName string, r ref, user string) *apiError {
	return errorf(http.StatusBadRequest, "resourceInUseByAnotherResource",
		"The %s resource '%s' is already being used by '%s'", typeName, r.key(), user)
}

// checkFingerprint implements the API's optimistic locking: a request that
// carries a fingerprint must carry the current one. A request without one
// is let through, as the API lets through clients that do not lock.
func checkFingerprint(sent any, current any) *apiError {
	s, _ := sent.(string)
	if s == "" || s == current {
		return nil
	}
	return errorf(http.StatusPreconditionFailed, "conditionNotMet",
		"Supplied fingerprint '%s' does not match current fingerprint '%v'.", s, current)
}

// operationCodes are the codes an operation's error carries for the reasons
// an HTTP error would have had: a change that fails only when its slow
// operation completes reports there, not in an HTTP status.
var operationCodes = map[string]string{
	"notFound":                       "RESOURCE_NOT_FOUND",
	"alreadyExists":                  "ALREADY_EXISTS",
	"resourceInUseByAnotherResource": "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE",
	"conditionNotMet":                "CONDITION_NOT_MET",
	"memberAlreadyExists":            "MEMBER_ALREADY_EXISTS",
	"invalid":                        "INVALID_FIELD_VALUE",
}

func writeError(w http.ResponseWriter, e *apiError) { fakegoogle.WriteError(w, e) }

func writeJSON(w http.ResponseWriter, code int, v any) { fakegoogle.WriteJSON(w, code, v) }
