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
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	daemonsetstore "k8s.io/kubernetes/pkg/registry/apps/daemonset/storage"
	deploymentstore "k8s.io/kubernetes/pkg/registry/apps/deployment/storage"
	replicasetstore "k8s.io/kubernetes/pkg/registry/apps/replicaset/storage"
	jobstore "k8s.io/kubernetes/pkg/registry/batch/job/storage"
	leasestore "k8s.io/kubernetes/pkg/registry/coordination/lease/storage"
	configmapstore "k8s.io/kubernetes/pkg/registry/core/configmap/storage"
	eventstore "k8s.io/kubernetes/pkg/registry/core/event/storage"
	namespacestore "k8s.io/kubernetes/pkg/registry/core/namespace/storage"
	secretstore "k8s.io/kubernetes/pkg/registry/core/secret/storage"
	ingressstore "k8s.io/kubernetes/pkg/registry/networking/ingress/storage"
	ingressclassstore "k8s.io/kubernetes/pkg/registry/networking/ingressclass/storage"

	// The stock kinds' internal types, conversions and defaults, registered
	// in legacyscheme as kube-apiserver registers them.
	_ "k8s.io/kubernetes/pkg/apis/apps/install"
	_ "k8s.io/kubernetes/pkg/apis/autoscaling/install"
	_ "k8s.io/kubernetes/pkg/apis/batch/install"
	_ "k8s.io/kubernetes/pkg/apis/coordination/install"
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	_ "k8s.io/kubernetes/pkg/apis/networking/install"

	_ "github.com/kfederation/federation/pkg/apis/federation/install"
	federationv1beta1 "github.com/kfederation/federation/pkg/apis/federation/v1beta1"
	"github.com/kfederation/federation/pkg/registry/core/service"
	"github.com/kfederation/federation/pkg/registry/federation/cluster"
	"github.com/kfederation/federation/pkg/registry/federation/propagation"
)

// ServedGroupVersions are the group versions this server serves, and so the
// ones that get storage.
var ServedGroupVersions = []schema.GroupVersion{
	corev1.SchemeGroupVersion,
	appsv1.SchemeGroupVersion,
	networkingv1.SchemeGroupVersion,
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

// coreGroup serves namespaces, services, secrets, configmaps and events;
// nothing else of core/v1 (no pods, nodes or endpoints) makes sense in a
// federation.
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
	}
	return info, nil
}

// namedGroups serves the workload, ingress (Ingresses and the cluster-scoped
// IngressClasses they name), lease and federation groups.
func namedGroups(getter generic.RESTOptionsGetter) ([]*genericapiserver.APIGroupInfo, error) {
	rs, err := replicasetstore.NewStorage(getter)
	if err != nil {
		return nil, fmt.Errorf("replicasets: %w", err)
	}
	deploy, err := deploymentstore.NewStorage(getter)
	if err != nil {
		return nil, fmt.Errorf("deployments: %w", err)
	}
	ds, dsStatus, err := daemonsetstore.NewREST(getter)
	if err != nil {
		return nil, fmt.Errorf("daemonsets: %w", err)
	}
	apps := newGroupInfo(appsv1.GroupName)
	apps.VersionedResourcesStorageMap["v1"] = map[string]rest.Storage{
		"replicasets":        rs.ReplicaSet,
		"replicasets/status": rs.Status,
		"replicasets/scale":  rs.Scale,
		"deployments":        deploy.Deployment,
		"deployments/status": deploy.Status,
		"deployments/scale":  deploy.Scale,
		"daemonsets":         ds,
		"daemonsets/status":  dsStatus,
	}

	ing, ingStatus, err := ingressstore.NewREST(getter)
	if err != nil {
		return nil, fmt.Errorf("ingresses: %w", err)
	}
	ingClasses, err := ingressclassstore.NewREST(getter)
	if err != nil {
		return nil, fmt.Errorf("ingressclasses: %w", err)
	}
	networking := newGroupInfo(networkingv1.GroupName)
	networking.VersionedResourcesStorageMap["v1"] = map[string]rest.Storage{
		"ingresses":        ing,
		"ingresses/status": ingStatus,
		"ingressclasses":   ingClasses,
	}

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
	return []*genericapiserver.APIGroupInfo{apps, networking, batch, coordination, fed}, nil
}
