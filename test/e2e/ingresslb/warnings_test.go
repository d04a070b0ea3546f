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

	"github.com/kfederation/federation/pkg/controller/ingresslb"
	"github.com/kfederation/federation/test/framework"
)

// TestBackendWarnings: a backend Service that is not federated, one
// without node ports, and a node port a member has given to another
// Service each say so in an event.
func TestBackendWarnings(t *testing.T) {
	const ns, taken = "warnings", 30999
	ctx := context.Background()
	if _, err := fed.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	// us-central1-b gave the node port to a Service of its own.
	squatterNS := "squatter"
	m := fed.Member(zoneB)
	if _, err := m.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: squatterNS}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	squatter := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "squatter", Namespace: squatterNS},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": "x"}, Ports: []corev1.ServicePort{{Port: 80, NodePort: taken}}},
	}
	if _, err := m.Client.CoreV1().Services(squatterNS).Create(ctx, squatter, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	services := []*corev1.Service{
		{ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: ns}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "plain"}, Ports: []corev1.ServicePort{{Port: 80}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "pinned", Namespace: ns}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": "pinned"}, Ports: []corev1.ServicePort{{Port: 80, NodePort: taken}}}},
	}
	for _, svc := range services {
		if _, err := fed.Client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	path := func(p, svc string) networkingv1.HTTPIngressPath {
		return networkingv1.HTTPIngressPath{Path: p, PathType: ptrTo(networkingv1.PathTypePrefix), Backend: networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Number: 80}},
		}}
	}
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "warn", Namespace: ns},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{path("/ghost", "ghost"), path("/plain", "plain"), path("/pinned", "pinned")},
		}}}}},
	}
	if _, err := fed.Client.NetworkingV1().Ingresses(ns).Create(ctx, ing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ns, "warn", ingresslb.ReasonBackendNotFed, "ghost")
	waitEvent(t, ns, "warn", ingresslb.ReasonBackendNoNodePort, "of type ClusterIP")
	waitEvent(t, ns, "pinned", "FailedInCluster", zoneB)
	waitDeleted(t, ns, "warn")
}

func ptrTo[T any](v T) *T { return &v }

// waitEvent waits for an event of reason on the federated object name in
// ns whose message contains msg.
func waitEvent(t *testing.T, ns, name, reason, msg string) {
	t.Helper()
	framework.Eventually(t, settle, fmt.Sprintf("event %s on %s/%s", reason, ns, name), func(ctx context.Context) error {
		events, err := fed.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + name + ",reason=" + reason})
		if err != nil {
			return err
		}
		for _, e := range events.Items {
			if strings.Contains(e.Message, msg) {
				return nil
			}
		}
		return fmt.Errorf("%d events of that reason, none saying %q", len(events.Items), msg)
	})
}
