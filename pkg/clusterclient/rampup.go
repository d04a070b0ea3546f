package clusterclient

import "time"

// A member that has had no write of the kind for idleAfter starts the
// next burst at RestartAllowance writes at once, not the most allowed,
// and gains one more for each write it answers in good time, so about
// twice as many per round of answers (TCP's slow start after an idle
// spell), up to the most, until a cut. A write answered later than
// growWithin grows nothing: more writes at once would only wait longer in
// the member. Past half the request timeout, the member is cut (see
// lateness.go).
//
// The halving alone comes too late for a burst's first wave: fifty
// members that share a processor, each given twenty Service creates at
// once (about 10 ms of processor each), answer the thousand writes
// together close to the 10 s request timeout, so the signal to cut and
// the timeouts arrive at once, and every timed-out create is done twice
// (up to 569 of 5,000 in one run). A member that answers in tens of
// milliseconds reaches the most within a few rounds, a fraction of a
// second. A late answer does not end the doubling, as it would TCP's: at
// twenty-five members sharing a processor a burst's answers come in 1-3
// s, around growWithin, and a member that stopped doubling at the first
// of them kept ten writes at once instead of twenty, which cost it half
// as much again processor per write (it wakes for each) and a third of
// its rate.
const (
	RestartAllowance = 4
	idleAfter        = 10 * time.Second
)

// verdict is what a write's end says of its member's allowance.
type verdict int

const (
	// verdictGrow: answered in good time.
	verdictGrow verdict = iota
	// verdictHold: answered, but so late that more writes at once would
	// queue.
	verdictHold
	// verdictCut: failed as overloaded, or answered late enough to be a
	// sign of overload (see overloadedBy).
	verdictCut
)

// judge says what a write of cluster's that started as s and ended now,
// failed as overloaded or not, does to its allowance.
func (m *slots) judge(cluster string, s started, failed bool) verdict {
	if m.overloadedBy(cluster, s, failed) {
		return verdictCut
	}
	if within := m.growWithin(cluster); within > 0 && m.now().Sub(s.at) >= within {
		return verdictHold
	}
	return verdictGrow
}

// growWithin is how soon an answer must come to grow the allowance: a
// quarter of the request timeout, or later for a member whose own pace
// is slow (see lateAfter); 0: any answer.
func (m *slots) growWithin(cluster string) time.Duration {
	if m.late <= 0 {
		return 0
	}
	var base time.Duration
	if f := m.fastest[cluster]; f != nil {
		base = f.get()
	}
	return max(m.late/2, lateAfter(base, m.late))
}

// restartingAt makes the slots start each member's burst after an idle
// spell at n writes at once.
func (m *slots) restartingAt(n int) *slots {
	m.restart = min(max(n, 1), m.max)
	return m
}

// restartIfIdle starts cluster, which has no write running, at the
// restart allowance if it has had none for idleAfter (or ever).
func (m *slots) restartIfIdle(cluster string) {
	if m.restart >= m.max {
		return
	}
	if last, ok := m.lastEnd[cluster]; ok && m.now().Sub(last) < idleAfter {
		return
	}
	if m.allowed(cluster) > m.restart {
		m.allowance[cluster] = float64(m.restart)
	}
	m.ramping[cluster] = true
}
