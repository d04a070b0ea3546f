// Package install registers the federation.k8s.io group, internal and
// versioned, with the server's scheme.
package install

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/kubernetes/pkg/api/legacyscheme"

	"github.com/kfederation/federation/pkg/apis/federation"
	"github.com/kfederation/federation/pkg/apis/federation/v1beta1"
)

func init() {
	Install(legacyscheme.Scheme)
}

// Install adds the federation.k8s.io types to scheme, v1beta1 preferred.
func Install(scheme *runtime.Scheme) {
	utilruntime.Must(federation.AddToScheme(scheme))
	utilruntime.Must(v1beta1.AddToScheme(scheme))
	utilruntime.Must(scheme.SetVersionPriority(v1beta1.SchemeGroupVersion))
}
