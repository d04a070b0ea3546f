package servicedns

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kfederation/federation/pkg/apis/federation/annotations"
	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/controller/dnsrecords"
	"github.com/kfederation/federation/pkg/dnsprovider"
)

// Finalizer keeps a deleted federated Service until its DNS records are
// gone: without it, a Service deleted while the provider is down would
// leave records pointing at load balancers that no longer serve it.
const Finalizer = "federation.k8s.io/delete-dns-records"

// Event reasons on federated Services: those of every DNS controller, and
// one of Service DNS's own.
const (
	ReasonRecordsUpdated = dnsrecords.ReasonRecordsUpdated
	ReasonUpdateFailed   = dnsrecords.ReasonUpdateFailed
	ReasonNameConflict   = dnsrecords.ReasonNameConflict
	ReasonInvalid        = "DNSInvalidService"
)

// reconcile brings the zone in line with the federated Service key: the
// records its healthy shards call for, none once it is deleted, and its
// finalizer off after that.
func (c *Controller) reconcile(ctx context.Context, key string) error {
	obj, svc, err := c.service(key)
	switch {
	case err != nil:
		return err
	case c.zone == nil:
		return c.releaseFinalizer(ctx, obj)
	case svc == nil:
		return c.publish(ctx, key, nil, nil)
	case svc.DeletionTimestamp != nil:
		if err := c.publish(ctx, key, obj, nil); err != nil {
			return err
		}
		return c.releaseFinalizer(ctx, obj)
	}
	if controller.Settling(c.clusters, c.registry) {
		return fmt.Errorf("%w: waiting for the first probe of every Ready cluster", dnsrecords.ErrPending)
	}
	desired, recheck, err := c.desired(ctx, svc)
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
	if err := c.publish(ctx, key, obj, desired); err != nil {
		return err
	}
	if recheck > 0 {
		c.queue.AddAfter(key, recheck)
	}
	return nil
}

// service returns the federated Service key from the cache, both as
// stored and typed; nils if the federation no longer has it.
func (c *Controller) service(key string) (*unstructured.Unstructured, *corev1.Service, error) {
	item, exists, err := c.services.GetIndexer().GetByKey(key)
	if err != nil || !exists {
		return nil, nil, err
	}
	obj := item.(*unstructured.Unstructured)
	svc := &corev1.Service{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, svc); err != nil {
		return nil, nil, fmt.Errorf("Service %s: %w", key, err)
	}
	return obj, svc, nil
}

// desired returns the record sets the Service should have now. Only a
// Service of type LoadBalancer has any: its shards' load balancers are
// what the names point at.
func (c *Controller) desired(ctx context.Context, svc *corev1.Service) ([]dnsprovider.RecordSet, time.Duration, error) {
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return nil, 0, nil
	}
	ttl := c.opts.TTL
	if v, ok := svc.Annotations[annotations.DNSTTL]; ok {
		t, err := annotations.ParseDNSTTL(v)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: annotation %s: %v", dnsrecords.ErrInvalid, annotations.DNSTTL, err)
		}
		ttl = t
	}
	shards, recheck, err := c.shards(ctx, svc, time.Duration(ttl)*time.Second)
	if err != nil {
		return nil, 0, err
	}
	names := Service{Name: svc.Name, Namespace: svc.Namespace, Federation: c.federation, Suffix: c.opts.Suffix, TTL: ttl}
	return Desired(names, shards), recheck, nil
}

// publish makes the zone hold desired for key, and tells the Service (obj,
// nil once it is gone) what changed.
func (c *Controller) publish(ctx context.Context, key string, obj *unstructured.Unstructured, desired []dnsprovider.RecordSet) error {
	return c.writer.Publish(ctx, c.zone, key, obj, desired, func() []string { return c.everyName(key) })
}

// everyName returns each name the Service key could have with the clusters
// joined now: the global name, and each region and zone.
func (c *Controller) everyName(key string) []string {
	namespace, name, _ := strings.Cut(key, "/")
	svc := Service{Name: name, Namespace: namespace, Federation: c.federation, Suffix: c.opts.Suffix}
	out := []string{svc.GlobalName()}
	clusters, _ := c.clusters.List(labels.Everything())
	for _, cl := range clusters {
		if cl.Status.Region == "" {
			continue
		}
		out = append(out, svc.RegionName(cl.Status.Region))
		for _, z := range cl.Status.Zones {
			out = append(out, svc.ZoneName(z, cl.Status.Region))
		}
	}
	return out
}

// ensureFinalizer puts Finalizer on the Service before its first record
// is written.
func (c *Controller) ensureFinalizer(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	return controller.AddFinalizer(ctx, c.resource(obj), obj, Finalizer)
}

// releaseFinalizer takes Finalizer off a deleted Service.
func (c *Controller) releaseFinalizer(ctx context.Context, obj *unstructured.Unstructured) error {
	if obj == nil || obj.GetDeletionTimestamp() == nil || !slices.Contains(obj.GetFinalizers(), Finalizer) {
		return nil
	}
	return controller.RemoveFinalizers(ctx, c.resource(obj), obj, func(f string) bool { return f == Finalizer })
}
