package clusterclient

import "time"

// When a member's answer to a write counts as late, a sign of overload
// that cuts its allowance (see slots): past half the request timeout,
// close to failing, always; and while the member is strained (within
// strainWindow of a write that failed as overloaded or answered past half
// the timeout) later than LateFactor times the fastest answer the member
// gave lately, never sooner than LateFloor.
//
// LateFloor is Kubernetes' own latency objective for a single-object
// mutating call (p99 <= 1 s): a strained member past it is still queueing
// the writes. Measuring against the member's own fastest answer to a
// write that ran alone keeps a member that is slow for good (an admission
// webhook that takes a second and a half) from being held to one write at
// once: only writes that take several times what it takes unqueued count.
//
// A member that has not come close to timing out lately is judged by the
// half timeout alone: a healthy member under a burst answers in seconds
// (members that share a processor, at 25 of them, in 1-4 s) and stores
// every write, and fewer writes at once then only cost it more processor
// per write (it wakes for each) and halve what it stores a second
// (docs/dev/benchmarks.md, seventh and eighth passes). Lateness is what
// comes before the next timeouts on a member that has begun to time out.
const (
	LateFloor  = time.Second
	LateFactor = 4
	// fastestWindow is how long the fastest answer is remembered; a
	// member that became slower for good is judged by its new pace after
	// one to two windows.
	fastestWindow = 5 * time.Minute
	// strainWindow is how long after a write failed as overloaded, or
	// was answered past half the request timeout, late answers from the
	// member count as overload too.
	strainWindow = 5 * time.Minute
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
