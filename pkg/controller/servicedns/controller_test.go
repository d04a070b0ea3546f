package servicedns

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/dns/v1"
	"google.golang.org/api/option"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	"github.com/kfederation/federation/pkg/apis/federation/annotations"
	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller/dnsrecords"
	"github.com/kfederation/federation/pkg/controller/dnsrecords/dnstest"
	"github.com/kfederation/federation/pkg/dnsprovider"
	"github.com/kfederation/federation/test/fakeclouddns"
)

// The Service of every test. The names of the Service (zoneA, regUS,
// global ...) are those of records_test.go; the federation, the zone and
// the member clusters are dnstest's.
const (
	nginxKey   = "mynamespace/nginx"
	nginxOwner = "service/mynamespace/nginx"
	defaultTTL = 180
)

// fixture is one Service DNS controller on a dnstest.Env: fake federation
// API, fake members and the real Cloud DNS provider talking to an
// in-process fake Cloud DNS.
type fixture struct {
	*dnstest.Env
	opts    Options
	members fakeMembers

	// Set anew by start (a restart).
	c *Controller
}

// newFixture starts a fake Cloud DNS with the zone example.com., the
// three member clusters, Ready and each with a copy of every Service in
// svcs (one load-balancer IP, a ready endpoint), and the controller.
func newFixture(t *testing.T, opts Options, svcs ...*unstructured.Unstructured) *fixture {
	t.Helper()
	env := dnstest.New(t, dnstest.Config{Resource: servicesGVR, Kind: "Service", Objects: svcs})
	f := &fixture{Env: env, opts: opts, members: fakeMembers{dnstest.NewMembers[*corev1.Service](env.Registry)}}
	for _, mc := range dnstest.Clusters {
		for _, s := range svcs {
			f.members.setCopy(mc.Name, s.GetNamespace(), s.GetName(), corev1.LoadBalancerIngress{IP: mc.IP})
			f.members.SetEndpoint(mc.Name, s.GetNamespace(), s.GetName(), true)
		}
	}
	f.start()
	return f
}

// start makes a controller as the controller manager does after a start:
// new informers on the same federation, members and zone, and an empty
// cache of what the zone holds.
func (f *fixture) start() {
	f.T.Helper()
	cctx := f.NewControllerContext()
	c := newController(f.Ctx, cctx, true, f.opts, f.members, f.Events)
	f.c = c
	f.Attach(cctx, dnstest.Wiring{
		Zone: &c.zone, Queue: &c.queue, Health: c.health, Resolver: c.resolver,
		Informer: c.services, Synced: c.synced, Reconcile: c.reconcile,
	})
}

// aRec and cnameRec are nginx's record sets of the default TTL.
func aRec(name string, ips ...string) string {
	return dnstest.Rec(name, dnsprovider.A, defaultTTL, nginxOwner, ips...)
}
func cnameRec(name, target string) string {
	return dnstest.Rec(name, dnsprovider.CNAME, defaultTTL, nginxOwner, target)
}

// allHealthy are nginx's records while every shard is healthy.
func allHealthy(ttl int64) []string {
	a := func(name string, ips ...string) string {
		return dnstest.Rec(name, dnsprovider.A, ttl, nginxOwner, ips...)
	}
	return []string{
		a(global, "192.0.2.1", "192.0.2.2", "192.0.2.3"),
		a(regUS, "192.0.2.1", "192.0.2.2"),
		a(regEU, "192.0.2.3"),
		a(zoneA, "192.0.2.1"),
		a(zoneB, "192.0.2.2"),
		a(zoneEU, "192.0.2.3"),
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

// fakeMembers holds the members' copies of federated Services and whether
// each has a ready endpoint.
type fakeMembers struct {
	*dnstest.Members[*corev1.Service]
}

var _ members = fakeMembers{}

// setCopy gives the cluster a copy of the Service whose load balancer has
// ingress.
func (m fakeMembers) setCopy(cluster, namespace, name string, ingress ...corev1.LoadBalancerIngress) {
	m.SetCopy(cluster, namespace, name, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer},
		Status:     corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: ingress}},
	})
}

func (m fakeMembers) Service(cluster, namespace, name string) (*corev1.Service, error) {
	return m.Copy(cluster, namespace, name), nil
}

func (m fakeMembers) Watch(func(namespace, name string)) {}

// TestReconcileAllHealthy: every name gets the A records of its level's
// shards, the Service its finalizer and an event, and a second sync costs
// the provider nothing.
func TestReconcileAllHealthy(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	f.MustReconcile(nginxKey)

	f.WantRecords("first sync", allHealthy(defaultTTL)...)
	if got := f.Requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
		t.Errorf("%d changes.create, want 1", got)
	}
	if got := f.Get(nginxKey).GetFinalizers(); !slices.Equal(got, []string{Finalizer}) {
		t.Errorf("finalizers %v, want [%s]", got, Finalizer)
	}
	events := f.TakeEvents()
	if dnstest.CountEvents(events, "Normal "+ReasonRecordsUpdated) != 1 || !strings.Contains(strings.Join(events, "\n"), global+" A 192.0.2.1,192.0.2.2,192.0.2.3") {
		t.Errorf("events %q, want one %s naming the global name's addresses", events, ReasonRecordsUpdated)
	}

	f.MustReconcile(nginxKey)
	if got := f.Requests(); len(got) != 0 {
		t.Errorf("an unchanged Service sent %v to the provider, want nothing", got)
	}
	if events := f.TakeEvents(); len(events) != 0 {
		t.Errorf("an unchanged Service got events %q", events)
	}
	f.WantRecords("second sync", allHealthy(defaultTTL)...)
	if got := f.Get(nginxKey).GetFinalizers(); !slices.Equal(got, []string{Finalizer}) {
		t.Errorf("finalizers after the second sync %v, want [%s]", got, Finalizer)
	}
}

// TestRestartCostsNothing: after a restart, one List of the zone is all an
// unchanged Service costs, and a Service with no records costs nothing.
func TestRestartCostsNothing(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	f.MustReconcile(nginxKey)
	f.start()
	f.Requests()
	f.Queue.TakeAdded()

	f.c.sweep(f.Ctx)
	if added := f.Queue.TakeAdded(); !slices.Equal(added, []string{nginxKey}) {
		t.Errorf("the first sweep queued %q, want [%s]", added, nginxKey)
	}
	f.MustReconcile(nginxKey)
	f.MustReconcile("mynamespace/never-had-records")
	if diff := cmp.Diff(map[string]int{fakeclouddns.MethodRecordSetsList: 1}, f.Requests()); diff != "" {
		t.Errorf("requests after a restart (-want +got):\n%s", diff)
	}
	f.WantRecords("after a restart", allHealthy(defaultTTL)...)
}

// TestReconcileClusterSelector: only the clusters the Service's selector
// picks have names.
func TestReconcileClusterSelector(t *testing.T) {
	svc := nginx()
	svc.SetAnnotations(map[string]string{annotations.ClusterSelector: `[{"key":"name","operator":"in","values":["us-central1-a","us-central1-b"]}]`})
	f := newFixture(t, defaultOptions(), svc)
	f.MustReconcile(nginxKey)
	f.WantRecords("us-central1 only",
		aRec(global, "192.0.2.1", "192.0.2.2"),
		aRec(regUS, "192.0.2.1", "192.0.2.2"),
		aRec(zoneA, "192.0.2.1"),
		aRec(zoneB, "192.0.2.2"),
	)

	f.Update(nginxKey, func(u *unstructured.Unstructured) {
		u.SetAnnotations(map[string]string{annotations.ClusterSelector: `[{"key":"name","operator":"==","values":["europe-west1-b"]}]`})
	})
	f.MustReconcile(nginxKey)
	f.WantRecords("europe-west1 only",
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
	f.MustReconcile(nginxKey)
	f.Requests()
	f.TakeEvents()

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
			f.members.SetEndpoint(cluster, "mynamespace", "nginx", ready)
		}
		f.MustReconcile(nginxKey)
		f.WantRecords(step.name, step.want...)
		if got := f.Requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
			t.Errorf("%s: %d changes.create, want exactly 1", step.name, got)
		}
		if got := dnstest.CountEvents(f.TakeEvents(), "Normal "+ReasonRecordsUpdated); got != 1 {
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
	f.MustReconcile(nginxKey)
	f.WantRecords("TTL 60", allHealthy(60)...)
	f.Requests()
	f.TakeEvents()

	f.Update(nginxKey, func(u *unstructured.Unstructured) {
		u.SetAnnotations(map[string]string{annotations.DNSTTL: "soon"})
	})
	f.members.SetEndpoint("us-central1-a", "mynamespace", "nginx", false)
	f.MustReconcile(nginxKey)
	f.WantRecords("a TTL that is no number", allHealthy(60)...)
	if got := f.Requests(); len(got) != 0 {
		t.Errorf("an invalid TTL sent %v to the provider, want nothing", got)
	}
	if events := f.TakeEvents(); dnstest.CountEvents(events, "Warning "+ReasonInvalid) != 1 || !strings.Contains(events[0], annotations.DNSTTL) {
		t.Errorf("events %q, want one %s naming the annotation", events, ReasonInvalid)
	}

	f.Update(nginxKey, func(u *unstructured.Unstructured) { u.SetAnnotations(nil) })
	f.members.SetEndpoint("us-central1-a", "mynamespace", "nginx", true)
	f.MustReconcile(nginxKey)
	f.WantRecords("annotation removed: --dns-ttl", allHealthy(defaultTTL)...)
}

// TestReconcileForeignRecord: a name someone outside the federation holds
// is left alone and reported once; the other names are written.
func TestReconcileForeignRecord(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	foreign := dnstest.Rec(global, dnsprovider.A, 300, "foreign", "198.51.100.7")
	f.PutForeign(global, dnsprovider.A, 300, "198.51.100.7")

	f.MustReconcile(nginxKey)
	want := append([]string{foreign}, allHealthy(defaultTTL)[1:]...)
	f.WantRecords("first sync", want...)
	events := f.TakeEvents()
	if got := dnstest.CountEvents(events, "Warning "+ReasonNameConflict); got != 1 {
		t.Errorf("%d %s events, want 1: %q", got, ReasonNameConflict, events)
	}
	if !strings.Contains(strings.Join(events, "\n"), global+" is taken by a record set the federation does not own (A 198.51.100.7)") {
		t.Errorf("events %q do not say which name is taken by what", events)
	}
	f.Requests()

	f.MustReconcile(nginxKey)
	f.WantRecords("second sync", want...)
	if events := f.TakeEvents(); len(events) != 0 {
		t.Errorf("a standing conflict got events again: %q", events)
	}
	if got := f.Requests()[fakeclouddns.MethodChangesCreate]; got != 0 {
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
			f.PutForeign(sibling, dnsprovider.A, 300, "198.51.100.7")
			f.MustReconcile(nginxKey)
			f.WantRecords("before the deletion", append(allHealthy(defaultTTL), dnstest.Rec(sibling, dnsprovider.A, 300, "foreign", "198.51.100.7"))...)

			f.Update(nginxKey, func(u *unstructured.Unstructured) {
				u.SetDeletionTimestamp(&metav1.Time{Time: time.Now()})
			})
			if tc.restart {
				f.start()
			}
			f.Requests()
			f.TakeEvents()
			f.MustReconcile(nginxKey)

			f.WantRecords("after the deletion", dnstest.Rec(sibling, dnsprovider.A, 300, "foreign", "198.51.100.7"))
			if got := f.Requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
				t.Errorf("%d changes.create, want 1", got)
			}
			if got := f.Get(nginxKey).GetFinalizers(); len(got) != 0 {
				t.Errorf("finalizers %v left on the deleted Service, want none", got)
			}
			if got := dnstest.CountEvents(f.TakeEvents(), "Normal "+ReasonRecordsUpdated); got != 1 {
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
	f.MustReconcile(nginxKey)
	gone := Service{Name: "gone", Namespace: "mynamespace", Federation: dnstest.FederationName, Suffix: "example.com."}
	owner := dnsprovider.Owner{Federation: dnstest.FederationName, Object: "service/mynamespace/gone"}
	err := f.Zone.Apply(f.Ctx, dnsprovider.Change{Owner: owner, Add: []dnsprovider.RecordSet{
		{Name: gone.GlobalName(), Type: dnsprovider.A, TTL: 180, Data: []string{"192.0.2.9"}},
		{Name: gone.ZoneName("us-central1-a", "us-central1"), Type: dnsprovider.CNAME, TTL: 180, Data: []string{gone.RegionName("us-central1")}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	f.Requests()
	f.Queue.TakeAdded()

	f.c.sweep(f.Ctx)
	if added := f.Queue.TakeAdded(); !slices.Contains(added, "mynamespace/gone") {
		t.Fatalf("the sweep queued %q, want mynamespace/gone among them", added)
	}
	f.MustReconcile("mynamespace/gone")
	f.WantRecords("after the sweep", allHealthy(defaultTTL)...)
	if got := f.Requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
		t.Errorf("%d changes.create, want 1", got)
	}

	// The cache now knows the zone: nginx, unchanged, costs nothing.
	f.MustReconcile(nginxKey)
	if got := f.Requests(); len(got) != 0 {
		t.Errorf("an unchanged Service after a sweep sent %v, want nothing", got)
	}
}

// TestReconcileNotLoadBalancer: a Service no longer of type LoadBalancer
// has no records.
func TestReconcileNotLoadBalancer(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	f.MustReconcile(nginxKey)
	f.WantRecords("LoadBalancer", allHealthy(defaultTTL)...)
	f.Requests()

	f.Update(nginxKey, func(u *unstructured.Unstructured) {
		if err := unstructured.SetNestedField(u.Object, "ClusterIP", "spec", "type"); err != nil {
			t.Fatal(err)
		}
	})
	f.MustReconcile(nginxKey)
	f.WantRecords("ClusterIP")
	if got := f.Requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
		t.Errorf("%d changes.create, want 1", got)
	}
	f.MustReconcile(nginxKey)
	if got := f.Requests(); len(got) != 0 {
		t.Errorf("a ClusterIP Service with no records sent %v, want nothing", got)
	}
}

// TestReconcileProviderFailure: a change the provider refuses is an error
// and an event with the provider's words; the next sync writes it.
func TestReconcileProviderFailure(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	f.Zone.BeforeApply = func() { f.DNS.FailNext(1, http.StatusServiceUnavailable) }

	err := f.Reconcile(nginxKey)
	if err == nil || dnsrecords.Pending(err) {
		t.Fatalf("reconcile while the provider answers 503 = %v, want an error to retry", err)
	}
	f.WantRecords("after the refused change")
	events := f.TakeEvents()
	if dnstest.CountEvents(events, "Warning "+ReasonUpdateFailed) != 1 || !strings.Contains(strings.Join(events, "\n"), "The service is currently unavailable") {
		t.Errorf("events %q, want one %s with the provider's message", events, ReasonUpdateFailed)
	}
	if got := f.Requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
		t.Errorf("%d changes.create, want the 1 refused", got)
	}

	f.MustReconcile(nginxKey)
	f.WantRecords("after the retry", allHealthy(defaultTTL)...)
	if got := f.Requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
		t.Errorf("%d changes.create on the retry, want 1", got)
	}
	if got := dnstest.CountEvents(f.TakeEvents(), "Normal "+ReasonRecordsUpdated); got != 1 {
		t.Errorf("%d %s events on the retry, want 1", got, ReasonRecordsUpdated)
	}
}

// TestReconcileProviderReadFailure: a read the provider refuses is an
// error and an event; nothing is written until the next sync.
func TestReconcileProviderReadFailure(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	f.DNS.FailNext(1, http.StatusServiceUnavailable)
	err := f.Reconcile(nginxKey)
	if err == nil || dnsrecords.Pending(err) {
		t.Fatalf("reconcile while the provider answers 503 = %v, want an error to retry", err)
	}
	if got := f.Requests()[fakeclouddns.MethodChangesCreate]; got != 0 {
		t.Errorf("%d changes.create after a failed read, want none", got)
	}
	if events := f.TakeEvents(); dnstest.CountEvents(events, "Warning "+ReasonUpdateFailed) != 1 {
		t.Errorf("events %q, want one %s", events, ReasonUpdateFailed)
	}
	f.MustReconcile(nginxKey)
	f.WantRecords("after the retry", allHealthy(defaultTTL)...)
}

// TestReconcileLostAnswer: a change that went through although Apply
// failed (its answer lost) leaves the controller unsure of the zone: when
// the Service goes back to what it was before, the zone is read and put
// back, not taken to be as it was.
func TestReconcileLostAnswer(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	f.MustReconcile(nginxKey)

	f.members.SetEndpoint("us-central1-a", "mynamespace", "nginx", false)
	f.Zone.LoseAnswer = true
	if err := f.Reconcile(nginxKey); err == nil {
		t.Fatal("reconcile with the answer lost succeeded, want an error")
	}
	f.members.SetEndpoint("us-central1-a", "mynamespace", "nginx", true)
	f.MustReconcile(nginxKey)
	f.WantRecords("back to every shard healthy", allHealthy(defaultTTL)...)
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
		f.MustReconcile(nginxKey)
		f.Requests()
		f.Queue.WaitAdded(t, "mynamespace/other")
		f.Registry.SetReady("us-central1-a", false)
		if added := f.Queue.TakeAdded(); !slices.Contains(added, "mynamespace/other") {
			t.Errorf("the member going not Ready queued %q, want every Service", added)
		}
		f.MustReconcile(nginxKey)
		f.WantRecords("us-central1-a not Ready", withoutA...)
		if got := f.Requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
			t.Errorf("%d changes.create, want 1", got)
		}
		if d, ok := f.Queue.TakeAfter(nginxKey); ok {
			t.Errorf("recheck queued after %v, want none", d)
		}

		f.Registry.SetReady("us-central1-a", true)
		f.MustReconcile(nginxKey)
		f.WantRecords("us-central1-a Ready again", allHealthy(defaultTTL)...)
	})

	t.Run("a minute's grace", func(t *testing.T) {
		opts := defaultOptions()
		opts.UnhealthyGrace = time.Minute
		f := newFixture(t, opts, nginx())
		f.MustReconcile(nginxKey)
		f.Requests()
		f.Registry.SetReady("us-central1-a", false)

		f.MustReconcile(nginxKey)
		f.WantRecords("not Ready, in its grace", allHealthy(defaultTTL)...)
		if got := f.Requests(); len(got) != 0 {
			t.Errorf("a member in its grace sent %v, want nothing", got)
		}
		if d, ok := f.Queue.TakeAfter(nginxKey); !ok || d != time.Minute {
			t.Errorf("recheck after %v (queued %v), want after 1m0s", d, ok)
		}

		f.Now = f.Now.Add(40 * time.Second)
		f.MustReconcile(nginxKey)
		f.WantRecords("not Ready for 40s", allHealthy(defaultTTL)...)
		if d, ok := f.Queue.TakeAfter(nginxKey); !ok || d != 20*time.Second {
			t.Errorf("recheck after %v (queued %v), want after the 20s left", d, ok)
		}

		f.Now = f.Now.Add(20 * time.Second)
		f.MustReconcile(nginxKey)
		f.WantRecords("grace over", withoutA...)
		if got := f.Requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
			t.Errorf("%d changes.create, want 1", got)
		}

		// Ready again, then down again: a new grace period.
		f.Registry.SetReady("us-central1-a", true)
		f.MustReconcile(nginxKey)
		f.WantRecords("Ready again", allHealthy(defaultTTL)...)
		f.Registry.SetReady("us-central1-a", false)
		f.MustReconcile(nginxKey)
		f.WantRecords("down again, in a new grace", allHealthy(defaultTTL)...)
	})
}

// TestReconcileHostname: a load balancer known by a host name is a CNAME
// target where it is a name's only target, and its addresses, resolved
// once per TTL, where it is one of several.
func TestReconcileHostname(t *testing.T) {
	const host = "lb-eu.elb.example.net"
	f := newFixture(t, defaultOptions(), nginx())
	f.members.setCopy("europe-west1-b", "mynamespace", "nginx", corev1.LoadBalancerIngress{Hostname: host})
	f.Hosts[host] = []string{"198.51.100.10"}

	f.MustReconcile(nginxKey)
	f.WantRecords("host name", []string{
		aRec(global, "192.0.2.1", "192.0.2.2", "198.51.100.10"),
		aRec(regUS, "192.0.2.1", "192.0.2.2"),
		cnameRec(regEU, host+"."),
		aRec(zoneA, "192.0.2.1"),
		aRec(zoneB, "192.0.2.2"),
		cnameRec(zoneEU, host+"."),
	}...)
	if d, ok := f.Queue.TakeAfter(nginxKey); !ok || d != defaultTTL*time.Second {
		t.Errorf("recheck after %v (queued %v), want after the TTL", d, ok)
	}
	if f.Lookups[host] != 1 {
		t.Errorf("%d lookups of %s, want 1", f.Lookups[host], host)
	}
	f.Requests()

	// Within the TTL the answer is kept: no lookup, nothing to write.
	f.Hosts[host] = []string{"198.51.100.11"}
	f.Now = f.Now.Add(time.Minute)
	f.MustReconcile(nginxKey)
	if f.Lookups[host] != 1 {
		t.Errorf("%d lookups of %s within the TTL, want still 1", f.Lookups[host], host)
	}
	if got := f.Requests(); len(got) != 0 {
		t.Errorf("within the TTL sent %v, want nothing", got)
	}

	// After it, the name is resolved again and the global name follows.
	f.Now = f.Now.Add(defaultTTL * time.Second)
	f.MustReconcile(nginxKey)
	if f.Lookups[host] != 2 {
		t.Errorf("%d lookups of %s after the TTL, want 2", f.Lookups[host], host)
	}
	f.WantRecords("host name resolved anew", []string{
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
	f.members.SetSynced("europe-west1-b", false)
	err := f.Reconcile(nginxKey)
	if !dnsrecords.Pending(err) || !errors.Is(err, clusterclient.ErrNotSynced) {
		t.Errorf("reconcile with a member not synced = %v, want ErrNotSynced", err)
	}
	f.WantRecords("member not synced")
	if got := f.Requests(); len(got) != 0 {
		t.Errorf("sent %v, want nothing", got)
	}
	if events := f.TakeEvents(); len(events) != 0 {
		t.Errorf("events %q, want none", events)
	}
	f.members.SetSynced("europe-west1-b", true)

	// A cluster that calls itself Ready, which this process has not probed
	// yet (a new client in the registry).
	if _, err := f.Registry.Set("us-central1-a", &rest.Config{Host: "https://127.0.0.1:2"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Reconcile(nginxKey); !dnsrecords.Pending(err) {
		t.Errorf("reconcile while settling = %v, want a pending error", err)
	}
	f.WantRecords("settling")
	f.Registry.SetReady("us-central1-a", true)
	f.MustReconcile(nginxKey)
	f.WantRecords("probed", allHealthy(defaultTTL)...)
}

// TestReconcileDNSOff: with no zone the controller only releases deleted
// Services.
func TestReconcileDNSOff(t *testing.T) {
	svc := nginx()
	svc.SetFinalizers([]string{Finalizer})
	svc.SetDeletionTimestamp(&metav1.Time{Time: time.Now()})
	f := newFixture(t, defaultOptions(), svc)
	f.c.zone = nil
	f.MustReconcile(nginxKey)
	if got := f.Get(nginxKey).GetFinalizers(); len(got) != 0 {
		t.Errorf("finalizers %v, want none", got)
	}
	if got := f.Requests(); len(got) != 0 {
		t.Errorf("sent %v with DNS off, want nothing", got)
	}
}

// The tests below are the bugs a review found, kept as regressions.

// TestSweepFindsStaleOwnedNames: a record set the zone says nginx owns, at
// a name nginx no longer has (a cluster that left while the first List of
// the zone failed), is deleted once a sweep finds it.
func TestSweepFindsStaleOwnedNames(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	stale := Service{Name: "nginx", Namespace: "mynamespace", Federation: dnstest.FederationName, Suffix: "example.com."}.ZoneName("asia-east1-a", "asia-east1")
	err := f.Zone.Apply(f.Ctx, dnsprovider.Change{Owner: dnsprovider.Owner{Federation: dnstest.FederationName, Object: nginxOwner},
		Add: []dnsprovider.RecordSet{{Name: stale, Type: dnsprovider.A, TTL: 180, Data: []string{"192.0.2.9"}}}})
	if err != nil {
		t.Fatal(err)
	}
	f.DNS.FailNext(1, http.StatusServiceUnavailable)
	f.c.sweep(f.Ctx) // the first List fails; workers run anyway
	f.MustReconcile(nginxKey)
	for range 2 {
		f.c.sweep(f.Ctx)
		f.MustReconcile(nginxKey)
	}
	f.WantRecords("after two sweeps", allHealthy(defaultTTL)...)
}

// TestSweepNoticesClearedConflict: once the foreign record set that held
// a Service's name is gone, a sweep has the Service looked at again, and
// the name is written.
func TestSweepNoticesClearedConflict(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	f.PutForeign(global, dnsprovider.A, 300, "198.51.100.7")
	f.MustReconcile(nginxKey)
	f.c.sweep(f.Ctx)
	client, err := dns.NewService(f.Ctx, option.WithEndpoint(f.DNS.URL()), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	deletion := &dns.Change{Deletions: []*dns.ResourceRecordSet{{Name: global, Type: "A", Ttl: 300, Rrdatas: []string{"198.51.100.7"}}}}
	if _, err := client.Changes.Create(dnstest.Project, dnstest.ManagedZone, deletion).Context(f.Ctx).Do(); err != nil {
		t.Fatal(err)
	}
	f.Queue.TakeAdded()
	f.c.sweep(f.Ctx)
	if added := f.Queue.TakeAdded(); !slices.Contains(added, nginxKey) {
		t.Errorf("the sweep after the foreign record went queued %q, want %s", added, nginxKey)
	}
}

// TestReconcileKeepsOwnSetBesideForeignType: a foreign record set of
// another type at a name (a TXT beside nginx's A at the global name) does
// not make the federation delete its own set there.
func TestReconcileKeepsOwnSetBesideForeignType(t *testing.T) {
	f := newFixture(t, defaultOptions(), nginx())
	f.MustReconcile(nginxKey)
	f.PutForeign(global, "TXT", 300, `"v=spf1 -all"`)
	f.members.SetEndpoint("us-central1-a", "mynamespace", "nginx", false)
	f.MustReconcile(nginxKey)
	for _, r := range f.Records() {
		if strings.HasPrefix(r, global+" A ") {
			return
		}
	}
	t.Errorf("the global name lost its A records beside a foreign TXT: %q", f.Records())
}
