// Package servicedns measures the federation's Service DNS with 1,000
// federated LoadBalancer Services over three members and a real CoreDNS:
// how long after one shard of a Service goes unhealthy (its member's
// EndpointSlices lose their last ready endpoint) CoreDNS answers the
// rewritten records, how many provider writes each such change costs,
// how long the first publication of every Service takes, and the
// controller manager's memory with them all.
package servicedns

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/miekg/dns"
	clientv3 "go.etcd.io/etcd/client/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kfederation/federation/pkg/apis/federation/annotations"
	"github.com/kfederation/federation/test/framework"
)

const (
	federationName = "myfederation"
	ns             = "bench-dns"
	// sharedApp is the label of the one federated ReplicaSet behind every
	// Service that is not measured: one pod per member serves them all,
	// so that the members hold 1,000 Services without 3,000 pods.
	sharedApp = "shared"
	// ttl is the controller manager's default --dns-ttl.
	ttl = 180
	// goal is the longest acceptable p99 from a shard going unhealthy to
	// CoreDNS answering the rewritten records.
	goal = 2 * time.Second
	// pollEvery is how often CoreDNS is asked, from the moment the shard
	// changed, whether it answers the new records yet.
	pollEvery = 10 * time.Millisecond
	// quiet is how long the etcd behind CoreDNS must keep its revision,
	// and the members send no event of the Service, before a transition's
	// writes are counted and the next transition starts.
	quiet = 2 * time.Second
	// transitionTimeout bounds each step of one transition.
	transitionTimeout = 90 * time.Second
	// workers create the objects in parallel.
	workers = 20
)

// zones are the members: two zones of us-central1 and one of
// europe-west1, named after their zones.
var zones = []struct{ zone, region string }{
	{"us-central1-a", "us-central1"},
	{"us-central1-b", "us-central1"},
	{"europe-west1-b", "europe-west1"},
}

// positiveEnv is the positive integer in the environment variable name,
// or def.
func positiveEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// DNS names of a Service in ns.
func prefix(svc string) string { return svc + "." + ns + "." + federationName + ".svc." }
func globalName(svc string) string {
	return prefix(svc) + framework.DNSZone
}
func regionName(svc, region string) string { return prefix(svc) + region + "." + framework.DNSZone }
func zoneName(svc, zone, region string) string {
	return prefix(svc) + zone + "." + region + "." + framework.DNSZone
}

// Replica preferences: one replica in every member, or none in one.
const everywhere = `{"rebalance": true, "clusters": {"*": {"weight": 1}}}`

func without(member string) string {
	return fmt.Sprintf(`{"rebalance": true, "clusters": {"*": {"weight": 1}, %q: {"weight": 0, "maxReplicas": 0}}}`, member)
}

// transition is one measured change of one shard's health.
type transition struct {
	svc, member string
	healthy     bool // the shard became healthy (a recovery), or not
	patched     time.Time
	// copied is when the member's copy of the ReplicaSet was seen with
	// its new replicas (zero if not seen after patched).
	copied time.Time
	// changed is when the member's EndpointSlices were seen without a
	// ready endpoint (or with one again): t0.
	changed time.Time
	// answered is when CoreDNS first answered the rewritten zone record
	// (t1).
	answered time.Time
	// writes are the etcd revisions the transition took: each provider
	// Apply is one etcd transaction, one revision.
	writes int64
	// logged are the controller manager's "Updated DNS records" lines for
	// the Service during the transition, and loggedAt the first one's time.
	logged   int
	loggedAt time.Time
}

// BenchmarkServiceDNS starts a federation of three members whose
// controller manager writes to a real CoreDNS, creates 1,000 federated
// LoadBalancer Services (FEDERATION_BENCH_DNS_SERVICES), waits until
// CoreDNS answers every one's global name with its three load balancers,
// then, one Service at a time, takes one shard of each of 50 Services
// (FEDERATION_BENCH_DNS_TRANSITIONS) out (replica preferences scale its
// member's copy to nothing) and back, measuring from the member's
// EndpointSlices changing to CoreDNS answering the zone name rewritten,
// beside what the federation and the member took from the patch to that
// EndpointSlice change. Run it with -benchtime 1x: one iteration is the
// whole run.
func BenchmarkServiceDNS(b *testing.B) {
	total := positiveEnv("FEDERATION_BENCH_DNS_SERVICES", 1000)
	measured := min(positiveEnv("FEDERATION_BENCH_DNS_TRANSITIONS", 50), total)
	var members []framework.MemberOptions
	var memberNames []string
	for _, z := range zones {
		members = append(members, framework.MemberOptions{Name: z.zone, Zone: z.zone, Region: z.region})
		memberNames = append(memberNames, z.zone)
	}
	// FEDERATION_BENCH_DNS_PROFILE_DIR=dir turns the controller
	// manager's profiling on, and saves there a CPU profile of its
	// first minute of the publication and its metrics after the
	// publication and at the end.
	profileDir := os.Getenv("FEDERATION_BENCH_DNS_PROFILE_DIR")
	// -v=2 logs every provider write ("Updated DNS records"), which the
	// benchmark reads back to split the time it measures.
	cmArgs := []string{"--leader-elect=false", "-v=2"}
	if profileDir != "" {
		if err := os.MkdirAll(profileDir, 0o755); err != nil {
			b.Fatal(err)
		}
		cmArgs = append(cmArgs, "--profiling=true")
	}
	// FEDERATION_BENCH_DNS_CM_ARGS are extra controller manager flags,
	// space-separated, after the benchmark's own so that they win
	// (e.g. --concurrent-syncs=20).
	cmArgs = append(cmArgs, strings.Fields(os.Getenv("FEDERATION_BENCH_DNS_CM_ARGS"))...)
	f := framework.StartForTest(b, framework.Options{
		// FEDERATION_BENCH_DNS_LOG_DIR keeps the logs (the data directory
		// goes when the benchmark passes).
		LogDir:                os.Getenv("FEDERATION_BENCH_DNS_LOG_DIR"),
		DNS:                   true,
		FederationName:        federationName,
		Members:               members,
		ControllerManagerArgs: cmArgs,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 55*time.Minute)
	defer cancel()
	if err := f.RegisterAll(ctx); err != nil {
		b.Fatal(err)
	}
	if err := f.WaitClustersReady(ctx, 2*time.Minute); err != nil {
		b.Fatal(err)
	}
	cfg := f.Endpoint.RESTConfig()
	cfg.QPS, cfg.Burst = -1, -1
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	etcd, err := clientv3.New(clientv3.Config{Endpoints: []string{f.DNS.Etcd.ClientURL}, DialTimeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer etcd.Close()
	tr := startTracker(ctx, b, f)

	// The ReplicaSets first, all Ready, so that the Services' publication
	// measures the Services.
	var measuredNames, names []string
	for i := 0; i < measured; i++ {
		measuredNames = append(measuredNames, fmt.Sprintf("m-%03d", i))
	}
	names = append(names, measuredNames...)
	for i := 0; i < total-measured; i++ {
		names = append(names, fmt.Sprintf("s-%04d", i))
	}
	parallel(b, append([]string{sharedApp}, measuredNames...), func(name string) error {
		return createReplicaSet(ctx, client, name)
	})
	waitReplicaSetsReady(ctx, b, client, 1+measured)

	cpuBefore, _ := f.ControllerManager.CPUTime()
	revBefore, err := etcdRevision(ctx, etcd)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	var profiled sync.WaitGroup
	if profileDir != "" {
		profiled.Add(1)
		go func() {
			defer profiled.Done()
			save(b, f, "/debug/pprof/profile?seconds=60", filepath.Join(profileDir, "controller-manager-publication.pprof"))
		}()
	}
	parallel(b, names, func(name string) error {
		app := sharedApp
		if strings.HasPrefix(name, "m-") {
			app = name
		}
		return createService(ctx, client, name, app)
	})
	created := time.Since(start)
	pub := waitPublished(ctx, b, f, tr, memberNames, names, start)
	cpuPublish, _ := f.ControllerManager.CPUTime()
	cpuPublish -= cpuBefore

	// Nothing may still be writing when the first transition's writes
	// are counted.
	revAfter, err := waitQuiet(ctx, etcd, tr, "", 5*time.Second)
	if err != nil {
		b.Fatalf("after the publication: %v", err)
	}
	pub.writes = revAfter - revBefore
	if profileDir != "" {
		profiled.Wait()
		save(b, f, "/metrics", filepath.Join(profileDir, "controller-manager-publication.metrics"))
	}
	b.ResetTimer()
	cpuBefore, _ = f.ControllerManager.CPUTime()
	var ts []*transition
	for i, svc := range measuredNames {
		z := zones[i%len(zones)]
		for _, healthy := range []bool{false, true} {
			t, err := runTransition(ctx, f, client, etcd, tr, svc, z.zone, z.region, healthy)
			if err != nil {
				b.Fatalf("%s in %s (healthy %v): %v", svc, z.zone, healthy, err)
			}
			ts = append(ts, t)
		}
	}
	b.StopTimer()
	cpuTransitions, _ := f.ControllerManager.CPUTime()
	cpuTransitions -= cpuBefore
	rss, err := f.ControllerManager.RSSBytes()
	if err != nil {
		b.Fatal(err)
	}
	logErr := readWriteLog(f.ControllerManager.LogPath, ts)
	if profileDir != "" {
		save(b, f, "/metrics", filepath.Join(profileDir, "controller-manager-end.metrics"))
	}

	r := report(b, total, measured, ts, pub, created, cpuPublish, cpuTransitions, rss, logErr)
	if r.unreadyP99 > goal {
		b.Errorf("p99 from a shard going unhealthy to CoreDNS answering the rewritten record is %s, over the goal of %s", r.unreadyP99.Round(time.Millisecond), goal)
	}
	if r.writesMean != 1 {
		b.Errorf("%.2f provider writes per Service transition on average (%d of %d transitions not exactly 1), the goal is exactly 1", r.writesMean, r.writesOff, len(ts))
	}
}

// save writes what the controller manager's secure port serves at urlPath
// to file.
func save(b *testing.B, f *framework.Federation, urlPath, file string) {
	data, err := f.ControllerManagerGet(context.Background(), urlPath)
	if err == nil {
		err = os.WriteFile(file, data, 0o644)
	}
	if err != nil {
		b.Logf("save %s: %v", urlPath, err)
	}
}

// parallel calls f with each name, workers at a time.
func parallel(b *testing.B, names []string, f func(name string) error) {
	ch := make(chan string)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range ch {
				if err := f(name); err != nil {
					b.Errorf("%s: %v", name, err)
				}
			}
		}()
	}
	for _, n := range names {
		ch <- n
	}
	close(ch)
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
}

// createReplicaSet creates a federated ReplicaSet of 3 replicas, one per
// member, labelled app=name.
func createReplicaSet(ctx context.Context, c kubernetes.Interface, name string) error {
	labels := map[string]string{"app": name}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: map[string]string{annotations.ReplicaSetPreferences: everywhere}},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
	_, err := c.AppsV1().ReplicaSets(ns).Create(ctx, rs, metav1.CreateOptions{})
	return err
}

// createService creates a federated LoadBalancer Service over app.
func createService(ctx context.Context, c kubernetes.Interface, name, app string) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeLoadBalancer,
			Selector: map[string]string{"app": app},
			Ports:    []corev1.ServicePort{{Port: 80}},
		},
	}
	_, err := c.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	return err
}

// waitReplicaSetsReady waits until n federated ReplicaSets report their 3
// replicas Ready.
func waitReplicaSetsReady(ctx context.Context, b *testing.B, c kubernetes.Interface, n int) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var last string
	err := wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		list, err := c.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		ready := 0
		for _, rs := range list.Items {
			if rs.Status.ReadyReplicas == 3 {
				ready++
			}
		}
		last = fmt.Sprintf("%d of %d ReplicaSets have 3 replicas Ready", ready, n)
		return ready == n, nil
	})
	if err != nil {
		b.Fatalf("ReplicaSets not Ready: %s", last)
	}
}

// publication is when the Services' records were first all answered.
type publication struct {
	// membersDone is when the last Service had, in every member, an
	// address and a ready endpoint (the reference: what the members
	// took); answered when CoreDNS answered the last one's global name
	// with all its addresses. Both from the first create.
	membersDone, answered time.Duration
	// lag is, per Service, from its members being done to its global
	// name answered (resolution: the 200 ms between passes).
	lag []time.Duration
	// writes are the etcd transactions (provider Applies) of the whole
	// publication, until the zone was quiet.
	writes int64
}

// waitPublished asks CoreDNS, every 200 ms, for the global name of each
// Service whose members are done and which it did not answer right yet,
// until it answers every one with exactly the Service's load-balancer
// addresses.
func waitPublished(ctx context.Context, b *testing.B, f *framework.Federation, tr *tracker, members, names []string, start time.Time) publication {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	pending := slices.Clone(names)
	var pub publication
	var membersDone time.Time
	for len(pending) > 0 {
		var still []string
		for _, svc := range pending {
			ips, done, ok := tr.complete(members, svc)
			if !ok {
				still = append(still, svc)
				continue
			}
			r, err := f.DNS.Query(ctx, globalName(svc), dns.TypeA)
			now := time.Now()
			if err != nil || !slices.Equal(framework.Answers(r), aRecords(globalName(svc), ips...)) {
				still = append(still, svc)
				continue
			}
			if done.After(membersDone) {
				membersDone = done
			}
			pub.lag = append(pub.lag, now.Sub(done))
			pub.answered = now.Sub(start)
		}
		pending = still
		if len(pending) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			complete := 0
			for _, svc := range pending {
				if _, _, ok := tr.complete(members, svc); ok {
					complete++
				}
			}
			b.Fatalf("after %s, CoreDNS does not answer the global name of %d of %d Services with every load balancer (%d of them have an address and a ready endpoint in every member), e.g. %s",
				time.Since(start).Round(time.Second), len(pending), len(names), complete, globalName(pending[0]))
		case <-time.After(200 * time.Millisecond):
		}
	}
	pub.membersDone = membersDone.Sub(start)
	return pub
}

// aRecords are the answers, as framework.Answers writes them, of name's
// A records for the distinct ips.
func aRecords(name string, ips ...string) []string {
	var out []string
	for _, ip := range ips {
		out = append(out, fmt.Sprintf("%s %d A %s", name, ttl, ip))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// etcdRevision is the current revision of the etcd behind CoreDNS.
func etcdRevision(ctx context.Context, c *clientv3.Client) (int64, error) {
	resp, err := c.Get(ctx, "/")
	if err != nil {
		return 0, err
	}
	return resp.Header.Revision, nil
}

// waitQuiet waits until the etcd revision has not moved, and no member
// has had an event of the Service svc (if not empty), for d, and returns
// that revision.
func waitQuiet(ctx context.Context, c *clientv3.Client, tr *tracker, svc string, d time.Duration) (int64, error) {
	rev, err := etcdRevision(ctx, c)
	if err != nil {
		return 0, err
	}
	revSince := time.Now()
	deadline := time.Now().Add(time.Minute)
	for {
		time.Sleep(100 * time.Millisecond)
		now, err := etcdRevision(ctx, c)
		if err != nil {
			return 0, err
		}
		if now != rev {
			rev, revSince = now, time.Now()
		}
		since := revSince
		if svc != "" {
			if e := tr.lastEventOf(svc); e.After(since) {
				since = e
			}
		}
		if time.Since(since) >= d {
			return rev, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("etcd behind CoreDNS (revision %d since %s) or the members' objects of %q not quiet for %s within a minute", rev, revSince.Format(time.StampMilli), svc, d)
		}
	}
}

// runTransition takes the member's shard of svc out (healthy false) or
// back (healthy true) with the federated ReplicaSet's preferences, and
// measures it.
func runTransition(ctx context.Context, f *framework.Federation, c kubernetes.Interface, etcd *clientv3.Client, tr *tracker, svc, zone, region string, healthy bool) (*transition, error) {
	before, err := etcdRevision(ctx, etcd)
	if err != nil {
		return nil, err
	}
	t := &transition{svc: svc, member: zone, healthy: healthy}
	prefs, replicas := without(zone), int32(0)
	if healthy {
		prefs, replicas = everywhere, 1
	}
	patch := fmt.Sprintf(`{"metadata": {"annotations": {%q: %q}}}`, annotations.ReplicaSetPreferences, prefs)
	t.patched = time.Now()
	if _, err := c.AppsV1().ReplicaSets(ns).Patch(ctx, svc, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		return nil, err
	}
	if t.changed, err = tr.waitShard(ctx, transitionTimeout, zone, svc, healthy, t.patched); err != nil {
		return nil, fmt.Errorf("the member's EndpointSlices did not change: %w", err)
	}
	// CoreDNS from t0: the zone name points up to the region while the
	// shard is out, and at the member's load balancer when it is back.
	name := zoneName(svc, zone, region)
	qtype, want := dns.TypeCNAME, []string{fmt.Sprintf("%s %d CNAME %s", name, ttl, regionName(svc, region))}
	if healthy {
		qtype, want = dns.TypeA, aRecords(name, tr.ip(zone, svc))
	}
	if t.answered, err = pollAnswer(ctx, f.DNS, name, qtype, want, t.changed); err != nil {
		return nil, err
	}
	t.copied, _ = tr.copyScaled(zone, svc, replicas, t.patched)
	after, err := waitQuiet(ctx, etcd, tr, svc, quiet)
	if err != nil {
		return nil, err
	}
	t.writes = after - before
	return t, nil
}

// pollAnswer asks CoreDNS for name every pollEvery from from, until it
// answers exactly want, and returns when that answer came.
func pollAnswer(ctx context.Context, d *framework.DNSServer, name string, qtype uint16, want []string, from time.Time) (time.Time, error) {
	deadline := from.Add(transitionTimeout)
	var last string
	for next := from; ; {
		time.Sleep(time.Until(next))
		sent := time.Now()
		r, err := d.Query(ctx, name, qtype)
		now := time.Now()
		if err == nil && r.Rcode == dns.RcodeSuccess && slices.Equal(framework.Answers(r), want) {
			return now, nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("rcode %s, answer %q", dns.RcodeToString[r.Rcode], framework.Answers(r))
		}
		if now.After(deadline) {
			return time.Time{}, fmt.Errorf("CoreDNS does not answer %s %s with %q %s after the shard changed: %s", dns.TypeToString[qtype], name, want, transitionTimeout, last)
		}
		// The next query pollEvery after this one was sent: a slow query
		// does not make the next ones come in a burst.
		next = sent.Add(pollEvery)
	}
}

// readWriteLog reads the controller manager's log for its "Updated DNS
// records" lines (one per provider Apply, at -v=2, logged once the
// Apply returned) and adds to each transition those of its Service
// between its patch and the next transition's.
func readWriteLog(path string, ts []*transition) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	type write struct {
		svc string
		at  time.Time
	}
	var writes []write
	year := time.Now().Year()
	s := bufio.NewScanner(file)
	s.Buffer(make([]byte, 1<<20), 16<<20)
	for s.Scan() {
		line := s.Text()
		if !strings.Contains(line, `"Updated DNS records"`) || len(line) < 21 {
			continue
		}
		// I1202 10:46:27.499010   20222 reconcile.go:159] "Updated DNS records" logger="service-dns" service="ns/name" change="..."
		at, err := time.ParseInLocation("0102 15:04:05.000000", line[1:21], time.Local)
		if err != nil {
			continue
		}
		at = at.AddDate(year-at.Year(), 0, 0)
		_, rest, ok := strings.Cut(line, ` service="`+ns+"/")
		if !ok {
			continue
		}
		svc, _, _ := strings.Cut(rest, `"`)
		writes = append(writes, write{svc, at})
	}
	if err := s.Err(); err != nil {
		return err
	}
	for i, t := range ts {
		end := time.Now()
		if i+1 < len(ts) {
			end = ts[i+1].patched
		}
		for _, w := range writes {
			if w.svc == t.svc && !w.at.Before(t.patched) && w.at.Before(end) {
				if t.logged == 0 {
					t.loggedAt = w.at
				}
				t.logged++
			}
		}
	}
	return nil
}

type stats struct {
	p50, p99, max time.Duration
	n             int
}

func statsOf(ds []time.Duration) stats {
	if len(ds) == 0 {
		return stats{}
	}
	ds = slices.Sorted(slices.Values(ds))
	return stats{p50: nearestRank(ds, 0.5), p99: nearestRank(ds, 0.99), max: ds[len(ds)-1], n: len(ds)}
}

// nearestRank is the p-th percentile of sorted xs, by the nearest rank:
// with 50 samples the p99 is the largest.
func nearestRank[T cmp.Ordered](xs []T, p float64) T {
	i := int(math.Ceil(float64(len(xs))*p)) - 1
	return xs[max(0, min(i, len(xs)-1))]
}

type result struct {
	unreadyP99 time.Duration
	writesMean float64
	writesOff  int
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	default:
		return d.Round(time.Millisecond)
	}
}

// report prints the table and reports the metrics.
func report(b *testing.B, total, measured int, ts []*transition, pub publication, created, cpuPublish, cpuTransitions time.Duration, rss int64, logErr error) result {
	var dnsLag, ref, refFed, ctrl, provider [2][]time.Duration // by healthy
	var writes []int64
	var sumWrites int64
	var logged, writesOff int
	for _, t := range ts {
		h := 0
		if t.healthy {
			h = 1
		}
		dnsLag[h] = append(dnsLag[h], t.answered.Sub(t.changed))
		ref[h] = append(ref[h], t.changed.Sub(t.patched))
		if !t.copied.IsZero() {
			refFed[h] = append(refFed[h], t.copied.Sub(t.patched))
		}
		if !t.loggedAt.IsZero() {
			ctrl[h] = append(ctrl[h], t.loggedAt.Sub(t.changed))
			provider[h] = append(provider[h], t.answered.Sub(t.loggedAt))
		}
		writes = append(writes, t.writes)
		sumWrites += t.writes
		logged += t.logged
		if t.writes != 1 {
			writesOff++
		}
	}
	res := result{writesOff: writesOff}
	if len(ts) > 0 {
		res.writesMean = float64(sumWrites) / float64(len(ts))
	}
	down, up := statsOf(dnsLag[0]), statsOf(dnsLag[1])
	res.unreadyP99 = down.p99
	refDown, refUp := statsOf(ref[0]), statsOf(ref[1])
	fedDown, fedUp := statsOf(refFed[0]), statsOf(refFed[1])

	fmt.Printf("\nService DNS: %d federated LoadBalancer Services over 3 members, CoreDNS (etcd plugin); %d Services each taken out of one member and back, one transition at a time\n", total, measured)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "metric\tn\tp50\tp99\tmax\tgoal\treference, same run (p50 / p99)\t")
	row := func(what string, s stats, goal, ref string) {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", what, s.n, round(s.p50), round(s.p99), round(s.max), goal, ref)
	}
	pair := func(s stats) string { return fmt.Sprintf("%s / %s", round(s.p50), round(s.p99)) }
	row("shard unready -> CoreDNS answers zone CNAME", down, "p99 <= "+goal.String(),
		"preferences patched -> shard unready: "+pair(refDown)+" (federation scaled the copy: "+pair(fedDown)+")")
	if logErr == nil {
		row("  of which shard unready -> write logged", statsOf(ctrl[0]), "", "")
		row("  of which write logged -> CoreDNS answers", statsOf(provider[0]), "", "")
	}
	row("shard ready -> CoreDNS answers zone A", up, "(not judged)",
		"preferences patched -> shard ready: "+pair(refUp)+" (federation scaled the copy: "+pair(fedUp)+")")
	if logErr == nil {
		row("  of which shard ready -> write logged", statsOf(ctrl[1]), "", "")
		row("  of which write logged -> CoreDNS answers", statsOf(provider[1]), "", "")
	}
	slices.Sort(writes)
	if len(writes) == 0 {
		writes = []int64{0}
	}
	fmt.Fprintf(w, "etcd transactions per transition\t%d\t%d\t%d\t%d\texactly 1\tmean %.2f, %d not 1; \"Updated DNS records\" lines per transition %.2f\t\n",
		len(ts), nearestRank(writes, 0.5), nearestRank(writes, 0.99), writes[len(writes)-1], res.writesMean, writesOff, float64(logged)/float64(max(1, len(ts))))
	lag := statsOf(pub.lag)
	fmt.Fprintf(w, "publication: %d Services created -> every global A answered\t%d\t\t\t%s\t\tmembers done (every copy with an address and a ready endpoint): %s; Services created in %s; %d etcd transactions (%.2f per Service)\t\n",
		total, total, round(pub.answered), round(pub.membersDone), round(created), pub.writes, float64(pub.writes)/float64(total))
	row("  a Service's members done -> global A answered", lag, "", "(200 ms between passes)")
	_ = w.Flush()
	fmt.Printf("controller manager: RSS %.1f MiB with %d Services; processor %s for the publication (%.2f ms per Service), %s while the %d transitions ran (%.1f ms each, quiet waits included)\n",
		float64(rss)/(1<<20), total, round(cpuPublish), float64(cpuPublish.Microseconds())/1000/float64(total),
		round(cpuTransitions), len(ts), float64(cpuTransitions.Microseconds())/1000/float64(max(1, len(ts))))
	if logErr != nil {
		fmt.Printf("(the controller manager's log could not be read: %v)\n", logErr)
	}
	fmt.Println()

	b.ReportMetric(down.p50.Seconds(), "s-unready-p50")
	b.ReportMetric(down.p99.Seconds(), "s-unready-p99")
	b.ReportMetric(up.p99.Seconds(), "s-ready-p99")
	b.ReportMetric(res.writesMean, "writes/transition")
	b.ReportMetric(pub.answered.Seconds(), "s-publish")
	b.ReportMetric(float64(rss)/(1<<20), "MiB-RSS")
	return res
}
