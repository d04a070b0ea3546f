// Package namespace empties federated namespaces that are being deleted.
// It runs kube-controller-manager's own namespace controller against the
// federation-apiserver: it deletes every object in the namespace (each of
// which the sync controllers then delete from the members) and then
// removes the namespace's "kubernetes" finalizer.
package namespace

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubenamespace "k8s.io/kubernetes/pkg/controller/namespace"

	"github.com/kfederation/federation/pkg/controller"
)

// Start runs the namespace lifecycle controller.
func Start(ctx context.Context, cctx *controller.Context) error {
	discover := func() ([]*metav1.APIResourceList, error) {
		return cctx.KubeClient.Discovery().ServerPreferredNamespacedResources()
	}
	nc := kubenamespace.NewNamespaceController(ctx, cctx.KubeClient, cctx.MetadataClient, discover,
		cctx.KubeInformers.Core().V1().Namespaces(), 5*time.Minute, corev1.FinalizerKubernetes)
	go nc.Run(ctx, cctx.ConcurrentSyncs)
	return nil
}
