package fakecompute

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// apiError is an error answer in Google's JSON error shape.
type apiError struct {
	code    int
	reason  string
	message string
}

func errorf(code int, reason, format string, args ...any) *apiError {
	return &apiError{code: code, reason: reason, message: fmt.Sprintf(format, args...)}
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

// fault is the answer to a request FailNext fails, worded as the API words
// it.
func fault(code int) *apiError {
	switch code {
	case http.StatusTooManyRequests:
		return errorf(code, "rateLimitExceeded", "Rate Limit Exceeded (injected by the fake Compute Engine server)")
	case http.StatusServiceUnavailable:
		return errorf(code, "backendError", "The service is currently unavailable (injected by the fake Compute Engine server)")
	default:
		return errorf(code, "backendError", "%s (injected by the fake Compute Engine server)", http.StatusText(code))
	}
}

// statuses are the canonical status names Google puts beside the code.
var statuses = map[int]string{
	http.StatusBadRequest:          "INVALID_ARGUMENT",
	http.StatusNotFound:            "NOT_FOUND",
	http.StatusConflict:            "ALREADY_EXISTS",
	http.StatusPreconditionFailed:  "FAILED_PRECONDITION",
	http.StatusTooManyRequests:     "RESOURCE_EXHAUSTED",
	http.StatusInternalServerError: "INTERNAL",
	http.StatusServiceUnavailable:  "UNAVAILABLE",
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

func writeError(w http.ResponseWriter, e *apiError) {
	type item struct {
		Domain  string `json:"domain"`
		Reason  string `json:"reason"`
		Message string `json:"message"`
	}
	type body struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Errors  []item `json:"errors"`
		Status  string `json:"status,omitempty"`
	}
	writeJSON(w, e.code, map[string]body{"error": {
		Code:    e.code,
		Message: e.message,
		Errors:  []item{{Domain: "global", Reason: e.reason, Message: e.message}},
		Status:  statuses[e.code],
	}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode the response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
