package clusterclient

import (
	"context"
	"sync"
)

// A write that waits in a member's line for a slot can carry its plan:
// when a slot frees, the writer starts it itself, as a write left behind,
// instead of waking the object for a sync over every member only to start
// that one write. At fifty members, the wakes for free slots were a third
// of the syncs of a burst, and each such sync held a worker for up to the
// patience. The plan's current says whether it still holds (the object and
// the clusters are as when it was made); if not, the object is woken as
// before.

// plan is a write waiting in line, ready to start.
type plan struct {
	ctx     context.Context
	write   func(context.Context) WriteResult
	current func() bool
}

// plans are the writes waiting in line with a plan, by freshKey.
type plans struct {
	mu sync.Mutex
	m  map[string]plan
}

// GoWhenFree implements MemberWriter.
func (w *Writer) GoWhenFree(ctx context.Context, cluster, key string, write func(context.Context) WriteResult, current func() bool) *Write {
	if w.slots.start(cluster, key) {
		return w.launch(ctx, cluster, key, write)
	}
	if w.slots.lined(cluster, key) {
		// A slot may free between the line and the plan: its end then
		// finds no plan and wakes the object, no worse than without one.
		w.keepPlan(cluster, key, plan{ctx: ctx, write: write, current: current})
	}
	return w.Slow(cluster, key)
}

func (w *Writer) keepPlan(cluster, key string, p plan) {
	w.plans.mu.Lock()
	w.plans.m[freshKey(cluster, key)] = p
	w.plans.mu.Unlock()
}

// dropPlan forgets the plan of key's write to cluster, if any.
func (w *Writer) dropPlan(cluster, key string) {
	w.plans.mu.Lock()
	delete(w.plans.m, freshKey(cluster, key))
	w.plans.mu.Unlock()
}

// takePlan returns and forgets the plan of key's write to cluster.
func (w *Writer) takePlan(cluster, key string) (plan, bool) {
	w.plans.mu.Lock()
	defer w.plans.mu.Unlock()
	k := freshKey(cluster, key)
	p, ok := w.plans.m[k]
	delete(w.plans.m, k)
	return p, ok
}

// freeSlotFor gives a free slot of cluster to key, taken out of its line:
// its planned write starts if it has one that still holds; otherwise the
// object is woken to sync.
func (w *Writer) freeSlotFor(cluster, key string) {
	p, ok := w.takePlan(cluster, key)
	if !ok || !p.current() {
		w.opts.Wake(key, WakeFreeSlot)
		return
	}
	if !w.slots.start(cluster, key) {
		// The slot was taken meanwhile, and key is back in line: it
		// keeps its plan. Or a sync started key's write itself.
		if w.slots.lined(cluster, key) {
			w.keepPlan(cluster, key, p)
		}
		return
	}
	// Nobody waits for it: it is left behind from the start, so that its
	// end is told and wakes the object as any other's.
	h := newWrite(cluster, key)
	h.abandoned = true
	w.slots.leftBehind(key)
	go w.run(p.ctx, cluster, key, h, p.write)
}
