package servicedns

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/dns/v1"
	"google.golang.org/api/option"
	corev1 "k8s.io/api/core/v1"
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

	"github.com/kfederation/federation/pkg/apis/federation/annotations"
	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/controller/dnsrecords"
	"github.com/kfederation/federation/pkg/dnsprovider"
	"github.com/kfederation/federation/pkg/dnsprovider/clouddns"
	"github.com/kfederation/federation/test/fakeclouddns"
)

// The federation, zone and Service of every test. The names of the
// Service (zoneA, regUS, global ...) are those of records_test.go.
const (
	federationName = "myfederation"
	gcpProject     = "test-project"
	// managedZone is the managed zone the Cloud DNS provider creates for
	// example.com.
	managedZone = "kfed-example-com"
	nginxKey    = "mynamespace/nginx"
	nginxOwner  = "service/mynamespace/nginx"
	defaultTTL  = 180
)

// memberCluster is one member as the federation sees it, and the address
// its copy of nginx's load balancer has.
type memberCluster struct {
	name, zone, region, ip string
}

var memberClusters = []memberCluster{
	{"us-central1-a", "us-central1-a", "us-central1", "192.0.2.1"},
	{"us-central1-b", "us-central1-b", "us-central1", "192.0.2.2"},
	{"europe-west1-b", "europe-west1-b", "europe-west1", "192.0.2.3"},
}

// fixture is one Service DNS controller over a fake federation API, fake
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
	c        *Controller
	events   *record.FakeRecorder
	queue    *recordingQueue
	informer cache.SharedIndexInformer

	// now is the health and resolver clock.
	now time.Time
	// hosts are what the stubbed resolver answers; lookups counts its
	// calls per host.
	hosts   map[string][]string
	lookups map[string]int
}

// newFixture starts a fake Cloud DNS with the zone example.com., the
// three member clusters, Ready and each with a copy of every Service in
// svcs (one load-balancer IP, a ready endpoint), and the controller.
func newFixture(t *testing.T, opts Options, svcs ...*unstructured.Unstructured) *fixture {
	t.Helper()
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	f := &fixture{
		t:       t,
		ctx:     ctx,
		opts:    opts,
		now:     time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		hosts:   map[string][]string{},
		lookups: map[string]int{},
	}

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
	for _, s := range svcs {
		fedObjs = append(fedObjs, s)
	}
	f.fed = dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{servicesGVR: "ServiceList"}, fedObjs...)

	var clusterObjs []runtime.Object
	f.registry = clusterclient.NewRegistry(federationName)
	f.members = newFakeMembers(f.registry)
	for _, mc := range memberClusters {
		clusterObjs = append(clusterObjs, &federationv1beta1.Cluster{
			ObjectMeta: metav1.ObjectMeta{Name: mc.name, Labels: map[string]string{"name": mc.name}},
			Status: federationv1beta1.ClusterStatus{
				Conditions: []federationv1beta1.ClusterCondition{{Type: federationv1beta1.ClusterReady, Status: federationv1beta1.ConditionTrue}},
				Zones:      []string{mc.zone},
				Region:     mc.region,
			},
		})
		if _, err := f.registry.Set(mc.name, &rest.Config{Host: "https://127.0.0.1:1"}); err != nil {
			t.Fatal(err)
		}
		f.registry.SetReady(mc.name, true)
		for _, s := range svcs {
			f.members.setCopy(mc.name, s.GetNamespace(), s.GetName(), corev1.LoadBalancerIngress{IP: mc.ip})
			f.members.setEndpoint(mc.name, s.GetNamespace(), s.GetName(), true)
		}
	}
	f.fedTyped = fedfake.NewClientset(clusterObjs...)
	f.start()
	f.dns.ResetRequests()
	return f
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
	f.informer = c.services
	cctx.DynamicInformers.Start(f.ctx.Done())
	cctx.FedInformers.Start(f.ctx.Done())
	if !cache.WaitForCacheSync(f.ctx.Done(), c.synced...) {
		f.t.Fatal("caches did not sync")
	}
}

// lookup stands in for the system resolver: no test sends a real DNS
// query.
func (f *fixture) lookup(_ context.Context, host string) ([]string, error) {
	f.lookups[host]++
	addrs, ok := f.hosts[host]
	if !ok {
		return nil, fmt.Errorf("lookup %s: no such host (test stub)", host)
	}
	return addrs, nil
}

// reconcile runs one sync of key, then waits until the Service informer
// has the federation's own writes (the finalizer), as a worker's next sync
// would.
func (f *fixture) reconcile(key string) error {
	f.t.Helper()
	err := f.c.reconcile(f.ctx, key)
	f.syncServiceCache(key)
	return err
}

// mustReconcile is reconcile that must succeed.
func (f *fixture) mustReconcile(key string) {
	f.t.Helper()
	if err := f.reconcile(key); err != nil {
		f.t.Fatalf("reconcile %s: %v", key, err)
	}
}

// syncServiceCache waits until the informer holds the federated Service
// key as the fake API holds it now.
func (f *fixture) syncServiceCache(key string) {
	f.t.Helper()
	want := f.fedServiceOrNil(key)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		item, exists, err := f.informer.GetIndexer().GetByKey(key)
		if err == nil && exists == (want != nil) && (want == nil || equality.Semantic.DeepEqual(item.(*unstructured.Unstructured).Object, want.Object)) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	f.t.Fatalf("the Service informer never caught up with %s", key)
}

func (f *fixture) fedServiceOrNil(key string) *unstructured.Unstructured {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	obj, err := f.fed.Resource(servicesGVR).Namespace(ns).Get(f.ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	return obj
}

// fedService returns the federated Service key as the fake API holds it.
func (f *fixture) fedService(key string) *unstructured.Unstructured {
	f.t.Helper()
	obj := f.fedServiceOrNil(key)
	if obj == nil {
		f.t.Fatalf("the federation has no Service %s", key)
	}
	return obj
}

// updateService changes the federated Service key and waits for the
// informer to see it.
func (f *fixture) updateService(key string, change func(*unstructured.Unstructured)) {
	f.t.Helper()
	obj := f.fedService(key)
	change(obj)
	if _, err := f.fed.Resource(servicesGVR).Namespace(obj.GetNamespace()).Update(f.ctx, obj, metav1.UpdateOptions{}); err != nil {
		f.t.Fatalf("update Service %s: %v", key, err)
	}
	f.syncServiceCache(key)
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
	owners := map[string]string{} // ownership record name -> owner
	for _, rs := range sets {
		if rs.Type == "TXT" && strings.HasPrefix(rs.Name, "_kfed-owner-") {
			owners[rs.Name] = ownerOfTXT(rs.Rrdatas)
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

// ownerOfTXT reads an ownership record
// ("heritage=kfederation,federation=myfederation,object=service/ns/name"):
// the object in federation myfederation, federation/object in another.
func ownerOfTXT(rrdatas []string) string {
	fields := map[string]string{}
	for _, kv := range strings.Split(strings.Trim(strings.Join(rrdatas, ""), `"`), ",") {
		k, v, _ := strings.Cut(kv, "=")
		fields[k] = v
	}
	if fields["federation"] != federationName {
		return fields["federation"] + "/" + fields["object"]
	}
	return fields["object"]
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

// aRec and cnameRec are nginx's record sets of the default TTL.
func aRec(name string, ips ...string) string {
	return rec(name, dnsprovider.A, defaultTTL, nginxOwner, ips...)
}
func cnameRec(name, target string) string {
	return rec(name, dnsprovider.CNAME, defaultTTL, nginxOwner, target)
}

// allHealthy are nginx's records while every shard is healthy.
func allHealthy(ttl int64) []string {
	a := func(name string, ips ...string) string { return rec(name, dnsprovider.A, ttl, nginxOwner, ips...) }
	return []string{
		a(global, "192.0.2.1", "192.0.2.2", "192.0.2.3"),
		a(regUS, "192.0.2.1", "192.0.2.2"),
		a(regEU, "192.0.2.3"),
		a(zoneA, "192.0.2.1"),
		a(zoneB, "192.0.2.2"),
		a(zoneEU, "192.0.2.3"),
	}
}

// putForeign writes a record set into the zone as someone outside the
// federation would, with no ownership record.
func (f *fixture) putForeign(name string, typ dnsprovider.RecordType, ttl int64, data ...string) {
	f.t.Helper()
	if err := f.dns.PutRecordSet(gcpProject, managedZone, fakeclouddns.RecordSet{Name: name, Type: string(typ), TTL: ttl, Rrdatas: data}); err != nil {
		f.t.Fatalf("write a foreign record set: %v", err)
	}
}

// service is a federated Service of type LoadBalancer.
func service(namespace, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "v1",
		"kind":       "Service",
		"spec": map[string]interface{}{
			"type":     "LoadBalancer",
			"selector": map[string]interface{}{"app": name},
			"ports":    []interface{}{map[string]interface{}{"port": int64(80)}},
		},
	}}
	u.SetNamespace(namespace)
	u.SetName(name)
	return u
}

func nginx() *unstructured.Unstructured { return service("mynamespace", "nginx") }

func defaultOptions() Options { return Options{Suffix: "example.com.", TTL: defaultTTL} }

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

// fakeMembers holds the members' copies of federated Services and whether
// each has a ready endpoint. Readiness comes from the registry, as the
// controller manager's does.
type fakeMembers struct {
	registry *clusterclient.Registry

	mu       sync.Mutex
	copies   map[string]*corev1.Service // cluster/namespace/name
	ready    map[string]bool            // cluster/namespace/name
	unsynced map[string]bool            // cluster
}

var _ members = (*fakeMembers)(nil)

func newFakeMembers(r *clusterclient.Registry) *fakeMembers {
	return &fakeMembers{registry: r, copies: map[string]*corev1.Service{}, ready: map[string]bool{}, unsynced: map[string]bool{}}
}

// setCopy gives the cluster a copy of the Service whose load balancer has
// ingress.
func (m *fakeMembers) setCopy(cluster, namespace, name string, ingress ...corev1.LoadBalancerIngress) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.copies[cluster+"/"+namespace+"/"+name] = &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer},
		Status:     corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: ingress}},
	}
}

func (m *fakeMembers) setEndpoint(cluster, namespace, name string, ready bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ready[cluster+"/"+namespace+"/"+name] = ready
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

func (m *fakeMembers) Service(cluster, namespace, name string) (*corev1.Service, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.copies[cluster+"/"+namespace+"/"+name]; s != nil {
		return s.DeepCopy(), nil
	}
	return nil, nil
}

func (m *fakeMembers) ReadyEndpoint(cluster, namespace, name string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ready[cluster+"/"+namespace+"/"+name], nil
}

func (m *fakeMembers) Watch(func(namespace, name string)) {}

// hookedZone is the provider's zone with a hook run just before the next
// Apply: a fault injected there hits the change, not the reads before it.
// With loseAnswer, the next Apply goes through but returns an error, as
// when the answer is lost on the way back.
type hookedZone struct {
	dnsprovider.Zone
	beforeApply func()
	loseAnswer  bool
}

func (z *hookedZone) Apply(ctx context.Context, change dnsprovider.Change) error {
	if hook := z.beforeApply; hook != nil {
		z.beforeApply = nil
		hook()
	}
	err := z.Zone.Apply(ctx, change)
	if err == nil && z.loseAnswer {
		z.loseAnswer = false
		return context.DeadlineExceeded
	}
	return err
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

// waitAdded waits until key has been added, and forgets what was added.
func (q *recordingQueue) waitAdded(t *testing.T, key string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var seen []string
	for time.Now().Before(deadline) {
		seen = append(seen, q.takeAdded()...)
		if slices.Contains(seen, key) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s never queued; queued %q", key, seen)
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

// TestReconcileAllHealthy: every name gets the A records of its level's
// shards, the Service its finalizer and an event, and a second sync costs
// the provider nothing.
func TestReconcileAllHealthy(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	f.mustReconcile(nginxKey)

	f.wantRecords("first sync", allHealthy(defaultTTL)...)
	if got := f.requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
		t.Errorf("%d changes.create, want 1", got)
	}
	if got := f.fedService(nginxKey).GetFinalizers(); !slices.Equal(got, []string{Finalizer}) {
		t.Errorf("finalizers %v, want [%s]", got, Finalizer)
	}
	events := f.takeEvents()
	if countEvents(events, "Normal "+ReasonRecordsUpdated) != 1 || !strings.Contains(strings.Join(events, "\n"), global+" A 192.0.2.1,192.0.2.2,192.0.2.3") {
		t.Errorf("events %q, want one %s naming the global name's addresses", events, ReasonRecordsUpdated)
	}

	f.mustReconcile(nginxKey)
	if got := f.requests(); len(got) != 0 {
		t.Errorf("an unchanged Service sent %v to the provider, want nothing", got)
	}
	if events := f.takeEvents(); len(events) != 0 {
		t.Errorf("an unchanged Service got events %q", events)
	}
	f.wantRecords("second sync", allHealthy(defaultTTL)...)
	if got := f.fedService(nginxKey).GetFinalizers(); !slices.Equal(got, []string{Finalizer}) {
		t.Errorf("finalizers after the second sync %v, want [%s]", got, Finalizer)
	}
}

// TestRestartCostsNothing: after a restart, one List of the zone is all an
// unchanged Service costs, and a Service with no records costs nothing.
func TestRestartCostsNothing(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	f.mustReconcile(nginxKey)
	f.start()
	f.requests()
	f.queue.takeAdded()

	f.c.sweep(f.ctx)
	if added := f.queue.takeAdded(); !slices.Equal(added, []string{nginxKey}) {
		t.Errorf("the first sweep queued %q, want [%s]", added, nginxKey)
	}
	f.mustReconcile(nginxKey)
	f.mustReconcile("mynamespace/never-had-records")
	if diff := cmp.Diff(map[string]int{fakeclouddns.MethodRecordSetsList: 1}, f.requests()); diff != "" {
		t.Errorf("requests after a restart (-want +got):\n%s", diff)
	}
	f.wantRecords("after a restart", allHealthy(defaultTTL)...)
}

// TestReconcileClusterSelector: only the clusters the Service's selector
// picks have names.
func TestReconcileClusterSelector(t *testing.T) {
	svc := nginx()
	svc.SetAnnotations(map[string]string{annotations.ClusterSelector: `[{"key":"name","operator":"in","values":["us-central1-a","us-central1-b"]}]`})
	f := newFixture(t, defaultOptions(), svc)
	f.mustReconcile(nginxKey)
	f.wantRecords("us-central1 only",
		aRec(global, "192.0.2.1", "192.0.2.2"),
		aRec(regUS, "192.0.2.1", "192.0.2.2"),
		aRec(zoneA, "192.0.2.1"),
		aRec(zoneB, "192.0.2.2"),
	)

	f.updateService(nginxKey, func(u *unstructured.Unstructured) {
		u.SetAnnotations(map[string]string{annotations.ClusterSelector: `[{"key":"name","operator":"==","values":["europe-west1-b"]}]`})
	})
	f.mustReconcile(nginxKey)
	f.wantRecords("europe-west1 only",
		aRec(global, "192.0.2.3"),
		aRec(regEU, "192.0.2.3"),
		aRec(zoneEU, "192.0.2.3"),
	)
}

// TestReconcileFollowsHealth: a shard without a ready endpoint leaves the
// names; a name with no healthy shard left points one level up, and the
// global name with none has no record. Each step is one change.
func TestReconcileFollowsHealth(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	f.mustReconcile(nginxKey)
	f.requests()
	f.takeEvents()

	steps := []struct {
		name    string
		healthy map[string]bool
		want    []string
	}{{
		name:    "us-central1-a loses its ready endpoint",
		healthy: map[string]bool{"us-central1-a": false, "us-central1-b": true, "europe-west1-b": true},
		want: []string{
			aRec(global, "192.0.2.2", "192.0.2.3"),
			aRec(regUS, "192.0.2.2"),
			aRec(regEU, "192.0.2.3"),
			cnameRec(zoneA, regUS),
			aRec(zoneB, "192.0.2.2"),
			aRec(zoneEU, "192.0.2.3"),
		},
	}, {
		name:    "both us-central1 shards unhealthy",
		healthy: map[string]bool{"us-central1-a": false, "us-central1-b": false, "europe-west1-b": true},
		want: []string{
			aRec(global, "192.0.2.3"),
			cnameRec(regUS, global),
			aRec(regEU, "192.0.2.3"),
			cnameRec(zoneA, regUS),
			cnameRec(zoneB, regUS),
			aRec(zoneEU, "192.0.2.3"),
		},
	}, {
		name:    "every shard unhealthy",
		healthy: map[string]bool{"us-central1-a": false, "us-central1-b": false, "europe-west1-b": false},
		want: []string{
			cnameRec(regUS, global),
			cnameRec(regEU, global),
			cnameRec(zoneA, regUS),
			cnameRec(zoneB, regUS),
			cnameRec(zoneEU, regEU),
		},
	}, {
		name:    "every shard healthy again",
		healthy: map[string]bool{"us-central1-a": true, "us-central1-b": true, "europe-west1-b": true},
		want:    allHealthy(defaultTTL),
	}}
	for _, step := range steps {
		for cluster, ready := range step.healthy {
			f.members.setEndpoint(cluster, "mynamespace", "nginx", ready)
		}
		f.mustReconcile(nginxKey)
		f.wantRecords(step.name, step.want...)
		if got := f.requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
			t.Errorf("%s: %d changes.create, want exactly 1", step.name, got)
		}
		if got := countEvents(f.takeEvents(), "Normal "+ReasonRecordsUpdated); got != 1 {
			t.Errorf("%s: %d %s events, want 1", step.name, got, ReasonRecordsUpdated)
		}
	}
}

// TestReconcileTTL: the dns-ttl annotation overrides --dns-ttl; a value
// that is no TTL leaves the records as they are and says why.
func TestReconcileTTL(t *testing.T) {
	svc := nginx()
	svc.SetAnnotations(map[string]string{annotations.DNSTTL: "60"})
	f := newFixture(t, defaultOptions(), svc)
	f.mustReconcile(nginxKey)
	f.wantRecords("TTL 60", allHealthy(60)...)
	f.requests()
	f.takeEvents()

	f.updateService(nginxKey, func(u *unstructured.Unstructured) {
		u.SetAnnotations(map[string]string{annotations.DNSTTL: "soon"})
	})
	f.members.setEndpoint("us-central1-a", "mynamespace", "nginx", false)
	f.mustReconcile(nginxKey)
	f.wantRecords("a TTL that is no number", allHealthy(60)...)
	if got := f.requests(); len(got) != 0 {
		t.Errorf("an invalid TTL sent %v to the provider, want nothing", got)
	}
	if events := f.takeEvents(); countEvents(events, "Warning "+ReasonInvalid) != 1 || !strings.Contains(events[0], annotations.DNSTTL) {
		t.Errorf("events %q, want one %s naming the annotation", events, ReasonInvalid)
	}

	f.updateService(nginxKey, func(u *unstructured.Unstructured) { u.SetAnnotations(nil) })
	f.members.setEndpoint("us-central1-a", "mynamespace", "nginx", true)
	f.mustReconcile(nginxKey)
	f.wantRecords("annotation removed: --dns-ttl", allHealthy(defaultTTL)...)
}

// TestReconcileForeignRecord: a name someone outside the federation holds
// is left alone and reported once; the other names are written.
func TestReconcileForeignRecord(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	foreign := rec(global, dnsprovider.A, 300, "foreign", "198.51.100.7")
	f.putForeign(global, dnsprovider.A, 300, "198.51.100.7")

	f.mustReconcile(nginxKey)
	want := append([]string{foreign}, allHealthy(defaultTTL)[1:]...)
	f.wantRecords("first sync", want...)
	events := f.takeEvents()
	if got := countEvents(events, "Warning "+ReasonNameConflict); got != 1 {
		t.Errorf("%d %s events, want 1: %q", got, ReasonNameConflict, events)
	}
	if !strings.Contains(strings.Join(events, "\n"), global+" is taken by a record set the federation does not own (A 198.51.100.7)") {
		t.Errorf("events %q do not say which name is taken by what", events)
	}
	f.requests()

	f.mustReconcile(nginxKey)
	f.wantRecords("second sync", want...)
	if events := f.takeEvents(); len(events) != 0 {
		t.Errorf("a standing conflict got events again: %q", events)
	}
	if got := f.requests()[fakeclouddns.MethodChangesCreate]; got != 0 {
		t.Errorf("%d changes.create on the second sync, want none", got)
	}
}

// TestReconcileDeletedService: a deleted Service's records go, then its
// finalizer; records of others at names beside them stay.
func TestReconcileDeletedService(t *testing.T) {
	sibling := "other.mynamespace.myfederation.svc.example.com."
	for _, tc := range []struct {
		name    string
		restart bool
	}{
		{"records known from the last sync", false},
		{"after a restart, nothing known of the zone", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, defaultOptions(), nginx())
			f.putForeign(sibling, dnsprovider.A, 300, "198.51.100.7")
			f.mustReconcile(nginxKey)
			f.wantRecords("before the deletion", append(allHealthy(defaultTTL), rec(sibling, dnsprovider.A, 300, "foreign", "198.51.100.7"))...)

			f.updateService(nginxKey, func(u *unstructured.Unstructured) {
				u.SetDeletionTimestamp(&metav1.Time{Time: time.Now()})
			})
			if tc.restart {
				f.start()
			}
			f.requests()
			f.takeEvents()
			f.mustReconcile(nginxKey)

			f.wantRecords("after the deletion", rec(sibling, dnsprovider.A, 300, "foreign", "198.51.100.7"))
			if got := f.requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
				t.Errorf("%d changes.create, want 1", got)
			}
			if got := f.fedService(nginxKey).GetFinalizers(); len(got) != 0 {
				t.Errorf("finalizers %v left on the deleted Service, want none", got)
			}
			if got := countEvents(f.takeEvents(), "Normal "+ReasonRecordsUpdated); got != 1 {
				t.Errorf("%d %s events, want 1", got, ReasonRecordsUpdated)
			}
		})
	}
}

// TestSweepDeletesRecordsOfGoneServices: records the federation owns for a
// Service it no longer has (deleted while the controller was down) are
// found by the sweep and deleted; the other Services' records stay.
func TestSweepDeletesRecordsOfGoneServices(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	f.mustReconcile(nginxKey)
	gone := Service{Name: "gone", Namespace: "mynamespace", Federation: federationName, Suffix: "example.com."}
	owner := dnsprovider.Owner{Federation: federationName, Object: "service/mynamespace/gone"}
	err := f.zone.Apply(f.ctx, dnsprovider.Change{Owner: owner, Add: []dnsprovider.RecordSet{
		{Name: gone.GlobalName(), Type: dnsprovider.A, TTL: 180, Data: []string{"192.0.2.9"}},
		{Name: gone.ZoneName("us-central1-a", "us-central1"), Type: dnsprovider.CNAME, TTL: 180, Data: []string{gone.RegionName("us-central1")}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	f.requests()
	f.queue.takeAdded()

	f.c.sweep(f.ctx)
	if added := f.queue.takeAdded(); !slices.Contains(added, "mynamespace/gone") {
		t.Fatalf("the sweep queued %q, want mynamespace/gone among them", added)
	}
	f.mustReconcile("mynamespace/gone")
	f.wantRecords("after the sweep", allHealthy(defaultTTL)...)
	if got := f.requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
		t.Errorf("%d changes.create, want 1", got)
	}

	// The cache now knows the zone: nginx, unchanged, costs nothing.
	f.mustReconcile(nginxKey)
	if got := f.requests(); len(got) != 0 {
		t.Errorf("an unchanged Service after a sweep sent %v, want nothing", got)
	}
}

// TestReconcileNotLoadBalancer: a Service no longer of type LoadBalancer
// has no records.
func TestReconcileNotLoadBalancer(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	f.mustReconcile(nginxKey)
	f.wantRecords("LoadBalancer", allHealthy(defaultTTL)...)
	f.requests()

	f.updateService(nginxKey, func(u *unstructured.Unstructured) {
		if err := unstructured.SetNestedField(u.Object, "ClusterIP", "spec", "type"); err != nil {
			t.Fatal(err)
		}
	})
	f.mustReconcile(nginxKey)
	f.wantRecords("ClusterIP")
	if got := f.requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
		t.Errorf("%d changes.create, want 1", got)
	}
	f.mustReconcile(nginxKey)
	if got := f.requests(); len(got) != 0 {
		t.Errorf("a ClusterIP Service with no records sent %v, want nothing", got)
	}
}

// TestReconcileProviderFailure: a change the provider refuses is an error
// and an event with the provider's words; the next sync writes it.
func TestReconcileProviderFailure(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	f.zone.beforeApply = func() { f.dns.FailNext(1, http.StatusServiceUnavailable) }

	err := f.reconcile(nginxKey)
	if err == nil || dnsrecords.Pending(err) {
		t.Fatalf("reconcile while the provider answers 503 = %v, want an error to retry", err)
	}
	f.wantRecords("after the refused change")
	events := f.takeEvents()
	if countEvents(events, "Warning "+ReasonUpdateFailed) != 1 || !strings.Contains(strings.Join(events, "\n"), "The service is currently unavailable") {
		t.Errorf("events %q, want one %s with the provider's message", events, ReasonUpdateFailed)
	}
	if got := f.requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
		t.Errorf("%d changes.create, want the 1 refused", got)
	}

	f.mustReconcile(nginxKey)
	f.wantRecords("after the retry", allHealthy(defaultTTL)...)
	if got := f.requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
		t.Errorf("%d changes.create on the retry, want 1", got)
	}
	if got := countEvents(f.takeEvents(), "Normal "+ReasonRecordsUpdated); got != 1 {
		t.Errorf("%d %s events on the retry, want 1", got, ReasonRecordsUpdated)
	}
}

// TestReconcileProviderReadFailure: a read the provider refuses is an
// error and an event; nothing is written until the next sync.
func TestReconcileProviderReadFailure(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	f.dns.FailNext(1, http.StatusServiceUnavailable)
	err := f.reconcile(nginxKey)
	if err == nil || dnsrecords.Pending(err) {
		t.Fatalf("reconcile while the provider answers 503 = %v, want an error to retry", err)
	}
	if got := f.requests()[fakeclouddns.MethodChangesCreate]; got != 0 {
		t.Errorf("%d changes.create after a failed read, want none", got)
	}
	if events := f.takeEvents(); countEvents(events, "Warning "+ReasonUpdateFailed) != 1 {
		t.Errorf("events %q, want one %s", events, ReasonUpdateFailed)
	}
	f.mustReconcile(nginxKey)
	f.wantRecords("after the retry", allHealthy(defaultTTL)...)
}

// TestReconcileLostAnswer: a change that went through although Apply
// failed (its answer lost) leaves the controller unsure of the zone: when
// the Service goes back to what it was before, the zone is read and put
// back, not taken to be as it was.
func TestReconcileLostAnswer(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	f.mustReconcile(nginxKey)

	f.members.setEndpoint("us-central1-a", "mynamespace", "nginx", false)
	f.zone.loseAnswer = true
	if err := f.reconcile(nginxKey); err == nil {
		t.Fatal("reconcile with the answer lost succeeded, want an error")
	}
	f.members.setEndpoint("us-central1-a", "mynamespace", "nginx", true)
	f.mustReconcile(nginxKey)
	f.wantRecords("back to every shard healthy", allHealthy(defaultTTL)...)
}

// TestReconcileUnreadyCluster: a member that is not Ready leaves the
// records once its grace period is over, and the Service is looked at
// again when it ends.
func TestReconcileUnreadyCluster(t *testing.T) {
	withoutA := []string{
		aRec(global, "192.0.2.2", "192.0.2.3"),
		aRec(regUS, "192.0.2.2"),
		aRec(regEU, "192.0.2.3"),
		cnameRec(zoneA, regUS),
		aRec(zoneB, "192.0.2.2"),
		aRec(zoneEU, "192.0.2.3"),
	}

	t.Run("no grace", func(t *testing.T) {
		// other is never written, so only the member's change queues it
		// once its informer's add is in.
		other := service("mynamespace", "other")
		f := newFixture(t, defaultOptions(), nginx(), other)
		f.mustReconcile(nginxKey)
		f.requests()
		f.queue.waitAdded(t, "mynamespace/other")
		f.registry.SetReady("us-central1-a", false)
		if added := f.queue.takeAdded(); !slices.Contains(added, "mynamespace/other") {
			t.Errorf("the member going not Ready queued %q, want every Service", added)
		}
		f.mustReconcile(nginxKey)
		f.wantRecords("us-central1-a not Ready", withoutA...)
		if got := f.requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
			t.Errorf("%d changes.create, want 1", got)
		}
		if d, ok := f.queue.takeAfter(nginxKey); ok {
			t.Errorf("recheck queued after %v, want none", d)
		}

		f.registry.SetReady("us-central1-a", true)
		f.mustReconcile(nginxKey)
		f.wantRecords("us-central1-a Ready again", allHealthy(defaultTTL)...)
	})

	t.Run("a minute's grace", func(t *testing.T) {
		opts := defaultOptions()
		opts.UnhealthyGrace = time.Minute
		f := newFixture(t, opts, nginx())
		f.mustReconcile(nginxKey)
		f.requests()
		f.registry.SetReady("us-central1-a", false)

		f.mustReconcile(nginxKey)
		f.wantRecords("not Ready, in its grace", allHealthy(defaultTTL)...)
		if got := f.requests(); len(got) != 0 {
			t.Errorf("a member in its grace sent %v, want nothing", got)
		}
		if d, ok := f.queue.takeAfter(nginxKey); !ok || d != time.Minute {
			t.Errorf("recheck after %v (queued %v), want after 1m0s", d, ok)
		}

		f.now = f.now.Add(40 * time.Second)
		f.mustReconcile(nginxKey)
		f.wantRecords("not Ready for 40s", allHealthy(defaultTTL)...)
		if d, ok := f.queue.takeAfter(nginxKey); !ok || d != 20*time.Second {
			t.Errorf("recheck after %v (queued %v), want after the 20s left", d, ok)
		}

		f.now = f.now.Add(20 * time.Second)
		f.mustReconcile(nginxKey)
		f.wantRecords("grace over", withoutA...)
		if got := f.requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
			t.Errorf("%d changes.create, want 1", got)
		}

		// Ready again, then down again: a new grace period.
		f.registry.SetReady("us-central1-a", true)
		f.mustReconcile(nginxKey)
		f.wantRecords("Ready again", allHealthy(defaultTTL)...)
		f.registry.SetReady("us-central1-a", false)
		f.mustReconcile(nginxKey)
		f.wantRecords("down again, in a new grace", allHealthy(defaultTTL)...)
	})
}

// TestReconcileHostname: a load balancer known by a host name is a CNAME
// target where it is a name's only target, and its addresses, resolved
// once per TTL, where it is one of several.
func TestReconcileHostname(t *testing.T) {
	const host = "lb-eu.elb.example.net"
	f := newFixture(t, defaultOptions(), nginx())
	f.members.setCopy("europe-west1-b", "mynamespace", "nginx", corev1.LoadBalancerIngress{Hostname: host})
	f.hosts[host] = []string{"198.51.100.10"}

	f.mustReconcile(nginxKey)
	f.wantRecords("host name", []string{
		aRec(global, "192.0.2.1", "192.0.2.2", "198.51.100.10"),
		aRec(regUS, "192.0.2.1", "192.0.2.2"),
		cnameRec(regEU, host+"."),
		aRec(zoneA, "192.0.2.1"),
		aRec(zoneB, "192.0.2.2"),
		cnameRec(zoneEU, host+"."),
	}...)
	if d, ok := f.queue.takeAfter(nginxKey); !ok || d != defaultTTL*time.Second {
		t.Errorf("recheck after %v (queued %v), want after the TTL", d, ok)
	}
	if f.lookups[host] != 1 {
		t.Errorf("%d lookups of %s, want 1", f.lookups[host], host)
	}
	f.requests()

	// Within the TTL the answer is kept: no lookup, nothing to write.
	f.hosts[host] = []string{"198.51.100.11"}
	f.now = f.now.Add(time.Minute)
	f.mustReconcile(nginxKey)
	if f.lookups[host] != 1 {
		t.Errorf("%d lookups of %s within the TTL, want still 1", f.lookups[host], host)
	}
	if got := f.requests(); len(got) != 0 {
		t.Errorf("within the TTL sent %v, want nothing", got)
	}

	// After it, the name is resolved again and the global name follows.
	f.now = f.now.Add(defaultTTL * time.Second)
	f.mustReconcile(nginxKey)
	if f.lookups[host] != 2 {
		t.Errorf("%d lookups of %s after the TTL, want 2", f.lookups[host], host)
	}
	f.wantRecords("host name resolved anew", []string{
		aRec(global, "192.0.2.1", "192.0.2.2", "198.51.100.11"),
		aRec(regUS, "192.0.2.1", "192.0.2.2"),
		cnameRec(regEU, host+"."),
		aRec(zoneA, "192.0.2.1"),
		aRec(zoneB, "192.0.2.2"),
		cnameRec(zoneEU, host+"."),
	}...)
}

// TestReconcileWaitsForMembers: a member whose caches have not synced, or
// a Ready cluster not probed yet, holds the Service back without a
// request or an event.
func TestReconcileWaitsForMembers(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	f.members.setSynced("europe-west1-b", false)
	err := f.reconcile(nginxKey)
	if !dnsrecords.Pending(err) || !errors.Is(err, clusterclient.ErrNotSynced) {
		t.Errorf("reconcile with a member not synced = %v, want ErrNotSynced", err)
	}
	f.wantRecords("member not synced")
	if got := f.requests(); len(got) != 0 {
		t.Errorf("sent %v, want nothing", got)
	}
	if events := f.takeEvents(); len(events) != 0 {
		t.Errorf("events %q, want none", events)
	}
	f.members.setSynced("europe-west1-b", true)

	// A cluster that calls itself Ready, which this process has not probed
	// yet (a new client in the registry).
	if _, err := f.registry.Set("us-central1-a", &rest.Config{Host: "https://127.0.0.1:2"}); err != nil {
		t.Fatal(err)
	}
	if err := f.reconcile(nginxKey); !dnsrecords.Pending(err) {
		t.Errorf("reconcile while settling = %v, want a pending error", err)
	}
	f.wantRecords("settling")
	f.registry.SetReady("us-central1-a", true)
	f.mustReconcile(nginxKey)
	f.wantRecords("probed", allHealthy(defaultTTL)...)
}

// TestReconcileDNSOff: with no zone the controller only releases deleted
// Services.
func TestReconcileDNSOff(t *testing.T) {
	svc := nginx()
	svc.SetFinalizers([]string{Finalizer})
	svc.SetDeletionTimestamp(&metav1.Time{Time: time.Now()})
	f := newFixture(t, defaultOptions(), svc)
	f.c.zone = nil
	f.mustReconcile(nginxKey)
	if got := f.fedService(nginxKey).GetFinalizers(); len(got) != 0 {
		t.Errorf("finalizers %v, want none", got)
	}
	if got := f.requests(); len(got) != 0 {
		t.Errorf("sent %v with DNS off, want nothing", got)
	}
}

// The tests below are the bugs a review found, kept as regressions.

// TestSweepFindsStaleOwnedNames: a record set the zone says nginx owns, at
// a name nginx no longer has (a cluster that left while the first List of
// the zone failed), is deleted once a sweep finds it.
func TestSweepFindsStaleOwnedNames(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	stale := Service{Name: "nginx", Namespace: "mynamespace", Federation: federationName, Suffix: "example.com."}.ZoneName("asia-east1-a", "asia-east1")
	err := f.zone.Apply(f.ctx, dnsprovider.Change{Owner: dnsprovider.Owner{Federation: federationName, Object: nginxOwner},
		Add: []dnsprovider.RecordSet{{Name: stale, Type: dnsprovider.A, TTL: 180, Data: []string{"192.0.2.9"}}}})
	if err != nil {
		t.Fatal(err)
	}
	f.dns.FailNext(1, http.StatusServiceUnavailable)
	f.c.sweep(f.ctx) // the first List fails; workers run anyway
	f.mustReconcile(nginxKey)
	for range 2 {
		f.c.sweep(f.ctx)
		f.mustReconcile(nginxKey)
	}
	f.wantRecords("after two sweeps", allHealthy(defaultTTL)...)
}

// TestSweepNoticesClearedConflict: once the foreign record set that held
// a Service's name is gone, a sweep has the Service looked at again, and
// the name is written.
func TestSweepNoticesClearedConflict(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	f.putForeign(global, dnsprovider.A, 300, "198.51.100.7")
	f.mustReconcile(nginxKey)
	f.c.sweep(f.ctx)
	client, err := dns.NewService(f.ctx, option.WithEndpoint(f.dns.URL()), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	deletion := &dns.Change{Deletions: []*dns.ResourceRecordSet{{Name: global, Type: "A", Ttl: 300, Rrdatas: []string{"198.51.100.7"}}}}
	if _, err := client.Changes.Create(gcpProject, managedZone, deletion).Context(f.ctx).Do(); err != nil {
		t.Fatal(err)
	}
	f.queue.takeAdded()
	f.c.sweep(f.ctx)
	if added := f.queue.takeAdded(); !slices.Contains(added, nginxKey) {
		t.Errorf("the sweep after the foreign record went queued %q, want %s", added, nginxKey)
	}
}

// TestReconcileKeepsOwnSetBesideForeignType: a foreign record set of
// another type at a name (a TXT beside nginx's A at the global name) does
// not make the federation delete its own set there.
func TestReconcileKeepsOwnSetBesideForeignType(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	f.mustReconcile(nginxKey)
	f.putForeign(global, "TXT", 300, `"v=spf1 -all"`)
	f.members.setEndpoint("us-central1-a", "mynamespace", "nginx", false)
	f.mustReconcile(nginxKey)
	for _, r := range f.records() {
		if strings.HasPrefix(r, global+" A ") {
			return
		}
	}
	t.Errorf("the global name lost its A records beside a foreign TXT: %q", f.records())
}
