package initfed

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	certutil "k8s.io/client-go/util/cert"

	"github.com/kfederation/federation/manifests"
	"github.com/kfederation/federation/test/framework"
)

// TestHAControlPlaneManifests: with --ha, three etcd members started
// together, the apiserver told about all three, and two replicas of each
// Deployment spread over nodes.
func TestHAControlPlaneManifests(t *testing.T) {
	o := testOptions()
	o.FederationSystemNamespace = "fed"
	o.HA = true
	c, objs := render(t, o)

	sts := find(t, objs, "StatefulSet", "etcd")
	if n, _, _ := unstructured.NestedInt64(sts.Object, "spec", "replicas"); n != 3 {
		t.Errorf("etcd replicas %d, want 3", n)
	}
	if p, _, _ := unstructured.NestedString(sts.Object, "spec", "podManagementPolicy"); p != "Parallel" {
		t.Errorf("etcd podManagementPolicy %q, want Parallel: the members of a new cluster wait for each other", p)
	}
	want := "--initial-cluster=etcd-0=https://etcd-0.etcd.fed.svc:2380,etcd-1=https://etcd-1.etcd.fed.svc:2380,etcd-2=https://etcd-2.etcd.fed.svc:2380"
	if cmd := etcdCommand(t, objs); !slices.Contains(cmd, want) {
		t.Errorf("etcd runs without %s: %v", want, cmd)
	}
	servers, _, _, _ := apiserverEtcdFlags(t, objs)
	if got := strings.Join(servers, ","); got != "https://etcd-0.etcd.fed.svc:2379,https://etcd-1.etcd.fed.svc:2379,https://etcd-2.etcd.fed.svc:2379" {
		t.Errorf("--etcd-servers = %s, want the three members", got)
	}
	for _, d := range []string{manifests.APIServerName, "federation-controller-manager"} {
		dep := find(t, objs, "Deployment", d)
		if n, _, _ := unstructured.NestedInt64(dep.Object, "spec", "replicas"); n != 2 {
			t.Errorf("Deployment %s replicas %d, want 2", d, n)
		}
		if _, ok, _ := unstructured.NestedMap(dep.Object, "spec", "template", "spec", "affinity", "podAntiAffinity"); !ok {
			t.Errorf("Deployment %s has no pod anti-affinity to spread its replicas", d)
		}
	}
	for _, cert := range [][]byte{c.etcd.server.certPEM, c.etcd.peer.certPEM} {
		parsed := parseCert(t, cert)
		for _, m := range []string{"etcd-0", "etcd-1", "etcd-2"} {
			if err := parsed.VerifyHostname(m + ".etcd.fed.svc"); err != nil {
				t.Errorf("etcd certificate %s: %v", parsed.Subject.CommonName, err)
			}
		}
	}

	// Without --ha: one of each.
	o.HA = false
	_, objs = render(t, o)
	if n, _, _ := unstructured.NestedInt64(find(t, objs, "StatefulSet", "etcd").Object, "spec", "replicas"); n != 1 {
		t.Errorf("without --ha: etcd replicas %d, want 1", n)
	}
}

func parseCert(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	certs, err := certutil.ParseCertsPEM(certPEM)
	if err != nil || len(certs) == 0 {
		t.Fatalf("parse certificate: %v", err)
	}
	return certs[0]
}

// TestHAEtcdFormsAClusterFromTheRenderedManifest runs the three etcd
// members exactly as the rendered StatefulSet does (the kubelet's part,
// POD_NAME and the pod's addresses, played on loopback) and checks that
// they form one cluster that speaks only TLS with the apiserver's
// certificate: a write through one member is read through another.
func TestHAEtcdFormsAClusterFromTheRenderedManifest(t *testing.T) {
	bin := framework.Binary("etcd")
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no etcd binary at %s (hack/install-test-binaries.sh builds it): %v", bin, err)
	}
	o := testOptions()
	o.HA = true
	_, objs := render(t, o)
	dir := t.TempDir()
	pki := writeEtcdPKI(t, objs, dir)
	members := o.etcdMembers()
	type ports struct{ client, peer, metrics int }
	pp := make([]ports, len(members))
	for i := range pp {
		for _, p := range []*int{&pp[i].client, &pp[i].peer, &pp[i].metrics} {
			port, err := framework.FreePort()
			if err != nil {
				t.Fatal(err)
			}
			*p = port
		}
	}
	var endpoints []string
	for i, m := range members {
		addrs := map[string]string{
			"0.0.0.0:2379": fmt.Sprintf("127.0.0.1:%d", pp[i].client),
			"0.0.0.0:2380": fmt.Sprintf("127.0.0.1:%d", pp[i].peer),
			"0.0.0.0:2381": fmt.Sprintf("127.0.0.1:%d", pp[i].metrics),
		}
		for j, other := range members {
			host := other + ".etcd." + o.FederationSystemNamespace + ".svc"
			addrs[host+":2379"] = fmt.Sprintf("127.0.0.1:%d", pp[j].client)
			addrs[host+":2380"] = fmt.Sprintf("127.0.0.1:%d", pp[j].peer)
		}
		args := onLoopback(t, etcdCommand(t, objs)[1:], m, addrs, pki, filepath.Join(dir, m))
		p := framework.NewProcess(m, bin, append(args, "--unsafe-no-fsync", "--log-level=warn"), dir)
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Stop(10 * time.Second) })
		endpoints = append(endpoints, fmt.Sprintf("https://127.0.0.1:%d", pp[i].client))
	}

	client := secretData(t, objs, manifests.EtcdClientSecretName)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(client["ca.crt"])
	pair, err := tls.X509KeyPair(client["tls.crt"], client["tls.key"])
	if err != nil {
		t.Fatal(err)
	}
	connect := func(endpoint string) *clientv3.Client {
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second,
			TLS: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	first, last := connect(endpoints[0]), connect(endpoints[len(endpoints)-1])
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	framework.Eventually(t, 60*time.Second, "a write through etcd-0", func(ctx context.Context) error {
		_, err := first.Put(ctx, "/federation/registry/probe", "v")
		return err
	})
	resp, err := last.Get(ctx, "/federation/registry/probe")
	if err != nil {
		t.Fatalf("read through etcd-2: %v", err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v" {
		t.Errorf("etcd-2 reads %v, want the write made through etcd-0", resp.Kvs)
	}
	status, err := first.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(status.Members) != 3 {
		t.Errorf("the cluster has %d members, want 3", len(status.Members))
	}
}
