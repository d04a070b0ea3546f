package placement

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"testing/quick"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	"github.com/kfederation/federation/pkg/apis/federation/annotations"
)

// in builds cluster inputs: "a" is a cluster without a copy and without a
// capacity estimate; in("a=3") one whose copy runs 3; in("a/2") one that
// can run 2; in("a=3/2") both.
func in(specs ...string) []ClusterInput {
	var out []ClusterInput
	for _, s := range specs {
		c := ClusterInput{}
		name, capacity, hasCap := strings.Cut(s, "/")
		name, current, hasCur := strings.Cut(name, "=")
		c.Name = name
		if hasCur {
			var n int64
			if _, err := fmt.Sscan(current, &n); err != nil {
				panic(fmt.Sprintf("bad test input %q: %v", s, err))
			}
			c.Current = &n
		}
		if hasCap {
			var n int64
			if _, err := fmt.Sscan(capacity, &n); err != nil {
				panic(fmt.Sprintf("bad test input %q: %v", s, err))
			}
			c.Capacity = &n
		}
		out = append(out, c)
	}
	return out
}

func prefs(rebalance bool, clusters map[string]annotations.ClusterPreferences) *annotations.ReplicaPreferences {
	return &annotations.ReplicaPreferences{Rebalance: rebalance, Clusters: clusters}
}

type cp = annotations.ClusterPreferences

func TestPlan(t *testing.T) {
	tests := []struct {
		name     string
		prefs    *annotations.ReplicaPreferences
		total    int64
		clusters []ClusterInput
		want     map[string]int64
	}{
		{
			name:     "no preferences: equal weights",
			total:    9,
			clusters: in("a", "b", "c"),
			want:     map[string]int64{"a": 3, "b": 3, "c": 3},
		},
		{
			name:     "preferences without cluster entries: equal weights",
			prefs:    prefs(true, nil),
			total:    4,
			clusters: in("a", "b"),
			want:     map[string]int64{"a": 2, "b": 2},
		},
		{
			name:     "weights 2:1",
			prefs:    prefs(false, map[string]cp{"a": {Weight: 2}, "b": {Weight: 1}}),
			total:    9,
			clusters: in("a", "b"),
			want:     map[string]int64{"a": 6, "b": 3},
		},
		{
			name:     "weights 2:1, the odd replica to the share cut the most",
			prefs:    prefs(false, map[string]cp{"a": {Weight: 2}, "b": {Weight: 1}}),
			total:    10,
			clusters: in("a", "b"),
			want:     map[string]int64{"a": 7, "b": 3},
		},
		{
			name:     "star covers clusters without an entry",
			prefs:    prefs(false, map[string]cp{"*": {Weight: 1}, "a": {Weight: 2}}),
			total:    8,
			clusters: in("a", "b", "c"),
			want:     map[string]int64{"a": 4, "b": 2, "c": 2},
		},
		{
			name:     "clusters not covered get none",
			prefs:    prefs(false, map[string]cp{"a": {Weight: 1}, "gone": {Weight: 5}}),
			total:    7,
			clusters: in("a", "b=3", "c"),
			want:     map[string]int64{"a": 7, "b": 0, "c": 0},
		},
		{
			name:     "preferences covering none of the clusters place nothing",
			prefs:    prefs(false, map[string]cp{"x": {Weight: 1}}),
			total:    7,
			clusters: in("a", "b"),
			want:     map[string]int64{"a": 0, "b": 0},
		},
		{
			name:     "minimum first, then the rest by weight",
			prefs:    prefs(false, map[string]cp{"a": {Weight: 1, MinReplicas: 4}, "b": {Weight: 1}}),
			total:    6,
			clusters: in("a", "b"),
			want:     map[string]int64{"a": 5, "b": 1},
		},
		{
			name:     "minimums exceed total: higher weight first",
			prefs:    prefs(false, map[string]cp{"a": {Weight: 1, MinReplicas: 5}, "b": {Weight: 2, MinReplicas: 5}}),
			total:    6,
			clusters: in("a", "b"),
			want:     map[string]int64{"a": 1, "b": 5},
		},
		{
			name:     "minimum above capacity is capped by capacity",
			prefs:    prefs(false, map[string]cp{"a": {Weight: 1, MinReplicas: 5}, "b": {Weight: 1}}),
			total:    10,
			clusters: in("a/3", "b"),
			want:     map[string]int64{"a": 3, "b": 7},
		},
		{
			name:     "maximum caps, the rest goes to clusters with room",
			prefs:    prefs(false, map[string]cp{"a": {Weight: 1, MaxReplicas: ptr.To[int64](2)}, "b": {Weight: 1}, "c": {Weight: 2}}),
			total:    14,
			clusters: in("a", "b", "c"),
			want:     map[string]int64{"a": 2, "b": 4, "c": 8},
		},
		{
			name:     "maxReplicas 0 keeps a cluster empty",
			prefs:    prefs(true, map[string]cp{"*": {Weight: 1}, "drain": {MaxReplicas: ptr.To[int64](0), Weight: 1}}),
			total:    4,
			clusters: in("a", "drain=4"),
			want:     map[string]int64{"a": 4, "drain": 0},
		},
		{
			name:     "capacity caps, the rest goes to clusters with room",
			total:    12,
			clusters: in("a/2", "b", "c"),
			want:     map[string]int64{"a": 2, "b": 5, "c": 5},
		},
		{
			name:     "capacity below maxReplicas is the limit",
			prefs:    prefs(false, map[string]cp{"a": {Weight: 1, MaxReplicas: ptr.To[int64](5)}, "b": {Weight: 1}}),
			total:    10,
			clusters: in("a/1", "b"),
			want:     map[string]int64{"a": 1, "b": 9},
		},
		{
			name:     "no room anywhere: fewer than total, never more",
			prefs:    prefs(false, map[string]cp{"a": {Weight: 1}, "b": {Weight: 1, MaxReplicas: ptr.To[int64](3)}}),
			total:    10,
			clusters: in("a/2", "b"),
			want:     map[string]int64{"a": 2, "b": 3},
		},
		{
			name:     "weight 0 gets its minimum only",
			prefs:    prefs(false, map[string]cp{"*": {Weight: 0}, "a": {Weight: 1}, "b": {MinReplicas: 2}}),
			total:    9,
			clusters: in("a", "b", "c"),
			want:     map[string]int64{"a": 7, "b": 2, "c": 0},
		},
		{
			name:     "zero total",
			prefs:    prefs(false, map[string]cp{"*": {Weight: 1, MinReplicas: 3}}),
			total:    0,
			clusters: in("a=2", "b"),
			want:     map[string]int64{"a": 0, "b": 0},
		},
		{
			name:  "no clusters",
			total: 5,
			want:  map[string]int64{},
		},
		{
			name:     "without rebalance running replicas stay; the rest fills the emptiest",
			total:    12,
			clusters: in("a=10", "b=0", "c"),
			want:     map[string]int64{"a": 10, "b": 1, "c": 1},
		},
		{
			name:     "with rebalance running replicas move to the preferred split",
			prefs:    prefs(true, map[string]cp{"*": {Weight: 1}}),
			total:    12,
			clusters: in("a=10", "b=0", "c"),
			want:     map[string]int64{"a": 4, "b": 4, "c": 4},
		},
		{
			name:     "without rebalance a returning cluster gets nothing while total is placed",
			prefs:    prefs(false, map[string]cp{"*": {Weight: 1}}),
			total:    30,
			clusters: in("a", "b=15", "c=15"),
			want:     map[string]int64{"a": 0, "b": 15, "c": 15},
		},
		{
			name:     "without rebalance growth goes to the cluster furthest below its share",
			prefs:    prefs(false, map[string]cp{"*": {Weight: 1}}),
			total:    33,
			clusters: in("a", "b=15", "c=15"),
			want:     map[string]int64{"a": 3, "b": 15, "c": 15},
		},
		{
			name:     "without rebalance shrinking takes from the clusters furthest above their share",
			prefs:    prefs(false, map[string]cp{"*": {Weight: 1}}),
			total:    6,
			clusters: in("a=8", "b=2"),
			want:     map[string]int64{"a": 4, "b": 2},
		},
		{
			name:     "without rebalance a lowered maxReplicas still applies",
			prefs:    prefs(false, map[string]cp{"a": {Weight: 1, MaxReplicas: ptr.To[int64](6)}, "b": {Weight: 1}}),
			total:    10,
			clusters: in("a=10", "b=0"),
			want:     map[string]int64{"a": 6, "b": 4},
		},
		{
			name:     "without rebalance capacity still applies",
			total:    10,
			clusters: in("a=10/6", "b=0"),
			want:     map[string]int64{"a": 6, "b": 4},
		},
		{
			name:     "without rebalance minimums come before running replicas",
			prefs:    prefs(false, map[string]cp{"a": {Weight: 1, MinReplicas: 4}, "b": {Weight: 1}}),
			total:    10,
			clusters: in("a=0", "b=10"),
			want:     map[string]int64{"a": 4, "b": 6},
		},
		{
			name:     "without rebalance running replicas of a weight-0 cluster stay",
			prefs:    prefs(false, map[string]cp{"a": {Weight: 1}, "b": {Weight: 0}}),
			total:    10,
			clusters: in("a=5", "b=5"),
			want:     map[string]int64{"a": 5, "b": 5},
		},
		{
			name:     "with rebalance a weight-0 cluster is emptied",
			prefs:    prefs(true, map[string]cp{"a": {Weight: 1}, "b": {Weight: 0}}),
			total:    10,
			clusters: in("a=5", "b=5"),
			want:     map[string]int64{"a": 10, "b": 0},
		},
		{
			name:     "huge weights do not overflow",
			prefs:    prefs(false, map[string]cp{"a": {Weight: math.MaxInt64}, "b": {Weight: math.MaxInt64}}),
			total:    math.MaxInt64 - 1,
			clusters: in("a", "b"),
			want:     map[string]int64{"a": math.MaxInt64 / 2, "b": math.MaxInt64 / 2},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Plan(tc.prefs, tc.total, tc.clusters, "ns/web")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got.Replicas); diff != "" {
				t.Errorf("Plan differs (-want +got):\n%s\nexplanation:\n  %s", diff, strings.Join(got.Explanation, "\n  "))
			}
			if err := violations(tc.prefs, tc.total, tc.clusters, "ns/web", got); err != nil {
				t.Error(err)
			}
		})
	}
}

// The odd replica of an even split goes to a cluster chosen by the object:
// over many small objects, every cluster gets some.
func TestPlanSpreadsRemaindersByObject(t *testing.T) {
	counts := map[string]int{}
	for i := 0; i < 300; i++ {
		got, err := Plan(nil, 1, in("a", "b", "c"), fmt.Sprintf("ns/rs-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		for name, n := range got.Replicas {
			counts[name] += int(n)
		}
	}
	for _, name := range []string{"a", "b", "c"} {
		if counts[name] < 60 {
			t.Errorf("cluster %s got %d of 300 single-replica objects; want a fair share: %v", name, counts[name], counts)
		}
	}
}

func TestPlanManyClusters(t *testing.T) {
	var names []string
	for i := 0; i < 200; i++ {
		names = append(names, fmt.Sprintf("cluster-%03d", i))
	}
	clusters := in(names...)
	for _, total := range []int64{0, 1, 150, 200, 1000, 1013} {
		got, err := Plan(nil, total, clusters, "ns/web")
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := total/200, (total+199)/200
		var sum int64
		for _, name := range names {
			n := got.Replicas[name]
			if n < lo || n > hi {
				t.Errorf("total %d: %s has %d, want %d..%d", total, name, n, lo, hi)
			}
			sum += n
		}
		if sum != total {
			t.Errorf("total %d: placed %d", total, sum)
		}
	}
}

// The same arguments give the same plan, whatever the order of clusters.
func TestPlanIsDeterministic(t *testing.T) {
	p := prefs(false, map[string]cp{"*": {Weight: 3}, "b": {Weight: 2, MinReplicas: 1}, "d": {Weight: 1, MaxReplicas: ptr.To[int64](2)}})
	clusters := in("a=1", "b", "c/4", "d", "e=7", "f")
	want, err := Plan(p, 23, clusters, "ns/web")
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 50; i++ {
		shuffled := append([]ClusterInput(nil), clusters...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got, err := Plan(p, 23, shuffled, "ns/web")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("order %v gave %v, want %v", names(shuffled), got.Replicas, want.Replicas)
		}
	}
}

func names(cs []ClusterInput) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func TestPlanExplains(t *testing.T) {
	p := prefs(false, map[string]cp{"a": {Weight: 1, MaxReplicas: ptr.To[int64](2)}, "b": {Weight: 1}})
	got, err := Plan(p, 10, in("a", "b/3", "c"), "ns/web")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(got.Explanation, "\n")
	for _, want := range []string{
		"a: 2 (weight 1, maxReplicas 2): full, by its maxReplicas",
		"b: 3 (weight 1, capacity 3): full, by its capacity",
		`c: 0 (the preferences have no entry for it and no "*" entry)`,
		"placed 5 of 10 replicas",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, text)
		}
	}
}

func TestPlanRefusesBadInput(t *testing.T) {
	tests := []struct {
		name     string
		prefs    *annotations.ReplicaPreferences
		total    int64
		clusters []ClusterInput
		want     string
	}{
		{name: "negative total", total: -1, clusters: in("a"), want: "total must be 0 or more"},
		{name: "duplicate cluster", total: 1, clusters: in("a", "a"), want: `cluster "a" is given twice`},
		{name: "unnamed cluster", total: 1, clusters: in(""), want: "a cluster has no name"},
		{name: "negative capacity", total: 1, clusters: []ClusterInput{{Name: "a", Capacity: ptr.To[int64](-1)}}, want: "capacity must be 0 or more"},
		{name: "negative current", total: 1, clusters: []ClusterInput{{Name: "a", Current: ptr.To[int64](-1)}}, want: "current replicas must be 0 or more"},
		{name: "negative weight", prefs: prefs(false, map[string]cp{"a": {Weight: -1}}), total: 1, clusters: in("a"), want: `preferences of cluster "a"`},
		{name: "min above max", prefs: prefs(false, map[string]cp{"a": {MinReplicas: 2, MaxReplicas: ptr.To[int64](1)}}), total: 1, clusters: in("a"), want: `preferences of cluster "a"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Plan(tc.prefs, tc.total, tc.clusters, "ns/web")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Plan: error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// violations says what in a plan breaks the rules every plan must keep:
// every input cluster is in the plan, each within [0, min(maxReplicas,
// capacity)]; uncovered clusters get none; the plan holds min(total, room)
// replicas, where a cluster's room is its limit, or for weight 0 its
// minimum (and, without rebalance, what it runs now) as far as its limit
// allows; and planning again from the plan itself, as the next sync does,
// changes nothing.
func violations(p *annotations.ReplicaPreferences, total int64, clusters []ClusterInput, key string, got Result) error {
	var errs []error
	keep := (p == nil || !p.Rebalance) && hasCurrent(clusters)
	var room, sum int64
	for _, c := range clusters {
		n, ok := got.Replicas[c.Name]
		if !ok {
			errs = append(errs, fmt.Errorf("cluster %s missing from the plan %v", c.Name, got.Replicas))
			continue
		}
		sum += n
		pref, covered := own(p, c.Name)
		limit := limitOf(pref, c)
		if n < 0 || n > limit {
			errs = append(errs, fmt.Errorf("cluster %s has %d, want 0..%d", c.Name, n, limit))
		}
		if !covered {
			if n != 0 {
				errs = append(errs, fmt.Errorf("cluster %s is not covered by the preferences but has %d", c.Name, n))
			}
			continue
		}
		r := limit
		if pref.Weight == 0 {
			r = min(pref.MinReplicas, limit)
			if keep && c.Current != nil {
				r = max(r, min(*c.Current, limit))
			}
		}
		room = addSat(room, r)
	}
	if want := min(total, room); sum != want {
		errs = append(errs, fmt.Errorf("placed %d replicas, want min(total %d, room %d) = %d: %v", sum, total, room, want, got.Replicas))
	}

	// Without rebalance, running replicas stay when total has room for
	// them and every minimum; with rebalance, they make no difference.
	if keep {
		var need int64
		for _, c := range clusters {
			if pref, covered := own(p, c.Name); covered {
				limit := limitOf(pref, c)
				n := min(pref.MinReplicas, limit)
				if c.Current != nil {
					n = max(n, min(*c.Current, limit))
				}
				need = addSat(need, n)
			}
		}
		for _, c := range clusters {
			if pref, covered := own(p, c.Name); covered && c.Current != nil && need <= total {
				if n := got.Replicas[c.Name]; n < min(*c.Current, limitOf(pref, c)) {
					errs = append(errs, fmt.Errorf("cluster %s runs %d but was left %d although total has room", c.Name, *c.Current, n))
				}
			}
		}
	}
	if p != nil && p.Rebalance {
		fresh := make([]ClusterInput, len(clusters))
		for i, c := range clusters {
			fresh[i] = ClusterInput{Name: c.Name, Capacity: c.Capacity}
		}
		if alone, err := Plan(p, total, fresh, key); err != nil || !reflect.DeepEqual(alone.Replicas, got.Replicas) {
			errs = append(errs, fmt.Errorf("with rebalance, running replicas changed the plan: %v, without them %v (%v)", got.Replicas, alone.Replicas, err))
		}
	}

	again := make([]ClusterInput, len(clusters))
	for i, c := range clusters {
		again[i] = ClusterInput{Name: c.Name, Current: ptr.To(got.Replicas[c.Name]), Capacity: c.Capacity}
	}
	next, err := Plan(p, total, again, key)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("planning again: %w", err))
	case !reflect.DeepEqual(next.Replicas, got.Replicas):
		errs = append(errs, fmt.Errorf("planning again from %v gave %v", got.Replicas, next.Replicas))
	}
	return errors.Join(errs...)
}

func limitOf(pref cp, c ClusterInput) int64 {
	limit := int64(unlimited)
	if pref.MaxReplicas != nil {
		limit = *pref.MaxReplicas
	}
	if c.Capacity != nil {
		limit = min(limit, *c.Capacity)
	}
	return limit
}

func hasCurrent(cs []ClusterInput) bool {
	for _, c := range cs {
		if c.Current != nil {
			return true
		}
	}
	return false
}

func own(p *annotations.ReplicaPreferences, name string) (cp, bool) {
	if p == nil || len(p.Clusters) == 0 {
		return cp{Weight: 1}, true
	}
	if c, ok := p.Clusters[name]; ok {
		return c, true
	}
	c, ok := p.Clusters[annotations.AllClusters]
	return c, ok
}

// scenario is a random planning problem for the property test.
type scenario struct {
	Prefs    *annotations.ReplicaPreferences
	Total    int64
	Clusters []ClusterInput
	Key      string
}

// Generate makes small numbers, so that minimums, maximums, capacities and
// totals often collide, which is where planners go wrong.
func (scenario) Generate(r *rand.Rand, _ int) reflect.Value {
	small := func(n int) int64 { return int64(r.Intn(n)) }
	s := scenario{Total: small(40), Key: fmt.Sprintf("ns/obj-%d", r.Intn(1000))}
	pool := []string{"a", "b", "c", "d", "e", "f", "g"}
	n := r.Intn(len(pool) + 1)
	for _, i := range r.Perm(len(pool))[:n] {
		c := ClusterInput{Name: pool[i]}
		if r.Intn(2) == 0 {
			c.Current = ptr.To(small(20))
		}
		if r.Intn(3) == 0 {
			c.Capacity = ptr.To(small(15))
		}
		s.Clusters = append(s.Clusters, c)
	}
	if r.Intn(5) > 0 {
		s.Prefs = &annotations.ReplicaPreferences{Rebalance: r.Intn(2) == 0, Clusters: map[string]cp{}}
		for _, name := range append(pool, annotations.AllClusters) {
			if r.Intn(2) == 0 {
				continue
			}
			p := cp{Weight: small(4), MinReplicas: small(6)}
			if r.Intn(2) == 0 {
				p.MaxReplicas = ptr.To(p.MinReplicas + small(10))
			}
			s.Prefs.Clusters[name] = p
		}
	}
	return reflect.ValueOf(s)
}

// TestPlanProperties checks the rules of violations on random
// problems: in particular that the plan never exceeds total, places
// min(total, room), and keeps every cluster within its bounds.
func TestPlanProperties(t *testing.T) {
	prop := func(s scenario) bool {
		got, err := Plan(s.Prefs, s.Total, s.Clusters, s.Key)
		if err == nil {
			err = violations(s.Prefs, s.Total, s.Clusters, s.Key, got)
		}
		if err != nil {
			t.Logf("prefs %+v, total %d, clusters %s: %v", s.Prefs, s.Total, describeInputs(s.Clusters), err)
			return false
		}
		return true
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 5000, Rand: rand.New(rand.NewSource(42))}); err != nil {
		t.Error(err)
	}
}

func describeInputs(cs []ClusterInput) string {
	var parts []string
	for _, c := range cs {
		s := c.Name
		if c.Current != nil {
			s += fmt.Sprintf("=%d", *c.Current)
		}
		if c.Capacity != nil {
			s += fmt.Sprintf("/%d", *c.Capacity)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// FuzzPlan feeds the planner arbitrary numbers; it must never panic, never
// place more than total, and keep every cluster within its bounds.
func FuzzPlan(f *testing.F) {
	f.Add(int64(10), int64(1), int64(0), int64(-1), int64(3), int64(-1), int64(2), int64(5), false, "ns/web")
	f.Add(int64(7), int64(0), int64(2), int64(2), int64(-1), int64(4), int64(0), int64(0), true, "a/b")
	f.Add(int64(math.MaxInt64), int64(math.MaxInt64), int64(1), int64(-1), int64(-1), int64(-1), int64(math.MaxInt64), int64(0), false, "")
	f.Fuzz(func(t *testing.T, total, weightA, minA, maxA, capA, curB, weightB, minB int64, rebalance bool, key string) {
		p := prefs(rebalance, map[string]cp{"a": {Weight: weightA, MinReplicas: minA}, "*": {Weight: weightB, MinReplicas: minB}})
		if maxA >= 0 {
			pa := p.Clusters["a"]
			pa.MaxReplicas = ptr.To(maxA)
			p.Clusters["a"] = pa
		}
		clusters := []ClusterInput{{Name: "a"}, {Name: "b"}, {Name: "c", Current: ptr.To[int64](3)}}
		if capA >= 0 {
			clusters[0].Capacity = ptr.To(capA)
		}
		if curB >= 0 {
			clusters[1].Current = ptr.To(curB)
		}
		got, err := Plan(p, total, clusters, key)
		if err != nil {
			// Only what validateInput refuses.
			if total >= 0 && weightA >= 0 && minA >= 0 && weightB >= 0 && minB >= 0 && (maxA < 0 || maxA >= minA) {
				t.Fatalf("Plan refused valid input: %v", err)
			}
			return
		}
		if err := violations(p, total, clusters, key, got); err != nil {
			t.Fatal(err)
		}
	})
}
