// Package cluster stores Cluster objects: strategy (defaults, validation,
// which fields each endpoint may change) and REST storage.
package cluster

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
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/kfederation/federation/pkg/apis/federation"
	"github.com/kfederation/federation/pkg/apis/federation/validation"
)

type clusterStrategy struct {
	runtime.ObjectTyper
	names.NameGenerator
}

// Strategy is the create, update and delete logic of Clusters: the spec
// belongs to the admin, the status to the cluster controller.
var Strategy = clusterStrategy{legacyscheme.Scheme, names.SimpleNameGenerator}

var _ rest.RESTCreateUpdateStrategy = Strategy
var _ rest.RESTDeleteStrategy = Strategy
var _ rest.ResetFieldsStrategy = Strategy

func (clusterStrategy) NamespaceScoped() bool { return false }

// GetResetFields says that the main endpoint never changes status.
func (clusterStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"federation.k8s.io/v1beta1": fieldpath.NewSet(fieldpath.MakePathOrDie("status")),
	}
}

func (clusterStrategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	c := obj.(*federation.Cluster)
	c.Status = federation.ClusterStatus{}
	c.Generation = 1
}

func (clusterStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	c, oldC := obj.(*federation.Cluster), old.(*federation.Cluster)
	c.Status = oldC.Status
	if !equalSpec(&c.Spec, &oldC.Spec) {
		c.Generation = oldC.Generation + 1
	}
}

func equalSpec(a, b *federation.ClusterSpec) bool {
	if len(a.ServerAddressByClientCIDRs) != len(b.ServerAddressByClientCIDRs) {
		return false
	}
	for i := range a.ServerAddressByClientCIDRs {
		if a.ServerAddressByClientCIDRs[i] != b.ServerAddressByClientCIDRs[i] {
			return false
		}
	}
	if (a.SecretRef == nil) != (b.SecretRef == nil) {
		return false
	}
	return a.SecretRef == nil || *a.SecretRef == *b.SecretRef
}

func (clusterStrategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidateCluster(obj.(*federation.Cluster))
}

func (clusterStrategy) WarningsOnCreate(ctx context.Context, obj runtime.Object) []string {
	return nil
}

func (clusterStrategy) Canonicalize(obj runtime.Object) {}

func (clusterStrategy) AllowCreateOnUpdate() bool { return false }

func (clusterStrategy) AllowUnconditionalUpdate() bool { return true }

func (clusterStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateClusterUpdate(obj.(*federation.Cluster), old.(*federation.Cluster))
}

func (clusterStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}

type clusterStatusStrategy struct {
	clusterStrategy
}

// StatusStrategy lets the status endpoint change status and nothing else.
var StatusStrategy = clusterStatusStrategy{Strategy}

var _ rest.RESTUpdateStrategy = StatusStrategy

func (clusterStatusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"federation.k8s.io/v1beta1": fieldpath.NewSet(fieldpath.MakePathOrDie("spec")),
	}
}

func (clusterStatusStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	c, oldC := obj.(*federation.Cluster), old.(*federation.Cluster)
	c.Spec = oldC.Spec
	c.Labels, c.Annotations, c.Finalizers, c.OwnerReferences = oldC.Labels, oldC.Annotations, oldC.Finalizers, oldC.OwnerReferences
}

func (clusterStatusStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateClusterStatusUpdate(obj.(*federation.Cluster), old.(*federation.Cluster))
}

// GetAttrs returns the labels and fields a Cluster can be selected by.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	c, ok := obj.(*federation.Cluster)
	if !ok {
		return nil, nil, fmt.Errorf("not a Cluster: %T", obj)
	}
	return labels.Set(c.Labels), generic.ObjectMetaFieldsSet(&c.ObjectMeta, false), nil
}

// Matcher selects Clusters by label and by metadata.name.
func Matcher(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: GetAttrs}
}
