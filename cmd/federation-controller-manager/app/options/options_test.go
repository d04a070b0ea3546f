package options

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
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

func TestServingDefaults(t *testing.T) {
	o := NewOptions()
	if err := o.Validate(nil); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if o.Profiling {
		t.Error("--profiling is on by default; want off unless asked for")
	}
	if o.SecureServing.BindPort != DefaultSecurePort || o.SecureServing.BindAddress.String() != "0.0.0.0" {
		t.Errorf("serving on %s:%d by default, want 0.0.0.0:%d", o.SecureServing.BindAddress, o.SecureServing.BindPort, DefaultSecurePort)
	}
	if o.SecureServing.ServerCert.CertDirectory != "" {
		t.Errorf("--cert-dir defaults to %q; want none, so that the self-signed certificate stays in memory", o.SecureServing.ServerCert.CertDirectory)
	}
	for _, p := range []string{"/healthz", "/livez", "/readyz"} {
		if !slices.Contains(o.Authorization.AlwaysAllowPaths, p) {
			t.Errorf("%s is not in --authorization-always-allow-paths %v: probes would need credentials", p, o.Authorization.AlwaysAllowPaths)
		}
	}
	if slices.Contains(o.Authorization.AlwaysAllowPaths, "/metrics") {
		t.Errorf("/metrics is open to anyone by default")
	}
}

// TestValidateFlags checks the serving and client flags as parsed.
func TestValidateFlags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "defaults"},
		{name: "serving off", args: []string{"--secure-port=0"}},
		{name: "profiling on", args: []string{"--profiling"}},
		{name: "delegation to a host cluster", args: []string{"--authentication-kubeconfig=/etc/host/kubeconfig", "--authorization-kubeconfig=/etc/host/kubeconfig", "--client-ca-file=/etc/federation/ca.crt"}},
		{name: "port too big", args: []string{"--secure-port=65536"}, wantErr: "--secure-port 65536 must be between"},
		{name: "negative port", args: []string{"--secure-port=-1"}, wantErr: "--secure-port -1 must be between 0 and 65535"},
		{name: "profiling without serving", args: []string{"--secure-port=0", "--profiling"}, wantErr: "--profiling needs --secure-port"},
		{name: "the insecure port is gone", args: []string{"--port=10258"}, wantErr: "unknown flag: --port"},
		{name: "JSON to the federation-apiserver", args: []string{"--kube-api-content-type=application/json"}},
		{name: "react to one failed probe", args: []string{"--cluster-failure-threshold=1"}},
		{name: "no failed probe needed", args: []string{"--cluster-failure-threshold=0"}, wantErr: "--cluster-failure-threshold must be at least 1, got 0"},
		{name: "an encoding the federation-apiserver does not serve", args: []string{"--kube-api-content-type=application/yaml"}, wantErr: `--kube-api-content-type "application/yaml": must be`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := NewOptions()
			fs := pflag.NewFlagSet("federation-controller-manager", pflag.ContinueOnError)
			fs.SetOutput(io.Discard)
			for _, f := range o.Flags(nil).FlagSets {
				fs.AddFlagSet(f)
			}
			err := fs.Parse(tc.args)
			if err == nil {
				err = o.Validate(nil)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("%v: %v, want no error", tc.args, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("%v: %v, want an error with %q", tc.args, err, tc.wantErr)
			}
		})
	}
}
