package framework

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Process is one real server process, logging to a file, that a test can
// stop, restart, kill, or cut off (SIGSTOP: it stops answering without
// exiting, like a hung or partitioned server).
type Process struct {
	Name    string
	Path    string
	Args    []string
	LogPath string
	// CPUs, when set, are the only processors the process may run on
	// (its affinity), e.g. to keep the federation and its members on
	// separate cores as they would be on separate machines.
	CPUs []int

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	exit   error
	paused bool
}

// NewProcess describes a process; Start runs it.
func NewProcess(name, path string, args []string, logDir string) *Process {
	return &Process{Name: name, Path: path, Args: args, LogPath: filepath.Join(logDir, name+".log")}
}

// Start runs the process, appending its output to LogPath.
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("%s: already running", p.Name)
	}
	if err := os.MkdirAll(filepath.Dir(p.LogPath), 0o755); err != nil {
		return err
	}
	log, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "\n==== %s: %s %s\n", time.Now().Format(time.RFC3339), p.Path, strings.Join(p.Args, " "))
	cmd := exec.Command(p.Path, p.Args...)
	cmd.Stdout = log
	cmd.Stderr = log
	// Own process group, so that Stop reaches any children too, and a
	// parent-death signal, so that nothing outlives a killed test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := startPinned(cmd, p.CPUs); err != nil {
		log.Close()
		return fmt.Errorf("start %s (%s): %w", p.Name, p.Path, err)
	}
	p.cmd = cmd
	p.done = make(chan struct{})
	p.paused = false
	go func(done chan struct{}) {
		err := cmd.Wait()
		log.Close()
		p.mu.Lock()
		p.exit = err
		p.mu.Unlock()
		close(done)
	}(p.done)
	return nil
}

// Running says whether the process has been started and has not exited.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Exited returns a channel closed when the process exits.
func (p *Process) Exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return p.done
}

// Stop sends SIGTERM to the process group, waits up to grace, then kills.
func (p *Process) Stop(grace time.Duration) error {
	p.mu.Lock()
	cmd, done, paused := p.cmd, p.done, p.paused
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	pgid := -cmd.Process.Pid
	if paused {
		_ = syscall.Kill(pgid, syscall.SIGCONT)
	}
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-done
	}
	p.mu.Lock()
	p.cmd = nil
	p.mu.Unlock()
	return nil
}

// Kill ends the process at once, as a crash would.
func (p *Process) Kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
	p.mu.Lock()
	p.cmd = nil
	p.mu.Unlock()
}

// Restart stops and starts the process again.
func (p *Process) Restart() error {
	if err := p.Stop(10 * time.Second); err != nil {
		return err
	}
	return p.Start()
}

// CutOff freezes the process (SIGSTOP): its sockets stay open but it answers
// nothing, as a hung or unreachable server would.
func (p *Process) CutOff() error {
	return p.signalPaused(syscall.SIGSTOP, true)
}

// Reconnect resumes a process frozen by CutOff.
func (p *Process) Reconnect() error {
	return p.signalPaused(syscall.SIGCONT, false)
}

func (p *Process) signalPaused(sig syscall.Signal, paused bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return fmt.Errorf("%s: not running", p.Name)
	}
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("%s: signal %v: %w", p.Name, sig, err)
	}
	p.paused = paused
	return nil
}

// WaitFor polls check until it returns nil, the process exits, or ctx ends;
// the error then says what was last wrong and where the log is.
func (p *Process) WaitFor(ctx context.Context, what string, check func(context.Context) error) error {
	var last error
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		// A check cut short by the deadline says nothing about what was
		// wrong: keep the one before it.
		if last == nil || ctx.Err() == nil {
			last = err
		}
		select {
		case <-p.Exited():
			return fmt.Errorf("%s exited before %s; see %s: %w", p.Name, what, p.LogPath, errors.Join(last, p.exitErr()))
		case <-ctx.Done():
			return fmt.Errorf("%s: %s: %w (last: %v); see %s", p.Name, what, ctx.Err(), last, p.LogPath)
		case <-tick.C:
		}
	}
}

func (p *Process) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exit
}

// PID is the running process's id.
func (p *Process) PID() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0, fmt.Errorf("%s: not running", p.Name)
	}
	return p.cmd.Process.Pid, nil
}

// procPath is /proc/<pid>/name of the running process.
func (p *Process) procPath(name string) (string, error) {
	pid, err := p.PID()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("/proc/%d/%s", pid, name), nil
}

// procFile reads /proc/<pid>/name of the running process.
func (p *Process) procFile(name string) ([]byte, error) {
	path, err := p.procPath(name)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

// procDir lists /proc/<pid>/name of the running process.
func (p *Process) procDir(name string) ([]os.DirEntry, error) {
	path, err := p.procPath(name)
	if err != nil {
		return nil, err
	}
	return os.ReadDir(path)
}

// RSSBytes is the resident memory of the running process, from /proc.
func (p *Process) RSSBytes() (int64, error) {
	data, err := p.procFile("status")
	if err != nil {
		return 0, err
	}
	kb, ok := procNumbers(data)["VmRSS"]
	if !ok {
		return 0, fmt.Errorf("%s: no VmRSS in /proc status", p.Name)
	}
	return kb * 1024, nil
}

// procNumbers reads the "name: number [unit]" lines of a /proc file (status,
// io), by name; lines whose value is not a number are left out.
func procNumbers(data []byte) map[string]int64 {
	out := map[string]int64{}
	for _, line := range strings.Split(string(data), "\n") {
		name, value, ok := strings.Cut(line, ":")
		fields := strings.Fields(value)
		if !ok || len(fields) == 0 {
			continue
		}
		if n, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
			out[name] = n
		}
	}
	return out
}

// CPUTime is the processor time (user and system) the running process has
// used so far, from /proc.
func (p *Process) CPUTime() (time.Duration, error) {
	u, err := p.cpuTimes()
	return u.User + u.System, err
}

// Usage is what a process has done so far: processor time in user space
// and in the kernel, and the read and write system calls it made (sockets
// included).
type Usage struct {
	User, System          time.Duration
	ReadCalls, WriteCalls int64
	// Switches are the times its threads left a processor, of their own
	// accord (to wait) or not (their time slice was up).
	Switches int64
}

// Sub is what u did since before.
func (u Usage) Sub(before Usage) Usage {
	return Usage{u.User - before.User, u.System - before.System, u.ReadCalls - before.ReadCalls, u.WriteCalls - before.WriteCalls, u.Switches - before.Switches}
}

// Add is u and v together.
func (u Usage) Add(v Usage) Usage {
	return Usage{u.User + v.User, u.System + v.System, u.ReadCalls + v.ReadCalls, u.WriteCalls + v.WriteCalls, u.Switches + v.Switches}
}

// Usage reads the running process's Usage from /proc.
func (p *Process) Usage() (Usage, error) {
	u, err := p.cpuTimes()
	if err != nil {
		return u, err
	}
	data, err := p.procFile("io")
	if err != nil {
		return u, err
	}
	io := procNumbers(data)
	var reads, writes bool
	u.ReadCalls, reads = io["syscr"]
	u.WriteCalls, writes = io["syscw"]
	if !reads || !writes {
		return u, fmt.Errorf("%s: no syscr or syscw in /proc io", p.Name)
	}
	u.Switches = p.switches()
	return u, nil
}

// switches sums the context switches of the process's threads now, from
// /proc (threads that already exited are not counted).
func (p *Process) switches() int64 {
	tasks, err := p.procDir("task")
	if err != nil {
		return 0
	}
	var total int64
	for _, t := range tasks {
		data, err := p.procFile("task/" + t.Name() + "/status")
		if err != nil {
			continue // exited meanwhile
		}
		status := procNumbers(data)
		total += status["voluntary_ctxt_switches"] + status["nonvoluntary_ctxt_switches"]
	}
	return total
}

// cpuTimes reads the processor times of Usage from /proc stat.
func (p *Process) cpuTimes() (Usage, error) {
	data, err := p.procFile("stat")
	if err != nil {
		return Usage{}, err
	}
	// The command name, field 2, is in parentheses and may hold spaces;
	// utime and stime are fields 14 and 15.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return Usage{}, fmt.Errorf("%s: cannot parse /proc stat", p.Name)
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 13 {
		return Usage{}, fmt.Errorf("%s: cannot parse /proc stat", p.Name)
	}
	var utime, stime int64
	if _, err := fmt.Sscan(fields[11], &utime); err != nil {
		return Usage{}, err
	}
	if _, err := fmt.Sscan(fields[12], &stime); err != nil {
		return Usage{}, err
	}
	// The kernel counts in clock ticks of 1/100 s (USER_HZ) on Linux.
	return Usage{User: time.Duration(utime) * 10 * time.Millisecond, System: time.Duration(stime) * 10 * time.Millisecond}, nil
}

// startPinned starts cmd restricted to cpus. A child inherits the
// affinity of the thread that forks it, so the fork happens on a locked
// thread whose affinity is set for the moment.
func startPinned(cmd *exec.Cmd, cpus []int) error {
	if len(cpus) == 0 {
		return cmd.Start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return fmt.Errorf("read this thread's CPU affinity: %w", err)
	}
	if err := unix.SchedSetaffinity(0, cpuSet(cpus)); err != nil {
		return fmt.Errorf("pin to CPUs %v: %w", cpus, err)
	}
	defer func() { _ = unix.SchedSetaffinity(0, &old) }()
	return cmd.Start()
}

func cpuSet(cpus []int) *unix.CPUSet {
	var set unix.CPUSet
	set.Zero()
	for _, c := range cpus {
		set.Set(c)
	}
	return &set
}

// PinThisProcess restricts every thread of the calling process to cpus;
// threads started later inherit it.
func PinThisProcess(cpus []int) error {
	return EachThread(func(tid int) error {
		if err := unix.SchedSetaffinity(tid, cpuSet(cpus)); err != nil {
			return fmt.Errorf("pin thread %d to CPUs %v: %w", tid, cpus, err)
		}
		return nil
	})
}

// EachThread calls set with every thread of the calling process, for a
// per-thread setting (affinity, scheduling policy) that threads started
// later inherit from the one starting them. A thread that exits meanwhile
// (ESRCH) is no error.
func EachThread(set func(tid int) error) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		var tid int
		if _, err := fmt.Sscan(t.Name(), &tid); err != nil {
			continue
		}
		if err := set(tid); err != nil && !errors.Is(err, unix.ESRCH) {
			return err
		}
	}
	return nil
}
