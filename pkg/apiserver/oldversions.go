package apiserver

import (
	appsv1beta1 "k8s.io/api/apps/v1beta1"
	appsv1beta2 "k8s.io/api/apps/v1beta2"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	networkingv1beta1 "k8s.io/api/networking/v1beta1"
	rbacv1beta1 "k8s.io/api/rbac/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
)

// OldGroupVersions are the versions kube-apiserver no longer serves that
// the federation still does, because the manifests people copy from the
// federation guides and old tutorials use them. Each is served from the
// storage of today's version (objects are stored once, in today's version,
// and readable in every version), with kube-apiserver's own conversion
// and defaulting of that version, and every response carries the
// deprecation warning kube-apiserver sent for it. Members only ever get
// today's versions.
var OldGroupVersions = []schema.GroupVersion{
	extensionsv1beta1.SchemeGroupVersion,
	appsv1beta1.SchemeGroupVersion,
	appsv1beta2.SchemeGroupVersion,
	networkingv1beta1.SchemeGroupVersion,
	rbacv1beta1.SchemeGroupVersion,
}

// oldVersionGroups adds the old versions to the groups of today's versions
// and returns the extensions group, which has no version of today.
func oldVersionGroups(w *workloadStorage, i *ingressStorage, roles map[string]rest.Storage, apps, networking, rbac *genericapiserver.APIGroupInfo) *genericapiserver.APIGroupInfo {
	apps.VersionedResourcesStorageMap[appsv1beta1.SchemeGroupVersion.Version] = w.deploymentResources()
	apps.VersionedResourcesStorageMap[appsv1beta2.SchemeGroupVersion.Version] = w.all()
	networking.VersionedResourcesStorageMap[networkingv1beta1.SchemeGroupVersion.Version] = i.all()
	rbac.VersionedResourcesStorageMap[rbacv1beta1.SchemeGroupVersion.Version] = roles

	extensions := newGroupInfo(extensionsv1beta1.GroupName)
	extensions.VersionedResourcesStorageMap[extensionsv1beta1.SchemeGroupVersion.Version] = merge(w.all(), i.ingressResources())
	return extensions
}

// preferTodaysGroups puts the extensions group last in discovery. Groups
// of equal priority are listed by name, which would put extensions before
// networking.k8s.io, and kubectl takes a resource from the first group
// that has it: "kubectl get ingress" would read extensions/v1beta1 and
// print its deprecation warning. (Within a group, versions are already
// listed newest first.)
func preferTodaysGroups(s *genericapiserver.GenericAPIServer) {
	if s.AggregatedDiscoveryGroupManager == nil {
		return
	}
	const lowest = 1
	gv := extensionsv1beta1.SchemeGroupVersion
	s.AggregatedDiscoveryGroupManager.SetGroupVersionPriority(metav1.GroupVersion{Group: gv.Group, Version: gv.Version}, lowest, lowest)
}
