package scale

// Helpers copied, small, from test/bench/propagation (the two packages
// share nothing but test/framework), with the member watches scoped to a
// phase: with fifty members, watches left open from phase to phase would
// soon outnumber the federation's own.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/test/framework"
)

const workers = 20

// positiveEnv is the positive integer in the environment variable name,
// or def.
func positiveEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// kind is one kind of object the benchmark creates.
type kind struct {
	name, kind, resource string
	create               func(ctx context.Context, c kubernetes.Interface, meta metav1.ObjectMeta) error
	// copyAnnotations are the annotations the federation puts on this
	// kind's member copies, besides the user's.
	copyAnnotations map[string]string
	deleteAll       func(ctx context.Context, c kubernetes.Interface, ns string) error
	count           func(ctx context.Context, c kubernetes.Interface, ns string) (int, error)
}

var kinds = []kind{
	{
		name: "ConfigMaps", kind: "ConfigMap", resource: "configmaps",
		create: func(ctx context.Context, c kubernetes.Interface, meta metav1.ObjectMeta) error {
			_, err := c.CoreV1().ConfigMaps(meta.Namespace).Create(ctx, &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"k": meta.Name}}, metav1.CreateOptions{})
			return err
		},
		// One by one, the benchmark's only: the federation's namespaces
		// hold a ConfigMap of its own.
		deleteAll: func(ctx context.Context, c kubernetes.Interface, ns string) error {
			l, err := c.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return err
			}
			var names []string
			for _, o := range l.Items {
				if strings.HasPrefix(o.Name, "obj-") {
					names = append(names, o.Name)
				}
			}
			return parallel(len(names), func(i int) error {
				err := c.CoreV1().ConfigMaps(ns).Delete(ctx, names[i], metav1.DeleteOptions{})
				if apierrors.IsNotFound(err) {
					return nil
				}
				return err
			})
		},
		count: func(ctx context.Context, c kubernetes.Interface, ns string) (int, error) {
			l, err := c.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return 0, err
			}
			n := 0
			for _, o := range l.Items {
				if strings.HasPrefix(o.Name, "obj-") {
					n++
				}
			}
			return n, nil
		},
	},
	{
		name: "Services", kind: "Service", resource: "services",
		create: func(ctx context.Context, c kubernetes.Interface, meta metav1.ObjectMeta) error {
			_, err := c.CoreV1().Services(meta.Namespace).Create(ctx, &corev1.Service{
				ObjectMeta: meta,
				Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": meta.Name}, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
			}, metav1.CreateOptions{})
			return err
		},
		copyAnnotations: map[string]string{"federation.k8s.io/generation": "1"},
		deleteAll: func(ctx context.Context, c kubernetes.Interface, ns string) error {
			l, err := c.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return err
			}
			return parallel(len(l.Items), func(i int) error {
				err := c.CoreV1().Services(ns).Delete(ctx, l.Items[i].Name, metav1.DeleteOptions{})
				if apierrors.IsNotFound(err) {
					return nil
				}
				return err
			})
		},
		count: func(ctx context.Context, c kubernetes.Interface, ns string) (int, error) {
			l, err := c.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return 0, err
			}
			return len(l.Items), nil
		},
	},
}

// parallel runs do(0..n-1) on `workers` goroutines.
func parallel(n int, do func(i int) error) error {
	idx := make(chan int)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				errs[i] = do(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		idx <- i
	}
	close(idx)
	wg.Wait()
	return errors.Join(errs...)
}

// writer is the client the benchmark writes with, to the federation and
// to the members alike: client-go's typed clientset, which speaks protobuf
// (as the federation does to its members), with no client-side rate limit,
// which would cap the floor.
func writer(b *testing.B, e framework.Endpoint) kubernetes.Interface {
	cfg := e.RESTConfig()
	cfg.QPS, cfg.Burst = -1, -1
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// memberWriters are one writer per member.
func memberWriters(b *testing.B, f *framework.Federation) []kubernetes.Interface {
	out := make([]kubernetes.Interface, len(f.Members))
	for i, m := range f.Members {
		out[i] = writer(b, m.Endpoint)
	}
	return out
}

// writeStraight is one object of the floor: its copy written to every
// member in parallel.
func writeStraight(ctx context.Context, k kind, clients []kubernetes.Interface, ns, name string) error {
	var wg sync.WaitGroup
	errs := make([]error, len(clients))
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = k.create(ctx, c, floorCopy(k, ns, name))
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// floorCopy is what the floor writes: the object as the federation's
// member copy of it looks (the same writes), marked as managed by another
// federation so that this one leaves it alone.
func floorCopy(k kind, namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Namespace:   namespace,
		Name:        name,
		Labels:      map[string]string{clusterclient.ManagedByLabel: "floor"},
		Annotations: k.copyAnnotations,
	}
}

// seenTracker records when each named object first appears in each member.
type seenTracker struct {
	mu       sync.Mutex
	seen     map[string]map[string]time.Time // name -> member -> time
	members  int
	done     chan struct{}
	want     int
	full     int
	complete time.Time
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
	now := time.Now()
	m[member] = now
	if len(m) == s.members {
		s.full++
		if s.full == s.want {
			s.complete = now
			close(s.done)
		}
	}
}

// waitComplete waits (at most 10 minutes) until every wanted object is
// present everywhere, and returns when that happened.
func (s *seenTracker) waitComplete(b *testing.B, what string) time.Time {
	select {
	case <-s.done:
	case <-time.After(10 * time.Minute):
		s.mu.Lock()
		full := s.full
		s.mu.Unlock()
		b.Fatalf("not every object %s in 10 minutes (%d of %d)", what, full, s.want)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.complete
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

// watchMembers tracks the objects of resource in ns in every member until
// ctx ends.
func watchMembers(ctx context.Context, b *testing.B, f *framework.Federation, ns, resource string, tracker *seenTracker) {
	var wg sync.WaitGroup
	for _, m := range f.Members {
		factory := informers.NewSharedInformerFactoryWithOptions(writer(b, m.Endpoint), 0, informers.WithNamespace(ns))
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
		wg.Add(1)
		go func() { defer wg.Done(); factory.WaitForCacheSync(ctx.Done()) }()
	}
	wg.Wait()
}

type result struct {
	p50, p99   time.Duration
	begin      time.Time
	wall       time.Duration
	throughput float64
}

func percentile(ds []time.Duration, p float64) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[int(float64(len(ds)-1)*p)]
}

// run creates n objects with `workers` goroutines through create and waits
// until every member has all of them; latency is from the start of each
// create to its presence in the last member. With rate 0 the workers go as
// fast as they can (saturation, for throughput); otherwise creates start at
// that many per second (a steady load, for latency).
func run(ctx context.Context, b *testing.B, n int, rate float64, tracker *seenTracker, create func(ctx context.Context, name string) error) result {
	names := make(chan int)
	starts := make([]time.Time, n)
	begin := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range names {
				starts[i] = time.Now()
				if err := create(ctx, fmt.Sprintf("obj-%d", i)); err != nil {
					b.Errorf("create obj-%d: %v", i, err)
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		if rate > 0 {
			time.Sleep(time.Until(begin.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
		}
		names <- i
	}
	close(names)
	wg.Wait()
	last := tracker.waitComplete(b, "reached every member")
	lat := make([]time.Duration, n)
	for i := 0; i < n; i++ {
		lat[i] = tracker.lastSeen(fmt.Sprintf("obj-%d", i)).Sub(starts[i])
	}
	return result{p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), begin: begin, wall: last.Sub(begin), throughput: float64(n) / last.Sub(begin).Seconds()}
}

// pinning splits the processors between the federation (its apiserver
// with its embedded etcd, its controller manager, and the benchmark's
// client) and the member clusters (their etcd and apiservers), as
// separate machines would. FEDERATION_BENCH_SHARED_CPUS=1 turns it off.
func pinning() (federation, members []int) {
	n := runtime.NumCPU()
	if n < 2 || os.Getenv("FEDERATION_BENCH_SHARED_CPUS") != "" {
		return nil, nil
	}
	for c := 0; c < n; c++ {
		if c < n/2 {
			federation = append(federation, c)
		} else {
			members = append(members, c)
		}
	}
	return federation, members
}

func ensureNamespace(ctx context.Context, b *testing.B, c kubernetes.Interface, name string) {
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		b.Fatal(err)
	}
}

// waitNamespaceInMembers waits until a federated namespace reached every
// member, so that timing starts with it in place.
func waitNamespaceInMembers(ctx context.Context, b *testing.B, f *framework.Federation, name string) {
	deadline := time.Now().Add(5 * time.Minute)
	for _, m := range f.Members {
		for {
			if _, err := m.Client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); err == nil {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("namespace %s not in member %s after 5 minutes", name, m.Name)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// processes are every process of the run, to tell when the machine is
// quiet.
func processes(f *framework.Federation) []*framework.Process {
	ps := []*framework.Process{f.Etcd.Process, f.APIServer, f.ControllerManager}
	for _, m := range f.Members {
		ps = append(ps, m.Processes()...)
	}
	return ps
}

// cpuOf is the processor time the processes have used so far.
func cpuOf(ps ...*framework.Process) time.Duration {
	var total time.Duration
	for _, p := range ps {
		if d, err := p.CPUTime(); err == nil {
			total += d
		}
	}
	return total
}

// settle waits until the processes use less than a fifth of a core over 2
// s, plus 0.75 % of a core per process (at most 90 s): a lean member at
// rest uses about 0.5 %, so fifty of them would never pass the bar of
// three.
func settle(ps []*framework.Process) {
	bar := 400*time.Millisecond + time.Duration(len(ps))*15*time.Millisecond
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		before := cpuOf(ps...)
		time.Sleep(2 * time.Second)
		if cpuOf(ps...)-before < bar {
			return
		}
	}
}
