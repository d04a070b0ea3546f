package initfed

import (
	"bytes"
	"context"
	"crypto/x509"
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
		modify func(o *InitOptions)
		want   []string
	}{
		{"etcd deployed, load balancer", func(*InitOptions) {}, []string{
			"Namespace/federation-system",
			"ServiceAccount/federation-apiserver", "ClusterRoleBinding/federation:myfed:apiserver-auth-delegator",
			"ServiceAccount/federation-controller-manager", "ClusterRole/federation:myfed:controller-manager", "ClusterRoleBinding/federation:myfed:controller-manager",
			"Secret/federation-ca", "Secret/federation-apiserver-serving", "Secret/federation-admin", "Secret/federation-controller-manager-kubeconfig",
			"Service/etcd", "StatefulSet/etcd", "NetworkPolicy/etcd",
			"Service/federation-apiserver", "Deployment/federation-apiserver",
			"Deployment/federation-controller-manager",
		}},
		{"existing etcd, DNS", func(o *InitOptions) {
			o.EtcdServers = []string{"https://etcd.example.com:2379"}
			o.DNSProvider, o.DNSZoneName = DNSProviderCoreDNS, "example.com."
		}, []string{
			"Namespace/federation-system",
			"ServiceAccount/federation-apiserver", "ClusterRoleBinding/federation:myfed:apiserver-auth-delegator",
			"ServiceAccount/federation-controller-manager", "ClusterRole/federation:myfed:controller-manager", "ClusterRoleBinding/federation:myfed:controller-manager",
			"Secret/federation-ca", "Secret/federation-apiserver-serving", "Secret/federation-admin", "Secret/federation-controller-manager-kubeconfig",
			"ConfigMap/federation-dns",
			"Service/federation-apiserver", "Deployment/federation-apiserver",
			"Deployment/federation-controller-manager",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions()
			tc.modify(o)
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
	for _, tc := range []struct {
		name   string
		modify func(o *InitOptions)
		want   string
	}{
		{"valid", func(*InitOptions) {}, ""},
		{"bad name", func(o *InitOptions) { o.Name = "My_Fed" }, `federation name "My_Fed" is invalid`},
		{"name of the host context", func(o *InitOptions) { o.Name = "host" }, "would overwrite"},
		{"unknown host context", func(o *InitOptions) { o.HostClusterContext = "nope" }, `no context "nope"`},
		{"unknown DNS provider", func(o *InitOptions) { o.DNSProvider, o.DNSZoneName = "route53", "example.com" }, `--dns-provider "route53" is not supported`},
		{"DNS provider without zone", func(o *InitOptions) { o.DNSProvider = DNSProviderGoogleCloud }, "needs --dns-zone-name"},
		{"zone without provider", func(o *InitOptions) { o.DNSZoneName = "example.com" }, "--dns-zone-name needs --dns-provider"},
		{"etcd server not a URL", func(o *InitOptions) { o.EtcdServers = []string{"etcd:2379"} }, `"etcd:2379" is not an http:// or https:// URL`},
		{"bad service type", func(o *InitOptions) { o.APIServerServiceType = "ClusterIP" }, `--api-server-service-type "ClusterIP" is not supported`},
		{"bad advertise address", func(o *InitOptions) { o.APIServerAdvertiseAddress = "not an address" }, "neither an IP address nor a DNS name"},
		{"bad volume size", func(o *InitOptions) { o.EtcdPVCapacity = "lots" }, `--etcd-pv-capacity "lots"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions()
			o.kubeconfig = clioptions.NewKubeconfig(kc, time.Second)
			tc.modify(o)
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
	o := testOptions()
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
	if len(objs) != 16 {
		t.Errorf("dry run printed %d objects: %v", len(objs), kinds(objs))
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
