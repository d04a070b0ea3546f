// Command local-up is `make run`: it starts a local federation of three real
// member clusters and a CoreDNS for its Service DNS records, registers the
// members, prints how to use it, and stops everything cleanly on Ctrl-C.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kfederation/federation/test/framework"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "make run:", err)
		os.Exit(1)
	}
}

// federationName is the controller manager's --federation-name, which is
// part of every Service DNS name (nginx.default.myfederation.svc...).
const federationName = "myfederation"

func run() error {
	root, err := framework.RepoRoot()
	if err != nil {
		return err
	}
	dir := filepath.Join(root, "_output", "local")
	// Every run starts from a clean slate, so that nothing from an earlier
	// run (ports, certificates, data) gets in the way.
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	start := time.Now()
	fmt.Println("Starting etcd, CoreDNS, the federation control plane and three member clusters...")
	f, err := framework.Start(ctx, framework.Options{
		Dir:            dir,
		EmbeddedEtcd:   true,
		FederationName: federationName,
		DNS:            true,
		// A simulated Google Cloud project: a fake Compute Engine API and
		// a stand-in for GCE's ingress controller in every member.
		Compute: true,
		Members: framework.ThreeZoneMembers(),
	})
	if err != nil {
		return fmt.Errorf("%w (logs are in %s)", err, filepath.Join(dir, "logs"))
	}
	defer f.Stop()
	// Scripts find the DNS server here rather than in the printout.
	dnsAddress := filepath.Join(dir, "dns-address")
	if err := os.WriteFile(dnsAddress, []byte(f.DNS.Addr+"\n"), 0o644); err != nil {
		return fmt.Errorf("write the DNS server's address: %w", err)
	}
	// Members join as an admin would join them: with kubefed.
	for _, m := range f.Members {
		if err := f.Join(ctx, m, os.Stdout); err != nil {
			return err
		}
	}
	// Each member's cluster DNS, as its pods would ask it: the Corefile
	// kubefed join wrote, with the federation plugin.
	for _, m := range f.Members {
		d, err := m.StartClusterDNS(ctx, framework.ClusterDNSOptions{Upstream: f.DNS.Addr})
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, m.Name), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, m.Name, "dns-address"), []byte(d.Addr+"\n"), 0o644); err != nil {
			return fmt.Errorf("write %s's DNS address: %w", m.Name, err)
		}
	}
	if err := f.WaitClustersReady(ctx, 3*time.Minute); err != nil {
		fmt.Fprintf(os.Stderr, "warning: %v\n", err)
	}
	fmt.Printf(`
The federation is up (%s).

  export KUBECONFIG=%s
  kubectl --context=federation-cluster get clusters
  kubectl --context=federation-cluster create deployment nginx --image=nginx --replicas=6
  kubectl --context=federation-cluster expose deployment nginx --port=80 --type=LoadBalancer
  kubectl --context=us-central1-a get deployments,services

The federation writes DNS records for the Service into CoreDNS at %s
(address also in %s): the whole federation, a region, a zone:
%s
What a pod in us-central1-a gets for the federated Service: its own
cluster's Service while that shard is healthy, else a CNAME to the zone's
name above (each member's DNS address is in %s):
%s
%s
%s
Manifests written for older clusters apply unchanged (a 2018 traefik
tutorial: extensions/v1beta1 DaemonSet and Ingress, rbac v1beta1 binding);
each member gets today's versions, and the pods run on its edgenode=true nodes:
  kubectl --context=us-central1-a label node us-central1-a-node-0 edgenode=true
  kubectl --context=federation-cluster apply -f %s
  kubectl --context=us-central1-a -n kube-system get serviceaccount/traefik-ingress-controller daemonset/traefik-ingress-controller ingress/traefik-web-ui
  kubectl --context=us-central1-a -n kube-system get pods -l k8s-app=traefik-ingress-lb -o wide
  kubectl --context=federation-cluster -n kube-system get ingresses.v1beta1.extensions traefik-web-ui -o yaml

kubectl is in %s. Logs of every process are in %s.
Press Ctrl-C to stop everything.
`, time.Since(start).Round(time.Second), f.Kubeconfig, f.DNS.Addr, dnsAddress, digLines(f.DNS),
		filepath.Join(dir, "<member>", "dns-address"), memberDigLine(f.Member("us-central1-a")),
		ingressLines(root, dnsAddress, f.DNS), globalIngressLines(f.Cloud),
		filepath.Join(root, "docs", "examples", "traefik-2018.yaml"),
		filepath.Join(root, "_output", "bin"), f.LogDir)
	<-ctx.Done()
	fmt.Println("\nStopping...")
	return nil
}

// digLines are dig commands asking the federation's CoreDNS for the
// Service nginx in namespace default at each level of its DNS names.
func digLines(d *framework.DNSServer) string {
	host, port, err := net.SplitHostPort(d.Addr)
	if err != nil {
		return "  (cannot split the DNS address: " + err.Error() + ")\n"
	}
	var b strings.Builder
	for _, level := range []string{"", "us-central1.", "us-central1-a.us-central1."} {
		name := "nginx.default." + federationName + ".svc." + level + strings.TrimSuffix(d.Zone, ".")
		fmt.Fprintf(&b, "  dig @%s -p %s +short %s\n", host, port, name)
	}
	return b.String()
}

// memberDigLine is a dig command asking a member's cluster DNS for the
// federated Service nginx in namespace default, as a pod there would.
func memberDigLine(m *framework.Member) string {
	host, port, err := net.SplitHostPort(m.DNS.Addr)
	if err != nil {
		return "  (cannot split the DNS address: " + err.Error() + ")\n"
	}
	return fmt.Sprintf("  dig @%s -p %s nginx.default.%s.svc.%s\n", host, port, federationName, framework.ClusterDomain)
}

// ingressLines show Ingress DNS: an Ingress of class nginx over the
// Service above, whose host is in the zone, and a dig that finds it at
// every member's own Ingress address, reading the DNS server's address
// from its file as a script would.
func ingressLines(root, dnsAddress string, d *framework.DNSServer) string {
	file, err := filepath.Rel(root, dnsAddress)
	if err != nil {
		file = dnsAddress
	}
	host := "shop." + strings.TrimSuffix(d.Zone, ".")
	return fmt.Sprintf(`An Ingress of class nginx whose host is in the zone gets an A record of
every member's own Ingress address while its backends are ready there:
  kubectl --context=federation-cluster create ingress shop --class=nginx --rule="%[1]s/*=nginx:80"
  dig @$(cut -d: -f1 %[2]s) -p $(cut -d: -f2 %[2]s) +short %[1]s
`, host, file)
}

// globalIngressLines show an Ingress without a class (GCE's, since the
// controller manager runs with --cloud-provider=gce) on one global load
// balancer of the simulated Google Cloud project.
func globalIngressLines(p *framework.CloudProject) string {
	return fmt.Sprintf(`An Ingress without a class is GCE's: every member's copy shares one global
load balancer on one static IP, reserved by the federation in the simulated
Google Cloud project (Compute Engine API at %s):
  kubectl --context=federation-cluster create ingress web --default-backend=nginx:80
  kubectl --context=federation-cluster get ingress web      # one address
  kubectl --context=us-central1-a get ingress web           # the same address
  kubectl --context=federation-cluster describe ingress web # address, firewall rule, clusters
`, p.Server.Endpoint())
}
