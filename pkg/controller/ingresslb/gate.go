package ingresslb

import (
	"fmt"
	"slices"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"

	"github.com/kfederation/federation/pkg/controller"
)

var _ controller.MemberGate = &Controller{}

// Hold says why the federated Ingress fed may not reach cluster yet: a
// GCE Ingress waits for its global address and for the member's UID to be
// the federation's, so that the member's GLBC joins the one load balancer
// from its first step.
func (c *Controller) Hold(fed *unstructured.Unstructured, cluster string) string {
	ing, err := toIngress(fed)
	if err != nil || !c.class.isGCE(ing) {
		return ""
	}
	if ing.Annotations[GlobalStaticIPAnnotation] == "" {
		return "waiting for the federation to reserve a global static IP for this Ingress (annotation " + GlobalStaticIPAnnotation + ")"
	}
	if reason := c.nodePortHold(ing); reason != "" {
		return reason
	}
	return c.uidHold(cluster)
}

// nodePortHold says which backend Service port has no node port in the
// federation yet: the member's GCE ingress controller would otherwise
// build a backend service on the member's own node port, and leave it
// behind when the federation's comes. A backend that cannot have one (not
// federated, not of a node port type) holds nothing: its Warning event
// says what to fix.
func (c *Controller) nodePortHold(ing *networkingv1.Ingress) string {
	for _, b := range backendsOf(ing) {
		obj, exists, err := c.svcs.GetStore().GetByKey(ing.Namespace + "/" + b.service)
		if err != nil || !exists {
			continue
		}
		svc, err := toService(obj)
		if err != nil || !hasNodePorts(svc) {
			continue
		}
		if i := servicePort(svc, b); i >= 0 && svc.Spec.Ports[i].NodePort == 0 {
			return fmt.Sprintf("waiting for backend Service %s port %s to have one node port in every cluster", b.service, b.portString())
		}
	}
	return ""
}

// uidHold says why cluster's UID is not the federation's yet, "" if it is.
func (c *Controller) uidHold(cluster string) string {
	c.mu.Lock()
	uid, conflict, settle := c.uid, c.conflicts[cluster], c.settling[cluster]
	c.mu.Unlock()
	if conflict != "" {
		return conflict
	}
	cl, err := c.clusters.Get(cluster)
	if uid == "" || err != nil || cl.Annotations[ClusterUIDAnnotation] != uid {
		return fmt.Sprintf("waiting for cluster %s's ingress UID (ConfigMap %s/%s) to be the federation's", cluster, UIDNamespace, UIDConfigMap)
	}
	if time.Now().Before(settle) {
		return fmt.Sprintf("waiting until %s for cluster %s's GCE ingress controller to read its new ingress UID", settle.Format(time.RFC3339), cluster)
	}
	return ""
}

// OnChange registers f, called with each GCE Ingress when a hold on it
// may have lifted.
func (c *Controller) OnChange(f func(namespace, name string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onChange = append(c.onChange, f)
}

// wakeSync tells the sync to look at every GCE Ingress again.
func (c *Controller) wakeSync() {
	for _, ing := range c.gceIngresses() {
		c.wake(ing)
	}
}

// wake tells the sync to look at one Ingress again.
func (c *Controller) wake(ing *networkingv1.Ingress) {
	c.mu.Lock()
	fs := append([]func(string, string){}, c.onChange...)
	c.mu.Unlock()
	for _, f := range fs {
		f(ing.Namespace, ing.Name)
	}
}

// clusterUpdated wakes the sync when a Cluster's UID annotation changes:
// its GCE Ingresses may go there now.
func (c *Controller) clusterUpdated(old, cur interface{}) {
	o, ok1 := old.(*federationv1beta1.Cluster)
	n, ok2 := cur.(*federationv1beta1.Cluster)
	if !ok1 || !ok2 {
		return
	}
	if o.Annotations[ClusterUIDAnnotation] != n.Annotations[ClusterUIDAnnotation] {
		c.wakeSync()
	}
	if !slices.Equal(o.Status.Zones, n.Status.Zones) {
		c.queue.Add(firewallKey)
	}
	c.queue.Add(uidsKey)
}
