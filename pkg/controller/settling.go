package controller

import (
	"fmt"

	"k8s.io/apimachinery/pkg/labels"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
	fedlisters "github.com/kfederation/client-go/listers/federation/v1beta1"

	"github.com/kfederation/federation/pkg/apis/federation/annotations"
	"github.com/kfederation/federation/pkg/clusterclient"
)

// ClusterSelector is the selector of the clusters an object asks for with
// its cluster selector annotation: every cluster without one.
func ClusterSelector(objAnnotations map[string]string) (labels.Selector, error) {
	v, ok := objAnnotations[annotations.ClusterSelector]
	if !ok {
		return labels.Everything(), nil
	}
	s, err := annotations.ParseClusterSelector(v)
	if err != nil {
		return nil, fmt.Errorf("annotation %s: %w", annotations.ClusterSelector, err)
	}
	return s, nil
}

// ClusterCallsItselfReady says the Cluster's stored status is Ready: what
// the federation last recorded, which may predate this process.
func ClusterCallsItselfReady(cl *federationv1beta1.Cluster) bool {
	for _, c := range cl.Status.Conditions {
		if c.Type == federationv1beta1.ClusterReady {
			return c.Status == federationv1beta1.ConditionTrue
		}
	}
	return false
}

// Settling says that some Cluster the federation last saw Ready has not
// been probed by this process yet: the moment right after a start, when
// acting would treat members as gone only because nobody has looked yet
// (plan replicas onto whichever cluster answered first, drop a healthy
// member's DNS records). Controllers wait it out.
func Settling(clusters fedlisters.ClusterLister, registry *clusterclient.Registry) bool {
	list, err := clusters.List(labels.Everything())
	if err != nil {
		return true
	}
	for _, cl := range list {
		if !ClusterCallsItselfReady(cl) {
			continue
		}
		if r := registry.Get(cl.Name); r == nil || !r.Probed() {
			return true
		}
	}
	return false
}
