// Package service stores federated Services. It reuses kube-apiserver's
// Service strategy, so defaulting and validation are exactly kube-apiserver's,
// but unlike kube-apiserver's storage it allocates nothing: cluster IPs,
// node ports and health-check node ports belong to each member cluster. What
// the user wrote (a chosen nodePort, clusterIP: None) is kept as written.
package service

import (
	"context"
	"slices"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	api "k8s.io/kubernetes/pkg/apis/core"
	"k8s.io/kubernetes/pkg/printers"
	printersinternal "k8s.io/kubernetes/pkg/printers/internalversion"
	printerstorage "k8s.io/kubernetes/pkg/printers/storage"
	svcreg "k8s.io/kubernetes/pkg/registry/core/service"

	"github.com/kfederation/federation/pkg/registry/statusrest"
)

// REST is the storage of /api/v1/namespaces/{ns}/services.
type REST struct {
	*genericregistry.Store
}

var (
	_ rest.ShortNamesProvider = &REST{}
	_ rest.CategoriesProvider = &REST{}
)

// ShortNames lets `kubectl get svc` work.
func (r *REST) ShortNames() []string { return []string{"svc"} }

// Categories puts services in `kubectl get all`.
func (r *REST) Categories() []string { return []string{"all"} }

// strategy is kube-apiserver's Service strategy plus the clusterIP/clusterIPs
// normalisation that kube-apiserver does in its allocating storage.
type strategy struct {
	rest.RESTCreateUpdateStrategy
	rest.ResetFieldsStrategy
}

// PrepareForCreate keeps clusterIP and clusterIPs in step, then applies
// kube-apiserver's create preparation.
func (s strategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	normalizeClusterIPs(obj.(*api.Service), nil)
	s.RESTCreateUpdateStrategy.PrepareForCreate(ctx, obj)
}

// PrepareForUpdate keeps clusterIP and clusterIPs in step, then applies
// kube-apiserver's update preparation.
func (s strategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	normalizeClusterIPs(obj.(*api.Service), old.(*api.Service))
	s.RESTCreateUpdateStrategy.PrepareForUpdate(ctx, obj, old)
}

// Validate is kube-apiserver's validation of a new Service, less what only
// holds once ports are allocated (see withoutAllocationErrors).
func (s strategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	return withoutAllocationErrors(s.RESTCreateUpdateStrategy.Validate(ctx, obj))
}

// ValidateUpdate is kube-apiserver's validation of a Service update, less
// what only holds once ports are allocated (see withoutAllocationErrors).
func (s strategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return withoutAllocationErrors(s.RESTCreateUpdateStrategy.ValidateUpdate(ctx, obj, old))
}

// withoutAllocationErrors drops the error that a LoadBalancer Service with
// externalTrafficPolicy Local has no healthCheckNodePort. kube-apiserver
// allocates that port before it validates, so its validation may demand
// one; the federation allocates nothing, and each member allocates the port
// of its own copy. Without this, such a Service, valid for kube-apiserver,
// would be refused with 422.
func withoutAllocationErrors(errs field.ErrorList) field.ErrorList {
	return slices.DeleteFunc(errs, func(e *field.Error) bool {
		return e.Type == field.ErrorTypeRequired && e.Field == "spec.healthCheckNodePort"
	})
}

// normalizeClusterIPs lets users manage either clusterIP or clusterIPs, as
// kube-apiserver does: the one they set fills in the other.
func normalizeClusterIPs(svc, old *api.Service) {
	if svc.Spec.Type == api.ServiceTypeExternalName {
		return
	}
	if old != nil && svc.Spec.ClusterIP != old.Spec.ClusterIP && slices.Equal(svc.Spec.ClusterIPs, old.Spec.ClusterIPs) {
		// The user changed only the singular field.
		if svc.Spec.ClusterIP == "" {
			svc.Spec.ClusterIPs = nil
		} else {
			svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
		}
		return
	}
	if svc.Spec.ClusterIP == "" && len(svc.Spec.ClusterIPs) > 0 {
		svc.Spec.ClusterIP = svc.Spec.ClusterIPs[0]
	}
	if svc.Spec.ClusterIP != "" && len(svc.Spec.ClusterIPs) == 0 {
		svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
	}
}

// NewREST returns the storage of services and of their status subresource.
func NewREST(optsGetter generic.RESTOptionsGetter) (*REST, *statusrest.REST, error) {
	s := strategy{svcreg.Strategy, svcreg.Strategy}
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &api.Service{} },
		NewListFunc:               func() runtime.Object { return &api.ServiceList{} },
		PredicateFunc:             svcreg.Matcher,
		DefaultQualifiedResource:  api.Resource("services"),
		SingularQualifiedResource: api.Resource("service"),
		ReturnDeletedObject:       true,

		CreateStrategy:      s,
		UpdateStrategy:      s,
		DeleteStrategy:      svcreg.Strategy,
		ResetFieldsStrategy: svcreg.Strategy,

		TableConvertor: printerstorage.TableConvertor{TableGenerator: printers.NewTableGenerator().With(printersinternal.AddHandlers)},
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: svcreg.GetAttrs}); err != nil {
		return nil, nil, err
	}
	return &REST{store}, statusrest.New(store, svcreg.StatusStrategy), nil
}
