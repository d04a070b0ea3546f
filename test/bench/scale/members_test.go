package scale

// What the API servers did for a phase: the requests the members (and the
// federation-apiserver) served, by verb, resource and code, and (with
// FEDERATION_BENCH_SCALE_PROFILE_DIR) a CPU profile of every member's
// kube-apiserver. The two paths write the same copies; these say whether
// the federation asks anything more of the members for them.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kfederation/federation/test/bench/benchload"
	"github.com/kfederation/federation/test/framework"
)

// requestCounts are requests served, summed over the members, by
// "VERB resource[/subresource] code".
type requestCounts map[string]float64

// memberRequests sums every member's apiserver_request_total.
func memberRequests(ctx context.Context, b *testing.B, f *framework.Federation) requestCounts {
	out := requestCounts{}
	for _, m := range f.Members {
		out.add(ctx, b, m.Name, m.Client)
	}
	return out
}

// apiServersUsage is what the members' kube-apiservers have done so far.
func apiServersUsage(f *framework.Federation) framework.Usage {
	var total framework.Usage
	for _, m := range f.Members {
		if u, err := m.APIServer.Usage(); err == nil {
			total = total.Add(u)
		}
	}
	return total
}

// setUsage puts u, what the members' kube-apiservers did over a phase,
// under "runtime " keys: whether their extra processor time goes to their
// own code or to the kernel, how many system calls (mostly socket reads
// and writes) they made, and how often their threads left the processor.
// It is read at the phase's edges, apart from the metrics: a scrape of
// kube-apiserver's /metrics costs it tens of milliseconds.
func (rc requestCounts) setUsage(u framework.Usage) {
	rc["runtime user-seconds"] = u.User.Seconds()
	rc["runtime system-seconds"] = u.System.Seconds()
	rc["runtime read-calls"] = float64(u.ReadCalls)
	rc["runtime write-calls"] = float64(u.WriteCalls)
	rc["runtime switches"] = float64(u.Switches)
}

// federationWrites are the writes the federation-apiserver has served,
// from its apiserver_request_total.
func federationWrites(ctx context.Context, b *testing.B, f *framework.Federation) requestCounts {
	all := requestCounts{}
	all.add(ctx, b, "federation-apiserver", f.Client)
	out := requestCounts{}
	for k, v := range all {
		if verb, _, _ := strings.Cut(k, " "); verb == "POST" || verb == "PUT" || verb == "PATCH" || verb == "DELETE" {
			out[k] = v
		}
	}
	return out
}

// add adds the API server's apiserver_request_total, read through c.
func (rc requestCounts) add(ctx context.Context, b *testing.B, name string, c kubernetes.Interface) {
	data, err := c.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		b.Logf("metrics of %s: %v", name, err)
		return
	}
	metrics := benchload.ParseMetrics(data)
	for _, s := range metrics["apiserver_request_total"] {
		resource := benchload.Label(s, "resource")
		if sub := benchload.Label(s, "subresource"); sub != "" {
			resource += "/" + sub
		}
		rc[benchload.Label(s, "verb")+" "+resource+" "+benchload.Label(s, "code")] += float64(s.Value)
	}
	// What the Go runtime did for them: a member whose core is shared
	// with forty-nine others pays for its garbage collection in its
	// neighbours' time.
	for name, key := range runtimeSeries {
		for _, s := range metrics[name] {
			rc[key] += float64(s.Value)
		}
	}
}

// runtimeSeries are the Go runtime's counters read beside the requests,
// by metric name, under the keys (all starting "runtime ") they are
// summed in.
var runtimeSeries = map[string]string{
	"go_gc_duration_seconds_count":  "runtime gc-cycles",
	"go_memstats_alloc_bytes_total": "runtime alloc-bytes",
}

// compareRuntime prints, for each phase (in the order given), the
// members' garbage collections per 100 copies (their /metrics scrapes
// included), the bytes they allocated (the same), their kube-apiservers'
// processor time in user space and in the kernel, their read and write
// system calls and context switches, per copy.
func compareRuntime(copies int, phases ...requestCounts) string {
	each := func(key string, scale float64, format string) string {
		var vs []string
		for _, rc := range phases {
			vs = append(vs, fmt.Sprintf(format, scale*rc[key]/float64(copies)))
		}
		return strings.Join(vs, " / ")
	}
	return fmt.Sprintf("GC cycles per 100 copies %s; KiB allocated per copy %s; ms per copy in user space %s, in the kernel %s; read calls per copy %s, write calls %s; their threads' context switches per copy %s",
		each("runtime gc-cycles", 100, "%.2f"), each("runtime alloc-bytes", 1.0/1024, "%.0f"),
		each("runtime user-seconds", 1000, "%.2f"), each("runtime system-seconds", 1000, "%.2f"),
		each("runtime read-calls", 1, "%.1f"), each("runtime write-calls", 1, "%.1f"), each("runtime switches", 1, "%.1f"))
}

// perObject prints the requests per object, each series served at least
// once per 200 objects.
func (rc requestCounts) perObject(objects int) string {
	var lines []string
	for k, v := range rc {
		if strings.HasPrefix(k, "runtime ") {
			continue
		}
		if per := v / float64(objects); per >= 0.005 {
			lines = append(lines, fmt.Sprintf("%s %.2f", k, per))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "; ")
}

// since is what was served from before to now.
func (now requestCounts) since(before requestCounts) requestCounts {
	out := requestCounts{}
	for k, v := range now {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// compareRequests prints the requests per copy on the two paths, each
// series that either path served at least once per 200 copies.
func compareRequests(straight, federated requestCounts, copies int) string {
	keys := map[string]bool{}
	for k := range straight {
		keys[k] = true
	}
	for k := range federated {
		keys[k] = true
	}
	var lines []string
	for k := range keys {
		if strings.HasPrefix(k, "runtime ") {
			continue
		}
		s, fed := straight[k]/float64(copies), federated[k]/float64(copies)
		if s < 0.005 && fed < 0.005 {
			continue
		}
		lines = append(lines, fmt.Sprintf("%s %.3f / %.3f", k, s, fed))
	}
	sort.Strings(lines)
	return strings.Join(lines, "; ")
}

// memberProfileSeconds is the length of the members' CPU profiles: within
// the shortest saturation phase at 10 members or more.
const memberProfileSeconds = 10

// profileMembers saves, with FEDERATION_BENCH_SCALE_PROFILE_DIR, a CPU
// profile of every member's kube-apiserver over the next
// memberProfileSeconds, in the directory name (merge them with go tool
// pprof -proto); wait waits for them. One member's profile alone holds too
// few samples: fifty share one core.
func profileMembers(ctx context.Context, b *testing.B, f *framework.Federation, name string) (wait func()) {
	dir := os.Getenv("FEDERATION_BENCH_SCALE_PROFILE_DIR")
	if dir == "" {
		return func() {}
	}
	dir = filepath.Join(dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Log(err)
		return func() {}
	}
	var wg sync.WaitGroup
	for _, m := range f.Members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data, err := m.Client.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").
				Param("seconds", fmt.Sprint(memberProfileSeconds)).Timeout(memberProfileSeconds*time.Second + time.Minute).DoRaw(ctx)
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, m.Name+".pprof"), data, 0o644)
			}
			if err != nil {
				b.Logf("profile of member %s: %v", m.Name, err)
			}
		}()
	}
	return wg.Wait
}

// memberOptions are the lean members from..to; with
// FEDERATION_BENCH_SCALE_PROFILE_DIR their kube-apiservers serve
// /debug/pprof (lean members turn it off).
func memberOptions(from, to int) []framework.MemberOptions {
	opts := framework.LeanMembers(from, to)
	if os.Getenv("FEDERATION_BENCH_SCALE_PROFILE_DIR") != "" {
		for i := range opts {
			opts[i].APIServerArgs = append(opts[i].APIServerArgs, "--profiling=true")
		}
	}
	return opts
}

// notReadyTimes counts the times the controller manager counted a member
// not Ready (ClusterNotReady or ClusterNotReachable events on Clusters)
// since t, by the event's message. Each such change, and each change
// back, queues every federated object for a sync.
func notReadyTimes(ctx context.Context, b *testing.B, fedClient kubernetes.Interface, since time.Time) (int, map[string]int) {
	events, err := fedClient.CoreV1().Events("").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.kind=Cluster"})
	if err != nil {
		b.Logf("list the Clusters' events: %v", err)
		return -1, nil
	}
	total, messages := 0, map[string]int{}
	for _, e := range events.Items {
		if e.Reason != "ClusterNotReady" && e.Reason != "ClusterNotReachable" {
			continue
		}
		if e.LastTimestamp.Time.Before(since.Truncate(time.Second)) {
			continue
		}
		// An aggregated event's count includes the times before since;
		// the phases are minutes apart, and a flap inside one is what
		// this is for, so the whole count stands.
		n := int(e.Count)
		if n < 1 {
			n = 1
		}
		total += n
		messages[e.Message] += n
	}
	return total, messages
}

// topMessages prints the most frequent messages, at most three.
func topMessages(messages map[string]int) string {
	type m struct {
		text string
		n    int
	}
	var all []m
	for text, n := range messages {
		all = append(all, m{text, n})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n })
	var parts []string
	for i, x := range all {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("%d more", len(all)-3))
			break
		}
		parts = append(parts, fmt.Sprintf("%d× %q", x.n, x.text))
	}
	return strings.Join(parts, "; ")
}
