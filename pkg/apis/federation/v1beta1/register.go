package v1beta1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
)

// GroupName is the API group of the federation's own kinds.
const GroupName = "federation.k8s.io"

// SchemeGroupVersion is the group and version served by this package.
var SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: "v1beta1"}

var (
	// localSchemeBuilder is the versioned types' scheme builder, to which the
	// generated conversions and defaulters add themselves.
	localSchemeBuilder = &federationv1beta1.SchemeBuilder
	// AddToScheme adds the versioned types, conversions and defaults to a scheme.
	AddToScheme = localSchemeBuilder.AddToScheme
)
