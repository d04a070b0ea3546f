// Package controllertest holds what every controller's unit tests share:
// a queue that remembers what was queued, and the events a fake recorder
// took. Only tests import it.
package controllertest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/util/workqueue"
)

// RecordingQueue is a controller's queue, remembering what was added to
// it and what was queued for later. Make it with NewRecordingQueue.
type RecordingQueue struct {
	workqueue.TypedRateLimitingInterface[string]

	mu    sync.Mutex
	added []string
	after map[string]time.Duration
}

// NewRecordingQueue wraps q.
func NewRecordingQueue(q workqueue.TypedRateLimitingInterface[string]) *RecordingQueue {
	return &RecordingQueue{TypedRateLimitingInterface: q, after: map[string]time.Duration{}}
}

// Add remembers key and adds it to the queue.
func (q *RecordingQueue) Add(key string) {
	q.mu.Lock()
	q.added = append(q.added, key)
	q.mu.Unlock()
	q.TypedRateLimitingInterface.Add(key)
}

// AddAfter remembers key's delay and adds it to the queue after d.
func (q *RecordingQueue) AddAfter(key string, d time.Duration) {
	q.mu.Lock()
	q.after[key] = d
	q.mu.Unlock()
	q.TypedRateLimitingInterface.AddAfter(key, d)
}

// TakeAdded returns the keys added since the last call, and forgets them.
func (q *RecordingQueue) TakeAdded() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.added
	q.added = nil
	return out
}

// WaitAdded waits until key has been added, and forgets what was added.
func (q *RecordingQueue) WaitAdded(t *testing.T, key string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var seen []string
	for time.Now().Before(deadline) {
		seen = append(seen, q.TakeAdded()...)
		if slices.Contains(seen, key) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s never queued; queued %q", key, seen)
}

// TakeAfter returns the delay key was last queued with since the last
// call, and forgets it.
func (q *RecordingQueue) TakeAfter(key string) (time.Duration, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	d, ok := q.after[key]
	delete(q.after, key)
	return d, ok
}
