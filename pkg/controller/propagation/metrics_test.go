package propagation

import (
	"fmt"
	"testing"
	"time"

	"k8s.io/component-base/metrics/testutil"
	"k8s.io/klog/v2"

	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/federatedtypes"
)

// TestAllowanceChangesAreCounted: the gauge follows a member's writes at
// once, and each cut counts once, a regrowth not at all.
func TestAllowanceChangesAreCounted(t *testing.T) {
	// A kind of its own: the metrics are process-wide.
	kind := fmt.Sprintf("test-allowance-%d", time.Now().UnixNano())
	c := &Controller{adapter: &federatedtypes.Adapter{Name: kind}, cctx: &controller.Context{ConcurrentSyncs: 20}, logger: klog.Background()}
	cuts := func() float64 {
		t.Helper()
		v, err := testutil.GetCounterMetricValue(memberWriteAllowanceCuts.WithLabelValues(kind, "a"))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	for _, step := range []struct{ before, now int }{{20, 10}, {10, 5}, {5, 6}, {6, 20}, {20, 10}} {
		c.allowanceChanged("a", step.before, step.now)
	}
	if got := cuts(); got != 3 {
		t.Errorf("cuts = %v after 20→10→5→6→20→10, want 3", got)
	}
	g, err := testutil.GetGaugeMetricValue(memberWriteAllowance.WithLabelValues(kind, "a"))
	if err != nil {
		t.Fatal(err)
	}
	if g != 10 {
		t.Errorf("allowance gauge = %v, want 10", g)
	}
}
