package annotations

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxDNSTTL is the largest TTL a DNS record can carry: RFC 2181 section 8
// makes the TTL an unsigned 31-bit number of seconds.
const maxDNSTTL = math.MaxInt32

// dnsTTLRule is quoted at the start of every error message, so that the
// user sees what a valid value looks like next to what was wrong with theirs.
var dnsTTLRule = fmt.Sprintf(`must be a whole number of seconds from 1 to %d, in digits only, like "300"`, maxDNSTTL)

// ParseDNSTTL parses the value of the DNSTTL annotation into a number of
// seconds from 1 to 2147483647. It accepts exactly the values
// ValidateDNSTTL accepts. The error does not name the annotation, which the
// caller knows and should add.
func ParseDNSTTL(value string) (int64, error) {
	ttl, errs := parseDNSTTL(value, nil)
	if len(errs) > 0 {
		return 0, valueError(errs)
	}
	return ttl, nil
}

// ValidateDNSTTL checks the value of the DNSTTL annotation. fldPath is the
// path of the annotations map (usually metadata.annotations); the error
// names fldPath.Key(DNSTTL), and its detail says what is wrong.
func ValidateDNSTTL(value string, fldPath *field.Path) field.ErrorList {
	_, errs := parseDNSTTL(value, fldPath.Key(DNSTTL))
	return errs
}

// parseDNSTTL is shared by Parse and Validate so that the two can never
// disagree. path is the annotation's own path.
func parseDNSTTL(value string, path *field.Path) (int64, field.ErrorList) {
	ttl, problem := readDNSTTL(value)
	if problem != "" {
		return 0, field.ErrorList{field.Invalid(path, value, dnsTTLRule+": "+problem)}
	}
	return ttl, nil
}

// readDNSTTL returns the TTL in value, or a sentence saying why there is
// none.
func readDNSTTL(value string) (int64, string) {
	if value == "" {
		return 0, "the value is empty; remove the annotation to use the controller manager's --dns-ttl"
	}
	if strings.ContainsFunc(value, unicode.IsSpace) {
		return 0, "remove the spaces"
	}
	switch value[0] {
	case '-':
		return 0, "a TTL cannot be negative"
	case '+':
		return 0, `remove the "+" sign`
	}
	if i := strings.IndexFunc(value, isNotDigit); i >= 0 {
		if seconds, ok := durationSeconds(value); ok {
			return 0, fmt.Sprintf("%q is a duration; write it in seconds: %q", value, strconv.FormatInt(seconds, 10))
		}
		r, _ := utf8.DecodeRuneInString(value[i:])
		return 0, fmt.Sprintf("found %q at byte %d, where only the digits 0-9 are allowed", r, i)
	}
	// Only digits are left, so the one error ParseInt can return is a range
	// error, and a number too large for an int64 is too large for a TTL.
	ttl, err := strconv.ParseInt(value, 10, 64)
	if err != nil || ttl > maxDNSTTL {
		return 0, fmt.Sprintf("%s is more than %d, the largest TTL DNS allows (RFC 2181 section 8)", value, maxDNSTTL)
	}
	if ttl == 0 {
		return 0, `a TTL of 0 stops resolvers caching the records at all, which is most likely a mistake; for quick failover use a short TTL like "30"`
	}
	return ttl, ""
}

// durationSeconds reads value as a Go duration ("1h", "90s"), the most
// likely reason for a unit in the value, and returns it in whole seconds
// when that is a valid TTL, for the error message to suggest.
func durationSeconds(value string) (int64, bool) {
	d, err := time.ParseDuration(value)
	if err != nil || d%time.Second != 0 {
		return 0, false
	}
	seconds := int64(d / time.Second)
	return seconds, seconds >= 1 && seconds <= maxDNSTTL
}

func isNotDigit(r rune) bool {
	return r < '0' || r > '9'
}
