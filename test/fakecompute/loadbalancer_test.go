package fakecompute_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/compute/v1"
)

func TestGlobalAddresses(t *testing.T) {
	s, svc, done := start(t)
	ctx := t.Context()
	done(svc.GlobalAddresses.Insert(project, &compute.Address{Name: "auto"}).Context(ctx).Do())
	done(svc.GlobalAddresses.Insert(project, &compute.Address{Name: "given", Address: "34.120.7.7"}).Context(ctx).Do())
	a, err := svc.GlobalAddresses.Get(project, "auto").Context(ctx).Do()
	if err != nil || a.Address != "34.120.0.1" || a.Status != "RESERVED" || len(a.Users) != 0 || a.AddressType != "EXTERNAL" || a.Kind != "compute#address" {
		t.Errorf("address reserved without an IP = %+v, %v", a, err)
	}
	// The next free IP is handed out, in any project.
	done(svc.GlobalAddresses.Insert("other-project", &compute.Address{Name: "auto"}).Context(ctx).Do())
	if a, _ := svc.GlobalAddresses.Get("other-project", "auto").Context(ctx).Do(); a == nil || a.Address != "34.120.0.2" {
		t.Errorf("second address = %+v, want 34.120.0.2", a)
	}
	for _, tc := range []struct {
		name string
		in   *compute.Address
	}{
		{"IP taken", &compute.Address{Name: "taken", Address: "34.120.7.7"}},
		{"IP taken in another project", &compute.Address{Name: "taken", Address: "34.120.0.2"}},
		{"not an IP", &compute.Address{Name: "bad", Address: "34.120.7"}},
		{"IPv6", &compute.Address{Name: "v6", IpVersion: "IPV6"}},
		{"internal", &compute.Address{Name: "internal", AddressType: "INTERNAL"}},
		{"standard tier", &compute.Address{Name: "standard", NetworkTier: "STANDARD"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.GlobalAddresses.Insert(project, tc.in).Context(ctx).Do()
			wantAPIError(t, err, 400, "invalid")
		})
	}
	l, err := svc.GlobalAddresses.List(project).Context(ctx).Do()
	if err != nil || l.Kind != "compute#addressList" {
		t.Fatalf("list = %+v, %v", l, err)
	}
	if diff := cmp.Diff([]string{"auto", "given"}, names(l.Items, func(a *compute.Address) string { return a.Name })); diff != "" {
		t.Errorf("addresses (-want +got):\n%s", diff)
	}
	done(svc.GlobalAddresses.Delete(project, "given").Context(ctx).Do())
	if diff := cmp.Diff([]string{"auto"}, s.Names(project, "globalAddresses")); diff != "" {
		t.Errorf("addresses after delete (-want +got):\n%s", diff)
	}
}

func TestHealthChecks(t *testing.T) {
	_, svc, done := start(t)
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		in   *compute.HealthCheck
	}{
		{"no type", &compute.HealthCheck{Name: "hc"}},
		{"unknown type", &compute.HealthCheck{Name: "hc", Type: "UDP"}},
		{"settings of another type", &compute.HealthCheck{Name: "hc", Type: "HTTP", TcpHealthCheck: &compute.TCPHealthCheck{Port: 80}}},
		{"port out of range", &compute.HealthCheck{Name: "hc", Type: "HTTP", HttpHealthCheck: &compute.HTTPHealthCheck{Port: 70000}}},
		{"relative request path", &compute.HealthCheck{Name: "hc", Type: "HTTP", HttpHealthCheck: &compute.HTTPHealthCheck{RequestPath: "healthz"}}},
		{"timeout above interval", &compute.HealthCheck{Name: "hc", Type: "HTTP", CheckIntervalSec: 5, TimeoutSec: 10}},
		{"bad port specification", &compute.HealthCheck{Name: "hc", Type: "HTTP", HttpHealthCheck: &compute.HTTPHealthCheck{PortSpecification: "ANY"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.HealthChecks.Insert(project, tc.in).Context(ctx).Do()
			wantAPIError(t, err, 400, "invalid")
		})
	}

	hc := &compute.HealthCheck{Name: "hc", Type: "HTTP", HttpHealthCheck: &compute.HTTPHealthCheck{Port: 30001, RequestPath: "/healthz"}}
	done(svc.HealthChecks.Insert(project, hc).Context(ctx).Do())
	got, err := svc.HealthChecks.Get(project, "hc").Context(ctx).Do()
	if err != nil || got.HttpHealthCheck.Port != 30001 || got.HttpHealthCheck.RequestPath != "/healthz" {
		t.Fatalf("health check = %+v, %v", got, err)
	}
	got.HttpHealthCheck.RequestPath = "/ready"
	done(svc.HealthChecks.Update(project, "hc", got).Context(ctx).Do())
	done(svc.HealthChecks.Patch(project, "hc", &compute.HealthCheck{CheckIntervalSec: 10}).Context(ctx).Do())
	got, err = svc.HealthChecks.Get(project, "hc").Context(ctx).Do()
	if err != nil || got.HttpHealthCheck.RequestPath != "/ready" || got.CheckIntervalSec != 10 || got.TimeoutSec != 5 {
		t.Errorf("health check after update and patch = %+v %+v, %v", got, got.HttpHealthCheck, err)
	}
	_, err = svc.HealthChecks.Update(project, "hc", &compute.HealthCheck{Name: "other", Type: "HTTP"}).Context(ctx).Do()
	wantAPIError(t, err, 400, "invalid")
}

func TestBackendServices(t *testing.T) {
	s, svc, done := start(t)
	ctx := t.Context()
	done(svc.HealthChecks.Insert(project, &compute.HealthCheck{Name: "hc", Type: "HTTP"}).Context(ctx).Do())
	done(svc.HealthChecks.Insert(project, &compute.HealthCheck{Name: "hc2", Type: "HTTP"}).Context(ctx).Do())
	done(svc.Instances.Insert(project, zoneA, &compute.Instance{Name: "vm",
		NetworkInterfaces: []*compute.NetworkInterface{{NetworkIP: "10.0.0.2"}}}).Context(ctx).Do())
	done(svc.InstanceGroups.Insert(project, zoneA, &compute.InstanceGroup{Name: "ig",
		NamedPorts: []*compute.NamedPort{{Name: "http", Port: 30080}}}).Context(ctx).Do())
	done(svc.InstanceGroups.AddInstances(project, zoneA, "ig", &compute.InstanceGroupsAddInstancesRequest{
		Instances: []*compute.InstanceReference{{Instance: "zones/us-central1-a/instances/vm"}}}).Context(ctx).Do())
	igLink := s.Endpoint() + "projects/test-project/zones/us-central1-a/instanceGroups/ig"

	for _, tc := range []struct {
		name   string
		in     *compute.BackendService
		code   int
		reason string
	}{
		{"missing health check", &compute.BackendService{Name: "bs", HealthChecks: []string{"global/healthChecks/nope"}}, 404, "notFound"},
		{"two health checks", &compute.BackendService{Name: "bs", HealthChecks: []string{"global/healthChecks/hc", "global/healthChecks/hc2"}}, 400, "invalid"},
		{"missing group", &compute.BackendService{Name: "bs", HealthChecks: []string{"global/healthChecks/hc"},
			Backends: []*compute.Backend{{Group: "zones/us-central1-a/instanceGroups/nope"}}}, 404, "notFound"},
		{"group in another zone", &compute.BackendService{Name: "bs", HealthChecks: []string{"global/healthChecks/hc"},
			Backends: []*compute.Backend{{Group: "zones/us-central1-b/instanceGroups/ig"}}}, 404, "notFound"},
		{"backends without health check", &compute.BackendService{Name: "bs", Backends: []*compute.Backend{{Group: igLink}}}, 400, "invalid"},
		{"same group twice", &compute.BackendService{Name: "bs", HealthChecks: []string{"global/healthChecks/hc"},
			Backends: []*compute.Backend{{Group: igLink}, {Group: igLink}}}, 400, "invalid"},
		{"bad balancing mode", &compute.BackendService{Name: "bs", HealthChecks: []string{"global/healthChecks/hc"},
			Backends: []*compute.Backend{{Group: igLink, BalancingMode: "ANY"}}}, 400, "invalid"},
		{"regional scheme", &compute.BackendService{Name: "bs", LoadBalancingScheme: "INTERNAL"}, 400, "invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.BackendServices.Insert(project, tc.in).Context(ctx).Do()
			wantAPIError(t, err, tc.code, tc.reason)
		})
	}

	in := &compute.BackendService{
		Name:               "bs",
		HealthChecks:       []string{"projects/test-project/global/healthChecks/hc"},
		Backends:           []*compute.Backend{{Group: "zones/us-central1-a/instanceGroups/ig"}},
		ConnectionDraining: &compute.ConnectionDraining{DrainingTimeoutSec: 30},
	}
	done(svc.BackendServices.Insert(project, in).Context(ctx).Do())
	bs, err := svc.BackendServices.Get(project, "bs").Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	// References are stored as full links; defaults are filled in; what the
	// fake does not read is kept.
	if bs.HealthChecks[0] != s.Endpoint()+"projects/test-project/global/healthChecks/hc" || bs.Backends[0].Group != igLink ||
		bs.Protocol != "HTTP" || bs.PortName != "http" || bs.TimeoutSec != 30 || bs.Backends[0].BalancingMode != "UTILIZATION" ||
		bs.Backends[0].CapacityScaler != 1 || bs.ConnectionDraining == nil || bs.ConnectionDraining.DrainingTimeoutSec != 30 || bs.Fingerprint == "" {
		t.Errorf("backend service = %+v", bs)
	}

	// Optimistic locking: a stale fingerprint is refused, the current one
	// or none is let through, and every change makes a new one.
	stale := bs.Fingerprint
	bs.TimeoutSec = 60
	done(svc.BackendServices.Update(project, "bs", bs).Context(ctx).Do())
	_, err = svc.BackendServices.Update(project, "bs", bs).Context(ctx).Do()
	wantAPIError(t, err, 412, "conditionNotMet")
	_, err = svc.BackendServices.Patch(project, "bs", &compute.BackendService{Fingerprint: stale, TimeoutSec: 90}).Context(ctx).Do()
	wantAPIError(t, err, 412, "conditionNotMet")
	done(svc.BackendServices.Patch(project, "bs", &compute.BackendService{TimeoutSec: 90, HealthChecks: []string{"global/healthChecks/hc2"}}).Context(ctx).Do())
	got, err := svc.BackendServices.Get(project, "bs").Context(ctx).Do()
	if err != nil || got.TimeoutSec != 90 || got.Fingerprint == stale || got.Fingerprint == bs.Fingerprint ||
		len(got.Backends) != 1 || got.HealthChecks[0] != s.Endpoint()+"projects/test-project/global/healthChecks/hc2" {
		t.Errorf("backend service after update and patch = %+v, %v", got, err)
	}
	// The health check it no longer uses can go; the one it uses cannot.
	done(svc.HealthChecks.Delete(project, "hc").Context(ctx).Do())
	_, err = svc.HealthChecks.Delete(project, "hc2").Context(ctx).Do()
	wantAPIError(t, err, 400, "resourceInUseByAnotherResource")

	health, err := svc.BackendServices.GetHealth(project, "bs", &compute.ResourceGroupReference{Group: igLink}).Context(ctx).Do()
	if err != nil || len(health.HealthStatus) != 1 || health.HealthStatus[0].HealthState != "HEALTHY" ||
		health.HealthStatus[0].Port != 30080 || health.HealthStatus[0].IpAddress != "10.0.0.2" {
		t.Errorf("health = %+v, %v", health, err)
	}
	done(svc.InstanceGroups.Insert(project, zoneB, &compute.InstanceGroup{Name: "ig"}).Context(ctx).Do())
	_, err = svc.BackendServices.GetHealth(project, "bs", &compute.ResourceGroupReference{Group: "zones/us-central1-b/instanceGroups/ig"}).Context(ctx).Do()
	wantAPIError(t, err, 400, "invalid")
}

func TestURLMaps(t *testing.T) {
	_, svc, done := start(t)
	ctx := t.Context()
	done(svc.HealthChecks.Insert(project, &compute.HealthCheck{Name: "hc", Type: "HTTP"}).Context(ctx).Do())
	for _, name := range []string{"default", "api"} {
		done(svc.BackendServices.Insert(project, &compute.BackendService{Name: name, HealthChecks: []string{"global/healthChecks/hc"}}).Context(ctx).Do())
	}
	matcher := func(paths ...string) []*compute.PathMatcher {
		return []*compute.PathMatcher{{Name: "m", DefaultService: "global/backendServices/default",
			PathRules: []*compute.PathRule{{Paths: paths, Service: "global/backendServices/api"}}}}
	}
	hosts := func(h ...string) []*compute.HostRule { return []*compute.HostRule{{Hosts: h, PathMatcher: "m"}} }
	for _, tc := range []struct {
		name   string
		in     *compute.UrlMap
		code   int
		reason string
	}{
		{"no default", &compute.UrlMap{Name: "um"}, 400, "invalid"},
		{"missing default service", &compute.UrlMap{Name: "um", DefaultService: "global/backendServices/nope"}, 404, "notFound"},
		{"missing path rule service", &compute.UrlMap{Name: "um", DefaultService: "global/backendServices/default",
			PathMatchers: []*compute.PathMatcher{{Name: "m", DefaultService: "global/backendServices/default",
				PathRules: []*compute.PathRule{{Paths: []string{"/x"}, Service: "global/backendServices/nope"}}}}}, 404, "notFound"},
		{"host rule to no matcher", &compute.UrlMap{Name: "um", DefaultService: "global/backendServices/default", HostRules: hosts("a.example.com")}, 400, "invalid"},
		{"path without slash", &compute.UrlMap{Name: "um", DefaultService: "global/backendServices/default", PathMatchers: matcher("api")}, 400, "invalid"},
		{"star inside a path", &compute.UrlMap{Name: "um", DefaultService: "global/backendServices/default", PathMatchers: matcher("/a*/b")}, 400, "invalid"},
		{"bad host", &compute.UrlMap{Name: "um", DefaultService: "global/backendServices/default", PathMatchers: matcher("/api/*"), HostRules: hosts("a b")}, 400, "invalid"},
		{"host in two rules", &compute.UrlMap{Name: "um", DefaultService: "global/backendServices/default", PathMatchers: matcher("/api/*"),
			HostRules: append(hosts("a.example.com"), hosts("a.example.com")...)}, 400, "invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.UrlMaps.Insert(project, tc.in).Context(ctx).Do()
			wantAPIError(t, err, tc.code, tc.reason)
		})
	}

	in := &compute.UrlMap{Name: "um", DefaultService: "global/backendServices/default", PathMatchers: matcher("/api", "/api/*"), HostRules: hosts("*.example.com", "example.com")}
	done(svc.UrlMaps.Insert(project, in).Context(ctx).Do())
	um, err := svc.UrlMaps.Get(project, "um").Context(ctx).Do()
	if err != nil || um.Fingerprint == "" || len(um.PathMatchers) != 1 || len(um.PathMatchers[0].PathRules[0].Paths) != 2 {
		t.Fatalf("URL map = %+v, %v", um, err)
	}
	_, err = svc.BackendServices.Delete(project, "api").Context(ctx).Do()
	wantAPIError(t, err, 400, "resourceInUseByAnotherResource")

	stale := um.Fingerprint
	um.PathMatchers, um.HostRules = nil, nil
	done(svc.UrlMaps.Update(project, "um", um).Context(ctx).Do())
	_, err = svc.UrlMaps.Update(project, "um", um).Context(ctx).Do()
	wantAPIError(t, err, 412, "conditionNotMet")
	_, err = svc.UrlMaps.Patch(project, "um", &compute.UrlMap{Fingerprint: stale, DefaultService: "global/backendServices/api"}).Context(ctx).Do()
	wantAPIError(t, err, 412, "conditionNotMet")
	// The update dropped the path rules, so api is free to go.
	done(svc.BackendServices.Delete(project, "api").Context(ctx).Do())
}

func TestForwardingRules(t *testing.T) {
	s, svc, done := start(t)
	ctx := t.Context()
	lb := newLoadBalancer(t, svc, done, "lb")
	done(svc.GlobalAddresses.Insert(project, &compute.Address{Name: "ip"}).Context(ctx).Do())
	done(svc.TargetHttpProxies.Insert(project, &compute.TargetHttpProxy{Name: "other", UrlMap: lb.urlMap}).Context(ctx).Do())

	for _, tc := range []struct {
		name   string
		in     *compute.ForwardingRule
		code   int
		reason string
	}{
		{"no target", &compute.ForwardingRule{Name: "fr"}, 400, "invalid"},
		{"missing target", &compute.ForwardingRule{Name: "fr", Target: "global/targetHttpProxies/nope"}, 404, "notFound"},
		{"missing address", &compute.ForwardingRule{Name: "fr", Target: lb.proxy, IPAddress: "global/addresses/nope"}, 404, "notFound"},
		{"IP nobody reserved", &compute.ForwardingRule{Name: "fr", Target: lb.proxy, IPAddress: "34.120.99.1"}, 400, "invalid"},
		{"port a proxy does not serve", &compute.ForwardingRule{Name: "fr", Target: lb.proxy, PortRange: "443"}, 400, "invalid"},
		{"UDP", &compute.ForwardingRule{Name: "fr", Target: lb.proxy, IPProtocol: "UDP"}, 400, "invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.GlobalForwardingRules.Insert(project, tc.in).Context(ctx).Do()
			wantAPIError(t, err, tc.code, tc.reason)
		})
	}

	// An ephemeral IP comes from the pool, past the reserved ones.
	done(svc.GlobalForwardingRules.Insert(project, &compute.ForwardingRule{Name: "ephemeral", Target: lb.proxy}).Context(ctx).Do())
	// The address by reference, then by its IP on another port: both use it.
	done(svc.GlobalForwardingRules.Insert(project, &compute.ForwardingRule{Name: "by-ref", Target: lb.proxy,
		IPAddress: "global/addresses/ip"}).Context(ctx).Do())
	done(svc.GlobalForwardingRules.Insert(project, &compute.ForwardingRule{Name: "by-ip", Target: lb.proxy,
		IPAddress: "34.120.0.1", PortRange: "8080"}).Context(ctx).Do())
	_, err := svc.GlobalForwardingRules.Insert(project, &compute.ForwardingRule{Name: "same-port", Target: lb.proxy,
		IPAddress: "34.120.0.1", PortRange: "80-80"}).Context(ctx).Do()
	wantAPIError(t, err, 400, "invalid")

	frLink := s.Endpoint() + "projects/test-project/global/forwardingRules/"
	for name, want := range map[string]*compute.ForwardingRule{
		"ephemeral": {IPAddress: "34.120.0.2", PortRange: "80-80", Target: lb.proxyLink},
		"by-ref":    {IPAddress: "34.120.0.1", PortRange: "80-80", Target: lb.proxyLink},
		"by-ip":     {IPAddress: "34.120.0.1", PortRange: "8080-8080", Target: lb.proxyLink},
	} {
		fr, err := svc.GlobalForwardingRules.Get(project, name).Context(ctx).Do()
		if err != nil || fr.IPAddress != want.IPAddress || fr.PortRange != want.PortRange || fr.Target != want.Target || fr.IPProtocol != "TCP" || fr.SelfLink != frLink+name {
			t.Errorf("forwarding rule %s = %+v, %v; want %+v", name, fr, err, want)
		}
	}
	a, err := svc.GlobalAddresses.Get(project, "ip").Context(ctx).Do()
	if err != nil || a.Status != "IN_USE" {
		t.Errorf("address used by two rules = %+v, %v", a, err)
	} else if diff := cmp.Diff([]string{frLink + "by-ip", frLink + "by-ref"}, a.Users); diff != "" {
		t.Errorf("address users (-want +got):\n%s", diff)
	}
	_, err = svc.GlobalAddresses.Delete(project, "ip").Context(ctx).Do()
	wantAPIError(t, err, 400, "resourceInUseByAnotherResource")

	// setTarget moves a rule to another proxy, which is then in use.
	fr, _ := svc.GlobalForwardingRules.Get(project, "by-ip").Context(ctx).Do()
	op := done(svc.GlobalForwardingRules.SetTarget(project, "by-ip", &compute.TargetReference{Target: "global/targetHttpProxies/other"}).Context(ctx).Do())
	moved, err := svc.GlobalForwardingRules.Get(project, "by-ip").Context(ctx).Do()
	if err != nil || moved.Target != s.Endpoint()+"projects/test-project/global/targetHttpProxies/other" || moved.Fingerprint == fr.Fingerprint ||
		moved.IPAddress != fr.IPAddress || op.OperationType != "setTarget" {
		t.Errorf("after setTarget: %+v, %v", moved, err)
	}
	_, err = svc.TargetHttpProxies.Delete(project, "other").Context(ctx).Do()
	wantAPIError(t, err, 400, "resourceInUseByAnotherResource")
	_, err = svc.GlobalForwardingRules.SetTarget(project, "by-ip", &compute.TargetReference{Target: "global/targetHttpProxies/nope"}).Context(ctx).Do()
	wantAPIError(t, err, 404, "notFound")
	// A patch that moves a rule off the address frees it.
	done(svc.GlobalAddresses.Insert(project, &compute.Address{Name: "ip2"}).Context(ctx).Do())
	done(svc.GlobalForwardingRules.Patch(project, "by-ip", &compute.ForwardingRule{IPAddress: "global/addresses/ip2"}).Context(ctx).Do())
	done(svc.GlobalForwardingRules.Delete(project, "by-ref").Context(ctx).Do())
	if a, _ := svc.GlobalAddresses.Get(project, "ip2").Context(ctx).Do(); a == nil || a.Status != "IN_USE" || a.Address != "34.120.0.3" {
		t.Errorf("address a patched rule moved to = %+v", a)
	}
	if a, _ := svc.GlobalAddresses.Get(project, "ip").Context(ctx).Do(); a == nil || a.Status != "RESERVED" || len(a.Users) != 0 {
		t.Errorf("address no rule uses = %+v", a)
	}
}

func TestReferenceForms(t *testing.T) {
	s, svc, done := start(t)
	ctx := t.Context()
	lb := newLoadBalancer(t, svc, done, "lb")
	for i, form := range []string{
		lb.urlMap,
		"projects/test-project/global/urlMaps/lb",
		"https://www.googleapis.com/compute/v1/projects/test-project/global/urlMaps/lb",
		"https://compute.googleapis.com/compute/beta/projects/test-project/global/urlMaps/lb",
		s.Endpoint() + "projects/test-project/global/urlMaps/lb",
	} {
		done(svc.TargetHttpProxies.SetUrlMap(project, "lb", &compute.UrlMapReference{UrlMap: form}).Context(ctx).Do())
		p, err := svc.TargetHttpProxies.Get(project, "lb").Context(ctx).Do()
		if err != nil || p.UrlMap != s.Endpoint()+"projects/test-project/global/urlMaps/lb" {
			t.Errorf("form %d %q stored as %q, %v", i, form, p.UrlMap, err)
		}
	}
	for _, bad := range []string{"lb", "urlMaps/lb", "global/urlMaps", "https://example.com/projects/test-project/global/urlMaps/lb", "zones/us-central1-a/urlMaps/lb"} {
		_, err := svc.TargetHttpProxies.SetUrlMap(project, "lb", &compute.UrlMapReference{UrlMap: bad}).Context(ctx).Do()
		wantAPIError(t, err, 400, "invalid")
	}
	if got := s.Requests()["targetHttpProxies.setUrlMap"]; got != 10 {
		t.Errorf("targetHttpProxies.setUrlMap counted %d times, want 10", got)
	}

	// patch goes through the same rules as insert.
	done(svc.TargetHttpProxies.Patch(project, "lb", &compute.TargetHttpProxy{Description: "edge"}).Context(ctx).Do())
	_, err := svc.TargetHttpProxies.Patch(project, "lb", &compute.TargetHttpProxy{UrlMap: "global/urlMaps/nope"}).Context(ctx).Do()
	wantAPIError(t, err, 404, "notFound")
	p, err := svc.TargetHttpProxies.Get(project, "lb").Context(ctx).Do()
	if err != nil || p.Description != "edge" || p.UrlMap != lb.urlMap {
		t.Errorf("proxy after patch = %+v, %v", p, err)
	}
}

// loadBalancer is the chain a forwarding rule needs, all named name: health
// check, backend service, URL map and target proxy.
type loadBalancer struct {
	urlMap, proxy, proxyLink string
}

func newLoadBalancer(t *testing.T, svc *compute.Service, done func(*compute.Operation, error) *compute.Operation, name string) loadBalancer {
	t.Helper()
	ctx := t.Context()
	done(svc.HealthChecks.Insert(project, &compute.HealthCheck{Name: name, Type: "HTTP"}).Context(ctx).Do())
	done(svc.BackendServices.Insert(project, &compute.BackendService{Name: name, HealthChecks: []string{"global/healthChecks/" + name}}).Context(ctx).Do())
	done(svc.UrlMaps.Insert(project, &compute.UrlMap{Name: name, DefaultService: "global/backendServices/" + name}).Context(ctx).Do())
	um, _ := svc.UrlMaps.Get(project, name).Context(ctx).Do()
	op := done(svc.TargetHttpProxies.Insert(project, &compute.TargetHttpProxy{Name: name, UrlMap: um.SelfLink}).Context(ctx).Do())
	return loadBalancer{urlMap: um.SelfLink, proxy: "global/targetHttpProxies/" + name, proxyLink: op.TargetLink}
}
