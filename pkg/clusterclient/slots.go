package clusterclient

import (
	"math"
	"slices"
	"sync"
	"time"

	"github.com/kfederation/federation/pkg/freshwrites"
)

// slots tracks the writes in flight per member cluster and object, so
// that an object left behind is not written to that member a second time
// while the first write runs, and a slow member gets no more writes at
// once than allowed. Objects turned away because a member has all its
// slots taken wait in line, and each slot that frees up lets the first of
// them go.
//
// How many writes a member is allowed at once adapts as TCP's congestion
// window does: a write the member did not answer in time, or answered
// close to that, or late after either (see lateness.go), halves its
// allowance, once for all the writes already running then, and every
// other write answered in good time adds 1/allowance, so one more slot
// per allowance's worth of answers, up to max; after an idle spell a
// member starts small and gains one slot per timely answer (see
// rampup.go). A member too busy to answer within the request
// timeout would otherwise get as many writes as ever, time them all out,
// and do each again on the retry.
type slots struct {
	mu         sync.Mutex
	inFlight   map[string]started // freshKey -> when the write started
	perCluster map[string]int
	waiting    map[string][]string // cluster -> object keys, first come first
	// inLine are the objects waiting in a line, by freshKey, each with
	// the plan of its write (nil: none; it is woken for its slot).
	inLine map[string]*plan
	// lined counts, per object key, the clusters whose line it is in.
	lined map[string]int
	// woken are the objects taken out of a cluster's line for a free slot
	// that have not yet started a write there nor said they need none
	// (freshKey).
	woken map[string]bool
	// seen is, per freshKey, the newest resourceVersion the cluster's
	// informer delivered while a write of the object ran there.
	seen map[string]string
	// behind counts, per object key, its writes that a sync left behind
	// and that still run, in any cluster.
	behind map[string]int
	max    int
	// late is the longest an answered write may take before it counts as
	// a sign of overload all the same (0: never); see lateAfter.
	late time.Duration
	// fastest is each cluster's fastest recent answer.
	fastest map[string]*fastest
	// strained is when each cluster last failed a write as overloaded or
	// answered one after half the request timeout, forgotten after
	// strainWindow.
	strained map[string]time.Time
	// allowance is a cluster's writes at once when below max; cut is when
	// it was last halved.
	allowance map[string]float64
	cut       map[string]time.Time
	// restart is the allowance a member starts a burst at after an idle
	// spell (max: no such start), ramping the clusters still doubling
	// theirs, and lastEnd when each cluster last ended a write (see
	// rampup.go).
	restart int
	ramping map[string]bool
	lastEnd map[string]time.Time
	now     func() time.Time
}

func newSlots(maxPerCluster int, late time.Duration) *slots {
	if maxPerCluster < 1 {
		maxPerCluster = 1
	}
	return &slots{inFlight: map[string]started{}, perCluster: map[string]int{}, waiting: map[string][]string{}, inLine: map[string]*plan{}, lined: map[string]int{}, woken: map[string]bool{}, seen: map[string]string{}, behind: map[string]int{},
		max: maxPerCluster, late: late, fastest: map[string]*fastest{}, strained: map[string]time.Time{}, allowance: map[string]float64{}, cut: map[string]time.Time{},
		restart: maxPerCluster, ramping: map[string]bool{}, lastEnd: map[string]time.Time{}, now: time.Now}
}

// allowed is how many writes cluster may have at once now.
func (m *slots) allowed(cluster string) int {
	if a, ok := m.allowance[cluster]; ok {
		return int(a)
	}
	return m.max
}

// adapt halves cluster's allowance after a write that started at started
// was a sign of overload (verdictCut), unless the allowance was already
// halved since that write started; it leaves it after a late answer, and
// grows it after a timely one: by one while ramping up after an idle
// spell (see rampup.go), else by one per allowance's worth of answers.
func (m *slots) adapt(cluster string, started time.Time, v verdict) {
	a, ok := m.allowance[cluster]
	if !ok {
		a = float64(m.max)
	}
	switch {
	case v == verdictCut && started.Before(m.cut[cluster]):
		return
	case v == verdictCut:
		a = math.Max(1, a/2)
		m.cut[cluster] = m.now()
		delete(m.ramping, cluster)
	case v == verdictHold:
		return
	case m.ramping[cluster]:
		a = math.Min(float64(m.max), a+1)
	default:
		a = math.Min(float64(m.max), a+1/a)
	}
	if a >= float64(m.max) {
		delete(m.allowance, cluster)
		delete(m.cut, cluster)
		delete(m.ramping, cluster)
		return
	}
	m.allowance[cluster] = a
}

// start claims a write of key to cluster; false if one is still running,
// or the cluster already has as many writes as allowed (key then waits in
// line for a slot, without a plan).
func (m *slots) start(cluster, key string) bool { return m.startOrLine(cluster, key, nil) }

// startOrLine is start, but key waits in line with p, the write to start
// when a slot frees for it; a plan it had in line before gives way to p.
func (m *slots) startOrLine(cluster, key string, p *plan) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := freshKey(cluster, key)
	if _, running := m.inFlight[k]; running {
		return false
	}
	if m.perCluster[cluster] == 0 {
		m.restartIfIdle(cluster)
	}
	if m.perCluster[cluster] >= m.allowed(cluster) {
		if _, lined := m.inLine[k]; !lined {
			m.waiting[cluster] = append(m.waiting[cluster], key)
			m.lined[key]++
		}
		m.inLine[k] = p
		return false
	}
	m.inFlight[k] = started{at: m.now(), alone: m.perCluster[cluster] == 0}
	m.perCluster[cluster]++
	m.leaveLine(cluster, key)
	delete(m.woken, k)
	return true
}

// noWrite tells that key needs no write to cluster: it leaves the line
// (with its plan), and if it had been woken for a free slot that is still
// free, the first object still waiting is returned to take the slot in
// its place. An object that was not woken for the slot passes nothing on:
// every sync says this of every member whose copy is in line, and each
// would otherwise wake another object whose sync may find the slot taken
// again.
func (m *slots) noWrite(cluster, key string) (next waiter) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := freshKey(cluster, key)
	m.leaveLine(cluster, key)
	if !m.woken[k] {
		return waiter{}
	}
	delete(m.woken, k)
	if m.perCluster[cluster] < m.allowed(cluster) {
		return m.popLine(cluster)
	}
	return waiter{}
}

// waiter is an object taken out of a member's line for a free slot, with
// its write's plan if it has one; the zero waiter is none.
type waiter struct {
	key  string
	plan *plan
}

// leaveLine takes key out of cluster's line, if it is in it, and forgets
// its plan.
func (m *slots) leaveLine(cluster, key string) {
	k := freshKey(cluster, key)
	if _, lined := m.inLine[k]; !lined {
		return
	}
	delete(m.inLine, k)
	m.unline(key)
	m.waiting[cluster] = slices.DeleteFunc(m.waiting[cluster], func(waiting string) bool { return waiting == key })
	if len(m.waiting[cluster]) == 0 {
		delete(m.waiting, cluster)
	}
}

// popLine takes the first object out of cluster's line, if any, with its
// plan.
func (m *slots) popLine(cluster string) waiter {
	line := m.waiting[cluster]
	if len(line) == 0 {
		return waiter{}
	}
	next := waiter{key: line[0]}
	if m.waiting[cluster] = line[1:]; len(m.waiting[cluster]) == 0 {
		delete(m.waiting, cluster)
	}
	k := freshKey(cluster, next.key)
	next.plan = m.inLine[k]
	delete(m.inLine, k)
	m.unline(next.key)
	m.woken[k] = true
	return next
}

// unline counts off one cluster's line that key has left.
func (m *slots) unline(key string) {
	if m.lined[key]--; m.lined[key] <= 0 {
		delete(m.lined, key)
	}
}

// pending says whether a write of key is still to end somewhere: left
// behind and running, or waiting in a cluster's line (to start by itself,
// or to wake the object for its slot). Either wakes the object when it
// ends or starts.
func (m *slots) pending(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.behind[key] > 0 || m.lined[key] > 0
}

// running says whether a write of key to cluster is in flight.
func (m *slots) running(cluster, key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, running := m.inFlight[freshKey(cluster, key)]
	return running
}

// seenWhileRunning notes that the cluster's informer delivered key at
// resourceVersion, if a write of key to cluster runs; false if none does.
func (m *slots) seenWhileRunning(cluster, key, resourceVersion string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := freshKey(cluster, key)
	if _, running := m.inFlight[k]; !running {
		return false
	}
	if prev, ok := m.seen[k]; !ok || freshwrites.Newer(resourceVersion, prev) {
		m.seen[k] = resourceVersion
	}
	return true
}

// takeSeen returns and forgets the newest resourceVersion noted by
// seenWhileRunning for a write of key to cluster that has finished; ""
// if none.
func (m *slots) takeSeen(cluster, key string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := freshKey(cluster, key)
	rv := m.seen[k]
	delete(m.seen, k)
	return rv
}

// finish releases a write's slot, adapts the cluster's allowance to
// whether the member was overloaded (failed as overloaded, or answered
// late; see slots), and returns the objects waiting longest for a slot in
// that cluster to take the slots that freed, and the writes the cluster
// was allowed at once before and after. The slots that free are the
// write's own and those the allowance grew by: without the second, a
// member ramping up after an idle spell would keep the writes at once it
// started at for as long as its line lasted, one write leaving and one
// starting.
func (m *slots) finish(cluster, key string, overloaded bool) (next []waiter, change AllowanceChange) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := freshKey(cluster, key)
	change.Before = m.allowed(cluster)
	_, wasCut := m.cut[cluster]
	s := m.inFlight[k]
	m.adapt(cluster, s.at, m.judge(cluster, s, overloaded))
	m.lastEnd[cluster] = m.now()
	change.Now = m.allowed(cluster)
	_, stillCut := m.cut[cluster]
	change.Whole = wasCut && !stillCut
	delete(m.inFlight, k)
	if m.perCluster[cluster]--; m.perCluster[cluster] <= 0 {
		delete(m.perCluster, cluster)
	}
	freed := 1 + max(0, change.Now-change.Before)
	for ; freed > 0 && m.perCluster[cluster]+len(next) < change.Now; freed-- {
		w := m.popLine(cluster)
		if w.key == "" {
			break
		}
		next = append(next, w)
	}
	return next, change
}

// leftBehind counts a write of key that a sync stopped waiting for.
func (m *slots) leftBehind(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.behind[key]++
}

// behindEnded counts off a write of key left behind that has ended, and
// says whether it was the last of key's still running.
func (m *slots) behindEnded(key string) (last bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.behind[key]--; m.behind[key] > 0 {
		return false
	}
	delete(m.behind, key)
	return true
}

// started is when a write began, and whether it was the only write of
// this kind to its cluster then.
type started struct {
	at    time.Time
	alone bool
}

// overloadedBy says whether a write of cluster's that started as s and
// ended now is a sign of overload (see lateness.go): it failed as
// overloaded, or took past half the request timeout, close to failing
// (both strain the member), or the member is strained and it took past
// lateAfter. The time a write took sets the member's pace, strained or
// not, if it ran alone and did not fail: a write queued behind others in
// the member says how busy the member is, not how fast it answers.
func (m *slots) overloadedBy(cluster string, s started, failed bool) bool {
	if m.late <= 0 {
		return failed // answers are never late; nothing reads the strain
	}
	now := m.now()
	took := now.Sub(s.at)
	f := m.fastest[cluster]
	if f == nil {
		f = &fastest{}
		m.fastest[cluster] = f
	}
	if s.alone && !failed {
		f.observe(took, now)
	}
	if failed || took > m.late {
		m.strained[cluster] = now
		return true
	}
	return m.isStrained(cluster, now) && took > lateAfter(f.get(), m.late)
}

// isStrained says whether cluster failed a write as overloaded, or
// answered one past half the request timeout, within strainWindow of now,
// and forgets an older one.
func (m *slots) isStrained(cluster string, now time.Time) bool {
	at, ok := m.strained[cluster]
	if ok && now.Sub(at) >= strainWindow {
		delete(m.strained, cluster)
		return false
	}
	return ok
}

// Write is one member write that a sync waits for, up to the patience.
type Write struct {
	cluster, key string
	// left, if set, is called when the sync leaves the write behind,
	// before its end can see that it was.
	left func()

	mu        sync.Mutex
	done      chan struct{}
	finished  bool
	abandoned bool
	res       WriteResult
}

func newWrite(cluster, key string) *Write {
	return &Write{cluster: cluster, key: key, done: make(chan struct{})}
}

// Done returns a Write that is already over with r: for a member that
// needs no write, or whose write could not even start.
func Done(r WriteResult) *Write {
	w := &Write{done: make(chan struct{}), finished: true, res: r}
	close(w.done)
	return w
}

// complete records the write's result; true if the sync had already left
// it behind, so that nobody else will look at the result.
func (w *Write) complete(r WriteResult) (abandoned bool) {
	w.mu.Lock()
	w.res, w.finished = r, true
	abandoned = w.abandoned
	w.mu.Unlock()
	close(w.done)
	return abandoned
}

// take returns the result if the write is done, or else marks it left
// behind.
func (w *Write) take() (WriteResult, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.finished {
		return w.res, true
	}
	w.abandoned = true
	if w.left != nil {
		w.left()
	}
	return WriteResult{}, false
}
