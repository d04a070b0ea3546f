package propagation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/federatedtypes"
)

// Why a member copy is deleted, as events say.
const (
	whyDeselected = "cluster no longer selected"
	whyDeleted    = "deleted from the federation"
)

// deleteDeselected deletes the copies of the Ready clusters that are no
// longer selected, and tells it in one event.
func (c *Controller) deleteDeselected(ctx context.Context, fed *unstructured.Unstructured, ready, selected []string) error {
	var deselected []string
	for _, cl := range ready {
		if !slices.Contains(selected, cl) {
			deselected = append(deselected, cl)
		}
	}
	return c.deleteFrom(ctx, fed, deselected, whyDeselected)
}

// deleteFrom deletes the managed copies of fed in clusters, each as one of
// the member's writes (see clusterclient.MemberWriter.Go: a member with
// every write slot taken gets no delete until one frees, so that deleting
// many objects at once does not swamp it), and tells in one event those
// that went, and why. A delete still running, or waiting for a slot, is an
// ErrSlowMember error: its end, or the free slot, syncs fed again.
func (c *Controller) deleteFrom(ctx context.Context, fed *unstructured.Unstructured, clusters []string, why string) error {
	if len(clusters) == 0 {
		// Every sync comes here for its deselected clusters, nearly
		// always none.
		return nil
	}
	key, _ := cache.MetaNamespaceKeyFunc(fed)
	writes := make([]*clusterclient.Write, len(clusters))
	for i, cl := range clusters {
		writes[i] = c.deleteMember(ctx, fed, cl, key, why)
	}
	var errs []error
	var deleted []string
	for i, r := range c.members.Wait(writes) {
		if r.Op == clusterclient.OpDeleted {
			deleted = append(deleted, clusters[i])
		}
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	c.recordDeleted(fed, deleted, why)
	return errors.Join(errs...)
}

// deleteMember starts deleting the cluster's managed copy of fed, if it has
// one, in the background.
func (c *Controller) deleteMember(ctx context.Context, fed *unstructured.Unstructured, cl, key, why string) *clusterclient.Write {
	return c.goDelete(ctx, cl, key, func(ctx context.Context, member *unstructured.Unstructured) clusterclient.WriteResult {
		uid := member.GetUID()
		err := c.members.Delete(ctx, cl, member, metav1.Preconditions{UID: &uid})
		if err != nil && !apierrors.IsNotFound(err) {
			return clusterclient.WriteResult{Err: c.failedErr(fed, cl, "delete", err)}
		}
		c.logger.V(2).Info("Deleted from cluster", "cluster", cl, "object", key, "reason", why)
		return clusterclient.WriteResult{Op: clusterclient.OpDeleted, Why: why}
	})
}

// goDelete starts del, a delete of the cluster's managed copy of key, as
// one of the member's writes, if the cluster has such a copy and no write
// of key runs there.
func (c *Controller) goDelete(ctx context.Context, cl, key string, del func(ctx context.Context, member *unstructured.Unstructured) clusterclient.WriteResult) *clusterclient.Write {
	if c.members.InFlight(cl, key) {
		return c.members.Slow(cl, key)
	}
	member, err := c.members.Cached(cl, key)
	switch {
	case err != nil:
		return clusterclient.Done(clusterclient.WriteResult{Err: err})
	case member == nil:
		c.members.NoWrite(cl, key)
		return clusterclient.Done(clusterclient.WriteResult{})
	}
	return c.members.Go(ctx, cl, key, func(ctx context.Context) clusterclient.WriteResult {
		return del(ctx, member)
	})
}

// recordDeleted tells in one event that the copies in clusters went, and
// why (whyDeselected or whyDeleted); nothing if none went.
func (c *Controller) recordDeleted(fed *unstructured.Unstructured, clusters []string, why string) {
	if len(clusters) > 0 {
		c.recorder.Eventf(fed, corev1.EventTypeNormal, ReasonDeleteInCluster, "Deleted from %s: %s", clusterList(clusters), why)
	}
}

// finalize handles a federated object being deleted: delete its member
// copies (or release them with propagationPolicy=Orphan), then let it go.
func (c *Controller) finalize(ctx context.Context, fed *unstructured.Unstructured) error {
	if !slices.Contains(fed.GetFinalizers(), Finalizer) {
		return nil
	}
	orphan := slices.Contains(fed.GetFinalizers(), metav1.FinalizerOrphanDependents)
	if !orphan && c.namespaceHoldsObjects(fed) {
		// A namespace's copies go last. While the federation empties it,
		// each object in it is deleted from the members by its own
		// controller; a member namespace deleted meanwhile would have the
		// member delete them as well, and the federation try to recreate
		// the copies it sees go.
		return fmt.Errorf("%w: namespace %s still has objects in the federation", errPending, fed.GetName())
	}
	var err error
	if orphan {
		err = c.releaseEverywhere(ctx, fed)
	} else {
		err = c.deleteFrom(ctx, fed, c.readyClusters(), whyDeleted)
	}
	if err != nil {
		return err
	}
	return c.dropFinalizers(ctx, fed)
}

// releaseEverywhere releases the copies of fed in every Ready cluster (see
// release), and tells in one event where they were left.
func (c *Controller) releaseEverywhere(ctx context.Context, fed *unstructured.Unstructured) error {
	names, err := c.everyReadyMember(func(cl string) (bool, error) {
		return c.release(ctx, fed, cl)
	})
	if len(names) > 0 {
		c.recorder.Eventf(fed, corev1.EventTypeNormal, ReasonDeleteInCluster, "Left in %s, unmanaged (propagationPolicy=Orphan)", clusterList(names))
	}
	return err
}

// everyReadyMember runs do for every Ready cluster at once (a slow one
// delays the others by nothing), and returns the clusters where do did
// something, sorted, and the errors.
func (c *Controller) everyReadyMember(do func(cl string) (bool, error)) ([]string, error) {
	clusters := c.readyClusters()
	done := make([]bool, len(clusters))
	errs := make([]error, len(clusters))
	var wg sync.WaitGroup
	for i, cl := range clusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done[i], errs[i] = do(cl)
		}()
	}
	wg.Wait()
	var names []string
	for i, cl := range clusters {
		if done[i] {
			names = append(names, cl)
		}
	}
	return names, errors.Join(errs...)
}

// release strips the federation's marks from a member copy so that it
// stays, unmanaged, after the federated object is deleted with Orphan;
// released says there was a copy.
func (c *Controller) release(ctx context.Context, fed *unstructured.Unstructured, cl string) (released bool, err error) {
	key, _ := cache.MetaNamespaceKeyFunc(fed)
	member, err := c.members.Cached(cl, key)
	if err != nil || member == nil {
		return false, err
	}
	if err := c.members.Release(ctx, cl, member, unmanaged); err != nil {
		return false, c.failedErr(fed, cl, "orphan", err)
	}
	return true, nil
}

// namespaceHoldsObjects says fed is a Namespace in which the federation
// still has objects of a kind it propagates.
func (c *Controller) namespaceHoldsObjects(fed *unstructured.Unstructured) bool {
	if fed.GetKind() != "Namespace" {
		return false
	}
	for _, a := range federatedtypes.All() {
		if !a.Namespaced {
			continue
		}
		objs, err := c.cctx.DynamicInformers.ForResource(a.GVR).Lister().ByNamespace(fed.GetName()).List(labels.Everything())
		if err != nil {
			continue
		}
		for _, o := range objs {
			if u, ok := o.(*unstructured.Unstructured); ok && !a.Skips(federatedtypes.IdentityOf(u)) {
				return true
			}
		}
	}
	return false
}

// releaseWithoutMembers is all a release-only controller does: let a
// deleted object go without touching member clusters.
func (c *Controller) releaseWithoutMembers(ctx context.Context, fed *unstructured.Unstructured) error {
	if fed.GetDeletionTimestamp() == nil || !slices.Contains(fed.GetFinalizers(), Finalizer) {
		return nil
	}
	c.logger.Info("Controller disabled: letting the object go without touching member clusters", "object", fed.GetNamespace()+"/"+fed.GetName())
	return c.dropFinalizers(ctx, fed)
}

// dropFinalizers lets a deleted federated object go.
func (c *Controller) dropFinalizers(ctx context.Context, fed *unstructured.Unstructured) error {
	// This controller plays the garbage collector for federated objects:
	// with no dependents inside the federation, the orphan and foreground
	// finalizers have nothing left to wait for.
	return controller.RemoveFinalizers(ctx, c.resource().Namespace(fed.GetNamespace()), fed, func(f string) bool {
		return f == Finalizer || f == metav1.FinalizerOrphanDependents || f == metav1.FinalizerDeleteDependents
	})
}

// removeOrphans deletes managed member copies of an object the federation
// no longer has, e.g. one deleted while a member was unreachable, and the
// record of where it went. The deletes are member writes, as deleteFrom's
// are: all members at once, each within its allowance.
func (c *Controller) removeOrphans(ctx context.Context, key string) error {
	errs := []error{c.forgetPropagationOf(ctx, key)}
	clusters := c.readyClusters()
	writes := make([]*clusterclient.Write, len(clusters))
	for i, cl := range clusters {
		writes[i] = c.deleteOrphan(ctx, cl, key)
	}
	for _, r := range c.members.Wait(writes) {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	return errors.Join(errs...)
}

// deleteOrphan starts deleting the cluster's managed copy of key, which the
// federation no longer has, in the background.
func (c *Controller) deleteOrphan(ctx context.Context, cl, key string) *clusterclient.Write {
	return c.goDelete(ctx, cl, key, func(ctx context.Context, member *unstructured.Unstructured) clusterclient.WriteResult {
		uid, rv := member.GetUID(), member.GetResourceVersion()
		// The resourceVersion precondition makes sure the copy is still
		// the managed one in the cache: a copy just released by an
		// orphaning delete has been updated since, and must stay.
		err := c.members.Delete(ctx, cl, member, metav1.Preconditions{UID: &uid, ResourceVersion: &rv})
		switch {
		case apierrors.IsConflict(err):
			return clusterclient.WriteResult{Err: fmt.Errorf("%w: cluster %s: %s changed since it was cached", errPending, cl, key)}
		case err != nil && !apierrors.IsNotFound(err):
			return clusterclient.WriteResult{Err: fmt.Errorf("cluster %s: delete %s, which the federation no longer has: %w", cl, key, err)}
		}
		c.logger.Info("Deleted a member copy the federation no longer has", "cluster", cl, "object", key)
		return clusterclient.WriteResult{Op: clusterclient.OpDeleted}
	})
}
