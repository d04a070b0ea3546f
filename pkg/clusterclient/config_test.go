package clusterclient

import (
	"testing"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
)

func TestServerAddress(t *testing.T) {
	cases := []struct {
		name  string
		addrs []federationv1beta1.ServerAddressByClientCIDR
		want  string
		err   bool
	}{
		{"none", nil, "", true},
		{"the entry for every client wins", []federationv1beta1.ServerAddressByClientCIDR{
			{ClientCIDR: "10.0.0.0/8", ServerAddress: "https://internal:6443"},
			{ClientCIDR: "0.0.0.0/0", ServerAddress: "https://public:6443"}}, "https://public:6443", false},
		{"IPv6 every client", []federationv1beta1.ServerAddressByClientCIDR{
			{ClientCIDR: "10.0.0.0/8", ServerAddress: "https://internal:6443"},
			{ClientCIDR: "::/0", ServerAddress: "https://v6:6443"}}, "https://v6:6443", false},
		{"else the first", []federationv1beta1.ServerAddressByClientCIDR{
			{ClientCIDR: "10.0.0.0/8", ServerAddress: "https://internal:6443"},
			{ClientCIDR: "192.168.0.0/16", ServerAddress: "https://other:6443"}}, "https://internal:6443", false},
		{"https by default", []federationv1beta1.ServerAddressByClientCIDR{
			{ClientCIDR: "0.0.0.0/0", ServerAddress: "member.example.com:6443"}}, "https://member.example.com:6443", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &federationv1beta1.Cluster{Spec: federationv1beta1.ClusterSpec{ServerAddressByClientCIDRs: tc.addrs}}
			c.Name = "m"
			got, err := ServerAddress(c)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("ServerAddress = %q, %v; want %q, error %v", got, err, tc.want, tc.err)
			}
		})
	}
}
