package apiserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	basecompatibility "k8s.io/component-base/compatibility"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
)

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// newServer builds a generic API server with installNoCustomResources.
func newServer(t *testing.T) *genericapiserver.GenericAPIServer {
	t.Helper()
	cfg := genericapiserver.NewConfig(legacyscheme.Codecs)
	cfg.ExternalAddress = "127.0.0.1:443"
	cfg.LoopbackClientConfig = &rest.Config{}
	cfg.EffectiveVersion = basecompatibility.NewEffectiveVersionFromString("1.36", "", "")
	s, err := cfg.Complete(nil).New("test", genericapiserver.NewEmptyDelegate())
	if err != nil {
		t.Fatal(err)
	}
	installNoCustomResources(s)
	return s
}

// newNoCustomResourcesClient serves such a server's handler past its
// filters (the director, which picks go-restful or the non-go-restful mux)
// and returns a dynamic client of it.
func newNoCustomResourcesClient(t *testing.T) dynamic.Interface {
	t.Helper()
	srv := httptest.NewServer(newServer(t).Handler.Director)
	t.Cleanup(srv.Close)
	client, err := dynamic.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// TestNoCustomResourcesList: the list k8s.io/cli-runtime's CRD finder makes
// (CRDFromDynamic) succeeds, with no items, so kubectl and Helm report an
// unknown kind as "no matches for kind".
func TestNoCustomResourcesList(t *testing.T) {
	client := newNoCustomResourcesClient(t)
	ctx := context.Background()
	for _, opts := range []metav1.ListOptions{{}, {FieldSelector: "metadata.name=widgets.example.com"}, {LabelSelector: "a=b"}} {
		list, err := client.Resource(crdResource).List(ctx, opts)
		if err != nil {
			t.Fatalf("list CRDs %+v: %v", opts, err)
		}
		if len(list.Items) != 0 {
			t.Errorf("list CRDs %+v: got %d items, want none", opts, len(list.Items))
		}
		if list.GetKind() != "CustomResourceDefinitionList" || list.GetAPIVersion() != "apiextensions.k8s.io/v1" {
			t.Errorf("list CRDs %+v: got kind %q apiVersion %q, want CustomResourceDefinitionList apiextensions.k8s.io/v1", opts, list.GetKind(), list.GetAPIVersion())
		}
	}
}

// TestNoCustomResourcesReadOnly: nothing but a list is served; a watch, a
// create, a delete and a single CRD are not.
func TestNoCustomResourcesReadOnly(t *testing.T) {
	client := newNoCustomResourcesClient(t).Resource(crdResource)
	ctx := context.Background()
	if w, err := client.Watch(ctx, metav1.ListOptions{}); !apierrors.IsMethodNotSupported(err) {
		if w != nil {
			w.Stop()
		}
		t.Errorf("watch CRDs: got error %v, want MethodNotAllowed", err)
	}
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	crd.SetName("widgets.example.com")
	if _, err := client.Create(ctx, crd, metav1.CreateOptions{}); !apierrors.IsMethodNotSupported(err) {
		t.Errorf("create a CRD: got error %v, want MethodNotAllowed", err)
	}
	if err := client.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); !apierrors.IsMethodNotSupported(err) {
		t.Errorf("delete CRDs: got error %v, want MethodNotAllowed", err)
	}
	if _, err := client.Get(ctx, "widgets.example.com", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get a CRD: got error %v, want NotFound", err)
	}
}

// TestNoCustomResourcesNotInDiscovery: the group is not advertised, so
// clients cannot map a CustomResourceDefinition to create one.
func TestNoCustomResourcesNotInDiscovery(t *testing.T) {
	s := newServer(t)
	for _, path := range []string{"/apis/apiextensions.k8s.io", "/apis/apiextensions.k8s.io/v1"} {
		rec := httptest.NewRecorder()
		s.Handler.Director.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: got %d, want 404:\n%s", path, rec.Code, rec.Body)
		}
	}
}
