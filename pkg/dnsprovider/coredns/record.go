package coredns

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

// defaultTTL is the TTL CoreDNS's etcd plugin answers with when a record
// has none.
const defaultTTL = 300

// value is the JSON of one record key. CoreDNS reads host and ttl (and
// other fields the federation never writes); it ignores federation.
type value struct {
	Host       string      `json:"host"`
	TTL        uint32      `json:"ttl"`
	Federation *ownerValue `json:"federation,omitempty"`
}

// ownerValue is the owner of a record as stored in its key.
type ownerValue struct {
	Name   string `json:"name"`
	Object string `json:"object"`
}

// encode is the value of the key holding one record, data, of a set with
// ttl owned by owner. The caller has checked ttl fits CoreDNS's 32 bits.
func encode(data string, ttl int64, owner dnsprovider.Owner) []byte {
	// A struct of strings and a number always marshals.
	b, _ := json.Marshal(value{
		Host:       data,
		TTL:        uint32(ttl), // #nosec G115 -- checked by checkRecordSet
		Federation: &ownerValue{Name: owner.Federation, Object: owner.Object},
	})
	return b
}

// record is one record as CoreDNS serves it from a key.
type record struct {
	Type  dnsprovider.RecordType
	Data  string
	TTL   int64
	Owner dnsprovider.Owner
}

// decode reads a key's value the way CoreDNS does: a host that parses as
// an IPv4 address (IPv4-mapped IPv6 too) is an A record, any other address
// AAAA, anything else a CNAME to that name; no ttl means 300. ok is false
// for a value that is no address record (a TXT or an empty host), which
// CoreDNS never answers an A, AAAA or CNAME query with. The owner is zero
// unless the value has a federation field naming one.
func decode(b []byte) (r record, ok bool, err error) {
	var v struct {
		Host       string          `json:"host"`
		TTL        uint32          `json:"ttl"`
		Text       string          `json:"text"`
		Federation json.RawMessage `json:"federation"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return record{}, false, fmt.Errorf("not a record CoreDNS can read (JSON with host and ttl): %w", err)
	}
	if v.Host == "" {
		return record{}, false, nil
	}
	r.TTL = int64(v.TTL)
	if r.TTL == 0 {
		r.TTL = defaultTTL
	}
	switch ip := net.ParseIP(v.Host); {
	case ip == nil && v.Text != "":
		// CoreDNS serves a name with text as a TXT record.
		return record{}, false, nil
	case ip == nil:
		r.Type, r.Data = dnsprovider.CNAME, v.Host
		if !strings.HasSuffix(r.Data, ".") {
			r.Data += "."
		}
	case ip.To4() != nil:
		r.Type, r.Data = dnsprovider.A, ip.To4().String()
	default:
		r.Type, r.Data = dnsprovider.AAAA, ip.String()
	}
	var o ownerValue
	if len(v.Federation) > 0 && json.Unmarshal(v.Federation, &o) == nil && o.Name != "" {
		r.Owner = dnsprovider.Owner{Federation: o.Name, Object: o.Object}
	}
	return r, true, nil
}
