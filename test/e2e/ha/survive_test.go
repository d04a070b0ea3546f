package ha

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kfederation/federation/test/chaos"
	"github.com/kfederation/federation/test/framework"
)

// TestControlPlaneSurvivesLosingAnyOnePart runs the control plane highly
// available (two federation-apiservers behind a balancer on a three-member
// TLS etcd cluster, two controller managers electing a leader) and, under a
// stream of creates, updates, deletes and scales, SIGKILLs in turn one
// apiserver, one etcd member and the leading controller manager, then cuts
// one member off (SIGSTOP) and brings it back. Afterwards every
// acknowledged write is in the federation and in every member with the
// right content, no member holds a copy the federation does not own, every
// Propagation says Propagated, and the Deployment's replicas add up.
func TestControlPlaneSurvivesLosingAnyOnePart(t *testing.T) {
	const ns = "chaos"
	f, client := chaos.StartHA(t, framework.TwoRegionMembers(), ns)
	ctx := context.Background()
	w, err := chaos.New(ctx, client, ns, 1, 15)
	if err != nil {
		t.Fatal(err)
	}

	w.Start()
	faults := chaos.ControlPlaneFaults(f, 10*time.Second)
	for _, fl := range faults {
		time.Sleep(3 * time.Second)
		if err := fl.Inject(ctx); err != nil {
			t.Fatalf("inject %s: %v", fl.Name, err)
		}
		fmt.Printf("chaos: fault injected: %s\n", fl.Name)
		for _, p := range chaos.Supervise(f) {
			fmt.Printf("chaos: supervisor restarted %s, which had exited\n", p)
		}
	}
	lastFault := time.Now()
	time.Sleep(3 * time.Second)
	if err := w.Stop(); err != nil {
		t.Fatalf("a write was never acknowledged: %v", err)
	}

	converged, violations := chaos.Converge(ctx, f, w, 2*time.Minute)
	counts := w.Counts()
	fmt.Printf("chaos: writes acknowledged: %d (creates %d, updates %d, deletes %d, scales %d); faults survived: %d\n",
		counts.Total(), counts.Creates, counts.Updates, counts.Deletes, counts.Scales, len(faults))
	if len(violations) > 0 {
		t.Fatalf("not converged 2m after the last fault: %d invariant violations, e.g.:\n%s", len(violations), strings.Join(violations[:min(len(violations), 20)], "\n"))
	}
	took := converged.Sub(lastFault).Round(100 * time.Millisecond)
	fmt.Printf("chaos: invariants hold (acknowledged writes lost 0, stale 0, orphans 0, not Propagated 0, replicas and the federated Deployment status add up): converged %s after the last fault (goal <= 15s)\n", took)
	if took > 30*time.Second {
		t.Errorf("converged %s after the last fault, want within 30s (goal 15s)", took)
	}
}
