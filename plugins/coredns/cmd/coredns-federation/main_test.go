package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/miekg/dns"
)

func TestMain(m *testing.M) {
	dnsserver.Directives = withFederation(dnsserver.Directives)
	caddy.Quiet = true
	dnsserver.Quiet = true
	os.Exit(m.Run())
}

func TestWithFederation(t *testing.T) {
	in := []string{"log", "k8s_external", "kubernetes", "forward"}
	got := withFederation(in)
	if want := []string{"log", "k8s_external", "federation", "kubernetes", "forward"}; !slices.Equal(got, want) {
		t.Errorf("withFederation = %v, want %v", got, want)
	}
	if !slices.Equal(in, []string{"log", "k8s_external", "kubernetes", "forward"}) {
		t.Errorf("withFederation changed its argument to %v", in)
	}
	if again := withFederation(got); !slices.Equal(again, got) {
		t.Errorf("withFederation twice = %v", again)
	}
	if got := withFederation([]string{"log"}); !slices.Equal(got, []string{"log", "federation"}) {
		t.Errorf("without kubernetes: %v", got)
	}
	k := slices.Index(dnsserver.Directives, "kubernetes")
	if k < 1 || dnsserver.Directives[k-1] != "federation" {
		t.Errorf("CoreDNS's directives do not have federation just before kubernetes")
	}
}

func start(t *testing.T, corefile string) (*caddy.Instance, error) {
	t.Helper()
	return caddy.Start(caddy.CaddyfileInput{Contents: []byte(corefile), ServerTypeName: "dns", Filepath: "Corefile"})
}

func TestServerNeedsKubernetes(t *testing.T) {
	i, err := start(t, "cluster.local:0 {\n federation {\n  myfederation example.com\n }\n}\n")
	if err == nil {
		_ = i.Stop()
		t.Fatal("a server block with federation and no kubernetes started")
	}
	if !strings.Contains(err.Error(), "needs the kubernetes plugin") {
		t.Errorf("error %q does not say the kubernetes plugin is needed", err)
	}
}

// A server with both plugins, whose kubernetes plugin has no API server to
// reach: no Service is healthy here, so a federated name is a CNAME.
func TestServerWithKubernetes(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:1
contexts:
- name: c
  context:
    cluster: c
    user: u
users:
- name: u
  user:
    token: t
current-context: c
`), 0o600); err != nil {
		t.Fatal(err)
	}
	corefile := `cluster.local:0 {
    federation {
        myfederation example.com
        zone z
        region r
    }
    kubernetes {
        kubeconfig ` + kubeconfig + ` c
        startup_timeout 100ms
    }
}
`
	i, err := start(t, corefile)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = i.Stop() }()
	addr := i.Servers()[0].LocalAddr().String()

	m := new(dns.Msg)
	m.SetQuestion("nginx.mynamespace.myfederation.svc.cluster.local.", dns.TypeA)
	r, err := dns.Exchange(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 1 {
		t.Fatalf("answer %v", r)
	}
	cname, ok := r.Answer[0].(*dns.CNAME)
	if !ok || cname.Target != "nginx.mynamespace.myfederation.svc.z.r.example.com." {
		t.Errorf("answer %v, want a CNAME to nginx.mynamespace.myfederation.svc.z.r.example.com.", r.Answer[0])
	}
}
