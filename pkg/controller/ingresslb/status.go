package ingresslb

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kfederation/federation/pkg/googlecloud/gce"
)

// showLoadBalancer writes on the federated Ingress, for kubectl describe,
// its global address, the firewall rule, and per member whether its
// backends are in the load balancer. It says whether every member's are.
func (c *Controller) showLoadBalancer(ctx context.Context, u *unstructured.Unstructured, addr *addressInUse, ports []int32) (bool, error) {
	clusters, allIn, err := c.membersInLoadBalancer(ctx, u.GetNamespace()+"/"+u.GetName(), ports)
	if err != nil {
		return false, err
	}
	want := map[string]interface{}{FirewallAnnotation: FirewallName(c.cctx.FederationName), ClustersAnnotation: clusters}
	if addr != nil {
		want[AddressAnnotation] = fmt.Sprintf("%s (%s)", addr.name, addr.ip)
	}
	have := u.GetAnnotations()
	same := true
	for k, v := range want {
		same = same && have[k] == v
	}
	if same {
		return allIn, nil
	}
	_, err = c.patch(ctx, u.GetNamespace(), u.GetName(), map[string]interface{}{"metadata": map[string]interface{}{"annotations": want}})
	return allIn, err
}

// membersInLoadBalancer says, for each Ready member with a copy of the
// Ingress key, whether GLBC put its instance group into the backend
// service of every backend node port.
func (c *Controller) membersInLoadBalancer(ctx context.Context, key string, ports []int32) (string, bool, error) {
	c.mu.Lock()
	uid := c.uid
	c.mu.Unlock()
	groups := map[int32][]string{}
	for _, p := range ports {
		if uid == "" {
			break
		}
		cctx, cancel := withTimeout(ctx)
		g, err := c.cloud.BackendServiceGroups(cctx, BackendServiceName(p, uid))
		cancel()
		if err != nil && !isNotFound(err) {
			return "", false, err
		}
		groups[p] = g
	}
	var lines []string
	allIn := uid != "" && len(ports) > 0
	for _, name := range c.readyMembers() {
		if _, ok := c.members.Cached(name, ingressGVR, key); !ok {
			continue
		}
		state := c.memberState(name, uid, ports, groups)
		allIn = allIn && state == stateIn
		lines = append(lines, name+": "+state)
	}
	sort.Strings(lines)
	return strings.Join(lines, "; "), allIn, nil
}

const stateIn = "in the load balancer"

// memberState says whether the member's instance group is in every
// backend service of ports.
func (c *Controller) memberState(cluster, uid string, ports []int32, groups map[int32][]string) string {
	if uid == "" || len(ports) == 0 {
		return "waiting for the backends' node ports"
	}
	cl, err := c.clusters.Get(cluster)
	if err != nil || len(cl.Status.Zones) == 0 {
		return "unknown (the cluster reports no zones)"
	}
	var missing []string
	for _, p := range ports {
		in := slices.ContainsFunc(groups[p], func(g string) bool {
			return gce.GroupName(g) == InstanceGroupName(uid) && slices.Contains(cl.Status.Zones, gce.GroupZone(g))
		})
		if !in {
			missing = append(missing, BackendServiceName(p, uid))
		}
	}
	if len(missing) > 0 {
		return "waiting for GLBC to add its nodes to " + strings.Join(missing, ", ")
	}
	return stateIn
}

// patch merges patch into the federated Ingress.
func (c *Controller) patch(ctx context.Context, namespace, name string, patch map[string]interface{}) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(patch)
	if err != nil {
		return nil, err
	}
	return c.resource(namespace).Patch(ctx, name, types.MergePatchType, data, metav1.PatchOptions{})
}
