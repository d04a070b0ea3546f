package ingresslb

import (
	networkingv1 "k8s.io/api/networking/v1"
)

// classOf says which controller an Ingress is for: GCE's, or another.
type classOf struct {
	// classless says an Ingress with no class at all is GCE's: the
	// controller manager runs with --cloud-provider=gce.
	classless bool
	// controller returns an IngressClass's spec.controller, "" if the
	// federation has no such class.
	controller func(name string) string
}

// isGCE says ing is for GLBC: class "gce" by annotation, or an
// IngressClass whose controller is GLBC's, or no class on GCE.
func (c classOf) isGCE(ing *networkingv1.Ingress) bool {
	if class, ok := ing.Annotations[IngressClassAnnotation]; ok {
		return class == GCEClass
	}
	if ing.Spec.IngressClassName != nil {
		return c.controller != nil && c.controller(*ing.Spec.IngressClassName) == GCEController
	}
	return c.classless
}
