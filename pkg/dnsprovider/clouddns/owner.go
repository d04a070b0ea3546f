package clouddns

import (
	"fmt"
	"strings"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

// Cloud DNS has no field to say who wrote a record set, so every record set
// the federation writes is paired with an ownership record: a TXT record
// set at a name derived from the set's name and type,
//
//	_kfed-owner-a.nginx.mynamespace.myfederation.svc.example.com.  TXT
//	    "heritage=kfederation,federation=myfederation,object=service/mynamespace/nginx"
//
// One ownership record per (name, type), not per name, so that Apply can
// write it from the change alone, without reading the zone first: a set
// added gets its record added, a set deleted gets its record deleted, and
// when no set at a name is owned any more no record is left. Deleting the
// ownership record with the change's owner in it is also what makes Cloud
// DNS refuse (412) to delete a set that someone else owns. The record sits
// at a child name, not at the name itself, because nothing may share a
// name with a CNAME; its label starts with an underscore, which no
// Kubernetes name does, so it never collides with a name the federation
// writes.
const (
	ownerLabelPrefix = "_kfed-owner-"
	heritage         = "kfederation"
	// ownerTTL is the TTL of the ownership records. It is fixed, so that
	// the record to delete is known without reading it, and long, because
	// nobody resolves these names for an answer that changes.
	ownerTTL = 300
)

// ownable says the federation writes record sets of this type.
func ownable(t dnsprovider.RecordType) bool {
	return t == dnsprovider.A || t == dnsprovider.AAAA || t == dnsprovider.CNAME
}

// ownerName is the name of the ownership record of the set of type t at
// name (fully qualified).
func ownerName(name string, t dnsprovider.RecordType) string {
	return ownerLabelPrefix + strings.ToLower(string(t)) + "." + name
}

// splitOwnerName is the reverse of ownerName; ok is false for a name that
// is not an ownership record's.
func splitOwnerName(owner string) (name string, t dnsprovider.RecordType, ok bool) {
	label, rest, found := strings.Cut(owner, ".")
	if !found || rest == "" || !strings.HasPrefix(label, ownerLabelPrefix) {
		return "", "", false
	}
	t = dnsprovider.RecordType(strings.ToUpper(strings.TrimPrefix(label, ownerLabelPrefix)))
	if !ownable(t) {
		return "", "", false
	}
	return rest, t, true
}

// ownerData is the TXT data of the ownership records of o, quoted as Cloud
// DNS takes and gives TXT data.
func ownerData(o dnsprovider.Owner) (string, error) {
	for _, f := range []struct{ field, value string }{{"federation", o.Federation}, {"object", o.Object}} {
		if f.value == "" {
			return "", fmt.Errorf("the change's owner has no %s; every record set the federation writes names its federation and object", f.field)
		}
		for _, c := range f.value {
			if c <= ' ' || c > '~' || c == '"' || c == '\\' || c == ',' || c == '=' {
				return "", fmt.Errorf("the change's owner %s %q has the character %q; use printable ASCII without spaces, quotes, backslashes, commas or equal signs", f.field, f.value, c)
			}
		}
	}
	s := "heritage=" + heritage + ",federation=" + o.Federation + ",object=" + o.Object
	if len(s) > 255 {
		return "", fmt.Errorf("the change's owner (federation %q, object %q) is too long for one TXT string (255 characters)", o.Federation, o.Object)
	}
	return `"` + s + `"`, nil
}

// parseOwner reads the owner from an ownership record's data; ok is false
// when the data is not an ownership record the federation wrote.
func parseOwner(rrdatas []string) (o dnsprovider.Owner, ok bool) {
	if len(rrdatas) != 1 {
		return o, false
	}
	s := rrdatas[0]
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	var fromUs bool
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "heritage":
			fromUs = v == heritage
		case "federation":
			o.Federation = v
		case "object":
			o.Object = v
		}
	}
	if !fromUs || o.Federation == "" || o.Object == "" {
		return dnsprovider.Owner{}, false
	}
	return o, true
}
