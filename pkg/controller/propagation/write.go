package propagation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"

	"github.com/kfederation/federation/pkg/clusterclient"
)

// writeMember starts bringing the cluster's copy of fed in line with its
// share, in the background (see clusterclient.MemberWriter.Go). A member
// whose copy is in line needs no write, and so no write slot: it is
// Propagated even while the member is busy with other objects' writes.
func (c *Controller) writeMember(ctx context.Context, fed *unstructured.Unstructured, cl, key string, share *split) *clusterclient.Write {
	if c.members.InFlight(cl, key) {
		// While a write of the object to this member runs, the cached
		// copy may be stale: the write's end syncs the object again.
		return c.members.Slow(cl, key)
	}
	if reason := c.held(fed, cl); reason != "" {
		member, err := c.members.Cached(cl, key)
		if err != nil {
			return clusterclient.Done(clusterclient.WriteResult{Err: err})
		}
		return clusterclient.Done(clusterclient.WriteResult{Member: member, Err: heldError{reason}})
	}
	member, desired, err := c.plannedCopy(fed, cl, key, share)
	if err != nil {
		return clusterclient.Done(clusterclient.WriteResult{Err: err})
	}
	if member != nil && upToDate(c.adapter, desired, member) {
		c.members.NoWrite(cl, key)
		return clusterclient.Done(clusterclient.WriteResult{Member: member})
	}
	return c.members.GoWhenFree(ctx, cl, key, func(ctx context.Context) clusterclient.WriteResult {
		start := time.Now()
		defer func() {
			memberSyncDuration.WithLabelValues(c.adapter.Name, cl).Observe(time.Since(start).Seconds())
		}()
		return c.syncCluster(ctx, fed, cl, member, desired)
	}, c.planHolds(key, fed))
}

// planHolds says whether a write planned from fed still holds: the
// federated object is unchanged, and no cluster, gate or placement change
// has come since (any of them may change what the cluster should have).
// A write that waits in a member's line starts by itself while its plan
// holds (see clusterclient.MemberWriter.GoWhenFree); otherwise the object
// syncs again.
func (c *Controller) planHolds(key string, fed *unstructured.Unstructured) func() bool {
	rv, epoch := fed.GetResourceVersion(), c.epoch.Load()
	return func() bool {
		cur, err := c.federated(key)
		return err == nil && cur != nil && cur.GetResourceVersion() == rv && c.epoch.Load() == epoch
	}
}

// held returns why the kind's gate holds fed back from cluster cl, "" if
// nothing does.
func (c *Controller) held(fed *unstructured.Unstructured, cl string) string {
	if c.gate == nil {
		return ""
	}
	return c.gate.Hold(fed, cl)
}

// plannedCopy returns the cluster's cached copy of key (nil if it has none)
// and the copy it should have, with the fields the member owns taken from
// its copy.
func (c *Controller) plannedCopy(fed *unstructured.Unstructured, cl, key string, share *split) (member, desired *unstructured.Unstructured, err error) {
	member, err = c.members.Cached(cl, key)
	if err != nil {
		return nil, nil, err
	}
	desired = desiredCopy(c.adapter, fed, c.cctx.FederationName, share)
	if member != nil && c.adapter.Retain != nil {
		c.adapter.Retain(desired, member)
	}
	return member, desired, nil
}

// syncCluster writes one member's copy, member as cached (nil if none), to
// match desired (see plannedCopy): it creates it, adopts a copy the member
// has that is not ours yet, or updates it from the member's own copy.
func (c *Controller) syncCluster(ctx context.Context, fed *unstructured.Unstructured, cl string, member, desired *unstructured.Unstructured) clusterclient.WriteResult {
	logger := c.logger.WithValues("cluster", cl, "object", desired.GetNamespace()+"/"+desired.GetName())
	live := false // whether member was read from the cluster, not the cache
	if member == nil {
		created, err := c.members.Create(ctx, cl, desired)
		switch {
		case err == nil:
			logger.V(2).Info("Created in cluster")
			return clusterclient.WriteResult{Member: created, Op: clusterclient.OpCreated}
		case apierrors.IsAlreadyExists(err):
			// Not ours yet: adopt the member's object by updating it.
			got, err := c.members.ReadLive(ctx, cl, desired)
			if err != nil {
				return c.failed(fed, cl, "adopt", err)
			}
			member, live = got, true
			if c.adapter.Retain != nil {
				c.adapter.Retain(desired, member)
			}
		case apierrors.IsNotFound(err) && c.adapter.Namespaced:
			// The namespace is not in the member yet; the namespace
			// controller is creating it.
			return clusterclient.WriteResult{Err: fmt.Errorf("%w: namespace %s not yet in cluster %s", errPending, fed.GetNamespace(), cl)}
		default:
			return c.failed(fed, cl, "create", err)
		}
	}
	if upToDate(c.adapter, desired, member) {
		return clusterclient.WriteResult{Member: member}
	}
	if !live {
		// The cache, fed over protobuf, holds only the fields the
		// federation's types know: the update starts from the member's own
		// copy, read over JSON, so that none of its other fields is lost.
		// The cached resourceVersion lets the member answer from its cache.
		got, err := c.members.ReadLive(ctx, cl, member)
		switch {
		case apierrors.IsNotFound(err):
			return clusterclient.WriteResult{Err: fmt.Errorf("%w: the copy in cluster %s went while being updated", errPending, cl)}
		case err != nil:
			return c.failed(fed, cl, "read", err)
		}
		if member = got; upToDate(c.adapter, desired, member) {
			return clusterclient.WriteResult{Member: member}
		}
	}
	updated, err := c.members.Update(ctx, cl, merged(c.adapter, desired, member))
	if apierrors.IsConflict(err) {
		return clusterclient.WriteResult{Err: fmt.Errorf("%w: conflict updating cluster %s", errPending, cl)}
	}
	if err != nil {
		return c.failed(fed, cl, "update", err)
	}
	logger.V(2).Info("Updated in cluster")
	return clusterclient.WriteResult{Member: updated, Op: clusterclient.OpUpdated}
}

// failed records the member's own error on the federated object and
// returns it for a retry with backoff.
func (c *Controller) failed(fed *unstructured.Unstructured, cl, op string, err error) clusterclient.WriteResult {
	return clusterclient.WriteResult{Err: c.failedErr(fed, cl, op, err)}
}

func (c *Controller) failedErr(fed *unstructured.Unstructured, cl, op string, err error) error {
	memberErrors.WithLabelValues(c.adapter.Name, cl, op).Inc()
	c.recorder.Eventf(fed, corev1.EventTypeWarning, ReasonFailedInCluster, "Cannot %s in cluster %s: %v", op, cl, err)
	return fmt.Errorf("%s in cluster %s: %w", op, cl, err)
}

// recordWrites tells in one event per kind of change what the writes did,
// naming the clusters, rather than one per cluster: fewer writes, and
// kubectl describe reads better. Writes of the object told later (left
// behind) join them if the bookkeeping has not run yet (see writesTold).
func (c *Controller) recordWrites(fed *unstructured.Unstructured, selected []string, results []clusterclient.WriteResult) {
	c.noteWrites(fed, selected, results, true)
}

// noteWrites notes what the writes did for the object's next event, and
// asks for the event if tell.
func (c *Controller) noteWrites(fed *unstructured.Unstructured, selected []string, results []clusterclient.WriteResult, tell bool) {
	var created, updated []string
	for i, cl := range selected {
		switch results[i].Op {
		case clusterclient.OpCreated:
			created = append(created, cl)
		case clusterclient.OpUpdated:
			updated = append(updated, cl)
		}
	}
	key, _ := cache.MetaNamespaceKeyFunc(fed)
	c.told.add(key, fed, created, updated, tell)
}

// leftBehindDone follows a member write a sync stopped waiting for: it
// tells about it as the sync would have, together with the object's other
// writes left behind when the last of them ends (last), or at once if it
// failed; the writer then syncs the object again, so that its Propagation
// and status take the writes in.
func (c *Controller) leftBehindDone(cl, key string, r clusterclient.WriteResult, last bool) {
	fed, err := c.federated(key)
	if err != nil || fed == nil {
		return
	}
	c.noteWrites(fed, []string{cl}, []clusterclient.WriteResult{r}, last || r.Err != nil)
	if r.Op == clusterclient.OpDeleted && r.Why != "" {
		c.recordDeleted(fed, []string{cl}, r.Why)
	}
	c.logger.V(2).Info("A slow member's write ended after the sync moved on", "cluster", cl, "object", key, "operation", r.Op)
}

// clusterList names clusters for an event: "cluster a" or "clusters a, b".
func clusterList(names []string) string {
	slices.Sort(names)
	if len(names) == 1 {
		return "cluster " + names[0]
	}
	return "clusters " + strings.Join(names, ", ")
}

// allowanceChanged follows how many writes each member may have at once
// (see clusterclient.WriterOptions.Allowance): in a gauge, and in the log
// when a member's allowance is cut and when it is whole again after a
// cut (not after the ramp up that starts a burst).
func (c *Controller) allowanceChanged(cl string, change clusterclient.AllowanceChange) {
	memberWriteAllowance.WithLabelValues(c.adapter.Name, cl).Set(float64(change.Now))
	switch {
	case change.Now < change.Before:
		memberWriteAllowanceCuts.WithLabelValues(c.adapter.Name, cl).Inc()
		c.logger.Info("The member answered a write late or not at all; fewer writes at once until it answers in time", "cluster", cl, "writes", change.Now, "before", change.Before)
	case change.Whole:
		c.logger.Info("The member answers in time again; back to --concurrent-syncs writes at once", "cluster", cl, "writes", change.Now)
	}
}
