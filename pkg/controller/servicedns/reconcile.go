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
	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/dnsprovider"
)

// Finalizer keeps a deleted federated Service until its DNS records are
// gone: without it, a Service deleted while the provider is down would
// leave records pointing at load balancers that no longer serve it.
const Finalizer = "federation.k8s.io/delete-dns-records"

// Event reasons on federated Services.
const (
	ReasonRecordsUpdated = "DNSRecordsUpdated"
	ReasonUpdateFailed   = "DNSUpdateFailed"
	ReasonNameConflict   = "DNSNameConflict"
	ReasonInvalid        = "DNSInvalidService"
)

// providerTimeout bounds one request to the DNS provider, so that a
// provider that hangs holds a worker no longer than this.
const providerTimeout = 10 * time.Second

// errPending marks a Service that cannot be handled yet (members not
// probed or not listed yet); it is retried soon, without an event.
var errPending = errors.New("pending")

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
		return fmt.Errorf("%w: waiting for the first probe of every Ready cluster", errPending)
	}
	desired, recheck, err := c.desired(ctx, svc)
	if errors.Is(err, errInvalid) {
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
			return nil, 0, fmt.Errorf("%w: annotation %s: %v", errInvalid, annotations.DNSTTL, err)
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

// publish makes the zone hold desired for key, owned by the federation,
// in one change, and tells the Service (obj, nil once it is gone) what
// changed. It costs nothing when the cache says the zone holds desired
// already.
func (c *Controller) publish(ctx context.Context, key string, obj *unstructured.Unstructured, desired []dnsprovider.RecordSet) error {
	known, sure := c.owned.get(key)
	if sure && len(known.conflicts) == 0 && sameSets(known.sets, desired) {
		return nil
	}
	owner := dnsprovider.Owner{Federation: c.federation, Object: ownerObject(key)}
	look := names(desired, known.sets)
	if !sure && desired == nil {
		// Going away and the cache cannot say what it has: look at
		// every name it could have.
		look = names(desired, known.sets, c.everyName(key))
	}
	current, err := c.read(ctx, look)
	if err != nil {
		c.owned.doubt(key)
		if obj != nil {
			c.recorder.Eventf(obj, corev1.EventTypeWarning, ReasonUpdateFailed, "Cannot read DNS records in zone %s: %v", c.zone.Name(), err)
		}
		return err
	}
	change, conflicts := Diff(owner, current, desired)
	if !change.IsEmpty() {
		if err := c.apply(ctx, change); err != nil {
			c.owned.doubt(key)
			if obj != nil && !errors.Is(err, dnsprovider.ErrConflict) {
				c.recorder.Eventf(obj, corev1.EventTypeWarning, ReasonUpdateFailed, "Cannot update DNS records in zone %s: %v", c.zone.Name(), err)
			}
			return fmt.Errorf("apply the change of %s in zone %s: %w", key, c.zone.Name(), err)
		}
		c.logger.V(2).Info("Updated DNS records", "service", key, "change", describe(change))
		if obj != nil {
			c.recorder.Eventf(obj, corev1.EventTypeNormal, ReasonRecordsUpdated, "%s", describe(change))
		}
	}
	c.reportConflicts(obj, known.conflicts, conflicts)
	c.owned.set(key, ownedEntry{sets: ours(owner, current, change), conflicts: conflictNames(conflicts)})
	return nil
}

// everyName returns a record set at each name the Service key could have
// with the clusters joined now: the global name, and each region and zone.
func (c *Controller) everyName(key string) []dnsprovider.RecordSet {
	namespace, name, _ := strings.Cut(key, "/")
	svc := Service{Name: name, Namespace: namespace, Federation: c.federation, Suffix: c.opts.Suffix}
	out := []dnsprovider.RecordSet{{Name: svc.GlobalName()}}
	clusters, _ := c.clusters.List(labels.Everything())
	for _, cl := range clusters {
		if cl.Status.Region == "" {
			continue
		}
		out = append(out, dnsprovider.RecordSet{Name: svc.RegionName(cl.Status.Region)})
		for _, z := range cl.Status.Zones {
			out = append(out, dnsprovider.RecordSet{Name: svc.ZoneName(z, cl.Status.Region)})
		}
	}
	return out
}

// read returns what the zone holds at names, every type and owner.
func (c *Controller) read(ctx context.Context, names []string) ([]dnsprovider.Owned, error) {
	var out []dnsprovider.Owned
	for _, n := range names {
		rctx, cancel := context.WithTimeout(ctx, providerTimeout)
		sets, err := c.zone.Get(rctx, n)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("read %s in zone %s: %w", n, c.zone.Name(), err)
		}
		out = append(out, sets...)
	}
	return out, nil
}

func (c *Controller) apply(ctx context.Context, change dnsprovider.Change) error {
	actx, cancel := context.WithTimeout(ctx, providerTimeout)
	defer cancel()
	return c.zone.Apply(actx, change)
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

// describe says what a change does, name by name, for an event:
// "nginx...svc.example.com. A 192.0.2.1,192.0.2.2; nginx...svc.us-central1.example.com. removed".
func describe(change dnsprovider.Change) string {
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

// reportConflicts warns on the Service when the names someone else holds
// change, and only then: a standing conflict is not repeated every sync.
func (c *Controller) reportConflicts(obj *unstructured.Unstructured, before []string, now []Conflict) {
	if obj == nil || len(now) == 0 || slices.Equal(before, conflictNames(now)) {
		return
	}
	for _, cf := range now {
		who := "a record set the federation does not own"
		if !cf.Theirs.Owner.IsZero() {
			who = fmt.Sprintf("records of %s in federation %s", cf.Theirs.Owner.Object, cf.Theirs.Owner.Federation)
		}
		c.recorder.Eventf(obj, corev1.EventTypeWarning, ReasonNameConflict,
			"%s is taken by %s (%s %s); the federation leaves it alone: remove it, or rename the Service", cf.Name, who, cf.Theirs.Type, strings.Join(cf.Theirs.Data, ","))
	}
}

func conflictNames(cs []Conflict) []string {
	var out []string
	for _, cf := range cs {
		out = append(out, cf.Name)
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

// pending says err is a wait, not a failure.
func pending(err error) bool {
	return errors.Is(err, errPending) || errors.Is(err, controller.ErrObjectChanged) || errors.Is(err, clusterclient.ErrNotSynced)
}
