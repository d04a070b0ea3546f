package coredns

import (
	"strings"
	"testing"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

func TestCleanPrefix(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "/skydns"},
		{"/skydns", "/skydns"},
		{"skydns", "/skydns"},
		{"/skydns/", "/skydns"},
		{"/dns//federation/", "/dns/federation"},
		{"/", ""},
	} {
		if got := cleanPrefix(tc.in); got != tc.want {
			t.Errorf("cleanPrefix(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNamePath(t *testing.T) {
	for _, tc := range []struct {
		prefix, name string
		want         string
		// wantErr is part of the error, when the name is refused.
		wantErr string
	}{
		{prefix: "/skydns", name: "web.example.com.", want: "/skydns/com/example/web"},
		{prefix: "/skydns", name: "nginx.mynamespace.myfederation.svc.us-central1-a.us-central1.example.com.",
			want: "/skydns/com/example/us-central1/us-central1-a/svc/myfederation/mynamespace/nginx"},
		{prefix: "/skydns", name: "com.", want: "/skydns/com"},
		{prefix: "/skydns", name: "_http._tcp.example.com.", want: "/skydns/com/example/_tcp/_http"},
		{prefix: "", name: "web.example.com.", want: "/com/example/web"},
		{prefix: "/skydns", name: "", wantErr: "empty"},
		{prefix: "/skydns", name: "web.example.com", wantErr: `end it with a dot ("web.example.com.")`},
		{prefix: "/skydns", name: ".", wantErr: "root"},
		{prefix: "/skydns", name: "web..example.com.", wantErr: "empty label"},
		{prefix: "/skydns", name: ".web.example.com.", wantErr: "empty label"},
		{prefix: "/skydns", name: "Web.example.com.", wantErr: `write "web"`},
		{prefix: "/skydns", name: "a/b.example.com.", wantErr: `has '/'`},
		{prefix: "/skydns", name: "*.example.com.", wantErr: `has '*'`},
		{prefix: "/skydns", name: "a b.example.com.", wantErr: `has ' '`},
		{prefix: "/skydns", name: strings.Repeat("a", 64) + ".example.com.", wantErr: "64 characters long; the limit is 63"},
		{prefix: "/skydns", name: strings.Repeat("abcdefghi.", 26) + "com.", wantErr: "264 characters long; the limit is 254"},
	} {
		got, err := namePath(tc.prefix, tc.name)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("namePath(%q, %q) = %q, %v; want an error with %q", tc.prefix, tc.name, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("namePath(%q, %q) = %q, %v; want %q", tc.prefix, tc.name, got, err, tc.want)
			continue
		}
		if name, ok := nameOfPath(tc.prefix, got); !ok || name != tc.name {
			t.Errorf("nameOfPath(%q, %q) = %q, %v; want %q", tc.prefix, got, name, ok, tc.name)
		}
	}
}

func TestNameOfPathRefusesOtherPaths(t *testing.T) {
	for _, p := range []string{
		"/skydns",                           // the prefix itself
		"/other/com/example",                // another prefix
		"/skydnsx/com/example",              // a prefix that only starts the same
		"/skydns/com/example/web/a.1.2.3.4", // a record's key: its leaf has dots
		"/skydns/com//web",                  // an empty segment
		"/skydns/com/example/",              // a trailing slash
		"/skydns/com/Example",               // upper case
	} {
		if name, ok := nameOfPath("/skydns", p); ok {
			t.Errorf("nameOfPath(/skydns, %q) = %q, want no name", p, name)
		}
	}
}

func TestLeaf(t *testing.T) {
	for _, tc := range []struct {
		t    dnsprovider.RecordType
		data string
		want string
	}{
		{dnsprovider.A, "192.0.2.1", "a.192.0.2.1"},
		{dnsprovider.AAAA, "2001:db8::1", "aaaa.2001:db8::1"},
		{dnsprovider.CNAME, "web.example.com.", "cname.web.example.com."},
	} {
		if got := leaf(tc.t, tc.data); got != tc.want {
			t.Errorf("leaf(%s, %q) = %q, want %q", tc.t, tc.data, got, tc.want)
		}
	}
}

// FuzzNamePath checks that namePath never panics on any name, and that a
// path it returns is the prefix and the name's labels reversed, one segment
// each, none empty and none with a dot (so no record's leaf), and that
// nameOfPath gives the name back.
func FuzzNamePath(f *testing.F) {
	for _, seed := range []string{
		"web.example.com.", "example.com", ".", "", "a..b.", "A.b.", "a/b.c.", "_x.y.", "-.-.", "a.b.c.d.e.f.",
		strings.Repeat("a", 63) + ".com.", "web.example.com.\x00", "ü.example.com.", "a\\.b.c.",
	} {
		f.Add("/skydns", seed)
	}
	f.Add("", "web.example.com.")
	f.Fuzz(func(t *testing.T, rawPrefix, name string) {
		prefix := cleanPrefix(rawPrefix)
		p, err := namePath(prefix, name)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("namePath(%q, %q): an empty error", prefix, name)
			}
			return
		}
		rest, ok := strings.CutPrefix(p, prefix+"/")
		if !ok {
			t.Fatalf("namePath(%q, %q) = %q, which is not below the prefix", prefix, name, p)
		}
		segments := strings.Split(rest, "/")
		labels := strings.Split(strings.TrimSuffix(name, "."), ".")
		if len(segments) != len(labels) {
			t.Fatalf("namePath(%q, %q) = %q: %d segments for %d labels", prefix, name, p, len(segments), len(labels))
		}
		for i, s := range segments {
			if s == "" || strings.Contains(s, ".") || s != labels[len(labels)-1-i] {
				t.Fatalf("namePath(%q, %q) = %q: segment %d is %q, want label %q", prefix, name, p, i, s, labels[len(labels)-1-i])
			}
		}
		if back, ok := nameOfPath(prefix, p); !ok || back != name {
			t.Fatalf("nameOfPath(%q, %q) = %q, %v; want %q", prefix, p, back, ok, name)
		}
	})
}
