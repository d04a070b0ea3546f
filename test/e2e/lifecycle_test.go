package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
	"github.com/kfederation/federation/test/framework"
)

func clusterReady(ctx context.Context, name string) (bool, string, error) {
	fc, err := sharedFed.FederationClient()
	if err != nil {
		return false, "", err
	}
	c, err := fc.FederationV1beta1().Clusters().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false, "", err
	}
	for _, cond := range c.Status.Conditions {
		if cond.Type == federationv1beta1.ClusterReady {
			return cond.Status == federationv1beta1.ConditionTrue, cond.Reason, nil
		}
	}
	return false, "", nil
}

// TestMemberDownAndBack: a dead member is noticed within 10 s, gets nothing
// while down (and the propagation says why), keeps its objects, and
// receives what was created meanwhile when it is back.
func TestMemberDownAndBack(t *testing.T) {
	f := sharedFed
	ctx := context.Background()
	ns := "lifecycle-down"
	createNamespace(t, ns)
	m := f.Members[1]
	framework.Eventually(t, 30*time.Second, "namespace in "+m.Name, func(ctx context.Context) error {
		_, err := m.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return err
	})
	before := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "before", Namespace: ns}, Data: map[string]string{"a": "1"}}
	if _, err := f.Client.CoreV1().ConfigMaps(ns).Create(ctx, before, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "configmap in "+m.Name, func(ctx context.Context) error {
		_, err := m.Client.CoreV1().ConfigMaps(ns).Get(ctx, "before", metav1.GetOptions{})
		return err
	})

	m.APIServer.Kill()
	killed := time.Now()
	// Whatever happens below, the member comes back for the other tests.
	t.Cleanup(func() {
		if !m.APIServer.Running() {
			_ = m.APIServer.Start()
			_ = m.WaitReady(context.Background())
		}
	})
	framework.Eventually(t, 20*time.Second, m.Name+" noticed dead", func(ctx context.Context) error {
		ready, reason, err := clusterReady(ctx, m.Name)
		if err != nil {
			return err
		}
		if ready || reason != "ClusterNotReachable" {
			return fmt.Errorf("Ready=%v reason %s", ready, reason)
		}
		return nil
	})
	t.Logf("member %s noticed dead after %s", m.Name, time.Since(killed).Round(100*time.Millisecond))

	during := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "during", Namespace: ns}, Data: map[string]string{"a": "2"}}
	if _, err := f.Client.CoreV1().ConfigMaps(ns).Create(ctx, during, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 20*time.Second, "propagation pending for the dead member", func(ctx context.Context) error {
		states, err := propagationStates(ctx, ns, "configmap.during")
		if err != nil {
			return err
		}
		if s := states[m.Name]; s.State != federationv1beta1.PropagationPending || s.Reason != "ClusterNotReady" {
			return fmt.Errorf("state %+v", s)
		}
		return nil
	})

	if err := m.APIServer.Start(); err != nil {
		t.Fatal(err)
	}
	if err := m.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "member back: old object kept, new one arrived", func(ctx context.Context) error {
		if _, err := m.Client.CoreV1().ConfigMaps(ns).Get(ctx, "before", metav1.GetOptions{}); err != nil {
			return fmt.Errorf("before: %w", err)
		}
		_, err := m.Client.CoreV1().ConfigMaps(ns).Get(ctx, "during", metav1.GetOptions{})
		return err
	})
}

// TestAdoptionAndOrphaning: an object the member already had is adopted
// (updated to match, marked managed); deleting with orphan leaves the
// member copies, unmanaged.
func TestAdoptionAndOrphaning(t *testing.T) {
	f := sharedFed
	ctx := context.Background()
	ns := "lifecycle-adopt"
	createNamespace(t, ns)
	m := f.Members[0]
	framework.Eventually(t, 30*time.Second, "namespace in "+m.Name, func(ctx context.Context) error {
		_, err := m.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return err
	})
	// The namespace was adopted or created; the member's own ConfigMap of
	// the same name as a federated one gets adopted.
	local := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "shared", Namespace: ns, Labels: map[string]string{"local": "yes"}}, Data: map[string]string{"v": "local"}}
	if _, err := m.Client.CoreV1().ConfigMaps(ns).Create(ctx, local, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	fed := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "shared", Namespace: ns}, Data: map[string]string{"v": "federated"}}
	if _, err := f.Client.CoreV1().ConfigMaps(ns).Create(ctx, fed, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "member's object adopted", func(ctx context.Context) error {
		got, err := m.Client.CoreV1().ConfigMaps(ns).Get(ctx, "shared", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if got.Data["v"] != "federated" || got.Labels["federation.k8s.io/managed-by"] == "" || got.Labels["local"] != "yes" {
			return fmt.Errorf("member object %v %v", got.Labels, got.Data)
		}
		return nil
	})
	for _, mm := range f.Members {
		framework.Eventually(t, 30*time.Second, "copy in "+mm.Name, func(ctx context.Context) error {
			_, err := mm.Client.CoreV1().ConfigMaps(ns).Get(ctx, "shared", metav1.GetOptions{})
			return err
		})
	}

	orphan := metav1.DeletePropagationOrphan
	if err := f.Client.CoreV1().ConfigMaps(ns).Delete(ctx, "shared", metav1.DeleteOptions{PropagationPolicy: &orphan}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "gone from the federation", func(ctx context.Context) error {
		_, err := f.Client.CoreV1().ConfigMaps(ns).Get(ctx, "shared", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there: %v", err)
	})
	time.Sleep(2 * time.Second)
	for _, mm := range f.Members {
		got, err := mm.Client.CoreV1().ConfigMaps(ns).Get(ctx, "shared", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("orphaned copy in %s: %v", mm.Name, err)
		}
		if _, managed := got.Labels["federation.k8s.io/managed-by"]; managed {
			t.Errorf("orphaned copy in %s is still marked managed", mm.Name)
		}
	}
	framework.Eventually(t, 30*time.Second, "one DeleteInCluster event naming every member", func(ctx context.Context) error {
		return oneEventNamingMembers(ctx, ns, "shared", "DeleteInCluster")
	})
}

// TestNamespaceCascade: deleting a federated namespace deletes its
// contents in the federation and in every member, then the namespace in
// every member.
func TestNamespaceCascade(t *testing.T) {
	f := sharedFed
	ctx := context.Background()
	ns := "lifecycle-cascade"
	createNamespace(t, ns)
	// The second object is held in the federation by a finalizer of the
	// test's: the namespace cannot be emptied until the test lets it go.
	for _, cm := range []*corev1.ConfigMap{
		{ObjectMeta: metav1.ObjectMeta{Name: "inside", Namespace: ns}, Data: map[string]string{"a": "b"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "held", Namespace: ns, Finalizers: []string{"e2e.federation.k8s.io/hold"}}},
	} {
		if _, err := f.Client.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, m := range f.Members {
			framework.Eventually(t, 30*time.Second, cm.Name+" in "+m.Name, func(ctx context.Context) error {
				_, err := m.Client.CoreV1().ConfigMaps(ns).Get(ctx, cm.Name, metav1.GetOptions{})
				return err
			})
		}
	}
	if err := f.Client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// Each object's copies go first, deleted by the federation; the member
	// namespaces stay until the federation's namespace is empty.
	for _, m := range f.Members {
		framework.Eventually(t, 30*time.Second, "copies deleted from "+m.Name, func(ctx context.Context) error {
			for _, name := range []string{"inside", "held"} {
				if _, err := m.Client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					return fmt.Errorf("%s still there: %v", name, err)
				}
			}
			return nil
		})
	}
	time.Sleep(2 * time.Second)
	for _, m := range f.Members {
		got, err := m.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil || got.DeletionTimestamp != nil {
			t.Fatalf("namespace %s in %s deleted (%v) while the federation still holds an object in it", ns, m.Name, err)
		}
	}
	cur, err := f.Client.CoreV1().ConfigMaps(ns).Get(ctx, "held", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Finalizers = nil
	if _, err := f.Client.CoreV1().ConfigMaps(ns).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 90*time.Second, "namespace gone everywhere", func(ctx context.Context) error {
		if _, err := f.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("federation still has it: %v", err)
		}
		for _, m := range f.Members {
			if _, err := m.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				return fmt.Errorf("%s still has the namespace: %v", m.Name, err)
			}
		}
		return nil
	})
	// The namespace controller listed every resource of every group to
	// empty the namespace, the deprecated extensions/v1beta1 kinds among
	// them, before it let the namespace go: their warnings would be in the
	// controller manager's log by now.
	noDeprecationWarnings(t, f.ControllerManager.LogPath)
}

// noDeprecationWarnings fails if the log at path has a client-go
// deprecation warning: a controller that walks every group, as the
// namespace controller does, would otherwise log one per deprecated kind
// per walk, which says nothing to act on.
func noDeprecationWarnings(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the controller manager's log: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, "warnings.go") && strings.Contains(line, "deprecated") {
			t.Fatalf("the controller manager logs deprecation warnings (see %s), e.g.: %s", path, line)
		}
	}
}
