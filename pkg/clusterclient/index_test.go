package clusterclient

import (
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"
)

func TestEndpointSliceServiceIndex(t *testing.T) {
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, indexersFor(discoveryv1.SchemeGroupVersion.WithResource("endpointslices")))
	slice := func(ns, name, svc string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetNamespace(ns)
		u.SetName(name)
		if svc != "" {
			u.SetLabels(map[string]string{discoveryv1.LabelServiceName: svc})
		}
		return u
	}
	for _, s := range []*unstructured.Unstructured{slice("a", "web-1", "web"), slice("a", "web-2", "web"), slice("a", "api-1", "api"), slice("b", "web-1", "web"), slice("a", "orphan", "")} {
		if err := idx.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	got, err := idx.ByIndex(EndpointSliceServiceIndex, "a/web")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("a/web has %d slices in the index, want 2", len(got))
	}
	if _, has := indexersFor(discoveryv1.SchemeGroupVersion.WithResource("services"))[EndpointSliceServiceIndex]; has {
		t.Error("Services got the EndpointSlice index")
	}
}
