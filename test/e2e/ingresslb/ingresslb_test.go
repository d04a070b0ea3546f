// Package ingresslb tests federated Ingresses of GCE's class on one global
// load balancer, on a real federation of three members (two zones of
// us-central1, one of europe-west1), each running a stand-in for GCE's
// ingress controller against one fake Compute Engine API, as the members
// of one Google Cloud project would.
package ingresslb

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	compute "google.golang.org/api/compute/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kfederation/federation/pkg/controller/ingresslb"
	"github.com/kfederation/federation/test/framework"
)

const (
	federationName = "myfederation"
	zoneA          = "us-central1-a"
	zoneB          = "us-central1-b"
	zoneE          = "europe-west1-b"
	// settle bounds the load balancer's programming: the sync, three
	// GLBCs and the federation's own controller, each with retries.
	settle = 2 * time.Minute
)

var fed *framework.Federation

func TestMain(m *testing.M) {
	os.Exit(framework.RunMain(m, framework.MainOptions{
		Join: true,
		Options: framework.Options{
			Compute:               true,
			FederationName:        federationName,
			Members:               framework.ThreeZoneMembers(),
			ControllerManagerArgs: []string{"--leader-elect=false", "-v=2"},
		},
	}, func(f *framework.Federation) { fed = f }))
}

// createApp creates, in the federation, a ReplicaSet and a NodePort
// Service "web" in ns, and an Ingress called name sending everything to
// it, with the annotations given.
func createApp(t *testing.T, ns, name string, annotations map[string]string) {
	t.Helper()
	ctx := context.Background()
	if _, err := fed.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "web"}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
	if _, err := fed.Client.AppsV1().ReplicaSets(ns).Create(ctx, rs, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: labels, Ports: []corev1.ServicePort{{Port: 80}}},
	}
	if _, err := fed.Client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: annotations},
		Spec: networkingv1.IngressSpec{DefaultBackend: &networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}},
		}},
	}
	if _, err := fed.Client.NetworkingV1().Ingresses(ns).Create(ctx, ing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// nodePort waits until the federated Service web has one node port, the
// same in every member's copy, and returns it.
func nodePort(t *testing.T, ns string, members []*framework.Member) int32 {
	t.Helper()
	var port int32
	framework.Eventually(t, settle, "one node port for web in the federation and every member", func(ctx context.Context) error {
		svc, err := fed.Client.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if port = svc.Spec.Ports[0].NodePort; port == 0 {
			return fmt.Errorf("the federated Service has no node port yet")
		}
		for _, m := range members {
			ms, err := m.Client.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			if got := ms.Spec.Ports[0].NodePort; got != port {
				return fmt.Errorf("%s: node port %d, the federation's is %d", m.Name, got, port)
			}
		}
		return nil
	})
	return port
}

// federationUID is the UID recorded on the Cluster objects.
func federationUID(t *testing.T) string {
	t.Helper()
	fc, err := fed.FederationClient()
	if err != nil {
		t.Fatal(err)
	}
	var uid string
	framework.Eventually(t, settle, "the federation's ingress UID on every Cluster", func(ctx context.Context) error {
		list, err := fc.FederationV1beta1().Clusters().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		uid = ""
		for _, cl := range list.Items {
			got := cl.Annotations[ingresslb.ClusterUIDAnnotation]
			if got == "" || (uid != "" && got != uid) {
				return fmt.Errorf("Cluster %s: UID %q", cl.Name, got)
			}
			uid = got
		}
		return nil
	})
	return uid
}

// loadBalancer is what the fake Compute API holds for the federation's
// Ingresses.
type loadBalancer struct {
	urlMaps, proxies, rules, backends, addresses, firewalls []string
}

func cloudState() loadBalancer { return cloudStateOf("") }

// cloudStateOf is cloudState with only the URL maps, proxies and
// forwarding rules GLBC names after the Ingress ns-name ("" for all).
func cloudStateOf(nsName string) loadBalancer {
	s, p := fed.Cloud.Server, fed.Cloud.Project
	mine := func(names []string) []string {
		return slices.DeleteFunc(names, func(n string) bool { return nsName != "" && !strings.Contains(n, "-"+nsName+"--") })
	}
	return loadBalancer{
		urlMaps:   mine(s.Names(p, "urlMaps")),
		proxies:   mine(s.Names(p, "targetHttpProxies")),
		rules:     mine(s.Names(p, "globalForwardingRules")),
		backends:  s.Names(p, "backendServices"),
		addresses: s.Names(p, "globalAddresses"),
		firewalls: s.Names(p, "firewalls"),
	}
}

// waitOneLoadBalancer waits until the Ingress ns/name is one load balancer
// on address ip, with every member's instance group behind the backend
// service of port, and every member's copy and the federated Ingress
// report ip.
func waitOneLoadBalancer(t *testing.T, ns, name, ip, uid string, port int32, members []*framework.Member) {
	t.Helper()
	svc, project := fed.Cloud.Service, fed.Cloud.Project
	framework.Eventually(t, settle, "one load balancer on "+ip, func(ctx context.Context) error {
		lb := cloudStateOf(ns + "-" + name)
		if len(lb.urlMaps) != 1 || len(lb.proxies) != 1 || len(lb.rules) != 1 {
			return fmt.Errorf("want one URL map, proxy and forwarding rule: %+v", lb)
		}
		rule, err := svc.GlobalForwardingRules.Get(project, lb.rules[0]).Context(ctx).Do()
		if err != nil {
			return err
		}
		if rule.IPAddress != ip {
			return fmt.Errorf("forwarding rule %s on %s, want %s", rule.Name, rule.IPAddress, ip)
		}
		be, err := svc.BackendServices.Get(project, ingresslb.BackendServiceName(port, uid)).Context(ctx).Do()
		if err != nil {
			return err
		}
		if got := groupZones(be); !slices.Equal(got, zonesOf(members)) {
			return fmt.Errorf("backend service %s has groups in %v, want %v", be.Name, got, zonesOf(members))
		}
		for _, m := range members {
			ing, err := m.Client.NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			if got := ingressIPs(ing.Status.LoadBalancer.Ingress); !slices.Equal(got, []string{ip}) {
				return fmt.Errorf("%s: Ingress addresses %v, want %s", m.Name, got, ip)
			}
		}
		fedIng, err := fed.Client.NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if got := ingressIPs(fedIng.Status.LoadBalancer.Ingress); !slices.Equal(got, []string{ip}) {
			return fmt.Errorf("federated Ingress addresses %v, want %s", got, ip)
		}
		if shown := fedIng.Annotations[ingresslb.ClustersAnnotation]; strings.Count(shown, "in the load balancer") != len(members) {
			return fmt.Errorf("annotation %s: %q", ingresslb.ClustersAnnotation, shown)
		}
		return nil
	})
}

// waitFirewall waits until the federation's firewall rule opens exactly
// ports, from both load balancer ranges, on every member's nodes.
func waitFirewall(t *testing.T, ports []int32, members []*framework.Member) {
	t.Helper()
	svc, project := fed.Cloud.Service, fed.Cloud.Project
	var wantTags, wantPorts []string
	for _, m := range members {
		wantTags = append(wantTags, m.Name+"-node")
	}
	for _, p := range ports {
		wantPorts = append(wantPorts, fmt.Sprint(p))
	}
	sort.Strings(wantTags)
	sort.Strings(wantPorts)
	framework.Eventually(t, settle, "the federation's firewall rule", func(ctx context.Context) error {
		fw, err := svc.Firewalls.Get(project, ingresslb.FirewallName(federationName)).Context(ctx).Do()
		if err != nil {
			return err
		}
		var gotPorts []string
		for _, a := range fw.Allowed {
			gotPorts = append(gotPorts, a.Ports...)
		}
		sort.Strings(gotPorts)
		tags := slices.Sorted(slices.Values(fw.TargetTags))
		ranges := slices.Sorted(slices.Values(fw.SourceRanges))
		if !slices.Equal(ranges, []string{"130.211.0.0/22", "35.191.0.0/16"}) || !slices.Equal(gotPorts, wantPorts) || !slices.Equal(tags, wantTags) {
			return fmt.Errorf("rule %s: ranges %v ports %v tags %v; want ports %v tags %v", fw.Name, ranges, gotPorts, tags, wantPorts, wantTags)
		}
		return nil
	})
}

func groupZones(be *compute.BackendService) []string {
	var zones []string
	for _, b := range be.Backends {
		parts := strings.Split(b.Group, "/")
		zones = append(zones, parts[len(parts)-3])
	}
	sort.Strings(zones)
	return zones
}

func zonesOf(members []*framework.Member) []string {
	var zones []string
	for _, m := range members {
		zones = append(zones, m.Zone)
	}
	sort.Strings(zones)
	return zones
}

func ingressIPs(entries []networkingv1.IngressLoadBalancerIngress) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.IP)
	}
	return out
}

// addressOf waits for the federation to name a global address in the
// Ingress and returns its name and IP.
func addressOf(t *testing.T, ns, name string) (string, string) {
	t.Helper()
	var addrName, ip string
	framework.Eventually(t, settle, "a global address named in the Ingress", func(ctx context.Context) error {
		ing, err := fed.Client.NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if addrName = ing.Annotations[ingresslb.GlobalStaticIPAnnotation]; addrName == "" {
			return fmt.Errorf("no %s yet", ingresslb.GlobalStaticIPAnnotation)
		}
		a, err := fed.Cloud.Service.GlobalAddresses.Get(fed.Cloud.Project, addrName).Context(ctx).Do()
		if err != nil {
			return err
		}
		ip = a.Address
		return nil
	})
	return addrName, ip
}

// waitDeleted deletes the federated Ingress and waits until it is gone
// and the cloud holds no load balancer for it.
func waitDeleted(t *testing.T, ns, name string) {
	t.Helper()
	if err := fed.Client.NetworkingV1().Ingresses(ns).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, settle, "the Ingress and its load balancer gone", func(ctx context.Context) error {
		if _, err := fed.Client.NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("the federated Ingress is still there (%v)", err)
		}
		if lb := cloudStateOf(ns + "-" + name); len(lb.urlMaps)+len(lb.proxies)+len(lb.rules) != 0 {
			return fmt.Errorf("load balancer left: %+v", lb)
		}
		return nil
	})
}

func TestOneGlobalLoadBalancer(t *testing.T) {
	const ns, name = "shop", "shop"
	createApp(t, ns, name, nil)
	addrName, ip := addressOf(t, ns, name)
	if addrName != ingresslb.AddressName(federationName, ns, name) {
		t.Errorf("address %s, want the federation's %s", addrName, ingresslb.AddressName(federationName, ns, name))
	}
	uid := federationUID(t)
	port := nodePort(t, ns, fed.Members)
	waitOneLoadBalancer(t, ns, name, ip, uid, port, fed.Members)
	waitFirewall(t, []int32{port}, fed.Members)
	checkUIDs(t, uid)

	waitDeleted(t, ns, name)
	framework.Eventually(t, settle, "the address, the backend service and the firewall rule gone", func(ctx context.Context) error {
		lb := cloudState()
		if slices.Contains(lb.addresses, addrName) || slices.Contains(lb.firewalls, ingresslb.FirewallName(federationName)) ||
			slices.Contains(lb.backends, ingresslb.BackendServiceName(port, uid)) {
			return fmt.Errorf("left: addresses %v firewalls %v backends %v", lb.addresses, lb.firewalls, lb.backends)
		}
		return nil
	})
}

// checkUIDs: every member's ingress-uid ConfigMap has the federation's
// uid and a provider-uid of its own.
func checkUIDs(t *testing.T, uid string) {
	t.Helper()
	seen := map[string]string{}
	for _, m := range fed.Members {
		cm, err := m.Client.CoreV1().ConfigMaps("kube-system").Get(context.Background(), ingresslb.UIDConfigMap, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		if cm.Data["uid"] != uid {
			t.Errorf("%s: uid %q, the federation's is %q", m.Name, cm.Data["uid"], uid)
		}
		p := cm.Data["provider-uid"]
		if other, dup := seen[p]; dup || p == "" {
			t.Errorf("%s: provider-uid %q, the same as %s's", m.Name, p, other)
		}
		seen[p] = m.Name
	}
}

func TestUserNamedAddressIsKept(t *testing.T) {
	const ns, name, own = "named", "named", "my-own-ip"
	ctx := context.Background()
	op, err := fed.Cloud.Service.GlobalAddresses.Insert(fed.Cloud.Project, &compute.Address{Name: own}).Context(ctx).Do()
	if err != nil || op.Error != nil {
		t.Fatalf("reserve %s: %v %v", own, err, op)
	}
	a, err := fed.Cloud.Service.GlobalAddresses.Get(fed.Cloud.Project, own).Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	createApp(t, ns, name, map[string]string{ingresslb.GlobalStaticIPAnnotation: own})
	uid := federationUID(t)
	port := nodePort(t, ns, fed.Members)
	waitOneLoadBalancer(t, ns, name, a.Address, uid, port, fed.Members)
	waitDeleted(t, ns, name)
	if _, err := fed.Cloud.Service.GlobalAddresses.Get(fed.Cloud.Project, own).Context(ctx).Do(); err != nil {
		t.Errorf("the user's address %s is gone: %v", own, err)
	}
}
