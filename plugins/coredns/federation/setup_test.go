package federation

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/coredns/caddy"
)

func TestParse(t *testing.T) {
	f, err := parse(caddy.NewTestController("dns", testCorefile))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"cluster.local."}; !slices.Equal(f.clusterDomains, want) {
		t.Errorf("cluster domains %v, want %v", f.clusterDomains, want)
	}
	if want := map[string]string{"myfederation": "example.com.", "otherfed": "other.example.org."}; !maps.Equal(f.federations, want) {
		t.Errorf("federations %v, want %v", f.federations, want)
	}
	if f.zone != "us-central1-a" || f.region != "us-central1" {
		t.Errorf("zone %q, region %q", f.zone, f.region)
	}
}

func TestParseDefaults(t *testing.T) {
	c := caddy.NewTestController("dns", "federation {\n MyFed Example.COM.\n}")
	c.ServerBlockKeys = []string{"cluster.local.:53", "local.:53"}
	f, err := parse(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"cluster.local.", "local."}; !slices.Equal(f.clusterDomains, want) {
		t.Errorf("cluster domains %v, want the server block's %v", f.clusterDomains, want)
	}
	if want := map[string]string{"myfed": "example.com."}; !maps.Equal(f.federations, want) {
		t.Errorf("federations %v, want %v", f.federations, want)
	}
	if f.zone != "" || f.region != "" {
		t.Errorf("zone %q, region %q; want none", f.zone, f.region)
	}
}

func TestParseLongestDomainFirst(t *testing.T) {
	f, err := parse(caddy.NewTestController("dns", "federation local. cluster.local. {\n f example.com\n}"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"cluster.local.", "local."}; !slices.Equal(f.clusterDomains, want) {
		t.Errorf("cluster domains %v, want %v", f.clusterDomains, want)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		corefile string
		want     string // in the error, with the line
	}{
		{"federation cluster.local", "no federation"},
		{"federation cluster.local {\n}", "no federation"},
		{"federation cluster.local {\n myfederation\n}", "Testfile:2 - Error during parsing: want \"<federation-name> <dns-domain>\""},
		{"federation cluster.local {\n myfederation a.com b.com\n}", ":2 - "},
		{"federation cluster.local {\n my_federation example.com\n}", ":2 - Error during parsing: federation name \"my_federation\""},
		{"federation cluster.local {\n -fed example.com\n}", ":2 - Error during parsing: federation name"},
		{"federation cluster.local {\n " + strings.Repeat("f", 64) + " example.com\n}", ":2 - Error during parsing: federation name"},
		{"federation cluster.local {\n myfederation example..com\n}", ":2 - Error during parsing: federation myfederation: DNS domain"},
		{"federation cluster.local {\n myfederation exa_mple.com\n}", ":2 - Error during parsing: federation myfederation: DNS domain"},
		{"federation cluster.local {\n myfederation example.com\n otherfed example.org\n MyFederation example.net\n}", ":4 - Error during parsing: federation MyFederation given twice"},
		{"federation cluster.local {\n myfederation example.com\n zone\n}", ":3 - Error during parsing: zone takes one argument"},
		{"federation cluster.local {\n myfederation example.com\n zone a b\n}", ":3 - Error during parsing: zone takes one argument"},
		{"federation cluster.local {\n myfederation example.com\n zone us_central1\n}", ":3 - Error during parsing: zone \"us_central1\""},
		{"federation cluster.local {\n myfederation example.com\n region us.central1\n}", ":3 - Error during parsing: region \"us.central1\""},
		{"federation cluster.local {\n myfederation example.com\n zone a\n zone b\n}", ":4 - Error during parsing: zone given twice"},
		{"federation cluster.local {\n myfederation example.com\n region a\n region b\n}", ":4 - Error during parsing: region given twice"},
		{"federation cluster..local {\n myfederation example.com\n}", ":1 - Error during parsing: cluster domain \"cluster..local\""},
		{"federation cluster.local {\n myfederation example.com\n}\nfederation cluster.local {\n otherfed example.org\n}", "can only be used once"},
	}
	for _, tc := range cases {
		_, err := parse(caddy.NewTestController("dns", tc.corefile))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parse(%q) = %v; want an error with %q", tc.corefile, err, tc.want)
		}
	}
}
