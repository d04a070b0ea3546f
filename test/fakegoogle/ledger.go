package fakegoogle

import "sync"

// Ledger is what a fake keeps about requests, apart from its resources:
// how many each method got, and the faults tests queued for the next ones.
// A fake embeds it, so that FailNext, Requests and ResetRequests are the
// fake's own; its zero value is ready to use.
type Ledger struct {
	// Server names the fake in the message of an injected fault.
	Server string

	mu       sync.Mutex
	faults   []int // status codes the next requests are answered with, in order
	requests map[string]int
}

// FailNext answers the next n requests, whatever they are, with the status
// code (503 and 429 are what the APIs answer when they are unavailable or
// over quota), without looking at them or changing anything. Calls queue
// up.
func (l *Ledger) FailNext(n int, code int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for range n {
		l.faults = append(l.faults, code)
	}
}

// Requests returns how many requests the server got for each method since
// it started or since ResetRequests, failed ones included.
func (l *Ledger) Requests() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]int, len(l.requests))
	for m, n := range l.requests {
		out[m] = n
	}
	return out
}

// ResetRequests sets every request count back to zero.
func (l *Ledger) ResetRequests() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.requests)
}

// Record counts one request of method and returns the fault to answer it
// with, nil when none is queued.
func (l *Ledger) Record(method string) *Error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.requests == nil {
		l.requests = map[string]int{}
	}
	l.requests[method]++
	if len(l.faults) == 0 {
		return nil
	}
	code := l.faults[0]
	l.faults = l.faults[1:]
	return Fault(code, l.Server)
}
