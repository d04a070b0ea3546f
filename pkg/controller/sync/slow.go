package sync

import (
	"errors"
	"slices"
	gosync "sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// MemberPatience is how long a sync waits for a member's write before it
// leaves that member behind: the write goes on in the background, the
// worker goes on to the next object, and the object is synced again when
// the write ends. Without it, a member that takes seconds to answer (a
// slow admission webhook, an overloaded etcd) would hold every worker, and
// with them every other member's propagation.
const MemberPatience = time.Second

// slowMemberRetry is when an object waiting for a slow member's free write
// slot is synced again at the latest; normally a slot freeing up wakes it
// sooner (memberWrites.finish).
const slowMemberRetry = 5 * time.Second

// errSlowMember marks a member left behind: pending for the object's
// Propagation, but not a sync error, since the write's end (or a free
// slot) syncs the object again.
var errSlowMember = errors.New("slow member")

// memberWrites tracks the writes in flight per member cluster and object,
// so that an object left behind is not written to that member a second
// time while the first write runs, and a slow member gets no more writes
// at once than the controller has workers. Objects turned away because a
// member has all its slots taken wait in line, and each slot that frees up
// lets the first of them go.
type memberWrites struct {
	mu         gosync.Mutex
	inFlight   map[string]bool // clusterObjectKey
	perCluster map[string]int
	waiting    map[string][]string // cluster -> object keys, first come first
	inLine     map[string]bool     // clusterObjectKey
	max        int
}

func newMemberWrites(maxPerCluster int) *memberWrites {
	if maxPerCluster < 1 {
		maxPerCluster = 1
	}
	return &memberWrites{inFlight: map[string]bool{}, perCluster: map[string]int{}, waiting: map[string][]string{}, inLine: map[string]bool{}, max: maxPerCluster}
}

// start claims a write of key to cluster; false if one is still running,
// or the cluster already has as many writes as allowed (key then waits in
// line for a slot).
func (m *memberWrites) start(cluster, key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := clusterObjectKey(cluster, key)
	if m.inFlight[k] {
		return false
	}
	if m.perCluster[cluster] >= m.max {
		if !m.inLine[k] {
			m.inLine[k] = true
			m.waiting[cluster] = append(m.waiting[cluster], key)
		}
		return false
	}
	m.inFlight[k] = true
	m.perCluster[cluster]++
	m.leaveLine(cluster, k)
	return true
}

// noWrite tells that key needs no write to cluster: it leaves the line, and
// if that left a slot free with objects still waiting (key was the one
// woken for it), the first of them is returned to be synced again.
func (m *memberWrites) noWrite(cluster, key string) (next string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.leaveLine(cluster, clusterObjectKey(cluster, key))
	if m.perCluster[cluster] < m.max {
		return m.popLine(cluster)
	}
	return ""
}

// leaveLine takes k (a clusterObjectKey) out of cluster's line, if it is
// in it.
func (m *memberWrites) leaveLine(cluster, k string) {
	if !m.inLine[k] {
		return
	}
	delete(m.inLine, k)
	m.waiting[cluster] = slices.DeleteFunc(m.waiting[cluster], func(key string) bool { return clusterObjectKey(cluster, key) == k })
	if len(m.waiting[cluster]) == 0 {
		delete(m.waiting, cluster)
	}
}

// popLine takes the first object out of cluster's line, if any.
func (m *memberWrites) popLine(cluster string) (next string) {
	line := m.waiting[cluster]
	if len(line) == 0 {
		return ""
	}
	next = line[0]
	if m.waiting[cluster] = line[1:]; len(m.waiting[cluster]) == 0 {
		delete(m.waiting, cluster)
	}
	delete(m.inLine, clusterObjectKey(cluster, next))
	return next
}

// running says whether a write of key to cluster is in flight.
func (m *memberWrites) running(cluster, key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.inFlight[clusterObjectKey(cluster, key)]
}

// finish releases a write's slot and returns the object waiting longest
// for one in that cluster, if any, to be synced again.
func (m *memberWrites) finish(cluster, key string) (next string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.inFlight, clusterObjectKey(cluster, key))
	if m.perCluster[cluster]--; m.perCluster[cluster] <= 0 {
		delete(m.perCluster, cluster)
	}
	return m.popLine(cluster)
}

// result is what syncCluster returned.
type result struct {
	member *unstructured.Unstructured
	op     string
	err    error
}

// memberWrite is one member write a sync waits for, up to its patience.
type memberWrite struct {
	mu        gosync.Mutex
	done      chan struct{}
	finished  bool
	abandoned bool
	res       result
}

func newMemberWrite() *memberWrite { return &memberWrite{done: make(chan struct{})} }

// complete records the write's result; true if the sync had already left
// it behind, so that nobody else will look at the result.
func (w *memberWrite) complete(r result) (abandoned bool) {
	w.mu.Lock()
	w.res, w.finished = r, true
	abandoned = w.abandoned
	w.mu.Unlock()
	close(w.done)
	return abandoned
}

// take returns the result if the write is done, or else marks it left
// behind.
func (w *memberWrite) take() (result, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.finished {
		return w.res, true
	}
	w.abandoned = true
	return result{}, false
}
