package initfed

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
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

// gceConfig is a --cloud-config for gce whose credentials are in the
// Secret's mount.
const gceConfig = `project: my-project
network: fed-net
credentialsFile: /etc/federation/cloud/key.json
`

// withGCE turns the Ingress global load balancer on with gceConfig and its
// credentials file.
func withGCE(t *testing.T, o *InitOptions) {
	t.Helper()
	o.CloudProvider = CloudProviderGCE
	o.CloudConfig = writeFile(t, "gce.yaml", gceConfig)
	o.CloudSecretFiles = []string{"key.json=" + writeFile(t, "sa.json", `{"type": "service_account"}`)}
}

func render(t *testing.T, o *InitOptions, external ...string) (*credentials, []*unstructured.Unstructured) {
	t.Helper()
	c, err := o.issue(nil, nil, external)
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
			"ServiceAccount/federation-controller-manager",
			"ClusterRole/federation:myfed:controller-manager", "ClusterRoleBinding/federation:myfed:controller-manager",
			"Secret/federation-ca", "Secret/federation-apiserver-serving", "Secret/federation-admin", "Secret/federation-controller-manager-kubeconfig",
			"Secret/federation-apiserver-etcd-client",
			"Secret/federation-etcd-ca", "Secret/federation-etcd-certs", "Service/etcd", "StatefulSet/etcd", "NetworkPolicy/etcd",
			"Service/federation-apiserver", "Deployment/federation-apiserver",
			"Deployment/federation-controller-manager",
		}},
		{"existing etcd, DNS", func(t *testing.T, o *InitOptions) {
			o.EtcdServers = []string{"https://etcd.example.com:2379"}
			withCoreDNS(t, o)
		}, []string{
			"Namespace/federation-system",
			"ServiceAccount/federation-apiserver", "ClusterRoleBinding/federation:myfed:apiserver-auth-delegator",
			"ServiceAccount/federation-controller-manager",
			"ClusterRole/federation:myfed:controller-manager", "ClusterRoleBinding/federation:myfed:controller-manager",
			"Secret/federation-ca", "Secret/federation-apiserver-serving", "Secret/federation-admin", "Secret/federation-controller-manager-kubeconfig",
			"Secret/federation-dns-provider",
			"Service/federation-apiserver", "Deployment/federation-apiserver",
			"Deployment/federation-controller-manager",
		}},
		{"DNS and cloud", func(t *testing.T, o *InitOptions) {
			withCoreDNS(t, o)
			withGCE(t, o)
		}, []string{
			"Namespace/federation-system",
			"ServiceAccount/federation-apiserver", "ClusterRoleBinding/federation:myfed:apiserver-auth-delegator",
			"ServiceAccount/federation-controller-manager",
			"ClusterRole/federation:myfed:controller-manager", "ClusterRoleBinding/federation:myfed:controller-manager",
			"Secret/federation-ca", "Secret/federation-apiserver-serving", "Secret/federation-admin", "Secret/federation-controller-manager-kubeconfig",
			"Secret/federation-apiserver-etcd-client", "Secret/federation-dns-provider", "Secret/federation-cloud-config",
			"Secret/federation-etcd-ca", "Secret/federation-etcd-certs", "Service/etcd", "StatefulSet/etcd", "NetworkPolicy/etcd",
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

// TestControllerManagerServesHTTPSOnly checks the controller manager's
// serving in the Deployment: HTTPS on manifests.ControllerManagerPort,
// probed over HTTPS, with the federation's CA for client certificates, the
// host cluster asked about tokens, and no profiling.
func TestControllerManagerServesHTTPSOnly(t *testing.T) {
	_, objs := render(t, testOptions())
	cm, args := controllerManagerFlags(t, objs)
	if cm.SecureServing.BindPort != manifests.ControllerManagerPort || manifests.ControllerManagerPort != cmoptions.DefaultSecurePort {
		t.Errorf("--secure-port = %d, want manifests.ControllerManagerPort %d, the binary's default %d", cm.SecureServing.BindPort, manifests.ControllerManagerPort, cmoptions.DefaultSecurePort)
	}
	if cm.Profiling {
		t.Error("--profiling is on")
	}
	if want := manifests.ClientCAMountPath + "/ca.crt"; cm.Authentication.ClientCert.ClientCA != want {
		t.Errorf("--client-ca-file = %q, want %q", cm.Authentication.ClientCert.ClientCA, want)
	}
	if !cm.Authentication.SkipInClusterLookup {
		t.Errorf("the host cluster's request-header CA would be trusted: %v", args)
	}

	d := find(t, objs, "Deployment", manifests.ControllerManagerName)
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	c := containers[0].(map[string]interface{})
	ports, _, _ := unstructured.NestedSlice(c, "ports")
	if len(ports) != 1 || ports[0].(map[string]interface{})["name"] != "https" || ports[0].(map[string]interface{})["containerPort"] != int64(manifests.ControllerManagerPort) {
		t.Errorf("ports = %v, want only https: %d", ports, manifests.ControllerManagerPort)
	}
	probe, _, _ := unstructured.NestedMap(c, "livenessProbe", "httpGet")
	if probe["scheme"] != "HTTPS" || probe["path"] != "/healthz" || probe["port"] != "https" {
		t.Errorf("liveness probe = %v, want HTTPS /healthz on port https", probe)
	}

	volume, mount := secretVolume(t, objs, "federation-apiserver-serving", manifests.ClientCAMountPath)
	if volume == nil || mount == nil || mount["readOnly"] != true {
		t.Fatalf("the federation's CA is not mounted read-only at %s: volume %v, mount %v", manifests.ClientCAMountPath, volume, mount)
	}
	// Only the CA certificate: not the federation-apiserver's serving key.
	items, _, _ := unstructured.NestedSlice(volume, "secret", "items")
	if len(items) != 1 || items[0].(map[string]interface{})["key"] != "ca.crt" || items[0].(map[string]interface{})["path"] != "ca.crt" {
		t.Errorf("the client CA volume projects %v, want only ca.crt", items)
	}

	// It asks the federation-apiserver, not the host cluster, about
	// scrapers: no host token, and the rights to ask in the federation.
	if cm.Authentication.RemoteKubeConfigFile != "" || cm.Authorization.RemoteKubeConfigFile != "" || cm.Kubeconfig == "" {
		t.Errorf("the controller manager reviews tokens and requests elsewhere than at the federation-apiserver of --kubeconfig %q: %q, %q",
			cm.Kubeconfig, cm.Authentication.RemoteKubeConfigFile, cm.Authorization.RemoteKubeConfigFile)
	}
	for _, kind := range []string{"ServiceAccount", "Deployment"} {
		obj := find(t, objs, kind, manifests.ControllerManagerName)
		path := []string{"automountServiceAccountToken"}
		if kind == "Deployment" {
			path = []string{"spec", "template", "spec", "automountServiceAccountToken"}
		}
		if mount, found, _ := unstructured.NestedBool(obj.Object, path...); !found || mount {
			t.Errorf("%s %s mounts a host token (automountServiceAccountToken %v, set %v)", kind, obj.GetName(), mount, found)
		}
	}
	rules, _, _ := unstructured.NestedSlice(find(t, objs, "ClusterRole", "federation:myfed:controller-manager").Object, "rules")
	for _, want := range []struct{ group, resource string }{{"authentication.k8s.io", "tokenreviews"}, {"authorization.k8s.io", "subjectaccessreviews"}} {
		granted := false
		for _, r := range rules {
			rule := r.(map[string]interface{})
			groups, _, _ := unstructured.NestedStringSlice(rule, "apiGroups")
			resources, _, _ := unstructured.NestedStringSlice(rule, "resources")
			verbs, _, _ := unstructured.NestedStringSlice(rule, "verbs")
			if slices.Contains(groups, want.group) && slices.Contains(resources, want.resource) && slices.Contains(verbs, "create") {
				granted = true
			}
		}
		if !granted {
			t.Errorf("the controller manager may not create %s.%s in the federation, to review its scrapers", want.resource, want.group)
		}
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

// secretVolume returns the controller manager's volume and mount of the
// Secret secret, nil if it has none, and checks that nothing else is
// mounted at mountPath.
func secretVolume(t *testing.T, objs []*unstructured.Unstructured, secret, mountPath string) (volume, mount map[string]interface{}) {
	t.Helper()
	d := find(t, objs, "Deployment", manifests.ControllerManagerName)
	volumes, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "volumes")
	for _, v := range volumes {
		v := v.(map[string]interface{})
		if name, _, _ := unstructured.NestedString(v, "secret", "secretName"); name == secret {
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
		if m["mountPath"] == mountPath && (volume == nil || m["name"] != volume["name"]) {
			t.Errorf("%s is mounted from volume %v, not from the Secret %s", mountPath, m["name"], secret)
		}
	}
	return volume, mount
}

// checkSecretMounted checks that the controller manager mounts the Secret
// secret read-only at mountPath.
func checkSecretMounted(t *testing.T, objs []*unstructured.Unstructured, secret, mountPath string) {
	t.Helper()
	volume, mount := secretVolume(t, objs, secret, mountPath)
	if volume == nil || mount == nil {
		t.Fatalf("controller manager does not mount the Secret %s: volume %v, mount %v", secret, volume, mount)
	}
	if mount["mountPath"] != mountPath || mount["readOnly"] != true {
		t.Errorf("volume of the Secret %s mounted as %v; want read-only at %s", secret, mount, mountPath)
	}
}

// checkSecretData checks that the Secret name, in federation-system, holds
// exactly the files want.
func checkSecretData(t *testing.T, objs []*unstructured.Unstructured, name string, want map[string]string) {
	t.Helper()
	secret := find(t, objs, "Secret", name)
	data, _, _ := unstructured.NestedStringMap(secret.Object, "data")
	if len(data) != len(want) {
		t.Errorf("Secret %s holds %d files, want %d: %v", name, len(data), len(want), data)
	}
	for k, v := range want {
		if got, err := base64.StdEncoding.DecodeString(data[k]); err != nil || string(got) != v {
			t.Errorf("Secret %s: %s holds %q (%v), want %q", name, k, got, err, v)
		}
	}
	if secret.GetNamespace() != "federation-system" {
		t.Errorf("Secret %s is in namespace %q", secret.GetName(), secret.GetNamespace())
	}
}

// checkHashChanges checks that the pod template's annotation is set, stays
// the same when nothing changes, and changes with each of changes.
func checkHashChanges(t *testing.T, annotation string, base func(o *InitOptions), changes map[string]func(o *InitOptions)) {
	t.Helper()
	hash := func(modify func(o *InitOptions)) string {
		o := testOptions()
		base(o)
		modify(o)
		_, objs := render(t, o)
		h := podAnnotations(t, objs)[annotation]
		if h == "" {
			t.Fatalf("pod template has no %s", annotation)
		}
		return h
	}
	same := hash(func(*InitOptions) {})
	if again := hash(func(*InitOptions) {}); again != same {
		t.Errorf("%s changed (%s, %s) though the settings did not", annotation, same, again)
	}
	for what, modify := range changes {
		if h := hash(modify); h == same {
			t.Errorf("changing the %s left the pod template's %s at %s", what, annotation, h)
		}
	}
}

const (
	dnsHashAnnotation   = "federation.k8s.io/dns-config-hash"
	cloudHashAnnotation = "federation.k8s.io/cloud-config-hash"
)

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
		if volume, mount := secretVolume(t, objs, manifests.DNSProviderSecretName, manifests.DNSProviderMountPath); volume != nil || mount != nil {
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
		checkSecretMounted(t, objs, manifests.DNSProviderSecretName, manifests.DNSProviderMountPath)
		checkSecretData(t, objs, manifests.DNSProviderSecretName, map[string]string{
			"provider.yaml":   coreDNSConfig,
			"etcd-client.crt": "CERT",
			"etcd-client.key": "KEY",
			"etcd-ca.crt":     "CA",
		})
	})

	t.Run("the pod restarts when the DNS config changes", func(t *testing.T) {
		checkHashChanges(t, dnsHashAnnotation, func(o *InitOptions) { withCoreDNS(t, o) }, map[string]func(o *InitOptions){
			"config": func(o *InitOptions) {
				o.DNSProviderConfig = writeFile(t, "coredns.yaml", strings.Replace(coreDNSConfig, "/skydns", "/dns", 1))
			},
			"a secret file": func(o *InitOptions) {
				o.DNSProviderSecretFiles[1] = writeFile(t, "etcd-client.key", "NEW KEY")
			},
			"zone": func(o *InitOptions) { o.DNSZoneName = "example.org" },
		})
	})
}

func TestControllerManagerCloud(t *testing.T) {
	t.Run("off", func(t *testing.T) {
		o := testOptions()
		withCoreDNS(t, o)
		_, objs := render(t, o)
		cm, args := controllerManagerFlags(t, objs)
		if cm.CloudProvider != "" || cm.CloudConfig != "" {
			t.Errorf("the global load balancer is on without --cloud-provider: %v", args)
		}
		if volume, mount := secretVolume(t, objs, manifests.CloudConfigSecretName, manifests.CloudConfigMountPath); volume != nil || mount != nil {
			t.Errorf("controller manager has the cloud volume %v mounted at %v without --cloud-provider", volume, mount)
		}
		if _, ok := podAnnotations(t, objs)[cloudHashAnnotation]; ok {
			t.Errorf("pod template has %s without --cloud-provider", cloudHashAnnotation)
		}
		for _, obj := range objs {
			if obj.GetName() == manifests.CloudConfigSecretName {
				t.Errorf("%s/%s rendered without --cloud-provider", obj.GetKind(), obj.GetName())
			}
		}
	})

	t.Run("gce", func(t *testing.T) {
		o := testOptions()
		withGCE(t, o)
		_, objs := render(t, o)
		cm, args := controllerManagerFlags(t, objs)
		if cm.CloudProvider != "gce" || cm.CloudConfig != "/etc/federation/cloud/cloud-config.yaml" {
			t.Errorf("controller manager args %v; want --cloud-provider=gce --cloud-config=/etc/federation/cloud/cloud-config.yaml", args)
		}
		if want := manifests.CloudConfigMountPath + "/" + manifests.CloudConfigKey; cm.CloudConfig != want {
			t.Errorf("--cloud-config=%s, but the Secret's config is at %s", cm.CloudConfig, want)
		}
		if cm.DNSProvider != "" {
			t.Errorf("Service DNS is on with only --cloud-provider: %v", args)
		}
		checkSecretMounted(t, objs, manifests.CloudConfigSecretName, manifests.CloudConfigMountPath)
		checkSecretData(t, objs, manifests.CloudConfigSecretName, map[string]string{
			"cloud-config.yaml": gceConfig,
			"key.json":          `{"type": "service_account"}`,
		})
	})

	t.Run("gce beside Service DNS", func(t *testing.T) {
		o := testOptions()
		withCoreDNS(t, o)
		withGCE(t, o)
		_, objs := render(t, o)
		cm, args := controllerManagerFlags(t, objs)
		if cm.CloudProvider != "gce" || cm.DNSProvider != DNSProviderCoreDNS {
			t.Errorf("controller manager args %v; want both --cloud-provider and --dns-provider", args)
		}
		checkSecretMounted(t, objs, manifests.DNSProviderSecretName, manifests.DNSProviderMountPath)
		checkSecretMounted(t, objs, manifests.CloudConfigSecretName, manifests.CloudConfigMountPath)
		a := podAnnotations(t, objs)
		if a[dnsHashAnnotation] == "" || a[cloudHashAnnotation] == "" {
			t.Errorf("pod template annotations %v; want both hashes", a)
		}
	})

	t.Run("the pod restarts when the cloud config changes", func(t *testing.T) {
		checkHashChanges(t, cloudHashAnnotation, func(o *InitOptions) { withGCE(t, o) }, map[string]func(o *InitOptions){
			"config": func(o *InitOptions) {
				o.CloudConfig = writeFile(t, "gce.yaml", strings.Replace(gceConfig, "fed-net", "default", 1))
			},
			"a secret file": func(o *InitOptions) {
				o.CloudSecretFiles[0] = "key.json=" + writeFile(t, "sa.json", `{"type": "service_account", "new": true}`)
			},
			"name of a secret file": func(o *InitOptions) {
				o.CloudConfig = writeFile(t, "gce.yaml", strings.Replace(gceConfig, "key.json", "sa.json", 1))
				o.CloudSecretFiles[0] = "sa.json=" + writeFile(t, "sa.json", `{"type": "service_account"}`)
			},
		})
	})
}

func TestCertificatesChainToTheCAAndNameWhatTheyMust(t *testing.T) {
	o := testOptions()
	o.FederationSystemNamespace = "fed"
	c, err := o.issue(nil, nil, []string{"203.0.113.10", "fed.example.com"})
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
	c2, err := o.issue(again, nil, nil)
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
	// cloud turns the global load balancer on with a gce config file
	// holding config, and the secret files files.
	cloud := func(t *testing.T, o *InitOptions, config string, files ...string) {
		o.CloudProvider = CloudProviderGCE
		o.CloudConfig = writeFile(t, "gce.yaml", config)
		o.CloudSecretFiles = files
	}
	big := strings.Repeat("x", 600<<10)
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

		{"gce", func(t *testing.T, o *InitOptions) { withGCE(t, o) }, ""},
		{"gce beside Service DNS", func(t *testing.T, o *InitOptions) {
			withCoreDNS(t, o)
			withGCE(t, o)
		}, ""},
		{"gce with Application Default Credentials", func(t *testing.T, o *InitOptions) { cloud(t, o, "project: my-project\n") }, ""},
		{"gce with a key file mounted by the admin", func(t *testing.T, o *InitOptions) {
			cloud(t, o, "project: my-project\ncredentialsFile: /var/run/secrets/gcp/key.json\n")
		}, ""},
		{"gce with a secret file under its base name", func(t *testing.T, o *InitOptions) {
			cloud(t, o, "project: my-project\ncredentialsFile: /etc/federation/cloud/sa.json\n", writeFile(t, "sa.json", "{}"))
		}, ""},
		{"unknown cloud provider", func(t *testing.T, o *InitOptions) {
			o.CloudProvider, o.CloudConfig = "aws", writeFile(t, "aws.yaml", "region: x\n")
		}, `--cloud-provider "aws" is not supported; use gce`},
		{"cloud provider without config", func(_ *testing.T, o *InitOptions) { o.CloudProvider = CloudProviderGCE },
			"--cloud-config is required with --cloud-provider=gce: a local YAML file with project"},
		{"cloud config without provider", func(t *testing.T, o *InitOptions) { o.CloudConfig = writeFile(t, "gce.yaml", "project: p\n") },
			"--cloud-config and --cloud-secret-file need --cloud-provider (gce)"},
		{"cloud secret file without provider", func(_ *testing.T, o *InitOptions) { o.CloudSecretFiles = []string{"key.json"} },
			"--cloud-config and --cloud-secret-file need --cloud-provider (gce)"},
		{"cloud config unreadable", func(t *testing.T, o *InitOptions) {
			o.CloudProvider, o.CloudConfig = CloudProviderGCE, filepath.Join(t.TempDir(), "missing.yaml")
		}, "--cloud-config: cannot read /"},
		{"cloud config is a directory", func(t *testing.T, o *InitOptions) {
			o.CloudProvider, o.CloudConfig = CloudProviderGCE, t.TempDir()
		}, "is a directory; give a file"},
		{"cloud config too large", func(t *testing.T, o *InitOptions) {
			cloud(t, o, "project: my-project\n#"+big+big+"\n")
		}, "bytes; the Secret federation-cloud-config can hold at most 1048576"},
		{"gce config empty", func(t *testing.T, o *InitOptions) { cloud(t, o, "") },
			"the Google Cloud configuration is empty"},
		{"gce config with an unknown field", func(t *testing.T, o *InitOptions) { cloud(t, o, "project: my-project\nvpcNetwork: default\n") },
			`unknown field "vpcNetwork"`},
		{"gce config names the file", func(t *testing.T, o *InitOptions) { cloud(t, o, "projects: my-project\n") },
			"--cloud-config /"},
		{"gce config not YAML", func(t *testing.T, o *InitOptions) { cloud(t, o, "project: [\n") },
			"parse the Google Cloud configuration"},
		{"gce config invalid project", func(t *testing.T, o *InitOptions) { cloud(t, o, "project: My Project\n") },
			`project: "My Project" is not a Google Cloud project ID`},
		{"gce config invalid network", func(t *testing.T, o *InitOptions) { cloud(t, o, "project: my-project\nnetwork: Fed_Net\n") },
			`network: "Fed_Net" is not a VPC network name`},
		{"gce credentials type without file", func(t *testing.T, o *InitOptions) {
			cloud(t, o, "project: my-project\ncredentialsType: service_account\n")
		}, "credentialsType: set without credentialsFile"},
		{"gce credentials not in the Secret", func(t *testing.T, o *InitOptions) {
			cloud(t, o, "project: my-project\ncredentialsFile: /etc/federation/cloud/key.json\n")
		}, "credentialsFile is /etc/federation/cloud/key.json, in the Secret federation-cloud-config, but no --cloud-secret-file is named key.json; add --cloud-secret-file=key.json=LOCAL_FILE"},
		{"gce credentials at a relative path", func(t *testing.T, o *InitOptions) {
			cloud(t, o, "project: my-project\ncredentialsFile: key.json\n", "key.json="+writeFile(t, "sa.json", "{}"))
		}, `credentialsFile "key.json" is not an absolute path; give the file's path inside the controller manager's pod, such as /etc/federation/cloud/NAME with --cloud-secret-file=NAME=LOCAL_FILE`},
		{"gce credentials below the Secret's mount", func(t *testing.T, o *InitOptions) {
			cloud(t, o, "project: my-project\ncredentialsFile: /etc/federation/cloud/gcp/key.json\n", "key.json="+writeFile(t, "sa.json", "{}"))
		}, "the files of --cloud-secret-file are at /etc/federation/cloud/NAME, with no directory below"},
		{"gce credentials under the cloud mount, given only to the DNS Secret", func(t *testing.T, o *InitOptions) {
			withCoreDNS(t, o)
			cloud(t, o, "project: my-project\ncredentialsFile: /etc/federation/cloud/etcd-ca.crt\n")
		}, "no --cloud-secret-file is named etcd-ca.crt"},
		{"cloud secret file missing", func(t *testing.T, o *InitOptions) {
			cloud(t, o, "project: my-project\n", filepath.Join(t.TempDir(), "gone.json"))
		}, "--cloud-secret-file: cannot read /"},
		{"cloud secret file without a file", func(t *testing.T, o *InitOptions) { cloud(t, o, "project: my-project\n", "key.json=") },
			`--cloud-secret-file "key.json=": no file`},
		{"cloud secret file named like the config", func(t *testing.T, o *InitOptions) {
			cloud(t, o, "project: my-project\n", "cloud-config.yaml="+writeFile(t, "x", "x"))
		}, "the name cloud-config.yaml is the --cloud-config's"},
		{"cloud secret file with a bad name", func(t *testing.T, o *InitOptions) {
			cloud(t, o, "project: my-project\n", "a/b="+writeFile(t, "x", "x"))
		}, `--cloud-secret-file "a/b=`},
		{"cloud secret files with one name", func(t *testing.T, o *InitOptions) {
			cloud(t, o, "project: my-project\n", writeFile(t, "x", "1"), "x="+writeFile(t, "y", "2"))
		}, "--cloud-secret-file \"x=/"},
		{"cloud secret files too large together", func(t *testing.T, o *InitOptions) {
			cloud(t, o, "project: my-project\n", "a="+writeFile(t, "a", big), "b="+writeFile(t, "b", big))
		}, "--cloud-config and --cloud-secret-file come to 1228820 bytes; the Secret federation-cloud-config can hold at most 1048576"},
		{"DNS and cloud errors together", func(t *testing.T, o *InitOptions) {
			o.DNSProviderConfig = writeFile(t, "c.yaml", "project: p\n")
			o.CloudConfig = writeFile(t, "gce.yaml", "project: p\n")
		}, "--dns-provider-config and --dns-provider-secret-file need --dns-provider (coredns or google-clouddns)\n--cloud-config and --cloud-secret-file need --cloud-provider (gce)"},
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
		{"no DNS", func(*testing.T, *InitOptions) {}, 19},
		{"DNS", withCoreDNS, 20},
		{"cloud", withGCE, 20},
		{"DNS and cloud", func(t *testing.T, o *InitOptions) {
			withCoreDNS(t, o)
			withGCE(t, o)
		}, 21},
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

// TestConfigErrorsDoNotQuoteTheFiles: a provider or cloud config may hold
// a secret where it should not; no error shows it.
func TestConfigErrorsDoNotQuoteTheFiles(t *testing.T) {
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
		"gce field": func(o *InitOptions) {
			o.CloudProvider = CloudProviderGCE
			o.CloudConfig = writeFile(t, "gce.yaml", "project: my-project\nprivateKey: "+secret+"\n")
		},
		"gce not YAML": func(o *InitOptions) {
			o.CloudProvider = CloudProviderGCE
			o.CloudConfig = writeFile(t, "gce.yaml", "project: [ "+secret+"\n")
		},
		"gce wrong type": func(o *InitOptions) {
			o.CloudProvider = CloudProviderGCE
			o.CloudConfig = writeFile(t, "gce.yaml", "project: my-project\nnetwork: {key: "+secret+"}\n")
		},
		"gce endpoint with a password": func(o *InitOptions) {
			o.CloudProvider = CloudProviderGCE
			o.CloudConfig = writeFile(t, "gce.yaml", "project: my-project\nendpoint: \"https://user:"+secret+"@compute.example.com/\"\n")
		},
	} {
		t.Run(name, func(t *testing.T) {
			o := testOptions()
			modify(o)
			if o.DNSProvider != "" {
				o.DNSZoneName = "example.com"
			}
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

// TestSecretFileFlagsKeepCommas: a file name may hold a comma, so the
// repeatable file flags are not comma-separated lists.
func TestSecretFileFlagsKeepCommas(t *testing.T) {
	cmd := NewCmdInit(clioptions.IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	for _, name := range []string{"dns-provider-secret-file", "cloud-secret-file"} {
		t.Run(name, func(t *testing.T) {
			if err := cmd.Flags().Parse([]string{"--" + name + "=a,b.json", "--" + name + "=k=c.json"}); err != nil {
				t.Fatal(err)
			}
			got, err := cmd.Flags().GetStringArray(name)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "|") != "a,b.json|k=c.json" {
				t.Errorf("--%s gave %q, want [a,b.json k=c.json]", name, got)
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
