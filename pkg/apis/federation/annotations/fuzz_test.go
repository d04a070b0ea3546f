package annotations

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
)

// FuzzParseClusterSelector checks that the cluster-selector parser never
// panics, that Parse and Validate agree on every input, that every error
// names the annotation, and that an accepted selector survives a round trip
// through its String() form, which is how it appears in logs and in
// label-selector queries.
func FuzzParseClusterSelector(f *testing.F) {
	for _, seed := range []string{
		`[]`,
		`[{"key":"cluster","operator":"==","values":["1"]}]`,
		`[{"key":"region","operator":"in","values":["eu","us","eu"]},{"key":"example.com/tier","operator":"Exists"}]`,
		`[{"key":"gpu","operator":"!"},{"key":"nodes","operator":"Gt","values":["3"]},{"key":"nodes","operator":"<","values":["10"]}]`,
		`[{"key":"in","operator":"notin","values":["in","notin"]}]`,
		`[{"key":"a","operator":"=","values":[""]}]`,
		``,
		`null`,
		`{}`,
		`[] []`,
		`[{"key":"a","operator":"=~","values":["x"]}]`,
		`[{"key":"a","operator":"gt","values":["-1"]}]`,
		`[{"key":"a b","operator":"exists","values":["x"]}]`,
		`[{"key":"a","operator":"in","value":["x"]}]`,
		`[{"key":1}]`,
	} {
		f.Add(seed)
	}
	wantPath := annotationsPath.Key(ClusterSelector).String()
	f.Fuzz(func(t *testing.T, value string) {
		selector, err := ParseClusterSelector(value)
		errs := ValidateClusterSelector(value, annotationsPath)
		if (err == nil) != (len(errs) == 0) {
			t.Fatalf("Parse and Validate disagree on %q: Parse error %v, Validate errors %v", value, err, errs)
		}
		for _, e := range errs {
			if e.Field != wantPath {
				t.Fatalf("error %q on %q names field %q, want %q", e, value, e.Field, wantPath)
			}
		}
		if err != nil {
			return
		}
		s := selector.String()
		again, err := labels.Parse(s)
		if err != nil {
			t.Fatalf("String() of the selector parsed from %q is %q, which does not parse: %v", value, s, err)
		}
		if again.String() != s {
			t.Fatalf("String() of the selector parsed from %q is %q, which re-parses as %q", value, s, again.String())
		}
	})
}

// FuzzParseReplicaPreferences checks that the replica-preferences parser
// never panics, that Parse and Validate agree on every input, that every
// error names the annotation, and that accepted preferences survive being
// written back as JSON, as the planner's status messages do.
func FuzzParseReplicaPreferences(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"rebalance": true, "clusters": {"*": {"weight": 1}, "us-east1-b": {"minReplicas": 2, "maxReplicas": 4, "weight": 1}}}`,
		`{"clusters": {}}`,
		`{"clusters": null}`,
		`{"clusters": {"a": {"maxReplicas": 0}}}`,
		`{"clusters": {"a": null}}`,
		``,
		`null`,
		`[]`,
		`{} {}`,
		`{"rebalanced": true}`,
		`{"clusters": {"a": {"minReplica": 1}}}`,
		`{"clusters": {"a": {"weight": 1.5}}}`,
		`{"clusters": {"a": {"weight": -1}}}`,
		`{"clusters": {"a": {"minReplicas": 5, "maxReplicas": 4}}}`,
		`{"clusters": {"US": {}, "**": {}, "": {}}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		for _, key := range []string{ReplicaSetPreferences, DeploymentPreferences, JobPreferences} {
			prefs, err := ParseReplicaPreferences(value)
			errs := ValidateReplicaPreferences(key, value, annotationsPath)
			if (err == nil) != (len(errs) == 0) {
				t.Fatalf("Parse and Validate(%s) disagree on %q: Parse error %v, Validate errors %v", key, value, err, errs)
			}
			wantPath := annotationsPath.Key(key).String()
			for _, e := range errs {
				if e.Field != wantPath {
					t.Fatalf("error %q on %q names field %q, want %q", e, value, e.Field, wantPath)
				}
			}
			if err != nil {
				continue
			}
			out, err := json.Marshal(prefs)
			if err != nil {
				t.Fatalf("marshal %#v parsed from %q: %v", prefs, value, err)
			}
			again, err := ParseReplicaPreferences(string(out))
			if err != nil {
				t.Fatalf("%q, written back from %q, does not parse: %v", out, value, err)
			}
			if !reflect.DeepEqual(prefs, again) {
				t.Fatalf("%q parses as %#v, but written back as %q parses as %#v", value, prefs, out, again)
			}
		}
	})
}

// FuzzParseDNSTTL checks that the DNS TTL parser never panics, that Parse
// and Validate agree on every input, that every error names the annotation,
// that an accepted value is digits only and a TTL DNS allows, and that an
// accepted TTL survives being written back in decimal.
func FuzzParseDNSTTL(f *testing.F) {
	for _, seed := range []string{
		`1`, `300`, `0300`, `2147483647`,
		``, `0`, `-5`, `+5`, ` 300`, `300 `, `1h`, `300s`, `500ms`, `1.5`, `0x10`, `1_000`,
		`2147483648`, `99999999999`, `99999999999999999999`, `"300"`, `3٠٠`,
	} {
		f.Add(seed)
	}
	wantPath := annotationsPath.Key(DNSTTL).String()
	f.Fuzz(func(t *testing.T, value string) {
		ttl, err := ParseDNSTTL(value)
		errs := ValidateDNSTTL(value, annotationsPath)
		if (err == nil) != (len(errs) == 0) {
			t.Fatalf("Parse and Validate disagree on %q: Parse error %v, Validate errors %v", value, err, errs)
		}
		for _, e := range errs {
			if e.Field != wantPath {
				t.Fatalf("error %q on %q names field %q, want %q", e, value, e.Field, wantPath)
			}
		}
		if err != nil {
			return
		}
		if value == "" || strings.Trim(value, "0123456789") != "" {
			t.Fatalf("%q is accepted as %d, but it is not digits only", value, ttl)
		}
		if ttl < 1 || ttl > math.MaxInt32 {
			t.Fatalf("%q is accepted as %d, outside 1 to %d", value, ttl, math.MaxInt32)
		}
		out := strconv.FormatInt(ttl, 10)
		again, err := ParseDNSTTL(out)
		if err != nil || again != ttl {
			t.Fatalf("%q parses as %d, but written back as %q parses as %d, %v", value, ttl, out, again, err)
		}
	})
}
