package initfed

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta/testrestmapper"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	certutil "k8s.io/client-go/util/cert"

	apiserveroptions "github.com/kfederation/federation/cmd/federation-apiserver/app/options"
	cmoptions "github.com/kfederation/federation/cmd/federation-controller-manager/app/options"
	"github.com/kfederation/federation/manifests"
	"github.com/kfederation/federation/pkg/kubefed/clioptions"
)

func testOptions() *InitOptions {
	o := NewInitOptions(clioptions.IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	o.Name = "myfed"
	o.HostClusterContext = "host"
	return o
}

// writeFile writes content into a new file in a temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// coreDNSConfig is a coredns provider configuration whose etcd wants a
// client certificate, with the files in the Secret's mount.
const coreDNSConfig = `etcdEndpoints: ["https://etcd.dns:2379"]
etcdCertFile: /etc/federation/dns/etcd-client.crt
etcdKeyFile: /etc/federation/dns/etcd-client.key
etcdCAFile: /etc/federation/dns/etcd-ca.crt
path: /skydns
`

// withCoreDNS turns Service DNS on with coreDNSConfig and its three files.
func withCoreDNS(t *testing.T, o *InitOptions) {
	t.Helper()
	o.DNSProvider, o.DNSZoneName = DNSProviderCoreDNS, "example.com."
	o.DNSProviderConfig = writeFile(t, "coredns.yaml", coreDNSConfig)
	o.DNSProviderSecretFiles = []string{
		writeFile(t, "etcd-client.crt", "CERT"),
		writeFile(t, "etcd-client.key", "KEY"),
		"etcd-ca.crt=" + writeFile(t, "ca.pem", "CA"),
	}
}

func render(t *testing.T, o *InitOptions, external ...string) (*credentials, []*unstructured.Unstructured) {
	t.Helper()
	c, err := o.issue(nil, external)
	if err != nil {
		t.Fatal(err)
	}
	_, objs, err := o.Render(c)
	if err != nil {
		t.Fatal(err)
	}
	return c, objs
}

func kinds(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	return out
}

func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s in %v", kind, name, kinds(objs))
	return nil
}

func TestManifestsHoldTheWholeControlPlane(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(t *testing.T, o *InitOptions)
		want   []string
	}{
		{"etcd deployed, load balancer", func(*testing.T, *InitOptions) {}, []string{
			"Namespace/federation-system",
			"ServiceAccount/federation-apiserver", "ClusterRoleBinding/federation:myfed:apiserver-auth-delegator",
			"ServiceAccount/federation-controller-manager", "ClusterRole/federation:myfed:controller-manager", "ClusterRoleBinding/federation:myfed:controller-manager",
			"Secret/federation-ca", "Secret/federation-apiserver-serving", "Secret/federation-admin", "Secret/federation-controller-manager-kubeconfig",
			"Service/etcd", "StatefulSet/etcd", "NetworkPolicy/etcd",
			"Service/federation-apiserver", "Deployment/federation-apiserver",
			"Deployment/federation-controller-manager",
		}},
		{"existing etcd, DNS", func(t *testing.T, o *InitOptions) {
			o.EtcdServers = []string{"https://etcd.example.com:2379"}
			withCoreDNS(t, o)
		}, []string{
			"Namespace/federation-system",
			"ServiceAccount/federation-apiserver", "ClusterRoleBinding/federation:myfed:apiserver-auth-delegator",
			"ServiceAccount/federation-controller-manager", "ClusterRole/federation:myfed:controller-manager", "ClusterRoleBinding/federation:myfed:controller-manager",
			"Secret/federation-ca", "Secret/federation-apiserver-serving", "Secret/federation-admin", "Secret/federation-controller-manager-kubeconfig",
			"Secret/federation-dns-provider",
			"Service/federation-apiserver", "Deployment/federation-apiserver",
			"Deployment/federation-controller-manager",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions()
			tc.modify(t, o)
			_, objs := render(t, o)
			if got := kinds(objs); strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("objects:\n got %v\nwant %v", got, tc.want)
			}
			for _, obj := range objs {
				namespaced := !strings.HasPrefix(obj.GetKind(), "Cluster") && obj.GetKind() != "Namespace"
				if namespaced && obj.GetNamespace() != "federation-system" {
					t.Errorf("%s/%s is in namespace %q", obj.GetKind(), obj.GetName(), obj.GetNamespace())
				}
			}
		})
	}
}

// containerArgs returns the flags of the one container of a Deployment.
func containerArgs(t *testing.T, d *unstructured.Unstructured) []string {
	t.Helper()
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if len(containers) != 1 {
		t.Fatalf("%s has %d containers", d.GetName(), len(containers))
	}
	cmd, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]interface{}), "command")
	if len(cmd) < 2 {
		t.Fatalf("%s has command %v", d.GetName(), cmd)
	}
	return cmd[1:]
}

func TestDeploymentsUseFlagsTheBinariesAccept(t *testing.T) {
	o := testOptions()
	o.EtcdServers = []string{"https://etcd-a:2379", "https://etcd-b:2379"}
	_, objs := render(t, o)

	apiserver := apiserveroptions.NewServerRunOptions()
	fs := pflag.NewFlagSet("federation-apiserver", pflag.ContinueOnError)
	for _, f := range apiserver.Flags().FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse(containerArgs(t, find(t, objs, "Deployment", manifests.APIServerName))); err != nil {
		t.Fatalf("federation-apiserver refuses its arguments: %v", err)
	}
	if got := apiserver.Etcd.StorageConfig.Transport.ServerList; strings.Join(got, ",") != "https://etcd-a:2379,https://etcd-b:2379" {
		t.Errorf("--etcd-servers = %v", got)
	}
	if apiserver.SecureServing.BindPort != manifests.APIServerPort {
		t.Errorf("--secure-port = %d, want %d", apiserver.SecureServing.BindPort, manifests.APIServerPort)
	}

	cm := cmoptions.NewOptions()
	fs = pflag.NewFlagSet("federation-controller-manager", pflag.ContinueOnError)
	for _, f := range cm.Flags(nil).FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse(containerArgs(t, find(t, objs, "Deployment", manifests.ControllerManagerName))); err != nil {
		t.Fatalf("federation-controller-manager refuses its arguments: %v", err)
	}
	if err := cm.Validate(nil); err != nil {
		t.Errorf("federation-controller-manager flags do not validate: %v", err)
	}
	if cm.FederationName != "myfed" {
		t.Errorf("--federation-name = %q, want the federation's name", cm.FederationName)
	}
}

// controllerManagerFlags parses the controller manager Deployment's
// arguments with the binary's own flags, and validates them as it does.
func controllerManagerFlags(t *testing.T, objs []*unstructured.Unstructured) (*cmoptions.Options, []string) {
	t.Helper()
	args := containerArgs(t, find(t, objs, "Deployment", manifests.ControllerManagerName))
	cm := cmoptions.NewOptions()
	fs := pflag.NewFlagSet("federation-controller-manager", pflag.ContinueOnError)
	for _, f := range cm.Flags(nil).FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse(args); err != nil {
		t.Fatalf("federation-controller-manager refuses its arguments %v: %v", args, err)
	}
	if err := cm.Validate(nil); err != nil {
		t.Errorf("federation-controller-manager flags %v do not validate: %v", args, err)
	}
	return cm, args
}

// dnsVolume returns the controller manager's volume and mount of the
// Secret federation-dns-provider, nil if it has none.
func dnsVolume(t *testing.T, objs []*unstructured.Unstructured) (volume, mount map[string]interface{}) {
	t.Helper()
	d := find(t, objs, "Deployment", manifests.ControllerManagerName)
	volumes, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "volumes")
	for _, v := range volumes {
		v := v.(map[string]interface{})
		if name, _, _ := unstructured.NestedString(v, "secret", "secretName"); name == manifests.DNSProviderSecretName {
			volume = v
		}
	}
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	mounts, _, _ := unstructured.NestedSlice(containers[0].(map[string]interface{}), "volumeMounts")
	for _, m := range mounts {
		m := m.(map[string]interface{})
		if volume != nil && m["name"] == volume["name"] {
			mount = m
		}
		if m["mountPath"] == manifests.DNSProviderMountPath && mount == nil {
			t.Errorf("%s is mounted from volume %v, not from the Secret %s", manifests.DNSProviderMountPath, m["name"], manifests.DNSProviderSecretName)
		}
	}
	return volume, mount
}

const dnsHashAnnotation = "federation.k8s.io/dns-config-hash"

func podAnnotations(t *testing.T, objs []*unstructured.Unstructured) map[string]string {
	t.Helper()
	a, _, _ := unstructured.NestedStringMap(find(t, objs, "Deployment", manifests.ControllerManagerName).Object, "spec", "template", "metadata", "annotations")
	return a
}

func TestControllerManagerServiceDNS(t *testing.T) {
	t.Run("off", func(t *testing.T) {
		_, objs := render(t, testOptions())
		cm, args := controllerManagerFlags(t, objs)
		if cm.DNSProvider != "" || cm.ZoneName != "" || cm.DNSProviderConfig != "" {
			t.Errorf("Service DNS is on without --dns-provider: %v", args)
		}
		if volume, mount := dnsVolume(t, objs); volume != nil || mount != nil {
			t.Errorf("controller manager has the DNS volume %v mounted at %v without --dns-provider", volume, mount)
		}
		if _, ok := podAnnotations(t, objs)[dnsHashAnnotation]; ok {
			t.Errorf("pod template has %s without --dns-provider", dnsHashAnnotation)
		}
		for _, obj := range objs {
			if obj.GetName() == manifests.DNSProviderSecretName || obj.GetName() == "federation-dns" {
				t.Errorf("%s/%s rendered without --dns-provider", obj.GetKind(), obj.GetName())
			}
		}
	})

	t.Run("coredns", func(t *testing.T) {
		o := testOptions()
		withCoreDNS(t, o)
		_, objs := render(t, o)
		cm, args := controllerManagerFlags(t, objs)
		if cm.DNSProvider != DNSProviderCoreDNS || cm.ZoneName != "example.com" || cm.DNSProviderConfig != "/etc/federation/dns/provider.yaml" {
			t.Errorf("controller manager args %v; want --dns-provider=coredns --zone-name=example.com --dns-provider-config=/etc/federation/dns/provider.yaml", args)
		}
		if want := manifests.DNSProviderMountPath + "/" + manifests.DNSProviderConfigKey; cm.DNSProviderConfig != want {
			t.Errorf("--dns-provider-config=%s, but the Secret's config is at %s", cm.DNSProviderConfig, want)
		}
		volume, mount := dnsVolume(t, objs)
		if volume == nil || mount == nil {
			t.Fatalf("controller manager does not mount the Secret %s: volume %v, mount %v", manifests.DNSProviderSecretName, volume, mount)
		}
		if mount["mountPath"] != manifests.DNSProviderMountPath || mount["readOnly"] != true {
			t.Errorf("DNS volume mounted as %v; want read-only at %s", mount, manifests.DNSProviderMountPath)
		}

		secret := find(t, objs, "Secret", manifests.DNSProviderSecretName)
		data, _, _ := unstructured.NestedStringMap(secret.Object, "data")
		want := map[string]string{
			"provider.yaml":   coreDNSConfig,
			"etcd-client.crt": "CERT",
			"etcd-client.key": "KEY",
			"etcd-ca.crt":     "CA",
		}
		if len(data) != len(want) {
			t.Errorf("Secret %s holds %d files, want %d: %v", manifests.DNSProviderSecretName, len(data), len(want), data)
		}
		for k, v := range want {
			if got, err := base64.StdEncoding.DecodeString(data[k]); err != nil || string(got) != v {
				t.Errorf("Secret %s: %s holds %q (%v), want %q", manifests.DNSProviderSecretName, k, got, err, v)
			}
		}
		if secret.GetNamespace() != "federation-system" {
			t.Errorf("Secret %s is in namespace %q", secret.GetName(), secret.GetNamespace())
		}
	})

	t.Run("the pod restarts when the DNS config changes", func(t *testing.T) {
		hash := func(modify func(o *InitOptions)) string {
			o := testOptions()
			withCoreDNS(t, o)
			modify(o)
			_, objs := render(t, o)
			h := podAnnotations(t, objs)[dnsHashAnnotation]
			if h == "" {
				t.Fatalf("pod template has no %s", dnsHashAnnotation)
			}
			return h
		}
		same := hash(func(*InitOptions) {})
		if again := hash(func(*InitOptions) {}); again != same {
			t.Errorf("the hash changed (%s, %s) though the DNS settings did not", same, again)
		}
		for what, modify := range map[string]func(o *InitOptions){
			"config": func(o *InitOptions) {
				o.DNSProviderConfig = writeFile(t, "coredns.yaml", strings.Replace(coreDNSConfig, "/skydns", "/dns", 1))
			},
			"a secret file": func(o *InitOptions) {
				o.DNSProviderSecretFiles[1] = writeFile(t, "etcd-client.key", "NEW KEY")
			},
			"zone": func(o *InitOptions) { o.DNSZoneName = "example.org" },
		} {
			if h := hash(modify); h == same {
				t.Errorf("changing the %s left the pod template's %s at %s", what, dnsHashAnnotation, h)
			}
		}
	})
}

func TestCertificatesChainToTheCAAndNameWhatTheyMust(t *testing.T) {
	o := testOptions()
	o.FederationSystemNamespace = "fed"
	c, err := o.issue(nil, []string{"203.0.113.10", "fed.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(c.ca.cert)
	parse := func(pemData []byte) *x509.Certificate {
		certs, err := certutil.ParseCertsPEM(pemData)
		if err != nil {
			t.Fatal(err)
		}
		return certs[0]
	}
	serving := parse(c.serving.certPEM)
	for _, host := range []string{"federation-apiserver.fed.svc", "federation-apiserver.fed.svc.cluster.local", "localhost", "127.0.0.1", "203.0.113.10", "fed.example.com"} {
		if _, err := serving.Verify(x509.VerifyOptions{DNSName: host, Roots: roots}); err != nil {
			t.Errorf("serving certificate not valid for %s: %v", host, err)
		}
	}
	admin := parse(c.admin.certPEM)
	if _, err := admin.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("admin certificate: %v", err)
	}
	if len(admin.Subject.Organization) != 1 || admin.Subject.Organization[0] != "system:masters" {
		t.Errorf("admin certificate groups %v, want system:masters", admin.Subject.Organization)
	}
	if cm := parse(c.cm.certPEM); cm.Subject.CommonName != "federation:myfed:controller-manager" || len(cm.Subject.Organization) != 0 {
		t.Errorf("controller manager certificate is for %q in %v; want its own user in no group", cm.Subject.CommonName, cm.Subject.Organization)
	}
	kc, err := clientcmd.Load(c.cmKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*kc, nil).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://federation-apiserver.fed.svc:443" || !bytes.Equal(cfg.CAData, c.ca.certPEM) || !bytes.Equal(cfg.CertData, c.cm.certPEM) {
		t.Errorf("controller manager kubeconfig points at %s with the wrong credentials", cfg.Host)
	}

	// A second run reuses the stored CA: what it issues chains to the first.
	again, err := loadCA(c.ca.certPEM, c.ca.keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := o.issue(again, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parse(c2.admin.certPEM).Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("certificate issued by the reloaded CA does not chain to the original: %v", err)
	}
}

func TestValidate(t *testing.T) {
	kc := clientcmdapi.NewConfig()
	kc.Contexts["host"] = &clientcmdapi.Context{Cluster: "host"}
	// dns turns Service DNS on with provider and a config file holding
	// config, and the secret files files.
	dns := func(t *testing.T, o *InitOptions, provider, config string, files ...string) {
		o.DNSProvider, o.DNSZoneName = provider, "example.com"
		o.DNSProviderConfig = writeFile(t, "provider.yaml", config)
		o.DNSProviderSecretFiles = files
	}
	for _, tc := range []struct {
		name   string
		modify func(t *testing.T, o *InitOptions)
		want   string
	}{
		{"valid", func(*testing.T, *InitOptions) {}, ""},
		{"bad name", func(_ *testing.T, o *InitOptions) { o.Name = "My_Fed" }, `federation name "My_Fed" is invalid`},
		{"name of the host context", func(_ *testing.T, o *InitOptions) { o.Name = "host" }, "would overwrite"},
		{"unknown host context", func(_ *testing.T, o *InitOptions) { o.HostClusterContext = "nope" }, `no context "nope"`},
		{"unknown DNS provider", func(_ *testing.T, o *InitOptions) { o.DNSProvider, o.DNSZoneName = "route53", "example.com" }, `--dns-provider "route53" is not supported`},
		{"DNS provider without zone", func(_ *testing.T, o *InitOptions) { o.DNSProvider = DNSProviderGoogleCloud }, "needs --dns-zone-name"},
		{"zone without provider", func(_ *testing.T, o *InitOptions) { o.DNSZoneName = "example.com" }, "--dns-zone-name needs --dns-provider"},
		{"etcd server not a URL", func(_ *testing.T, o *InitOptions) { o.EtcdServers = []string{"etcd:2379"} }, `"etcd:2379" is not an http:// or https:// URL`},
		{"bad service type", func(_ *testing.T, o *InitOptions) { o.APIServerServiceType = "ClusterIP" }, `--api-server-service-type "ClusterIP" is not supported`},
		{"bad advertise address", func(_ *testing.T, o *InitOptions) { o.APIServerAdvertiseAddress = "not an address" }, "neither an IP address nor a DNS name"},
		{"bad volume size", func(_ *testing.T, o *InitOptions) { o.EtcdPVCapacity = "lots" }, `--etcd-pv-capacity "lots"`},

		{"coredns", func(t *testing.T, o *InitOptions) { withCoreDNS(t, o) }, ""},
		{"coredns over http", func(t *testing.T, o *InitOptions) {
			dns(t, o, DNSProviderCoreDNS, "etcdEndpoints: [http://etcd.dns:2379]\n")
		}, ""},
		{"google-clouddns with Application Default Credentials", func(t *testing.T, o *InitOptions) {
			dns(t, o, DNSProviderGoogleCloud, "project: my-project\n")
		}, ""},
		{"google-clouddns with a key file", func(t *testing.T, o *InitOptions) {
			dns(t, o, DNSProviderGoogleCloud, "project: my-project\ncredentialsFile: /etc/federation/dns/key.json\n", "key.json="+writeFile(t, "sa.json", `{"type": "service_account"}`))
		}, ""},
		{"google-clouddns with a key file mounted by the admin", func(t *testing.T, o *InitOptions) {
			dns(t, o, DNSProviderGoogleCloud, "project: my-project\ncredentialsFile: /var/run/secrets/gcp/key.json\n")
		}, ""},
		{"DNS provider without config", func(_ *testing.T, o *InitOptions) { o.DNSProvider, o.DNSZoneName = DNSProviderCoreDNS, "example.com" },
			"--dns-provider-config is required with --dns-provider=coredns: a local YAML file with etcdEndpoints"},
		{"config without DNS provider", func(t *testing.T, o *InitOptions) { o.DNSProviderConfig = writeFile(t, "c.yaml", "project: p\n") },
			"--dns-provider-config and --dns-provider-secret-file need --dns-provider"},
		{"secret file without DNS provider", func(_ *testing.T, o *InitOptions) { o.DNSProviderSecretFiles = []string{"key.json"} },
			"--dns-provider-config and --dns-provider-secret-file need --dns-provider"},
		{"config unreadable", func(t *testing.T, o *InitOptions) {
			o.DNSProvider, o.DNSZoneName = DNSProviderCoreDNS, "example.com"
			o.DNSProviderConfig = filepath.Join(t.TempDir(), "missing.yaml")
		}, "--dns-provider-config: cannot read /"},
		{"config is a directory", func(t *testing.T, o *InitOptions) {
			o.DNSProvider, o.DNSZoneName = DNSProviderCoreDNS, "example.com"
			o.DNSProviderConfig = t.TempDir()
		}, "is a directory; give a file"},
		{"coredns config with a misspelt field", func(t *testing.T, o *InitOptions) {
			dns(t, o, DNSProviderCoreDNS, "etcdEndpoint: [https://etcd.dns:2379]\n")
		}, `unknown field "etcdEndpoint"`},
		{"coredns config not YAML", func(t *testing.T, o *InitOptions) { dns(t, o, DNSProviderCoreDNS, "etcdEndpoints: [\n") },
			"coredns provider config: error converting YAML"},
		{"coredns config without endpoints", func(t *testing.T, o *InitOptions) { dns(t, o, DNSProviderCoreDNS, "path: /skydns\n") },
			"coredns provider config: etcdEndpoints: required"},
		{"coredns endpoint without scheme", func(t *testing.T, o *InitOptions) { dns(t, o, DNSProviderCoreDNS, "etcdEndpoints: [etcd.dns:2379]\n") },
			"etcdEndpoints[0]"},
		{"coredns certificate without key", func(t *testing.T, o *InitOptions) {
			dns(t, o, DNSProviderCoreDNS, "etcdEndpoints: [https://etcd.dns:2379]\netcdCertFile: /etc/federation/dns/c.crt\n", writeFile(t, "c.crt", "C"))
		}, "give both (a client certificate and its key) or neither"},
		{"coredns TLS files over http", func(t *testing.T, o *InitOptions) {
			dns(t, o, DNSProviderCoreDNS, "etcdEndpoints: [http://etcd.dns:2379]\netcdCAFile: /etc/ca.crt\n")
		}, "are for https:// endpoints"},
		{"coredns file not in the Secret", func(t *testing.T, o *InitOptions) {
			dns(t, o, DNSProviderCoreDNS, "etcdEndpoints: [https://etcd.dns:2379]\netcdCAFile: /etc/federation/dns/ca.crt\n")
		}, "etcdCAFile is /etc/federation/dns/ca.crt, in the Secret federation-dns-provider, but no --dns-provider-secret-file is named ca.crt; add --dns-provider-secret-file=ca.crt=LOCAL_FILE"},
		{"coredns file at a relative path", func(t *testing.T, o *InitOptions) {
			dns(t, o, DNSProviderCoreDNS, "etcdEndpoints: [https://etcd.dns:2379]\netcdCAFile: ca.crt\n")
		}, `etcdCAFile "ca.crt" is not an absolute path`},
		{"coredns file below the Secret's mount", func(t *testing.T, o *InitOptions) {
			dns(t, o, DNSProviderCoreDNS, "etcdEndpoints: [https://etcd.dns:2379]\netcdCAFile: /etc/federation/dns/tls/ca.crt\n")
		}, "with no directory below"},
		{"google-clouddns config invalid", func(t *testing.T, o *InitOptions) { dns(t, o, DNSProviderGoogleCloud, "project: My Project\n") },
			`invalid Cloud DNS provider configuration: project: "My Project" is not a Google Cloud project ID`},
		{"google-clouddns config empty", func(t *testing.T, o *InitOptions) { dns(t, o, DNSProviderGoogleCloud, "") },
			"the Cloud DNS provider configuration is empty"},
		{"google-clouddns credentials not in the Secret", func(t *testing.T, o *InitOptions) {
			dns(t, o, DNSProviderGoogleCloud, "project: my-project\ncredentialsFile: /etc/federation/dns/key.json\n")
		}, "no --dns-provider-secret-file is named key.json"},
		{"secret file missing", func(t *testing.T, o *InitOptions) {
			dns(t, o, DNSProviderGoogleCloud, "project: my-project\n", filepath.Join(t.TempDir(), "gone.json"))
		}, "--dns-provider-secret-file: cannot read /"},
		{"secret file named like the config", func(t *testing.T, o *InitOptions) {
			dns(t, o, DNSProviderGoogleCloud, "project: my-project\n", "provider.yaml="+writeFile(t, "x", "x"))
		}, "the name provider.yaml is the --dns-provider-config's"},
		{"secret file with a bad name", func(t *testing.T, o *InitOptions) {
			dns(t, o, DNSProviderGoogleCloud, "project: my-project\n", "a/b="+writeFile(t, "x", "x"))
		}, `"a/b" cannot name a file in a Secret`},
		{"secret files with one name", func(t *testing.T, o *InitOptions) {
			dns(t, o, DNSProviderGoogleCloud, "project: my-project\n", writeFile(t, "x", "1"), "x="+writeFile(t, "y", "2"))
		}, "another one is named x too"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions()
			o.kubeconfig = clioptions.NewKubeconfig(kc, time.Second)
			tc.modify(t, o)
			err := o.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestRunAppliesServerSideAndWritesAContext(t *testing.T) {
	o := testOptions()
	o.APIServerServiceType = ServiceTypeNodePort
	o.Wait = false
	out := &bytes.Buffer{}
	o.Out = out
	o.HostClient = k8sfake.NewClientset(
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: manifests.APIServerName, Namespace: "federation-system"},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 443, NodePort: 30443}}},
		},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.1.2.3"}}}},
	)
	dyn := dynamicfake.NewSimpleDynamicClient(scheme.Scheme)
	var applied []string
	dyn.PrependReactor("patch", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.PatchActionImpl)
		if p.GetPatchType() != types.ApplyPatchType || p.GetPatchOptions().FieldManager != FieldManager || p.GetPatchOptions().Force == nil || !*p.GetPatchOptions().Force {
			t.Errorf("%s %s was not server-side applied by %s with force: %s %+v", p.GetResource().Resource, p.GetName(), FieldManager, p.GetPatchType(), p.GetPatchOptions())
		}
		applied = append(applied, p.GetResource().Resource+"/"+p.GetName())
		obj := &unstructured.Unstructured{}
		return true, obj, obj.UnmarshalJSON(p.GetPatch())
	})
	o.HostDynamic = dyn
	o.Mapper = testrestmapper.TestOnlyStaticRESTMapper(scheme.Scheme)

	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte("apiVersion: v1\nkind: Config\ncontexts:\n- name: host\n  context: {cluster: host}\nclusters:\n- name: host\n  cluster: {server: https://host}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	po := clientcmd.NewDefaultPathOptions()
	po.LoadingRules.ExplicitPath = path
	o.KubeconfigAccess = po

	if err := o.Run(context.Background()); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	if len(applied) < 3 || applied[0] != "namespaces/federation-system" || applied[1] != "services/federation-apiserver" {
		t.Errorf("applied %v; want the namespace and the Service first", applied)
	}
	if want := "deployments/federation-controller-manager"; applied[len(applied)-1] != want {
		t.Errorf("applied %v; want %s last", applied, want)
	}
	kc, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if kc.Contexts["host"] == nil {
		t.Error("the host context was lost")
	}
	ctx := kc.Contexts["myfed"]
	if ctx == nil || kc.Clusters[ctx.Cluster].Server != "https://10.1.2.3:30443" || len(kc.AuthInfos[ctx.AuthInfo].ClientCertificateData) == 0 {
		t.Errorf("context myfed: %+v; want the node's address and node port, with the admin certificate", ctx)
	}
}

func TestDryRunPrintsParsableManifestsAndTouchesNothing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(t *testing.T, o *InitOptions)
		want   int
	}{
		{"no DNS", func(*testing.T, *InitOptions) {}, 16},
		{"DNS", withCoreDNS, 17},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions()
			tc.modify(t, o)
			o.DryRun = true
			out := &bytes.Buffer{}
			o.Out = out
			// No clients at all: a dry run must not need the host cluster.
			if err := o.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			objs, err := ParseObjects(out.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) != tc.want {
				t.Errorf("dry run printed %d objects, want %d: %v", len(objs), tc.want, kinds(objs))
			}
		})
	}
}

// TestDNSErrorsDoNotQuoteTheFiles: a provider config or a secret file may
// hold a secret where it should not; no error shows it.
func TestDNSErrorsDoNotQuoteTheFiles(t *testing.T) {
	const secret = "s3cr3t-t0ken"
	for name, modify := range map[string]func(o *InitOptions){
		"google-clouddns field": func(o *InitOptions) {
			o.DNSProvider = DNSProviderGoogleCloud
			o.DNSProviderConfig = writeFile(t, "c.yaml", "project: my-project\nprivateKey: "+secret+"\n")
		},
		"google-clouddns not YAML": func(o *InitOptions) {
			o.DNSProvider = DNSProviderGoogleCloud
			o.DNSProviderConfig = writeFile(t, "c.yaml", "project: [ "+secret+"\n")
		},
		"coredns field": func(o *InitOptions) {
			o.DNSProvider = DNSProviderCoreDNS
			o.DNSProviderConfig = writeFile(t, "c.yaml", "etcdEndpoints: [https://etcd:2379]\npassword: "+secret+"\n")
		},
		"coredns endpoint with a password": func(o *InitOptions) {
			o.DNSProvider = DNSProviderCoreDNS
			o.DNSProviderConfig = writeFile(t, "c.yaml", "etcdEndpoints: [\"ftp://root:"+secret+"@etcd:2379\"]\n")
		},
		"coredns wrong type": func(o *InitOptions) {
			o.DNSProvider = DNSProviderCoreDNS
			o.DNSProviderConfig = writeFile(t, "c.yaml", "etcdEndpoints: "+secret+"\n")
		},
	} {
		t.Run(name, func(t *testing.T) {
			o := testOptions()
			modify(o)
			o.DNSZoneName = "example.com"
			err := o.Validate()
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error quotes the file: %v", err)
			}
		})
	}
}

// FuzzParseObjects feeds ParseObjects arbitrary YAML streams, as a user
// editing the printed manifests might: it must fail cleanly, not panic.
func FuzzParseObjects(f *testing.F) {
	f.Add([]byte("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n---\n# only a comment\n"))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [}"))
	f.Add([]byte("- a\n- b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := ParseObjects(data)
		if err == nil {
			for _, o := range objs {
				if o == nil || o.Object == nil {
					t.Fatalf("nil object without an error from %q", data)
				}
			}
		}
	})
}
