package propagation

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/federatedtypes"
)

// reconcile brings every member in line with the federated object key:
// select the clusters, plan each one's share, write the members, delete
// from the clusters no longer selected, and record the outcome (status,
// events, Propagation).
func (c *Controller) reconcile(ctx context.Context, key string) error {
	fed, err := c.federated(key)
	switch {
	case err != nil:
		return err
	case fed == nil && c.releaseOnly:
		return nil
	case fed == nil:
		return c.removeOrphans(ctx, key)
	case c.adapter.Skips(federatedtypes.IdentityOf(fed)):
		return nil
	case c.releaseOnly:
		return c.releaseWithoutMembers(ctx, fed)
	case fed.GetDeletionTimestamp() != nil:
		return c.finalize(ctx, fed)
	}
	if fed, err = c.ensureFinalizer(ctx, fed); err != nil {
		return err
	}
	if err := c.readyToAct(); err != nil {
		return err
	}
	ready := c.readyClusters()
	selected, err := c.selectedClusters(fed, ready)
	if err != nil {
		c.recorder.Eventf(fed, corev1.EventTypeWarning, ReasonFailedInCluster, "Cannot select clusters: %v", err)
		return nil
	}
	if err := c.membersSynced(selected); err != nil {
		return err
	}
	splits, err := c.plan(fed, key, selected)
	if err != nil {
		c.recorder.Eventf(fed, corev1.EventTypeWarning, ReasonFailedInCluster, "Cannot plan replicas: %v", err)
		return nil
	}
	writes := make([]*clusterclient.Write, len(selected))
	for i, cl := range selected {
		writes[i] = c.writeMember(ctx, fed, cl, key, splits[cl])
	}
	errs := []error{c.deleteDeselected(ctx, fed, ready, selected)}
	results := c.members.Wait(writes)

	members, outcomes, err := c.collect(key, ready, selected, results)
	errs = append(errs, err)
	c.recordWrites(fed, selected, results)
	if c.adapter.HasStatus && c.adapter.AggregateStatus != nil {
		errs = append(errs, c.updateStatus(ctx, fed, selected, members))
	}
	c.recordPropagationLater(ctx, key, fed, outcomes)
	return errors.Join(errs...)
}

// federated returns the federated object key from the cache, nil if the
// federation no longer has it.
func (c *Controller) federated(key string) (*unstructured.Unstructured, error) {
	obj, exists, err := c.fed.GetIndexer().GetByKey(key)
	if err != nil || !exists {
		return nil, err
	}
	return obj.(*unstructured.Unstructured), nil
}

// ensureFinalizer puts the federation's finalizer on fed if it lacks it,
// and goes on with the updated object: one pass per object.
func (c *Controller) ensureFinalizer(ctx context.Context, fed *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	return controller.AddFinalizer(ctx, c.resource().Namespace(fed.GetNamespace()), fed, Finalizer)
}

// readyToAct waits out the moment right after a start, when clusters
// whose stored status is Ready have not been probed yet and member caches
// are still filling. Acting then would plan replicas onto whichever
// cluster answered first and write statuses summed over nobody.
func (c *Controller) readyToAct() error {
	if controller.Settling(c.clusters, c.cctx.Clusters) {
		return fmt.Errorf("%w: waiting for the first probe of every Ready cluster", clusterclient.ErrNotSynced)
	}
	return nil
}

// membersSynced says every selected cluster's informer has its first list.
func (c *Controller) membersSynced(selected []string) error {
	for _, cl := range selected {
		if !c.members.Synced(cl) {
			return fmt.Errorf("%w: cache of %s in cluster %s not synced yet", clusterclient.ErrNotSynced, c.adapter.GVR.Resource, cl)
		}
	}
	return nil
}

// readyClusters are the names of the Ready member clusters, sorted.
func (c *Controller) readyClusters() []string {
	ready := c.cctx.Clusters.Ready()
	names := make([]string, len(ready))
	for i, cl := range ready {
		names[i] = cl.Name
	}
	return names
}

// selectedClusters are the Ready clusters whose labels match the object's
// cluster selector (all Ready clusters without one), sorted by name.
func (c *Controller) selectedClusters(fed *unstructured.Unstructured, ready []string) ([]string, error) {
	selector, err := controller.ClusterSelector(fed.GetAnnotations())
	if err != nil {
		return nil, err
	}
	var out []string
	for _, name := range ready {
		obj, err := c.clusters.Get(name)
		if err != nil {
			continue
		}
		if selector.Matches(labels.Set(obj.Labels)) {
			out = append(out, name)
		}
	}
	return out, nil
}

// collect sorts the members' answers into the copies they now have (for
// status), each cluster's outcome (for the Propagation), and the errors
// to retry with backoff.
func (c *Controller) collect(key string, ready, selected []string, results []clusterclient.WriteResult) (map[string]*unstructured.Unstructured, map[string]clusterOutcome, error) {
	members := map[string]*unstructured.Unstructured{}
	outcomes := map[string]clusterOutcome{}
	for _, cl := range ready {
		outcomes[cl] = clusterOutcome{selected: false}
	}
	var errs []error
	slow := false
	for i, cl := range selected {
		r := results[i]
		outcomes[cl] = clusterOutcome{selected: true, err: r.Err, member: r.Member}
		switch {
		case errors.Is(r.Err, clusterclient.ErrSlowMember):
			slow = true
		case errors.As(r.Err, new(heldError)):
			// The gate syncs the object again when the hold lifts.
		case r.Err != nil:
			errs = append(errs, fmt.Errorf("cluster %s: %w", cl, r.Err))
		}
		if r.Member != nil {
			members[cl] = r.Member
		}
	}
	if slow {
		// The write's end, or a free slot, syncs the object again; this
		// is only the backstop.
		c.backstops.arm(key, c.backstop())
	}
	return members, outcomes, errors.Join(errs...)
}

func (c *Controller) resource() dynamic.NamespaceableResourceInterface {
	return c.cctx.DynamicClient.Resource(c.adapter.GVR)
}
