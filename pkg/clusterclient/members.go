package clusterclient

import (
	"context"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"
)

// ErrNotSynced marks a read this process cannot answer yet: the member's
// informer has not finished its first list, or the cluster has no client
// (yet). It says nothing about the cluster itself.
var ErrNotSynced = errors.New("member cache not synced")

// Members is the plain I/O on member clusters' copies, by cluster name:
// what a Writer is built on. *Registry provides it with the real member
// clients; package fake has one in memory for controller tests.
type Members interface {
	// Synced says the cluster's informer for gvr has its first list.
	Synced(cluster string, gvr schema.GroupVersionResource) bool
	// Cached returns the managed object key (namespace/name, or name) from
	// the cluster's informer; nil if it has none. The error wraps
	// ErrNotSynced.
	Cached(cluster string, gvr schema.GroupVersionResource, key string) (*unstructured.Unstructured, error)
	// CachedKeys are the keys of every managed object of resource gvr in
	// the cluster's informer cache; none while it is not synced.
	CachedKeys(cluster string, gvr schema.GroupVersionResource) []string
	// Create creates obj in the cluster and returns it as stored.
	Create(ctx context.Context, cluster string, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) (*unstructured.Unstructured, error)
	// Get reads the cluster's own copy over JSON, with every field it
	// has, at least as new as resourceVersion ("" for the newest).
	Get(ctx context.Context, cluster string, gvr schema.GroupVersionResource, namespace, name, resourceVersion string) (*unstructured.Unstructured, error)
	// Update writes obj, a copy read from the cluster and changed.
	Update(ctx context.Context, cluster string, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) (*unstructured.Unstructured, error)
	// Delete deletes the object with the given options.
	Delete(ctx context.Context, cluster string, gvr schema.GroupVersionResource, namespace, name string, opts metav1.DeleteOptions) error
	// Watch adds handler(cluster) to the informer for gvr of every
	// cluster, now and as clusters come or get new clients.
	Watch(gvr schema.GroupVersionResource, handler func(cluster string) cache.ResourceEventHandler)
}

// Members returns the registry's member clients as Members.
func (r *Registry) Members() Members { return registryMembers{r} }

// registryMembers is Members over the registry's clients.
type registryMembers struct{ r *Registry }

func (m registryMembers) cluster(name string) (*Cluster, error) {
	r := m.r
	c := r.Get(name)
	if c == nil {
		return nil, fmt.Errorf("%w: cluster %s has no client", ErrNotSynced, name)
	}
	return c, nil
}

// Synced implements Members.
func (m registryMembers) Synced(cluster string, gvr schema.GroupVersionResource) bool {
	c := m.r.Get(cluster)
	return c != nil && c.Synced(gvr)
}

// Cached implements Members.
func (m registryMembers) Cached(cluster string, gvr schema.GroupVersionResource, key string) (*unstructured.Unstructured, error) {
	c, err := m.cluster(cluster)
	if err != nil {
		return nil, err
	}
	obj, exists, err := c.Get(gvr, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotSynced, err)
	}
	if !exists {
		return nil, nil
	}
	return obj, nil
}

// CachedKeys implements Members.
func (m registryMembers) CachedKeys(cluster string, gvr schema.GroupVersionResource) []string {
	c := m.r.Get(cluster)
	if c == nil || !c.Synced(gvr) {
		return nil
	}
	inf, _ := c.Informer(gvr)
	return inf.GetStore().ListKeys()
}

// Create implements Members, over protobuf for the built-in kinds.
func (m registryMembers) Create(ctx context.Context, cluster string, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	c, err := m.cluster(cluster)
	if err != nil {
		return nil, err
	}
	return c.Create(ctx, gvr, obj, metav1.CreateOptions{})
}

// Get implements Members.
func (m registryMembers) Get(ctx context.Context, cluster string, gvr schema.GroupVersionResource, namespace, name, resourceVersion string) (*unstructured.Unstructured, error) {
	c, err := m.cluster(cluster)
	if err != nil {
		return nil, err
	}
	return c.resource(gvr, namespace).Get(ctx, name, metav1.GetOptions{ResourceVersion: resourceVersion})
}

// Update implements Members.
func (m registryMembers) Update(ctx context.Context, cluster string, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	c, err := m.cluster(cluster)
	if err != nil {
		return nil, err
	}
	return c.resource(gvr, obj.GetNamespace()).Update(ctx, obj, metav1.UpdateOptions{})
}

// Delete implements Members.
func (m registryMembers) Delete(ctx context.Context, cluster string, gvr schema.GroupVersionResource, namespace, name string, opts metav1.DeleteOptions) error {
	c, err := m.cluster(cluster)
	if err != nil {
		return err
	}
	return c.resource(gvr, namespace).Delete(ctx, name, opts)
}

// Watch implements Members.
func (m registryMembers) Watch(gvr schema.GroupVersionResource, handler func(cluster string) cache.ResourceEventHandler) {
	m.r.watch(gvr, handler)
}

// watch adds handler(cluster) to the informer for gvr of every cluster,
// now and as clusters come or get new clients.
func (r *Registry) watch(gvr schema.GroupVersionResource, handler func(cluster string) cache.ResourceEventHandler) {
	r.mu.Lock()
	r.watches = append(r.watches, memberWatch{gvr: gvr, handler: handler})
	clusters := make([]*Cluster, 0, len(r.clusters))
	for _, c := range r.clusters {
		clusters = append(clusters, c)
	}
	r.mu.Unlock()
	for _, c := range clusters {
		c.watch(gvr, handler)
	}
}

// memberWatch is one handler Watch added, for every cluster.
type memberWatch struct {
	gvr     schema.GroupVersionResource
	handler func(cluster string) cache.ResourceEventHandler
}

// watch adds handler to the cluster's informer for gvr, creating it.
func (c *Cluster) watch(gvr schema.GroupVersionResource, handler func(cluster string) cache.ResourceEventHandler) {
	inf, _ := c.Informer(gvr)
	_, _ = inf.AddEventHandler(handler(c.Name))
}
