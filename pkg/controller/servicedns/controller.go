package servicedns

import (
	"context"
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

// ownerKind is the kind in the owner object of every record set this
// controller writes: "service/mynamespace/nginx".
const ownerKind = "service"

// Name is the controller's name in --controllers and in logs.
const Name = "service-dns"

// Options are the controller's settings from the command line.
type Options struct {
	// Suffix ends every name ("example.com."): --service-dns-suffix,
	// the zone's name by default.
	Suffix string
	// TTL of the records, in seconds, unless a Service's
	// federation.kubernetes.io/dns-ttl annotation says otherwise.
	TTL int64
	// UnhealthyGrace is how long a member may be not Ready before its
	// addresses leave the records.
	UnhealthyGrace time.Duration
	// SweepPeriod is how often the zone is listed to find records of
	// Services that are gone and records changed behind the federation's
	// back.
	SweepPeriod time.Duration
}

// DefaultSweepPeriod is Options.SweepPeriod unless set.
const DefaultSweepPeriod = 5 * time.Minute

// Controller publishes the DNS records of federated Services.
type Controller struct {
	opts       Options
	federation string
	// zone is where records go; nil turns the controller into one that
	// only takes its finalizer off deleted Services (DNS is off).
	zone dnsprovider.Zone

	services cache.SharedIndexInformer
	dynamic  dynamic.Interface
	clusters fedlisters.ClusterLister
	registry *clusterclient.Registry
	members  members
	synced   []cache.InformerSynced

	health   *dnsrecords.Health
	resolver *dnsrecords.Resolver
	writer   *dnsrecords.Writer

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
	opts.Suffix = dnsrecords.FQDN(opts.Suffix)
	clusterInformer := cctx.FedInformers.Federation().V1beta1().Clusters()
	logger := klog.FromContext(ctx).WithName(Name)
	c := &Controller{
		opts:       opts,
		federation: cctx.FederationName,
		services:   cctx.DynamicInformers.ForResource(servicesGVR).Informer(),
		dynamic:    cctx.DynamicClient,
		clusters:   clusterInformer.Lister(),
		registry:   cctx.Clusters,
		members:    m,
		health:     dnsrecords.NewHealth(opts.UnhealthyGrace),
		resolver:   dnsrecords.NewResolver(),
		writer:     dnsrecords.NewWriter(cctx.FederationName, ownerKind, "rename the Service", recorder, logger),
		queue:      workqueue.NewTypedRateLimitingQueueWithConfig(dnsrecords.RetryLimiter(), workqueue.TypedRateLimitingQueueConfig[string]{Name: Name}),
		recorder:   recorder,
		logger:     logger,
	}
	c.synced = []cache.InformerSynced{c.services.HasSynced, clusterInformer.Informer().HasSynced}
	_, _ = c.services.AddEventHandler(dnsrecords.HandlerOf(c.enqueue))
	if !on {
		return c
	}
	// A cluster joining, leaving, changing zones or readiness changes
	// every Service's records.
	dnsrecords.OnClusterChange(clusterInformer.Informer(), cctx.Clusters, c.enqueueAll)
	return c
}

func (c *Controller) enqueue(obj interface{}) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(key)
	}
}

func (c *Controller) enqueueAll() {
	for _, key := range c.services.GetStore().ListKeys() {
		c.queue.Add(key)
	}
}

// Run waits for the caches, reads what the zone holds, and runs workers
// and the sweep until ctx ends. A nil zone (DNS off) only takes the
// finalizer off deleted Services.
func (c *Controller) Run(ctx context.Context, zone dnsprovider.Zone, workers int) {
	defer utilruntime.HandleCrash()
	c.zone = zone
	defer c.queue.ShutDown()
	if c.zone == nil {
		c.logger.Info("Service DNS is off (no --dns-provider, or left out by --controllers): federated Services get no DNS records")
	} else {
		c.logger.Info("Starting", "zone", c.zone.Name(), "suffix", c.opts.Suffix)
	}
	if !cache.WaitForNamedCacheSync(Name, ctx.Done(), c.synced...) {
		return
	}
	if c.zone != nil {
		c.members.Watch(func(namespace, name string) { c.queue.Add(namespace + "/" + name) })
		// One List before the first sync: after a restart, every Service
		// whose records are as they should be then costs no request.
		c.sweep(ctx)
		go wait.UntilWithContext(ctx, c.sweep, c.opts.SweepPeriod)
	}
	controller.Worker{Queue: c.queue, Sync: c.reconcile, Pending: dnsrecords.Pending, Logger: c.logger, KeyName: "service"}.Run(ctx, workers)
	<-ctx.Done()
	c.logger.Info("Stopping")
}

// sweep lists every record set the federation owns in the zone and looks
// again at each Service whose records are not as this controller last
// left them: records of Services deleted while it was down, or changed by
// hand.
func (c *Controller) sweep(ctx context.Context) {
	c.writer.SweepInto(ctx, c.zone, c.queue.Add, c.logger, c.opts.SweepPeriod)
}

// resource is the federation's dynamic client for Services in obj's
// namespace.
func (c *Controller) resource(obj *unstructured.Unstructured) dynamic.ResourceInterface {
	return c.dynamic.Resource(servicesGVR).Namespace(obj.GetNamespace())
}
