package fakecompute

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
)

// A resource is kept as the JSON object the client sent, completed by the
// server, rather than as a struct of the fields the fake reads: Compute
// resources have dozens of fields (a backend service's logConfig, an
// instance's disks) that a client sets and later compares with what it
// reads back, and a fake that dropped them would make such a client see a
// difference forever. The fields the fake does read are decoded into small
// typed views, checked, and written back with overlay.

// decodeObject parses a request body that must be one JSON object. Numbers
// stay json.Number, so that they come back exactly as sent.
func decodeObject(body []byte) (map[string]any, *apiError) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, errorf(http.StatusBadRequest, "parseError", "Invalid JSON payload received. %v", err)
	}
	if m == nil {
		return nil, errorf(http.StatusBadRequest, "parseError", "Invalid JSON payload received. The body must be a JSON object.")
	}
	if dec.More() {
		return nil, errorf(http.StatusBadRequest, "parseError", "Invalid JSON payload received. Unexpected data after the object.")
	}
	return m, nil
}

// decodeView reads the fields a view declares out of a stored object. A
// field of the wrong JSON type is the client's error.
func decodeView(fields map[string]any, view any) *apiError {
	b, err := json.Marshal(fields)
	if err != nil {
		return errorf(http.StatusInternalServerError, "internalError", "encode the resource: %v", err)
	}
	if err := json.Unmarshal(b, view); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return invalidField("resource."+typeErr.Field, typeErr.Value, "It must be a JSON %s.", typeErr.Type)
		}
		return errorf(http.StatusBadRequest, "invalid", "Invalid resource: %v", err)
	}
	return nil
}

// overlay writes a view's non-empty fields back into the object it was read
// from. Objects merge key by key, and lists of the same length element by
// element, so that what the view does not declare stays as it was.
func overlay(fields map[string]any, view any) *apiError {
	b, err := json.Marshal(view)
	if err != nil {
		return errorf(http.StatusInternalServerError, "internalError", "encode the resource: %v", err)
	}
	src, apiErr := decodeObject(b)
	if apiErr != nil {
		return apiErr
	}
	mergeInto(fields, src)
	return nil
}

func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		switch sv := v.(type) {
		case map[string]any:
			if dm, ok := dst[k].(map[string]any); ok {
				mergeInto(dm, sv)
				continue
			}
		case []any:
			if da, ok := dst[k].([]any); ok && len(da) == len(sv) {
				for i := range sv {
					dm, dok := da[i].(map[string]any)
					sm, sok := sv[i].(map[string]any)
					if dok && sok {
						mergeInto(dm, sm)
					} else {
						da[i] = sv[i]
					}
				}
				continue
			}
		}
		dst[k] = v
	}
}

// mergePatch applies a JSON merge patch (RFC 7396), which is what the API's
// patch methods take: a null removes a field, an object merges, anything
// else, lists included, replaces.
func mergePatch(dst, patch map[string]any) {
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(dst, k)
		case map[string]any:
			dm, ok := dst[k].(map[string]any)
			if !ok {
				dm = map[string]any{}
			}
			mergePatch(dm, pv)
			dst[k] = dm
		default:
			dst[k] = cloneValue(v)
		}
	}
}

// cloneObject deep-copies a stored object, so that a change is built on a
// copy and the stored one is replaced whole.
func cloneObject(m map[string]any) map[string]any {
	out, _ := cloneValue(m).(map[string]any)
	return out
}

func cloneValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = cloneValue(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = cloneValue(e)
		}
		return out
	default:
		return v
	}
}

// setDefault fills in a field the client left out. It looks at presence,
// not at the zero value, because an explicit zero (a backend's
// capacityScaler of 0, which drains it) is not the default.
func setDefault(m map[string]any, key string, v any) {
	if _, ok := m[key]; !ok {
		m[key] = v
	}
}

// child returns the object under key, adding an empty one if there is none.
func child(m map[string]any, key string) map[string]any {
	c, ok := m[key].(map[string]any)
	if !ok {
		c = map[string]any{}
		m[key] = c
	}
	return c
}

// children returns the objects of the list under key.
func children(m map[string]any, key string) []map[string]any {
	list, _ := m[key].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		if c, ok := e.(map[string]any); ok {
			out = append(out, c)
		}
	}
	return out
}

// jsonEqual says two JSON values are the same, whatever Go types hold them.
func jsonEqual(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}
