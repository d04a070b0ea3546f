// Package cluster is the cluster controller. It keeps a client for every
// member Cluster in the clusterclient.Registry, probes each member's
// /readyz, and reports the outcome in the Cluster's status, in events, and
// to the registry, which is what turns operations on and off for a member.
//
// Clients are built by a work queue of cluster names, fed by the Cluster
// informer (creation, changes of the spec or of the annotation
// federation.kubernetes.io/insecure-skip-tls-verify, deletion) and by a
// Secret informer on the federation-system namespace (credential changes).
// Probing is a separate loop: every monitor period each cluster gets its own
// goroutine sending GET /readyz bounded by the probe timeout, and a cluster
// whose previous probe is still running is skipped, so a hanging member
// neither delays the others nor piles up goroutines.
//
// Outcomes, as the Ready condition's reason and the Offline condition:
//
//   - /readyz answers "ok": ClusterReady; Offline=False.
//   - any other HTTP answer: ClusterNotReady, naming the failing checks; Offline=False.
//   - HTTP 401 or 403: ClusterCredentialsRejected, naming the Secret to fix; Offline=False.
//   - the member's serving certificate is not trusted: ClusterCredentialsInvalid,
//     since the CA comes from the Secret; Offline=False, a TLS server did answer.
//   - no answer (connection refused, timeout, DNS): ClusterNotReachable; Offline=True.
//   - no usable credentials (ClusterSecretMissing, ClusterCredentialsInvalid),
//     credentials that are refused (ClusterCredentialsRefused), or no usable
//     server address or annotation (ClusterConfigInvalid): Offline=Unknown.
//
// Credentials are refused when the Secret's kubeconfig asks for anything
// but inline credentials (clusterclient.RefusedError): an exec plugin, an
// auth-provider, a file path, basic authentication, impersonation, a proxy,
// or skipping TLS verification when the Cluster does not allow it. The
// message names the refused field by its path in the kubeconfig, e.g.
// users[0].user.exec, and nothing in it was run or read.
//
// Offline is Unknown, not True, when the credentials or address are unusable
// because no probe was sent at all: the member may well be up, and
// Offline=True would send an operator to debug the network when the fix is a
// Secret or the Cluster's spec. Such a cluster is also removed from the
// registry, so that nothing keeps acting on it with credentials that were
// deleted or replaced by unusable ones.
//
// The status is written only when a condition's status, reason or message,
// the zones or the region change, or when the stored lastProbeTime is older
// than StatusRefreshPeriod, so that a healthy federation writes each Cluster
// at most every 30 s while lastProbeTime still shows the controller is alive.
//
// Zones are the sorted, distinct zone labels of the member's nodes; the
// region is the most common region label, the alphabetically first on a
// tie, so that a member whose nodes disagree still reports one stable
// region instead of flapping between writes. Nodes are listed, metadata
// only, when a member becomes Ready and at most every ZonesRefreshPeriod
// after that, in the background so that a slow list never delays a probe.
//
// Secret contents never reach status, events or logs: messages are built
// from the Secret's name and key names only, and the errors of parsing a
// Secret, which can quote the bytes that failed to parse, are dropped rather
// than wrapped.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	kubeinformers "k8s.io/client-go/informers"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
	fedclientset "github.com/kfederation/client-go/clientset/versioned"
	fedscheme "github.com/kfederation/client-go/clientset/versioned/scheme"
	fedinformers "github.com/kfederation/client-go/informers/externalversions/federation/v1beta1"
	fedlisters "github.com/kfederation/client-go/listers/federation/v1beta1"

	"github.com/kfederation/federation/pkg/apis/federation/annotations"
	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller"

	"github.com/kfederation/federation/pkg/freshwrites"
)

// ControllerName names the controller in logs, events and its work queue.
const ControllerName = "cluster-controller"

// StatusRefreshPeriod is how old a Cluster's stored lastProbeTime may grow
// before an unchanged status is written anyway, so that readers can tell a
// current status from one left behind by a stopped controller.
const StatusRefreshPeriod = 30 * time.Second

// ZonesRefreshPeriod is how often the nodes of a Ready member are listed
// for its zones and region; listing them every probe would cost a large
// member far more than the probe itself.
const ZonesRefreshPeriod = 30 * time.Second

// Reasons of the Ready and Offline conditions, used as event reasons too.
const (
	// ReasonClusterReady: /readyz answered "ok".
	ReasonClusterReady = "ClusterReady"
	// ReasonClusterNotReady: /readyz answered, but not "ok".
	ReasonClusterNotReady = "ClusterNotReady"
	// ReasonClusterNotReachable: the member's API server did not answer.
	ReasonClusterNotReachable = "ClusterNotReachable"
	// ReasonClusterReachable: Offline=False, the API server answered.
	ReasonClusterReachable = "ClusterReachable"
	// ReasonClusterCredentialsRejected: the member answered 401 or 403.
	ReasonClusterCredentialsRejected = "ClusterCredentialsRejected"
	// ReasonClusterSecretMissing: spec.secretRef is unset or names no Secret.
	ReasonClusterSecretMissing = "ClusterSecretMissing"
	// ReasonClusterCredentialsInvalid: the Secret has no usable credentials,
	// or its CA does not trust the member's serving certificate.
	ReasonClusterCredentialsInvalid = "ClusterCredentialsInvalid"
	// ReasonClusterCredentialsRefused: the Secret's kubeconfig asks for more
	// than inline credentials; the message names the refused field.
	ReasonClusterCredentialsRefused = "ClusterCredentialsRefused"
	// ReasonClusterConfigInvalid: the Cluster's spec gives no usable server
	// address, or its annotation federation.kubernetes.io/insecure-skip-tls-verify
	// is neither "true" nor "false".
	ReasonClusterConfigInvalid = "ClusterConfigInvalid"
)

// Options are the controller's settings.
type Options struct {
	// MonitorPeriod is how often every member is probed.
	MonitorPeriod time.Duration
	// ProbeTimeout bounds each /readyz probe; a member that does not answer
	// within it is reported ClusterNotReachable.
	ProbeTimeout time.Duration
	// ListTimeout bounds listing a member's nodes for zones and region.
	ListTimeout time.Duration
	// FailureThreshold is how many probes in a row must fail before a Ready
	// member is reported not Ready; 0 counts as 1. A member that was not
	// Ready becomes Ready on its first good probe.
	FailureThreshold int
}

// Controller keeps the registry's member clients in step with the Clusters
// and their Secrets, and the Clusters' status in step with the members.
type Controller struct {
	// written holds each Cluster as this controller last wrote it: the
	// informer cache may not have caught up with that write yet, and
	// comparing with a stale copy would write (and emit events) twice.
	written *freshwrites.Cache[*federationv1beta1.Cluster]

	fedClient      fedclientset.Interface
	clusterLister  fedlisters.ClusterLister
	clustersSynced cache.InformerSynced
	secretLister   corelisters.SecretNamespaceLister
	secretsSynced  cache.InformerSynced
	clusters       *clusterclient.Registry
	queue          workqueue.TypedRateLimitingInterface[string]
	recorder       record.EventRecorder
	opts           Options
	clock          clock.PassiveClock

	mu     sync.Mutex
	states map[string]*clusterState
}

// clusterState is what the controller remembers of one Cluster between
// syncs and probes. Its fields are guarded by Controller.mu.
type clusterState struct {
	// unusable is set when no client can be built; probes report it instead
	// of probing.
	unusable *verdict
	// secretName is the Secret the client was built from, for messages.
	secretName string

	// member is the registry entry the rest of the state refers to; a new
	// one (new credentials or address) restarts the zone refresh.
	member *clusterclient.Cluster
	meta   metadata.Interface

	// probing is set while a probe runs; probeAgain asks it to probe once
	// more when done.
	probing      bool
	probeAgain   bool
	listingNodes bool
	wasReady     bool
	// failures counts the probes in a row that found the member not Ready.
	failures int

	zonesKnown bool
	zonesAt    time.Time
	zones      []string
	region     string
}

// Start builds the cluster controller from the shared context and runs it
// until ctx ends. The Secret informer is the controller's own, restricted to
// the federation-system namespace, so that the federation's propagated
// Secrets are never cached here; Start starts it itself because the app
// starts only the shared factories.
func Start(ctx context.Context, cctx *controller.Context) error {
	secrets := kubeinformers.NewSharedInformerFactoryWithOptions(cctx.KubeClient, 0,
		kubeinformers.WithNamespace(federationv1beta1.FederationSystemNamespace))
	c, err := NewController(ctx, cctx.KubeClient, cctx.FedClient,
		cctx.FedInformers.Federation().V1beta1().Clusters(), secrets.Core().V1().Secrets(),
		cctx.Clusters, Options{
			MonitorPeriod:    cctx.ClusterMonitorPeriod,
			ProbeTimeout:     cctx.ClusterProbeTimeout,
			ListTimeout:      cctx.MemberRequestTimeout,
			FailureThreshold: cctx.ClusterFailureThreshold,
		})
	if err != nil {
		return err
	}
	secrets.Start(ctx.Done())
	workers := cctx.ConcurrentSyncs
	if workers < 1 {
		workers = 1
	}
	go func() {
		if err := c.Run(ctx, workers); err != nil {
			klog.FromContext(ctx).WithName(ControllerName).Error(err, "Cluster controller stopped")
		}
	}()
	return nil
}

// NewController registers the controller's event handlers on the informers
// and returns it; Run makes it work. Events go to kubeClient, the
// federation-apiserver, which files those of a Cluster, being cluster-scoped,
// in the default namespace.
func NewController(ctx context.Context, kubeClient kubernetes.Interface, fedClient fedclientset.Interface,
	clusterInformer fedinformers.ClusterInformer, secretInformer coreinformers.SecretInformer,
	clusters *clusterclient.Registry, opts Options) (*Controller, error) {
	if opts.MonitorPeriod <= 0 || opts.ProbeTimeout <= 0 {
		return nil, fmt.Errorf("cluster controller: monitor period (%v) and probe timeout (%v) must be positive", opts.MonitorPeriod, opts.ProbeTimeout)
	}
	if opts.ListTimeout <= 0 {
		opts.ListTimeout = 10 * time.Second
	}
	if opts.FailureThreshold < 1 {
		opts.FailureThreshold = 1
	}
	logger := klog.FromContext(ctx).WithName(ControllerName)

	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartStructuredLogging(3)
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: kubeClient.CoreV1().Events("")})

	c := &Controller{
		written:        freshwrites.New[*federationv1beta1.Cluster](freshwrites.DefaultTTL),
		fedClient:      fedClient,
		clusterLister:  clusterInformer.Lister(),
		clustersSynced: clusterInformer.Informer().HasSynced,
		secretLister:   secretInformer.Lister().Secrets(federationv1beta1.FederationSystemNamespace),
		secretsSynced:  secretInformer.Informer().HasSynced,
		clusters:       clusters,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: ControllerName},
		),
		recorder: broadcaster.NewRecorder(fedscheme.Scheme, corev1.EventSource{Component: ControllerName}),
		opts:     opts,
		clock:    clock.RealClock{},
		states:   map[string]*clusterState{},
	}

	handlerOpts := cache.HandlerOptions{Logger: &logger}
	if _, err := clusterInformer.Informer().AddEventHandlerWithOptions(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) {
			c.seen(obj)
			c.enqueueCluster(obj)
		},
		UpdateFunc: func(oldObj, newObj interface{}) {
			c.seen(newObj)
			oldC, ok1 := oldObj.(*federationv1beta1.Cluster)
			newC, ok2 := newObj.(*federationv1beta1.Cluster)
			// Our own status writes come back as updates; only a spec
			// change, or one of the annotation that turns TLS verification
			// off, can change the client.
			if ok1 && ok2 && equality.Semantic.DeepEqual(oldC.Spec, newC.Spec) &&
				oldC.Annotations[annotations.InsecureSkipTLSVerify] == newC.Annotations[annotations.InsecureSkipTLSVerify] {
				return
			}
			c.enqueueCluster(newObj)
		},
		DeleteFunc: func(obj interface{}) {
			if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
				c.written.Forget(key)
			}
			c.enqueueCluster(obj)
		},
	}, handlerOpts); err != nil {
		return nil, fmt.Errorf("cluster controller: add Cluster event handler: %w", err)
	}
	if _, err := secretInformer.Informer().AddEventHandlerWithOptions(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueClustersOfSecret,
		UpdateFunc: func(_, newObj interface{}) { c.enqueueClustersOfSecret(newObj) },
		DeleteFunc: c.enqueueClustersOfSecret,
	}, handlerOpts); err != nil {
		return nil, fmt.Errorf("cluster controller: add Secret event handler: %w", err)
	}
	return c, nil
}

// seen lets go of a status this controller wrote once the informer has it.
func (c *Controller) seen(obj interface{}) {
	if cl, ok := obj.(*federationv1beta1.Cluster); ok {
		c.written.Seen(cl.Name, cl)
	}
}

func (c *Controller) enqueueCluster(obj interface{}) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	c.queue.Add(key)
}

// enqueueClustersOfSecret queues every Cluster that names the Secret. A
// federation has tens of Clusters, so scanning them beats maintaining an
// index on an informer other controllers share.
func (c *Controller) enqueueClustersOfSecret(obj interface{}) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil || ns != federationv1beta1.FederationSystemNamespace {
		return
	}
	clusters, err := c.clusterLister.List(labels.Everything())
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	for _, cl := range clusters {
		if cl.Spec.SecretRef != nil && cl.Spec.SecretRef.Name == name {
			c.queue.Add(cl.Name)
		}
	}
}

// Run waits for the informers' caches, then builds clients with workers
// goroutines and probes every member each monitor period, until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	defer utilruntime.HandleCrashWithContext(ctx)
	defer c.queue.ShutDown()
	logger := klog.FromContext(ctx).WithName(ControllerName)

	logger.Info("Starting", "monitorPeriod", c.opts.MonitorPeriod, "probeTimeout", c.opts.ProbeTimeout)
	if !cache.WaitForNamedCacheSyncWithContext(klog.NewContext(ctx, logger), c.clustersSynced, c.secretsSynced) {
		return errors.New("cluster controller: caches did not sync before shutdown")
	}
	for i := 0; i < workers; i++ {
		go wait.UntilWithContext(ctx, c.runWorker, time.Second)
	}
	go wait.UntilWithContext(ctx, c.probeAll, c.opts.MonitorPeriod)
	logger.Info("Started workers", "workers", workers)
	<-ctx.Done()
	logger.Info("Shutting down")
	return nil
}

func (c *Controller) runWorker(ctx context.Context) {
	for c.processNextWorkItem(ctx) {
	}
}

func (c *Controller) processNextWorkItem(ctx context.Context) bool {
	name, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(name)
	if err := c.syncCluster(ctx, name); err != nil {
		c.queue.AddRateLimited(name)
		utilruntime.HandleErrorWithContext(ctx, err, "Building the cluster's client failed; will retry", "cluster", name)
		return true
	}
	c.queue.Forget(name)
	// Probe at once rather than at the next tick, so that a joined
	// cluster, or one with fixed credentials, shows its state promptly.
	c.startProbe(ctx, name, true)
	return true
}

func clusterLogger(ctx context.Context, name string) klog.Logger {
	return klog.FromContext(ctx).WithName(ControllerName).WithValues("cluster", name)
}

// syncCluster (re)builds the named cluster's client from its Cluster and
// Secret, or forgets it when the Cluster is gone. Problems the user must fix
// are recorded for the next probe to report, not returned: retrying cannot
// fix them, and the Secret or Cluster change that does fix them requeues
// the cluster.
func (c *Controller) syncCluster(ctx context.Context, name string) error {
	logger := clusterLogger(ctx, name)
	cluster, err := c.clusterLister.Get(name)
	if apierrors.IsNotFound(err) {
		had := c.clusters.Get(name) != nil
		c.clusters.Remove(name)
		c.mu.Lock()
		delete(c.states, name)
		c.mu.Unlock()
		if had {
			logger.Info("Cluster deleted; dropped its client")
		}
		return nil
	}
	if err != nil {
		return err
	}

	secretName := ""
	if cluster.Spec.SecretRef != nil {
		secretName = cluster.Spec.SecretRef.Name
	}
	cfg, unusable, err := c.restConfig(cluster)
	if err != nil {
		return err
	}
	var member *clusterclient.Cluster
	if unusable == nil {
		member, err = c.clusters.Set(name, cfg)
		if err != nil {
			// client-go parses the TLS material when it builds the
			// transport; its error is not quoted, as it may carry
			// Secret bytes.
			unusable = unprobed(ReasonClusterCredentialsInvalid, fmt.Sprintf(
				"The TLS data in Secret %s (%q, or the kubeconfig's certificate data) cannot be parsed as PEM certificates and keys.",
				secretRef(secretName), clusterclient.SecretCAKey))
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.states[name]
	if st == nil {
		st = &clusterState{}
		c.states[name] = st
	}
	st.secretName = secretName
	if unusable != nil {
		if c.clusters.Get(name) != nil {
			logger.Info("Dropping the cluster's client: no usable credentials", "reason", unusable.ready.reason)
		}
		c.clusters.Remove(name)
		st.unusable = unusable
		st.member, st.meta = nil, nil
		st.wasReady, st.zonesAt = false, time.Time{}
		return nil
	}
	st.unusable = nil
	if st.member != member {
		logger.Info("Built the cluster's client", "server", cfg.Host, "secret", secretRef(secretName))
		st.member, st.meta = member, nil
		st.wasReady, st.zonesAt = false, time.Time{}
	}
	return nil
}

func secretRef(name string) string {
	return federationv1beta1.FederationSystemNamespace + "/" + name
}

func expectedKeys() string {
	return fmt.Sprintf("a %q key, or a %q key with an optional %q", clusterclient.SecretKubeconfigKey,
		clusterclient.SecretTokenKey, clusterclient.SecretCAKey)
}

// restConfig returns the member's client config, or why there is none. Only
// failures to read the cache are returned as errors, to be retried.
func (c *Controller) restConfig(cluster *federationv1beta1.Cluster) (*rest.Config, *verdict, error) {
	if cluster.Spec.SecretRef == nil || cluster.Spec.SecretRef.Name == "" {
		return nil, unprobed(ReasonClusterSecretMissing, fmt.Sprintf(
			"spec.secretRef is not set: name a Secret in namespace %s holding %s.",
			federationv1beta1.FederationSystemNamespace, expectedKeys())), nil
	}
	name := cluster.Spec.SecretRef.Name
	secret, err := c.secretLister.Get(name)
	if apierrors.IsNotFound(err) {
		return nil, unprobed(ReasonClusterSecretMissing, fmt.Sprintf(
			"Secret %s named by spec.secretRef does not exist: create it with %s.", secretRef(name), expectedKeys())), nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("cluster %s: read secret %s: %w", cluster.Name, secretRef(name), err)
	}
	cfg, err := clusterclient.RESTConfig(cluster, secret)
	var refused *clusterclient.RefusedError
	switch {
	case err == nil:
		return cfg, nil, nil
	case errors.As(err, &refused):
		// A RefusedError names a field and quotes no value.
		return nil, unprobed(ReasonClusterCredentialsRefused, fmt.Sprintf(
			"Secret %s key %q: %s is refused: %s. Nothing in the kubeconfig was run or read.",
			secretRef(name), refused.Key, refused.Field, refused.Why)), nil
	case errors.Is(err, clusterclient.ErrCredentials):
		// Say which key is wrong, never what it holds: clusterclient
		// quotes no Secret byte, and this message stays so whatever a
		// future error wraps.
		msg := fmt.Sprintf("Secret %s holds none of the expected keys: it needs %s.", secretRef(name), expectedKeys())
		if len(secret.Data[clusterclient.SecretKubeconfigKey]) > 0 {
			msg = fmt.Sprintf("Secret %s key %q is not a usable kubeconfig: it must parse and have a current context naming a cluster, and a user with a token or with client-certificate-data and client-key-data.",
				secretRef(name), clusterclient.SecretKubeconfigKey)
		}
		return nil, unprobed(ReasonClusterCredentialsInvalid, msg), nil
	default:
		// Errors about the server address or the annotation quote only
		// the Cluster's spec and annotations.
		return nil, unprobed(ReasonClusterConfigInvalid, err.Error()), nil
	}
}
