package ingresslb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/federatedtypes"
)

// notInLoadBalancerRetry is when an Ingress some member's backends are not
// in yet is looked at again: GLBC adds them on its own time.
const notInLoadBalancerRetry = 15 * time.Second

// addressInUseRetry is when a deleted Ingress whose address a member's
// forwarding rule still uses is looked at again.
const addressInUseRetry = 3 * time.Second

// syncIngress does one federated GCE Ingress's part: its address, its
// backends' node ports, and what kubectl describe shows; the firewall
// rule, shared by every Ingress, follows.
func (c *Controller) syncIngress(ctx context.Context, key string) error {
	obj, exists, err := c.ings.GetStore().GetByKey(key)
	if err != nil || !exists {
		return err
	}
	u := obj.(*unstructured.Unstructured)
	ing, err := toIngress(u)
	if err != nil {
		return err
	}
	switch {
	case ing.DeletionTimestamp != nil:
		return c.release(ctx, u, ing)
	case !c.class.isGCE(ing):
		// An Ingress whose class changed away from GCE keeps its address
		// until deleted: the user may change it back.
		return nil
	}
	if u, err = controller.AddFinalizer(ctx, c.resource(ing.Namespace), u, Finalizer); err != nil {
		return err
	}
	addr, err := c.ensureAddress(ctx, u, ing)
	if err != nil {
		return err
	}
	ports := c.ensureNodePorts(ctx, ing)
	c.queue.Add(firewallKey)
	allIn, err := c.showLoadBalancer(ctx, u, addr, ports)
	if err == nil && !allIn {
		c.queue.AddAfter(ingressKey+key, notInLoadBalancerRetry)
	}
	return err
}

// releaseWithoutCloud takes the finalizer off a deleted Ingress when the
// controller is off: its address, if the federation reserved one, stays.
func (c *Controller) releaseWithoutCloud(ctx context.Context, key string) error {
	obj, exists, err := c.ings.GetStore().GetByKey(key)
	if err != nil || !exists {
		return err
	}
	u := obj.(*unstructured.Unstructured)
	if u.GetDeletionTimestamp() == nil || !slices.Contains(u.GetFinalizers(), Finalizer) {
		return nil
	}
	c.logger.Info("The Ingress load balancer is off; releasing the Ingress without releasing its global address", "ingress", key, "address", u.GetAnnotations()[GlobalStaticIPAnnotation])
	return controller.RemoveFinalizers(ctx, c.resource(u.GetNamespace()), u, func(f string) bool { return f == Finalizer })
}

func (c *Controller) resource(namespace string) dynamic.ResourceInterface {
	return c.cctx.DynamicClient.Resource(ingressGVR).Namespace(namespace)
}

// release gives back the address the federation reserved for a deleted
// Ingress (never one the user named) and lets the Ingress go.
func (c *Controller) release(ctx context.Context, u *unstructured.Unstructured, ing *networkingv1.Ingress) error {
	if !slices.Contains(ing.Finalizers, Finalizer) {
		return nil
	}
	if slices.Contains(ing.Finalizers, federatedtypes.Finalizer) {
		// The members still have their copies, and their load balancers
		// the address; taking that finalizer off brings the Ingress back.
		return nil
	}
	if name := ing.Annotations[GlobalStaticIPAnnotation]; name != "" {
		cctx, cancel := withTimeout(ctx)
		defer cancel()
		addr, err := c.cloud.GetAddress(cctx, name)
		switch {
		case err == nil && ownedBy(addr.Description, c.addressOwner(ing)) && addr.InUse:
			// The members' GCE ingress controllers are still taking
			// their forwarding rules down.
			c.logger.V(2).Info("The global address is still in use; waiting", "ingress", ing.Namespace+"/"+ing.Name, "address", name)
			c.queue.AddAfter(ingressKey+ing.Namespace+"/"+ing.Name, addressInUseRetry)
			return nil
		case err == nil && ownedBy(addr.Description, c.addressOwner(ing)):
			if err := c.cloud.ReleaseAddress(cctx, name); err != nil {
				c.recorder.Eventf(u, corev1.EventTypeWarning, ReasonAddressFailed, "Cannot release global address %s: %v", name, err)
				return err
			}
			c.recorder.Eventf(u, corev1.EventTypeNormal, ReasonAddressReleased, "Released global address %s (%s)", name, addr.IP)
		case err != nil && !isNotFound(err):
			return err
		}
	}
	c.queue.Add(firewallKey)
	return controller.RemoveFinalizers(ctx, c.resource(ing.Namespace), u, func(f string) bool { return f == Finalizer })
}

func (c *Controller) addressOwner(ing *networkingv1.Ingress) ownerNote {
	return ownerNote{Federation: c.cctx.FederationName, Ingress: ing.Namespace + "/" + ing.Name}
}

// ensureAddress reserves the Ingress's global address if it names none,
// and names it in the Ingress; it returns the address in use, nil while a
// named one does not exist.
func (c *Controller) ensureAddress(ctx context.Context, u *unstructured.Unstructured, ing *networkingv1.Ingress) (*addressInUse, error) {
	cctx, cancel := withTimeout(ctx)
	defer cancel()
	if name := ing.Annotations[GlobalStaticIPAnnotation]; name != "" {
		addr, err := c.cloud.GetAddress(cctx, name)
		if isNotFound(err) {
			c.recorder.Eventf(u, corev1.EventTypeWarning, ReasonAddressFailed,
				"Global address %s (annotation %s) does not exist in project; reserve it (gcloud compute addresses create %s --global) or remove the annotation and the federation reserves one", name, GlobalStaticIPAnnotation, name)
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return &addressInUse{name: name, ip: addr.IP}, nil
	}
	name := AddressName(c.cctx.FederationName, ing.Namespace, ing.Name)
	owner := c.addressOwner(ing)
	addr, err := c.cloud.ReserveAddress(cctx, name, owner.String())
	if err != nil {
		c.recorder.Eventf(u, corev1.EventTypeWarning, ReasonAddressFailed, "Cannot reserve global address %s: %v", name, err)
		return nil, err
	}
	if !ownedBy(addr.Description, owner) {
		msg := fmt.Sprintf("Global address %s exists and is not the federation's for this Ingress; name an address of your own in annotation %s", name, GlobalStaticIPAnnotation)
		c.recorder.Event(u, corev1.EventTypeWarning, ReasonAddressFailed, msg)
		return nil, errors.New(msg)
	}
	patch := map[string]interface{}{"metadata": map[string]interface{}{
		"annotations":     map[string]interface{}{GlobalStaticIPAnnotation: name},
		"resourceVersion": u.GetResourceVersion(),
	}}
	if _, err := c.patch(ctx, ing.Namespace, ing.Name, patch); err != nil {
		return nil, err
	}
	c.recorder.Eventf(u, corev1.EventTypeNormal, ReasonAddressReserved, "Reserved global address %s (%s) for every cluster's load balancer", name, addr.IP)
	return &addressInUse{name: name, ip: addr.IP}, nil
}

// addressInUse is the global address an Ingress's load balancer is on.
type addressInUse struct{ name, ip string }
