package propagation

import (
	"fmt"
	"testing"
	"time"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/testutil"
	"k8s.io/klog/v2"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/federatedtypes"
)

// testKind is a kind label of its own for one test run: the metrics are
// process-wide.
func testKind(test string) string { return fmt.Sprintf("test-%s-%d", test, time.Now().UnixNano()) }

// counterValue is the value of vec's counter with the given labels.
func counterValue(t *testing.T, vec *metrics.CounterVec, labels ...string) float64 {
	t.Helper()
	v, err := testutil.GetCounterMetricValue(vec.WithLabelValues(labels...))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestAllowanceChangesAreCounted: the gauge follows a member's writes at
// once, and each cut counts once, a regrowth not at all.
func TestAllowanceChangesAreCounted(t *testing.T) {
	kind := testKind("allowance")
	c := &Controller{adapter: &federatedtypes.Adapter{Name: kind}, cctx: &controller.Context{ConcurrentSyncs: 20}, logger: klog.Background()}
	for _, step := range []struct{ before, now int }{{20, 10}, {10, 5}, {5, 6}, {6, 20}, {20, 10}} {
		c.allowanceChanged("a", clusterclient.AllowanceChange{Before: step.before, Now: step.now, Whole: step.now == 20})
	}
	if got := counterValue(t, memberWriteAllowanceCuts, kind, "a"); got != 3 {
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
