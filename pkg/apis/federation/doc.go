// +k8s:deepcopy-gen=package
// +groupName=federation.k8s.io

// Package federation holds the internal (storage-independent) types of the
// federation.k8s.io API group. Versioned types live in the staging module
// github.com/kfederation/api.
package federation
