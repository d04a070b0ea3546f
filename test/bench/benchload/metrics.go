package benchload

import (
	"k8s.io/component-base/metrics/testutil"
)

// Metrics are the samples of a Prometheus text scrape (an API server's or
// the controller manager's /metrics) by metric name, histograms as their
// _bucket, _sum and _count series. Parsed with kube's component-base
// testutil, on Prometheus' own decoder.
type Metrics = testutil.Metrics

// ParseMetrics parses a Prometheus text scrape; what it cannot read, it
// skips.
func ParseMetrics(text []byte) Metrics {
	m := testutil.NewMetrics()
	_ = testutil.ParseMetrics(string(text), &m)
	return m
}

// Sum is the sum of the samples of the metric called name whose labels
// have the values in match (all of them when match is empty).
func Sum(m Metrics, name string, match map[string]string) float64 {
	var total float64
	for _, s := range m[name] {
		if Matches(s, match) {
			total += float64(s.Value)
		}
	}
	return total
}

// Matches says the sample's labels have the values in match.
func Matches(s *testutil.Sample, match map[string]string) bool {
	for k, v := range match {
		if string(s.Metric[testutil.LabelName(k)]) != v {
			return false
		}
	}
	return true
}

// Label is the value of the sample's label name ("" without it).
func Label(s *testutil.Sample, name string) string {
	return string(s.Metric[testutil.LabelName(name)])
}
