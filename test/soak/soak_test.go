// Package soak is the chaos soak (make soak, not in CI): a highly
// available federation under a stream of writes of every data kind and
// scales, with faults injected at random times, and the invariants of
// package chaos checked at quiet points and at the end.
package soak

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kfederation/federation/test/chaos"
	"github.com/kfederation/federation/test/framework"
)

var (
	duration = flag.Duration("soak.duration", 0, "how long the soak injects faults; 0 skips it (make soak runs 10m; SOAK_DURATION changes it)")
	seed     = flag.Int64("soak.seed", 0, "seed of the workload and of the fault schedule; 0 picks one from the clock (printed, to run it again)")
)

const namespace = "soak"

func TestSoak(t *testing.T) {
	if *duration == 0 {
		t.Skip("the soak runs with make soak (-soak.duration)")
	}
	if *seed == 0 {
		*seed = time.Now().UnixNano()
	}
	fmt.Printf("soak: %s, seed %d\n", *duration, *seed)
	f, client := chaos.StartHA(t, append(framework.TwoRegionMembers(), framework.MemberOptions{Name: "asia-east1-a", Zone: "asia-east1-a", Region: "asia-east1"}), namespace)
	ctx := context.Background()
	w, err := chaos.New(ctx, client, namespace, *seed, 50)
	if err != nil {
		t.Fatal(err)
	}
	faults := append(chaos.ControlPlaneFaults(f, 10*time.Second), chaos.MemberFaults(f, namespace, 10*time.Second)...)
	rnd := rand.New(rand.NewSource(*seed))

	injected := map[string]int{}
	var quietChecks, violations int
	var lastFault time.Time
	// settled is how long the invariants took to hold after the last
	// fault, if a quiet point has checked them since.
	var settled time.Duration
	w.Start()
	for end := time.Now().Add(*duration); time.Now().Before(end); {
		time.Sleep(time.Duration(5+rnd.Intn(20)) * time.Second)
		fl := faults[rnd.Intn(len(faults))]
		if err := fl.Inject(ctx); err != nil {
			t.Fatalf("inject %s: %v", fl.Name, err)
		}
		lastFault, settled = time.Now(), 0
		injected[fl.Name]++
		fmt.Printf("soak: %s fault injected: %s\n", time.Now().Format(time.TimeOnly), fl.Name)
		for _, p := range chaos.Supervise(f) {
			fmt.Printf("soak: supervisor restarted %s, which had exited\n", p)
		}
		if rnd.Intn(3) == 0 {
			quietChecks++
			violations += quietPoint(ctx, t, f, w, quietChecks)
			settled = time.Since(lastFault)
		}
	}
	if err := w.Stop(); err != nil {
		t.Fatalf("a write was never acknowledged: %v", err)
	}
	converged, last := chaos.Converge(ctx, f, w, 3*time.Minute)
	violations += len(last)

	counts := w.Counts()
	fmt.Printf("soak: operations acknowledged: %d (creates %d, updates %d, deletes %d, scales %d)\n",
		counts.Total(), counts.Creates, counts.Updates, counts.Deletes, counts.Scales)
	names := make([]string, 0, len(injected))
	total := 0
	for n, c := range injected {
		names = append(names, n)
		total += c
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Printf("soak: faults survived: %3d x %s\n", injected[n], n)
	}
	fmt.Printf("soak: faults survived: %d; invariant checks: %d at quiet points and 1 at the end; violations: %d (goal 0)\n", total, quietChecks, violations)
	if len(last) > 0 {
		t.Fatalf("not converged 3m after the last fault: %d violations, e.g.:\n%s", len(last), strings.Join(last[:min(len(last), 20)], "\n"))
	}
	if settled == 0 {
		settled = converged.Sub(lastFault)
	}
	fmt.Printf("soak: converged %s after the last fault (goal <= 15s)\n", settled.Round(100*time.Millisecond))
	if violations > 0 {
		t.Errorf("%d invariant violations at quiet points", violations)
	}
}

// quietPoint pauses the writes, waits until the invariants hold (at most
// two minutes), prints the check, and lets the writes go on. It returns
// the violations left.
func quietPoint(ctx context.Context, t *testing.T, f *framework.Federation, w *chaos.Workload, n int) int {
	t.Helper()
	w.Pause()
	defer w.Resume()
	start := time.Now()
	_, v := chaos.Converge(ctx, f, w, 2*time.Minute)
	fmt.Printf("soak: quiet point %d: invariants checked: %d violations (settled in %s)\n", n, len(v), time.Since(start).Round(100*time.Millisecond))
	for _, line := range v[:min(len(v), 10)] {
		fmt.Printf("soak:   %s\n", line)
	}
	return len(v)
}
