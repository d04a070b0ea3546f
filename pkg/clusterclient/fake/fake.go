// Package fake has member clusters in memory, as clusterclient.Members,
// for controller unit tests: a clusterclient.Writer over them behaves as
// over real members, with slots and patience, while the test sets what
// each member holds, refuses or delays, and reads back what was done.
package fake

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/kfederation/federation/pkg/clusterclient"
)

// Action is one request a member received.
type Action struct {
	Cluster string
	// Verb is create, get, update or delete.
	Verb string
	// Key is namespace/name, or name.
	Key string
}

func (a Action) String() string { return a.Verb + " " + a.Cluster + " " + a.Key }

// Members is in-memory member clusters. The zero value is not usable: use
// New.
type Members struct {
	mu       sync.Mutex
	objects  map[string]map[string]*unstructured.Unstructured // cluster -> key -> object
	unsynced map[string]bool
	refuse   map[string]error         // cluster + " " + verb -> error
	blocked  map[string]chan struct{} // cluster -> closed when released
	actions  []Action
	rv       int64
	handlers []func(cluster string) cache.ResourceEventHandler
}

var _ clusterclient.Members = &Members{}

// New returns members with the given cluster names, each empty and synced.
func New(clusters ...string) *Members {
	m := &Members{objects: map[string]map[string]*unstructured.Unstructured{}, unsynced: map[string]bool{},
		refuse: map[string]error{}, blocked: map[string]chan struct{}{}}
	for _, c := range clusters {
		m.objects[c] = map[string]*unstructured.Unstructured{}
	}
	return m
}

// Put stores obj in the cluster as if someone had created it there, with a
// new uid and resourceVersion, and returns the stored copy.
func (m *Members) Put(cluster string, obj *unstructured.Unstructured) *unstructured.Unstructured {
	m.mu.Lock()
	stored := m.store(cluster, obj.DeepCopy())
	if stored.GetUID() == "" {
		stored.SetUID(types.UID(fmt.Sprintf("uid-%s-%s", cluster, stored.GetResourceVersion())))
	}
	m.mu.Unlock()
	m.notify(cluster, nil, stored)
	return stored.DeepCopy()
}

// Object returns the cluster's copy of key, nil if none.
func (m *Members) Object(cluster, key string) *unstructured.Unstructured {
	m.mu.Lock()
	defer m.mu.Unlock()
	if o := m.objects[cluster][key]; o != nil {
		return o.DeepCopy()
	}
	return nil
}

// SetSynced makes the cluster's informer look synced or not.
func (m *Members) SetSynced(cluster string, synced bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.unsynced[cluster] = !synced
}

// Refuse makes the cluster answer verb (create, get, update, delete) with
// err; a nil err answers again.
func (m *Members) Refuse(cluster, verb string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err == nil {
		delete(m.refuse, cluster+" "+verb)
		return
	}
	m.refuse[cluster+" "+verb] = err
}

// Block holds every request to the cluster until the returned function is
// called: a slow member.
func (m *Members) Block(cluster string) (release func()) {
	ch := make(chan struct{})
	m.mu.Lock()
	m.blocked[cluster] = ch
	m.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			delete(m.blocked, cluster)
			m.mu.Unlock()
			close(ch)
		})
	}
}

// Actions returns the requests received so far, in order, and forgets them.
func (m *Members) Actions() []Action {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.actions
	m.actions = nil
	return out
}

// Synced implements clusterclient.Members.
func (m *Members) Synced(cluster string, _ schema.GroupVersionResource) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, known := m.objects[cluster]
	return known && !m.unsynced[cluster]
}

// Cached implements clusterclient.Members: the informer is always up to
// date with the member, unless SetSynced(false), and holds only the
// objects labelled as managed, as the real member informers do.
func (m *Members) Cached(cluster string, gvr schema.GroupVersionResource, key string) (*unstructured.Unstructured, error) {
	if !m.Synced(cluster, gvr) {
		return nil, fmt.Errorf("%w: cluster %s", clusterclient.ErrNotSynced, cluster)
	}
	o := m.Object(cluster, key)
	if o == nil {
		return nil, nil
	}
	if _, managed := o.GetLabels()[clusterclient.ManagedByLabel]; !managed {
		return nil, nil
	}
	return o, nil
}

// CachedKeys implements clusterclient.Members: the managed objects' keys.
func (m *Members) CachedKeys(cluster string, gvr schema.GroupVersionResource) []string {
	if !m.Synced(cluster, gvr) {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for key, o := range m.objects[cluster] {
		if _, managed := o.GetLabels()[clusterclient.ManagedByLabel]; managed {
			keys = append(keys, key)
		}
	}
	return keys
}

// Create implements clusterclient.Members.
func (m *Members) Create(ctx context.Context, cluster string, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	key := keyOf(obj)
	if err := m.request(ctx, cluster, "create", key); err != nil {
		return nil, err
	}
	m.mu.Lock()
	if _, exists := m.objects[cluster][key]; exists {
		m.mu.Unlock()
		return nil, apierrors.NewAlreadyExists(gvr.GroupResource(), obj.GetName())
	}
	stored := m.store(cluster, obj.DeepCopy())
	stored.SetUID(types.UID(fmt.Sprintf("uid-%s-%s", cluster, stored.GetResourceVersion())))
	m.mu.Unlock()
	m.notify(cluster, nil, stored)
	return stored.DeepCopy(), nil
}

// Get implements clusterclient.Members.
func (m *Members) Get(ctx context.Context, cluster string, gvr schema.GroupVersionResource, namespace, name, _ string) (*unstructured.Unstructured, error) {
	key := joinKey(namespace, name)
	if err := m.request(ctx, cluster, "get", key); err != nil {
		return nil, err
	}
	if o := m.Object(cluster, key); o != nil {
		return o, nil
	}
	return nil, apierrors.NewNotFound(gvr.GroupResource(), name)
}

// Update implements clusterclient.Members, with optimistic concurrency on
// the resourceVersion.
func (m *Members) Update(ctx context.Context, cluster string, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	key := keyOf(obj)
	if err := m.request(ctx, cluster, "update", key); err != nil {
		return nil, err
	}
	m.mu.Lock()
	old, exists := m.objects[cluster][key]
	if !exists {
		m.mu.Unlock()
		return nil, apierrors.NewNotFound(gvr.GroupResource(), obj.GetName())
	}
	if obj.GetResourceVersion() != old.GetResourceVersion() {
		m.mu.Unlock()
		return nil, apierrors.NewConflict(gvr.GroupResource(), obj.GetName(), fmt.Errorf("resourceVersion %s is not %s", obj.GetResourceVersion(), old.GetResourceVersion()))
	}
	cp := obj.DeepCopy()
	cp.SetUID(old.GetUID())
	stored := m.store(cluster, cp)
	m.mu.Unlock()
	m.notify(cluster, old, stored)
	return stored.DeepCopy(), nil
}

// Delete implements clusterclient.Members, with the uid and
// resourceVersion preconditions.
func (m *Members) Delete(ctx context.Context, cluster string, gvr schema.GroupVersionResource, namespace, name string, opts metav1.DeleteOptions) error {
	key := joinKey(namespace, name)
	if err := m.request(ctx, cluster, "delete", key); err != nil {
		return err
	}
	m.mu.Lock()
	old, exists := m.objects[cluster][key]
	if !exists {
		m.mu.Unlock()
		return apierrors.NewNotFound(gvr.GroupResource(), name)
	}
	if p := opts.Preconditions; p != nil {
		if (p.UID != nil && *p.UID != old.GetUID()) || (p.ResourceVersion != nil && *p.ResourceVersion != old.GetResourceVersion()) {
			m.mu.Unlock()
			return apierrors.NewConflict(gvr.GroupResource(), name, fmt.Errorf("precondition failed"))
		}
	}
	delete(m.objects[cluster], key)
	m.mu.Unlock()
	m.notify(cluster, old, nil)
	return nil
}

// Watch implements clusterclient.Members: handlers hear of every change,
// synchronously, after it is made.
func (m *Members) Watch(_ schema.GroupVersionResource, handler func(cluster string) cache.ResourceEventHandler) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.handlers = append(m.handlers, handler)
}

// request records an action and answers as the test set: refused, or held
// while the cluster is blocked.
func (m *Members) request(ctx context.Context, cluster, verb, key string) error {
	m.mu.Lock()
	m.actions = append(m.actions, Action{Cluster: cluster, Verb: verb, Key: key})
	ch := m.blocked[cluster]
	err := m.refuse[cluster+" "+verb]
	_, known := m.objects[cluster]
	m.mu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if !known {
		return fmt.Errorf("cluster %s does not exist", cluster)
	}
	return err
}

// store keeps obj with the next resourceVersion; m.mu is held.
func (m *Members) store(cluster string, obj *unstructured.Unstructured) *unstructured.Unstructured {
	m.rv++
	obj.SetResourceVersion(strconv.FormatInt(m.rv, 10))
	if m.objects[cluster] == nil {
		m.objects[cluster] = map[string]*unstructured.Unstructured{}
	}
	m.objects[cluster][keyOf(obj)] = obj
	return obj
}

func (m *Members) notify(cluster string, old, cur *unstructured.Unstructured) {
	m.mu.Lock()
	handlers := append([]func(string) cache.ResourceEventHandler(nil), m.handlers...)
	m.mu.Unlock()
	for _, h := range handlers {
		switch {
		case old == nil:
			h(cluster).OnAdd(cur.DeepCopy(), false)
		case cur == nil:
			h(cluster).OnDelete(old.DeepCopy())
		default:
			h(cluster).OnUpdate(old.DeepCopy(), cur.DeepCopy())
		}
	}
}

func keyOf(obj *unstructured.Unstructured) string { return joinKey(obj.GetNamespace(), obj.GetName()) }

func joinKey(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}
