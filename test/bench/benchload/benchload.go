// Package benchload is what the benchmarks that write objects through the
// federation and straight to its members (the floor) share: the writing
// clients, the floor's copies, the tracking of when each object is in
// every member, the load generator at saturation or at a steady rate, and
// the split of the processors between the federation and the members.
package benchload

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/test/framework"
)

// Workers is how many client goroutines write at once.
const Workers = 20

// PositiveEnv is the positive integer in the environment variable name,
// or def.
func PositiveEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// Writer is the client the benchmarks write with, to the federation and to
// the members alike: client-go's typed clientset, which speaks protobuf (as
// the federation does to its members), with no client-side rate limit,
// which would cap the floor.
func Writer(tb testing.TB, e framework.Endpoint) kubernetes.Interface {
	cfg := e.RESTConfig()
	cfg.QPS, cfg.Burst = -1, -1
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// MemberWriters are one Writer per member, for the floor.
func MemberWriters(tb testing.TB, f *framework.Federation) []kubernetes.Interface {
	out := make([]kubernetes.Interface, len(f.Members))
	for i, m := range f.Members {
		out[i] = Writer(tb, m.Endpoint)
	}
	return out
}

// Create creates one object of a kind, with the given metadata, through c.
type Create func(ctx context.Context, c kubernetes.Interface, meta metav1.ObjectMeta) error

// FloorCopy is what the floor writes: the object as the federation's member
// copy of it looks (its label and the annotations the federation adds),
// marked as managed by another federation so that this one leaves it alone.
func FloorCopy(namespace, name string, annotations map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Namespace:   namespace,
		Name:        name,
		Labels:      map[string]string{clusterclient.ManagedByLabel: "floor"},
		Annotations: annotations,
	}
}

// WriteStraight is one object of the floor: its copy written to every
// member in parallel. If writing is not nil, the time each write took is
// added to it.
func WriteStraight(ctx context.Context, create Create, annotations map[string]string, clients []kubernetes.Interface, ns, name string, writing *atomic.Int64) error {
	var wg sync.WaitGroup
	errs := make([]error, len(clients))
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			errs[i] = create(ctx, c, FloorCopy(ns, name, annotations))
			if writing != nil {
				writing.Add(int64(time.Since(t0)))
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// WatchCopies keeps, until stop is closed, a watch like the one the
// controller manager keeps on a member's copies (cluster-wide, selected by
// the managed-by label, here set to managedBy) on resource (configmaps or
// services) through c, and returns once its cache is filled.
func WatchCopies(tb testing.TB, c kubernetes.Interface, resource, managedBy string, stop <-chan struct{}) {
	factory := informers.NewSharedInformerFactoryWithOptions(c, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = clusterclient.ManagedByLabel + "=" + managedBy }))
	switch resource {
	case "configmaps":
		factory.Core().V1().ConfigMaps().Informer()
	case "services":
		factory.Core().V1().Services().Informer()
	default:
		tb.Fatalf("WatchCopies: no informer for %s", resource)
	}
	factory.Start(stop)
	factory.WaitForCacheSync(stop)
}

// WatchLikeTheFederation gives each member of f the watch the controller
// manager keeps on its copies (protobuf, cluster-wide, selected by the
// managed-by label), here on the floor's copies (FloorCopy), until stop
// is closed: with it, the floor asks of the members what the federation
// asks beyond the writes.
func WatchLikeTheFederation(tb testing.TB, f *framework.Federation, resource string, stop <-chan struct{}) {
	for _, m := range f.Members {
		WatchCopies(tb, Writer(tb, m.Endpoint), resource, "floor", stop)
	}
}

// WatchMembers tracks the objects of resource (configmaps or services) in
// namespace ns of every member until ctx ends.
func WatchMembers(ctx context.Context, tb testing.TB, f *framework.Federation, ns, resource string, tracker *Tracker) {
	var wg sync.WaitGroup
	for _, m := range f.Members {
		factory := informers.NewSharedInformerFactoryWithOptions(Writer(tb, m.Endpoint), 0, informers.WithNamespace(ns))
		var inf cache.SharedIndexInformer
		switch resource {
		case "configmaps":
			inf = factory.Core().V1().ConfigMaps().Informer()
		case "services":
			inf = factory.Core().V1().Services().Informer()
		default:
			tb.Fatalf("WatchMembers: no informer for %s", resource)
		}
		name := m.Name
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(obj interface{}) {
			tracker.Add(name, obj.(metav1.Object).GetName())
		}})
		factory.Start(ctx.Done())
		wg.Add(1)
		go func() { defer wg.Done(); factory.WaitForCacheSync(ctx.Done()) }()
	}
	wg.Wait()
}

// Tracker records when each named object first appears in each of a
// number of places (members, or the federation's records).
type Tracker struct {
	mu     sync.Mutex
	seen   map[string]map[string]time.Time // name -> place -> time
	places int
	done   chan struct{}
	want   int
	full   int
	// complete is when the last wanted object became present everywhere.
	complete time.Time
}

// NewTracker tracks want objects in places places.
func NewTracker(places, want int) *Tracker {
	return &Tracker{seen: map[string]map[string]time.Time{}, places: places, want: want, done: make(chan struct{})}
}

// Add records that name is in place, now, unless it was already.
func (s *Tracker) Add(place, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.seen[name]
	if m == nil {
		m = map[string]time.Time{}
		s.seen[name] = m
	}
	if _, ok := m[place]; ok {
		return
	}
	now := time.Now()
	m[place] = now
	if len(m) == s.places {
		s.full++
		if s.full == s.want {
			s.complete = now
			close(s.done)
		}
	}
}

// WaitComplete waits (at most 10 minutes) until every wanted object is
// present everywhere, and returns when that happened.
func (s *Tracker) WaitComplete(tb testing.TB, what string) time.Time {
	select {
	case <-s.done:
	case <-time.After(10 * time.Minute):
		s.mu.Lock()
		full := s.full
		s.mu.Unlock()
		tb.Fatalf("not every object %s in 10 minutes (%d of %d)", what, full, s.want)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.complete
}

// FirstSeen is when name was first present anywhere.
func (s *Tracker) FirstSeen(name string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first time.Time
	for _, t := range s.seen[name] {
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	return first
}

// Places is when name was first present in each place.
func (s *Tracker) Places(name string) map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.seen[name])
}

// LastSeen is when name was present everywhere.
func (s *Tracker) LastSeen(name string) time.Time {
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

// Result is one phase of objects written and tracked.
type Result struct {
	P50, P99 time.Duration
	// FirstP99 is the p99 of the latency to the first member: beside P99,
	// it tells a delay before any member has the object (the federation,
	// or every member) from one member lagging behind the others.
	FirstP99 time.Duration
	// CreateP99 is the p99 of the create call itself, and AfterCreateP99
	// that of the time from its answer to the first member's copy: which
	// of the two holds the first member back.
	CreateP99, AfterCreateP99 time.Duration
	Begin                     time.Time
	// Objects has each object's times, in creation order.
	Objects    []ObjectTimes
	Wall       time.Duration
	Throughput float64
}

// ObjectTimes is one object's way: when its create started and was
// answered, when it was first and last present, and when in each place.
type ObjectTimes struct {
	Start, Created, First, Last time.Time
	Places                      map[string]time.Time
}

// WriteTimes writes each object's times to path as CSV, in milliseconds
// since begin, with a column per place (member): for looking at a tail
// object by object, and at which member held it back. Each object's start
// is also written as a UTC clock time (start_utc), to match it with the
// servers' logs.
func WriteTimes(path string, begin time.Time, objects []ObjectTimes) error {
	places := sets.New[string]()
	for _, o := range objects {
		places.Insert(slices.Collect(maps.Keys(o.Places))...)
	}
	columns := sets.List(places)
	var b strings.Builder
	b.WriteString("object,start_utc,start_ms,created_ms,first_ms,last_ms")
	for _, p := range columns {
		b.WriteString("," + p + "_ms")
	}
	b.WriteString("\n")
	ms := func(t time.Time) float64 { return float64(t.Sub(begin).Microseconds()) / 1000 }
	for i, o := range objects {
		fmt.Fprintf(&b, "%s,%s,%.1f,%.1f,%.1f,%.1f", Name(i), o.Start.UTC().Format("15:04:05.000"), ms(o.Start), ms(o.Created), ms(o.First), ms(o.Last))
		for _, p := range columns {
			fmt.Fprintf(&b, ",%.1f", ms(o.Places[p]))
		}
		b.WriteString("\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// Percentile is the p-quantile of ds, which it sorts.
func Percentile(ds []time.Duration, p float64) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[int(float64(len(ds)-1)*p)]
}

// Name is the name of the i-th object Run creates.
func Name(i int) string { return fmt.Sprintf("obj-%d", i) }

// Run creates n objects (Name(0) ...) with Workers goroutines through create
// and waits until tracker has all of them everywhere; latency is from the
// start of each create to its presence in the last place. With rate 0 the
// workers go as fast as they can (saturation, for throughput); otherwise
// creates start at that many per second (a steady load, for latency).
func Run(ctx context.Context, tb testing.TB, n int, rate float64, tracker *Tracker, create func(ctx context.Context, name string) error) Result {
	names := make(chan int)
	starts, returned := make([]time.Time, n), make([]time.Time, n)
	begin := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range names {
				starts[i] = time.Now()
				if err := create(ctx, Name(i)); err != nil {
					tb.Errorf("create %s: %v", Name(i), err)
				}
				returned[i] = time.Now()
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
	last := tracker.WaitComplete(tb, "reached every member")
	times := make([]ObjectTimes, n)
	for i := 0; i < n; i++ {
		times[i] = ObjectTimes{Start: starts[i], Created: returned[i], First: tracker.FirstSeen(Name(i)), Last: tracker.LastSeen(Name(i)), Places: tracker.Places(Name(i))}
	}
	r := latencies(times)
	r.Begin, r.Wall, r.Throughput = begin, last.Sub(begin), float64(n)/last.Sub(begin).Seconds()
	return r
}

// Pooled is the latency of the objects of several runs taken together, and
// their throughput over the runs' wall time together: a percentile over
// more objects, which one stall of one run decides less. Begin is the first
// run's.
func Pooled(runs ...Result) Result {
	var times []ObjectTimes
	var wall time.Duration
	for _, r := range runs {
		times = append(times, r.Objects...)
		wall += r.Wall
	}
	r := latencies(times)
	if len(runs) > 0 {
		r.Begin = runs[0].Begin
	}
	r.Wall = wall
	if wall > 0 {
		r.Throughput = float64(len(times)) / wall.Seconds()
	}
	return r
}

// latencies fills a Result's percentiles from each object's times.
func latencies(times []ObjectTimes) Result {
	n := len(times)
	lat, first := make([]time.Duration, n), make([]time.Duration, n)
	created, afterCreate := make([]time.Duration, n), make([]time.Duration, n)
	for i, o := range times {
		lat[i] = o.Last.Sub(o.Start)
		first[i] = o.First.Sub(o.Start)
		created[i] = o.Created.Sub(o.Start)
		afterCreate[i] = o.First.Sub(o.Created)
	}
	return Result{
		P50: Percentile(lat, 0.5), P99: Percentile(lat, 0.99), FirstP99: Percentile(first, 0.99),
		CreateP99: Percentile(created, 0.99), AfterCreateP99: Percentile(afterCreate, 0.99),
		Objects: times,
	}
}

// Pinning splits the processors between the federation (its apiserver with
// its embedded etcd, its controller manager, and the benchmark's client)
// and the member clusters, as separate machines would: without it, the
// members' floor and the federation compete for the same cores, and a ratio
// to the floor measures the sum of their costs rather than whether the
// federation holds the members back. FEDERATION_BENCH_SHARED_CPUS=1 turns
// it off.
func Pinning() (federation, members []int) {
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

// Median is the middle of values, or the mean of the two middle ones of
// an even count; 0 for none.
func Median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	mid := len(sorted) / 2
	if len(sorted)%2 == 0 {
		return (sorted[mid-1] + sorted[mid]) / 2
	}
	return sorted[mid]
}

// CPU is the processor time the processes have used so far.
func CPU(ps ...*framework.Process) time.Duration {
	var total time.Duration
	for _, p := range ps {
		if p == nil {
			continue
		}
		if d, err := p.CPUTime(); err == nil {
			total += d
		}
	}
	return total
}

// WaitQuiet waits until the processes together use less than under of
// processor time over a window, at most timeout: a phase's stragglers
// done, so that they are not charged to the next one or left out of this
// one.
func WaitQuiet(ps []*framework.Process, window, under, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		before := CPU(ps...)
		time.Sleep(window)
		if CPU(ps...)-before < under {
			return
		}
	}
}

// MemberLines write objects' copies the way the federation's member writer
// does, rather than as WriteStraight does: every member has a line of its
// own and Workers writes at once, so that a member goes on to its next
// copies while another is still on earlier ones, and Write returns at
// once. The floor written so tells whether what the members spend per
// copy depends on how the copies come.
type MemberLines struct {
	lines []chan string
	wg    sync.WaitGroup
}

// NewMemberLines starts the lines: each object name written goes, through
// create with annotations, into namespace ns of every member through its
// client; up to capacity names may wait in a line. A failed write is an
// error of tb. If writing is not nil, the time each write took is added to
// it.
func NewMemberLines(ctx context.Context, tb testing.TB, create Create, annotations map[string]string, clients []kubernetes.Interface, ns string, capacity int, writing *atomic.Int64) *MemberLines {
	l := &MemberLines{}
	for _, c := range clients {
		line := make(chan string, capacity)
		l.lines = append(l.lines, line)
		for w := 0; w < Workers; w++ {
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				for name := range line {
					t0 := time.Now()
					if err := create(ctx, c, FloorCopy(ns, name, annotations)); err != nil {
						tb.Errorf("create %s: %v", name, err)
					}
					if writing != nil {
						writing.Add(int64(time.Since(t0)))
					}
				}
			}()
		}
	}
	return l
}

// Write puts name in every member's line; it has the shape of Run's
// create, and never fails.
func (l *MemberLines) Write(_ context.Context, name string) error {
	for _, line := range l.lines {
		line <- name
	}
	return nil
}

// Close ends the lines once they are empty.
func (l *MemberLines) Close() {
	for _, line := range l.lines {
		close(line)
	}
	l.wg.Wait()
}
