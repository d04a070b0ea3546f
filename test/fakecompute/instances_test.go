package fakecompute_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/compute/v1"
)

func TestInstances(t *testing.T) {
	s, svc, done := start(t)
	ctx := t.Context()
	for _, vm := range []struct{ zone, name string }{{zoneA, "a-1"}, {zoneA, "a-2"}, {zoneB, "b-1"}} {
		done(svc.Instances.Insert(project, vm.zone, &compute.Instance{Name: vm.name, Tags: &compute.Tags{Items: []string{"web"}}}).Context(ctx).Do())
	}
	_, err := svc.Instances.Insert(project, zoneA, &compute.Instance{Name: "bad-tag", Tags: &compute.Tags{Items: []string{"Web"}}}).Context(ctx).Do()
	wantAPIError(t, err, 400, "invalid")

	vm, err := svc.Instances.Get(project, zoneA, "a-1").Context(ctx).Do()
	if err != nil || vm.Tags == nil || vm.Tags.Fingerprint == "" {
		t.Fatalf("instance = %+v, %v", vm, err)
	}
	stale := vm.Tags.Fingerprint
	op := done(svc.Instances.SetTags(project, zoneA, "a-1", &compute.Tags{Items: []string{"web", "lb"}, Fingerprint: stale}).Context(ctx).Do())
	if op.OperationType != "setTags" || op.Zone == "" {
		t.Errorf("setTags operation = %+v", op)
	}
	_, err = svc.Instances.SetTags(project, zoneA, "a-1", &compute.Tags{Items: []string{"web"}, Fingerprint: stale}).Context(ctx).Do()
	wantAPIError(t, err, 412, "conditionNotMet")
	vm, err = svc.Instances.Get(project, zoneA, "a-1").Context(ctx).Do()
	if err != nil || vm.Tags.Fingerprint == stale {
		t.Fatalf("instance after setTags = %+v, %v", vm, err)
	} else if diff := cmp.Diff([]string{"web", "lb"}, vm.Tags.Items); diff != "" {
		t.Errorf("tags after setTags (-want +got):\n%s", diff)
	}

	// aggregatedList pages across zones.
	var got []string
	err = svc.Instances.AggregatedList(project).MaxResults(2).Pages(ctx, func(l *compute.InstanceAggregatedList) error {
		for zone, scoped := range l.Items {
			for _, vm := range scoped.Instances {
				got = append(got, zone+"/"+vm.Name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	want := []string{"zones/us-central1-a/a-1", "zones/us-central1-a/a-2", "zones/us-central1-b/b-1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("aggregated instances (-want +got):\n%s", diff)
	}
	l, err := svc.Instances.List(project, zoneB).Context(ctx).Do()
	if err != nil || len(l.Items) != 1 || l.Items[0].Name != "b-1" {
		t.Errorf("instances of %s = %+v, %v", zoneB, l, err)
	}
	done(svc.Instances.Delete(project, zoneB, "b-1").Context(ctx).Do())
	if diff := cmp.Diff([]string{"a-1", "a-2"}, s.Names(project, "instances")); diff != "" {
		t.Errorf("instances after delete (-want +got):\n%s", diff)
	}
}

func TestInstanceGroups(t *testing.T) {
	s, svc, done := start(t)
	ctx := t.Context()
	for _, vm := range []struct{ zone, name string }{{zoneA, "a-1"}, {zoneA, "a-2"}, {zoneA, "a-3"}, {zoneB, "b-1"}} {
		done(svc.Instances.Insert(project, vm.zone, &compute.Instance{Name: vm.name}).Context(ctx).Do())
	}
	done(svc.InstanceGroups.Insert(project, zoneA, &compute.InstanceGroup{Name: "ig"}).Context(ctx).Do())
	done(svc.InstanceGroups.Insert(project, zoneB, &compute.InstanceGroup{Name: "ig"}).Context(ctx).Do())
	_, err := svc.InstanceGroups.Insert(project, zoneA, &compute.InstanceGroup{Name: "bad", NamedPorts: []*compute.NamedPort{{Name: "http", Port: 0}}}).Context(ctx).Do()
	wantAPIError(t, err, 400, "invalid")

	add := func(links ...string) (*compute.Operation, error) {
		req := &compute.InstanceGroupsAddInstancesRequest{}
		for _, l := range links {
			req.Instances = append(req.Instances, &compute.InstanceReference{Instance: l})
		}
		return svc.InstanceGroups.AddInstances(project, zoneA, "ig", req).Context(ctx).Do()
	}
	a1 := s.Endpoint() + "projects/test-project/zones/us-central1-a/instances/a-1"
	op := done(add(a1, "zones/us-central1-a/instances/a-2", "projects/test-project/zones/us-central1-a/instances/a-3"))
	if op.OperationType != "addInstances" {
		t.Errorf("addInstances operation = %+v", op)
	}
	for _, tc := range []struct {
		name   string
		link   string
		code   int
		reason string
	}{
		{"member already", a1, 400, "memberAlreadyExists"},
		{"another zone", "zones/us-central1-b/instances/b-1", 400, "invalid"},
		{"missing instance", "zones/us-central1-a/instances/nope", 404, "notFound"},
		{"not an instance", "zones/us-central1-a/instanceGroups/ig", 400, "invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := add(tc.link)
			wantAPIError(t, err, tc.code, tc.reason)
		})
	}

	ig, err := svc.InstanceGroups.Get(project, zoneA, "ig").Context(ctx).Do()
	if err != nil || ig.Size != 3 || ig.Fingerprint == "" || ig.Zone != s.Endpoint()+"projects/test-project/zones/us-central1-a" {
		t.Fatalf("instance group = %+v, %v", ig, err)
	}
	// The fingerprint guards the named ports.
	stale := ig.Fingerprint
	done(svc.InstanceGroups.SetNamedPorts(project, zoneA, "ig", &compute.InstanceGroupsSetNamedPortsRequest{
		Fingerprint: stale, NamedPorts: []*compute.NamedPort{{Name: "http", Port: 30080}}}).Context(ctx).Do())
	_, err = svc.InstanceGroups.SetNamedPorts(project, zoneA, "ig", &compute.InstanceGroupsSetNamedPortsRequest{
		Fingerprint: stale, NamedPorts: []*compute.NamedPort{{Name: "http", Port: 30081}}}).Context(ctx).Do()
	wantAPIError(t, err, 412, "conditionNotMet")

	var members []string
	err = svc.InstanceGroups.ListInstances(project, zoneA, "ig", &compute.InstanceGroupsListInstancesRequest{InstanceState: "ALL"}).
		MaxResults(2).Pages(ctx, func(l *compute.InstanceGroupsListInstances) error {
		for _, it := range l.Items {
			if it.Status != "RUNNING" || len(it.NamedPorts) != 1 || it.NamedPorts[0].Port != 30080 {
				t.Errorf("member %+v", it)
			}
			members = append(members, it.Instance)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 3 || members[0] != a1 {
		t.Errorf("members = %v", members)
	}

	// A member leaves by removeInstances or by being deleted; removing a
	// non-member is not an error.
	done(svc.InstanceGroups.RemoveInstances(project, zoneA, "ig", &compute.InstanceGroupsRemoveInstancesRequest{
		Instances: []*compute.InstanceReference{{Instance: a1}, {Instance: "zones/us-central1-a/instances/nope"}}}).Context(ctx).Do())
	done(svc.Instances.Delete(project, zoneA, "a-2").Context(ctx).Do())
	ig, err = svc.InstanceGroups.Get(project, zoneA, "ig").Context(ctx).Do()
	if err != nil || ig.Size != 1 || ig.Fingerprint == stale || len(ig.NamedPorts) != 1 {
		t.Errorf("instance group after removals = %+v, %v", ig, err)
	}

	var groups []string
	err = svc.InstanceGroups.AggregatedList(project).Pages(ctx, func(l *compute.InstanceGroupAggregatedList) error {
		for zone, scoped := range l.Items {
			for _, g := range scoped.InstanceGroups {
				groups = append(groups, zone+"/"+g.Name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(groups)
	if diff := cmp.Diff([]string{"zones/us-central1-a/ig", "zones/us-central1-b/ig"}, groups); diff != "" {
		t.Errorf("aggregated groups (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ig", "ig"}, s.Names(project, "instanceGroups")); diff != "" {
		t.Errorf("instance group names (-want +got):\n%s", diff)
	}
	done(svc.InstanceGroups.Delete(project, zoneB, "ig").Context(ctx).Do())
}

func TestFirewalls(t *testing.T) {
	_, svc, done := start(t)
	ctx := t.Context()
	tcp := func(ports ...string) []*compute.FirewallAllowed {
		return []*compute.FirewallAllowed{{IPProtocol: "tcp", Ports: ports}}
	}
	for _, tc := range []struct {
		name string
		in   *compute.Firewall
	}{
		{"no rules", &compute.Firewall{Name: "fw"}},
		{"allowed and denied", &compute.Firewall{Name: "fw", Allowed: tcp(), Denied: []*compute.FirewallDenied{{IPProtocol: "udp"}}}},
		{"bad protocol", &compute.Firewall{Name: "fw", Allowed: []*compute.FirewallAllowed{{IPProtocol: "http"}}}},
		{"protocol number out of range", &compute.Firewall{Name: "fw", Allowed: []*compute.FirewallAllowed{{IPProtocol: "256"}}}},
		{"ports on icmp", &compute.Firewall{Name: "fw", Allowed: []*compute.FirewallAllowed{{IPProtocol: "icmp", Ports: []string{"80"}}}}},
		{"port out of range", &compute.Firewall{Name: "fw", Allowed: tcp("65536")}},
		{"reversed range", &compute.Firewall{Name: "fw", Allowed: tcp("30010-30000")}},
		{"open range", &compute.Firewall{Name: "fw", Allowed: tcp("30000-")}},
		{"bad source range", &compute.Firewall{Name: "fw", Allowed: tcp("80"), SourceRanges: []string{"130.211.0.0/33"}}},
		{"source range of words", &compute.Firewall{Name: "fw", Allowed: tcp("80"), SourceRanges: []string{"anywhere"}}},
		{"bad target tag", &compute.Firewall{Name: "fw", Allowed: tcp("80"), TargetTags: []string{"Web"}}},
		{"bad direction", &compute.Firewall{Name: "fw", Allowed: tcp("80"), Direction: "INBOUND"}},
		{"bad priority", &compute.Firewall{Name: "fw", Allowed: tcp("80"), Priority: 70000}},
		{"network that is no network", &compute.Firewall{Name: "fw", Allowed: tcp("80"), Network: "global/firewalls/default"}},
		{"tags and service accounts", &compute.Firewall{Name: "fw", Allowed: tcp("80"), TargetTags: []string{"web"}, TargetServiceAccounts: []string{"a@b"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Firewalls.Insert(project, tc.in).Context(ctx).Do()
			wantAPIError(t, err, 400, "invalid")
		})
	}

	in := &compute.Firewall{
		Name:         "l7-lb",
		Allowed:      tcp("80", "30000-32767"),
		SourceRanges: []string{"130.211.0.0/22", "35.191.0.0/16"},
		TargetTags:   []string{"gke-node"},
	}
	done(svc.Firewalls.Insert(project, in).Context(ctx).Do())
	done(svc.Firewalls.Insert(project, &compute.Firewall{Name: "open", Allowed: []*compute.FirewallAllowed{{IPProtocol: "all"}}}).Context(ctx).Do())
	open, err := svc.Firewalls.Get(project, "open").Context(ctx).Do()
	if err != nil || open.Direction != "INGRESS" || open.Priority != 1000 || !cmp.Equal(open.SourceRanges, []string{"0.0.0.0/0"}) ||
		open.Network != svc.BasePath+"projects/test-project/global/networks/default" {
		t.Errorf("firewall with defaults = %+v, %v", open, err)
	}

	fw, err := svc.Firewalls.Get(project, "l7-lb").Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	fw.TargetTags = []string{"gke-node", "gke-node-2"}
	done(svc.Firewalls.Update(project, "l7-lb", fw).Context(ctx).Do())
	done(svc.Firewalls.Patch(project, "l7-lb", &compute.Firewall{SourceRanges: []string{"130.211.0.0/22"}}).Context(ctx).Do())
	_, err = svc.Firewalls.Patch(project, "l7-lb", &compute.Firewall{SourceRanges: []string{"not-a-range"}}).Context(ctx).Do()
	wantAPIError(t, err, 400, "invalid")
	got, err := svc.Firewalls.Get(project, "l7-lb").Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	want := &compute.Firewall{
		Allowed:      tcp("80", "30000-32767"),
		SourceRanges: []string{"130.211.0.0/22"},
		TargetTags:   []string{"gke-node", "gke-node-2"},
	}
	if diff := cmp.Diff(want, &compute.Firewall{Allowed: got.Allowed, SourceRanges: got.SourceRanges, TargetTags: got.TargetTags}); diff != "" {
		t.Errorf("firewall after update and patch (-want +got):\n%s", diff)
	}
}
