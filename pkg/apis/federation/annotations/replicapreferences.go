package annotations

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kfederation/federation/pkg/apis/federation/validation"
)

// AllClusters is the key in ReplicaPreferences.Clusters whose preferences
// apply to every cluster that has no entry of its own.
const AllClusters = "*"

// replicaPreferencesExample is quoted in error messages so that the user
// sees every accepted field next to what was wrong with theirs.
const replicaPreferencesExample = `{"rebalance": true, "clusters": {"*": {"weight": 1}, "us-east1": {"minReplicas": 2, "maxReplicas": 4, "weight": 1}}}`

// ReplicaPreferences is the value of the ReplicaSetPreferences,
// DeploymentPreferences and JobPreferences annotations: how the replicas of
// one object are divided among member clusters.
type ReplicaPreferences struct {
	// Rebalance lets the planner move replicas that already run in a
	// cluster; without it, existing replicas stay where they are (up to
	// that cluster's MaxReplicas) and only the rest are placed.
	Rebalance bool `json:"rebalance"`

	// Clusters maps a cluster name, or AllClusters, to that cluster's
	// preferences. Clusters with no entry of their own and no AllClusters
	// entry get no replicas.
	Clusters map[string]ClusterPreferences `json:"clusters"`
}

// ClusterPreferences are one cluster's bounds and share of the replicas.
type ClusterPreferences struct {
	// MinReplicas are placed in the cluster before any are divided by
	// weight.
	MinReplicas int64 `json:"minReplicas"`

	// MaxReplicas caps the cluster's replicas; nil means no cap.
	MaxReplicas *int64 `json:"maxReplicas,omitempty"`

	// Weight is the cluster's share of the replicas left after every
	// cluster's MinReplicas, relative to the other clusters' weights.
	Weight int64 `json:"weight"`
}

// ParseReplicaPreferences parses the value of a replica preferences
// annotation. It accepts exactly the values ValidateReplicaPreferences
// accepts. The error does not name the annotation, which the caller knows
// and should add. A caller holding an error must not fall back to defaults:
// the object was admitted before this validation existed, and the error is
// worth reporting to its owner.
func ParseReplicaPreferences(value string) (*ReplicaPreferences, error) {
	prefs, errs := parseReplicaPreferences(value, nil)
	if len(errs) > 0 {
		return nil, valueError(errs)
	}
	return prefs, nil
}

// ValidateReplicaPreferences checks the value of the replica preferences
// annotation annotationKey (ReplicaSetPreferences, DeploymentPreferences or
// JobPreferences). fldPath is the path of the annotations map (usually
// metadata.annotations); every error names fldPath.Key(annotationKey), and
// its detail says which cluster and field are wrong and how.
func ValidateReplicaPreferences(annotationKey, value string, fldPath *field.Path) field.ErrorList {
	_, errs := parseReplicaPreferences(value, fldPath.Key(annotationKey))
	return errs
}

// parseReplicaPreferences is shared by Parse and Validate so that the two
// can never disagree. path is the annotation's own path.
func parseReplicaPreferences(value string, path *field.Path) (*ReplicaPreferences, field.ErrorList) {
	var prefs *ReplicaPreferences
	if err := decodeStrict(value, &prefs); err != nil {
		return nil, field.ErrorList{field.Invalid(path, value,
			fmt.Sprintf("must be a JSON object like %s: %s", replicaPreferencesExample, describeJSONError(err)))}
	}
	// A JSON null decodes without error and leaves prefs nil; it is more
	// likely a templating slip than a wish for "no preferences".
	if prefs == nil {
		return nil, field.ErrorList{field.Invalid(path, value,
			fmt.Sprintf("must be a JSON object like %s, not null", replicaPreferencesExample))}
	}

	var errs field.ErrorList
	// Sorted, so that the same value always gives the same errors.
	for _, name := range slices.Sorted(maps.Keys(prefs.Clusters)) {
		errs = append(errs, validateClusterPreferences(name, prefs.Clusters[name], path)...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return prefs, nil
}

// validateClusterPreferences checks the entry of one cluster.
func validateClusterPreferences(name string, p ClusterPreferences, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	invalid := func(bad any, format string, args ...any) {
		errs = append(errs, field.Invalid(path, bad, fmt.Sprintf("clusters[%q]: ", name)+fmt.Sprintf(format, args...)))
	}

	if name != AllClusters {
		if msgs := validation.ValidateClusterName(name, false); len(msgs) > 0 {
			invalid(name, "%q is not a cluster name (%s); use the name of a Cluster, or %q for every other cluster",
				name, strings.Join(msgs, "; "), AllClusters)
		}
	}
	if p.Weight < 0 {
		invalid(p.Weight, "weight must be 0 or more, got %d", p.Weight)
	}
	if p.MinReplicas < 0 {
		invalid(p.MinReplicas, "minReplicas must be 0 or more, got %d", p.MinReplicas)
	}
	if p.MaxReplicas != nil {
		switch {
		case *p.MaxReplicas < 0:
			invalid(*p.MaxReplicas, "maxReplicas must be 0 or more, got %d; leave it out for no limit", *p.MaxReplicas)
		case p.MinReplicas > *p.MaxReplicas:
			invalid(p.MinReplicas, "minReplicas (%d) must not be greater than maxReplicas (%d)", p.MinReplicas, *p.MaxReplicas)
		}
	}
	return errs
}
