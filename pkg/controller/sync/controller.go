// Package sync is the one generic sync loop behind every federated kind:
// for each federated object and each selected Ready member cluster it
// creates, adopts, updates or deletes the member's copy, reverts drift,
// and writes the members' status back. What differs per kind lives in a
// federatedtypes.Adapter.
package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
	fedlisters "github.com/kfederation/client-go/listers/federation/v1beta1"

	"github.com/kfederation/federation/pkg/apis/federation/annotations"
	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/federatedtypes"
)

// BookkeepingDelay is how long, at most, events and Propagation writes wait
// behind member writes while a controller's queue is busy.
const BookkeepingDelay = 5 * time.Second

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

// errNotSynced marks a pending state that says nothing about the cluster:
// this process has not finished reading it yet (after a start or restart).
var errNotSynced = errors.New("member cache not synced")

// Controller syncs one federated kind.
type Controller struct {
	adapter  *federatedtypes.Adapter
	cctx     *controller.Context
	fed      cache.SharedIndexInformer
	clusters fedlisters.ClusterLister
	// propagations caches where each object went, to write only changes.
	propagations fedlisters.PropagationLister
	synced       []cache.InformerSynced
	queue        workqueue.TypedRateLimitingInterface[string]
	recorder     trailingRecorder
	// trail holds events and Propagation writes until the member writes
	// of the moment are done (see trailing).
	trail  *trailing
	logger klog.Logger

	watchedMu gosync.Mutex
	watched   map[*clusterclient.Cluster]bool

	// written holds the Propagations this controller wrote last, until
	// the cache catches up.
	writtenMu gosync.Mutex
	written   map[string]*federationv1beta1.Propagation

	// recent holds member copies just written, until the member
	// informers have them.
	recent *recentWrites

	// writes tracks the member writes in flight, some of them left behind
	// by a sync that did not wait for a slow member (see MemberPatience).
	writes *memberWrites

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

// New wires a controller to the federation's informers and the cluster
// registry. Run starts it.
func New(ctx context.Context, cctx *controller.Context, a *federatedtypes.Adapter) *Controller {
	logger := klog.FromContext(ctx).WithName(a.ControllerName())
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cctx.KubeClient.CoreV1().Events("")})
	c := &Controller{
		adapter: a,
		cctx:    cctx,
		fed:     cctx.DynamicInformers.ForResource(a.GVR).Informer(),
		queue:   workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](), workqueue.TypedRateLimitingQueueConfig[string]{Name: a.Name}),
		logger:  logger,
		watched: map[*clusterclient.Cluster]bool{},
		written: map[string]*federationv1beta1.Propagation{},
		recent:  newRecentWrites(),
		writes:  newMemberWrites(cctx.ConcurrentSyncs),
	}
	c.trail = newTrailing(func() bool { return c.queue.Len() > 0 }, BookkeepingDelay)
	c.recorder = trailingRecorder{inner: broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "federation-" + a.ControllerName()}), t: c.trail}
	_ = c.fed.SetTransform(clusterclient.StripManagedFields)
	clusterInformer := cctx.FedInformers.Federation().V1beta1().Clusters()
	c.clusters = clusterInformer.Lister()
	propagationInformer := cctx.FedInformers.Federation().V1beta1().Propagations()
	c.propagations = propagationInformer.Lister()
	c.synced = []cache.InformerSynced{c.fed.HasSynced, clusterInformer.Informer().HasSynced, propagationInformer.Informer().HasSynced}

	_, _ = c.fed.AddEventHandler(c.enqueueOnEvent())
	// A Cluster's labels decide what is placed there, and its stored
	// readiness what its entry in each Propagation says.
	_, _ = clusterInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(old, cur interface{}) {
			o, n := old.(*federationv1beta1.Cluster), cur.(*federationv1beta1.Cluster)
			if !equality.Semantic.DeepEqual(o.Labels, n.Labels) || clusterCallsItselfReady(o) != clusterCallsItselfReady(n) {
				c.enqueueAll()
			}
		},
	})
	cctx.Clusters.OnChange(func(name string) {
		if c.releaseOnly {
			return
		}
		c.watchMembers()
		c.enqueueAll()
	})
	if n, ok := cctx.Planner.(controller.ReplicaPlannerNotifier); ok && len(a.Replicas) > 0 {
		n.OnChange(a.Kind, func(namespace, name string) {
			if namespace == "" {
				c.queue.Add(name)
				return
			}
			c.queue.Add(namespace + "/" + name)
		})
	}
	return c
}

// enqueueOnEvent queues an object's key on any event about it: the
// federated object's own, and its member copies' (same namespace and name).
func (c *Controller) enqueueOnEvent() cache.ResourceEventHandlerFuncs {
	enqueue := func(obj interface{}) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			c.queue.Add(key)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj interface{}) { enqueue(obj) },
		DeleteFunc: enqueue,
	}
}

// memberEventHandler handles events about member copies in cluster: it
// lets go of remembered writes the informer now has (or that were
// deleted), then queues the federated object, in that order, so that the
// sync sees a deleted copy as deleted.
func (c *Controller) memberEventHandler(cluster string) cache.ResourceEventHandlerFuncs {
	enqueue := c.enqueueOnEvent()
	seen := func(obj interface{}) {
		if u, ok := obj.(*unstructured.Unstructured); ok {
			if key, err := cache.MetaNamespaceKeyFunc(u); err == nil {
				c.recent.seen(cluster, key, u)
			}
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) {
			seen(obj)
			enqueue.OnAdd(obj, false)
		},
		UpdateFunc: func(old, obj interface{}) {
			seen(obj)
			enqueue.OnUpdate(old, obj)
		},
		DeleteFunc: func(obj interface{}) {
			if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
				c.recent.forget(cluster, key)
			}
			enqueue.OnDelete(obj)
		},
	}
}

func (c *Controller) enqueueAll() {
	for _, key := range c.fed.GetStore().ListKeys() {
		c.queue.Add(key)
	}
}

// watchMembers makes sure each known cluster's informer for this kind has
// this controller's handler: a change to a member copy (drift, deletion)
// brings the federated object back into the queue.
func (c *Controller) watchMembers() {
	c.watchedMu.Lock()
	defer c.watchedMu.Unlock()
	current := map[*clusterclient.Cluster]bool{}
	for _, cl := range c.cctx.Clusters.All() {
		current[cl] = true
		if c.watched[cl] {
			continue
		}
		inf, _ := cl.Informer(c.adapter.GVR)
		_, _ = inf.AddEventHandler(c.memberEventHandler(cl.Name))
		c.watched[cl] = true
	}
	for cl := range c.watched {
		if !current[cl] {
			delete(c.watched, cl)
		}
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
		c.watchMembers()
	}
	c.trail.run(ctx, 2)
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
	start := time.Now()
	err := c.sync(ctx, key)
	observeSync(c.adapter.Name, time.Since(start), err)
	switch {
	case err == nil:
		c.queue.Forget(key)
	case errors.Is(err, errPending):
		c.queue.AddAfter(key, time.Second)
	default:
		c.logger.Error(err, "Sync failed; retrying", "object", key)
		c.queue.AddRateLimited(key)
	}
	return true
}

// sync brings every member in line with the federated object key.
func (c *Controller) sync(ctx context.Context, key string) error {
	obj, exists, err := c.fed.GetIndexer().GetByKey(key)
	if err != nil {
		return err
	}
	if !exists {
		if c.releaseOnly {
			return nil
		}
		return c.removeOrphans(ctx, key)
	}
	fed := obj.(*unstructured.Unstructured)
	if c.adapter.Skips(federatedtypes.IdentityOf(fed)) {
		return nil
	}
	if c.releaseOnly {
		if fed.GetDeletionTimestamp() != nil && slices.Contains(fed.GetFinalizers(), Finalizer) {
			c.logger.Info("Controller disabled: letting the object go without touching member clusters", "object", key)
			return c.dropFinalizers(ctx, fed)
		}
		return nil
	}
	if fed.GetDeletionTimestamp() != nil {
		return c.finalize(ctx, fed)
	}
	if !slices.Contains(fed.GetFinalizers(), Finalizer) {
		// Go on with the updated object rather than waiting for the
		// update to come back through the queue: one pass per object.
		cp := fed.DeepCopy()
		cp.SetFinalizers(append(cp.GetFinalizers(), Finalizer))
		updated, err := c.resource().Namespace(fed.GetNamespace()).Update(ctx, cp, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return errPending
		}
		if err != nil {
			return err
		}
		fed = updated
	}

	// Right after a start, clusters whose stored status is Ready have not
	// been probed yet, and member caches are still filling. Acting then
	// would plan replicas onto whichever cluster answered first and
	// write statuses summed over nobody: wait a moment instead.
	if c.settling() {
		return fmt.Errorf("%w: %w: waiting for the first probe of every Ready cluster", errPending, errNotSynced)
	}
	selected, err := c.selectedClusters(fed)
	if err != nil {
		c.recorder.Eventf(fed, corev1.EventTypeWarning, ReasonFailedInCluster, "Cannot select clusters: %v", err)
		return nil
	}
	for _, cl := range selected {
		if !cl.Synced(c.adapter.GVR) {
			return fmt.Errorf("%w: %w: cache of %s in cluster %s not synced yet", errPending, errNotSynced, c.adapter.GVR.Resource, cl.Name)
		}
	}
	var shares, completionShares map[string]int64
	if len(c.adapter.Replicas) > 0 {
		total, found, _ := unstructured.NestedInt64(fed.Object, c.adapter.Replicas...)
		if !found {
			total = 1
		}
		names := make([]string, len(selected))
		current := map[string]int64{}
		for i, cl := range selected {
			names[i] = cl.Name
			if m, err := c.cachedMember(cl, key); err == nil && m != nil {
				if r, ok, _ := unstructured.NestedInt64(m.Object, c.adapter.Replicas...); ok {
					current[cl.Name] = r
				}
			}
		}
		if c.cctx.Planner == nil {
			shares = evenSplit(total, names, key)
		} else if shares, err = c.cctx.Planner.Plan(fed, total, names, current); err != nil {
			c.recorder.Eventf(fed, corev1.EventTypeWarning, ReasonFailedInCluster, "Cannot plan replicas: %v", err)
			return nil
		}
		// A Job's completions, when set, are split evenly too; once a
		// member has its copy its share is fixed (completions are
		// immutable), which the adapter's Retain keeps.
		if c.adapter.Kind == "Job" {
			if totalCompletions, ok, _ := unstructured.NestedInt64(fed.Object, "spec", "completions"); ok {
				completionShares = evenSplit(totalCompletions, names, key)
			}
		}
	}

	results := make([]result, len(selected))
	writes := make([]*memberWrite, len(selected))
	for i, cl := range selected {
		var replicas, completions *int64
		if shares != nil {
			r := shares[cl.Name]
			replicas = &r
		}
		if completionShares != nil {
			n := completionShares[cl.Name]
			completions = &n
		}
		// While a write of the object to this member runs, the cached
		// copy may be stale: the write's end syncs the object again.
		if c.writes.running(cl.Name, key) {
			results[i] = c.slowMember(cl, key)
			continue
		}
		member, desired, err := c.plannedCopy(fed, cl, key, replicas, completions)
		if err != nil {
			results[i] = result{err: err}
			continue
		}
		// A member whose copy is in line needs no write, and so no write
		// slot: it is Propagated even while the member is busy with other
		// objects' writes.
		if member != nil && upToDate(c.adapter, desired, member) {
			results[i] = result{member: member}
			if next := c.writes.noWrite(cl.Name, key); next != "" {
				c.queue.Add(next)
			}
			continue
		}
		if !c.writes.start(cl.Name, key) {
			results[i] = c.slowMember(cl, key)
			continue
		}
		w := newMemberWrite()
		writes[i] = w
		go func() {
			start := time.Now()
			m, op, err := c.syncCluster(ctx, fed, cl, member, desired)
			memberSyncDuration.WithLabelValues(c.adapter.Name, cl.Name).Observe(time.Since(start).Seconds())
			if next := c.writes.finish(cl.Name, key); next != "" {
				c.queue.Add(next)
			}
			if w.complete(result{m, op, err}) {
				c.leftBehindDone(fed, cl, op, key)
			}
		}()
	}
	// Ready clusters that are no longer selected lose their copy.
	var errs []error
	selectedNames := map[string]bool{}
	for _, cl := range selected {
		selectedNames[cl.Name] = true
	}
	const deselectedWhy = "cluster no longer selected"
	var deselected []string
	for _, cl := range c.cctx.Clusters.Ready() {
		if selectedNames[cl.Name] {
			continue
		}
		deleted, err := c.deleteFromCluster(ctx, fed, cl, deselectedWhy)
		if err != nil {
			errs = append(errs, err)
		}
		if deleted {
			deselected = append(deselected, cl.Name)
		}
	}
	c.recordDeleted(fed, deselected, deselectedWhy)
	// Wait for the members' answers, but not for a slow member: past
	// MemberPatience its write goes on alone and this worker moves on.
	patience := time.NewTimer(MemberPatience)
	defer patience.Stop()
	expired := false
	for i, w := range writes {
		if w == nil {
			continue
		}
		if !expired {
			select {
			case <-w.done:
			case <-patience.C:
				expired = true
			}
		}
		if r, ok := w.take(); ok {
			results[i] = r
		} else {
			results[i] = c.slowMember(selected[i], key)
		}
	}

	members := map[string]*unstructured.Unstructured{}
	outcomes := map[string]clusterOutcome{}
	for _, cl := range c.cctx.Clusters.Ready() {
		outcomes[cl.Name] = clusterOutcome{selected: false}
	}
	var created, updated []string
	for i, cl := range selected {
		switch results[i].op {
		case opCreated:
			created = append(created, cl.Name)
		case opUpdated:
			updated = append(updated, cl.Name)
		}
		outcomes[cl.Name] = clusterOutcome{selected: true, err: results[i].err, member: results[i].member}
		switch {
		case errors.Is(results[i].err, errSlowMember):
			// The write's end, or a free slot, syncs the object again;
			// this is only the backstop.
			c.queue.AddAfter(key, slowMemberRetry)
		case results[i].err != nil:
			errs = append(errs, fmt.Errorf("cluster %s: %w", cl.Name, results[i].err))
		}
		if results[i].member != nil {
			members[cl.Name] = results[i].member
		}
	}
	// One event per kind of change, naming the clusters, rather than one
	// per cluster: fewer writes, and kubectl describe reads better.
	if len(created) > 0 {
		c.recorder.Eventf(fed, corev1.EventTypeNormal, ReasonCreateInCluster, "Created in %s", clusterList(created))
	}
	if len(updated) > 0 {
		c.recorder.Eventf(fed, corev1.EventTypeNormal, ReasonUpdateInCluster, "Updated in %s", clusterList(updated))
	}
	if c.adapter.HasStatus && c.adapter.AggregateStatus != nil {
		if err := c.updateStatus(ctx, fed, selected, members); err != nil {
			errs = append(errs, err)
		}
	}
	c.recordPropagationLater(ctx, key, fed, outcomes)
	return errors.Join(errs...)
}

// settling says that some Cluster the federation last saw Ready has not
// been probed by this process yet.
func (c *Controller) settling() bool {
	clusters, err := c.clusters.List(labels.Everything())
	if err != nil {
		return true
	}
	for _, cl := range clusters {
		if !clusterCallsItselfReady(cl) {
			continue
		}
		if r := c.cctx.Clusters.Get(cl.Name); r == nil || !r.Probed() {
			return true
		}
	}
	return false
}

func (c *Controller) resource() dynamic.NamespaceableResourceInterface {
	return c.cctx.DynamicClient.Resource(c.adapter.GVR)
}

func memberResource(cl *clusterclient.Cluster, a *federatedtypes.Adapter, namespace string) dynamic.ResourceInterface {
	r := cl.Dynamic.Resource(a.GVR)
	if a.Namespaced {
		return r.Namespace(namespace)
	}
	return r
}

// selectedClusters are the Ready clusters whose labels match the object's
// cluster selector (all Ready clusters without one), sorted by name.
func (c *Controller) selectedClusters(fed *unstructured.Unstructured) ([]*clusterclient.Cluster, error) {
	selector := labels.Everything()
	if v, ok := fed.GetAnnotations()[annotations.ClusterSelector]; ok {
		s, err := annotations.ParseClusterSelector(v)
		if err != nil {
			return nil, fmt.Errorf("annotation %s: %w", annotations.ClusterSelector, err)
		}
		selector = s
	}
	var out []*clusterclient.Cluster
	for _, cl := range c.cctx.Clusters.Ready() {
		obj, err := c.clusters.Get(cl.Name)
		if err != nil {
			continue
		}
		if selector.Matches(labels.Set(obj.Labels)) {
			out = append(out, cl)
		}
	}
	return out, nil
}

// cachedMember returns the cluster's managed copy of key from its informer.
func (c *Controller) cachedMember(cl *clusterclient.Cluster, key string) (*unstructured.Unstructured, error) {
	obj, exists, err := cl.Get(c.adapter.GVR, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w: %v", errPending, errNotSynced, err)
	}
	var cached *unstructured.Unstructured
	if exists {
		cached = obj.(*unstructured.Unstructured)
	}
	return c.recent.newest(cl.Name, key, cached), nil
}

// plannedCopy returns the cluster's cached copy of key (nil if it has none)
// and the copy it should have, with the fields the member owns taken from
// its copy.
func (c *Controller) plannedCopy(fed *unstructured.Unstructured, cl *clusterclient.Cluster, key string, replicas, completions *int64) (member, desired *unstructured.Unstructured, err error) {
	member, err = c.cachedMember(cl, key)
	if err != nil {
		return nil, nil, err
	}
	desired = desiredCopy(c.adapter, fed, c.cctx.FederationName, replicas, completions)
	if member != nil && c.adapter.Retain != nil {
		c.adapter.Retain(desired, member)
	}
	return member, desired, nil
}

// What syncCluster did.
const (
	opCreated = "created"
	opUpdated = "updated"
)

// clusterList names clusters for an event: "cluster a" or "clusters a, b".
func clusterList(names []string) string {
	slices.Sort(names)
	if len(names) == 1 {
		return "cluster " + names[0]
	}
	return "clusters " + strings.Join(names, ", ")
}

// syncCluster writes one member's copy, member as cached (nil if none), to
// match desired (see plannedCopy); it returns the copy as the member now has
// it, and what it did (opCreated, opUpdated or "").
func (c *Controller) syncCluster(ctx context.Context, fed *unstructured.Unstructured, cl *clusterclient.Cluster, member, desired *unstructured.Unstructured) (*unstructured.Unstructured, string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cctx.MemberRequestTimeout)
	defer cancel()
	key, _ := cache.MetaNamespaceKeyFunc(fed)
	logger := c.logger.WithValues("cluster", cl.Name, "object", key)
	client := memberResource(cl, c.adapter, fed.GetNamespace())
	live := false // whether member was read from the cluster, not the cache
	if member == nil {
		created, err := cl.Create(ctx, c.adapter.GVR, desired, metav1.CreateOptions{})
		switch {
		case err == nil:
			c.recent.wrote(cl.Name, key, created)
			logger.V(2).Info("Created in cluster")
			return created, opCreated, nil
		case apierrors.IsAlreadyExists(err):
			// Not ours yet: adopt the member's object by updating it.
			got, err := client.Get(ctx, fed.GetName(), metav1.GetOptions{})
			if err != nil {
				return nil, "", c.failed(fed, cl, "adopt", err)
			}
			member, live = got, true
			if c.adapter.Retain != nil {
				c.adapter.Retain(desired, member)
			}
		case apierrors.IsNotFound(err) && c.adapter.Namespaced:
			// The namespace is not in the member yet; the namespace
			// controller is creating it.
			return nil, "", fmt.Errorf("%w: namespace %s not yet in cluster %s", errPending, fed.GetNamespace(), cl.Name)
		default:
			return nil, "", c.failed(fed, cl, "create", err)
		}
	}
	if upToDate(c.adapter, desired, member) {
		return member, "", nil
	}
	if !live {
		// The cache, fed over protobuf, holds only the fields the
		// federation's types know: the update starts from the member's own
		// copy, read over JSON, so that none of its other fields is lost.
		// The cached resourceVersion lets the member answer from its cache.
		got, err := client.Get(ctx, fed.GetName(), metav1.GetOptions{ResourceVersion: member.GetResourceVersion()})
		switch {
		case apierrors.IsNotFound(err):
			return nil, "", fmt.Errorf("%w: the copy in cluster %s went while being updated", errPending, cl.Name)
		case err != nil:
			return nil, "", c.failed(fed, cl, "read", err)
		}
		if member = got; upToDate(c.adapter, desired, member) {
			return member, "", nil
		}
	}
	updated, err := client.Update(ctx, merged(c.adapter, desired, member), metav1.UpdateOptions{})
	if err != nil {
		if apierrors.IsConflict(err) {
			return nil, "", fmt.Errorf("%w: conflict updating cluster %s", errPending, cl.Name)
		}
		return nil, "", c.failed(fed, cl, "update", err)
	}
	c.recent.wrote(cl.Name, key, updated)
	logger.V(2).Info("Updated in cluster")
	return updated, opUpdated, nil
}

// failed records the member's own error on the federated object and
// returns it for a retry with backoff.
func (c *Controller) failed(fed *unstructured.Unstructured, cl *clusterclient.Cluster, op string, err error) error {
	memberErrors.WithLabelValues(c.adapter.Name, cl.Name, op).Inc()
	c.recorder.Eventf(fed, corev1.EventTypeWarning, ReasonFailedInCluster, "Cannot %s in cluster %s: %v", op, cl.Name, err)
	return fmt.Errorf("%s in cluster %s: %w", op, cl.Name, err)
}

// deleteFromCluster deletes the cluster's managed copy, if it has one;
// deleted says it had one. The caller records the event, one for all
// clusters.
func (c *Controller) deleteFromCluster(ctx context.Context, fed *unstructured.Unstructured, cl *clusterclient.Cluster, why string) (deleted bool, err error) {
	key, _ := cache.MetaNamespaceKeyFunc(fed)
	member, err := c.cachedMember(cl, key)
	if err != nil || member == nil {
		return false, err
	}
	uid := member.GetUID()
	err = c.deleteMember(ctx, cl, member, metav1.Preconditions{UID: &uid})
	if err != nil && !apierrors.IsNotFound(err) {
		return false, c.failed(fed, cl, "delete", err)
	}
	c.logger.V(2).Info("Deleted from cluster", "cluster", cl.Name, "object", key, "reason", why)
	return true, nil
}

// recordDeleted tells in one event that the copies in clusters went, and
// why (the reason deleteFromCluster was given); nothing if none went.
func (c *Controller) recordDeleted(fed *unstructured.Unstructured, clusters []string, why string) {
	if len(clusters) > 0 {
		c.recorder.Eventf(fed, corev1.EventTypeNormal, ReasonDeleteInCluster, "Deleted from %s: %s", clusterList(clusters), why)
	}
}

// deleteMember deletes a member copy, and what it owns in the member
// (Background, as kubectl does), if it still meets the preconditions.
func (c *Controller) deleteMember(ctx context.Context, cl *clusterclient.Cluster, member *unstructured.Unstructured, pre metav1.Preconditions) error {
	ctx, cancel := context.WithTimeout(ctx, c.cctx.MemberRequestTimeout)
	defer cancel()
	policy := metav1.DeletePropagationBackground
	if key, err := cache.MetaNamespaceKeyFunc(member); err == nil {
		c.recent.forget(cl.Name, key)
	}
	return memberResource(cl, c.adapter, member.GetNamespace()).Delete(ctx, member.GetName(), metav1.DeleteOptions{
		PropagationPolicy: &policy,
		Preconditions:     &pre,
	})
}

// finalize handles a federated object being deleted: delete its member
// copies (or release them with propagationPolicy=Orphan), then let it go.
func (c *Controller) finalize(ctx context.Context, fed *unstructured.Unstructured) error {
	if !slices.Contains(fed.GetFinalizers(), Finalizer) {
		return nil
	}
	orphan := slices.Contains(fed.GetFinalizers(), metav1.FinalizerOrphanDependents)
	key, _ := cache.MetaNamespaceKeyFunc(fed)
	if !orphan && c.namespaceHoldsObjects(fed) {
		// A namespace's copies go last. While the federation empties it,
		// each object in it is deleted from the members by its own
		// controller; a member namespace deleted meanwhile would have the
		// member delete them as well, and the federation try to recreate
		// the copies it sees go.
		return fmt.Errorf("%w: namespace %s still has objects in the federation", errPending, fed.GetName())
	}
	// Every member at once: a slow one delays the others by nothing.
	const why = "deleted from the federation"
	clusters := c.cctx.Clusters.Ready()
	done := make([]bool, len(clusters))
	errs := make([]error, len(clusters))
	var wg gosync.WaitGroup
	for i, cl := range clusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if orphan {
				done[i], errs[i] = c.release(ctx, fed, cl, key)
			} else {
				done[i], errs[i] = c.deleteFromCluster(ctx, fed, cl, why)
			}
		}()
	}
	wg.Wait()
	var names []string
	for i, cl := range clusters {
		if done[i] {
			names = append(names, cl.Name)
		}
	}
	switch {
	case !orphan:
		c.recordDeleted(fed, names, why)
	case len(names) > 0:
		c.recorder.Eventf(fed, corev1.EventTypeNormal, ReasonDeleteInCluster, "Left in %s, unmanaged (propagationPolicy=Orphan)", clusterList(names))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return c.dropFinalizers(ctx, fed)
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

// dropFinalizers lets a deleted federated object go.
func (c *Controller) dropFinalizers(ctx context.Context, fed *unstructured.Unstructured) error {
	// This controller plays the garbage collector for federated objects:
	// with no dependents inside the federation, the orphan and foreground
	// finalizers have nothing left to wait for.
	cp := fed.DeepCopy()
	var keep []string
	for _, f := range cp.GetFinalizers() {
		if f != Finalizer && f != metav1.FinalizerOrphanDependents && f != metav1.FinalizerDeleteDependents {
			keep = append(keep, f)
		}
	}
	cp.SetFinalizers(keep)
	_, err := c.resource().Namespace(fed.GetNamespace()).Update(ctx, cp, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if apierrors.IsConflict(err) {
		return errPending
	}
	return err
}

// slowMember is the outcome in a cluster whose write of key is still
// running after MemberPatience, or that has all the writes it may have
// running: pending, with the copy the cluster has now, so that an
// aggregated status does not drop the cluster's counters meanwhile.
func (c *Controller) slowMember(cl *clusterclient.Cluster, key string) result {
	r := result{err: fmt.Errorf("%w: %w: cluster %s is slow to answer; its writes go on in the background", errPending, errSlowMember, cl.Name)}
	if m, err := c.cachedMember(cl, key); err == nil {
		r.member = m
	}
	return r
}

// leftBehindDone follows a member write a sync stopped waiting for: it
// tells about it as the sync would have, and syncs the object again so
// that its Propagation and status take the write in.
func (c *Controller) leftBehindDone(fed *unstructured.Unstructured, cl *clusterclient.Cluster, op, key string) {
	switch op {
	case opCreated:
		c.recorder.Eventf(fed, corev1.EventTypeNormal, ReasonCreateInCluster, "Created in %s", cl.Name)
	case opUpdated:
		c.recorder.Eventf(fed, corev1.EventTypeNormal, ReasonUpdateInCluster, "Updated in %s", cl.Name)
	}
	c.logger.V(2).Info("A slow member's write ended after the sync moved on", "cluster", cl.Name, "object", key, "operation", op)
	c.queue.Add(key)
}

// release strips the federation's marks from a member copy so that it
// stays, unmanaged, after the federated object is deleted with Orphan;
// released says there was a copy.
func (c *Controller) release(ctx context.Context, fed *unstructured.Unstructured, cl *clusterclient.Cluster, key string) (released bool, err error) {
	member, err := c.cachedMember(cl, key)
	if err != nil || member == nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cctx.MemberRequestTimeout)
	defer cancel()
	// From the member's own copy, with every field it has (see syncCluster).
	client := memberResource(cl, c.adapter, fed.GetNamespace())
	member, err = client.Get(ctx, fed.GetName(), metav1.GetOptions{ResourceVersion: member.GetResourceVersion()})
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, c.failed(fed, cl, "read", err)
	}
	if _, err := client.Update(ctx, unmanaged(member), metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return false, c.failed(fed, cl, "orphan", err)
	}
	return true, nil
}

// removeOrphans deletes managed member copies of an object the federation
// no longer has, e.g. one deleted while a member was unreachable, and the
// record of where it went.
func (c *Controller) removeOrphans(ctx context.Context, key string) error {
	var errs []error
	c.trail.cancel(propagationKey(key))
	objNamespace, objName, _ := cache.SplitMetaNamespaceKey(key)
	namespace, propName := propagationName(c.adapter.Kind, objNamespace, objName)
	if _, err := c.propagations.Propagations(namespace).Get(propName); err == nil {
		if err := c.forgetPropagation(ctx, namespace, propName); err != nil {
			errs = append(errs, err)
		}
	}
	for _, cl := range c.cctx.Clusters.Ready() {
		member, err := c.cachedMember(cl, key)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if member == nil {
			continue
		}
		uid, rv := member.GetUID(), member.GetResourceVersion()
		// The resourceVersion precondition makes sure the copy is still
		// the managed one in the cache: a copy just released by an orphaning
		// delete has been updated since, and must stay.
		err = c.deleteMember(ctx, cl, member, metav1.Preconditions{UID: &uid, ResourceVersion: &rv})
		if apierrors.IsConflict(err) {
			errs = append(errs, fmt.Errorf("%w: cluster %s: %s changed since it was cached", errPending, cl.Name, key))
			continue
		}
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("cluster %s: delete %s, which the federation no longer has: %w", cl.Name, key, err))
			continue
		}
		c.logger.Info("Deleted a member copy the federation no longer has", "cluster", cl.Name, "object", key)
	}
	return errors.Join(errs...)
}

// updateStatus writes the members' combined status into the federated
// object when it changed.
func (c *Controller) updateStatus(ctx context.Context, fed *unstructured.Unstructured, selected []*clusterclient.Cluster, members map[string]*unstructured.Unstructured) error {
	status := c.adapter.AggregateStatus(fed, members)
	if status == nil {
		status = map[string]interface{}{}
	}
	old, has, _ := unstructured.NestedInt64(fed.Object, "status", "observedGeneration")
	if has || hasObservedGeneration(members) {
		if caughtUp(fed.GetGeneration(), selected, members) {
			status["observedGeneration"] = fed.GetGeneration()
		} else if old != 0 {
			status["observedGeneration"] = old
		}
	}
	current, _, _ := unstructured.NestedMap(fed.Object, "status")
	if equality.Semantic.DeepEqual(current, status) {
		return nil
	}
	cp := fed.DeepCopy()
	cp.Object["status"] = status
	_, err := c.resource().Namespace(fed.GetNamespace()).UpdateStatus(ctx, cp, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return errPending
	}
	if err != nil {
		return fmt.Errorf("update status: %w", err)
	}
	return nil
}

func hasObservedGeneration(members map[string]*unstructured.Unstructured) bool {
	for _, m := range members {
		if _, ok, _ := unstructured.NestedInt64(m.Object, "status", "observedGeneration"); ok {
			return true
		}
	}
	return false
}

// caughtUp says every selected member runs the federated object's current
// generation and its own controllers have observed it.
func caughtUp(generation int64, selected []*clusterclient.Cluster, members map[string]*unstructured.Unstructured) bool {
	if len(selected) == 0 {
		return false
	}
	for _, cl := range selected {
		m := members[cl.Name]
		if m == nil || m.GetAnnotations()[GenerationAnnotation] != strconv.FormatInt(generation, 10) {
			return false
		}
		observed, _, _ := unstructured.NestedInt64(m.Object, "status", "observedGeneration")
		if observed < m.GetGeneration() {
			return false
		}
	}
	return true
}
