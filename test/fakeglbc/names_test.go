package fakeglbc

import (
	"strings"
	"testing"
)

func TestNamer(t *testing.T) {
	n := Namer{UID: "0123456789abcdef", FirewallSuffix: "fedcba9876543210"}
	long := strings.Repeat("x", 60)
	tests := []struct {
		name, got, want string
	}{
		{"instance group", n.InstanceGroup(), "k8s-ig--0123456789abcdef"},
		{"backend service", n.BackendService(30080), "k8s-be-30080--0123456789abcdef"},
		{"health check is the backend's name", n.HealthCheck(30080), "k8s-be-30080--0123456789abcdef"},
		{"url map", n.URLMap("default", "web"), "k8s-um-default-web--0123456789abcdef"},
		{"target proxy", n.TargetHTTPProxy("default", "web"), "k8s-tp-default-web--0123456789abcdef"},
		{"forwarding rule", n.ForwardingRule("default", "web"), "k8s-fw-default-web--0123456789abcdef"},
		{"firewall by provider-uid", n.Firewall(), "k8s-fw-l7--fedcba9876543210"},
		{"firewall without suffix", Namer{}.Firewall(), "k8s-fw-l7"},
		{"no uid, no delimiter", Namer{}.URLMap("ns", "a"), "k8s-um-ns-a"},
		{"truncated to 62 and 0 appended", n.URLMap("default", long), ("k8s-um-default-" + long)[:62] + "0"},
		{"62 characters are kept", Namer{}.URLMap("n", strings.Repeat("y", 62-len("k8s-um-n-"))), "k8s-um-n-" + strings.Repeat("y", 62-len("k8s-um-n-"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
			if len(tt.got) > 63 {
				t.Errorf("%q is longer than a Compute name may be", tt.got)
			}
		})
	}
}

func TestInstanceName(t *testing.T) {
	tests := []struct{ cluster, node, want string }{
		{"member-1", "kwok-node-0", "member-1-kwok-node-0"},
		{"East", "node.example.com", "east-node-example-com"},
		{"1st", "n", "n1st-n"},
		{"c", strings.Repeat("a", 70), "c-" + strings.Repeat("a", 60) + "0"},
		{"c", "node_", "c-node"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := InstanceName(tt.cluster, tt.node); got != tt.want {
				t.Errorf("InstanceName(%q, %q) = %q, want %q", tt.cluster, tt.node, got, tt.want)
			}
		})
	}
}
