package restart

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kfederation/federation/pkg/federatedtypes"
	"github.com/kfederation/federation/test/bench/benchload"
	"github.com/kfederation/federation/test/framework"
)

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
		for _, s := range benchload.ParseMetrics(data)["apiserver_request_total"] {
			verb := benchload.Label(s, "verb")
			if !writeVerbs[verb] {
				continue
			}
			out[writeKey{m.Name, verb, benchload.Label(s, "group"), benchload.Label(s, "resource"), benchload.Label(s, "subresource")}] += float64(s.Value)
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
	ms := benchload.ParseMetrics(data)
	for _, s := range ms["federation_sync_duration_seconds_count"] {
		kind := benchload.Label(s, "kind")
		st.syncs[kind] += float64(s.Value)
		if benchload.Label(s, "result") == "success" {
			st.success[kind] += float64(s.Value)
		}
	}
	for metric, into := range map[string]map[string]float64{
		"workqueue_depth":                   st.depth,
		"workqueue_unfinished_work_seconds": st.unfinished,
		"workqueue_adds_total":              st.adds,
	} {
		for _, s := range ms[metric] {
			into[benchload.Label(s, "name")] += float64(s.Value)
		}
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
