package propagation

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller"
)

// Reasons in a Propagation's cluster entries.
const (
	ReasonPropagated      = "Propagated"
	ReasonClusterNotReady = "ClusterNotReady"
	ReasonNotSelected     = "NotSelected"
	ReasonWaiting         = "Waiting"
	ReasonMemberRejected  = "MemberRejected"
)

// propagationName is where the state of a federated object is kept: its
// lower-case kind and name, in its namespace. A Namespace's is in itself, so
// that it goes with it. Any other cluster-scoped object (an IngressClass)
// has no namespace of its own: its Propagation is in federation-system,
// which always exists and from which nothing is propagated, so that no
// other Propagation is kept there to clash with it.
func propagationName(kind, objNamespace, objName string) (namespace, name string) {
	switch {
	case objNamespace != "":
		namespace = objNamespace
	case kind == "Namespace":
		namespace = objName
	default:
		namespace = federationv1beta1.FederationSystemNamespace
	}
	return namespace, strings.ToLower(kind) + "." + objName
}

// clusterOutcome is what one sync did in one cluster.
type clusterOutcome struct {
	selected bool
	err      error
	// member is the cluster's copy as it now is, if it has one.
	member *unstructured.Unstructured
}

// recordPropagationLater records the outcomes of a sync of key behind the
// member writes (see trailing); a newer sync's outcomes replace them if
// they have not been written yet.
func (c *Controller) recordPropagationLater(ctx context.Context, key string, fed *unstructured.Unstructured, outcomes map[string]clusterOutcome) {
	stillThere := func() bool {
		cur, exists, err := c.fed.GetIndexer().GetByKey(key)
		return err == nil && exists && cur.(metav1.Object).GetUID() == fed.GetUID()
	}
	c.trail.add(propagationKey(key), func() {
		if !stillThere() {
			return
		}
		ctx, cancel := context.WithTimeout(ctx, c.cctx.MemberRequestTimeout)
		defer cancel()
		err := c.recordPropagation(ctx, fed, outcomes)
		switch {
		case pending(err):
			c.queue.wakeAfter(key, time.Second, wakePending)
		case err != nil:
			c.logger.Error(err, "Cannot record the propagation state; retrying", "object", key)
			c.queue.retry(key)
		case !stillThere():
			// The object went while its Propagation was being written.
			namespace, name := propagationName(c.adapter.Kind, fed.GetNamespace(), fed.GetName())
			if err := c.forgetPropagation(ctx, namespace, name); err != nil {
				c.queue.retry(key)
			}
		}
	})
}

func propagationKey(objectKey string) string { return "propagation/" + objectKey }

// recordPropagation writes where fed went, cluster by cluster, when that
// changed: the answer to "why did my object not propagate?".
func (c *Controller) recordPropagation(ctx context.Context, fed *unstructured.Unstructured, outcomes map[string]clusterOutcome) error {
	if fed.GetKind() == "Namespace" && fed.GetDeletionTimestamp() != nil {
		return nil
	}
	namespace, name := propagationName(fed.GetKind(), fed.GetNamespace(), fed.GetName())
	clusters, err := c.clusters.List(labels.Everything())
	if err != nil {
		return err
	}
	sort.Slice(clusters, func(i, j int) bool { return clusters[i].Name < clusters[j].Name })
	old, err := c.propagations.Propagations(namespace).Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	old = c.written.Newest(namespace+"/"+name, old)
	previous := map[string]federationv1beta1.ClusterPropagation{}
	if old != nil {
		for _, e := range old.Status.Clusters {
			previous[e.Cluster] = e
		}
	}
	now := metav1.Now()
	status := federationv1beta1.PropagationStatus{
		Object:     federationv1beta1.PropagatedObjectReference{APIVersion: fed.GetAPIVersion(), Kind: fed.GetKind(), Name: fed.GetName()},
		Generation: fed.GetGeneration(),
	}
	for _, cl := range clusters {
		e := federationv1beta1.ClusterPropagation{Cluster: cl.Name}
		o, known := outcomes[cl.Name]
		prev, hasPrev := previous[cl.Name]
		// Right after this process starts, the registry has not probed a
		// cluster the Cluster object still calls Ready, and member caches
		// are still filling: that is no news about the cluster, so the
		// last recorded state stands rather than flapping to Pending.
		if hasPrev && ((!known && controller.ClusterCallsItselfReady(cl)) || (known && errors.Is(o.err, clusterclient.ErrNotSynced))) {
			status.Clusters = append(status.Clusters, prev)
			continue
		}
		switch {
		case !known:
			e.State, e.Reason, e.Message = federationv1beta1.PropagationPending, ReasonClusterNotReady, "the cluster is not Ready; the object goes there when it is"
			e.Generation = previous[cl.Name].Generation
		case !o.selected:
			e.State, e.Reason, e.Message = federationv1beta1.PropagationExcluded, ReasonNotSelected, "the object's cluster selector does not match this cluster's labels"
		case o.err == nil:
			e.State, e.Reason, e.Generation = federationv1beta1.PropagationPropagated, ReasonPropagated, fed.GetGeneration()
		case pending(o.err):
			e.State, e.Reason, e.Message = federationv1beta1.PropagationPending, ReasonWaiting, o.err.Error()
			e.Generation = previous[cl.Name].Generation
		default:
			e.State, e.Reason, e.Message = federationv1beta1.PropagationFailed, ReasonMemberRejected, o.err.Error()
			e.Generation = previous[cl.Name].Generation
		}
		if o.member != nil && len(c.adapter.Replicas) > 0 {
			if r, ok, _ := unstructured.NestedInt64(o.member.Object, c.adapter.Replicas...); ok {
				e.Replicas = &r
			}
			if len(c.adapter.ReadyReplicas) > 0 {
				ready, _, _ := unstructured.NestedInt64(o.member.Object, c.adapter.ReadyReplicas...)
				e.ReadyReplicas = &ready
			}
		}
		e.LastTransitionTime = now
		if hasPrev && prev.State == e.State {
			e.LastTransitionTime = prev.LastTransitionTime
		}
		status.Clusters = append(status.Clusters, e)
	}
	if old != nil {
		if equality.Semantic.DeepEqual(old.Status, status) {
			return nil
		}
		cp := old.DeepCopy()
		cp.Status = status
		written, err := c.cctx.FedClient.FederationV1beta1().Propagations(namespace).Update(ctx, cp, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			return fmt.Errorf("%w: propagation %s/%s changed", errPending, namespace, name)
		}
		c.written.Wrote(namespace+"/"+name, written)
		return err
	}
	p := &federationv1beta1.Propagation{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Status: status}
	written, err := c.cctx.FedClient.FederationV1beta1().Propagations(namespace).Create(ctx, p, metav1.CreateOptions{})
	c.written.Wrote(namespace+"/"+name, written)
	if apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("%w: propagation %s/%s not in cache yet", errPending, namespace, name)
	}
	if apierrors.IsForbidden(err) || apierrors.IsNotFound(err) {
		// The namespace is going away; so will the object.
		return nil
	}
	return err
}

// forgetPropagationOf deletes the Propagation of the object key, which
// the federation no longer has, and any write of it still waiting.
func (c *Controller) forgetPropagationOf(ctx context.Context, key string) error {
	c.trail.cancel(propagationKey(key))
	objNamespace, objName, _ := cache.SplitMetaNamespaceKey(key)
	namespace, name := propagationName(c.adapter.Kind, objNamespace, objName)
	if _, err := c.propagations.Propagations(namespace).Get(name); err != nil {
		return nil
	}
	return c.forgetPropagation(ctx, namespace, name)
}

// forgetPropagation deletes the Propagation of an object that is gone.
func (c *Controller) forgetPropagation(ctx context.Context, namespace, name string) error {
	c.written.Forget(namespace + "/" + name)
	err := c.cctx.FedClient.FederationV1beta1().Propagations(namespace).Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}
