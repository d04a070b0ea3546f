package servicedns

import (
	"context"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/kfederation/federation/test/framework"
)

// shardKey is one federated Service (or, for ReplicaSets, one federated
// ReplicaSet) in one member.
type shardKey struct{ member, name string }

// shard is what a member has of one federated Service, as the
// benchmark's own watches see it, with when each part last changed.
type shard struct {
	// slices says, by EndpointSlice name, whether the slice has a ready
	// endpoint.
	slices     map[string]bool
	ready      bool
	readySince time.Time
	ip         string
	ipSince    time.Time
	// replicas is spec.replicas of the member's copy of the federated
	// ReplicaSet of the same name (the measured Services' own), -1 if the
	// member has none.
	replicas      int32
	replicasSince time.Time
}

// tracker watches the benchmark's namespace in every member: Services
// (their load balancers' addresses), EndpointSlices (whether a Service
// has a ready endpoint) and ReplicaSets (the copies' replicas), and
// records when each changed, as the controller manager's own watches see
// them.
type tracker struct {
	mu     sync.Mutex
	shards map[shardKey]*shard
	// lastEvent is, by name, the last time any member had an event of a
	// Service, EndpointSlice or ReplicaSet of that name.
	lastEvent map[string]time.Time
	// changed is closed, and replaced, whenever a shard's state changes.
	changed chan struct{}
}

// startTracker starts the watches and waits for their first lists.
func startTracker(ctx context.Context, b *testing.B, f *framework.Federation) *tracker {
	t := &tracker{shards: map[shardKey]*shard{}, lastEvent: map[string]time.Time{}, changed: make(chan struct{})}
	for _, m := range f.Members {
		factory := informers.NewSharedInformerFactoryWithOptions(m.Client, 0, informers.WithNamespace(ns))
		member := m.Name
		_, _ = factory.Core().V1().Services().Informer().AddEventHandler(handler(func(obj interface{}, deleted bool) {
			if svc, ok := obj.(*corev1.Service); ok {
				t.service(member, svc, deleted)
			}
		}))
		_, _ = factory.Discovery().V1().EndpointSlices().Informer().AddEventHandler(handler(func(obj interface{}, deleted bool) {
			if s, ok := obj.(*discoveryv1.EndpointSlice); ok {
				t.slice(member, s, deleted)
			}
		}))
		_, _ = factory.Apps().V1().ReplicaSets().Informer().AddEventHandler(handler(func(obj interface{}, deleted bool) {
			if rs, ok := obj.(*appsv1.ReplicaSet); ok {
				t.replicaSet(member, rs, deleted)
			}
		}))
		factory.Start(ctx.Done())
		for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
			if !ok {
				b.Fatalf("member %s: the cache of %v did not sync", member, typ)
			}
		}
	}
	return t
}

// handler calls f with every object added, updated or deleted.
func handler(f func(obj interface{}, deleted bool)) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { f(obj, false) },
		UpdateFunc: func(_, obj interface{}) { f(obj, false) },
		DeleteFunc: func(obj interface{}) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			f(obj, true)
		},
	}
}

// get returns the shard, made on first use; t.mu is held.
func (t *tracker) get(k shardKey) *shard {
	s := t.shards[k]
	if s == nil {
		s = &shard{slices: map[string]bool{}, replicas: -1}
		t.shards[k] = s
	}
	return s
}

func (t *tracker) notify() {
	close(t.changed)
	t.changed = make(chan struct{})
}

func (t *tracker) service(member string, svc *corev1.Service, deleted bool) {
	now := time.Now()
	ip := ""
	if !deleted {
		for _, in := range svc.Status.LoadBalancer.Ingress {
			if in.IP != "" {
				ip = in.IP
				break
			}
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lastEvent[svc.Name] = now
	s := t.get(shardKey{member, svc.Name})
	if s.ip != ip {
		s.ip, s.ipSince = ip, now
		t.notify()
	}
}

// readyEndpoint says whether the slice has an endpoint ready for traffic:
// one whose ready condition is not false, as the API says consumers
// should read it, and as the Service DNS controller does.
func readyEndpoint(s *discoveryv1.EndpointSlice) bool {
	for _, e := range s.Endpoints {
		if ptr.Deref(e.Conditions.Ready, true) {
			return true
		}
	}
	return false
}

func (t *tracker) slice(member string, es *discoveryv1.EndpointSlice, deleted bool) {
	svc := es.Labels[discoveryv1.LabelServiceName]
	if svc == "" {
		return
	}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lastEvent[svc] = now
	s := t.get(shardKey{member, svc})
	if deleted {
		delete(s.slices, es.Name)
	} else {
		s.slices[es.Name] = readyEndpoint(es)
	}
	ready := false
	for _, r := range s.slices {
		ready = ready || r
	}
	if s.ready != ready {
		s.ready, s.readySince = ready, now
		t.notify()
	}
}

func (t *tracker) replicaSet(member string, rs *appsv1.ReplicaSet, deleted bool) {
	now := time.Now()
	replicas := ptr.Deref(rs.Spec.Replicas, 1)
	if deleted {
		replicas = -1
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lastEvent[rs.Name] = now
	s := t.get(shardKey{member, rs.Name})
	if s.replicas != replicas {
		s.replicas, s.replicasSince = replicas, now
		t.notify()
	}
}

// waitFor waits until cond, called with t.mu held, says true, and returns
// the time it returned with it.
func (t *tracker) waitFor(ctx context.Context, timeout time.Duration, cond func() (time.Time, bool)) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		t.mu.Lock()
		at, ok := cond()
		ch := t.changed
		t.mu.Unlock()
		if ok {
			return at, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// waitShard waits until the member's shard of svc is ready (or not, as
// wanted), having changed to that after after, and returns when the
// change was seen.
func (t *tracker) waitShard(ctx context.Context, timeout time.Duration, member, svc string, ready bool, after time.Time) (time.Time, error) {
	return t.waitFor(ctx, timeout, func() (time.Time, bool) {
		s := t.get(shardKey{member, svc})
		return s.readySince, s.ready == ready && s.readySince.After(after)
	})
}

// copyScaled is when the member's copy of the ReplicaSet name last
// changed its replicas to want, if after after.
func (t *tracker) copyScaled(member, name string, want int32, after time.Time) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.get(shardKey{member, name})
	return s.replicasSince, s.replicas == want && s.replicasSince.After(after)
}

// complete says whether every member has an address for svc's load
// balancer and a ready endpoint, and if so returns the distinct addresses
// and when the last of these came.
func (t *tracker) complete(members []string, svc string) ([]string, time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var ips []string
	var last time.Time
	for _, m := range members {
		s := t.get(shardKey{m, svc})
		if s.ip == "" || !s.ready {
			return nil, time.Time{}, false
		}
		ips = append(ips, s.ip)
		for _, at := range []time.Time{s.ipSince, s.readySince} {
			if at.After(last) {
				last = at
			}
		}
	}
	return ips, last, true
}

// ip is the member's load-balancer address for svc.
func (t *tracker) ip(member, svc string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.get(shardKey{member, svc}).ip
}

// lastEventOf is the last time any member had an event of name.
func (t *tracker) lastEventOf(name string) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastEvent[name]
}
