package gce_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	compute "google.golang.org/api/compute/v1"
	"google.golang.org/api/option"

	"github.com/kfederation/federation/pkg/googlecloud/gce"
	"github.com/kfederation/federation/test/fakecompute"
)

const project = "p"

func newCloud(t *testing.T) (*gce.Cloud, *compute.Service, *fakecompute.Server) {
	t.Helper()
	s := fakecompute.New()
	s.Start()
	t.Cleanup(s.Close)
	svc, err := compute.NewService(context.Background(), option.WithEndpoint(s.Endpoint()), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	return gce.New(svc, project, ""), svc, s
}

func TestAddresses(t *testing.T) {
	ctx := context.Background()
	c, _, s := newCloud(t)
	if _, err := c.GetAddress(ctx, "a"); !errors.Is(err, gce.ErrNotFound) {
		t.Fatalf("GetAddress of a missing address = %v, want ErrNotFound", err)
	}
	s.SlowNext(1, 2)
	a, err := c.ReserveAddress(ctx, "a", "mine")
	if err != nil || a.IP == "" || a.Description != "mine" {
		t.Fatalf("ReserveAddress = %+v, %v", a, err)
	}
	// A second reservation finds the first (409), whoever made it.
	again, err := c.ReserveAddress(ctx, "a", "someone else's")
	if err != nil || again.IP != a.IP || again.Description != "mine" {
		t.Fatalf("second ReserveAddress = %+v, %v; want the first one", again, err)
	}
	if err := c.ReleaseAddress(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := c.ReleaseAddress(ctx, "a"); err != nil {
		t.Errorf("releasing an address already gone: %v", err)
	}
	s.FailNext(1, 503)
	if _, err := c.ReserveAddress(ctx, "b", ""); err == nil || !strings.Contains(err.Error(), "reserve global address b in project p") {
		t.Errorf("a 503 gave %v, want an error naming what failed", err)
	}
}

func TestFirewall(t *testing.T) {
	ctx := context.Background()
	c, _, _ := newCloud(t)
	want := gce.Firewall{Name: "fw", Description: "d", SourceRanges: []string{"35.191.0.0/16", "130.211.0.0/22"}, Ports: []int64{30080, 30001}, TargetTags: []string{"b", "a"}}
	for i, wantChanged := range []bool{true, false} {
		changed, err := c.EnsureFirewall(ctx, want)
		if err != nil || changed != wantChanged {
			t.Fatalf("EnsureFirewall #%d = %v, %v; want changed=%v", i, changed, err, wantChanged)
		}
	}
	want.Ports = append(want.Ports, 30002)
	if changed, err := c.EnsureFirewall(ctx, want); err != nil || !changed {
		t.Fatalf("EnsureFirewall with a new port = %v, %v", changed, err)
	}
	got, err := c.GetFirewall(ctx, "fw")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.TargetTags, ",") != "a,b" || len(got.Ports) != 3 || got.Ports[0] != 30001 {
		t.Errorf("rule %+v", got)
	}
	for i := 0; i < 2; i++ {
		if err := c.DeleteFirewall(ctx, "fw"); err != nil {
			t.Fatalf("DeleteFirewall #%d: %v", i, err)
		}
	}
}

func TestGroupsAndTags(t *testing.T) {
	ctx := context.Background()
	c, svc, _ := newCloud(t)
	const zone = "us-central1-a"
	do := func(op *compute.Operation, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.InstanceGroupTags(ctx, zone, "ig"); !errors.Is(err, gce.ErrNotFound) {
		t.Fatalf("tags of a missing group = %v, want ErrNotFound", err)
	}
	do(svc.Instances.Insert(project, zone, &compute.Instance{Name: "n1", Tags: &compute.Tags{Items: []string{"t1", "t2"}}}).Do())
	do(svc.Instances.Insert(project, zone, &compute.Instance{Name: "n2", Tags: &compute.Tags{Items: []string{"t2"}}}).Do())
	do(svc.InstanceGroups.Insert(project, zone, &compute.InstanceGroup{Name: "ig"}).Do())
	do(svc.InstanceGroups.AddInstances(project, zone, "ig", &compute.InstanceGroupsAddInstancesRequest{Instances: []*compute.InstanceReference{
		{Instance: "zones/" + zone + "/instances/n1"}, {Instance: "zones/" + zone + "/instances/n2"}}}).Do())
	tags, err := c.InstanceGroupTags(ctx, zone, "ig")
	if err != nil || strings.Join(tags, ",") != "t1,t2" {
		t.Fatalf("tags = %v, %v; want [t1 t2]", tags, err)
	}
	do(svc.HealthChecks.Insert(project, &compute.HealthCheck{Name: "hc", Type: "HTTP", HttpHealthCheck: &compute.HTTPHealthCheck{Port: 80}}).Do())
	do(svc.BackendServices.Insert(project, &compute.BackendService{Name: "be", HealthChecks: []string{"global/healthChecks/hc"},
		Backends: []*compute.Backend{{Group: "zones/" + zone + "/instanceGroups/ig"}}}).Do())
	groups, err := c.BackendServiceGroups(ctx, "be")
	if err != nil || len(groups) != 1 || gce.GroupName(groups[0]) != "ig" || gce.GroupZone(groups[0]) != zone {
		t.Fatalf("groups = %v, %v", groups, err)
	}
}

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{in: "project: p\n"},
		{in: "project: p\nnetwork: my-vpc\nendpoint: http://127.0.0.1:1/compute/v1/\n"},
		{in: "", err: "empty"},
		{in: "network: x\n", err: "project: missing"},
		{in: "project: p\nnetwork: My_VPC\n", err: "not a VPC network name"},
		{in: "project: p\nendpoint: http://compute.example.com/\n", err: "use https"},
		{in: "project: p\nzone: a\n", err: `unknown field "zone"`},
	} {
		cfg, err := gce.ParseConfig(strings.NewReader(tc.in))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.err == "" && cfg.Network == "":
			t.Errorf("%q: no network, want the default", tc.in)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one saying %q", tc.in, err, tc.err)
		}
	}
}
