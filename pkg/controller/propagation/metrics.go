package propagation

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

var memberSyncDuration = metrics.NewHistogramVec(&metrics.HistogramOpts{
	Subsystem:      "federation_sync",
	Name:           "member_duration_seconds",
	Help:           "Time to bring one member cluster's copy of a federated object in line, by kind and cluster.",
	Buckets:        metrics.ExponentialBuckets(0.001, 2, 15),
	StabilityLevel: metrics.ALPHA,
}, []string{"kind", "cluster"})

var memberErrors = metrics.NewCounterVec(&metrics.CounterOpts{
	Subsystem:      "federation_sync",
	Name:           "member_errors_total",
	Help:           "Requests a member cluster refused or did not answer, by kind, cluster and operation.",
	StabilityLevel: metrics.ALPHA,
}, []string{"kind", "cluster", "operation"})

var memberWriteAllowance = metrics.NewGaugeVec(&metrics.GaugeOpts{
	Subsystem:      "federation_sync",
	Name:           "member_write_allowance",
	Help:           "Writes of a kind a member cluster may have at once: --concurrent-syncs, or fewer after the member did not answer in time, by kind and cluster.",
	StabilityLevel: metrics.ALPHA,
}, []string{"kind", "cluster"})

var memberWriteAllowanceCuts = metrics.NewCounterVec(&metrics.CounterOpts{
	Subsystem:      "federation_sync",
	Name:           "member_write_allowance_cuts_total",
	Help:           "Times a member cluster's writes of a kind at once were cut, after it did not answer a write in time or answered one late, by kind and cluster.",
	StabilityLevel: metrics.ALPHA,
}, []string{"kind", "cluster"})

var syncWakes = metrics.NewCounterVec(&metrics.CounterOpts{
	Subsystem:      "federation_sync",
	Name:           "wakes_total",
	Help:           "Requests to sync a federated object, by kind and reason; requests for an object already waiting merge into one sync.",
	StabilityLevel: metrics.ALPHA,
}, []string{"kind", "reason"})

var syncCauses = metrics.NewCounterVec(&metrics.CounterOpts{
	Subsystem:      "federation_sync",
	Name:           "causes_total",
	Help:           "Syncs of federated objects started, by kind and the reason of the first request that queued each.",
	StabilityLevel: metrics.ALPHA,
}, []string{"kind", "reason"})

func init() {
	legacyregistry.MustRegister(syncDuration, memberSyncDuration, memberErrors, memberWriteAllowance, memberWriteAllowanceCuts, syncWakes, syncCauses)
}

func observeSync(kind string, d time.Duration, err error) {
	result := "success"
	if err != nil {
		result = "error"
	}
	syncDuration.WithLabelValues(kind, result).Observe(d.Seconds())
}
