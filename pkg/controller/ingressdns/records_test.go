package ingressdns

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/kfederation/federation/pkg/controller/dnsrecords"
	"github.com/kfederation/federation/pkg/dnsprovider"
)

func TestHosts(t *testing.T) {
	ing := &networkingv1.Ingress{Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{
		{Host: "shop.example.com"},
		{Host: "api.shop.example.com"},
		{Host: "shop.example.com"}, // a second rule of the same host
		{Host: "Upper.Example.com"},
		{Host: ""},
		{Host: "*.example.com"},
		{Host: "example.com"},
		{Host: "shop.example.org"},
		{Host: "notexample.com"},
	}}}
	hosts, skipped := Hosts(ing, "example.com")
	if want := []string{"api.shop.example.com.", "shop.example.com.", "upper.example.com."}; !slices.Equal(hosts, want) {
		t.Errorf("hosts %q, want %q", hosts, want)
	}
	var got []string
	for _, s := range skipped {
		got = append(got, fmt.Sprintf("%s %v", s.Host, s.Surprising))
	}
	if want := []string{"*.example.com true", "example.com true", "shop.example.org false", "notexample.com false"}; !slices.Equal(got, want) {
		t.Errorf("skipped %q, want %q", got, want)
	}
}

func TestBackends(t *testing.T) {
	svc := func(name string) networkingv1.IngressBackend {
		return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name}}
	}
	paths := func(backends ...networkingv1.IngressBackend) networkingv1.IngressRuleValue {
		v := networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{}}
		for _, b := range backends {
			v.HTTP.Paths = append(v.HTTP.Paths, networkingv1.HTTPIngressPath{Backend: b})
		}
		return v
	}
	resource := networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{Kind: "StorageBucket", Name: "static"}}
	def := svc("default")
	ing := &networkingv1.Ingress{Spec: networkingv1.IngressSpec{
		DefaultBackend: &def,
		Rules: []networkingv1.IngressRule{
			{Host: "shop.example.com", IngressRuleValue: paths(svc("web"), svc("cart"))},
			{Host: "SHOP.example.com", IngressRuleValue: paths(svc("web"))},
			{Host: "static.example.com", IngressRuleValue: paths(resource)},
			{Host: "bare.example.com"},
			{Host: "", IngressRuleValue: paths(svc("any-host"))},
		},
	}}
	cases := []struct {
		host     string
		services []string
		other    bool
	}{
		{"shop.example.com.", []string{"cart", "default", "web"}, false},
		{"static.example.com.", []string{"default"}, true},
		{"bare.example.com.", []string{"default"}, false},
		{"unknown.example.com.", []string{"default"}, false},
	}
	for _, tc := range cases {
		services, other := Backends(ing, tc.host)
		if !slices.Equal(services, tc.services) || other != tc.other {
			t.Errorf("Backends(%s) = %q, %v; want %q, %v", tc.host, services, other, tc.services, tc.other)
		}
	}
	if got, want := allBackends(ing), []string{"any-host", "cart", "default", "web"}; !slices.Equal(got, want) {
		t.Errorf("allBackends = %q, want %q", got, want)
	}
}

func TestDesired(t *testing.T) {
	const shop, api = "shop.example.com.", "api.example.com."
	member := func(cluster string, ready bool, ips []string, serving ...string) Member {
		return Member{Cluster: cluster, Ready: ready, Address: dnsrecords.Targets{IPs: ips}, Serving: serving}
	}
	cases := []struct {
		name    string
		members []Member
		want    []string
	}{
		{"every member healthy for both hosts", []Member{
			member("a", true, []string{"192.0.2.1"}, shop, api),
			member("b", true, []string{"192.0.2.2"}, shop, api),
		}, []string{api + " A 192.0.2.1,192.0.2.2", shop + " A 192.0.2.1,192.0.2.2"}},
		{"b serves shop only", []Member{
			member("a", true, []string{"192.0.2.1"}, shop, api),
			member("b", true, []string{"192.0.2.2"}, shop),
		}, []string{api + " A 192.0.2.1", shop + " A 192.0.2.1,192.0.2.2"}},
		{"a not Ready, b without an address", []Member{
			member("a", false, []string{"192.0.2.1"}, shop, api),
			member("b", true, nil, shop, api),
		}, nil},
		{"the same address twice, and IPv6", []Member{
			member("a", true, []string{"192.0.2.1", "2001:db8::1"}, shop),
			member("b", true, []string{"192.0.2.1"}, shop),
		}, []string{shop + " A 192.0.2.1", shop + " AAAA 2001:db8::1"}},
		{"one member known by a host name alone: CNAME", []Member{
			{Cluster: "aws", Ready: true, Address: dnsrecords.Targets{Hostnames: []string{"lb.elb.example.net"}}, Serving: []string{shop}},
		}, []string{shop + " CNAME lb.elb.example.net."}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, rs := range Desired([]string{api, shop}, 60, tc.members) {
				if rs.TTL != 60 {
					t.Errorf("%s: TTL %d, want 60", rs.Name, rs.TTL)
				}
				got = append(got, render(rs))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func render(rs dnsprovider.RecordSet) string {
	return fmt.Sprintf("%s %s %s", rs.Name, rs.Type, strings.Join(rs.Data, ","))
}
