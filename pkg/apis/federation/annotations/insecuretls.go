package annotations

import (
	"errors"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// InsecureSkipTLSVerify, on a Cluster, makes the controllers skip the
// verification of the member API server's serving certificate. The value
// is "true" or "false"; only "true" turns verification off.
//
// It is an annotation of the Cluster, not a field of its credential
// Secret, so that turning verification off takes the right to write the
// Cluster: a kubeconfig in the Secret that says insecure-skip-tls-verify
// is refused unless the Cluster says so too.
const InsecureSkipTLSVerify = "federation.kubernetes.io/insecure-skip-tls-verify"

// insecureSkipTLSVerifyRule is the whole rule, quoted in every error.
const insecureSkipTLSVerifyRule = `must be "true" or "false"`

// ParseInsecureSkipTLSVerify parses the value of the InsecureSkipTLSVerify
// annotation. It accepts exactly the values ValidateInsecureSkipTLSVerify
// accepts. The error does not name the annotation, which the caller knows
// and should add.
func ParseInsecureSkipTLSVerify(value string) (bool, error) {
	skip, ok := readInsecureSkipTLSVerify(value)
	if !ok {
		return false, errors.New(insecureSkipTLSVerifyRule)
	}
	return skip, nil
}

// ValidateInsecureSkipTLSVerify checks the value of the
// InsecureSkipTLSVerify annotation. fldPath is the path of the annotations
// map; the error names fldPath.Key(InsecureSkipTLSVerify).
func ValidateInsecureSkipTLSVerify(value string, fldPath *field.Path) field.ErrorList {
	if _, ok := readInsecureSkipTLSVerify(value); !ok {
		return field.ErrorList{field.Invalid(fldPath.Key(InsecureSkipTLSVerify), value, insecureSkipTLSVerifyRule)}
	}
	return nil
}

// readInsecureSkipTLSVerify is shared by Parse and Validate so that the two
// can never disagree. Only the two exact spellings count: "True", "1" or
// "yes" turning off certificate checks by accident, or not at all when
// the author meant them to, would both be surprises.
func readInsecureSkipTLSVerify(value string) (skip, ok bool) {
	switch value {
	case "true":
		return true, true
	case "false":
		return false, true
	default:
		return false, false
	}
}
