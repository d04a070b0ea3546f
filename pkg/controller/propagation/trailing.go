package propagation

import (
	"context"
	"fmt"
	gosync "sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
)

// trailing runs the federation's bookkeeping (events and Propagation
// writes) behind the member writes: while objects wait in the sync queue,
// it waits too, up to a delay after the bookkeeping was asked for (see
// trailingDelays). A burst of new objects reaches the members first and is
// recorded right after; with an idle queue, bookkeeping runs at once. Work
// under the same key is coalesced: only the newest Propagation of an object
// is written.
type trailing struct {
	backlog func() int
	delays  trailingDelays

	mu      gosync.Mutex
	cond    *gosync.Cond
	pending map[string]*trailingItem
	order   []string // keys in the order first asked for
	// running holds the keys being worked on: newer work under one of them
	// waits, so that two workers never write one object's Propagation at
	// once (the second would find no Propagation yet and collide).
	running map[string]bool
	seq     uint64
}

type trailingItem struct {
	since time.Time
	run   func()
}

// trailingDelays say how long bookkeeping yields to a sync queue's
// backlog: any backlog holds it for up to short, which keeps the records
// of a steady load close behind its copies; a burst, a backlog of at least
// deep objects (more than the workers take at once), holds it for up to
// long, so that while the federation is saturated its processor goes to
// the member writes and the records follow when the burst is through, or
// at the latest long after they were asked for.
type trailingDelays struct {
	short, long time.Duration
	deep        int
}

// wait reports whether bookkeeping asked for age ago still waits behind a
// backlog of n objects.
func (d trailingDelays) wait(age time.Duration, n int) bool {
	return (n > 0 && age < d.short) || (d.deep > 0 && n >= d.deep && age < d.long)
}

func newTrailing(backlog func() int, delays trailingDelays) *trailing {
	t := &trailing{backlog: backlog, delays: delays, pending: map[string]*trailingItem{}, running: map[string]bool{}}
	t.cond = gosync.NewCond(&t.mu)
	return t
}

// add asks for run; under a key already waiting, run replaces the older
// work and keeps its place. An empty key is never coalesced.
func (t *trailing) add(key string, run func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if key == "" {
		t.seq++
		key = fmt.Sprintf("\x00%d", t.seq)
	}
	if it, ok := t.pending[key]; ok {
		it.run = run
		return
	}
	t.pending[key] = &trailingItem{since: time.Now(), run: run}
	t.order = append(t.order, key)
	t.cond.Signal()
}

// cancel drops the work waiting under key.
func (t *trailing) cancel(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pending, key)
}

// next waits for the oldest work that may run now, and marks its key
// running until done is called.
func (t *trailing) next(ctx context.Context) (run func(), done func(), ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		if ctx.Err() != nil {
			return nil, nil, false
		}
		// Drop cancelled keys from the front; pick the oldest key not
		// being worked on.
		for len(t.order) > 0 {
			if _, ok := t.pending[t.order[0]]; ok {
				break
			}
			t.order = t.order[1:]
		}
		pick := -1
		for i, key := range t.order {
			if _, ok := t.pending[key]; ok && !t.running[key] {
				pick = i
				break
			}
		}
		if pick < 0 {
			t.cond.Wait()
			continue
		}
		key := t.order[pick]
		it := t.pending[key]
		if t.delays.wait(time.Since(it.since), t.backlog()) {
			t.mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			t.mu.Lock()
			continue
		}
		if pick == 0 {
			t.order = t.order[1:]
		} else {
			t.order = append(t.order[:pick:pick], t.order[pick+1:]...)
		}
		delete(t.pending, key)
		t.running[key] = true
		return it.run, func() {
			t.mu.Lock()
			defer t.mu.Unlock()
			delete(t.running, key)
			t.cond.Broadcast()
		}, true
	}
}

// run works through the bookkeeping with n workers until ctx ends.
func (t *trailing) run(ctx context.Context, n int) {
	go func() {
		<-ctx.Done()
		t.mu.Lock()
		t.cond.Broadcast()
		t.mu.Unlock()
	}()
	for i := 0; i < n; i++ {
		go func() {
			for {
				fn, done, ok := t.next(ctx)
				if !ok {
					return
				}
				fn()
				done()
			}
		}()
	}
}

// trailingRecorder records events through a trailing queue.
type trailingRecorder struct {
	inner record.EventRecorder
	t     *trailing
}

func (r trailingRecorder) Eventf(obj runtime.Object, eventtype, reason, messageFmt string, args ...interface{}) {
	r.t.add("", func() { r.inner.Eventf(obj, eventtype, reason, messageFmt, args...) })
}
