package fakeglbc

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/api/compute/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// raceHook runs before once, ahead of the first request it matches, to play
// another member acting between this member's read and its write.
type raceHook struct {
	match  func(*http.Request) bool
	before func() error

	mu    sync.Mutex
	fired bool
	err   error
}

func (h *raceHook) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	if !h.fired && h.match(r) {
		h.fired = true
		h.err = h.before()
	}
	h.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (h *raceHook) check(t *testing.T) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.fired || h.err != nil {
		t.Fatalf("the race was not played: fired %v, err %v", h.fired, h.err)
	}
}

// otherMemberGroup makes the instance group another member in zone-c has.
func otherMemberGroup(t *testing.T, c *cloudFixture) string {
	t.Helper()
	op, err := c.api.InstanceGroups.Insert(project, "zone-c", &compute.InstanceGroup{Name: "k8s-ig--u"}).Do()
	if err == nil {
		_, err = c.api.ZoneOperations.Wait(project, "zone-c", op.Name).Do()
	}
	if err != nil {
		t.Fatal(err)
	}
	ig, err := c.api.InstanceGroups.Get(project, "zone-c", "k8s-ig--u").Do()
	if err != nil {
		t.Fatal(err)
	}
	return ig.SelfLink
}

func waitOp(c *cloudFixture) func(*compute.Operation, error) error {
	return func(op *compute.Operation, err error) error {
		if err != nil {
			return err
		}
		_, err = c.api.GlobalOperations.Wait(project, op.Name).Do()
		return err
	}
}

// served waits for the member to serve web with both groups in its backend
// service.
func served(t *testing.T, c *cloudFixture, m *member) {
	t.Helper()
	eventually(t, "served with both groups", func() error {
		zones, err := c.groupsOf("k8s-be-30080--u")
		if err != nil {
			return err
		}
		if !slices.Equal(zones, []string{"zone-a", "zone-c"}) {
			return fmt.Errorf("groups in %v", zones)
		}
		if m.servedAt(t, "web") == "" {
			return fmt.Errorf("not served")
		}
		return nil
	})
}

func TestRaces(t *testing.T) {
	t.Run("409 on insert: another member made the backend service", func(t *testing.T) {
		c := newCloud(t)
		group := otherMemberGroup(t, c)
		hook := &raceHook{
			match: func(r *http.Request) bool {
				return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/global/backendServices")
			},
			before: func() error {
				return waitOp(c)(c.api.BackendServices.Insert(project, &compute.BackendService{
					Name: "k8s-be-30080--u", Protocol: "HTTP", PortName: "port30080",
					HealthChecks: []string{"global/healthChecks/k8s-be-30080--u"},
					Backends:     []*compute.Backend{{Group: group, BalancingMode: "RATE", MaxRatePerInstance: 1}},
				}).Do())
			},
		}
		a := startMember(t, c, memberConfig{name: "member-a", zone: "zone-a", uid: map[string]string{"uid": "u"},
			compute: computeClient(t, c.srv, hook)})
		a.create(t, newIngress("web", nil))
		served(t, c, a)
		hook.check(t)
	})

	t.Run("412 on update: another member changed the backend service", func(t *testing.T) {
		c := newCloud(t)
		group := otherMemberGroup(t, c)
		if err := waitOp(c)(c.api.HealthChecks.Insert(project, &compute.HealthCheck{
			Name: "k8s-be-30080--u", Type: "HTTP", HttpHealthCheck: &compute.HTTPHealthCheck{Port: webNodePort, RequestPath: "/"},
		}).Do()); err != nil {
			t.Fatal(err)
		}
		if err := waitOp(c)(c.api.BackendServices.Insert(project, &compute.BackendService{
			Name: "k8s-be-30080--u", Protocol: "HTTP", PortName: "port30080",
			HealthChecks: []string{"global/healthChecks/k8s-be-30080--u"},
			Backends:     []*compute.Backend{{Group: group, BalancingMode: "RATE", MaxRatePerInstance: 1}},
		}).Do()); err != nil {
			t.Fatal(err)
		}
		hook := &raceHook{
			match: func(r *http.Request) bool {
				return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/global/backendServices/")
			},
			before: func() error {
				bs, err := c.api.BackendServices.Get(project, "k8s-be-30080--u").Do()
				if err != nil {
					return err
				}
				bs.Description = "changed by another member"
				return waitOp(c)(c.api.BackendServices.Update(project, bs.Name, bs).Do())
			},
		}
		a := startMember(t, c, memberConfig{name: "member-a", zone: "zone-a", uid: map[string]string{"uid": "u"},
			compute: computeClient(t, c.srv, hook)})
		a.create(t, newIngress("web", nil))
		served(t, c, a)
		hook.check(t)
		bs, err := c.api.BackendServices.Get(project, "k8s-be-30080--u").Do()
		if err != nil || bs.Description != "changed by another member" {
			t.Errorf("the other member's change was lost: %+v, %v", bs, err)
		}
	})

	t.Run("members starting together", func(t *testing.T) {
		c := newCloud(t)
		uid := map[string]string{"uid": "u"}
		var ms []*member
		for _, z := range []string{"a", "b", "c"} {
			ms = append(ms, startMember(t, c, memberConfig{name: "member-" + z, zone: "zone-" + z, uid: uid,
				objects: []runtime.Object{newIngress("web", nil)}}))
		}
		eventually(t, "all groups in the backend service", func() error {
			zones, err := c.groupsOf("k8s-be-30080--u")
			if err != nil || !slices.Equal(zones, []string{"zone-a", "zone-b", "zone-c"}) {
				return fmt.Errorf("groups in %v, %v", zones, err)
			}
			for _, m := range ms {
				if m.servedAt(t, "web") == "" {
					return fmt.Errorf("%s not served", m.name)
				}
			}
			return nil
		})
	})
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name   string
		inject func(c *cloudFixture)
	}{
		{"two 503s", func(c *cloudFixture) { c.srv.FailNext(2, http.StatusServiceUnavailable) }},
		{"a 429", func(c *cloudFixture) { c.srv.FailNext(1, http.StatusTooManyRequests) }},
		{"slow operations", func(c *cloudFixture) { c.srv.SlowNext(10, 3) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCloud(t)
			a := startMember(t, c, memberConfig{name: "member-a", zone: "zone-a", uid: map[string]string{"uid": "u"}})
			tt.inject(c)
			a.create(t, newIngress("web", nil))
			eventually(t, "served", func() error {
				fr, err := c.api.GlobalForwardingRules.Get(project, "k8s-fw-default-web--u").Do()
				if err != nil {
					return err
				}
				if got := a.servedAt(t, "web"); got != fr.IPAddress {
					return fmt.Errorf("served at %q, rule at %q", got, fr.IPAddress)
				}
				return nil
			})
		})
	}
}
