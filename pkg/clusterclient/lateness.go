package clusterclient

import "time"

// When a member's answer to a write counts as late, a sign of overload
// that cuts its allowance (see slots): later than LateFactor times the
// fastest answer the member gave lately, and never sooner than LateFloor
// nor later than half the request timeout.
//
// LateFloor is Kubernetes' own latency objective for a single-object
// mutating call (p99 <= 1 s): a member past it is queueing the writes.
// Measuring against the member's own fastest answer to a write that ran
// alone keeps a member that is slow for good (an admission webhook that
// takes a second and a half) from being held to one write at once: only
// writes that take several times what it takes unqueued count.
const (
	LateFloor  = time.Second
	LateFactor = 4
	// fastestWindow is how long the fastest answer is remembered; a
	// member that became slower for good is judged by its new pace after
	// one to two windows.
	fastestWindow = 5 * time.Minute
)

// fastest remembers a member's fastest answer over the current window
// and the one before it.
type fastest struct {
	cur, prev time.Duration // 0: no answer in that window
	since     time.Time     // when cur's window began
}

// observe records an answer that took d, at now.
func (f *fastest) observe(d time.Duration, now time.Time) {
	if gap := now.Sub(f.since); gap >= fastestWindow {
		f.prev = f.cur
		if gap >= 2*fastestWindow {
			f.prev = 0 // nothing answered in the window before this one
		}
		f.cur, f.since = 0, now
	}
	if f.cur == 0 || d < f.cur {
		f.cur = d
	}
}

// get is the fastest answer over both windows; 0 if none.
func (f *fastest) get() time.Duration {
	switch {
	case f.prev == 0:
		return f.cur
	case f.cur == 0 || f.prev < f.cur:
		return f.prev
	default:
		return f.cur
	}
}

// lateAfter is how long an answer may take before it counts as late, for
// a member whose fastest recent answer took base (0: none yet), with the
// given most (half the request timeout; 0: answers are never late).
func lateAfter(base, most time.Duration) time.Duration {
	if most <= 0 {
		return 0
	}
	return min(max(LateFactor*base, LateFloor), most)
}
