// Package ingressdns publishes a DNS name for each host of a federated
// Ingress whose members' ingress controllers each give their own address:
// every class (nginx, traefik, ...) but, when the controller manager runs
// with --cloud-provider=gce, GCE's (class gce, or no class at all; see
// controller.IsGCEIngress), to which pkg/controller/ingresslb gives one
// global address instead. Without the global load balancer a GCE Ingress
// too has an address per member, and gets its names here.
//
// For an Ingress with the rule host shop.example.com, in a federation whose
// DNS zone is example.com:
//
//	shop.example.com.  A  <the Ingress address of every member healthy for shop.example.com>
//
// A member is healthy for a host when it is Ready (or not Ready for less
// than --dns-unhealthy-grace), its copy of the Ingress has an address
// (status.loadBalancer.ingress), and a backend Service of that host's rules
// (a path's Service, or spec.defaultBackend) has a ready endpoint in it.
// IPv6 addresses are AAAA records. A member whose ingress controller gives
// a host name instead is a CNAME to it when it is the only healthy member,
// else its resolved addresses (as Service DNS does). With no healthy member
// the host has no record (NXDOMAIN): a name that answers only with members
// that cannot serve it is worse than none.
//
// Only hosts inside the zone get a record, and not the zone's apex (it
// holds the zone's own records, and CoreDNS's etcd plugin cannot serve
// records there) nor wildcard hosts (*.example.com: not every provider can
// hold one); those are skipped with an event.
//
// This file holds the pure part: which hosts get names (Hosts), which
// Services a host's traffic goes to (Backends), and the records an Ingress
// should have (Desired). The change that gets the zone there, and the rest
// Ingress DNS shares with Service DNS, is in package dnsrecords.
package ingressdns

import (
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/controller/dnsrecords"
	"github.com/kfederation/federation/pkg/dnsprovider"
)

// Member is one member cluster's copy of a federated Ingress, as DNS sees
// it.
type Member struct {
	Cluster string
	// Ready says the cluster counts as Ready for DNS: Ready, or not Ready
	// for less than the grace period.
	Ready bool
	// Address is the member Ingress's status.loadBalancer.ingress: its
	// IPs and host names, and what the host names resolve to.
	Address dnsrecords.Targets
	// Serving are the hosts (fully qualified) a backend of whose rules has
	// a ready endpoint in the member.
	Serving []string
}

// healthyFor says the member's address belongs in host's records.
func (m Member) healthyFor(host string) bool {
	return m.Ready && !m.Address.Empty() && slices.Contains(m.Serving, host)
}

// Desired returns the record sets of hosts (fully qualified, as Hosts
// returns them), each with the addresses of the members healthy for it,
// sorted by name and type; a host no member is healthy for has none.
func Desired(hosts []string, ttl int64, members []Member) []dnsprovider.RecordSet {
	var out []dnsprovider.RecordSet
	for _, h := range hosts {
		var t dnsrecords.Targets
		for _, m := range members {
			if m.healthyFor(h) {
				t.Add(m.Address)
			}
		}
		out = append(out, dnsrecords.Sets(h, ttl, t, "")...)
	}
	slices.SortFunc(out, dnsrecords.Compare)
	return out
}

// Skipped is a rule host that gets no record, and why.
type Skipped struct {
	Host string
	Why  string
	// Surprising says the user may well have expected a record: the
	// event is a Warning.
	Surprising bool
}

// Hosts returns the hosts of ing's rules that get a record in zone (fully
// qualified, "example.com."), fully qualified, lower case, sorted and
// without repeats, and the rule hosts that do not, with why.
func Hosts(ing *networkingv1.Ingress, zone string) (hosts []string, skipped []Skipped) {
	zone = strings.ToLower(dnsrecords.FQDN(zone))
	seen := map[string]bool{}
	for _, r := range ing.Spec.Rules {
		if r.Host == "" || seen[r.Host] {
			continue
		}
		seen[r.Host] = true
		h := strings.ToLower(dnsrecords.FQDN(r.Host))
		switch {
		case strings.HasPrefix(h, "*."):
			skipped = append(skipped, Skipped{Host: r.Host, Surprising: true,
				Why: "wildcard hosts get no record (not every DNS provider can hold one); list the names you serve as hosts, or write the wildcard record yourself"})
		case h == zone:
			skipped = append(skipped, Skipped{Host: r.Host, Surprising: true,
				Why: "it is the apex of zone " + zone + ", which holds the zone's own records; use a name below it"})
		case !strings.HasSuffix(h, "."+zone):
			skipped = append(skipped, Skipped{Host: r.Host, Why: "it is not in the federation's DNS zone " + zone})
		default:
			hosts = append(hosts, h)
		}
	}
	return dnsrecords.SortedUnique(hosts), skipped
}

// Backends returns the Services that serve host (fully qualified) in ing:
// the backends of the paths of its rules, and the default backend, which
// gets the requests no path matches. other says one of them is not a
// Service (a resource backend), whose readiness the federation cannot see.
func Backends(ing *networkingv1.Ingress, host string) (services []string, other bool) {
	add := func(b *networkingv1.IngressBackend) {
		switch {
		case b == nil:
		case b.Service != nil:
			services = append(services, b.Service.Name)
		case b.Resource != nil:
			other = true
		}
	}
	for _, r := range ing.Spec.Rules {
		if !strings.EqualFold(dnsrecords.FQDN(r.Host), host) || r.HTTP == nil {
			continue
		}
		for i := range r.HTTP.Paths {
			add(&r.HTTP.Paths[i].Backend)
		}
	}
	add(ing.Spec.DefaultBackend)
	return dnsrecords.SortedUnique(services), other
}

// allBackends returns every Service ing sends traffic to, sorted.
func allBackends(ing *networkingv1.Ingress) []string {
	var out []string
	for _, b := range controller.IngressServiceBackends(ing) {
		out = append(out, b.Name)
	}
	return dnsrecords.SortedUnique(out)
}
