package ingresslb

import (
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/kfederation/federation/pkg/controller"
)

// classOf says which controller an Ingress is for, by the rule Ingress DNS
// uses too (controller.IsGCEIngress), so that no Ingress is both's or
// neither's.
type classOf struct {
	// classless says an Ingress with no class at all is GCE's: the
	// controller manager runs with --cloud-provider=gce.
	classless bool
	// controller returns an IngressClass's spec.controller, "" if the
	// federation has no such class.
	controller func(name string) string
}

// isGCE says ing is for GLBC.
func (c classOf) isGCE(ing *networkingv1.Ingress) bool {
	return controller.IsGCEIngress(ing, c.controller, c.classless)
}
