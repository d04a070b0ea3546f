package benchload

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/kfederation/federation/test/framework"
)

// The members' processor time per object depends on what the other
// processor does, not only on the requests they serve: on this VM the
// floor's members spent a tenth to a quarter more per ConfigMap beside a
// busy federation processor than beside an idle one, for the same requests
// (docs/dev/benchmarks.md, thirteenth pass). Through the federation that
// processor is always busy, with the federation. So a benchmark that
// compares the two keeps the federation's processors busy in both phases
// with a neighbour: a process that runs only in their idle time
// (SCHED_IDLE), so that it takes no processor time the federation or the
// benchmark's client would use. On separate machines, as in a real
// deployment, neither phase would have the effect.

// neighbourArg, as the only argument, makes a benchmark's test binary the
// neighbour (see init).
const neighbourArg = "federation-bench-neighbour"

func init() {
	if len(os.Args) == 2 && os.Args[1] == neighbourArg {
		runNeighbour()
	}
}

// StartNeighbour starts the neighbour on cpus (this test binary, run
// again) unless FEDERATION_BENCH_NEIGHBOUR is "off" or cpus is empty (the
// processes share every processor, and a neighbour would take the
// members' idle time too); it is stopped when tb ends. Nil when none runs.
func StartNeighbour(tb testing.TB, cpus []int, logDir string) *framework.Process {
	if len(cpus) == 0 || os.Getenv("FEDERATION_BENCH_NEIGHBOUR") == "off" {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		tb.Fatalf("neighbour: find this test binary: %v", err)
	}
	if logDir == "" {
		logDir = tb.TempDir()
	}
	p := framework.NewProcess("neighbour", self, []string{neighbourArg}, filepath.Join(logDir, "neighbour"))
	p.CPUs = cpus
	if err := p.Start(); err != nil {
		tb.Fatalf("neighbour: %v", err)
	}
	tb.Cleanup(p.Kill)
	return p
}

// runNeighbour lowers every thread of this process to SCHED_IDLE (threads
// made later inherit it) and works until killed.
func runNeighbour() {
	if err := idleThreads(); err != nil {
		fmt.Fprintf(os.Stderr, "neighbour: %v\n", err)
		os.Exit(1)
	}
	for {
		neighbourWork()
	}
}

func idleThreads() error {
	return framework.EachThread(func(tid int) error {
		if err := unix.SchedSetAttr(tid, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE}, 0); err != nil {
			return fmt.Errorf("set thread %d to SCHED_IDLE: %w", tid, err)
		}
		return nil
	})
}

// neighbourWork hashes keys into a map of up to 50,000 entries: a few
// megabytes in use, allocation and hashing, as a server's work has.
func neighbourWork() {
	m := map[string][]byte{}
	for i := 0; i < 200000; i++ {
		k := strconv.Itoa(i * 7919)
		h := sha256.Sum256([]byte(k))
		m[k] = h[:]
		if len(m) >= 50000 {
			clear(m)
		}
	}
}
