package controller

import (
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"
)

// Which controller an Ingress is for. GCE's (GLBC's) Ingresses get one
// global load balancer from the federation (pkg/controller/ingresslb);
// every other class gets DNS names for each member's own address
// (pkg/controller/ingressdns). Both decide with IsGCEIngress, so that an
// Ingress is never handled by both, nor by neither.
const (
	// IngressClassAnnotation is the Ingress class before IngressClass
	// objects; it wins over spec.ingressClassName.
	IngressClassAnnotation = "kubernetes.io/ingress.class"
	// GCEIngressClass is GLBC's class in IngressClassAnnotation.
	GCEIngressClass = "gce"
	// GCEIngressController is GLBC's name in an IngressClass's
	// spec.controller.
	GCEIngressController = "k8s.io/ingress-gce"
)

// IsGCEIngress says ing is for GCE's ingress controller: its
// kubernetes.io/ingress.class annotation is "gce"; or, without the
// annotation, spec.ingressClassName names an IngressClass whose
// spec.controller is GLBC's (classController returns a class's controller,
// "" when the federation has no such class); or the Ingress has no class
// at all and classlessIsGCE (the controller manager runs with
// --cloud-provider=gce).
func IsGCEIngress(ing *networkingv1.Ingress, classController func(name string) string, classlessIsGCE bool) bool {
	if class, ok := ing.Annotations[IngressClassAnnotation]; ok {
		return class == GCEIngressClass
	}
	if ing.Spec.IngressClassName != nil {
		return classController != nil && classController(*ing.Spec.IngressClassName) == GCEIngressController
	}
	return classlessIsGCE
}

// IngressClassControllers returns the classController of IsGCEIngress
// over the federation's IngressClasses in store (unstructured, keyed by
// name); a nil store knows no class.
func IngressClassControllers(store cache.Store) func(name string) string {
	return func(name string) string {
		if store == nil {
			return ""
		}
		obj, exists, err := store.GetByKey(name)
		if err != nil || !exists {
			return ""
		}
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return ""
		}
		ctl, _, _ := unstructured.NestedString(u.Object, "spec", "controller")
		return ctl
	}
}
