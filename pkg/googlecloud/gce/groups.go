package gce

import (
	"context"
	"errors"
	"path"
	"slices"

	compute "google.golang.org/api/compute/v1"
)

// BackendServiceGroups returns the instance groups (their URLs) that the
// backend service called name sends traffic to.
func (c *Cloud) BackendServiceGroups(ctx context.Context, name string) ([]string, error) {
	bs, err := c.svc.BackendServices.Get(c.project, name).Context(ctx).Do()
	if err != nil {
		return nil, c.wrap(err, "get backend service %s", name)
	}
	out := make([]string, 0, len(bs.Backends))
	for _, b := range bs.Backends {
		out = append(out, b.Group)
	}
	return out, nil
}

// InstanceGroupTags returns the network tags of the instances in the
// instance group called name in zone, sorted; ErrNotFound if the zone has
// no such group.
func (c *Cloud) InstanceGroupTags(ctx context.Context, zone, name string) ([]string, error) {
	var tags []string
	req := &compute.InstanceGroupsListInstancesRequest{InstanceState: "ALL"}
	err := c.svc.InstanceGroups.ListInstances(c.project, zone, name, req).Pages(ctx, func(page *compute.InstanceGroupsListInstances) error {
		for _, item := range page.Items {
			inst, err := c.svc.Instances.Get(c.project, zone, path.Base(item.Instance)).Context(ctx).Do()
			if isCode(err, 404) {
				// Deleted since the list; it needs no rule.
				continue
			}
			if err != nil {
				return c.wrap(err, "get instance %s in zone %s", path.Base(item.Instance), zone)
			}
			if inst.Tags != nil {
				tags = append(tags, inst.Tags.Items...)
			}
		}
		return nil
	})
	if err != nil {
		return nil, c.wrap(err, "list the instances of instance group %s in zone %s", name, zone)
	}
	return slices.Compact(slices.Sorted(slices.Values(tags))), nil
}

// GroupZone is the zone of an instance group URL; GroupName its name.
func GroupZone(groupURL string) string { return path.Base(path.Dir(path.Dir(groupURL))) }

// GroupName is the name of an instance group URL.
func GroupName(groupURL string) string { return path.Base(groupURL) }

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
