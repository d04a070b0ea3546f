package dnsrecords

import (
	"context"
	"net"
	"sync"
	"time"
)

// Health applies --dns-unhealthy-grace: a member that stops being Ready
// still counts as Ready for DNS until it has been down that long, so that
// a blip does not send every client elsewhere.
type Health struct {
	grace time.Duration
	// Now is the clock; tests set it.
	Now func() time.Time

	mu sync.Mutex
	// downSince is when each cluster was first seen not Ready.
	downSince map[string]time.Time
}

// NewHealth returns a Health with a grace period of grace (0: none).
func NewHealth(grace time.Duration) *Health {
	return &Health{grace: grace, Now: time.Now, downSince: map[string]time.Time{}}
}

// Ready says whether the cluster counts as Ready for DNS, given whether it
// is Ready now, and if it counts so only for its grace period, how long
// that has left.
func (h *Health) Ready(cluster string, ready bool) (bool, time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ready {
		delete(h.downSince, cluster)
		return true, 0
	}
	if h.grace <= 0 {
		return false, 0
	}
	since, ok := h.downSince[cluster]
	if !ok {
		since = h.Now()
		h.downSince[cluster] = since
	}
	if left := h.grace - h.Now().Sub(since); left > 0 {
		return true, left
	}
	return false, 0
}

// Resolver resolves load balancers' host names, keeping each answer for
// the records' TTL.
type Resolver struct {
	// Lookup and Now are the system resolver and the clock; tests set
	// them.
	Lookup func(ctx context.Context, host string) ([]string, error)
	Now    func() time.Time

	mu      sync.Mutex
	answers map[string]resolved
}

type resolved struct {
	addrs []string
	at    time.Time
}

// lookupTimeout bounds one host name's resolution.
const lookupTimeout = 5 * time.Second

// NewResolver returns a Resolver on the system's resolver.
func NewResolver() *Resolver {
	return &Resolver{Lookup: net.DefaultResolver.LookupHost, Now: time.Now, answers: map[string]resolved{}}
}

// Addresses returns the addresses of hosts, resolving each at most once
// per ttl. A name that does not resolve contributes nothing; the next
// look, a ttl later, tries again.
func (r *Resolver) Addresses(ctx context.Context, hosts []string, ttl time.Duration) []string {
	var out []string
	for _, h := range hosts {
		r.mu.Lock()
		a, ok := r.answers[h]
		r.mu.Unlock()
		if !ok || r.Now().Sub(a.at) >= ttl {
			lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
			addrs, _ := r.Lookup(lctx, h)
			cancel()
			a = resolved{addrs: addrs, at: r.Now()}
			r.mu.Lock()
			r.answers[h] = a
			r.mu.Unlock()
		}
		out = append(out, a.addrs...)
	}
	return out
}
