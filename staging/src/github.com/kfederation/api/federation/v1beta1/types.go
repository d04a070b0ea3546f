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
