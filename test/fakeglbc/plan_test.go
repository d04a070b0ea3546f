package fakeglbc

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

func TestIsGCE(t *testing.T) {
	classes := map[string]*networkingv1.IngressClass{
		"gce":   {Spec: networkingv1.IngressClassSpec{Controller: ControllerGCE}},
		"nginx": {Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}},
	}
	get := func(name string) (*networkingv1.IngressClass, error) {
		if c, ok := classes[name]; ok {
			return c, nil
		}
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "ingressclasses"}, name)
	}
	tests := []struct {
		name       string
		annotation *string
		className  *string
		want       bool
	}{
		{"no class at all", nil, nil, true},
		{"annotation gce", ptr.To("gce"), nil, true},
		{"annotation empty", ptr.To(""), nil, true},
		{"annotation nginx", ptr.To("nginx"), nil, false},
		{"annotation wins over the class name", ptr.To("nginx"), ptr.To("gce"), false},
		{"class of ingress-gce", nil, ptr.To("gce"), true},
		{"class of another controller", nil, ptr.To("nginx"), false},
		{"class that does not exist", nil, ptr.To("missing"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := &networkingv1.Ingress{Spec: networkingv1.IngressSpec{IngressClassName: tt.className}}
			if tt.annotation != nil {
				ing.Annotations = map[string]string{AnnotationIngressClass: *tt.annotation}
			}
			if got := isGCE(ing, get); got != tt.want {
				t.Errorf("isGCE = %v, want %v", got, tt.want)
			}
		})
	}
}

func backend(svc string, port int32) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: svc, Port: networkingv1.ServiceBackendPort{Number: port},
	}}
}

func httpRule(host string, paths ...networkingv1.HTTPIngressPath) networkingv1.IngressRule {
	return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{
		HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths},
	}}
}

func prefix(path string, b networkingv1.IngressBackend) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{Path: path, PathType: ptr.To(networkingv1.PathTypePrefix), Backend: b}
}

func TestPlanIngress(t *testing.T) {
	services := map[string]*corev1.Service{
		"web": {Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{
			{Name: "http", Port: 80, NodePort: 30080}, {Name: "admin", Port: 81, NodePort: 30081},
		}}},
		"lb":        {Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80, NodePort: 30090}}}},
		"clusterip": {Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: []corev1.ServicePort{{Port: 80}}}},
		"pending":   {Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}}}},
	}
	get := func(_, name string) (*corev1.Service, error) {
		if s, ok := services[name]; ok {
			return s, nil
		}
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "services"}, name)
	}
	tests := []struct {
		name    string
		spec    networkingv1.IngressSpec
		want    string // rendered plan
		wantErr string
	}{{
		name: "default backend only",
		spec: networkingv1.IngressSpec{DefaultBackend: ptr.To(backend("web", 80))},
		want: "default=30080 ports=[30080]",
	}, {
		name: "rules without default take the first backend",
		spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{
			httpRule("a.example.com", prefix("/api/", backend("lb", 80)), prefix("/", backend("web", 80))),
			httpRule("", networkingv1.HTTPIngressPath{Path: "/x", PathType: ptr.To(networkingv1.PathTypeExact), Backend: backend("web", 81)}),
			httpRule("a.example.com", networkingv1.HTTPIngressPath{Path: "/raw/*", Backend: backend("web", 80)}),
		}},
		want: "default=30090 ports=[30080 30081 30090] a.example.com{[/api /api/*]:30090 [/*]:30080 [/raw/*]:30080} *{[/x]:30081}",
	}, {
		name: "port by name",
		spec: networkingv1.IngressSpec{DefaultBackend: &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
			Name: "web", Port: networkingv1.ServiceBackendPort{Name: "admin"},
		}}},
		want: "default=30081 ports=[30081]",
	}, {
		name:    "service missing",
		spec:    networkingv1.IngressSpec{DefaultBackend: ptr.To(backend("nope", 80))},
		wantErr: "not found",
	}, {
		name:    "ClusterIP service",
		spec:    networkingv1.IngressSpec{DefaultBackend: ptr.To(backend("clusterip", 80))},
		wantErr: "not NodePort or LoadBalancer",
	}, {
		name:    "node port not allocated",
		spec:    networkingv1.IngressSpec{DefaultBackend: ptr.To(backend("pending", 80))},
		wantErr: "no node port",
	}, {
		name:    "port missing",
		spec:    networkingv1.IngressSpec{DefaultBackend: ptr.To(backend("web", 8080))},
		wantErr: "has no port 8080",
	}, {
		name:    "no backends",
		spec:    networkingv1.IngressSpec{},
		wantErr: "no backends",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ing"}, Spec: tt.spec}
			p, err := planIngress(ing, get)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := render(p); got != tt.want {
				t.Errorf("plan\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func render(p lbPlan) string {
	s := fmt.Sprintf("default=%d ports=%v", p.defaultPort, p.ports)
	for _, h := range p.hosts {
		var paths []string
		for _, path := range h.paths {
			paths = append(paths, fmt.Sprintf("%v:%d", path.paths, path.port))
		}
		s += fmt.Sprintf(" %s{%s}", h.host, strings.Join(paths, " "))
	}
	return s
}

func TestURLMapFor(t *testing.T) {
	p := lbPlan{defaultPort: 1, ports: []int32{1, 2}, hosts: []lbHost{
		{host: "a", paths: []lbPath{{paths: []string{"/x"}, port: 2}}},
		{host: "*", paths: []lbPath{{paths: []string{"/*"}, port: 1}}},
	}}
	link := func(port int32) string {
		return fmt.Sprintf("http://fake/compute/v1/projects/p/global/backendServices/be-%d", port)
	}
	um := urlMapFor("um", p, link)
	if um.DefaultService != link(1) || len(um.HostRules) != 2 || len(um.PathMatchers) != 2 {
		t.Fatalf("url map %+v", um)
	}
	if um.HostRules[0].PathMatcher != um.PathMatchers[0].Name || um.PathMatchers[0].PathRules[0].Service != link(2) {
		t.Errorf("host a is not routed to be-2: %+v %+v", um.HostRules[0], um.PathMatchers[0].PathRules[0])
	}
	if got := services(um); !slices.Equal(got, []string{"be-1", "be-2"}) {
		t.Errorf("services = %v", got)
	}

	// The same routes with links of another endpoint are the same map.
	other := urlMapFor("um", p, func(port int32) string { return fmt.Sprintf("projects/p/global/backendServices/be-%d", port) })
	if !sameURLMap(um, other) {
		t.Errorf("maps differing only in link form compare different:\n%s\n%s", routes(um), routes(other))
	}
	p.hosts[0].paths[0].port = 1
	if sameURLMap(um, urlMapFor("um", p, link)) {
		t.Error("maps routing differently compare equal")
	}
}

func TestLBAnnotations(t *testing.T) {
	n := Namer{UID: "u", FirewallSuffix: "u"}
	p := lbPlan{ports: []int32{30080, 30081}}
	a := lbAnnotations(n, "ns", "web", p, true, "addr")
	want := map[string]string{
		AnnotationURLMap:         "k8s-um-ns-web--u",
		AnnotationTargetProxy:    "k8s-tp-ns-web--u",
		AnnotationForwardingRule: "k8s-fw-ns-web--u",
		AnnotationBackends:       `{"k8s-be-30080--u":"HEALTHY","k8s-be-30081--u":"HEALTHY"}`,
		AnnotationStaticIP:       "addr",
	}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("%s = %q, want %q", k, a[k], v)
		}
	}
	a = lbAnnotations(n, "ns", "web", p, false, "")
	if _, ok := a[AnnotationStaticIP]; ok {
		t.Error("static-ip annotation without a static IP")
	}
	if a[AnnotationBackends] != `{"k8s-be-30080--u":"Unknown","k8s-be-30081--u":"Unknown"}` {
		t.Errorf("backends = %s", a[AnnotationBackends])
	}
}

func TestAnnotationPatch(t *testing.T) {
	want := map[string]string{AnnotationURLMap: "um"}
	tests := []struct {
		name string
		have map[string]string
		want string
	}{
		{"none yet", nil, `{"metadata":{"annotations":{"ingress.kubernetes.io/url-map":"um"}}}`},
		{"up to date, others kept", map[string]string{AnnotationURLMap: "um", "user": "x"}, ""},
		{"changed", map[string]string{AnnotationURLMap: "old"}, `{"metadata":{"annotations":{"ingress.kubernetes.io/url-map":"um"}}}`},
		{"static ip no longer used", map[string]string{AnnotationURLMap: "um", AnnotationStaticIP: "ip"},
			`{"metadata":{"annotations":{"ingress.kubernetes.io/static-ip":null}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(annotationPatch(tt.have, want)); got != tt.want {
				t.Errorf("patch\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}
