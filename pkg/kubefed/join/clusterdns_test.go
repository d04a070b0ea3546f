package join

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kfederation/federation/pkg/kubefed/clioptions"
)

// kubeadmCorefile is the Corefile kubeadm gives a cluster.
const kubeadmCorefile = `.:53 {
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

// joinedCorefile is kubeadmCorefile once federation "federation" with
// domain example.com joined from zone us-central1-a.
var joinedCorefile = strings.Replace(kubeadmCorefile, "    kubernetes cluster.local", `    federation cluster.local { # added by kubefed join
       federation example.com # added by kubefed join
       zone us-central1-a # added by kubefed join
       region us-central1 # added by kubefed join
    }
    kubernetes cluster.local`, 1)

func node(name, zone, region string) *corev1.Node {
	labels := map[string]string{}
	if zone != "" {
		labels[corev1.LabelTopologyZone] = zone
	}
	if region != "" {
		labels[corev1.LabelTopologyRegion] = region
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func corednsConfigMap(corefile string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: CoreDNSConfigMap, Namespace: CoreDNSNamespace, ResourceVersion: "7"},
		Data:       map[string]string{CorefileKey: corefile},
	}
}

// withClusterDNS adds kubeadm's CoreDNS ConfigMap and nodes to the member.
func (f *fixture) withClusterDNS(t *testing.T, objs ...runtime.Object) *fixture {
	t.Helper()
	for _, o := range objs {
		if err := f.member.Tracker().Add(o); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) corefile(t *testing.T) string {
	t.Helper()
	cm, err := f.member.CoreV1().ConfigMaps(CoreDNSNamespace).Get(context.Background(), CoreDNSConfigMap, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm.Data[CorefileKey]
}

// configMapWrites lists the writes of ConfigMaps in actions.
func configMapWrites(actions []k8stesting.Action) []string {
	var out []string
	for _, w := range writes(actions) {
		if strings.HasSuffix(w, " configmaps") {
			out = append(out, w)
		}
	}
	return out
}

func (f *fixture) dnsOptions() *JoinOptions {
	o := f.options()
	o.DNSZoneName = "example.com."
	return o
}

func wantOutput(t *testing.T, out string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(out, l) {
			t.Errorf("output lacks %q:\n%s", l, out)
		}
	}
}

func TestJoinAddsTheFederationToTheCorefile(t *testing.T) {
	f := newFixture(t).withClusterDNS(t, corednsConfigMap(kubeadmCorefile),
		node("a1", "us-central1-a", "us-central1"), node("a2", "us-central1-a", "us-central1"), node("b1", "us-central1-b", "us-central1"))
	if err := f.dnsOptions().Run(context.Background()); err != nil {
		t.Fatalf("join: %v\n%s", err, f.out.String())
	}
	if got := f.corefile(t); got != joinedCorefile {
		t.Errorf("Corefile:\n%s\nwant\n%s", got, joinedCorefile)
	}
	wantOutput(t, f.out.String(),
		"Cluster us-central1-a joined the federation",
		"Note: the nodes of us-central1-a are in zones us-central1-a (2 nodes), us-central1-b (1 node); the federation plugin takes one zone, so the Corefile names the most common, us-central1-a",
		"Updated the Corefile in ConfigMap kube-system/coredns of us-central1-a:\n         ready\n   +     federation cluster.local { # added by kubefed join\n",
		"CoreDNS in us-central1-a must run an image with the federation plugin (see docs/admin-guide.md)",
		"CoreDNS reloads the Corefile by itself (reload plugin)",
	)
	// The update was based on what was read.
	for _, a := range f.member.Actions() {
		if a.GetVerb() == "update" && a.GetResource().Resource == "configmaps" {
			if rv := a.(k8stesting.UpdateAction).GetObject().(*corev1.ConfigMap).ResourceVersion; rv != "7" {
				t.Errorf("update with resourceVersion %q, want the one read, 7", rv)
			}
		}
	}

	// Joining again: the cluster is joined and the Corefile up to date.
	f.member.ClearActions()
	f.out.Reset()
	if err := f.dnsOptions().Run(context.Background()); err != nil {
		t.Fatalf("second join: %v\n%s", err, f.out.String())
	}
	if w := writes(f.member.Actions()); len(w) > 0 {
		t.Errorf("second join wrote %v", w)
	}
	wantOutput(t, f.out.String(),
		"already joined to the federation (server https://10.0.0.1:6443); checking only its CoreDNS configuration",
		"The Corefile in ConfigMap kube-system/coredns of us-central1-a already has federation federation (example.com); unchanged")
}

func TestJoinOfAJoinedClusterAddsTheCorefileStanzaLater(t *testing.T) {
	f := newFixture(t).withClusterDNS(t, corednsConfigMap(kubeadmCorefile), node("a1", "us-central1-a", "us-central1"))
	if err := f.options().Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantOutput(t, f.out.String(), "Note: the cluster DNS of us-central1-a was left alone (no --dns-zone-name); to let its pods resolve federated Services as <service>.<namespace>.federation.svc.<cluster domain>, run kubefed join again with --dns-zone-name=")
	if got := f.corefile(t); got != kubeadmCorefile {
		t.Errorf("the Corefile changed without --dns-zone-name:\n%s", got)
	}
	f.member.ClearActions()
	o := f.dnsOptions()
	o.ServiceDNSSuffix = "svc.example.com"
	if err := o.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(joinedCorefile, "federation example.com", "federation svc.example.com", 1); f.corefile(t) != want {
		t.Errorf("Corefile:\n%s\nwant\n%s", f.corefile(t), want)
	}
	if w := writes(f.member.Actions()); len(w) != 1 || w[0] != "update configmaps" {
		t.Errorf("join of a joined cluster wrote %v, want only the ConfigMap", w)
	}
}

func TestJoinWithoutCoreDNSConfigMapIsANote(t *testing.T) {
	f := newFixture(t).withClusterDNS(t, node("a1", "us-central1-a", "us-central1"))
	if err := f.dnsOptions().Run(context.Background()); err != nil {
		t.Fatalf("join failed: %v", err)
	}
	wantOutput(t, f.out.String(),
		"Cluster us-central1-a joined the federation",
		"Note: there is no ConfigMap kube-system/coredns in us-central1-a, so the cluster DNS of us-central1-a was left alone",
		"    federation {\n        federation example.com\n        zone us-central1-a\n        region us-central1\n    }\n")
}

func TestJoinLeavesACorefileWithoutKubernetesAlone(t *testing.T) {
	stub := "example.org {\n    file db.example.org\n}\n"
	f := newFixture(t).withClusterDNS(t, corednsConfigMap(stub))
	if err := f.dnsOptions().Run(context.Background()); err != nil {
		t.Fatalf("join failed: %v", err)
	}
	if got := f.corefile(t); got != stub {
		t.Errorf("Corefile changed:\n%s", got)
	}
	wantOutput(t, f.out.String(),
		"has no server block with the kubernetes plugin, so the cluster DNS of us-central1-a was left alone",
		"Note: no node of us-central1-a has the label topology.kubernetes.io/zone, so the federation plugin's stanza has no zone line; the plugin needs the zone and the region to answer with a CNAME",
		"Note: no node of us-central1-a has the label topology.kubernetes.io/region")
}

func TestJoinWritesNoZoneForNodesWithoutLabels(t *testing.T) {
	f := newFixture(t).withClusterDNS(t, corednsConfigMap(kubeadmCorefile), node("a1", "", ""))
	if err := f.dnsOptions().Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := strings.NewReplacer("       zone us-central1-a # added by kubefed join\n", "", "       region us-central1 # added by kubefed join\n", "").Replace(joinedCorefile)
	if got := f.corefile(t); got != want {
		t.Errorf("Corefile:\n%s\nwant\n%s", got, want)
	}
	wantOutput(t, f.out.String(), `add "zone <zone>" to the stanza by hand`, `add "region <region>" to the stanza by hand`)
}

func TestJoinLeavesOutAZoneThePluginWouldRefuse(t *testing.T) {
	f := newFixture(t).withClusterDNS(t, corednsConfigMap(kubeadmCorefile), node("a1", "Zone_A", "US-Central1"))
	if err := f.dnsOptions().Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := strings.NewReplacer("       zone us-central1-a # added by kubefed join\n", "").Replace(joinedCorefile)
	if got := f.corefile(t); got != want {
		t.Errorf("Corefile:\n%s\nwant\n%s", got, want)
	}
	wantOutput(t, f.out.String(), `Note: the zone "Zone_A" of the nodes of us-central1-a is not a DNS label`)
}

func TestJoinDryRunShowsTheCorefileChange(t *testing.T) {
	f := newFixture(t).withClusterDNS(t, corednsConfigMap(kubeadmCorefile), node("a1", "us-central1-a", "us-central1"))
	o := f.dnsOptions()
	o.DryRun = true
	if err := o.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if w := writes(f.member.Actions()); len(w) > 0 {
		t.Errorf("dry run wrote %v", w)
	}
	wantOutput(t, f.out.String(),
		"Would change the Corefile in ConfigMap kube-system/coredns of us-central1-a:",
		"   +        federation example.com # added by kubefed join",
		"Dry run: nothing was changed.")
}

func TestJoinRetriesTheCorefileUpdateOnConflict(t *testing.T) {
	f := newFixture(t).withClusterDNS(t, corednsConfigMap(kubeadmCorefile), node("a1", "us-central1-a", "us-central1"))
	conflicts := 2
	f.member.PrependReactor("update", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		if conflicts == 0 {
			return false, nil, nil
		}
		conflicts--
		return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, CoreDNSConfigMap, errString("the object has been modified"))
	})
	if err := f.dnsOptions().Run(context.Background()); err != nil {
		t.Fatalf("join: %v\n%s", err, f.out.String())
	}
	if got := f.corefile(t); got != joinedCorefile {
		t.Errorf("Corefile:\n%s", got)
	}
	if n := len(configMapWrites(f.member.Actions())); n != 3 {
		t.Errorf("%d updates, want 3 (two conflicts, then success)", n)
	}
}

func TestJoinFailsOnACorefileItCannotWriteButStaysJoined(t *testing.T) {
	f := newFixture(t).withClusterDNS(t, corednsConfigMap(kubeadmCorefile), node("a1", "us-central1-a", "us-central1"))
	f.member.PrependReactor("update", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewInternalError(errString("etcd is down"))
	})
	err := f.dnsOptions().Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "etcd is down") || !strings.Contains(err.Error(), "Cluster us-central1-a is joined, but the federation plugin was not configured in its CoreDNS; run this command again") {
		t.Fatalf("got %v", err)
	}
	if _, err := f.fed.FederationV1beta1().Clusters().Get(context.Background(), "us-central1-a", metav1.GetOptions{}); err != nil {
		t.Errorf("the join was undone: %v", err)
	}
}

func TestJoinWithDNSChecksThePermissionsForIt(t *testing.T) {
	f := newFixture(t)
	f.denied["configmaps"] = true
	err := f.dnsOptions().Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "get configmaps in namespace kube-system, update configmaps in namespace kube-system") {
		t.Fatalf("got %v", err)
	}
}

func TestValidateDNSFlags(t *testing.T) {
	kc := clientcmdapi.NewConfig()
	for _, c := range []string{"federation-cluster", "us-central1-a"} {
		kc.Contexts[c] = &clientcmdapi.Context{Cluster: c}
	}
	for _, tc := range []struct {
		zone, suffix string
		want         string
	}{
		{"example.com", "", ""},
		{"example.com.", "svc.Example.com.", ""},
		{"", "", ""},
		{"Example_com", "", `--dns-zone-name "Example_com" is invalid`},
		{"", "example.com", "--service-dns-suffix needs --dns-zone-name"},
		{"example.com", "example.org", `--service-dns-suffix "example.org" is not in zone "example.com"`},
	} {
		o := NewJoinOptions(clioptions.IOStreams{})
		o.ClusterName, o.SecretName = "us-central1-a", "us-central1-a"
		o.HostClusterContext, o.ClusterContext = "federation-cluster", "us-central1-a"
		o.kubeconfig = clioptions.NewKubeconfig(kc, time.Second)
		o.DNSZoneName, o.ServiceDNSSuffix = tc.zone, tc.suffix
		err := o.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q %q: unexpected error %v", tc.zone, tc.suffix, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q %q: got %v, want %q", tc.zone, tc.suffix, err, tc.want)
		}
	}
}

func TestMostCommon(t *testing.T) {
	if got := mostCommon(map[string]int{"b": 2, "a": 2, "c": 1}); got != "a" {
		t.Errorf("tie: got %q, want a", got)
	}
	if got := mostCommon(nil); got != "" {
		t.Errorf("none: got %q", got)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
