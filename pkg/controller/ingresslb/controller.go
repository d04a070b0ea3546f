// Package ingresslb puts every member's copy of a federated Ingress of
// GCE's class behind one global load balancer on one static IP. Each
// member's GCE ingress controller (GLBC) programs the load balancer; the
// federation makes them program the same one:
//
//   - Shared UID: every member's ConfigMap kube-system/ingress-uid holds
//     the federation's "uid" (adopted from the first member that has one,
//     recorded on the Cluster objects as kubernetes.io/ingress.uid) and a
//     "provider-uid" of its own. A member whose own different uid is in
//     use by Ingresses of its own is reported, never changed.
//   - Static IP up front: a global address is reserved for each federated
//     Ingress the user gave none, and named in its
//     kubernetes.io/ingress.global-static-ip-name annotation before any
//     member gets the Ingress. Only addresses the federation reserved are
//     released, when the Ingress is deleted (finalizer
//     federation.k8s.io/release-load-balancer).
//   - Same node ports: a backend Service port without a node port gets
//     the one the first member allocated, written into the federated
//     Service, so that every member's copy has it.
//   - One firewall rule: the federation's own, allowing Google's load
//     balancer and health-check ranges to every backend node port on every
//     member's nodes (the network tags of the instances in GLBC's instance
//     groups), kept in step and deleted with the last Ingress.
//
// The sync controller holds a GCE Ingress back from a member until the
// address is named and the member's UID is the federation's: this
// controller is the Ingress kind's controller.MemberGate.
package ingresslb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	fedscheme "github.com/kfederation/client-go/clientset/versioned/scheme"
	fedlisters "github.com/kfederation/client-go/listers/federation/v1beta1"

	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/googlecloud/gce"
)

// Name is the controller's name in --controllers and in logs.
const Name = "ingress-lb"

// Event reasons on federated Ingresses and Clusters.
const (
	ReasonAddressReserved    = "GlobalAddressReserved"
	ReasonAddressReleased    = "GlobalAddressReleased"
	ReasonAddressFailed      = "GlobalAddressFailed"
	ReasonNodePortChosen     = "NodePortChosen"
	ReasonBackendNotFed      = "BackendServiceNotFederated"
	ReasonBackendNoNodePort  = "BackendServiceNoNodePort"
	ReasonFirewallUpdated    = "FirewallRuleUpdated"
	ReasonUIDConflict        = "IngressUIDConflict"
	ReasonUIDSet             = "IngressUIDSet"
	ReasonLoadBalancerFailed = "LoadBalancerFailed"
)

var (
	ingressGVR      = networkingv1.SchemeGroupVersion.WithResource("ingresses")
	ingressClassGVR = networkingv1.SchemeGroupVersion.WithResource("ingressclasses")
	serviceGVR      = corev1.SchemeGroupVersion.WithResource("services")
)

// Cloud is what the controller asks of Compute Engine; *gce.Cloud is the
// real one.
type Cloud interface {
	GetAddress(ctx context.Context, name string) (*gce.Address, error)
	ReserveAddress(ctx context.Context, name, description string) (*gce.Address, error)
	ReleaseAddress(ctx context.Context, name string) error
	GetFirewall(ctx context.Context, name string) (*gce.Firewall, error)
	EnsureFirewall(ctx context.Context, want gce.Firewall) (bool, error)
	DeleteFirewall(ctx context.Context, name string) error
	BackendServiceGroups(ctx context.Context, name string) ([]string, error)
	InstanceGroupTags(ctx context.Context, zone, name string) ([]string, error)
}

// Options configure the controller.
type Options struct {
	// ClasslessIsGCE makes Ingresses without a class GCE's
	// (--cloud-provider=gce).
	ClasslessIsGCE bool
	// Resync is how often the UIDs, the firewall rule and each Ingress's
	// load balancer are checked again without an event.
	Resync time.Duration
	// UIDSettle is how long after changing a member's UID its Ingresses
	// wait, so that its GLBC (which polls the ConfigMap every 5 s) names
	// their resources with the new UID.
	UIDSettle time.Duration
}

// cloudTimeout bounds one cloud call.
const cloudTimeout = 30 * time.Second

// Queue keys besides "ingress:<namespace>/<name>".
const (
	uidsKey     = "uids"
	firewallKey = "firewall"
	ingressKey  = "ingress:"
)

// Controller is the Ingress load balancer controller.
type Controller struct {
	cctx     *controller.Context
	cloud    Cloud
	members  members
	opts     Options
	class    classOf
	ings     cache.SharedIndexInformer
	svcs     cache.SharedIndexInformer
	classes  cache.SharedIndexInformer
	clusters fedlisters.ClusterLister
	synced   []cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
	recorder record.EventRecorder
	logger   klog.Logger

	mu sync.Mutex
	// uid is the federation's ingress UID, "" until known.
	uid string
	// conflicts holds, per cluster, why its UID cannot be made the
	// federation's.
	conflicts map[string]string
	// settling holds, per cluster, until when its GLBC may still use its
	// old UID.
	settling map[string]time.Time
	// onChange are the sync's wake-ups (controller.MemberGate).
	onChange []func(namespace, name string)
}

// New wires the controller; Run starts it. It is the gate of the Ingress
// sync: register it with cctx.RegisterGate before the sync starts. With a
// nil cloud it only takes its finalizer off deleted Ingresses (the
// controller is turned off), leaving their addresses.
func New(ctx context.Context, cctx *controller.Context, cloud Cloud, opts Options) *Controller {
	recorder := cctx.Recorder(ctx, eventScheme(), "federation-"+Name)
	c := newController(ctx, cctx, cloud, opts, registryMembers{cctx.Clusters}, recorder)
	cctx.Clusters.OnChange(func(string) { c.queue.Add(uidsKey) })
	return c
}

// newController is New with the member clusters and the event recorder
// given, and without the registry's wake-ups: tests hand in fakes and
// call the syncs themselves.
func newController(ctx context.Context, cctx *controller.Context, cloud Cloud, opts Options, m members, recorder record.EventRecorder) *Controller {
	if opts.Resync <= 0 {
		opts.Resync = time.Minute
	}
	if opts.UIDSettle <= 0 {
		opts.UIDSettle = 10 * time.Second
	}
	clusterInformer := cctx.FedInformers.Federation().V1beta1().Clusters()
	c := &Controller{
		cctx:      cctx,
		cloud:     cloud,
		opts:      opts,
		members:   m,
		ings:      cctx.DynamicInformers.ForResource(ingressGVR).Informer(),
		svcs:      cctx.DynamicInformers.ForResource(serviceGVR).Informer(),
		classes:   cctx.DynamicInformers.ForResource(ingressClassGVR).Informer(),
		clusters:  clusterInformer.Lister(),
		queue:     workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Second, 2*time.Minute), workqueue.TypedRateLimitingQueueConfig[string]{Name: Name}),
		recorder:  recorder,
		logger:    klog.FromContext(ctx).WithName(Name),
		conflicts: map[string]string{},
		settling:  map[string]time.Time{},
	}
	c.class = classOf{classless: opts.ClasslessIsGCE, controller: c.classController}
	c.synced = []cache.InformerSynced{c.ings.HasSynced, c.svcs.HasSynced, c.classes.HasSynced, clusterInformer.Informer().HasSynced}
	if err := controller.AddIngressBackendIndex(c.ings); err != nil {
		// Only possible once the informer runs: a wiring mistake.
		utilruntime.HandleError(fmt.Errorf("%s: %w", Name, err))
	}
	_, _ = c.ings.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueIngress,
		UpdateFunc: func(_, obj interface{}) { c.enqueueIngress(obj) },
		DeleteFunc: func(interface{}) { c.queue.Add(firewallKey) },
	})
	// A backend Service's node ports decide the firewall rule and each
	// member's copy.
	_, _ = c.svcs.AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj interface{}) { c.enqueueIngressesOf(obj) },
		AddFunc:    c.enqueueIngressesOf,
	})
	_, _ = clusterInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(interface{}) { c.queue.Add(uidsKey) },
		UpdateFunc: c.clusterUpdated,
		DeleteFunc: func(interface{}) { c.queue.Add(uidsKey); c.queue.Add(firewallKey) },
	})
	return c
}

// Run waits for the caches and runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	c.logger.Info("Starting")
	if !cache.WaitForNamedCacheSync(Name, ctx.Done(), c.synced...) {
		return
	}
	go wait.UntilWithContext(ctx, func(context.Context) { c.resync() }, c.opts.Resync)
	pending := func(err error) bool { return errors.Is(err, controller.ErrObjectChanged) }
	controller.Worker{Queue: c.queue, Sync: c.sync, Pending: pending, Logger: c.logger, KeyName: "key"}.Run(ctx, workers)
	<-ctx.Done()
	c.logger.Info("Stopping")
}

// resync checks everything again: the members' UIDs and node tags change
// without an event the federation sees.
func (c *Controller) resync() {
	c.queue.Add(uidsKey)
	c.queue.Add(firewallKey)
	for _, obj := range c.ings.GetStore().List() {
		c.enqueueIngress(obj)
	}
}

// sync does the work of one queue key.
func (c *Controller) sync(ctx context.Context, key string) error {
	switch {
	case c.cloud == nil && strings.HasPrefix(key, ingressKey):
		return c.releaseWithoutCloud(ctx, key[len(ingressKey):])
	case c.cloud == nil:
		return nil
	case key == uidsKey:
		return c.syncUIDs(ctx)
	case key == firewallKey:
		return c.syncFirewall(ctx)
	default:
		return c.syncIngress(ctx, key[len(ingressKey):])
	}
}

func (c *Controller) enqueueIngress(obj interface{}) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(ingressKey + key)
	}
}

// enqueueIngressesOf queues the GCE Ingresses whose backends include the
// Service obj, and wakes the sync for them: its node ports may hold them
// back no more.
func (c *Controller) enqueueIngressesOf(obj interface{}) {
	svc, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	for _, o := range controller.IngressesOf(c.ings, svc.GetNamespace(), svc.GetName()) {
		ing, err := toIngress(o)
		if err != nil || !c.class.isGCE(ing) {
			continue
		}
		c.queue.Add(ingressKey + ing.Namespace + "/" + ing.Name)
		c.wake(ing)
	}
}

// gceIngresses are the federated Ingresses of GCE's class.
func (c *Controller) gceIngresses() []*networkingv1.Ingress {
	var out []*networkingv1.Ingress
	for _, obj := range c.ings.GetStore().List() {
		if ing, err := toIngress(obj); err == nil && c.class.isGCE(ing) {
			out = append(out, ing)
		}
	}
	return out
}

// classController is the spec.controller of the federation's IngressClass
// called name.
func (c *Controller) classController(name string) string {
	obj, exists, err := c.classes.GetStore().GetByKey(name)
	if err != nil || !exists {
		return ""
	}
	ctl, _, _ := unstructured.NestedString(obj.(*unstructured.Unstructured).Object, "spec", "controller")
	return ctl
}

func toIngress(obj interface{}) (*networkingv1.Ingress, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("not an object: %T", obj)
	}
	ing := &networkingv1.Ingress{}
	return ing, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, ing)
}

func toService(obj interface{}) (*corev1.Service, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("not an object: %T", obj)
	}
	svc := &corev1.Service{}
	return svc, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, svc)
}

// withTimeout bounds one cloud call.
func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, cloudTimeout)
}

func isNotFound(err error) bool { return errors.Is(err, gce.ErrNotFound) }

func everything() labels.Selector { return labels.Everything() }

// eventScheme knows the stock kinds and Clusters, which events are
// recorded on.
func eventScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(scheme.AddToScheme(s))
	utilruntime.Must(fedscheme.AddToScheme(s))
	return s
}
