package federation

import (
	"context"
	"net"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/kubernetes"
	"github.com/coredns/coredns/plugin/kubernetes/object"
	"github.com/coredns/coredns/request"
	"github.com/miekg/dns"
	api "k8s.io/api/core/v1"
)

// cluster is what the plugin needs to know of the local cluster.
type cluster interface {
	// healthyAddresses returns the addresses that answer for Service
	// namespace/name in this cluster: its cluster IPs, or for a headless
	// Service its ready endpoints' addresses. It returns none when the
	// Service does not exist, is an ExternalName Service, or has no ready
	// endpoint.
	healthyAddresses(namespace, name string) []net.IP
	// ttl is the TTL of the answers.
	ttl() uint32
	// soa is the authority section of a NODATA answer in clusterDomain.
	soa(ctx context.Context, clusterDomain string, state request.Request) []dns.RR
}

// kubernetesCluster reads the informer caches of the kubernetes plugin of the
// same server block; it has no watches of its own.
type kubernetesCluster struct {
	k *kubernetes.Kubernetes
}

var _ cluster = kubernetesCluster{}

func (c kubernetesCluster) healthyAddresses(namespace, name string) []net.IP {
	if len(c.k.Namespaces) > 0 {
		// The kubernetes plugin's `namespaces` option: other namespaces
		// are not served from this cluster.
		if _, ok := c.k.Namespaces[namespace]; !ok {
			return nil
		}
	}
	// The kubernetes plugin indexes Services and EndpointSlices by
	// "<name>.<namespace>" (object.ServiceKey, object.EndpointsKey).
	var svc *object.Service
	for _, s := range c.k.APIConn.SvcIndex(object.ServiceKey(name, namespace)) {
		if s.Name == name && s.Namespace == namespace {
			svc = s
			break
		}
	}
	if svc == nil || svc.Type == api.ServiceTypeExternalName {
		return nil
	}
	// The kubernetes plugin keeps only ready endpoints (a nil ready
	// condition counts as ready, as the EndpointSlice API says) when it
	// converts an EndpointSlice, so every address left is ready.
	key := object.EndpointsKey(name, namespace)
	var ready []net.IP
	seen := map[string]bool{}
	for _, ep := range c.k.APIConn.EpIndex(key) {
		if ep.Index != key {
			continue
		}
		for _, subset := range ep.Subsets {
			for _, addr := range subset.Addresses {
				ip := net.ParseIP(addr.IP)
				if ip == nil || seen[ip.String()] {
					continue
				}
				seen[ip.String()] = true
				ready = append(ready, ip)
			}
		}
	}
	if len(ready) == 0 {
		return nil
	}
	if len(svc.ClusterIPs) > 0 && svc.ClusterIPs[0] == api.ClusterIPNone {
		return ready
	}
	var ips []net.IP
	for _, s := range svc.ClusterIPs {
		if ip := net.ParseIP(s); ip != nil {
			ips = append(ips, ip)
		}
	}
	return ips
}

func (c kubernetesCluster) ttl() uint32 { return c.k.MinTTL(request.Request{}) }

func (c kubernetesCluster) soa(ctx context.Context, clusterDomain string, state request.Request) []dns.RR {
	state.Zone = clusterDomain
	rrs, _ := plugin.SOA(ctx, c.k, clusterDomain, state, plugin.Options{})
	return rrs
}
