package controller

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// Worker is the loop every controller runs over its queue, as
// sample-controller's: take a key, sync it, then forget it on success,
// look again in a second when the error is only a wait, and retry with the
// queue's backoff otherwise.
type Worker struct {
	Queue workqueue.TypedRateLimitingInterface[string]
	// Sync brings the object key in line.
	Sync func(ctx context.Context, key string) error
	// Pending says an error is a wait, not a failure (nil: none is).
	Pending func(error) bool
	// Logger logs failures, naming the key as KeyName ("service").
	Logger  klog.Logger
	KeyName string
}

// Run runs n workers until ctx ends.
func (w Worker) Run(ctx context.Context, n int) {
	for i := 0; i < n; i++ {
		go wait.UntilWithContext(ctx, func(ctx context.Context) {
			for w.processNext(ctx) {
			}
		}, time.Second)
	}
}

// processNext syncs one key; false once the queue is shut down.
func (w Worker) processNext(ctx context.Context) bool {
	key, quit := w.Queue.Get()
	if quit {
		return false
	}
	defer w.Queue.Done(key)
	err := w.Sync(ctx, key)
	switch {
	case err == nil:
		w.Queue.Forget(key)
	case w.Pending != nil && w.Pending(err):
		w.Queue.AddAfter(key, time.Second)
	default:
		w.Logger.Error(err, "Sync failed; retrying", w.KeyName, key)
		w.Queue.AddRateLimited(key)
	}
	return true
}
