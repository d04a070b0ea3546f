package coredns

import (
	"strings"
	"testing"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

func rset(name string, t dnsprovider.RecordType, ttl int64, data ...string) dnsprovider.RecordSet {
	return dnsprovider.RecordSet{Name: name, Type: t, TTL: ttl, Data: data}
}

func TestCheckChange(t *testing.T) {
	const zone = "example.com."
	webA := rset("web.example.com.", dnsprovider.A, 180, "192.0.2.1")
	for _, tc := range []struct {
		name   string
		change dnsprovider.Change
		// wantErr is part of the error; empty when the change is valid.
		wantErr string
	}{
		{name: "A, AAAA and CNAME", change: dnsprovider.Change{Owner: web,
			Delete: []dnsprovider.RecordSet{rset("web.example.com.", dnsprovider.A, 180, "192.0.2.1", "192.0.2.2")},
			Add: []dnsprovider.RecordSet{
				rset("web.example.com.", dnsprovider.CNAME, 180, "web.us-central1.example.com."),
				rset("web6.example.com.", dnsprovider.AAAA, 180, "2001:db8::1"),
				rset("lb.example.com.", dnsprovider.CNAME, 1, "lb.elb.example.net."),
				rset("deep.a.b.c.example.com.", dnsprovider.A, 2147483647, "192.0.2.1"),
			}}},
		{name: "A and AAAA at one name", change: dnsprovider.Change{Owner: web, Add: []dnsprovider.RecordSet{
			webA, rset("web.example.com.", dnsprovider.AAAA, 180, "2001:db8::1")}}},
		{name: "no federation", change: dnsprovider.Change{Owner: dnsprovider.Owner{Object: "service/ns/web"}, Add: []dnsprovider.RecordSet{webA}},
			wantErr: "must name a federation and an object"},
		{name: "no object", change: dnsprovider.Change{Owner: dnsprovider.Owner{Federation: "fed"}, Delete: []dnsprovider.RecordSet{webA}},
			wantErr: "must name a federation and an object"},
		{name: "not fully qualified", change: add(rset("web.example.com", dnsprovider.A, 180, "192.0.2.1")),
			wantErr: "add A web.example.com: name \"web.example.com\" is not fully qualified"},
		{name: "outside the zone", change: add(rset("web.example.org.", dnsprovider.A, 180, "192.0.2.1")),
			wantErr: "not in the zone example.com."},
		{name: "a zone that only ends the same", change: add(rset("web.badexample.com.", dnsprovider.A, 180, "192.0.2.1")),
			wantErr: "not in the zone example.com."},
		{name: "the apex", change: add(rset("example.com.", dnsprovider.A, 180, "192.0.2.1")),
			wantErr: "zone apex"},
		{name: "TXT", change: add(rset("web.example.com.", "TXT", 180, "hello")),
			wantErr: `type "TXT" is not supported; use A, AAAA or CNAME`},
		{name: "TTL 0", change: add(rset("web.example.com.", dnsprovider.A, 0, "192.0.2.1")),
			wantErr: "TTL 0 is out of range: give 1 to 2147483647 seconds"},
		{name: "TTL too large", change: add(rset("web.example.com.", dnsprovider.A, 2147483648, "192.0.2.1")),
			wantErr: "TTL 2147483648 is out of range"},
		{name: "no data", change: add(rset("web.example.com.", dnsprovider.A, 180)),
			wantErr: "no data"},
		{name: "data twice", change: add(rset("web.example.com.", dnsprovider.A, 180, "192.0.2.1", "192.0.2.1")),
			wantErr: `"192.0.2.1" is in the data twice`},
		{name: "not an address", change: add(rset("web.example.com.", dnsprovider.A, 180, "lb.example.net.")),
			wantErr: `"lb.example.net." is not an IP address`},
		{name: "IPv6 in A", change: add(rset("web.example.com.", dnsprovider.A, 180, "2001:db8::1")),
			wantErr: "put IPv6 addresses in an AAAA set"},
		{name: "IPv4 in AAAA", change: add(rset("web.example.com.", dnsprovider.AAAA, 180, "192.0.2.1")),
			wantErr: "put IPv4 addresses in an A set"},
		{name: "IPv4-mapped in AAAA", change: add(rset("web.example.com.", dnsprovider.AAAA, 180, "::ffff:192.0.2.1")),
			wantErr: "put 192.0.2.1 in an A set"},
		{name: "IPv6 not canonical", change: add(rset("web.example.com.", dnsprovider.AAAA, 180, "2001:DB8:0::1")),
			wantErr: `write "2001:db8::1"`},
		{name: "IPv6 with a zone", change: add(rset("web.example.com.", dnsprovider.AAAA, 180, "fe80::1%eth0")),
			wantErr: "has a zone (%eth0)"},
		{name: "CNAME with two targets", change: add(rset("web.example.com.", dnsprovider.CNAME, 180, "a.example.com.", "b.example.com.")),
			wantErr: "exactly one target, got 2"},
		{name: "CNAME target not fully qualified", change: add(rset("web.example.com.", dnsprovider.CNAME, 180, "lb.example.net")),
			wantErr: "CNAME target: name \"lb.example.net\" is not fully qualified"},
		{name: "CNAME to itself", change: add(rset("web.example.com.", dnsprovider.CNAME, 180, "web.example.com.")),
			wantErr: "loop"},
		{name: "CNAME below itself", change: add(rset("web.example.com.", dnsprovider.CNAME, 180, "x.web.example.com.")),
			wantErr: "loop"},
		{name: "two A sets at one name", change: add(webA, rset("web.example.com.", dnsprovider.A, 60, "192.0.2.2")),
			wantErr: "another A set at that name"},
		{name: "a CNAME beside an A set", change: add(webA, rset("web.example.com.", dnsprovider.CNAME, 60, "x.example.com.")),
			wantErr: "a CNAME cannot share its name"},
		{name: "two deletes of one set", change: dnsprovider.Change{Owner: web, Delete: []dnsprovider.RecordSet{webA, webA}},
			wantErr: "delete A web.example.com.: the change has another A set"},
		{name: "an invalid delete", change: dnsprovider.Change{Owner: web, Delete: []dnsprovider.RecordSet{rset("web.example.com.", dnsprovider.A, 180, "x")}},
			wantErr: `delete A web.example.com.: "x" is not an IP address`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkChange(zone, tc.change)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("checkChange = %v, want no error", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("checkChange = %v, want an error with %q", err, tc.wantErr)
			}
		})
	}
}

// add is a change of web's that adds sets.
func add(sets ...dnsprovider.RecordSet) dnsprovider.Change {
	return dnsprovider.Change{Owner: web, Add: sets}
}
