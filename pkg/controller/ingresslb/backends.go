package ingresslb

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/kfederation/federation/pkg/controller"
)

// backend is one Service port an Ingress sends traffic to.
type backend struct {
	service string
	// port is the Service port's number, or else its name.
	port     int32
	portName string
}

// portString names the port alone: "80" or "http".
func (b backend) portString() string {
	if b.portName != "" {
		return b.portName
	}
	return fmt.Sprint(b.port)
}

func (b backend) String() string {
	if b.portName != "" {
		return fmt.Sprintf("%s:%s", b.service, b.portName)
	}
	return fmt.Sprintf("%s:%d", b.service, b.port)
}

// backendsOf lists the Service ports of an Ingress's default backend and
// rules, each once, in the order they appear.
func backendsOf(ing *networkingv1.Ingress) []backend {
	var out []backend
	for _, b := range controller.IngressServiceBackends(ing) {
		out = append(out, backend{service: b.Name, port: b.Port.Number, portName: b.Port.Name})
	}
	return out
}

// servicePort finds the port b names in svc; -1 if it has none.
func servicePort(svc *corev1.Service, b backend) int {
	for i, p := range svc.Spec.Ports {
		if (b.portName != "" && p.Name == b.portName) || (b.portName == "" && p.Port == b.port) {
			return i
		}
	}
	return -1
}

// hasNodePorts says the Service type gives its ports node ports.
func hasNodePorts(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer
}
