// Package propagation stores Propagations: per federated object, the state
// of its copy in each member cluster, written by the sync controllers.
package propagation

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/names"
	"k8s.io/kubernetes/pkg/api/legacyscheme"

	"github.com/kfederation/federation/pkg/apis/federation"
	"github.com/kfederation/federation/pkg/apis/federation/validation"
)

type strategy struct {
	runtime.ObjectTyper
	names.NameGenerator
}

// Strategy is the create and update logic of Propagations.
var Strategy = strategy{legacyscheme.Scheme, names.SimpleNameGenerator}

var _ rest.RESTCreateUpdateStrategy = Strategy

func (strategy) NamespaceScoped() bool                                    { return true }
func (strategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {}
func (strategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
}
func (strategy) Canonicalize(obj runtime.Object)                                   {}
func (strategy) AllowCreateOnUpdate() bool                                         { return false }
func (strategy) AllowUnconditionalUpdate() bool                                    { return true }
func (strategy) WarningsOnCreate(ctx context.Context, obj runtime.Object) []string { return nil }
func (strategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}

func (strategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidatePropagation(obj.(*federation.Propagation))
}

func (strategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidatePropagationUpdate(obj.(*federation.Propagation), old.(*federation.Propagation))
}

// GetAttrs returns the labels and fields a Propagation can be selected by.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	p, ok := obj.(*federation.Propagation)
	if !ok {
		return nil, nil, fmt.Errorf("not a Propagation: %T", obj)
	}
	f := generic.ObjectMetaFieldsSet(&p.ObjectMeta, true)
	f["status.object.kind"] = p.Status.Object.Kind
	f["status.object.name"] = p.Status.Object.Name
	return labels.Set(p.Labels), f, nil
}

// Matcher selects Propagations by label and by metadata and object fields.
func Matcher(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: GetAttrs}
}
