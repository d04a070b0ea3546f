package coredns

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

// DefaultPath is where CoreDNS's etcd plugin looks for records unless the
// Corefile sets `path`.
const DefaultPath = "/skydns"

const (
	maxLabelLength = 63
	// maxNameLength is the longest name in presentation form, with its
	// trailing dot: 255 octets on the wire.
	maxNameLength = 254
)

// cleanPrefix turns a path prefix as a Corefile or a config file spells it
// ("skydns", "/skydns/") into the form keys start with ("/skydns"), as
// CoreDNS's own path joining does; the root comes out as "".
func cleanPrefix(prefix string) string {
	if prefix == "" {
		prefix = DefaultPath
	}
	p := path.Clean("/" + prefix)
	if p == "/" {
		return ""
	}
	return p
}

// checkName says whether name is one this provider can write: fully
// qualified, not the root, and made of labels of lower-case letters,
// digits, '-' and '_'. Anything else could not be a path segment ('/'),
// would be looked up under another path (upper case: CoreDNS lowercases
// queries), or is not a host name.
func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("the name is empty")
	}
	if !strings.HasSuffix(name, ".") {
		return fmt.Errorf("name %q is not fully qualified: end it with a dot (%q)", name, name+".")
	}
	if name == "." {
		return fmt.Errorf("the root name %q cannot hold records here; use a name in the zone", name)
	}
	if len(name) > maxNameLength {
		return fmt.Errorf("name %q is %d characters long; the limit is %d", name, len(name), maxNameLength)
	}
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if err := checkLabel(label); err != nil {
			return fmt.Errorf("name %q: %w", name, err)
		}
	}
	return nil
}

func checkLabel(label string) error {
	if label == "" {
		return fmt.Errorf("it has an empty label (two dots in a row, or a leading dot)")
	}
	if len(label) > maxLabelLength {
		return fmt.Errorf("label %q is %d characters long; the limit is %d", label, len(label), maxLabelLength)
	}
	for _, c := range label {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		case c >= 'A' && c <= 'Z':
			return fmt.Errorf("label %q has upper-case letters; CoreDNS looks names up in lower case, so write %q", label, strings.ToLower(label))
		default:
			return fmt.Errorf("label %q has %q; use lower-case letters, digits, '-' and '_'", label, c)
		}
	}
	return nil
}

// namePath is the etcd path of name under prefix (as cleanPrefix returns
// it): its labels in reverse, "web.example.com." under "/skydns" being
// "/skydns/com/example/web". It is the path CoreDNS reads for the name.
func namePath(prefix, name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	slices.Reverse(labels)
	return prefix + "/" + strings.Join(labels, "/"), nil
}

// nameOfPath is the name whose path p is, when p is one namePath can
// return.
func nameOfPath(prefix, p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, prefix+"/")
	if !ok {
		return "", false
	}
	labels := strings.Split(rest, "/")
	slices.Reverse(labels)
	name := strings.Join(labels, ".") + "."
	// A segment with a dot in it (a record's leaf) joins into a name whose
	// path is another one.
	if q, err := namePath(prefix, name); err != nil || q != p {
		return "", false
	}
	return name, true
}

// recordKey is the key of one record of type t at the name whose path is
// path. A CNAME is the key at the path itself: CoreDNS answers a CNAME
// query from that key alone, and a name with a CNAME has no other records.
// Any other record is a key directly below the path, its leaf.
func recordKey(path string, t dnsprovider.RecordType, data string) string {
	if t == dnsprovider.CNAME {
		return path
	}
	return path + "/" + leaf(t, data)
}

// leaf is the last segment of the key of one record below its name's path:
// the type and the data, as in "a.192.0.2.1", "aaaa.2001:db8::1" and
// "cname.web.example.com.". The data is checked before (an address or a
// name), so it holds no '/'; the leaf holds a dot, which no label does.
func leaf(t dnsprovider.RecordType, data string) string {
	return strings.ToLower(string(t)) + "." + data
}

// inZone says whether name is zone or a name below it.
func inZone(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}
