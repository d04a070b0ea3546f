// Package propagation benchmarks how fast objects created in the federation
// reach every member, beside the same writes made straight to the members
// by a parallel client (the floor), in the same run.
package propagation

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/kfederation/federation/test/framework"
)

const workers = 20

func objectCount() int {
	if v, err := strconv.Atoi(os.Getenv("FEDERATION_BENCH_OBJECTS")); err == nil && v > 0 {
		return v
	}
	return 1000
}

// kind is one kind of object the benchmark creates.
type kind struct {
	name     string
	resource string
	create   func(ctx context.Context, c kubernetes.Interface, ns, name string) error
}

var kinds = []kind{
	{"ConfigMaps", "configmaps", func(ctx context.Context, c kubernetes.Interface, ns, name string) error {
		_, err := c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"k": name}}, metav1.CreateOptions{})
		return err
	}},
	{"Services", "services", func(ctx context.Context, c kubernetes.Interface, ns, name string) error {
		_, err := c.CoreV1().Services(ns).Create(ctx, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": name}, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
		}, metav1.CreateOptions{})
		return err
	}},
}

// seenTracker records when each named object first appears in each member.
type seenTracker struct {
	mu      sync.Mutex
	seen    map[string]map[string]time.Time // name -> member -> time
	members int
	done    chan struct{}
	want    int
	full    int
}

func newSeenTracker(members, want int) *seenTracker {
	return &seenTracker{seen: map[string]map[string]time.Time{}, members: members, want: want, done: make(chan struct{})}
}

func (s *seenTracker) add(member, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.seen[name]
	if m == nil {
		m = map[string]time.Time{}
		s.seen[name] = m
	}
	if _, ok := m[member]; ok {
		return
	}
	m[member] = time.Now()
	if len(m) == s.members {
		s.full++
		if s.full == s.want {
			close(s.done)
		}
	}
}

// lastSeen is when name was present in every member.
func (s *seenTracker) lastSeen(name string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last time.Time
	for _, t := range s.seen[name] {
		if t.After(last) {
			last = t
		}
	}
	return last
}

func watchMembers(ctx context.Context, b *testing.B, f *framework.Federation, ns, resource string, tracker *seenTracker) {
	for _, m := range f.Members {
		factory := informers.NewSharedInformerFactoryWithOptions(m.Client, 0, informers.WithNamespace(ns))
		var inf cache.SharedIndexInformer
		switch resource {
		case "configmaps":
			inf = factory.Core().V1().ConfigMaps().Informer()
		case "services":
			inf = factory.Core().V1().Services().Informer()
		}
		name := m.Name
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(obj interface{}) {
			tracker.add(name, obj.(metav1.Object).GetName())
		}})
		factory.Start(ctx.Done())
		factory.WaitForCacheSync(ctx.Done())
	}
}

type result struct {
	p50, p99   time.Duration
	throughput float64
}

func percentile(ds []time.Duration, p float64) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[int(float64(len(ds)-1)*p)]
}

// run creates n objects with `workers` goroutines through create and waits
// until every member has all of them; latency is from the start of each
// create to its presence in the last member.
func run(ctx context.Context, b *testing.B, n int, tracker *seenTracker, create func(ctx context.Context, name string) error) result {
	names := make(chan string)
	starts := make([]time.Time, n)
	begin := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range names {
				i, _ := strconv.Atoi(name[len("obj-"):])
				starts[i] = time.Now()
				if err := create(ctx, name); err != nil {
					b.Errorf("create %s: %v", name, err)
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		names <- fmt.Sprintf("obj-%d", i)
	}
	close(names)
	wg.Wait()
	select {
	case <-tracker.done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("not every object reached every member in 5 minutes")
	}
	end := time.Now()
	lat := make([]time.Duration, n)
	var last time.Time
	for i := 0; i < n; i++ {
		seen := tracker.lastSeen(fmt.Sprintf("obj-%d", i))
		lat[i] = seen.Sub(starts[i])
		if seen.After(last) {
			last = seen
		}
	}
	_ = end
	return result{p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), throughput: float64(n) / last.Sub(begin).Seconds()}
}

func BenchmarkPropagation(b *testing.B) {
	if err := framework.EnsureBinaries(); err != nil {
		b.Fatal(err)
	}
	f := framework.StartForTest(b, framework.Options{
		Members: []framework.MemberOptions{
			{Name: "us-central1-a", Zone: "us-central1-a", Region: "us-central1", Nodes: 1},
			{Name: "us-central1-b", Zone: "us-central1-b", Region: "us-central1", Nodes: 1},
			{Name: "europe-west1-b", Zone: "europe-west1-b", Region: "europe-west1", Nodes: 1},
		},
		ControllerManagerArgs: []string{"--port=0", "--leader-elect=false", "--concurrent-syncs=20", "--kube-api-qps=1000", "--kube-api-burst=2000", "--member-api-qps=1000", "--member-api-burst=2000"},
	})
	ctx := context.Background()
	if err := f.RegisterAll(ctx); err != nil {
		b.Fatal(err)
	}
	if err := f.WaitClustersReady(ctx, 2*time.Minute); err != nil {
		b.Fatal(err)
	}
	n := objectCount()
	fmt.Printf("\nPropagation of %d objects per kind to %d members (%d client workers)\n", n, len(f.Members), workers)
	fmt.Printf("%-11s %-22s %9s %9s %12s\n", "kind", "path", "p50", "p99", "objects/s")
	rssBefore, _ := f.ControllerManager.RSSBytes()
	for _, k := range kinds {
		// The floor: the same objects written straight to every member
		// by a parallel client.
		direct := "direct-" + k.resource
		fedNS := "bench-" + k.resource
		for _, m := range f.Members {
			if _, err := m.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: direct}}, metav1.CreateOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := f.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fedNS}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}

		floorTracker := newSeenTracker(len(f.Members), n)
		watchMembers(ctx, b, f, direct, k.resource, floorTracker)
		floor := run(ctx, b, n, floorTracker, func(ctx context.Context, name string) error {
			var wg sync.WaitGroup
			errs := make([]error, len(f.Members))
			for i, m := range f.Members {
				wg.Add(1)
				go func() { defer wg.Done(); errs[i] = k.create(ctx, m.Client, direct, name) }()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					return err
				}
			}
			return nil
		})

		// Wait for the namespace to reach every member before timing.
		nsTracker := newSeenTracker(len(f.Members), 1)
		for _, m := range f.Members {
			for {
				if _, err := m.Client.CoreV1().Namespaces().Get(ctx, fedNS, metav1.GetOptions{}); err == nil {
					nsTracker.add(m.Name, fedNS)
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		fedTracker := newSeenTracker(len(f.Members), n)
		watchMembers(ctx, b, f, fedNS, k.resource, fedTracker)
		fed := run(ctx, b, n, fedTracker, func(ctx context.Context, name string) error {
			return k.create(ctx, f.Client, fedNS, name)
		})

		fmt.Printf("%-11s %-22s %9s %9s %12.1f\n", k.name, "straight to members", floor.p50.Round(time.Millisecond), floor.p99.Round(time.Millisecond), floor.throughput)
		fmt.Printf("%-11s %-22s %9s %9s %12.1f   ratio %.2f of the floor (goal >= 0.8), p99 goal < 1s\n", k.name, "through federation", fed.p50.Round(time.Millisecond), fed.p99.Round(time.Millisecond), fed.throughput, fed.throughput/floor.throughput)
		b.ReportMetric(fed.p99.Seconds(), k.resource+"-p99-s")
		b.ReportMetric(fed.throughput/floor.throughput, k.resource+"-throughput-ratio")
	}
	rssAfter, _ := f.ControllerManager.RSSBytes()
	perThousand := float64(rssAfter-rssBefore) / (float64(n*len(kinds)) / 1000) / (1 << 20)
	fmt.Printf("federation-controller-manager RSS: %.0f MiB before, %.0f MiB after %d federated objects: %.1f MiB per 1,000 objects\n",
		float64(rssBefore)/(1<<20), float64(rssAfter)/(1<<20), n*len(kinds), perThousand)
	b.ReportMetric(perThousand, "MiB-per-1000-objects")
}
