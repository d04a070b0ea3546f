package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClusterDomain is the members' cluster domain.
const ClusterDomain = "cluster.local"

// memberCorefile is the Corefile kubeadm gives a cluster's CoreDNS, which
// every member holds in kube-system/coredns as a real cluster would, so
// that `kubefed join` edits what it would find there.
const memberCorefile = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`

// createCoreDNSConfig creates kube-system/coredns with kubeadm's Corefile.
func (m *Member) createCoreDNSConfig(ctx context.Context) error {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "coredns", Namespace: metav1.NamespaceSystem},
		Data:       map[string]string{"Corefile": memberCorefile},
	}
	_, err := m.Client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Create(ctx, cm, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("member %s: create kube-system/coredns: %w", m.Name, err)
	}
	return nil
}

// MemberDNS is a member's cluster DNS: a CoreDNS running the Corefile of
// the member's kube-system/coredns ConfigMap, as the member's pods would
// query it, but on 127.0.0.1.
type MemberDNS struct {
	Process *Process
	// Addr is where it answers, over UDP and TCP: 127.0.0.1:PORT.
	Addr string
	// Corefile is the file it runs.
	Corefile string
}

// ClusterDNSOptions say how to run a member's cluster DNS.
type ClusterDNSOptions struct {
	// Binary is the CoreDNS to run: "coredns-federation" (with the
	// federation plugin) unless set; "coredns" is stock CoreDNS.
	Binary string
	// Name tells several DNS servers of one member apart (directory, log
	// and process name); default "coredns".
	Name string
	// Upstream is where queries outside the cluster go (the forward
	// plugin's target, in place of /etc/resolv.conf): the federation's
	// DNS, so that a federated name's CNAME can be followed. Empty drops
	// forwarding.
	Upstream string
	// WithoutFederation leaves the federation plugin's stanza out, for a
	// stock CoreDNS to run the same configuration.
	WithoutFederation bool
}

// StartClusterDNS runs the member's cluster DNS from its kube-system/coredns
// ConfigMap as it is now (after `kubefed join` edited it, say), with what a
// pod would have in place of the cluster: the kubernetes plugin reaches the
// member's kube-apiserver through its admin kubeconfig, the server listens
// on 127.0.0.1 on a free port, and health, readiness and metrics, which
// would collide between members, are left out.
func (m *Member) StartClusterDNS(ctx context.Context, opts ClusterDNSOptions) (*MemberDNS, error) {
	if opts.Binary == "" {
		opts.Binary = "coredns-federation"
	}
	if opts.Name == "" {
		opts.Name = "coredns"
	}
	cm, err := m.Client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, "coredns", metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("member %s: read kube-system/coredns: %w", m.Name, err)
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(m.Dir, opts.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	d := &MemberDNS{Addr: fmt.Sprintf("127.0.0.1:%d", port), Corefile: filepath.Join(dir, "Corefile")}
	corefile := localCorefile(cm.Data["Corefile"], port, filepath.Join(m.Dir, "admin.kubeconfig"), opts)
	if err := os.WriteFile(d.Corefile, []byte(corefile), 0o644); err != nil {
		return nil, err
	}
	d.Process = NewProcess(opts.Name, Binary(opts.Binary), []string{"-conf", d.Corefile}, m.LogDir)
	if err := d.Process.Start(); err != nil {
		return nil, fmt.Errorf("member %s: %w (is %s built? run hack/install-test-binaries.sh %s)", m.Name, err, opts.Binary, opts.Binary)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := d.Process.WaitFor(wctx, "answer for kubernetes.default", func(ctx context.Context) error {
		r, err := query(ctx, d.Addr, "kubernetes.default.svc."+ClusterDomain+".", dns.TypeA)
		if err != nil {
			return err
		}
		if r.Rcode != dns.RcodeSuccess {
			return fmt.Errorf("rcode %s", dns.RcodeToString[r.Rcode])
		}
		return nil
	}); err != nil {
		_ = d.Process.Stop(5 * time.Second)
		return nil, err
	}
	if opts.Name == "coredns" {
		m.DNS = d
	}
	return d, nil
}

// Query asks the member's cluster DNS once for name and qtype.
func (d *MemberDNS) Query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	return query(ctx, d.Addr, name, qtype)
}

// Stop stops it.
func (d *MemberDNS) Stop() error { return d.Process.Stop(10 * time.Second) }

// localCorefile rewrites a cluster's Corefile for a CoreDNS on this
// machine (see StartClusterDNS). It knows kubeadm's layout: a plugin per
// line, blocks opened at the end of a line and closed on a line of their
// own.
func localCorefile(corefile string, port int, kubeconfig string, opts ClusterDNSOptions) string {
	var out []string
	skipDepth := 0
	for _, line := range strings.Split(corefile, "\n") {
		trimmed := strings.TrimSpace(line)
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		if skipDepth > 0 {
			skipDepth += strings.Count(trimmed, "{") - strings.Count(trimmed, "}")
			continue
		}
		word, _, _ := strings.Cut(trimmed, " ")
		switch {
		case strings.HasPrefix(trimmed, ".:53"):
			out = append(out, strings.Replace(line, ".:53", fmt.Sprintf(".:%d", port), 1), indent+"    bind 127.0.0.1")
			continue
		case word == "health" || word == "ready" || word == "prometheus" ||
			(word == "federation" && opts.WithoutFederation) || (word == "forward" && opts.Upstream == ""):
			skipDepth = strings.Count(trimmed, "{") - strings.Count(trimmed, "}")
			continue
		case word == "forward":
			line = strings.Replace(line, "/etc/resolv.conf", opts.Upstream, 1)
		case word == "kubernetes" && strings.HasSuffix(trimmed, "{"):
			out = append(out, line, indent+"   kubeconfig "+kubeconfig)
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
