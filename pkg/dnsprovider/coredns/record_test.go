package coredns

import (
	"strings"
	"testing"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

func TestEncode(t *testing.T) {
	owner := dnsprovider.Owner{Federation: "myfederation", Object: "service/mynamespace/nginx"}
	for _, tc := range []struct {
		data string
		ttl  int64
		want string
	}{
		{"192.0.2.1", 180, `{"host":"192.0.2.1","ttl":180,"federation":{"name":"myfederation","object":"service/mynamespace/nginx"}}`},
		{"web.example.com.", 2147483647, `{"host":"web.example.com.","ttl":2147483647,"federation":{"name":"myfederation","object":"service/mynamespace/nginx"}}`},
	} {
		if got := string(encode(tc.data, tc.ttl, owner)); got != tc.want {
			t.Errorf("encode(%q, %d) = %s, want %s", tc.data, tc.ttl, got, tc.want)
		}
	}
}

func TestDecode(t *testing.T) {
	owner := dnsprovider.Owner{Federation: "myfederation", Object: "service/mynamespace/nginx"}
	for _, tc := range []struct {
		name   string
		value  string
		want   record
		wantOK bool
		// wantErr is part of the error, when the value is refused.
		wantErr string
	}{
		{name: "what encode writes", value: string(encode("192.0.2.1", 180, owner)),
			want: record{Type: dnsprovider.A, Data: "192.0.2.1", TTL: 180, Owner: owner}, wantOK: true},
		{name: "foreign A with no TTL: CoreDNS's default", value: `{"host":"192.0.2.1"}`,
			want: record{Type: dnsprovider.A, Data: "192.0.2.1", TTL: 300}, wantOK: true},
		{name: "IPv6", value: `{"host":"2001:DB8:0::1","ttl":60}`,
			want: record{Type: dnsprovider.AAAA, Data: "2001:db8::1", TTL: 60}, wantOK: true},
		{name: "IPv4-mapped IPv6 is served as A", value: `{"host":"::ffff:192.0.2.1","ttl":60}`,
			want: record{Type: dnsprovider.A, Data: "192.0.2.1", TTL: 60}, wantOK: true},
		{name: "a name is a CNAME, made fully qualified", value: `{"host":"lb.example.net","ttl":60}`,
			want: record{Type: dnsprovider.CNAME, Data: "lb.example.net.", TTL: 60}, wantOK: true},
		{name: "field names in any case, as Go's JSON reads them", value: `{"Host":"192.0.2.1","TTL":30}`,
			want: record{Type: dnsprovider.A, Data: "192.0.2.1", TTL: 30}, wantOK: true},
		{name: "ExternalDNS's owner field is no federation owner", value: `{"host":"192.0.2.1","ttl":60,"owner":"default"}`,
			want: record{Type: dnsprovider.A, Data: "192.0.2.1", TTL: 60}, wantOK: true},
		{name: "a federation field of another shape is no owner", value: `{"host":"192.0.2.1","ttl":60,"federation":"myfederation"}`,
			want: record{Type: dnsprovider.A, Data: "192.0.2.1", TTL: 60}, wantOK: true},
		{name: "a federation field without a name is no owner", value: `{"host":"192.0.2.1","ttl":60,"federation":{"object":"service/a/b"}}`,
			want: record{Type: dnsprovider.A, Data: "192.0.2.1", TTL: 60}, wantOK: true},
		{name: "other fields are kept out", value: `{"host":"192.0.2.1","port":80,"priority":10,"group":"g","ttl":60}`,
			want: record{Type: dnsprovider.A, Data: "192.0.2.1", TTL: 60}, wantOK: true},
		{name: "TXT: no address record", value: `{"text":"hello","ttl":60}`},
		{name: "name with text is TXT to CoreDNS", value: `{"host":"x.example.com","text":"hello"}`},
		{name: "empty object", value: `{}`},
		{name: "not JSON", value: `192.0.2.1`, wantErr: "not a record CoreDNS can read"},
		{name: "negative TTL, which CoreDNS cannot read either", value: `{"host":"192.0.2.1","ttl":-1}`, wantErr: "not a record CoreDNS can read"},
		{name: "host not a string", value: `{"host":1}`, wantErr: "not a record CoreDNS can read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := decode([]byte(tc.value))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("decode(%s) = %+v, %v, %v; want an error with %q", tc.value, got, ok, err, tc.wantErr)
				}
				return
			}
			if err != nil || ok != tc.wantOK || got != tc.want {
				t.Fatalf("decode(%s) = %+v, %v, %v; want %+v, %v", tc.value, got, ok, err, tc.want, tc.wantOK)
			}
		})
	}
}
