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
	// balancer gives instead (resolved by the caller into IPs where a name
	// has more than one target).
	IPs       []string
	Hostnames []string
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
	ips, hosts []string
}

func (t *targets) add(s Shard) {
	t.ips = append(t.ips, s.IPs...)
	t.hosts = append(t.hosts, s.Hostnames...)
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
	for _, ip := range t.ips {
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
// so an unchanged Service gives an empty change. A desired name where
// someone else holds records is left out of the change and returned as a
// conflict; owner's own records there are deleted only if not desired.
func Diff(owner dnsprovider.Owner, current []dnsprovider.Owned, desired []dnsprovider.RecordSet) (dnsprovider.Change, []Conflict) {
	change := dnsprovider.Change{Owner: owner}
	foreign := map[string]dnsprovider.Owned{}
	ours := map[string]dnsprovider.RecordSet{} // name + type
	for _, o := range current {
		if o.Owner == owner {
			ours[o.Name+" "+string(o.Type)] = o.RecordSet
			continue
		}
		if _, seen := foreign[o.Name]; !seen {
			foreign[o.Name] = o
		}
	}
	want := map[string]dnsprovider.RecordSet{}
	var conflicts []Conflict
	for _, rs := range desired {
		if theirs, taken := foreign[rs.Name]; taken {
			if len(conflicts) == 0 || conflicts[len(conflicts)-1].Name != rs.Name {
				conflicts = append(conflicts, Conflict{Name: rs.Name, Theirs: theirs})
			}
			continue
		}
		want[rs.Name+" "+string(rs.Type)] = rs
	}
	for k, have := range ours {
		if w, ok := want[k]; !ok || !sameSet(w, have) {
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

// sameSet says a and b are one record set, whatever the order of their
// data.
func sameSet(a, b dnsprovider.RecordSet) bool {
	return a.Name == b.Name && a.Type == b.Type && a.TTL == b.TTL && slices.Equal(sortedUnique(a.Data), sortedUnique(b.Data))
}
