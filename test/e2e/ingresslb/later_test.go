package ingresslb

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"

	"github.com/kfederation/federation/pkg/controller/ingresslb"
	"github.com/kfederation/federation/test/framework"
)

// ownUID is the UID a member had before it joined, in use by an Ingress
// of its own.
const ownUID = "c0ffee0000000001"

// TestMemberJoiningLater: a member whose own different UID is in use is
// reported and left alone, and gets no GCE Ingress; once its own Ingress
// is gone it gets the federation's UID, and its nodes join the same load
// balancer.
func TestMemberJoiningLater(t *testing.T) {
	ctx := context.Background()
	late := fed.Member(zoneE)
	if err := fed.Unjoin(ctx, late); err != nil {
		t.Fatal(err)
	}
	rejoined := false
	t.Cleanup(func() {
		if !rejoined {
			join(t, late)
		}
	})
	early := []*framework.Member{fed.Member(zoneA), fed.Member(zoneB)}

	// The member's own GCE Ingress, under a UID of its own.
	setMemberUID(t, late, ownUID)
	createMemberIngress(t, late, "local", "mine")

	const ns, name = "later", "later"
	createApp(t, ns, name, nil)
	_, ip := addressOf(t, ns, name)
	uid := federationUID(t)
	port := nodePort(t, ns, early)
	waitOneLoadBalancer(t, ns, name, ip, uid, port, early)

	join(t, late)
	rejoined = true
	waitPropagation(t, ns, "ingress."+name, zoneE, federationv1beta1.PropagationPending, "is in use by its own Ingresses")
	waitClusterEvent(t, zoneE, ingresslb.ReasonUIDConflict)
	if got := memberUID(t, late); got != ownUID {
		t.Fatalf("the member's UID in use was changed to %q", got)
	}
	if _, err := late.Client.NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the federated Ingress reached a member whose UID is not the federation's (%v)", err)
	}

	// The member's own Ingress goes: the federation takes the member in.
	if err := late.Client.NetworkingV1().Ingresses("local").Delete(ctx, "mine", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, settle, "the late member's UID is the federation's", func(ctx context.Context) error {
		if got := memberUID(t, late); got != uid {
			return fmt.Errorf("uid %q, want %q", got, uid)
		}
		return nil
	})
	all := fed.Members
	nodePort(t, ns, all)
	waitOneLoadBalancer(t, ns, name, ip, uid, port, all)
	waitDeleted(t, ns, name)
}

// join joins m again; kubefed join refuses while the namespace the unjoin
// deleted is still going away.
func join(t *testing.T, m *framework.Member) {
	t.Helper()
	framework.Eventually(t, settle, "kubefed join "+m.Name, func(ctx context.Context) error {
		return fed.Join(ctx, m, nil)
	})
}

func setMemberUID(t *testing.T, m *framework.Member, uid string) {
	t.Helper()
	cm, err := m.Client.CoreV1().ConfigMaps("kube-system").Get(context.Background(), ingresslb.UIDConfigMap, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["uid"] = uid
	if _, err := m.Client.CoreV1().ConfigMaps("kube-system").Update(context.Background(), cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func memberUID(t *testing.T, m *framework.Member) string {
	t.Helper()
	cm, err := m.Client.CoreV1().ConfigMaps("kube-system").Get(context.Background(), ingresslb.UIDConfigMap, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm.Data["uid"]
}

// createMemberIngress creates straight in the member a NodePort Service
// and a GCE Ingress over it, and waits until its GLBC gave it an address.
func createMemberIngress(t *testing.T, m *framework.Member, ns, name string) {
	t.Helper()
	ctx := context.Background()
	if _, err := m.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": name}, Ports: []corev1.ServicePort{{Port: 80}}},
	}
	if _, err := m.Client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: map[string]string{ingresslb.IngressClassAnnotation: ingresslb.GCEClass}},
		Spec: networkingv1.IngressSpec{DefaultBackend: &networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: 80}},
		}},
	}
	if _, err := m.Client.NetworkingV1().Ingresses(ns).Create(ctx, ing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, settle, "the member's own Ingress has a load balancer", func(ctx context.Context) error {
		got, err := m.Client.NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if um := got.Annotations["ingress.kubernetes.io/url-map"]; !strings.HasSuffix(um, ownUID) || len(got.Status.LoadBalancer.Ingress) == 0 {
			return fmt.Errorf("url map %q, addresses %v", um, got.Status.LoadBalancer.Ingress)
		}
		return nil
	})
}

// waitPropagation waits until the Propagation name in ns says state for
// cluster, with a message containing msg.
func waitPropagation(t *testing.T, ns, name, cluster string, state federationv1beta1.PropagationState, msg string) {
	t.Helper()
	fc, err := fed.FederationClient()
	if err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, settle, fmt.Sprintf("Propagation %s/%s says %s for %s", ns, name, state, cluster), func(ctx context.Context) error {
		p, err := fc.FederationV1beta1().Propagations(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, e := range p.Status.Clusters {
			if e.Cluster == cluster {
				if e.State != state || !strings.Contains(e.Message, msg) {
					return fmt.Errorf("%s: %s %q", cluster, e.State, e.Message)
				}
				return nil
			}
		}
		return fmt.Errorf("no entry for %s", cluster)
	})
}

// waitClusterEvent waits for an event of reason on the Cluster.
func waitClusterEvent(t *testing.T, cluster, reason string) {
	t.Helper()
	framework.Eventually(t, settle, "event "+reason+" on Cluster "+cluster, func(ctx context.Context) error {
		events, err := fed.Client.CoreV1().Events("").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + cluster + ",reason=" + reason})
		if err != nil {
			return err
		}
		if len(events.Items) == 0 {
			return fmt.Errorf("none yet")
		}
		return nil
	})
}
