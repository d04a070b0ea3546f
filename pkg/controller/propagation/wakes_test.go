package propagation

import (
	"testing"
	"time"
)

// TestSyncQueueCountsEachSyncByItsFirstCause: wakes that merge into one
// sync count as requests, but the sync counts once, under the reason that
// queued the key first; a key brought back by a delay counts under the
// delay's reason.
func TestSyncQueueCountsEachSyncByItsFirstCause(t *testing.T) {
	kind := testKind("causes")
	q := newSyncQueue(kind, kind)
	defer q.ShutDown()
	value := func(vec string, why string) float64 {
		t.Helper()
		if vec == "wakes" {
			return counterValue(t, syncWakes, kind, why)
		}
		return counterValue(t, syncCauses, kind, why)
	}

	// sync takes ns/a from the queue as a worker would.
	sync := func() {
		t.Helper()
		if key, _ := q.Get(); key != "ns/a" {
			t.Fatalf("Get = %q, want ns/a", key)
		}
		q.Done("ns/a")
	}

	q.wake("ns/a", wakeMember)
	q.wake("ns/a", wakeFederated)
	q.wake("ns/a", wakeMember)
	sync()
	if got := value("wakes", wakeMember); got != 2 {
		t.Errorf("member wakes = %v, want 2", got)
	}
	if got := value("causes", wakeMember); got != 1 {
		t.Errorf("syncs caused by member events = %v, want 1", got)
	}
	if got := value("causes", wakeFederated); got != 0 {
		t.Errorf("syncs caused by federated events = %v, want 0: that wake merged into the member's", got)
	}

	q.wakeAfter("ns/a", 10*time.Millisecond, wakeSlowMember)
	sync()
	if got := value("causes", wakeSlowMember); got != 1 {
		t.Errorf("syncs caused by the slow-member backstop = %v, want 1", got)
	}

	// The next immediate wake is its own cause again.
	q.wake("ns/a", wakeFederated)
	sync()
	if got := value("causes", wakeFederated); got != 1 {
		t.Errorf("syncs caused by federated events = %v, want 1", got)
	}
}

// TestSyncQueueForgetsADelayedWakeThatMerged: a delayed wake that came due
// while its key waited for another reason is forgotten by that sync, so
// that the queue keeps nothing for keys that never come back.
func TestSyncQueueForgetsADelayedWakeThatMerged(t *testing.T) {
	kind := testKind("merged")
	q := newSyncQueue(kind, kind)
	defer q.ShutDown()
	q.wake("ns/a", wakeMember)
	q.wakeAfter("ns/a", time.Millisecond, wakeSlowMember)
	for due := time.Now().Add(time.Millisecond); !time.Now().After(due); {
		time.Sleep(time.Millisecond)
	}
	if key, _ := q.Get(); key != "ns/a" {
		t.Fatalf("Get = %q, want ns/a", key)
	}
	q.Done("ns/a")
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.later) != 0 || len(q.now) != 0 {
		t.Errorf("after the sync: immediate %v, delayed %v; want nothing kept", q.now, q.later)
	}
}
