package annotations

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// clusterSelectorExample is quoted in error messages so that the user sees
// the expected shape next to what was wrong with theirs.
const clusterSelectorExample = `[{"key":"cluster","operator":"==","values":["1"]}]`

// selectorRequirement is one element of the cluster-selector list.
type selectorRequirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values,omitempty"`
}

// selectorOperators lists the accepted spellings, in the order they are
// quoted in error messages. Federation v1 accepted each of them, and
// existing annotations use all of them, so every alias stays.
var selectorOperators = []struct {
	name string
	op   selection.Operator
}{
	{"in", selection.In},
	{"In", selection.In},
	{"notin", selection.NotIn},
	{"NotIn", selection.NotIn},
	{"=", selection.Equals},
	{"==", selection.DoubleEquals},
	{"!=", selection.NotEquals},
	{"exists", selection.Exists},
	{"Exists", selection.Exists},
	{"!", selection.DoesNotExist},
	{"DoesNotExist", selection.DoesNotExist},
	{"gt", selection.GreaterThan},
	{"Gt", selection.GreaterThan},
	{">", selection.GreaterThan},
	{"lt", selection.LessThan},
	{"Lt", selection.LessThan},
	{"<", selection.LessThan},
}

// selectorOperatorNames is the list quoted when an operator is unknown.
var selectorOperatorNames = func() string {
	names := make([]string, 0, len(selectorOperators))
	for _, o := range selectorOperators {
		names = append(names, strconv.Quote(o.name))
	}
	return strings.Join(names, ", ")
}()

// lookupOperator maps an accepted spelling to its selection.Operator.
func lookupOperator(name string) (selection.Operator, bool) {
	for _, o := range selectorOperators {
		if o.name == name {
			return o.op, true
		}
	}
	return "", false
}

// ParseClusterSelector parses the value of the ClusterSelector annotation
// into a selector over Cluster labels. An empty list selects every cluster.
// It accepts exactly the values ValidateClusterSelector accepts. The error
// does not name the annotation, which the caller knows and should add.
func ParseClusterSelector(value string) (labels.Selector, error) {
	selector, errs := parseClusterSelector(value, nil)
	if len(errs) > 0 {
		return nil, valueError(errs)
	}
	return selector, nil
}

// ValidateClusterSelector checks the value of the ClusterSelector
// annotation. fldPath is the path of the annotations map (usually
// metadata.annotations); every error names fldPath.Key(ClusterSelector),
// and its detail says which element is wrong and how.
func ValidateClusterSelector(value string, fldPath *field.Path) field.ErrorList {
	_, errs := parseClusterSelector(value, fldPath.Key(ClusterSelector))
	return errs
}

// parseClusterSelector is shared by Parse and Validate so that the two can
// never disagree. path is the annotation's own path.
func parseClusterSelector(value string, path *field.Path) (labels.Selector, field.ErrorList) {
	var reqs []selectorRequirement
	if err := decodeStrict(value, &reqs); err != nil {
		detail := fmt.Sprintf("must be a JSON list of requirements like %s: %s", clusterSelectorExample, describeJSONError(err))
		if errors.Is(err, io.EOF) {
			// An empty value is most likely meant as "no restriction".
			detail += "; use [] to select every cluster"
		}
		return nil, field.ErrorList{field.Invalid(path, value, detail)}
	}
	// A JSON null decodes without error into a nil slice. Treating it as
	// "every cluster" would turn a templating slip into a broadcast.
	if reqs == nil {
		return nil, field.ErrorList{field.Invalid(path, value,
			fmt.Sprintf("must be a JSON list of requirements like %s; use [] to select every cluster", clusterSelectorExample))}
	}
	var errs field.ErrorList
	selector := labels.NewSelector()
	for i, r := range reqs {
		req, reqErrs := parseSelectorRequirement(i, r, path)
		errs = append(errs, reqErrs...)
		if req != nil {
			selector = selector.Add(*req)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return selector, nil
}

// parseSelectorRequirement checks one element, reporting every problem it
// has, and builds the labels.Requirement when there is none.
func parseSelectorRequirement(i int, r selectorRequirement, path *field.Path) (*labels.Requirement, field.ErrorList) {
	var errs field.ErrorList
	invalid := func(bad any, format string, args ...any) {
		errs = append(errs, field.Invalid(path, bad, fmt.Sprintf("element %d: ", i)+fmt.Sprintf(format, args...)))
	}

	if r.Key == "" {
		invalid(r.Key, `"key" is required: name the Cluster label to match, e.g. "region"`)
	} else if msgs := validation.IsQualifiedName(r.Key); len(msgs) > 0 {
		invalid(r.Key, "key %q is not a valid label key: %s", r.Key, strings.Join(msgs, "; "))
	}

	op, known := lookupOperator(r.Operator)
	if !known {
		invalid(r.Operator, "unknown operator %q; use one of %s", r.Operator, selectorOperatorNames)
	}

	values := r.Values
	switch op {
	case selection.In, selection.NotIn:
		if len(values) == 0 {
			invalid(values, "operator %q needs at least one value in \"values\"", r.Operator)
		}
	case selection.Equals, selection.DoubleEquals, selection.NotEquals:
		if len(values) != 1 {
			invalid(values, "operator %q needs exactly one value in \"values\", got %d", r.Operator, len(values))
		}
	case selection.Exists, selection.DoesNotExist:
		if len(values) != 0 {
			invalid(values, "operator %q takes no values: remove \"values\"", r.Operator)
		}
	case selection.GreaterThan, selection.LessThan:
		if len(values) != 1 {
			invalid(values, "operator %q needs exactly one integer value in \"values\", got %d values", r.Operator, len(values))
		}
		for j, v := range values {
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				invalid(v, "value %d (%q) must be an integer for operator %q", j, v, r.Operator)
			}
		}
	}
	for j, v := range values {
		if msgs := validation.IsValidLabelValue(v); len(msgs) > 0 {
			invalid(v, "value %d (%q) is not a valid label value: %s", j, v, strings.Join(msgs, "; "))
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if op == selection.In || op == selection.NotIn {
		// The values form a set. Sorting and dropping duplicates keeps the
		// selector's String() stable under a re-parse, which builds a set.
		values = slices.Compact(slices.Sorted(slices.Values(values)))
	}

	// The checks above mirror labels.NewRequirement so that the messages can
	// name the element; should the two ever drift, its verdict still wins.
	req, err := labels.NewRequirement(r.Key, op, values)
	if err != nil {
		invalid(r.Key, "%v", err)
		return nil, errs
	}
	return req, nil
}
