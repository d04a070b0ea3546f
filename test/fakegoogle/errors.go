// Package fakegoogle is what the fakes of Google Cloud REST APIs under
// test/ (fakeclouddns, fakecompute) share: errors in Google's JSON shape,
// so that the real clients' *googleapi.Error carries the code, reason and
// message, and the wording of injected faults.
package fakegoogle

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Error is an API error as Google's APIs send it.
type Error struct {
	Code    int
	Reason  string
	Message string
}

// Errorf makes an Error.
func Errorf(code int, reason, format string, args ...any) *Error {
	return &Error{Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Fault is the answer to a request a test made fail, worded as the APIs
// word it; server names the fake in the message.
func Fault(code int, server string) *Error {
	switch code {
	case http.StatusTooManyRequests:
		return Errorf(code, "rateLimitExceeded", "Rate Limit Exceeded (injected by the %s)", server)
	case http.StatusServiceUnavailable:
		return Errorf(code, "backendError", "The service is currently unavailable (injected by the %s)", server)
	default:
		return Errorf(code, "backendError", "%s (injected by the %s)", http.StatusText(code), server)
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

// WriteError writes e in Google's JSON error shape.
func WriteError(w http.ResponseWriter, e *Error) {
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
	WriteJSON(w, e.Code, map[string]body{"error": {
		Code:    e.Code,
		Message: e.Message,
		Errors:  []item{{Domain: "global", Reason: e.Reason, Message: e.Message}},
		Status:  statuses[e.Code],
	}})
}

// WriteJSON writes v as the response body with code.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode the response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
