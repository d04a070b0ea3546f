package servicedns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller"
)

// shards returns the federated Service's shards, one per joined cluster
// its cluster selector matches, sorted by cluster. recheck, when not zero,
// asks for the Service to be looked at again after that long: a member's
// grace period ends then, or host names are due to be resolved anew.
func (c *Controller) shards(ctx context.Context, svc *corev1.Service, ttl time.Duration) (out []Shard, recheck time.Duration, err error) {
	clusters, err := c.selected(svc)
	if err != nil {
		return nil, 0, err
	}
	for _, cl := range clusters {
		ready, wait := c.health.ready(cl.Name, c.members.Ready(cl.Name))
		recheck = earliest(recheck, wait)
		s := Shard{Cluster: cl.Name, Zones: cl.Status.Zones, Region: cl.Status.Region}
		if ready {
			if err := c.observe(&s, svc); err != nil {
				return nil, 0, err
			}
		}
		if s.Healthy && len(s.Hostnames) > 0 {
			s.HostAddresses = c.resolver.addresses(ctx, s.Hostnames, ttl)
			recheck = earliest(recheck, ttl)
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

// selected returns the joined clusters the Service's cluster selector
// matches (all of them without one), sorted by name, Ready or not: a
// cluster that is down still has zone and region names, which then point
// up a level.
func (c *Controller) selected(svc *corev1.Service) ([]*federationv1beta1.Cluster, error) {
	selector, err := controller.ClusterSelector(svc.Annotations)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errInvalid, err)
	}
	all, err := c.clusters.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	var out []*federationv1beta1.Cluster
	for _, cl := range all {
		if cl.DeletionTimestamp == nil && selector.Matches(labels.Set(cl.Labels)) {
			out = append(out, cl)
		}
	}
	slices.SortFunc(out, func(a, b *federationv1beta1.Cluster) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// errInvalid marks a Service whose own settings are wrong: retrying does
// not help, an event says what to fix.
var errInvalid = errors.New("invalid")

func earliest(a, b time.Duration) time.Duration {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

// health applies --dns-unhealthy-grace: a member that stops being Ready
// still counts as Ready for DNS until it has been down that long, so that
// a blip does not send every client elsewhere.
type health struct {
	grace time.Duration
	now   func() time.Time

	mu sync.Mutex
	// downSince is when each cluster was first seen not Ready.
	downSince map[string]time.Time
}

func newHealth(grace time.Duration) *health {
	return &health{grace: grace, now: time.Now, downSince: map[string]time.Time{}}
}

// ready says whether the cluster counts as Ready for DNS, and if it
// counts so only for its grace period, how long that has left.
func (h *health) ready(cluster string, ready bool) (bool, time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ready {
		delete(h.downSince, cluster)
		return true, 0
	}
	if h.grace <= 0 {
		return false, 0
	}
	since, ok := h.downSince[cluster]
	if !ok {
		since = h.now()
		h.downSince[cluster] = since
	}
	if left := h.grace - h.now().Sub(since); left > 0 {
		return true, left
	}
	return false, 0
}

// resolver resolves load balancers' host names, keeping each answer for
// the records' TTL.
type resolver struct {
	lookup func(ctx context.Context, host string) ([]string, error)
	now    func() time.Time

	mu      sync.Mutex
	answers map[string]resolved
}

type resolved struct {
	addrs []string
	at    time.Time
}

// lookupTimeout bounds one host name's resolution.
const lookupTimeout = 5 * time.Second

func newResolver() *resolver {
	return &resolver{lookup: net.DefaultResolver.LookupHost, now: time.Now, answers: map[string]resolved{}}
}

// addresses returns the addresses of hosts, resolving each at most once
// per ttl. A name that does not resolve contributes nothing; the next
// look, a ttl later, tries again.
func (r *resolver) addresses(ctx context.Context, hosts []string, ttl time.Duration) []string {
	var out []string
	for _, h := range hosts {
		r.mu.Lock()
		a, ok := r.answers[h]
		r.mu.Unlock()
		if !ok || r.now().Sub(a.at) >= ttl {
			lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
			addrs, _ := r.lookup(lctx, h)
			cancel()
			a = resolved{addrs: addrs, at: r.now()}
			r.mu.Lock()
			r.answers[h] = a
			r.mu.Unlock()
		}
		out = append(out, a.addrs...)
	}
	return out
}
