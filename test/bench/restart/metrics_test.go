package restart

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kfederation/federation/pkg/federatedtypes"
	"github.com/kfederation/federation/test/framework"
)

// sample is one sample of a metric in a Prometheus text scrape.
type sample struct {
	labels map[string]string
	value  float64
}

// samples returns the samples of the metric called name in a Prometheus
// text scrape (not those of longer names it prefixes).
func samples(text, name string) []sample {
	var out []sample
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		var labels map[string]string
		switch {
		case strings.HasPrefix(rest, "{"):
			end := strings.LastIndexByte(rest, '}')
			if end < 0 {
				continue
			}
			labels = parseLabels(rest[1:end])
			rest = rest[end+1:]
		case strings.HasPrefix(rest, " "):
		default:
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		out = append(out, sample{labels, v})
	}
	return out
}

// parseLabels reads `a="x",b="y"`.
func parseLabels(s string) map[string]string {
	m := map[string]string{}
	for {
		s = strings.TrimLeft(s, ", ")
		eq := strings.IndexByte(s, '=')
		if eq < 0 || eq+1 >= len(s) || s[eq+1] != '"' {
			return m
		}
		key := s[:eq]
		s = s[eq+2:]
		var v strings.Builder
		i := 0
		for ; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
			}
			v.WriteByte(s[i])
		}
		m[key] = v.String()
		if i >= len(s) {
			return m
		}
		s = s[i+1:]
	}
}

// writeVerbs are the verbs of apiserver_request_total that change
// something.
var writeVerbs = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "DELETE": true, "DELETECOLLECTION": true, "APPLY": true}

// writeKey is one series of a member's writes, all response codes
// together: a refused write was still attempted.
type writeKey struct {
	member, verb, group, resource, subresource string
}

func (k writeKey) String() string {
	r := k.resource
	if k.group != "" {
		r += "." + k.group
	}
	if k.subresource != "" {
		r += "/" + k.subresource
	}
	return fmt.Sprintf("%s %s %s", k.member, k.verb, r)
}

// kind is the same series in every member: what is excluded as the
// members' own background writes.
func (k writeKey) kind() writeKey {
	k.member = ""
	return k
}

// writeCounts are the writes each member's kube-apiserver has served so
// far, by series.
type writeCounts map[writeKey]float64

// memberWrites scrapes every member's apiserver_request_total.
func memberWrites(ctx context.Context, f *framework.Federation) (writeCounts, error) {
	out := writeCounts{}
	for _, m := range f.Members {
		data, err := m.Client.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
		if err != nil {
			return nil, fmt.Errorf("metrics of member %s: %w", m.Name, err)
		}
		for _, s := range samples(string(data), "apiserver_request_total") {
			if !writeVerbs[s.labels["verb"]] {
				continue
			}
			out[writeKey{m.Name, s.labels["verb"], s.labels["group"], s.labels["resource"], s.labels["subresource"]}] += s.value
		}
	}
	return out, nil
}

// since is what changed from before to now, leaving out the series of
// background (see idleWrites) and subtracting expected (the marker's own
// writes).
func (now writeCounts) since(before writeCounts, background map[writeKey]bool, expected writeCounts) writeCounts {
	out := writeCounts{}
	for k, v := range now {
		if background[k.kind()] {
			continue
		}
		if d := v - before[k] - expected[k]; d != 0 {
			out[k] = d
		}
	}
	for k, v := range expected {
		if _, ok := now[k]; !ok && v != 0 {
			out[k] = -v
		}
	}
	return out
}

func (c writeCounts) total() float64 {
	var t float64
	for _, v := range c {
		t += v
	}
	return t
}

// String lists the series, largest first: "us-central1-a PUT configmaps 12, ...".
func (c writeCounts) String() string {
	if len(c) == 0 {
		return "none"
	}
	keys := make([]writeKey, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if c[keys[i]] != c[keys[j]] {
			return c[keys[i]] > c[keys[j]]
		}
		return keys[i].String() < keys[j].String()
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %.0f", k, c[k])
	}
	return strings.Join(parts, "; ")
}

// federatedResources are the resources the federation syncs to its
// members, by adapter.
func federatedResources() map[string]bool {
	out := map[string]bool{}
	for _, a := range federatedtypes.All() {
		out[a.GVR.Resource] = true
	}
	return out
}

// cmState is one scrape of the controller manager's metrics.
type cmState struct {
	// success and syncs count federation_sync_duration_seconds, by kind:
	// the syncs that ended without error, and all of them (a sync that
	// waits for a cache or the clusters' first probe ends in error).
	success, syncs map[string]float64
	// depth, unfinished and adds are the work queues', by queue name.
	depth, unfinished, adds map[string]float64
	at                      time.Time
	cpu                     time.Duration
}

// syncQueues are the sync controllers' work queues, named after their
// adapters.
func syncQueues() map[string]bool {
	out := map[string]bool{}
	for _, a := range federatedtypes.All() {
		out[a.Name] = true
	}
	return out
}

func scrapeControllerManager(ctx context.Context, f *framework.Federation) (cmState, error) {
	st := cmState{success: map[string]float64{}, syncs: map[string]float64{}, depth: map[string]float64{}, unfinished: map[string]float64{}, adds: map[string]float64{}}
	data, err := f.ControllerManagerGet(ctx, "/metrics")
	if err != nil {
		return st, err
	}
	st.at = time.Now()
	st.cpu, _ = f.ControllerManager.CPUTime()
	text := string(data)
	for _, s := range samples(text, "federation_sync_duration_seconds_count") {
		st.syncs[s.labels["kind"]] += s.value
		if s.labels["result"] == "success" {
			st.success[s.labels["kind"]] += s.value
		}
	}
	for _, s := range samples(text, "workqueue_depth") {
		st.depth[s.labels["name"]] += s.value
	}
	for _, s := range samples(text, "workqueue_unfinished_work_seconds") {
		st.unfinished[s.labels["name"]] += s.value
	}
	for _, s := range samples(text, "workqueue_adds_total") {
		st.adds[s.labels["name"]] += s.value
	}
	return st, nil
}

// idle says the work queues are empty and no worker is busy; then, what
// is still missing from fresh (syncs ending in success per kind, the
// least wanted), "" if nothing.
func (st cmState) idle(fresh map[string]int) string {
	var busy []string
	for name, d := range st.depth {
		if d > 0 {
			busy = append(busy, fmt.Sprintf("queue %s holds %.0f", name, d))
		}
	}
	for name, u := range st.unfinished {
		if u > 0 {
			busy = append(busy, fmt.Sprintf("queue %s has work in progress", name))
		}
	}
	for kind, n := range fresh {
		if st.success[kind] < float64(n) {
			busy = append(busy, fmt.Sprintf("%.0f of %d %s synced", st.success[kind], n, kind))
		}
	}
	sort.Strings(busy)
	return strings.Join(busy, ", ")
}

// syncAdds are the items ever added to the sync controllers' queues.
func (st cmState) syncAdds() float64 {
	var t float64
	queues := syncQueues()
	for name, v := range st.adds {
		if queues[name] {
			t += v
		}
	}
	return t
}

// quietConfirm is how long the sync queues must take nothing new for the
// controller manager to count as steady: longer than the 1 s after which
// a sync that waited (a cache, the clusters' first probe) is retried,
// which sits in no queue's depth meanwhile.
const quietConfirm = 1500 * time.Millisecond

// waitSteady polls the controller manager's metrics every 150 ms until
// its sync controllers are steady: every sync queue empty, no worker
// busy, at least fresh[kind] syncs of each kind ended in success since the
// process started, and no item added to a sync queue for quietConfirm
// after. It returns the first scrape of that quiet stretch: when the
// controller manager became steady.
func waitSteady(ctx context.Context, f *framework.Federation, fresh map[string]int, timeout time.Duration) (cmState, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var candidate *cmState
	last := "no scrape answered"
	for {
		st, err := scrapeControllerManager(ctx, f)
		switch {
		case err != nil:
			last = err.Error()
			candidate = nil
		default:
			if why := st.idle(fresh); why != "" {
				last = why
				candidate = nil
			} else if candidate == nil || candidate.syncAdds() != st.syncAdds() {
				c := st
				candidate = &c
				last = "queues took new items"
			} else if st.at.Sub(candidate.at) >= quietConfirm {
				return *candidate, nil
			}
		}
		select {
		case <-ctx.Done():
			return cmState{}, fmt.Errorf("controller manager not steady after %s: %s", timeout, last)
		case <-time.After(150 * time.Millisecond):
		}
	}
}
