package dnstest

import (
	"sync"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller/dnsrecords"
)

// Copier is the type of a member's copy of a federated object: a pointer
// to an API object, which deep-copies itself.
type Copier[T any] interface {
	DeepCopy() T
}

// Members holds the members' copies of federated objects of one kind, and
// whether each Service has a ready endpoint there: the part of a DNS
// controller's members interface every such controller has. Readiness
// comes from the registry, as the controller manager's does.
type Members[T Copier[T]] struct {
	Registry *clusterclient.Registry

	mu       sync.Mutex
	copies   map[string]T    // cluster/namespace/name
	ready    map[string]bool // cluster/namespace/service
	unsynced map[string]bool // cluster
}

// NewMembers returns Members with no copies and no ready endpoint, every
// member synced, and readiness read from r.
func NewMembers[T Copier[T]](r *clusterclient.Registry) *Members[T] {
	return &Members[T]{Registry: r, copies: map[string]T{}, ready: map[string]bool{}, unsynced: map[string]bool{}}
}

// SetCopy gives the cluster obj as its copy of namespace/name.
func (m *Members[T]) SetCopy(cluster, namespace, name string, obj T) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.copies[cluster+"/"+namespace+"/"+name] = obj
}

// DeleteCopy takes the cluster's copy of namespace/name away.
func (m *Members[T]) DeleteCopy(cluster, namespace, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.copies, cluster+"/"+namespace+"/"+name)
}

// Copy returns a deep copy of the cluster's copy of namespace/name, the
// zero T (nil) if it has none.
func (m *Members[T]) Copy(cluster, namespace, name string) T {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.copies[cluster+"/"+namespace+"/"+name]
	if !ok {
		var none T
		return none
	}
	return c.DeepCopy()
}

// SetEndpoint says whether the Service namespace/service has a ready
// endpoint in the cluster.
func (m *Members[T]) SetEndpoint(cluster, namespace, service string, ready bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ready[cluster+"/"+namespace+"/"+service] = ready
}

// SetSynced says whether the cluster's informers have their first list.
func (m *Members[T]) SetSynced(cluster string, synced bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.unsynced[cluster] = !synced
}

// Ready says the registry holds the cluster as Ready.
func (m *Members[T]) Ready(cluster string) bool {
	return dnsrecords.Members{Registry: m.Registry}.Ready(cluster)
}

// Synced says the cluster's informers have their first list (SetSynced).
func (m *Members[T]) Synced(cluster string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.unsynced[cluster]
}

// ReadyEndpoint says whether the Service has a ready endpoint in the
// cluster (SetEndpoint).
func (m *Members[T]) ReadyEndpoint(cluster, namespace, service string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ready[cluster+"/"+namespace+"/"+service], nil
}
