package ingressdns

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/controller/dnsrecords"
	"github.com/kfederation/federation/pkg/controller/dnsrecords/dnstest"
	"github.com/kfederation/federation/pkg/dnsprovider"
	"github.com/kfederation/federation/test/fakeclouddns"
)

// The Ingress of every test; the federation, the zone and the member
// clusters are dnstest's.
const (
	shopKey    = "shop/web"
	shopOwner  = "ingress/shop/web"
	shopHost   = "shop.example.com."
	defaultTTL = 180
)

// fixture is one Ingress DNS controller on a dnstest.Env: fake federation
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
// three member clusters, Ready and each with a copy of every Ingress in
// objs (its own address) whose backend Services all have a ready
// endpoint, and the controller.
func newFixture(t *testing.T, opts Options, objs ...*unstructured.Unstructured) *fixture {
	t.Helper()
	env := dnstest.New(t, dnstest.Config{
		Resource:  ingressesGVR,
		Kind:      "Ingress",
		ListKinds: map[schema.GroupVersionResource]string{ingressClassesGVR: "IngressClassList"},
		Objects:   objs,
	})
	f := &fixture{Env: env, opts: opts, members: fakeMembers{dnstest.NewMembers[*networkingv1.Ingress](env.Registry)}}
	for _, mc := range dnstest.Clusters {
		for _, o := range objs {
			if o.GetKind() != "Ingress" {
				continue
			}
			f.members.setCopy(mc.Name, o.GetNamespace(), o.GetName(), networkingv1.IngressLoadBalancerIngress{IP: mc.IP})
			for _, svc := range allBackends(typed(t, o)) {
				f.members.SetEndpoint(mc.Name, o.GetNamespace(), svc, true)
			}
		}
	}
	f.start()
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
	f.T.Helper()
	cctx := f.NewControllerContext()
	c := newController(f.Ctx, cctx, true, f.opts, f.members, f.Events)
	f.c = c
	f.Attach(cctx, dnstest.Wiring{
		Zone: &c.zone, Queue: &c.queue, Health: c.health, Resolver: c.resolver,
		Informer: c.ingresses, Synced: c.synced, Reconcile: c.reconcile,
	})
}

// createClass creates a federated IngressClass of controller ctl and waits
// for the informer to see it.
func (f *fixture) createClass(name, ctl string) {
	f.T.Helper()
	u := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "networking.k8s.io/v1",
		"kind":       "IngressClass",
		"metadata":   map[string]interface{}{"name": name},
		"spec":       map[string]interface{}{"controller": ctl},
	}}
	if _, err := f.Fed.Resource(ingressClassesGVR).Create(f.Ctx, u, metav1.CreateOptions{}); err != nil {
		f.T.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.c.classController(name) != ctl {
		if time.Now().After(deadline) {
			f.T.Fatalf("the IngressClass informer never saw %s", name)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// shopA is an A record set of the Ingress shop/web, of the default TTL.
func shopA(name string, ips ...string) string {
	return dnstest.Rec(name, dnsprovider.A, defaultTTL, shopOwner, ips...)
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

// fakeMembers holds the members' copies of federated Ingresses and whether
// each Service has a ready endpoint.
type fakeMembers struct {
	*dnstest.Members[*networkingv1.Ingress]
}

var _ members = fakeMembers{}

// setCopy gives the cluster a copy of the Ingress with the addresses
// given; none for a copy without an address.
func (m fakeMembers) setCopy(cluster, namespace, name string, address ...networkingv1.IngressLoadBalancerIngress) {
	m.SetCopy(cluster, namespace, name, &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Status:     networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{Ingress: address}},
	})
}

func (m fakeMembers) Ingress(cluster, namespace, name string) (*networkingv1.Ingress, error) {
	return m.Copy(cluster, namespace, name), nil
}

func (m fakeMembers) Watch(func(namespace, name string), func(namespace, name string)) {}

// TestReconcileAllHealthy: the host gets the address of every member, the
// Ingress its finalizer and an event naming the record, and a second sync
// costs the provider nothing.
func TestReconcileAllHealthy(t *testing.T) {
	f := newFixture(t, defaultOptions(), shop())
	f.MustReconcile(shopKey)

	f.WantRecords("first sync", shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"))
	if got := f.Requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
		t.Errorf("%d changes.create, want 1", got)
	}
	if got := f.Get(shopKey).GetFinalizers(); !slices.Equal(got, []string{Finalizer}) {
		t.Errorf("finalizers %v, want [%s]", got, Finalizer)
	}
	events := f.TakeEvents()
	if dnstest.CountEvents(events, "Normal "+ReasonRecordsUpdated) != 1 || !strings.Contains(strings.Join(events, "\n"), shopHost+" A 192.0.2.1,192.0.2.2,192.0.2.3") {
		t.Errorf("events %q, want one %s naming the host's addresses", events, ReasonRecordsUpdated)
	}

	f.MustReconcile(shopKey)
	if got := f.Requests(); len(got) != 0 {
		t.Errorf("an unchanged Ingress sent %v to the provider, want nothing", got)
	}
	if events := f.TakeEvents(); len(events) != 0 {
		t.Errorf("an unchanged Ingress got events %q", events)
	}
}

// TestReconcileFollowsHealth: a member leaves the host's record when its
// Ingress loses its address, when the host's backends have no ready
// endpoint there, when it is not Ready, or when it has no copy; with no
// member healthy the host has no record; each step is one change.
func TestReconcileFollowsHealth(t *testing.T) {
	f := newFixture(t, defaultOptions(), shop())
	f.MustReconcile(shopKey)
	f.Requests()
	f.TakeEvents()

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
		change: func() { f.members.SetEndpoint("us-central1-b", "shop", "web", false) },
		want:   []string{shopA(shopHost, "192.0.2.3")},
	}, {
		name: "us-central1-a's address is back, europe-west1-b is not Ready",
		change: func() {
			f.members.setCopy("us-central1-a", "shop", "web", networkingv1.IngressLoadBalancerIngress{IP: "192.0.2.1"})
			f.Registry.SetReady("europe-west1-b", false)
		},
		want: []string{shopA(shopHost, "192.0.2.1")},
	}, {
		name:   "us-central1-a has no copy: no member is healthy, no record",
		change: func() { f.members.DeleteCopy("us-central1-a", "shop", "web") },
		want:   nil,
	}, {
		name: "every member healthy again",
		change: func() {
			f.members.setCopy("us-central1-a", "shop", "web", networkingv1.IngressLoadBalancerIngress{IP: "192.0.2.1"})
			f.members.SetEndpoint("us-central1-b", "shop", "web", true)
			f.Registry.SetReady("europe-west1-b", true)
		},
		want: []string{shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3")},
	}}
	for _, step := range steps {
		step.change()
		f.MustReconcile(shopKey)
		f.WantRecords(step.name, step.want...)
		if got := f.Requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
			t.Errorf("%s: %d changes.create, want exactly 1", step.name, got)
		}
		if got := dnstest.CountEvents(f.TakeEvents(), "Normal "+ReasonRecordsUpdated); got != 1 {
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
	f.MustReconcile(shopKey)
	f.WantRecords("all healthy",
		shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"),
		shopA(apiHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"))

	f.members.SetEndpoint("us-central1-a", "shop", "api", false)
	f.MustReconcile(shopKey)
	f.WantRecords("api unready in us-central1-a",
		shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"),
		shopA(apiHost, "192.0.2.2", "192.0.2.3"))

	// A default backend serves every host, api's requests included.
	f.Update(shopKey, func(u *unstructured.Unstructured) {
		if err := unstructured.SetNestedMap(u.Object, map[string]interface{}{"service": map[string]interface{}{"name": "fallback", "port": map[string]interface{}{"number": int64(80)}}}, "spec", "defaultBackend"); err != nil {
			t.Fatal(err)
		}
	})
	f.members.SetEndpoint("us-central1-a", "shop", "fallback", true)
	f.MustReconcile(shopKey)
	f.WantRecords("a ready default backend in us-central1-a",
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
			f.MustReconcile(shopKey)
			f.WantRecords(tc.name, tc.want...)
			if tc.want == nil && len(f.Get(shopKey).GetFinalizers()) != 0 {
				t.Errorf("finalizers %v on an Ingress with no records", f.Get(shopKey).GetFinalizers())
			}
		})
	}

	t.Run("nginx becomes gce", func(t *testing.T) {
		opts := defaultOptions()
		opts.LeaveGCEIngresses = true
		f := newFixture(t, opts, shop())
		f.MustReconcile(shopKey)
		f.WantRecords("nginx", all)
		f.Update(shopKey, func(u *unstructured.Unstructured) {
			unstructured.RemoveNestedField(u.Object, "spec", "ingressClassName")
			u.SetAnnotations(map[string]string{controller.IngressClassAnnotation: "gce"})
		})
		f.MustReconcile(shopKey)
		f.WantRecords("gce")
	})
}

// TestReconcileHosts: hosts outside the zone, wildcards and the zone's
// apex get no record and one event each, repeated only when they change;
// the other hosts get theirs.
func TestReconcileHosts(t *testing.T) {
	f := newFixture(t, defaultOptions(), ingress("shop", "web", "shop.example.com", "Shop.Example.com", "shop.example.org", "*.example.com", "example.com"))
	f.MustReconcile(shopKey)
	f.WantRecords("in-zone host only", shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"))
	events := f.TakeEvents()
	if got := dnstest.CountEvents(events, "Normal "+ReasonHostSkipped+" Host shop.example.org gets no DNS record: it is not in the federation's DNS zone example.com."); got != 1 {
		t.Errorf("events %q, want one saying shop.example.org is not in the zone", events)
	}
	if got := dnstest.CountEvents(events, "Warning "+ReasonHostSkipped+" Host *.example.com gets no DNS record: wildcard"); got != 1 {
		t.Errorf("events %q, want one Warning for the wildcard", events)
	}
	if got := dnstest.CountEvents(events, "Warning "+ReasonHostSkipped+" Host example.com gets no DNS record: it is the apex"); got != 1 {
		t.Errorf("events %q, want one Warning for the apex", events)
	}

	f.members.SetEndpoint("us-central1-a", "shop", "web", false)
	f.MustReconcile(shopKey)
	if got := dnstest.CountEvents(f.TakeEvents(), "Normal "+ReasonHostSkipped); got != 0 {
		t.Errorf("%d %s events again for the same hosts, want none", got, ReasonHostSkipped)
	}
}

// TestReconcileForeignRecord: a host someone outside the federation holds,
// or another Ingress's host, is left alone and reported once.
func TestReconcileForeignRecord(t *testing.T) {
	other := ingress("shop", "other", "shop.example.com")
	f := newFixture(t, defaultOptions(), shop(), other)
	f.PutForeign("foreign.example.com.", dnsprovider.A, 300, "198.51.100.7")
	f.Update(shopKey, func(u *unstructured.Unstructured) {
		ing := typed(t, u)
		ing.Spec.Rules = append(ing.Spec.Rules, rule("foreign.example.com", "web"))
		u.Object = toUnstructured(ing).Object
	})
	f.MustReconcile(shopKey)
	foreign := dnstest.Rec("foreign.example.com.", dnsprovider.A, 300, "foreign", "198.51.100.7")
	f.WantRecords("first sync", foreign, shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"))
	events := f.TakeEvents()
	if !slices.ContainsFunc(events, func(e string) bool {
		return strings.HasPrefix(e, "Warning "+ReasonNameConflict+" foreign.example.com. is taken by a record set the federation does not own (A 198.51.100.7); the federation leaves it alone: remove it, or change the Ingress's host")
	}) {
		t.Errorf("events %q, want a %s saying which host is taken by what", events, ReasonNameConflict)
	}
	f.MustReconcile(shopKey)
	if events := f.TakeEvents(); len(events) != 0 {
		t.Errorf("a standing conflict got events again: %q", events)
	}

	// Another Ingress with the same host: the first keeps it.
	f.MustReconcile("shop/other")
	f.WantRecords("second Ingress", foreign, shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"))
	events = f.TakeEvents()
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
			svcOwner := dnsprovider.Owner{Federation: dnstest.FederationName, Object: "service/mynamespace/nginx"}
			if err := f.Zone.Apply(f.Ctx, dnsprovider.Change{Owner: svcOwner, Add: []dnsprovider.RecordSet{{Name: svcName, Type: dnsprovider.A, TTL: 180, Data: []string{"203.0.113.1"}}}}); err != nil {
				t.Fatal(err)
			}
			svcRec := dnstest.Rec(svcName, dnsprovider.A, 180, "service/mynamespace/nginx", "203.0.113.1")
			f.MustReconcile(shopKey)
			f.WantRecords("before the deletion", svcRec, shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"))

			f.Update(shopKey, func(u *unstructured.Unstructured) {
				u.SetDeletionTimestamp(&metav1.Time{Time: time.Now()})
			})
			if tc.restart {
				f.start()
			}
			f.Requests()
			f.TakeEvents()
			f.MustReconcile(shopKey)

			f.WantRecords("after the deletion", svcRec)
			if got := f.Requests()[fakeclouddns.MethodChangesCreate]; got != 1 {
				t.Errorf("%d changes.create, want 1", got)
			}
			if got := f.Get(shopKey).GetFinalizers(); len(got) != 0 {
				t.Errorf("finalizers %v left on the deleted Ingress, want none", got)
			}
			if events := f.TakeEvents(); dnstest.CountEvents(events, "Normal "+ReasonRecordsUpdated+" "+shopHost+" removed") != 1 {
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
	f.MustReconcile(shopKey)
	for _, c := range []dnsprovider.Change{
		{Owner: dnsprovider.Owner{Federation: dnstest.FederationName, Object: "ingress/shop/gone"}, Add: []dnsprovider.RecordSet{{Name: "gone.example.com.", Type: dnsprovider.A, TTL: 180, Data: []string{"192.0.2.9"}}}},
		{Owner: dnsprovider.Owner{Federation: dnstest.FederationName, Object: "service/shop/gone"}, Add: []dnsprovider.RecordSet{{Name: "gone.shop.myfederation.svc.example.com.", Type: dnsprovider.A, TTL: 180, Data: []string{"203.0.113.9"}}}},
	} {
		if err := f.Zone.Apply(f.Ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	f.Queue.TakeAdded()
	f.c.sweep(f.Ctx)
	added := f.Queue.TakeAdded()
	if !slices.Contains(added, "shop/gone") {
		t.Fatalf("the sweep queued %q, want shop/gone among them", added)
	}
	f.MustReconcile("shop/gone")
	f.WantRecords("after the sweep",
		shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"),
		dnstest.Rec("gone.shop.myfederation.svc.example.com.", dnsprovider.A, 180, "service/shop/gone", "203.0.113.9"))
}

// TestReconcileProviderFailure: a change the provider refuses is an error
// and an event with the provider's words; the next sync writes it.
func TestReconcileProviderFailure(t *testing.T) {
	f := newFixture(t, defaultOptions(), shop())
	f.Zone.BeforeApply = func() { f.DNS.FailNext(1, http.StatusServiceUnavailable) }
	err := f.Reconcile(shopKey)
	if err == nil || dnsrecords.Pending(err) {
		t.Fatalf("reconcile while the provider answers 503 = %v, want an error to retry", err)
	}
	if events := f.TakeEvents(); dnstest.CountEvents(events, "Warning "+ReasonUpdateFailed) != 1 {
		t.Errorf("events %q, want one %s", events, ReasonUpdateFailed)
	}
	f.MustReconcile(shopKey)
	f.WantRecords("after the retry", shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"))
}

// TestReconcileUnreadyGrace: a member that is not Ready stays in the
// records for --dns-unhealthy-grace, and the Ingress is looked at again
// when the grace ends.
func TestReconcileUnreadyGrace(t *testing.T) {
	opts := defaultOptions()
	opts.UnhealthyGrace = time.Minute
	f := newFixture(t, opts, shop())
	f.MustReconcile(shopKey)
	f.Requests()
	f.Registry.SetReady("us-central1-a", false)
	f.MustReconcile(shopKey)
	f.WantRecords("in its grace", shopA(shopHost, "192.0.2.1", "192.0.2.2", "192.0.2.3"))
	if got := f.Requests(); len(got) != 0 {
		t.Errorf("a member in its grace sent %v, want nothing", got)
	}
	if d, ok := f.Queue.TakeAfter(shopKey); !ok || d != time.Minute {
		t.Errorf("recheck after %v (queued %v), want after 1m0s", d, ok)
	}
	f.Now = f.Now.Add(time.Minute)
	f.MustReconcile(shopKey)
	f.WantRecords("grace over", shopA(shopHost, "192.0.2.2", "192.0.2.3"))
}

// TestReconcileHostname: a member whose ingress controller gives a host
// name is a CNAME target while it is the only healthy member, and its
// resolved addresses beside the others.
func TestReconcileHostname(t *testing.T) {
	const lb = "lb-eu.elb.example.net"
	f := newFixture(t, defaultOptions(), shop())
	f.members.setCopy("europe-west1-b", "shop", "web", networkingv1.IngressLoadBalancerIngress{Hostname: lb})
	f.Hosts[lb] = []string{"198.51.100.10"}
	f.MustReconcile(shopKey)
	f.WantRecords("beside others", shopA(shopHost, "192.0.2.1", "192.0.2.2", "198.51.100.10"))
	if d, ok := f.Queue.TakeAfter(shopKey); !ok || d != defaultTTL*time.Second {
		t.Errorf("recheck after %v (queued %v), want after the TTL", d, ok)
	}

	f.members.SetEndpoint("us-central1-a", "shop", "web", false)
	f.members.SetEndpoint("us-central1-b", "shop", "web", false)
	f.MustReconcile(shopKey)
	f.WantRecords("alone", dnstest.Rec(shopHost, dnsprovider.CNAME, defaultTTL, shopOwner, lb+"."))
}

// TestReconcileWaitsForMembers: a member whose caches have not synced holds
// the Ingress back without a request or an event.
func TestReconcileWaitsForMembers(t *testing.T) {
	f := newFixture(t, defaultOptions(), shop())
	f.members.SetSynced("europe-west1-b", false)
	if err := f.Reconcile(shopKey); !dnsrecords.Pending(err) {
		t.Errorf("reconcile with a member not synced = %v, want a pending error", err)
	}
	if got := f.Requests(); len(got) != 0 {
		t.Errorf("sent %v, want nothing", got)
	}
	if events := f.TakeEvents(); len(events) != 0 {
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
	f.MustReconcile(shopKey)
	if got := f.Get(shopKey).GetFinalizers(); len(got) != 0 {
		t.Errorf("finalizers %v, want none", got)
	}
	if got := f.Requests(); len(got) != 0 {
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
		f.Queue.TakeAdded()
		f.c.enqueueBackend(tc.namespace, tc.service)
		got := f.Queue.TakeAdded()
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Service %s/%s queued %q, want %q", tc.namespace, tc.service, got, tc.want)
		}
	}
}
