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
// (Desired). The change that gets a zone there (Diff), and everything else
// Service DNS shares with Ingress DNS, is in package dnsrecords.
package servicedns

import (
	"slices"
	"strings"

	"github.com/kfederation/federation/pkg/controller/dnsrecords"
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
func (s Service) GlobalName() string { return s.prefix() + dnsrecords.FQDN(s.Suffix) }

// RegionName is the name that answers with the region's healthy shards.
func (s Service) RegionName(region string) string {
	return s.prefix() + strings.ToLower(region) + "." + dnsrecords.FQDN(s.Suffix)
}

// ZoneName is the name that answers with the zone's healthy shards.
func (s Service) ZoneName(zone, region string) string {
	return s.prefix() + strings.ToLower(zone) + "." + strings.ToLower(region) + "." + dnsrecords.FQDN(s.Suffix)
}

// Desired returns the record sets svc should have, sorted by name and type,
// each set's data sorted and without repeats.
func Desired(svc Service, shards []Shard) []dnsprovider.RecordSet {
	global := dnsrecords.Targets{}
	regions := map[string]*dnsrecords.Targets{}
	zones := map[[2]string]*dnsrecords.Targets{} // {zone, region}
	for _, s := range shards {
		t := dnsrecords.Targets{IPs: s.IPs, Hostnames: s.Hostnames, HostAddresses: s.HostAddresses}
		if s.Region == "" {
			if s.Healthy {
				global.Add(t)
			}
			continue
		}
		if regions[s.Region] == nil {
			regions[s.Region] = &dnsrecords.Targets{}
		}
		for _, z := range s.Zones {
			if zones[[2]string{z, s.Region}] == nil {
				zones[[2]string{z, s.Region}] = &dnsrecords.Targets{}
			}
		}
		if !s.Healthy {
			continue
		}
		global.Add(t)
		regions[s.Region].Add(t)
		for _, z := range s.Zones {
			zones[[2]string{z, s.Region}].Add(t)
		}
	}
	// A zone with no healthy shard points at its region, a region with
	// none at the global name, and the global name with none has no
	// record.
	var out []dnsprovider.RecordSet
	out = append(out, dnsrecords.Sets(svc.GlobalName(), svc.TTL, global, "")...)
	for r, t := range regions {
		out = append(out, dnsrecords.Sets(svc.RegionName(r), svc.TTL, *t, svc.GlobalName())...)
	}
	for zr, t := range zones {
		out = append(out, dnsrecords.Sets(svc.ZoneName(zr[0], zr[1]), svc.TTL, *t, svc.RegionName(zr[1]))...)
	}
	slices.SortFunc(out, dnsrecords.Compare)
	return out
}
