package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
)

// ErrObjectChanged marks a write refused because the object changed (or
// went) since it was read: not a failure, the object is synced again soon
// from the newer copy.
var ErrObjectChanged = errors.New("the object changed since it was read")

// AddFinalizer puts finalizer on obj through r, if it lacks it, and returns
// the object as stored, so that a sync goes on with it rather than waiting
// for the update to come back through its queue.
func AddFinalizer(ctx context.Context, r dynamic.ResourceInterface, obj *unstructured.Unstructured, finalizer string) (*unstructured.Unstructured, error) {
	if slices.Contains(obj.GetFinalizers(), finalizer) {
		return obj, nil
	}
	cp := obj.DeepCopy()
	cp.SetFinalizers(append(cp.GetFinalizers(), finalizer))
	updated, err := r.Update(ctx, cp, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%w: %s/%s: %v", ErrObjectChanged, obj.GetNamespace(), obj.GetName(), err)
	}
	return updated, err
}

// RemoveFinalizers takes the finalizers drop says yes to off obj through
// r. An object already gone is no error.
func RemoveFinalizers(ctx context.Context, r dynamic.ResourceInterface, obj *unstructured.Unstructured, drop func(string) bool) error {
	cp := obj.DeepCopy()
	cp.SetFinalizers(slices.DeleteFunc(cp.GetFinalizers(), drop))
	_, err := r.Update(ctx, cp, metav1.UpdateOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case apierrors.IsConflict(err):
		return fmt.Errorf("%w: %s/%s: %v", ErrObjectChanged, obj.GetNamespace(), obj.GetName(), err)
	}
	return err
}
