package sync

import (
	"time"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

var syncDuration = metrics.NewHistogramVec(&metrics.HistogramOpts{
	Subsystem:      "federation_sync",
	Name:           "duration_seconds",
	Help:           "Time to sync one federated object to every selected member cluster, by kind and result.",
	Buckets:        metrics.ExponentialBuckets(0.001, 2, 15),
	StabilityLevel: metrics.ALPHA,
}, []string{"kind", "result"})

func init() {
	legacyregistry.MustRegister(syncDuration)
}

func observeSync(kind string, d time.Duration, err error) {
	result := "success"
	if err != nil {
		result = "error"
	}
	syncDuration.WithLabelValues(kind, result).Observe(d.Seconds())
}
