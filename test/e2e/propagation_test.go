package e2e

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/kfederation/federation/pkg/federatedtypes"
	"github.com/kfederation/federation/test/framework"
)

var sharedFed *framework.Federation

// TestMain starts one federation of two members for the whole package, so
// that tests share its start-up cost.
func TestMain(m *testing.M) {
	os.Exit(framework.RunMain(m, framework.MainOptions{
		Register: true,
		Options: framework.Options{
			Members: []framework.MemberOptions{
				{Name: "us-central1-a", Zone: "us-central1-a", Region: "us-central1"},
				{Name: "europe-west1-b", Zone: "europe-west1-b", Region: "europe-west1"},
			},
			// A member write may take 30s (the default is 10s), so that
			// TestSlowMemberDoesNotHoldUpTheOthers can hold a member's
			// writes that long without them failing.
			ControllerManagerArgs: []string{"--leader-elect=false", "-v=2", "--member-request-timeout=30s"},
		},
	}, func(f *framework.Federation) { sharedFed = f }))
}

func TestConfigMapPropagatesUpdatesRevertsDriftAndDeletes(t *testing.T) {
	f := sharedFed
	ctx := context.Background()
	ns := "propagation-cm"
	if _, err := f.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: ns, Labels: map[string]string{"app": "web"}}, Data: map[string]string{"color": "blue"}}
	created, err := f.Client.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The apiserver puts the deletion finalizer on at create: the
	// controller need not write the object again.
	if !slices.Contains(created.Finalizers, federatedtypes.Finalizer) {
		t.Errorf("created object's finalizers = %v, want %s from the FederationFinalizer admission plugin", created.Finalizers, federatedtypes.Finalizer)
	}
	for _, m := range f.Members {
		framework.Eventually(t, 30*time.Second, "configmap in "+m.Name, func(ctx context.Context) error {
			got, err := m.Client.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if got.Data["color"] != "blue" || got.Labels["app"] != "web" {
				return fmt.Errorf("member copy is %v %v", got.Labels, got.Data)
			}
			return nil
		})
	}

	// An update in the federation reaches every member.
	cur, err := f.Client.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Data["color"] = "green"
	if _, err := f.Client.CoreV1().ConfigMaps(ns).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, m := range f.Members {
		framework.Eventually(t, 30*time.Second, "update in "+m.Name, func(ctx context.Context) error {
			got, err := m.Client.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if got.Data["color"] != "green" {
				return fmt.Errorf("color is %q", got.Data["color"])
			}
			return nil
		})
	}

	// Drift in a member is reverted; a deleted member copy comes back.
	m := f.Members[0]
	drifted, err := m.Client.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	drifted.Data["color"] = "red"
	if _, err := m.Client.CoreV1().ConfigMaps(ns).Update(ctx, drifted, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "drift reverted", func(ctx context.Context) error {
		got, err := m.Client.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if got.Data["color"] != "green" {
			return fmt.Errorf("color is %q", got.Data["color"])
		}
		return nil
	})
	if err := m.Client.CoreV1().ConfigMaps(ns).Delete(ctx, "settings", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "deleted copy recreated", func(ctx context.Context) error {
		_, err := m.Client.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
		return err
	})

	// Deleting in the federation deletes every member copy, then the object.
	if err := f.Client.CoreV1().ConfigMaps(ns).Delete(ctx, "settings", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, m := range f.Members {
		framework.Eventually(t, 30*time.Second, "deleted from "+m.Name, func(ctx context.Context) error {
			_, err := m.Client.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("still there: %v", err)
		})
	}
	framework.Eventually(t, 30*time.Second, "gone from the federation", func(ctx context.Context) error {
		_, err := f.Client.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there: %v", err)
	})
	// One event tells of the deletion in every member.
	framework.Eventually(t, 30*time.Second, "one DeleteInCluster event naming every member", func(ctx context.Context) error {
		return oneEventNamingMembers(ctx, ns, "settings", "DeleteInCluster")
	})
}

// oneEventNamingMembers says whether the object name in ns has exactly one
// event of reason, and its message names every member cluster.
func oneEventNamingMembers(ctx context.Context, ns, name, reason string) error {
	events, err := sharedFed.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + name + ",reason=" + reason})
	if err != nil {
		return err
	}
	if len(events.Items) != 1 {
		var msgs []string
		for _, e := range events.Items {
			msgs = append(msgs, e.Message)
		}
		return fmt.Errorf("%d %s events: %q", len(events.Items), reason, msgs)
	}
	for _, m := range sharedFed.Members {
		if !strings.Contains(events.Items[0].Message, m.Name) {
			return fmt.Errorf("%s event %q does not name cluster %s", reason, events.Items[0].Message, m.Name)
		}
	}
	return nil
}

func TestDeploymentSplitsReplicasAndAggregatesStatus(t *testing.T) {
	f := sharedFed
	ctx := context.Background()
	ns := "propagation-deploy"
	if _, err := f.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](5),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
	if _, err := f.Client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 60*time.Second, "5 replicas split over 2 members, all ready, status summed", func(ctx context.Context) error {
		var total int32
		for _, m := range f.Members {
			got, err := m.Client.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if r := *got.Spec.Replicas; r != 2 && r != 3 {
				return fmt.Errorf("%s has %d replicas, want 2 or 3", m.Name, r)
			}
			total += *got.Spec.Replicas
		}
		if total != 5 {
			return fmt.Errorf("members have %d replicas in total", total)
		}
		fed, err := f.Client.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if fed.Status.ReadyReplicas != 5 || fed.Status.ObservedGeneration != fed.Generation {
			return fmt.Errorf("federated status %+v, generation %d", fed.Status, fed.Generation)
		}
		return nil
	})
	// The propagation shows the plan and the ready count per cluster.
	framework.Eventually(t, 30*time.Second, "planned and ready replicas per cluster in the propagation", func(ctx context.Context) error {
		states, err := propagationStates(ctx, ns, "deployment.web")
		if err != nil {
			return err
		}
		var planned, ready int64
		for _, m := range f.Members {
			s := states[m.Name]
			if s.Replicas == nil || s.ReadyReplicas == nil {
				return fmt.Errorf("%s: %+v", m.Name, s)
			}
			planned += *s.Replicas
			ready += *s.ReadyReplicas
		}
		if planned != 5 || ready != 5 {
			return fmt.Errorf("planned %d, ready %d", planned, ready)
		}
		return nil
	})
	if out := kubectl(t, "get", "propagations", "-n", ns, "-o", "wide"); !strings.Contains(out, "/3") || !strings.Contains(out, "/2") {
		t.Errorf("wide output lacks the per-cluster replicas:\n%s", out)
	}

	// A template change rolls out in every cluster, and kubectl rollout
	// status against the federation waits for all of them.
	kubectl(t, "-n", ns, "set", "image", "deployment/web", "web=nginx:1.27")
	out := kubectl(t, "-n", ns, "rollout", "status", "deployment/web", "--timeout=90s")
	if !strings.Contains(out, "successfully rolled out") {
		t.Fatalf("rollout status: %s", out)
	}
	for _, m := range f.Members {
		got, err := m.Client.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if img := got.Spec.Template.Spec.Containers[0].Image; img != "nginx:1.27" {
			t.Errorf("%s runs %s after the rollout", m.Name, img)
		}
		if got.Status.UpdatedReplicas != *got.Spec.Replicas || got.Status.ObservedGeneration != got.Generation {
			t.Errorf("%s not rolled out: %+v", m.Name, got.Status)
		}
	}
}

func TestServiceKeepsMemberAllocationsAndUserNodePort(t *testing.T) {
	f := sharedFed
	ctx := context.Background()
	ns := "propagation-svc"
	if _, err := f.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeNodePort,
			Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{
				{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), NodePort: 30080},
				{Name: "admin", Port: 9000},
			},
		},
	}
	if _, err := f.Client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, m := range f.Members {
		framework.Eventually(t, 30*time.Second, "service in "+m.Name, func(ctx context.Context) error {
			got, err := m.Client.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if got.Spec.ClusterIP == "" || got.Spec.Ports[0].NodePort != 30080 || got.Spec.Ports[1].NodePort == 0 {
				return fmt.Errorf("member service spec %+v", got.Spec)
			}
			return nil
		})
	}
	fed, err := f.Client.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fed.Spec.ClusterIP != "" || fed.Spec.Ports[1].NodePort != 0 || fed.Spec.Ports[0].NodePort != 30080 {
		t.Fatalf("the federation allocated or lost something: %+v", fed.Spec)
	}
	// Member allocations are not drift: nothing is written again.
	before := map[string]string{}
	for _, m := range f.Members {
		got, _ := m.Client.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
		before[m.Name] = got.ResourceVersion
	}
	time.Sleep(3 * time.Second)
	for _, m := range f.Members {
		got, _ := m.Client.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
		if got.ResourceVersion != before[m.Name] {
			t.Errorf("service in %s was rewritten although nothing changed", m.Name)
		}
	}
}

func TestLoadBalancerAddressesAreUnioned(t *testing.T) {
	f := sharedFed
	ctx := context.Background()
	ns := "propagation-lb"
	if _, err := f.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeLoadBalancer,
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Port: 80}},
		},
	}
	if _, err := f.Client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "service status lists every member's load balancer", func(ctx context.Context) error {
		want := map[string]bool{}
		for _, m := range f.Members {
			got, err := m.Client.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if len(got.Status.LoadBalancer.Ingress) != 1 {
				return fmt.Errorf("%s has no load balancer yet", m.Name)
			}
			want[got.Status.LoadBalancer.Ingress[0].IP] = true
		}
		fed, err := f.Client.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if len(fed.Status.LoadBalancer.Ingress) != len(want) {
			return fmt.Errorf("federated status %v, members %v", fed.Status.LoadBalancer.Ingress, want)
		}
		for i, ing := range fed.Status.LoadBalancer.Ingress {
			if !want[ing.IP] || (i > 0 && fed.Status.LoadBalancer.Ingress[i-1].IP >= ing.IP) {
				return fmt.Errorf("federated status %v not the sorted union of %v", fed.Status.LoadBalancer.Ingress, want)
			}
		}
		return nil
	})

	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns, Annotations: map[string]string{framework.GlobalStaticIPAnnotation: "web-global"}},
		Spec: networkingv1.IngressSpec{DefaultBackend: &networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}},
		}},
	}
	if _, err := f.Client.NetworkingV1().Ingresses(ns).Create(ctx, ing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "one global address for the ingress", func(ctx context.Context) error {
		fed, err := f.Client.NetworkingV1().Ingresses(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if len(fed.Status.LoadBalancer.Ingress) != 1 {
			return fmt.Errorf("federated ingress status %v, want one shared address", fed.Status.LoadBalancer.Ingress)
		}
		return nil
	})
}
