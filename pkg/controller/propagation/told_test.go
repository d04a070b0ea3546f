package propagation

import (
	"context"
	"testing"
	"time"

	"k8s.io/client-go/tools/record"
)

// TestWritesToldTogether: the writes of one object noted before the
// bookkeeping runs (a sync's, then ones it left behind) make one event per
// kind of change, naming every cluster once; writes noted after it ran
// make a new event.
func TestWritesToldTogether(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var backlog fakeBacklog
	backlog.n.Store(5)
	tr := newTrailing(backlog.len, trailingDelays{short: time.Hour, long: time.Hour, deep: 100})
	tr.run(ctx, 1)
	events := record.NewFakeRecorder(10)
	told := newWritesTold(events, tr)
	fed := configMap("cm", nil)

	told.add("ns/cm", fed, []string{"a", "c"}, nil, true)
	told.add("ns/cm", fed, []string{"b"}, nil, false)
	told.add("ns/cm", fed, []string{"c"}, []string{"d"}, true)
	told.add("ns/cm", fed, nil, nil, true)
	backlog.n.Store(0) // the queue empties: the bookkeeping runs
	want := []string{"Normal CreateInCluster Created in clusters a, b, c", "Normal UpdateInCluster Updated in cluster d"}
	for _, w := range want {
		select {
		case e := <-events.Events:
			if e != w {
				t.Fatalf("event %q, want %q", e, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no event %q", w)
		}
	}

	// Writes left behind wait for the last of them.
	told.add("ns/cm", fed, []string{"e"}, nil, false)
	told.add("ns/cm", fed, []string{"f"}, nil, false)
	told.add("ns/cm", fed, nil, nil, true)
	select {
	case e := <-events.Events:
		if e != "Normal CreateInCluster Created in clusters e, f" {
			t.Fatalf("event %q, want the writes left behind told together", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("writes noted after the bookkeeping ran were never told")
	}
}
