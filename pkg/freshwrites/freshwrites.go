// Package freshwrites remembers the objects a controller has just written
// until its informer delivers them. An informer lags behind the
// controller's own writes: acting on the cache alone, a controller would
// write a second time what it has just written (a refused create, an
// update from a stale copy, a second event). A remembered write stands in
// for the cached object while it is newer, and goes when the informer
// catches up, when the object is deleted, or when it is older than the
// cache's time to live: a write whose watch event was lost (the object
// deleted and recreated by someone else meanwhile) never shadows the cache
// for long.
package freshwrites

import (
	"reflect"
	"strconv"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DefaultTTL bounds how long a write stands in for the cache: long enough
// for a loaded server's watch to deliver it.
const DefaultTTL = 30 * time.Second

// Cache holds the fresh writes of objects of type T (a pointer type, such
// as *unstructured.Unstructured or *v1beta1.Cluster) by key. It is safe for
// concurrent use.
type Cache[T metav1.Object] struct {
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	m     map[string]entry[T]
	swept time.Time
}

type entry[T metav1.Object] struct {
	obj T
	at  time.Time
}

// New returns an empty cache whose writes stand for at most ttl.
func New[T metav1.Object](ttl time.Duration) *Cache[T] {
	return &Cache[T]{ttl: ttl, now: time.Now, m: map[string]entry[T]{}}
}

// WithClock sets the clock the time to live is measured with (tests).
func (c *Cache[T]) WithClock(now func() time.Time) *Cache[T] {
	c.now = now
	return c
}

// Wrote records obj, as the server returned it for a create or update. An
// object without a resourceVersion (a failed write's nil) is ignored.
func (c *Cache[T]) Wrote(key string, obj T) {
	if isNil(obj) || obj.GetResourceVersion() == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.m[key] = entry[T]{obj: obj, at: now}
	c.sweep(now)
}

// sweep drops, at most once per time to live, every write older than it.
// The informer often delivers a write before the writer records it (the
// watch event overtakes the response); such an entry is never Seen, and
// without the sweep it would stay, a whole object, until its key is next
// read.
func (c *Cache[T]) sweep(now time.Time) {
	if now.Sub(c.swept) < c.ttl {
		return
	}
	c.swept = now
	for key, e := range c.m {
		if now.Sub(e.at) > c.ttl {
			delete(c.m, key)
		}
	}
}

// Len says how many writes are remembered.
func (c *Cache[T]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// Forget drops what is remembered under key: the object was deleted.
func (c *Cache[T]) Forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

// Seen tells that the informer delivered obj: the remembered write goes
// once the informer has it or something newer.
func (c *Cache[T]) Seen(key string, obj T) {
	if isNil(obj) {
		return
	}
	c.SeenVersion(key, obj.GetResourceVersion())
}

// SeenVersion is Seen for an object the informer delivered at
// resourceVersion, whatever its type.
func (c *Cache[T]) SeenVersion(key, resourceVersion string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok && !Newer(e.obj.GetResourceVersion(), resourceVersion) {
		delete(c.m, key)
	}
}

// Holds says the write remembered under key is at resourceVersion: an
// informer event at that version is the echo of the write.
func (c *Cache[T]) Holds(key, resourceVersion string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	return ok && resourceVersion != "" && e.obj.GetResourceVersion() == resourceVersion
}

// Newest returns the object to act on: cached (nil when the cache has
// none), unless the write remembered under key is newer and younger than
// the time to live.
func (c *Cache[T]) Newest(key string, cached T) T {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		return cached
	}
	if c.now().Sub(e.at) > c.ttl || (!isNil(cached) && !Newer(e.obj.GetResourceVersion(), cached.GetResourceVersion())) {
		delete(c.m, key)
		return cached
	}
	return e.obj
}

// Newer says resource version a is above b. Resource versions from one
// etcd are increasing integers, which client-go's MutationCache relies on
// too; anything else counts as not newer, so that the cache wins.
func Newer(a, b string) bool {
	av, err1 := strconv.ParseUint(a, 10, 64)
	bv, err2 := strconv.ParseUint(b, 10, 64)
	return err1 == nil && err2 == nil && av > bv
}

// isNil says obj is a nil pointer (T is an interface type parameter, so a
// nil *X is not == nil).
func isNil[T any](obj T) bool {
	v := reflect.ValueOf(&obj).Elem()
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice:
		return v.IsNil()
	}
	return false
}
