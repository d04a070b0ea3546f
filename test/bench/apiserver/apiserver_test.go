// Package apiserver benchmarks the federation-apiserver against a real
// kube-apiserver of the same Kubernetes version, started in the same run on
// the same etcd, with the same client and the same workload, and prints
// both side by side.
package apiserver

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/test/bench/benchload"
	"github.com/kfederation/federation/test/framework"
)

const (
	// servicesEnv overrides the number of Services created per server.
	servicesEnv     = "FEDERATION_BENCH_SERVICES"
	defaultServices = 5000
	// workers is the number of client goroutines for creates and gets.
	workers = 20
	// lists is how many times the full list is read per server.
	lists = 20
	// watchCreates is how many creates the watch latency is measured over.
	watchCreates = 500
	// warmUp requests per server open connections and fill caches before
	// anything is measured.
	warmUp = 50
)

// target is one API server under measurement.
type target struct {
	name   string
	client kubernetes.Interface
	proc   *framework.Process
}

// result is the measurement of one operation on one server.
type result struct {
	p50, p99   time.Duration
	throughput float64 // operations per second
}

// BenchmarkAPIServer measures create, get, list and watch latency and
// throughput of Services on the federation-apiserver and on kube-apiserver,
// phase by phase (federation, then kube-apiserver, for each operation, so
// that neither runs on a noticeably larger etcd than the other), and prints
// a table. Run it with -benchtime 1x: one iteration is the whole run.
func BenchmarkAPIServer(b *testing.B) {
	n := defaultServices
	if v := os.Getenv(servicesEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("%s=%q: want a positive number", servicesEnv, v)
		}
	}
	f := framework.StartForTest(b, framework.Options{
		NoControllerManager: true,
		// kube-apiserver alone: the endpoints controllers of a full member
		// would write an EndpointSlice for every Service and make the
		// reference slower than kube-apiserver itself is.
		Members: []framework.MemberOptions{{Name: "m1", Zone: "z", Region: "r", APIServerOnly: true}},
	})
	fed, err := newTarget("federation-apiserver", f.Endpoint.RESTConfig(), f.APIServer)
	if err != nil {
		b.Fatal(err)
	}
	kube, err := newTarget("kube-apiserver", f.Member("m1").Endpoint.RESTConfig(), f.Member("m1").APIServer)
	if err != nil {
		b.Fatal(err)
	}
	targets := []target{fed, kube}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	for _, t := range targets {
		for _, ns := range []string{"bench", "bench-headless", "bench-watch", "bench-warmup", "bench-cost"} {
			if _, err := t.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
				b.Fatalf("%s: create namespace %s: %v", t.name, ns, err)
			}
		}
		if _, _, err := parallel(warmUp, workers, func(i int) error {
			_, err := t.client.CoreV1().Services("bench-warmup").Create(ctx, service(fmt.Sprintf("warm-%d", i), ""), metav1.CreateOptions{})
			return err
		}); err != nil {
			b.Fatalf("%s: warm-up: %v", t.name, err)
		}
	}

	b.ResetTimer()
	type phase struct {
		name string
		run  func(context.Context, target) (result, error)
	}
	phases := []phase{
		{fmt.Sprintf("create (%d, %d clients)", n, workers), func(ctx context.Context, t target) (result, error) { return measureCreate(ctx, t, "bench", "", n) }},
		// Headless Services need no cluster IP on kube-apiserver either:
		// this row compares the two servers without kube-apiserver's
		// allocation, which the federation does not do by design.
		{fmt.Sprintf("create headless (%d, %d clients)", n, workers), func(ctx context.Context, t target) (result, error) {
			return measureCreate(ctx, t, "bench-headless", corev1.ClusterIPNone, n)
		}},
		{fmt.Sprintf("get (%d, %d clients)", n, workers), func(ctx context.Context, t target) (result, error) { return measureGet(ctx, t, n) }},
		{fmt.Sprintf("list all %d (x%d)", n, lists), measureList},
		{fmt.Sprintf("watch event (%d creates)", watchCreates), measureWatch},
	}
	results := make([][2]result, len(phases))
	for i, p := range phases {
		for j, t := range targets {
			r, err := p.run(ctx, t)
			if err != nil {
				b.Fatalf("%s: %s: %v", t.name, p.name, err)
			}
			results[i][j] = r
		}
	}
	b.StopTimer()

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "operation\tfederation p50\tp99\tthroughput/s\tkube-apiserver p50\tp99\tthroughput/s\tp99 ratio\tthroughput ratio\t")
	metrics := []string{"create", "create-headless", "get", "list", "watch"}
	for i, p := range phases {
		fr, kr := results[i][0], results[i][1]
		p99Ratio := float64(fr.p99) / float64(kr.p99)
		tputRatio := fr.throughput / kr.throughput
		fmt.Fprintf(w, "%s\t%s\t%s\t%.0f\t%s\t%s\t%.0f\t%.2f\t%.2f\t\n", p.name,
			round(fr.p50), round(fr.p99), fr.throughput, round(kr.p50), round(kr.p99), kr.throughput, p99Ratio, tputRatio)
		// Ratios are federation/kube-apiserver: below 1 for p99 and
		// above 1 for throughput mean the federation is faster.
		b.ReportMetric(p99Ratio, metrics[i]+"-p99-ratio")
		b.ReportMetric(tputRatio, metrics[i]+"-throughput-ratio")
	}
	fmt.Println()
	_ = w.Flush()
	fmt.Println("ratios are federation / kube-apiserver")
	printKindCost(ctx, b, targets, n)
	printWatcherCost(ctx, b, kube, n)
}

// printKindCost prints each server's processor time per create of a
// ConfigMap and of a headless Service (no cluster IP to allocate, which
// the federation never does), and their ratio: how much more a Service
// costs than a ConfigMap in kube-apiserver itself, the reference for the
// federation-apiserver's ratio in BenchmarkPropagation.
func printKindCost(ctx context.Context, b *testing.B, targets []target, n int) {
	fmt.Println()
	fmt.Printf("processor time per create, %d of each, %d clients (ms):\n", n, workers)
	fmt.Printf("  %-22s %10s %17s %8s\n", "server", "ConfigMap", "headless Service", "ratio")
	for _, t := range targets {
		cm, err := cpuPerCreate(ctx, t, n, func(i int) error {
			_, err := t.client.CoreV1().ConfigMaps("bench-cost").Create(ctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%d", i), Labels: map[string]string{"app": "bench"}},
				Data:       map[string]string{"key": "value"},
			}, metav1.CreateOptions{})
			return err
		})
		if err != nil {
			b.Fatalf("%s: ConfigMaps: %v", t.name, err)
		}
		svc, err := cpuPerCreate(ctx, t, n, func(i int) error {
			_, err := t.client.CoreV1().Services("bench-cost").Create(ctx, service(fmt.Sprintf("cost-%d", i), corev1.ClusterIPNone), metav1.CreateOptions{})
			return err
		})
		if err != nil {
			b.Fatalf("%s: Services: %v", t.name, err)
		}
		fmt.Printf("  %-22s %10.2f %17.2f %7.1fx\n", t.name, ms(cm), ms(svc), float64(svc)/float64(cm))
	}
}

// printWatcherCost prints kube-apiserver's processor time per ConfigMap
// create with no watcher besides the client, then with one and two
// watches like the one the controller manager keeps on a member's copies
// (cluster-wide, by the managed-by label, protobuf), twice over: what a
// member pays for each client that watches what is written to it, the
// part of the members' cost the federation adds (docs/dev/benchmarks.md).
func printWatcherCost(ctx context.Context, b *testing.B, t target, n int) {
	fmt.Println()
	fmt.Printf("%s processor time per ConfigMap create, %d creates each, by copy watchers (ms):\n", t.name, n)
	var stops []chan struct{}
	defer func() {
		for _, stop := range stops {
			close(stop)
		}
	}()
	addWatcher := func() {
		stop := make(chan struct{})
		stops = append(stops, stop)
		benchload.WatchCopies(b, t.client, "configmaps", "bench", stop)
	}
	measured := 0
	measure := func() float64 {
		measured++
		ns := fmt.Sprintf("bench-watchers-%d", measured)
		if _, err := t.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			b.Fatalf("%s: create namespace %s: %v", t.name, ns, err)
		}
		d, err := cpuPerCreate(ctx, t, n, func(i int) error {
			_, err := t.client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%d", i), Labels: map[string]string{clusterclient.ManagedByLabel: "bench"}},
				Data:       map[string]string{"key": "value"},
			}, metav1.CreateOptions{})
			return err
		})
		if err != nil {
			b.Fatalf("%s: ConfigMaps in %s: %v", t.name, ns, err)
		}
		return ms(d)
	}
	fmt.Printf("  %-8s %10s %10s %10s\n", "round", "none", "1 watch", "2 watches")
	for round := 1; round <= 2; round++ {
		none := measure()
		addWatcher()
		one := measure()
		addWatcher()
		two := measure()
		for _, stop := range stops {
			close(stop)
		}
		stops = nil
		fmt.Printf("  %-8d %10.2f %10.2f %10.2f\n", round, none, one, two)
	}
}

// cpuPerCreate runs n creates on the target and returns the server's
// processor time per create, its stragglers (watch cache, events) included.
func cpuPerCreate(ctx context.Context, t target, n int, create func(i int) error) (time.Duration, error) {
	quiet := func() {
		benchload.WaitQuiet([]*framework.Process{t.proc}, time.Second, 20*time.Millisecond, 30*time.Second)
	}
	quiet()
	before := benchload.CPU(t.proc)
	if _, _, err := parallel(n, workers, create); err != nil {
		return 0, err
	}
	quiet()
	return (benchload.CPU(t.proc) - before) / time.Duration(n), nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// newTarget builds a client the way controllers use one: protobuf, and no
// client-side rate limit, so that the server is what is measured.
func newTarget(name string, cfg *rest.Config, proc *framework.Process) (target, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS = -1
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return target{}, fmt.Errorf("%s: %w", name, err)
	}
	return target{name: name, client: cs, proc: proc}, nil
}

// service is the Service the phases create: one port and a selector. With
// clusterIP "" it is the common case, for which kube-apiserver allocates a
// cluster IP.
func service(name, clusterIP string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "bench"}},
		Spec: corev1.ServiceSpec{
			ClusterIP: clusterIP,
			Selector:  map[string]string{"app": "bench"},
			Ports:     []corev1.ServicePort{{Name: "http", Port: 80}},
		},
	}
}

func measureCreate(ctx context.Context, t target, ns, clusterIP string, n int) (result, error) {
	lat, wall, err := parallel(n, workers, func(i int) error {
		_, err := t.client.CoreV1().Services(ns).Create(ctx, service(fmt.Sprintf("svc-%d", i), clusterIP), metav1.CreateOptions{})
		return err
	})
	return summarize(lat, wall), err
}

func measureGet(ctx context.Context, t target, n int) (result, error) {
	lat, wall, err := parallel(n, workers, func(i int) error {
		_, err := t.client.CoreV1().Services("bench").Get(ctx, fmt.Sprintf("svc-%d", i), metav1.GetOptions{})
		return err
	})
	return summarize(lat, wall), err
}

// measureList reads the whole namespace, one list at a time.
func measureList(ctx context.Context, t target) (result, error) {
	lat, wall, err := parallel(lists, 1, func(int) error {
		_, err := t.client.CoreV1().Services("bench").List(ctx, metav1.ListOptions{})
		return err
	})
	return summarize(lat, wall), err
}

// measureWatch creates Services one after the other with a watch open, and
// measures from the start of each create to the arrival of its ADDED event.
func measureWatch(ctx context.Context, t target) (result, error) {
	w, err := t.client.CoreV1().Services("bench-watch").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		return result{}, err
	}
	defer w.Stop()

	var mu sync.Mutex
	started := make(map[string]time.Time, watchCreates)
	lat := make([]time.Duration, 0, watchCreates)
	done := make(chan error, 1)
	go func() {
		for ev := range w.ResultChan() {
			arrived := time.Now()
			if ev.Type != watch.Added {
				continue
			}
			svc, ok := ev.Object.(*corev1.Service)
			if !ok {
				continue
			}
			mu.Lock()
			if start, ok := started[svc.Name]; ok {
				lat = append(lat, arrived.Sub(start))
			}
			complete := len(lat) == watchCreates
			mu.Unlock()
			if complete {
				done <- nil
				return
			}
		}
		done <- fmt.Errorf("watch closed early")
	}()

	begin := time.Now()
	for i := range watchCreates {
		name := fmt.Sprintf("watched-%d", i)
		mu.Lock()
		started[name] = time.Now()
		mu.Unlock()
		if _, err := t.client.CoreV1().Services("bench-watch").Create(ctx, service(name, ""), metav1.CreateOptions{}); err != nil {
			return result{}, err
		}
	}
	select {
	case err := <-done:
		if err != nil {
			return result{}, err
		}
	case <-time.After(time.Minute):
		mu.Lock()
		defer mu.Unlock()
		return result{}, fmt.Errorf("only %d of %d watch events arrived", len(lat), watchCreates)
	}
	mu.Lock()
	defer mu.Unlock()
	return summarize(lat, time.Since(begin)), nil
}

// parallel runs op(0..n-1) on the given number of goroutines and returns
// each call's latency and the wall time of the whole run. It stops at the
// first error.
func parallel(n, goroutines int, op func(i int) error) ([]time.Duration, time.Duration, error) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	begin := time.Now()
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				start := time.Now()
				if err := op(i); err != nil {
					once.Do(func() { firstErr = fmt.Errorf("operation %d: %w", i, err) })
					next.Store(int64(n)) // stop the others
					return
				}
				lat[i] = time.Since(start)
			}
		}()
	}
	wg.Wait()
	return lat, time.Since(begin), firstErr
}

func summarize(lat []time.Duration, wall time.Duration) result {
	if len(lat) == 0 {
		return result{}
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	return result{
		p50:        percentile(s, 0.50),
		p99:        percentile(s, 0.99),
		throughput: float64(len(s)) / wall.Seconds(),
	}
}

// percentile of sorted durations, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// round keeps three significant figures, enough for a table.
func round(d time.Duration) time.Duration {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	default:
		return d.Round(10 * time.Microsecond)
	}
}
