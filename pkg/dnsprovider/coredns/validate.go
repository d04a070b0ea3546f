package coredns

import (
	"errors"
	"fmt"
	"math"
	"net/netip"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

// maxTTL is the largest TTL a record may have (RFC 2181 section 8).
const maxTTL = math.MaxInt32

// checkChange says whether change is one a zone called zone can make:
// owned by a federation and an object, every record set in it well formed
// and below the zone, and no two of its sets at one name that could not
// both exist.
func checkChange(zone string, change dnsprovider.Change) error {
	if change.Owner.Federation == "" || change.Owner.Object == "" {
		return fmt.Errorf("the change's owner must name a federation and an object, got federation %q and object %q", change.Owner.Federation, change.Owner.Object)
	}
	var errs []error
	for _, part := range []struct {
		what string
		sets []dnsprovider.RecordSet
	}{{"delete", change.Delete}, {"add", change.Add}} {
		byName := map[string][]dnsprovider.RecordType{}
		for _, rs := range part.sets {
			if err := checkRecordSet(zone, rs); err != nil {
				errs = append(errs, fmt.Errorf("%s %s %s: %w", part.what, rs.Type, rs.Name, err))
				continue
			}
			for _, t := range byName[rs.Name] {
				switch {
				case t == rs.Type:
					errs = append(errs, fmt.Errorf("%s %s %s: the change has another %s set at that name; a name has at most one set of each type", part.what, rs.Type, rs.Name, t))
				case part.what == "add" && (t == dnsprovider.CNAME || rs.Type == dnsprovider.CNAME):
					errs = append(errs, fmt.Errorf("add %s %s: the change also adds a %s set at that name; a CNAME cannot share its name with other records", rs.Type, rs.Name, t))
				}
			}
			byName[rs.Name] = append(byName[rs.Name], rs.Type)
		}
	}
	return errors.Join(errs...)
}

// checkRecordSet says whether rs is a record set a zone called zone can
// hold.
func checkRecordSet(zone string, rs dnsprovider.RecordSet) error {
	if err := checkName(rs.Name); err != nil {
		return err
	}
	if rs.Name == zone {
		return fmt.Errorf("records at the zone apex are not supported: CoreDNS's etcd plugin answers the apex with the records of the whole zone; use a name below %s", zone)
	}
	if !inZone(rs.Name, zone) {
		return fmt.Errorf("the name is not in the zone %s", zone)
	}
	if rs.TTL <= 0 || rs.TTL > maxTTL {
		return fmt.Errorf("TTL %d is out of range: give 1 to %d seconds", rs.TTL, maxTTL)
	}
	if len(rs.Data) == 0 {
		return fmt.Errorf("the set has no data")
	}
	for i, d := range rs.Data {
		for _, e := range rs.Data[:i] {
			if d == e {
				return fmt.Errorf("%q is in the data twice", d)
			}
		}
	}
	switch rs.Type {
	case dnsprovider.A, dnsprovider.AAAA:
		for _, d := range rs.Data {
			if err := checkAddress(rs.Type, d); err != nil {
				return err
			}
		}
	case dnsprovider.CNAME:
		if len(rs.Data) != 1 {
			return fmt.Errorf("a CNAME set has exactly one target, got %d: %q", len(rs.Data), rs.Data)
		}
		target := rs.Data[0]
		if err := checkName(target); err != nil {
			return fmt.Errorf("CNAME target: %w", err)
		}
		if inZone(target, rs.Name) {
			return fmt.Errorf("CNAME target %s is the name itself or a name below it, which CoreDNS never answers with (a loop)", target)
		}
	default:
		return fmt.Errorf("type %q is not supported; use %s, %s or %s", rs.Type, dnsprovider.A, dnsprovider.AAAA, dnsprovider.CNAME)
	}
	return nil
}

// checkAddress says whether d is an address of type t in the one form
// CoreDNS gives back, so that what is written reads back the same.
func checkAddress(t dnsprovider.RecordType, d string) error {
	addr, err := netip.ParseAddr(d)
	if err != nil {
		return fmt.Errorf("%q is not an IP address", d)
	}
	switch {
	case t == dnsprovider.A && !addr.Is4():
		return fmt.Errorf("%q is not an IPv4 address; put IPv6 addresses in an AAAA set", d)
	case t == dnsprovider.AAAA && addr.Is4():
		return fmt.Errorf("%q is not an IPv6 address; put IPv4 addresses in an A set", d)
	case t == dnsprovider.AAAA && addr.Is4In6():
		return fmt.Errorf("%q is an IPv4-mapped address, which CoreDNS serves as an A record; put %s in an A set", d, addr.Unmap())
	case addr.Zone() != "":
		return fmt.Errorf("%q has a zone (%%%s), which DNS cannot carry", d, addr.Zone())
	case addr.String() != d:
		return fmt.Errorf("%q is not in canonical form; write %q", d, addr.String())
	}
	return nil
}
