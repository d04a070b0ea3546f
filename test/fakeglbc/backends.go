package fakeglbc

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"google.golang.org/api/compute/v1"
)

// Health check settings of GLBC's defaults for a service without a
// readiness probe.
const (
	healthCheckPath      = "/"
	healthCheckInterval  = 60
	healthCheckTimeout   = 60
	healthCheckHealthy   = 1
	healthCheckUnhealthy = 10
)

// l7SourceRanges are where Google's L7 load balancers and health checkers
// connect from; the firewall rule opens the node ports to them.
var l7SourceRanges = []string{"130.211.0.0/22", "35.191.0.0/16"}

// staleRetries bounds the read-modify-write loops on fingerprinted
// resources before the error goes back to the work queue.
const staleRetries = 5

// portName is the instance group's named port for a node port, which the
// backend service refers to.
func portName(nodePort int32) string { return fmt.Sprintf("port%d", nodePort) }

// ensureInstances makes a VM for every named node, with the member's
// network tags; a VM whose tags differ gets them set.
func (c *cloud) ensureInstances(ctx context.Context, names, tags []string) error {
	have := map[string]*compute.Instance{}
	err := c.svc.Instances.List(c.project, c.zone).Pages(ctx, func(l *compute.InstanceList) error {
		for _, in := range l.Items {
			have[in.Name] = in
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list instances: %w", err)
	}
	for _, name := range names {
		in, ok := have[name]
		if !ok {
			err := c.run(ctx, c.svc.Instances.Insert(c.project, c.zone, &compute.Instance{
				Name:              name,
				MachineType:       fmt.Sprintf("%sprojects/%s/zones/%s/machineTypes/e2-medium", c.svc.BasePath, c.project, c.zone),
				Tags:              &compute.Tags{Items: tags},
				NetworkInterfaces: []*compute.NetworkInterface{{Network: c.globalLink("networks", c.network)}},
			}).Context(ctx))
			if err = ignore(err, isAlreadyExists); err != nil {
				return fmt.Errorf("insert instance %s: %w", name, err)
			}
			continue
		}
		if in.Tags != nil && sameSet(in.Tags.Items, tags) {
			continue
		}
		fp := ""
		if in.Tags != nil {
			fp = in.Tags.Fingerprint
		}
		err := c.run(ctx, c.svc.Instances.SetTags(c.project, c.zone, name, &compute.Tags{Items: tags, Fingerprint: fp}).Context(ctx))
		if err != nil {
			return fmt.Errorf("set tags of instance %s: %w", name, err)
		}
	}
	return nil
}

// ensureInstanceGroup makes the zone's unmanaged instance group hold exactly
// the named instances, as GLBC does (so that members sharing a zone and a
// UID remove each other's nodes, kubernetes/kubernetes#47565), and have a
// named port for every node port. It returns the group's URL.
func (c *cloud) ensureInstanceGroup(ctx context.Context, name string, instances []string, ports []int32) (string, error) {
	ig, err := c.svc.InstanceGroups.Get(c.project, c.zone, name).Context(ctx).Do()
	if isNotFound(err) {
		err = c.run(ctx, c.svc.InstanceGroups.Insert(c.project, c.zone, &compute.InstanceGroup{
			Name:    name,
			Network: c.globalLink("networks", c.network),
		}).Context(ctx))
		if err = ignore(err, isAlreadyExists); err != nil {
			return "", fmt.Errorf("insert instance group %s: %w", name, err)
		}
		ig, err = c.svc.InstanceGroups.Get(c.project, c.zone, name).Context(ctx).Do()
	}
	if err != nil {
		return "", fmt.Errorf("get instance group %s: %w", name, err)
	}

	var members []string
	err = c.svc.InstanceGroups.ListInstances(c.project, c.zone, name, &compute.InstanceGroupsListInstancesRequest{}).
		Pages(ctx, func(l *compute.InstanceGroupsListInstances) error {
			for _, in := range l.Items {
				members = append(members, lastSegment(in.Instance))
			}
			return nil
		})
	if err != nil {
		return "", fmt.Errorf("list instances of group %s: %w", name, err)
	}
	var add, remove []*compute.InstanceReference
	for _, in := range instances {
		if !slices.Contains(members, in) {
			add = append(add, &compute.InstanceReference{Instance: c.zonalLink("instances", in)})
		}
	}
	for _, in := range members {
		if !slices.Contains(instances, in) {
			remove = append(remove, &compute.InstanceReference{Instance: c.zonalLink("instances", in)})
		}
	}
	if len(add) > 0 {
		req := &compute.InstanceGroupsAddInstancesRequest{Instances: add}
		if err := c.run(ctx, c.svc.InstanceGroups.AddInstances(c.project, c.zone, name, req).Context(ctx)); err != nil {
			return "", fmt.Errorf("add instances to group %s: %w", name, err)
		}
	}
	if len(remove) > 0 {
		req := &compute.InstanceGroupsRemoveInstancesRequest{Instances: remove}
		if err := c.run(ctx, c.svc.InstanceGroups.RemoveInstances(c.project, c.zone, name, req).Context(ctx)); err != nil {
			return "", fmt.Errorf("remove instances from group %s: %w", name, err)
		}
	}

	// Named ports are only ever added: another member in this zone may
	// route to ports this one does not use.
	named := ig.NamedPorts
	for _, p := range ports {
		if !slices.ContainsFunc(named, func(np *compute.NamedPort) bool { return np.Name == portName(p) }) {
			named = append(named, &compute.NamedPort{Name: portName(p), Port: int64(p)})
		}
	}
	if len(named) != len(ig.NamedPorts) {
		req := &compute.InstanceGroupsSetNamedPortsRequest{NamedPorts: named, Fingerprint: ig.Fingerprint}
		if err := c.run(ctx, c.svc.InstanceGroups.SetNamedPorts(c.project, c.zone, name, req).Context(ctx)); err != nil {
			return "", fmt.Errorf("set named ports of group %s: %w", name, err)
		}
	}
	if ig.SelfLink != "" {
		return ig.SelfLink, nil
	}
	return c.zonalLink("instanceGroups", name), nil
}

// ensureHealthCheck makes the HTTP health check of a node port; an existing
// one is left as it is, since a user may have tuned it.
func (c *cloud) ensureHealthCheck(ctx context.Context, name string, nodePort int32) (string, error) {
	_, err := c.svc.HealthChecks.Get(c.project, name).Context(ctx).Do()
	if isNotFound(err) {
		err = c.run(ctx, c.svc.HealthChecks.Insert(c.project, &compute.HealthCheck{
			Name:               name,
			Type:               "HTTP",
			HttpHealthCheck:    &compute.HTTPHealthCheck{Port: int64(nodePort), RequestPath: healthCheckPath},
			CheckIntervalSec:   healthCheckInterval,
			TimeoutSec:         healthCheckTimeout,
			HealthyThreshold:   healthCheckHealthy,
			UnhealthyThreshold: healthCheckUnhealthy,
		}).Context(ctx))
		err = ignore(err, isAlreadyExists)
	}
	if err != nil {
		return "", fmt.Errorf("health check %s: %w", name, err)
	}
	return c.globalLink("healthChecks", name), nil
}

// ensureBackendService makes the backend service of a node port list group
// among its backends. It only ever adds: the groups of other members that
// share the service stay. A 409 on insert means another member created it
// first, a 412 on update that another member changed it since it was read;
// both are answered by reading it again.
func (c *cloud) ensureBackendService(ctx context.Context, name string, nodePort int32, healthCheck, group string) error {
	backend := &compute.Backend{Group: group, BalancingMode: "RATE", MaxRatePerInstance: 1}
	for range staleRetries {
		bs, err := c.svc.BackendServices.Get(c.project, name).Context(ctx).Do()
		if isNotFound(err) {
			err = c.run(ctx, c.svc.BackendServices.Insert(c.project, &compute.BackendService{
				Name:         name,
				Protocol:     "HTTP",
				Port:         int64(nodePort),
				PortName:     portName(nodePort),
				HealthChecks: []string{healthCheck},
				Backends:     []*compute.Backend{backend},
			}).Context(ctx))
			if isAlreadyExists(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("insert backend service %s: %w", name, err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("get backend service %s: %w", name, err)
		}
		if slices.ContainsFunc(bs.Backends, func(b *compute.Backend) bool { return sameLink(b.Group, group) }) {
			return nil
		}
		bs.Backends = append(bs.Backends, backend)
		err = c.run(ctx, c.svc.BackendServices.Update(c.project, name, bs).Context(ctx))
		if isStale(err) || isNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("update backend service %s: %w", name, err)
		}
		return nil
	}
	return fmt.Errorf("backend service %s: still changing under us after %d attempts", name, staleRetries)
}

// removeFromBackendService takes group out of a backend service's backends
// and reports whether groups of other members are still in it.
func (c *cloud) removeFromBackendService(ctx context.Context, name, group string) (others bool, err error) {
	for range staleRetries {
		bs, err := c.svc.BackendServices.Get(c.project, name).Context(ctx).Do()
		if isNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("get backend service %s: %w", name, err)
		}
		keep := slices.DeleteFunc(slices.Clone(bs.Backends), func(b *compute.Backend) bool { return sameLink(b.Group, group) })
		if len(keep) == len(bs.Backends) {
			return len(keep) > 0, nil
		}
		bs.Backends = keep
		// An empty list must still be sent, or the update would keep them.
		bs.ForceSendFields = append(bs.ForceSendFields, "Backends")
		err = c.run(ctx, c.svc.BackendServices.Update(c.project, name, bs).Context(ctx))
		if isStale(err) {
			continue
		}
		if err = ignore(err, isNotFound); err != nil {
			return false, fmt.Errorf("update backend service %s: %w", name, err)
		}
		return len(keep) > 0, nil
	}
	return false, fmt.Errorf("backend service %s: still changing under us after %d attempts", name, staleRetries)
}

// otherGroups reports whether a backend service lists a group besides own.
func (c *cloud) otherGroups(ctx context.Context, name, own string) (bool, error) {
	bs, err := c.svc.BackendServices.Get(c.project, name).Context(ctx).Do()
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("get backend service %s: %w", name, err)
	}
	return slices.ContainsFunc(bs.Backends, func(b *compute.Backend) bool { return !sameLink(b.Group, own) }), nil
}

// deleteBackendServiceIfUnused deletes a backend service no member has a
// group in any more, and then its health check. One that a URL map still
// routes to is refused by the API as in use, and stays.
func (c *cloud) deleteBackendServiceIfUnused(ctx context.Context, name string) error {
	bs, err := c.svc.BackendServices.Get(c.project, name).Context(ctx).Do()
	if isNotFound(err) {
		return c.deleteHealthCheck(ctx, name)
	}
	if err != nil {
		return fmt.Errorf("get backend service %s: %w", name, err)
	}
	if len(bs.Backends) > 0 {
		return nil
	}
	err = c.run(ctx, c.svc.BackendServices.Delete(c.project, name).Context(ctx))
	if isInUse(err) {
		return nil
	}
	if err = ignore(err, isNotFound); err != nil {
		return fmt.Errorf("delete backend service %s: %w", name, err)
	}
	return c.deleteHealthCheck(ctx, name)
}

func (c *cloud) deleteHealthCheck(ctx context.Context, name string) error {
	err := c.run(ctx, c.svc.HealthChecks.Delete(c.project, name).Context(ctx))
	if err = ignore(err, isNotFound, isInUse); err != nil {
		return fmt.Errorf("delete health check %s: %w", name, err)
	}
	return nil
}

// ensureFirewall makes the member's L7 firewall rule open exactly ports on
// the nodes with tags. Members sharing a name (same UID, no provider-uid)
// overwrite each other's ports and tags, as GLBC did before 1.6
// (kubernetes/kubernetes#36327).
func (c *cloud) ensureFirewall(ctx context.Context, name string, ports []int32, tags []string) error {
	want := &compute.Firewall{
		Name:         name,
		Description:  "L7 load balancer firewall rule (fake GLBC)",
		Network:      c.globalLink("networks", c.network),
		SourceRanges: l7SourceRanges,
		TargetTags:   tags,
		Allowed:      []*compute.FirewallAllowed{{IPProtocol: "tcp", Ports: portStrings(ports)}},
	}
	fw, err := c.svc.Firewalls.Get(c.project, name).Context(ctx).Do()
	if isNotFound(err) {
		err = c.run(ctx, c.svc.Firewalls.Insert(c.project, want).Context(ctx))
		if err = ignore(err, isAlreadyExists); err != nil {
			return fmt.Errorf("insert firewall %s: %w", name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("get firewall %s: %w", name, err)
	}
	if sameSet(fw.SourceRanges, want.SourceRanges) && sameSet(fw.TargetTags, tags) &&
		len(fw.Allowed) == 1 && fw.Allowed[0].IPProtocol == "tcp" && sameSet(fw.Allowed[0].Ports, want.Allowed[0].Ports) {
		return nil
	}
	if err := c.run(ctx, c.svc.Firewalls.Update(c.project, name, want).Context(ctx)); err != nil {
		return fmt.Errorf("update firewall %s: %w", name, err)
	}
	return nil
}

func portStrings(ports []int32) []string {
	out := make([]string, len(ports))
	for i, p := range ports {
		out[i] = strconv.Itoa(int(p))
	}
	return out
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}
