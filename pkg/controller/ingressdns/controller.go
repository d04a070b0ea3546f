package ingressdns

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	fedlisters "github.com/kfederation/client-go/listers/federation/v1beta1"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/controller/dnsrecords"
	"github.com/kfederation/federation/pkg/dnsprovider"
)

// Name is the controller's name in --controllers and in logs.
const Name = "ingress-dns"

// ownerKind is the kind in the owner object of every record set this
// controller writes: "ingress/shop/web".
const ownerKind = "ingress"

// Options are the controller's settings from the command line.
type Options struct {
	// TTL of the records, in seconds (--dns-ttl).
	TTL int64
	// UnhealthyGrace is how long a member may be not Ready before its
	// addresses leave the records (--dns-unhealthy-grace).
	UnhealthyGrace time.Duration
	// SweepPeriod is how often the zone is listed to find records of
	// Ingresses that are gone and records changed behind the federation's
	// back.
	SweepPeriod time.Duration
	// LeaveGCEIngresses says the Ingress load balancer controller runs
	// (--cloud-provider=gce) and gives GCE's Ingresses, those of class gce
	// and those with no class at all, one global address: they get no
	// records here. Without it every Ingress is this controller's, GCE's
	// included: each member's own load balancer gives it an address of its
	// own, as any other class's does.
	LeaveGCEIngresses bool
}

// DefaultSweepPeriod is Options.SweepPeriod unless set.
const DefaultSweepPeriod = 5 * time.Minute

// Controller publishes the DNS records of federated Ingresses.
type Controller struct {
	opts       Options
	federation string
	// zone is where records go; nil turns the controller into one that
	// only takes its finalizer off deleted Ingresses (DNS is off).
	zone dnsprovider.Zone

	ingresses cache.SharedIndexInformer
	// classes are the federation's IngressClasses; nil while DNS is off.
	classes  cache.SharedIndexInformer
	dynamic  dynamic.Interface
	clusters fedlisters.ClusterLister
	registry *clusterclient.Registry
	members  members
	synced   []cache.InformerSynced

	health   *dnsrecords.Health
	resolver *dnsrecords.Resolver
	writer   *dnsrecords.Writer

	// skipped holds, per Ingress, the hosts last reported as getting no
	// record, so that the event is not repeated every sync.
	skippedMu sync.Mutex
	skipped   map[string]string

	queue    workqueue.TypedRateLimitingInterface[string]
	recorder record.EventRecorder
	logger   klog.Logger
}

// New wires the controller to the federation's informers and the member
// clusters, before the informers start. With on false, it is the
// controller that stands in while DNS is off. Run starts it.
func New(ctx context.Context, cctx *controller.Context, on bool, opts Options) *Controller {
	recorder := cctx.Recorder(ctx, scheme.Scheme, "federation-"+Name)
	return newController(ctx, cctx, on, opts, registryMembers{cctx.Clusters}, recorder)
}

func newController(ctx context.Context, cctx *controller.Context, on bool, opts Options, m members, recorder record.EventRecorder) *Controller {
	if opts.SweepPeriod <= 0 {
		opts.SweepPeriod = DefaultSweepPeriod
	}
	clusterInformer := cctx.FedInformers.Federation().V1beta1().Clusters()
	logger := klog.FromContext(ctx).WithName(Name)
	c := &Controller{
		opts:       opts,
		federation: cctx.FederationName,
		ingresses:  cctx.DynamicInformers.ForResource(ingressesGVR).Informer(),
		dynamic:    cctx.DynamicClient,
		clusters:   clusterInformer.Lister(),
		registry:   cctx.Clusters,
		members:    m,
		health:     dnsrecords.NewHealth(opts.UnhealthyGrace),
		resolver:   dnsrecords.NewResolver(),
		writer:     dnsrecords.NewWriter(cctx.FederationName, ownerKind, "change the Ingress's host", recorder, logger),
		skipped:    map[string]string{},
		queue:      workqueue.NewTypedRateLimitingQueueWithConfig(dnsrecords.RetryLimiter(), workqueue.TypedRateLimitingQueueConfig[string]{Name: Name}),
		recorder:   recorder,
		logger:     logger,
	}
	c.synced = []cache.InformerSynced{c.ingresses.HasSynced, clusterInformer.Informer().HasSynced}
	_, _ = c.ingresses.AddEventHandler(dnsrecords.HandlerOf(c.enqueue))
	if !on {
		return c
	}
	if err := controller.AddIngressBackendIndex(c.ingresses); err != nil {
		// Only possible once the informer runs: a wiring mistake.
		utilruntime.HandleError(fmt.Errorf("%s: %w", Name, err))
	}
	// A class that changes its controller moves its Ingresses to or from
	// GCE's load balancer.
	c.classes = cctx.DynamicInformers.ForResource(ingressClassesGVR).Informer()
	c.synced = append(c.synced, c.classes.HasSynced)
	_, _ = c.classes.AddEventHandler(dnsrecords.HandlerOf(func(interface{}) { c.enqueueAll() }))
	// A cluster joining, leaving or changing readiness changes every
	// Ingress's records.
	dnsrecords.OnClusterChange(clusterInformer.Informer(), cctx.Clusters, c.enqueueAll)
	return c
}

func (c *Controller) enqueue(obj interface{}) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(key)
	}
}

func (c *Controller) enqueueAll() {
	for _, key := range c.ingresses.GetStore().ListKeys() {
		c.queue.Add(key)
	}
}

// enqueueBackend queues every Ingress that sends traffic to the Service.
func (c *Controller) enqueueBackend(namespace, service string) {
	for _, obj := range controller.IngressesOf(c.ingresses, namespace, service) {
		c.enqueue(obj)
	}
}

// Run waits for the caches, reads what the zone holds, and runs workers
// and the sweep until ctx ends. A nil zone (DNS off) only takes the
// finalizer off deleted Ingresses.
func (c *Controller) Run(ctx context.Context, zone dnsprovider.Zone, workers int) {
	defer utilruntime.HandleCrash()
	c.zone = zone
	defer c.queue.ShutDown()
	if c.zone == nil {
		c.logger.Info("Ingress DNS is off (no --dns-provider, or left out by --controllers): federated Ingresses get no DNS records")
	} else {
		c.logger.Info("Starting", "zone", c.zone.Name())
	}
	if !cache.WaitForNamedCacheSync(Name, ctx.Done(), c.synced...) {
		return
	}
	if c.zone != nil {
		c.members.Watch(func(namespace, name string) { c.queue.Add(namespace + "/" + name) }, c.enqueueBackend)
		// One List before the first sync: after a restart, every Ingress
		// whose records are as they should be then costs no request.
		c.sweep(ctx)
		go wait.UntilWithContext(ctx, c.sweep, c.opts.SweepPeriod)
	}
	controller.Worker{Queue: c.queue, Sync: c.reconcile, Pending: dnsrecords.Pending, Logger: c.logger, KeyName: "ingress"}.Run(ctx, workers)
	<-ctx.Done()
	c.logger.Info("Stopping")
}

// sweep lists every record set the federation owns in the zone and looks
// again at each Ingress whose records are not as this controller last
// left them: records of Ingresses deleted while it was down, or changed by
// hand, and names someone else held.
func (c *Controller) sweep(ctx context.Context) {
	c.writer.SweepInto(ctx, c.zone, c.queue.Add, c.logger, c.opts.SweepPeriod)
}

// resource is the federation's dynamic client for Ingresses in obj's
// namespace.
func (c *Controller) resource(obj *unstructured.Unstructured) dynamic.ResourceInterface {
	return c.dynamic.Resource(ingressesGVR).Namespace(obj.GetNamespace())
}

// classController is the spec.controller of the federation's IngressClass
// called name, "" if it has none.
func (c *Controller) classController(name string) string {
	if c.classes == nil {
		return ""
	}
	return controller.IngressClassControllers(c.classes.GetStore())(name)
}
