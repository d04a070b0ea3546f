// Package clusterclient keeps one client, and lazily one informer per
// resource, for every registered member cluster, together with whether the
// cluster is Ready. The cluster controller fills it; the sync controllers
// read it and subscribe to its changes.
package clusterclient

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/flowcontrol"
)

// ManagedByLabel marks the member objects the federation created or
// adopted, with the federation's name as value. Member informers watch only
// such objects, so memory grows with federated objects, not member objects.
const ManagedByLabel = "federation.k8s.io/managed-by"

// Cluster is one member cluster's clients.
type Cluster struct {
	Name string
	// Config is what the clients are made from; its rate limiter is the
	// bucket all but Kube share.
	Config *rest.Config
	// Kube is a typed clientset with a bucket of its own, for health probes.
	Kube kubernetes.Interface
	// Shared is a typed clientset on the bucket of Config, the one every
	// client but Kube shares: controllers that read or watch the member
	// with typed clients (the planner's pod watch) use it, so that their
	// requests count against the member's limit and never delay the probes.
	Shared  kubernetes.Interface
	Dynamic dynamic.Interface

	mu             sync.Mutex
	ready          bool
	probed         bool
	factory        dynamicinformer.DynamicSharedInformerFactory
	informers      map[schema.GroupVersionResource]cache.SharedIndexInformer
	stop           chan struct{}
	federationName string
	resync         time.Duration

	// lastStored is when the member last stored a write (see storedStamp).
	lastStored *atomic.Int64

	protobufMu sync.Mutex
	protobuf   map[schema.GroupVersion]*rest.RESTClient
}

// Ready says whether the cluster controller last found the cluster Ready.
func (c *Cluster) Ready() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ready
}

// Probed says whether the cluster controller has probed the cluster since
// this client was made.
func (c *Cluster) Probed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.probed
}

// Synced says whether the cluster's informer for gvr has its first list.
func (c *Cluster) Synced(gvr schema.GroupVersionResource) bool {
	inf, _ := c.Informer(gvr)
	return inf.HasSynced()
}

// Informer returns the cluster's informer for gvr, watching only objects
// the federation manages, creating and starting it on first use. The first
// caller for a resource gets isNew true and should add its event handlers.
func (c *Cluster) Informer(gvr schema.GroupVersionResource) (inf cache.SharedIndexInformer, isNew bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if inf, ok := c.informers[gvr]; ok {
		return inf, false
	}
	if lw, example, ok := c.listWatch(gvr, ManagedByLabel+"="+c.federationName); ok {
		inf = cache.NewSharedIndexInformer(lw, example, c.resync, indexersFor(gvr))
	} else {
		inf = c.factory.ForResource(gvr).Informer()
	}
	_ = inf.SetTransform(StripManagedFields)
	c.informers[gvr] = inf
	go inf.Run(c.stop)
	return inf, true
}

// EndpointSliceServiceIndex indexes a member's EndpointSlices by their
// Service, "namespace/name", so that one Service's slices are found without
// scanning its namespace.
const EndpointSliceServiceIndex = "service"

// indexersFor are the indexes of a member informer for gvr: by namespace,
// and EndpointSlices by Service.
func indexersFor(gvr schema.GroupVersionResource) cache.Indexers {
	indexers := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
	if gvr.Group == "discovery.k8s.io" && gvr.Resource == "endpointslices" {
		indexers[EndpointSliceServiceIndex] = func(obj interface{}) ([]string, error) {
			m, err := meta.Accessor(obj)
			if err != nil {
				return nil, nil
			}
			svc := m.GetLabels()["kubernetes.io/service-name"]
			if svc == "" {
				return nil, nil
			}
			return []string{m.GetNamespace() + "/" + svc}, nil
		}
	}
	return indexers
}

// Get returns the managed object namespace/name of resource gvr from the
// cluster's informer cache as an unstructured object: for the built-in
// kinds, whose typed copies the cache holds (see Cached), a new one
// converted from it; for any other resource, the cache's own. It returns
// nil if the cache has none or is not synced.
func (c *Cluster) Get(gvr schema.GroupVersionResource, key string) (*unstructured.Unstructured, bool, error) {
	obj, exists, err := c.Cached(gvr, key)
	if err != nil || !exists {
		return nil, exists, err
	}
	u, err := AsUnstructured(obj, gvr)
	return u, err == nil, err
}

// Cached returns what the cluster's informer cache holds for the managed
// object namespace/name of resource gvr: a typed object for the built-in
// kinds, which take a fraction of the memory of an unstructured one, and an
// unstructured object for any other resource. It is the cache's own
// object: read it, never change it. The error says the cache is not synced.
func (c *Cluster) Cached(gvr schema.GroupVersionResource, key string) (interface{}, bool, error) {
	inf, _ := c.Informer(gvr)
	if !inf.HasSynced() {
		return nil, false, fmt.Errorf("cluster %s: cache of %s not synced yet", c.Name, gvr.Resource)
	}
	return inf.GetStore().GetByKey(key)
}

func (c *Cluster) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	close(c.stop)
}

// Registry holds the member clusters by name.
type Registry struct {
	// FederationName is the value of ManagedByLabel on member objects.
	FederationName string
	// Resync is the resync period of member informers (0: none).
	Resync time.Duration
	// QPS and Burst limit the requests to each member, all controllers
	// and clients together; 0 keeps client-go's defaults, and a negative
	// QPS sets no limit.
	QPS   float32
	Burst int

	mu        sync.RWMutex
	clusters  map[string]*Cluster
	listeners []func(cluster string)
	watches   []memberWatch
}

// NewRegistry returns an empty registry.
func NewRegistry(federationName string) *Registry {
	return &Registry{FederationName: federationName, clusters: map[string]*Cluster{}}
}

// Set creates or replaces the clients of a cluster. A cluster whose config
// did not change keeps its clients and informers; a new or changed one
// starts not Ready.
func (r *Registry) Set(name string, cfg *rest.Config) (*Cluster, error) {
	r.mu.Lock()
	if old, ok := r.clusters[name]; ok && sameConfig(old.Config, cfg) {
		r.mu.Unlock()
		return old, nil
	}
	r.mu.Unlock()

	cfg = rest.CopyConfig(cfg)
	if r.QPS != 0 {
		cfg.QPS, cfg.Burst = r.QPS, r.Burst
	}
	// The typed clientset, which the cluster controller probes /readyz
	// with, keeps a bucket of its own: a member busy with the federation's
	// writes must not look unreachable because the probe waited in the
	// federation's own queue.
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: create client: %w", name, err)
	}
	if cfg.QPS > 0 {
		// Every other client of the cluster (informers, dynamic and
		// protobuf writes, metadata reads) shares one bucket, so that the
		// limit holds for all controllers together.
		cfg.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(cfg.QPS, cfg.Burst)
	}
	stored := new(atomic.Int64)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return storedStamp{next: rt, last: stored} })
	shared, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: create shared client: %w", name, err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: create dynamic client: %w", name, err)
	}
	selector := ManagedByLabel + "=" + r.FederationName
	c := &Cluster{
		Name:       name,
		Config:     cfg,
		Kube:       kube,
		Shared:     shared,
		Dynamic:    dyn,
		informers:  map[schema.GroupVersionResource]cache.SharedIndexInformer{},
		stop:       make(chan struct{}),
		lastStored: stored,
		factory: dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, r.Resync, "", func(o *metav1.ListOptions) {
			o.LabelSelector = selector
		}),
		federationName: r.FederationName,
		resync:         r.Resync,
	}
	r.mu.Lock()
	old := r.clusters[name]
	r.clusters[name] = c
	watches := append([]memberWatch(nil), r.watches...)
	r.mu.Unlock()
	if old != nil {
		old.close()
	}
	for _, w := range watches {
		c.watch(w.gvr, w.handler)
	}
	r.notify(name)
	return c, nil
}

// Remove forgets a cluster and stops its informers.
func (r *Registry) Remove(name string) {
	r.mu.Lock()
	c := r.clusters[name]
	delete(r.clusters, name)
	r.mu.Unlock()
	if c != nil {
		c.close()
		r.notify(name)
	}
}

// SetReady records the cluster's readiness and tells the listeners when it
// changed.
func (r *Registry) SetReady(name string, ready bool) {
	c := r.Get(name)
	if c == nil {
		return
	}
	c.mu.Lock()
	changed := c.ready != ready || !c.probed
	c.ready = ready
	c.probed = true
	c.mu.Unlock()
	if changed {
		r.notify(name)
	}
}

// Get returns the named cluster, or nil.
func (r *Registry) Get(name string) *Cluster {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.clusters[name]
}

// All returns every cluster, sorted by name.
func (r *Registry) All() []*Cluster {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Cluster, 0, len(r.clusters))
	for _, c := range r.clusters {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Ready returns the Ready clusters, sorted by name.
func (r *Registry) Ready() []*Cluster {
	var out []*Cluster
	for _, c := range r.All() {
		if c.Ready() {
			out = append(out, c)
		}
	}
	return out
}

// OnChange registers f to be called with a cluster's name whenever the
// cluster is added, replaced, removed, or changes readiness.
func (r *Registry) OnChange(f func(cluster string)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.listeners = append(r.listeners, f)
}

func (r *Registry) notify(name string) {
	r.mu.RLock()
	ls := append([]func(string){}, r.listeners...)
	r.mu.RUnlock()
	for _, f := range ls {
		f(name)
	}
}

func sameConfig(a, b *rest.Config) bool {
	return a.Host == b.Host && a.BearerToken == b.BearerToken &&
		string(a.CAData) == string(b.CAData) && a.CAFile == b.CAFile &&
		string(a.CertData) == string(b.CertData) && string(a.KeyData) == string(b.KeyData) &&
		a.CertFile == b.CertFile && a.KeyFile == b.KeyFile && a.Insecure == b.Insecure
}

// StripManagedFields drops metadata.managedFields from objects entering an
// informer cache: controllers never read them, and they are often the
// largest part of an object. An update sent from such a copy omits the
// field, which the API server takes as "keep what is stored".
func StripManagedFields(obj interface{}) (interface{}, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}
