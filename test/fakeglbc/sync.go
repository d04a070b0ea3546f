package fakeglbc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

func (g *GLBC) sync(ctx context.Context, key string) error {
	if key == memberKey {
		_, _, err := g.syncMember(ctx, g.Namer(), nil)
		return err
	}
	return g.syncIngress(ctx, key)
}

// syncIngress programs the load balancer of one Ingress, back to front:
// each resource exists before the one that refers to it.
func (g *GLBC) syncIngress(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // not a key the handlers make; nothing to retry
	}
	ing, err := g.ingresses.Ingresses(ns).Get(name)
	if apierrors.IsNotFound(err) || (err == nil && !isGCE(ing, g.classes.Get)) {
		return g.release(ctx, key)
	}
	if err != nil {
		return err
	}
	n := g.Namer()
	plan, err := planIngress(ing, g.getService)
	if err != nil {
		g.eventf(ctx, ing, corev1.EventTypeWarning, EventReasonSyncError, "Cannot program the load balancer: %v", err)
		return err
	}
	// Until this sync succeeds, the ports of earlier ones stay owned, so
	// that a failure does not forget backends still to be released.
	previous := g.owned[key]
	if previous.namer != n {
		previous = owned{namer: n}
	}
	g.owned[key] = owned{namer: n, ports: union(previous.ports, plan.ports)}

	group, healthy, err := g.syncMember(ctx, n, plan.ports)
	if err != nil {
		return err
	}
	for _, port := range plan.ports {
		hc, err := g.cloud.ensureHealthCheck(ctx, n.HealthCheck(port), port)
		if err != nil {
			return err
		}
		if err := g.cloud.ensureBackendService(ctx, n.BackendService(port), port, hc, group); err != nil {
			return err
		}
	}
	addr, err := g.ensureFrontend(ctx, ing, n, plan)
	if err != nil {
		return err
	}
	// Backends the Ingress no longer routes to, now that the URL map does
	// not either.
	dropped := backendNames(n, without(previous.ports, plan.ports))
	if _, err := g.releaseBackends(ctx, n, dropped); err != nil {
		return err
	}
	if err := g.deleteUnused(ctx, dropped); err != nil {
		return err
	}
	g.owned[key] = owned{namer: n, ports: plan.ports}
	return g.writeStatus(ctx, ing, lbAnnotations(n, ns, name, plan, healthy, ing.Annotations[AnnotationGlobalStaticIP]), addr)
}

// ensureFrontend makes the URL map, target proxy and forwarding rule of an
// Ingress, and returns the rule's address.
func (g *GLBC) ensureFrontend(ctx context.Context, ing *networkingv1.Ingress, n Namer, plan lbPlan) (string, error) {
	link := func(port int32) string { return g.cloud.globalLink("backendServices", n.BackendService(port)) }
	urlMap, err := g.cloud.ensureURLMap(ctx, urlMapFor(n.URLMap(ing.Namespace, ing.Name), plan, link))
	if err != nil {
		return "", err
	}
	proxy, err := g.cloud.ensureTargetProxy(ctx, n.TargetHTTPProxy(ing.Namespace, ing.Name), urlMap)
	if err != nil {
		return "", err
	}
	ip := ""
	if name := ing.Annotations[AnnotationGlobalStaticIP]; name != "" {
		if ip, err = g.cloud.staticIP(ctx, name); err != nil {
			if errors.Is(err, errStaticIPNotFound) {
				g.eventf(ctx, ing, corev1.EventTypeWarning, EventReasonSyncError, "The global static IP %q does not exist in project %s", name, g.opts.Project)
			}
			return "", err
		}
	}
	return g.cloud.ensureForwardingRule(ctx, n.ForwardingRule(ing.Namespace, ing.Name), proxy, ip)
}

// syncMember keeps the member-wide resources: a VM per Node, the instance
// group of them with a named port per backend node port, and the firewall
// rule for those ports. It returns the group's URL and whether it has VMs.
// A member without Ingresses has no group and no firewall rule. ports are
// those of the Ingress being synced, which the lister may have lost since.
func (g *GLBC) syncMember(ctx context.Context, n Namer, ports []int32) (group string, healthy bool, err error) {
	nodes, err := g.nodes.List(labels.Everything())
	if err != nil {
		return "", false, err
	}
	var instances []string
	for _, node := range nodes {
		instances = append(instances, InstanceName(g.opts.Cluster, node.Name))
	}
	slices.Sort(instances)
	if err := g.cloud.ensureInstances(ctx, instances, g.opts.NodeTags); err != nil {
		return "", false, err
	}
	ports = union(g.memberPorts(), ports)
	if len(ports) == 0 {
		if g.programmed {
			deleted, err := g.cloud.deleteMemberResources(ctx, n.Firewall(), n.InstanceGroup())
			if err != nil {
				return "", false, err
			}
			if !deleted {
				// Tried again on the next sync.
				g.logf(1, "deleted firewall rule %s; instance group %s is still in use", n.Firewall(), n.InstanceGroup())
				return "", false, nil
			}
			g.programmed = false
			g.logf(1, "deleted firewall rule %s and instance group %s: no Ingress left", n.Firewall(), n.InstanceGroup())
		}
		return "", false, nil
	}
	g.programmed = true
	if group, err = g.cloud.ensureInstanceGroup(ctx, n.InstanceGroup(), instances, ports); err != nil {
		return "", false, err
	}
	if err := g.cloud.ensureFirewall(ctx, n.Firewall(), ports, g.opts.NodeTags); err != nil {
		return "", false, err
	}
	return group, len(instances) > 0, nil
}

// release takes down what this member made for an Ingress that is gone or
// no longer of class gce. Members share a load balancer, so the frontend
// goes only when no other member's group is left in its backend services.
func (g *GLBC) release(ctx context.Context, key string) error {
	rec, ok := g.owned[key]
	if !ok {
		return nil
	}
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	n := rec.namer
	names, err := g.cloud.urlMapServices(ctx, n.URLMap(ns, name))
	if err != nil {
		return err
	}
	for _, bs := range backendNames(n, rec.ports) {
		if !slices.Contains(names, bs) {
			names = append(names, bs)
		}
	}
	others, err := g.releaseBackends(ctx, n, names)
	if err != nil {
		return err
	}
	if others {
		g.logf(1, "kept the load balancer of %s: other members still serve it", key)
	} else {
		if err := g.cloud.deleteFrontend(ctx, n.ForwardingRule(ns, name), n.TargetHTTPProxy(ns, name), n.URLMap(ns, name)); err != nil {
			return err
		}
		g.logf(1, "deleted the load balancer of %s", key)
	}
	if err := g.deleteUnused(ctx, names); err != nil {
		return err
	}
	if _, _, err := g.syncMember(ctx, g.Namer(), nil); err != nil {
		return err
	}
	delete(g.owned, key)
	return nil
}

// releaseBackends takes this member's group out of the named backend
// services that none of its remaining Ingresses uses, and reports whether
// any of them still lists another member's group.
func (g *GLBC) releaseBackends(ctx context.Context, n Namer, names []string) (others bool, err error) {
	inUse := g.localBackends(n)
	group := g.cloud.zonalLink("instanceGroups", n.InstanceGroup())
	for _, bs := range names {
		var o bool
		if slices.Contains(inUse, bs) {
			o, err = g.cloud.otherGroups(ctx, bs, group)
		} else {
			o, err = g.cloud.removeFromBackendService(ctx, bs, group)
		}
		if err != nil {
			return false, err
		}
		others = others || o
	}
	return others, nil
}

// deleteUnused deletes the named backend services, and their health
// checks, that no member has a group in and no URL map routes to.
func (g *GLBC) deleteUnused(ctx context.Context, names []string) error {
	for _, bs := range names {
		if err := g.cloud.deleteBackendServiceIfUnused(ctx, bs); err != nil {
			return err
		}
	}
	return nil
}

// localBackends names the backend services this member's Ingresses of
// class gce route to now.
func (g *GLBC) localBackends(n Namer) []string {
	var out []string
	for _, port := range g.memberPorts() {
		out = append(out, n.BackendService(port))
	}
	return out
}

// memberPorts are the node ports every Ingress of class gce in the member
// routes to, sorted. An Ingress whose backends do not resolve yet counts
// for nothing; its own sync reports why.
func (g *GLBC) memberPorts() []int32 {
	ings, err := g.ingresses.List(labels.Everything())
	if err != nil {
		return nil
	}
	var ports []int32
	for _, ing := range ings {
		if !isGCE(ing, g.classes.Get) {
			continue
		}
		if p, err := planIngress(ing, g.getService); err == nil {
			ports = append(ports, p.ports...)
		}
	}
	slices.Sort(ports)
	return slices.Compact(ports)
}

func (g *GLBC) getService(namespace, name string) (*corev1.Service, error) {
	return g.services.Services(namespace).Get(name)
}

func backendNames(n Namer, ports []int32) []string {
	out := make([]string, 0, len(ports))
	for _, p := range ports {
		out = append(out, n.BackendService(p))
	}
	return out
}

// union returns the sorted, distinct elements of a and b.
func union(a, b []int32) []int32 {
	return slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(a), b...))))
}

// without returns the elements of a that are not in b.
func without(a, b []int32) []int32 {
	return slices.DeleteFunc(slices.Clone(a), func(x int32) bool { return slices.Contains(b, x) })
}

// writeStatus records the load balancer on the member's Ingress: GLBC's
// read-only annotations, then status.loadBalancer. Each is written only
// when it changed, with a merge patch, so that a stale copy of the Ingress
// never overwrites what others wrote since (fake clientsets do not check
// resourceVersion).
func (g *GLBC) writeStatus(ctx context.Context, ing *networkingv1.Ingress, annotations map[string]string, ip string) error {
	if ip == "" {
		return fmt.Errorf("forwarding rule of %s/%s has no address yet", ing.Namespace, ing.Name)
	}
	ingresses := g.client.NetworkingV1().Ingresses(ing.Namespace)
	if patch := annotationPatch(ing.Annotations, annotations); patch != nil {
		if _, err := ingresses.Patch(ctx, ing.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("annotate ingress %s/%s: %w", ing.Namespace, ing.Name, err)
		}
	}
	want := []networkingv1.IngressLoadBalancerIngress{{IP: ip}}
	if equality.Semantic.DeepEqual(ing.Status.LoadBalancer.Ingress, want) {
		return nil
	}
	patch, _ := json.Marshal(map[string]any{"status": networkingv1.IngressStatus{ // plain structs always marshal
		LoadBalancer: networkingv1.IngressLoadBalancerStatus{Ingress: want},
	}})
	if _, err := ingresses.Patch(ctx, ing.Name, types.MergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		return fmt.Errorf("update status of ingress %s/%s: %w", ing.Namespace, ing.Name, err)
	}
	g.eventf(ctx, ing, corev1.EventTypeNormal, EventReasonSync, "Load balancer %s serves at %s", annotations[AnnotationURLMap], ip)
	g.logf(1, "ingress %s/%s served at %s", ing.Namespace, ing.Name, ip)
	return nil
}

// annotationPatch is the merge patch that gives an Ingress with annotations
// have GLBC's annotations want, dropping a static-ip annotation that is no
// longer true; nil when there is nothing to change.
func annotationPatch(have, want map[string]string) []byte {
	changes := map[string]any{}
	for k, v := range want {
		if cur, ok := have[k]; !ok || cur != v {
			changes[k] = v
		}
	}
	if _, ok := want[AnnotationStaticIP]; !ok {
		if _, had := have[AnnotationStaticIP]; had {
			changes[AnnotationStaticIP] = nil
		}
	}
	if len(changes) == 0 {
		return nil
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": changes}}) // strings and nulls always marshal
	return patch
}
