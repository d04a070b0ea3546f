package ingresslb

import (
	"context"
	"fmt"
	"slices"

	"github.com/kfederation/federation/pkg/googlecloud/gce"
)

// syncFirewall keeps the federation's one firewall rule in step: every
// node port of every GCE Ingress's backends, open to Google's load
// balancer ranges, on the nodes of every member (the network tags of the
// instances in GLBC's instance groups); no Ingress, no rule.
func (c *Controller) syncFirewall(ctx context.Context) error {
	name := FirewallName(c.cctx.FederationName)
	ports := c.allNodePorts()
	cctx, cancel := withTimeout(ctx)
	defer cancel()
	if len(ports) == 0 {
		return c.deleteFirewall(cctx, name)
	}
	tags, err := c.memberTags(cctx)
	if err != nil {
		return err
	}
	if len(tags) == 0 {
		// A rule without target tags would open the ports on every
		// instance of the network: wait for GLBC's instance groups.
		c.logger.V(2).Info("No member instance group yet; the firewall rule waits", "rule", name)
		c.queue.AddAfter(firewallKey, notInLoadBalancerRetry)
		return nil
	}
	want := gce.Firewall{
		Name:         name,
		Description:  ownerNote{Federation: c.cctx.FederationName}.String(),
		SourceRanges: L7SourceRanges,
		Ports:        ports,
		TargetTags:   tags,
	}
	if have, err := c.cloud.GetFirewall(cctx, name); err == nil && !ownedBy(have.Description, ownerNote{Federation: c.cctx.FederationName}) {
		return fmt.Errorf("firewall rule %s exists and is not this federation's (description %q); delete or rename it", name, have.Description)
	}
	changed, err := c.cloud.EnsureFirewall(cctx, want)
	if err != nil {
		return err
	}
	if changed {
		c.logger.Info("Firewall rule updated", "rule", name, "ports", ports, "targetTags", tags)
	}
	return nil
}

// deleteFirewall deletes the federation's rule called name; a rule of
// that name someone else made stays, as it would if an Ingress needed it.
func (c *Controller) deleteFirewall(ctx context.Context, name string) error {
	have, err := c.cloud.GetFirewall(ctx, name)
	switch {
	case isNotFound(err):
		return nil
	case err != nil:
		return err
	case !ownedBy(have.Description, ownerNote{Federation: c.cctx.FederationName}):
		c.logger.V(2).Info("No GCE Ingress left, but the firewall rule is not this federation's; leaving it", "rule", name, "description", have.Description)
		return nil
	}
	return c.cloud.DeleteFirewall(ctx, name)
}

// allNodePorts are the node ports of the backends of every GCE Ingress
// that is not being deleted, as the federated Services have them.
func (c *Controller) allNodePorts() []int64 {
	var ports []int64
	for _, ing := range c.gceIngresses() {
		if ing.DeletionTimestamp != nil {
			continue
		}
		for _, b := range backendsOf(ing) {
			obj, exists, err := c.svcs.GetStore().GetByKey(ing.Namespace + "/" + b.service)
			if err != nil || !exists {
				continue
			}
			svc, err := toService(obj)
			if err != nil {
				continue
			}
			if i := servicePort(svc, b); i >= 0 && svc.Spec.Ports[i].NodePort != 0 {
				ports = append(ports, int64(svc.Spec.Ports[i].NodePort))
			}
		}
	}
	slices.Sort(ports)
	return slices.Compact(ports)
}

// memberTags are the network tags of the instances in GLBC's instance
// group, in every zone of every member.
func (c *Controller) memberTags(ctx context.Context) ([]string, error) {
	c.mu.Lock()
	uid := c.uid
	c.mu.Unlock()
	if uid == "" {
		return nil, nil
	}
	clusters, err := c.clusters.List(everything())
	if err != nil {
		return nil, err
	}
	var tags []string
	seen := map[string]bool{}
	for _, cl := range clusters {
		for _, zone := range cl.Status.Zones {
			if seen[zone] {
				continue
			}
			seen[zone] = true
			t, err := c.cloud.InstanceGroupTags(ctx, zone, InstanceGroupName(uid))
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			tags = append(tags, t...)
		}
	}
	slices.Sort(tags)
	return slices.Compact(tags), nil
}
