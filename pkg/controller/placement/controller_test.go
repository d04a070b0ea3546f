package placement

import (
	"context"
	"fmt"
	"sort"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2/ktesting"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kfederation/federation/pkg/apis/federation/annotations"
)

// fakeSource plays the cluster registry: a fake clientset per cluster for
// pods, and member copies as the clusters' informers would hold them.
type fakeSource struct {
	mu        gosync.Mutex
	clients   map[string]kubernetes.Interface
	copies    map[string]map[string]*unstructured.Unstructured
	listeners []func(string)
	ready     bool
}

func newFakeSource(clusters ...string) *fakeSource {
	s := &fakeSource{clients: map[string]kubernetes.Interface{}, copies: map[string]map[string]*unstructured.Unstructured{}, ready: true}
	for _, c := range clusters {
		s.clients[c] = kubefake.NewClientset()
		s.copies[c] = map[string]*unstructured.Unstructured{}
	}
	return s
}

func (s *fakeSource) kube(cluster string) kubernetes.Interface {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[cluster]; ok {
		return c
	}
	return nil
}

func (s *fakeSource) memberCopy(cluster string, _ schema.GroupVersionResource, key string) (*unstructured.Unstructured, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.copies[cluster][key], nil
}

func (s *fakeSource) onChange(f func(string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listeners = append(s.listeners, f)
}

func (s *fakeSource) allReady() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ready
}

// setCopy gives cluster a copy of the object selecting app=web.
func (s *fakeSource) setCopy(cluster string, fed *unstructured.Unstructured) {
	cp := fed.DeepCopy()
	_ = unstructured.SetNestedStringMap(cp.Object, map[string]string{"app": "web"}, "spec", "selector", "matchLabels")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.copies[cluster][fed.GetNamespace()+"/"+fed.GetName()] = cp
}

func federated(kind, name string, replicas int64, annotationValues map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]interface{}{}}
	u.SetAPIVersion("apps/v1")
	u.SetKind(kind)
	u.SetNamespace("ns")
	u.SetName(name)
	u.SetAnnotations(annotationValues)
	_ = unstructured.SetNestedField(u.Object, replicas, "spec", "replicas")
	return u
}

// pod is a pod of app=web: on a node, or stuck since a time.
func pod(name string, node string, stuckSince time.Time) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{NodeName: node},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
	if node == "" {
		p.Status.Phase = corev1.PodPending
		p.Status.Conditions = []corev1.PodCondition{{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
			LastTransitionTime: metav1.NewTime(stuckSince),
		}}
	}
	return p
}

func events(r *record.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-r.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

type harness struct {
	t        *testing.T
	source   *fakeSource
	clock    *clocktesting.FakeClock
	recorder *record.FakeRecorder
	planner  *Planner
	changed  chan string
}

func newHarness(t *testing.T, clusters ...string) *harness {
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	h := &harness{
		t:        t,
		source:   newFakeSource(clusters...),
		clock:    clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		recorder: record.NewFakeRecorder(100),
		changed:  make(chan string, 100),
	}
	h.planner = newPlanner(ctx, h.source, WithRecorder(h.recorder), WithClock(h.clock),
		WithUnschedulableThreshold(time.Minute), WithCapacityExpiry(5*time.Minute))
	h.planner.OnChange("ReplicaSet", func(namespace, name string) { h.changed <- namespace + "/" + name })
	go h.planner.Run(ctx)
	return h
}

func (h *harness) plan(fed *unstructured.Unstructured, clusters []string, current map[string]int64) map[string]int64 {
	h.t.Helper()
	total, _, _ := unstructured.NestedInt64(fed.Object, "spec", "replicas")
	got, err := h.planner.Plan(fed, total, clusters, current)
	if err != nil {
		h.t.Fatalf("Plan: %v", err)
	}
	return got
}

func (h *harness) expect(fed *unstructured.Unstructured, clusters []string, current, want map[string]int64) {
	h.t.Helper()
	if diff := cmp.Diff(want, h.plan(fed, clusters, current)); diff != "" {
		h.t.Fatalf("plan over %v differs (-want +got):\n%s", clusters, diff)
	}
}

func (h *harness) expectEvents(want ...string) {
	h.t.Helper()
	if diff := cmp.Diff(want, events(h.recorder)); diff != "" {
		h.t.Fatalf("events differ (-want +got):\n%s", diff)
	}
}

// awaitChange steps the fake clock by step until the planner tells its
// listeners about key, and returns the fake time then.
func (h *harness) awaitChange(key string, step time.Duration) time.Time {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case got := <-h.changed:
			if got != key {
				h.t.Fatalf("change told for %s, want %s", got, key)
			}
			return h.clock.Now()
		case <-time.After(20 * time.Millisecond):
			if step > 0 {
				h.clock.Step(step)
			}
		}
	}
	h.t.Fatalf("no change told for %s; estimates: %s", key, h.planner.describeEstimates())
	return time.Time{}
}

func TestPlannerReadsTheKindsAnnotation(t *testing.T) {
	h := newHarness(t, "a", "b")
	weights := `{"clusters": {"a": {"weight": 2}, "b": {"weight": 1}}}`
	for _, tc := range []struct {
		kind, annotation string
	}{
		{"ReplicaSet", annotations.ReplicaSetPreferences},
		{"Deployment", annotations.DeploymentPreferences},
		{"Job", annotations.JobPreferences},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			h.t = t
			fed := federated(tc.kind, "web-"+strings.ToLower(tc.kind), 9, map[string]string{tc.annotation: weights})
			h.expect(fed, []string{"a", "b"}, nil, map[string]int64{"a": 6, "b": 3})

			// Another kind's annotation is not this kind's preferences.
			other := federated(tc.kind, "other-"+strings.ToLower(tc.kind), 8, map[string]string{annotations.ReplicaSetPreferences + "x": weights})
			h.expect(other, []string{"a", "b"}, nil, map[string]int64{"a": 4, "b": 4})

			bad := federated(tc.kind, "bad", 9, map[string]string{tc.annotation: `{"clusters": {"a": {"weigth": 2}}}`})
			_, err := h.planner.Plan(bad, 9, []string{"a", "b"}, nil)
			if err == nil || !strings.Contains(err.Error(), tc.annotation) {
				t.Fatalf("Plan with a malformed annotation: error %v, want one naming %s", err, tc.annotation)
			}
		})
	}
	if _, err := h.planner.Plan(federated("DaemonSet", "ds", 1, nil), 1, []string{"a"}, nil); err == nil {
		t.Error("Plan of a DaemonSet: no error")
	}
}

func TestPlannerFailoverAndReturn(t *testing.T) {
	for _, rebalance := range []bool{false, true} {
		t.Run(fmt.Sprintf("rebalance=%v", rebalance), func(t *testing.T) {
			h := newHarness(t, "a", "b", "c")
			fed := federated("ReplicaSet", "web", 30, map[string]string{
				annotations.ReplicaSetPreferences: fmt.Sprintf(`{"rebalance": %v, "clusters": {"*": {"weight": 1}}}`, rebalance),
			})
			all := []string{"a", "b", "c"}
			h.expect(fed, all, nil, map[string]int64{"a": 10, "b": 10, "c": 10})
			h.expectEvents()

			// a goes NotReady: it drops out of the clusters.
			h.expect(fed, []string{"b", "c"}, map[string]int64{"b": 10, "c": 10}, map[string]int64{"b": 15, "c": 15})
			h.expectEvents(
				"Warning ReplicasMoved moved 5 replicas from a to b: cluster no longer Ready or selected",
				"Warning ReplicasMoved moved 5 replicas from a to c: cluster no longer Ready or selected",
			)
			// Syncing again, even from a stale cache, moves nothing more.
			h.expect(fed, []string{"b", "c"}, map[string]int64{"b": 10, "c": 10}, map[string]int64{"b": 15, "c": 15})
			h.expectEvents()

			// a returns, its copy still asking for its old share.
			current := map[string]int64{"a": 10, "b": 15, "c": 15}
			if !rebalance {
				h.expect(fed, all, current, map[string]int64{"a": 0, "b": 15, "c": 15})
				h.expectEvents()
				// Growth goes to the cluster furthest below its share.
				fed.Object["spec"].(map[string]interface{})["replicas"] = int64(33)
				h.expect(fed, all, current, map[string]int64{"a": 3, "b": 15, "c": 15})
				h.expectEvents()
				return
			}
			h.expect(fed, all, current, map[string]int64{"a": 10, "b": 10, "c": 10})
			h.expectEvents(
				"Normal ReplicasMoved moved 5 replicas from b to a: rebalanced: cluster a is Ready and selected again",
				"Normal ReplicasMoved moved 5 replicas from c to a: rebalanced: cluster a is Ready and selected again",
			)
		})
	}
}

func TestPlannerCapacityFromUnschedulablePods(t *testing.T) {
	for _, rebalance := range []bool{false, true} {
		t.Run(fmt.Sprintf("rebalance=%v", rebalance), func(t *testing.T) {
			testCapacity(t, rebalance)
		})
	}
}

func testCapacity(t *testing.T, rebalance bool) {
	h := newHarness(t, "a", "b", "c")
	fed := federated("ReplicaSet", "web", 30, map[string]string{
		annotations.ReplicaSetPreferences: fmt.Sprintf(`{"rebalance": %v, "clusters": {"*": {"weight": 1}}}`, rebalance),
	})
	for _, c := range []string{"a", "b", "c"} {
		h.source.setCopy(c, fed)
	}
	// The first plan starts the pod watch; the pods come after it, so that
	// it plans before any estimate exists (a watch that delivered them
	// while Plan ran would make the first plan race the estimate).
	all := []string{"a", "b", "c"}
	h.expect(fed, all, nil, map[string]int64{"a": 10, "b": 10, "c": 10})
	start := h.clock.Now()
	podsA := h.source.clients["a"].CoreV1().Pods("ns")
	ctx := context.Background()
	for i := 0; i < 6; i++ {
		if _, err := podsA.Create(ctx, pod(fmt.Sprintf("running-%d", i), "node-1", time.Time{}), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 4; i++ {
		if _, err := podsA.Create(ctx, pod(fmt.Sprintf("stuck-%d", i), "", start.Add(-2*time.Minute)), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// A pod of another object, stuck too, does not count.
	other := pod("other", "", start.Add(-time.Hour))
	other.Labels = map[string]string{"app": "db"}
	if _, err := podsA.Create(ctx, other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	h.awaitChange("ns/web", 0)
	h.expect(fed, all, nil, map[string]int64{"a": 6, "b": 12, "c": 12})
	h.expectEvents(
		"Warning ReplicasMoved moved 2 replicas from a to b: pods Unschedulable in a",
		"Warning ReplicasMoved moved 2 replicas from a to c: pods Unschedulable in a",
	)

	// The member scales its copy down, the stuck pods go; the estimate
	// stays, so the replicas do not come straight back.
	for i := 0; i < 4; i++ {
		if err := podsA.Delete(ctx, fmt.Sprintf("stuck-%d", i), metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	h.clock.Step(time.Minute)
	h.expect(fed, all, nil, map[string]int64{"a": 6, "b": 12, "c": 12})
	h.expectEvents()

	// After the expiry, with nothing stuck, the estimate is forgotten.
	at := h.awaitChange("ns/web", 30*time.Second)
	if at.Before(start.Add(5 * time.Minute)) {
		t.Fatalf("estimate forgotten at %s, before the expiry", at.Sub(start))
	}
	if !rebalance {
		// The replicas stay where they went.
		h.expect(fed, all, nil, map[string]int64{"a": 6, "b": 12, "c": 12})
		h.expectEvents()
		return
	}
	h.expect(fed, all, nil, map[string]int64{"a": 10, "b": 10, "c": 10})
	h.expectEvents(
		"Normal ReplicasMoved moved 2 replicas from b to a: rebalanced: the capacity estimate of a expired",
		"Normal ReplicasMoved moved 2 replicas from c to a: rebalanced: the capacity estimate of a expired",
	)
}

func TestPlannerWaitsForTheThreshold(t *testing.T) {
	h := newHarness(t, "a", "b")
	fed := federated("ReplicaSet", "web", 4, nil)
	h.source.setCopy("a", fed)
	h.source.setCopy("b", fed)
	start := h.clock.Now()
	podsA := h.source.clients["a"].CoreV1().Pods("ns")
	ctx := context.Background()
	if _, err := podsA.Create(ctx, pod("running", "node-1", time.Time{}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := podsA.Create(ctx, pod("stuck", "", start.Add(-10*time.Second)), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.expect(fed, []string{"a", "b"}, nil, map[string]int64{"a": 2, "b": 2})
	at := h.awaitChange("ns/web", 5*time.Second)
	if at.Before(start.Add(50 * time.Second)) {
		t.Fatalf("capacity lowered %s after start, before the pod was stuck for the threshold", at.Sub(start))
	}
	h.expect(fed, []string{"a", "b"}, nil, map[string]int64{"a": 1, "b": 3})
}

func TestPlannerForgetsClustersAndObjects(t *testing.T) {
	h := newHarness(t, "a", "b")
	fed := federated("ReplicaSet", "web", 4, nil)
	h.source.setCopy("a", fed)
	if _, err := h.source.clients["a"].CoreV1().Pods("ns").Create(context.Background(), pod("stuck", "", h.clock.Now().Add(-time.Hour)), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.plan(fed, []string{"a", "b"}, nil)
	h.awaitChange("ns/web", 0)
	if got := h.planner.describeEstimates(); got != "ReplicaSet/ns/web a=0" {
		t.Fatalf("estimates %q", got)
	}

	// The cluster leaves the registry.
	h.source.mu.Lock()
	delete(h.source.clients, "a")
	listeners := h.source.listeners
	h.source.mu.Unlock()
	for _, f := range listeners {
		f("a")
	}
	if got := h.planner.describeEstimates(); got != "" {
		t.Fatalf("estimates of a removed cluster kept: %q", got)
	}

	h.planner.forget(objectRef{"ReplicaSet", "ns", "web"})
	h.planner.mu.Lock()
	plans, selectors := len(h.planner.plans), len(h.planner.selectors["b"]["ns"])
	h.planner.mu.Unlock()
	if plans != 0 || selectors != 0 {
		t.Fatalf("a deleted object is remembered: %d plans, %d selectors", plans, selectors)
	}
}

// Right after start, an object whose copies exist is not planned over the
// first clusters found Ready.
func TestPlannerHoldsDuringStartup(t *testing.T) {
	h := newHarness(t, "a", "b")
	h.planner.grace = 10 * time.Second
	h.source.ready = false
	fed := federated("ReplicaSet", "web", 10, nil)
	h.expect(fed, []string{"a"}, map[string]int64{"a": 5}, map[string]int64{"a": 5})
	h.awaitChange("ns/web", 2*time.Second)
	h.source.mu.Lock()
	h.source.ready = true
	h.source.mu.Unlock()
	h.expect(fed, []string{"a", "b"}, map[string]int64{"a": 5, "b": 5}, map[string]int64{"a": 5, "b": 5})
}

func TestMoves(t *testing.T) {
	got := moves(map[string]int64{"a": 10, "b": 10, "c": 10}, map[string]int64{"b": 12, "c": 8, "d": 15})
	want := []move{{"a", "b", 2}, {"a", "d", 8}, {"c", "d", 2}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(move{})); diff != "" {
		t.Errorf("moves differ (-want +got):\n%s", diff)
	}
	// Growing or shrinking alone moves nothing.
	if got := moves(map[string]int64{"a": 1}, map[string]int64{"a": 5, "b": 2}); len(got) != 0 {
		t.Errorf("growth counted as moves: %v", got)
	}
}

// describeEstimates lists the live capacity estimates, for test failures.
func (p *Planner) describeEstimates() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var parts []string
	for k, e := range p.estimates {
		parts = append(parts, fmt.Sprintf("%s/%s %s=%d", k.ref.kind, k.ref.key(), k.cluster, e.capacity))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
