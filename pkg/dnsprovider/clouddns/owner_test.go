package clouddns

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

func TestOwnerData(t *testing.T) {
	for _, o := range []dnsprovider.Owner{
		{Federation: "myfederation", Object: "service/mynamespace/nginx"},
		{Federation: "f", Object: "ingress/ns/web-1.v2"},
	} {
		data, err := ownerData(o)
		if err != nil {
			t.Fatalf("ownerData(%+v): %v", o, err)
		}
		if !strings.HasPrefix(data, `"heritage=kfederation,`) || !strings.HasSuffix(data, `"`) {
			t.Errorf("ownerData(%+v) = %s, want a quoted TXT string starting with the heritage", o, data)
		}
		got, ok := parseOwner([]string{data})
		if !ok || got != o {
			t.Errorf("parseOwner(ownerData(%+v)) = %+v, %v", o, got, ok)
		}
	}

	for _, o := range []dnsprovider.Owner{
		{Object: "service/ns/x"},
		{Federation: "f"},
		{Federation: "f", Object: "service/ns/a,b"},
		{Federation: "f=g", Object: "service/ns/x"},
		{Federation: "f", Object: `service/ns/"x"`},
		{Federation: "f g", Object: "service/ns/x"},
		{Federation: "f", Object: "service/ns/\\x"},
		{Federation: "fé", Object: "service/ns/x"},
		{Federation: "f", Object: strings.Repeat("x", 250)},
	} {
		if data, err := ownerData(o); err == nil {
			t.Errorf("ownerData(%+v) = %s, want an error", o, data)
		}
	}
}

func TestParseOwner(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rrdatas []string
		want    dnsprovider.Owner
		ok      bool
	}{
		{"quoted", []string{`"heritage=kfederation,federation=f,object=service/ns/x"`}, dnsprovider.Owner{Federation: "f", Object: "service/ns/x"}, true},
		{"unquoted", []string{`heritage=kfederation,federation=f,object=service/ns/x`}, dnsprovider.Owner{Federation: "f", Object: "service/ns/x"}, true},
		{"fields in another order and one more", []string{`"object=service/ns/x,since=v2,federation=f,heritage=kfederation"`}, dnsprovider.Owner{Federation: "f", Object: "service/ns/x"}, true},
		{"another heritage", []string{`"heritage=external-dns,external-dns/owner=f,external-dns/resource=service/ns/x"`}, dnsprovider.Owner{}, false},
		{"no heritage", []string{`"federation=f,object=service/ns/x"`}, dnsprovider.Owner{}, false},
		{"no object", []string{`"heritage=kfederation,federation=f"`}, dnsprovider.Owner{}, false},
		{"two strings", []string{`"heritage=kfederation,federation=f,object=a"`, `"heritage=kfederation,federation=g,object=b"`}, dnsprovider.Owner{}, false},
		{"nothing", nil, dnsprovider.Owner{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseOwner(tc.rrdatas)
			if got != tc.want || ok != tc.ok {
				t.Errorf("parseOwner(%q) = %+v, %v; want %+v, %v", tc.rrdatas, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestOwnerName(t *testing.T) {
	for _, typ := range []dnsprovider.RecordType{dnsprovider.A, dnsprovider.AAAA, dnsprovider.CNAME} {
		const name = "nginx.mynamespace.myfederation.svc.example.com."
		owner := ownerName(name, typ)
		if want := "_kfed-owner-" + strings.ToLower(string(typ)) + "." + name; owner != want {
			t.Errorf("ownerName(%s) = %s, want %s", typ, owner, want)
		}
		gotName, gotType, ok := splitOwnerName(owner)
		if !ok || gotName != name || gotType != typ {
			t.Errorf("splitOwnerName(%s) = %s, %s, %v", owner, gotName, gotType, ok)
		}
	}
	for _, n := range []string{
		"nginx.example.com.",
		"_kfed-owner-txt.nginx.example.com.",
		"_kfed-owner-a.",
		"_kfed-owner-a",
		"_other-a.nginx.example.com.",
		"x._kfed-owner-a.nginx.example.com.",
	} {
		if name, typ, ok := splitOwnerName(n); ok {
			t.Errorf("splitOwnerName(%s) = %s, %s, true; want not an ownership record's name", n, name, typ)
		}
	}
}

var validManagedZoneName = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)

func TestManagedZoneNames(t *testing.T) {
	for _, tc := range []struct {
		dnsName string
		plain   string // "": only the hashed name, the plain one being too long
	}{
		{"example.com.", "kfed-example-com"},
		{"Sub_Domain.Example.COM.", "kfed-sub-domain-example-com"},
		{"a--b..c.", "kfed-a-b-c"},
		{"xn--bcher-kva.example.", "kfed-xn-bcher-kva-example"},
		{".", "kfed"},
		{strings.Repeat("label.", 12), ""},
	} {
		names := managedZoneNames(tc.dnsName)
		if tc.plain != "" && (len(names) != 2 || names[0] != tc.plain) {
			t.Errorf("managedZoneNames(%s) = %q, want %s then a hashed name", tc.dnsName, names, tc.plain)
		}
		if tc.plain == "" && len(names) != 1 {
			t.Errorf("managedZoneNames(%s) = %q, want only a hashed name", tc.dnsName, names)
		}
		hashed := names[len(names)-1]
		if !regexp.MustCompile(`-[0-9a-f]{8}$`).MatchString(hashed) {
			t.Errorf("managedZoneNames(%s) ends with %s, want a name with a hash", tc.dnsName, hashed)
		}
		for _, n := range names {
			if !validManagedZoneName.MatchString(n) {
				t.Errorf("managedZoneNames(%s) has %q, not a valid managed zone name", tc.dnsName, n)
			}
		}
	}
	if a, b := managedZoneNames("a-b.com."), managedZoneNames("a.b.com."); a[0] != b[0] || a[1] == b[1] {
		t.Errorf("names for a-b.com. %q and a.b.com. %q: want the same plain name and different hashed ones", a, b)
	}
}

// FuzzManagedZoneNames: whatever the zone name flag holds, the names tried
// are ones Cloud DNS accepts.
func FuzzManagedZoneNames(f *testing.F) {
	for _, s := range []string{"example.com.", "", ".", "-.-.", "é.example.", strings.Repeat("a", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dnsName string) {
		for _, n := range managedZoneNames(dnsName) {
			if !validManagedZoneName.MatchString(n) {
				t.Errorf("managedZoneNames(%q) has %q, not a valid managed zone name", dnsName, n)
			}
		}
	})
}

func TestCanonicalData(t *testing.T) {
	for _, tc := range []struct {
		typ  dnsprovider.RecordType
		in   []string
		want []string // nil: an error
	}{
		{dnsprovider.A, []string{"192.0.2.2", "192.0.2.1", "192.0.2.2"}, []string{"192.0.2.1", "192.0.2.2"}},
		{dnsprovider.AAAA, []string{"2001:DB8:0::1", "2001:db8::0:2"}, []string{"2001:db8::1", "2001:db8::2"}},
		{dnsprovider.AAAA, []string{"::ffff:192.0.2.1"}, []string{"::ffff:192.0.2.1"}},
		{dnsprovider.CNAME, []string{"lb.example.org."}, []string{"lb.example.org."}},
		{"MX", []string{"20 b.example.", "10 a.example."}, []string{"20 b.example.", "10 a.example."}},
		{dnsprovider.A, nil, nil},
		{dnsprovider.A, []string{"2001:db8::1"}, nil},
		{dnsprovider.A, []string{"192.0.2.1/24"}, nil},
		{dnsprovider.AAAA, []string{"fe80::1%eth0"}, nil},
		{dnsprovider.CNAME, []string{"a.example.", "b.example."}, nil},
		{dnsprovider.CNAME, []string{"a.example"}, nil},
	} {
		got, err := canonicalData(tc.typ, tc.in)
		if tc.want == nil {
			if err == nil {
				t.Errorf("canonicalData(%s, %q) = %q, want an error", tc.typ, tc.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("canonicalData(%s, %q): %v", tc.typ, tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("canonicalData(%s, %q) (-want +got):\n%s", tc.typ, tc.in, diff)
		}
	}
}
