package framework

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is one real server process, logging to a file, that a test can
// stop, restart, kill, or cut off (SIGSTOP: it stops answering without
// exiting, like a hung or partitioned server).
type Process struct {
	Name    string
	Path    string
	Args    []string
	LogPath string

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
	if err := cmd.Start(); err != nil {
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
		if last = check(ctx); last == nil {
			return nil
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

// RSSBytes is the resident memory of the running process, from /proc.
func (p *Process) RSSBytes() (int64, error) {
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd == nil {
		return 0, fmt.Errorf("%s: not running", p.Name)
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimPrefix(line, "VmRSS:"), "%d", &kb); err != nil {
				return 0, err
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("%s: no VmRSS in /proc status", p.Name)
}
