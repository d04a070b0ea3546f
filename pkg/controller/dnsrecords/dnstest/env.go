// Package dnstest is the test bench the DNS controllers' unit tests share
// (servicedns, ingressdns): a fake federation API, member clusters in a
// registry, and the real Cloud DNS provider talking to an in-process fake
// Cloud DNS (test/fakeclouddns). A test seeds federated objects, wires a
// freshly made controller in with Attach, runs reconcile by key, then reads
// what the zone and the federation hold, which requests the provider sent,
// and which events were recorded.
//
// What is particular to one controller, its members interface, the objects
// of its kind and the records they should get, stays in that controller's
// tests. Only _test.go files import this package.
package dnstest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kfederation/federation/pkg/controller/controllertest"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/dynamicinformer"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2/ktesting"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
	fedfake "github.com/kfederation/client-go/clientset/versioned/fake"
	fedinformers "github.com/kfederation/client-go/informers/externalversions"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/controller/dnsrecords"
	"github.com/kfederation/federation/pkg/dnsprovider"
	"github.com/kfederation/federation/pkg/dnsprovider/clouddns"
	"github.com/kfederation/federation/test/fakeclouddns"
)

// The federation and the zone of every test.
const (
	// FederationName is the federation's name, in every ownership record
	// it writes.
	FederationName = "myfederation"
	// Project is the Google Cloud project of the fake Cloud DNS.
	Project = "test-project"
	// ZoneName is the DNS zone the provider is given.
	ZoneName = "example.com."
	// ManagedZone is the managed zone the Cloud DNS provider creates for
	// ZoneName.
	ManagedZone = "kfed-example-com"
)

// Cluster is one member as the federation sees it, and the address its
// copy of a federated object's load balancer has.
type Cluster struct {
	Name, Zone, Region, IP string
}

// Clusters are the members of every test: two in us-central1, one in
// europe-west1, each Ready, with an address of its own.
var Clusters = []Cluster{
	{"us-central1-a", "us-central1-a", "us-central1", "192.0.2.1"},
	{"us-central1-b", "us-central1-b", "us-central1", "192.0.2.2"},
	{"europe-west1-b", "europe-west1-b", "europe-west1", "192.0.2.3"},
}

// Config says which federated kind a controller under test publishes
// records for, and what the federation holds to begin with.
type Config struct {
	// Resource is the federated kind's resource ("services"), Kind its
	// kind ("Service"), named in failures.
	Resource schema.GroupVersionResource
	Kind     string
	// ListKinds are the list kinds of other resources the controller
	// informs on (IngressClasses); Resource's is Kind+"List".
	ListKinds map[schema.GroupVersionResource]string
	// Objects are what the federation holds at the start.
	Objects []*unstructured.Unstructured
}

// Env is one controller's world: the federation's fake API, the member
// registry, the fake Cloud DNS and the provider's zone on it, and the
// clocks and resolver the controller is given. It outlives a controller:
// a test restarts one by making a new controller and attaching it again.
type Env struct {
	T   *testing.T
	Ctx context.Context

	Fed      *dynamicfake.FakeDynamicClient
	FedTyped *fedfake.Clientset
	Registry *clusterclient.Registry
	DNS      *fakeclouddns.Server
	// Zone is the provider's zone for ZoneName, the one the controller
	// writes to.
	Zone *HookedZone

	// Set anew by NewControllerContext and Attach (a restart).
	Events *record.FakeRecorder
	Queue  *RecordingQueue

	// Now is the health and resolver clock.
	Now time.Time
	// Hosts are what the stubbed resolver answers; Lookups counts its
	// calls per host.
	Hosts   map[string][]string
	Lookups map[string]int

	resource  schema.GroupVersionResource
	kind      string
	informer  cache.SharedIndexInformer
	reconcile func(ctx context.Context, key string) error
}

// New starts a fake Cloud DNS with the zone example.com. and a federation
// holding cfg.Objects and the Clusters, each Ready in the registry. The
// fake's request counts start from zero once New returns.
func New(t *testing.T, cfg Config) *Env {
	t.Helper()
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	e := &Env{
		T:        t,
		Ctx:      ctx,
		Now:      time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Hosts:    map[string][]string{},
		Lookups:  map[string]int{},
		resource: cfg.Resource,
		kind:     cfg.Kind,
	}

	e.DNS = fakeclouddns.New()
	e.DNS.Start()
	t.Cleanup(e.DNS.Close)
	providerCfg := fmt.Sprintf("project: %s\nendpoint: %s\n", Project, strings.TrimSuffix(e.DNS.URL(), "/"))
	provider, err := clouddns.NewFromConfig(ctx, strings.NewReader(providerCfg))
	if err != nil {
		t.Fatalf("NewFromConfig: %v", err)
	}
	z, err := provider.Zone(ctx, ZoneName, "")
	if err != nil {
		t.Fatalf("Zone(%s): %v", ZoneName, err)
	}
	e.Zone = &HookedZone{Zone: z}

	listKinds := map[schema.GroupVersionResource]string{cfg.Resource: cfg.Kind + "List"}
	for gvr, kind := range cfg.ListKinds {
		listKinds[gvr] = kind
	}
	var fedObjs []runtime.Object
	for _, o := range cfg.Objects {
		fedObjs = append(fedObjs, o)
	}
	e.Fed = dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, fedObjs...)

	var clusterObjs []runtime.Object
	e.Registry = clusterclient.NewRegistry(FederationName)
	for _, mc := range Clusters {
		clusterObjs = append(clusterObjs, &federationv1beta1.Cluster{
			ObjectMeta: metav1.ObjectMeta{Name: mc.Name, Labels: map[string]string{"name": mc.Name}},
			Status: federationv1beta1.ClusterStatus{
				Conditions: []federationv1beta1.ClusterCondition{{Type: federationv1beta1.ClusterReady, Status: federationv1beta1.ConditionTrue}},
				Zones:      []string{mc.Zone},
				Region:     mc.Region,
			},
		})
		if _, err := e.Registry.Set(mc.Name, &rest.Config{Host: "https://127.0.0.1:1"}); err != nil {
			t.Fatal(err)
		}
		e.Registry.SetReady(mc.Name, true)
	}
	e.FedTyped = fedfake.NewClientset(clusterObjs...)
	e.DNS.ResetRequests()
	return e
}

// NewControllerContext is the controller manager's context after a start:
// new informer factories on the same federation and registry. It records
// events into a new Events.
func (e *Env) NewControllerContext() *controller.Context {
	e.Events = record.NewFakeRecorder(100)
	return &controller.Context{
		DynamicClient:    e.Fed,
		FedClient:        e.FedTyped,
		DynamicInformers: dynamicinformer.NewDynamicSharedInformerFactory(e.Fed, 0),
		FedInformers:     fedinformers.NewSharedInformerFactory(e.FedTyped, 0),
		Clusters:         e.Registry,
		FederationName:   FederationName,
		ConcurrentSyncs:  2,
	}
}

// Wiring is what Attach needs of a controller made on a context from
// NewControllerContext: the fields it swaps for the Env's, and the parts
// it drives.
type Wiring struct {
	// Zone and Queue point at the controller's zone and queue: Attach sets
	// the zone to Env.Zone and wraps the queue in a RecordingQueue.
	Zone  *dnsprovider.Zone
	Queue *workqueue.TypedRateLimitingInterface[string]
	// Health and Resolver get Env.Now as their clock, and Resolver
	// Env.Lookup as its resolver.
	Health   *dnsrecords.Health
	Resolver *dnsrecords.Resolver
	// Informer is the controller's informer of the federated kind; Synced
	// are all of its informers' HasSynced.
	Informer cache.SharedIndexInformer
	Synced   []cache.InformerSynced
	// Reconcile syncs one key, as a worker does.
	Reconcile func(ctx context.Context, key string) error
}

// Attach wires a new controller to the Env, as if it had just started:
// the Env's zone, a recording queue, the Env's clock and resolver; then it
// starts cctx's informers and waits for the controller's caches.
func (e *Env) Attach(cctx *controller.Context, w Wiring) {
	e.T.Helper()
	*w.Zone = e.Zone
	e.Queue = controllertest.NewRecordingQueue(*w.Queue)
	*w.Queue = e.Queue
	e.T.Cleanup(e.Queue.ShutDown)
	w.Health.Now = e.clock
	w.Resolver.Now = e.clock
	w.Resolver.Lookup = e.Lookup
	e.informer = w.Informer
	e.reconcile = w.Reconcile
	cctx.DynamicInformers.Start(e.Ctx.Done())
	cctx.FedInformers.Start(e.Ctx.Done())
	if !cache.WaitForCacheSync(e.Ctx.Done(), w.Synced...) {
		e.T.Fatal("caches did not sync")
	}
}

func (e *Env) clock() time.Time { return e.Now }

// Lookup stands in for the system resolver, answering from Hosts: no test
// sends a real DNS query.
func (e *Env) Lookup(_ context.Context, host string) ([]string, error) {
	e.Lookups[host]++
	addrs, ok := e.Hosts[host]
	if !ok {
		return nil, fmt.Errorf("lookup %s: no such host (test stub)", host)
	}
	return addrs, nil
}

// Reconcile runs one sync of key by the attached controller, then waits
// until its informer has the federation's own writes (the finalizer), as a
// worker's next sync would.
func (e *Env) Reconcile(key string) error {
	e.T.Helper()
	err := e.reconcile(e.Ctx, key)
	e.SyncCache(key)
	return err
}

// MustReconcile is Reconcile that must succeed.
func (e *Env) MustReconcile(key string) {
	e.T.Helper()
	if err := e.Reconcile(key); err != nil {
		e.T.Fatalf("reconcile %s: %v", key, err)
	}
}

// SyncCache waits until the attached controller's informer holds the
// federated object key as the fake API holds it now.
func (e *Env) SyncCache(key string) {
	e.T.Helper()
	want := e.getOrNil(key)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		item, exists, err := e.informer.GetIndexer().GetByKey(key)
		if err == nil && exists == (want != nil) && (want == nil || equality.Semantic.DeepEqual(item.(*unstructured.Unstructured).Object, want.Object)) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.T.Fatalf("the %s informer never caught up with %s", e.kind, key)
}

func (e *Env) getOrNil(key string) *unstructured.Unstructured {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	obj, err := e.Fed.Resource(e.resource).Namespace(ns).Get(e.Ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	return obj
}

// Get returns the federated object key as the fake API holds it.
func (e *Env) Get(key string) *unstructured.Unstructured {
	e.T.Helper()
	obj := e.getOrNil(key)
	if obj == nil {
		e.T.Fatalf("the federation has no %s %s", e.kind, key)
	}
	return obj
}

// Update changes the federated object key and waits for the informer to
// see it.
func (e *Env) Update(key string, change func(*unstructured.Unstructured)) {
	e.T.Helper()
	obj := e.Get(key)
	change(obj)
	if _, err := e.Fed.Resource(e.resource).Namespace(obj.GetNamespace()).Update(e.Ctx, obj, metav1.UpdateOptions{}); err != nil {
		e.T.Fatalf("update %s %s: %v", e.kind, key, err)
	}
	e.SyncCache(key)
}

// TakeEvents returns the events recorded since the last call.
func (e *Env) TakeEvents() []string { return controllertest.TakeEvents(e.Events) }

// CountEvents counts the events that start with prefix ("Warning
// DNSNameConflict").
func CountEvents(events []string, prefix string) int {
	return controllertest.CountEvents(events, prefix)
}
