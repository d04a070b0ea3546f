package fakeglbc

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/api/compute/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// Annotations GCE's ingress controller reads and writes on an Ingress.
const (
	// AnnotationIngressClass is the legacy class annotation; GLBC takes
	// Ingresses whose value is "gce", and those with no class at all.
	AnnotationIngressClass = "kubernetes.io/ingress.class"
	// AnnotationGlobalStaticIP names a reserved global address the
	// forwarding rule must use; the user or the federation owns it.
	AnnotationGlobalStaticIP = "kubernetes.io/ingress.global-static-ip-name"
	// AnnotationStaticIP reports the name of the address GLBC used.
	AnnotationStaticIP = "ingress.kubernetes.io/static-ip"
	// AnnotationURLMap reports the name of the Ingress's URL map.
	AnnotationURLMap = "ingress.kubernetes.io/url-map"
	// AnnotationTargetProxy reports the name of the target HTTP proxy.
	AnnotationTargetProxy = "ingress.kubernetes.io/target-proxy"
	// AnnotationForwardingRule reports the name of the forwarding rule.
	AnnotationForwardingRule = "ingress.kubernetes.io/forwarding-rule"
	// AnnotationBackends reports, as a JSON object, each backend service
	// of the Ingress and its health: "HEALTHY" or "Unknown".
	AnnotationBackends = "ingress.kubernetes.io/backends"
)

// Values that select GLBC as an Ingress's controller.
const (
	// ClassGCE is the value of AnnotationIngressClass GLBC takes.
	ClassGCE = "gce"
	// ControllerGCE is the spec.controller of an IngressClass GLBC takes.
	ControllerGCE = "k8s.io/ingress-gce"
)

// Health values of AnnotationBackends.
const (
	healthHealthy = "HEALTHY"
	healthUnknown = "Unknown"
)

// isGCE reports whether GLBC owns ing. The annotation wins over
// spec.ingressClassName, as it does for GLBC; an Ingress naming a class
// that does not exist (yet) is not GLBC's.
func isGCE(ing *networkingv1.Ingress, class func(name string) (*networkingv1.IngressClass, error)) bool {
	if v, ok := ing.Annotations[AnnotationIngressClass]; ok {
		return v == ClassGCE || v == ""
	}
	if ing.Spec.IngressClassName == nil {
		return true
	}
	c, err := class(*ing.Spec.IngressClassName)
	return err == nil && c.Spec.Controller == ControllerGCE
}

// lbPath is one path rule of a host: GCE path patterns and the node port
// they route to.
type lbPath struct {
	paths []string
	port  int32
}

// lbHost is the path rules of one host ("*" for rules without a host).
type lbHost struct {
	host  string
	paths []lbPath
}

// lbPlan is what an Ingress asks of the load balancer, with every backend
// resolved to the node port of its Service in this member.
type lbPlan struct {
	defaultPort int32
	hosts       []lbHost
	// ports are the distinct node ports, sorted.
	ports []int32
}

// serviceGetter returns a member Service, or an error when it is missing.
type serviceGetter func(namespace, name string) (*corev1.Service, error)

// planIngress resolves ing's backends. The default backend is
// spec.defaultBackend, or else the first backend of the rules, as the
// brief of this fake has it (GLBC would use the cluster's default HTTP
// backend, which kwok members do not run).
func planIngress(ing *networkingv1.Ingress, svc serviceGetter) (lbPlan, error) {
	var p lbPlan
	resolve := func(b *networkingv1.IngressBackend) (int32, error) {
		if b.Service == nil {
			return 0, fmt.Errorf("backend has no service: resource backends are not supported")
		}
		port, err := nodePort(ing.Namespace, b.Service, svc)
		if err != nil {
			return 0, err
		}
		if !slices.Contains(p.ports, port) {
			p.ports = append(p.ports, port)
		}
		return port, nil
	}
	if b := ing.Spec.DefaultBackend; b != nil {
		port, err := resolve(b)
		if err != nil {
			return lbPlan{}, fmt.Errorf("default backend: %w", err)
		}
		p.defaultPort = port
	}
	byHost := map[string]int{}
	for _, rule := range ing.Spec.Rules {
		if rule.HTTP == nil {
			continue
		}
		host := rule.Host
		if host == "" {
			host = "*"
		}
		i, ok := byHost[host]
		if !ok {
			i = len(p.hosts)
			byHost[host] = i
			p.hosts = append(p.hosts, lbHost{host: host})
		}
		for _, path := range rule.HTTP.Paths {
			port, err := resolve(&path.Backend)
			if err != nil {
				return lbPlan{}, fmt.Errorf("host %q path %q: %w", rule.Host, path.Path, err)
			}
			p.hosts[i].paths = append(p.hosts[i].paths, lbPath{paths: gcePaths(path), port: port})
		}
	}
	if len(p.ports) == 0 {
		return lbPlan{}, fmt.Errorf("ingress has no backends")
	}
	if p.defaultPort == 0 {
		p.defaultPort = p.ports[0]
	}
	slices.Sort(p.ports)
	return p, nil
}

// nodePort finds the node port behind a Service backend of this member.
func nodePort(namespace string, b *networkingv1.IngressServiceBackend, get serviceGetter) (int32, error) {
	s, err := get(namespace, b.Name)
	if err != nil {
		return 0, fmt.Errorf("service %s/%s: %w", namespace, b.Name, err)
	}
	if s.Spec.Type != corev1.ServiceTypeNodePort && s.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return 0, fmt.Errorf("service %s/%s is of type %q, not NodePort or LoadBalancer", namespace, b.Name, s.Spec.Type)
	}
	for _, sp := range s.Spec.Ports {
		if (b.Port.Name != "" && sp.Name == b.Port.Name) || (b.Port.Name == "" && sp.Port == b.Port.Number) {
			if sp.NodePort == 0 {
				return 0, fmt.Errorf("service %s/%s port %d has no node port yet", namespace, b.Name, sp.Port)
			}
			return sp.NodePort, nil
		}
	}
	return 0, fmt.Errorf("service %s/%s has no port %s", namespace, b.Name, portString(b.Port))
}

func portString(p networkingv1.ServiceBackendPort) string {
	if p.Name != "" {
		return p.Name
	}
	return fmt.Sprint(p.Number)
}

// gcePaths turns an Ingress path into URL map path patterns, which match
// exactly unless they end in "/*".
func gcePaths(p networkingv1.HTTPIngressPath) []string {
	path := p.Path
	if path == "" {
		path = "/"
	}
	if p.PathType == nil || *p.PathType == networkingv1.PathTypeImplementationSpecific {
		if path == "/" {
			return []string{"/*"}
		}
		return []string{path}
	}
	if *p.PathType == networkingv1.PathTypeExact {
		return []string{path}
	}
	path = strings.TrimRight(path, "/")
	if path == "" {
		return []string{"/*"}
	}
	return []string{path, path + "/*"}
}

// urlMapFor is the URL map a plan asks for; link gives the URL of a node
// port's backend service. Hosts keep the order of the Ingress's rules.
func urlMapFor(name string, p lbPlan, link func(nodePort int32) string) *compute.UrlMap {
	um := &compute.UrlMap{Name: name, DefaultService: link(p.defaultPort)}
	for i, h := range p.hosts {
		matcher := fmt.Sprintf("host%d", i+1)
		um.HostRules = append(um.HostRules, &compute.HostRule{Hosts: []string{h.host}, PathMatcher: matcher})
		pm := &compute.PathMatcher{Name: matcher, DefaultService: um.DefaultService}
		for _, path := range h.paths {
			pm.PathRules = append(pm.PathRules, &compute.PathRule{Paths: path.paths, Service: link(path.port)})
		}
		um.PathMatchers = append(um.PathMatchers, pm)
	}
	return um
}

// sameURLMap reports whether two URL maps route alike, comparing service
// references by their project-relative path.
func sameURLMap(a, b *compute.UrlMap) bool {
	return routes(a) == routes(b)
}

// routes renders a URL map's routing as a string that two equal maps share.
func routes(um *compute.UrlMap) string {
	var b strings.Builder
	fmt.Fprintf(&b, "default=%s;", resourcePath(um.DefaultService))
	for _, h := range um.HostRules {
		fmt.Fprintf(&b, "host%v=%s;", h.Hosts, h.PathMatcher)
	}
	for _, pm := range um.PathMatchers {
		fmt.Fprintf(&b, "matcher %s default=%s;", pm.Name, resourcePath(pm.DefaultService))
		for _, r := range pm.PathRules {
			fmt.Fprintf(&b, "%v=%s;", r.Paths, resourcePath(r.Service))
		}
	}
	return b.String()
}

// services lists the backend services a URL map routes to, distinct.
func services(um *compute.UrlMap) []string {
	var out []string
	add := func(link string) {
		if link != "" && !slices.Contains(out, lastSegment(link)) {
			out = append(out, lastSegment(link))
		}
	}
	add(um.DefaultService)
	for _, pm := range um.PathMatchers {
		add(pm.DefaultService)
		for _, r := range pm.PathRules {
			add(r.Service)
		}
	}
	return out
}

// lbAnnotations are the read-only annotations GLBC reports on an Ingress.
// staticIP is the address name used, or "".
func lbAnnotations(n Namer, namespace, name string, p lbPlan, healthy bool, staticIP string) map[string]string {
	health := map[string]string{}
	for _, port := range p.ports {
		health[n.BackendService(port)] = healthUnknown
		if healthy {
			health[n.BackendService(port)] = healthHealthy
		}
	}
	backends, _ := json.Marshal(health) // a map of strings always marshals
	a := map[string]string{
		AnnotationURLMap:         n.URLMap(namespace, name),
		AnnotationTargetProxy:    n.TargetHTTPProxy(namespace, name),
		AnnotationForwardingRule: n.ForwardingRule(namespace, name),
		AnnotationBackends:       string(backends),
	}
	if staticIP != "" {
		a[AnnotationStaticIP] = staticIP
	}
	return a
}
