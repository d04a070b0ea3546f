package options

import (
	"strings"
	"testing"
	"time"
)

func TestValidateDNS(t *testing.T) {
	for _, tc := range []struct {
		name    string
		set     func(o *Options)
		wantErr string
	}{
		{name: "off", set: func(*Options) {}},
		{name: "coredns", set: func(o *Options) {
			o.DNSProvider, o.DNSProviderConfig, o.ZoneName = "coredns", "/etc/dns.yaml", "example.com"
		}},
		{name: "suffix under the zone", set: func(o *Options) {
			o.DNSProvider, o.DNSProviderConfig, o.ZoneName, o.ServiceDNSSuffix = "google-clouddns", "/etc/dns.yaml", "example.com.", "fed.example.com"
		}},
		{name: "unknown provider", set: func(o *Options) {
			o.DNSProvider, o.DNSProviderConfig, o.ZoneName = "route53", "/etc/dns.yaml", "example.com"
		}, wantErr: `--dns-provider "route53": unknown`},
		{name: "no config", set: func(o *Options) { o.DNSProvider, o.ZoneName = "coredns", "example.com" }, wantErr: "--dns-provider-config is required"},
		{name: "no zone", set: func(o *Options) { o.DNSProvider, o.DNSProviderConfig = "coredns", "/etc/dns.yaml" }, wantErr: "--zone-name"},
		{name: "zone without provider", set: func(o *Options) { o.ZoneName = "example.com" }, wantErr: "need --dns-provider"},
		{name: "suffix outside the zone", set: func(o *Options) {
			o.DNSProvider, o.DNSProviderConfig, o.ZoneName, o.ServiceDNSSuffix = "coredns", "/etc/dns.yaml", "example.com", "example.org"
		}, wantErr: "is not in zone"},
		{name: "TTL zero", set: func(o *Options) { o.DNSTTL = 0 }, wantErr: "--dns-ttl must be from 1"},
		{name: "TTL too big", set: func(o *Options) { o.DNSTTL = 1 << 31 }, wantErr: "--dns-ttl must be from 1"},
		{name: "negative grace", set: func(o *Options) { o.DNSUnhealthyGrace = -time.Second }, wantErr: "--dns-unhealthy-grace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := NewOptions()
			tc.set(o)
			err := o.Validate([]string{"service-dns"})
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Validate = %v, want no error", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Validate = %v, want an error with %q", err, tc.wantErr)
			}
		})
	}
}
