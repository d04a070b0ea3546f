package apiserver

import (
	"fmt"

	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	jobstore "k8s.io/kubernetes/pkg/registry/batch/job/storage"
	leasestore "k8s.io/kubernetes/pkg/registry/coordination/lease/storage"
	configmapstore "k8s.io/kubernetes/pkg/registry/core/configmap/storage"
	eventstore "k8s.io/kubernetes/pkg/registry/core/event/storage"
	namespacestore "k8s.io/kubernetes/pkg/registry/core/namespace/storage"
	secretstore "k8s.io/kubernetes/pkg/registry/core/secret/storage"
	serviceaccountstore "k8s.io/kubernetes/pkg/registry/core/serviceaccount/storage"

	// The stock kinds' internal types, conversions and defaults, registered
	// in legacyscheme as kube-apiserver registers them.
	_ "k8s.io/kubernetes/pkg/apis/apps/install"
	_ "k8s.io/kubernetes/pkg/apis/autoscaling/install"
	_ "k8s.io/kubernetes/pkg/apis/batch/install"
	_ "k8s.io/kubernetes/pkg/apis/coordination/install"
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	_ "k8s.io/kubernetes/pkg/apis/extensions/install"
	_ "k8s.io/kubernetes/pkg/apis/networking/install"
	_ "k8s.io/kubernetes/pkg/apis/rbac/install"

	_ "github.com/kfederation/federation/pkg/apis/federation/install"
	federationv1beta1 "github.com/kfederation/federation/pkg/apis/federation/v1beta1"
	"github.com/kfederation/federation/pkg/registry/core/service"
	"github.com/kfederation/federation/pkg/registry/federation/cluster"
	"github.com/kfederation/federation/pkg/registry/federation/propagation"
)

// ServedGroupVersions are today's group versions this server serves, and so
// the ones that get storage. OldGroupVersions are served besides them.
var ServedGroupVersions = []schema.GroupVersion{
	corev1.SchemeGroupVersion,
	appsv1.SchemeGroupVersion,
	networkingv1.SchemeGroupVersion,
	rbacv1.SchemeGroupVersion,
	batchv1.SchemeGroupVersion,
	coordinationv1.SchemeGroupVersion,
	authenticationv1.SchemeGroupVersion,
	authorizationv1.SchemeGroupVersion,
	federationv1beta1.SchemeGroupVersion,
}

func newGroupInfo(group string) *genericapiserver.APIGroupInfo {
	info := genericapiserver.NewDefaultAPIGroupInfo(group, legacyscheme.Scheme, legacyscheme.ParameterCodec, legacyscheme.Codecs)
	return &info
}

// coreGroup serves namespaces, services, secrets, configmaps, service
// accounts and events; nothing else of core/v1 (no pods, nodes or
// endpoints) makes sense in a federation. Service accounts are served
// without their token subresource: tokens are issued by each member.
func coreGroup(getter generic.RESTOptionsGetter, eventTTL time.Duration) (*genericapiserver.APIGroupInfo, error) {
	ns, nsStatus, nsFinalize, err := namespacestore.NewREST(getter)
	if err != nil {
		return nil, err
	}
	svc, svcStatus, err := service.NewREST(getter)
	if err != nil {
		return nil, err
	}
	secrets, err := secretstore.NewREST(getter)
	if err != nil {
		return nil, err
	}
	configMaps, err := configmapstore.NewREST(getter)
	if err != nil {
		return nil, err
	}
	events, err := eventstore.NewREST(getter, uint64(eventTTL.Seconds()))
	if err != nil {
		return nil, err
	}
	serviceAccounts, err := serviceaccountstore.NewREST(getter, nil, nil, 0, nil, nil, nil, false, 0)
	if err != nil {
		return nil, err
	}
	info := newGroupInfo(corev1.GroupName)
	info.VersionedResourcesStorageMap["v1"] = map[string]rest.Storage{
		"namespaces":          ns,
		"namespaces/status":   nsStatus,
		"namespaces/finalize": nsFinalize,
		"services":            svc,
		"services/status":     svcStatus,
		"secrets":             secrets,
		"configmaps":          configMaps,
		"events":              events,
		"serviceaccounts":     serviceAccounts,
	}
	return info, nil
}

// namedGroups serves the workload, ingress (Ingresses and the cluster-scoped
// IngressClasses they name), RBAC, lease and federation groups, each in
// today's version and in the old versions of oldVersionGroups.
func namedGroups(getter generic.RESTOptionsGetter) ([]*genericapiserver.APIGroupInfo, error) {
	workloads, err := newWorkloadStorage(getter)
	if err != nil {
		return nil, err
	}
	apps := newGroupInfo(appsv1.GroupName)
	apps.VersionedResourcesStorageMap["v1"] = workloads.all()

	ingresses, err := newIngressStorage(getter)
	if err != nil {
		return nil, err
	}
	networking := newGroupInfo(networkingv1.GroupName)
	networking.VersionedResourcesStorageMap["v1"] = ingresses.all()

	roles, err := newRBACStorage(getter)
	if err != nil {
		return nil, err
	}
	rbac := newGroupInfo(rbacv1.GroupName)
	rbac.VersionedResourcesStorageMap["v1"] = roles

	extensions := oldVersionGroups(workloads, ingresses, roles, apps, networking, rbac)

	jobs, err := jobstore.NewStorage(getter)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	batch := newGroupInfo(batchv1.GroupName)
	batch.VersionedResourcesStorageMap["v1"] = map[string]rest.Storage{
		"jobs":        jobs.Job,
		"jobs/status": jobs.Status,
	}

	leases, err := leasestore.NewREST(getter)
	if err != nil {
		return nil, fmt.Errorf("leases: %w", err)
	}
	coordination := newGroupInfo(coordinationv1.GroupName)
	coordination.VersionedResourcesStorageMap["v1"] = map[string]rest.Storage{
		"leases": leases,
	}

	clusters, clusterStatus, err := cluster.NewREST(getter)
	if err != nil {
		return nil, fmt.Errorf("clusters: %w", err)
	}
	propagations, err := propagation.NewREST(getter)
	if err != nil {
		return nil, fmt.Errorf("propagations: %w", err)
	}
	fed := newGroupInfo(federationv1beta1.GroupName)
	fed.NegotiatedSerializer = withoutProtobuf{fed.NegotiatedSerializer}
	fed.VersionedResourcesStorageMap["v1beta1"] = map[string]rest.Storage{
		"clusters":        clusters,
		"clusters/status": clusterStatus,
		"propagations":    propagations,
	}
	// The extensions group goes last (see preferTodaysGroups).
	return []*genericapiserver.APIGroupInfo{apps, networking, rbac, batch, coordination, fed, extensions}, nil
}
