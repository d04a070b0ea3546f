package ingresslb

import (
	"regexp"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var computeName = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)

func TestNamesAreComputeEngineNames(t *testing.T) {
	long := strings.Repeat("n", 63)
	for _, tc := range []struct{ got, want string }{
		{AddressName("myfederation", "default", "shop"), "k8s-fed-default-shop--myfederation"},
		{FirewallName("myfederation"), "k8s-fed-fw-l7--myfederation"},
		{BackendServiceName(30080, "0123456789abcdef"), "k8s-be-30080--0123456789abcdef"},
		{InstanceGroupName("0123456789abcdef"), "k8s-ig--0123456789abcdef"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	a, b := AddressName("fed", long, "a"), AddressName("fed", long, "b")
	for _, n := range []string{a, b, FirewallName(long)} {
		if !computeName.MatchString(n) {
			t.Errorf("%q (%d characters) is not a Compute Engine name", n, len(n))
		}
	}
	if a == b {
		t.Errorf("two long names truncated to the same %q", a)
	}
}

func TestProviderUIDDistinctAndStable(t *testing.T) {
	a, b := ProviderUID("fed", "us-central1-a"), ProviderUID("fed", "us-central1-b")
	if a == b || len(a) != 16 {
		t.Errorf("provider UIDs %q and %q: want 16 hex characters, distinct per cluster", a, b)
	}
	if ProviderUID("fed", "us-central1-a") != a {
		t.Error("the provider UID changed between two calls")
	}
}

func TestOwnedBy(t *testing.T) {
	n := ownerNote{Federation: "fed", Ingress: "ns/shop"}
	if !ownedBy(n.String(), n) {
		t.Errorf("%s is not owned by itself", n)
	}
	for _, d := range []string{"", "made by hand", ownerNote{Federation: "other", Ingress: "ns/shop"}.String(), ownerNote{Federation: "fed", Ingress: "ns/cart"}.String()} {
		if ownedBy(d, n) {
			t.Errorf("description %q counts as %s's", d, n)
		}
	}
}

func TestIsGCE(t *testing.T) {
	gceClass, nginxClass := "gce-class", "nginx"
	classes := map[string]string{gceClass: GCEController, nginxClass: "k8s.io/ingress-nginx"}
	ing := func(annotation *string, className *string) *networkingv1.Ingress {
		i := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{}}}
		if annotation != nil {
			i.Annotations[IngressClassAnnotation] = *annotation
		}
		i.Spec.IngressClassName = className
		return i
	}
	gce, nginx := "gce", "nginx"
	for _, tc := range []struct {
		name      string
		ing       *networkingv1.Ingress
		classless bool
		want      bool
	}{
		{"annotation gce", ing(&gce, nil), false, true},
		{"annotation nginx wins over a GCE class", ing(&nginx, &gceClass), true, false},
		{"GCE IngressClass", ing(nil, &gceClass), false, true},
		{"nginx IngressClass", ing(nil, &nginxClass), true, false},
		{"unknown IngressClass", ing(nil, new(string)), true, false},
		{"no class, not on GCE", ing(nil, nil), false, false},
		{"no class, on GCE", ing(nil, nil), true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := classOf{classless: tc.classless, controller: func(n string) string { return classes[n] }}
			if got := c.isGCE(tc.ing); got != tc.want {
				t.Errorf("isGCE = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBackendsOf(t *testing.T) {
	svc := func(name string, port int32, portName string) *networkingv1.IngressBackend {
		return &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: port, Name: portName}}}
	}
	ing := &networkingv1.Ingress{Spec: networkingv1.IngressSpec{
		DefaultBackend: svc("web", 80, ""),
		Rules: []networkingv1.IngressRule{{Host: "shop.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{Path: "/", Backend: *svc("web", 80, "")}, {Path: "/api", Backend: *svc("api", 0, "http")}},
		}}}, {Host: "no-http.example.com"}},
	}}
	got := backendsOf(ing)
	if len(got) != 2 || got[0].String() != "web:80" || got[1].String() != "api:http" {
		t.Errorf("backends %v, want [web:80 api:http]", got)
	}
}
