// Package restart benchmarks restarts of the federation's control plane
// holding many federated objects: the federation-controller-manager's
// (time until it answers, time until it is steady again, and the writes it
// made to the members meanwhile, whose goal is none) and the
// federation-apiserver's (time until /readyz, and until a list of every
// kind it serves answers).
//
// Environment, all optional:
//
//	FEDERATION_BENCH_RESTART_OBJECTS  federated objects (default 10000)
//	FEDERATION_BENCH_RESTART_CM_ARGS  extra controller manager flags, space-separated (e.g. -v=2)
//	FEDERATION_BENCH_RESTART_LOG_DIR  where the logs go; kept when the benchmark passes
package restart

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
	fedinformers "github.com/kfederation/client-go/informers/externalversions"

	"github.com/kfederation/federation/test/bench/benchload"
	"github.com/kfederation/federation/test/framework"
)

const (
	// namespaces the objects are spread over, round robin.
	namespaces = 10
	// steadyGoal is the goal for a restarted controller manager.
	steadyGoal = 30 * time.Second
)

// kind is one kind of object the benchmark creates.
type kind struct {
	// adapter is the adapter's name: the kind label of
	// federation_sync_duration_seconds, and the Propagation's prefix.
	adapter string
	gvr     schema.GroupVersionResource
	n       int
	create  func(ctx context.Context, c kubernetes.Interface, ns, name string) error
}

// mix is what n objects are made of: a twentieth each Deployments (3
// replicas) and Services (ClusterIP), a tenth Secrets, the rest
// ConfigMaps, so that several kinds' informers and syncs (with and
// without replica planning, status and fields the member owns) take part.
func mix(n int) []kind {
	deployments, services, secrets := n/20, n/20, n/10
	return []kind{
		{"configmap", corev1.SchemeGroupVersion.WithResource("configmaps"), n - deployments - services - secrets, func(ctx context.Context, c kubernetes.Interface, ns, name string) error {
			_, err := c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}},
				Data:       map[string]string{"name": name, "config.yaml": "replicas: 3\nlevel: info\nfeatures: [a, b, c]\n"},
			}, metav1.CreateOptions{})
			return err
		}},
		{"secret", corev1.SchemeGroupVersion.WithResource("secrets"), secrets, func(ctx context.Context, c kubernetes.Interface, ns, name string) error {
			_, err := c.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				Type:       corev1.SecretTypeOpaque,
				Data:       map[string][]byte{"token": []byte("s3cr3t-" + name)},
			}, metav1.CreateOptions{})
			return err
		}},
		{"service", corev1.SchemeGroupVersion.WithResource("services"), services, func(ctx context.Context, c kubernetes.Interface, ns, name string) error {
			_, err := c.CoreV1().Services(ns).Create(ctx, &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec: corev1.ServiceSpec{
					Type:     corev1.ServiceTypeClusterIP,
					Selector: map[string]string{"app": name},
					Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
				},
			}, metav1.CreateOptions{})
			return err
		}},
		{"deployment", appsv1.SchemeGroupVersion.WithResource("deployments"), deployments, func(ctx context.Context, c kubernetes.Interface, ns, name string) error {
			labels := map[string]string{"app": name}
			_, err := c.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec: appsv1.DeploymentSpec{
					Replicas: ptr.To[int32](3),
					Selector: &metav1.LabelSelector{MatchLabels: labels},
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: labels},
						Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10"}}},
					},
				},
			}, metav1.CreateOptions{})
			return err
		}},
	}
}

func nsName(i int) string { return fmt.Sprintf("restart-%d", i) }

// createAll creates every object of kinds through the federation, spread
// over the namespaces, with benchload.Workers goroutines.
func createAll(ctx context.Context, b *testing.B, c kubernetes.Interface, kinds []kind) {
	type job struct {
		k *kind
		i int
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []string
	for w := 0; w < benchload.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				name := fmt.Sprintf("%s-%d", j.k.adapter, j.i)
				if err := j.k.create(ctx, c, nsName(j.i%namespaces), name); err != nil && !apierrors.IsAlreadyExists(err) {
					mu.Lock()
					errs = append(errs, fmt.Sprintf("%s: %v", name, err))
					mu.Unlock()
				}
			}
		}()
	}
	// The kinds interleave, as a real federation's objects came in.
	for i := 0; ; i++ {
		more := false
		for ki := range kinds {
			if i < kinds[ki].n {
				jobs <- job{&kinds[ki], i}
				more = true
			}
		}
		if !more {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if len(errs) > 0 {
		b.Fatalf("%d creates failed, e.g. %s", len(errs), errs[0])
	}
}

// waitPropagated waits until the Propagation of every object of kinds
// (and of the namespaces) says Propagated in every member.
func waitPropagated(ctx context.Context, b *testing.B, f *framework.Federation, kinds []kind, timeout time.Duration) {
	want := map[string]bool{}
	for i := 0; i < namespaces; i++ {
		want[nsName(i)+"/namespace."+nsName(i)] = true
	}
	for _, k := range kinds {
		for i := 0; i < k.n; i++ {
			want[fmt.Sprintf("%s/%s.%s-%d", nsName(i%namespaces), k.adapter, k.adapter, i)] = true
		}
	}
	fc, err := f.FederationClient()
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	done := map[string]bool{}
	all := make(chan struct{})
	check := func(obj interface{}) {
		p, ok := obj.(*federationv1beta1.Propagation)
		if !ok {
			return
		}
		key := p.Namespace + "/" + p.Name
		if !want[key] {
			return
		}
		propagated := 0
		for _, c := range p.Status.Clusters {
			if c.State == federationv1beta1.PropagationPropagated {
				propagated++
			}
		}
		if propagated != len(f.Members) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !done[key] {
			done[key] = true
			if len(done) == len(want) {
				close(all)
			}
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	factory := fedinformers.NewSharedInformerFactory(fc, 0)
	inf := factory.Federation().V1beta1().Propagations().Informer()
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: check, UpdateFunc: func(_, obj interface{}) { check(obj) }})
	factory.Start(ctx.Done())
	deadline := time.After(timeout)
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-all:
			return
		case <-tick.C:
			mu.Lock()
			fmt.Printf("  %d of %d Propagations say Propagated in every member\n", len(done), len(want))
			mu.Unlock()
		case <-deadline:
			mu.Lock()
			defer mu.Unlock()
			for k := range want {
				if !done[k] {
					b.Fatalf("%d of %d Propagations say Propagated in every member after %s, not e.g. %s", len(done), len(want), timeout, k)
				}
			}
		}
	}
}

// snapshot is every member copy of the benchmark's objects (and
// namespaces), by "member resource namespace/name".
type snapshot map[string]*unstructured.Unstructured

func takeSnapshot(ctx context.Context, b *testing.B, f *framework.Federation, kinds []kind) snapshot {
	s := snapshot{}
	gvrs := []schema.GroupVersionResource{corev1.SchemeGroupVersion.WithResource("namespaces")}
	for _, k := range kinds {
		gvrs = append(gvrs, k.gvr)
	}
	for _, m := range f.Members {
		dc, err := dynamic.NewForConfig(m.Endpoint.RESTConfig())
		if err != nil {
			b.Fatal(err)
		}
		for _, gvr := range gvrs {
			opts := metav1.ListOptions{Limit: 2000}
			for {
				list, err := dc.Resource(gvr).List(ctx, opts)
				if err != nil {
					b.Fatalf("list %s in member %s: %v", gvr.Resource, m.Name, err)
				}
				for i := range list.Items {
					o := &list.Items[i]
					if gvr.Resource == "namespaces" {
						if !strings.HasPrefix(o.GetName(), "restart-") {
							continue
						}
					} else if !strings.HasPrefix(o.GetNamespace(), "restart-") {
						continue
					}
					s[m.Name+" "+gvr.Resource+" "+o.GetNamespace()+"/"+o.GetName()] = o
				}
				if opts.Continue = list.GetContinue(); opts.Continue == "" {
					break
				}
			}
		}
	}
	return s
}

// verify says whether every member has every object's copy.
func (s snapshot) verify(f *framework.Federation, kinds []kind) error {
	var missing []string
	for _, m := range f.Members {
		for i := 0; i < namespaces; i++ {
			if s[m.Name+" namespaces /"+nsName(i)] == nil {
				missing = append(missing, m.Name+" namespace "+nsName(i))
			}
		}
		for _, k := range kinds {
			for i := 0; i < k.n; i++ {
				key := fmt.Sprintf("%s %s %s/%s-%d", m.Name, k.gvr.Resource, nsName(i%namespaces), k.adapter, i)
				if s[key] == nil {
					missing = append(missing, key)
				}
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%d member copies missing, e.g. %s", len(missing), missing[0])
	}
	return nil
}

// changes reports the member copies that were written (their
// resourceVersion moved), created or deleted since before, by member and
// resource, with the diff of up to `diffs` written ones: the evidence of
// what a write was.
func (s snapshot) changes(before snapshot, ignore map[string]bool, diffs int) (int, string) {
	var written, created, deleted []string
	for k, o := range s {
		if ignore[k] {
			continue
		}
		old := before[k]
		switch {
		case old == nil:
			created = append(created, k)
		case old.GetResourceVersion() != o.GetResourceVersion():
			written = append(written, k)
		}
	}
	for k := range before {
		if s[k] == nil && !ignore[k] {
			deleted = append(deleted, k)
		}
	}
	n := len(written) + len(created) + len(deleted)
	if n == 0 {
		return 0, ""
	}
	var out strings.Builder
	group := func(what string, keys []string) {
		if len(keys) == 0 {
			return
		}
		sort.Strings(keys)
		by := map[string]int{}
		for _, k := range keys {
			f := strings.Fields(k)
			by[f[0]+" "+f[1]]++
		}
		fmt.Fprintf(&out, "    %s: %d (", what, len(keys))
		var parts []string
		for g, c := range by {
			parts = append(parts, fmt.Sprintf("%s %d", g, c))
		}
		sort.Strings(parts)
		fmt.Fprintf(&out, "%s), e.g. %s\n", strings.Join(parts, ", "), keys[0])
	}
	group("written", written)
	group("created", created)
	group("deleted", deleted)
	sort.Strings(written)
	for i, k := range written {
		if i == diffs {
			break
		}
		fmt.Fprintf(&out, "    diff of %s (-before +after):\n%s", k, indent(cmp.Diff(before[k].Object, s[k].Object), "      "))
	}
	return n, out.String()
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

// idleWrites reads the members' writes twice, window apart, with
// nothing going on: the series that move then are the members' own
// background writes (each kube-apiserver renews its identity lease),
// left out of every count after. It fails if one of them is of a resource
// the federation syncs: then the machine was not idle.
func idleWrites(ctx context.Context, b *testing.B, f *framework.Federation, window time.Duration) (map[writeKey]bool, writeCounts) {
	before, err := memberWrites(ctx, f)
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(window)
	after, err := memberWrites(ctx, f)
	if err != nil {
		b.Fatal(err)
	}
	moved := after.since(before, nil, nil)
	background := map[writeKey]bool{}
	synced := federatedResources()
	for k := range moved {
		if synced[k.resource] {
			b.Fatalf("the members were not idle: in %s, %s moved (%s)", window, k, moved)
		}
		background[k.kind()] = true
	}
	return background, moved
}

// marker creates one more ConfigMap in the federation and waits until
// every member has it: a positive sign that the controller manager is
// live and that the members' metrics count everything before it. Its
// own writes are one create per member.
func marker(ctx context.Context, b *testing.B, f *framework.Federation, c kubernetes.Interface, name string) (time.Duration, writeCounts) {
	start := time.Now()
	ns := nsName(0)
	if _, err := c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"marker": name}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	expected := writeCounts{}
	for _, m := range f.Members {
		framework.Eventually(b, 2*time.Minute, "marker "+name+" in member "+m.Name, func(ctx context.Context) error {
			_, err := m.Client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
			return err
		})
		expected[writeKey{m.Name, "POST", "", "configmaps", ""}] = 1
	}
	return time.Since(start), expected
}

// listEvery lists, once the federation-apiserver answers, every resource
// its discovery serves with the list verb, cluster-wide, the first page
// of up to 500 items each, in parallel, each retried every 100 ms until
// it answers; it returns when the last answered, and how many there are.
func listEvery(ctx context.Context, b *testing.B, f *framework.Federation, timeout time.Duration) (time.Time, int) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var lists []*metav1.APIResourceList
	for {
		var err error
		lists, err = f.Client.Discovery().ServerPreferredResources()
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			b.Fatalf("discovery of the federation-apiserver: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	cfg := f.Endpoint.RESTConfig()
	// The federation serves extensions/v1beta1 too, which warns on every
	// list.
	cfg.WarningHandler = rest.NoWarnings{}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var gvrs []schema.GroupVersionResource
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range l.APIResources {
			for _, v := range r.Verbs {
				if v == "list" {
					gvrs = append(gvrs, gv.WithResource(r.Name))
					break
				}
			}
		}
	}
	var mu sync.Mutex
	var last time.Time
	var failed []string
	var wg sync.WaitGroup
	for _, gvr := range gvrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, err := dc.Resource(gvr).List(ctx, metav1.ListOptions{Limit: 500})
				if err == nil {
					mu.Lock()
					if now := time.Now(); now.After(last) {
						last = now
					}
					mu.Unlock()
					return
				}
				select {
				case <-ctx.Done():
					mu.Lock()
					failed = append(failed, fmt.Sprintf("%s: %v", gvr, err))
					mu.Unlock()
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}()
	}
	wg.Wait()
	if len(failed) > 0 {
		b.Fatalf("lists of the federation-apiserver not answered in %s: %s", timeout, strings.Join(failed, "; "))
	}
	return last, len(gvrs)
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func BenchmarkRestart(b *testing.B) {
	if err := framework.EnsureBinaries(); err != nil {
		b.Fatal(err)
	}
	n := benchload.PositiveEnv("FEDERATION_BENCH_RESTART_OBJECTS", 10000)
	kinds := mix(n)
	members := framework.ThreeZoneMembers()
	for i := range members {
		// Only kube-apiserver: no controller of the member writes
		// anything (no EndpointSlices for the Services, no ReplicaSets
		// for the Deployments), so every member write is the
		// federation's.
		members[i].APIServerOnly = true
	}
	cmArgs := []string{"--leader-elect=false", "--concurrent-syncs=20", "--kube-api-qps=1000", "--kube-api-burst=2000", "--member-api-qps=1000", "--member-api-burst=2000"}
	cmArgs = append(cmArgs, strings.Fields(os.Getenv("FEDERATION_BENCH_RESTART_CM_ARGS"))...)
	f := framework.StartForTest(b, framework.Options{
		Members:               members,
		EmbeddedEtcd:          true,
		ControllerManagerArgs: cmArgs,
		LogDir:                os.Getenv("FEDERATION_BENCH_RESTART_LOG_DIR"),
	})
	ctx := context.Background()
	if err := f.RegisterAll(ctx); err != nil {
		b.Fatal(err)
	}
	if err := f.WaitClustersReady(ctx, 2*time.Minute); err != nil {
		b.Fatal(err)
	}
	client := benchload.Writer(b, f.Endpoint)

	var mixText []string
	fresh := map[string]int{"namespace": namespaces}
	for _, k := range kinds {
		mixText = append(mixText, fmt.Sprintf("%d %s", k.n, k.gvr.Resource))
		fresh[k.adapter] = k.n
	}
	fmt.Printf("\nRestart with %d federated objects (%s) in %d namespaces, %d members (kube-apiserver only), %d CPUs shared by all\n",
		n, strings.Join(mixText, ", "), namespaces, len(f.Members), runtime.NumCPU())
	fmt.Printf("controller manager: %s\n", strings.Join(cmArgs, " "))

	// The objects, and every copy in every member.
	start := time.Now()
	for i := 0; i < namespaces; i++ {
		if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: nsName(i)}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	for _, m := range f.Members {
		for i := 0; i < namespaces; i++ {
			framework.Eventually(b, time.Minute, "namespace "+nsName(i)+" in "+m.Name, func(ctx context.Context) error {
				_, err := m.Client.CoreV1().Namespaces().Get(ctx, nsName(i), metav1.GetOptions{})
				return err
			})
		}
	}
	createAll(ctx, b, client, kinds)
	created := time.Since(start)
	waitPropagated(ctx, b, f, kinds, 30*time.Minute)
	fmt.Printf("created in %s, every Propagation said Propagated after %s\n", created.Round(time.Second), time.Since(start).Round(time.Second))
	if _, err := waitSteady(ctx, f, nil, 5*time.Minute); err != nil {
		b.Fatal(err)
	}
	snap := takeSnapshot(ctx, b, f, kinds)
	if err := snap.verify(f, kinds); err != nil {
		b.Fatal(err)
	}
	rssHeld, _ := f.ControllerManager.RSSBytes()
	cpuHeld, _ := f.ControllerManager.CPUTime()
	fmt.Printf("every member has every copy (%d); controller manager before its restart: %.0f MiB resident, %.1f s of processor so far\n", len(snap), mib(rssHeld), cpuHeld.Seconds())

	// What the members write on their own while nothing happens.
	const idleWindow = 15 * time.Second
	background, idle := idleWrites(ctx, b, f, idleWindow)
	fmt.Printf("members' own writes in %s idle, left out of the counts below: %s\n", idleWindow, idle)

	// The controller manager's restart.
	before, err := memberWrites(ctx, f)
	if err != nil {
		b.Fatal(err)
	}
	stopStart := time.Now()
	if err := f.ControllerManager.Stop(10 * time.Second); err != nil {
		b.Fatal(err)
	}
	stopped := time.Since(stopStart)
	cmStart := time.Now()
	if err := f.ControllerManager.Start(); err != nil {
		b.Fatal(err)
	}
	hctx, cancel := context.WithTimeout(ctx, time.Minute)
	err = f.ControllerManager.WaitFor(hctx, "/healthz", func(ctx context.Context) error {
		_, err := f.ControllerManagerGet(ctx, "/healthz")
		return err
	})
	cancel()
	if err != nil {
		b.Fatal(err)
	}
	healthz := time.Since(cmStart)
	st, err := waitSteady(ctx, f, fresh, 5*time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	steady := st.at.Sub(cmStart)
	rssSteady, _ := f.ControllerManager.RSSBytes()
	atSteady, err := memberWrites(ctx, f)
	if err != nil {
		b.Fatal(err)
	}
	markerTook, expected := marker(ctx, b, f, client, "marker-1")
	afterMarker, err := memberWrites(ctx, f)
	if err != nil {
		b.Fatal(err)
	}
	cmWritesToSteady := atSteady.since(before, background, nil)
	cmWritesAfter := afterMarker.since(atSteady, background, expected)
	cmWrites := cmWritesToSteady.total() + cmWritesAfter.total()
	snapCM := takeSnapshot(ctx, b, f, kinds)
	ignore := map[string]bool{}
	for _, m := range f.Members {
		ignore[m.Name+" configmaps "+nsName(0)+"/marker-1"] = true
	}
	cmChanged, cmChanges := snapCM.changes(snap, ignore, 3)

	var syncText []string
	for _, k := range append([]string{"namespace"}, func() []string {
		var s []string
		for _, k := range kinds {
			s = append(s, k.adapter)
		}
		return s
	}()...) {
		syncText = append(syncText, fmt.Sprintf("%s %.0f of %.0f for %d", k, st.success[k], st.syncs[k], fresh[k]))
	}
	fmt.Printf("controller manager restarted: stopped in %s (SIGTERM to exit); syncs ending in success of all syncs, by kind, at steady: %s; marker in every member %s after\n",
		stopped.Round(time.Millisecond), strings.Join(syncText, ", "), markerTook.Round(time.Millisecond))
	if cmWrites != 0 || cmChanged != 0 {
		fmt.Printf("  member writes from the restart to steady: %s\n  from steady to the marker in every member, besides its own creates: %s\n  member copies changed:\n%s",
			cmWritesToSteady, cmWritesAfter, cmChanges)
	}

	// The federation-apiserver's restart, the controller manager running
	// on.
	beforeAPI, err := memberWrites(ctx, f)
	if err != nil {
		b.Fatal(err)
	}
	syncsBefore, err := scrapeControllerManager(ctx, f)
	if err != nil {
		b.Fatal(err)
	}
	apiStopStart := time.Now()
	if err := f.APIServer.Stop(10 * time.Second); err != nil {
		b.Fatal(err)
	}
	apiStopped := time.Since(apiStopStart)
	apiKilled := ""
	if apiStopped >= 10*time.Second {
		apiKilled = " (it did not exit within the 10 s after SIGTERM: killed)"
	}
	apiStart := time.Now()
	if err := f.APIServer.Start(); err != nil {
		b.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	err = f.APIServer.WaitFor(rctx, "/readyz ok", func(ctx context.Context) error {
		body, err := f.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return err
		}
		if string(body) != "ok" {
			return fmt.Errorf("/readyz: %s", body)
		}
		return nil
	})
	cancel()
	if err != nil {
		b.Fatal(err)
	}
	readyz := time.Since(apiStart)
	listed, resources := listEvery(ctx, b, f, 2*time.Minute)
	lists := listed.Sub(apiStart)
	// The controller manager re-lists or resumes its watches; once it is
	// quiet again, the marker, then the count.
	stAPI, err := waitSteady(ctx, f, nil, 5*time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	cmQuiet := stAPI.at.Sub(apiStart)
	_, expected2 := marker(ctx, b, f, client, "marker-2")
	afterAPI, err := memberWrites(ctx, f)
	if err != nil {
		b.Fatal(err)
	}
	apiWrites := afterAPI.since(beforeAPI, background, expected2)
	snapAPI := takeSnapshot(ctx, b, f, kinds)
	for _, m := range f.Members {
		ignore[m.Name+" configmaps "+nsName(0)+"/marker-2"] = true
	}
	apiChanged, apiChanges := snapAPI.changes(snapCM, ignore, 3)
	var apiSyncs float64
	for k, v := range stAPI.syncs {
		apiSyncs += v - syncsBefore.syncs[k]
	}
	fmt.Printf("federation-apiserver restarted: stopped in %s%s; %d resources listed (first page of up to 500 each, cluster-wide, in parallel); the controller manager synced %.0f objects after it, and its queues were found quiet %s after the start\n",
		apiStopped.Round(time.Millisecond), apiKilled, resources, apiSyncs, cmQuiet.Round(time.Millisecond))
	if apiWrites.total() != 0 || apiChanged != 0 {
		fmt.Printf("  member writes: %s\n  member copies changed:\n%s", apiWrites, apiChanges)
	}

	mark := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	fmt.Printf("\n| %-70s | %14s | %-12s |\n", "figure", "value", "goal")
	fmt.Printf("|%s|%s|%s|\n", strings.Repeat("-", 72), strings.Repeat("-", 16), strings.Repeat("-", 14))
	row := func(figure, value, goal string) {
		fmt.Printf("| %-70s | %14s | %-12s |\n", figure, value, goal)
	}
	row("controller manager: start -> /healthz answers", healthz.Round(time.Millisecond).String(), "")
	row("controller manager: start -> steady (each object synced, queues empty)", steady.Round(time.Millisecond).String(), fmt.Sprintf("<= %s %s", steadyGoal, mark(steady <= steadyGoal)))
	row("member writes, restart -> marker in every member (its 3 creates aside)", fmt.Sprintf("%.0f", cmWrites), "0 "+mark(cmWrites == 0))
	row("member copies changed by the restart", strconv.Itoa(cmChanged), "0 "+mark(cmChanged == 0))
	row("controller manager processor time, start -> steady", fmt.Sprintf("%.1f s", (st.cpu).Seconds()), "")
	row("controller manager resident memory at steady (before restart)", fmt.Sprintf("%.0f (%.0f) MiB", mib(rssSteady), mib(rssHeld)), "")
	row("federation-apiserver: start -> /readyz ok", readyz.Round(time.Millisecond).String(), "")
	row(fmt.Sprintf("federation-apiserver: start -> every list answered (%d resources)", resources), lists.Round(time.Millisecond).String(), "")
	row("member writes, apiserver restart -> marker (its 3 creates aside)", fmt.Sprintf("%.0f", apiWrites.total()), "0 "+mark(apiWrites.total() == 0))
	row("member copies changed by the apiserver restart", strconv.Itoa(apiChanged), "0 "+mark(apiChanged == 0))

	b.ReportMetric(healthz.Seconds(), "cm-healthz-s")
	b.ReportMetric(steady.Seconds(), "cm-steady-s")
	b.ReportMetric(cmWrites, "cm-member-writes")
	b.ReportMetric(st.cpu.Seconds(), "cm-cpu-s")
	b.ReportMetric(mib(rssSteady), "cm-rss-MiB")
	b.ReportMetric(readyz.Seconds(), "apiserver-readyz-s")
	b.ReportMetric(lists.Seconds(), "apiserver-lists-s")
	b.ReportMetric(apiWrites.total(), "apiserver-member-writes")

	if steady > steadyGoal {
		b.Errorf("the controller manager was steady %s after its start; goal %s", steady.Round(time.Millisecond), steadyGoal)
	}
	if cmWrites != 0 || cmChanged != 0 {
		b.Errorf("the restarted controller manager wrote to the members: %s; %s", cmWritesToSteady, cmWritesAfter)
	}
	if apiWrites.total() != 0 || apiChanged != 0 {
		b.Errorf("the controller manager wrote to the members around the federation-apiserver's restart: %s", apiWrites)
	}
}
