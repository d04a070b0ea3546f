package framework

import (
	"context"
	"fmt"
)

// WithoutCloudSimulator runs f with the member's cloud simulator stopped,
// then starts a new one: while f runs, nothing gives the member's Services
// and Ingresses addresses, so an address a test clears stays cleared
// (what a member whose ingress controller lost its load balancer shows).
// The new simulator gives every object its address again. A member with a
// stand-in for GCE's ingress controller (Options.Compute) is refused: the
// stand-in shares the simulator's lifetime.
func (m *Member) WithoutCloudSimulator(f func() error) error {
	if m.cloud == nil {
		return fmt.Errorf("member %s has no cloud simulator", m.Name)
	}
	if m.cloud.leaveGCE.Load() {
		return fmt.Errorf("member %s runs a GCE ingress controller stand-in, which would stop with its cloud simulator", m.Name)
	}
	m.stopCloud()
	defer func() {
		m.cloudCtx, m.stopCloud = context.WithCancel(context.Background())
		m.cloud = StartCloudSimulator(m.cloudCtx, m.Name, m.Client)
	}()
	return f()
}
