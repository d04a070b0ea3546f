package gce

import (
	"context"
	"net/http"
	"path"
	"slices"
	"strconv"

	compute "google.golang.org/api/compute/v1"
)

// Firewall is an ingress rule allowing TCP from SourceRanges to Ports on
// the instances that carry one of TargetTags.
type Firewall struct {
	Name         string
	Description  string
	SourceRanges []string
	Ports        []int64
	TargetTags   []string
}

// normalized sorts and dedupes the lists, so that two rules compare equal
// whatever the order their parts came in.
func (f Firewall) normalized() Firewall {
	f.SourceRanges = slices.Compact(slices.Sorted(slices.Values(f.SourceRanges)))
	f.TargetTags = slices.Compact(slices.Sorted(slices.Values(f.TargetTags)))
	f.Ports = slices.Compact(slices.Sorted(slices.Values(f.Ports)))
	return f
}

// GetFirewall returns the rule called name, ErrNotFound if there is none.
func (c *Cloud) GetFirewall(ctx context.Context, name string) (*Firewall, error) {
	fw, err := c.svc.Firewalls.Get(c.project, name).Context(ctx).Do()
	if err != nil {
		return nil, c.wrap(err, "get firewall rule %s", name)
	}
	out := Firewall{Name: fw.Name, Description: fw.Description, SourceRanges: fw.SourceRanges, TargetTags: fw.TargetTags}
	for _, a := range fw.Allowed {
		if a.IPProtocol == "tcp" {
			out.Ports = append(out.Ports, sortedPorts(a.Ports)...)
		}
	}
	out = out.normalized()
	return &out, nil
}

// EnsureFirewall makes the rule want.Name allow exactly want, creating or
// updating it; it says whether it changed anything.
func (c *Cloud) EnsureFirewall(ctx context.Context, want Firewall) (bool, error) {
	want = want.normalized()
	have, err := c.GetFirewall(ctx, want.Name)
	switch {
	case err == nil && sameFirewall(*have, want):
		return false, nil
	case err == nil:
		op, err := c.svc.Firewalls.Update(c.project, want.Name, c.firewall(want)).Context(ctx).Do()
		if err == nil {
			err = c.wait(ctx, op)
		}
		if err != nil {
			return false, c.wrap(err, "update firewall rule %s", want.Name)
		}
		return true, nil
	case isNotFound(err):
		op, err := c.svc.Firewalls.Insert(c.project, c.firewall(want)).Context(ctx).Do()
		if err == nil {
			err = c.wait(ctx, op)
		}
		if err != nil {
			return false, c.wrap(err, "create firewall rule %s", want.Name)
		}
		return true, nil
	default:
		return false, err
	}
}

// DeleteFirewall deletes the rule called name; one already gone is no
// error.
func (c *Cloud) DeleteFirewall(ctx context.Context, name string) error {
	op, err := c.svc.Firewalls.Delete(c.project, name).Context(ctx).Do()
	if err == nil {
		err = c.wait(ctx, op)
	}
	if err != nil && !isCode(err, http.StatusNotFound) {
		return c.wrap(err, "delete firewall rule %s", name)
	}
	return nil
}

func (c *Cloud) firewall(f Firewall) *compute.Firewall {
	ports := make([]string, len(f.Ports))
	for i, p := range f.Ports {
		ports[i] = strconv.FormatInt(p, 10)
	}
	return &compute.Firewall{
		Name:         f.Name,
		Description:  f.Description,
		Network:      "global/networks/" + path.Base(c.network),
		Direction:    "INGRESS",
		SourceRanges: f.SourceRanges,
		TargetTags:   f.TargetTags,
		Allowed:      []*compute.FirewallAllowed{{IPProtocol: "tcp", Ports: ports}},
	}
}

func sameFirewall(a, b Firewall) bool {
	return a.Description == b.Description && slices.Equal(a.SourceRanges, b.SourceRanges) &&
		slices.Equal(a.Ports, b.Ports) && slices.Equal(a.TargetTags, b.TargetTags)
}
