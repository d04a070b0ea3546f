package clusterclient

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// finishOne is finish for a write whose end can free one slot at most: it
// fails the test if more than one object was taken out of the line.
func (m *slots) finishOne(t *testing.T, cluster, key string, overloaded bool) waiter {
	t.Helper()
	next, _ := m.finish(cluster, key, overloaded)
	switch len(next) {
	case 0:
		return waiter{}
	case 1:
		return next[0]
	}
	t.Fatalf("finish of %s in %s took %d objects out of the line, want one at most", key, cluster, len(next))
	return waiter{}
}

func TestSlotsOnePerObjectAndClusterWithinACap(t *testing.T) {
	w := newSlots(2, 0)
	if !w.start("a", "ns/x") {
		t.Fatal("first write of ns/x to a refused")
	}
	if w.start("a", "ns/x") {
		t.Error("a second write of ns/x to a started while the first runs")
	}
	if !w.start("b", "ns/x") {
		t.Error("a write of ns/x to another cluster refused")
	}
	if !w.start("a", "ns/y") {
		t.Error("a write of another object to a refused below the cap")
	}
	if w.start("a", "ns/z") {
		t.Error("a third write to a started above the cap of 2")
	}
	if w.start("a", "ns/w") || w.start("a", "ns/z") {
		t.Error("a write to a started above the cap of 2")
	}
	// Each slot that frees up wakes the object waiting longest, once.
	if next := w.finishOne(t, "a", "ns/x", false); next.key != "ns/z" {
		t.Errorf("finish woke %q, want ns/z, first in line", next.key)
	}
	if !w.start("a", "ns/z") {
		t.Error("a write to a refused after one finished")
	}
	if next := w.finishOne(t, "a", "ns/z", false); next.key != "ns/w" {
		t.Errorf("finish woke %q, want ns/w, next in line", next.key)
	}
	if next := w.finishOne(t, "a", "ns/y", false); next.key != "" {
		t.Errorf("finish woke %q with nobody in line", next.key)
	}
	if !w.start("b", "ns/y") {
		t.Error("cluster b's count was charged for cluster a's writes")
	}
}

// busyWithTwoInLine is a member with one slot, taken by ns/x, and ns/z
// then ns/y waiting in line.
func busyWithTwoInLine() *slots {
	w := newSlots(1, 0)
	w.start("a", "ns/x")
	w.start("a", "ns/z")
	w.start("a", "ns/y")
	return w
}

func TestSlotsLineKeepsNoStaleEntries(t *testing.T) {
	// The slot freed for ns/z goes to ns/y, synced first for another
	// reason: ns/y leaves the line, ns/z goes back into it.
	w := busyWithTwoInLine()
	if next := w.finishOne(t, "a", "ns/x", false); next.key != "ns/z" {
		t.Fatalf("finish woke %q, want ns/z", next.key)
	}
	if !w.start("a", "ns/y") {
		t.Fatal("ns/y refused a free slot")
	}
	if w.start("a", "ns/z") {
		t.Fatal("ns/z started above the cap")
	}
	if next := w.finishOne(t, "a", "ns/y", false); next.key != "ns/z" {
		t.Errorf("finish woke %q, want ns/z: ns/y has had its write", next.key)
	}

	// An object woken for a slot that turns out to need no write passes
	// the slot on to the next in line.
	w = busyWithTwoInLine()
	if next := w.finishOne(t, "a", "ns/x", false); next.key != "ns/z" {
		t.Fatalf("finish woke %q, want ns/z", next.key)
	}
	if next := w.noWrite("a", "ns/z"); next.key != "ns/y" {
		t.Errorf("noWrite with a free slot woke %q, want ns/y", next.key)
	}

	// An object that needs no write in a, and was not woken for its
	// slot, passes on nothing, even with a slot free: ns/z, woken for it,
	// still comes to take it.
	w = busyWithTwoInLine()
	if next := w.finishOne(t, "a", "ns/x", false); next.key != "ns/z" {
		t.Fatalf("finish woke %q, want ns/z", next.key)
	}
	if next := w.noWrite("a", "ns/other"); next.key != "" {
		t.Errorf("noWrite of an object not woken for the slot woke %q", next.key)
	}
	if next := w.noWrite("a", "ns/other"); next.key != "" {
		t.Errorf("a second noWrite of an object not woken for the slot woke %q", next.key)
	}
	if !w.start("a", "ns/z") {
		t.Error("ns/z, woken for the free slot, found it taken")
	}

	// With every slot taken, noWrite only takes the object out of line.
	w = busyWithTwoInLine()
	if next := w.noWrite("a", "ns/z"); next.key != "" {
		t.Errorf("noWrite with no free slot woke %q", next.key)
	}
	if next := w.finishOne(t, "a", "ns/x", false); next.key != "ns/y" {
		t.Errorf("finish woke %q, want ns/y: ns/z had left the line", next.key)
	}
}

func TestMemberWriteTakenOrLeftBehind(t *testing.T) {
	done := newWrite("a", "ns/x")
	if done.complete(WriteResult{Op: OpCreated}) {
		t.Error("a write nobody left behind reported abandoned")
	}
	if r, ok := done.take(); !ok || r.Op != OpCreated {
		t.Errorf("take after complete = %v, %v; want the result", r, ok)
	}

	late := newWrite("a", "ns/x")
	if _, ok := late.take(); ok {
		t.Fatal("take before complete returned a result")
	}
	if !late.complete(WriteResult{Err: errors.New("late")}) {
		t.Error("a write left behind did not report it when it ended: nobody would sync the object again")
	}
	select {
	case <-late.done:
	default:
		t.Error("done not closed after complete")
	}
}

// startN starts writes of ns/0, ns/1, ... to cluster a until one is
// refused, and returns how many started.
func startN(w *slots, from int) int {
	n := 0
	for w.start("a", "ns/"+strconv.Itoa(from+n)) {
		n++
	}
	return n
}

func TestSlotsHalveAnOverloadedMembersWritesOncePerRound(t *testing.T) {
	w := newSlots(8, 0)
	clock := time.Now()
	w.now = func() time.Time { return clock }
	if n := startN(w, 0); n != 8 {
		t.Fatalf("%d writes started, want 8", n)
	}
	clock = clock.Add(time.Second)
	// All eight time out: the allowance is halved once, not eight times,
	// since they all ran when it was cut.
	for i := 0; i < 8; i++ {
		if next := w.finishOne(t, "a", "ns/"+strconv.Itoa(i), true); i < 4 && next.key != "" {
			t.Errorf("with %d writes still running over an allowance of 4, finish woke %q", 7-i, next.key)
		}
	}
	if got := w.allowedNow("a"); got != 4 {
		t.Fatalf("allowance after a round of timeouts %d, want 4", got)
	}
	if n := startN(w, 100); n != 4 {
		t.Fatalf("%d writes started after the cut, want 4", n)
	}
	// A write started after the cut that times out halves it again.
	clock = clock.Add(time.Second)
	w.finish("a", "ns/100", true)
	if got := w.allowedNow("a"); got != 2 {
		t.Errorf("allowance after a second round of timeouts %d, want 2", got)
	}
	if got := w.allowedNow("b"); got != 8 {
		t.Errorf("cluster b's allowance %d: another member's timeouts cut it", got)
	}
}

func TestSlotsHalveTheWritesOfAStrainedMemberThatAnswersLate(t *testing.T) {
	w := newSlots(4, 5*time.Second)
	clock := time.Now()
	w.now = func() time.Time { return clock }

	// A member that answers in 50 ms and never timed out is not late if
	// it answers within half the request timeout: it is busy, and stores
	// what it is sent.
	answer(w, &clock, "a", "ns/x", 50*time.Millisecond)
	answer(w, &clock, "a", "ns/x", 1500*time.Millisecond)
	answer(w, &clock, "a", "ns/x", 4900*time.Millisecond)
	wantAllowed(t, w, "a", 4, "after late answers from a member that never timed out")

	// Once it has timed out, late answers cut too.
	strain(w, &clock, "a")
	wantAllowed(t, w, "a", 2, "after a timeout")
	answer(w, &clock, "a", "ns/x", time.Second)
	wantAllowed(t, w, "a", 2, "after an answer in exactly the late limit")
	answer(w, &clock, "a", "ns/x", 1500*time.Millisecond)
	wantAllowed(t, w, "a", 1, "after a late answer from a member that timed out")

	// Until strainWindow has passed since the timeout.
	clock = clock.Add(strainWindow)
	answer(w, &clock, "a", "ns/x", 1500*time.Millisecond)
	wantAllowed(t, w, "a", 2, "after a late answer a strainWindow after the timeout")

	// An answer past half the request timeout, close to failing, cuts as
	// a timeout does, and strains the member as well.
	answer(w, &clock, "b", "ns/x", 50*time.Millisecond)
	answer(w, &clock, "b", "ns/x", 5100*time.Millisecond)
	wantAllowed(t, w, "b", 2, "after an answer past half the request timeout")
	answer(w, &clock, "b", "ns/x", 1500*time.Millisecond)
	wantAllowed(t, w, "b", 1, "after a late answer from a member that answered close to the timeout")
}

// strain times out a write to cluster, so that its late answers count.
func strain(w *slots, clock *time.Time, cluster string) {
	w.start(cluster, "ns/timed-out")
	*clock = clock.Add(10 * time.Second)
	w.finish(cluster, "ns/timed-out", true)
}

// answer starts a write of key to cluster at the clock's time and finishes
// it took later, answered, and returns how that changed the allowance.
func answer(w *slots, clock *time.Time, cluster, key string, took time.Duration) AllowanceChange {
	w.start(cluster, key)
	*clock = clock.Add(took)
	_, change := w.finish(cluster, key, false)
	return change
}

// wantAllowed fails the test unless cluster is allowed want writes at once
// after what happened.
func wantAllowed(t *testing.T, w *slots, cluster string, want int, after string) {
	t.Helper()
	if got := w.allowedNow(cluster); got != want {
		t.Fatalf("allowance %d %s, want %d", got, after, want)
	}
}

func TestSlotsJudgeLatenessByTheMembersOwnPace(t *testing.T) {
	w := newSlots(4, 5*time.Second)
	clock := time.Now()
	w.now = func() time.Time { return clock }
	// Each member timed out once (late answers count from then on), and
	// then answered at its own pace until it got all its writes back:
	// the fast one in 50 ms, the slow one (a slow admission webhook) in
	// 1.5 s.
	for c, pace := range map[string]time.Duration{"fast": 50 * time.Millisecond, "slow": 1500 * time.Millisecond} {
		strain(w, &clock, c)
		for i := 0; i < 10; i++ {
			answer(w, &clock, c, "ns/x", pace)
		}
		wantAllowed(t, w, c, 4, "after answers at the member's own pace")
	}

	// The fast member: 900 ms is within Kubernetes' 1 s objective, 1.2 s
	// is late.
	answer(w, &clock, "fast", "ns/x", 900*time.Millisecond)
	wantAllowed(t, w, "fast", 4, "after an answer within 1 s")
	answer(w, &clock, "fast", "ns/x", 1200*time.Millisecond)
	wantAllowed(t, w, "fast", 2, "after an answer past 1 s from a member that answers in 50 ms")

	// The slow member keeps its writes at once; only an answer past four
	// times its pace, or past half the request timeout, whichever is
	// sooner, is late.
	answer(w, &clock, "slow", "ns/x", 4900*time.Millisecond)
	wantAllowed(t, w, "slow", 4, "for a member that always takes 1.5 s")
	answer(w, &clock, "slow", "ns/x", 5100*time.Millisecond)
	wantAllowed(t, w, "slow", 2, "after an answer past half the request timeout")

	// A write that failed as overloaded does not count as the member's
	// pace: the fast member's next 1.2 s answer is still late.
	w.start("fast", "ns/y")
	clock = clock.Add(100 * time.Millisecond)
	w.finish("fast", "ns/y", true)
	before := w.allowedNow("fast")
	answer(w, &clock, "fast", "ns/x", 1200*time.Millisecond)
	if got := w.allowedNow("fast"); got != max(1, before/2) {
		t.Fatalf("allowance %d after a late answer, want %d", got, max(1, before/2))
	}

	// Writes that ran beside others do not set the pace: a member whose
	// first answers come after 3 s, queued behind each other, is late.
	strain(w, &clock, "busy")
	w.start("busy", "ns/x")
	w.start("busy", "ns/y")
	clock = clock.Add(3 * time.Second)
	w.finish("busy", "ns/y", false)
	wantAllowed(t, w, "busy", 1, "after a 3 s answer to a write queued beside another")

	// The fast member's old pace is forgotten after two quiet windows:
	// once it has become a 1.5 s member, 1.5 s is its pace.
	clock = clock.Add(2 * fastestWindow)
	before = w.allowedNow("fast")
	answer(w, &clock, "fast", "ns/x", 1500*time.Millisecond)
	if got := w.allowedNow("fast"); got < before {
		t.Errorf("allowance went from %d to %d on the first answer after the old pace was forgotten", before, got)
	}
}

func TestLateAfter(t *testing.T) {
	for _, tc := range []struct {
		base, most, want time.Duration
	}{
		{0, 5 * time.Second, time.Second},
		{20 * time.Millisecond, 5 * time.Second, time.Second},
		{500 * time.Millisecond, 5 * time.Second, 2 * time.Second},
		{3 * time.Second, 5 * time.Second, 5 * time.Second},
		{20 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond},
		{time.Second, 0, 0},
	} {
		if got := lateAfter(tc.base, tc.most); got != tc.want {
			t.Errorf("lateAfter(%v, %v) = %v, want %v", tc.base, tc.most, got, tc.want)
		}
	}
}

func TestSlotsGrowBackAsTheMemberAnswers(t *testing.T) {
	w := newSlots(4, 0)
	w.start("a", "ns/x")
	w.finish("a", "ns/x", true)
	if got := w.allowedNow("a"); got != 2 {
		t.Fatalf("allowance after a timeout %d, want 2", got)
	}
	// 1/allowance per answered write: about one more slot per allowance's
	// worth of answers, and never above the maximum.
	answers, whole := 0, 0
	for w.allowedNow("a") < 4 && answers < 100 {
		w.start("a", "ns/y")
		if _, c := w.finish("a", "ns/y", false); c.Whole {
			whole++
		}
		answers++
	}
	if answers < 3 || answers > 8 {
		t.Errorf("back to 4 writes at once after %d answered writes, want between 3 and 8", answers)
	}
	for i := 0; i < 10; i++ {
		w.start("a", "ns/y")
		if _, c := w.finish("a", "ns/y", false); c.Whole {
			whole++
		}
	}
	if whole != 1 {
		t.Errorf("the member was called whole %d times on its way back from a cut, want once", whole)
	}
	if got := w.allowedNow("a"); got != 4 {
		t.Errorf("allowance %d after many answers, want the maximum 4", got)
	}
	// Never below one write at once.
	for i := 0; i < 5; i++ {
		w.now = func() time.Time { return time.Now().Add(time.Duration(i+1) * time.Hour) }
		w.start("a", "ns/z")
		w.finish("a", "ns/z", true)
	}
	if got := w.allowedNow("a"); got != 1 {
		t.Errorf("allowance %d after timeouts in a row, want 1", got)
	}
	if !w.start("a", "ns/z") {
		t.Error("an overloaded member got no write at all")
	}
}

func TestOverloadedTellsTimeoutsFromRefusals(t *testing.T) {
	gr := schema.GroupResource{Resource: "services"}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("create in cluster a: %w", &url.Error{Op: "Post", URL: "https://a", Err: context.DeadlineExceeded}), true},
		{apierrors.NewTimeoutError("request did not complete", 0), true},
		{apierrors.NewServerTimeout(gr, "create", 1), true},
		{apierrors.NewTooManyRequests("priority and fairness", 1), true},
		{apierrors.NewForbidden(gr, "x", errors.New("quota exceeded")), false},
		{apierrors.NewAlreadyExists(gr, "x"), false},
		{context.Canceled, false},
		{nil, false},
	} {
		if got := Overloaded(tc.err); got != tc.want {
			t.Errorf("Overloaded(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// allowedNow is how many writes cluster may have at once.
func (m *slots) allowedNow(cluster string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.allowed(cluster)
}

func TestSlotsTellAnObjectsWritesStillToEndOrStart(t *testing.T) {
	w := newSlots(1, 0)
	w.start("a", "ns/x")
	if w.pending("ns/x") {
		t.Error("a write a sync still waits for counted as pending")
	}
	// ns/y waits in two members' lines.
	w.start("b", "ns/z")
	w.start("a", "ns/y")
	w.start("b", "ns/y")
	if !w.pending("ns/y") {
		t.Fatal("an object in two members' lines not pending")
	}
	w.noWrite("a", "ns/y")
	if !w.pending("ns/y") {
		t.Error("an object still in b's line not pending once it left a's")
	}
	// b's slot frees: ns/y leaves the line, woken for the slot (a sync
	// follows), and its write then starts.
	if next := w.finishOne(t, "b", "ns/z", false); next.key != "ns/y" {
		t.Fatalf("finish woke %q, want ns/y", next.key)
	}
	if w.pending("ns/y") {
		t.Error("an object out of every line, woken for its slot, still pending")
	}
	if !w.start("b", "ns/y") {
		t.Fatal("ns/y refused b's free slot")
	}
	w.leftBehind("ns/y")
	if !w.pending("ns/y") {
		t.Error("a write left behind and running not pending")
	}
	w.finish("b", "ns/y", false)
	if !w.behindEnded("ns/y") {
		t.Error("the only write left behind not counted the last")
	}
	if w.pending("ns/y") {
		t.Error("an object whose every write ended still pending")
	}
	if len(w.lined) != 0 {
		t.Errorf("line counts left over: %v", w.lined)
	}
}

// restartedSlots are slots of at most 20 writes at once per member, with
// a 10 s request timeout and a ramp up from 4 after an idle spell, on a
// clock the test moves.
func restartedSlots() (*slots, *time.Time) {
	w := newSlots(20, 5*time.Second).restartingAt(4)
	clock := time.Now()
	w.now = func() time.Time { return clock }
	return w, &clock
}

func TestSlotsStartABurstAfterAnIdleSpellSmallAndDoubleWhileAnswersComeInTime(t *testing.T) {
	w, clock := restartedSlots()

	// A member never written to starts at 4 writes at once.
	if n := startN(w, 0); n != 4 {
		t.Fatalf("%d writes started on a member never written to, want 4", n)
	}
	// Four answers in 20 ms: one more each, 8.
	answerRound(w, clock, 0, 4)
	wantAllowed(t, w, "a", 8, "after a round of timely answers")
	if n := startN(w, 100); n != 8 {
		t.Fatalf("%d writes started after a round of timely answers, want 8", n)
	}
	answerRound(w, clock, 100, 8)
	wantAllowed(t, w, "a", 16, "after a second round of timely answers")
	// An answer after a quarter of the request timeout grows nothing; a
	// timely one after it still adds one.
	answer(w, clock, "a", "ns/x", 3*time.Second)
	wantAllowed(t, w, "a", 16, "after an answer past a quarter of the request timeout")
	answer(w, clock, "a", "ns/x", 50*time.Millisecond)
	wantAllowed(t, w, "a", 17, "after a timely answer that followed a late one")
	// A cut ends the doubling: timely answers then add about one per
	// allowance's worth.
	strain(w, clock, "a")
	wantAllowed(t, w, "a", 8, "after a timeout")
	for i := 0; i < 3; i++ {
		answer(w, clock, "a", "ns/x", 50*time.Millisecond)
	}
	wantAllowed(t, w, "a", 8, "after three timely answers once a cut ended the doubling")
	answer(w, clock, "a", "ns/x", 50*time.Millisecond)
	answer(w, clock, "a", "ns/x", 50*time.Millisecond)
	wantAllowed(t, w, "a", 9, "after five timely answers once a cut ended the doubling")

	// Within idleAfter of its last answer the member keeps its allowance;
	// after a longer spell with nothing running it starts small again.
	*clock = clock.Add(idleAfter / 2)
	answer(w, clock, "a", "ns/x", 50*time.Millisecond)
	wantAllowed(t, w, "a", 9, "after a short pause")
	*clock = clock.Add(idleAfter)
	if n := startN(w, 200); n != 4 {
		t.Fatalf("%d writes started after an idle spell, want 4", n)
	}
	// A member that answers in good time is back at the most within a
	// few rounds.
	for round := 0; w.allowedNow("a") < 20; round++ {
		if round == 4 {
			t.Fatalf("allowance %d after four rounds of timely answers, want 20", w.allowedNow("a"))
		}
		answerRound(w, clock, 200, 20)
		startN(w, 200)
	}
}

func TestSlotsCallAMemberWholeOnlyAfterACut(t *testing.T) {
	w, clock := restartedSlots()
	// A burst's ramp up to the most is not a recovery. (A member never
	// written to starts small at its first write.)
	for i := 0; i == 0 || i < 100 && w.allowedNow("a") < 20; i++ {
		if c := answer(w, clock, "a", "ns/x", 20*time.Millisecond); c.Whole || c.Now < c.Before || i == 0 && c.Before != 4 {
			t.Fatalf("write %d of a ramp up reported %+v", i, c)
		}
	}
	wantAllowed(t, w, "a", 20, "after a ramp up of timely answers")
	// A cut is, and so is the return to the most after it.
	if c := answer(w, clock, "a", "ns/x", 5100*time.Millisecond); c.Now != 10 || c.Before != 20 || c.Whole {
		t.Fatalf("an answer past half the request timeout reported %+v, want a cut from 20 to 10", c)
	}
	whole := 0
	for i := 0; i < 500 && w.allowedNow("a") < 20; i++ {
		if c := answer(w, clock, "a", "ns/x", 20*time.Millisecond); c.Whole {
			whole++
			if c.Now != 20 {
				t.Errorf("called whole at %d writes at once, want 20", c.Now)
			}
		}
	}
	if whole != 1 {
		t.Errorf("called whole %d times on the way back from a cut, want once", whole)
	}
}

// A member ramping up with a line of writes waiting has as many running as
// its allowance: each timely answer starts two from the line, its own
// slot's and the one the allowance grew by.
func TestSlotsRampUpStartsTheLineAsTheAllowanceGrows(t *testing.T) {
	w, clock := restartedSlots()
	if n := startN(w, 0); n != 4 {
		t.Fatalf("%d writes started after an idle spell, want 4", n)
	}
	for i := 4; i < 100; i++ {
		w.startOrLine("a", "ns/"+strconv.Itoa(i), &plan{})
	}
	running := []string{"ns/0", "ns/1", "ns/2", "ns/3"}
	for round, want := range []int{8, 16, 20, 20} {
		*clock = clock.Add(20 * time.Millisecond)
		var next []string
		for _, key := range running {
			taken, _ := w.finish("a", key, false)
			for _, n := range taken {
				if !w.startOrLine("a", n.key, n.plan) {
					t.Fatalf("round %d: %s, taken out of the line, found no free slot", round, n.key)
				}
				next = append(next, n.key)
			}
		}
		if len(next) != want || w.perCluster["a"] != want {
			t.Fatalf("round %d: %d writes started from the line, %d running, want %d", round, len(next), w.perCluster["a"], want)
		}
		running = next
	}
}

// answerRound answers, 20 ms on, the writes of ns/from ... ns/from+n-1
// still running in cluster a.
func answerRound(w *slots, clock *time.Time, from, n int) {
	*clock = clock.Add(20 * time.Millisecond)
	for i := from; i < from+n; i++ {
		if key := "ns/" + strconv.Itoa(i); w.running("a", key) {
			w.finish("a", key, false)
		}
	}
}
