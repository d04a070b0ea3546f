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
	kind string

	mu sync.Mutex
	// now is the reason of the first immediate wake of a key since it was
	// last taken; later that of its first delayed wake.
	now, later map[string]string
}

func newSyncQueue(kind, name string) *syncQueue {
	return &syncQueue{
		TypedRateLimitingInterface: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: name}),
		kind:  kind,
		now:   map[string]string{},
		later: map[string]string{},
	}
}

// wake queues key now, for reason why.
func (q *syncQueue) wake(key, why string) {
	q.note(q.now, key, why)
	q.Add(key)
}

// wakeAfter queues key after d, for reason why.
func (q *syncQueue) wakeAfter(key string, d time.Duration, why string) {
	q.note(q.later, key, why)
	q.AddAfter(key, d)
}

// retry queues key with the queue's backoff, after an error.
func (q *syncQueue) retry(key string) {
	q.note(q.later, key, wakeError)
	q.AddRateLimited(key)
}

func (q *syncQueue) note(reasons map[string]string, key, why string) {
	syncWakes.WithLabelValues(q.kind, why).Inc()
	q.mu.Lock()
	if _, ok := reasons[key]; !ok {
		reasons[key] = why
	}
	q.mu.Unlock()
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
	if ok {
		delete(q.now, key)
	} else if why, ok = q.later[key]; ok {
		delete(q.later, key)
	} else {
		why = "unknown"
	}
	q.mu.Unlock()
	syncCauses.WithLabelValues(q.kind, why).Inc()
	return key, quit
}
