package ingresslb

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"

	"github.com/kfederation/federation/pkg/clusterclient"
)

// members is what the controller reads of the member clusters, by name:
// New gives it the registry's clients and informers, tests fakes.
type members interface {
	// Ready lists the Ready members.
	Ready() []string
	// Client is the member's typed client; nil if it has none (any more).
	Client(cluster string) kubernetes.Interface
	// Cached returns the member's copy of the managed object key
	// (namespace/name) of resource gvr from its informer cache; false if
	// it has none, or the cache has not synced yet.
	Cached(cluster string, gvr schema.GroupVersionResource, key string) (*unstructured.Unstructured, bool)
}

// registryMembers is members over the registry's member clients.
type registryMembers struct{ r *clusterclient.Registry }

func (m registryMembers) Ready() []string {
	var out []string
	for _, c := range m.r.Ready() {
		out = append(out, c.Name)
	}
	return out
}

func (m registryMembers) Client(cluster string) kubernetes.Interface {
	if c := m.r.Get(cluster); c != nil {
		return c.Shared
	}
	return nil
}

func (m registryMembers) Cached(cluster string, gvr schema.GroupVersionResource, key string) (*unstructured.Unstructured, bool) {
	obj, err := m.r.Members().Cached(cluster, gvr, key)
	return obj, err == nil && obj != nil
}
