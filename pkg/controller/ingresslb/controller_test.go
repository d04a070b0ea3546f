package ingresslb

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	compute "google.golang.org/api/compute/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/federatedtypes"
)

// UIDs the tests give members and Clusters.
const (
	uidA = "aaaaaaaaaaaaaaaa"
	uidB = "bbbbbbbbbbbbbbbb"
	uidC = "cccccccccccccccc"
	uidR = "0123456789abcdef"
)

var hexUID = regexp.MustCompile(`^[0-9a-f]{16}$`)

// readyWeb is what a GCE Ingress needs to be held by nothing but its
// members' UIDs: a static IP and a backend with a node port.
func readyWeb(t *testing.T) seed {
	return seed{
		ingresses: []*unstructured.Unstructured{ingress(t, "web", withStaticIP("web-ip"))},
		services:  []*corev1.Service{service("web", corev1.ServiceTypeNodePort, 30080)},
	}
}

func TestSyncUIDs(t *testing.T) {
	managed := memberIngress("web", GCEClass)
	managed.Labels = map[string]string{clusterclient.ManagedByLabel: federationName}
	for _, tc := range []struct {
		name          string
		uidConfigMaps map[string]map[string]string
		own           map[string][]*networkingv1.Ingress
		recorded      map[string]string
		// wantUID is the federation's UID; "" a new one.
		wantUID string
		// kept are the members whose ConfigMap must stay as it was, and
		// whose Cluster gets no UID.
		kept []string
		// wantHold is a part of what Hold says for the members it holds.
		wantHold   map[string]string
		wantEvents map[string]int
	}{{
		name:       "no member has one: the federation makes one",
		wantEvents: map[string]int{"Normal " + ReasonUIDSet: 3},
	}, {
		name: "the first member's, by name, is adopted, keeping its other keys",
		uidConfigMaps: map[string]map[string]string{
			"cluster-b": {UIDKey: uidB, "other": "kept"},
			"cluster-c": {UIDKey: uidB},
		},
		wantUID:    uidB,
		wantEvents: map[string]int{"Normal " + ReasonUIDSet: 3},
	}, {
		name: "a member's other UID, in use by no GCE Ingress of its own, is changed",
		uidConfigMaps: map[string]map[string]string{
			"cluster-a": {UIDKey: uidA},
			"cluster-c": {UIDKey: uidC, ProviderUIDKey: "its-own"},
		},
		// Neither another class's Ingress nor the federation's own
		// copy counts.
		own:        map[string][]*networkingv1.Ingress{"cluster-c": {memberIngress("nginx", "nginx"), managed}},
		wantUID:    uidA,
		wantHold:   map[string]string{"cluster-c": "waiting until"},
		wantEvents: map[string]int{"Normal " + ReasonUIDSet: 3},
	}, {
		name: "a member's other UID, in use by a GCE Ingress of its own, is kept",
		uidConfigMaps: map[string]map[string]string{
			"cluster-a": {UIDKey: uidA},
			"cluster-b": {UIDKey: uidB},
		},
		own:     map[string][]*networkingv1.Ingress{"cluster-b": {memberIngress("legacy", GCEClass)}},
		wantUID: uidA,
		kept:    []string{"cluster-b"},
		wantHold: map[string]string{
			"cluster-b": fmt.Sprintf("cluster cluster-b's GCE ingress UID %s is in use by its own Ingresses ([shop/legacy]), so the federation does not change it to %s", uidB, uidA),
		},
		wantEvents: map[string]int{"Normal " + ReasonUIDSet: 2, "Warning " + ReasonUIDConflict: 1},
	}, {
		name:          "the UID recorded on most Clusters wins over the members'",
		uidConfigMaps: map[string]map[string]string{"cluster-a": {UIDKey: uidA}},
		recorded:      map[string]string{"cluster-a": uidR, "cluster-b": uidR, "cluster-c": uidC},
		wantUID:       uidR,
		wantHold:      map[string]string{"cluster-a": "waiting until"},
		// cluster-a and cluster-b had it already.
		wantEvents: map[string]int{"Normal " + ReasonUIDSet: 1},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s := readyWeb(t)
			s.uidConfigMaps, s.memberIngresses, s.recorded = tc.uidConfigMaps, tc.own, tc.recorded
			f := newFixture(t, Options{}, s)
			if err := f.syncUIDs(); err != nil {
				t.Fatalf("syncUIDs: %v", err)
			}
			uid := f.c.uid
			if tc.wantUID == "" && !hexUID.MatchString(uid) {
				t.Errorf("the federation's new UID is %q, want 16 hex digits", uid)
			} else if tc.wantUID != "" && uid != tc.wantUID {
				t.Errorf("the federation's UID is %q, want %q", uid, tc.wantUID)
			}
			providerUIDs := map[string]string{}
			for _, name := range sortedMembers() {
				had, hadOne := tc.uidConfigMaps[name]
				want := maps.Clone(had)
				var wantWrites []string
				switch {
				case slices.Contains(tc.kept, name):
				case hadOne:
					want[UIDKey], want[ProviderUIDKey] = uid, ProviderUID(federationName, name)
					wantWrites = []string{"update configmaps"}
				default:
					want = map[string]string{UIDKey: uid, ProviderUIDKey: ProviderUID(federationName, name)}
					wantWrites = []string{"create configmaps"}
				}
				if diff := cmp.Diff(want, f.configMap(name)); diff != "" {
					t.Errorf("%s's ConfigMap (-want +got):\n%s", name, diff)
				}
				if diff := cmp.Diff(wantWrites, writes(f.memberActions(name))); diff != "" {
					t.Errorf("%s's writes (-want +got):\n%s", name, diff)
				}
				wantRecorded := uid
				if slices.Contains(tc.kept, name) {
					wantRecorded = tc.recorded[name]
				} else {
					providerUIDs[f.configMap(name)[ProviderUIDKey]] = name
				}
				if got := f.recorded(name); got != wantRecorded {
					t.Errorf("Cluster %s's UID annotation = %q, want %q", name, got, wantRecorded)
				}
				got := f.hold(webKey, name)
				if wantHold := tc.wantHold[name]; (wantHold == "") != (got == "") || !strings.Contains(got, wantHold) {
					t.Errorf("Hold(web, %s) = %q, want %q", name, got, wantHold)
				}
			}
			if len(providerUIDs) != len(sortedMembers())-len(tc.kept) {
				t.Errorf("the members' provider UIDs are not distinct: %v", providerUIDs)
			}
			events := f.takeEvents()
			for prefix, n := range tc.wantEvents {
				if got := countEvents(events, prefix); got != n {
					t.Errorf("%d events %q, want %d; events: %q", got, prefix, n, events)
				}
			}
			if len(events) != countAll(tc.wantEvents) {
				t.Errorf("events %q, want only %v", events, tc.wantEvents)
			}

			// Once in line, a member costs a read: no write, no event.
			for _, name := range sortedMembers() {
				f.members.clients[name].ClearActions()
			}
			if err := f.syncUIDs(); err != nil {
				t.Fatalf("second syncUIDs: %v", err)
			}
			for _, name := range sortedMembers() {
				if w := writes(f.memberActions(name)); len(w) > 0 {
					t.Errorf("the second sync wrote to %s: %q", name, w)
				}
			}
			if events := f.takeEvents(); len(events) > 0 {
				t.Errorf("the second sync recorded events %q", events)
			}
		})
	}
}

// writes are the create, update, patch and delete actions of actions.
func writes(actions []string) []string {
	var out []string
	for _, a := range actions {
		if verb, _, _ := strings.Cut(a, " "); verb != "get" && verb != "list" && verb != "watch" {
			out = append(out, a)
		}
	}
	return out
}

func countAll(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// TestChangedUIDHoldsUntilSettled: a member whose UID the federation
// changed gets no GCE Ingress until its GLBC has had the time to read it,
// and the sync is woken when that time is over.
func TestChangedUIDHoldsUntilSettled(t *testing.T) {
	const settle = 300 * time.Millisecond
	s := readyWeb(t)
	s.uidConfigMaps = map[string]map[string]string{"cluster-a": {UIDKey: uidA}, "cluster-b": {UIDKey: uidB}}
	f := newFixture(t, Options{UIDSettle: settle}, s)
	var mu sync.Mutex
	var woken []string
	f.c.OnChange(func(namespace, name string) {
		mu.Lock()
		defer mu.Unlock()
		woken = append(woken, namespace+"/"+name)
	})

	if err := f.syncUIDs(); err != nil {
		t.Fatal(err)
	}
	if got := f.configMap("cluster-b")[UIDKey]; got != uidA {
		t.Fatalf("cluster-b's UID = %q, want %q", got, uidA)
	}
	if got := f.hold(webKey, "cluster-b"); !strings.Contains(got, "for cluster cluster-b's GCE ingress controller to read its new ingress UID") {
		t.Errorf("Hold(web, cluster-b) right after its UID changed = %q", got)
	}
	for _, name := range []string{"cluster-a", "cluster-c"} {
		if got := f.hold(webKey, name); got != "" {
			t.Errorf("Hold(web, %s) = %q, want none", name, got)
		}
	}
	if d, ok := f.queue.takeAfter(uidsKey); !ok || d <= 0 || d > settle {
		t.Errorf("the UIDs are queued again in %v (%v), want within %v", d, ok, settle)
	}

	f.eventually("the hold on cluster-b to lift", func() bool { return f.hold(webKey, "cluster-b") == "" })
	mu.Lock()
	woken = nil
	mu.Unlock()
	if err := f.syncUIDs(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(woken, webKey) {
		t.Errorf("the sync after the settle time woke %q, want %s", woken, webKey)
	}
	if _, ok := f.queue.takeAfter(uidsKey); ok {
		t.Error("the UIDs are queued again with nothing left to settle")
	}
}

func TestHold(t *testing.T) {
	nodePort := []*corev1.Service{service("web", corev1.ServiceTypeNodePort, 30080)}
	const (
		staticIP = "waiting for the federation to reserve a global static IP"
		noPort   = "waiting for backend Service web port 80 to have one node port in every cluster"
		uid      = "waiting for cluster cluster-a's ingress UID (ConfigMap kube-system/ingress-uid) to be the federation's"
	)
	for _, tc := range []struct {
		name     string
		ingress  []func(*networkingv1.Ingress)
		services []*corev1.Service
		classes  []*unstructured.Unstructured
		// wantBefore is what Hold says before the members' UIDs are the
		// federation's, wantAfter after.
		wantBefore, wantAfter string
	}{
		{name: "another class: never held", ingress: []func(*networkingv1.Ingress){withClass("nginx")}, services: nodePort},
		{name: "no class, GCE not the default: never held", ingress: []func(*networkingv1.Ingress){withClass("")}},
		{name: "GCE without a static IP", services: nodePort, wantBefore: staticIP, wantAfter: staticIP},
		{
			name:       "GCE by IngressClass, without a static IP",
			ingress:    []func(*networkingv1.Ingress){withClassName("gce-class")},
			classes:    []*unstructured.Unstructured{gceClass(t, "gce-class")},
			wantBefore: staticIP, wantAfter: staticIP,
		},
		{
			name:     "IngressClass the federation does not have: not GCE's",
			ingress:  []func(*networkingv1.Ingress){withClassName("gce-class")},
			services: nodePort,
		},
		{
			name:       "a NodePort backend without a node port",
			ingress:    []func(*networkingv1.Ingress){withStaticIP("ip")},
			services:   []*corev1.Service{service("web", corev1.ServiceTypeNodePort, 0)},
			wantBefore: noPort, wantAfter: noPort,
		},
		{
			name:       "a LoadBalancer backend without a node port",
			ingress:    []func(*networkingv1.Ingress){withStaticIP("ip")},
			services:   []*corev1.Service{service("web", corev1.ServiceTypeLoadBalancer, 0)},
			wantBefore: noPort, wantAfter: noPort,
		},
		{
			name:       "a backend with a node port, until the UID",
			ingress:    []func(*networkingv1.Ingress){withStaticIP("ip")},
			services:   nodePort,
			wantBefore: uid,
		},
		{
			// Its Warning event says what to fix; holding it would not.
			name:       "a ClusterIP backend, until the UID",
			ingress:    []func(*networkingv1.Ingress){withStaticIP("ip")},
			services:   []*corev1.Service{service("web", corev1.ServiceTypeClusterIP, 0)},
			wantBefore: uid,
		},
		{name: "a backend not federated, until the UID", ingress: []func(*networkingv1.Ingress){withStaticIP("ip")}, wantBefore: uid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Options{}, seed{
				ingresses:     []*unstructured.Unstructured{ingress(t, "web", tc.ingress...)},
				services:      tc.services,
				classes:       tc.classes,
				uidConfigMaps: map[string]map[string]string{"cluster-a": {UIDKey: uidA}},
			})
			if got := f.hold(webKey, "cluster-a"); !holdIs(got, tc.wantBefore) {
				t.Errorf("Hold before the UIDs = %q, want %q", got, tc.wantBefore)
			}
			if err := f.syncUIDs(); err != nil {
				t.Fatal(err)
			}
			if got := f.hold(webKey, "cluster-a"); !holdIs(got, tc.wantAfter) {
				t.Errorf("Hold after the UIDs = %q, want %q", got, tc.wantAfter)
			}
		})
	}
}

// holdIs says Hold's answer got starts with want, or both are none.
func holdIs(got, want string) bool {
	return (got == "") == (want == "") && strings.HasPrefix(got, want)
}

// TestHoldUntilUIDRecorded: a member is held until its Cluster says its
// UID is the federation's, even when its ConfigMap already does.
func TestHoldUntilUIDRecorded(t *testing.T) {
	s := readyWeb(t)
	s.uidConfigMaps = map[string]map[string]string{"cluster-a": {UIDKey: uidA}}
	f := newFixture(t, Options{}, s)
	refused := errors.New("refused by the test")
	f.refuseCluster("patch", "cluster-b", refused)
	if err := f.syncUIDs(); !errors.Is(err, refused) {
		t.Fatalf("syncUIDs with cluster-b's Cluster refusing patches = %v, want %v", err, refused)
	}
	if got := f.configMap("cluster-b")[UIDKey]; got != uidA {
		t.Errorf("cluster-b's ConfigMap UID = %q, want %q", got, uidA)
	}
	want := map[string]string{"cluster-a": "", "cluster-b": "waiting for cluster cluster-b's ingress UID", "cluster-c": ""}
	for name, w := range want {
		if got := f.hold(webKey, name); !holdIs(got, w) {
			t.Errorf("Hold(web, %s) = %q, want %q", name, got, w)
		}
	}
	f.refuseCluster("patch", "cluster-b", nil)
	if err := f.syncUIDs(); err != nil {
		t.Fatal(err)
	}
	if got := f.hold(webKey, "cluster-b"); got != "" {
		t.Errorf("Hold(web, cluster-b) once recorded = %q, want none", got)
	}
}

func TestEnsureAddress(t *testing.T) {
	name := AddressName(federationName, ns, "web")
	owner := ownerNote{Federation: federationName, Ingress: webKey}.String()
	for _, tc := range []struct {
		name    string
		ingress []func(*networkingv1.Ingress)
		// reserved are the project's addresses before the sync, name ->
		// description.
		reserved map[string]string
		wantErr  bool
		// wantStaticIP is the Ingress's static IP annotation after the
		// sync; wantShown its address as shown for kubectl describe.
		wantStaticIP, wantShown string
		// wantAddresses are the project's addresses after, name ->
		// description.
		wantAddresses map[string]string
		wantEvent     string
	}{{
		name:          "reserved for the Ingress",
		wantStaticIP:  name,
		wantShown:     name + " (34.120.0.1)",
		wantAddresses: map[string]string{name: owner},
		wantEvent:     "Normal " + ReasonAddressReserved + " Reserved global address " + name + " (34.120.0.1)",
	}, {
		name:          "one of the name someone else's: not used",
		reserved:      map[string]string{name: "someone else's"},
		wantErr:       true,
		wantAddresses: map[string]string{name: "someone else's"},
		wantEvent:     "Warning " + ReasonAddressFailed + " Global address " + name + " exists and is not the federation's",
	}, {
		name:          "one of the name another federation's: not used",
		reserved:      map[string]string{name: ownerNote{Federation: "other", Ingress: webKey}.String()},
		wantErr:       true,
		wantAddresses: map[string]string{name: ownerNote{Federation: "other", Ingress: webKey}.String()},
		wantEvent:     "Warning " + ReasonAddressFailed,
	}, {
		name:          "the user's: used, none reserved",
		ingress:       []func(*networkingv1.Ingress){withStaticIP("my-ip")},
		reserved:      map[string]string{"my-ip": ""},
		wantStaticIP:  "my-ip",
		wantShown:     "my-ip (34.120.0.1)",
		wantAddresses: map[string]string{"my-ip": ""},
	}, {
		name:          "the user's, missing: none reserved",
		ingress:       []func(*networkingv1.Ingress){withStaticIP("my-ip")},
		wantStaticIP:  "my-ip",
		wantAddresses: map[string]string{},
		wantEvent:     "Warning " + ReasonAddressFailed + " Global address my-ip (annotation " + GlobalStaticIPAnnotation + ") does not exist",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Options{}, seed{
				ingresses: []*unstructured.Unstructured{ingress(t, "web", tc.ingress...)},
				services:  []*corev1.Service{service("web", corev1.ServiceTypeNodePort, 30080)},
			})
			for n, d := range tc.reserved {
				f.reserve(n, d)
			}
			err := f.syncIngress(webKey)
			if (err != nil) != tc.wantErr {
				t.Fatalf("syncIngress = %v, want error %v", err, tc.wantErr)
			}
			ing := f.fedIngress(webKey)
			if got := ing.GetAnnotations()[GlobalStaticIPAnnotation]; got != tc.wantStaticIP {
				t.Errorf("static IP annotation = %q, want %q", got, tc.wantStaticIP)
			}
			if got := ing.GetAnnotations()[AddressAnnotation]; got != tc.wantShown {
				t.Errorf("%s = %q, want %q", AddressAnnotation, got, tc.wantShown)
			}
			if !slices.Contains(ing.GetFinalizers(), Finalizer) {
				t.Errorf("finalizers %q lack %s", ing.GetFinalizers(), Finalizer)
			}
			got := map[string]string{}
			for _, n := range f.cloud.Names(gcpProject, "globalAddresses") {
				got[n] = f.address(n).Description
			}
			if diff := cmp.Diff(tc.wantAddresses, got); diff != "" {
				t.Errorf("addresses (-want +got):\n%s", diff)
			}
			events := f.takeEvents()
			if tc.wantEvent != "" && countEvents(events, tc.wantEvent) != 1 {
				t.Errorf("events %q, want one %q", events, tc.wantEvent)
			}
			if tc.wantErr {
				return
			}
			if !f.queue.takeAdded(firewallKey) {
				t.Error("the firewall rule is not queued")
			}

			// The next sync reserves nothing more, and writes nothing.
			f.cloud.ResetRequests()
			f.fed.ClearActions()
			f.mustSyncIngress(webKey)
			if n := f.cloud.Requests()["globalAddresses.insert"]; n != 0 {
				t.Errorf("the second sync sent %d globalAddresses.insert", n)
			}
			if w := writes(actions(f.fed.Actions())); len(w) > 0 {
				t.Errorf("the second sync wrote %q", w)
			}
		})
	}
}

func TestRelease(t *testing.T) {
	name := AddressName(federationName, ns, "web")
	owner := ownerNote{Federation: federationName, Ingress: webKey}.String()
	for _, tc := range []struct {
		name       string
		finalizers []string
		staticIP   string
		// reserved are the project's addresses, name -> description.
		reserved map[string]string
		// inUse puts a forwarding rule on the address staticIP.
		inUse          bool
		wantAddresses  []string
		wantFinalizers []string
		wantEvent      string
		wantRequeue    bool
	}{{
		name:           "the federation's address is released",
		finalizers:     []string{Finalizer},
		staticIP:       name,
		reserved:       map[string]string{name: owner},
		wantAddresses:  []string{},
		wantFinalizers: []string{},
		wantEvent:      "Normal " + ReasonAddressReleased + " Released global address " + name + " (34.120.0.1)",
	}, {
		name:           "the user's address is kept",
		finalizers:     []string{Finalizer},
		staticIP:       "my-ip",
		reserved:       map[string]string{"my-ip": ""},
		wantAddresses:  []string{"my-ip"},
		wantFinalizers: []string{},
	}, {
		name:           "someone else's address of the federation's name is kept",
		finalizers:     []string{Finalizer},
		staticIP:       name,
		reserved:       map[string]string{name: "someone else's"},
		wantAddresses:  []string{name},
		wantFinalizers: []string{},
	}, {
		name:           "an address already gone",
		finalizers:     []string{Finalizer},
		staticIP:       name,
		wantAddresses:  []string{},
		wantFinalizers: []string{},
	}, {
		name:           "an address still in use waits",
		finalizers:     []string{Finalizer},
		staticIP:       name,
		reserved:       map[string]string{name: owner},
		inUse:          true,
		wantAddresses:  []string{name},
		wantFinalizers: []string{Finalizer},
		wantRequeue:    true,
	}, {
		name:           "the members' copies still there: nothing yet",
		finalizers:     []string{federatedtypes.Finalizer, Finalizer},
		staticIP:       name,
		reserved:       map[string]string{name: owner},
		wantAddresses:  []string{name},
		wantFinalizers: []string{federatedtypes.Finalizer, Finalizer},
	}, {
		name:           "not the controller's finalizer: nothing",
		finalizers:     []string{"someone.example/else"},
		staticIP:       name,
		reserved:       map[string]string{name: owner},
		wantAddresses:  []string{name},
		wantFinalizers: []string{"someone.example/else"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Options{}, seed{
				ingresses: []*unstructured.Unstructured{ingress(t, "web", withStaticIP(tc.staticIP), deleting(tc.finalizers...))},
				services:  []*corev1.Service{service("web", corev1.ServiceTypeNodePort, 30080)},
			})
			for n, d := range tc.reserved {
				f.reserve(n, d)
			}
			if tc.inUse {
				f.useAddress(tc.staticIP)
			}
			f.mustSyncIngress(webKey)
			if diff := cmp.Diff(tc.wantAddresses, f.cloud.Names(gcpProject, "globalAddresses")); diff != "" {
				t.Errorf("addresses (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantFinalizers, f.fedIngress(webKey).GetFinalizers(), cmpEmpty); diff != "" {
				t.Errorf("finalizers (-want +got):\n%s", diff)
			}
			events := f.takeEvents()
			if tc.wantEvent != "" && countEvents(events, tc.wantEvent) != 1 {
				t.Errorf("events %q, want one %q", events, tc.wantEvent)
			} else if tc.wantEvent == "" && len(events) > 0 {
				t.Errorf("events %q, want none", events)
			}
			d, requeued := f.queue.takeAfter(ingressKey + webKey)
			if requeued != tc.wantRequeue || (requeued && d != addressInUseRetry) {
				t.Errorf("requeued %v in %v, want %v in %v", requeued, d, tc.wantRequeue, addressInUseRetry)
			}
			if released := !slices.Equal(tc.wantFinalizers, tc.finalizers); released != f.queue.takeAdded(firewallKey) {
				t.Errorf("firewall queued: %v, want %v", !released, released)
			}
		})
	}
}

// cmpEmpty makes nil and empty slices equal.
var cmpEmpty = cmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) })

func TestNodePorts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		services []*corev1.Service
		// cached are the members' copies of Service web, with the node
		// port each allocated.
		cached map[string]int32
		// wantNodePort is the node port written into the federated
		// Service; 0 none.
		wantNodePort int32
		wantEvent    string
	}{{
		name:         "the first member's, by name",
		services:     []*corev1.Service{service("web", corev1.ServiceTypeNodePort, 0)},
		cached:       map[string]int32{"cluster-a": 30080, "cluster-b": 30081, "cluster-c": 30082},
		wantNodePort: 30080,
		wantEvent:    "Normal " + ReasonNodePortChosen + " Service shop/web port 80 uses node port 30080, allocated by cluster cluster-a, in every cluster",
	}, {
		name:         "the first member's that allocated one",
		services:     []*corev1.Service{service("web", corev1.ServiceTypeLoadBalancer, 0)},
		cached:       map[string]int32{"cluster-a": 0, "cluster-b": 30081, "cluster-c": 30082},
		wantNodePort: 30081,
		wantEvent:    "Normal " + ReasonNodePortChosen + " Service shop/web port 80 uses node port 30081, allocated by cluster cluster-b",
	}, {
		name:     "no member allocated one yet",
		services: []*corev1.Service{service("web", corev1.ServiceTypeNodePort, 0)},
	}, {
		name:     "one already",
		services: []*corev1.Service{service("web", corev1.ServiceTypeNodePort, 30090)},
		cached:   map[string]int32{"cluster-a": 30080},
	}, {
		name:      "ClusterIP",
		services:  []*corev1.Service{service("web", corev1.ServiceTypeClusterIP, 0)},
		cached:    map[string]int32{"cluster-a": 30080},
		wantEvent: "Warning " + ReasonBackendNoNodePort + " Backend Service shop/web is of type ClusterIP",
	}, {
		name: "no such port",
		services: []*corev1.Service{func() *corev1.Service {
			s := service("web", corev1.ServiceTypeNodePort, 0)
			s.Spec.Ports[0].Port = 8080
			return s
		}()},
		wantEvent: "Warning " + ReasonBackendNoNodePort + " Backend Service shop/web has no port 80",
	}, {
		name:      "not federated",
		cached:    map[string]int32{"cluster-a": 30080},
		wantEvent: "Warning " + ReasonBackendNotFed + " Backend Service shop/web is not in the federation",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			cached := map[string][]*unstructured.Unstructured{}
			for cluster, port := range tc.cached {
				cached[cluster] = []*unstructured.Unstructured{memberService(t, "web", port)}
			}
			f := newFixture(t, Options{}, seed{
				ingresses: []*unstructured.Unstructured{ingress(t, "web")},
				services:  tc.services,
				cached:    cached,
			})
			f.mustSyncIngress(webKey)
			updates := f.serviceUpdates()
			switch {
			case tc.wantNodePort == 0 && len(updates) > 0:
				t.Errorf("federated Service updated: %+v", updates[0].Spec)
			case tc.wantNodePort != 0 && len(updates) != 1:
				t.Errorf("%d updates of the federated Service, want 1", len(updates))
			case tc.wantNodePort != 0:
				want := tc.services[0].DeepCopy()
				want.Spec.Ports[0].NodePort = tc.wantNodePort
				if diff := cmp.Diff(want.Spec, updates[0].Spec); diff != "" || updates[0].Namespace != ns || updates[0].Name != "web" {
					t.Errorf("update of %s/%s (-want +got):\n%s", updates[0].Namespace, updates[0].Name, diff)
				}
			}
			var ours []string
			for _, e := range f.takeEvents() {
				if !strings.Contains(e, ReasonAddressReserved) {
					ours = append(ours, e)
				}
			}
			if tc.wantEvent == "" && len(ours) > 0 {
				t.Errorf("events %q, want none", ours)
			} else if tc.wantEvent != "" && (len(ours) != 1 || !strings.HasPrefix(ours[0], tc.wantEvent)) {
				t.Errorf("events %q, want one %q", ours, tc.wantEvent)
			}
		})
	}
}

// firewallSeed is two GCE Ingresses on node ports 30080 and 30081, and
// besides them Ingresses whose node ports the rule must not open: of
// another class, being deleted, and on a Service without a node port yet.
// Every Cluster records the UID uidR.
func firewallSeed(t *testing.T) seed {
	return seed{
		ingresses: []*unstructured.Unstructured{
			ingress(t, "web"),
			ingress(t, "api", withBackend("api")),
			ingress(t, "nginx", withBackend("nginx"), withClass("nginx")),
			ingress(t, "old", withBackend("old"), deleting(Finalizer)),
			ingress(t, "new", withBackend("new")),
		},
		services: []*corev1.Service{
			service("web", corev1.ServiceTypeNodePort, 30080),
			service("api", corev1.ServiceTypeLoadBalancer, 30081),
			service("nginx", corev1.ServiceTypeNodePort, 30082),
			service("old", corev1.ServiceTypeNodePort, 30083),
			service("new", corev1.ServiceTypeNodePort, 0),
		},
		recorded: map[string]string{"cluster-a": uidR, "cluster-b": uidR, "cluster-c": uidR},
	}
}

// memberGroups makes GLBC's instance groups of cluster-a and cluster-b
// (cluster-c has none yet), and one of another UID.
func (f *fixture) memberGroups() {
	f.t.Helper()
	f.instanceGroup("us-central1-a", InstanceGroupName(uidR), map[string][]string{"a-1": {"gke-a-node", "http-server"}, "a-2": {"gke-a-node"}})
	f.instanceGroup("us-central1-b", InstanceGroupName(uidR), map[string][]string{"b-1": {"gke-b-node"}})
	f.instanceGroup("us-central1-a", InstanceGroupName(uidA), map[string][]string{"x-1": {"not-ours"}})
}

func TestSyncFirewall(t *testing.T) {
	f := newFixture(t, Options{}, firewallSeed(t))
	if err := f.syncUIDs(); err != nil {
		t.Fatal(err)
	}
	name := FirewallName(federationName)

	// No instance group yet: no rule, which would open the ports on every
	// instance of the network.
	if err := f.syncFirewall(); err != nil {
		t.Fatalf("syncFirewall before the instance groups: %v", err)
	}
	if fw := f.firewall(name); fw != nil {
		t.Errorf("a rule before the instance groups: %+v", fw)
	}
	if d, ok := f.queue.takeAfter(firewallKey); !ok || d != notInLoadBalancerRetry {
		t.Errorf("firewall queued again: %v in %v, want in %v", ok, d, notInLoadBalancerRetry)
	}

	f.memberGroups()
	if err := f.syncFirewall(); err != nil {
		t.Fatalf("syncFirewall: %v", err)
	}
	fw := f.firewall(name)
	if fw == nil {
		t.Fatalf("no firewall rule %s; rules: %q", name, f.cloud.Names(gcpProject, "firewalls"))
	}
	want := &compute.Firewall{
		Description:  ownerNote{Federation: federationName}.String(),
		Direction:    "INGRESS",
		SourceRanges: L7SourceRanges,
		Allowed:      []*compute.FirewallAllowed{{IPProtocol: "tcp", Ports: []string{"30080", "30081"}}},
		TargetTags:   []string{"gke-a-node", "gke-b-node", "http-server"},
	}
	got := &compute.Firewall{Description: fw.Description, Direction: fw.Direction, SourceRanges: fw.SourceRanges, Allowed: fw.Allowed, TargetTags: fw.TargetTags}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("firewall rule (-want +got):\n%s", diff)
	}

	// In step: no change.
	f.cloud.ResetRequests()
	if err := f.syncFirewall(); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"firewalls.insert", "firewalls.update", "firewalls.patch", "firewalls.delete"} {
		if n := f.cloud.Requests()[m]; n != 0 {
			t.Errorf("a sync in step sent %d %s", n, m)
		}
	}

	// A third port.
	svc := service("new", corev1.ServiceTypeNodePort, 30084)
	if _, err := f.fed.Resource(serviceGVR).Namespace(ns).Update(f.ctx, toUnstructured(t, svc), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.eventually("the Service informer to see the new node port", func() bool { return slices.Contains(f.c.allNodePorts(), 30084) })
	if err := f.syncFirewall(); err != nil {
		t.Fatal(err)
	}
	if fw := f.firewall(name); fw == nil || !slices.Equal(fw.Allowed[0].Ports, []string{"30080", "30081", "30084"}) {
		t.Errorf("rule after a third node port: %+v", fw)
	}

	// No GCE Ingress left: no rule.
	for _, ing := range []string{"web", "api", "old", "new"} {
		f.deleteIngress(ns + "/" + ing)
	}
	if err := f.syncFirewall(); err != nil {
		t.Fatalf("syncFirewall without Ingresses: %v", err)
	}
	if names := f.cloud.Names(gcpProject, "firewalls"); len(names) > 0 {
		t.Errorf("firewall rules without GCE Ingresses: %q", names)
	}
}

// TestFirewallNotOurs: a rule of the federation's name that someone else
// made is never changed nor deleted.
func TestFirewallNotOurs(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ingresses bool
		wantErr   string
	}{
		{name: "Ingresses need it", ingresses: true, wantErr: "is not this federation's"},
		{name: "no Ingress needs it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := firewallSeed(t)
			if !tc.ingresses {
				s.ingresses = nil
			}
			f := newFixture(t, Options{}, s)
			if err := f.syncUIDs(); err != nil {
				t.Fatal(err)
			}
			f.memberGroups()
			name := FirewallName(federationName)
			f.do(f.compute.Firewalls.Insert(gcpProject, &compute.Firewall{
				Name: name, Description: "someone else's", SourceRanges: []string{"0.0.0.0/0"},
				Allowed: []*compute.FirewallAllowed{{IPProtocol: "tcp", Ports: []string{"22"}}},
			}).Context(f.ctx).Do())
			before := f.firewall(name)

			err := f.syncFirewall()
			if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("syncFirewall = %v, want an error with %q", err, tc.wantErr)
			}
			after := f.firewall(name)
			if after == nil {
				t.Fatal("the rule was deleted")
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("the rule changed (-before +after):\n%s", diff)
			}
		})
	}
}

// TestCloudFaults: a Compute Engine error fails the sync, for the queue
// to retry, and the next sync does what the first could not.
func TestCloudFaults(t *testing.T) {
	name := AddressName(federationName, ns, "web")
	for _, tc := range []struct {
		name   string
		seed   func(t *testing.T) seed
		before func(f *fixture)
		sync   func(f *fixture) error
		// done says the sync did its work.
		done func(f *fixture) bool
	}{{
		name: "reserve an address",
		seed: func(t *testing.T) seed {
			return seed{
				ingresses: []*unstructured.Unstructured{ingress(t, "web")},
				services:  []*corev1.Service{service("web", corev1.ServiceTypeNodePort, 30080)},
			}
		},
		sync: func(f *fixture) error { return f.syncIngress(webKey) },
		done: func(f *fixture) bool {
			return f.fedIngress(webKey).GetAnnotations()[GlobalStaticIPAnnotation] == name && f.address(name) != nil
		},
	}, {
		name: "release an address",
		seed: func(t *testing.T) seed {
			return seed{ingresses: []*unstructured.Unstructured{ingress(t, "web", withStaticIP(name), deleting(Finalizer))}}
		},
		before: func(f *fixture) { f.reserve(name, ownerNote{Federation: federationName, Ingress: webKey}.String()) },
		sync:   func(f *fixture) error { return f.syncIngress(webKey) },
		done: func(f *fixture) bool {
			return len(f.fedIngress(webKey).GetFinalizers()) == 0 && f.address(name) == nil
		},
	}, {
		name:   "keep the firewall rule",
		seed:   firewallSeed,
		before: func(f *fixture) { f.memberGroups() },
		sync:   func(f *fixture) error { return f.syncFirewall() },
		done:   func(f *fixture) bool { return f.firewall(FirewallName(federationName)) != nil },
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Options{}, tc.seed(t))
			if err := f.syncUIDs(); err != nil {
				t.Fatal(err)
			}
			if tc.before != nil {
				tc.before(f)
			}
			f.cloud.FailNext(1, http.StatusServiceUnavailable)
			if err := tc.sync(f); err == nil {
				t.Fatal("the sync on a failing Compute Engine succeeded")
			}
			if tc.done(f) {
				t.Fatal("the sync failed, yet did its work")
			}
			if err := tc.sync(f); err != nil {
				t.Fatalf("the sync after the fault: %v", err)
			}
			if !tc.done(f) {
				t.Error("the sync after the fault did not do its work")
			}
		})
	}
}

// TestServiceChangeWakesItsGCEIngresses: a change to a backend Service
// (its node port written) queues the GCE Ingresses that use it, and wakes
// the sync for them, found through the shared backend index; an Ingress of
// another class, or of another Service, is left alone.
func TestServiceChangeWakesItsGCEIngresses(t *testing.T) {
	s := readyWeb(t)
	s.ingresses = append(s.ingresses,
		ingress(t, "nginx", withClass("nginx")),
		ingress(t, "cart", func(ing *networkingv1.Ingress) { ing.Spec.DefaultBackend.Service.Name = "cart" }))
	f := newFixture(t, Options{}, s)
	var woken []string
	f.c.OnChange(func(namespace, name string) { woken = append(woken, namespace+"/"+name) })
	f.queue.TakeAdded()

	f.c.enqueueIngressesOf(toUnstructured(t, service("web", corev1.ServiceTypeNodePort, 30080)))

	if got, want := f.queue.TakeAdded(), []string{ingressKey + webKey}; !slices.Equal(got, want) {
		t.Errorf("queued %q, want %q", got, want)
	}
	if want := []string{webKey}; !slices.Equal(woken, want) {
		t.Errorf("woke the sync for %q, want %q", woken, want)
	}
}
