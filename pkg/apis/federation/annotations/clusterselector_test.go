package annotations

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// annotationsPath is where the annotations live on every object.
var annotationsPath = field.NewPath("metadata", "annotations")

func TestParseClusterSelectorOperators(t *testing.T) {
	tests := []struct {
		name     string
		value    string
		matches  []labels.Set
		excludes []labels.Set
	}{
		{
			name:     "in",
			value:    `[{"key":"region","operator":"in","values":["eu","us"]}]`,
			matches:  []labels.Set{{"region": "eu"}, {"region": "us"}},
			excludes: []labels.Set{{"region": "asia"}, {}},
		},
		{
			name:     "In",
			value:    `[{"key":"region","operator":"In","values":["eu"]}]`,
			matches:  []labels.Set{{"region": "eu"}},
			excludes: []labels.Set{{"region": "us"}, {}},
		},
		{
			name:     "notin",
			value:    `[{"key":"region","operator":"notin","values":["eu","us"]}]`,
			matches:  []labels.Set{{"region": "asia"}, {}},
			excludes: []labels.Set{{"region": "eu"}, {"region": "us"}},
		},
		{
			name:     "NotIn",
			value:    `[{"key":"region","operator":"NotIn","values":["eu"]}]`,
			matches:  []labels.Set{{"region": "us"}, {}},
			excludes: []labels.Set{{"region": "eu"}},
		},
		{
			name:     "=",
			value:    `[{"key":"cluster","operator":"=","values":["1"]}]`,
			matches:  []labels.Set{{"cluster": "1"}},
			excludes: []labels.Set{{"cluster": "2"}, {}},
		},
		{
			name:     "==",
			value:    `[{"key":"cluster","operator":"==","values":["1"]}]`,
			matches:  []labels.Set{{"cluster": "1"}},
			excludes: []labels.Set{{"cluster": "2"}, {}},
		},
		{
			name:     "!=",
			value:    `[{"key":"cluster","operator":"!=","values":["1"]}]`,
			matches:  []labels.Set{{"cluster": "2"}, {}},
			excludes: []labels.Set{{"cluster": "1"}},
		},
		{
			name:     "exists",
			value:    `[{"key":"gpu","operator":"exists"}]`,
			matches:  []labels.Set{{"gpu": ""}, {"gpu": "a100"}},
			excludes: []labels.Set{{}, {"cpu": "x"}},
		},
		{
			name:     "Exists",
			value:    `[{"key":"gpu","operator":"Exists","values":[]}]`,
			matches:  []labels.Set{{"gpu": "a100"}},
			excludes: []labels.Set{{}},
		},
		{
			name:     "!",
			value:    `[{"key":"gpu","operator":"!"}]`,
			matches:  []labels.Set{{}, {"cpu": "x"}},
			excludes: []labels.Set{{"gpu": "a100"}},
		},
		{
			name:     "DoesNotExist",
			value:    `[{"key":"gpu","operator":"DoesNotExist"}]`,
			matches:  []labels.Set{{}},
			excludes: []labels.Set{{"gpu": ""}},
		},
		{
			name:     "gt",
			value:    `[{"key":"nodes","operator":"gt","values":["3"]}]`,
			matches:  []labels.Set{{"nodes": "4"}},
			excludes: []labels.Set{{"nodes": "3"}, {"nodes": "many"}, {}},
		},
		{
			name:     "Gt",
			value:    `[{"key":"nodes","operator":"Gt","values":["3"]}]`,
			matches:  []labels.Set{{"nodes": "10"}},
			excludes: []labels.Set{{"nodes": "2"}},
		},
		{
			name:     ">",
			value:    `[{"key":"nodes","operator":">","values":["3"]}]`,
			matches:  []labels.Set{{"nodes": "4"}},
			excludes: []labels.Set{{"nodes": "3"}},
		},
		{
			name:     "lt",
			value:    `[{"key":"nodes","operator":"lt","values":["3"]}]`,
			matches:  []labels.Set{{"nodes": "2"}},
			excludes: []labels.Set{{"nodes": "3"}, {}},
		},
		{
			name:     "Lt",
			value:    `[{"key":"nodes","operator":"Lt","values":["3"]}]`,
			matches:  []labels.Set{{"nodes": "0"}},
			excludes: []labels.Set{{"nodes": "30"}},
		},
		{
			name:     "<",
			value:    `[{"key":"nodes","operator":"<","values":["3"]}]`,
			matches:  []labels.Set{{"nodes": "2"}},
			excludes: []labels.Set{{"nodes": "4"}},
		},
		{
			name:     "empty list selects every cluster",
			value:    `[]`,
			matches:  []labels.Set{{}, {"region": "eu"}},
			excludes: nil,
		},
		{
			name:     "requirements are ANDed",
			value:    `[{"key":"region","operator":"==","values":["eu"]},{"key":"example.com/tier","operator":"exists"}]`,
			matches:  []labels.Set{{"region": "eu", "example.com/tier": "gold"}},
			excludes: []labels.Set{{"region": "eu"}, {"example.com/tier": "gold"}},
		},
		{
			name:     "whitespace around the JSON",
			value:    " \n[{\"key\":\"a\",\"operator\":\"exists\"}]\n",
			matches:  []labels.Set{{"a": "b"}},
			excludes: []labels.Set{{}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			selector, err := ParseClusterSelector(tc.value)
			if err != nil {
				t.Fatalf("ParseClusterSelector(%q): %v", tc.value, err)
			}
			if errs := ValidateClusterSelector(tc.value, annotationsPath); len(errs) > 0 {
				t.Fatalf("ValidateClusterSelector(%q) = %v, want no errors", tc.value, errs)
			}
			for _, set := range tc.matches {
				if !selector.Matches(set) {
					t.Errorf("selector %q does not match %v, want a match", selector, set)
				}
			}
			for _, set := range tc.excludes {
				if selector.Matches(set) {
					t.Errorf("selector %q matches %v, want no match", selector, set)
				}
			}
		})
	}
}

// TestSelectorOperatorsCovered keeps the operator table and the test above
// in step: a spelling added to one must be added to the other.
func TestSelectorOperatorsCovered(t *testing.T) {
	want := []string{"in", "In", "notin", "NotIn", "=", "==", "!=", "exists", "Exists", "!", "DoesNotExist", "gt", "Gt", ">", "lt", "Lt", "<"}
	if len(selectorOperators) != len(want) {
		t.Fatalf("%d operators accepted, want %d", len(selectorOperators), len(want))
	}
	for i, o := range selectorOperators {
		if o.name != want[i] {
			t.Errorf("operator %d is %q, want %q", i, o.name, want[i])
		}
	}
}

func TestValidateClusterSelectorRejects(t *testing.T) {
	tests := []struct {
		name  string
		value string
		// wantDetails must each appear in some error's detail.
		wantDetails []string
		// wantErrors is the number of errors, when more than one.
		wantErrors int
	}{
		{name: "empty value", value: ``, wantDetails: []string{"the value is empty", `use [] to select`}},
		{name: "whitespace only", value: "  \n", wantDetails: []string{"the value is empty"}},
		{name: "truncated JSON", value: `[{"key":"a"`, wantDetails: []string{"ends too early"}},
		{name: "malformed JSON", value: `[{key:"a"}]`, wantDetails: []string{"malformed JSON at byte 3"}},
		{name: "object instead of list", value: `{"key":"a","operator":"exists"}`, wantDetails: []string{"found a JSON object where a list is expected"}},
		{name: "null", value: `null`, wantDetails: []string{"use [] to select every cluster"}},
		{name: "data after the list", value: `[] []`, wantDetails: []string{"unexpected data after the end"}},
		{name: "unknown field", value: `[{"key":"a","operator":"in","value":["x"]}]`, wantDetails: []string{`unknown field "value"`, clusterSelectorExample}},
		{name: "values is a string", value: `[{"key":"a","operator":"==","values":"x"}]`, wantDetails: []string{`found a JSON string where a list is expected (in "values")`}},
		{name: "key is a number", value: `[{"key":1,"operator":"exists"}]`, wantDetails: []string{`at byte 9: found a JSON number where a string is expected (in "key")`}},
		{name: "element is not an object", value: `["a"]`, wantDetails: []string{"at byte 4: found a JSON string where an object is expected"}},
		{name: "missing key", value: `[{"operator":"exists"}]`, wantDetails: []string{`element 0: "key" is required`}},
		{name: "empty key", value: `[{"key":"","operator":"exists"}]`, wantDetails: []string{`element 0: "key" is required`}},
		{name: "key with a space", value: `[{"key":"a b","operator":"exists"}]`, wantDetails: []string{`key "a b" is not a valid label key`}},
		{name: "key with an empty name", value: `[{"key":"example.com/","operator":"exists"}]`, wantDetails: []string{`key "example.com/" is not a valid label key`}},
		{name: "key with a bad prefix", value: `[{"key":"Example_com/a","operator":"exists"}]`, wantDetails: []string{"not a valid label key", "prefix part"}},
		{name: "key too long", value: `[{"key":"` + strings.Repeat("a", 64) + `","operator":"exists"}]`, wantDetails: []string{"not a valid label key", "no more than 63"}},
		{name: "missing operator", value: `[{"key":"a"}]`, wantDetails: []string{`unknown operator ""; use one of "in", "In", "notin"`}},
		{name: "unknown operator", value: `[{"key":"a","operator":"=~","values":["x"]}]`, wantDetails: []string{`element 0: unknown operator "=~"; use one of`, `"DoesNotExist"`, `"<"`}},
		{name: "operator in the wrong case", value: `[{"key":"a","operator":"IN","values":["x"]}]`, wantDetails: []string{`unknown operator "IN"`}},
		{name: "in without values", value: `[{"key":"a","operator":"in"}]`, wantDetails: []string{`operator "in" needs at least one value`}},
		{name: "In with empty values", value: `[{"key":"a","operator":"In","values":[]}]`, wantDetails: []string{`operator "In" needs at least one value`}},
		{name: "notin without values", value: `[{"key":"a","operator":"notin"}]`, wantDetails: []string{`operator "notin" needs at least one value`}},
		{name: "NotIn without values", value: `[{"key":"a","operator":"NotIn"}]`, wantDetails: []string{`operator "NotIn" needs at least one value`}},
		{name: "= without values", value: `[{"key":"a","operator":"="}]`, wantDetails: []string{`operator "=" needs exactly one value in "values", got 0`}},
		{name: "== with two values", value: `[{"key":"a","operator":"==","values":["x","y"]}]`, wantDetails: []string{`operator "==" needs exactly one value in "values", got 2`}},
		{name: "!= without values", value: `[{"key":"a","operator":"!="}]`, wantDetails: []string{`operator "!=" needs exactly one value`}},
		{name: "exists with values", value: `[{"key":"a","operator":"exists","values":["x"]}]`, wantDetails: []string{`operator "exists" takes no values`}},
		{name: "Exists with values", value: `[{"key":"a","operator":"Exists","values":["x"]}]`, wantDetails: []string{`operator "Exists" takes no values`}},
		{name: "! with values", value: `[{"key":"a","operator":"!","values":["x"]}]`, wantDetails: []string{`operator "!" takes no values`}},
		{name: "DoesNotExist with values", value: `[{"key":"a","operator":"DoesNotExist","values":["x"]}]`, wantDetails: []string{`operator "DoesNotExist" takes no values`}},
		{name: "gt without values", value: `[{"key":"a","operator":"gt"}]`, wantDetails: []string{`operator "gt" needs exactly one integer value`}},
		{name: "Gt with two values", value: `[{"key":"a","operator":"Gt","values":["1","2"]}]`, wantDetails: []string{`operator "Gt" needs exactly one integer value in "values", got 2`}},
		{name: "> with a word", value: `[{"key":"a","operator":">","values":["many"]}]`, wantDetails: []string{`value 0 ("many") must be an integer for operator ">"`}},
		{name: "lt with a fraction", value: `[{"key":"a","operator":"lt","values":["1.5"]}]`, wantDetails: []string{`value 0 ("1.5") must be an integer for operator "lt"`}},
		{name: "Lt without values", value: `[{"key":"a","operator":"Lt"}]`, wantDetails: []string{`operator "Lt" needs exactly one integer value`}},
		{name: "< with a negative number", value: `[{"key":"a","operator":"<","values":["-1"]}]`, wantDetails: []string{`value 0 ("-1") is not a valid label value`}},
		{name: "value with a space", value: `[{"key":"a","operator":"==","values":["x y"]}]`, wantDetails: []string{`value 0 ("x y") is not a valid label value`}},
		{name: "value too long", value: `[{"key":"a","operator":"in","values":["ok","` + strings.Repeat("v", 64) + `"]}]`, wantDetails: []string{"value 1 (", "is not a valid label value", "no more than 63"}},
		{
			name:        "every bad element is reported",
			value:       `[{"key":"a","operator":"exists"},{"key":"","operator":"in"},{"key":"c","operator":"~"}]`,
			wantDetails: []string{`element 1: "key" is required`, `element 1: operator "in" needs at least one value`, `element 2: unknown operator "~"`},
			wantErrors:  3,
		},
	}
	wantPath := "metadata.annotations[federation.alpha.kubernetes.io/cluster-selector]"
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := ValidateClusterSelector(tc.value, annotationsPath)
			if len(errs) == 0 {
				t.Fatalf("ValidateClusterSelector(%q) returned no errors", tc.value)
			}
			if tc.wantErrors > 0 && len(errs) != tc.wantErrors {
				t.Errorf("got %d errors, want %d: %v", len(errs), tc.wantErrors, errs)
			}
			for _, e := range errs {
				if e.Field != wantPath {
					t.Errorf("error %q names field %q, want %q", e, e.Field, wantPath)
				}
				if e.Type != field.ErrorTypeInvalid {
					t.Errorf("error %q has type %q, want %q", e, e.Type, field.ErrorTypeInvalid)
				}
			}
			for _, want := range tc.wantDetails {
				if !strings.Contains(errs.ToAggregate().Error(), want) {
					t.Errorf("errors %q do not say %q", errs.ToAggregate(), want)
				}
			}
			if _, err := ParseClusterSelector(tc.value); err == nil {
				t.Errorf("ParseClusterSelector(%q) succeeded, want the error Validate reports", tc.value)
			}
		})
	}
}

func TestParseClusterSelectorString(t *testing.T) {
	tests := []struct {
		value string
		want  string
	}{
		{`[]`, ``},
		{`[{"key":"cluster","operator":"==","values":["1"]}]`, `cluster==1`},
		{`[{"key":"r","operator":"In","values":["b","a","b"]}]`, `r in (a,b)`},
		{`[{"key":"z","operator":"!"},{"key":"a","operator":"Gt","values":["3"]}]`, `a>3,!z`},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			selector, err := ParseClusterSelector(tc.value)
			if err != nil {
				t.Fatalf("ParseClusterSelector(%q): %v", tc.value, err)
			}
			if got := selector.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseClusterSelectorErrorHasNoPath(t *testing.T) {
	_, err := ParseClusterSelector(`[{"key":"a","operator":"~"}]`)
	if err == nil {
		t.Fatal("ParseClusterSelector succeeded on an unknown operator")
	}
	if msg := err.Error(); strings.Contains(msg, "metadata.annotations") || !strings.Contains(msg, `unknown operator "~"`) {
		t.Errorf("error %q should explain the operator without naming a field path", msg)
	}
}
