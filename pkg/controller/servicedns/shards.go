package servicedns

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller/dnsrecords"
)

// shards returns the federated Service's shards, one per joined cluster
// its cluster selector matches, sorted by cluster: a cluster that is down
// still has zone and region names, which then point up a level. recheck,
// when not zero, asks for the Service to be looked at again after that
// long: a member's grace period ends then, or host names are due to be
// resolved anew.
func (c *Controller) shards(ctx context.Context, svc *corev1.Service, ttl time.Duration) (out []Shard, recheck time.Duration, err error) {
	clusters, err := dnsrecords.SelectedClusters(c.clusters, svc.Annotations)
	if err != nil {
		return nil, 0, err
	}
	for _, cl := range clusters {
		ready, wait := c.health.Ready(cl.Name, c.members.Ready(cl.Name))
		recheck = dnsrecords.Earliest(recheck, wait)
		s := Shard{Cluster: cl.Name, Zones: cl.Status.Zones, Region: cl.Status.Region}
		if ready {
			if err := c.observe(&s, svc); err != nil {
				return nil, 0, err
			}
		}
		if s.Healthy && len(s.Hostnames) > 0 {
			s.HostAddresses = c.resolver.Addresses(ctx, s.Hostnames, ttl)
			recheck = dnsrecords.Earliest(recheck, ttl)
		}
		out = append(out, s)
	}
	return out, recheck, nil
}

// observe fills in what the member has of the Service: its load
// balancer's addresses, and whether it is healthy (has a ready endpoint
// and an address).
func (c *Controller) observe(s *Shard, svc *corev1.Service) error {
	if !c.members.Synced(s.Cluster) {
		return fmt.Errorf("%w: Services and EndpointSlices of cluster %s", clusterclient.ErrNotSynced, s.Cluster)
	}
	copy, err := c.members.Service(s.Cluster, svc.Namespace, svc.Name)
	if err != nil || copy == nil {
		return err
	}
	for _, in := range copy.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			s.IPs = append(s.IPs, in.IP)
		} else if in.Hostname != "" {
			s.Hostnames = append(s.Hostnames, in.Hostname)
		}
	}
	endpoint, err := c.members.ReadyEndpoint(s.Cluster, svc.Namespace, svc.Name)
	if err != nil {
		return err
	}
	s.Healthy = endpoint && (len(s.IPs) > 0 || len(s.Hostnames) > 0)
	return nil
}
