// Package federatedtypes holds one small adapter per federated kind: which
// fields go to member clusters, which fields each member keeps for itself,
// which objects are never propagated, and how member status adds up. The
// generic sync controller (pkg/controller/propagation) does everything else.
package federatedtypes

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Adapter describes one federated kind to the sync controller.
type Adapter struct {
	// Name names the controller in logs and in --controllers
	// ("service" runs as service-controller).
	Name string
	// GVR and Kind are the resource served by both the federation and
	// the members.
	GVR  schema.GroupVersionResource
	Kind string
	// Namespaced is false for cluster-scoped kinds: namespaces and
	// IngressClasses.
	Namespaced bool
	// Fields are the top-level fields, besides metadata, that members get
	// from the federated object: "spec", or "data" for ConfigMaps.
	Fields []string
	// HasStatus says the kind has a status subresource to aggregate into.
	HasStatus bool

	// Skip says that an object is never propagated. It is asked by the
	// sync controller, and by the admission plugin that puts the
	// federation's finalizer on new objects, before the object is stored.
	Skip func(obj Identity) bool
	// Replicas, if set, is where the kind keeps the number split across
	// clusters (e.g. spec.replicas).
	Replicas []string
	// SplitAlong are more integer fields split over the clusters, each in
	// proportion to the clusters' shares of Replicas, planned together
	// with them (a Job's completions along its parallelism: no cluster
	// gets completions without parallelism).
	SplitAlong [][]string
	// ReadyReplicas is where a member reports how many of its replicas are
	// ready, shown per cluster in the object's Propagation.
	ReadyReplicas []string
	// PrepareDesired adjusts a member copy before it is compared or sent:
	// drop what the member generates itself.
	PrepareDesired func(desired *unstructured.Unstructured)
	// Retain copies into desired the fields a member owns (a Service's
	// cluster IPs and allocated node ports) from the member's object, so
	// that they are neither overwritten nor counted as drift.
	Retain func(desired, member *unstructured.Unstructured)
	// AggregateStatus computes the federated status from the member
	// objects of the selected clusters (those without a copy yet are
	// absent). It returns the new status.
	AggregateStatus func(fed *unstructured.Unstructured, members map[string]*unstructured.Unstructured) map[string]interface{}
}

// Identity is what a Skip rule may look at: enough to tell an object
// apart, before it is stored and after.
type Identity struct {
	Namespace string
	Name      string
	// SecretType is a Secret's type; empty for other kinds.
	SecretType string
}

// IdentityOf is the Identity of a federated object.
func IdentityOf(obj *unstructured.Unstructured) Identity {
	id := Identity{Namespace: obj.GetNamespace(), Name: obj.GetName()}
	if obj.GetKind() == "Secret" {
		id.SecretType, _, _ = unstructured.NestedString(obj.Object, "type")
	}
	return id
}

// Skips says that the adapter never propagates obj.
func (a *Adapter) Skips(obj Identity) bool {
	return a.Skip != nil && a.Skip(obj)
}

// ControllerName is the adapter's name in logs: "service-controller".
func (a *Adapter) ControllerName() string {
	return a.Name + "-controller"
}

// All returns the adapter of every federated kind, in propagation order:
// namespaces first, since everything else lives in one; IngressClasses
// before the Ingresses that name them; ServiceAccounts and RBAC before the
// workloads that run as them.
func All() []*Adapter {
	return []*Adapter{
		Namespace(),
		Secret(),
		ConfigMap(),
		ServiceAccount(),
		ClusterRole(),
		ClusterRoleBinding(),
		Role(),
		RoleBinding(),
		Service(),
		IngressClass(),
		Ingress(),
		ReplicaSet(),
		Deployment(),
		DaemonSet(),
		Job(),
	}
}

// Finalizer keeps a federated object until its member copies are deleted
// (or released, when the user deletes with propagationPolicy=Orphan). The
// federation-apiserver's FederationFinalizer admission plugin puts it on
// every object an adapter propagates as it is created; the sync controller
// adds it to any object that lacks it.
const Finalizer = "federation.k8s.io/delete-from-members"
