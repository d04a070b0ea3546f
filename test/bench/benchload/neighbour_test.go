package benchload

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestNeighbourRunsOnlyInTheIdleTimeOfItsProcessors: the neighbour is this
// test binary run again, every thread of it SCHED_IDLE and pinned to the
// processors asked for, and it works.
func TestNeighbourRunsOnlyInTheIdleTimeOfItsProcessors(t *testing.T) {
	cpu := 0
	p := StartNeighbour(t, []int{cpu}, "")
	if p == nil {
		t.Fatal("no neighbour started for one processor")
	}
	pid, err := p.PID()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := idleAndPinned(pid, cpu)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for {
		used, err := p.CPUTime()
		if err == nil && used > 100*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the neighbour used %v of processor in 20 s (%v): it does not work", used, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// idleAndPinned says why not every thread of pid is SCHED_IDLE and
// allowed on cpu alone, nil when all are.
func idleAndPinned(pid, cpu int) error {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return err
	}
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		attr, err := unix.SchedGetAttr(tid, 0)
		if err != nil {
			return fmt.Errorf("thread %d: %w", tid, err)
		}
		if attr.Policy != unix.SCHED_IDLE {
			return fmt.Errorf("thread %d has scheduling policy %d, want SCHED_IDLE (%d)", tid, attr.Policy, unix.SCHED_IDLE)
		}
		var set unix.CPUSet
		if err := unix.SchedGetaffinity(tid, &set); err != nil {
			return fmt.Errorf("thread %d: %w", tid, err)
		}
		if set.Count() != 1 || !set.IsSet(cpu) {
			return fmt.Errorf("thread %d may run on %d processors, want only processor %d", tid, set.Count(), cpu)
		}
	}
	return nil
}

func TestNoNeighbourWhenTurnedOffOrWithoutProcessors(t *testing.T) {
	if p := StartNeighbour(t, nil, ""); p != nil {
		t.Error("a neighbour started with no processors of its own")
	}
	t.Setenv("FEDERATION_BENCH_NEIGHBOUR", "off")
	if p := StartNeighbour(t, []int{0}, ""); p != nil {
		t.Error("a neighbour started with FEDERATION_BENCH_NEIGHBOUR=off")
	}
}
