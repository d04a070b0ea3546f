// Package placement tests replica placement on a real federation of three
// member clusters: preferences reflected in the member copies, replicas
// that do not fit in one cluster moved to others, and failover when a
// member dies, without flapping when it comes back.
package placement

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kfederation/federation/pkg/apis/federation/annotations"
	"github.com/kfederation/federation/pkg/controller/placement"
	"github.com/kfederation/federation/test/framework"
)

// Member names. small has one node with room for two pods of one CPU.
const (
	small  = "us-central1-a"
	second = "us-central1-b"
	third  = "europe-west1-b"
)

var fed *framework.Federation

func TestMain(m *testing.M) {
	os.Exit(framework.RunMain(m, framework.MainOptions{
		Register: true,
		Options: framework.Options{
			Members: []framework.MemberOptions{
				{Name: small, Zone: small, Region: "us-central1", Nodes: 1, NodeCPU: "2", NodeMemory: "8Gi", NodePods: 110},
				{Name: second, Zone: second, Region: "us-central1"},
				{Name: third, Zone: third, Region: "europe-west1"},
			},
			ControllerManagerArgs: []string{"--leader-elect=false", "--unschedulable-threshold=5s", "-v=2"},
		},
	}, func(f *framework.Federation) { fed = f }))
}

func createNamespace(t *testing.T, ns string) {
	t.Helper()
	if _, err := fed.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// replicaSet is a ReplicaSet of app=name whose pods ask for cpu.
func replicaSet(ns, name string, replicas int32, prefs, cpu string) *appsv1.ReplicaSet {
	labels := map[string]string{"app": name}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
	if prefs != "" {
		rs.Annotations = map[string]string{annotations.ReplicaSetPreferences: prefs}
	}
	if cpu != "" {
		rs.Spec.Template.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
	}
	return rs
}

// memberReplicas returns spec.replicas of the member copies of a
// ReplicaSet, by member; a member without a copy is absent.
func memberReplicas(ctx context.Context, ns, name string, members ...*framework.Member) (map[string]int32, error) {
	out := map[string]int32{}
	for _, m := range members {
		rs, err := m.Client.AppsV1().ReplicaSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Name, err)
		}
		out[m.Name] = ptr.Deref(rs.Spec.Replicas, 1)
	}
	return out, nil
}

func sameReplicas(got, want map[string]int32) error {
	for name, n := range want {
		if got[name] != n {
			return fmt.Errorf("member copies have %v, want %v", got, want)
		}
	}
	return nil
}

// fullyReady says whether the federated ReplicaSet reports all its
// replicas Ready, and the member copies of members have them all Ready:
// the federated status is written a moment after the copies, and may
// still be the old one.
func fullyReady(ctx context.Context, ns, name string, members ...*framework.Member) error {
	var ready int32
	for _, m := range members {
		cp, err := m.Client.AppsV1().ReplicaSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("%s: %w", m.Name, err)
		}
		if cp.Status.ReadyReplicas != ptr.Deref(cp.Spec.Replicas, 1) {
			return fmt.Errorf("the copy in %s has %d of %d replicas Ready", m.Name, cp.Status.ReadyReplicas, ptr.Deref(cp.Spec.Replicas, 1))
		}
		ready += cp.Status.ReadyReplicas
	}
	rs, err := fed.Client.AppsV1().ReplicaSets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if rs.Status.ReadyReplicas != ptr.Deref(rs.Spec.Replicas, 1) {
		return fmt.Errorf("federated ReplicaSet has %d of %d replicas Ready", rs.Status.ReadyReplicas, ptr.Deref(rs.Spec.Replicas, 1))
	}
	if ready != rs.Status.ReadyReplicas {
		return fmt.Errorf("the members have %d replicas Ready, the federated status says %d", ready, rs.Status.ReadyReplicas)
	}
	return nil
}

// movedEvent finds a ReplicasMoved event on the federated object that
// says why.
func movedEvent(ctx context.Context, ns, name, why string) error {
	events, err := fed.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	var seen []string
	for _, e := range events.Items {
		if e.InvolvedObject.Name != name || e.InvolvedObject.Kind != "ReplicaSet" {
			continue
		}
		seen = append(seen, e.Reason+": "+e.Message)
		if e.Reason == placement.ReasonReplicasMoved && strings.Contains(e.Message, why) {
			return nil
		}
	}
	return fmt.Errorf("no %s event saying %q; events: %q", placement.ReasonReplicasMoved, why, seen)
}

// TestPreferencesReachTheMembers: weights, minimums and maximums decide
// each member copy's spec.replicas, and clusters the preferences do not
// cover get none.
func TestPreferencesReachTheMembers(t *testing.T) {
	ctx := context.Background()
	ns := "placement-prefs"
	createNamespace(t, ns)

	// Minimums first (4 in small), then 9 by weight 1:1:2; third's share
	// of 4.5 is cut to its maximum of 3 and the rest shared by the others.
	prefs := fmt.Sprintf(`{"rebalance": true, "clusters": {"*": {"weight": 1}, %q: {"minReplicas": 4, "weight": 1}, %q: {"weight": 2, "maxReplicas": 3}}}`, small, third)
	if _, err := fed.Client.AppsV1().ReplicaSets(ns).Create(ctx, replicaSet(ns, "weighted", 13, prefs, ""), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 60*time.Second, "weighted split in the members, all Ready", func(ctx context.Context) error {
		got, err := memberReplicas(ctx, ns, "weighted", fed.Members...)
		if err != nil {
			return err
		}
		if err := sameReplicas(got, map[string]int32{small: 7, second: 3, third: 3}); err != nil {
			return err
		}
		return fullyReady(ctx, ns, "weighted", fed.Members...)
	})

	// Only second is covered: the others get none.
	only := fmt.Sprintf(`{"clusters": {%q: {"weight": 1}}}`, second)
	if _, err := fed.Client.AppsV1().ReplicaSets(ns).Create(ctx, replicaSet(ns, "pinned", 5, only, ""), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 60*time.Second, "all replicas in the one covered member", func(ctx context.Context) error {
		got, err := memberReplicas(ctx, ns, "pinned", fed.Members...)
		if err != nil {
			return err
		}
		if err := sameReplicas(got, map[string]int32{small: 0, second: 5, third: 0}); err != nil {
			return err
		}
		return fullyReady(ctx, ns, "pinned", fed.Members...)
	})
}

// TestUnschedulableReplicasMove: small runs only two pods of one CPU; the
// replicas it cannot run move to the others after the unschedulable
// threshold, and the federated ReplicaSet becomes fully Ready.
func TestUnschedulableReplicasMove(t *testing.T) {
	ctx := context.Background()
	ns := "placement-capacity"
	createNamespace(t, ns)
	if _, err := fed.Client.AppsV1().ReplicaSets(ns).Create(ctx, replicaSet(ns, "big", 9, "", "1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "first an even split", func(ctx context.Context) error {
		got, err := memberReplicas(ctx, ns, "big", fed.Members...)
		if err != nil {
			return err
		}
		return sameReplicas(got, map[string]int32{small: 3, second: 3, third: 3})
	})
	framework.Eventually(t, 90*time.Second, "replicas that do not fit moved, all Ready", func(ctx context.Context) error {
		got, err := memberReplicas(ctx, ns, "big", fed.Members...)
		if err != nil {
			return err
		}
		if got[small] != 2 || got[second]+got[third] != 7 {
			return fmt.Errorf("member copies have %v; want 2 in %s, the other 7 elsewhere (if %s keeps 3, is the sync controller subscribed to the planner's OnChange?)", got, small, small)
		}
		return fullyReady(ctx, ns, "big", fed.Members...)
	})
	framework.Eventually(t, 10*time.Second, "a ReplicasMoved event", func(ctx context.Context) error {
		return movedEvent(ctx, ns, "big", "pods Unschedulable in "+small)
	})
}

// TestFailoverWithoutFlapping: a dead member's replicas move to the
// others and become Ready; when it comes back, without rebalance, they
// stay where they went.
func TestFailoverWithoutFlapping(t *testing.T) {
	ctx := context.Background()
	ns := "placement-failover"
	createNamespace(t, ns)
	prefs := `{"rebalance": false, "clusters": {"*": {"weight": 1}}}`
	if _, err := fed.Client.AppsV1().ReplicaSets(ns).Create(ctx, replicaSet(ns, "web", 6, prefs, ""), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 60*time.Second, "2 replicas in every member, all Ready", func(ctx context.Context) error {
		got, err := memberReplicas(ctx, ns, "web", fed.Members...)
		if err != nil {
			return err
		}
		if err := sameReplicas(got, map[string]int32{small: 2, second: 2, third: 2}); err != nil {
			return err
		}
		return fullyReady(ctx, ns, "web", fed.Members...)
	})

	dead := fed.Member(second)
	survivors := []*framework.Member{fed.Member(small), fed.Member(third)}
	for _, p := range []*framework.Process{dead.Kwok, dead.Scheduler, dead.ControllerManager} {
		if err := p.Stop(10 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	dead.APIServer.Kill()
	killed := time.Now()
	framework.Eventually(t, 60*time.Second, "replicas moved to the survivors, all Ready", func(ctx context.Context) error {
		got, err := memberReplicas(ctx, ns, "web", survivors...)
		if err != nil {
			return err
		}
		if err := sameReplicas(got, map[string]int32{small: 3, third: 3}); err != nil {
			return err
		}
		return fullyReady(ctx, ns, "web", survivors...)
	})
	t.Logf("replicas Ready on the survivors %s after the member died", time.Since(killed).Round(100*time.Millisecond))
	framework.Eventually(t, 10*time.Second, "a ReplicasMoved event", func(ctx context.Context) error {
		return movedEvent(ctx, ns, "web", "from "+second+" to ")
	})
	if err := movedEvent(ctx, ns, "web", "cluster no longer Ready or selected"); err != nil {
		t.Error(err)
	}

	// Back: API server first, then what runs pods.
	if err := dead.APIServer.Start(); err != nil {
		t.Fatal(err)
	}
	if err := dead.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*framework.Process{dead.ControllerManager, dead.Scheduler, dead.Kwok} {
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
	}
	if err := fed.WaitClustersReady(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	// Its old copy, still asking for 2, is brought down to 0; the
	// survivors keep theirs.
	framework.Eventually(t, 60*time.Second, "the returning member's copy emptied", func(ctx context.Context) error {
		got, err := memberReplicas(ctx, ns, "web", fed.Members...)
		if err != nil {
			return err
		}
		return sameReplicas(got, map[string]int32{small: 3, second: 0, third: 3})
	})
	// And it stays so.
	time.Sleep(5 * time.Second)
	got, err := memberReplicas(ctx, ns, "web", fed.Members...)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameReplicas(got, map[string]int32{small: 3, second: 0, third: 3}); err != nil {
		t.Fatalf("replicas moved back without rebalance: %v", err)
	}
	framework.Eventually(t, 30*time.Second, "all Ready", func(ctx context.Context) error {
		return fullyReady(ctx, ns, "web", fed.Members...)
	})
}

// killMember ends a member the way a dead cluster ends: what runs pods
// first, then the API server at once, as a crash. It returns a function
// that brings it back, API server first, and waits until every registered
// Cluster is Ready again; it does nothing when called again, and is called
// at the end of the test if the test has not, so that the following tests
// find the member running whatever went wrong.
func killMember(t *testing.T, m *framework.Member) (restore func()) {
	t.Helper()
	restored := false
	restore = func() {
		t.Helper()
		if restored {
			return
		}
		restored = true
		ctx := context.Background()
		if !m.APIServer.Running() {
			if err := m.APIServer.Start(); err != nil {
				t.Errorf("restore %s: %v", m.Name, err)
				return
			}
		}
		if err := m.WaitReady(ctx); err != nil {
			t.Errorf("restore %s: %v", m.Name, err)
			return
		}
		for _, p := range []*framework.Process{m.ControllerManager, m.Scheduler, m.Kwok} {
			if !p.Running() {
				if err := p.Start(); err != nil {
					t.Errorf("restore %s: %v", m.Name, err)
				}
			}
		}
		if err := fed.WaitClustersReady(ctx, time.Minute); err != nil {
			t.Errorf("restore %s: %v", m.Name, err)
		}
	}
	t.Cleanup(restore)
	for _, p := range []*framework.Process{m.Kwok, m.Scheduler, m.ControllerManager} {
		if err := p.Stop(10 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	m.APIServer.Kill()
	return restore
}

// TestFailoverWithRebalanceMovesBack: with rebalance, a dead member's
// replicas move to the others and become Ready, and when it comes back
// the preferred even split moves them back to it at once.
func TestFailoverWithRebalanceMovesBack(t *testing.T) {
	ctx := context.Background()
	ns := "placement-rebalance"
	createNamespace(t, ns)
	prefs := `{"rebalance": true, "clusters": {"*": {"weight": 1}}}`
	if _, err := fed.Client.AppsV1().ReplicaSets(ns).Create(ctx, replicaSet(ns, "web", 9, prefs, ""), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	even := map[string]int32{small: 3, second: 3, third: 3}
	framework.Eventually(t, 60*time.Second, "3 replicas in every member, all Ready", func(ctx context.Context) error {
		got, err := memberReplicas(ctx, ns, "web", fed.Members...)
		if err != nil {
			return err
		}
		if err := sameReplicas(got, even); err != nil {
			return err
		}
		return fullyReady(ctx, ns, "web", fed.Members...)
	})

	dead := fed.Member(second)
	survivors := []*framework.Member{fed.Member(small), fed.Member(third)}
	restore := killMember(t, dead)
	killed := time.Now()
	framework.Eventually(t, 60*time.Second, "all 9 replicas moved to the survivors, all Ready", func(ctx context.Context) error {
		got, err := memberReplicas(ctx, ns, "web", survivors...)
		if err != nil {
			return err
		}
		a, b := got[small], got[third]
		if a+b != 9 || a-b > 1 || b-a > 1 {
			return fmt.Errorf("member copies of the survivors have %v, want 9 split 5/4", got)
		}
		return fullyReady(ctx, ns, "web", survivors...)
	})
	t.Logf("replicas Ready on the survivors %s after the member died", time.Since(killed).Round(100*time.Millisecond))
	framework.Eventually(t, 10*time.Second, "a ReplicasMoved event for the failover", func(ctx context.Context) error {
		return movedEvent(ctx, ns, "web", "from "+second+" to ")
	})

	restarted := time.Now()
	restore()
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("member %s restarted, its Cluster Ready after %s", second, time.Since(restarted).Round(100*time.Millisecond))
	framework.Eventually(t, 60*time.Second, "replicas moved back to an even split, all Ready", func(ctx context.Context) error {
		got, err := memberReplicas(ctx, ns, "web", fed.Members...)
		if err != nil {
			return err
		}
		if err := sameReplicas(got, even); err != nil {
			return fmt.Errorf("%w (with rebalance the returning member should get its share back)", err)
		}
		return fullyReady(ctx, ns, "web", fed.Members...)
	})
	t.Logf("even split back and all Ready %s after the member was restarted", time.Since(restarted).Round(100*time.Millisecond))
	framework.Eventually(t, 10*time.Second, "a ReplicasMoved event naming the returning member", func(ctx context.Context) error {
		return movedEvent(ctx, ns, "web", "to "+second+": rebalanced: cluster "+second+" is Ready and selected again")
	})
}
