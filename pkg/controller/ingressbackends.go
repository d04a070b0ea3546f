package controller

import (
	"fmt"
	"slices"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"
)

// IngressServiceBackends lists the Service ports an Ingress sends traffic
// to, each once: the default backend first, then the rules' paths in
// order. Resource backends are left out.
func IngressServiceBackends(ing *networkingv1.Ingress) []networkingv1.IngressServiceBackend {
	var out []networkingv1.IngressServiceBackend
	add := func(b *networkingv1.IngressBackend) {
		if b != nil && b.Service != nil && !slices.Contains(out, *b.Service) {
			out = append(out, *b.Service)
		}
	}
	add(ing.Spec.DefaultBackend)
	for _, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for i := range r.HTTP.Paths {
			add(&r.HTTP.Paths[i].Backend)
		}
	}
	return out
}

// IngressBackendIndex indexes the federated Ingresses by the Services they
// send traffic to ("namespace/service"), so that a change to a Service (its
// node ports, its endpoints in a member) finds the Ingresses it matters
// to. Ingress DNS and the Ingress load balancer share it on the one
// Ingress informer.
const IngressBackendIndex = "ingress-backend"

// AddIngressBackendIndex adds IngressBackendIndex to the federated Ingress
// informer, unless another controller did already.
func AddIngressBackendIndex(ingresses cache.SharedIndexInformer) error {
	if _, done := ingresses.GetIndexer().GetIndexers()[IngressBackendIndex]; done {
		return nil
	}
	if err := ingresses.AddIndexers(cache.Indexers{IngressBackendIndex: indexByBackend}); err != nil {
		return fmt.Errorf("index Ingresses by backend Service: %w", err)
	}
	return nil
}

// IngressesOf returns the federated Ingresses that send traffic to the
// Service namespace/name, from the index.
func IngressesOf(ingresses cache.SharedIndexInformer, namespace, name string) []interface{} {
	objs, err := ingresses.GetIndexer().ByIndex(IngressBackendIndex, namespace+"/"+name)
	if err != nil {
		return nil
	}
	return objs
}

func indexByBackend(obj interface{}) ([]string, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, nil
	}
	ing := &networkingv1.Ingress{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, ing); err != nil {
		return nil, nil
	}
	var out []string
	for _, b := range IngressServiceBackends(ing) {
		if key := ing.Namespace + "/" + b.Name; !slices.Contains(out, key) {
			out = append(out, key)
		}
	}
	return out, nil
}
