package fakecompute_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/compute/v1"
)

// TestGLBCSequence builds an ingress's load balancer as GCE's ingress
// controller does, from the reserved address outward to the forwarding
// rule, checks that nothing in use can be deleted, and tears it down from
// the forwarding rule inward.
func TestGLBCSequence(t *testing.T) {
	s, svc, done := start(t)
	ctx := t.Context()

	done(svc.GlobalAddresses.Insert(project, &compute.Address{Name: "fed-ingress-ip"}).Context(ctx).Do())
	addr, err := svc.GlobalAddresses.Get(project, "fed-ingress-ip").Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	done(svc.HealthChecks.Insert(project, &compute.HealthCheck{Name: "k8s-hc-30080", Type: "HTTP",
		HttpHealthCheck: &compute.HTTPHealthCheck{Port: 30080, RequestPath: "/healthz"}}).Context(ctx).Do())
	var nodes []*compute.InstanceReference
	for _, name := range []string{"node-1", "node-2"} {
		op := done(svc.Instances.Insert(project, zoneA, &compute.Instance{Name: name, Tags: &compute.Tags{Items: []string{"k8s-node"}}}).Context(ctx).Do())
		nodes = append(nodes, &compute.InstanceReference{Instance: op.TargetLink})
	}
	done(svc.InstanceGroups.Insert(project, zoneA, &compute.InstanceGroup{Name: "k8s-ig"}).Context(ctx).Do())
	ig, _ := svc.InstanceGroups.Get(project, zoneA, "k8s-ig").Context(ctx).Do()
	done(svc.InstanceGroups.SetNamedPorts(project, zoneA, "k8s-ig", &compute.InstanceGroupsSetNamedPortsRequest{
		Fingerprint: ig.Fingerprint, NamedPorts: []*compute.NamedPort{{Name: "port30080", Port: 30080}}}).Context(ctx).Do())
	done(svc.InstanceGroups.AddInstances(project, zoneA, "k8s-ig", &compute.InstanceGroupsAddInstancesRequest{Instances: nodes}).Context(ctx).Do())
	done(svc.Firewalls.Insert(project, &compute.Firewall{Name: "k8s-fw-l7", TargetTags: []string{"k8s-node"},
		SourceRanges: []string{"130.211.0.0/22", "35.191.0.0/16"},
		Allowed:      []*compute.FirewallAllowed{{IPProtocol: "tcp", Ports: []string{"30080"}}}}).Context(ctx).Do())
	done(svc.BackendServices.Insert(project, &compute.BackendService{Name: "k8s-be-30080", PortName: "port30080", Protocol: "HTTP",
		HealthChecks: []string{"global/healthChecks/k8s-hc-30080"},
		Backends:     []*compute.Backend{{Group: ig.SelfLink, BalancingMode: "RATE", MaxRatePerInstance: 1}}}).Context(ctx).Do())
	done(svc.UrlMaps.Insert(project, &compute.UrlMap{Name: "k8s-um", DefaultService: "global/backendServices/k8s-be-30080"}).Context(ctx).Do())
	done(svc.TargetHttpProxies.Insert(project, &compute.TargetHttpProxy{Name: "k8s-tp", UrlMap: "global/urlMaps/k8s-um"}).Context(ctx).Do())
	done(svc.GlobalForwardingRules.Insert(project, &compute.ForwardingRule{Name: "k8s-fr", IPAddress: addr.Address,
		PortRange: "80-80", Target: "global/targetHttpProxies/k8s-tp"}).Context(ctx).Do())

	fr, err := svc.GlobalForwardingRules.Get(project, "k8s-fr").Context(ctx).Do()
	if err != nil || fr.IPAddress != addr.Address {
		t.Errorf("forwarding rule = %+v, %v; want it on %s", fr, err, addr.Address)
	}
	addr, err = svc.GlobalAddresses.Get(project, "fed-ingress-ip").Context(ctx).Do()
	if err != nil || addr.Status != "IN_USE" || !cmp.Equal(addr.Users, []string{fr.SelfLink}) {
		t.Errorf("address = %+v, %v; want IN_USE by %s", addr, err, fr.SelfLink)
	}
	health, err := svc.BackendServices.GetHealth(project, "k8s-be-30080", &compute.ResourceGroupReference{Group: ig.SelfLink}).Context(ctx).Do()
	if err != nil || len(health.HealthStatus) != 2 || health.HealthStatus[0].Port != 30080 {
		t.Errorf("health = %+v, %v", health, err)
	}

	// Every collection lists what was built.
	for _, tc := range []struct {
		collection string
		list       func() ([]string, error)
		want       []string
	}{
		{"globalAddresses", func() ([]string, error) {
			l, err := svc.GlobalAddresses.List(project).Context(ctx).Do()
			return listed(l, err, func(l *compute.AddressList) []*compute.Address { return l.Items }, func(a *compute.Address) string { return a.Name })
		}, []string{"fed-ingress-ip"}},
		{"healthChecks", func() ([]string, error) {
			l, err := svc.HealthChecks.List(project).Context(ctx).Do()
			return listed(l, err, func(l *compute.HealthCheckList) []*compute.HealthCheck { return l.Items }, func(h *compute.HealthCheck) string { return h.Name })
		}, []string{"k8s-hc-30080"}},
		{"backendServices", func() ([]string, error) {
			l, err := svc.BackendServices.List(project).Context(ctx).Do()
			return listed(l, err, func(l *compute.BackendServiceList) []*compute.BackendService { return l.Items }, func(b *compute.BackendService) string { return b.Name })
		}, []string{"k8s-be-30080"}},
		{"urlMaps", func() ([]string, error) {
			l, err := svc.UrlMaps.List(project).Context(ctx).Do()
			return listed(l, err, func(l *compute.UrlMapList) []*compute.UrlMap { return l.Items }, func(u *compute.UrlMap) string { return u.Name })
		}, []string{"k8s-um"}},
		{"targetHttpProxies", func() ([]string, error) {
			l, err := svc.TargetHttpProxies.List(project).Context(ctx).Do()
			return listed(l, err, func(l *compute.TargetHttpProxyList) []*compute.TargetHttpProxy { return l.Items }, func(p *compute.TargetHttpProxy) string { return p.Name })
		}, []string{"k8s-tp"}},
		{"globalForwardingRules", func() ([]string, error) {
			l, err := svc.GlobalForwardingRules.List(project).Context(ctx).Do()
			return listed(l, err, func(l *compute.ForwardingRuleList) []*compute.ForwardingRule { return l.Items }, func(f *compute.ForwardingRule) string { return f.Name })
		}, []string{"k8s-fr"}},
		{"firewalls", func() ([]string, error) {
			l, err := svc.Firewalls.List(project).Context(ctx).Do()
			return listed(l, err, func(l *compute.FirewallList) []*compute.Firewall { return l.Items }, func(f *compute.Firewall) string { return f.Name })
		}, []string{"k8s-fw-l7"}},
		{"instanceGroups", func() ([]string, error) {
			l, err := svc.InstanceGroups.List(project, zoneA).Context(ctx).Do()
			return listed(l, err, func(l *compute.InstanceGroupList) []*compute.InstanceGroup { return l.Items }, func(g *compute.InstanceGroup) string { return g.Name })
		}, []string{"k8s-ig"}},
		{"instances", func() ([]string, error) {
			l, err := svc.Instances.List(project, zoneA).Context(ctx).Do()
			return listed(l, err, func(l *compute.InstanceList) []*compute.Instance { return l.Items }, func(i *compute.Instance) string { return i.Name })
		}, []string{"node-1", "node-2"}},
	} {
		t.Run("list "+tc.collection, func(t *testing.T) {
			got, err := tc.list()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("listed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, s.Names(project, tc.collection)); diff != "" {
				t.Errorf("Names (-want +got):\n%s", diff)
			}
		})
	}

	// In the wrong order, every step is refused and nothing changes.
	for _, tc := range []struct {
		name   string
		delete func() error
	}{
		{"address", func() error { _, err := svc.GlobalAddresses.Delete(project, "fed-ingress-ip").Do(); return err }},
		{"target proxy", func() error { _, err := svc.TargetHttpProxies.Delete(project, "k8s-tp").Do(); return err }},
		{"URL map", func() error { _, err := svc.UrlMaps.Delete(project, "k8s-um").Do(); return err }},
		{"backend service", func() error { _, err := svc.BackendServices.Delete(project, "k8s-be-30080").Do(); return err }},
		{"health check", func() error { _, err := svc.HealthChecks.Delete(project, "k8s-hc-30080").Do(); return err }},
		{"instance group", func() error { _, err := svc.InstanceGroups.Delete(project, zoneA, "k8s-ig").Do(); return err }},
	} {
		t.Run("delete "+tc.name+" first", func(t *testing.T) {
			wantAPIError(t, tc.delete(), 400, "resourceInUseByAnotherResource")
		})
	}

	s.ResetRequests()
	done(svc.GlobalForwardingRules.Delete(project, "k8s-fr").Context(ctx).Do())
	done(svc.TargetHttpProxies.Delete(project, "k8s-tp").Context(ctx).Do())
	done(svc.UrlMaps.Delete(project, "k8s-um").Context(ctx).Do())
	done(svc.BackendServices.Delete(project, "k8s-be-30080").Context(ctx).Do())
	done(svc.HealthChecks.Delete(project, "k8s-hc-30080").Context(ctx).Do())
	done(svc.InstanceGroups.Delete(project, zoneA, "k8s-ig").Context(ctx).Do())
	for _, n := range []string{"node-1", "node-2"} {
		done(svc.Instances.Delete(project, zoneA, n).Context(ctx).Do())
	}
	done(svc.Firewalls.Delete(project, "k8s-fw-l7").Context(ctx).Do())
	done(svc.GlobalAddresses.Delete(project, "fed-ingress-ip").Context(ctx).Do())

	for _, c := range []string{"globalAddresses", "healthChecks", "backendServices", "urlMaps", "targetHttpProxies",
		"globalForwardingRules", "firewalls", "instanceGroups", "instances"} {
		if got := s.Names(project, c); len(got) != 0 {
			t.Errorf("%s left after teardown: %v", c, got)
		}
	}
	want := map[string]int{
		"globalForwardingRules.delete": 1, "targetHttpProxies.delete": 1, "urlMaps.delete": 1, "backendServices.delete": 1,
		"healthChecks.delete": 1, "instanceGroups.delete": 1, "instances.delete": 2, "firewalls.delete": 1, "globalAddresses.delete": 1,
	}
	if diff := cmp.Diff(want, s.Requests()); diff != "" {
		t.Errorf("teardown requests (-want +got):\n%s", diff)
	}
}

// listed returns the sorted names of a list response's items.
func listed[L, T any](l *L, err error, items func(*L) []*T, name func(*T) string) ([]string, error) {
	if err != nil {
		return nil, err
	}
	return names(items(l), name), nil
}
