// +k8s:deepcopy-gen=package
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=com.github.kfederation.api.federation.v1beta1
// +k8s:defaulter-gen=TypeMeta
// +groupName=federation.k8s.io

// Package v1beta1 holds the versioned types of the federation.k8s.io API
// group: the Cluster objects that register member clusters with the
// federation control plane.
package v1beta1
