package propagation

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kfederation/federation/pkg/controller/placement"
)

// split is one cluster's share of the fields an adapter splits: the
// replicas, and each field split along them (a Job's completions), by
// path as in Adapter.SplitAlong. nil for a kind that splits nothing.
type split struct {
	replicas int64
	along    map[string]int64
}

// plan splits the object's replicas over the selected clusters, with the
// replica planner, and then every field split along them in proportion to
// each cluster's replicas: all of an object's split fields at once, so
// that no member gets a Job's completions without its parallelism.
func (c *Controller) plan(fed *unstructured.Unstructured, key string, selected []string) (map[string]*split, error) {
	if len(c.adapter.Replicas) == 0 {
		return map[string]*split{}, nil
	}
	total, found, _ := unstructured.NestedInt64(fed.Object, c.adapter.Replicas...)
	if !found {
		total = 1
	}
	shares, err := c.planReplicas(fed, key, total, selected)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*split, len(selected))
	for _, cl := range selected {
		out[cl] = &split{replicas: shares[cl], along: map[string]int64{}}
	}
	for _, path := range c.adapter.SplitAlong {
		fieldTotal, ok, _ := unstructured.NestedInt64(fed.Object, path...)
		if !ok {
			continue
		}
		for cl, n := range placement.SplitAlong(fieldTotal, shares, key) {
			out[cl].along[pathKey(path)] = n
		}
	}
	return out, nil
}

// planReplicas asks the replica planner for each selected cluster's
// replicas, telling it what each cluster's copy runs now; without a
// planner, the replicas are split evenly.
func (c *Controller) planReplicas(fed *unstructured.Unstructured, key string, total int64, selected []string) (map[string]int64, error) {
	if c.cctx.Planner == nil {
		return placement.Even(total, selected, key), nil
	}
	current := map[string]int64{}
	for _, cl := range selected {
		if m, err := c.members.Cached(cl, key); err == nil && m != nil {
			if r, ok, _ := unstructured.NestedInt64(m.Object, c.adapter.Replicas...); ok {
				current[cl] = r
			}
		}
	}
	return c.cctx.Planner.Plan(fed, total, selected, current)
}

func pathKey(path []string) string { return strings.Join(path, ".") }
