package annotations

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestParseDNSTTL(t *testing.T) {
	tests := []struct {
		value string
		want  int64
	}{
		{"1", 1},
		{"30", 30},
		{"300", 300},
		{"86400", 86400},
		{"0300", 300},
		{"2147483647", 2147483647},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			got, err := ParseDNSTTL(tc.value)
			if err != nil {
				t.Fatalf("ParseDNSTTL(%q): %v", tc.value, err)
			}
			if got != tc.want {
				t.Errorf("ParseDNSTTL(%q) = %d, want %d", tc.value, got, tc.want)
			}
			if errs := ValidateDNSTTL(tc.value, annotationsPath); len(errs) > 0 {
				t.Errorf("ValidateDNSTTL(%q) = %v, want no errors", tc.value, errs)
			}
		})
	}
}

func TestValidateDNSTTLRejects(t *testing.T) {
	tests := []struct {
		name  string
		value string
		// wantDetail must appear in the error's detail, after the rule.
		wantDetail string
	}{
		{name: "empty value", value: "", wantDetail: "the value is empty; remove the annotation to use the controller manager's --dns-ttl"},
		{name: "zero", value: "0", wantDetail: "a TTL of 0 stops resolvers caching the records at all, which is most likely a mistake"},
		{name: "zeros", value: "000", wantDetail: "a TTL of 0"},
		{name: "negative", value: "-5", wantDetail: "a TTL cannot be negative"},
		{name: "plus sign", value: "+300", wantDetail: `remove the "+" sign`},
		{name: "leading space", value: " 300", wantDetail: "remove the spaces"},
		{name: "trailing newline", value: "300\n", wantDetail: "remove the spaces"},
		{name: "space inside", value: "3 00", wantDetail: "remove the spaces"},
		{name: "hours", value: "1h", wantDetail: `"1h" is a duration; write it in seconds: "3600"`},
		{name: "seconds unit", value: "300s", wantDetail: `"300s" is a duration; write it in seconds: "300"`},
		{name: "mixed units", value: "1h30m", wantDetail: `write it in seconds: "5400"`},
		{name: "duration below a second", value: "500ms", wantDetail: `found 'm' at byte 3, where only the digits 0-9 are allowed`},
		{name: "duration too long", value: "1000000h", wantDetail: `found 'h' at byte 7`},
		{name: "fraction", value: "1.5", wantDetail: `found '.' at byte 1`},
		{name: "exponent", value: "3e2", wantDetail: `found 'e' at byte 1`},
		{name: "hexadecimal", value: "0x12c", wantDetail: `found 'x' at byte 1`},
		{name: "digit separator", value: "1_000", wantDetail: `found '_' at byte 1`},
		{name: "word", value: "five", wantDetail: `found 'f' at byte 0`},
		{name: "JSON string", value: `"300"`, wantDetail: `found '"' at byte 0`},
		{name: "non-ASCII digit", value: "3٠٠", wantDetail: `found '٠' at byte 1`},
		{name: "one more than 31 bits", value: "2147483648", wantDetail: "2147483648 is more than 2147483647, the largest TTL DNS allows (RFC 2181 section 8)"},
		{name: "too large", value: "99999999999", wantDetail: "99999999999 is more than 2147483647"},
		{name: "beyond int64", value: "99999999999999999999", wantDetail: "99999999999999999999 is more than 2147483647"},
	}
	wantPath := "metadata.annotations[federation.kubernetes.io/dns-ttl]"
	wantRule := `must be a whole number of seconds from 1 to 2147483647, in digits only, like "300": `
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := ValidateDNSTTL(tc.value, annotationsPath)
			if len(errs) != 1 {
				t.Fatalf("ValidateDNSTTL(%q) = %v, want one error", tc.value, errs)
			}
			e := errs[0]
			if e.Field != wantPath {
				t.Errorf("error %q names field %q, want %q", e, e.Field, wantPath)
			}
			if e.Type != field.ErrorTypeInvalid {
				t.Errorf("error %q has type %q, want %q", e, e.Type, field.ErrorTypeInvalid)
			}
			if e.BadValue != tc.value {
				t.Errorf("error %q reports value %#v, want %q", e, e.BadValue, tc.value)
			}
			if !strings.HasPrefix(e.Detail, wantRule) {
				t.Errorf("detail %q does not start with %q", e.Detail, wantRule)
			}
			if !strings.Contains(e.Detail, tc.wantDetail) {
				t.Errorf("detail %q does not say %q", e.Detail, tc.wantDetail)
			}
			if ttl, err := ParseDNSTTL(tc.value); err == nil {
				t.Errorf("ParseDNSTTL(%q) = %d, want the error Validate reports", tc.value, ttl)
			}
		})
	}
}

func TestParseDNSTTLErrorHasNoPath(t *testing.T) {
	_, err := ParseDNSTTL("1h")
	if err == nil {
		t.Fatal(`ParseDNSTTL("1h") succeeded`)
	}
	if msg := err.Error(); strings.Contains(msg, "metadata.annotations") || !strings.Contains(msg, `write it in seconds: "3600"`) {
		t.Errorf("error %q should explain the value without naming a field path", msg)
	}
}
