package parity

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/deprecation"
	"k8s.io/kubernetes/pkg/api/legacyscheme"

	// kube-apiserver's own conversion and defaulting of every version of
	// these groups, the old ones included.
	_ "k8s.io/kubernetes/pkg/apis/apps/install"
	_ "k8s.io/kubernetes/pkg/apis/extensions/install"
	_ "k8s.io/kubernetes/pkg/apis/networking/install"
	_ "k8s.io/kubernetes/pkg/apis/rbac/install"
)

// oldEndpoint is a version the federation serves and kube-apiserver no
// longer does (extensions/v1beta1, apps/v1beta1...). There is no
// kube-apiserver to ask, so the reference answer is computed the way
// kube-apiserver computed it while it served the version: the body is
// decoded and defaulted in the old version and converted, through the
// internal type, to today's version, by kube's own code (legacyscheme);
// the result is posted to a real kube-apiserver at today's endpoint, whose
// validation and admission are those of the internal type, which is what
// the old version was validated as. A body that does not decode or convert
// is the 400 kube-apiserver answered for it.
//
// What is compared, and what is not:
//   - the status code, and for a 422 the field paths of the causes. These
//     are paths of the internal type, on both sides: the federation
//     validates the internal object too, so for an extensions/v1beta1
//     Ingress it says spec.defaultBackend, not spec.backend, exactly as
//     kube-apiserver did when it served extensions/v1beta1;
//   - the warnings, the federation's having the old version's deprecation
//     warning besides;
//   - a created object, as today's version: the federation's is read back
//     at today's endpoint (what members are given), and its answer must be
//     in the old version;
//   - not the messages (they name the old group), and not unknown or
//     duplicate fields: the typed conversion of the reference drops them
//     silently, so cases of old versions must not rely on them.
type oldEndpoint struct {
	old, today schema.GroupVersion
	kind       string
	resource   string
	namespaced bool
}

// oldEndpoints maps each testdata directory of an old version to its
// endpoint. The directory is old-<group>-<version>-<resource>, the group
// cut at its first dot.
var oldEndpoints = map[string]oldEndpoint{
	"old-extensions-v1beta1-daemonsets":     {extensions("v1beta1"), apps("v1"), "DaemonSet", "daemonsets", true},
	"old-extensions-v1beta1-deployments":    {extensions("v1beta1"), apps("v1"), "Deployment", "deployments", true},
	"old-extensions-v1beta1-replicasets":    {extensions("v1beta1"), apps("v1"), "ReplicaSet", "replicasets", true},
	"old-extensions-v1beta1-ingresses":      {extensions("v1beta1"), networking("v1"), "Ingress", "ingresses", true},
	"old-apps-v1beta1-deployments":          {apps("v1beta1"), apps("v1"), "Deployment", "deployments", true},
	"old-apps-v1beta2-daemonsets":           {apps("v1beta2"), apps("v1"), "DaemonSet", "daemonsets", true},
	"old-networking-v1beta1-ingresses":      {networking("v1beta1"), networking("v1"), "Ingress", "ingresses", true},
	"old-networking-v1beta1-ingressclasses": {networking("v1beta1"), networking("v1"), "IngressClass", "ingressclasses", false},
	"old-rbac-v1beta1-clusterrolebindings":  {rbac("v1beta1"), rbac("v1"), "ClusterRoleBinding", "clusterrolebindings", false},
	"old-rbac-v1beta1-roles":                {rbac("v1beta1"), rbac("v1"), "Role", "roles", true},
}

func extensions(v string) schema.GroupVersion {
	return schema.GroupVersion{Group: "extensions", Version: v}
}
func apps(v string) schema.GroupVersion { return schema.GroupVersion{Group: "apps", Version: v} }
func networking(v string) schema.GroupVersion {
	return schema.GroupVersion{Group: "networking.k8s.io", Version: v}
}
func rbac(v string) schema.GroupVersion {
	return schema.GroupVersion{Group: "rbac.authorization.k8s.io", Version: v}
}

// federation is the endpoint the federation is sent the case at.
func (o oldEndpoint) federation() endpoint {
	return endpoint{"/apis/" + o.old.Group + "/" + o.old.Version, o.resource, o.namespaced}
}

// reference is today's endpoint, where kube-apiserver is sent the
// converted body.
func (o oldEndpoint) reference() endpoint {
	return endpoint{"/apis/" + o.today.Group + "/" + o.today.Version, o.resource, o.namespaced}
}

// convert is body, decoded as kube-apiserver decoded a request to the old
// endpoint (the endpoint's version and kind where the body has none), then
// defaulted and converted to today's version, as JSON.
func (o oldEndpoint) convert(body []byte) ([]byte, error) {
	want := o.old.WithKind(o.kind)
	obj, gvk, err := legacyscheme.Codecs.UniversalDeserializer().Decode(body, &want, nil)
	if err != nil {
		return nil, err
	}
	// As the create handler: a body of another version is refused (one of
	// another kind of the same version goes on, to be refused by the
	// storage of today's version as kube-apiserver's storage refused it).
	if gvk.GroupVersion() != o.old {
		return nil, fmt.Errorf("the API version in the data (%s) does not match the expected API version (%s)", gvk.GroupVersion(), o.old)
	}
	legacyscheme.Scheme.Default(obj)
	internal, err := legacyscheme.Scheme.ConvertToVersion(obj, schema.GroupVersion{Group: o.old.Group, Version: runtime.APIVersionInternal})
	if err != nil {
		return nil, err
	}
	today, err := legacyscheme.Scheme.ConvertToVersion(internal, o.today)
	if err != nil {
		return nil, err
	}
	return json.Marshal(today)
}

// deprecationWarning is the warning kube-apiserver sent with every answer
// at the old endpoint.
func (o oldEndpoint) deprecationWarning() (string, error) {
	gvk := o.old.WithKind(o.kind)
	obj, err := legacyscheme.Scheme.New(gvk)
	if err != nil {
		return "", err
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	return deprecation.WarningMessage(obj), nil
}
