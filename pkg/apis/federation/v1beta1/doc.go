// +k8s:conversion-gen=github.com/kfederation/federation/pkg/apis/federation
// +k8s:conversion-gen-external-types=github.com/kfederation/api/federation/v1beta1
// +k8s:defaulter-gen=TypeMeta
// +k8s:defaulter-gen-input=github.com/kfederation/api/federation/v1beta1
// +groupName=federation.k8s.io

// Package v1beta1 registers the versioned federation.k8s.io/v1beta1 types
// with the server's scheme, with their conversions and defaults.
package v1beta1
