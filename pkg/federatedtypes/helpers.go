package federatedtypes

import (
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
)

func inFederationSystem(obj Identity) bool {
	return obj.Namespace == federationv1beta1.FederationSystemNamespace
}

// sumInt64 adds up an integer status field over the members.
func sumInt64(members map[string]*unstructured.Unstructured, path ...string) int64 {
	var total int64
	for _, m := range members {
		if v, ok, _ := unstructured.NestedInt64(m.Object, path...); ok {
			total += v
		}
	}
	return total
}

// sumCounters builds a status with each named counter under status summed.
func sumCounters(members map[string]*unstructured.Unstructured, counters ...string) map[string]interface{} {
	status := map[string]interface{}{}
	for _, c := range counters {
		if v := sumInt64(members, "status", c); v != 0 {
			status[c] = v
		}
	}
	return status
}

// loadBalancerUnion returns the sorted, de-duplicated union of the members'
// status.loadBalancer.ingress entries.
func loadBalancerUnion(members map[string]*unstructured.Unstructured) []interface{} {
	seen := map[string]map[string]interface{}{}
	for _, m := range members {
		entries, _, _ := unstructured.NestedSlice(m.Object, "status", "loadBalancer", "ingress")
		for _, e := range entries {
			entry, ok := e.(map[string]interface{})
			if !ok {
				continue
			}
			ip, _ := entry["ip"].(string)
			host, _ := entry["hostname"].(string)
			key := ip + "/" + host
			if _, dup := seen[key]; !dup {
				seen[key] = entry
			}
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]interface{}, 0, len(keys))
	for _, k := range keys {
		out = append(out, seen[k])
	}
	return out
}
