// Package dnsrecords is what the federation's DNS controllers share: Service
// DNS (pkg/controller/servicedns) and Ingress DNS (pkg/controller/ingressdns)
// each decide which record sets their objects should have, and this package
// does the rest the same way for both.
//
//   - records.go, pure: the record sets of one name from its targets (Sets),
//     and the change that gets a zone from what it holds to what an object
//     should have without touching anyone else's records (Diff).
//   - writer.go: one object's records in one change (Writer.Publish), what
//     each object owns in the zone, cached so that an unchanged object costs
//     no request (owned.go), the sweep that finds records of objects gone
//     while the controller was down, and the events that name the records.
//   - members.go: what the members say, read from the registry's informers:
//     readiness, a member's copy of an object, whether a Service has a ready
//     endpoint there.
//   - health.go: --dns-unhealthy-grace, and host names of load balancers
//     resolved once per TTL.
//   - queue.go: retries with backoff, and the waits that are not failures.
package dnsrecords

import (
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

// FQDN returns name with its trailing dot.
func FQDN(name string) string {
	if strings.HasSuffix(name, ".") {
		return name
	}
	return name + "."
}

// Targets are what a name answers with: load balancers' addresses, the host
// names some load balancers give instead, and what those host names resolve
// to.
type Targets struct {
	IPs           []string
	Hostnames     []string
	HostAddresses []string
}

// Add adds o's targets to t.
func (t *Targets) Add(o Targets) {
	t.IPs = append(t.IPs, o.IPs...)
	t.Hostnames = append(t.Hostnames, o.Hostnames...)
	t.HostAddresses = append(t.HostAddresses, o.HostAddresses...)
}

// Empty says there is nothing to answer with.
func (t Targets) Empty() bool { return len(t.IPs) == 0 && len(t.Hostnames) == 0 }

// Sets returns the record sets of name for its targets, sorted by type:
// A (and AAAA) records of the addresses, or a CNAME to the one host name
// that is its only target (a CNAME shares its name with nothing, so a host
// name among other targets contributes its resolved addresses instead).
// With no targets, or only host names that did not resolve, the name is a
// CNAME to fallback, or has no record when fallback is "".
func Sets(name string, ttl int64, t Targets, fallback string) []dnsprovider.RecordSet {
	if t.Empty() {
		if fallback == "" {
			return nil
		}
		return []dnsprovider.RecordSet{{Name: name, Type: dnsprovider.CNAME, TTL: ttl, Data: []string{fallback}}}
	}
	hosts := SortedUnique(t.Hostnames)
	if len(t.IPs) == 0 && len(hosts) == 1 {
		return []dnsprovider.RecordSet{{Name: name, Type: dnsprovider.CNAME, TTL: ttl, Data: []string{FQDN(hosts[0])}}}
	}
	var v4, v6 []string
	for _, ip := range append(slices.Clone(t.IPs), t.HostAddresses...) {
		p := net.ParseIP(ip)
		switch {
		case p == nil:
			continue
		case p.To4() != nil:
			v4 = append(v4, p.To4().String())
		default:
			v6 = append(v6, p.String())
		}
	}
	if len(v4) == 0 && len(v6) == 0 {
		// Host names that did not resolve: as if there were no targets.
		return Sets(name, ttl, Targets{}, fallback)
	}
	var out []dnsprovider.RecordSet
	if len(v4) > 0 {
		out = append(out, dnsprovider.RecordSet{Name: name, Type: dnsprovider.A, TTL: ttl, Data: SortedUnique(v4)})
	}
	if len(v6) > 0 {
		out = append(out, dnsprovider.RecordSet{Name: name, Type: dnsprovider.AAAA, TTL: ttl, Data: SortedUnique(v6)})
	}
	return out
}

// SortedUnique returns in sorted, without repeats; in is left as it was.
func SortedUnique(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

// Compare orders record sets by name, then type.
func Compare(a, b dnsprovider.RecordSet) int {
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return strings.Compare(string(a.Type), string(b.Type))
}

// Conflict is a name an object should have records at where someone
// else's record set is: the federation leaves it alone and says so.
type Conflict struct {
	Name   string
	Theirs dnsprovider.Owned
}

// Diff is the change that gets the record sets owner owns to desired, given
// current, what the zone holds at the names of desired and of owner's
// current sets. Sets equal but for the order of their data are left alone,
// so an unchanged object gives an empty change. A desired set that would
// meet someone else's set at its name (one of its type, or a CNAME on
// either side) is left out of the change and its name returned as a
// conflict; owner's own sets at such a name stay as they are, and go only
// when the name is not desired at all.
func Diff(owner dnsprovider.Owner, current []dnsprovider.Owned, desired []dnsprovider.RecordSet) (dnsprovider.Change, []Conflict) {
	change := dnsprovider.Change{Owner: owner}
	foreign := map[string][]dnsprovider.Owned{} // by name
	ours := map[string]dnsprovider.RecordSet{}  // by name + type
	for _, o := range current {
		if o.Owner == owner {
			ours[o.Name+" "+string(o.Type)] = o.RecordSet
			continue
		}
		foreign[o.Name] = append(foreign[o.Name], o)
	}
	want := map[string]dnsprovider.RecordSet{}
	// held are the names where a desired set meets someone else's.
	held := map[string]bool{}
	var conflicts []Conflict
	for _, rs := range desired {
		if theirs, ok := clash(foreign[rs.Name], rs.Type); ok {
			if !held[rs.Name] {
				conflicts = append(conflicts, Conflict{Name: rs.Name, Theirs: theirs})
			}
			held[rs.Name] = true
			continue
		}
		want[rs.Name+" "+string(rs.Type)] = rs
	}
	for k, have := range ours {
		w, ok := want[k]
		switch {
		case ok && SameSet(w, have):
		case !ok && held[have.Name]:
			// The name is still ours to keep, but the set it should
			// have cannot be written: leave the one there.
		default:
			change.Delete = append(change.Delete, have)
		}
	}
	for k, w := range want {
		if have, ok := ours[k]; !ok || !SameSet(w, have) {
			change.Add = append(change.Add, w)
		}
	}
	slices.SortFunc(change.Delete, Compare)
	slices.SortFunc(change.Add, Compare)
	return change, conflicts
}

// clash returns the foreign set that keeps a set of type t from being
// written at its name: one of the same type, or a CNAME on either side (a
// CNAME shares its name with nothing).
func clash(theirs []dnsprovider.Owned, t dnsprovider.RecordType) (dnsprovider.Owned, bool) {
	for _, o := range theirs {
		if o.Type == t || o.Type == dnsprovider.CNAME || t == dnsprovider.CNAME {
			return o, true
		}
	}
	return dnsprovider.Owned{}, false
}

// SameSet says a and b are one record set, whatever the order of their
// data.
func SameSet(a, b dnsprovider.RecordSet) bool {
	return a.Name == b.Name && a.Type == b.Type && a.TTL == b.TTL && slices.Equal(SortedUnique(a.Data), SortedUnique(b.Data))
}

// SameSets says a and b hold the same record sets, whatever their order.
func SameSets(a, b []dnsprovider.RecordSet) bool {
	if len(a) != len(b) {
		return false
	}
	byName := map[string]dnsprovider.RecordSet{}
	for _, rs := range a {
		byName[rs.Name+" "+string(rs.Type)] = rs
	}
	for _, rs := range b {
		other, ok := byName[rs.Name+" "+string(rs.Type)]
		if !ok || !SameSet(rs, other) {
			return false
		}
	}
	return true
}

// names are the distinct names of the record sets, sorted.
func names(lists ...[]dnsprovider.RecordSet) []string {
	var out []string
	for _, l := range lists {
		for _, rs := range l {
			out = append(out, rs.Name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ours is what owner holds once change is applied over current.
func ours(owner dnsprovider.Owner, current []dnsprovider.Owned, change dnsprovider.Change) []dnsprovider.RecordSet {
	var out []dnsprovider.RecordSet
	for _, o := range current {
		if o.Owner == owner && !slices.ContainsFunc(change.Delete, func(d dnsprovider.RecordSet) bool { return d.Name == o.Name && d.Type == o.Type }) {
			out = append(out, o.RecordSet)
		}
	}
	return append(out, change.Add...)
}

// Describe says what a change does, name by name, for an event:
// "shop.example.com. A 192.0.2.1,192.0.2.2; api.example.com. removed".
func Describe(change dnsprovider.Change) string {
	var parts []string
	added := map[string]bool{}
	for _, rs := range change.Add {
		added[rs.Name] = true
		parts = append(parts, fmt.Sprintf("%s %s %s", rs.Name, rs.Type, strings.Join(rs.Data, ",")))
	}
	removed := map[string]bool{}
	for _, rs := range change.Delete {
		if !added[rs.Name] && !removed[rs.Name] {
			removed[rs.Name] = true
			parts = append(parts, rs.Name+" removed")
		}
	}
	return strings.Join(parts, "; ")
}
