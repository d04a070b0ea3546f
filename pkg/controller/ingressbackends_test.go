package controller

import (
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"
)

func svcBackend(name string, port int32) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: port}}}
}

// backendIngress sends traffic to web:80 (default and a path), api:8080,
// web:443 and a resource backend.
func backendIngress(namespace, name string) *networkingv1.Ingress {
	def := svcBackend("web", 80)
	paths := func(ps ...networkingv1.HTTPIngressPath) networkingv1.IngressRuleValue {
		return networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: ps}}
	}
	return &networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: networkingv1.IngressSpec{
			DefaultBackend: &def,
			Rules: []networkingv1.IngressRule{
				{Host: "a.example.com", IngressRuleValue: paths(
					networkingv1.HTTPIngressPath{Path: "/", Backend: svcBackend("web", 80)},
					networkingv1.HTTPIngressPath{Path: "/api", Backend: svcBackend("api", 8080)},
					networkingv1.HTTPIngressPath{Path: "/static", Backend: networkingv1.IngressBackend{
						Resource: &corev1.TypedLocalObjectReference{Kind: "Bucket", Name: "static"}}},
				)},
				{Host: "b.example.com"},
				{Host: "c.example.com", IngressRuleValue: paths(networkingv1.HTTPIngressPath{Path: "/", Backend: svcBackend("web", 443)})},
			},
		},
	}
}

func TestIngressServiceBackends(t *testing.T) {
	var got []string
	for _, b := range IngressServiceBackends(backendIngress("shop", "front")) {
		got = append(got, fmt.Sprintf("%s:%d", b.Name, b.Port.Number))
	}
	if want := []string{"web:80", "api:8080", "web:443"}; !slices.Equal(got, want) {
		t.Errorf("IngressServiceBackends = %q, want %q (default first, each once, resources left out)", got, want)
	}
}

func TestIngressBackendIndex(t *testing.T) {
	inf := cache.NewSharedIndexInformer(&cache.ListWatch{}, &unstructured.Unstructured{}, 0, cache.Indexers{})
	// Both Ingress controllers add it; the second is no error.
	for i := 0; i < 2; i++ {
		if err := AddIngressBackendIndex(inf); err != nil {
			t.Fatalf("AddIngressBackendIndex #%d: %v", i, err)
		}
	}
	for _, ing := range []*networkingv1.Ingress{backendIngress("shop", "front"), backendIngress("other", "front")} {
		obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ing)
		if err != nil {
			t.Fatal(err)
		}
		if err := inf.GetIndexer().Add(&unstructured.Unstructured{Object: obj}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		namespace, service string
		want               int
	}{{"shop", "web", 1}, {"shop", "api", 1}, {"shop", "static", 0}, {"shop", "cart", 0}, {"other", "web", 1}} {
		if got := IngressesOf(inf, tc.namespace, tc.service); len(got) != tc.want {
			t.Errorf("IngressesOf(%s/%s) = %d Ingresses, want %d", tc.namespace, tc.service, len(got), tc.want)
		}
	}
}
