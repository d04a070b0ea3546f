// Package propagation is the one generic sync loop behind every federated
// kind: for each federated object and each selected Ready member cluster
// it creates, adopts, updates or deletes the member's copy, reverts drift,
// writes the members' status back, and records where the object went in
// its Propagation. What differs per kind lives in a federatedtypes.Adapter;
// every member request goes through a clusterclient.MemberWriter.
//
// The files follow one object's way: controller.go (queue and handlers),
// reconcile.go (the algorithm), plan.go, write.go, delete.go, status.go,
// record.go (the Propagation), copy.go (what a member copy should be).
package propagation

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
	fedlisters "github.com/kfederation/client-go/listers/federation/v1beta1"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/federatedtypes"
	"github.com/kfederation/federation/pkg/freshwrites"
)

// BookkeepingDelay is how long, at most, events and Propagation writes wait
// behind member writes while objects wait in a controller's queue. Under a
// steady load the queue is often not empty, so this is how late a
// Propagation may say Propagated after the last member has the copy: short
// enough that users and tools reading Propagations see the copies as they
// land.
const BookkeepingDelay = 500 * time.Millisecond

// BurstBookkeepingDelay is how long, at most, they wait while a burst is
// queued: at least --concurrent-syncs objects waiting, more than the
// workers take at once. A saturated federation then spends its processor
// on the member writes, and its records follow the burst, at most this
// late.
const BurstBookkeepingDelay = 5 * time.Second

// MemberPatience is how long a sync waits for a member's write before it
// leaves that member behind: the write goes on in the background, the
// worker goes on to the next object, and the object is synced again when
// the write ends. Without it, a member that takes seconds to answer (a
// slow admission webhook, an overloaded etcd) would hold every worker, and
// with them every other member's propagation.
const MemberPatience = time.Second

// slowMemberRetry is the least time after which an object left waiting
// for a slow member is synced again, whatever happened (see backstop);
// normally the end of its last write left behind, or a free slot, wakes it
// or starts its write sooner.
const slowMemberRetry = 5 * time.Second

// backstop is when an object left waiting for a slow member is synced
// again at the latest, unless a sync comes first or its writes still wait
// (see backstops): past every write's request timeout, twice over, so
// that it syncs only if a wake was lost. At fifty members a 5 s backstop
// made half the syncs of a burst.
func (c *Controller) backstop() time.Duration {
	return max(slowMemberRetry, 2*c.cctx.MemberRequestTimeout)
}

// Finalizer is federatedtypes.Finalizer, which this controller adds and
// takes off.
const Finalizer = federatedtypes.Finalizer

// Event reasons on federated objects, one per thing that happened in a
// member cluster.
const (
	ReasonCreateInCluster = "CreateInCluster"
	ReasonUpdateInCluster = "UpdateInCluster"
	ReasonDeleteInCluster = "DeleteInCluster"
	ReasonFailedInCluster = "FailedInCluster"
)

// errPending marks a cluster that cannot take the object yet (its cache is
// not synced, or the namespace is not there yet); the object is retried
// soon, without a Failed event.
var errPending = errors.New("pending")

// heldError is a cluster the object's gate holds it back from (see
// controller.MemberGate): a wait, retried when the gate says so rather
// than on a timer.
type heldError struct{ reason string }

func (e heldError) Error() string        { return e.reason }
func (e heldError) Is(target error) bool { return target == errPending }

// pending says err is a wait, not a failure: errPending, a member cache
// not synced yet, or a slow member.
func pending(err error) bool {
	return errors.Is(err, errPending) || errors.Is(err, controller.ErrObjectChanged) ||
		errors.Is(err, clusterclient.ErrNotSynced) || errors.Is(err, clusterclient.ErrSlowMember)
}

// Controller syncs one federated kind.
type Controller struct {
	adapter  *federatedtypes.Adapter
	cctx     *controller.Context
	fed      cache.SharedIndexInformer
	clusters fedlisters.ClusterLister
	// propagations caches where each object went, to write only changes.
	propagations fedlisters.PropagationLister
	synced       []cache.InformerSynced
	queue        *syncQueue
	recorder     trailingRecorder
	// told gathers what member writes did until the bookkeeping tells it.
	told *writesTold
	// trail holds events and Propagation writes until the member writes
	// of the moment are done (see trailing).
	trail  *trailing
	logger klog.Logger

	// members does every member request, and keeps this controller's
	// fresh member writes until the member informers have them.
	members clusterclient.MemberWriter
	watch   func()

	// written holds the Propagations this controller wrote last, until
	// the cache catches up.
	written *freshwrites.Cache[*federationv1beta1.Propagation]

	// gate, if set, holds objects back from members (see
	// controller.MemberGate).
	gate controller.MemberGate

	// backstops sync objects left waiting for a slow member if their
	// wake is lost.
	backstops *backstops

	// epoch grows with every change of clusters, gates or placement: a
	// write planned before one may no longer hold (see planHolds).
	epoch atomic.Uint64

	// releaseOnly is the mode of a kind whose controller is turned off
	// with --controllers: it only takes the federation's finalizer off
	// deleted objects, so that they do not wait for a sync that never
	// comes. Members are not touched.
	releaseOnly bool
}

// StartFunc returns the start function of the sync controller for a kind,
// for the controller manager's table.
func StartFunc(a *federatedtypes.Adapter) func(ctx context.Context, cctx *controller.Context) error {
	return func(ctx context.Context, cctx *controller.Context) error {
		c := New(ctx, cctx, a)
		go c.Run(ctx, cctx.ConcurrentSyncs)
		return nil
	}
}

// StartReleaseOnlyFunc returns the start function that stands in for the
// sync controller of a kind turned off with --controllers (see
// Controller.releaseOnly).
func StartReleaseOnlyFunc(a *federatedtypes.Adapter) func(ctx context.Context, cctx *controller.Context) error {
	return func(ctx context.Context, cctx *controller.Context) error {
		c := New(ctx, cctx, a)
		c.releaseOnly = true
		go c.Run(ctx, 1)
		return nil
	}
}

// New wires a controller to the federation's informers and the member
// clusters of the registry. Run starts it.
func New(ctx context.Context, cctx *controller.Context, a *federatedtypes.Adapter) *Controller {
	recorder := cctx.Recorder(ctx, scheme.Scheme, "federation-"+a.ControllerName())
	return newController(ctx, cctx, a, cctx.Clusters.Members(), recorder)
}

// newController is New with the member clusters and the event recorder
// given: tests hand in fakes.
func newController(ctx context.Context, cctx *controller.Context, a *federatedtypes.Adapter, members clusterclient.Members, recorder record.EventRecorder) *Controller {
	c := &Controller{
		adapter: a,
		cctx:    cctx,
		fed:     cctx.DynamicInformers.ForResource(a.GVR).Informer(),
		queue:   newSyncQueue(a.Name, a.Name),
		logger:  klog.FromContext(ctx).WithName(a.ControllerName()),
		written: freshwrites.New[*federationv1beta1.Propagation](freshwrites.DefaultTTL),
	}
	c.trail = newTrailing(c.queue.Len, trailingDelays{short: BookkeepingDelay, long: BurstBookkeepingDelay, deep: cctx.ConcurrentSyncs})
	c.recorder = trailingRecorder{inner: recorder, t: c.trail}
	c.told = newWritesTold(recorder, c.trail)
	writer := clusterclient.NewWriter(members, a.GVR, clusterclient.WriterOptions{
		RequestTimeout: cctx.MemberRequestTimeout,
		Patience:       MemberPatience,
		MaxInFlight:    cctx.ConcurrentSyncs,
		Wake:           func(key string, why clusterclient.WakeReason) { c.queue.wake(key, string(why)) },
		LeftBehind:     c.leftBehindDone,
		Events:         func(string) cache.ResourceEventHandler { return c.enqueueOnEvent(wakeMember) },
		Allowance:      c.allowanceChanged,
	})
	c.members, c.watch = writer, writer.Watch
	c.backstops = newBackstops(ctx, writer.Pending, func(key string) { c.queue.wake(key, wakeSlowMember) })
	_ = c.fed.SetTransform(clusterclient.StripManagedFields)
	clusterInformer := cctx.FedInformers.Federation().V1beta1().Clusters()
	c.clusters = clusterInformer.Lister()
	propagationInformer := cctx.FedInformers.Federation().V1beta1().Propagations()
	c.propagations = propagationInformer.Lister()
	c.synced = []cache.InformerSynced{c.fed.HasSynced, clusterInformer.Informer().HasSynced, propagationInformer.Informer().HasSynced}

	_, _ = c.fed.AddEventHandler(c.enqueueOnEvent(wakeFederated))
	_, _ = propagationInformer.Informer().AddEventHandler(c.propagationEvents())
	// A Cluster's labels decide what is placed there, and its stored
	// readiness what its entry in each Propagation says.
	_, _ = clusterInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(old, cur interface{}) {
			o, n := old.(*federationv1beta1.Cluster), cur.(*federationv1beta1.Cluster)
			if !equality.Semantic.DeepEqual(o.Labels, n.Labels) || controller.ClusterCallsItselfReady(o) != controller.ClusterCallsItselfReady(n) {
				c.enqueueAll()
			}
		},
	})
	cctx.Clusters.OnChange(func(cluster string) {
		if !c.releaseOnly {
			c.enqueueAll()
			c.enqueueCopiesIn(cluster)
		}
	})
	if c.gate = cctx.Gates[a.Name]; c.gate != nil {
		c.gate.OnChange(func(namespace, name string) { c.enqueueName(namespace, name, wakeGate) })
	}
	if n, ok := cctx.Planner.(controller.ReplicaPlannerNotifier); ok && len(a.Replicas) > 0 {
		n.OnChange(a.Kind, func(namespace, name string) { c.enqueueName(namespace, name, wakePlacement) })
	}
	return c
}

// enqueueName queues the object of that namespace and name, for reason why.
func (c *Controller) enqueueName(namespace, name, why string) {
	c.epoch.Add(1)
	if namespace == "" {
		c.queue.wake(name, why)
		return
	}
	c.queue.wake(namespace+"/"+name, why)
}

// enqueueOnEvent queues an object's key on any event about it: the
// federated object's own, and its member copies' (same namespace and
// name); why says which.
func (c *Controller) enqueueOnEvent(why string) cache.ResourceEventHandlerFuncs {
	enqueue := func(obj interface{}) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			c.queue.wake(key, why)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj interface{}) { enqueue(obj) },
		DeleteFunc: enqueue,
	}
}

// propagationEvents lets go of a Propagation this controller wrote once
// the informer has it, or has seen it deleted (by anyone).
func (c *Controller) propagationEvents() cache.ResourceEventHandlerFuncs {
	seen := func(obj interface{}) {
		if p, ok := obj.(*federationv1beta1.Propagation); ok {
			c.written.Seen(p.Namespace+"/"+p.Name, p)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    seen,
		UpdateFunc: func(_, obj interface{}) { seen(obj) },
		DeleteFunc: func(obj interface{}) {
			if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
				c.written.Forget(key)
			}
		},
	}
}

// enqueueCopiesIn queues every managed copy the cluster has, federated or
// not: an object deleted from the federation while the cluster was not
// Ready left its copy there (only Ready clusters are written to), and
// nothing else would bring its key back once the cluster is Ready again,
// for the copy to be removed (removeOrphans).
func (c *Controller) enqueueCopiesIn(cluster string) {
	c.epoch.Add(1)
	for _, key := range c.members.CachedKeys(cluster) {
		c.queue.wake(key, wakeCluster)
	}
}

func (c *Controller) enqueueAll() {
	c.epoch.Add(1)
	for _, key := range c.fed.GetStore().ListKeys() {
		c.queue.wake(key, wakeCluster)
	}
}

// Run waits for the caches and runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	c.logger.Info("Starting")
	if !cache.WaitForNamedCacheSync(c.adapter.ControllerName(), ctx.Done(), c.synced...) {
		return
	}
	if !c.releaseOnly {
		// A change to a member copy (drift, deletion) brings the
		// federated object back into the queue.
		c.watch()
	}
	// Bookkeeping is a Propagation write and an event (naming the
	// clusters written) for each object synced: with fewer workers than
	// the sync has, the records fall behind the copies at any sustained
	// rate.
	c.trail.run(ctx, workers)
	for i := 0; i < workers; i++ {
		go wait.UntilWithContext(ctx, c.runWorker, time.Second)
	}
	<-ctx.Done()
	c.logger.Info("Stopping")
}

func (c *Controller) runWorker(ctx context.Context) {
	for c.processNextWorkItem(ctx) {
	}
}

func (c *Controller) processNextWorkItem(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	c.backstops.lapse(key)
	start := time.Now()
	err := c.reconcile(ctx, key)
	observeSync(c.adapter.Name, time.Since(start), err)
	switch {
	case err == nil:
		c.queue.Forget(key)
	case pending(err):
		c.queue.wakeAfter(key, time.Second, wakePending)
	default:
		c.logger.Error(err, "Sync failed; retrying", "object", key)
		c.queue.retry(key)
	}
	return true
}
