package propagation

import (
	gosync "sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/record"
)

// writesTold gathers, per object, the clusters its member writes created
// or updated a copy in, until the trailing bookkeeping tells them in one
// event per kind of change. A sync's own writes and the writes it left
// behind (which end one by one, member after member) are told together:
// at fifty members a burst leaves most writes behind, and an event for
// each was ten event writes to the federation-apiserver per object and a
// describe full of one-cluster lines. The writes an object's sync left
// behind are told when the last of them ends.
type writesTold struct {
	recorder record.EventRecorder
	trail    *trailing

	mu      gosync.Mutex
	pending map[string]*writtenIn // object key
}

type writtenIn struct {
	fed              *unstructured.Unstructured // the newest seen
	created, updated sets.Set[string]
}

func newWritesTold(recorder record.EventRecorder, trail *trailing) *writesTold {
	return &writesTold{recorder: recorder, trail: trail, pending: map[string]*writtenIn{}}
}

// add notes the clusters where fed's copy was created or updated, to be
// told with any others noted before the bookkeeping runs; with tell, it
// asks for the bookkeeping (a write left behind whose object has others
// still running waits for the last).
func (w *writesTold) add(key string, fed *unstructured.Unstructured, created, updated []string, tell bool) {
	if len(created) == 0 && len(updated) == 0 {
		if tell && w.has(key) {
			w.trail.add("writes/"+key, func() { w.tell(key) })
		}
		return
	}
	w.mu.Lock()
	n := w.pending[key]
	if n == nil {
		n = &writtenIn{created: sets.New[string](), updated: sets.New[string]()}
		w.pending[key] = n
	}
	n.fed = fed
	n.created.Insert(created...)
	n.updated.Insert(updated...)
	w.mu.Unlock()
	if tell {
		w.trail.add("writes/"+key, func() { w.tell(key) })
	}
}

// has says something is noted for key.
func (w *writesTold) has(key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pending[key] != nil
}

// tell records the events of what was noted for key.
func (w *writesTold) tell(key string) {
	w.mu.Lock()
	n := w.pending[key]
	delete(w.pending, key)
	w.mu.Unlock()
	if n == nil {
		return
	}
	if n.created.Len() > 0 {
		w.recorder.Eventf(n.fed, corev1.EventTypeNormal, ReasonCreateInCluster, "Created in %s", clusterList(sets.List(n.created)))
	}
	if n.updated.Len() > 0 {
		w.recorder.Eventf(n.fed, corev1.EventTypeNormal, ReasonUpdateInCluster, "Updated in %s", clusterList(sets.List(n.updated)))
	}
}
