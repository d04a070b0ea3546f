package propagation

import (
	"sync"
	"time"

	"k8s.io/client-go/util/workqueue"
)

// Why an object was queued for a sync. Each is a value of the reason
// label of federation_sync_wakes_total and federation_sync_causes_total.
const (
	// wakeFederated: an event of the federated object itself.
	wakeFederated = "federated"
	// wakeMember: a member informer's event of a copy (not the echo of the
	// federation's own write; see clusterclient.Writer).
	wakeMember = "member"
	// wakeCluster: a cluster joined, left, changed readiness or labels.
	wakeCluster = "cluster"
	// wakeGate: a member gate (controller.MemberGate) changed its hold.
	wakeGate = "gate"
	// wakePlacement: the replica planner changed the object's shares.
	wakePlacement = "placement"
	// wakeSlowMember: the backstop after a member was too slow to answer
	// (the write's end or a free slot normally comes first).
	wakeSlowMember = "slow-member"
	// wakePending: the sync could not finish yet (a cache behind, an
	// object changed under it) and is tried again shortly.
	wakePending = "pending"
	// wakeError: a failed sync or record, retried with backoff.
	wakeError = "error"
)

// syncQueue is the sync's work queue, which also keeps why each key was
// queued: every request is counted by reason, and every sync by the first
// reason its key was queued for since its last sync (the others merged
// into it). A key queued only by a delay (wakeAfter, retry) has the
// delay's reason.
type syncQueue struct {
	workqueue.TypedRateLimitingInterface[string]
	kind    string
	backoff workqueue.TypedRateLimiter[string]

	mu sync.Mutex
	// now is the reason of the first immediate wake of a key since it was
	// last taken; later that of its first delayed wake still to come, or
	// come since it was last taken.
	now   map[string]string
	later map[string]delayed
}

// delayed is the reason of a delayed wake, and when it is due.
type delayed struct {
	why string
	due time.Time
}

func newSyncQueue(kind, name string) *syncQueue {
	backoff := workqueue.DefaultTypedControllerRateLimiter[string]()
	return &syncQueue{
		TypedRateLimitingInterface: workqueue.NewTypedRateLimitingQueueWithConfig(
			backoff, workqueue.TypedRateLimitingQueueConfig[string]{Name: name}),
		kind:    kind,
		backoff: backoff,
		now:     map[string]string{},
		later:   map[string]delayed{},
	}
}

// wake queues key now, for reason why.
func (q *syncQueue) wake(key, why string) {
	syncWakes.WithLabelValues(q.kind, why).Inc()
	q.mu.Lock()
	if _, ok := q.now[key]; !ok {
		q.now[key] = why
	}
	q.mu.Unlock()
	q.Add(key)
}

// wakeAfter queues key after d, for reason why.
func (q *syncQueue) wakeAfter(key string, d time.Duration, why string) {
	syncWakes.WithLabelValues(q.kind, why).Inc()
	q.mu.Lock()
	if _, ok := q.later[key]; !ok {
		q.later[key] = delayed{why: why, due: time.Now().Add(d)}
	}
	q.mu.Unlock()
	q.AddAfter(key, d)
}

// retry queues key with the queue's backoff, after an error, as
// AddRateLimited does.
func (q *syncQueue) retry(key string) {
	q.wakeAfter(key, q.backoff.When(key), wakeError)
}

// Get takes the next key, as the work queue's Get does, and counts the
// sync it starts by its cause.
func (q *syncQueue) Get() (string, bool) {
	key, quit := q.TypedRateLimitingInterface.Get()
	if quit {
		return key, quit
	}
	q.mu.Lock()
	why, ok := q.now[key]
	delete(q.now, key)
	if d, pending := q.later[key]; !ok && pending {
		why, ok = d.why, true
		delete(q.later, key)
	} else if pending && !d.due.After(time.Now()) {
		// The delayed wake came and merged into this sync: forget it,
		// or it would stay for a key that may never come back.
		delete(q.later, key)
	}
	if !ok {
		why = "unknown"
	}
	q.mu.Unlock()
	syncCauses.WithLabelValues(q.kind, why).Inc()
	return key, quit
}
