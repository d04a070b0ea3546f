package propagation

import (
	"context"
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// updateStatus writes the members' combined status into the federated
// object when it changed.
func (c *Controller) updateStatus(ctx context.Context, fed *unstructured.Unstructured, selected []string, members map[string]*unstructured.Unstructured) error {
	status := aggregatedStatus(c.adapter.AggregateStatus(fed, members), fed, selected, members)
	current, _, _ := unstructured.NestedMap(fed.Object, "status")
	if equality.Semantic.DeepEqual(current, status) {
		return nil
	}
	cp := fed.DeepCopy()
	cp.Object["status"] = status
	_, err := c.resource().Namespace(fed.GetNamespace()).UpdateStatus(ctx, cp, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return errPending
	}
	if err != nil {
		return fmt.Errorf("update status: %w", err)
	}
	return nil
}

// aggregatedStatus is the adapter's status with observedGeneration: the
// federated object's generation once every selected member runs it and
// its own controllers have observed it, else the last one that was.
func aggregatedStatus(status map[string]interface{}, fed *unstructured.Unstructured, selected []string, members map[string]*unstructured.Unstructured) map[string]interface{} {
	if status == nil {
		status = map[string]interface{}{}
	}
	old, has, _ := unstructured.NestedInt64(fed.Object, "status", "observedGeneration")
	if has || hasObservedGeneration(members) {
		if caughtUp(fed.GetGeneration(), selected, members) {
			status["observedGeneration"] = fed.GetGeneration()
		} else if old != 0 {
			status["observedGeneration"] = old
		}
	}
	return status
}

func hasObservedGeneration(members map[string]*unstructured.Unstructured) bool {
	for _, m := range members {
		if _, ok, _ := unstructured.NestedInt64(m.Object, "status", "observedGeneration"); ok {
			return true
		}
	}
	return false
}

// caughtUp says every selected member runs the federated object's current
// generation and its own controllers have observed it.
func caughtUp(generation int64, selected []string, members map[string]*unstructured.Unstructured) bool {
	if len(selected) == 0 {
		return false
	}
	for _, cl := range selected {
		m := members[cl]
		if m == nil || m.GetAnnotations()[GenerationAnnotation] != strconv.FormatInt(generation, 10) {
			return false
		}
		observed, _, _ := unstructured.NestedInt64(m.Object, "status", "observedGeneration")
		if observed < m.GetGeneration() {
			return false
		}
	}
	return true
}
