package annotations

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func TestParseReplicaPreferences(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  *ReplicaPreferences
	}{
		{
			name:  "design example",
			value: `{"rebalance": true, "clusters": {"*": {"weight": 1}, "us-east1-b": {"minReplicas": 2, "maxReplicas": 4, "weight": 1}}}`,
			want: &ReplicaPreferences{Rebalance: true, Clusters: map[string]ClusterPreferences{
				"*":          {Weight: 1},
				"us-east1-b": {MinReplicas: 2, MaxReplicas: ptr.To[int64](4), Weight: 1},
			}},
		},
		{name: "empty object", value: `{}`, want: &ReplicaPreferences{}},
		{name: "empty clusters", value: `{"clusters": {}}`, want: &ReplicaPreferences{Clusters: map[string]ClusterPreferences{}}},
		{name: "null clusters", value: `{"rebalance": false, "clusters": null}`, want: &ReplicaPreferences{}},
		{
			name:  "zero maxReplicas keeps a cluster empty",
			value: `{"clusters": {"drain-me": {"maxReplicas": 0}}}`,
			want:  &ReplicaPreferences{Clusters: map[string]ClusterPreferences{"drain-me": {MaxReplicas: ptr.To[int64](0)}}},
		},
		{
			name:  "minReplicas equal to maxReplicas",
			value: `{"clusters": {"a": {"minReplicas": 3, "maxReplicas": 3}}}`,
			want:  &ReplicaPreferences{Clusters: map[string]ClusterPreferences{"a": {MinReplicas: 3, MaxReplicas: ptr.To[int64](3)}}},
		},
		{
			name:  "largest numbers",
			value: `{"clusters": {"a": {"weight": 9223372036854775807, "minReplicas": 9223372036854775807}}}`,
			want:  &ReplicaPreferences{Clusters: map[string]ClusterPreferences{"a": {Weight: 1<<63 - 1, MinReplicas: 1<<63 - 1}}},
		},
		{
			name:  "63-character cluster name",
			value: `{"clusters": {"` + strings.Repeat("c", 63) + `": {"weight": 2}}}`,
			want:  &ReplicaPreferences{Clusters: map[string]ClusterPreferences{strings.Repeat("c", 63): {Weight: 2}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseReplicaPreferences(tc.value)
			if err != nil {
				t.Fatalf("ParseReplicaPreferences(%q): %v", tc.value, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseReplicaPreferences(%q) differs (-want +got):\n%s", tc.value, diff)
			}
			if errs := ValidateReplicaPreferences(DeploymentPreferences, tc.value, annotationsPath); len(errs) > 0 {
				t.Errorf("ValidateReplicaPreferences(%q) = %v, want no errors", tc.value, errs)
			}
		})
	}
}

func TestValidateReplicaPreferencesRejects(t *testing.T) {
	tests := []struct {
		name        string
		value       string
		wantDetails []string
		wantErrors  int
	}{
		{name: "empty value", value: ``, wantDetails: []string{"the value is empty", replicaPreferencesExample}},
		{name: "truncated JSON", value: `{"clusters": {"a": {"weight": 1}}`, wantDetails: []string{"ends too early"}},
		{name: "malformed JSON", value: `{"clusters": {a: 1}}`, wantDetails: []string{"malformed JSON at byte 15"}},
		{name: "null", value: `null`, wantDetails: []string{"not null"}},
		{name: "list instead of object", value: `[]`, wantDetails: []string{"found a JSON array where an object is expected"}},
		{name: "data after the object", value: `{} {}`, wantDetails: []string{"unexpected data after the end"}},
		{name: "unknown top-level field", value: `{"rebalanced": true}`, wantDetails: []string{`unknown field "rebalanced"`}},
		{name: "unknown cluster field", value: `{"clusters": {"a": {"minReplica": 1}}}`, wantDetails: []string{`unknown field "minReplica"`}},
		{name: "rebalance is a string", value: `{"rebalance": "yes"}`, wantDetails: []string{`found a JSON string where true or false is expected (in "rebalance")`}},
		{name: "clusters is a list", value: `{"clusters": [{"weight": 1}]}`, wantDetails: []string{`found a JSON array where an object is expected (in "clusters")`}},
		{name: "cluster entry is a number", value: `{"clusters": {"a": 1}}`, wantDetails: []string{"at byte 20: found a JSON number where an object is expected"}},
		{name: "weight is a string", value: `{"clusters": {"a": {"weight": "1"}}}`, wantDetails: []string{`found a JSON string where an integer is expected (in "clusters.weight")`}},
		{name: "weight is a fraction", value: `{"clusters": {"a": {"weight": 1.5}}}`, wantDetails: []string{`at byte 33: found a JSON number 1.5 where an integer is expected (in "clusters.weight")`}},
		{name: "minReplicas overflows", value: `{"clusters": {"a": {"minReplicas": 9223372036854775808}}}`, wantDetails: []string{`found a JSON number 9223372036854775808 where an integer is expected (in "clusters.minReplicas")`}},
		{name: "negative weight", value: `{"clusters": {"a": {"weight": -1}}}`, wantDetails: []string{`clusters["a"]: weight must be 0 or more, got -1`}},
		{name: "negative minReplicas", value: `{"clusters": {"*": {"minReplicas": -2}}}`, wantDetails: []string{`clusters["*"]: minReplicas must be 0 or more, got -2`}},
		{name: "negative maxReplicas", value: `{"clusters": {"a": {"maxReplicas": -3}}}`, wantDetails: []string{`clusters["a"]: maxReplicas must be 0 or more, got -3; leave it out for no limit`}},
		{name: "minReplicas above maxReplicas", value: `{"clusters": {"a": {"minReplicas": 5, "maxReplicas": 4}}}`, wantDetails: []string{`clusters["a"]: minReplicas (5) must not be greater than maxReplicas (4)`}},
		{name: "empty cluster name", value: `{"clusters": {"": {"weight": 1}}}`, wantDetails: []string{`clusters[""]: "" is not a cluster name`, `or "*" for every other cluster`}},
		{name: "upper-case cluster name", value: `{"clusters": {"US-East": {"weight": 1}}}`, wantDetails: []string{`"US-East" is not a cluster name`, "RFC 1123"}},
		{name: "dotted cluster name", value: `{"clusters": {"a.b": {"weight": 1}}}`, wantDetails: []string{`"a.b" is not a cluster name`}},
		{name: "two stars", value: `{"clusters": {"**": {"weight": 1}}}`, wantDetails: []string{`"**" is not a cluster name`}},
		{name: "cluster name too long", value: `{"clusters": {"` + strings.Repeat("c", 64) + `": {}}}`, wantDetails: []string{"is not a cluster name", "no more than 63"}},
		{
			name:        "every bad cluster is reported, in name order",
			value:       `{"clusters": {"b": {"weight": -1}, "A": {}, "a": {"minReplicas": -1, "maxReplicas": -1}}}`,
			wantDetails: []string{`clusters["A"]`, `clusters["a"]: minReplicas`, `clusters["a"]: maxReplicas`, `clusters["b"]: weight`},
			wantErrors:  4,
		},
	}
	wantPath := "metadata.annotations[federation.kubernetes.io/job-preferences]"
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := ValidateReplicaPreferences(JobPreferences, tc.value, annotationsPath)
			if len(errs) == 0 {
				t.Fatalf("ValidateReplicaPreferences(%q) returned no errors", tc.value)
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
			all := errs.ToAggregate().Error()
			for _, want := range tc.wantDetails {
				if !strings.Contains(all, want) {
					t.Errorf("errors %q do not say %q", all, want)
				}
			}
			if tc.wantErrors > 1 {
				// Errors come sorted by cluster name, so the order of the
				// details is part of the contract.
				last := -1
				for _, want := range tc.wantDetails {
					i := strings.Index(all, want)
					if i < last {
						t.Errorf("%q is reported out of order in %q", want, all)
					}
					last = i
				}
			}
			if _, err := ParseReplicaPreferences(tc.value); err == nil {
				t.Errorf("ParseReplicaPreferences(%q) succeeded, want the error Validate reports", tc.value)
			}
		})
	}
}

func TestValidateReplicaPreferencesPathPerAnnotation(t *testing.T) {
	for _, key := range []string{ReplicaSetPreferences, DeploymentPreferences, JobPreferences} {
		t.Run(key, func(t *testing.T) {
			errs := ValidateReplicaPreferences(key, `{"clusters": {"a": {"weight": -1}}}`, annotationsPath)
			if len(errs) != 1 {
				t.Fatalf("got %d errors, want 1: %v", len(errs), errs)
			}
			if want := annotationsPath.Key(key).String(); errs[0].Field != want {
				t.Errorf("error names field %q, want %q", errs[0].Field, want)
			}
		})
	}
}
