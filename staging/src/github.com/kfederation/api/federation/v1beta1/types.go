package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +genclient:nonNamespaced
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Cluster registers one member cluster with the federation: where its API
// server is and which Secret in the federation-system namespace holds the
// credentials to reach it. The cluster controller keeps its status current.
type Cluster struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec says how to reach the member cluster.
	// +optional
	Spec ClusterSpec `json:"spec,omitempty"`

	// Status is the most recently observed state of the member cluster,
	// written by the federation's cluster controller.
	// +optional
	Status ClusterStatus `json:"status,omitempty"`
}

// ClusterSpec says how to reach a member cluster's API server.
type ClusterSpec struct {
	// ServerAddressByClientCIDRs maps client networks to the address of the
	// member's API server they should use. A client picks the entry whose
	// CIDR contains its own address, the most specific one winning; use
	// 0.0.0.0/0 for an address every client can use.
	// +listType=atomic
	ServerAddressByClientCIDRs []ServerAddressByClientCIDR `json:"serverAddressByClientCIDRs"`

	// SecretRef names a Secret in the federation-system namespace of the
	// federation that holds the credentials for the member's API server:
	// either a "kubeconfig" key, or a "token" key with an optional "ca.crt".
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`
}

// ServerAddressByClientCIDR is one address of a member's API server and the
// client network it is meant for.
type ServerAddressByClientCIDR struct {
	// ClientCIDR is the network, in CIDR notation, whose clients use ServerAddress.
	ClientCIDR string `json:"clientCIDR"`
	// ServerAddress is the member API server's address: an https:// URL or a
	// host[:port].
	ServerAddress string `json:"serverAddress"`
}

// LocalObjectReference names an object in a namespace known from context.
type LocalObjectReference struct {
	// Name of the referent.
	Name string `json:"name"`
}

// ClusterConditionType names a kind of cluster condition.
type ClusterConditionType string

const (
	// ClusterReady means the member's API server answered its readiness probe with "ok".
	ClusterReady ClusterConditionType = "Ready"
	// ClusterOffline means the member's API server could not be reached at all.
	ClusterOffline ClusterConditionType = "Offline"
)

// ConditionStatus is True, False or Unknown.
type ConditionStatus string

const (
	// ConditionTrue means the condition holds.
	ConditionTrue ConditionStatus = "True"
	// ConditionFalse means the condition does not hold.
	ConditionFalse ConditionStatus = "False"
	// ConditionUnknown means the controller cannot tell.
	ConditionUnknown ConditionStatus = "Unknown"
)

// ClusterCondition is one observation of a member cluster's state.
type ClusterCondition struct {
	// Type of the condition: Ready or Offline.
	Type ClusterConditionType `json:"type"`
	// Status of the condition: True, False or Unknown.
	Status ConditionStatus `json:"status"`
	// LastProbeTime is when the condition was last probed.
	// +optional
	LastProbeTime metav1.Time `json:"lastProbeTime,omitempty"`
	// LastTransitionTime is when the status last changed.
	// +optional
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`
	// Reason is a CamelCase word saying why the condition has its status.
	// +optional
	Reason string `json:"reason,omitempty"`
	// Message says in words why the condition has its status.
	// +optional
	Message string `json:"message,omitempty"`
}

// ClusterStatus is the observed state of a member cluster.
type ClusterStatus struct {
	// Conditions are the latest observations of the cluster's state.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []ClusterCondition `json:"conditions,omitempty"`
	// Zones are the availability zones of the member's nodes.
	// +optional
	// +listType=atomic
	Zones []string `json:"zones,omitempty"`
	// Region is the region of the member's nodes.
	// +optional
	Region string `json:"region,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ClusterList is a list of Clusters.
type ClusterList struct {
	metav1.TypeMeta `json:",inline"`
	// Standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the Clusters.
	Items []Cluster `json:"items"`
}

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Propagation says, for one federated object, where it went: one entry per
// member cluster with the state of its copy there. The sync controllers
// write it; users read it with `kubectl get propagations` to learn why an
// object did or did not reach a cluster. Its name is the federated
// object's lower-case kind and name ("deployment.nginx"), in the object's
// namespace (a Namespace's own Propagation lives in that namespace; that of
// any other cluster-scoped object, such as an IngressClass, in
// federation-system).
type Propagation struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Status is the state of the federated object in each member cluster.
	// +optional
	Status PropagationStatus `json:"status,omitempty"`
}

// PropagationState is the state of a federated object in one cluster.
type PropagationState string

const (
	// PropagationPropagated means the cluster's copy matches the federated
	// object's generation recorded beside it.
	PropagationPropagated PropagationState = "Propagated"
	// PropagationPending means the copy is not there yet for a reason that
	// resolves by itself: the cluster is not Ready, or its namespace is
	// being created.
	PropagationPending PropagationState = "Pending"
	// PropagationFailed means the cluster refused the copy; the message is
	// the member's own error.
	PropagationFailed PropagationState = "Failed"
	// PropagationExcluded means the object is not meant for the cluster:
	// its cluster selector does not match the Cluster's labels.
	PropagationExcluded PropagationState = "Excluded"
)

// PropagationStatus is the state of a federated object in every cluster.
type PropagationStatus struct {
	// Object is the federated object this is about.
	Object PropagatedObjectReference `json:"object"`
	// Generation is the federated object's generation when last synced.
	// +optional
	Generation int64 `json:"generation,omitempty"`
	// Clusters has one entry per registered member cluster. The controller
	// manager writes the list whole.
	// +optional
	// +listType=atomic
	Clusters []ClusterPropagation `json:"clusters,omitempty"`
}

// PropagatedObjectReference names a federated object in the Propagation's
// namespace.
type PropagatedObjectReference struct {
	// APIVersion of the federated object.
	APIVersion string `json:"apiVersion"`
	// Kind of the federated object.
	Kind string `json:"kind"`
	// Name of the federated object.
	Name string `json:"name"`
}

// ClusterPropagation is the state of a federated object in one cluster.
type ClusterPropagation struct {
	// Cluster is the member cluster's name.
	Cluster string `json:"cluster"`
	// State is Propagated, Pending, Failed or Excluded.
	State PropagationState `json:"state"`
	// Generation is the federated object's generation the cluster's copy
	// was last written from.
	// +optional
	Generation int64 `json:"generation,omitempty"`
	// Reason is a CamelCase word saying why the copy is in its state.
	// +optional
	Reason string `json:"reason,omitempty"`
	// Message explains the state; for Failed, the member's own error.
	// +optional
	Message string `json:"message,omitempty"`
	// Replicas is, for ReplicaSets, Deployments and Jobs, how many
	// replicas (or parallel pods) the federation planned for this cluster.
	// +optional
	Replicas *int64 `json:"replicas,omitempty"`
	// ReadyReplicas is how many of them the cluster reports ready.
	// +optional
	ReadyReplicas *int64 `json:"readyReplicas,omitempty"`
	// LastTransitionTime is when the state last changed.
	// +optional
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PropagationList is a list of Propagations.
type PropagationList struct {
	metav1.TypeMeta `json:",inline"`
	// Standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the Propagations.
	Items []Propagation `json:"items"`
}
