package initfed

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	certutil "k8s.io/client-go/util/cert"

	apiserveroptions "github.com/kfederation/federation/cmd/federation-apiserver/app/options"
	"github.com/kfederation/federation/manifests"
	"github.com/kfederation/federation/test/framework"
)

// etcdCommand returns the command of the etcd StatefulSet's container.
func etcdCommand(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	containers, _, _ := unstructured.NestedSlice(find(t, objs, "StatefulSet", "etcd").Object, "spec", "template", "spec", "containers")
	if len(containers) != 1 {
		t.Fatalf("etcd has %d containers", len(containers))
	}
	cmd, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]interface{}), "command")
	return cmd
}

// podSecretMounts returns, for the pod template of obj, the mount path of
// each Secret that its one container mounts, and fails on a Secret mounted
// writable.
func podSecretMounts(t *testing.T, obj *unstructured.Unstructured) map[string]string {
	t.Helper()
	volumes, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "volumes")
	secretOf := map[string]string{}
	for _, v := range volumes {
		v := v.(map[string]interface{})
		if name, ok, _ := unstructured.NestedString(v, "secret", "secretName"); ok {
			secretOf[v["name"].(string)] = name
		}
	}
	containers, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
	mounts, _, _ := unstructured.NestedSlice(containers[0].(map[string]interface{}), "volumeMounts")
	out := map[string]string{}
	for _, m := range mounts {
		m := m.(map[string]interface{})
		secret, ok := secretOf[m["name"].(string)]
		if !ok {
			continue
		}
		if m["readOnly"] != true {
			t.Errorf("%s mounts the Secret %s writable", obj.GetName(), secret)
		}
		out[secret] = m["mountPath"].(string)
	}
	return out
}

// secretData returns the decoded data of the Secret name.
func secretData(t *testing.T, objs []*unstructured.Unstructured, name string) map[string][]byte {
	t.Helper()
	data, _, _ := unstructured.NestedStringMap(find(t, objs, "Secret", name).Object, "data")
	out := map[string][]byte{}
	for k, v := range data {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			t.Fatalf("Secret %s: %s: %v", name, k, err)
		}
		out[k] = b
	}
	return out
}

// apiserverEtcdFlags parses the federation-apiserver's arguments as the
// binary does, and returns its etcd transport settings.
func apiserverEtcdFlags(t *testing.T, objs []*unstructured.Unstructured) (servers []string, ca, cert, key string) {
	t.Helper()
	apiserver := apiserveroptions.NewServerRunOptions()
	fs := pflag.NewFlagSet("federation-apiserver", pflag.ContinueOnError)
	for _, f := range apiserver.Flags().FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse(containerArgs(t, find(t, objs, "Deployment", manifests.APIServerName))); err != nil {
		t.Fatalf("federation-apiserver refuses its arguments: %v", err)
	}
	tr := apiserver.Etcd.StorageConfig.Transport
	return tr.ServerList, tr.TrustedCAFile, tr.CertFile, tr.KeyFile
}

func TestDeployedEtcdSpeaksTLSOnlyToCertificatesOfItsCA(t *testing.T) {
	o := testOptions()
	o.FederationSystemNamespace = "fed"
	c, objs := render(t, o)

	cmd := etcdCommand(t, objs)
	for _, want := range []string{
		"--name=$(POD_NAME)",
		"--listen-client-urls=https://0.0.0.0:2379",
		"--advertise-client-urls=https://$(POD_NAME).etcd.fed.svc:2379",
		"--listen-peer-urls=https://0.0.0.0:2380",
		"--initial-advertise-peer-urls=https://$(POD_NAME).etcd.fed.svc:2380",
		"--initial-cluster=etcd-0=https://etcd-0.etcd.fed.svc:2380",
		"--cert-file=/etc/etcd/pki/server.crt",
		"--key-file=/etc/etcd/pki/server.key",
		"--trusted-ca-file=/etc/etcd/pki/ca.crt",
		"--client-cert-auth=true",
		"--peer-cert-file=/etc/etcd/pki/peer.crt",
		"--peer-key-file=/etc/etcd/pki/peer.key",
		"--peer-trusted-ca-file=/etc/etcd/pki/ca.crt",
		"--peer-client-cert-auth=true",
		"--listen-metrics-urls=http://0.0.0.0:2381",
	} {
		if !slices.Contains(cmd, want) {
			t.Errorf("etcd runs without %s: %v", want, cmd)
		}
	}
	for _, arg := range cmd {
		if strings.Contains(arg, "http://") && !strings.HasPrefix(arg, "--listen-metrics-urls=") {
			t.Errorf("etcd speaks plain HTTP on more than health and metrics: %s", arg)
		}
	}
	sts := find(t, objs, "StatefulSet", "etcd")
	if got := podSecretMounts(t, sts); got[manifests.EtcdCertsSecretName] != manifests.EtcdCertsMountPath || len(got) != 1 {
		t.Errorf("etcd mounts Secrets %v; want only %s at %s", got, manifests.EtcdCertsSecretName, manifests.EtcdCertsMountPath)
	}
	if volumes, _, _ := unstructured.NestedSlice(sts.Object, "spec", "template", "spec", "volumes"); len(volumes) != 1 {
		t.Errorf("etcd has volumes %v; want only its certificates", volumes)
	} else if mode, _, _ := unstructured.NestedInt64(volumes[0].(map[string]interface{}), "secret", "defaultMode"); mode != 0o440 {
		t.Errorf("etcd's certificates have mode %o; want 0440, for etcd's group only", mode)
	}
	containers, _, _ := unstructured.NestedSlice(sts.Object, "spec", "template", "spec", "containers")
	for _, probe := range []string{"readinessProbe", "livenessProbe"} {
		scheme, _, _ := unstructured.NestedString(containers[0].(map[string]interface{}), probe, "httpGet", "scheme")
		port, _, _ := unstructured.NestedFieldNoCopy(containers[0].(map[string]interface{}), probe, "httpGet", "port")
		if scheme != "" && scheme != "HTTP" || port != "metrics" {
			t.Errorf("etcd's %s probes %s %v; want plain HTTP on the metrics port, which asks for no certificate", probe, scheme, port)
		}
	}
	if h, _, _ := unstructured.NestedString(sts.Object, "spec", "template", "metadata", "annotations", "federation.k8s.io/credentials-hash"); h == "" {
		t.Error("etcd's pod template has no credentials hash, to restart it on new certificates")
	}
	if ports, _, _ := unstructured.NestedSlice(find(t, objs, "NetworkPolicy", "etcd").Object, "spec", "ingress"); len(ports) != 1 {
		t.Errorf("NetworkPolicy etcd has %d ingress rules, want 1", len(ports))
	}

	servers, ca, cert, key := apiserverEtcdFlags(t, objs)
	if strings.Join(servers, ",") != "https://etcd-0.etcd.fed.svc:2379" {
		t.Errorf("--etcd-servers = %v, want etcd's https:// URL", servers)
	}
	mount := manifests.EtcdClientMountPath
	if ca != mount+"/ca.crt" || cert != mount+"/tls.crt" || key != mount+"/tls.key" {
		t.Errorf("--etcd-cafile %q, --etcd-certfile %q, --etcd-keyfile %q; want the files of %s", ca, cert, key, mount)
	}
	if got := podSecretMounts(t, find(t, objs, "Deployment", manifests.APIServerName)); got[manifests.EtcdClientSecretName] != mount {
		t.Errorf("federation-apiserver mounts Secrets %v; want %s at %s", got, manifests.EtcdClientSecretName, mount)
	}

	client := secretData(t, objs, manifests.EtcdClientSecretName)
	if string(client["ca.crt"]) != string(c.etcd.ca.certPEM) || string(client["tls.crt"]) != string(c.etcd.apiserver.certPEM) ||
		string(client["tls.key"]) != string(c.etcd.apiserver.keyPEM) || len(client) != 3 {
		t.Errorf("Secret %s holds %v; want the etcd CA and the apiserver's etcd client certificate and key", manifests.EtcdClientSecretName, keys(client))
	}
	certs := secretData(t, objs, manifests.EtcdCertsSecretName)
	if string(certs["server.key"]) != string(c.etcd.server.keyPEM) || string(certs["peer.key"]) != string(c.etcd.peer.keyPEM) ||
		string(certs["ca.crt"]) != string(c.etcd.ca.certPEM) || len(certs) != 5 {
		t.Errorf("Secret %s holds %v; want etcd's CA, serving and peer certificates and keys", manifests.EtcdCertsSecretName, keys(certs))
	}
	if caSecret := secretData(t, objs, manifests.EtcdCASecretName); string(caSecret["ca.key"]) != string(c.etcd.ca.keyPEM) {
		t.Errorf("Secret %s does not keep the etcd CA's key", manifests.EtcdCASecretName)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestExistingEtcdTLSFiles(t *testing.T) {
	ca, err := newCA("some-etcd-ca")
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.issueClient("federation")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("none", func(t *testing.T) {
		o := testOptions()
		o.EtcdServers = []string{"https://etcd.example.com:2379"}
		_, objs := render(t, o)
		servers, caFile, cert, key := apiserverEtcdFlags(t, objs)
		if strings.Join(servers, ",") != "https://etcd.example.com:2379" || caFile != "" || cert != "" || key != "" {
			t.Errorf("--etcd-servers %v, --etcd-cafile %q, --etcd-certfile %q, --etcd-keyfile %q; want the URL given and no files", servers, caFile, cert, key)
		}
		if got := podSecretMounts(t, find(t, objs, "Deployment", manifests.APIServerName)); got[manifests.EtcdClientSecretName] != "" {
			t.Errorf("federation-apiserver mounts %s though no etcd TLS file was given", manifests.EtcdClientSecretName)
		}
	})
	t.Run("CA, certificate and key", func(t *testing.T) {
		o := testOptions()
		o.EtcdServers = []string{"https://etcd.example.com:2379"}
		o.EtcdCAFile = writeFile(t, "ca.pem", string(ca.certPEM))
		o.EtcdCertFile = writeFile(t, "client.pem", string(kp.certPEM))
		o.EtcdKeyFile = writeFile(t, "client-key.pem", string(kp.keyPEM))
		_, objs := render(t, o)
		_, caFile, cert, key := apiserverEtcdFlags(t, objs)
		if caFile == "" || cert == "" || key == "" {
			t.Errorf("--etcd-cafile %q, --etcd-certfile %q, --etcd-keyfile %q; want all three", caFile, cert, key)
		}
		checkSecretData(t, objs, manifests.EtcdClientSecretName, map[string]string{
			"ca.crt": string(ca.certPEM), "tls.crt": string(kp.certPEM), "tls.key": string(kp.keyPEM),
		})
	})
	t.Run("CA only", func(t *testing.T) {
		o := testOptions()
		o.EtcdServers = []string{"https://etcd.example.com:2379"}
		o.EtcdCAFile = writeFile(t, "ca.pem", string(ca.certPEM))
		_, objs := render(t, o)
		_, caFile, cert, key := apiserverEtcdFlags(t, objs)
		if caFile != manifests.EtcdClientMountPath+"/ca.crt" || cert != "" || key != "" {
			t.Errorf("--etcd-cafile %q, --etcd-certfile %q, --etcd-keyfile %q; want the CA only", caFile, cert, key)
		}
		checkSecretData(t, objs, manifests.EtcdClientSecretName, map[string]string{"ca.crt": string(ca.certPEM)})
	})

	for _, tc := range []struct {
		name   string
		modify func(t *testing.T, o *InitOptions)
		want   string
	}{
		{"files for the deployed etcd", func(t *testing.T, o *InitOptions) {
			o.EtcdServers = nil
			o.EtcdCAFile = writeFile(t, "ca.pem", string(ca.certPEM))
		}, "are for an existing etcd"},
		{"certificate without key", func(t *testing.T, o *InitOptions) {
			o.EtcdCertFile = writeFile(t, "client.pem", string(kp.certPEM))
		}, "--etcd-certfile and --etcd-keyfile go together"},
		{"plain http", func(t *testing.T, o *InitOptions) {
			o.EtcdServers = []string{"http://etcd.example.com:2379"}
			o.EtcdCAFile = writeFile(t, "ca.pem", string(ca.certPEM))
		}, "is http://"},
		{"CA not PEM", func(t *testing.T, o *InitOptions) {
			o.EtcdCAFile = writeFile(t, "ca.pem", "SECRET-CA")
		}, "--etcd-cafile"},
		{"key of another certificate", func(t *testing.T, o *InitOptions) {
			other, err := ca.issueClient("other")
			if err != nil {
				t.Fatal(err)
			}
			o.EtcdCertFile = writeFile(t, "client.pem", string(kp.certPEM))
			o.EtcdKeyFile = writeFile(t, "client-key.pem", string(other.keyPEM))
		}, "are not a PEM certificate and its key"},
		{"missing file", func(t *testing.T, o *InitOptions) {
			o.EtcdCAFile = filepath.Join(t.TempDir(), "nope.pem")
		}, "--etcd-cafile: cannot read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions()
			o.EtcdServers = []string{"https://etcd.example.com:2379"}
			tc.modify(t, o)
			err := o.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("error quotes a file: %v", err)
			}
		})
	}
}

func TestEtcdCertificatesChainToTheEtcdCAAndNameWhatTheyMust(t *testing.T) {
	o := testOptions()
	o.FederationSystemNamespace = "fed"
	c, err := o.issue(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := c.etcd
	if e == nil {
		t.Fatal("no etcd certificates though init deploys etcd")
	}
	if e.ca.cert.Equal(c.ca.cert) {
		t.Fatal("etcd's CA is the federation's")
	}
	etcdRoots, fedRoots := x509.NewCertPool(), x509.NewCertPool()
	etcdRoots.AddCert(e.ca.cert)
	fedRoots.AddCert(c.ca.cert)
	parse := func(pemData []byte) *x509.Certificate {
		certs, err := certutil.ParseCertsPEM(pemData)
		if err != nil {
			t.Fatal(err)
		}
		return certs[0]
	}
	hosts := []string{"etcd-0.etcd.fed.svc", "etcd-0.etcd.fed.svc.cluster.local", "etcd.fed.svc", "localhost", "127.0.0.1"}
	for _, tc := range []struct {
		name   string
		cert   []byte
		usages []x509.ExtKeyUsage
		hosts  []string
	}{
		{"serving", e.server.certPEM, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, hosts},
		{"peer", e.peer.certPEM, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, hosts},
		{"apiserver client", e.apiserver.certPEM, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert := parse(tc.cert)
			if !slices.Equal(cert.ExtKeyUsage, tc.usages) {
				t.Errorf("extended key usages %v, want %v", cert.ExtKeyUsage, tc.usages)
			}
			for _, usage := range tc.usages {
				if _, err := cert.Verify(x509.VerifyOptions{Roots: etcdRoots, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
					t.Errorf("does not chain to the etcd CA for usage %v: %v", usage, err)
				}
			}
			if _, err := cert.Verify(x509.VerifyOptions{Roots: fedRoots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err == nil {
				t.Error("chains to the federation's CA")
			}
			for _, host := range tc.hosts {
				if err := cert.VerifyHostname(host); err != nil {
					t.Errorf("not valid for %s: %v", host, err)
				}
			}
			if tc.hosts == nil && (len(cert.DNSNames) > 0 || len(cert.IPAddresses) > 0) {
				t.Errorf("client certificate names hosts %v %v", cert.DNSNames, cert.IPAddresses)
			}
		})
	}
	// No certificate of the federation's CA, such as the admin's, is one
	// of etcd's.
	if _, err := parse(c.admin.certPEM).Verify(x509.VerifyOptions{Roots: etcdRoots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("the admin's certificate chains to the etcd CA")
	}

	// A second run reuses the stored etcd CA.
	again, err := loadCA(e.ca.certPEM, e.ca.keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := o.issue(nil, again, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parse(c2.etcd.apiserver.certPEM).Verify(x509.VerifyOptions{Roots: etcdRoots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("certificate issued by the reloaded etcd CA does not chain to the original: %v", err)
	}

	o.EtcdServers = []string{"https://etcd.example.com:2379"}
	if c3, err := o.issue(nil, nil, nil); err != nil || c3.etcd != nil {
		t.Errorf("with --etcd-servers, issue made etcd certificates %v (%v)", c3.etcd, err)
	}
}

// TestDeployedEtcdRefusesClientsWithoutItsCertificate runs the real etcd
// with the arguments and files of the rendered StatefulSet and Secrets,
// moved onto loopback, and connects as the federation-apiserver does, with
// the files of its Secret.
// writeEtcdPKI writes the rendered etcd certificates Secret into dir/pki,
// as the pod would mount it, and returns that directory.
func writeEtcdPKI(t *testing.T, objs []*unstructured.Unstructured, dir string) string {
	t.Helper()
	pki := filepath.Join(dir, "pki")
	if err := os.Mkdir(pki, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, data := range secretData(t, objs, manifests.EtcdCertsSecretName) {
		if err := os.WriteFile(filepath.Join(pki, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return pki
}

// onLoopback is an etcd pod's command as the kubelet and the cluster's
// network would run it, played on loopback: $(POD_NAME) is pod, each
// address of addrs (host:port) is the loopback one it maps to, the
// certificates are in pki and the data under dataDir. An argument that
// still names the pod network or a Service name fails the test.
func onLoopback(t *testing.T, cmd []string, pod string, addrs map[string]string, pki, dataDir string) []string {
	t.Helper()
	var args []string
	for _, arg := range cmd {
		arg = strings.ReplaceAll(arg, "$(POD_NAME)", pod)
		for from, to := range addrs {
			arg = strings.ReplaceAll(arg, from, to)
		}
		arg = strings.ReplaceAll(arg, manifests.EtcdCertsMountPath, pki)
		arg = strings.ReplaceAll(arg, "/var/lib/etcd", dataDir)
		if strings.Contains(arg, "0.0.0.0") || strings.Contains(arg, ".svc") {
			t.Fatalf("cannot move etcd's argument %s onto loopback", arg)
		}
		args = append(args, arg)
	}
	return args
}

func TestDeployedEtcdRefusesClientsWithoutItsCertificate(t *testing.T) {
	bin := framework.Binary("etcd")
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no etcd binary at %s (hack/install-test-binaries.sh builds it): %v", bin, err)
	}
	o := testOptions()
	_, objs := render(t, o)

	dir := t.TempDir()
	pki := writeEtcdPKI(t, objs, dir)
	ports := map[string]int{}
	for _, p := range []string{"2379", "2380", "2381"} {
		port, err := framework.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		ports[p] = port
	}
	member := "etcd-0.etcd." + o.FederationSystemNamespace + ".svc"
	addrs := map[string]string{}
	for p, port := range ports {
		local := fmt.Sprintf("127.0.0.1:%d", port)
		addrs["0.0.0.0:"+p], addrs[member+":"+p] = local, local
	}
	args := onLoopback(t, etcdCommand(t, objs)[1:], "etcd-0", addrs, pki, dir)
	args = append(args, "--unsafe-no-fsync", "--log-level=warn")
	p := framework.NewProcess("etcd", bin, args, dir)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(10 * time.Second) })

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The kubelet's probe: plain HTTP, no certificate.
	readyz := fmt.Sprintf("http://127.0.0.1:%d/readyz", ports["2381"])
	if err := p.WaitFor(ctx, "etcd ready", func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, readyz, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %d %s", readyz, resp.StatusCode, body)
		}
		return nil
	}); err != nil {
		log, _ := os.ReadFile(p.LogPath)
		t.Fatalf("%v\netcd's log:\n%s", err, log)
	}

	endpoint := fmt.Sprintf("https://127.0.0.1:%d", ports["2379"])
	client := secretData(t, objs, manifests.EtcdClientSecretName)
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(client["ca.crt"]) {
		t.Fatal("no CA in the apiserver's etcd client Secret")
	}
	tlsConfig := func(certs []tls.Certificate) *tls.Config {
		cfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		if len(certs) > 0 {
			// Present the certificate even when its CA is not among those
			// etcd asks for, which crypto/tls would otherwise decline to.
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &certs[0], nil }
		}
		return cfg
	}
	connect := func(t *testing.T, certs []tls.Certificate) *clientv3.Client {
		c, err := clientv3.New(clientv3.Config{
			Endpoints:   []string{endpoint},
			DialTimeout: 5 * time.Second,
			TLS:         tlsConfig(certs),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	keyPairOf := func(t *testing.T, certPEM, keyPEM []byte) []tls.Certificate {
		kp, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		return []tls.Certificate{kp}
	}

	t.Run("the apiserver's certificate", func(t *testing.T) {
		c := connect(t, keyPairOf(t, client["tls.crt"], client["tls.key"]))
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if _, err := c.Put(ctx, "/federation/registry/probe", "v"); err != nil {
			t.Fatalf("put: %v", err)
		}
		resp, err := c.Get(ctx, "/federation/registry/probe")
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v" {
			t.Errorf("get returned %v", resp.Kvs)
		}
	})

	otherCA, err := newCA("another-ca")
	if err != nil {
		t.Fatal(err)
	}
	other, err := otherCA.issueClient(etcdClientUser)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		certs func(t *testing.T) []tls.Certificate
		// alert is the TLS alert etcd refuses the handshake with.
		alert string
	}{
		{"no certificate", func(*testing.T) []tls.Certificate { return nil }, "tls: certificate required"},
		{"a certificate of another CA", func(t *testing.T) []tls.Certificate { return keyPairOf(t, other.certPEM, other.keyPEM) }, "tls: unknown certificate authority"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			certs := tc.certs(t)
			// clientv3 hides why it cannot connect behind its deadline;
			// one handshake of our own shows etcd's refusal.
			conn, err := tls.Dial("tcp", strings.TrimPrefix(endpoint, "https://"), tlsConfig(certs))
			if err == nil {
				_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, err = conn.Read(make([]byte, 1))
				conn.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tc.alert) {
				t.Errorf("TLS connection: %v; want etcd's alert %q", err, tc.alert)
			}

			c := connect(t, certs)
			putCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if _, err := c.Put(putCtx, "/federation/registry/intruder", "v"); err == nil {
				t.Error("etcd let the client put")
			}
			getCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if _, err := c.Get(getCtx, "/federation/registry/probe"); err == nil {
				t.Error("etcd let the client get")
			}
		})
	}
}

func TestExistingCAReusesTheStoredEtcdCA(t *testing.T) {
	stored, err := newCA("federation-etcd-ca:myfed")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		objects []runtime.Object
		want    string
		reused  bool
	}{
		{"none stored", nil, "Generated a new etcd CA for federation myfed", false},
		{"stored", []runtime.Object{&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: manifests.EtcdCASecretName, Namespace: "federation-system"},
			Data:       map[string][]byte{"ca.crt": stored.certPEM, "ca.key": stored.keyPEM},
		}}, "Using the etcd CA of an earlier kubefed init, from Secret federation-system/federation-etcd-ca", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions()
			out := &bytes.Buffer{}
			o.Out = out
			o.HostClient = k8sfake.NewClientset(tc.objects...)
			ca, err := o.existingCA(context.Background(), etcdCASecret)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("said %q, want %q", out, tc.want)
			}
			if got := ca != nil && ca.cert.Equal(stored.cert); got != tc.reused {
				t.Errorf("reused the stored etcd CA: %v, want %v", got, tc.reused)
			}
		})
	}
	t.Run("unusable", func(t *testing.T) {
		o := testOptions()
		o.HostClient = k8sfake.NewClientset(&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: manifests.EtcdCASecretName, Namespace: "federation-system"},
			Data:       map[string][]byte{"ca.crt": stored.certPEM},
		})
		_, err := o.existingCA(context.Background(), etcdCASecret)
		if err == nil || !strings.Contains(err.Error(), "holds no usable etcd CA") || !strings.Contains(err.Error(), "etcd and the federation-apiserver get new certificates") {
			t.Errorf("got %v, want an error that says what deleting the Secret does", err)
		}
	})
}
