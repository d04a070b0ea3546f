package sync

import (
	"strconv"
	gosync "sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// recentTTL bounds how long a member write stands in for the informer
// cache: long enough for a loaded member's watch to deliver it.
const recentTTL = 30 * time.Second

// recentWrites remembers the member copies this controller has just
// created or updated, until each member's informer has them. Without it, a
// copy created in one member, whose watch event brings the object back
// into the queue before the other members' watches have delivered theirs,
// would be created a second time there: a refused create and a read for
// every such object under load. client-go's MutationCache does the same
// for updates, but cannot forget an object someone deletes meanwhile.
type recentWrites struct {
	mu gosync.Mutex
	m  map[string]recentWrite // cluster + "\x00" + namespace/name
}

type recentWrite struct {
	obj *unstructured.Unstructured
	at  time.Time
}

func newRecentWrites() *recentWrites {
	return &recentWrites{m: map[string]recentWrite{}}
}

// clusterObjectKey keys per-cluster, per-object state: here and in
// memberWrites.
func clusterObjectKey(cluster, key string) string { return cluster + "\x00" + key }

// wrote records the copy a member returned for a create or update.
func (r *recentWrites) wrote(cluster, key string, obj *unstructured.Unstructured) {
	if obj == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[clusterObjectKey(cluster, key)] = recentWrite{obj: obj, at: time.Now()}
}

// forget drops what is remembered of key in cluster: the object was
// deleted.
func (r *recentWrites) forget(cluster, key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, clusterObjectKey(cluster, key))
}

// seen drops the remembered write once the informer has delivered obj at
// the same or a newer resource version.
func (r *recentWrites) seen(cluster, key string, obj *unstructured.Unstructured) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := clusterObjectKey(cluster, key)
	if w, ok := r.m[k]; ok && !resourceVersionNewer(w.obj.GetResourceVersion(), obj.GetResourceVersion()) {
		delete(r.m, k)
	}
}

// newest returns the member copy to act on: the cached one, unless a write
// of this controller is newer than what the cache has (or the cache has
// nothing yet).
func (r *recentWrites) newest(cluster, key string, cached *unstructured.Unstructured) *unstructured.Unstructured {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := clusterObjectKey(cluster, key)
	w, ok := r.m[k]
	if !ok {
		return cached
	}
	if time.Since(w.at) > recentTTL || (cached != nil && !resourceVersionNewer(w.obj.GetResourceVersion(), cached.GetResourceVersion())) {
		delete(r.m, k)
		return cached
	}
	return w.obj
}

// resourceVersionNewer says resource version a is above b. Resource
// versions from one etcd are increasing integers, which client-go's
// MutationCache relies on too; anything else counts as not newer. Both
// the Propagations and the member copies this controller just wrote are
// compared with their informer caches by it.
func resourceVersionNewer(a, b string) bool {
	av, err1 := strconv.ParseUint(a, 10, 64)
	bv, err2 := strconv.ParseUint(b, 10, 64)
	return err1 == nil && err2 == nil && av > bv
}
