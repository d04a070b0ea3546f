package clusterclient

import "context"

// A write that waits in a member's line for a slot can carry its plan:
// when a slot frees, the writer starts it itself, as a write left behind,
// instead of waking the object for a sync over every member only to start
// that one write. At fifty members, the wakes for free slots were a third
// of the syncs of a burst, and each such sync held a worker for up to the
// patience. The plan's current says whether it still holds (the object and
// the clusters are as when it was made); if not, the object is woken as
// before.

// plan is a write waiting in line, ready to start. It is kept with the
// object's place in the line (slots.inLine), so that it leaves the line
// with it: started, passed over, or replaced by a newer sync's.
type plan struct {
	ctx     context.Context
	write   func(context.Context) WriteResult
	current func() bool
}

// GoWhenFree implements MemberWriter.
func (w *Writer) GoWhenFree(ctx context.Context, cluster, key string, write func(context.Context) WriteResult, current func() bool) *Write {
	if w.slots.startOrLine(cluster, key, &plan{ctx: ctx, write: write, current: current}) {
		return w.launch(ctx, cluster, key, write)
	}
	return w.Slow(cluster, key)
}

// freeSlotFor gives a free slot of cluster to next, taken out of its line:
// its planned write starts if it has one that still holds; otherwise the
// object is woken to sync.
func (w *Writer) freeSlotFor(cluster string, next waiter) {
	p := next.plan
	if p == nil || !p.current() {
		w.opts.Wake(next.key, WakeFreeSlot)
		return
	}
	if !w.slots.startOrLine(cluster, next.key, p) {
		// The slot was taken meanwhile, and the object is back in line
		// with its plan. Or a sync started its write itself.
		return
	}
	// Nobody waits for it: it is left behind from the start, so that its
	// end is told and wakes the object as any other's.
	h := newWrite(cluster, next.key)
	h.abandoned = true
	w.slots.leftBehind(next.key)
	go w.run(p.ctx, cluster, next.key, h, p.write)
}
