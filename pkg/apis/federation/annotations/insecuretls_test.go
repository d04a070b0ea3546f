package annotations

import (
	"testing"
)

func TestInsecureSkipTLSVerify(t *testing.T) {
	tests := []struct {
		value string
		want  bool
		ok    bool
	}{
		{"true", true, true},
		{"false", false, true},
		{"", false, false},
		{"True", false, false},
		{"1", false, false},
		{"yes", false, false},
		{" true", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			got, err := ParseInsecureSkipTLSVerify(tc.value)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("ParseInsecureSkipTLSVerify(%q) = %v, %v; want %v, ok %v", tc.value, got, err, tc.want, tc.ok)
			}
			errs := ValidateInsecureSkipTLSVerify(tc.value, annotationsPath)
			if (len(errs) == 0) != tc.ok {
				t.Errorf("ValidateInsecureSkipTLSVerify(%q) = %v, want ok %v", tc.value, errs, tc.ok)
			}
			for _, e := range errs {
				if want := annotationsPath.Key(InsecureSkipTLSVerify).String(); e.Field != want {
					t.Errorf("error field %q, want %q", e.Field, want)
				}
			}
		})
	}
}
