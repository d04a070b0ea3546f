package controller

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestIsGCEIngress(t *testing.T) {
	classes := map[string]string{"gce-class": GCEIngressController, "nginx": "k8s.io/ingress-nginx"}
	controllerOf := func(name string) string { return classes[name] }
	ing := func(annotation *string, className *string) *networkingv1.Ingress {
		i := &networkingv1.Ingress{Spec: networkingv1.IngressSpec{IngressClassName: className}}
		if annotation != nil {
			i.ObjectMeta = metav1.ObjectMeta{Annotations: map[string]string{IngressClassAnnotation: *annotation}}
		}
		return i
	}
	cases := []struct {
		name           string
		ing            *networkingv1.Ingress
		classlessIsGCE bool
		want           bool
	}{
		{"annotation gce", ing(ptr.To("gce"), nil), false, true},
		{"annotation nginx, on GCE", ing(ptr.To("nginx"), nil), true, false},
		{"annotation empty, on GCE: a class, not GCE's", ing(ptr.To(""), nil), true, false},
		{"class of GLBC's controller", ing(nil, ptr.To("gce-class")), false, true},
		{"class of nginx's controller, on GCE", ing(nil, ptr.To("nginx")), true, false},
		{"class the federation does not have, on GCE", ing(nil, ptr.To("missing")), true, false},
		{"no class", ing(nil, nil), false, false},
		{"no class, on GCE", ing(nil, nil), true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsGCEIngress(tc.ing, controllerOf, tc.classlessIsGCE); got != tc.want {
				t.Errorf("IsGCEIngress = %v, want %v", got, tc.want)
			}
		})
	}
}
