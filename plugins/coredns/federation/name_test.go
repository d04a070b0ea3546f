package federation

import (
	"strings"
	"testing"
)

var testFederations = map[string]string{"myfederation": "example.com.", "otherfed": "other.example.org."}

func TestParseName(t *testing.T) {
	domains := []string{"cluster.local.", "local."}
	cases := []struct {
		name string
		want federatedName
		ok   bool
	}{
		{"nginx.mynamespace.myfederation.svc.cluster.local.", federatedName{"nginx", "mynamespace", "myfederation", "cluster.local."}, true},
		{"NGINX.MyNamespace.MyFederation.SVC.CLUSTER.local.", federatedName{"nginx", "mynamespace", "myfederation", "cluster.local."}, true},
		{"nginx.mynamespace.otherfed.svc.cluster.local.", federatedName{"nginx", "mynamespace", "otherfed", "cluster.local."}, true},
		{"a-1.b-2.otherfed.svc.local.", federatedName{"a-1", "b-2", "otherfed", "local."}, true},
		{"nginx.mynamespace.myfederation.svc.cluster.local", federatedName{}, false}, // not fully qualified
		{"nginx.mynamespace.unknown.svc.cluster.local.", federatedName{}, false},
		{"nginx.mynamespace.svc.cluster.local.", federatedName{}, false},
		{"x.nginx.mynamespace.myfederation.svc.cluster.local.", federatedName{}, false},
		{"nginx.mynamespace.myfederation.pod.cluster.local.", federatedName{}, false},
		{"nginx.mynamespace.myfederation.cluster.local.", federatedName{}, false},
		{"nginx.mynamespace.myfederation.svc.example.com.", federatedName{}, false},
		{"nginx.mynamespace.myfederationsvc.cluster.local.", federatedName{}, false},
		{"nginx..myfederation.svc.cluster.local.", federatedName{}, false},
		{".mynamespace.myfederation.svc.cluster.local.", federatedName{}, false},
		{"-nginx.mynamespace.myfederation.svc.cluster.local.", federatedName{}, false},
		{"nginx-.mynamespace.myfederation.svc.cluster.local.", federatedName{}, false},
		{"*.mynamespace.myfederation.svc.cluster.local.", federatedName{}, false},
		{"ng_inx.mynamespace.myfederation.svc.cluster.local.", federatedName{}, false},
		{`ngi\.nx.mynamespace.myfederation.svc.cluster.local.`, federatedName{}, false},
		{strings.Repeat("a", 64) + ".mynamespace.myfederation.svc.cluster.local.", federatedName{}, false},
		{strings.Repeat("a", 63) + ".mynamespace.myfederation.svc.cluster.local.", federatedName{strings.Repeat("a", 63), "mynamespace", "myfederation", "cluster.local."}, true},
		{"svc.cluster.local.", federatedName{}, false},
		{"", federatedName{}, false},
		{".", federatedName{}, false},
	}
	for _, tc := range cases {
		got, ok := parseName(tc.name, domains, testFederations)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseName(%q) = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseNameRootDomain(t *testing.T) {
	got, ok := parseName("nginx.mynamespace.myfederation.svc.", []string{"."}, testFederations)
	want := federatedName{"nginx", "mynamespace", "myfederation", "."}
	if !ok || got != want {
		t.Errorf("parseName under the root = %+v, %v; want %+v", got, ok, want)
	}
}

func FuzzParseName(f *testing.F) {
	for _, s := range []string{
		"nginx.mynamespace.myfederation.svc.cluster.local.",
		"NGINX.MyNamespace.OtherFed.svc.Cluster.Local.",
		"a.b.c.svc.cluster.local.",
		"svc.cluster.local.",
		`a\.b.c.myfederation.svc.cluster.local.`,
		".",
		"",
	} {
		f.Add(s)
	}
	domains := []string{"cluster.local.", "."}
	f.Fuzz(func(t *testing.T, name string) {
		got, ok := parseName(name, domains, testFederations)
		if !ok {
			if got != (federatedName{}) {
				t.Errorf("parseName(%q) = %+v, false; want the zero value", name, got)
			}
			return
		}
		// A name parsed is the parts put together again, in some case.
		joined := got.service + "." + got.namespace + "." + got.federation + ".svc." + got.clusterDomain
		if got.clusterDomain == "." {
			joined = got.service + "." + got.namespace + "." + got.federation + ".svc."
		}
		if joined != strings.ToLower(name) {
			t.Errorf("parseName(%q) = %+v; joined %q is not the name", name, got, joined)
		}
		for _, l := range []string{got.service, got.namespace, got.federation} {
			if !isDNSLabel(l) {
				t.Errorf("parseName(%q): %q is not a DNS label", name, l)
			}
		}
		if _, known := testFederations[got.federation]; !known {
			t.Errorf("parseName(%q): unknown federation %q", name, got.federation)
		}
	})
}
