// Package annotations is the one place that knows the federation's
// annotations, on member-bound objects and on Clusters: their keys, their
// JSON formats, how to parse them and how to report what is wrong with them.
//
// Parsing and validation share one code path, so a value the admission
// plugin accepts is exactly a value the controllers can parse; the
// controllers never fall back to defaults on an annotation they cannot read.
package annotations

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	// ClusterSelector restricts the member clusters an object is propagated
	// to, by the labels of their Cluster objects. The value is a JSON list of
	// requirements, e.g. [{"key":"cluster","operator":"==","values":["1"]}];
	// an empty list selects every cluster.
	ClusterSelector = "federation.alpha.kubernetes.io/cluster-selector"

	// ReplicaSetPreferences says how a ReplicaSet's replicas are divided
	// among member clusters; the value is a ReplicaPreferences in JSON.
	ReplicaSetPreferences = "federation.kubernetes.io/replica-set-preferences"

	// DeploymentPreferences says how a Deployment's replicas are divided
	// among member clusters; the value is a ReplicaPreferences in JSON.
	DeploymentPreferences = "federation.kubernetes.io/deployment-preferences"

	// JobPreferences says how a Job's parallelism is divided among member
	// clusters; the value is a ReplicaPreferences in JSON.
	JobPreferences = "federation.kubernetes.io/job-preferences"

	// DNSTTL is the TTL, in seconds, of the DNS records of a federated
	// Service, overriding the controller manager's --dns-ttl for that
	// Service. The value is a decimal integer from 1 to 2147483647, e.g.
	// "300". It applies to Services only.
	DNSTTL = "federation.kubernetes.io/dns-ttl"
)

// decodeStrict decodes exactly one JSON value from s into v. Unknown fields
// are refused because a misspelt field ("minReplica") would otherwise be
// dropped silently, and the object placed by defaults the user never chose.
func decodeStrict(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	// Decode stops after the first value. Anything after it is a mistake
	// (two values pasted together, a stray bracket), not data to ignore.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the end of the JSON value")
	}
	return nil
}

// valueError turns the errors about one annotation value into one error
// without a field path: Parse callers (controllers) do not have the path of
// an API request and wrap the error with the object and annotation instead.
func valueError(errs field.ErrorList) error {
	bodies := make([]error, 0, len(errs))
	for _, e := range errs {
		bodies = append(bodies, errors.New(e.ErrorBody()))
	}
	return utilerrors.NewAggregate(bodies)
}

// describeJSONError turns an encoding/json error into a sentence for the
// author of the annotation, who knows JSON but not the Go types behind it.
func describeJSONError(err error) string {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("malformed JSON at byte %d: %s", syntaxErr.Offset, syntaxErr.Error())
	case errors.As(err, &typeErr):
		// Field leaves out list indices and map keys ("clusters.weight"),
		// so it only says roughly where; the byte offset says exactly.
		msg := fmt.Sprintf("at byte %d: found a JSON %s where %s is expected", typeErr.Offset, typeErr.Value, describeType(typeErr.Type))
		if typeErr.Field != "" {
			msg += fmt.Sprintf(" (in %q)", typeErr.Field)
		}
		return msg
	case errors.Is(err, io.EOF):
		return "the value is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends too early: check for a missing closing bracket, brace or quote"
	default:
		return strings.TrimPrefix(err.Error(), "json: ")
	}
}

// describeType names a Go type the way a JSON author would.
func describeType(t reflect.Type) string {
	if t == nil {
		return "a different type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	default:
		return t.String()
	}
}
