package propagation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic/dynamicinformer"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
	fedfake "github.com/kfederation/client-go/clientset/versioned/fake"
	fedinformers "github.com/kfederation/client-go/informers/externalversions"

	"github.com/kfederation/federation/pkg/apis/federation/annotations"
	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/clusterclient/fake"
	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/federatedtypes"
)

// fixture is one sync controller over in-memory members and a fake
// federation API, in the way of sample-controller's tests: seed objects,
// run reconcile, then read what the members and the federation hold.
type fixture struct {
	t        *testing.T
	ctx      context.Context
	c        *Controller
	members  *fake.Members
	fed      *dynamicfake.FakeDynamicClient
	events   *record.FakeRecorder
	adapter  *federatedtypes.Adapter
	clusters []string

	mu    sync.Mutex
	woken []string
}

func newFixture(t *testing.T, a *federatedtypes.Adapter, clusters []string, objs ...*unstructured.Unstructured) *fixture {
	t.Helper()
	return newGatedFixture(t, a, clusters, nil, objs...)
}

// newGatedFixture is newFixture with gate as the kind's MemberGate.
func newGatedFixture(t *testing.T, a *federatedtypes.Adapter, clusters []string, gate controller.MemberGate, objs ...*unstructured.Unstructured) *fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f := &fixture{t: t, ctx: ctx, members: fake.New(clusters...), events: record.NewFakeRecorder(100), adapter: a, clusters: clusters}

	listKinds := map[schema.GroupVersionResource]string{}
	for _, ad := range federatedtypes.All() {
		listKinds[ad.GVR] = ad.Kind + "List"
	}
	var fedObjs []runtime.Object
	for _, o := range objs {
		fedObjs = append(fedObjs, o)
	}
	f.fed = dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, fedObjs...)
	var clusterObjs []runtime.Object
	registry := clusterclient.NewRegistry("fed")
	for _, name := range clusters {
		clusterObjs = append(clusterObjs, &federationv1beta1.Cluster{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"name": name}},
			Status: federationv1beta1.ClusterStatus{Conditions: []federationv1beta1.ClusterCondition{
				{Type: federationv1beta1.ClusterReady, Status: federationv1beta1.ConditionTrue}}},
		})
		if _, err := registry.Set(name, &rest.Config{Host: "https://127.0.0.1:1"}); err != nil {
			t.Fatal(err)
		}
		registry.SetReady(name, true)
	}
	fedClient := fedfake.NewClientset(clusterObjs...)
	cctx := &controller.Context{
		DynamicClient:        f.fed,
		FedClient:            fedClient,
		DynamicInformers:     dynamicinformer.NewDynamicSharedInformerFactory(f.fed, 0),
		FedInformers:         fedinformers.NewSharedInformerFactory(fedClient, 0),
		Clusters:             registry,
		FederationName:       "fed",
		ConcurrentSyncs:      2,
		MemberRequestTimeout: 10 * time.Second,
	}
	if gate != nil {
		cctx.RegisterGate(a.Name, gate)
	}
	f.c = newController(ctx, cctx, a, f.members, f.events)
	cctx.DynamicInformers.Start(ctx.Done())
	cctx.FedInformers.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), f.c.synced...) {
		t.Fatal("caches did not sync")
	}
	f.c.trail.run(ctx, 1)
	go f.drainQueue()
	return f
}

// drainQueue stands in for the workers: it takes every key queued (member
// events, wake-ups) and keeps it in woken, so that the trailing
// bookkeeping sees an idle queue and the tests can tell what was woken.
func (f *fixture) drainQueue() {
	for {
		key, quit := f.c.queue.Get()
		if quit {
			return
		}
		f.mu.Lock()
		f.woken = append(f.woken, key)
		f.mu.Unlock()
		f.c.queue.Forget(key)
		f.c.queue.Done(key)
	}
}

// wokenSince says key was queued after the first n keys drained.
func (f *fixture) wokenSince(n int, key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return n <= len(f.woken) && slices.Contains(f.woken[n:], key)
}

// wokenWithin waits up to 5 s for key to be queued after the first n keys
// drained, and says whether it was.
func (f *fixture) wokenWithin(n int, key string) bool {
	deadline := time.Now().Add(5 * time.Second)
	for !f.wokenSince(n, key) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return f.wokenSince(n, key)
}

func (f *fixture) wokenCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.woken)
}

// reconcile runs one sync of key, as a worker would after its informers
// caught up with the federation's own writes.
func (f *fixture) reconcile(key string) error {
	f.t.Helper()
	err := f.c.reconcile(f.ctx, key)
	f.syncFederationCache(key)
	return err
}

// reconcileAnswered syncs key until no member is slow, as the worker
// would when woken, for up to 5 s: right after a member answers the writes
// it held, the ones still ending and those started for the slots they
// free may keep its slots full for a moment.
func (f *fixture) reconcileAnswered(key string) error {
	f.t.Helper()
	err := f.reconcile(key)
	for deadline := time.Now().Add(5 * time.Second); errors.Is(err, clusterclient.ErrSlowMember) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		err = f.reconcile(key)
	}
	return err
}

// syncFederationCache waits until the federated object's informer has the
// object as the fake API holds it now.
func (f *fixture) syncFederationCache(key string) {
	f.t.Helper()
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	// The fake API keeps no resourceVersions: compare whole objects.
	want, err := f.fed.Resource(f.adapter.GVR).Namespace(ns).Get(f.ctx, name, metav1.GetOptions{})
	if err != nil {
		want = nil
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		cached, err := f.c.federated(key)
		if err == nil && ((cached == nil && want == nil) || (cached != nil && want != nil && equality.Semantic.DeepEqual(cached.Object, want.Object))) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	f.t.Fatalf("the federation's informer never caught up with %s", key)
}

// waitEvent waits for an event containing want; the trailing recorder
// writes events behind the member writes.
func (f *fixture) waitEvent(want string) {
	f.t.Helper()
	f.waitEventThat(want, func(e string) bool { return strings.Contains(e, want) })
}

// waitEventThat waits for an event that matches, described by want.
func (f *fixture) waitEventThat(want string, matches func(event string) bool) {
	f.t.Helper()
	timeout := time.After(10 * time.Second)
	var seen []string
	for {
		select {
		case e := <-f.events.Events:
			if matches(e) {
				return
			}
			seen = append(seen, e)
		case <-timeout:
			f.t.Fatalf("no event %q; saw %q", want, seen)
		}
	}
}

func (f *fixture) fedObject(key string) *unstructured.Unstructured {
	f.t.Helper()
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	obj, err := f.fed.Resource(f.adapter.GVR).Namespace(ns).Get(f.ctx, name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatalf("get federated %s: %v", key, err)
	}
	return obj
}

func (f *fixture) writes() []string {
	var out []string
	for _, a := range f.members.Actions() {
		if a.Verb != "get" {
			out = append(out, a.String())
		}
	}
	return out
}

func configMap(name string, data map[string]interface{}) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]interface{}{"apiVersion": "v1", "kind": "ConfigMap", "data": data}}
	u.SetNamespace("ns")
	u.SetName(name)
	u.SetGeneration(1)
	return u
}

func TestReconcileCreatesEverywhereThenWritesNothing(t *testing.T) {
	f := newFixture(t, federatedtypes.ConfigMap(), []string{"a", "b"}, configMap("cm", map[string]interface{}{"k": "v"}))
	if err := f.reconcile("ns/cm"); err != nil {
		t.Fatal(err)
	}
	for _, cl := range f.clusters {
		m := f.members.Object(cl, "ns/cm")
		if m == nil || m.GetLabels()[clusterclient.ManagedByLabel] != "fed" || m.Object["data"].(map[string]interface{})["k"] != "v" {
			t.Errorf("cluster %s: copy %v", cl, m)
		}
	}
	if got := f.fedObject("ns/cm").GetFinalizers(); len(got) != 1 || got[0] != Finalizer {
		t.Errorf("finalizers %v, want the federation's", got)
	}
	f.waitEvent("Created in clusters a, b")
	f.members.Actions()
	if err := f.reconcile("ns/cm"); err != nil {
		t.Fatal(err)
	}
	if w := f.writes(); len(w) != 0 {
		t.Errorf("a resync wrote %v", w)
	}
}

func TestReconcileAdoptsAndRevertsDrift(t *testing.T) {
	f := newFixture(t, federatedtypes.ConfigMap(), []string{"a", "b"}, configMap("cm", map[string]interface{}{"k": "v"}))
	// b has its own ConfigMap of that name, not ours yet, with a label of
	// its own that must stay.
	own := configMap("cm", map[string]interface{}{"k": "theirs"})
	own.SetLabels(map[string]string{"team": "b"})
	f.members.Put("b", own)
	if err := f.reconcile("ns/cm"); err != nil {
		t.Fatal(err)
	}
	b := f.members.Object("b", "ns/cm")
	if b.GetLabels()[clusterclient.ManagedByLabel] != "fed" || b.GetLabels()["team"] != "b" || b.Object["data"].(map[string]interface{})["k"] != "v" {
		t.Fatalf("b's copy not adopted as it should be: %v", b.Object)
	}

	// Someone edits a's copy: the next sync puts it back.
	drifted := f.members.Object("a", "ns/cm")
	drifted.Object["data"] = map[string]interface{}{"k": "edited"}
	if _, err := f.members.Update(f.ctx, "a", f.adapter.GVR, drifted); err != nil {
		t.Fatal(err)
	}
	f.members.Actions()
	if err := f.reconcile("ns/cm"); err != nil {
		t.Fatal(err)
	}
	if got := f.members.Object("a", "ns/cm").Object["data"].(map[string]interface{})["k"]; got != "v" {
		t.Errorf("drift not reverted: %v", got)
	}
	if w := f.writes(); fmt.Sprint(w) != "[update a ns/cm]" {
		t.Errorf("writes %v, want one update of a", w)
	}
}

func TestReconcileDeletesFromDeselectedClusters(t *testing.T) {
	cm := configMap("cm", map[string]interface{}{"k": "v"})
	f := newFixture(t, federatedtypes.ConfigMap(), []string{"a", "b"}, cm)
	if err := f.reconcile("ns/cm"); err != nil {
		t.Fatal(err)
	}
	obj := f.fedObject("ns/cm")
	obj.SetAnnotations(map[string]string{annotations.ClusterSelector: `[{"key":"name","operator":"in","values":["a"]}]`})
	if _, err := f.fed.Resource(f.adapter.GVR).Namespace("ns").Update(f.ctx, obj, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.syncFederationCache("ns/cm")
	if err := f.reconcile("ns/cm"); err != nil {
		t.Fatal(err)
	}
	if f.members.Object("b", "ns/cm") != nil {
		t.Error("b is no longer selected but keeps its copy")
	}
	if f.members.Object("a", "ns/cm") == nil {
		t.Error("a lost its copy")
	}
	f.waitEvent("Deleted from cluster b: cluster no longer selected")
}

func deleting(f *fixture, key string, finalizers ...string) {
	f.t.Helper()
	obj := f.fedObject(key)
	now := metav1.Now()
	obj.SetDeletionTimestamp(&now)
	obj.SetFinalizers(finalizers)
	if _, err := f.fed.Resource(f.adapter.GVR).Namespace(obj.GetNamespace()).Update(f.ctx, obj, metav1.UpdateOptions{}); err != nil {
		f.t.Fatal(err)
	}
	f.syncFederationCache(key)
}

func TestReconcileFinalizes(t *testing.T) {
	f := newFixture(t, federatedtypes.ConfigMap(), []string{"a", "b"}, configMap("cm", map[string]interface{}{"k": "v"}))
	if err := f.reconcile("ns/cm"); err != nil {
		t.Fatal(err)
	}
	deleting(f, "ns/cm", Finalizer)
	if err := f.reconcile("ns/cm"); err != nil {
		t.Fatal(err)
	}
	for _, cl := range f.clusters {
		if f.members.Object(cl, "ns/cm") != nil {
			t.Errorf("cluster %s keeps the copy of a deleted object", cl)
		}
	}
	if got := f.fedObject("ns/cm").GetFinalizers(); len(got) != 0 {
		t.Errorf("finalizers %v left on a finalized object", got)
	}
	f.waitEvent("Deleted from clusters a, b: deleted from the federation")
}

// assertDeletesTo checks that the deletes sent to cluster so far were of
// keys, in that order.
func (f *fixture) assertDeletesTo(cluster, when string, keys ...string) {
	f.t.Helper()
	var got []string
	for _, a := range f.members.Actions() {
		if a.Cluster == cluster && a.Verb == "delete" {
			got = append(got, a.Key)
		}
	}
	if !slices.Equal(got, keys) {
		f.t.Fatalf("deletes sent to %s %s: %v, want %v", cluster, when, got, keys)
	}
}

// propagatedConfigMaps is a fixture of two clusters, a and b, each
// allowed two writes at once (ConcurrentSyncs), holding the copies of
// ConfigMaps ns/name.
func propagatedConfigMaps(t *testing.T, names ...string) *fixture {
	t.Helper()
	var objs []*unstructured.Unstructured
	for _, n := range names {
		objs = append(objs, configMap(n, map[string]interface{}{"k": "v"}))
	}
	f := newFixture(t, federatedtypes.ConfigMap(), []string{"a", "b"}, objs...)
	for _, n := range names {
		if err := f.reconcile("ns/" + n); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestReconcileDeletesWithinTheWriteAllowance(t *testing.T) {
	names := []string{"cm0", "cm1", "cm2"}
	f := propagatedConfigMaps(t, names...)
	for _, n := range names {
		deleting(f, "ns/"+n, Finalizer)
	}

	// b answers nothing: the first two deletes take its two slots, the
	// third waits for one, and none of the three objects lets go.
	release := f.members.Block("b")
	defer release()
	for _, n := range names {
		if err := f.reconcile("ns/" + n); !errors.Is(err, clusterclient.ErrSlowMember) {
			t.Fatalf("finalizing %s with b not answering: %v, want a slow member", n, err)
		}
		if f.members.Object("a", "ns/"+n) != nil {
			t.Errorf("a keeps its copy of %s while b is slow", n)
		}
		if len(f.fedObject("ns/"+n).GetFinalizers()) == 0 {
			t.Fatalf("%s let go before its copy in b was deleted", n)
		}
	}
	f.assertDeletesTo("b", "while it had two slots", "ns/cm0", "ns/cm1")

	// b answers: the left-behind deletes land and are told, a slot frees
	// for cm2, and every object finalizes.
	before := f.wokenCount()
	release()
	f.waitEvent("Deleted from cluster b: deleted from the federation")
	if !f.wokenWithin(before, "ns/cm2") {
		t.Fatal("a slot freed in b, and cm2, waiting for it, was not synced again")
	}
	for _, n := range names {
		if err := f.reconcileAnswered("ns/" + n); err != nil {
			t.Fatalf("finalizing %s once b answers: %v", n, err)
		}
		if f.members.Object("b", "ns/"+n) != nil {
			t.Errorf("b keeps its copy of deleted %s", n)
		}
		if got := f.fedObject("ns/" + n).GetFinalizers(); len(got) != 0 {
			t.Errorf("finalizers %v left on %s", got, n)
		}
	}
}

// TestOrphanedCopiesGoWithinTheWriteAllowance: the copies of objects the
// federation no longer has are deleted as member writes, as a finalized
// object's are: a member with every write slot taken gets no more deletes
// until one frees, and the others are not held up.
func TestOrphanedCopiesGoWithinTheWriteAllowance(t *testing.T) {
	names := []string{"cm0", "cm1", "cm2"}
	f := propagatedConfigMaps(t, names...)
	for _, n := range names {
		// Gone from the federation without being finalized, as when
		// the controller manager was down.
		if err := f.fed.Resource(f.adapter.GVR).Namespace("ns").Delete(f.ctx, n, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		f.syncFederationCache("ns/" + n)
	}

	release := f.members.Block("b")
	defer release()
	for _, n := range names {
		if err := f.reconcile("ns/" + n); !errors.Is(err, clusterclient.ErrSlowMember) {
			t.Fatalf("removing the copies of %s with b not answering: %v, want a slow member", n, err)
		}
		if f.members.Object("a", "ns/"+n) != nil {
			t.Errorf("a keeps its copy of %s while b is slow", n)
		}
	}
	f.assertDeletesTo("b", "while it had two slots", "ns/cm0", "ns/cm1")

	before := f.wokenCount()
	release()
	if !f.wokenWithin(before, "ns/cm2") {
		t.Fatal("a slot freed in b, and cm2, waiting for it, was not synced again")
	}
	for _, n := range names {
		if err := f.reconcileAnswered("ns/" + n); err != nil {
			t.Fatalf("removing the copies of %s once b answers: %v", n, err)
		}
		if f.members.Object("b", "ns/"+n) != nil {
			t.Errorf("b keeps its copy of %s, which the federation no longer has", n)
		}
	}
}

func TestReconcileOrphans(t *testing.T) {
	f := newFixture(t, federatedtypes.ConfigMap(), []string{"a", "b"}, configMap("cm", map[string]interface{}{"k": "v"}))
	if err := f.reconcile("ns/cm"); err != nil {
		t.Fatal(err)
	}
	deleting(f, "ns/cm", Finalizer, metav1.FinalizerOrphanDependents)
	if err := f.reconcile("ns/cm"); err != nil {
		t.Fatal(err)
	}
	for _, cl := range f.clusters {
		m := f.members.Object(cl, "ns/cm")
		if m == nil {
			t.Errorf("cluster %s: an orphaned copy was deleted", cl)
			continue
		}
		if _, managed := m.GetLabels()[clusterclient.ManagedByLabel]; managed {
			t.Errorf("cluster %s: the orphaned copy still says it is managed: %v", cl, m.GetLabels())
		}
	}
	if got := f.fedObject("ns/cm").GetFinalizers(); len(got) != 0 {
		t.Errorf("finalizers %v left", got)
	}
	f.waitEvent("Left in clusters a, b, unmanaged")

	// The object then leaves the federation: the released copies are not
	// orphans to clean up, they stay.
	if err := f.fed.Resource(f.adapter.GVR).Namespace("ns").Delete(f.ctx, "cm", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.syncFederationCache("ns/cm")
	if err := f.reconcile("ns/cm"); err != nil {
		t.Fatal(err)
	}
	for _, cl := range f.clusters {
		if f.members.Object(cl, "ns/cm") == nil {
			t.Errorf("cluster %s: the released copy was deleted once the federated object went", cl)
		}
	}
}

func replicaSet(name string, replicas int64) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]interface{}{"apiVersion": "apps/v1", "kind": "ReplicaSet",
		"spec": map[string]interface{}{"replicas": replicas}}}
	u.SetNamespace("ns")
	u.SetName(name)
	u.SetGeneration(1)
	return u
}

func TestReconcileSplitsReplicasAndSumsStatus(t *testing.T) {
	f := newFixture(t, federatedtypes.ReplicaSet(), []string{"a", "b"}, replicaSet("rs", 4))
	if err := f.reconcile("ns/rs"); err != nil {
		t.Fatal(err)
	}
	for _, cl := range f.clusters {
		m := f.members.Object(cl, "ns/rs")
		r, _, _ := unstructured.NestedInt64(m.Object, "spec", "replicas")
		if r != 2 {
			t.Errorf("cluster %s runs %d replicas, want 2 of 4", cl, r)
		}
		// The member's controllers report.
		_ = unstructured.SetNestedField(m.Object, int64(2), "status", "replicas")
		_ = unstructured.SetNestedField(m.Object, int64(1), "status", "readyReplicas")
		if _, err := f.members.Update(f.ctx, cl, f.adapter.GVR, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.reconcile("ns/rs"); err != nil {
		t.Fatal(err)
	}
	status := f.fedObject("ns/rs").Object["status"].(map[string]interface{})
	if status["replicas"] != int64(4) || status["readyReplicas"] != int64(2) {
		t.Errorf("federated status %v, want replicas 4 and readyReplicas 2", status)
	}
}

func TestReconcileSplitsJobCompletionsAlongParallelism(t *testing.T) {
	job := &unstructured.Unstructured{Object: map[string]interface{}{"apiVersion": "batch/v1", "kind": "Job",
		"spec": map[string]interface{}{"parallelism": int64(2), "completions": int64(6)}}}
	job.SetNamespace("ns")
	job.SetName("job")
	f := newFixture(t, federatedtypes.Job(), []string{"a", "b", "c"}, job)
	if err := f.reconcile("ns/job"); err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, cl := range f.clusters {
		m := f.members.Object(cl, "ns/job")
		p, _, _ := unstructured.NestedInt64(m.Object, "spec", "parallelism")
		n, _, _ := unstructured.NestedInt64(m.Object, "spec", "completions")
		if p == 0 && n != 0 {
			t.Errorf("cluster %s gets completions %d without parallelism: the federated Job could never complete", cl, n)
		}
		sum += n
	}
	if sum != 6 {
		t.Errorf("completions add up to %d, want 6", sum)
	}
}

func TestReconcileReportsAMemberRefusingWrites(t *testing.T) {
	f := newFixture(t, federatedtypes.ConfigMap(), []string{"a", "b"}, configMap("cm", map[string]interface{}{"k": "v"}))
	f.members.Refuse("b", "create", apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "cm", errors.New("quota exceeded")))
	err := f.reconcile("ns/cm")
	if err == nil || !strings.Contains(err.Error(), "cluster b") || pending(err) {
		t.Fatalf("reconcile error %v, want a failure naming cluster b, to retry with backoff", err)
	}
	if f.members.Object("a", "ns/cm") == nil {
		t.Error("a refusing member held up the others")
	}
	f.waitEvent("Cannot create in cluster b")
	f.members.Refuse("b", "create", nil)
	if err := f.reconcile("ns/cm"); err != nil {
		t.Fatalf("after b accepts again: %v", err)
	}
	if f.members.Object("b", "ns/cm") == nil {
		t.Error("b never got its copy")
	}
}

func TestReconcileLeavesASlowMemberBehind(t *testing.T) {
	f := newFixture(t, federatedtypes.ConfigMap(), []string{"a", "b"}, configMap("cm", map[string]interface{}{"k": "v"}))
	release := f.members.Block("b")
	defer release()
	start := time.Now()
	err := f.reconcile("ns/cm")
	if !errors.Is(err, clusterclient.ErrSlowMember) && err != nil {
		t.Fatalf("reconcile error %v", err)
	}
	if took := time.Since(start); took > MemberPatience+2*time.Second {
		t.Errorf("reconcile waited %v for a slow member, patience is %v", took, MemberPatience)
	}
	if f.members.Object("a", "ns/cm") == nil {
		t.Error("a slow member held up the others")
	}
	// A second sync meanwhile starts no second write to b.
	f.members.Actions()
	_ = f.reconcile("ns/cm")
	for _, a := range f.members.Actions() {
		if a.Cluster == "b" {
			t.Errorf("a second request to b while its write runs: %v", a)
		}
	}
	before := f.wokenCount()
	release()
	// Told alone, or with a's if that was not told yet.
	f.waitEventThat("Created in cluster b", func(e string) bool {
		return strings.Contains(e, "Created in cluster b") || strings.Contains(e, "Created in clusters a, b")
	})
	if f.members.Object("b", "ns/cm") == nil {
		t.Error("the left-behind write did not land")
	}
	// The event is recorded before the wake-up; give the wake-up the
	// time it takes to go through the queue.
	if !f.wokenWithin(before, "ns/cm") {
		t.Error("the end of the left-behind write did not queue the object again")
	}
}

// testGate holds objects back from the clusters in holds, with the reason
// given, until lift is called.
type testGate struct {
	mu      sync.Mutex
	holds   map[string]string
	changed func(namespace, name string)
}

func (g *testGate) Hold(_ *unstructured.Unstructured, cluster string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.holds[cluster]
}

func (g *testGate) OnChange(f func(namespace, name string)) { g.changed = f }

func (g *testGate) lift(cluster, namespace, name string) {
	g.mu.Lock()
	delete(g.holds, cluster)
	g.mu.Unlock()
	g.changed(namespace, name)
}

func TestReconcileHoldsBackWhatTheGateHolds(t *testing.T) {
	gate := &testGate{holds: map[string]string{"b": "waiting for the load balancer"}}
	f := newGatedFixture(t, federatedtypes.ConfigMap(), []string{"a", "b"}, gate, configMap("cm", map[string]interface{}{"k": "v"}))
	if err := f.reconcile("ns/cm"); err != nil {
		t.Fatalf("a held cluster is not an error to retry: %v", err)
	}
	if f.members.Object("a", "ns/cm") == nil {
		t.Error("a is not held but got no copy")
	}
	if f.members.Object("b", "ns/cm") != nil {
		t.Error("b is held but got a copy")
	}
	// The Propagation's Pending entry, with the gate's reason, is checked
	// on real servers (test/e2e/ingress): the fake clientset here cannot
	// apply Propagations.

	n := f.wokenCount()
	gate.lift("b", "ns", "cm")
	for deadline := time.Now().Add(5 * time.Second); !f.wokenSince(n, "ns/cm") && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if !f.wokenSince(n, "ns/cm") {
		t.Fatal("lifting the hold did not queue the object")
	}
	if err := f.reconcile("ns/cm"); err != nil {
		t.Fatal(err)
	}
	if f.members.Object("b", "ns/cm") == nil {
		t.Error("the hold on b lifted but b got no copy")
	}
}

// TestCopyLeftInANotReadyClusterGoesWhenItIsReadyAgain: an object deleted
// from the federation while a cluster is not Ready is finalized without
// that cluster (only Ready clusters are written to), which keeps its copy;
// when the cluster is Ready again, the copy's key is queued and the copy,
// which the federation no longer has, is removed. (The soak found copies
// left for good after a member's kube-apiserver restart.)
func TestCopyLeftInANotReadyClusterGoesWhenItIsReadyAgain(t *testing.T) {
	f := newFixture(t, federatedtypes.ConfigMap(), []string{"a", "b"}, configMap("cm", map[string]interface{}{"k": "v"}))
	if err := f.reconcile("ns/cm"); err != nil {
		t.Fatal(err)
	}
	f.c.cctx.Clusters.SetReady("b", false)
	deleting(f, "ns/cm", Finalizer)
	if err := f.reconcile("ns/cm"); err != nil {
		t.Fatal(err)
	}
	if got := f.fedObject("ns/cm").GetFinalizers(); len(got) != 0 {
		t.Fatalf("finalizers %v: want the object let go without the cluster that is not Ready", got)
	}
	// The API server deletes the object once its finalizers are gone.
	if err := f.fed.Resource(f.adapter.GVR).Namespace("ns").Delete(f.ctx, "cm", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.syncFederationCache("ns/cm")
	if f.members.Object("a", "ns/cm") != nil || f.members.Object("b", "ns/cm") == nil {
		t.Fatalf("copies: a %v, b %v; want a's deleted, b's left while b is not Ready", f.members.Object("a", "ns/cm") != nil, f.members.Object("b", "ns/cm") != nil)
	}

	n := f.wokenCount()
	f.c.cctx.Clusters.SetReady("b", true)
	if err := wait.PollUntilContextTimeout(f.ctx, 10*time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		return f.wokenSince(n, "ns/cm"), nil
	}); err != nil {
		t.Fatal("cluster b Ready again: ns/cm, whose copy b still has, was not queued")
	}
	if err := f.reconcile("ns/cm"); err != nil {
		t.Fatal(err)
	}
	if f.members.Object("b", "ns/cm") != nil {
		t.Error("cluster b keeps the copy of an object the federation no longer has")
	}
}
