package federation

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Cluster registers one member cluster with the federation.
type Cluster struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Spec   ClusterSpec
	Status ClusterStatus
}

// ClusterSpec says how to reach a member cluster's API server.
type ClusterSpec struct {
	ServerAddressByClientCIDRs []ServerAddressByClientCIDR
	SecretRef                  *LocalObjectReference
}

// ServerAddressByClientCIDR is one address of a member's API server and the
// client network it is meant for.
type ServerAddressByClientCIDR struct {
	ClientCIDR    string
	ServerAddress string
}

// LocalObjectReference names an object in a namespace known from context.
type LocalObjectReference struct {
	Name string
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
	Type               ClusterConditionType
	Status             ConditionStatus
	LastProbeTime      metav1.Time
	LastTransitionTime metav1.Time
	Reason             string
	Message            string
}

// ClusterStatus is the observed state of a member cluster.
type ClusterStatus struct {
	Conditions []ClusterCondition
	Zones      []string
	Region     string
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ClusterList is a list of Clusters.
type ClusterList struct {
	metav1.TypeMeta
	metav1.ListMeta

	Items []Cluster
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Propagation says where one federated object went, cluster by cluster.
type Propagation struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Status PropagationStatus
}

// PropagationState is the state of a federated object in one cluster.
type PropagationState string

// The states of a federated object in one cluster.
const (
	PropagationPropagated PropagationState = "Propagated"
	PropagationPending    PropagationState = "Pending"
	PropagationFailed     PropagationState = "Failed"
	PropagationExcluded   PropagationState = "Excluded"
)

// PropagationStatus is the state of a federated object in every cluster.
type PropagationStatus struct {
	Object     PropagatedObjectReference
	Generation int64
	Clusters   []ClusterPropagation
}

// PropagatedObjectReference names a federated object in the Propagation's namespace.
type PropagatedObjectReference struct {
	APIVersion string
	Kind       string
	Name       string
}

// ClusterPropagation is the state of a federated object in one cluster.
type ClusterPropagation struct {
	Cluster            string
	State              PropagationState
	Generation         int64
	Reason             string
	Message            string
	Replicas           *int64
	ReadyReplicas      *int64
	LastTransitionTime metav1.Time
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PropagationList is a list of Propagations.
type PropagationList struct {
	metav1.TypeMeta
	metav1.ListMeta

	Items []Propagation
}
