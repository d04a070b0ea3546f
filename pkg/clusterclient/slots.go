package clusterclient

import (
	"slices"
	"sync"
)

// slots tracks the writes in flight per member cluster and object, so
// that an object left behind is not written to that member a second time
// while the first write runs, and a slow member gets no more writes at
// once than allowed. Objects turned away because a member has all its
// slots taken wait in line, and each slot that frees up lets the first of
// them go.
type slots struct {
	mu         sync.Mutex
	inFlight   map[string]bool // freshKey
	perCluster map[string]int
	waiting    map[string][]string // cluster -> object keys, first come first
	inLine     map[string]bool     // freshKey
	max        int
}

func newSlots(maxPerCluster int) *slots {
	if maxPerCluster < 1 {
		maxPerCluster = 1
	}
	return &slots{inFlight: map[string]bool{}, perCluster: map[string]int{}, waiting: map[string][]string{}, inLine: map[string]bool{}, max: maxPerCluster}
}

// start claims a write of key to cluster; false if one is still running,
// or the cluster already has as many writes as allowed (key then waits in
// line for a slot).
func (m *slots) start(cluster, key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := freshKey(cluster, key)
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
func (m *slots) noWrite(cluster, key string) (next string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.leaveLine(cluster, freshKey(cluster, key))
	if m.perCluster[cluster] < m.max {
		return m.popLine(cluster)
	}
	return ""
}

// leaveLine takes k (a freshKey) out of cluster's line, if it is in it.
func (m *slots) leaveLine(cluster, k string) {
	if !m.inLine[k] {
		return
	}
	delete(m.inLine, k)
	m.waiting[cluster] = slices.DeleteFunc(m.waiting[cluster], func(key string) bool { return freshKey(cluster, key) == k })
	if len(m.waiting[cluster]) == 0 {
		delete(m.waiting, cluster)
	}
}

// popLine takes the first object out of cluster's line, if any.
func (m *slots) popLine(cluster string) (next string) {
	line := m.waiting[cluster]
	if len(line) == 0 {
		return ""
	}
	next = line[0]
	if m.waiting[cluster] = line[1:]; len(m.waiting[cluster]) == 0 {
		delete(m.waiting, cluster)
	}
	delete(m.inLine, freshKey(cluster, next))
	return next
}

// running says whether a write of key to cluster is in flight.
func (m *slots) running(cluster, key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.inFlight[freshKey(cluster, key)]
}

// finish releases a write's slot and returns the object waiting longest
// for one in that cluster, if any, to be synced again.
func (m *slots) finish(cluster, key string) (next string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.inFlight, freshKey(cluster, key))
	if m.perCluster[cluster]--; m.perCluster[cluster] <= 0 {
		delete(m.perCluster, cluster)
	}
	return m.popLine(cluster)
}

// Write is one member write that a sync waits for, up to the patience.
type Write struct {
	cluster, key string

	mu        sync.Mutex
	done      chan struct{}
	finished  bool
	abandoned bool
	res       WriteResult
}

func newWrite(cluster, key string) *Write {
	return &Write{cluster: cluster, key: key, done: make(chan struct{})}
}

// Done returns a Write that is already over with r: for a member that
// needs no write, or whose write could not even start.
func Done(r WriteResult) *Write {
	w := &Write{done: make(chan struct{}), finished: true, res: r}
	close(w.done)
	return w
}

// complete records the write's result; true if the sync had already left
// it behind, so that nobody else will look at the result.
func (w *Write) complete(r WriteResult) (abandoned bool) {
	w.mu.Lock()
	w.res, w.finished = r, true
	abandoned = w.abandoned
	w.mu.Unlock()
	close(w.done)
	return abandoned
}

// take returns the result if the write is done, or else marks it left
// behind.
func (w *Write) take() (WriteResult, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.finished {
		return w.res, true
	}
	w.abandoned = true
	return WriteResult{}, false
}
