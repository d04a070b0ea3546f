package servicedns

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/kfederation/federation/pkg/clusterclient"
)

var (
	servicesGVR       = corev1.SchemeGroupVersion.WithResource("services")
	endpointSlicesGVR = discoveryv1.SchemeGroupVersion.WithResource("endpointslices")
)

// members is what Service DNS reads of the member clusters, all from their
// informers: never a request per sync.
type members interface {
	// Ready says the cluster controller last found the cluster Ready.
	Ready(cluster string) bool
	// Synced says the cluster's Service and EndpointSlice informers have
	// their first list.
	Synced(cluster string) bool
	// Service returns the cluster's copy of the federated Service, nil if
	// it has none.
	Service(cluster, namespace, name string) (*corev1.Service, error)
	// ReadyEndpoint says whether the Service has at least one ready
	// endpoint in the cluster.
	ReadyEndpoint(cluster, namespace, name string) (bool, error)
	// Watch calls f with the federated Service's namespace and name on
	// every change to a member's copy of it or to its EndpointSlices.
	Watch(f func(namespace, name string))
}

// registryMembers reads the registry's member informers. They hold only
// objects labelled as the federation's; the EndpointSlice controller copies
// a Service's labels onto its slices, so a federated Service's slices are
// among them.
type registryMembers struct{ r *clusterclient.Registry }

func (m registryMembers) Ready(cluster string) bool {
	c := m.r.Get(cluster)
	return c != nil && c.Ready()
}

func (m registryMembers) Synced(cluster string) bool {
	c := m.r.Get(cluster)
	return c != nil && c.Synced(servicesGVR) && c.Synced(endpointSlicesGVR)
}

func (m registryMembers) informer(cluster string, gvr schema.GroupVersionResource) (cache.SharedIndexInformer, error) {
	c := m.r.Get(cluster)
	if c == nil {
		return nil, fmt.Errorf("%w: cluster %s has no client", clusterclient.ErrNotSynced, cluster)
	}
	inf, _ := c.Informer(gvr)
	if !inf.HasSynced() {
		return nil, fmt.Errorf("%w: cache of %s in cluster %s", clusterclient.ErrNotSynced, gvr.Resource, cluster)
	}
	return inf, nil
}

func (m registryMembers) Service(cluster, namespace, name string) (*corev1.Service, error) {
	inf, err := m.informer(cluster, servicesGVR)
	if err != nil {
		return nil, err
	}
	obj, exists, err := inf.GetStore().GetByKey(namespace + "/" + name)
	if err != nil || !exists {
		return nil, err
	}
	svc := &corev1.Service{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.(*unstructured.Unstructured).Object, svc); err != nil {
		return nil, fmt.Errorf("cluster %s: Service %s/%s: %w", cluster, namespace, name, err)
	}
	return svc, nil
}

func (m registryMembers) ReadyEndpoint(cluster, namespace, name string) (bool, error) {
	inf, err := m.informer(cluster, endpointSlicesGVR)
	if err != nil {
		return false, err
	}
	objs, err := inf.GetIndexer().ByIndex(clusterclient.EndpointSliceServiceIndex, namespace+"/"+name)
	if err != nil {
		return false, err
	}
	for _, obj := range objs {
		u := obj.(*unstructured.Unstructured)
		slice := &discoveryv1.EndpointSlice{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, slice); err != nil {
			return false, fmt.Errorf("cluster %s: EndpointSlice %s/%s: %w", cluster, namespace, u.GetName(), err)
		}
		if hasReadyEndpoint(slice) {
			return true, nil
		}
	}
	return false, nil
}

// hasReadyEndpoint says whether a slice has an endpoint ready for traffic.
// A ready condition that is not set counts as ready, as the API says
// consumers should read it.
func hasReadyEndpoint(slice *discoveryv1.EndpointSlice) bool {
	for _, e := range slice.Endpoints {
		if e.Conditions.Ready == nil || *e.Conditions.Ready {
			return true
		}
	}
	return false
}

func (m registryMembers) Watch(f func(namespace, name string)) {
	onService := func(obj interface{}) {
		if u, ok := objectOf(obj); ok {
			f(u.GetNamespace(), u.GetName())
		}
	}
	onSlice := func(obj interface{}) {
		if u, ok := objectOf(obj); ok {
			if svc := u.GetLabels()[discoveryv1.LabelServiceName]; svc != "" {
				f(u.GetNamespace(), svc)
			}
		}
	}
	m.r.Members().Watch(servicesGVR, func(string) cache.ResourceEventHandler { return handlerOf(onService) })
	m.r.Members().Watch(endpointSlicesGVR, func(string) cache.ResourceEventHandler { return handlerOf(onSlice) })
}

func handlerOf(f func(obj interface{})) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    f,
		UpdateFunc: func(_, obj interface{}) { f(obj) },
		DeleteFunc: f,
	}
}

// objectOf unwraps an informer's object, deleted or not.
func objectOf(obj interface{}) (*unstructured.Unstructured, bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	u, ok := obj.(*unstructured.Unstructured)
	return u, ok
}
