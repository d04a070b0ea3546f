package ingressdns

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/controller/dnsrecords"
	"github.com/kfederation/federation/pkg/dnsprovider"
)

// Finalizer keeps a deleted federated Ingress until its DNS records are
// gone: without it, an Ingress deleted while the provider is down would
// leave its hosts pointing at members that no longer serve them.
const Finalizer = "federation.k8s.io/delete-ingress-dns-records"

// Event reasons on federated Ingresses: those of every DNS controller, and
// Ingress DNS's own.
const (
	ReasonRecordsUpdated = dnsrecords.ReasonRecordsUpdated
	ReasonUpdateFailed   = dnsrecords.ReasonUpdateFailed
	ReasonNameConflict   = dnsrecords.ReasonNameConflict
	ReasonInvalid        = "DNSInvalidIngress"
	ReasonHostSkipped    = "DNSHostSkipped"
)

// reconcile brings the zone in line with the federated Ingress key: the
// records its hosts' healthy members call for, none once it is deleted,
// and its finalizer off after that.
func (c *Controller) reconcile(ctx context.Context, key string) error {
	obj, ing, err := c.ingress(key)
	switch {
	case err != nil:
		return err
	case c.zone == nil:
		return c.releaseFinalizer(ctx, obj)
	case ing == nil:
		c.forgetSkipped(key)
		return c.publish(ctx, key, nil, nil, nil)
	case ing.DeletionTimestamp != nil:
		if err := c.publish(ctx, key, obj, ing, nil); err != nil {
			return err
		}
		return c.releaseFinalizer(ctx, obj)
	}
	if controller.Settling(c.clusters, c.registry) {
		return fmt.Errorf("%w: waiting for the first probe of every Ready cluster", dnsrecords.ErrPending)
	}
	desired, recheck, err := c.desired(ctx, obj, ing)
	if errors.Is(err, dnsrecords.ErrInvalid) {
		c.recorder.Eventf(obj, corev1.EventTypeWarning, ReasonInvalid, "DNS records left as they are: %v", err)
		return nil
	}
	if err != nil {
		return err
	}
	if len(desired) > 0 {
		if obj, err = c.ensureFinalizer(ctx, obj); err != nil {
			return err
		}
	}
	if err := c.publish(ctx, key, obj, ing, desired); err != nil {
		return err
	}
	if recheck > 0 {
		c.queue.AddAfter(key, recheck)
	}
	return nil
}

// ingress returns the federated Ingress key from the cache, both as
// stored and typed; nils if the federation no longer has it.
func (c *Controller) ingress(key string) (*unstructured.Unstructured, *networkingv1.Ingress, error) {
	item, exists, err := c.ingresses.GetIndexer().GetByKey(key)
	if err != nil || !exists {
		return nil, nil, err
	}
	obj := item.(*unstructured.Unstructured)
	ing := &networkingv1.Ingress{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, ing); err != nil {
		return nil, nil, fmt.Errorf("Ingress %s: %w", key, err)
	}
	return obj, ing, nil
}

// desired returns the record sets the Ingress should have now: none for
// the Ingresses the global load balancer takes, else one name per host in
// the zone, pointing at the members healthy for it.
func (c *Controller) desired(ctx context.Context, obj *unstructured.Unstructured, ing *networkingv1.Ingress) ([]dnsprovider.RecordSet, time.Duration, error) {
	if c.opts.LeaveGCEIngresses && controller.IsGCEIngress(ing, c.classController, true) {
		return nil, 0, nil
	}
	hosts, skipped := Hosts(ing, c.zone.Name())
	c.reportSkipped(obj, skipped)
	if len(hosts) == 0 {
		return nil, 0, nil
	}
	members, recheck, err := c.observe(ctx, ing, hosts)
	if err != nil {
		return nil, 0, err
	}
	return Desired(hosts, c.opts.TTL, members), recheck, nil
}

// observe returns what each joined cluster the Ingress's cluster selector
// matches says of it, sorted by cluster. recheck, when not zero, asks for
// the Ingress to be looked at again after that long: a member's grace
// period ends then, or host names are due to be resolved anew.
func (c *Controller) observe(ctx context.Context, ing *networkingv1.Ingress, hosts []string) (out []Member, recheck time.Duration, err error) {
	clusters, err := dnsrecords.SelectedClusters(c.clusters, ing.Annotations)
	if err != nil {
		return nil, 0, err
	}
	ttl := time.Duration(c.opts.TTL) * time.Second
	for _, cl := range clusters {
		ready, wait := c.health.Ready(cl.Name, c.members.Ready(cl.Name))
		recheck = dnsrecords.Earliest(recheck, wait)
		m := Member{Cluster: cl.Name, Ready: ready}
		if ready {
			if err := c.observeMember(&m, ing, hosts); err != nil {
				return nil, 0, err
			}
		}
		if len(m.Serving) > 0 && len(m.Address.Hostnames) > 0 {
			m.Address.HostAddresses = c.resolver.Addresses(ctx, m.Address.Hostnames, ttl)
			recheck = dnsrecords.Earliest(recheck, ttl)
		}
		c.logger.V(4).Info("Member observed", "cluster", cl.Name, "ingress", ing.Namespace+"/"+ing.Name,
			"ready", ready, "ips", m.Address.IPs, "hostnames", m.Address.Hostnames, "serving", m.Serving)
		out = append(out, m)
	}
	return out, recheck, nil
}

// observeMember fills in what the member has of the Ingress: its address,
// and the hosts it serves (a backend of theirs has a ready endpoint there).
func (c *Controller) observeMember(m *Member, ing *networkingv1.Ingress, hosts []string) error {
	if !c.members.Synced(m.Cluster) {
		return fmt.Errorf("%w: Ingresses and EndpointSlices of cluster %s", clusterclient.ErrNotSynced, m.Cluster)
	}
	copy, err := c.members.Ingress(m.Cluster, ing.Namespace, ing.Name)
	if err != nil || copy == nil {
		return err
	}
	for _, in := range copy.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			m.Address.IPs = append(m.Address.IPs, in.IP)
		} else if in.Hostname != "" {
			m.Address.Hostnames = append(m.Address.Hostnames, in.Hostname)
		}
	}
	if m.Address.Empty() {
		return nil
	}
	ready := map[string]bool{} // by Service, read once per sync
	for _, h := range hosts {
		services, other := Backends(ing, h)
		serving := other
		for _, svc := range services {
			if serving {
				break
			}
			r, ok := ready[svc]
			if !ok {
				if r, err = c.members.ReadyEndpoint(m.Cluster, ing.Namespace, svc); err != nil {
					return err
				}
				ready[svc] = r
			}
			serving = r
		}
		if serving {
			m.Serving = append(m.Serving, h)
		}
	}
	return nil
}

// publish makes the zone hold desired for key, and tells the Ingress (obj,
// nil once it is gone) what changed.
func (c *Controller) publish(ctx context.Context, key string, obj *unstructured.Unstructured, ing *networkingv1.Ingress, desired []dnsprovider.RecordSet) error {
	return c.writer.Publish(ctx, c.zone, key, obj, desired, func() []string {
		// Going away and not sure what it owns: the hosts it has now.
		// Those it had before are in the cache, or found by the sweep.
		if ing == nil {
			return nil
		}
		hosts, _ := Hosts(ing, c.zone.Name())
		return hosts
	})
}

// reportSkipped tells the Ingress which of its hosts get no record and
// why, when that changes.
func (c *Controller) reportSkipped(obj *unstructured.Unstructured, skipped []Skipped) {
	var hosts []string
	for _, s := range skipped {
		hosts = append(hosts, s.Host)
	}
	slices.Sort(hosts)
	key := obj.GetNamespace() + "/" + obj.GetName()
	c.skippedMu.Lock()
	before := c.skipped[key]
	now := strings.Join(hosts, ",")
	if now == "" {
		delete(c.skipped, key)
	} else {
		c.skipped[key] = now
	}
	c.skippedMu.Unlock()
	if now == before {
		return
	}
	for _, s := range skipped {
		kind := corev1.EventTypeNormal
		if s.Surprising {
			kind = corev1.EventTypeWarning
		}
		c.recorder.Eventf(obj, kind, ReasonHostSkipped, "Host %s gets no DNS record: %s", s.Host, s.Why)
	}
}

func (c *Controller) forgetSkipped(key string) {
	c.skippedMu.Lock()
	defer c.skippedMu.Unlock()
	delete(c.skipped, key)
}

// ensureFinalizer puts Finalizer on the Ingress before its first record
// is written.
func (c *Controller) ensureFinalizer(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	return controller.AddFinalizer(ctx, c.resource(obj), obj, Finalizer)
}

// releaseFinalizer takes Finalizer off a deleted Ingress.
func (c *Controller) releaseFinalizer(ctx context.Context, obj *unstructured.Unstructured) error {
	if obj == nil || obj.GetDeletionTimestamp() == nil || !slices.Contains(obj.GetFinalizers(), Finalizer) {
		return nil
	}
	return controller.RemoveFinalizers(ctx, c.resource(obj), obj, func(f string) bool { return f == Finalizer })
}
