package clusterclient_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/clusterclient/fake"
)

// allowances records what a Writer reports of each member's allowance.
type allowances struct {
	mu   sync.Mutex
	last map[string]int
	seen chan struct{}
}

func (a *allowances) report(cluster string, change clusterclient.AllowanceChange) {
	a.mu.Lock()
	a.last[cluster] = change.Now
	a.mu.Unlock()
	a.seen <- struct{}{}
}

func (a *allowances) of(cluster string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last[cluster]
}

func configMap(name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]interface{}{"apiVersion": "v1", "kind": "ConfigMap", "data": map[string]interface{}{"k": name}}}
	u.SetNamespace("ns")
	u.SetName(name)
	return u
}

// allowanceWriter is a Writer of ConfigMaps to members, with at most 4
// writes at once per member and the given request timeout, and what it
// reports of each member's allowance.
func allowanceWriter(members *fake.Members, timeout time.Duration) (*clusterclient.Writer, *allowances) {
	got := &allowances{last: map[string]int{}, seen: make(chan struct{}, 100)}
	w := clusterclient.NewWriter(members, schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, clusterclient.WriterOptions{
		RequestTimeout: timeout,
		Patience:       time.Millisecond,
		MaxInFlight:    4,
		Allowance:      got.report,
	})
	return w, got
}

func TestWriterGivesAMemberThatTimesOutFewerWritesAtOnce(t *testing.T) {
	members := fake.New("a", "b")
	// Answers of the fake members take well under half the timeout, even
	// under the race detector on a busy machine.
	w, got := allowanceWriter(members, time.Second)
	ctx := context.Background()
	create := func(cluster, name string) bool {
		w.Go(ctx, cluster, "ns/"+name, func(ctx context.Context) clusterclient.WriteResult {
			_, err := w.Create(ctx, cluster, configMap(name))
			return clusterclient.WriteResult{Err: err}
		})
		return w.InFlight(cluster, "ns/"+name)
	}
	waitReports := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			select {
			case <-got.seen:
			case <-time.After(10 * time.Second):
				t.Fatalf("%d of %d writes reported their end", i, n)
			}
		}
	}

	// Member a holds every request past the request timeout.
	release := members.Block("a")
	defer release()
	for i := 0; i < 4; i++ {
		if !create("a", fmt.Sprintf("first-%d", i)) {
			t.Fatalf("write %d to a did not start below the maximum of 4", i)
		}
	}
	if !create("b", "other") {
		t.Fatal("a write to b did not start")
	}
	waitReports(5)
	if a, b := got.of("a"), got.of("b"); a != 2 || b != 4 {
		t.Fatalf("after a round of timeouts in a: allowances a=%d b=%d, want 2 and 4", a, b)
	}
	started := 0
	for i := 0; i < 4; i++ {
		if create("a", fmt.Sprintf("second-%d", i)) {
			started++
		}
	}
	if started != 2 {
		t.Fatalf("%d writes to a started at once after its cut, want 2", started)
	}

	// Answered again, it gets back to the maximum.
	release()
	waitReports(2)
	for i := 0; got.of("a") < 4 && i < 20; i++ {
		if !create("a", fmt.Sprintf("third-%d", i)) {
			t.Fatalf("write third-%d to a did not start with nothing else running", i)
		}
		waitReports(1)
	}
	if got.of("a") != 4 {
		t.Errorf("allowance of a %d after 20 answered writes, want back to 4", got.of("a"))
	}
}

func TestWriterGivesAMemberThatAnswersLateAfterATimeoutFewerWritesAtOnce(t *testing.T) {
	members := fake.New("a")
	w, got := allowanceWriter(members, 3*time.Second)

	// Member a answers a write at once (its pace), then four writes after
	// 1.2 s: late, but within half the request timeout and from a member
	// that never timed out, so busy, not overloaded.
	if errs := heldWrites(t, w, members, got, "pace", 1, 0); errs != 0 {
		t.Fatalf("%d writes answered at once failed", errs)
	}
	if errs := heldWrites(t, w, members, got, "busy", 4, 1200*time.Millisecond); errs != 0 {
		t.Fatalf("%d writes held 1.2 s of a 3 s timeout failed, want them answered", errs)
	}
	if a := got.of("a"); a != 4 {
		t.Fatalf("after writes answered late by a member that never timed out: allowance %d, want 4", a)
	}

	// Then one write times out...
	if errs := heldWrites(t, w, members, got, "timed-out", 1, 3300*time.Millisecond); errs != 1 {
		t.Fatalf("%d writes held 3.3 s of a 3 s timeout failed, want 1", errs)
	}
	if a := got.of("a"); a != 2 {
		t.Fatalf("after a timeout: allowance %d, want 2", a)
	}

	// ...and from then on a late answer is a sign of overload too.
	if errs := heldWrites(t, w, members, got, "late", 2, 1200*time.Millisecond); errs != 0 {
		t.Fatalf("%d writes held 1.2 s of a 3 s timeout failed, want them answered", errs)
	}
	if a := got.of("a"); a != 1 {
		t.Fatalf("after late answers from a member that timed out: allowance %d, want 1", a)
	}
}

// heldWrites starts n creates in member a, lets a answer them after
// held, waits for the writer to report each one's end, and returns how
// many failed.
func heldWrites(t *testing.T, w *clusterclient.Writer, members *fake.Members, got *allowances, prefix string, n int, held time.Duration) (failed int) {
	t.Helper()
	writes := make([]*clusterclient.Write, n)
	release := members.Block("a")
	for i := range writes {
		name := fmt.Sprintf("%s-%d", prefix, i)
		writes[i] = w.Go(context.Background(), "a", "ns/"+name, func(ctx context.Context) clusterclient.WriteResult {
			_, err := w.Create(ctx, "a", configMap(name))
			return clusterclient.WriteResult{Err: err}
		})
	}
	time.Sleep(held)
	release()
	for i := range writes {
		select {
		case <-got.seen:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d writes reported their end", i, n)
		}
	}
	for _, r := range w.Wait(writes) {
		if r.Err != nil {
			failed++
		}
	}
	return failed
}

// heldEvents are fake members whose informer events the test delivers
// itself, when it wants them: a real informer's may come before or after
// the write's answer.
type heldEvents struct {
	*fake.Members
	handler func(cluster string) cache.ResourceEventHandler
	// created, if set, sees each created copy before the create answers,
	// as an informer whose watch event overtakes the answer.
	created func(cluster string, obj *unstructured.Unstructured)
}

func (m *heldEvents) Create(ctx context.Context, cluster string, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	got, err := m.Members.Create(ctx, cluster, gvr, obj)
	if err == nil && m.created != nil {
		m.created(cluster, got)
	}
	return got, err
}

func (m *heldEvents) Watch(_ schema.GroupVersionResource, handler func(cluster string) cache.ResourceEventHandler) {
	m.handler = handler
}

func TestWriterPassesOnOnlyNewsOfTheMembersCopies(t *testing.T) {
	members := &heldEvents{Members: fake.New("a")}
	var forwarded []string
	wakes := make(chan string, 10)
	w := clusterclient.NewWriter(members, schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, clusterclient.WriterOptions{
		RequestTimeout: 10 * time.Second,
		Patience:       10 * time.Second,
		MaxInFlight:    4,
		Wake:           func(key string, _ clusterclient.WakeReason) { wakes <- key },
		Events: func(string) cache.ResourceEventHandler {
			return cache.ResourceEventHandlerFuncs{
				AddFunc: func(obj interface{}) {
					forwarded = append(forwarded, "add "+obj.(*unstructured.Unstructured).GetResourceVersion())
				},
				UpdateFunc: func(_, obj interface{}) {
					forwarded = append(forwarded, "update "+obj.(*unstructured.Unstructured).GetResourceVersion())
				},
			}
		},
	})
	w.Watch()
	events := members.handler("a")
	ctx := context.Background()
	write := func(key string, do func(ctx context.Context) (*unstructured.Unstructured, error)) *unstructured.Unstructured {
		t.Helper()
		r := w.Wait([]*clusterclient.Write{w.Go(ctx, "a", key, func(ctx context.Context) clusterclient.WriteResult {
			obj, err := do(ctx)
			return clusterclient.WriteResult{Member: obj, Err: err}
		})})[0]
		if r.Err != nil {
			t.Fatalf("write of %s: %v", key, r.Err)
		}
		return r.Member
	}
	noWake := func(step string) {
		t.Helper()
		select {
		case key := <-wakes:
			t.Fatalf("%s: the writer woke %s", step, key)
		default:
		}
	}

	// The informer delivers the write after its answer: an echo.
	created := write("ns/x", func(ctx context.Context) (*unstructured.Unstructured, error) {
		return w.Create(ctx, "a", configMap("x"))
	})
	events.OnAdd(created, false)
	if len(forwarded) != 0 {
		t.Fatalf("the echo of the writer's own create went on to the controller: %v", forwarded)
	}
	noWake("own create")

	// Someone else changes the copy: news.
	changed := configMap("x")
	changed.SetUID(created.GetUID())
	changed.SetLabels(map[string]string{"by": "someone-else"})
	theirs := members.Put("a", changed)
	events.OnUpdate(created, theirs)
	if want := []string{"update " + theirs.GetResourceVersion()}; !slices.Equal(forwarded, want) {
		t.Fatalf("forwarded %v, want %v", forwarded, want)
	}

	// The informer delivers the write before its answer: held back, and
	// the write's own copy was the newest, so nothing to sync again.
	forwarded = nil
	write("ns/x", func(ctx context.Context) (*unstructured.Unstructured, error) {
		updated, err := w.Update(ctx, "a", theirs)
		if err == nil {
			events.OnUpdate(theirs, updated)
		}
		return updated, err
	})
	if len(forwarded) != 0 {
		t.Fatalf("the echo of the writer's own update went on to the controller: %v", forwarded)
	}
	noWake("own update, delivered while the write ran")

	// Someone else writes while the writer's write runs: the event is held
	// back, and the write's end syncs the object again.
	write("ns/y", func(ctx context.Context) (*unstructured.Unstructured, error) {
		mine, err := w.Create(ctx, "a", configMap("y"))
		if err != nil {
			return nil, err
		}
		events.OnAdd(mine, false)
		later := members.Put("a", mine)
		events.OnUpdate(mine, later)
		return mine, nil
	})
	if len(forwarded) != 0 {
		t.Fatalf("events delivered while the write ran went on to the controller: %v", forwarded)
	}
	select {
	case key := <-wakes:
		if key != "ns/y" {
			t.Fatalf("woke %s, want ns/y", key)
		}
	default:
		t.Fatal("a newer copy came while the write ran, and the writer did not sync the object again")
	}
}

// TestWriterForgetsAWriteTheInformerDeliveredBeforeItsAnswer: a written
// copy is held to stand in for the member's cache only until the informer
// delivers it, whether that comes after the write's answer or, as often
// under load, before it.
func TestWriterForgetsAWriteTheInformerDeliveredBeforeItsAnswer(t *testing.T) {
	members := &heldEvents{Members: fake.New("a")}
	w := clusterclient.NewWriter(members, schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, clusterclient.WriterOptions{
		RequestTimeout: 10 * time.Second,
		Patience:       10 * time.Second,
		MaxInFlight:    4,
		Wake:           func(string, clusterclient.WakeReason) {},
	})
	w.Watch()
	events := members.handler("a")
	ctx := context.Background()
	create := func(name string) *unstructured.Unstructured {
		t.Helper()
		r := w.Wait([]*clusterclient.Write{w.Go(ctx, "a", "ns/"+name, func(ctx context.Context) clusterclient.WriteResult {
			obj, err := w.Create(ctx, "a", configMap(name))
			return clusterclient.WriteResult{Member: obj, Err: err}
		})})[0]
		if r.Err != nil {
			t.Fatalf("create %s: %v", name, r.Err)
		}
		return r.Member
	}

	// Delivered after the answer: held until then.
	x := create("x")
	if n := w.FreshWrites(); n != 1 {
		t.Fatalf("%d writes held after a create the informer has not delivered, want 1", n)
	}
	events.OnAdd(x, false)
	if n := w.FreshWrites(); n != 0 {
		t.Fatalf("%d writes held after the informer delivered the create, want 0", n)
	}

	// Delivered while the write ran, before its answer: not held.
	members.created = func(_ string, obj *unstructured.Unstructured) { events.OnAdd(obj, false) }
	create("y")
	if n := w.FreshWrites(); n != 0 {
		t.Errorf("%d writes held after a create the informer delivered before its answer, want 0", n)
	}
}

// TestWriterWakesOnceForAnObjectsWritesLeftBehind: an object whose writes
// to two slow members were both left behind is synced again once, when the
// second ends, not once per member; a failed write left behind wakes it
// at once, for the retry.
func TestWriterWakesOnceForAnObjectsWritesLeftBehind(t *testing.T) {
	members := fake.New("a", "b")
	w, wakes, ends := impatientWriter(members, 4)
	ended := make(chan string, 10)
	go func() {
		for e := range ends {
			ended <- e.cluster
		}
	}()
	ctx := context.Background()
	create := func(cluster, name string) *clusterclient.Write {
		return w.Go(ctx, cluster, "ns/"+name, func(ctx context.Context) clusterclient.WriteResult {
			obj, err := w.Create(ctx, cluster, configMap(name))
			return clusterclient.WriteResult{Member: obj, Err: err}
		})
	}
	endOf := func(cluster string) {
		t.Helper()
		select {
		case got := <-ended:
			if got != cluster {
				t.Fatalf("the left-behind write to %s ended, want %s", got, cluster)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the left-behind write to %s did not end", cluster)
		}
	}
	wokenFor := func(key string, why clusterclient.WakeReason) {
		t.Helper()
		select {
		case got := <-wakes:
			if got.key != key || got.why != why {
				t.Fatalf("woke %s (%s), want %s (%s)", got.key, got.why, key, why)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s was not woken (%s)", key, why)
		}
	}

	releaseA, releaseB := members.Block("a"), members.Block("b")
	for _, r := range w.Wait([]*clusterclient.Write{create("a", "x"), create("b", "x")}) {
		if !errors.Is(r.Err, clusterclient.ErrSlowMember) {
			t.Fatalf("a write to a blocked member: %v, want it left behind", r.Err)
		}
	}
	releaseA()
	endOf("a")
	releaseB()
	endOf("b")
	wokenFor("ns/x", clusterclient.WakeWriteEnded)
	select {
	case got := <-wakes:
		t.Fatalf("a second wake after the object's writes left behind ended: %s (%s)", got.key, got.why)
	default:
	}

	// A failed write left behind wakes the object though another runs.
	releaseA, releaseB = members.Block("a"), members.Block("b")
	members.Refuse("a", "create", apierrors.NewInternalError(errors.New("boom")))
	w.Wait([]*clusterclient.Write{create("a", "y"), create("b", "y")})
	releaseA()
	endOf("a")
	wokenFor("ns/y", clusterclient.WakeWriteEnded)
	releaseB()
	endOf("b")
	wokenFor("ns/y", clusterclient.WakeWriteEnded)
}

// TestWriterStartsAPlannedWriteWhenASlotFrees: a write that waits in line
// with a plan that still holds starts by itself when a slot frees, and
// its end is told and wakes the object as a write left behind; one whose
// plan no longer holds does not run, and its object is woken instead; so
// is one whose place in line a write without a plan took over.
func TestWriterStartsAPlannedWriteWhenASlotFrees(t *testing.T) {
	members := fake.New("a")
	w, wakes, ends := impatientWriter(members, 1)
	ended := make(chan string, 10)
	go func() {
		for e := range ends {
			ended <- e.key
		}
	}()
	ctx := context.Background()
	ran := make(chan string, 10)
	create := func(name string) func(context.Context) clusterclient.WriteResult {
		return func(ctx context.Context) clusterclient.WriteResult {
			ran <- name
			obj, err := w.Create(ctx, "a", configMap(name))
			return clusterclient.WriteResult{Member: obj, Err: err}
		}
	}
	next := func(what string) wake {
		t.Helper()
		select {
		case got := <-wakes:
			return got
		case <-time.After(10 * time.Second):
			t.Fatalf("no wake: %s", what)
			return wake{}
		}
	}

	for _, c := range []struct {
		name  string
		holds bool
		// unplanned: a write without a plan takes its place in line.
		unplanned bool
	}{{"y", true, false}, {"z", false, false}, {"v", true, true}} {
		release := members.Block("a")
		first := w.GoWhenFree(ctx, "a", "ns/x-"+c.name, create("x-"+c.name), func() bool { return true })
		<-ran
		queued := w.GoWhenFree(ctx, "a", "ns/"+c.name, create(c.name), func() bool { return c.holds })
		if r := w.Wait([]*clusterclient.Write{queued})[0]; !errors.Is(r.Err, clusterclient.ErrSlowMember) {
			t.Fatalf("%s: a write behind a full allowance: %v, want it slow", c.name, r.Err)
		}
		if c.unplanned {
			again := w.Go(ctx, "a", "ns/"+c.name, create(c.name))
			if r := w.Wait([]*clusterclient.Write{again})[0]; !errors.Is(r.Err, clusterclient.ErrSlowMember) {
				t.Fatalf("%s: a second write behind a full allowance: %v, want it slow", c.name, r.Err)
			}
		}
		planned := c.holds && !c.unplanned
		w.Wait([]*clusterclient.Write{first}) // left behind
		release()
		// x's end frees the slot: y's plan holds and its write starts by
		// itself, told and woken as left behind; z's does not, and z is
		// woken for the slot. Both ends may come in either order.
		want := map[wake]bool{{"ns/x-" + c.name, clusterclient.WakeWriteEnded}: true}
		wantEnded := map[string]bool{"ns/x-" + c.name: true}
		if planned {
			want[wake{"ns/" + c.name, clusterclient.WakeWriteEnded}] = true
			wantEnded["ns/"+c.name] = true
		} else {
			want[wake{"ns/" + c.name, clusterclient.WakeFreeSlot}] = true
		}
		for range wantEnded {
			select {
			case got := <-ended:
				if !wantEnded[got] {
					t.Fatalf("%s: the write of %s ended and was told, want %v", c.name, got, wantEnded)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: writes told as ended, want %v", c.name, wantEnded)
			}
		}
		for range want {
			if got := next(c.name); !want[got] {
				t.Fatalf("%s: woke %v, want %v", c.name, got, want)
			}
		}
		if planned {
			if got := <-ran; got != "y" {
				t.Fatalf("ran %s, want the planned y", got)
			}
			if members.Object("a", "ns/y") == nil {
				t.Fatal("the planned write did not land")
			}
			continue
		}
		if members.Object("a", "ns/"+c.name) != nil {
			t.Fatalf("%s: a write whose plan no longer held, or was replaced, ran", c.name)
		}
	}
}

// wake is one call of a Writer's Wake.
type wake struct {
	key string
	why clusterclient.WakeReason
}

// leftEnd is one call of a Writer's LeftBehind.
type leftEnd struct{ cluster, key string }

// impatientWriter is a writer over members that waits 10 ms for writes,
// allows maxInFlight at once, and reports its wakes and the ends of the
// writes it left behind.
func impatientWriter(members *fake.Members, maxInFlight int) (*clusterclient.Writer, chan wake, chan leftEnd) {
	wakes, ends := make(chan wake, 10), make(chan leftEnd, 10)
	w := clusterclient.NewWriter(members, schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, clusterclient.WriterOptions{
		RequestTimeout: 10 * time.Second,
		Patience:       10 * time.Millisecond,
		MaxInFlight:    maxInFlight,
		Wake:           func(key string, why clusterclient.WakeReason) { wakes <- wake{key, why} },
		LeftBehind:     func(cluster, key string, _ clusterclient.WriteResult, _ bool) { ends <- leftEnd{cluster, key} },
	})
	return w, wakes, ends
}

func TestWriterStartsAnIdleMembersBurstSmall(t *testing.T) {
	members := fake.New("a")
	got := &allowances{last: map[string]int{}, seen: make(chan struct{}, 100)}
	w := clusterclient.NewWriter(members, schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, clusterclient.WriterOptions{
		RequestTimeout: 10 * time.Second,
		Patience:       time.Millisecond,
		MaxInFlight:    20,
		Allowance:      got.report,
	})
	release := members.Block("a")
	started := 0
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("burst-%d", i)
		w.Go(context.Background(), "a", "ns/"+name, func(ctx context.Context) clusterclient.WriteResult {
			_, err := w.Create(ctx, "a", configMap(name))
			return clusterclient.WriteResult{Err: err}
		})
		if w.InFlight("a", "ns/"+name) {
			started++
		}
	}
	if started != clusterclient.RestartAllowance {
		t.Fatalf("%d of a burst of 20 writes started at once on a member never written to, want %d", started, clusterclient.RestartAllowance)
	}
	// Answered at once, each of the four adds one write at once.
	release()
	for i := 0; i < started; i++ {
		select {
		case <-got.seen:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d writes reported their end", i, started)
		}
	}
	if a := got.of("a"); a != 2*clusterclient.RestartAllowance {
		t.Fatalf("after a round of answers in time: allowance %d, want %d", a, 2*clusterclient.RestartAllowance)
	}
}
