package kubefed

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"

	"github.com/kfederation/federation/pkg/kubefed/join"
	"github.com/kfederation/federation/test/framework"
)

const fedContext = framework.FederationContext

var names = join.MemberObjectNames(join.DefaultFederationName, federationv1beta1.FederationSystemNamespace)

// clusterReady says whether the Cluster reports Ready=True.
func clusterReady(ctx context.Context, name string) error {
	fc, err := fed.FederationClient()
	if err != nil {
		return err
	}
	c, err := fc.FederationV1beta1().Clusters().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	for _, cond := range c.Status.Conditions {
		if cond.Type == federationv1beta1.ClusterReady {
			if cond.Status == federationv1beta1.ConditionTrue {
				return nil
			}
			return fmt.Errorf("Ready=%s %s: %s", cond.Status, cond.Reason, cond.Message)
		}
	}
	return fmt.Errorf("no Ready condition yet")
}

// noFederationSystem waits until the member has no federation-system
// namespace, e.g. after unjoin or a rolled back join deleted it.
func noFederationSystem(t *testing.T, m *framework.Member) {
	t.Helper()
	framework.Eventually(t, 90*time.Second, "namespace federation-system gone from "+m.Name, func(ctx context.Context) error {
		_, err := m.Client.CoreV1().Namespaces().Get(ctx, names.Namespace, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there: %v", err)
	})
}

// assertNothingJoined checks that neither side has anything of a join of m.
func assertNothingJoined(t *testing.T, m *framework.Member) {
	t.Helper()
	ctx := context.Background()
	fc, err := fed.FederationClient()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fc.FederationV1beta1().Clusters().Get(ctx, m.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Cluster %s exists in the federation: %v", m.Name, err)
	}
	if _, err := fed.Client.CoreV1().Secrets("federation-system").Get(ctx, m.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Secret federation-system/%s exists in the federation: %v", m.Name, err)
	}
	if _, err := m.Client.RbacV1().ClusterRoles().Get(ctx, names.ClusterRole, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ClusterRole %s exists in %s: %v", names.ClusterRole, m.Name, err)
	}
	if _, err := m.Client.RbacV1().ClusterRoleBindings().Get(ctx, names.ClusterRoleBinding, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ClusterRoleBinding %s exists in %s: %v", names.ClusterRoleBinding, m.Name, err)
	}
	// In a namespace being deleted, objects may linger for a moment.
	sa, err := m.Client.CoreV1().ServiceAccounts(names.Namespace).Get(ctx, names.ServiceAccount, metav1.GetOptions{})
	if err == nil && sa.DeletionTimestamp == nil {
		t.Errorf("ServiceAccount %s/%s exists in %s", names.Namespace, names.ServiceAccount, m.Name)
	}
	token, err := m.Client.CoreV1().Secrets(names.Namespace).Get(ctx, names.TokenSecret, metav1.GetOptions{})
	if err == nil && token.DeletionTimestamp == nil {
		t.Errorf("Secret %s/%s exists in %s", names.Namespace, names.TokenSecret, m.Name)
	}
}

// limitedUser writes a kubeconfig with context "limited" for a user of
// member m that has only the given rules there.
func limitedUser(t *testing.T, m *framework.Member, rules []rbacv1.PolicyRule) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cert, key, err := fed.PKI.CA.IssueClient(dir, "limited", "kubefed-e2e-limited")
	if err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "kubefed-e2e-limited"}, Rules: rules}
	_ = m.Client.RbacV1().ClusterRoles().Delete(ctx, role.Name, metav1.DeleteOptions{})
	if _, err := m.Client.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "kubefed-e2e-limited"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "kubefed-e2e-limited"}},
	}
	if _, err := m.Client.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = m.Client.RbacV1().ClusterRoleBindings().Delete(context.Background(), binding.Name, metav1.DeleteOptions{})
		_ = m.Client.RbacV1().ClusterRoles().Delete(context.Background(), role.Name, metav1.DeleteOptions{})
	})
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["limited"] = &clientcmdapi.Cluster{Server: m.Endpoint.Server, CertificateAuthority: fed.PKI.CA.CertFile}
	cfg.AuthInfos["limited"] = &clientcmdapi.AuthInfo{ClientCertificate: cert, ClientKey: key}
	cfg.Contexts["limited"] = &clientcmdapi.Context{Cluster: "limited", AuthInfo: "limited"}
	return writeKubeconfig(t, cfg)
}

// manage are the verbs join's preflight checks for, on what join creates.
var manage = []string{"get", "create", "delete"}

func TestJoinErrors(t *testing.T) {
	m := fed.Member(memberB)

	t.Run("invalid cluster name", func(t *testing.T) {
		r := kubefed(t, nil, "join", "Europe_West", "--host-cluster-context="+fedContext, "--cluster-context="+memberB)
		mustFail(t, r, `cluster name "Europe_West" is invalid`, "RFC 1123")
	})

	t.Run("unknown context", func(t *testing.T) {
		r := kubefed(t, nil, "join", "asia-east1-a", "--host-cluster-context="+fedContext)
		mustFail(t, r, `--cluster-context=asia-east1-a: no context "asia-east1-a"`, "the contexts there are: europe-west1-b, federation-cluster, us-central1-a")
	})

	t.Run("federation not reachable", func(t *testing.T) {
		port, err := framework.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		cfg := clientcmdapi.NewConfig()
		cfg.Clusters["gone"] = &clientcmdapi.Cluster{Server: fmt.Sprintf("https://127.0.0.1:%d", port), CertificateAuthority: fed.PKI.CA.CertFile}
		cfg.AuthInfos["gone"] = &clientcmdapi.AuthInfo{Token: "unused"}
		cfg.Contexts["dead-federation"] = &clientcmdapi.Context{Cluster: "gone", AuthInfo: "gone"}
		r := kubefed(t, []string{writeKubeconfig(t, cfg)}, "join", memberB, "--host-cluster-context=dead-federation")
		mustFail(t, r, "cannot reach the federation at https://127.0.0.1:", `(context "dead-federation")`, "connection refused")
	})

	t.Run("member not reachable", func(t *testing.T) {
		// A server that accepts connections and never answers, as a hung
		// or firewalled API server does: join must give up quickly.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		cfg := clientcmdapi.NewConfig()
		cfg.Clusters["hung"] = &clientcmdapi.Cluster{Server: "https://" + l.Addr().String(), CertificateAuthority: fed.PKI.CA.CertFile}
		cfg.AuthInfos["hung"] = &clientcmdapi.AuthInfo{Token: "unused"}
		cfg.Contexts["hung"] = &clientcmdapi.Context{Cluster: "hung", AuthInfo: "hung"}
		r := kubefed(t, []string{writeKubeconfig(t, cfg)}, "--request-timeout=2s", "join", "hung", "--host-cluster-context="+fedContext)
		// The timeout surfaces as "Client.Timeout exceeded" or "context
		// deadline exceeded" depending on which fires first; the bound on
		// the elapsed time below is what matters.
		mustFail(t, r, "cannot reach cluster hung at https://"+l.Addr().String(), "exceeded")
		if r.elapsed > 20*time.Second {
			t.Errorf("join took %s to report an unreachable member", r.elapsed)
		}
	})

	t.Run("missing permissions", func(t *testing.T) {
		kc := limitedUser(t, m, []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"namespaces", "serviceaccounts", "secrets"}, Verbs: manage},
		})
		r := kubefed(t, []string{kc}, "join", memberB, "--host-cluster-context="+fedContext, "--cluster-context=limited")
		mustFail(t, r, `the user of context "limited" may not create clusterroles.rbac.authorization.k8s.io, create clusterrolebindings.rbac.authorization.k8s.io in cluster europe-west1-b`, "cluster-admin")
		assertNothingJoined(t, m)
		if _, err := m.Client.CoreV1().Namespaces().Get(context.Background(), names.Namespace, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("namespace created although join refused to start: %v", err)
		}
	})

	t.Run("refused halfway is rolled back", func(t *testing.T) {
		// This user may create everything join creates, but does not hold
		// the permissions the ClusterRole grants, so the member refuses the
		// role after the namespace and the ServiceAccount exist.
		kc := limitedUser(t, m, []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"namespaces", "serviceaccounts", "secrets"}, Verbs: manage},
			{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles", "clusterrolebindings"}, Verbs: manage},
		})
		r := kubefed(t, []string{kc}, "join", memberB, "--host-cluster-context="+fedContext, "--cluster-context=limited")
		mustFail(t, r, "attempting to grant RBAC permissions not currently held", "escalate", "rolled back everything it had created")
		mustPrint(t, r, "Created namespace federation-system in europe-west1-b",
			"Rolled back: deleted ServiceAccount federation-system/federation-controller-manager in europe-west1-b",
			"Rolled back: deleted namespace federation-system in europe-west1-b")
		assertNothingJoined(t, m)
		noFederationSystem(t, m)
	})
}

func TestJoinAndUnjoin(t *testing.T) {
	ctx := context.Background()
	a, b := fed.Member(memberA), fed.Member(memberB)
	fc, err := fed.FederationClient()
	if err != nil {
		t.Fatal(err)
	}

	// Created before any cluster is joined: a joining cluster gets it.
	const ns = "kubefed-e2e"
	if _, err := fed.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "before-join", Namespace: ns}, Data: map[string]string{"k": "v"}}
	if _, err := fed.Client.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	configMapIn := func(m *framework.Member) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			_, err := m.Client.CoreV1().ConfigMaps(ns).Get(ctx, cm.Name, metav1.GetOptions{})
			return err
		}
	}
	// A cluster-scoped kind other than Namespace: what join grants covers
	// it too.
	class := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "kubefed-e2e"}, Spec: networkingv1.IngressClassSpec{Controller: "example.com/kubefed-e2e"}}
	if _, err := fed.Client.NetworkingV1().IngressClasses().Create(ctx, class, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ingressClassIn := func(m *framework.Member) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			_, err := m.Client.NetworkingV1().IngressClasses().Get(ctx, class.Name, metav1.GetOptions{})
			return err
		}
	}

	r := kubefed(t, nil, "join", memberA, "--host-cluster-context="+fedContext)
	mustSucceed(t, r,
		"Created namespace federation-system in us-central1-a",
		"Created ServiceAccount federation-system/federation-controller-manager in us-central1-a",
		"Created ClusterRole federation-controller-manager in us-central1-a",
		"Created ClusterRoleBinding federation-controller-manager in us-central1-a",
		"Created Secret federation-system/us-central1-a in the federation",
		"Created Cluster us-central1-a (server "+a.Endpoint.Server+") in the federation",
		"Cluster us-central1-a joined the federation")
	framework.Eventually(t, 60*time.Second, "cluster "+memberA+" Ready", func(ctx context.Context) error { return clusterReady(ctx, memberA) })
	framework.Eventually(t, 60*time.Second, "ConfigMap in "+memberA, configMapIn(a))
	framework.Eventually(t, 60*time.Second, "IngressClass in "+memberA, ingressClassIn(a))

	t.Run("second join changes nothing", func(t *testing.T) {
		before, err := fc.FederationV1beta1().Clusters().Get(ctx, memberA, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		secretBefore, err := fed.Client.CoreV1().Secrets("federation-system").Get(ctx, memberA, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r := kubefed(t, nil, "join", memberA, "--host-cluster-context="+fedContext)
		mustSucceed(t, r, "Cluster us-central1-a is already joined to the federation", "nothing to do")
		after, _ := fc.FederationV1beta1().Clusters().Get(ctx, memberA, metav1.GetOptions{})
		secretAfter, _ := fed.Client.CoreV1().Secrets("federation-system").Get(ctx, memberA, metav1.GetOptions{})
		if before.Generation != after.Generation || secretBefore.ResourceVersion != secretAfter.ResourceVersion {
			t.Errorf("second join changed the Cluster (generation %d -> %d) or its Secret (%s -> %s)", before.Generation, after.Generation, secretBefore.ResourceVersion, secretAfter.ResourceVersion)
		}
	})

	t.Run("name registered for another server", func(t *testing.T) {
		r := kubefed(t, nil, "join", memberA, "--host-cluster-context="+fedContext, "--cluster-context="+memberB)
		mustFail(t, r, `cluster name "us-central1-a" is already registered in the federation for server `+a.Endpoint.Server+", not "+b.Endpoint.Server)
		assertNothingJoined(t, b)
	})

	t.Run("dry run changes nothing", func(t *testing.T) {
		r := kubefed(t, nil, "join", memberB, "--host-cluster-context="+fedContext, "--dry-run")
		mustSucceed(t, r, "Would create namespace federation-system in europe-west1-b", "Would create ClusterRole federation-controller-manager in europe-west1-b",
			"Would create Cluster europe-west1-b", "Dry run: nothing was changed.")
		assertNothingJoined(t, b)
		if _, err := b.Client.CoreV1().Namespaces().Get(ctx, names.Namespace, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("dry run created namespace federation-system: %v", err)
		}
	})

	r = kubefed(t, nil, "join", memberB, "--host-cluster-context="+fedContext, "--cluster-context="+memberB)
	mustSucceed(t, r, "Cluster europe-west1-b joined the federation")
	framework.Eventually(t, 60*time.Second, "cluster "+memberB+" Ready", func(ctx context.Context) error { return clusterReady(ctx, memberB) })
	framework.Eventually(t, 60*time.Second, "ConfigMap in "+memberB, configMapIn(b))
	framework.Eventually(t, 60*time.Second, "IngressClass in "+memberB, ingressClassIn(b))

	t.Run("unjoin leaves propagated objects by default", func(t *testing.T) {
		r := kubefed(t, nil, "unjoin", memberA, "--host-cluster-context="+fedContext)
		mustSucceed(t, r,
			"Deleted cluster us-central1-a from the federation",
			"Deleted Secret federation-system/us-central1-a from the federation",
			"Deleted ClusterRoleBinding federation-controller-manager from us-central1-a",
			"Deleted ClusterRole federation-controller-manager from us-central1-a",
			"Deleted ServiceAccount federation-system/federation-controller-manager from us-central1-a",
			"Deleted namespace federation-system from us-central1-a",
			`objects managed by federation "federation" in us-central1-a`, "they keep running")
		assertNothingJoined(t, a)
		noFederationSystem(t, a)
		if err := configMapIn(a)(ctx); err != nil {
			t.Errorf("the propagated ConfigMap is gone from %s although --delete-member-objects was not given: %v", memberA, err)
		}
	})

	t.Run("unjoin deletes propagated objects when asked", func(t *testing.T) {
		r := kubefed(t, nil, "unjoin", memberB, "--host-cluster-context="+fedContext, "--delete-member-objects=true")
		mustSucceed(t, r, "Deleted cluster europe-west1-b from the federation", `objects managed by federation "federation" from europe-west1-b`)
		assertNothingJoined(t, b)
		noFederationSystem(t, b)
		framework.Eventually(t, 60*time.Second, "ConfigMap deleted from "+memberB, func(ctx context.Context) error {
			if err := configMapIn(b)(ctx); !apierrors.IsNotFound(err) {
				return fmt.Errorf("still there: %v", err)
			}
			return nil
		})
		framework.Eventually(t, 60*time.Second, "IngressClass deleted from "+memberB, func(ctx context.Context) error {
			if err := ingressClassIn(b)(ctx); !apierrors.IsNotFound(err) {
				return fmt.Errorf("still there: %v", err)
			}
			return nil
		})
	})

	// Leave member A as the other tests expect to find it: with nothing of
	// this test.
	_ = fed.Client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	_ = a.Client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	_ = fed.Client.NetworkingV1().IngressClasses().Delete(ctx, class.Name, metav1.DeleteOptions{})
	_ = a.Client.NetworkingV1().IngressClasses().Delete(ctx, class.Name, metav1.DeleteOptions{})
}
