// Package servicedns publishes DNS names for federated Services that
// always point at healthy shards, at three levels: the zone, the region
// and the whole federation.
//
// With federation myfederation, suffix example.com. and Service nginx in
// namespace mynamespace:
//
//	nginx.mynamespace.myfederation.svc.us-central1-a.us-central1.example.com.  zone
//	nginx.mynamespace.myfederation.svc.us-central1.example.com.                region
//	nginx.mynamespace.myfederation.svc.example.com.                            global
//
// A name gets A (and AAAA) records of the load-balancer addresses of the
// healthy shards at its level. A zone with no healthy shard gets a CNAME to
// its region's name, a region with none a CNAME to the global name, and the
// global name with none has no record (NXDOMAIN).
//
// This file holds the pure part: the records a Service should have
// (Desired), and the change that gets a zone there (Diff).
package servicedns

import (
	"net"
	"slices"
	"strings"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

// Shard is one member cluster's copy of a federated Service, as DNS sees
// it.
type Shard struct {
	Cluster string
	// Zones are every zone of the cluster (Cluster status.zones), and
	// Region its region. A cluster without a region publishes only at the
	// global level.
	Zones  []string
	Region string
	// Healthy says the cluster is Ready and the Service has a ready
	// endpoint there.
	Healthy bool
	// IPs are the load balancer's addresses; Hostnames the names a load
	// balancer gives instead, and HostAddresses what those names resolve
	// to. A DNS name whose only target is one host name is a CNAME to it;
	// where a host name is one of several targets, its addresses are
	// published instead.
	IPs           []string
	Hostnames     []string
	HostAddresses []string
}

// Service names the federated Service and how its names are built.
type Service struct {
	Name, Namespace string
	Federation      string
	// Suffix is the DNS suffix, fully qualified ("example.com.").
	Suffix string
	// TTL of every record set, in seconds.
	TTL int64
}

func (s Service) prefix() string {
	return s.Name + "." + s.Namespace + "." + s.Federation + ".svc."
}

// GlobalName is the name that answers with every healthy shard.
func (s Service) GlobalName() string { return s.prefix() + fqdn(s.Suffix) }

// RegionName is the name that answers with the region's healthy shards.
func (s Service) RegionName(region string) string {
	return s.prefix() + strings.ToLower(region) + "." + fqdn(s.Suffix)
}

// ZoneName is the name that answers with the zone's healthy shards.
func (s Service) ZoneName(zone, region string) string {
	return s.prefix() + strings.ToLower(zone) + "." + strings.ToLower(region) + "." + fqdn(s.Suffix)
}

func fqdn(name string) string {
	if strings.HasSuffix(name, ".") {
		return name
	}
	return name + "."
}

// targets are the addresses and host names a name answers with.
type targets struct {
	ips, hosts, hostIPs []string
}

func (t *targets) add(s Shard) {
	t.ips = append(t.ips, s.IPs...)
	t.hosts = append(t.hosts, s.Hostnames...)
	t.hostIPs = append(t.hostIPs, s.HostAddresses...)
}

func (t targets) empty() bool { return len(t.ips) == 0 && len(t.hosts) == 0 }

// Desired returns the record sets svc should have, sorted by name and type,
// each set's data sorted and without repeats.
func Desired(svc Service, shards []Shard) []dnsprovider.RecordSet {
	global := targets{}
	regions := map[string]*targets{}
	zones := map[[2]string]*targets{} // {zone, region}
	for _, s := range shards {
		if s.Region == "" {
			if s.Healthy {
				global.add(s)
			}
			continue
		}
		if regions[s.Region] == nil {
			regions[s.Region] = &targets{}
		}
		for _, z := range s.Zones {
			if zones[[2]string{z, s.Region}] == nil {
				zones[[2]string{z, s.Region}] = &targets{}
			}
		}
		if !s.Healthy {
			continue
		}
		global.add(s)
		regions[s.Region].add(s)
		for _, z := range s.Zones {
			zones[[2]string{z, s.Region}].add(s)
		}
	}
	var out []dnsprovider.RecordSet
	out = append(out, level(svc, svc.GlobalName(), global, "")...)
	for r, t := range regions {
		out = append(out, level(svc, svc.RegionName(r), *t, svc.GlobalName())...)
	}
	for zr, t := range zones {
		out = append(out, level(svc, svc.ZoneName(zr[0], zr[1]), *t, svc.RegionName(zr[1]))...)
	}
	slices.SortFunc(out, compareSets)
	return out
}

// level is the record sets of one name: its targets' addresses, a CNAME to
// the one host name that is its only target, or with no targets a CNAME to
// up ("" for none).
func level(svc Service, name string, t targets, up string) []dnsprovider.RecordSet {
	if t.empty() {
		if up == "" {
			return nil
		}
		return []dnsprovider.RecordSet{{Name: name, Type: dnsprovider.CNAME, TTL: svc.TTL, Data: []string{up}}}
	}
	hosts := sortedUnique(t.hosts)
	if len(t.ips) == 0 && len(hosts) == 1 {
		return []dnsprovider.RecordSet{{Name: name, Type: dnsprovider.CNAME, TTL: svc.TTL, Data: []string{fqdn(hosts[0])}}}
	}
	var v4, v6 []string
	for _, ip := range append(slices.Clone(t.ips), t.hostIPs...) {
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
		return level(svc, name, targets{}, up)
	}
	var out []dnsprovider.RecordSet
	if len(v4) > 0 {
		out = append(out, dnsprovider.RecordSet{Name: name, Type: dnsprovider.A, TTL: svc.TTL, Data: sortedUnique(v4)})
	}
	if len(v6) > 0 {
		out = append(out, dnsprovider.RecordSet{Name: name, Type: dnsprovider.AAAA, TTL: svc.TTL, Data: sortedUnique(v6)})
	}
	return out
}

func sortedUnique(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

func compareSets(a, b dnsprovider.RecordSet) int {
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return strings.Compare(string(a.Type), string(b.Type))
}

// Conflict is a name the Service should have records at where someone
// else's record set is: the federation leaves it alone and says so.
type Conflict struct {
	Name   string
	Theirs dnsprovider.Owned
}

// Diff is the change that gets the record sets owner owns to desired, given
// current, what the zone holds at the names of desired and of owner's
// current sets. Sets equal but for the order of their data are left alone,
// so an unchanged Service gives an empty change. A desired set that would
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
		case ok && sameSet(w, have):
		case !ok && held[have.Name]:
			// The name is still ours to keep, but the set it should
			// have cannot be written: leave the one there.
		default:
			change.Delete = append(change.Delete, have)
		}
	}
	for k, w := range want {
		if have, ok := ours[k]; !ok || !sameSet(w, have) {
			change.Add = append(change.Add, w)
		}
	}
	slices.SortFunc(change.Delete, compareSets)
	slices.SortFunc(change.Add, compareSets)
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

// sameSet says a and b are one record set, whatever the order of their
// data.
func sameSet(a, b dnsprovider.RecordSet) bool {
	return a.Name == b.Name && a.Type == b.Type && a.TTL == b.TTL && slices.Equal(sortedUnique(a.Data), sortedUnique(b.Data))
}
