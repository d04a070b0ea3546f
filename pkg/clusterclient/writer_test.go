package clusterclient_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/clusterclient/fake"
)

// allowances records what a Writer reports of each member's allowance.
type allowances struct {
	mu   sync.Mutex
	last map[string]int
	seen chan struct{}
}

func (a *allowances) report(cluster string, _, writes int) {
	a.mu.Lock()
	a.last[cluster] = writes
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

func TestWriterGivesAMemberThatAnswersLateFewerWritesAtOnce(t *testing.T) {
	members := fake.New("a")
	w, got := allowanceWriter(members, 2*time.Second)
	ctx := context.Background()
	writes := make([]*clusterclient.Write, 4)

	// Member a answers every write, but only after more than half the
	// request timeout.
	release := members.Block("a")
	for i := range writes {
		name := fmt.Sprintf("late-%d", i)
		writes[i] = w.Go(ctx, "a", "ns/"+name, func(ctx context.Context) clusterclient.WriteResult {
			_, err := w.Create(ctx, "a", configMap(name))
			return clusterclient.WriteResult{Err: err}
		})
	}
	time.Sleep(1200 * time.Millisecond)
	release()
	for i := range writes {
		select {
		case <-got.seen:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of 4 writes reported their end", i)
		}
	}
	for i, r := range w.Wait(writes) {
		if r.Err != nil {
			t.Fatalf("write %d: %v, want it answered", i, r.Err)
		}
	}
	if a := got.of("a"); a != 2 {
		t.Fatalf("after a round of writes answered in 1.2s of a 2s timeout: allowance %d, want 2", a)
	}
}
