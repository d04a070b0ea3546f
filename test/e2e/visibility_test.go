package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"

	"github.com/kfederation/federation/test/framework"
)

func createNamespace(t *testing.T, name string) {
	t.Helper()
	if _, err := sharedFed.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(framework.Binary("kubectl"), append([]string{"--kubeconfig", sharedFed.Kubeconfig, "--context", framework.FederationContext}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func propagationStates(ctx context.Context, namespace, name string) (map[string]federationv1beta1.ClusterPropagation, error) {
	fc, err := sharedFed.FederationClient()
	if err != nil {
		return nil, err
	}
	p, err := fc.FederationV1beta1().Propagations(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	out := map[string]federationv1beta1.ClusterPropagation{}
	for _, c := range p.Status.Clusters {
		out[c.Cluster] = c
	}
	return out, nil
}

// TestClusterSelectorAndPropagationTable: an object with a cluster selector
// goes only to matching clusters, `kubectl get propagations` says where it
// went, and relabelling a cluster moves it.
func TestClusterSelectorAndPropagationTable(t *testing.T) {
	f := sharedFed
	ctx := context.Background()
	ns := "visibility-selector"
	createNamespace(t, ns)
	fc, err := f.FederationClient()
	if err != nil {
		t.Fatal(err)
	}
	us, eu := f.Members[0], f.Members[1]
	patch := []byte(`{"metadata":{"labels":{"environment":"prod"}}}`)
	if _, err := fc.FederationV1beta1().Clusters().Patch(ctx, us.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = fc.FederationV1beta1().Clusters().Patch(context.Background(), us.Name, types.MergePatchType, []byte(`{"metadata":{"labels":{"environment":null}}}`), metav1.PatchOptions{})
	})
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "prod-only", Namespace: ns, Annotations: map[string]string{
			"federation.alpha.kubernetes.io/cluster-selector": `[{"key":"environment","operator":"In","values":["prod"]}]`,
		}},
		Data: map[string]string{"a": "b"},
	}
	if _, err := f.Client.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "only the prod cluster has it, and the propagation says so", func(ctx context.Context) error {
		if _, err := us.Client.CoreV1().ConfigMaps(ns).Get(ctx, "prod-only", metav1.GetOptions{}); err != nil {
			return err
		}
		if _, err := eu.Client.CoreV1().ConfigMaps(ns).Get(ctx, "prod-only", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("%s has it too: %v", eu.Name, err)
		}
		states, err := propagationStates(ctx, ns, "configmap.prod-only")
		if err != nil {
			return err
		}
		if states[us.Name].State != federationv1beta1.PropagationPropagated || states[eu.Name].State != federationv1beta1.PropagationExcluded {
			return fmt.Errorf("propagation states %+v", states)
		}
		return nil
	})
	out := kubectl(t, "get", "propagations", "-n", ns)
	if !strings.Contains(out, "configmap.prod-only") || !strings.Contains(out, "1/1") {
		t.Fatalf("kubectl get propagations:\n%s", out)
	}

	// The selector is the cluster's labels: relabel and the copy moves.
	if _, err := fc.FederationV1beta1().Clusters().Patch(ctx, eu.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := fc.FederationV1beta1().Clusters().Patch(ctx, us.Name, types.MergePatchType, []byte(`{"metadata":{"labels":{"environment":"dev"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = fc.FederationV1beta1().Clusters().Patch(context.Background(), eu.Name, types.MergePatchType, []byte(`{"metadata":{"labels":{"environment":null}}}`), metav1.PatchOptions{})
	})
	framework.Eventually(t, 30*time.Second, "the copy moved to the newly matching cluster", func(ctx context.Context) error {
		if _, err := eu.Client.CoreV1().ConfigMaps(ns).Get(ctx, "prod-only", metav1.GetOptions{}); err != nil {
			return err
		}
		if _, err := us.Client.CoreV1().ConfigMaps(ns).Get(ctx, "prod-only", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("%s still has it: %v", us.Name, err)
		}
		return nil
	})
}

// TestMemberRejectingWrites: a member that refuses the copy (here a quota)
// is reported as Failed with the member's own message, in an event and in
// the propagation, while the other member gets its copy.
func TestMemberRejectingWrites(t *testing.T) {
	f := sharedFed
	ctx := context.Background()
	ns := "visibility-rejected"
	createNamespace(t, ns)
	bad, good := f.Members[0], f.Members[1]
	framework.Eventually(t, 30*time.Second, "namespace in "+bad.Name, func(ctx context.Context) error {
		_, err := bad.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return err
	})
	quota := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "no-secrets", Namespace: ns},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"count/secrets": resource.MustParse("0")}},
	}
	if _, err := bad.Client.CoreV1().ResourceQuotas(ns).Create(ctx, quota, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "quota in force", func(ctx context.Context) error {
		q, err := bad.Client.CoreV1().ResourceQuotas(ns).Get(ctx, "no-secrets", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if _, ok := q.Status.Hard["count/secrets"]; !ok {
			return fmt.Errorf("quota status not computed yet")
		}
		return nil
	})
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "token", Namespace: ns}, StringData: map[string]string{"k": "v"}}
	if _, err := f.Client.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "the good member has it", func(ctx context.Context) error {
		_, err := good.Client.CoreV1().Secrets(ns).Get(ctx, "token", metav1.GetOptions{})
		return err
	})
	framework.Eventually(t, 30*time.Second, "failure reported with the member's message", func(ctx context.Context) error {
		states, err := propagationStates(ctx, ns, "secret.token")
		if err != nil {
			return err
		}
		s := states[bad.Name]
		if s.State != federationv1beta1.PropagationFailed || !strings.Contains(s.Message, "exceeded quota") {
			return fmt.Errorf("state in %s: %+v", bad.Name, s)
		}
		if states[good.Name].State != federationv1beta1.PropagationPropagated {
			return fmt.Errorf("state in %s: %+v", good.Name, states[good.Name])
		}
		events, err := f.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=token,reason=FailedInCluster"})
		if err != nil {
			return err
		}
		for _, e := range events.Items {
			if strings.Contains(e.Message, bad.Name) && strings.Contains(e.Message, "exceeded quota") {
				return nil
			}
		}
		return fmt.Errorf("no FailedInCluster event naming %s and the quota", bad.Name)
	})
	// Once the member allows it, the copy arrives.
	if err := bad.Client.CoreV1().ResourceQuotas(ns).Delete(ctx, "no-secrets", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 60*time.Second, "copy arrives after the quota is lifted", func(ctx context.Context) error {
		_, err := bad.Client.CoreV1().Secrets(ns).Get(ctx, "token", metav1.GetOptions{})
		return err
	})
}
