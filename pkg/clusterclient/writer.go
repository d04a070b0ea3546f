package clusterclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/kfederation/federation/pkg/freshwrites"
)

// MemberWriter is what a controller does to the member copies of one kind:
// read them from the member informers (its own fresh writes standing in
// until the informers catch up), create, read live, update, delete and
// release them, each request bounded in time, and run each object's writes
// in the background, a limited number at once per member, waited for only
// up to a patience so that a slow member holds up no other.
type MemberWriter interface {
	// Synced says the cluster's informer has its first list.
	Synced(cluster string) bool
	// Cached returns the cluster's managed copy of key (namespace/name,
	// or name), or this writer's newer write of it; nil if none. The
	// error wraps ErrNotSynced.
	Cached(cluster, key string) (*unstructured.Unstructured, error)
	// CachedKeys are the keys of every managed copy in the cluster's cache.
	CachedKeys(cluster string) []string
	// Create creates obj in the cluster.
	Create(ctx context.Context, cluster string, obj *unstructured.Unstructured) (*unstructured.Unstructured, error)
	// ReadLive reads the cluster's own copy of obj, with every field the
	// member has, at least as new as obj's resourceVersion.
	ReadLive(ctx context.Context, cluster string, obj *unstructured.Unstructured) (*unstructured.Unstructured, error)
	// Update writes obj, a copy read from the cluster and changed.
	Update(ctx context.Context, cluster string, obj *unstructured.Unstructured) (*unstructured.Unstructured, error)
	// Delete deletes obj, and what it owns in the member (in the
	// background, as kubectl does), if it still meets pre.
	Delete(ctx context.Context, cluster string, obj *unstructured.Unstructured, pre metav1.Preconditions) error
	// Release writes strip(live copy) over the cluster's copy of obj, so
	// that the copy stays when the federation lets it go; a copy already
	// gone is no error.
	Release(ctx context.Context, cluster string, obj *unstructured.Unstructured, strip func(*unstructured.Unstructured) *unstructured.Unstructured) error
	// Go runs write, a write of key to the cluster, in the background,
	// holding one of the cluster's write slots. When a write of key to the
	// cluster still runs, or the cluster has every slot taken (key then
	// waits in line for one), write does not run and the Write is Slow.
	Go(ctx context.Context, cluster, key string, write func(context.Context) WriteResult) *Write
	// GoWhenFree is Go, but a write that waits in line for a slot starts
	// by itself when one frees, as a write left behind, if current still
	// says yes then (the object is not woken for the slot).
	GoWhenFree(ctx context.Context, cluster, key string, write func(context.Context) WriteResult, current func() bool) *Write
	// Slow is the Write of a cluster still busy with a write of key: its
	// result is Slow, with the copy the cluster has now.
	Slow(cluster, key string) *Write
	// Wait waits for writes, up to the patience in all; the writes still
	// running then go on alone and come back Slow.
	Wait(writes []*Write) []WriteResult
	// InFlight says a write of key to the cluster still runs.
	InFlight(cluster, key string) bool
	// NoWrite tells that key needs no write to the cluster: it leaves the
	// cluster's line.
	NoWrite(cluster, key string)
	// Pending says a write of key left behind still runs in some
	// cluster, or waits in a cluster's line: its end or its start will
	// wake the object (WriterOptions.Wake, LeftBehind).
	Pending(key string) bool
}

// Ops a write did.
const (
	OpCreated = "created"
	OpUpdated = "updated"
	OpDeleted = "deleted"
)

// WriteResult is what one member write did: the copy the member now has,
// OpCreated, OpUpdated, OpDeleted or "", and the error; Why is the
// writer's reason for it, to tell in an event (may be empty).
type WriteResult struct {
	Member *unstructured.Unstructured
	Op     string
	Why    string
	Err    error
}

// ErrSlowMember marks a write left behind, or not started, because the
// member is slow: the write's end, or a free slot, hands the object's key
// to the writer's Wake function.
var ErrSlowMember = errors.New("slow member")

// WakeReason says why a Writer woke an object (WriterOptions.Wake).
type WakeReason string

const (
	// WakeFreeSlot: a member's write slot freed, and the object was first
	// in its line.
	WakeFreeSlot WakeReason = "free-slot"
	// WakeNewerCopy: the member had a newer copy than a write left.
	WakeNewerCopy WakeReason = "newer-copy"
	// WakeWriteEnded: the last of an object's writes Wait left behind
	// ended, or one of them failed.
	WakeWriteEnded WakeReason = "write-ended"
)

// WriterOptions configure a Writer.
type WriterOptions struct {
	// RequestTimeout bounds each request to a member.
	RequestTimeout time.Duration
	// Patience is how long Wait waits for writes (see MemberWriter.Go).
	Patience time.Duration
	// MaxInFlight is the most writes at once per member.
	MaxInFlight int
	// Wake is called with an object key to sync again, and why: a slot
	// freed for it, the member had a newer copy than a write left, or the
	// last of its writes left behind ended (one failed: at once).
	Wake func(key string, why WakeReason)
	// LeftBehind is called when a write left behind by Wait ends, with
	// its result and whether it was the last of the object's writes left
	// behind still running, before Wake.
	LeftBehind func(cluster, key string, r WriteResult, last bool)
	// Events is called for each member informer event, after the writer
	// has taken it in (nil: none).
	Events func(cluster string) cache.ResourceEventHandler
	// Allowance is called after each write with how it changed the
	// cluster's writes at once. Nil: not called.
	Allowance func(cluster string, change AllowanceChange)
}

// AllowanceChange is how many writes a cluster was allowed at once before
// one of its writes ended and may have now: MaxInFlight, or fewer while it
// is overloaded (see Overloaded) or ramping up after an idle spell (see
// RestartAllowance).
type AllowanceChange struct {
	Before, Now int
	// Whole says the write brought the cluster back to MaxInFlight after
	// a cut; a ramp up after an idle spell alone does not.
	Whole bool
}

// Writer is the MemberWriter of one resource over Members.
type Writer struct {
	members Members
	gvr     schema.GroupVersionResource
	opts    WriterOptions
	slots   *slots
	fresh   *freshwrites.Cache[*unstructured.Unstructured]
}

var _ MemberWriter = &Writer{}

// NewWriter returns the writer of resource gvr over members. Call Watch to
// follow the member informers.
func NewWriter(members Members, gvr schema.GroupVersionResource, opts WriterOptions) *Writer {
	if opts.Wake == nil {
		opts.Wake = func(string, WakeReason) {}
	}
	return &Writer{
		members: members,
		gvr:     gvr,
		opts:    opts,
		// A write answered after half the request timeout, close to
		// failing, or on a member that came that close lately, past
		// Kubernetes' 1 s objective and several times the member's own
		// fastest answer, says the member queues writes: fewer at once
		// keep the next ones from timing out and being done twice.
		slots: newSlots(opts.MaxInFlight, opts.RequestTimeout/2).restartingAt(RestartAllowance),
		fresh: freshwrites.New[*unstructured.Unstructured](freshwrites.DefaultTTL),
	}
}

// Watch follows every member's informer of the resource: each event lets
// go of a fresh write the informer now has (or that was deleted), then
// goes to opts.Events, in that order, so that a controller woken by it
// sees a deleted copy as deleted. An event that only echoes this writer's
// own write does not go on (see echo).
func (w *Writer) Watch() {
	w.members.Watch(w.gvr, w.handler)
}

func (w *Writer) handler(cluster string) cache.ResourceEventHandler {
	var next cache.ResourceEventHandler = cache.ResourceEventHandlerFuncs{}
	if w.opts.Events != nil {
		next = w.opts.Events(cluster)
	}
	// news takes in an added or updated copy, and says whether it is news
	// to the controller.
	news := func(obj interface{}) bool {
		m, err := meta.Accessor(obj)
		if err != nil {
			return true
		}
		key, err := cache.MetaNamespaceKeyFunc(m)
		if err != nil {
			return true
		}
		rv := m.GetResourceVersion()
		echo := w.echo(cluster, key, rv)
		w.fresh.SeenVersion(freshKey(cluster, key), rv)
		return !echo
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) {
			if news(obj) {
				next.OnAdd(obj, false)
			}
		},
		UpdateFunc: func(old, obj interface{}) {
			if news(obj) {
				next.OnUpdate(old, obj)
			}
		},
		DeleteFunc: func(obj interface{}) {
			if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
				w.fresh.Forget(freshKey(cluster, key))
			}
			next.OnDelete(obj)
		},
	}
}

// echo says an informer event of key at resourceVersion tells the
// controller nothing it does not know from the write that made it: the
// copy this writer wrote last, or any copy while a write of key runs
// (Go's end compares the two, and syncs the object again if the member
// had a newer one). Without this, each object would be synced once more
// per member for the echo of its own copy: a cost that grows as the
// square of the members.
func (w *Writer) echo(cluster, key, resourceVersion string) bool {
	return w.slots.seenWhileRunning(cluster, key, resourceVersion) || w.fresh.Holds(freshKey(cluster, key), resourceVersion)
}

// freshKey keys per-cluster, per-object state.
func freshKey(cluster, key string) string { return cluster + "\x00" + key }

// Synced implements MemberWriter.
func (w *Writer) Synced(cluster string) bool { return w.members.Synced(cluster, w.gvr) }

// Cached implements MemberWriter.
func (w *Writer) Cached(cluster, key string) (*unstructured.Unstructured, error) {
	cached, err := w.members.Cached(cluster, w.gvr, key)
	if err != nil {
		return nil, err
	}
	return w.fresh.Newest(freshKey(cluster, key), cached), nil
}

// CachedKeys implements MemberWriter.
func (w *Writer) CachedKeys(cluster string) []string { return w.members.CachedKeys(cluster, w.gvr) }

func (w *Writer) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if w.opts.RequestTimeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, w.opts.RequestTimeout)
}

// Create implements MemberWriter.
func (w *Writer) Create(ctx context.Context, cluster string, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	ctx, cancel := w.bounded(ctx)
	defer cancel()
	created, err := w.members.Create(ctx, cluster, w.gvr, obj)
	if err == nil {
		w.wrote(cluster, created)
	}
	return created, err
}

// ReadLive implements MemberWriter.
func (w *Writer) ReadLive(ctx context.Context, cluster string, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	ctx, cancel := w.bounded(ctx)
	defer cancel()
	return w.members.Get(ctx, cluster, w.gvr, obj.GetNamespace(), obj.GetName(), obj.GetResourceVersion())
}

// Update implements MemberWriter.
func (w *Writer) Update(ctx context.Context, cluster string, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	ctx, cancel := w.bounded(ctx)
	defer cancel()
	updated, err := w.members.Update(ctx, cluster, w.gvr, obj)
	if err == nil {
		w.wrote(cluster, updated)
	}
	return updated, err
}

func (w *Writer) wrote(cluster string, obj *unstructured.Unstructured) {
	if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
		w.fresh.Wrote(freshKey(cluster, key), obj)
	}
}

// Delete implements MemberWriter.
func (w *Writer) Delete(ctx context.Context, cluster string, obj *unstructured.Unstructured, pre metav1.Preconditions) error {
	ctx, cancel := w.bounded(ctx)
	defer cancel()
	if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
		w.fresh.Forget(freshKey(cluster, key))
	}
	policy := metav1.DeletePropagationBackground
	return w.members.Delete(ctx, cluster, w.gvr, obj.GetNamespace(), obj.GetName(), metav1.DeleteOptions{
		PropagationPolicy: &policy,
		Preconditions:     &pre,
	})
}

// Release implements MemberWriter. It starts from the member's own copy,
// read over JSON, so that no field the federation's types lack is lost.
func (w *Writer) Release(ctx context.Context, cluster string, obj *unstructured.Unstructured, strip func(*unstructured.Unstructured) *unstructured.Unstructured) error {
	live, err := w.ReadLive(ctx, cluster, obj)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	// The released copy is no longer ours: it must not stand in for the
	// cache as a fresh write, or the federation would go on acting on it
	// (deleting it as an orphan) until the informer sees it leave.
	if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
		w.fresh.Forget(freshKey(cluster, key))
	}
	ctx, cancel := w.bounded(ctx)
	defer cancel()
	if _, err := w.members.Update(ctx, cluster, w.gvr, strip(live)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("update: %w", err)
	}
	return nil
}

// Go implements MemberWriter.
func (w *Writer) Go(ctx context.Context, cluster, key string, write func(context.Context) WriteResult) *Write {
	if !w.slots.start(cluster, key) {
		return w.Slow(cluster, key)
	}
	return w.launch(ctx, cluster, key, write)
}

// launch runs a write whose slot start claimed, for a sync to wait for.
func (w *Writer) launch(ctx context.Context, cluster, key string, write func(context.Context) WriteResult) *Write {
	h := newWrite(cluster, key)
	h.left = func() { w.slots.leftBehind(key) }
	go w.run(ctx, cluster, key, h, write)
	return h
}

// run does a write that holds its slot, and follows its end: the slot goes
// to the next in line, and the object is woken if the member had a newer
// copy, or if the sync left the write behind and it was the object's last
// such write or failed.
func (w *Writer) run(ctx context.Context, cluster, key string, h *Write, write func(context.Context) WriteResult) {
	r := write(ctx)
	next, change := w.slots.finish(cluster, key, Overloaded(r.Err))
	seen := w.slots.takeSeen(cluster, key)
	if seen != "" {
		// The informer delivered the write, or a newer copy, before its
		// answer: the cache has it, and the written copy need not stand
		// in for it (nor be held, a whole object, until swept).
		w.fresh.SeenVersion(freshKey(cluster, key), seen)
	}
	changed := newerThanWrite(seen, r)
	if w.opts.Allowance != nil {
		w.opts.Allowance(cluster, change)
	}
	for _, n := range next {
		w.freeSlotFor(cluster, n)
	}
	if changed {
		// The member had a newer copy than the write left, and the
		// informer's event of it went no further (see echo).
		w.opts.Wake(key, WakeNewerCopy)
	}
	if h.complete(r) {
		// One sync after the object's last write left behind ends
		// takes them all in, rather than one per member: at fifty
		// members most writes of a burst are left behind. A failed
		// write is retried at once.
		last := w.slots.behindEnded(key)
		if w.opts.LeftBehind != nil {
			w.opts.LeftBehind(cluster, key, r, last)
		}
		if !changed && (last || r.Err != nil) {
			w.opts.Wake(key, WakeWriteEnded)
		}
	}
}

// newerThanWrite says the member had a newer copy than the write's
// result r: seen, the newest version its informer delivered while the
// write ran ("" for none), is above r's, or r has no copy to compare.
func newerThanWrite(seen string, r WriteResult) bool {
	switch {
	case seen == "":
		return false
	case r.Member == nil:
		return true
	default:
		return freshwrites.Newer(seen, r.Member.GetResourceVersion())
	}
}

// Overloaded says err is a member's sign of overload: the request timed
// out (--member-request-timeout, or the member's own request timeout), or
// the member's priority and fairness turned it away.
func Overloaded(err error) bool {
	return err != nil && (errors.Is(err, context.DeadlineExceeded) || apierrors.IsTimeout(err) ||
		apierrors.IsServerTimeout(err) || apierrors.IsTooManyRequests(err))
}

// Slow implements MemberWriter: the result is pending, with the copy the
// cluster has, so that an aggregated status does not drop the cluster's
// counters meanwhile.
func (w *Writer) Slow(cluster, key string) *Write {
	r := WriteResult{Err: fmt.Errorf("%w: cluster %s is slow to answer; its writes go on in the background", ErrSlowMember, cluster)}
	if m, err := w.Cached(cluster, key); err == nil {
		r.Member = m
	}
	return Done(r)
}

// Wait implements MemberWriter.
func (w *Writer) Wait(writes []*Write) []WriteResult {
	out := make([]WriteResult, len(writes))
	patience := time.NewTimer(w.opts.Patience)
	defer patience.Stop()
	expired := false
	for i, h := range writes {
		if h == nil {
			continue
		}
		if !expired {
			select {
			case <-h.done:
			case <-patience.C:
				expired = true
			}
		}
		if r, ok := h.take(); ok {
			out[i] = r
		} else {
			out[i] = w.Slow(h.cluster, h.key).res
		}
	}
	return out
}

// InFlight implements MemberWriter.
func (w *Writer) InFlight(cluster, key string) bool { return w.slots.running(cluster, key) }

// Pending implements MemberWriter.
func (w *Writer) Pending(key string) bool { return w.slots.pending(key) }

// NoWrite implements MemberWriter. If key was the object woken for a free
// slot, the next in line is woken instead.
func (w *Writer) NoWrite(cluster, key string) {
	if next := w.slots.noWrite(cluster, key); next.key != "" {
		w.freeSlotFor(cluster, next)
	}
}
