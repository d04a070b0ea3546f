package cluster

import (
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// probesPassedOver counts the failed probes of Ready members that stored
// the federation's writes meanwhile, and so stayed Ready (see tolerate).
var probesPassedOver = metrics.NewCounterVec(&metrics.CounterOpts{
	Subsystem:      "federation_cluster",
	Name:           "busy_probes_total",
	Help:           "Failed /readyz probes (timeout or server error) of Ready member clusters that kept storing the federation's writes meanwhile, and so stayed Ready, by cluster.",
	StabilityLevel: metrics.ALPHA,
}, []string{"cluster"})

func init() {
	legacyregistry.MustRegister(probesPassedOver)
}
