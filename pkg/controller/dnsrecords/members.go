package dnsrecords

import (
	"fmt"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/kfederation/federation/pkg/clusterclient"
)

// EndpointSlicesGVR is the resource whose member informers say whether a
// Service has a ready endpoint.
var EndpointSlicesGVR = discoveryv1.SchemeGroupVersion.WithResource("endpointslices")

// Members reads what the DNS controllers need of the member clusters, all
// from the registry's member informers: never a request per sync. Those
// informers hold only objects labelled as the federation's; the
// EndpointSlice controller copies a Service's labels onto its slices, so a
// federated Service's slices are among them (and a Service the federation
// does not manage has none there: it never counts as having a ready
// endpoint).
type Members struct{ Registry *clusterclient.Registry }

// Ready says the cluster controller last found the cluster Ready.
func (m Members) Ready(cluster string) bool {
	c := m.Registry.Get(cluster)
	return c != nil && c.Ready()
}

// Synced says the cluster's informers for every resource in gvrs have their
// first list.
func (m Members) Synced(cluster string, gvrs ...schema.GroupVersionResource) bool {
	c := m.Registry.Get(cluster)
	if c == nil {
		return false
	}
	for _, gvr := range gvrs {
		if !c.Synced(gvr) {
			return false
		}
	}
	return true
}

func (m Members) informer(cluster string, gvr schema.GroupVersionResource) (cache.SharedIndexInformer, error) {
	c := m.Registry.Get(cluster)
	if c == nil {
		return nil, fmt.Errorf("%w: cluster %s has no client", clusterclient.ErrNotSynced, cluster)
	}
	inf, _ := c.Informer(gvr)
	if !inf.HasSynced() {
		return nil, fmt.Errorf("%w: cache of %s in cluster %s", clusterclient.ErrNotSynced, gvr.Resource, cluster)
	}
	return inf, nil
}

// Get decodes the cluster's copy of namespace/name of resource gvr into
// into, and says whether the cluster has one.
func (m Members) Get(cluster string, gvr schema.GroupVersionResource, namespace, name string, into interface{}) (bool, error) {
	inf, err := m.informer(cluster, gvr)
	if err != nil {
		return false, err
	}
	obj, exists, err := inf.GetStore().GetByKey(namespace + "/" + name)
	if err != nil || !exists {
		return false, err
	}
	if err := clusterclient.CopyInto(obj, into); err != nil {
		return false, fmt.Errorf("cluster %s: %s %s/%s: %w", cluster, gvr.Resource, namespace, name, err)
	}
	return true, nil
}

// ReadyEndpoint says whether the Service namespace/name has at least one
// ready endpoint in the cluster.
func (m Members) ReadyEndpoint(cluster, namespace, name string) (bool, error) {
	inf, err := m.informer(cluster, EndpointSlicesGVR)
	if err != nil {
		return false, err
	}
	objs, err := inf.GetIndexer().ByIndex(clusterclient.EndpointSliceServiceIndex, namespace+"/"+name)
	if err != nil {
		return false, err
	}
	for _, obj := range objs {
		slice, ok := obj.(*discoveryv1.EndpointSlice)
		if !ok {
			slice = &discoveryv1.EndpointSlice{}
			if err := clusterclient.CopyInto(obj, slice); err != nil {
				return false, fmt.Errorf("cluster %s: an EndpointSlice of Service %s/%s: %w", cluster, namespace, name, err)
			}
		}
		if HasReadyEndpoint(slice) {
			return true, nil
		}
	}
	return false, nil
}

// HasReadyEndpoint says whether a slice has an endpoint ready for traffic.
// A ready condition that is not set counts as ready, as the API says
// consumers should read it.
func HasReadyEndpoint(slice *discoveryv1.EndpointSlice) bool {
	for _, e := range slice.Endpoints {
		if e.Conditions.Ready == nil || *e.Conditions.Ready {
			return true
		}
	}
	return false
}

// Watch calls f with the namespace and name of every member object of
// resource gvr that changes, in any cluster.
func (m Members) Watch(gvr schema.GroupVersionResource, f func(namespace, name string)) {
	on := func(obj interface{}) {
		if u, ok := ObjectOf(obj); ok {
			f(u.GetNamespace(), u.GetName())
		}
	}
	m.Registry.Members().Watch(gvr, func(string) cache.ResourceEventHandler { return HandlerOf(on) })
}

// WatchEndpoints calls f with the namespace and name of the Service of
// every member EndpointSlice that changes, in any cluster.
func (m Members) WatchEndpoints(f func(namespace, service string)) {
	on := func(obj interface{}) {
		if u, ok := ObjectOf(obj); ok {
			if svc := u.GetLabels()[discoveryv1.LabelServiceName]; svc != "" {
				f(u.GetNamespace(), svc)
			}
		}
	}
	m.Registry.Members().Watch(EndpointSlicesGVR, func(string) cache.ResourceEventHandler { return HandlerOf(on) })
}

// HandlerOf calls f with the object of every add, update and delete.
func HandlerOf(f func(obj interface{})) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    f,
		UpdateFunc: func(_, obj interface{}) { f(obj) },
		DeleteFunc: f,
	}
}

// ObjectOf unwraps an informer's object, deleted or not, typed or
// unstructured.
func ObjectOf(obj interface{}) (metav1.Object, bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	m, err := meta.Accessor(obj)
	return m, err == nil
}
