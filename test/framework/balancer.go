package framework

import (
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Balancer is a TCP load balancer on loopback, test code standing in for
// the cloud load balancer before a highly available control plane: each
// connection goes to the next backend in turn that accepts it, so a dead
// backend costs a client only the connections it had.
type Balancer struct {
	Addr     string
	backends []string
	listener net.Listener

	mu    sync.Mutex
	next  int
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// StartBalancer listens on a free loopback port and spreads connections
// over the backends (host:port).
func StartBalancer(backends ...string) (*Balancer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &Balancer{Addr: l.Addr().String(), backends: backends, listener: l, conns: map[net.Conn]struct{}{}}
	b.wg.Add(1)
	go b.serve()
	return b, nil
}

func (b *Balancer) serve() {
	defer b.wg.Done()
	for {
		c, err := b.listener.Accept()
		if err != nil {
			return
		}
		b.wg.Add(1)
		go b.forward(c)
	}
}

// forward connects c to the first backend, from the next in turn, that
// accepts a connection, and copies both ways until either side closes.
func (b *Balancer) forward(c net.Conn) {
	defer b.wg.Done()
	defer c.Close()
	backend, err := b.dial()
	if err != nil {
		return
	}
	defer backend.Close()
	b.track(c, backend)
	defer b.untrack(c, backend)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(backend, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, backend); done <- struct{}{} }()
	<-done
}

func (b *Balancer) dial() (net.Conn, error) {
	b.mu.Lock()
	start := b.next
	b.next = (b.next + 1) % len(b.backends)
	b.mu.Unlock()
	var last error
	for i := range b.backends {
		addr := b.backends[(start+i)%len(b.backends)]
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c, nil
		}
		last = err
	}
	return nil, fmt.Errorf("no backend accepts: %w", last)
}

func (b *Balancer) track(conns ...net.Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range conns {
		b.conns[c] = struct{}{}
	}
}

func (b *Balancer) untrack(conns ...net.Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range conns {
		delete(b.conns, c)
	}
}

// Close stops listening and closes every connection.
func (b *Balancer) Close() {
	_ = b.listener.Close()
	b.mu.Lock()
	for c := range b.conns {
		_ = c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}
