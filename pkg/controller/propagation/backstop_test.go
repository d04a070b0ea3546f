package propagation

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// armedBackstop is a backstop of key armed for an hour, so that only the
// test fires it, and its token.
func armedBackstop(b *backstops, key string) uint64 {
	b.arm(key, time.Hour)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.armed[key]
}

func TestBackstopWakesAnObjectWhoseWritesOweItNothing(t *testing.T) {
	woken := make(chan string, 4)
	var pending atomic.Bool
	b := newBackstops(context.Background(), func(string) bool { return pending.Load() }, func(key string) { woken <- key })

	// Due, nothing pending, no sync since: it wakes, once.
	token := armedBackstop(b, "ns/a")
	b.fire("ns/a", token, time.Hour)
	if got := <-woken; got != "ns/a" {
		t.Fatalf("woke %q, want ns/a", got)
	}
	b.fire("ns/a", token, time.Hour)

	// A sync started before it was due: it lapses.
	token = armedBackstop(b, "ns/b")
	b.lapse("ns/b")
	b.fire("ns/b", token, time.Hour)

	// A newer backstop of the same key replaces the older.
	old := armedBackstop(b, "ns/c")
	token = armedBackstop(b, "ns/c")
	b.fire("ns/c", old, time.Hour)
	b.fire("ns/c", token, time.Hour)
	if got := <-woken; got != "ns/c" {
		t.Fatalf("woke %q, want ns/c, not a second ns/a nor the lapsed ns/b", got)
	}
	select {
	case got := <-woken:
		t.Fatalf("woke %q as well: ns/c's older backstop fired too", got)
	default:
	}
}

func TestBackstopWaitsWhileTheObjectsWritesArePending(t *testing.T) {
	woken := make(chan string, 4)
	var pending atomic.Bool
	pending.Store(true)
	b := newBackstops(context.Background(), func(string) bool { return pending.Load() }, func(key string) { woken <- key })
	token := armedBackstop(b, "ns/a")
	b.fire("ns/a", token, 20*time.Millisecond)
	select {
	case <-woken:
		t.Fatal("woke an object whose write is still in a member's line")
	default:
	}
	// The write is done, but its wake was lost: the next period wakes it.
	pending.Store(false)
	select {
	case got := <-woken:
		if got != "ns/a" {
			t.Fatalf("woke %q, want ns/a", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the backstop never woke the object once its writes were done")
	}
}

func TestBackstopStopsWithTheController(t *testing.T) {
	woken := make(chan string, 4)
	ctx, cancel := context.WithCancel(context.Background())
	b := newBackstops(ctx, func(string) bool { return false }, func(key string) { woken <- key })
	stopped := armedBackstop(b, "ns/a")
	cancel()
	b.fire("ns/a", stopped, time.Hour)
	select {
	case got := <-woken:
		t.Fatalf("woke %q after the controller stopped", got)
	default:
	}
}
