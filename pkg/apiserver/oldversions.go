package apiserver

import (
	"context"

	appsv1beta1 "k8s.io/api/apps/v1beta1"
	appsv1beta2 "k8s.io/api/apps/v1beta2"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	networkingv1beta1 "k8s.io/api/networking/v1beta1"
	rbacv1beta1 "k8s.io/api/rbac/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
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

// todaysResources are the resources of the extensions group by the group
// that serves them today. Requests to the other old versions already carry
// today's group.
var todaysResources = map[string]schema.GroupVersionResource{
	"deployments": {Group: "apps", Version: "v1", Resource: "deployments"},
	"daemonsets":  {Group: "apps", Version: "v1", Resource: "daemonsets"},
	"replicasets": {Group: "apps", Version: "v1", Resource: "replicasets"},
	"ingresses":   {Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"},
}

// AdmitAsToday wraps the admission chain so that a request to the
// extensions group is admitted as a request to today's group of the same
// resource. Admission plugins (kube's DefaultIngressClass, the federation's
// finalizer and annotation checks) pick their requests by group and
// resource, and an extensions/v1beta1 Deployment is an apps Deployment:
// the same internal object, stored in the same place.
func AdmitAsToday(chain admission.Interface) admission.Interface {
	return todaysAdmission{chain}
}

type todaysAdmission struct {
	admission.Interface
}

var (
	_ admission.MutationInterface   = todaysAdmission{}
	_ admission.ValidationInterface = todaysAdmission{}
)

func (t todaysAdmission) Admit(ctx context.Context, a admission.Attributes, o admission.ObjectInterfaces) error {
	m, ok := t.Interface.(admission.MutationInterface)
	if !ok {
		return nil
	}
	return m.Admit(ctx, asToday(a), o)
}

func (t todaysAdmission) Validate(ctx context.Context, a admission.Attributes, o admission.ObjectInterfaces) error {
	v, ok := t.Interface.(admission.ValidationInterface)
	if !ok {
		return nil
	}
	return v.Validate(ctx, asToday(a), o)
}

// asToday presents a request to an extensions resource as one to today's
// group; other requests are returned as they are.
func asToday(a admission.Attributes) admission.Attributes {
	gvr := a.GetResource()
	if gvr.Group != extensionsv1beta1.GroupName {
		return a
	}
	today, ok := todaysResources[gvr.Resource]
	if !ok {
		return a
	}
	kind := a.GetKind()
	if a.GetSubresource() == "" {
		kind = today.GroupVersion().WithKind(kind.Kind)
	}
	return todaysAttributes{Attributes: a, resource: today, kind: kind}
}

type todaysAttributes struct {
	admission.Attributes
	resource schema.GroupVersionResource
	kind     schema.GroupVersionKind
}

func (t todaysAttributes) GetResource() schema.GroupVersionResource { return t.resource }
func (t todaysAttributes) GetKind() schema.GroupVersionKind         { return t.kind }
