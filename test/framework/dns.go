package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
	"sigs.k8s.io/yaml"

	"github.com/kfederation/federation/pkg/dnsprovider/coredns"
)

// DNSZone is the zone a federation started with Options.DNS serves and the
// federation-controller-manager writes Service records into.
const DNSZone = "example.com."

// corefile serves one zone from CoreDNS's etcd plugin on 127.0.0.1 only.
// There is no cache plugin, so an answer follows etcd at once and a test
// never waits out a cached record, and no reload plugin, since the file
// never changes. errors logs why a query failed (etcd down, a bad record)
// to coredns.log.
const corefile = `%[1]s:%[2]d {
	bind 127.0.0.1
	etcd {
		path %[3]s
		endpoint %[4]s
	}
	errors
}
`

// DNSServer is a real CoreDNS serving one zone from a real etcd of its own,
// laid out as the coredns DNS provider writes it. The etcd is not the one
// the members share, so that a test can stop or restart it (DNS down) and
// the clusters do not notice.
type DNSServer struct {
	Etcd    *Etcd
	Process *Process
	// Addr is where CoreDNS answers, over UDP and TCP: 127.0.0.1:PORT.
	Addr string
	// Zone is the zone served, fully qualified: "example.com.".
	Zone string
	// ConfigFile is the coredns provider's configuration for this server,
	// for the controller manager's --dns-provider-config.
	ConfigFile string
}

// StartDNS starts an etcd and a CoreDNS serving zone from it, with their
// data and provider config under dir and logs (etcd.log, coredns.log) in
// logDir, and waits until CoreDNS answers. Stop ends both.
func StartDNS(ctx context.Context, dir, logDir, zone string) (_ *DNSServer, err error) {
	d := &DNSServer{Zone: dns.Fqdn(strings.ToLower(zone))}
	defer func() {
		if err != nil {
			d.Stop()
		}
	}()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("DNS server: %w", err)
	}
	if d.Etcd, err = StartEtcd(ctx, dir, logDir, nil); err != nil {
		return nil, fmt.Errorf("DNS server: etcd: %w", err)
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	d.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	conf := filepath.Join(dir, "Corefile")
	if err := os.WriteFile(conf, fmt.Appendf(nil, corefile, d.Zone, port, coredns.DefaultPath, d.Etcd.ClientURL), 0o644); err != nil {
		return nil, fmt.Errorf("DNS server: write the Corefile: %w", err)
	}
	if d.ConfigFile, err = writeProviderConfig(dir, d.Etcd.ClientURL); err != nil {
		return nil, err
	}
	d.Process = NewProcess("coredns", Binary("coredns"), []string{"-conf", conf}, logDir)
	if err := d.Process.Start(); err != nil {
		return nil, fmt.Errorf("DNS server: %w (is CoreDNS built? run hack/install-test-binaries.sh coredns)", err)
	}
	if err := d.waitServing(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// writeProviderConfig writes the coredns provider's configuration file for
// an etcd at clientURL, in the provider's own type so that a renamed field
// breaks the build rather than the controller manager's start-up.
func writeProviderConfig(dir, clientURL string) (string, error) {
	data, err := yaml.Marshal(coredns.Config{EtcdEndpoints: []string{clientURL}, Path: coredns.DefaultPath})
	if err != nil {
		return "", fmt.Errorf("DNS server: provider config: %w", err)
	}
	file := filepath.Join(dir, "coredns-provider.yaml")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return "", fmt.Errorf("DNS server: write the provider config: %w", err)
	}
	return file, nil
}

// waitServing waits until CoreDNS answers the zone's SOA at all: any
// response code counts, since the zone may still be empty, and only the
// listener is in question.
func (d *DNSServer) waitServing(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return d.WaitFor(ctx, "answer a query for the SOA of "+d.Zone, d.Zone, dns.TypeSOA, func(*dns.Msg) error { return nil })
}

// ControllerManagerArgs are the federation-controller-manager flags that
// make it write Service records into this server's zone.
func (d *DNSServer) ControllerManagerArgs() []string {
	return []string{
		"--dns-provider=coredns",
		"--dns-provider-config=" + d.ConfigFile,
		"--zone-name=" + strings.TrimSuffix(d.Zone, "."),
	}
}

// Stop stops CoreDNS and its etcd; their data and logs stay.
func (d *DNSServer) Stop() {
	if d.Process != nil {
		_ = d.Process.Stop(10 * time.Second)
	}
	if d.Etcd != nil {
		_ = d.Etcd.Stop(10 * time.Second)
	}
}

// EtcdPath is the etcd path CoreDNS's etcd plugin reads name at: its
// labels reversed under the plugin's path ("web.example.com." is
// "/skydns/com/example/web"), for tests that write or read records
// straight in etcd.
func (d *DNSServer) EtcdPath(name string) string {
	labels := strings.Split(strings.TrimSuffix(strings.ToLower(name), "."), ".")
	slices.Reverse(labels)
	return coredns.DefaultPath + "/" + strings.Join(labels, "/")
}
