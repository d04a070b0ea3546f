package framework

import (
	"context"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestProcNumbers reads the "name: number" lines of /proc files as they
// come: status (with units and tabs), io, and lines that are not numbers.
func TestProcNumbers(t *testing.T) {
	status := "Name:\tkube-apiserver\nVmRSS:\t  228332 kB\nvoluntary_ctxt_switches:\t41\nnonvoluntary_ctxt_switches:\t7\nCpus_allowed_list:\t1\n"
	got := procNumbers([]byte(status))
	for name, want := range map[string]int64{"VmRSS": 228332, "voluntary_ctxt_switches": 41, "nonvoluntary_ctxt_switches": 7, "Cpus_allowed_list": 1} {
		if got[name] != want {
			t.Errorf("%s = %d, want %d", name, got[name], want)
		}
	}
	if _, ok := got["Name"]; ok {
		t.Error("Name, not a number, was read as one")
	}
	io := procNumbers([]byte("rchar: 100\nsyscr: 12\nsyscw: 34\n"))
	if io["syscr"] != 12 || io["syscw"] != 34 {
		t.Errorf("io: syscr %d, syscw %d; want 12, 34", io["syscr"], io["syscw"])
	}
}

// listenerArg makes the test binary, run again with it alone, a process
// that listens on a loopback port, connects to it and accepts the
// connection, prints the port and
// waits to be stopped.
const listenerArg = "framework-test-listener"

func init() {
	if len(os.Args) != 2 || os.Args[1] != listenerArg {
		return
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(1)
	}
	defer c.Close()
	a, err := l.Accept()
	if err != nil {
		fmt.Println("accept:", err)
		os.Exit(1)
	}
	defer a.Close()
	fmt.Printf("listening on %s\n", l.Addr())
	select {}
}

// TestTCPListenersAndPeers reads a real process's sockets: the port it
// listens on, and the one it is connected to.
func TestTCPListenersAndPeers(t *testing.T) {
	p := NewProcess("listener", os.Args[0], []string{listenerArg}, t.TempDir())
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var addr string
	err := p.WaitFor(ctx, "its port in its log", func(context.Context) error {
		data, err := os.ReadFile(p.LogPath)
		if err != nil {
			return err
		}
		_, after, ok := strings.Cut(string(data), "listening on ")
		if !ok || !strings.Contains(after, "\n") {
			return fmt.Errorf("no port yet")
		}
		addr = strings.TrimSpace(strings.SplitN(after, "\n", 2)[0])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	listeners, err := p.TCPListeners()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(listeners, []string{addr}) {
		t.Errorf("TCPListeners = %q, want [%s]", listeners, addr)
	}
	peers, err := p.TCPPeers()
	if err != nil {
		t.Fatal(err)
	}
	// Both ends of the connection are the process's: one has the
	// listener's address as its peer, the other the dialer's port.
	if len(peers) != 2 || !slices.Contains(peers, addr) {
		t.Errorf("TCPPeers = %q, want two, one of them %s", peers, addr)
	}
}
