// Package fakeglbc stands in for GLBC, GCE's ingress controller, in one
// member cluster of a test federation or of `make run`. It programs the
// fake Compute Engine API of test/fakecompute through the real client,
// google.golang.org/api/compute/v1, with the names and the sharing rules
// GLBC has, so that federated Ingress is tested against the behaviour it
// depends on: members whose ConfigMaps kube-system/ingress-uid hold the same
// "uid" converge on one URL map, proxy and forwarding rule, and one backend
// service per node port holding every member's instance group.
//
// Per member it does what GLBC does:
//
//   - At start it reads kube-system/ingress-uid, creating it with a random
//     8-byte hex "uid" when it is missing, and it watches the ConfigMap: a
//     new "uid" or "provider-uid" names the resources made after it. As with
//     GLBC, changing the UID under existing Ingresses leaks their old
//     resources.
//   - Every Node is a VM in Options.Zone, tagged with Options.NodeTags, and
//     a member of the unmanaged instance group k8s-ig--<uid>, which has a
//     named port port<nodePort> for every backend node port. The group holds
//     exactly this member's VMs, so members sharing a zone and a UID remove
//     each other's VMs, as GLBC did (kubernetes/kubernetes#47565): give each
//     member its own zone.
//   - For every Ingress of class gce: a health check and a backend service
//     k8s-be-<nodePort>--<uid> per backend, with this member's group added to
//     it and other members' groups kept; the URL map, target HTTP proxy and
//     port-80 forwarding rule k8s-{um,tp,fw}-<ns>-<name>--<uid>, the rule on
//     the global address named by kubernetes.io/ingress.global-static-ip-name
//     or else on an ephemeral one; the firewall rule
//     k8s-fw-l7--<provider-uid or uid> opening every backend node port to
//     Google's L7 ranges on Options.NodeTags; and the Ingress's
//     status.loadBalancer and GLBC's read-only annotations.
//   - When such an Ingress goes, this member's group leaves its backend
//     services; the frontend goes when no other member's group is left in
//     them; backend services and health checks go when no group and no URL
//     map uses them; the firewall rule and the group go with the member's
//     last Ingress. Global addresses are never deleted.
//
// Work is queued per Ingress and retried with backoff, so errors and races
// between members (409 on insert, 412 on a stale fingerprint) converge. It
// never runs in a product binary.
//
// Left out: HTTPS (TLS secrets, SSL certificates, target HTTPS proxies and
// the promotion of an ephemeral address to a static one that goes with
// them), health check paths from readiness probes (always "/"), real
// backend health (a backend is "HEALTHY" when the member has nodes),
// network endpoint groups, and the cluster's default HTTP backend (an
// Ingress without a default backend uses its first one). What it made for
// an Ingress is remembered in memory only, so an Ingress deleted while the
// fake GLBC is not running leaves its resources behind.
package fakeglbc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"google.golang.org/api/compute/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	networkinglisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// Component is the name the fake GLBC logs and records events under.
const Component = "fake-glbc"

// Event reasons on Ingresses.
const (
	// EventReasonSync is a Normal event: the load balancer serves the
	// Ingress at a (new) address.
	EventReasonSync = "Sync"
	// EventReasonSyncError is a Warning event about something the user can
	// fix: a backend Service without a node port, a static IP that does not
	// exist. The Ingress is retried with backoff.
	EventReasonSyncError = "SyncError"
)

// Defaults of Options.
const (
	// DefaultNetwork is the network of a project that has not made others.
	DefaultNetwork = "default"
	// DefaultResync is how often every Ingress is synced again.
	DefaultResync = 30 * time.Second
)

// Options configures the fake GLBC of one member.
type Options struct {
	// Cluster is the member's name, for logs and VM names.
	Cluster string
	// Client is the member's client.
	Client kubernetes.Interface
	// Compute is a client of the fake Compute API.
	Compute *compute.Service
	// Project is the Compute project every member of a test shares.
	Project string
	// Zone is the member's zone: its VMs and its instance group are there.
	Zone string
	// Network is the VPC network of VMs, groups and firewall rules;
	// DefaultNetwork when empty.
	Network string
	// NodeTags are the network tags of this member's node instances; default "<cluster>-node".
	NodeTags []string
	// Resync is how often every Ingress is synced again, as GLBC's periodic
	// resync does; DefaultResync when zero.
	Resync time.Duration
}

// GLBC is a running fake GLBC of one member.
type GLBC struct {
	opts     Options
	cloud    *cloud
	client   kubernetes.Interface
	recorder record.EventRecorder
	queue    workqueue.TypedRateLimitingInterface[string]

	ingresses networkinglisters.IngressLister
	classes   networkinglisters.IngressClassLister
	services  corelisters.ServiceLister
	nodes     corelisters.NodeLister

	mu    sync.Mutex
	namer Namer

	// Only the single worker reads and writes these.
	owned      map[string]owned
	programmed bool

	done chan struct{}
}

// owned is what the worker made for an Ingress, so that it can be released
// after the Ingress is gone, with the names it was made under.
type owned struct {
	namer Namer
	ports []int32
}

// memberKey is the work queue key of the member-wide resources (VMs,
// instance group, firewall rule); no Ingress key is empty.
const memberKey = ""

func (o *Options) complete() error {
	if o.Cluster == "" || o.Client == nil || o.Compute == nil || o.Project == "" || o.Zone == "" {
		return errors.New("fake-glbc: Cluster, Client, Compute, Project and Zone are required")
	}
	if o.Network == "" {
		o.Network = DefaultNetwork
	}
	if len(o.NodeTags) == 0 {
		o.NodeTags = []string{o.Cluster + "-node"}
	}
	if o.Resync <= 0 {
		o.Resync = DefaultResync
	}
	return nil
}

// Start reads or creates the member's ingress UID, waits for the member's
// informers to sync, and runs the fake GLBC until ctx ends.
func Start(ctx context.Context, o Options) (*GLBC, error) {
	if err := o.complete(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	g := &GLBC{
		opts:   o,
		cloud:  &cloud{svc: o.Compute, project: o.Project, zone: o.Zone, network: o.Network},
		client: o.Client,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](100*time.Millisecond, 10*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: Component + "-" + o.Cluster},
		),
		owned: map[string]owned{},
		done:  make(chan struct{}),
	}
	namer, err := ensureUID(ctx, o.Client)
	if err != nil {
		cancel()
		g.queue.ShutDown()
		return nil, fmt.Errorf("fake-glbc cluster=%s: %w", o.Cluster, err)
	}
	g.namer = namer
	g.logf(1, "starting in project %s zone %s, uid %q, firewall suffix %q", o.Project, o.Zone, namer.UID, namer.FirewallSuffix)

	factory := informers.NewSharedInformerFactory(o.Client, o.Resync)
	uidFactory := informers.NewSharedInformerFactoryWithOptions(o.Client, o.Resync,
		informers.WithNamespace(uidNamespace),
		informers.WithTweakListOptions(func(lo *metav1.ListOptions) { lo.FieldSelector = "metadata.name=" + uidConfigMap }))
	if err := g.addHandlers(factory, uidFactory); err != nil {
		cancel()
		g.queue.ShutDown()
		return nil, err
	}

	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: o.Client.CoreV1().Events("")})
	g.recorder = broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: Component})

	stop := func() {
		cancel()
		g.queue.ShutDown()
		factory.Shutdown()
		uidFactory.Shutdown()
		broadcaster.Shutdown()
	}
	factory.Start(ctx.Done())
	uidFactory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), factory.Networking().V1().Ingresses().Informer().HasSynced,
		factory.Networking().V1().IngressClasses().Informer().HasSynced,
		factory.Core().V1().Services().Informer().HasSynced,
		factory.Core().V1().Nodes().Informer().HasSynced,
		uidFactory.Core().V1().ConfigMaps().Informer().HasSynced) {
		stop()
		return nil, fmt.Errorf("fake-glbc cluster=%s: caches did not sync before the context ended", o.Cluster)
	}

	go func() {
		defer close(g.done)
		defer stop()
		go func() {
			<-ctx.Done()
			g.queue.ShutDown()
		}()
		g.queue.Add(memberKey)
		g.enqueueAll()
		for g.processNextWorkItem(ctx) {
		}
	}()
	return g, nil
}

// Wait blocks until the fake GLBC has stopped after its context ended.
func (g *GLBC) Wait() { <-g.done }

// Namer returns the names the fake GLBC gives resources it makes now.
func (g *GLBC) Namer() Namer {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.namer
}

func (g *GLBC) addHandlers(factory, uidFactory informers.SharedInformerFactory) error {
	ings := factory.Networking().V1().Ingresses()
	classes := factory.Networking().V1().IngressClasses()
	svcs := factory.Core().V1().Services()
	nodes := factory.Core().V1().Nodes()
	g.ingresses, g.classes, g.services, g.nodes = ings.Lister(), classes.Lister(), svcs.Lister(), nodes.Lister()

	onAny := func(f func(obj interface{})) cache.ResourceEventHandlerFuncs {
		return cache.ResourceEventHandlerFuncs{AddFunc: f, UpdateFunc: func(_, obj interface{}) { f(obj) }, DeleteFunc: f}
	}
	handlers := []struct {
		informer cache.SharedIndexInformer
		handler  cache.ResourceEventHandler
	}{
		{ings.Informer(), onAny(g.enqueue)},
		{classes.Informer(), onAny(func(interface{}) { g.enqueueAll() })},
		{svcs.Informer(), onAny(g.enqueueUsersOf)},
		// Nodes only matter by name; their status heartbeats are updates.
		{nodes.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(interface{}) { g.queue.Add(memberKey) },
			DeleteFunc: func(interface{}) { g.queue.Add(memberKey) },
		}},
		{uidFactory.Core().V1().ConfigMaps().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    g.uidChanged,
			UpdateFunc: func(_, obj interface{}) { g.uidChanged(obj) },
		}},
	}
	for _, h := range handlers {
		if _, err := h.informer.AddEventHandler(h.handler); err != nil {
			return fmt.Errorf("fake-glbc cluster=%s: add event handler: %w", g.opts.Cluster, err)
		}
	}
	return nil
}

func (g *GLBC) enqueue(obj interface{}) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	g.queue.Add(key)
}

func (g *GLBC) enqueueAll() {
	ings, err := g.ingresses.List(labels.Everything())
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	for _, ing := range ings {
		g.enqueue(ing)
	}
	g.queue.Add(memberKey)
}

// enqueueUsersOf queues the Ingresses of a Service's namespace that route to
// it: its node ports decide their backend services.
func (g *GLBC) enqueueUsersOf(obj interface{}) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return
	}
	ings, err := g.ingresses.Ingresses(svc.Namespace).List(labels.Everything())
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	for _, ing := range ings {
		if slices.Contains(serviceNames(ing), svc.Name) {
			g.enqueue(ing)
		}
	}
}

// serviceNames lists the Services an Ingress routes to.
func serviceNames(ing *networkingv1.Ingress) []string {
	var out []string
	if b := ing.Spec.DefaultBackend; b != nil && b.Service != nil {
		out = append(out, b.Service.Name)
	}
	for _, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for _, p := range r.HTTP.Paths {
			if p.Backend.Service != nil {
				out = append(out, p.Backend.Service.Name)
			}
		}
	}
	return out
}

func (g *GLBC) processNextWorkItem(ctx context.Context) bool {
	key, quit := g.queue.Get()
	if quit {
		return false
	}
	defer g.queue.Done(key)
	if err := g.sync(ctx, key); err != nil {
		if ctx.Err() == nil {
			g.logf(2, "sync %q failed, will retry: %v", key, err)
		}
		g.queue.AddRateLimited(key)
		return true
	}
	g.queue.Forget(key)
	return true
}

// eventf records an event on an Ingress, unless the fake GLBC is stopping:
// its broadcaster stops with ctx, and would complain.
func (g *GLBC) eventf(ctx context.Context, ing *networkingv1.Ingress, eventType, reason, format string, args ...interface{}) {
	if ctx.Err() == nil {
		g.recorder.Eventf(ing, eventType, reason, format, args...)
	}
}

// logf logs at verbosity v with the component and cluster in front, so that
// the logs of several members in one test tell apart.
func (g *GLBC) logf(v klog.Level, format string, args ...interface{}) {
	if klog.V(v).Enabled() {
		klog.InfoDepth(1, fmt.Sprintf("%s cluster=%s: ", Component, g.opts.Cluster)+fmt.Sprintf(format, args...))
	}
}
