package propagation

import (
	"context"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder collects what a trailing queue ran, in order.
type ran struct {
	mu  gosync.Mutex
	got []string
	at  []time.Time
}

func (r *ran) fn(name string) func() {
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, name)
		r.at = append(r.at, time.Now())
	}
}

func (r *ran) wait(t *testing.T, n int, within time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		if len(r.got) >= n {
			out := append([]string(nil), r.got...)
			r.mu.Unlock()
			return out
		}
		r.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t.Fatalf("ran %v within %s, want %d items", r.got, within, n)
	return nil
}

func TestTrailingRunsAtOnceWhenIdle(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := newTrailing(func() int { return 0 }, trailingDelays{short: time.Hour, long: time.Hour, deep: 1})
	tr.run(ctx, 1)
	if d := runOne(t, tr, "a"); d > time.Second {
		t.Errorf("idle queue: ran after %s, want at once", d)
	}
}

// fakeBacklog is a sync queue's backlog, as a test sets it.
type fakeBacklog struct{ n atomic.Int64 }

func (b *fakeBacklog) len() int { return int(b.n.Load()) }

// runOne asks tr for one piece of work under key and returns how long it
// took to run.
func runOne(t *testing.T, tr *trailing, key string) time.Duration {
	t.Helper()
	var r ran
	start := time.Now()
	tr.add(key, r.fn(key))
	r.wait(t, 1, 3*time.Second)
	return r.at[0].Sub(start)
}

// heldFor asks tr for work under key and checks that it has not run after
// d; it returns what records the run.
func heldFor(t *testing.T, tr *trailing, key string, d time.Duration) *ran {
	t.Helper()
	r := &ran{}
	tr.add(key, r.fn(key))
	time.Sleep(d)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) != 0 {
		t.Fatalf("%s ran within %s, want it held", key, d)
	}
	return r
}

func TestTrailingWaitsBehindABacklogUpToItsDelay(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var backlog fakeBacklog
	backlog.n.Store(1)
	tr := newTrailing(backlog.len, trailingDelays{short: 300 * time.Millisecond, long: time.Hour, deep: 20})
	tr.run(ctx, 1)
	if d := runOne(t, tr, "a"); d < 300*time.Millisecond {
		t.Errorf("a backlog of 1: ran after %s, want no sooner than the 300ms delay", d)
	}

	// Once the queue empties, waiting work runs without waiting out the
	// delay.
	tr2 := newTrailing(backlog.len, trailingDelays{short: time.Hour})
	tr2.run(ctx, 1)
	r := heldFor(t, tr2, "b", 100*time.Millisecond)
	backlog.n.Store(0)
	r.wait(t, 1, 2*time.Second)
}

func TestTrailingWaitsLongerBehindABurst(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var backlog fakeBacklog
	backlog.n.Store(20)
	tr := newTrailing(backlog.len, trailingDelays{short: 50 * time.Millisecond, long: 600 * time.Millisecond, deep: 20})
	tr.run(ctx, 1)
	if d := runOne(t, tr, "a"); d < 600*time.Millisecond {
		t.Errorf("a backlog of 20 (a burst): ran after %s, want no sooner than the burst's 600ms delay", d)
	}

	// A burst that shrinks below deep holds work only for the short delay,
	// counted from when it was asked for: work older than that runs as
	// soon as the burst is through.
	r := heldFor(t, tr, "b", 200*time.Millisecond)
	backlog.n.Store(19)
	asked := time.Now()
	r.wait(t, 1, 2*time.Second)
	if d := r.at[0].Sub(asked); d > 300*time.Millisecond {
		t.Errorf("backlog down to 19: work asked for 200ms ago ran after another %s, want at once", d)
	}
}

func TestTrailingCoalescesByKeyAndCancels(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var backlog fakeBacklog
	backlog.n.Store(1)
	tr := newTrailing(backlog.len, trailingDelays{short: time.Hour})
	var r ran
	tr.add("a", r.fn("a-old"))
	tr.add("", r.fn("event-1"))
	tr.add("a", r.fn("a-new"))
	tr.add("", r.fn("event-2"))
	tr.add("b", r.fn("b"))
	tr.cancel("b")
	tr.run(ctx, 1)
	backlog.n.Store(0)
	got := r.wait(t, 3, 2*time.Second)
	time.Sleep(100 * time.Millisecond)
	r.mu.Lock()
	defer r.mu.Unlock()
	want := []string{"a-new", "event-1", "event-2"}
	if len(r.got) != len(want) {
		t.Fatalf("ran %v, want %v", r.got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ran %v, want %v (newest work under a key, in first-asked order; events never merged; cancelled work dropped)", r.got, want)
		}
	}
}

func TestTrailingNeverRunsOneKeyTwiceAtOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := newTrailing(func() int { return 0 }, trailingDelays{short: time.Hour})
	tr.run(ctx, 4)
	var inFlight, most, runs atomic.Int32
	release := make(chan struct{})
	work := func() {
		n := inFlight.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		<-release
		inFlight.Add(-1)
		runs.Add(1)
	}
	tr.add("a", work)
	time.Sleep(50 * time.Millisecond) // the first is running now
	tr.add("a", work)
	time.Sleep(100 * time.Millisecond)
	if got := most.Load(); got != 1 {
		t.Fatalf("%d runs of one key at once, want 1", got)
	}
	close(release)
	deadline := time.Now().Add(2 * time.Second)
	for runs.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := runs.Load(); got != 2 {
		t.Fatalf("ran %d times, want the newer work to run after the first", got)
	}
}
