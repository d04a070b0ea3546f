// Package scale benchmarks the federation with many members: lean member
// clusters (a kube-apiserver each, framework.MemberOptions.Lean) are added
// ten, then twenty-five, then fifty (FEDERATION_BENCH_SCALE_MEMBERS), and at
// each size ConfigMaps and Services are propagated at saturation and at a
// steady load, beside the floor (the same copies written straight to the
// members, at saturation and at the same steady load), while the
// controller manager's processor time, memory, watches and connections
// are read. A least-squares fit over the sizes says how
// its costs grow with the number of members.
//
// The environment variables it reads, all optional:
//
//	FEDERATION_BENCH_SCALE_MEMBERS      sizes, increasing (default 10,25,50)
//	FEDERATION_BENCH_SCALE_OBJECTS      objects per kind and phase (default 100)
//	FEDERATION_BENCH_SCALE_KINDS        the kinds to run, by resource:
//	                                    configmaps, services (default both)
//	FEDERATION_BENCH_SCALE_PROFILE_DIR  where to save the controller manager's
//	                                    heap profiles (at rest and holding each
//	                                    kind's objects) and CPU profiles (each
//	                                    federated saturation phase), per size,
//	                                    and CPU profiles of every member's
//	                                    kube-apiserver over the first 10 s of
//	                                    each phase, a directory per phase
//	FEDERATION_BENCH_SHARED_CPUS        any value: no pinning of the federation
//	                                    and the members to separate CPUs
//	FEDERATION_BENCH_FLOOR_WATCH        any value: while the floor writes, keep
//	                                    on every member the watch the controller
//	                                    manager keeps on its copies
//
// The default of 100 objects keeps the default run near 20 minutes on 2
// cores: a phase writes objects × N copies, 5,000 at 50 members, and a
// lean member's kube-apiserver takes about 5 ms of processor per Service
// (its ClusterIP allocator), so the members' one core makes Services the
// long pole. A run at 3 and 6 members with 100 objects takes 3 minutes.
package scale

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kfederation/federation/test/bench/benchload"
	"github.com/kfederation/federation/test/framework"
)

// sizes are the member counts of FEDERATION_BENCH_SCALE_MEMBERS (default
// 10,25,50), increasing.
func sizes(b *testing.B) []int {
	s := os.Getenv("FEDERATION_BENCH_SCALE_MEMBERS")
	if s == "" {
		s = "10,25,50"
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || (len(out) > 0 && n <= out[len(out)-1]) {
			b.Fatalf("FEDERATION_BENCH_SCALE_MEMBERS=%q: want increasing positive member counts, e.g. 10,25,50", s)
		}
		out = append(out, n)
	}
	return out
}

// kindResult is one kind at one size.
type kindResult struct {
	// floorSteady is the floor at the steady phase's rate: the members'
	// own p50 and p99 at that load.
	// floorLines is the floor at saturation written as the federation
	// writes, a line per member (benchload.MemberLines).
	floor, floorLines, floorSteady, fed, steady benchload.Result
	// floorMembersCPU, floorLinesMembersCPU and fedMembersCPU are the
	// members' processor time (their kube-apiservers and etcd) during the
	// floor's and the federated saturation phases: what a copy cost them
	// on each path.
	floorMembersCPU, floorLinesMembersCPU, fedMembersCPU time.Duration
	// floorEtcdCPU, floorLinesEtcdCPU and fedEtcdCPU are the members'
	// etcd's share of them.
	floorEtcdCPU, floorLinesEtcdCPU, fedEtcdCPU time.Duration
	// floorRequests, floorLinesRequests and fedRequests are what the
	// members served during the same phases.
	floorRequests, floorLinesRequests, fedRequests requestCounts
	// fedWrites are the federation-apiserver's writes over the federated
	// saturation phase, until the controller manager was quiet: the
	// objects, their Propagations and events.
	fedWrites requestCounts
	// fedAPIServerCPU is the federation-apiserver's processor time (its
	// embedded etcd's included) over the same time, fedSettled.
	fedAPIServerCPU, fedSettled time.Duration
	// cmCPU is the controller manager's processor time from the start
	// of the federated saturation phase until it was quiet again, and the
	// same for the steady phase; objects is how many objects the two
	// created.
	cmCPU   time.Duration
	objects int
	// cmWall is how long those two stretches took: at rest the controller
	// manager spends a little per member and second (probes, resyncs, a
	// larger heap to collect), which a slower phase pays more of per copy.
	cmWall time.Duration
	// heldRSS and heldHeap are the controller manager's resident memory
	// and live heap right after the saturation phase, its objects and their
	// copies in every member still held.
	heldRSS, heldHeap int64
	// failedWrites are the member writes of the kind that failed during the
	// federated saturation phase (mostly timeouts, each written again on
	// the retry), and cuts the times a member's writes at once were cut
	// then, from the controller manager's metrics.
	failedWrites, cuts int
	// fedSyncs and steadySyncs are the syncs of the kind's objects over
	// the federated saturation and steady phases, until the controller
	// manager was quiet: how many times each object was brought in line
	// with every member.
	fedSyncs, steadySyncs int
	// fedCauses and steadyCauses are those syncs by the reason that queued
	// each (federation_sync_causes_total).
	fedCauses, steadyCauses syncCauses
	// fedNotReady and steadyNotReady are the times a member was counted
	// not Ready during each phase, by the message that said why.
	fedNotReady, steadyNotReady       int
	fedNotReadyWhy, steadyNotReadyWhy map[string]int
	// fedSyncTime is the time the saturation phase's syncs took in all:
	// over the phase's length, how many of the workers were busy.
	fedSyncTime time.Duration
	// steadyAllowance is the fewest writes of the kind at once any member
	// was allowed as the steady phase began: below --concurrent-syncs if
	// the saturation phase's timeouts cut it and it has not grown back.
	steadyAllowance int
}

// sizeResult is one size.
type sizeResult struct {
	n int
	// added is how long the members took to start, register and be Ready.
	added time.Duration
	// The controller manager at rest with n members: resident memory,
	// processor time over restWindow, watches open on the members and
	// established TCP connections to them.
	rss     int64
	heap    int64
	restCPU time.Duration
	watches int
	conns   int
	kinds   map[string]*kindResult
}

const restWindow = 20 * time.Second

// concurrentSyncs is the controller manager's --concurrent-syncs: as many
// workers as the benchmark's client has.
const concurrentSyncs = benchload.Workers

// watchCount is the sum of kube-apiserver's apiserver_longrunning_requests
// gauge for WATCH over the members: the watches open on them, theirs
// included (a kube-apiserver's own informers watch it through its loopback
// client).
func watchCount(ctx context.Context, b *testing.B, members ...kubernetes.Interface) int {
	total := 0
	for _, c := range members {
		data, err := c.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
		if err != nil {
			b.Fatalf("member metrics: %v", err)
		}
		total += int(benchload.Sum(benchload.ParseMetrics(data), "apiserver_longrunning_requests", map[string]string{"verb": "WATCH"}))
	}
	return total
}

// liveHeap is the controller manager's heap after a garbage collection
// (its /debug/pprof/heap?gc=1 runs one, then go_memstats_heap_alloc_bytes
// of /metrics): its memory without the garbage and the high-water mark of
// earlier phases that its RSS keeps. With FEDERATION_BENCH_SCALE_PROFILE_DIR
// the heap profile is saved there as name.heap.
func liveHeap(ctx context.Context, b *testing.B, f *framework.Federation, name string) int64 {
	profile, err := f.ControllerManagerGet(ctx, "/debug/pprof/heap?gc=1")
	if err != nil {
		b.Logf("controller manager heap: %v", err)
		return -1
	}
	if dir := os.Getenv("FEDERATION_BENCH_SCALE_PROFILE_DIR"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Log(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".heap"), profile, 0o644); err != nil {
			b.Log(err)
		}
	}
	ms, ok := controllerManagerMetrics(ctx, b, f)
	if !ok || len(ms["go_memstats_heap_alloc_bytes"]) == 0 {
		return -1
	}
	return int64(benchload.Sum(ms, "go_memstats_heap_alloc_bytes", nil))
}

// controllerManagerMetrics reads the controller manager's /metrics; false
// (logged) if it cannot.
func controllerManagerMetrics(ctx context.Context, b *testing.B, f *framework.Federation) (benchload.Metrics, bool) {
	data, err := f.ControllerManagerGet(ctx, "/metrics")
	if err != nil {
		b.Logf("controller manager metrics: %v", err)
		return nil, false
	}
	return benchload.ParseMetrics(data), true
}

// memberConns counts the controller manager's established TCP
// connections to the members' kube-apiservers.
func memberConns(b *testing.B, f *framework.Federation) int {
	ports := map[string]bool{}
	for _, m := range f.Members {
		u, err := url.Parse(m.Endpoint.Server)
		if err != nil {
			b.Fatal(err)
		}
		ports[u.Port()] = true
	}
	peers, err := f.ControllerManager.TCPPeers()
	if err != nil {
		b.Logf("controller manager's connections: %v", err)
		return -1
	}
	n := 0
	for _, p := range peers {
		if i := strings.LastIndexByte(p, ':'); i >= 0 && ports[p[i+1:]] {
			n++
		}
	}
	return n
}

// memberProcesses are the members' kube-apiservers and their shared etcd.
func memberProcesses(f *framework.Federation) []*framework.Process {
	ps := []*framework.Process{f.Etcd.Process}
	for _, m := range f.Members {
		ps = append(ps, m.Processes()...)
	}
	return ps
}

// waitQuiet waits until p uses less than 5 % of a core over a second (at
// most 2 minutes): the end of a phase's work, its records and events
// included.
func waitQuiet(p *framework.Process) {
	benchload.WaitQuiet([]*framework.Process{p}, time.Second, 50*time.Millisecond, 2*time.Minute)
}

// deleteObjects deletes the benchmark's objects (obj-*) of kind k in ns
// with c and waits until none is left there nor in any of members.
func deleteObjects(ctx context.Context, b *testing.B, k kind, c kubernetes.Interface, ns string, members []kubernetes.Interface) {
	if err := k.deleteAll(ctx, c, ns); err != nil {
		b.Fatalf("delete %s in %s: %v", k.resource, ns, err)
	}
	deadline := time.Now().Add(10 * time.Minute)
	for _, mc := range append([]kubernetes.Interface{c}, members...) {
		for {
			n, err := k.count(ctx, mc, ns)
			if err == nil && n == 0 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%d %s left in %s 10 minutes after their deletion (%v)", n, k.resource, ns, err)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
}

// deleteStraight deletes the floor's objects in every member.
func deleteStraight(ctx context.Context, b *testing.B, k kind, members []kubernetes.Interface, ns string) {
	errs := make(chan error, len(members))
	for _, c := range members {
		go func() { errs <- k.deleteAll(ctx, c, ns) }()
	}
	for range members {
		if err := <-errs; err != nil {
			b.Fatalf("delete %s in %s: %v", k.resource, ns, err)
		}
	}
	for _, c := range members {
		deleteObjects(ctx, b, k, c, ns, nil)
	}
}

// warmUp writes a few objects of every kind straight to every member and
// deletes them: a kube-apiserver's first writes of a kind cost it more than
// the later ones, and the floor, which runs first, would pay for them (1.5
// against 1.1 ms of member processor per ConfigMap copy in a trial run).
func warmUp(ctx context.Context, b *testing.B, f *framework.Federation) {
	members := benchload.MemberWriters(b, f)
	ns := fmt.Sprintf("warmup-%d", len(f.Members))
	for _, c := range members {
		ensureNamespace(ctx, b, c, ns)
	}
	for _, k := range kinds {
		if err := parallel(benchload.Workers, func(i int) error {
			return benchload.WriteStraight(ctx, k.create, k.copyAnnotations, members, ns, benchload.Name(i), nil)
		}); err != nil {
			b.Fatalf("warm-up: %v", err)
		}
		deleteStraight(ctx, b, k, members, ns)
	}
}

// memberWriteTrouble is the controller manager's count of member
// requests of kind k that failed (federation_sync_member_errors_total),
// and of cuts of a member's writes of k at once
// (federation_sync_member_write_allowance_cuts_total); -1 if they cannot
// be read.
func memberWriteTrouble(ctx context.Context, b *testing.B, f *framework.Federation, k kind) (failed, cuts int) {
	ms, ok := controllerManagerMetrics(ctx, b, f)
	if !ok {
		return -1, -1
	}
	match := map[string]string{"kind": strings.ToLower(k.kind)}
	return int(benchload.Sum(ms, "federation_sync_member_errors_total", match)),
		int(benchload.Sum(ms, "federation_sync_member_write_allowance_cuts_total", match))
}

// syncs are the controller manager's count of syncs of kind k's objects
// and the time they took in all (federation_sync_duration_seconds); -1
// if they cannot be read.
func syncs(ctx context.Context, b *testing.B, f *framework.Federation, k kind) (int, time.Duration) {
	ms, ok := controllerManagerMetrics(ctx, b, f)
	if !ok {
		return -1, -1
	}
	match := map[string]string{"kind": strings.ToLower(k.kind)}
	return int(benchload.Sum(ms, "federation_sync_duration_seconds_count", match)),
		time.Duration(benchload.Sum(ms, "federation_sync_duration_seconds_sum", match) * float64(time.Second))
}

// syncCauses are a kind's syncs by the reason that queued each.
type syncCauses map[string]float64

// causes reads the syncs of kind k so far by cause, nil if the controller
// manager's metrics cannot be read.
func causes(ctx context.Context, b *testing.B, f *framework.Federation, k kind) syncCauses {
	ms, ok := controllerManagerMetrics(ctx, b, f)
	if !ok {
		return nil
	}
	out := syncCauses{}
	for _, s := range ms["federation_sync_causes_total"] {
		if benchload.Matches(s, map[string]string{"kind": strings.ToLower(k.kind)}) {
			out[benchload.Label(s, "reason")] += float64(s.Value)
		}
	}
	return out
}

// since is c less the counts in c0.
func (c syncCauses) since(c0 syncCauses) syncCauses {
	out := syncCauses{}
	for why, v := range c {
		if d := v - c0[why]; d > 0 {
			out[why] = d
		}
	}
	return out
}

// perObject prints the causes per object over n objects, most first.
func (c syncCauses) perObject(n int) string {
	if c == nil {
		return "unknown"
	}
	reasons := make([]string, 0, len(c))
	for why := range c {
		reasons = append(reasons, why)
	}
	sort.Slice(reasons, func(i, j int) bool { return c[reasons[i]] > c[reasons[j]] })
	parts := make([]string, 0, len(reasons))
	for _, why := range reasons {
		parts = append(parts, fmt.Sprintf("%s %.2f", why, c[why]/float64(n)))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// lowestWriteAllowance is the fewest writes of kind k at once the
// controller manager allows any member (federation_sync_member_write_allowance),
// -1 if it cannot be read or no write has ended yet.
func lowestWriteAllowance(ctx context.Context, b *testing.B, f *framework.Federation, k kind) int {
	ms, ok := controllerManagerMetrics(ctx, b, f)
	if !ok {
		return -1
	}
	lowest := -1
	for _, s := range ms["federation_sync_member_write_allowance"] {
		if benchload.Matches(s, map[string]string{"kind": strings.ToLower(k.kind)}) && (lowest < 0 || int(s.Value) < lowest) {
			lowest = int(s.Value)
		}
	}
	return lowest
}

// federatedPhase readies a phase of n objects of kind k created through
// the federation in namespace ns: the namespace in the federation and in
// every member, a tracker of the objects in the members, and the machine
// quiet. endPhase stops the tracker's watches.
func federatedPhase(ctx context.Context, b *testing.B, f *framework.Federation, fedClient kubernetes.Interface, k kind, ns string, n int) (tracker *benchload.Tracker, endPhase context.CancelFunc) {
	ensureNamespace(ctx, b, fedClient, ns)
	waitNamespaceInMembers(ctx, b, f, ns)
	return trackedPhase(ctx, b, f, k, ns, n)
}

// trackedPhase starts tracking n objects of kind k in namespace ns of every
// member, and waits until the machine is quiet. endPhase stops the
// tracker's watches.
func trackedPhase(ctx context.Context, b *testing.B, f *framework.Federation, k kind, ns string, n int) (tracker *benchload.Tracker, endPhase context.CancelFunc) {
	phase, endPhase := context.WithCancel(ctx)
	tracker = benchload.NewTracker(len(f.Members), n)
	benchload.WatchMembers(phase, b, f, ns, k.resource, tracker)
	settle(processes(f))
	return tracker, endPhase
}

// straightPhase writes n objects of kind k straight to every member, in
// namespace ns, at rate objects a second (0: as fast as the members take
// them), and deletes them after: the floor. Each object's copies are
// written together, and the next object waits for a free worker; or, with
// lines (at saturation), as the federation writes them: a line per member
// (benchload.MemberLines). membersCPU is the members' processor time while
// they were written.
func straightPhase(ctx context.Context, b *testing.B, f *framework.Federation, k kind, members []kubernetes.Interface, ns string, n int, rate float64, lines bool) (r benchload.Result, membersCPU, etcdCPU time.Duration, requests requestCounts) {
	for _, c := range members {
		ensureNamespace(ctx, b, c, ns)
	}
	tracker, endPhase := trackedPhase(ctx, b, f, k, ns, n)
	defer endPhase() // on a failed phase; the watches stop before the deletion otherwise
	if os.Getenv("FEDERATION_BENCH_FLOOR_WATCH") != "" {
		// What the federated path adds to the members' requests is the
		// controller manager's watch on its copies: with it here too, the
		// two paths differ only in how the writes come.
		watching, stopWatching := context.WithCancel(ctx)
		defer stopWatching()
		benchload.WatchLikeTheFederation(b, f, k.resource, watching.Done())
		settle(processes(f))
	}
	requests = memberRequests(ctx, b, f)
	load := "saturation"
	if rate > 0 {
		load = "steady"
	}
	profiled := profileMembers(ctx, b, f, fmt.Sprintf("%d-members-%s-member-straight-%s", len(f.Members), k.resource, load))
	write := func(ctx context.Context, name string) error {
		return benchload.WriteStraight(ctx, k.create, k.copyAnnotations, members, ns, name, nil)
	}
	if lines && rate == 0 {
		lines := benchload.NewMemberLines(ctx, b, k.create, k.copyAnnotations, members, ns, n, nil)
		defer lines.Close()
		write = lines.Write
	}
	m0, e0, u0 := benchload.CPU(memberProcesses(f)...), benchload.CPU(f.Etcd.Process), apiServersUsage(f)
	r = benchload.Run(ctx, b, n, rate, tracker, write)
	membersCPU, etcdCPU, used := benchload.CPU(memberProcesses(f)...)-m0, benchload.CPU(f.Etcd.Process)-e0, apiServersUsage(f).Sub(u0)
	profiled()
	requests = memberRequests(ctx, b, f).since(requests)
	requests.setUsage(used)
	endPhase()
	deleteStraight(ctx, b, k, members, ns)
	return r, membersCPU, etcdCPU, requests
}

// steadyRate is the steady load, objects a second: half the slower of
// the two floors, a load the members can take however the copies come.
// Half the usual floor alone is, at fifty members on one core, about what
// the members take at most when each goes at its own pace (a line each),
// and the steady phase then measured a backlog, not a latency.
func (kr *kindResult) steadyRate() float64 {
	return math.Min(kr.floor.Throughput, kr.floorLines.Throughput) / 2
}

// atRestOver is what a process that spent rest of processor over
// restWindow at rest spends over wall: a longer phase pays more of it.
func atRestOver(rest, wall time.Duration) time.Duration {
	return time.Duration(float64(rest) * wall.Seconds() / restWindow.Seconds())
}

// cmOverRest is the controller manager's processor time over the two
// phases less what it would have spent at rest over as long (rest over
// restWindow at rest).
func (kr *kindResult) cmOverRest(rest time.Duration) time.Duration {
	return kr.cmCPU - atRestOver(rest, kr.cmWall)
}

// measureKind runs the floors, the federation at saturation and the
// federation at a steady half of the slower floor's rate for n objects of
// kind k, each phase in a fresh namespace and its objects deleted after it.
func measureKind(ctx context.Context, b *testing.B, f *framework.Federation, k kind, n int) *kindResult {
	kr := &kindResult{}
	size := len(f.Members)
	members := benchload.MemberWriters(b, f)
	fedClient := benchload.Writer(b, f.Endpoint)

	// The floor: the same copies written straight to every member, at
	// saturation, then at the steady rate the federation gets below.
	kr.floor, kr.floorMembersCPU, kr.floorEtcdCPU, kr.floorRequests = straightPhase(ctx, b, f, k, members, fmt.Sprintf("floor-%s-%d", k.resource, size), n, 0, false)
	// The same copies in a line per member, as the federation writes: at
	// fifty members on one core this alone costs the members about twice
	// the processor per copy (docs/dev/benchmarks.md, seventh pass).
	kr.floorLines, kr.floorLinesMembersCPU, kr.floorLinesEtcdCPU, kr.floorLinesRequests = straightPhase(ctx, b, f, k, members, fmt.Sprintf("floor-lines-%s-%d", k.resource, size), n, 0, true)
	kr.floorSteady, _, _, _ = straightPhase(ctx, b, f, k, members, fmt.Sprintf("floor-steady-%s-%d", k.resource, size), n, kr.steadyRate(), false)

	// Through the federation, at saturation.
	fedNS := fmt.Sprintf("fed-%s-%d", k.resource, size)
	tracker, endPhase := federatedPhase(ctx, b, f, fedClient, k, fedNS, n)
	profiled := make(chan struct{})
	if dir := os.Getenv("FEDERATION_BENCH_SCALE_PROFILE_DIR"); dir != "" {
		// The phase's length, until the controller manager is quiet,
		// guessed from the floor's.
		seconds := int(3*kr.floor.Wall.Seconds()) + 5
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Log(err)
		}
		go func() {
			defer close(profiled)
			data, err := f.ControllerManagerGet(ctx, fmt.Sprintf("/debug/pprof/profile?seconds=%d", seconds))
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d-members-%s-saturation.pprof", size, k.resource)), data, 0o644)
			}
			if err != nil {
				b.Logf("controller manager profile: %v", err)
			}
		}()
	} else {
		close(profiled)
	}
	requests0 := memberRequests(ctx, b, f)
	memberProfiled := profileMembers(ctx, b, f, fmt.Sprintf("%d-members-%s-member-federated", size, k.resource))
	cpu0, m0, e0, u0 := benchload.CPU(f.ControllerManager), benchload.CPU(memberProcesses(f)...), benchload.CPU(f.Etcd.Process), apiServersUsage(f)
	api0, phaseStart := benchload.CPU(f.APIServer), time.Now()
	failed0, cuts0 := memberWriteTrouble(ctx, b, f, k)
	syncs0, syncTime0 := syncs(ctx, b, f, k)
	causes0 := causes(ctx, b, f, k)
	fedWrites0 := federationWrites(ctx, b, f)
	kr.fed = benchload.Run(ctx, b, n, 0, tracker, func(ctx context.Context, name string) error {
		return k.create(ctx, fedClient, metav1.ObjectMeta{Namespace: fedNS, Name: name})
	})
	kr.fedMembersCPU, kr.fedEtcdCPU = benchload.CPU(memberProcesses(f)...)-m0, benchload.CPU(f.Etcd.Process)-e0
	used := apiServersUsage(f).Sub(u0)
	memberProfiled()
	kr.fedRequests = memberRequests(ctx, b, f).since(requests0)
	kr.fedRequests.setUsage(used)
	waitQuiet(f.ControllerManager)
	kr.cmCPU += benchload.CPU(f.ControllerManager) - cpu0
	kr.cmWall += time.Since(phaseStart)
	failed1, cuts1 := memberWriteTrouble(ctx, b, f, k)
	kr.failedWrites, kr.cuts = failed1-failed0, cuts1-cuts0
	syncs1, syncTime1 := syncs(ctx, b, f, k)
	kr.fedSyncs, kr.fedSyncTime = syncs1-syncs0, syncTime1-syncTime0
	kr.fedCauses = causes(ctx, b, f, k).since(causes0)
	kr.fedNotReady, kr.fedNotReadyWhy = notReadyTimes(ctx, b, fedClient, phaseStart)
	kr.fedWrites = federationWrites(ctx, b, f).since(fedWrites0)
	kr.fedAPIServerCPU, kr.fedSettled = benchload.CPU(f.APIServer)-api0, time.Since(phaseStart)
	<-profiled
	kr.heldRSS, _ = f.ControllerManager.RSSBytes()
	kr.heldHeap = liveHeap(ctx, b, f, fmt.Sprintf("%d-members-%s-held", size, k.resource))
	endPhase()
	deleteObjects(ctx, b, k, fedClient, fedNS, members)

	// Through the federation at a steady half of the slower floor's rate:
	// latency under a load the members can take.
	steadyNS := fmt.Sprintf("steady-%s-%d", k.resource, size)
	tracker, endPhase = federatedPhase(ctx, b, f, fedClient, k, steadyNS, n)
	cpu0, steadyStart := benchload.CPU(f.ControllerManager), time.Now()
	kr.steadyAllowance = lowestWriteAllowance(ctx, b, f, k)
	syncs0, _ = syncs(ctx, b, f, k)
	causes0 = causes(ctx, b, f, k)
	kr.steady = benchload.Run(ctx, b, n, kr.steadyRate(), tracker, func(ctx context.Context, name string) error {
		return k.create(ctx, fedClient, metav1.ObjectMeta{Namespace: steadyNS, Name: name})
	})
	waitQuiet(f.ControllerManager)
	kr.cmCPU += benchload.CPU(f.ControllerManager) - cpu0
	kr.cmWall += time.Since(steadyStart)
	syncs1, _ = syncs(ctx, b, f, k)
	kr.steadySyncs = syncs1 - syncs0
	kr.steadyCauses = causes(ctx, b, f, k).since(causes0)
	kr.steadyNotReady, kr.steadyNotReadyWhy = notReadyTimes(ctx, b, fedClient, steadyStart)
	kr.objects = 2 * n
	endPhase()
	deleteObjects(ctx, b, k, fedClient, steadyNS, members)
	return kr
}

// restingMember is a member's kube-apiserver at rest.
type restingMember struct {
	rss     int64
	cpu     time.Duration // over restWindow
	watches int           // its own
}

// measureRestingMembers starts a lean and a plain APIServerOnly member on
// the shared etcd, not registered, and reads each at rest: 20 s after it
// is ready, its processor time over restWindow and then its memory and its
// own watches.
func measureRestingMembers(ctx context.Context, b *testing.B, f *framework.Federation, cpus []int) (lean, plain restingMember) {
	opts := []framework.MemberOptions{
		{Name: "reference-lean", Lean: true, CPUs: cpus},
		{Name: "reference-plain", APIServerOnly: true, CPUs: cpus},
	}
	var ms []*framework.Member
	for _, o := range opts {
		m, err := framework.StartMember(ctx, f.Etcd, f.PKI, filepath.Join(f.Dir, "members"), f.LogDir, o)
		if err != nil {
			b.Fatal(err)
		}
		defer m.Stop()
		ms = append(ms, m)
	}
	time.Sleep(20 * time.Second)
	cpu0 := []time.Duration{benchload.CPU(ms[0].APIServer), benchload.CPU(ms[1].APIServer)}
	time.Sleep(restWindow)
	var out [2]restingMember
	for i, m := range ms {
		out[i].cpu = benchload.CPU(m.APIServer) - cpu0[i]
		out[i].rss, _ = m.APIServer.RSSBytes()
		out[i].watches = watchCount(ctx, b, m.Client)
	}
	return out[0], out[1]
}

// fit is the least-squares line y = a + b·x.
func fit(xs, ys []float64) (a, b float64) {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return sy / n, 0
	}
	b = (n*sxy - sx*sy) / d
	return (sy - b*sx) / n, b
}

func msPerCopy(d time.Duration, copies int) float64 {
	return 1000 * d.Seconds() / float64(copies)
}

func mib(v int64) float64 { return float64(v) / (1 << 20) }

func BenchmarkScale(b *testing.B) {
	if err := framework.EnsureBinaries(); err != nil {
		b.Fatal(err)
	}
	fedCPUs, memberCPUs := benchload.Pinning()
	if fedCPUs != nil {
		if err := framework.PinThisProcess(fedCPUs); err != nil {
			b.Fatal(err)
		}
	}
	ns := sizes(b)
	n := benchload.PositiveEnv("FEDERATION_BENCH_SCALE_OBJECTS", 100)
	only := os.Getenv("FEDERATION_BENCH_SCALE_KINDS") // e.g. "configmaps"; all when empty
	f := framework.StartForTest(b, framework.Options{
		// No member yet: they are added size by size.
		EmbeddedEtcd:   true,
		FederationCPUs: fedCPUs,
		MemberCPUs:     memberCPUs,
		ControllerManagerArgs: []string{"--leader-elect=false", "--concurrent-syncs=" + strconv.Itoa(concurrentSyncs), "--kube-api-qps=1000", "--kube-api-burst=2000",
			"--member-api-qps=1000", "--member-api-burst=2000", "--profiling=true"},
	})
	ctx := context.Background()

	fmt.Printf("\nScale: lean members %v, %d objects per kind per phase (%d client workers)\n", ns, n, benchload.Workers)
	if fedCPUs != nil {
		fmt.Printf("CPUs: federation-apiserver (embedded etcd), federation-controller-manager and client on %v; members (etcd, kube-apiservers) on %v\n", fedCPUs, memberCPUs)
	} else {
		fmt.Printf("CPUs: all processes share all %d CPUs\n", runtime.NumCPU())
	}
	lean, plain := measureRestingMembers(ctx, b, f, memberCPUs)
	fmt.Printf("one member's kube-apiserver at rest (not registered; over %s from 20 s after ready): lean %.0f MiB, %.2f s of processor; plain APIServerOnly %.0f MiB, %.2f s (goal: lean below plain); its own watches: %d\n",
		restWindow, mib(lean.rss), lean.cpu.Seconds(), mib(plain.rss), plain.cpu.Seconds(), lean.watches)
	b.ReportMetric(mib(lean.rss), "lean-member-MiB")

	var results []*sizeResult
	for _, size := range ns {
		sr := &sizeResult{n: size, kinds: map[string]*kindResult{}}
		t0 := time.Now()
		if err := f.AddMembers(ctx, memberOptions(len(f.Members)+1, size)); err != nil {
			fmt.Printf("could not grow to %d members (%d running): %v\n", size, len(f.Members), err)
			break
		}
		if err := f.WaitClustersReady(ctx, 2*time.Minute+time.Duration(size)*3*time.Second); err != nil {
			fmt.Printf("%d members not all Ready: %v\n", size, err)
			break
		}
		sr.added = time.Since(t0)
		warmUp(ctx, b, f)
		settle(processes(f))
		cpu0 := benchload.CPU(f.ControllerManager)
		time.Sleep(restWindow)
		sr.restCPU = benchload.CPU(f.ControllerManager) - cpu0
		sr.rss, _ = f.ControllerManager.RSSBytes()
		sr.heap = liveHeap(ctx, b, f, fmt.Sprintf("%d-members-rest", size))
		// Before the benchmark's own watches: the members' watches are
		// the controller manager's and their own.
		var clients []kubernetes.Interface
		for _, m := range f.Members {
			clients = append(clients, m.Client)
		}
		sr.watches = watchCount(ctx, b, clients...) - size*lean.watches
		sr.conns = memberConns(b, f)

		prev := 0
		if len(results) > 0 {
			prev = results[len(results)-1].n
		}
		fmt.Printf("\n%d members (%d added, started, registered and Ready in %s)\n", size, size-prev, sr.added.Round(100*time.Millisecond))
		fmt.Printf("  controller manager at rest: %.0f MiB resident, %.1f MiB live heap, %.2f s of processor over %s (%.1f ms/s per member); %d watches on the members (%.1f per member, goal: constant in N); %d TCP connections to them (%.1f per member, goal: constant in N)\n",
			mib(sr.rss), mib(sr.heap), sr.restCPU.Seconds(), restWindow, 1000*sr.restCPU.Seconds()/restWindow.Seconds()/float64(size), sr.watches, float64(sr.watches)/float64(size), sr.conns, float64(sr.conns)/float64(size))
		fmt.Printf("  %-11s %-20s %-28s %9s %9s %10s\n", "kind", "path", "load", "p50", "p99", "objects/s")
		for _, k := range kinds {
			if only != "" && !strings.Contains(only, k.resource) {
				continue
			}
			kr := measureKind(ctx, b, f, k, n)
			sr.kinds[k.resource] = kr
			ratio := kr.fed.Throughput / kr.floor.Throughput
			fmt.Printf("  %-11s %-20s %-28s %9s %9s %10.1f\n", k.name, "straight to members", "saturation", kr.floor.P50.Round(time.Millisecond), kr.floor.P99.Round(time.Millisecond), kr.floor.Throughput)
			fmt.Printf("  %-11s %-20s %-28s %9s %9s %10.1f\n", k.name, "straight, line each", "saturation", kr.floorLines.P50.Round(time.Millisecond), kr.floorLines.P99.Round(time.Millisecond), kr.floorLines.Throughput)
			fmt.Printf("  %-11s %-20s %-28s %9s %9s %10.1f   %.2f of the floor; %.2f of the floor written in a line per member, as the federation writes (goal >= 0.8)\n", k.name, "through federation", "saturation", kr.fed.P50.Round(time.Millisecond), kr.fed.P99.Round(time.Millisecond), kr.fed.Throughput, ratio, kr.fed.Throughput/kr.floorLines.Throughput)
			steadyLoad := fmt.Sprintf("steady %.1f/s (slower floor/2)", kr.steadyRate())
			fmt.Printf("  %-11s %-20s %-28s %9s %9s %10.1f\n", k.name, "straight to members", steadyLoad, kr.floorSteady.P50.Round(time.Millisecond), kr.floorSteady.P99.Round(time.Millisecond), kr.floorSteady.Throughput)
			fmt.Printf("  %-11s %-20s %-28s %9s %9s %10.1f   p99 %.2fx the members alone; goal <= 1s at 50 members; fewest writes at once any member was allowed as it began: %d\n", k.name, "through federation", steadyLoad, kr.steady.P50.Round(time.Millisecond), kr.steady.P99.Round(time.Millisecond), kr.steady.Throughput, kr.steady.P99.Seconds()/kr.floorSteady.P99.Seconds(), kr.steadyAllowance)
			fmt.Printf("  %-11s members: %.2f / %.2f / %.2f ms of processor per copy (straight / straight, a line each / through federation), of which their etcd %.2f / %.2f / %.2f; %d of the federation's %d member writes failed and were retried; members' writes at once cut %d times\n", "",
				msPerCopy(kr.floorMembersCPU, n*size), msPerCopy(kr.floorLinesMembersCPU, n*size), msPerCopy(kr.fedMembersCPU, n*size), msPerCopy(kr.floorEtcdCPU, n*size), msPerCopy(kr.floorLinesEtcdCPU, n*size), msPerCopy(kr.fedEtcdCPU, n*size), kr.failedWrites, n*size, kr.cuts)
			// Fifty members at rest already keep their core partly busy.
			membersAtRest := time.Duration(size) * lean.cpu
			fmt.Printf("  %-11s members over their processor at rest (%d x one lean member's): %.2f / %.2f ms per copy\n", "", size,
				msPerCopy(kr.floorMembersCPU-atRestOver(membersAtRest, kr.floor.Wall), n*size), msPerCopy(kr.fedMembersCPU-atRestOver(membersAtRest, kr.fed.Wall), n*size))
			fmt.Printf("  %-11s syncs per object: %.1f at saturation, %.1f at the steady load (each compares every member's copy); at saturation %.1f of the %d workers busy on average until the controller manager was quiet, %.0f ms per sync\n", "",
				float64(kr.fedSyncs)/float64(n), float64(kr.steadySyncs)/float64(n), kr.fedSyncTime.Seconds()/kr.fedSettled.Seconds(), concurrentSyncs, 1000*kr.fedSyncTime.Seconds()/float64(kr.fedSyncs))
			fmt.Printf("  %-11s syncs per object by what queued them: at saturation %s; at the steady load %s\n", "",
				kr.fedCauses.perObject(n), kr.steadyCauses.perObject(n))
			fmt.Printf("  %-11s members counted not Ready (each change, and each change back, queues every object): %d times at saturation %s; %d at the steady load %s\n", "",
				kr.fedNotReady, topMessages(kr.fedNotReadyWhy), kr.steadyNotReady, topMessages(kr.steadyNotReadyWhy))
			fmt.Printf("  %-11s federation-apiserver at saturation: %.1f ms of processor per object (%.0f %% of a core from the phase's start until the controller manager was quiet); writes per object: %s\n", "",
				1000*kr.fedAPIServerCPU.Seconds()/float64(n), 100*kr.fedAPIServerCPU.Seconds()/kr.fedSettled.Seconds(), kr.fedWrites.perObject(n))
			fmt.Printf("  %-11s members' requests per copy at saturation (straight / through federation): %s\n", "", compareRequests(kr.floorRequests, kr.fedRequests, n*size))
			fmt.Printf("  %-11s members' kube-apiservers at saturation (straight / straight, a line each / through federation): %s\n", "", compareRuntime(n*size, kr.floorRequests, kr.floorLinesRequests, kr.fedRequests))
			copies := float64(kr.objects * size)
			fmt.Printf("  %-11s controller manager: %.1f ms of processor per object, %.3f ms per member copy (goal: flat in N), %.3f over its processor at rest (%.1f s over %.0f s); holding %d objects in %d members %.0f MiB resident, %.1f MiB live heap (%.1f KiB of heap per copy over at rest)\n", "",
				1000*kr.cmCPU.Seconds()/float64(kr.objects), 1000*kr.cmCPU.Seconds()/copies, 1000*kr.cmOverRest(sr.restCPU).Seconds()/copies,
				atRestOver(sr.restCPU, kr.cmWall).Seconds(), kr.cmWall.Seconds(), n, size, mib(kr.heldRSS), mib(kr.heldHeap), float64(kr.heldHeap-sr.heap)/1024/float64(n*size))
		}
		results = append(results, sr)
	}
	if len(results) == 0 {
		b.Fatal("no size reached")
	}
	last := results[len(results)-1]
	fmt.Printf("\nlargest size reached: %d members (goal: %d)\n", last.n, ns[len(ns)-1])
	b.ReportMetric(float64(last.n), "members")

	xs := make([]float64, len(results))
	for i, r := range results {
		xs[i] = float64(r.n)
	}
	predict := func(a, b, x float64) float64 { return a + b*x }
	for _, k := range kinds {
		if last.kinds[k.resource] == nil {
			continue
		}
		perObject, overRest := make([]float64, len(results)), make([]float64, len(results))
		var copies, copiesOverRest []string
		for i, r := range results {
			kr := r.kinds[k.resource]
			perObject[i] = 1000 * kr.cmCPU.Seconds() / float64(kr.objects)
			overRest[i] = 1000 * kr.cmOverRest(r.restCPU).Seconds() / float64(kr.objects)
			copies = append(copies, fmt.Sprintf("%.3f at %d", perObject[i]/float64(r.n), r.n))
			copiesOverRest = append(copiesOverRest, fmt.Sprintf("%.3f", overRest[i]/float64(r.n)))
		}
		a, slope := fit(xs, perObject)
		fmt.Printf("%-11s controller manager processor per object = %.2f + %.3f·N ms (per member copy %s ms: goal flat in N, i.e. no quadratic term); predicts %.0f ms at 100 members, %.0f ms at 1,000\n",
			k.name, a, slope, strings.Join(copies, ", "), predict(a, slope, 100), predict(a, slope, 1000))
		ra, rslope := fit(xs, overRest)
		fmt.Printf("%-11s   the same over its processor at rest = %.2f + %.3f·N ms (per member copy %s ms)\n",
			k.name, ra, rslope, strings.Join(copiesOverRest, ", "))
		kr := last.kinds[k.resource]
		b.ReportMetric(1000*slope, k.resource+"-cm-us-per-copy")
		b.ReportMetric(kr.steady.P99.Seconds(), k.resource+"-steady-p99-s")
		b.ReportMetric(kr.floorSteady.P99.Seconds(), k.resource+"-floor-steady-p99-s")
		b.ReportMetric(kr.fed.Throughput/kr.floor.Throughput, k.resource+"-throughput-ratio")
		b.ReportMetric(kr.fed.Throughput/kr.floorLines.Throughput, k.resource+"-lines-throughput-ratio")
	}
	rss, heap := make([]float64, len(results)), make([]float64, len(results))
	for i, r := range results {
		rss[i], heap[i] = mib(r.rss), mib(r.heap)
	}
	c, d := fit(xs, rss)
	hc, hd := fit(xs, heap)
	fmt.Printf("controller manager at rest: RSS = %.0f + %.2f·N MiB, live heap = %.0f + %.2f·N MiB (goal: linear in N); predicts RSS %.0f MiB (heap %.0f) at 100 members, %.0f MiB (heap %.0f) at 1,000\n",
		c, d, hc, hd, predict(c, d, 100), predict(hc, hd, 100), predict(c, d, 1000), predict(hc, hd, 1000))
	for _, k := range kinds {
		if kr := last.kinds[k.resource]; kr != nil {
			fmt.Printf("  plus %.1f KiB of live heap per %s member copy held (at %d members)\n", float64(kr.heldHeap-last.heap)/1024/float64(n*last.n), k.kind, last.n)
		}
	}
	fmt.Printf("watches per member: %.1f, TCP connections per member: %.1f at %d members (goal: constant in N)\n",
		float64(last.watches)/float64(last.n), float64(last.conns)/float64(last.n), last.n)
	b.ReportMetric(d, "cm-MiB-per-member")
	b.ReportMetric(hd, "cm-heap-MiB-per-member")
	b.ReportMetric(float64(last.watches)/float64(last.n), "watches-per-member")
	b.ReportMetric(float64(last.conns)/float64(last.n), "tcp-per-member")
}
