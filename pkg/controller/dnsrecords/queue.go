package dnsrecords

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
	fedlisters "github.com/kfederation/client-go/listers/federation/v1beta1"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller"
)

// RetryLimiter retries an object whose records could not be written after
// 100 ms, doubling up to 30 s: a provider that comes back is caught up
// within half a minute, and one object failing holds up no other.
func RetryLimiter() workqueue.TypedRateLimiter[string] {
	return workqueue.NewTypedItemExponentialFailureRateLimiter[string](100*time.Millisecond, 30*time.Second)
}

// ErrPending marks an object that cannot be handled yet (members not
// probed or not listed yet); it is retried soon, without an event.
var ErrPending = errors.New("pending")

// ErrInvalid marks an object whose own settings are wrong: retrying does
// not help, an event says what to fix.
var ErrInvalid = errors.New("invalid")

// Pending says err is a wait, not a failure: retry in a second, without
// backoff or an error in the log.
func Pending(err error) bool {
	return errors.Is(err, ErrPending) || errors.Is(err, controller.ErrObjectChanged) || errors.Is(err, clusterclient.ErrNotSynced)
}

// Earliest is the sooner of two rechecks, 0 meaning none.
func Earliest(a, b time.Duration) time.Duration {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

// OnClusterChange calls f when a member joins or leaves, when a Cluster
// changes in a way that matters to records (ClusterChangeMatters), and
// when the registry finds a member's readiness changed: each can change
// every object's records.
func OnClusterChange(clusters cache.SharedIndexInformer, registry *clusterclient.Registry, f func()) {
	_, _ = clusters.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(interface{}) { f() },
		DeleteFunc: func(interface{}) { f() },
		UpdateFunc: func(old, cur interface{}) {
			if ClusterChangeMatters(old.(*federationv1beta1.Cluster), cur.(*federationv1beta1.Cluster)) {
				f()
			}
		},
	})
	registry.OnChange(func(string) { f() })
}

// ClusterChangeMatters says a Cluster changed in a way that can change
// records: labels (selection), zones, region, readiness, deletion. The
// status refresh every 30 s changes none of these.
func ClusterChangeMatters(old, cur *federationv1beta1.Cluster) bool {
	return !equality.Semantic.DeepEqual(old.Labels, cur.Labels) ||
		!slices.Equal(old.Status.Zones, cur.Status.Zones) || old.Status.Region != cur.Status.Region ||
		controller.ClusterCallsItselfReady(old) != controller.ClusterCallsItselfReady(cur) ||
		(old.DeletionTimestamp == nil) != (cur.DeletionTimestamp == nil)
}

// SelectedClusters returns the joined clusters an object's cluster
// selector annotation matches (all of them without one), sorted by name,
// Ready or not. A selector that cannot be parsed is ErrInvalid.
func SelectedClusters(clusters fedlisters.ClusterLister, objAnnotations map[string]string) ([]*federationv1beta1.Cluster, error) {
	selector, err := controller.ClusterSelector(objAnnotations)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	all, err := clusters.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	var out []*federationv1beta1.Cluster
	for _, cl := range all {
		if cl.DeletionTimestamp == nil && selector.Matches(labels.Set(cl.Labels)) {
			out = append(out, cl)
		}
	}
	slices.SortFunc(out, func(a, b *federationv1beta1.Cluster) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
