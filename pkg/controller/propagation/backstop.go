package propagation

import (
	"context"
	gosync "sync"
	"time"
)

// backstops sync an object left waiting for a slow member again if the
// wake its writes owe it is lost: normally the end of a write left behind,
// or its start from the member's line, syncs the object first.
//
// A backstop lapses when a sync of the object starts before it is due
// (that sync arms its own if it leaves a member behind again), and waits
// another period while a write of the object is still pending in the
// writer, whose end or start will wake it. At fifty members under a burst
// an object's writes wait in the members' lines for longer than the
// period, and a backstop that synced regardless made one sync in three,
// each comparing every member's copy only to find the writes still
// waiting.
type backstops struct {
	ctx context.Context
	// pending says a write of the key is still to end or start.
	pending func(key string) bool
	// wake queues the key's sync.
	wake func(key string)

	mu    gosync.Mutex
	seq   uint64
	armed map[string]uint64 // key -> the token of its backstop
}

func newBackstops(ctx context.Context, pending func(string) bool, wake func(string)) *backstops {
	return &backstops{ctx: ctx, pending: pending, wake: wake, armed: map[string]uint64{}}
}

// arm syncs key after d, unless a sync of key starts before (lapse).
func (b *backstops) arm(key string, d time.Duration) {
	b.mu.Lock()
	b.seq++
	token := b.seq
	b.armed[key] = token
	b.mu.Unlock()
	time.AfterFunc(d, func() { b.fire(key, token, d) })
}

// lapse forgets key's backstop: a sync of key is starting.
func (b *backstops) lapse(key string) {
	b.mu.Lock()
	delete(b.armed, key)
	b.mu.Unlock()
}

// fire is a backstop coming due: it wakes the key unless it has lapsed,
// or waits another d while a write of the key is pending.
func (b *backstops) fire(key string, token uint64, d time.Duration) {
	if !b.current(key, token) || b.ctx.Err() != nil {
		return
	}
	if b.pending(key) {
		time.AfterFunc(d, func() { b.fire(key, token, d) })
		return
	}
	b.mu.Lock()
	still := b.armed[key] == token
	if still {
		delete(b.armed, key)
	}
	b.mu.Unlock()
	if still {
		b.wake(key)
	}
}

func (b *backstops) current(key string, token uint64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.armed[key] == token
}
