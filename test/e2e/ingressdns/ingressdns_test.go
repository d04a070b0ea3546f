// Package ingressdns tests DNS for federated Ingresses on a real federation
// of three member clusters: an Ingress of class nginx, whose member copies
// each get an address of their own (the members' cloud simulator), gets an
// A record per host in a real CoreDNS (etcd plugin), which the tests ask
// with a real DNS client while members lose their address, their ready
// endpoints, or their API server.
package ingressdns

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/kfederation/federation/pkg/apis/federation/annotations"
	"github.com/kfederation/federation/test/framework"
)

const (
	federationName = "myfederation"
	zoneA          = "us-central1-a"
	zoneB          = "us-central1-b"
	zoneE          = "europe-west1-b"
	// ttl is the controller manager's default --dns-ttl.
	ttl = 180
	// transition bounds one change of the records: the member's pods
	// and EndpointSlices follow, then the controller and CoreDNS.
	transition = 90 * time.Second
)

var fed *framework.Federation

func TestMain(m *testing.M) {
	// Members join with kubefed, so that the controller manager has only
	// the permissions in them that kubefed grants.
	os.Exit(framework.RunMain(m, framework.MainOptions{
		Join: true,
		Options: framework.Options{
			DNS:                   true,
			FederationName:        federationName,
			Members:               framework.ThreeZoneMembers(),
			ControllerManagerArgs: []string{"--leader-elect=false", "-v=2"},
		},
	}, func(f *framework.Federation) { fed = f }))
}

// Replica preferences: one replica in every member, or none in some.
const everywhere = `{"rebalance": true, "clusters": {"*": {"weight": 1}}}`

func without(members ...string) string {
	s := `{"rebalance": true, "clusters": {"*": {"weight": 1}`
	for _, m := range members {
		s += fmt.Sprintf(`, %q: {"weight": 0, "maxReplicas": 0}`, m)
	}
	return s + `}}`
}

// createShop creates, in namespace ns, a federated ReplicaSet web (one pod
// per member), a Service web over it and an Ingress web of class nginx
// sending every request for host to that Service.
func createShop(t *testing.T, ns, host string) {
	t.Helper()
	ctx := context.Background()
	if _, err := fed.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "web"}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns, Annotations: map[string]string{annotations.ReplicaSetPreferences: everywhere}},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
	if _, err := fed.Client.AppsV1().ReplicaSets(ns).Create(ctx, rs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec:       corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Port: 80}}},
	}
	if _, err := fed.Client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To("nginx"),
			Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{
					Path:     "/",
					PathType: ptr.To(networkingv1.PathTypePrefix),
					Backend:  networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}},
				}},
			}}}},
		},
	}
	if _, err := fed.Client.NetworkingV1().Ingresses(ns).Create(ctx, ing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func setPreferences(t *testing.T, ns, name, prefs string) {
	t.Helper()
	patch := fmt.Sprintf(`{"metadata": {"annotations": {%q: %q}}}`, annotations.ReplicaSetPreferences, prefs)
	if _, err := fed.Client.AppsV1().ReplicaSets(ns).Patch(context.Background(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// ingressAddresses returns each member's address for its copy of the
// Ingress, once every member has one.
func ingressAddresses(t *testing.T, ns, name string) map[string]string {
	t.Helper()
	out := map[string]string{}
	framework.Eventually(t, transition, "every member's Ingress has an address", func(ctx context.Context) error {
		for _, m := range fed.Members {
			ing, err := m.Client.NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			if len(ing.Status.LoadBalancer.Ingress) == 0 || ing.Status.LoadBalancer.Ingress[0].IP == "" {
				return fmt.Errorf("%s: no address yet", m.Name)
			}
			out[m.Name] = ing.Status.LoadBalancer.Ingress[0].IP
		}
		return nil
	})
	return out
}

// expectA waits until name answers A with exactly the addresses of the
// members given.
func expectA(t *testing.T, name string, addresses map[string]string, members ...string) {
	t.Helper()
	var want []string
	for _, m := range members {
		want = append(want, fmt.Sprintf("%s %d A %s", name, ttl, addresses[m]))
	}
	slices.Sort(want)
	ctx, cancel := context.WithTimeout(context.Background(), transition)
	defer cancel()
	if err := fed.DNS.WaitAnswer(ctx, name, dns.TypeA, want...); err != nil {
		t.Fatal(err)
	}
}

func expectNXDOMAIN(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), transition)
	defer cancel()
	if err := fed.DNS.WaitNXDOMAIN(ctx, name, dns.TypeA); err != nil {
		t.Fatal(err)
	}
}

// hasEvent says whether the federated object has an event of that type
// and reason.
func hasEvent(ctx context.Context, ns, name, eventType, reason string) error {
	list, err := fed.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + name})
	if err != nil {
		return err
	}
	var seen []string
	for _, e := range list.Items {
		if e.Type == eventType && e.Reason == reason {
			return nil
		}
		seen = append(seen, e.Type+" "+e.Reason+": "+e.Message)
	}
	return fmt.Errorf("events: %q", seen)
}

// TestHostFollowsHealth walks one nginx Ingress through its members
// becoming unhealthy for its host, one way at a time, and back: the host
// answers with every healthy member's own Ingress address, and nothing
// once the Ingress is deleted.
func TestHostFollowsHealth(t *testing.T) {
	const ns, host = "shop", "shop.example.com."
	createShop(t, ns, "shop.example.com")
	addrs := ingressAddresses(t, ns, "web")
	if len(addrs) != 3 || addrs[zoneA] == addrs[zoneB] || addrs[zoneA] == addrs[zoneE] {
		t.Fatalf("member addresses %v: want one of its own for each member", addrs)
	}
	expectA(t, host, addrs, zoneA, zoneB, zoneE)
	framework.Eventually(t, transition, "a DNSRecordsUpdated event on the Ingress", func(ctx context.Context) error {
		return hasEvent(ctx, ns, "web", corev1.EventTypeNormal, "DNSRecordsUpdated")
	})

	t.Run("address lost", func(t *testing.T) {
		m := fed.Member(zoneA)
		err := m.WithoutCloudSimulator(func() error {
			ctx := context.Background()
			ing, err := m.Client.NetworkingV1().Ingresses(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return err
			}
			ing.Status.LoadBalancer.Ingress = nil
			if _, err := m.Client.NetworkingV1().Ingresses(ns).UpdateStatus(ctx, ing, metav1.UpdateOptions{}); err != nil {
				return err
			}
			expectA(t, host, addrs, zoneB, zoneE)
			// The status is the member's own: the federation's sync
			// leaves it as it is.
			time.Sleep(2 * time.Second)
			ing, err = m.Client.NetworkingV1().Ingresses(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if len(ing.Status.LoadBalancer.Ingress) != 0 {
				return fmt.Errorf("the member's Ingress got an address back while its cloud was away: %v", ing.Status.LoadBalancer.Ingress)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		expectA(t, host, addrs, zoneA, zoneB, zoneE)
	})
	t.Run("backends unready", func(t *testing.T) {
		setPreferences(t, ns, "web", without(zoneB))
		expectA(t, host, addrs, zoneA, zoneE)
		setPreferences(t, ns, "web", everywhere)
		expectA(t, host, addrs, zoneA, zoneB, zoneE)
	})
	t.Run("member killed", func(t *testing.T) {
		m := fed.Member(zoneE)
		if err := m.APIServer.CutOff(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = m.APIServer.Reconnect() }()
		expectA(t, host, addrs, zoneA, zoneB)
		if err := m.APIServer.Reconnect(); err != nil {
			t.Fatal(err)
		}
		expectA(t, host, addrs, zoneA, zoneB, zoneE)
	})
	t.Run("no member healthy", func(t *testing.T) {
		setPreferences(t, ns, "web", without(zoneA, zoneB, zoneE))
		expectNXDOMAIN(t, host)
		setPreferences(t, ns, "web", everywhere)
		expectA(t, host, addrs, zoneA, zoneB, zoneE)
	})
	t.Run("deleted", func(t *testing.T) {
		ctx := context.Background()
		if err := fed.Client.NetworkingV1().Ingresses(ns).Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		expectNXDOMAIN(t, host)
		framework.Eventually(t, transition, "the Ingress is gone, its finalizers released", func(ctx context.Context) error {
			_, err := fed.Client.NetworkingV1().Ingresses(ns).Get(ctx, "web", metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("still there: %v", err)
		})
	})
}

// TestHostOutsideZone: a host the zone cannot hold gets no record, and the
// Ingress says why.
func TestHostOutsideZone(t *testing.T) {
	const ns = "elsewhere"
	createShop(t, ns, "shop.example.org")
	framework.Eventually(t, transition, "a DNSHostSkipped event on the Ingress", func(ctx context.Context) error {
		return hasEvent(ctx, ns, "web", corev1.EventTypeNormal, "DNSHostSkipped")
	})
	ing, err := fed.Client.NetworkingV1().Ingresses(ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(ing.Finalizers, "federation.k8s.io/delete-ingress-dns-records") {
		t.Errorf("finalizers %v: an Ingress with no records needs none of Ingress DNS", ing.Finalizers)
	}
}
