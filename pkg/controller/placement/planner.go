package placement

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/big"
	"sort"
	"strings"

	"github.com/kfederation/federation/pkg/apis/federation/annotations"
)

// ClusterInput is what the planner knows about one candidate cluster.
type ClusterInput struct {
	// Name is the Cluster's name, matched against the preferences' keys.
	Name string
	// Current is the number of replicas the cluster's copy has now; nil
	// when the cluster has no copy.
	Current *int64
	// Capacity is the most replicas the cluster can run now; nil when
	// nothing says it is limited.
	Capacity *int64
}

// Result is a plan: the replicas of every input cluster, and why.
type Result struct {
	// Replicas holds every input cluster, including those given 0.
	Replicas map[string]int64
	// Explanation says, in words for logs and events, how the plan came
	// about: one line per cluster in planning order, then a summary.
	Explanation []string
}

// unlimited stands for "no maxReplicas and no capacity estimate".
const unlimited = math.MaxInt64

// candidate is one cluster that the preferences cover.
type candidate struct {
	name   string
	weight int64
	min    int64
	// limit is min(maxReplicas, capacity): the most the cluster may get.
	limit   int64
	max     *int64
	cap     *int64
	current *int64
	hash    uint64
}

// Plan divides total replicas of the object called key (namespace/name)
// over clusters, following prefs; nil prefs, or prefs without cluster
// entries, weigh every cluster equally.
//
// Clusters that neither have an entry nor are covered by the AllClusters
// entry get none. The clusters are put in a planning order: by weight,
// highest first, then by a hash of key and the cluster's name, so that the
// order is stable for one object but differs between objects. Minimums are
// placed first, in that order, as far as total allows; the rest is divided
// in proportion to weight, a cluster taking no more than its maxReplicas
// or its capacity, and what a full cluster cannot take goes to the others
// with room. Of the replicas that do not divide evenly, the clusters
// whose exact share was cut the most get one each, ties broken by the
// planning order. A cluster of weight 0 gets its minimum only. The plan
// never holds more than total replicas; it holds fewer only when the
// clusters have room for no more.
//
// Without prefs.Rebalance, a cluster keeps the replicas it runs now
// (Current), up to its maxReplicas and capacity, where total allows after
// the minimums; when total is too small to keep them all, the clusters
// furthest above their share under the preferences give up replicas first.
// Whatever is left to place goes first to the clusters furthest below that
// share, so that growing, or a cluster returning, moves the object toward
// its preferred split without moving a running replica. With Rebalance,
// Current is ignored and the plan is the preferred split itself.
//
// Plan is pure: the same arguments give the same plan, whatever the order
// of clusters.
func Plan(prefs *annotations.ReplicaPreferences, total int64, clusters []ClusterInput, key string) (Result, error) {
	if err := validateInput(prefs, total, clusters); err != nil {
		return Result{}, err
	}
	res := Result{Replicas: make(map[string]int64, len(clusters))}
	cands, excluded := resolve(prefs, clusters, key)
	for _, name := range excluded {
		res.Replicas[name] = 0
	}

	ideal := preferred(cands, total)
	got := ideal
	rebalance := prefs != nil && prefs.Rebalance
	keep := !rebalance && anyCurrent(cands)
	if keep {
		got = keeping(cands, total, ideal)
	}

	var placed int64
	for i, c := range cands {
		res.Replicas[c.name] = got[i]
		placed += got[i]
		res.Explanation = append(res.Explanation, describe(c, got[i], keep))
	}
	for _, name := range excluded {
		res.Explanation = append(res.Explanation, fmt.Sprintf("%s: 0 (the preferences have no entry for it and no %q entry)", name, annotations.AllClusters))
	}
	res.Explanation = append(res.Explanation, summary(total, placed, len(cands), rebalance, keep))
	return res, nil
}

// validateInput refuses what the annotation parser would have refused, and
// inputs no caller should make, rather than plan something odd from them.
func validateInput(prefs *annotations.ReplicaPreferences, total int64, clusters []ClusterInput) error {
	var errs []error
	if total < 0 {
		errs = append(errs, fmt.Errorf("total must be 0 or more, got %d", total))
	}
	seen := make(map[string]bool, len(clusters))
	for _, c := range clusters {
		switch {
		case c.Name == "":
			errs = append(errs, errors.New("a cluster has no name"))
		case seen[c.Name]:
			errs = append(errs, fmt.Errorf("cluster %q is given twice", c.Name))
		}
		seen[c.Name] = true
		if c.Current != nil && *c.Current < 0 {
			errs = append(errs, fmt.Errorf("cluster %q: current replicas must be 0 or more, got %d", c.Name, *c.Current))
		}
		if c.Capacity != nil && *c.Capacity < 0 {
			errs = append(errs, fmt.Errorf("cluster %q: capacity must be 0 or more, got %d", c.Name, *c.Capacity))
		}
	}
	if prefs != nil {
		names := make([]string, 0, len(prefs.Clusters))
		for name := range prefs.Clusters {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			p := prefs.Clusters[name]
			if p.Weight < 0 || p.MinReplicas < 0 || (p.MaxReplicas != nil && (*p.MaxReplicas < 0 || *p.MaxReplicas < p.MinReplicas)) {
				errs = append(errs, fmt.Errorf("preferences of cluster %q: weight and minReplicas must be 0 or more, and maxReplicas at least minReplicas", name))
			}
		}
	}
	return errors.Join(errs...)
}

// resolve finds each cluster's own preferences and puts the covered
// clusters in planning order; it returns the uncovered ones by name.
func resolve(prefs *annotations.ReplicaPreferences, clusters []ClusterInput, key string) ([]candidate, []string) {
	var cands []candidate
	var excluded []string
	for _, in := range clusters {
		var p annotations.ClusterPreferences
		switch {
		case prefs == nil || len(prefs.Clusters) == 0:
			p = annotations.ClusterPreferences{Weight: 1}
		default:
			own, ok := prefs.Clusters[in.Name]
			if !ok {
				own, ok = prefs.Clusters[annotations.AllClusters]
			}
			if !ok {
				excluded = append(excluded, in.Name)
				continue
			}
			p = own
		}
		c := candidate{
			name:    in.Name,
			weight:  p.Weight,
			min:     p.MinReplicas,
			limit:   unlimited,
			max:     p.MaxReplicas,
			cap:     in.Capacity,
			current: in.Current,
			hash:    orderHash(key, in.Name),
		}
		if p.MaxReplicas != nil {
			c.limit = *p.MaxReplicas
		}
		if in.Capacity != nil && *in.Capacity < c.limit {
			c.limit = *in.Capacity
		}
		cands = append(cands, c)
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.weight != b.weight {
			return a.weight > b.weight
		}
		if a.hash != b.hash {
			return a.hash < b.hash
		}
		return a.name < b.name
	})
	sort.Strings(excluded)
	return cands, excluded
}

// orderHash mixes the object into the cluster order, so that of many small
// objects with equal weights, each puts its odd replica somewhere else.
func orderHash(key, cluster string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(cluster))
	return h.Sum64()
}

func anyCurrent(cands []candidate) bool {
	for _, c := range cands {
		if c.current != nil {
			return true
		}
	}
	return false
}

// preferred is the split the preferences ask for, ignoring what runs now:
// minimums in planning order, then the rest by weight.
func preferred(cands []candidate, total int64) []int64 {
	got := make([]int64, len(cands))
	remaining := placeMinimums(cands, got, total)
	byWeight(cands, got, remaining)
	return got
}

// placeMinimums gives each cluster its minReplicas (no more than its
// limit) in planning order while total lasts; it returns what is left.
func placeMinimums(cands []candidate, got []int64, total int64) int64 {
	remaining := total
	for i, c := range cands {
		g := min(c.min, c.limit, remaining)
		got[i] = g
		remaining -= g
	}
	return remaining
}

// keeping is the plan without rebalance: minimums first, then what each
// cluster runs now, then the rest toward the preferred split ideal.
func keeping(cands []candidate, total int64, ideal []int64) []int64 {
	got := make([]int64, len(cands))
	remaining := placeMinimums(cands, got, total)

	// Running replicas stay, beyond the minimum already counted.
	stay := make([]int64, len(cands))
	var want int64
	for i, c := range cands {
		if c.current != nil {
			stay[i] = max(0, min(*c.current, c.limit)-got[i])
			want = addSat(want, stay[i])
		}
	}
	if want > remaining {
		// Not all of them fit in total (the object shrank): the clusters
		// furthest above their preferred share give replicas up first,
		// the last in planning order on a tie. The minimums placed match
		// the preferred split's, so no cluster gives up more than it
		// keeps beyond its minimum.
		excess := make([]int64, len(cands))
		for i := range cands {
			excess[i] = max(0, got[i]+stay[i]-ideal[i])
		}
		cut := level(excess, want-remaining, reversed(len(cands)))
		for i := range stay {
			stay[i] -= cut[i]
		}
	}
	for i := range got {
		got[i] += stay[i]
		remaining -= stay[i]
	}

	// The rest fills the clusters furthest below their preferred share,
	// the first in planning order on a tie. If some cluster kept more than
	// its share, the others' shares may not use up total; weights place
	// the remainder.
	if remaining > 0 {
		deficit := make([]int64, len(cands))
		for i := range cands {
			deficit[i] = max(0, ideal[i]-got[i])
		}
		add := level(deficit, remaining, forward(len(cands)))
		for i := range got {
			got[i] += add[i]
			remaining -= add[i]
		}
	}
	if remaining > 0 {
		byWeight(cands, got, remaining)
	}
	return got
}

// byWeight adds up to amount replicas to got in proportion to the
// clusters' weights, each up to its limit, and returns how many it placed.
// Clusters of weight 0 get none.
func byWeight(cands []candidate, got []int64, amount int64) int64 {
	var placed int64
	active := make([]int, 0, len(cands))
	shares := make([]int64, len(cands))
	cuts := make([]*big.Int, len(cands))
	for placed < amount {
		rest := amount - placed
		active = active[:0]
		sum := new(big.Int)
		for i, c := range cands {
			if c.weight > 0 && got[i] < c.limit {
				active = append(active, i)
				sum.Add(sum, big.NewInt(c.weight))
			}
		}
		if len(active) == 0 {
			break
		}
		// Weights are any int64, so shares are computed exactly in big
		// integers: rest*weight/sum would overflow int64.
		overflow := false
		for _, i := range active {
			q, r := new(big.Int).QuoRem(new(big.Int).Mul(big.NewInt(rest), big.NewInt(cands[i].weight)), sum, new(big.Int))
			shares[i], cuts[i] = q.Int64(), r
			if shares[i] > cands[i].limit-got[i] {
				overflow = true
			}
		}
		if overflow {
			// Fill the clusters that cannot take their share and divide
			// again among the others, so that what they could not take
			// is shared by weight too.
			for _, i := range active {
				if room := cands[i].limit - got[i]; shares[i] > room {
					got[i] += room
					placed += room
				}
			}
			continue
		}
		var given int64
		for _, i := range active {
			got[i] += shares[i]
			given += shares[i]
		}
		placed += given
		// Fewer replicas are left than clusters: one each to those whose
		// exact share was cut the most. A cluster that is now full is
		// skipped; the next round gives its replica to the others.
		left := rest - given
		sort.SliceStable(active, func(a, b int) bool {
			return cuts[active[a]].Cmp(cuts[active[b]]) > 0
		})
		for _, i := range active {
			if left == 0 {
				break
			}
			if got[i] < cands[i].limit {
				got[i]++
				placed++
				left--
			}
		}
	}
	return placed
}

// level takes amount units off gaps, the largest gaps first, so that the
// gaps it touches end up level; it returns the units taken from each gap.
// Units that do not divide evenly are taken in the order given. It takes
// all of every gap if they add up to no more than amount.
func level(gaps []int64, amount int64, order []int) []int64 {
	take := make([]int64, len(gaps))
	if amount <= 0 {
		return take
	}
	above := func(l int64) int64 {
		var s int64
		for _, g := range gaps {
			if g > l {
				s = addSat(s, g-l)
			}
		}
		return s
	}
	if above(0) <= amount {
		copy(take, gaps)
		return take
	}
	// The lowest level at which the gaps above it add up to no more than
	// amount; above(level-1) > amount, so the units left over are fewer
	// than the gaps at or above the level.
	var lo, hi int64
	for _, g := range gaps {
		hi = max(hi, g)
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		if above(mid) <= amount {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	left := amount - above(lo)
	for i, g := range gaps {
		if g > lo {
			take[i] = g - lo
		}
	}
	for _, i := range order {
		if left == 0 {
			break
		}
		if gaps[i] >= lo && take[i] < gaps[i] {
			take[i]++
			left--
		}
	}
	return take
}

func forward(n int) []int {
	o := make([]int, n)
	for i := range o {
		o[i] = i
	}
	return o
}

func reversed(n int) []int {
	o := make([]int, n)
	for i := range o {
		o[i] = n - 1 - i
	}
	return o
}

// addSat adds two non-negative numbers, stopping at the largest int64:
// sums of limits that mean "unlimited" must not wrap around.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// describe says what one cluster got and what bounded it.
func describe(c candidate, got int64, keep bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d (weight %d", c.name, got, c.weight)
	if c.min > 0 {
		fmt.Fprintf(&b, ", minReplicas %d", c.min)
	}
	if c.max != nil {
		fmt.Fprintf(&b, ", maxReplicas %d", *c.max)
	}
	if c.cap != nil {
		fmt.Fprintf(&b, ", capacity %d", *c.cap)
	}
	if keep && c.current != nil {
		fmt.Fprintf(&b, ", running %d", *c.current)
	}
	b.WriteString(")")
	switch {
	case c.limit != unlimited && got == c.limit && c.cap != nil && (c.max == nil || *c.cap < *c.max):
		b.WriteString(": full, by its capacity")
	case c.limit != unlimited && got == c.limit && got > 0:
		b.WriteString(": full, by its maxReplicas")
	case c.weight == 0 && got > 0:
		b.WriteString(": weight 0 takes only its minimum and what it runs")
	}
	return b.String()
}

func summary(total, placed int64, covered int, rebalance, keep bool) string {
	how := "placed by the preferences alone (rebalance)"
	switch {
	case keep:
		how = "running replicas kept in place (no rebalance), the rest placed by the preferences"
	case !rebalance:
		how = "placed by the preferences (no replicas running yet)"
	}
	if placed < total {
		if covered == 0 {
			return fmt.Sprintf("placed 0 of %d replicas: the preferences cover none of the clusters", total)
		}
		return fmt.Sprintf("placed %d of %d replicas, %s: the clusters have room for no more (their maxReplicas, capacity, or weight 0)", placed, total, how)
	}
	return fmt.Sprintf("placed %d of %d replicas, %s", placed, total, how)
}

// Even divides total over clusters with equal weights: Plan without
// preferences and with nothing running yet. Of the replicas that do not
// divide evenly, one each goes to the first clusters in the planning order
// of the object called key, so that many small objects do not all pile
// their remainders onto the same cluster.
func Even(total int64, clusters []string, key string) map[string]int64 {
	in := make([]ClusterInput, len(clusters))
	for i, name := range clusters {
		in[i] = ClusterInput{Name: name}
	}
	return mustPlan(nil, total, in, key)
}

// SplitAlong divides total over the clusters of shares in proportion to
// each one's share (a Job's completions along its parallelism), with
// Plan's remainder rule: a cluster whose share is 0 gets none. When every
// share is 0 (nothing runs anywhere), total is divided evenly.
func SplitAlong(total int64, shares map[string]int64, key string) map[string]int64 {
	names := make([]string, 0, len(shares))
	var sum int64
	for name, s := range shares {
		names = append(names, name)
		sum += max(s, 0)
	}
	sort.Strings(names)
	if sum == 0 {
		return Even(total, names, key)
	}
	prefs := &annotations.ReplicaPreferences{Rebalance: true, Clusters: make(map[string]annotations.ClusterPreferences, len(names))}
	in := make([]ClusterInput, len(names))
	for i, name := range names {
		prefs.Clusters[name] = annotations.ClusterPreferences{Weight: max(shares[name], 0)}
		in[i] = ClusterInput{Name: name}
	}
	return mustPlan(prefs, total, in, key)
}

// mustPlan is Plan for inputs built here, which it cannot refuse but for a
// negative total: that plans nothing.
func mustPlan(prefs *annotations.ReplicaPreferences, total int64, in []ClusterInput, key string) map[string]int64 {
	res, err := Plan(prefs, max(total, 0), in, key)
	if err != nil {
		out := make(map[string]int64, len(in))
		for _, c := range in {
			out[c.Name] = 0
		}
		return out
	}
	return res.Replicas
}
