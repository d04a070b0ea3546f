package ingresslb

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// ensureNodePorts makes every backend Service port of ing have one node
// port, the same in every member: the one written in the federated
// Service, or else the one the first member (by name) allocated, written
// into the federated Service so that the sync gives it to the others. A
// backend that cannot have one gets a Warning event. It returns the node
// ports of the backends that have one.
func (c *Controller) ensureNodePorts(ctx context.Context, ing *networkingv1.Ingress) []int32 {
	var ports []int32
	for _, b := range backendsOf(ing) {
		port, err := c.ensureNodePort(ctx, ing, b)
		if err != nil {
			c.logger.Error(err, "Cannot give the backend one node port", "ingress", ing.Namespace+"/"+ing.Name, "backend", b.String())
			continue
		}
		if port != 0 {
			ports = append(ports, port)
		}
	}
	return ports
}

// ensureNodePort is ensureNodePorts for one backend; 0 while it has none.
func (c *Controller) ensureNodePort(ctx context.Context, ing *networkingv1.Ingress, b backend) (int32, error) {
	obj, exists, err := c.svcs.GetStore().GetByKey(ing.Namespace + "/" + b.service)
	if err != nil {
		return 0, err
	}
	if !exists {
		c.recorder.Eventf(ing, corev1.EventTypeWarning, ReasonBackendNotFed,
			"Backend Service %s/%s is not in the federation: create it there, so that every cluster has it with the same node port", ing.Namespace, b.service)
		return 0, nil
	}
	svc, err := toService(obj)
	if err != nil {
		return 0, err
	}
	i := servicePort(svc, b)
	switch {
	case i < 0:
		c.recorder.Eventf(ing, corev1.EventTypeWarning, ReasonBackendNoNodePort, "Backend Service %s/%s has no port %s", ing.Namespace, b.service, b.portString())
		return 0, nil
	case !hasNodePorts(svc):
		c.recorder.Eventf(ing, corev1.EventTypeWarning, ReasonBackendNoNodePort,
			"Backend Service %s/%s is of type %s: a GCE load balancer reaches its backends through node ports; make it type NodePort", ing.Namespace, b.service, typeOf(svc))
		return 0, nil
	case svc.Spec.Ports[i].NodePort != 0:
		return svc.Spec.Ports[i].NodePort, nil
	}
	port, cluster := c.allocatedNodePort(svc, svc.Spec.Ports[i])
	if port == 0 {
		// No member has allocated one yet; its copy's event brings the
		// Service back here.
		return 0, nil
	}
	cp := svc.DeepCopy()
	cp.Spec.Ports[i].NodePort = port
	if _, err := c.cctx.KubeClient.CoreV1().Services(svc.Namespace).Update(ctx, cp, metav1.UpdateOptions{}); err != nil {
		return 0, fmt.Errorf("write node port %d into federated Service %s/%s: %w", port, svc.Namespace, svc.Name, err)
	}
	c.recorder.Eventf(ing, corev1.EventTypeNormal, ReasonNodePortChosen,
		"Service %s/%s port %s uses node port %d, allocated by cluster %s, in every cluster", svc.Namespace, svc.Name, b.portString(), port, cluster)
	return port, nil
}

func typeOf(svc *corev1.Service) corev1.ServiceType {
	if svc.Spec.Type == "" {
		return corev1.ServiceTypeClusterIP
	}
	return svc.Spec.Type
}

// allocatedNodePort is the node port the first Ready member, by name,
// allocated for port in its copy of svc.
func (c *Controller) allocatedNodePort(svc *corev1.Service, port corev1.ServicePort) (int32, string) {
	for _, name := range c.readyMembers() {
		obj, ok := c.members.Cached(name, serviceGVR, svc.Namespace+"/"+svc.Name)
		if !ok {
			continue
		}
		member := &corev1.Service{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, member); err != nil {
			continue
		}
		for _, p := range member.Spec.Ports {
			if p.Port == port.Port && p.Name == port.Name && p.Protocol == port.Protocol && p.NodePort != 0 {
				return p.NodePort, name
			}
		}
	}
	return 0, ""
}
