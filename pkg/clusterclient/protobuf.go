package clusterclient

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// The federation speaks protobuf to its members for the kinds built into
// Kubernetes, as kube-controller-manager and every generated client do: a
// member's kube-apiserver decodes and encodes protobuf for far less
// processor time than JSON, and creating copies and watching them is most
// of what the federation asks of its members. The controllers still see
// unstructured objects.
//
// Protobuf drops silently what the federation's built-in types lack (a
// field of a member newer than the federation). So a create whose object
// has such a field goes over JSON, and the sync controller builds updates
// from the member's copy read over JSON through Dynamic, never from the
// protobuf-fed cache alone.

// builtinKinds maps each resource of client-go's scheme to its kind, by
// the same plural rule kube-apiserver follows for the built-in kinds. A
// resource the rule misses is simply served over JSON.
var builtinKinds = sync.OnceValue(func() map[schema.GroupVersionResource]schema.GroupVersionKind {
	out := map[schema.GroupVersionResource]schema.GroupVersionKind{}
	for gvk := range scheme.Scheme.AllKnownTypes() {
		if !scheme.Scheme.Recognizes(gvk.GroupVersion().WithKind(gvk.Kind + "List")) {
			continue
		}
		plural, _ := meta.UnsafeGuessKindToResource(gvk)
		out[plural] = gvk
	}
	return out
})

// Create creates obj, of resource gvr, in the cluster and returns the
// object as the cluster stored it.
func (c *Cluster) Create(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured, opts metav1.CreateOptions) (*unstructured.Unstructured, error) {
	gvk, builtin := builtinKinds()[gvr]
	var typed runtime.Object
	if builtin && gvk == obj.GroupVersionKind() {
		typed, _ = scheme.Scheme.New(gvk)
		if runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(obj.Object, typed, true) != nil {
			typed = nil
		}
	}
	if typed == nil {
		return c.resource(gvr, obj.GetNamespace()).Create(ctx, obj, opts)
	}
	rc, err := c.protobufClient(gvr.GroupVersion())
	if err != nil {
		return nil, err
	}
	out, _ := scheme.Scheme.New(gvk)
	err = rc.Post().
		NamespaceIfScoped(obj.GetNamespace(), obj.GetNamespace() != "").
		Resource(gvr.Resource).
		VersionedParams(&opts, scheme.ParameterCodec).
		Body(typed).
		Do(ctx).
		Into(out)
	if err != nil {
		return nil, err
	}
	// The copy stands in for the informer's until the watch brings it
	// (see freshwrites), and the informers hold no managedFields. Dropping
	// them first also spares converting them: each entry is JSON to parse.
	_, _ = StripManagedFields(out)
	return toUnstructured(out, gvk)
}

// resource is the dynamic (JSON) client of gvr in namespace ("" for a
// cluster-scoped resource).
func (c *Cluster) resource(gvr schema.GroupVersionResource, namespace string) dynamic.ResourceInterface {
	r := c.Dynamic.Resource(gvr)
	if namespace != "" {
		return r.Namespace(namespace)
	}
	return r
}

// listWatch lists and watches the managed objects of a built-in resource
// over protobuf, handing out typed objects like example; ok is false for
// any other resource. The member informers keep them typed: an unstructured
// copy of a ConfigMap takes about four times the memory of a typed one, and
// a federation holds one copy per member of every federated object.
// Cluster.Get converts one on demand.
func (c *Cluster) listWatch(gvr schema.GroupVersionResource, selector string) (lw *cache.ListWatch, example runtime.Object, ok bool) {
	gvk, builtin := builtinKinds()[gvr]
	if !builtin {
		return nil, nil, false
	}
	rc, err := c.protobufClient(gvr.GroupVersion())
	if err != nil {
		return nil, nil, false
	}
	example, err = scheme.Scheme.New(gvk)
	if err != nil {
		return nil, nil, false
	}
	listKind := gvk.GroupVersion().WithKind(gvk.Kind + "List")
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			opts.LabelSelector = selector
			list, _ := scheme.Scheme.New(listKind)
			if err := rc.Get().Resource(gvr.Resource).VersionedParams(&opts, scheme.ParameterCodec).Do(ctx).Into(list); err != nil {
				return nil, err
			}
			return list, nil
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.LabelSelector = selector
			opts.Watch = true
			return rc.Get().Resource(gvr.Resource).VersionedParams(&opts, scheme.ParameterCodec).Watch(ctx)
		},
	}, example, true
}

// AsUnstructured returns a member object of resource gvr, typed as the
// member informers hold the built-in kinds, or unstructured, as a new
// unstructured object with its apiVersion and kind set.
func AsUnstructured(obj interface{}, gvr schema.GroupVersionResource) (*unstructured.Unstructured, error) {
	switch o := obj.(type) {
	case *unstructured.Unstructured:
		return o, nil
	case runtime.Object:
		gvk, ok := builtinKinds()[gvr]
		if !ok {
			return nil, fmt.Errorf("%T is not a kind of %s", obj, gvr)
		}
		return toUnstructured(o, gvk)
	}
	return nil, fmt.Errorf("%T is not an object of %s", obj, gvr)
}

// protobufClient is the cluster's protobuf REST client for one API group
// version, made on first use.
func (c *Cluster) protobufClient(gv schema.GroupVersion) (*rest.RESTClient, error) {
	c.protobufMu.Lock()
	defer c.protobufMu.Unlock()
	if rc, ok := c.protobuf[gv]; ok {
		return rc, nil
	}
	cfg := rest.CopyConfig(c.Config)
	cfg.GroupVersion = &gv
	cfg.APIPath = "/apis"
	if gv.Group == "" {
		cfg.APIPath = "/api"
	}
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	cfg.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	rc, err := rest.RESTClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: create protobuf client for %s: %w", c.Name, gv, err)
	}
	if c.protobuf == nil {
		c.protobuf = map[schema.GroupVersion]*rest.RESTClient{}
	}
	c.protobuf[gv] = rc
	return rc, nil
}

func toUnstructured(obj runtime.Object, gvk schema.GroupVersionKind) (*unstructured.Unstructured, error) {
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("convert %s: %w", gvk.Kind, err)
	}
	u := &unstructured.Unstructured{Object: content}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

// CopyInto fills into, a pointer to a typed object, from a member object
// of the informer caches (typed or unstructured) without changing it.
func CopyInto(obj interface{}, into interface{}) error {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into)
	}
	o, ok := obj.(runtime.Object)
	if !ok {
		return fmt.Errorf("%T is not an object", obj)
	}
	dst := reflect.ValueOf(into)
	if dst.Kind() == reflect.Pointer && dst.Type() == reflect.TypeOf(o) {
		dst.Elem().Set(reflect.ValueOf(o.DeepCopyObject()).Elem())
		return nil
	}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return err
	}
	return runtime.DefaultUnstructuredConverter.FromUnstructured(content, into)
}
