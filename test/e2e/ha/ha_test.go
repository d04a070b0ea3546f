// Package ha tests two federation-controller-manager replicas: one acts,
// and when it dies the other takes over without losing or duplicating work.
package ha

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kfederation/federation/test/framework"
)

func TestLeaderFailover(t *testing.T) {
	f := framework.StartForTest(t, framework.Options{
		NoControllerManager: true,
		Members:             []framework.MemberOptions{{Name: "m1", Zone: "z1", Region: "r1"}},
	})
	ctx := context.Background()
	if err := f.RegisterAll(ctx); err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(f.Dir, "cm.kubeconfig")
	if err := framework.WriteKubeconfig(kubeconfig, f.Endpoint); err != nil {
		t.Fatal(err)
	}
	replica := func(name string) *framework.Process {
		return framework.NewProcess(name, framework.Binary("federation-controller-manager"), []string{
			"--kubeconfig=" + kubeconfig, "--secure-port=0", "--leader-elect=true",
			"--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline=3s", "--leader-elect-retry-period=500ms",
		}, f.LogDir)
	}
	a, b := replica("controller-manager-a"), replica("controller-manager-b")
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop(5 * time.Second) })
	if err := f.WaitClustersReady(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(5 * time.Second) })

	m := f.Members[0]
	create := func(name string) {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Data: map[string]string{"v": name}}
		if _, err := f.Client.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	create("before")
	framework.Eventually(t, 30*time.Second, "propagated by the first leader", func(ctx context.Context) error {
		_, err := m.Client.CoreV1().ConfigMaps("default").Get(ctx, "before", metav1.GetOptions{})
		return err
	})

	// The leader dies without releasing its lease; objects created while
	// no one leads must all arrive once the other replica takes over.
	a.Kill()
	killed := time.Now()
	for i := 0; i < 20; i++ {
		create(fmt.Sprintf("during-%d", i))
	}
	framework.Eventually(t, 60*time.Second, "the standby took over and propagated everything", func(ctx context.Context) error {
		for i := 0; i < 20; i++ {
			if _, err := m.Client.CoreV1().ConfigMaps("default").Get(ctx, fmt.Sprintf("during-%d", i), metav1.GetOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
	t.Logf("standby propagated 20 objects %s after the leader died", time.Since(killed).Round(100*time.Millisecond))

	// Nothing was done twice: no copy was created over an existing one.
	events, err := f.Client.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "reason=FailedInCluster"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.Items) > 0 {
		t.Errorf("failures after the leader change: %v", events.Items[0].Message)
	}
	lease, err := f.Client.CoordinationV1().Leases("federation-system").Get(ctx, "federation-controller-manager", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if lease.Spec.LeaseTransitions == nil || *lease.Spec.LeaseTransitions < 1 {
		t.Errorf("lease shows no leader change: %+v", lease.Spec)
	}
}

// TestDisabledControllerLetsDeletedObjectsGo runs a controller manager with
// the configmap controller turned off: the apiserver still puts the
// federation's finalizer on new ConfigMaps, and deleting one must not wait
// for a sync that never comes. The kinds still on keep propagating.
func TestDisabledControllerLetsDeletedObjectsGo(t *testing.T) {
	f := framework.StartForTest(t, framework.Options{
		NoControllerManager:        true,
		ControllerManagerElsewhere: true,
		Members:                    []framework.MemberOptions{{Name: "m1", Zone: "z1", Region: "r1"}},
	})
	ctx := context.Background()
	if err := f.RegisterAll(ctx); err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(f.Dir, "cm.kubeconfig")
	if err := framework.WriteKubeconfig(kubeconfig, f.Endpoint); err != nil {
		t.Fatal(err)
	}
	cm := framework.NewProcess("controller-manager", framework.Binary("federation-controller-manager"), []string{
		"--kubeconfig=" + kubeconfig, "--secure-port=0", "--leader-elect=false", "--controllers=*,-configmap",
	}, f.LogDir)
	if err := cm.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cm.Stop(5 * time.Second) })
	if err := f.WaitClustersReady(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	m := f.Members[0]

	created, err := f.Client.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "unmanaged"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(created.Finalizers) == 0 {
		t.Fatalf("a new ConfigMap has no finalizer; this test needs the FederationFinalizer admission plugin on")
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "managed"}, StringData: map[string]string{"k": "v"}}
	if _, err := f.Client.CoreV1().Secrets("default").Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "the secret controller, still on, propagated its Secret", func(ctx context.Context) error {
		_, err := m.Client.CoreV1().Secrets("default").Get(ctx, "managed", metav1.GetOptions{})
		return err
	})
	if _, err := m.Client.CoreV1().ConfigMaps("default").Get(ctx, "unmanaged", metav1.GetOptions{}); err == nil {
		t.Errorf("the ConfigMap reached the member although its controller is off")
	}

	if err := f.Client.CoreV1().ConfigMaps("default").Delete(ctx, "unmanaged", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "the deleted ConfigMap is gone from the federation", func(ctx context.Context) error {
		got, err := f.Client.CoreV1().ConfigMaps("default").Get(ctx, "unmanaged", metav1.GetOptions{})
		if err == nil {
			return fmt.Errorf("still there, finalizers %v", got.Finalizers)
		}
		if !apierrors.IsNotFound(err) {
			return err
		}
		return nil
	})
}
