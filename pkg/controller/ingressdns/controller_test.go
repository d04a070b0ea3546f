package ingressdns

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	networkingv1 "k8s.io/api/networking/v1"
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
	"k8s.io/utils/ptr"

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

// The federation, zone and Ingress of every test.
const (
	federationName = "myfederation"
	gcpProject     = "test-project"
	// managedZone is the managed zone the Cloud DNS provider creates for
	// example.com.
	managedZone = "kfed-example-com"
	shopKey     = "shop/web"
	shopOwner   = "ingress/shop/web"
	shopHost    = "shop.example.com."
	defaultTTL  = 180
)

// memberCluster is one member as the federation sees it, and the address
// its ingress controller gives its copy of an Ingress.
type memberCluster struct {
	name, ip string
}

var memberClusters = []memberCluster{
	{"us-central1-a", "192.0.2.1"},
	{"us-central1-b", "192.0.2.2"},
	{"europe-west1-b", "192.0.2.3"},
}

// fixture is one Ingress DNS controller over a fake federation API, fake
// members and the real Cloud DNS provider talking to an in-process fake
// Cloud DNS: seed objects, run reconcile by key, then read what the zone
// and the federation hold, and which requests the provider sent.
type fixture struct {
	t        *testing.T
	ctx      context.Context
	opts     Options
	fed      *dynamicfake.FakeDynamicClient
	fedTyped *fedfake.Clientset
	registry *clusterclient.Registry
	members  *fakeMembers
	dns      *fakeclouddns.Server
	zone     *hookedZone

	// Set anew by start (a restart).
	c      *Controller
	events *record.FakeRecorder
	queue  *recordingQueue

	// now is the health and resolver clock; hosts are what the stubbed
	// resolver answers.
	now   time.Time
	hosts map[string][]string
}

// newFixture starts a fake Cloud DNS with the zone example.com., the
// three member clusters, Ready and each with a copy of every Ingress in
// objs (its own address) whose backend Services all have a ready
// endpoint, and the controller.
func newFixture(t *testing.T, opts Options, objs ...*unstructured.Unstructured) *fixture {
	t.Helper()
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	f := &fixture{t: t, ctx: ctx, opts: opts, now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), hosts: map[string][]string{}}

	f.dns = fakeclouddns.New()
	f.dns.Start()
	t.Cleanup(f.dns.Close)
	cfg := fmt.Sprintf("project: %s\nendpoint: %s\n", gcpProject, strings.TrimSuffix(f.dns.URL(), "/"))
	provider, err := clouddns.NewFromConfig(ctx, strings.NewReader(cfg))
	if err != nil {
		t.Fatalf("NewFromConfig: %v", err)
	}
	z, err := provider.Zone(ctx, "example.com.", "")
	if err != nil {
		t.Fatalf("Zone(example.com.): %v", err)
	}
	f.zone = &hookedZone{Zone: z}

	var fedObjs []runtime.Object
	for _, o := range objs {
		fedObjs = append(fedObjs, o)
	}
	f.fed = dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{ingressesGVR: "IngressList", ingressClassesGVR: "IngressClassList"}, fedObjs...)

	var clusterObjs []runtime.Object
	f.registry = clusterclient.NewRegistry(federationName)
	f.members = newFakeMembers(f.registry)
	for _, mc := range memberClusters {
		clusterObjs = append(clusterObjs, &federationv1beta1.Cluster{
			ObjectMeta: metav1.ObjectMeta{Name: mc.name, Labels: map[string]string{"name": mc.name}},
			Status: federationv1beta1.ClusterStatus{
				Conditions: []federationv1beta1.ClusterCondition{{Type: federationv1beta1.ClusterReady, Status: federationv1beta1.ConditionTrue}},
			},
		})
		if _, err := f.registry.Set(mc.name, &rest.Config{Host: "https://127.0.0.1:1"}); err != nil {
			t.Fatal(err)
		}
		f.registry.SetReady(mc.name, true)
		for _, o := range objs {
			if o.GetKind() != "Ingress" {
				continue
			}
			f.members.setCopy(mc.name, o.GetNamespace(), o.GetName(), networkingv1.IngressLoadBalancerIngress{IP: mc.ip})
			for _, svc := range allBackends(typed(t, o)) {
				f.members.setEndpoint(mc.name, o.GetNamespace(), svc, true)
			}
		}
	}
	f.fedTyped = fedfake.NewClientset(clusterObjs...)
	f.start()
	f.dns.ResetRequests()
	return f
}

func typed(t *testing.T, u *unstructured.Unstructured) *networkingv1.Ingress {
	t.Helper()
	ing := &networkingv1.Ingress{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, ing); err != nil {
		t.Fatal(err)
	}
	return ing
}

// start makes a controller as the controller manager does after a start:
// new informers on the same federation, members and zone, and an empty
// cache of what the zone holds.
func (f *fixture) start() {
	f.t.Helper()
	cctx := &controller.Context{
		DynamicClient:    f.fed,
		FedClient:        f.fedTyped,
		DynamicInformers: dynamicinformer.NewDynamicSharedInformerFactory(f.fed, 0),
		FedInformers:     fedinformers.NewSharedInformerFactory(f.fedTyped, 0),
		Clusters:         f.registry,
		FederationName:   federationName,
		ConcurrentSyncs:  2,
	}
	f.events = record.NewFakeRecorder(100)
	c := newController(f.ctx, cctx, true, f.opts, f.members, f.events)
	c.zone = f.zone
	f.queue = &recordingQueue{TypedRateLimitingInterface: c.queue, after: map[string]time.Duration{}}
	c.queue = f.queue
	f.t.Cleanup(c.queue.ShutDown)
	c.health.Now = func() time.Time { return f.now }
	c.resolver.Now = func() time.Time { return f.now }
	c.resolver.Lookup = f.lookup
	f.c = c
	cctx.DynamicInformers.Start(f.ctx.Done())
	cctx.FedInformers.Start(f.ctx.Done())
	if !cache.WaitForCacheSync(f.ctx.Done(), c.synced...) {
		f.t.Fatal("caches did not sync")
	}
}

// lookup stands in for the system resolver: no test sends a real DNS
// query.
func (f *fixture) lookup(_ context.Context, host string) ([]string, error) {
	addrs, ok := f.hosts[host]
	if !ok {
		return nil, fmt.Errorf("lookup %s: no such host (test stub)", host)
	}
	return addrs, nil
}

// reconcile runs one sync of key, then waits until the Ingress informer
// has the federation's own writes (the finalizer), as a worker's next sync
// would.
func (f *fixture) reconcile(key string) error {
	f.t.Helper()
	err := f.c.reconcile(f.ctx, key)
	f.syncCache(key)
	return err
}

func (f *fixture) mustReconcile(key string) {
	f.t.Helper()
	if err := f.reconcile(key); err != nil {
		f.t.Fatalf("reconcile %s: %v", key, err)
	}
}

// syncCache waits until the informer holds the federated Ingress key as
// the fake API holds it now.
func (f *fixture) syncCache(key string) {
	f.t.Helper()
	want := f.fedIngressOrNil(key)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		item, exists, err := f.c.ingresses.GetIndexer().GetByKey(key)
		if err == nil && exists == (want != nil) && (want == nil || equality.Semantic.DeepEqual(item.(*unstructured.Unstructured).Object, want.Object)) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	f.t.Fatalf("the Ingress informer never caught up with %s", key)
}

func (f *fixture) fedIngressOrNil(key string) *unstructured.Unstructured {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	obj, err := f.fed.Resource(ingressesGVR).Namespace(ns).Get(f.ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	return obj
}

func (f *fixture) fedIngress(key string) *unstructured.Unstructured {
	f.t.Helper()
	obj := f.fedIngressOrNil(key)
	if obj == nil {
		f.t.Fatalf("the federation has no Ingress %s", key)
	}
	return obj
}

// updateIngress changes the federated Ingress key and waits for the
// informer to see it.
func (f *fixture) updateIngress(key string, change func(*unstructured.Unstructured)) {
	f.t.Helper()
	obj := f.fedIngress(key)
	change(obj)
	if _, err := f.fed.Resource(ingressesGVR).Namespace(obj.GetNamespace()).Update(f.ctx, obj, metav1.UpdateOptions{}); err != nil {
		f.t.Fatalf("update Ingress %s: %v", key, err)
	}
	f.syncCache(key)
}

// createClass creates a federated IngressClass of controller ctl and waits
// for the informer to see it.
func (f *fixture) createClass(name, ctl string) {
	f.t.Helper()
	u := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "networking.k8s.io/v1",
		"kind":       "IngressClass",
		"metadata":   map[string]interface{}{"name": name},
		"spec":       map[string]interface{}{"controller": ctl},
	}}
	if _, err := f.fed.Resource(ingressClassesGVR).Create(f.ctx, u, metav1.CreateOptions{}); err != nil {
		f.t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.c.classController(name) != ctl {
		if time.Now().After(deadline) {
			f.t.Fatalf("the IngressClass informer never saw %s", name)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// takeEvents returns the events recorded since the last call.
func (f *fixture) takeEvents() []string {
	var out []string
	for {
		select {
		case e := <-f.events.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

// requests returns the provider's requests since the last call, by method.
func (f *fixture) requests() map[string]int {
	r := f.dns.Requests()
	f.dns.ResetRequests()
	return r
}

// records returns every record set of the zone but its SOA and NS, one a
// line (see rec), sorted, with the owner read from the set's ownership TXT
// record: the object for the federation's sets, "foreign" for a set with
// no ownership record.
func (f *fixture) records() []string {
	f.t.Helper()
	sets, err := f.dns.RecordSets(gcpProject, managedZone)
	if err != nil {
		f.t.Fatal(err)
	}
	owners := map[string]string{}
	for _, rs := range sets {
		if rs.Type == "TXT" && strings.HasPrefix(rs.Name, "_kfed-owner-") {
			fields := map[string]string{}
			for _, kv := range strings.Split(strings.Trim(strings.Join(rs.Rrdatas, ""), `"`), ",") {
				k, v, _ := strings.Cut(kv, "=")
				fields[k] = v
			}
			owners[rs.Name] = fields["object"]
		}
	}
	var out []string
	for _, rs := range sets {
		if rs.Type == "SOA" || rs.Type == "NS" || strings.HasPrefix(rs.Name, "_kfed-owner-") {
			continue
		}
		owner, ok := owners["_kfed-owner-"+strings.ToLower(rs.Type)+"."+rs.Name]
		if !ok {
			owner = "foreign"
		}
		out = append(out, rec(rs.Name, dnsprovider.RecordType(rs.Type), rs.TTL, owner, rs.Rrdatas...))
	}
	slices.Sort(out)
	return out
}

// wantRecords compares the zone's records with want (in any order).
func (f *fixture) wantRecords(what string, want ...string) {
	f.t.Helper()
	want = slices.Clone(want)
	slices.Sort(want)
	if diff := cmp.Diff(want, f.records()); diff != "" {
		f.t.Errorf("%s: records (-want +got):\n%s", what, diff)
	}
}

// rec is one record set as records renders it.
func rec(name string, typ dnsprovider.RecordType, ttl int64, owner string, data ...string) string {
	return fmt.Sprintf("%s %s %d %s %s", name, typ, ttl, strings.Join(data, ","), owner)
}

// shopA is an A record set of the Ingress shop/web, of the default TTL.
func shopA(name string, ips ...string) string {
	return rec(name, dnsprovider.A, defaultTTL, shopOwner, ips...)
}

// putForeign writes a record set into the zone as someone outside the
// federation would, with no ownership record.
func (f *fixture) putForeign(name string, typ dnsprovider.RecordType, ttl int64, data ...string) {
	f.t.Helper()
	if err := f.dns.PutRecordSet(gcpProject, managedZone, fakeclouddns.RecordSet{Name: name, Type: string(typ), TTL: ttl, Rrdatas: data}); err != nil {
		f.t.Fatalf("write a foreign record set: %v", err)
	}
}

// ingress is a federated Ingress of class nginx with one rule per host,
// every path going to the Service web.
func ingress(namespace, name string, hosts ...string) *unstructured.Unstructured {
	ing := &networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       networkingv1.IngressSpec{IngressClassName: ptr.To("nginx")},
	}
	for _, h := range hosts {
		ing.Spec.Rules = append(ing.Spec.Rules, rule(h, "web"))
	}
	return toUnstructured(ing)
}

func rule(host, service string) networkingv1.IngressRule {
	return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
		Paths: []networkingv1.HTTPIngressPath{{
			Path:     "/",
			PathType: ptr.To(networkingv1.PathTypePrefix),
			Backend:  networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: service, Port: networkingv1.ServiceBackendPort{Number: 80}}},
		}},
	}}}
}

func toUnstructured(ing *networkingv1.Ingress) *unstructured.Unstructured {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ing)
	if err != nil {
		panic(err)
	}
	return &unstructured.Unstructured{Object: m}
}

func shop() *unstructured.Unstructured { return ingress("shop", "web", "shop.example.com") }

func defaultOptions() Options { return Options{TTL: defaultTTL} }

// countEvents counts the events that start with prefix ("Warning
// DNSNameConflict").
func countEvents(events []string, prefix string) int {
	n := 0
	for _, e := range events {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

// fakeMembers holds the members' copies of federated Ingresses and whether
// each Service has a ready endpoint. Readiness comes from the registry, as
// the controller manager's does.
type fakeMembers struct {
	registry *clusterclient.Registry

	mu       sync.Mutex
	copies   map[string]*networkingv1.Ingress // cluster/namespace/name
	ready    map[string]bool                  // cluster/namespace/service
	unsynced map[string]bool                  // cluster
}

var _ members = (*fakeMembers)(nil)

func newFakeMembers(r *clusterclient.Registry) *fakeMembers {
	return &fakeMembers{registry: r, copies: map[string]*networkingv1.Ingress{}, ready: map[string]bool{}, unsynced: map[string]bool{}}
}

// setCopy gives the cluster a copy of the Ingress with the addresses
// given; none for a copy without an address.
func (m *fakeMembers) setCopy(cluster, namespace, name string, address ...networkingv1.IngressLoadBalancerIngress) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.copies[cluster+"/"+namespace+"/"+name] = &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Status:     networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{Ingress: address}},
	}
}

func (m *fakeMembers) deleteCopy(cluster, namespace, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.copies, cluster+"/"+namespace+"/"+name)
}

func (m *fakeMembers) setEndpoint(cluster, namespace, service string, ready bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ready[cluster+"/"+namespace+"/"+service] = ready
}

func (m *fakeMembers) setSynced(cluster string, synced bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.unsynced[cluster] = !synced
}

func (m *fakeMembers) Ready(cluster string) bool { return registryMembers{m.registry}.Ready(cluster) }

func (m *fakeMembers) Synced(cluster string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.unsynced[cluster]
}

func (m *fakeMembers) Ingress(cluster, namespace, name string) (*networkingv1.Ingress, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.copies[cluster+"/"+namespace+"/"+name]; c != nil {
		return c.DeepCopy(), nil
	}
	return nil, nil
}

func (m *fakeMembers) ReadyEndpoint(cluster, namespace, service string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ready[cluster+"/"+namespace+"/"+service], nil
}

func (m *fakeMembers) Watch(func(namespace, name string), func(namespace, name string)) {}

// hookedZone is the provider's zone with a hook run just before the next
// Apply: a fault injected there hits the change, not the reads before it.
type hookedZone struct {
	dnsprovider.Zone
	beforeApply func()
}

func (z *hookedZone) Apply(ctx context.Context, change dnsprovider.Change) error {
	if hook := z.beforeApply; hook != nil {
		z.beforeApply = nil
		hook()
	}
	return z.Zone.Apply(ctx, change)
}

// recordingQueue is the controller's queue, remembering what was added to
// it and what was queued for later.
type recordingQueue struct {
	workqueue.TypedRateLimitingInterface[string]

	mu    sync.Mutex
	added []string
	after map[string]time.Duration
}

func (q *recordingQueue) Add(key string) {
	q.mu.Lock()
	q.added = append(q.added, key)
	q.mu.Unlock()
	q.TypedRateLimitingInterface.Add(key)
}

func (q *recordingQueue) AddAfter(key string, d time.Duration) {
	q.mu.Lock()
	q.after[key] = d
	q.mu.Unlock()
	q.TypedRateLimitingInterface.AddAfter(key, d)
}

// takeAdded returns the keys added since the last call, and forgets them.
func (q *recordingQueue) takeAdded() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.added
	q.added = nil
	return out
}

// takeAfter returns the delay key was last queued with since the last call,
// and forgets it.
func (q *recordingQueue) takeAfter(key string) (time.Duration, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	d, ok := q.after[key]
	delete(q.after, key)
	return d, ok
}

// TestReconcileAllHealthy: the host gets the address of every member, the
// Ingress its finalizer and an event naming the record, and a second sync
// costs the provider nothing.
func TestReconcileAllHealthy(t *testing.T) {
	f := newFixture(t, defaultOptions(), shop())
	f.mustReconcile(shopKey)

	f.wantRecords("first sync", shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"))
	if got := f.requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
		t.Errorf("%d changes.create, want 1", got)
	}
	if got := f.fedIngress(shopKey).GetFinalizers(); !slices.Equal(got, []string{Finalizer}) {
		t.Errorf("finalizers %v, want [%s]", got, Finalizer)
	}
	events := f.takeEvents()
	if countEvents(events, "Normal "+ReasonRecordsUpdated) != 1 || !strings.Contains(strings.Join(events, "\n"), shopHost+" A 192.0.2.1,192.0.2.2,192.0.2.3") {
		t.Errorf("events %q, want one %s naming the host's addresses", events, ReasonRecordsUpdated)
	}

	f.mustReconcile(shopKey)
	if got := f.requests(); len(got) != 0 {
		t.Errorf("an unchanged Ingress sent %v to the provider, want nothing", got)
	}
	if events := f.takeEvents(); len(events) != 0 {
		t.Errorf("an unchanged Ingress got events %q", events)
	}
}

// TestReconcileFollowsHealth: a member leaves the host's record when its
// Ingress loses its address, when the host's backends have no ready
// endpoint there, when it is not Ready, or when it has no copy; with no
// member healthy the host has no record; each step is one change.
func TestReconcileFollowsHealth(t *testing.T) {
	f := newFixture(t, defaultOptions(), shop())
	f.mustReconcile(shopKey)
	f.requests()
	f.takeEvents()

	steps := []struct {
		name   string
		change func()
		want   []string
	}{{
		name:   "us-central1-a's Ingress loses its address",
		change: func() { f.members.setCopy("us-central1-a", "shop", "web") },
		want:   []string{shopA(shopHost, "192.0.2.2", "192.0.2.3")},
	}, {
		name:   "us-central1-b's backends have no ready endpoint",
		change: func() { f.members.setEndpoint("us-central1-b", "shop", "web", false) },
		want:   []string{shopA(shopHost, "192.0.2.3")},
	}, {
		name: "us-central1-a's address is back, europe-west1-b is not Ready",
		change: func() {
			f.members.setCopy("us-central1-a", "shop", "web", networkingv1.IngressLoadBalancerIngress{IP: "192.0.2.1"})
			f.registry.SetReady("europe-west1-b", false)
		},
		want: []string{shopA(shopHost, "192.0.2.1")},
	}, {
		name:   "us-central1-a has no copy: no member is healthy, no record",
		change: func() { f.members.deleteCopy("us-central1-a", "shop", "web") },
		want:   nil,
	}, {
		name: "every member healthy again",
		change: func() {
			f.members.setCopy("us-central1-a", "shop", "web", networkingv1.IngressLoadBalancerIngress{IP: "192.0.2.1"})
			f.members.setEndpoint("us-central1-b", "shop", "web", true)
			f.registry.SetReady("europe-west1-b", true)
		},
		want: []string{shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3")},
	}}
	for _, step := range steps {
		step.change()
		f.mustReconcile(shopKey)
		f.wantRecords(step.name, step.want...)
		if got := f.requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
			t.Errorf("%s: %d changes.create, want exactly 1", step.name, got)
		}
		if got := countEvents(f.takeEvents(), "Normal "+ReasonRecordsUpdated); got != 1 {
			t.Errorf("%s: %d %s events, want 1", step.name, got, ReasonRecordsUpdated)
		}
	}
}

// TestReconcileHealthPerHost: a member is healthy for a host when a
// backend of that host's rules, or the default backend, has a ready
// endpoint there; one host's backends do not make it healthy for another.
func TestReconcileHealthPerHost(t *testing.T) {
	ing := &networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To("nginx"),
			Rules:            []networkingv1.IngressRule{rule("shop.example.com", "web"), rule("api.example.com", "api")},
		},
	}
	f := newFixture(t, defaultOptions(), toUnstructured(ing))
	apiHost := "api.example.com."
	f.mustReconcile(shopKey)
	f.wantRecords("all healthy",
		shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"),
		shopA(apiHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"))

	f.members.setEndpoint("us-central1-a", "shop", "api", false)
	f.mustReconcile(shopKey)
	f.wantRecords("api unready in us-central1-a",
		shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"),
		shopA(apiHost, "192.0.2.2", "192.0.2.3"))

	// A default backend serves every host, api's requests included.
	f.updateIngress(shopKey, func(u *unstructured.Unstructured) {
		if err := unstructured.SetNestedMap(u.Object, map[string]interface{}{"service": map[string]interface{}{"name": "fallback", "port": map[string]interface{}{"number": int64(80)}}}, "spec", "defaultBackend"); err != nil {
			t.Fatal(err)
		}
	})
	f.members.setEndpoint("us-central1-a", "shop", "fallback", true)
	f.mustReconcile(shopKey)
	f.wantRecords("a ready default backend in us-central1-a",
		shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"),
		shopA(apiHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"))
}

// TestReconcileClasses: with the global load balancer on, GCE's
// Ingresses (class gce, and those with no class) are its own: they get no
// records here, and an Ingress that becomes GCE's loses its records.
// Without it, every Ingress gets records.
func TestReconcileClasses(t *testing.T) {
	withClass := func(annotation string, className *string) *unstructured.Unstructured {
		ing := typed(t, shop())
		ing.Spec.IngressClassName = className
		if annotation != "" {
			ing.Annotations = map[string]string{controller.IngressClassAnnotation: annotation}
		}
		return toUnstructured(ing)
	}
	all := shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3")
	cases := []struct {
		name     string
		ing      *unstructured.Unstructured
		globalLB bool
		want     []string
	}{
		{"class nginx (no IngressClass object)", withClass("", ptr.To("nginx")), true, []string{all}},
		{"an IngressClass of GCE's controller", withClass("", ptr.To("gce-lb")), true, nil},
		{"an IngressClass of GCE's controller, no global load balancer", withClass("", ptr.To("gce-lb")), false, []string{all}},
		{"an IngressClass of another controller", withClass("", ptr.To("traefik")), true, []string{all}},
		{"annotation gce", withClass("gce", nil), true, nil},
		{"annotation gce, no global load balancer", withClass("gce", nil), false, []string{all}},
		{"annotation nginx", withClass("nginx", nil), true, []string{all}},
		{"no class", withClass("", nil), true, nil},
		{"no class, no global load balancer", withClass("", nil), false, []string{all}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := defaultOptions()
			opts.LeaveGCEIngresses = tc.globalLB
			f := newFixture(t, opts, tc.ing)
			f.createClass("gce-lb", controller.GCEIngressController)
			f.createClass("traefik", "traefik.io/ingress-controller")
			f.mustReconcile(shopKey)
			f.wantRecords(tc.name, tc.want...)
			if tc.want == nil && len(f.fedIngress(shopKey).GetFinalizers()) != 0 {
				t.Errorf("finalizers %v on an Ingress with no records", f.fedIngress(shopKey).GetFinalizers())
			}
		})
	}

	t.Run("nginx becomes gce", func(t *testing.T) {
		opts := defaultOptions()
		opts.LeaveGCEIngresses = true
		f := newFixture(t, opts, shop())
		f.mustReconcile(shopKey)
		f.wantRecords("nginx", all)
		f.updateIngress(shopKey, func(u *unstructured.Unstructured) {
			unstructured.RemoveNestedField(u.Object, "spec", "ingressClassName")
			u.SetAnnotations(map[string]string{controller.IngressClassAnnotation: "gce"})
		})
		f.mustReconcile(shopKey)
		f.wantRecords("gce")
	})
}

// TestReconcileHosts: hosts outside the zone, wildcards and the zone's
// apex get no record and one event each, repeated only when they change;
// the other hosts get theirs.
func TestReconcileHosts(t *testing.T) {
	f := newFixture(t, defaultOptions(), ingress("shop", "web", "shop.example.com", "Shop.Example.com", "shop.example.org", "*.example.com", "example.com"))
	f.mustReconcile(shopKey)
	f.wantRecords("in-zone host only", shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"))
	events := f.takeEvents()
	if got := countEvents(events, "Normal "+ReasonHostSkipped+" Host shop.example.org gets no DNS record: it is not in the federation's DNS zone example.com."); got != 1 {
		t.Errorf("events %q, want one saying shop.example.org is not in the zone", events)
	}
	if got := countEvents(events, "Warning "+ReasonHostSkipped+" Host *.example.com gets no DNS record: wildcard"); got != 1 {
		t.Errorf("events %q, want one Warning for the wildcard", events)
	}
	if got := countEvents(events, "Warning "+ReasonHostSkipped+" Host example.com gets no DNS record: it is the apex"); got != 1 {
		t.Errorf("events %q, want one Warning for the apex", events)
	}

	f.members.setEndpoint("us-central1-a", "shop", "web", false)
	f.mustReconcile(shopKey)
	if got := countEvents(f.takeEvents(), "Normal "+ReasonHostSkipped); got != 0 {
		t.Errorf("%d %s events again for the same hosts, want none", got, ReasonHostSkipped)
	}
}

// TestReconcileForeignRecord: a host someone outside the federation holds,
// or another Ingress's host, is left alone and reported once.
func TestReconcileForeignRecord(t *testing.T) {
	other := ingress("shop", "other", "shop.example.com")
	f := newFixture(t, defaultOptions(), shop(), other)
	f.putForeign("foreign.example.com.", dnsprovider.A, 300, "198.51.100.7")
	f.updateIngress(shopKey, func(u *unstructured.Unstructured) {
		ing := typed(t, u)
		ing.Spec.Rules = append(ing.Spec.Rules, rule("foreign.example.com", "web"))
		u.Object = toUnstructured(ing).Object
	})
	f.mustReconcile(shopKey)
	foreign := rec("foreign.example.com.", dnsprovider.A, 300, "foreign", "198.51.100.7")
	f.wantRecords("first sync", foreign, shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"))
	events := f.takeEvents()
	if !slices.ContainsFunc(events, func(e string) bool {
		return strings.HasPrefix(e, "Warning "+ReasonNameConflict+" foreign.example.com. is taken by a record set the federation does not own (A 198.51.100.7); the federation leaves it alone: remove it, or change the Ingress's host")
	}) {
		t.Errorf("events %q, want a %s saying which host is taken by what", events, ReasonNameConflict)
	}
	f.mustReconcile(shopKey)
	if events := f.takeEvents(); len(events) != 0 {
		t.Errorf("a standing conflict got events again: %q", events)
	}

	// Another Ingress with the same host: the first keeps it.
	f.mustReconcile("shop/other")
	f.wantRecords("second Ingress", foreign, shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"))
	events = f.takeEvents()
	if !slices.ContainsFunc(events, func(e string) bool {
		return strings.HasPrefix(e, "Warning "+ReasonNameConflict+" "+shopHost+" is taken by records of ingress/shop/web in federation myfederation")
	}) {
		t.Errorf("events %q, want a %s naming the Ingress that holds the host", events, ReasonNameConflict)
	}
}

// TestReconcileDeletedIngress: a deleted Ingress's records go, then its
// finalizer, also after a restart; records of Services in the same zone
// stay.
func TestReconcileDeletedIngress(t *testing.T) {
	for _, tc := range []struct {
		name    string
		restart bool
	}{
		{"records known from the last sync", false},
		{"after a restart, nothing known of the zone", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, defaultOptions(), shop())
			svcName := "nginx.mynamespace.myfederation.svc.example.com."
			svcOwner := dnsprovider.Owner{Federation: federationName, Object: "service/mynamespace/nginx"}
			if err := f.zone.Apply(f.ctx, dnsprovider.Change{Owner: svcOwner, Add: []dnsprovider.RecordSet{{Name: svcName, Type: dnsprovider.A, TTL: 180, Data: []string{"203.0.113.1"}}}}); err != nil {
				t.Fatal(err)
			}
			svcRec := rec(svcName, dnsprovider.A, 180, "service/mynamespace/nginx", "203.0.113.1")
			f.mustReconcile(shopKey)
			f.wantRecords("before the deletion", svcRec, shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"))

			f.updateIngress(shopKey, func(u *unstructured.Unstructured) {
				u.SetDeletionTimestamp(&metav1.Time{Time: time.Now()})
			})
			if tc.restart {
				f.start()
			}
			f.requests()
			f.takeEvents()
			f.mustReconcile(shopKey)

			f.wantRecords("after the deletion", svcRec)
			if got := f.requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
				t.Errorf("%d changes.create, want 1", got)
			}
			if got := f.fedIngress(shopKey).GetFinalizers(); len(got) != 0 {
				t.Errorf("finalizers %v left on the deleted Ingress, want none", got)
			}
			if events := f.takeEvents(); countEvents(events, "Normal "+ReasonRecordsUpdated+" "+shopHost+" removed") != 1 {
				t.Errorf("events %q, want one %s saying the host was removed", events, ReasonRecordsUpdated)
			}
		})
	}
}

// TestSweepDeletesRecordsOfGoneIngresses: records the federation owns for
// an Ingress it no longer has (deleted while the controller was down) are
// found by the sweep and deleted; a Service's records in the zone are not
// this controller's, and stay.
func TestSweepDeletesRecordsOfGoneIngresses(t *testing.T) {
	f := newFixture(t, defaultOptions(), shop())
	f.mustReconcile(shopKey)
	for _, c := range []dnsprovider.Change{
		{Owner: dnsprovider.Owner{Federation: federationName, Object: "ingress/shop/gone"}, Add: []dnsprovider.RecordSet{{Name: "gone.example.com.", Type: dnsprovider.A, TTL: 180, Data: []string{"192.0.2.9"}}}},
		{Owner: dnsprovider.Owner{Federation: federationName, Object: "service/shop/gone"}, Add: []dnsprovider.RecordSet{{Name: "gone.shop.myfederation.svc.example.com.", Type: dnsprovider.A, TTL: 180, Data: []string{"203.0.113.9"}}}},
	} {
		if err := f.zone.Apply(f.ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	f.queue.takeAdded()
	f.c.sweep(f.ctx)
	added := f.queue.takeAdded()
	if !slices.Contains(added, "shop/gone") {
		t.Fatalf("the sweep queued %q, want shop/gone among them", added)
	}
	f.mustReconcile("shop/gone")
	f.wantRecords("after the sweep",
		shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"),
		rec("gone.shop.myfederation.svc.example.com.", dnsprovider.A, 180, "service/shop/gone", "203.0.113.9"))
}

// TestReconcileProviderFailure: a change the provider refuses is an error
// and an event with the provider's words; the next sync writes it.
func TestReconcileProviderFailure(t *testing.T) {
	f := newFixture(t, defaultOptions(), shop())
	f.zone.beforeApply = func() { f.dns.FailNext(1, http.StatusServiceUnavailable) }
	err := f.reconcile(shopKey)
	if err == nil || dnsrecords.Pending(err) {
		t.Fatalf("reconcile while the provider answers 503 = %v, want an error to retry", err)
	}
	if events := f.takeEvents(); countEvents(events, "Warning "+ReasonUpdateFailed) != 1 {
		t.Errorf("events %q, want one %s", events, ReasonUpdateFailed)
	}
	f.mustReconcile(shopKey)
	f.wantRecords("after the retry", shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"))
}

// TestReconcileUnreadyGrace: a member that is not Ready stays in the
// records for --dns-unhealthy-grace, and the Ingress is looked at again
// when the grace ends.
func TestReconcileUnreadyGrace(t *testing.T) {
	opts := defaultOptions()
	opts.UnhealthyGrace = time.Minute
	f := newFixture(t, opts, shop())
	f.mustReconcile(shopKey)
	f.requests()
	f.registry.SetReady("us-central1-a", false)
	f.mustReconcile(shopKey)
	f.wantRecords("in its grace", shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"))
	if got := f.requests(); len(got) != 0 {
		t.Errorf("a member in its grace sent %v, want nothing", got)
	}
	if d, ok := f.queue.takeAfter(shopKey); !ok || d != time.Minute {
		t.Errorf("recheck after %v (queued %v), want after 1m0s", d, ok)
	}
	f.now = f.now.Add(time.Minute)
	f.mustReconcile(shopKey)
	f.wantRecords("grace over", shopA(shopHost, "192.0.2.2", "192.0.2.3"))
}

// TestReconcileHostname: a member whose ingress controller gives a host
// name is a CNAME target while it is the only healthy member, and its
// resolved addresses beside the others.
func TestReconcileHostname(t *testing.T) {
	const lb = "lb-eu.elb.example.net"
	f := newFixture(t, defaultOptions(), shop())
	f.members.setCopy("europe-west1-b", "shop", "web", networkingv1.IngressLoadBalancerIngress{Hostname: lb})
	f.hosts[lb] = []string{"198.51.100.10"}
	f.mustReconcile(shopKey)
	f.wantRecords("beside others", shopA(shopHost, "192.0.2.1", "192.0.2.2", "198.51.100.10"))
	if d, ok := f.queue.takeAfter(shopKey); !ok || d != defaultTTL*time.Second {
		t.Errorf("recheck after %v (queued %v), want after the TTL", d, ok)
	}

	f.members.setEndpoint("us-central1-a", "shop", "web", false)
	f.members.setEndpoint("us-central1-b", "shop", "web", false)
	f.mustReconcile(shopKey)
	f.wantRecords("alone", rec(shopHost, dnsprovider.CNAME, defaultTTL, shopOwner, lb+"."))
}

// TestReconcileWaitsForMembers: a member whose caches have not synced holds
// the Ingress back without a request or an event.
func TestReconcileWaitsForMembers(t *testing.T) {
	f := newFixture(t, defaultOptions(), shop())
	f.members.setSynced("europe-west1-b", false)
	if err := f.reconcile(shopKey); !dnsrecords.Pending(err) {
		t.Errorf("reconcile with a member not synced = %v, want a pending error", err)
	}
	if got := f.requests(); len(got) != 0 {
		t.Errorf("sent %v, want nothing", got)
	}
	if events := f.takeEvents(); len(events) != 0 {
		t.Errorf("events %q, want none", events)
	}
}

// TestReconcileDNSOff: with no zone the controller only releases deleted
// Ingresses.
func TestReconcileDNSOff(t *testing.T) {
	ing := shop()
	ing.SetFinalizers([]string{Finalizer})
	ing.SetDeletionTimestamp(&metav1.Time{Time: time.Now()})
	f := newFixture(t, defaultOptions(), ing)
	f.c.zone = nil
	f.mustReconcile(shopKey)
	if got := f.fedIngress(shopKey).GetFinalizers(); len(got) != 0 {
		t.Errorf("finalizers %v, want none", got)
	}
	if got := f.requests(); len(got) != 0 {
		t.Errorf("sent %v with DNS off, want nothing", got)
	}
}

// TestEnqueueBackend: a change to a Service's endpoints in a member queues
// the Ingresses that send traffic to it, and only those.
func TestEnqueueBackend(t *testing.T) {
	ing := typed(t, shop())
	ing.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "fallback", Port: networkingv1.ServiceBackendPort{Number: 80}}}
	f := newFixture(t, defaultOptions(), toUnstructured(ing), ingress("shop", "other", "other.example.com"), ingress("elsewhere", "web", "x.example.com"))
	for _, tc := range []struct {
		namespace, service string
		want               []string
	}{
		{"shop", "web", []string{"shop/other", "shop/web"}},
		{"shop", "fallback", []string{"shop/web"}},
		{"shop", "nothing", nil},
	} {
		f.queue.takeAdded()
		f.c.enqueueBackend(tc.namespace, tc.service)
		got := f.queue.takeAdded()
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Service %s/%s queued %q, want %q", tc.namespace, tc.service, got, tc.want)
		}
	}
}
