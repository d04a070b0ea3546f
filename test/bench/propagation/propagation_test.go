// Package propagation benchmarks how fast objects created in the federation
// reach every member, beside the same writes made straight to the members
// by a parallel client (the floor), in the same run.
package propagation

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
	fedinformers "github.com/kfederation/client-go/informers/externalversions"

	"github.com/kfederation/federation/test/bench/benchload"
	"github.com/kfederation/federation/test/framework"
)

// kind is one kind of object the benchmark creates.
type kind struct {
	name     string
	kind     string
	resource string
	create   func(ctx context.Context, c kubernetes.Interface, meta metav1.ObjectMeta) error
	// copyAnnotations are the annotations the federation puts on this
	// kind's member copies, besides the user's.
	copyAnnotations map[string]string
	// membersDone, if set, says whether a member's own controllers are done
	// with n objects of the kind in ns (a Service's EndpointSlices), so
	// that their work is not charged to the next phase.
	membersDone func(ctx context.Context, c kubernetes.Interface, ns string, n int) bool
	// rounds is how many rounds of floor and federation the median is
	// taken over (FEDERATION_BENCH_ROUNDS overrides it). One phase's rate
	// varies by a quarter on a shared 2-core machine, so the cheap kinds
	// get more rounds. Services get an even number: the members slow down
	// from one Services phase to the next even though each phase's
	// Services are deleted, and the order of the two paths alternates from
	// round to round, so an odd number put the federation second, on the
	// slower members, in two rounds of three.
	rounds int
	// emptied kinds have each phase's objects deleted after the phase, so
	// that every phase starts from members holding the same objects. A
	// member's cost per Service grows with the Services it holds
	// (kube-apiserver's ClusterIP allocator counts every allocated address
	// on each create): kept, they would charge whichever phase came later,
	// 32 ms of member processor per Service in empty members against 83
	// ms with 6,000 Services in each.
	emptied bool
}

var kinds = []kind{
	{"ConfigMaps", "ConfigMap", "configmaps", func(ctx context.Context, c kubernetes.Interface, meta metav1.ObjectMeta) error {
		_, err := c.CoreV1().ConfigMaps(meta.Namespace).Create(ctx, &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"k": meta.Name}}, metav1.CreateOptions{})
		return err
	}, nil, nil, 5, false},
	{"Services", "Service", "services", func(ctx context.Context, c kubernetes.Interface, meta metav1.ObjectMeta) error {
		_, err := c.CoreV1().Services(meta.Namespace).Create(ctx, &corev1.Service{
			ObjectMeta: meta,
			Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": meta.Name}, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
		}, metav1.CreateOptions{})
		return err
	}, map[string]string{"federation.k8s.io/generation": "1"}, func(ctx context.Context, c kubernetes.Interface, ns string, n int) bool {
		slices, err := c.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{})
		return err == nil && len(slices.Items) >= n
	}, 4, true},
}

// cpuGroups names the processes of the run by role, to tell where the
// processor time of each phase goes.
func cpuGroups(f *framework.Federation) map[string][]*framework.Process {
	g := map[string][]*framework.Process{
		"members' etcd":                     {f.Etcd.Process},
		"federation-apiserver and its etcd": {f.APIServer},
		"federation-controller-manager":     {f.ControllerManager},
	}
	if neighbour != nil {
		// Not in cpuGroupOrder: no part of either path's cost.
		g[neighbourGroup] = []*framework.Process{neighbour}
	}
	for _, m := range f.Members {
		g["member kube-apiservers"] = append(g["member kube-apiservers"], m.APIServer)
		g["member controllers, scheduler, kwok"] = append(g["member controllers, scheduler, kwok"], m.ControllerManager, m.Scheduler, m.Kwok)
	}
	return g
}

// neighbour keeps the federation's processors busy in their idle time
// (see benchload.StartNeighbour); nil when none runs.
var neighbour *framework.Process

const neighbourGroup = "neighbour"

var cpuGroupOrder = []string{"members' etcd", "federation-apiserver and its etcd", "federation-controller-manager", "member kube-apiservers", "member controllers, scheduler, kwok", "benchmark client"}

// cpuSnapshot is the processor time used so far by each group.
func cpuSnapshot(f *framework.Federation) map[string]time.Duration {
	out := map[string]time.Duration{}
	for name, ps := range cpuGroups(f) {
		for _, p := range ps {
			if p == nil {
				continue
			}
			if d, err := p.CPUTime(); err == nil {
				out[name] += d
			}
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		out["benchmark client"] = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return out
}

func cpuSince(f *framework.Federation, before map[string]time.Duration) map[string]time.Duration {
	now := cpuSnapshot(f)
	for k, v := range before {
		now[k] -= v
	}
	return now
}

// watchRecorded marks an object in tracker once its Propagation says it
// is propagated to every member: the federation's own record of the
// object is complete.
func watchRecorded(ctx context.Context, b *testing.B, f *framework.Federation, ns, kind string, tracker *benchload.Tracker) {
	fc, err := f.FederationClient()
	if err != nil {
		b.Fatal(err)
	}
	factory := fedinformers.NewSharedInformerFactoryWithOptions(fc, 0, fedinformers.WithNamespace(ns))
	inf := factory.Federation().V1beta1().Propagations().Informer()
	check := func(obj interface{}) {
		p := obj.(*federationv1beta1.Propagation)
		propagated := 0
		for _, c := range p.Status.Clusters {
			if c.State == federationv1beta1.PropagationPropagated {
				propagated++
			}
		}
		if propagated == len(f.Members) {
			tracker.Add("federation", strings.TrimPrefix(p.Name, kind+"."))
		}
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: check, UpdateFunc: func(_, obj interface{}) { check(obj) }})
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
}

// recordedLags are, for each of the n objects, how long after the last
// member had its copy the object's Propagation said Propagated in every
// member (zero when it said so first).
func recordedLags(copies, recorded *benchload.Tracker, n int) []time.Duration {
	lags := make([]time.Duration, n)
	for i := range lags {
		name := fmt.Sprintf("obj-%d", i)
		lags[i] = max(0, recorded.LastSeen(name).Sub(copies.LastSeen(name)))
	}
	return lags
}

// saveAPIServerProfile saves a CPU profile of an API server over seconds.
func saveAPIServerProfile(ctx context.Context, b *testing.B, c kubernetes.Interface, seconds int, path string) {
	saveAPIServerPath(ctx, b, c, "/debug/pprof/profile?seconds="+strconv.Itoa(seconds), path)
}

// saveAPIServerPath saves what an API server serves at urlPath (a profile)
// to file.
func saveAPIServerPath(ctx context.Context, b *testing.B, c kubernetes.Interface, urlPath, file string) {
	data, err := c.CoreV1().RESTClient().Get().RequestURI(urlPath).DoRaw(ctx)
	if err == nil {
		err = os.WriteFile(file, data, 0o644)
	}
	if err != nil {
		b.Logf("profile %s: %v", urlPath, err)
	}
}

// saveControllerManagerPath saves what the controller manager's secure port
// serves at urlPath (its metrics or a profile) to file.
func saveControllerManagerPath(ctx context.Context, b *testing.B, f *framework.Federation, urlPath, file string) {
	data, err := f.ControllerManagerGet(ctx, urlPath)
	if err == nil {
		err = os.WriteFile(file, data, 0o644)
	}
	if err != nil {
		b.Logf("profile %s: %v", urlPath, err)
	}
}

func ensureNamespace(ctx context.Context, b *testing.B, c kubernetes.Interface, name string) {
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
}

// waitNamespaceInMembers waits until a federated namespace reached every
// member, so that timing starts with it in place.
func waitNamespaceInMembers(ctx context.Context, f *framework.Federation, name string) {
	for _, m := range f.Members {
		for {
			if _, err := m.Client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// removeFederatedNamespace deletes a namespace in the federation, and so
// its objects and their copies, and waits until it is gone from the
// federation and from every member.
func removeFederatedNamespace(ctx context.Context, b *testing.B, f *framework.Federation, ns string) {
	if err := f.Client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		b.Fatal(err)
	}
	waitNamespaceGone(ctx, b, f.Client, "the federation", ns)
	for _, m := range f.Members {
		waitNamespaceGone(ctx, b, m.Client, "member "+m.Name, ns)
	}
}

// removeMemberNamespace deletes a namespace in every member and waits until
// it is gone.
func removeMemberNamespace(ctx context.Context, b *testing.B, f *framework.Federation, ns string) {
	for _, m := range f.Members {
		if err := m.Client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	for _, m := range f.Members {
		waitNamespaceGone(ctx, b, m.Client, "member "+m.Name, ns)
	}
}

func waitNamespaceGone(ctx context.Context, b *testing.B, c kubernetes.Interface, where, ns string) {
	deadline := time.Now().Add(10 * time.Minute)
	for {
		_, err := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("namespace %s is still in %s 10 minutes after its deletion (last answer: %v)", ns, where, err)
		}
		time.Sleep(time.Second)
	}
}

// settle waits until the machine is quiet (the processes of the run, the
// neighbour aside, use less than a fifth of a core) before a phase, so
// that one phase's stragglers, or the members' own start-up, are not
// charged to the next.
func settle(f *framework.Federation) {
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		before := cpuSnapshot(f)
		time.Sleep(2 * time.Second)
		var used time.Duration
		for g, d := range cpuSince(f, before) {
			if g != neighbourGroup { // busy by design
				used += d
			}
		}
		if used < 400*time.Millisecond {
			return
		}
	}
}

// federationGroups are the cpuGroups of the federation's own processes.
var federationGroups = map[string]bool{"federation-apiserver and its etcd": true, "federation-controller-manager": true}

// settleFederation waits until the federation's own processes are quiet
// (less than a tenth of a core together), at most a minute.
func settleFederation(f *framework.Federation) {
	benchload.WaitQuiet([]*framework.Process{f.APIServer, f.ControllerManager}, time.Second, 100*time.Millisecond, time.Minute)
}

// waitMembersDone waits until every member's controllers are done with
// the n objects of kind k in ns.
func waitMembersDone(ctx context.Context, b *testing.B, f *framework.Federation, k kind, ns string, n int) {
	if k.membersDone == nil {
		return
	}
	deadline := time.Now().Add(5 * time.Minute)
	for _, m := range f.Members {
		for !k.membersDone(ctx, m.Client, ns, n) {
			if time.Now().After(deadline) {
				b.Fatalf("the controllers of member %s are not done with %d %s in %s after 5 minutes", m.Name, n, k.resource, ns)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
}

// cpuTicks reads, for each processor, its busy and total time so far
// from /proc/stat (in clock ticks).
func cpuTicks() map[int][2]uint64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil
	}
	out := map[int][2]uint64{}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 || !strings.HasPrefix(fields[0], "cpu") || fields[0] == "cpu" {
			continue
		}
		cpu, err := strconv.Atoi(strings.TrimPrefix(fields[0], "cpu"))
		if err != nil {
			continue
		}
		var busy, total uint64
		for i, f := range fields[1:] {
			v, _ := strconv.ParseUint(f, 10, 64)
			total += v
			if i != 3 && i != 4 { // idle, iowait
				busy += v
			}
		}
		out[cpu] = [2]uint64{busy, total}
	}
	return out
}

// busyText says how busy each processor was since before, e.g.
// "cpu0 78%, cpu1 99%": which side held the phase back.
func busyText(before map[int][2]uint64) string {
	now := cpuTicks()
	var parts []string
	for cpu := 0; cpu < len(now); cpu++ {
		b, a := before[cpu], now[cpu]
		if a[1] <= b[1] {
			continue
		}
		parts = append(parts, fmt.Sprintf("cpu%d %.0f%%", cpu, 100*float64(a[0]-b[0])/float64(a[1]-b[1])))
	}
	return strings.Join(parts, ", ")
}

// neighbourText tells how much of a processor the neighbour had in a
// phase of length wall (its share of the busy figures), "" with none.
func neighbourText(used map[string]time.Duration, wall time.Duration) string {
	d, ok := used[neighbourGroup]
	if !ok || wall <= 0 {
		return ""
	}
	return fmt.Sprintf(" (the neighbour %.0f%% of one)", 100*d.Seconds()/wall.Seconds())
}

// membersUsed is the processor time of the member clusters' processes.
func membersUsed(used map[string]time.Duration) time.Duration {
	return used["members' etcd"] + used["member kube-apiservers"] + used["member controllers, scheduler, kwok"]
}

// printSides splits the federated path's processor time per object between
// the federation's processors and the members': at saturation the side with
// more work per object sets the pace, whatever the other could do.
// total is the path's processor time, the members' part of it members.
func printSides(fedCPUs, memberCPUs []int, total, members time.Duration, n int) {
	federation := total - members
	fmt.Printf("  through federation, per object: %.2f ms on the federation's processors %v, %.2f ms on the members' %v (%.2f times as much on the federation's)\n",
		msPerObject(federation, n), fedCPUs, msPerObject(members, n), memberCPUs, federation.Seconds()/members.Seconds())
}

// memberSyncSeconds is the controller manager's total time spent on member
// writes so far, all clusters together (the sum of its
// federation_sync_member_duration_seconds histogram).
func memberSyncSeconds(ctx context.Context, f *framework.Federation) float64 {
	data, err := f.ControllerManagerGet(ctx, "/metrics")
	if err != nil {
		return 0
	}
	return benchload.Sum(benchload.ParseMetrics(data), "federation_sync_member_duration_seconds_sum", nil)
}

func msPerObject(d time.Duration, n int) float64 {
	return float64(d.Microseconds()) / 1000 / float64(n)
}

// memoryReading is the controller manager's resident memory while it held
// a number of federated objects.
type memoryReading struct {
	rss     int64
	objects int
}

// roundResult is one round of a kind: the floor and the federation at
// saturation.
type roundResult struct {
	floor, fed         benchload.Result
	recordedThroughput float64
	floorUsed, fedUsed map[string]time.Duration
	floorBusy, fedBusy string
	// floorInFlight and fedInFlight are the writes each member had in
	// flight on average: whether the federation keeps the members as busy
	// as the floor's client does.
	floorInFlight, fedInFlight float64
	// fedRSS is the controller manager's resident memory right after the
	// federated phase, its objects still held.
	fedRSS int64
}

// memberNamespace makes the namespace ns in every member for n objects of
// kind k written straight to them, and returns the tracker of their copies.
func memberNamespace(ctx context.Context, b *testing.B, f *framework.Federation, k kind, ns string, n int) *benchload.Tracker {
	for _, m := range f.Members {
		ensureNamespace(ctx, b, m.Client, ns)
	}
	tracker := benchload.NewTracker(len(f.Members), n)
	benchload.WatchMembers(ctx, b, f, ns, k.resource, tracker)
	return tracker
}

// federatedPhase makes the federated namespace ns for n objects of kind k
// written through the federation, and returns the trackers of their copies
// in the members and of their Propagations saying Propagated.
func federatedPhase(ctx context.Context, b *testing.B, f *framework.Federation, k kind, ns string, n int) (copies, recorded *benchload.Tracker) {
	copies = federatedNamespace(ctx, b, f, k, ns, n)
	recorded = benchload.NewTracker(1, n)
	watchRecorded(ctx, b, f, ns, strings.ToLower(k.kind), recorded)
	return copies, recorded
}

// steadyRounds is how many rounds of the steady load each kind's latency
// is pooled over (FEDERATION_BENCH_STEADY_ROUNDS overrides it): an even
// number, so that each path runs second, after the other, as often as
// first (see kind.rounds).
const steadyRounds = 4

// steadyResult is one round of the steady load: the objects' times
// straight to the members and through the federation, how long after the
// last member's copy each object's Propagation said Propagated, and the
// controller manager's memory after it.
type steadyResult struct {
	direct, fed benchload.Result
	lags        []time.Duration
	fedRSS      int64
}

// measureSteady writes n objects at rate a second straight to the members
// (the reference: what the members alone give at that load) and n through
// the federation, each into fresh namespaces; the order alternates from
// round to round, as in measureRound. Under saturation, latency only says
// how long the queue of a burst is; a control plane is judged on how fast
// an object arrives under a load it can take, as Kubernetes' own pod
// startup SLO is measured.
func measureSteady(ctx context.Context, b *testing.B, f *framework.Federation, k kind, n, round int, rate float64, profileDir string) steadyResult {
	var sr steadyResult
	directPhase := func() {
		ns := fmt.Sprintf("steady-direct-%s-%d", k.resource, round)
		tracker := memberNamespace(ctx, b, f, k, ns, n)
		settle(f)
		clients := benchload.MemberWriters(b, f)
		var writing atomic.Int64
		sr.direct = benchload.Run(ctx, b, n, rate, tracker, func(ctx context.Context, name string) error {
			return benchload.WriteStraight(ctx, k.create, k.copyAnnotations, clients, ns, name, &writing)
		})
		endMemberPhase(ctx, b, f, k, ns, n)
	}
	fedPhase := func() {
		ns := fmt.Sprintf("steady-%s-%d", k.resource, round)
		tracker, recorded := federatedPhase(ctx, b, f, k, ns, n)
		settle(f)
		client := benchload.Writer(b, f.Endpoint)
		sr.fed = benchload.Run(ctx, b, n, rate, tracker, func(ctx context.Context, name string) error {
			return k.create(ctx, client, metav1.ObjectMeta{Namespace: ns, Name: name})
		})
		recorded.WaitComplete(b, "had a Propagation saying Propagated")
		sr.lags = recordedLags(tracker, recorded, n)
		sr.fedRSS = endFederatedPhase(ctx, b, f, k, ns, n)
	}
	alternate(round, directPhase, fedPhase)
	if profileDir != "" {
		for name, r := range map[string]benchload.Result{"steady-direct": sr.direct, "steady": sr.fed} {
			path := filepath.Join(profileDir, fmt.Sprintf("%s-%s-%d.csv", name, k.resource, round))
			if err := benchload.WriteTimes(path, r.Begin, r.Objects); err != nil {
				b.Logf("save the steady phase's times: %v", err)
			}
		}
	}
	return sr
}

// measureRound writes n objects straight to the members (the floor) and n
// through the federation, each into fresh namespaces.
func measureRound(ctx context.Context, b *testing.B, f *framework.Federation, k kind, n, round int, profileDir string) roundResult {
	var rd roundResult
	floorPhase := func() {
		// The floor: the same objects written straight to every member by a
		// parallel client.
		direct := fmt.Sprintf("direct-%s-%d", k.resource, round)
		floorTracker := memberNamespace(ctx, b, f, k, direct, n)
		floorClients := benchload.MemberWriters(b, f)
		if os.Getenv("FEDERATION_BENCH_FLOOR_WATCH") != "" {
			// One such watch, for this phase only: the federation keeps one.
			watchCtx, stopWatch := context.WithCancel(ctx)
			defer stopWatch()
			// The members' processor per object on the two paths then
			// says whether anything else differs.
			benchload.WatchLikeTheFederation(b, f, k.resource, watchCtx.Done())
		}
		settle(f)
		var floorProfile sync.WaitGroup
		if profileDir != "" {
			// A member's kube-apiserver in both paths, to compare what the
			// members spend; the floor's length is guessed from n.
			floorProfile.Add(1)
			go func() {
				defer floorProfile.Done()
				saveAPIServerProfile(ctx, b, f.Members[0].Client, n/250+1, filepath.Join(profileDir, fmt.Sprintf("%s-%d-member-floor.pprof", k.resource, round)))
			}()
		}
		floorCPU, floorTicks := cpuSnapshot(f), cpuTicks()
		var floorWriting atomic.Int64 // nanoseconds of member writes, all members
		write := func(ctx context.Context, name string) error {
			return benchload.WriteStraight(ctx, k.create, k.copyAnnotations, floorClients, direct, name, &floorWriting)
		}
		if os.Getenv("FEDERATION_BENCH_FLOOR_LINES") != "" {
			// As the federation writes: a line per member.
			lines := benchload.NewMemberLines(ctx, b, k.create, k.copyAnnotations, floorClients, direct, n, &floorWriting)
			defer lines.Close()
			write = lines.Write
		}
		rd.floor = benchload.Run(ctx, b, n, 0, floorTracker, write)
		rd.floorUsed = cpuSince(f, floorCPU)
		rd.floorBusy = busyText(floorTicks) + neighbourText(rd.floorUsed, rd.floor.Wall)
		rd.floorInFlight = float64(floorWriting.Load()) / float64(rd.floor.Wall) / float64(len(f.Members))
		floorProfile.Wait()
		endMemberPhase(ctx, b, f, k, direct, n)
	}
	fedPhase := func() {
		// Through the federation.
		fedNS := fmt.Sprintf("bench-%s-%d", k.resource, round)
		fedTracker, recordedTracker := federatedPhase(ctx, b, f, k, fedNS, n)
		settle(f)
		var profiles sync.WaitGroup
		if profileDir != "" {
			// The phase's length is guessed from the floor's, or from n
			// when the floor has not run yet.
			secs := int(2*rd.floor.Wall.Seconds()) + 2
			if rd.floor.Wall == 0 {
				secs = n/100 + 2
			}
			seconds := strconv.Itoa(secs)
			prefix := filepath.Join(profileDir, fmt.Sprintf("%s-%d-", k.resource, round))
			profiles.Add(3)
			go func() {
				defer profiles.Done()
				saveControllerManagerPath(ctx, b, f, "/debug/pprof/profile?seconds="+seconds, prefix+"controller-manager.pprof")
			}()
			go func() {
				defer profiles.Done()
				saveAPIServerProfile(ctx, b, f.Client, secs, prefix+"apiserver.pprof")
			}()
			go func() {
				defer profiles.Done()
				saveAPIServerProfile(ctx, b, f.Members[0].Client, secs, prefix+"member.pprof")
			}()
		}
		fedClient := benchload.Writer(b, f.Endpoint)
		fedCPU, fedTicks := cpuSnapshot(f), cpuTicks()
		fedWriting := memberSyncSeconds(ctx, f)
		rd.fed = benchload.Run(ctx, b, n, 0, fedTracker, func(ctx context.Context, name string) error {
			return k.create(ctx, fedClient, metav1.ObjectMeta{Namespace: fedNS, Name: name})
		})
		rd.fedUsed = cpuSince(f, fedCPU)
		rd.fedBusy = busyText(fedTicks) + neighbourText(rd.fedUsed, rd.fed.Wall)
		rd.fedInFlight = (memberSyncSeconds(ctx, f) - fedWriting) / rd.fed.Wall.Seconds() / float64(len(f.Members))
		// Events and Propagations trail the member writes: how long until
		// the federation's records are complete too.
		lastRecorded := recordedTracker.WaitComplete(b, "had a Propagation saying Propagated")
		rd.recordedThroughput = float64(n) / lastRecorded.Sub(rd.fed.Begin).Seconds()
		// The federation's own processes are charged until they are quiet
		// again: their bookkeeping trails the member writes, and a phase
		// that ends early (ConfigMaps, in seconds) would otherwise leave
		// most of it uncharged while a long one (Services) pays for all.
		settleFederation(f)
		for g, d := range cpuSince(f, fedCPU) {
			if federationGroups[g] {
				rd.fedUsed[g] = d
			}
		}
		profiles.Wait()
		rd.fedRSS = endFederatedPhase(ctx, b, f, k, fedNS, n)
	}
	alternate(round, floorPhase, fedPhase)
	return rd
}

// alternate runs a phase straight to the members and one through the
// federation, straight first in odd rounds: members get slower as they fill
// up, so neither path is always the later one.
func alternate(round int, straight, federated func()) {
	if round%2 == 1 {
		straight()
		federated()
	} else {
		federated()
		straight()
	}
}

// endMemberPhase waits until the members are done with the phase's n
// objects written straight into ns, and deletes them for kinds the
// benchmark empties after each phase.
func endMemberPhase(ctx context.Context, b *testing.B, f *framework.Federation, k kind, ns string, n int) {
	waitMembersDone(ctx, b, f, k, ns, n)
	if k.emptied {
		removeMemberNamespace(ctx, b, f, ns)
	}
}

// endFederatedPhase waits until the members are done with the phase's n
// objects in ns, reads the controller manager's memory with them held, and
// deletes them for kinds the benchmark empties after each phase.
func endFederatedPhase(ctx context.Context, b *testing.B, f *framework.Federation, k kind, ns string, n int) (rss int64) {
	waitMembersDone(ctx, b, f, k, ns, n)
	rss, _ = f.ControllerManager.RSSBytes()
	if k.emptied {
		removeFederatedNamespace(ctx, b, f, ns)
	}
	return rss
}

func BenchmarkPropagation(b *testing.B) {
	if err := framework.EnsureBinaries(); err != nil {
		b.Fatal(err)
	}
	// FEDERATION_BENCH_PROFILE_DIR=dir saves CPU profiles of the
	// federation-apiserver and the federation-controller-manager, taken
	// during each federated phase at saturation, for `go tool pprof`.
	profileDir := os.Getenv("FEDERATION_BENCH_PROFILE_DIR")
	fedCPUs, memberCPUs := benchload.Pinning()
	if fedCPUs != nil {
		if err := framework.PinThisProcess(fedCPUs); err != nil {
			b.Fatal(err)
		}
	}
	members := []framework.MemberOptions{
		{Name: "us-central1-a", Zone: "us-central1-a", Region: "us-central1", Nodes: 1},
		{Name: "us-central1-b", Zone: "us-central1-b", Region: "us-central1", Nodes: 1},
		{Name: "europe-west1-b", Zone: "europe-west1-b", Region: "europe-west1", Nodes: 1},
	}
	cmArgs := []string{"--leader-elect=false", "--concurrent-syncs=20", "--kube-api-qps=1000", "--kube-api-burst=2000", "--member-api-qps=1000", "--member-api-burst=2000"}
	if profileDir != "" {
		for i := range members {
			members[i].APIServerArgs = []string{"--profiling=true"}
		}
		cmArgs = append(cmArgs, "--profiling=true")
	}
	f := framework.StartForTest(b, framework.Options{
		Members: members,
		// The federation keeps its own etcd, as in a real deployment,
		// rather than sharing the members'.
		EmbeddedEtcd:          true,
		FederationCPUs:        fedCPUs,
		MemberCPUs:            memberCPUs,
		ControllerManagerArgs: cmArgs,
		// FEDERATION_BENCH_LOG_DIR keeps the logs of a passing run.
		LogDir: os.Getenv("FEDERATION_BENCH_LOG_DIR"),
	})
	ctx := context.Background()
	if err := f.RegisterAll(ctx); err != nil {
		b.Fatal(err)
	}
	if err := f.WaitClustersReady(ctx, 2*time.Minute); err != nil {
		b.Fatal(err)
	}
	neighbour = benchload.StartNeighbour(b, fedCPUs, os.Getenv("FEDERATION_BENCH_LOG_DIR"))
	n := benchload.PositiveEnv("FEDERATION_BENCH_OBJECTS", 1000)
	fmt.Printf("\nPropagation of %d objects per kind to %d members (%d client workers)\n", n, len(f.Members), benchload.Workers)
	if fedCPUs != nil {
		fmt.Printf("CPUs: federation-apiserver (embedded etcd), federation-controller-manager and client on %v; members (etcd, kube-apiservers, controllers, kwok) on %v\n", fedCPUs, memberCPUs)
		if neighbour != nil {
			fmt.Printf("      a neighbour fills the idle time of %v in both paths (FEDERATION_BENCH_NEIGHBOUR=off: none)\n", fedCPUs)
		}
	} else {
		fmt.Printf("CPUs: all processes share all %d CPUs\n", runtime.NumCPU())
	}
	fmt.Printf("%-11s %-20s %-26s %9s %9s %10s\n", "kind", "path", "load", "p50", "p99", "objects/s")
	rssBefore, _ := f.ControllerManager.RSSBytes()
	only := os.Getenv("FEDERATION_BENCH_KINDS") // e.g. "configmaps"; all when empty
	// The controller manager's memory is read after each federated phase,
	// with the number of federated objects it then holds; the reading with
	// the most objects gives the figure.
	var mem memoryReading
	held := 0
	// federationCost is, per kind, the federation-apiserver's and the
	// controller manager's processor time per object at saturation (ms).
	federationCost := map[string][2]float64{}
	// fedRates is, per kind, the median throughput through the federation.
	fedRates := map[string]float64{}
	reading := func(rss int64, objects int) {
		if objects >= mem.objects {
			mem = memoryReading{rss, objects}
			if profileDir != "" {
				// What the controller manager and the federation-apiserver
				// hold at its largest reading, for `go tool pprof
				// -sample_index=inuse_space`.
				saveControllerManagerPath(ctx, b, f, "/debug/pprof/heap?gc=1", filepath.Join(profileDir, "controller-manager.heap"))
				saveAPIServerPath(ctx, b, f.Client, "/debug/pprof/heap?gc=1", filepath.Join(profileDir, "apiserver.heap"))
			}
		}
	}
	for _, k := range kinds {
		if only != "" && !strings.Contains(only, k.resource) {
			continue
		}
		rounds := benchload.PositiveEnv("FEDERATION_BENCH_ROUNDS", k.rounds)
		var ratios, memberRatios []float64
		floorUsed, fedUsed := map[string]time.Duration{}, map[string]time.Duration{}
		var floorRates, fedRatesOfKind []float64
		for r := 1; r <= rounds; r++ {
			rd := measureRound(ctx, b, f, k, n, r, profileDir)
			floorRates = append(floorRates, rd.floor.Throughput)
			fedRatesOfKind = append(fedRatesOfKind, rd.fed.Throughput)
			reading(rd.fedRSS, held+n)
			if !k.emptied {
				held += n
			}
			ratio := rd.fed.Throughput / rd.floor.Throughput
			ratios = append(ratios, ratio)
			memberRatios = append(memberRatios, float64(membersUsed(rd.fedUsed))/float64(membersUsed(rd.floorUsed)))
			for g, d := range rd.floorUsed {
				floorUsed[g] += d
			}
			for g, d := range rd.fedUsed {
				fedUsed[g] += d
			}
			round := fmt.Sprintf("saturation, round %d", r)
			fmt.Printf("%-11s %-20s %-26s %9s %9s %10.1f\n", k.name, "straight to members", round, rd.floor.P50.Round(time.Millisecond), rd.floor.P99.Round(time.Millisecond), rd.floor.Throughput)
			fmt.Printf("%-11s %-20s %-26s %9s %9s %10.1f   %.2f of the floor\n", k.name, "through federation", round, rd.fed.P50.Round(time.Millisecond), rd.fed.P99.Round(time.Millisecond), rd.fed.Throughput, ratio)
			fmt.Printf("%-11s %-20s %-26s %9s %9s %10.1f   until every Propagation says Propagated\n", k.name, "  recorded", round, "", "", rd.recordedThroughput)
			fmt.Printf("%-11s processors busy: straight to members %s; through federation %s\n", "", rd.floorBusy, rd.fedBusy)
			fmt.Printf("%-11s members: %.2f / %.2f ms of processor per object, %.1f / %.1f writes in flight each (straight / through federation)\n", "",
				msPerObject(membersUsed(rd.floorUsed), n), msPerObject(membersUsed(rd.fedUsed), n), rd.floorInFlight, rd.fedInFlight)
		}

		// Then latency at a steady half of the floor's median rate (the
		// floor's median, as one round's rate on this VM may be a quarter
		// off the others'), straight to the members and through the
		// federation, in steadyRounds rounds pooled: a p99 of one round's
		// objects is its tenth slowest, and one stall of either side, or of
		// the members alone, decided it.
		rate := benchload.Median(floorRates) / 2
		steadyRuns := benchload.PositiveEnv("FEDERATION_BENCH_STEADY_ROUNDS", steadyRounds)
		var directs, steadies []benchload.Result
		var lags []time.Duration
		for r := 1; r <= steadyRuns; r++ {
			sr := measureSteady(ctx, b, f, k, n, r, rate, profileDir)
			directs, steadies, lags = append(directs, sr.direct), append(steadies, sr.fed), append(lags, sr.lags...)
			reading(sr.fedRSS, held+n)
			if !k.emptied {
				held += n
			}
			if steadyRuns > 1 {
				round := fmt.Sprintf("steady, round %d", r)
				fmt.Printf("%-11s %-20s %-26s %9s %9s\n", k.name, "straight to members", round, sr.direct.P50.Round(time.Millisecond), sr.direct.P99.Round(time.Millisecond))
				fmt.Printf("%-11s %-20s %-26s %9s %9s\n", k.name, "through federation", round, sr.fed.P50.Round(time.Millisecond), sr.fed.P99.Round(time.Millisecond))
			}
		}
		direct, steady := benchload.Pooled(directs...), benchload.Pooled(steadies...)
		recordLag := benchload.Result{P50: benchload.Percentile(lags, 0.5), P99: benchload.Percentile(lags, 0.99)}
		pooled := fmt.Sprintf("steady %.0f/s (floor/2)", rate)
		if steadyRuns > 1 {
			pooled = fmt.Sprintf("steady %.0f/s, %d rounds", rate, steadyRuns)
		}
		fmt.Printf("%-11s %-20s %-26s %9s %9s %10.1f   p99 to the first member %s\n", k.name, "straight to members", pooled, direct.P50.Round(time.Millisecond), direct.P99.Round(time.Millisecond), direct.Throughput, direct.FirstP99.Round(time.Millisecond))
		fmt.Printf("%-11s %-20s %-26s %9s %9s %10.1f   p99 goal < 1s; p99 to the first member %s (the create %s, from its answer to the first member %s)\n", k.name, "through federation", pooled, steady.P50.Round(time.Millisecond), steady.P99.Round(time.Millisecond), steady.Throughput, steady.FirstP99.Round(time.Millisecond), steady.CreateP99.Round(time.Millisecond), steady.AfterCreateP99.Round(time.Millisecond))
		fmt.Printf("%-11s %-20s %-26s %9s %9s %10s   goal <= 1s after the last member's copy\n", k.name, "  Propagated", "steady, after last copy", recordLag.P50.Round(time.Millisecond), recordLag.P99.Round(time.Millisecond), "")
		fmt.Printf("%-11s steady p99 through the federation / straight to members: %.2f over %d objects each (goal <= 1.2)\n", k.name, steady.P99.Seconds()/direct.P99.Seconds(), len(steady.Objects))
		throughput := benchload.Median(ratios)
		fmt.Printf("%-11s throughput through the federation: median %.2f of the floor over %d rounds (goal >= 0.95)\n", k.name, throughput, rounds)
		fmt.Printf("%-11s members' processor per object, through federation / straight: median %.2f over %d rounds (goal <= 1.05)\n", k.name, benchload.Median(memberRatios), rounds)
		fedRates[k.resource] = benchload.Median(fedRatesOfKind)
		federationCost[k.resource] = [2]float64{
			msPerObject(fedUsed["federation-apiserver and its etcd"], n*rounds),
			msPerObject(fedUsed["federation-controller-manager"], n*rounds),
		}
		fmt.Printf("  processor time per object at saturation (ms): %21s %20s\n", "straight to members", "through federation")
		var floorTotal, fedTotal time.Duration
		for _, g := range cpuGroupOrder {
			fmt.Printf("    %-40s %25.2f %20.2f\n", g, msPerObject(floorUsed[g], n*rounds), msPerObject(fedUsed[g], n*rounds))
			floorTotal += floorUsed[g]
			fedTotal += fedUsed[g]
		}
		fmt.Printf("    %-40s %25.2f %20.2f\n", "total", msPerObject(floorTotal, n*rounds), msPerObject(fedTotal, n*rounds))
		if fedCPUs != nil {
			printSides(fedCPUs, memberCPUs, fedTotal, membersUsed(fedUsed), n*rounds)
		}
		b.ReportMetric(steady.P99.Seconds(), k.resource+"-steady-p99-s")
		b.ReportMetric(throughput, k.resource+"-throughput-ratio")
	}
	if profileDir != "" {
		if data, err := f.Client.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx); err == nil {
			_ = os.WriteFile(filepath.Join(profileDir, "apiserver.metrics"), data, 0o644)
		}
		saveControllerManagerPath(ctx, b, f, "/metrics", filepath.Join(profileDir, "controller-manager.metrics"))
		for _, m := range f.Members {
			if data, err := m.Client.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx); err == nil {
				_ = os.WriteFile(filepath.Join(profileDir, m.Name+".metrics"), data, 0o644)
			}
		}
	}
	if cm, svc := federationCost["configmaps"], federationCost["services"]; cm[0] > 0 && svc[0] > 0 {
		fmt.Printf("a Service costs the federation-apiserver %.2f ms (%.1fx a ConfigMap's %.2f) and the controller manager %.2f ms (%.1fx a ConfigMap's %.2f); goal <= 2x\n",
			svc[0], svc[0]/cm[0], cm[0], svc[1], svc[1]/cm[1], cm[1])
	}
	perThousand := float64(mem.rss-rssBefore) / (float64(mem.objects) / 1000) / (1 << 20)
	fmt.Printf("federation-controller-manager RSS: %.0f MiB before, %.0f MiB holding %d federated objects: %.1f MiB per 1,000 objects (goal <= 20)\n",
		float64(rssBefore)/(1<<20), float64(mem.rss)/(1<<20), mem.objects, perThousand)
	b.ReportMetric(perThousand, "MiB-per-1000-objects")
	if cm, svc := federationCost["configmaps"], federationCost["services"]; cm[0] > 0 && svc[0] > 0 {
		// Last, so that its objects are not in the memory reading.
		printCostAtServicesRate(ctx, b, f, kinds[0], min(n, 300), fedRates["services"], svc)
	}
}

// printCostAtServicesRate charges the federation's processes for ConfigMaps
// created through it at the rate Services went through it, and compares a
// Service's cost with that. The members take ten times as long over a
// Service as over a ConfigMap, so a Services phase runs at a tenth of the
// rate: the federation's fixed costs per write (etcd's fsync, which a fast
// burst shares among many writes) and per second weigh on each Service far
// more than on each ConfigMap of a fast burst. At the same rate, what is
// left is what a Service itself costs.
func printCostAtServicesRate(ctx context.Context, b *testing.B, f *framework.Federation, k kind, n int, rate float64, svc [2]float64) {
	ns := "same-rate-" + k.resource
	tracker := federatedNamespace(ctx, b, f, k, ns, n)
	settle(f)
	client := benchload.Writer(b, f.Endpoint)
	before := cpuSnapshot(f)
	benchload.Run(ctx, b, n, rate, tracker, func(ctx context.Context, name string) error {
		return k.create(ctx, client, metav1.ObjectMeta{Namespace: ns, Name: name})
	})
	settleFederation(f)
	used := cpuSince(f, before)
	cm := [2]float64{msPerObject(used["federation-apiserver and its etcd"], n), msPerObject(used["federation-controller-manager"], n)}
	fmt.Printf("at the Services' rate (%.1f/s, %d ConfigMaps): a ConfigMap costs the federation-apiserver %.2f ms, a Service %.1fx that; the controller manager %.2f ms, a Service %.1fx that; goal <= 2x\n",
		rate, n, cm[0], svc[0]/cm[0], cm[1], svc[1]/cm[1])
	b.ReportMetric(svc[0]/cm[0], "service-apiserver-cost-ratio-same-rate")
	b.ReportMetric(svc[1]/cm[1], "service-cm-cost-ratio-same-rate")
}

// federatedNamespace creates namespace ns in the federation, waits until
// every member has it, and returns a tracker of the n objects of kind k
// arriving in the members there.
func federatedNamespace(ctx context.Context, b *testing.B, f *framework.Federation, k kind, ns string, n int) *benchload.Tracker {
	ensureNamespace(ctx, b, f.Client, ns)
	waitNamespaceInMembers(ctx, f, ns)
	tracker := benchload.NewTracker(len(f.Members), n)
	benchload.WatchMembers(ctx, b, f, ns, k.resource, tracker)
	return tracker
}
