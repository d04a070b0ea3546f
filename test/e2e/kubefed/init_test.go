package kubefed

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kfederation/federation/pkg/kubefed/initfed"
	"github.com/kfederation/federation/test/framework"
)

// cleanUpInit removes what kubefed init NAME put into member m.
func cleanUpInit(t *testing.T, m *framework.Member, name, namespace string) {
	t.Cleanup(func() {
		ctx := context.Background()
		_ = m.Client.CoreV1().Namespaces().Delete(ctx, namespace, metav1.DeleteOptions{})
		for _, n := range []string{"federation:" + name + ":controller-manager", "federation:" + name + ":apiserver-auth-delegator", "federation:" + name + ":controller-manager-auth-delegator"} {
			_ = m.Client.RbacV1().ClusterRoleBindings().Delete(ctx, n, metav1.DeleteOptions{})
		}
		_ = m.Client.RbacV1().ClusterRoles().Delete(ctx, "federation:"+name+":controller-manager", metav1.DeleteOptions{})
	})
}

// TestInitDryRunIsAcceptedByKubectl hands the manifests kubefed init prints
// to the real kubectl, which has the member's real kube-apiserver validate
// and admit every object without storing it.
func TestInitDryRunIsAcceptedByKubectl(t *testing.T) {
	m := fed.Member(memberA)
	const name, namespace = "dryfed", "kubefed-init-dry-run"
	ctx := context.Background()
	cleanUpInit(t, m, name, namespace)

	dnsConfig := filepath.Join(t.TempDir(), "coredns.yaml")
	if err := os.WriteFile(dnsConfig, []byte(`etcdEndpoints: ["http://etcd.dns:2379"]`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := kubefed(t, nil, "init", name, "--host-cluster-context="+memberA, "--federation-system-namespace="+namespace,
		"--dns-provider=coredns", "--dns-zone-name=example.com.", "--dns-provider-config="+dnsConfig,
		// --ha: the highly available control plane's manifests (three etcd
		// members, two replicas of each Deployment) pass the real
		// kube-apiserver's validation too; TestInitCreatesTheControlPlane
		// applies the single-replica ones for real.
		"--api-server-advertise-address=203.0.113.10", "--ha", "--dry-run")
	if r.err != nil {
		t.Fatalf("kubefed init --dry-run failed:\n%s", r)
	}
	objs, err := initfed.ParseObjects([]byte(r.stdout))
	if err != nil {
		t.Fatalf("dry run printed unparsable YAML: %v", err)
	}
	if len(objs) < 15 {
		t.Errorf("dry run printed only %d objects", len(objs))
	}

	// A server-side dry run does not create the namespace, so the objects
	// in it would be refused for a missing namespace, as they would not be
	// in a real apply (which creates the namespace first).
	if _, err := m.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kubectl := exec.Command(framework.Binary("kubectl"), "--kubeconfig="+fed.Kubeconfig, "--context="+memberA, "apply", "--dry-run=server", "-f", "-")
	kubectl.Stdin = strings.NewReader(r.stdout)
	out, err := kubectl.CombinedOutput()
	t.Logf("kubectl apply --dry-run=server:\n%s", out)
	if err != nil {
		t.Fatalf("kubectl apply --dry-run=server refused the manifests: %v", err)
	}
	if got := strings.Count(string(out), "(server dry run)"); got != len(objs) {
		t.Errorf("kubectl dry-ran %d objects, kubefed printed %d", got, len(objs))
	}
	// Nothing was stored.
	if _, err := m.Client.AppsV1().Deployments(namespace).Get(ctx, "federation-apiserver", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a dry run stored the federation-apiserver Deployment: %v", err)
	}
	if _, err := m.Client.RbacV1().ClusterRoles().Get(ctx, "federation:"+name+":controller-manager", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a dry run stored the controller manager's ClusterRole: %v", err)
	}
}

// TestInitCreatesTheControlPlane deploys a control plane into a member.
// The member's pods run on simulated nodes, so the federation-apiserver
// never answers: --wait=false.
func TestInitCreatesTheControlPlane(t *testing.T) {
	m := fed.Member(memberB)
	const name, namespace = "e2efed", "kubefed-init"
	ctx := context.Background()
	cleanUpInit(t, m, name, namespace)
	kubeconfig := copyKubeconfig(t)
	args := []string{"--kubeconfig=" + kubeconfig, "init", name, "--host-cluster-context=" + memberB, "--federation-system-namespace=" + namespace,
		"--api-server-service-type=NodePort", "--wait=false"}

	r := kubefed(t, nil, args...)
	mustSucceed(t, r, "Generated a new CA for federation e2efed", "Applied Namespace kubefed-init", "Applied StatefulSet kubefed-init/etcd",
		"Applied Deployment kubefed-init/federation-apiserver", "Applied Deployment kubefed-init/federation-controller-manager",
		"Added context e2efed")

	for what, get := range map[string]func(ctx context.Context) error{
		"etcd StatefulSet": func(ctx context.Context) error {
			_, err := m.Client.AppsV1().StatefulSets(namespace).Get(ctx, "etcd", metav1.GetOptions{})
			return err
		},
		"federation-apiserver Deployment": func(ctx context.Context) error {
			_, err := m.Client.AppsV1().Deployments(namespace).Get(ctx, "federation-apiserver", metav1.GetOptions{})
			return err
		},
		"federation-controller-manager Deployment": func(ctx context.Context) error {
			_, err := m.Client.AppsV1().Deployments(namespace).Get(ctx, "federation-controller-manager", metav1.GetOptions{})
			return err
		},
		"serving Secret": func(ctx context.Context) error {
			s, err := m.Client.CoreV1().Secrets(namespace).Get(ctx, "federation-apiserver-serving", metav1.GetOptions{})
			if err == nil && len(s.Data["tls.crt"]) == 0 {
				return fmt.Errorf("no certificate in it")
			}
			return err
		},
		"controller manager ClusterRoleBinding": func(ctx context.Context) error {
			_, err := m.Client.RbacV1().ClusterRoleBindings().Get(ctx, "federation:"+name+":controller-manager", metav1.GetOptions{})
			return err
		},
	} {
		if err := get(ctx); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	svc, err := m.Client.CoreV1().Services(namespace).Get(ctx, "federation-apiserver", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.Type != corev1.ServiceTypeNodePort || svc.Spec.Ports[0].NodePort == 0 {
		t.Errorf("service is %s with ports %v, want a NodePort", svc.Spec.Type, svc.Spec.Ports)
	}
	deploy, err := m.Client.AppsV1().Deployments(namespace).Get(ctx, "federation-apiserver", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var manager string
	for _, f := range deploy.ManagedFields {
		if f.Operation == metav1.ManagedFieldsOperationApply {
			manager = f.Manager
		}
	}
	if manager != initfed.FieldManager {
		t.Errorf("the Deployment's applied fields belong to %q, want %q", manager, initfed.FieldManager)
	}

	kc, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c := kc.Contexts[name]
	if c == nil || len(kc.AuthInfos[c.AuthInfo].ClientCertificateData) == 0 {
		t.Fatalf("no context %s with the admin's certificate in the kubeconfig", name)
	}
	if server := kc.Clusters[c.Cluster].Server; !strings.HasSuffix(server, fmt.Sprintf(":%d", svc.Spec.Ports[0].NodePort)) &&
		server != "https://federation-apiserver."+namespace+".svc:443" {
		t.Errorf("context %s points at %s; want a node's address with the node port %d", name, server, svc.Spec.Ports[0].NodePort)
	}

	// Running init again re-applies, with certificates of the same CA.
	caBefore, err := m.Client.CoreV1().Secrets(namespace).Get(ctx, "federation-ca", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r = kubefed(t, nil, args...)
	mustSucceed(t, r, "Using the CA of an earlier kubefed init", "Replaced context e2efed")
	caAfter, err := m.Client.CoreV1().Secrets(namespace).Get(ctx, "federation-ca", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(caBefore.Data["ca.crt"]) != string(caAfter.Data["ca.crt"]) {
		t.Error("a second kubefed init replaced the CA")
	}
}
