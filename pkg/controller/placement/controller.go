// Package placement decides how many replicas of a federated ReplicaSet,
// Deployment or Job each member cluster runs. The sync controllers ask it
// through controller.ReplicaPlanner; it never writes to a member itself.
//
// The split follows the object's replica preferences annotation (see
// Plan for the rules) and what each cluster can run now. A cluster's
// capacity for an object is estimated from its pods that the member's
// scheduler cannot place: when pods of the object's member copy have been
// Unschedulable for longer than the unschedulable threshold (60 s by
// default), the cluster is taken to fit only the pods it runs minus those,
// and the plan moves the rest to clusters with room.
//
// # Failover, and why replicas do not flap
//
// The sync controllers plan only over the selected Ready clusters, so a
// cluster that goes NotReady or Offline simply drops out of the plan and
// its share moves to the others at once. Two kinds of hysteresis keep
// replicas from moving back and forth:
//
//   - A capacity estimate outlives the Unschedulable pods that caused it,
//     which disappear as soon as their replicas move away; it is forgotten
//     only after the capacity expiry (5 minutes by default) with no pod
//     stuck again. Then, with rebalance on, the preferred split may move
//     replicas back, and if they still do not fit, they are moved away
//     again after the threshold: a cluster that stays full is retried at
//     most once per expiry plus threshold. Without rebalance the replicas
//     stay where they went.
//   - The planner remembers its last plan for every object and counts as
//     running in a cluster what it last placed there, not what the
//     cluster's copy says. A cluster that comes back after a failover
//     still has its old copy asking for its old share, but the planner
//     knows those replicas now run elsewhere: without rebalance the
//     returning cluster gets none of them back, only a share of later
//     growth; with rebalance the preferred split moves them back at once.
//     The memory is per process: after a restart of the controller
//     manager, the members' copies are taken as they are.
//   - Right after start, members become Ready one by one as they are
//     first probed. For the startup grace (a cluster monitor period plus
//     a probe timeout), an object that already has copies is left as it
//     is while some member is not Ready yet, rather than planned over the
//     first members found Ready, which would pile its replicas there for
//     good.
//
// Every move is told on the federated object as a ReplicasMoved event
// saying from where, to where, and why.
package placement

import (
	"context"
	"fmt"
	"maps"
	"sort"
	gosync "sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/kfederation/federation/pkg/apis/federation/annotations"
	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/federatedtypes"
)

// ReasonReplicasMoved is the reason of the event on a federated object
// whose replicas the planner moved from one cluster to another.
const ReasonReplicasMoved = "ReplicasMoved"

const (
	// DefaultUnschedulableThreshold is how long a pod must have been
	// Unschedulable before it lowers its cluster's capacity: long enough
	// for the member's cluster autoscaler or preemption to act first.
	DefaultUnschedulableThreshold = 60 * time.Second
	// DefaultCapacityExpiry is how long a capacity estimate lasts after
	// the last time a pod was found stuck.
	DefaultCapacityExpiry = 5 * time.Minute
)

// pendingPods selects what the pod watchers keep: pods no node has taken.
// Only these can be Unschedulable, and there are few of them, so a member
// with many pods costs the planner little memory.
const pendingPods = "spec.nodeName=,status.phase=" + string(corev1.PodPending)

// listTimeout bounds the one request the planner makes to a member.
const listTimeout = 10 * time.Second

var _ controller.ReplicaPlanner = &Planner{}

// kindInfo is what the planner needs to know about a kind it plans for.
type kindInfo struct {
	annotation string
	gvr        schema.GroupVersionResource
}

// kinds are the kinds with replica preferences, by Kind.
var kinds = map[string]kindInfo{
	"ReplicaSet": {annotations.ReplicaSetPreferences, federatedtypes.ReplicaSet().GVR},
	"Deployment": {annotations.DeploymentPreferences, federatedtypes.Deployment().GVR},
	"Job":        {annotations.JobPreferences, federatedtypes.Job().GVR},
}

// objectRef names a federated object.
type objectRef struct {
	kind, namespace, name string
}

func (r objectRef) key() string { return r.namespace + "/" + r.name }

// estimateKey names the capacity of one cluster for one object.
type estimateKey struct {
	cluster string
	ref     objectRef
}

// estimate is a cluster's capacity for an object, until expires.
type estimate struct {
	capacity int64
	expires  time.Time
}

// lastPlan is what the planner last decided for an object.
type lastPlan struct {
	replicas map[string]int64
	// capacity holds the clusters that had a capacity estimate.
	capacity map[string]int64
}

// podWatcher keeps one member's pending pods.
type podWatcher struct {
	client   kubernetes.Interface
	informer cache.SharedIndexInformer
	stop     chan struct{}
}

// clusterSource is what the planner reads of member clusters: the
// registry in the controller manager, a fake in unit tests.
type clusterSource interface {
	// kube returns the cluster's client on the bucket it shares with the
	// federation's other clients of it, or nil if it is not registered.
	kube(cluster string) kubernetes.Interface
	// memberCopy returns the cluster's managed copy of key from its
	// informer cache, nil if it has none.
	memberCopy(cluster string, gvr schema.GroupVersionResource, key string) (*unstructured.Unstructured, error)
	// onChange calls f with a cluster's name whenever it is added,
	// replaced, removed or changes readiness.
	onChange(f func(cluster string))
	// allReady says whether every registered cluster is Ready.
	allReady() bool
}

// Option configures a Planner.
type Option func(*Planner)

// WithUnschedulableThreshold sets how long a pod must be Unschedulable
// before it lowers its cluster's capacity.
func WithUnschedulableThreshold(d time.Duration) Option {
	return func(p *Planner) { p.threshold = d }
}

// WithCapacityExpiry sets how long a capacity estimate outlives the last
// stuck pod seen.
func WithCapacityExpiry(d time.Duration) Option {
	return func(p *Planner) { p.expiry = d }
}

// WithStartupGrace sets how long after start the planner holds the
// replicas of objects it has not planned yet where they are while some
// member cluster is not Ready: long enough for the first probe of every
// member.
func WithStartupGrace(d time.Duration) Option {
	return func(p *Planner) { p.grace = d }
}

// WithClock replaces the real clock, for tests.
func WithClock(c clock.WithTicker) Option {
	return func(p *Planner) { p.clock = c }
}

// WithRecorder replaces the event recorder, for tests.
func WithRecorder(r record.EventRecorder) Option {
	return func(p *Planner) { p.recorder = r }
}

// Planner implements controller.ReplicaPlanner: it reads an object's
// replica preferences, estimates each cluster's capacity from
// Unschedulable pods, plans with Plan, and tells moves as events.
type Planner struct {
	source    clusterSource
	recorder  record.EventRecorder
	clock     clock.WithTicker
	threshold time.Duration
	expiry    time.Duration
	grace     time.Duration
	started   time.Time
	queue     workqueue.TypedRateLimitingInterface[estimateKey]
	logger    klog.Logger

	mu        gosync.Mutex
	watchers  map[string]*podWatcher
	selectors map[string]map[string]map[objectRef]labels.Selector // cluster, namespace, object
	estimates map[estimateKey]estimate
	plans     map[objectRef]lastPlan
	listeners []listener
	// held are the objects kept as they are during the startup grace,
	// to be planned when it ends.
	held        map[objectRef]bool
	releaseOnce gosync.Once
}

type listener struct {
	kind string
	f    func(namespace, name string)
}

// NewPlanner returns a planner over the members of cctx.Clusters that
// records events through cctx.KubeClient and forgets objects deleted from
// cctx.DynamicInformers. Call it before the informers start; Run does the
// capacity estimates.
func NewPlanner(ctx context.Context, cctx *controller.Context, opts ...Option) *Planner {
	grace := WithStartupGrace(cctx.ClusterMonitorPeriod + cctx.ClusterProbeTimeout)
	p := newPlanner(ctx, registrySource{cctx.Clusters}, append([]Option{grace}, opts...)...)
	if p.recorder == nil {
		p.recorder = cctx.Recorder(ctx, scheme.Scheme, "federation-placement")
	}
	if cctx.DynamicInformers != nil {
		for kind, k := range kinds {
			_, _ = cctx.DynamicInformers.ForResource(k.gvr).Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
				DeleteFunc: func(obj interface{}) {
					if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
						obj = tomb.Obj
					}
					if m, ok := obj.(metav1.Object); ok {
						p.forget(objectRef{kind, m.GetNamespace(), m.GetName()})
					}
				},
			})
		}
	}
	return p
}

func newPlanner(ctx context.Context, source clusterSource, opts ...Option) *Planner {
	p := &Planner{
		source:    source,
		clock:     clock.RealClock{},
		threshold: DefaultUnschedulableThreshold,
		expiry:    DefaultCapacityExpiry,
		logger:    klog.FromContext(ctx).WithName("placement"),
		watchers:  map[string]*podWatcher{},
		selectors: map[string]map[string]map[objectRef]labels.Selector{},
		estimates: map[estimateKey]estimate{},
		plans:     map[objectRef]lastPlan{},
		held:      map[objectRef]bool{},
	}
	for _, o := range opts {
		o(p)
	}
	p.started = p.clock.Now()
	p.queue = workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[estimateKey](),
		workqueue.TypedRateLimitingQueueConfig[estimateKey]{Name: "placement-capacity", Clock: p.clock})
	source.onChange(p.clusterChanged)
	return p
}

// OnChange registers f to be called with the namespace and name of every
// federated object of kind (ReplicaSet, Deployment, Job) whose capacity
// estimate changed, so that its sync controller plans it again.
func (p *Planner) OnChange(kind string, f func(namespace, name string)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.listeners = append(p.listeners, listener{kind, f})
}

// release asks for the objects held during the startup grace to be
// planned.
func (p *Planner) release() {
	p.mu.Lock()
	refs := p.held
	p.held = map[objectRef]bool{}
	listeners := append([]listener(nil), p.listeners...)
	p.mu.Unlock()
	for ref := range refs {
		p.notify(listeners, ref)
	}
}

func (p *Planner) notify(listeners []listener, ref objectRef) {
	for _, l := range listeners {
		if l.kind == ref.kind {
			l.f(ref.namespace, ref.name)
		}
	}
}

// Run keeps the capacity estimates up to date until ctx ends.
func (p *Planner) Run(ctx context.Context) {
	defer utilruntime.HandleCrash()
	defer p.queue.ShutDown()
	go wait.UntilWithContext(ctx, func(ctx context.Context) {
		for p.processNext(ctx) {
		}
	}, time.Second)
	<-ctx.Done()
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, w := range p.watchers {
		close(w.stop)
		delete(p.watchers, name)
	}
}

// Plan implements controller.ReplicaPlanner.
func (p *Planner) Plan(fed *unstructured.Unstructured, total int64, clusters []string, current map[string]int64) (map[string]int64, error) {
	kind := fed.GetKind()
	info, ok := kinds[kind]
	if !ok {
		return nil, fmt.Errorf("no replica preferences for kind %q", kind)
	}
	var prefs *annotations.ReplicaPreferences
	if v, ok := fed.GetAnnotations()[info.annotation]; ok {
		var err error
		if prefs, err = annotations.ParseReplicaPreferences(v); err != nil {
			return nil, fmt.Errorf("annotation %s: %w", info.annotation, err)
		}
	}
	ref := objectRef{kind, fed.GetNamespace(), fed.GetName()}
	p.track(ref, info.gvr, clusters)

	now := p.clock.Now()
	starting := now.Sub(p.started) < p.grace && !p.source.allReady()
	p.mu.Lock()
	last, remembered := p.plans[ref]
	if !remembered && len(current) > 0 && starting {
		// Just started, and not every member has been probed yet: a plan
		// over the first clusters found Ready would pile the replicas
		// there, and without rebalance they would stay. The copies stay
		// as they are until the members are all Ready or the grace ends.
		p.held[ref] = true
		p.mu.Unlock()
		p.releaseOnce.Do(func() {
			wait := p.clock.After(p.grace - now.Sub(p.started))
			go func() {
				<-wait
				p.release()
			}()
		})
		out := make(map[string]int64, len(clusters))
		for _, name := range clusters {
			out[name] = current[name]
		}
		p.logger.V(2).Info("Leaving replicas where they are until every member has been probed", "kind", kind, "object", ref.key(), "replicas", out)
		return out, nil
	}
	delete(p.held, ref)
	inputs := make([]ClusterInput, 0, len(clusters))
	for _, name := range clusters {
		in := ClusterInput{Name: name}
		// What the planner last placed is what runs, once it has placed
		// anything: see the package documentation.
		if remembered {
			if n, ok := last.replicas[name]; ok {
				in.Current = &n
			}
		} else if n, ok := current[name]; ok {
			in.Current = &n
		}
		if e, ok := p.estimates[estimateKey{name, ref}]; ok && now.Before(e.expires) {
			c := e.capacity
			in.Capacity = &c
		}
		inputs = append(inputs, in)
	}
	p.mu.Unlock()

	res, err := Plan(prefs, total, inputs, ref.key())
	if err != nil {
		return nil, err
	}

	prev := current
	if remembered {
		prev = last.replicas
	}
	next := lastPlan{replicas: maps.Clone(res.Replicas), capacity: map[string]int64{}}
	for _, in := range inputs {
		if in.Capacity != nil {
			next.capacity[in.Name] = *in.Capacity
		}
	}
	p.mu.Lock()
	// An object deleted while it was being planned is not remembered.
	if _, still := p.plans[ref]; still || !remembered {
		p.plans[ref] = next
	}
	p.mu.Unlock()

	logger := p.logger.WithValues("kind", kind, "object", ref.key())
	changed := !equalPlans(prev, res.Replicas)
	if changed {
		logger.V(2).Info("Planned replicas", "replicas", res.Replicas, "explanation", res.Explanation)
	} else {
		logger.V(5).Info("Plan unchanged", "replicas", res.Replicas)
	}
	for _, m := range moves(prev, res.Replicas) {
		why, failure := p.reason(m, clusters, last, next, remembered)
		eventType := corev1.EventTypeNormal
		if failure {
			eventType = corev1.EventTypeWarning
		}
		noun := "replicas"
		if m.n == 1 {
			noun = "replica"
		}
		p.recorder.Eventf(fed, eventType, ReasonReplicasMoved, "moved %d %s from %s to %s: %s", m.n, noun, m.from, m.to, why)
	}
	return res.Replicas, nil
}

func equalPlans(a, b map[string]int64) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// move is n replicas planned away from one cluster and into another.
type move struct {
	from, to string
	n        int64
}

// moves pairs the clusters that lost replicas with those that gained
// some, by name; what the total grew or shrank by is no move.
func moves(prev, next map[string]int64) []move {
	type delta struct {
		name string
		n    int64
	}
	var losers, gainers []delta
	for name, n := range prev {
		if d := n - next[name]; d > 0 {
			losers = append(losers, delta{name, d})
		}
	}
	for name, n := range next {
		if d := n - prev[name]; d > 0 {
			gainers = append(gainers, delta{name, d})
		}
	}
	sort.Slice(losers, func(i, j int) bool { return losers[i].name < losers[j].name })
	sort.Slice(gainers, func(i, j int) bool { return gainers[i].name < gainers[j].name })
	var out []move
	for i, j := 0, 0; i < len(losers) && j < len(gainers); {
		n := min(losers[i].n, gainers[j].n)
		out = append(out, move{losers[i].name, gainers[j].name, n})
		losers[i].n -= n
		gainers[j].n -= n
		if losers[i].n == 0 {
			i++
		}
		if gainers[j].n == 0 {
			j++
		}
	}
	return out
}

// reason says why a move happened, and whether something failed.
func (p *Planner) reason(m move, clusters []string, last, next lastPlan, remembered bool) (string, bool) {
	present := false
	for _, c := range clusters {
		if c == m.from {
			present = true
		}
	}
	if !present {
		return "cluster no longer Ready or selected", true
	}
	if c, ok := next.capacity[m.from]; ok && next.replicas[m.from] >= c {
		return "pods Unschedulable in " + m.from, true
	}
	if remembered {
		if _, was := last.replicas[m.to]; !was {
			return "rebalanced: cluster " + m.to + " is Ready and selected again", false
		}
		if _, had := last.capacity[m.to]; had {
			if _, has := next.capacity[m.to]; !has {
				return "rebalanced: the capacity estimate of " + m.to + " expired", false
			}
		}
	}
	return "rebalanced to the replica preferences", false
}

// track starts watching pods in clusters, if not yet, and records the
// selector of ref's copy in each, so that a change to one of its pending
// pods leads back to ref.
func (p *Planner) track(ref objectRef, gvr schema.GroupVersionResource, clusters []string) {
	for _, cluster := range clusters {
		p.ensureWatcher(cluster)
		member, err := p.source.memberCopy(cluster, gvr, ref.key())
		if err != nil || member == nil {
			continue
		}
		sel, err := copySelector(member)
		if err != nil {
			p.logger.V(2).Info("Cannot read the selector of a member copy; its pods do not count", "cluster", cluster, "object", ref.key(), "err", err)
			continue
		}
		p.mu.Lock()
		byNS := p.selectors[cluster]
		if byNS == nil {
			byNS = map[string]map[objectRef]labels.Selector{}
			p.selectors[cluster] = byNS
		}
		refs := byNS[ref.namespace]
		if refs == nil {
			refs = map[objectRef]labels.Selector{}
			byNS[ref.namespace] = refs
		}
		old, ok := refs[ref]
		changed := !ok || old.String() != sel.String()
		if changed {
			refs[ref] = sel
		}
		p.mu.Unlock()
		if changed {
			// Pods may be stuck already, before anyone listened.
			p.queue.Add(estimateKey{cluster, ref})
		}
	}
}

// copySelector is the label selector of a member copy's pods.
func copySelector(member *unstructured.Unstructured) (labels.Selector, error) {
	raw, ok, err := unstructured.NestedMap(member.Object, "spec", "selector")
	if err != nil || !ok {
		return nil, fmt.Errorf("no spec.selector: %v", err)
	}
	var ls metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &ls); err != nil {
		return nil, err
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil {
		return nil, err
	}
	if sel.Empty() {
		// The API refuses empty selectors on these kinds; one here would
		// count every pod of the namespace.
		return nil, fmt.Errorf("empty spec.selector")
	}
	return sel, nil
}

// ensureWatcher starts watching a cluster's pending pods, or restarts the
// watch when the cluster's client was replaced.
func (p *Planner) ensureWatcher(cluster string) {
	client := p.source.kube(cluster)
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.watchers[cluster]
	if w != nil && w.client == client {
		return
	}
	if w != nil {
		close(w.stop)
		delete(p.watchers, cluster)
	}
	if client == nil {
		return
	}
	factory := kubeinformers.NewSharedInformerFactoryWithOptions(client, 0, kubeinformers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = pendingPods
	}))
	inf := factory.Core().V1().Pods().Informer()
	// Only what decides whether a pod is stuck, and whose it is, is kept.
	_ = inf.SetTransform(func(obj interface{}) (interface{}, error) {
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return obj, nil
		}
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID, ResourceVersion: pod.ResourceVersion,
				Labels: pod.Labels, DeletionTimestamp: pod.DeletionTimestamp,
			},
			Spec:   corev1.PodSpec{NodeName: pod.Spec.NodeName},
			Status: corev1.PodStatus{Phase: pod.Status.Phase, Conditions: pod.Status.Conditions},
		}, nil
	})
	handler := func(obj interface{}) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if pod, ok := obj.(*corev1.Pod); ok {
			p.podChanged(cluster, pod)
		}
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    handler,
		UpdateFunc: func(_, obj interface{}) { handler(obj) },
		DeleteFunc: handler,
	})
	w = &podWatcher{client: client, informer: inf, stop: make(chan struct{})}
	p.watchers[cluster] = w
	go inf.Run(w.stop)
}

// podChanged queues a capacity check for every object whose copy in
// cluster selects pod.
func (p *Planner) podChanged(cluster string, pod *corev1.Pod) {
	p.mu.Lock()
	var keys []estimateKey
	for ref, sel := range p.selectors[cluster][pod.Namespace] {
		if sel.Matches(labels.Set(pod.Labels)) {
			keys = append(keys, estimateKey{cluster, ref})
		}
	}
	p.mu.Unlock()
	for _, k := range keys {
		p.queue.Add(k)
	}
}

// clusterChanged stops watching a cluster that left the registry and
// forgets what was known of it; a replaced cluster is watched anew.
func (p *Planner) clusterChanged(cluster string) {
	client := p.source.kube(cluster)
	p.mu.Lock()
	w := p.watchers[cluster]
	if client == nil {
		delete(p.selectors, cluster)
		for k := range p.estimates {
			if k.cluster == cluster {
				delete(p.estimates, k)
			}
		}
	}
	p.mu.Unlock()
	if w != nil && w.client != client {
		p.ensureWatcher(cluster)
	}
}

// forget drops all the planner knows of a deleted object.
func (p *Planner) forget(ref objectRef) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.plans, ref)
	delete(p.held, ref)
	for _, byNS := range p.selectors {
		delete(byNS[ref.namespace], ref)
	}
	for k := range p.estimates {
		if k.ref == ref {
			delete(p.estimates, k)
		}
	}
}

func (p *Planner) processNext(ctx context.Context) bool {
	k, quit := p.queue.Get()
	if quit {
		return false
	}
	defer p.queue.Done(k)
	if err := p.check(ctx, k); err != nil {
		p.logger.V(2).Info("Cannot estimate capacity; retrying", "cluster", k.cluster, "kind", k.ref.kind, "object", k.ref.key(), "err", err)
		p.queue.AddRateLimited(k)
		return true
	}
	p.queue.Forget(k)
	return true
}

// check estimates one cluster's capacity for one object anew, and tells
// the listeners if it changed.
func (p *Planner) check(ctx context.Context, k estimateKey) error {
	now := p.clock.Now()
	p.mu.Lock()
	w := p.watchers[k.cluster]
	sel := p.selectors[k.cluster][k.ref.namespace][k.ref]
	p.mu.Unlock()
	if w == nil || sel == nil {
		// The cluster or the object is gone; forget did the rest.
		return nil
	}
	if !w.informer.HasSynced() {
		// On the wall clock: the watcher's list is real time away, whatever
		// clock the estimates run on.
		time.AfterFunc(time.Second, func() { p.queue.Add(k) })
		return nil
	}

	// The watcher's cache says cheaply whether any pod is stuck at all.
	objs, err := w.informer.GetIndexer().ByIndex(cache.NamespaceIndex, k.ref.namespace)
	if err != nil {
		return err
	}
	stuckNow := false
	for _, obj := range objs {
		pod := obj.(*corev1.Pod)
		if !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		if since, ok := unschedulableSince(pod); ok {
			if wait := since.Add(p.threshold).Sub(now); wait > 0 {
				// Look again once it has been stuck long enough.
				p.queue.AddAfter(k, wait)
			} else {
				stuckNow = true
			}
		}
	}

	var capacity int64
	if stuckNow {
		// Count the object's pods and its stuck pods in one consistent
		// list: the watcher's cache and the copy's status each lag in
		// their own way while pods come and go.
		ctx, cancel := context.WithTimeout(ctx, listTimeout)
		defer cancel()
		list, err := w.client.CoreV1().Pods(k.ref.namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
		if err != nil {
			return fmt.Errorf("cluster %s: list pods of %s %s: %w", k.cluster, k.ref.kind, k.ref.key(), err)
		}
		var live, stuck int64
		for i := range list.Items {
			pod := &list.Items[i]
			if pod.DeletionTimestamp != nil || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
				continue
			}
			live++
			if since, ok := unschedulableSince(pod); ok && pod.Spec.NodeName == "" && !now.Before(since.Add(p.threshold)) {
				stuck++
			}
		}
		stuckNow = stuck > 0
		capacity = live - stuck
	}

	p.mu.Lock()
	old, had := p.estimates[k]
	changed := false
	switch {
	case stuckNow:
		changed = !had || old.capacity != capacity || !now.Before(old.expires)
		p.estimates[k] = estimate{capacity: capacity, expires: now.Add(p.expiry)}
		p.queue.AddAfter(k, p.expiry)
	case had && !now.Before(old.expires):
		// Nothing stuck for a whole expiry: replicas may return.
		delete(p.estimates, k)
		changed = true
	case had:
		p.queue.AddAfter(k, old.expires.Sub(now))
	}
	listeners := append([]listener(nil), p.listeners...)
	p.mu.Unlock()

	if changed {
		if stuckNow {
			p.logger.V(2).Info("Capacity estimated from Unschedulable pods", "cluster", k.cluster, "kind", k.ref.kind, "object", k.ref.key(), "capacity", capacity)
		} else {
			p.logger.V(2).Info("Capacity estimate expired", "cluster", k.cluster, "kind", k.ref.kind, "object", k.ref.key())
		}
		p.notify(listeners, k.ref)
	}
	return nil
}

// unschedulableSince says since when the scheduler has found no node for
// pod, if it has found none.
func unschedulableSince(pod *corev1.Pod) (time.Time, bool) {
	if pod.Spec.NodeName != "" || pod.DeletionTimestamp != nil {
		return time.Time{}, false
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return c.LastTransitionTime.Time, true
		}
	}
	return time.Time{}, false
}

// registrySource reads member clusters from the cluster registry.
type registrySource struct {
	registry *clusterclient.Registry
}

func (r registrySource) kube(cluster string) kubernetes.Interface {
	if c := r.registry.Get(cluster); c != nil {
		// Not c.Kube: its bucket is the health probes' own, and a pod
		// watch on it would let the probes wait behind the planner.
		return c.Shared
	}
	return nil
}

func (r registrySource) memberCopy(cluster string, gvr schema.GroupVersionResource, key string) (*unstructured.Unstructured, error) {
	c := r.registry.Get(cluster)
	if c == nil {
		return nil, nil
	}
	obj, _, err := c.Get(gvr, key) // nil when the cluster has none
	return obj, err
}

func (r registrySource) onChange(f func(cluster string)) {
	r.registry.OnChange(f)
}

func (r registrySource) allReady() bool {
	all := r.registry.All()
	return len(all) > 0 && len(r.registry.Ready()) == len(all)
}
