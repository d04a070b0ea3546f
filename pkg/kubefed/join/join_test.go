package join

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
	fedfake "github.com/kfederation/client-go/clientset/versioned/fake"

	"github.com/kfederation/federation/pkg/kubefed/clioptions"
)

const (
	memberServer = "https://10.0.0.1:6443"
	kubeconfigCA = "kubeconfig-ca"
	tokenCA      = "token-controller-ca"
	token        = "s3cret-token"
)

// fixture is a federation and a member made of fake clientsets. The
// member's token controller and authorizer are played by reactors.
type fixture struct {
	fed      *fedfake.Clientset
	fedKube  *k8sfake.Clientset
	member   *k8sfake.Clientset
	denied   map[string]bool // resources the member's user may not create
	noTokens bool            // the member's token controller is down
	out      bytes.Buffer
}

func newFixture(t *testing.T, fedObjects ...runtime.Object) *fixture {
	t.Helper()
	f := &fixture{
		fed:     fedfake.NewSimpleClientset(fedObjects...),
		fedKube: k8sfake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: federationv1beta1.FederationSystemNamespace}}),
		member:  k8sfake.NewClientset(),
		denied:  map[string]bool{},
	}
	f.member.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		review := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		review.Status.Allowed = !f.denied[review.Spec.ResourceAttributes.Resource]
		return true, review, nil
	})
	f.member.PrependReactor("create", "secrets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		s := a.(k8stesting.CreateAction).GetObject().(*corev1.Secret)
		if s.Type == corev1.SecretTypeServiceAccountToken && !f.noTokens {
			s.Data = map[string][]byte{corev1.ServiceAccountTokenKey: []byte(token), corev1.ServiceAccountRootCAKey: []byte(tokenCA)}
		}
		return false, nil, nil
	})
	return f
}

func (f *fixture) options() *JoinOptions {
	o := NewJoinOptions(clioptions.IOStreams{Out: &f.out, ErrOut: &f.out})
	o.ClusterName = "us-central1-a"
	o.HostClusterContext = "federation-cluster"
	o.ClusterContext = "us-central1-a"
	o.SecretName = "us-central1-a"
	o.FederationClient = f.fed
	o.FederationKube = f.fedKube
	o.MemberClient = f.member
	o.Federation = clioptions.Target{What: "the federation", Context: "federation-cluster", Server: "https://fed:443"}
	o.Member = clioptions.Target{What: "cluster us-central1-a", Context: "us-central1-a", Server: memberServer}
	o.MemberCAData = []byte(kubeconfigCA)
	return o
}

// writes lists the create, update, patch and delete actions on a fake.
func writes(actions []k8stesting.Action) []string {
	var out []string
	for _, a := range actions {
		switch a.GetVerb() {
		case "create", "update", "patch", "delete":
			if a.GetResource().Resource == "selfsubjectaccessreviews" {
				continue
			}
			out = append(out, a.GetVerb()+" "+a.GetResource().Resource)
		}
	}
	return out
}

func TestJoinCreatesMemberAndFederationObjects(t *testing.T) {
	f := newFixture(t)
	if err := f.options().Run(context.Background()); err != nil {
		t.Fatalf("join: %v\n%s", err, f.out.String())
	}
	ctx := context.Background()
	names := MemberObjectNames(DefaultFederationName, federationv1beta1.FederationSystemNamespace)
	ns, err := f.member.CoreV1().Namespaces().Get(ctx, names.Namespace, metav1.GetOptions{})
	if err != nil || ns.Labels[JoinedByLabel] != DefaultFederationName {
		t.Errorf("member namespace: %v, labels %v; want it labelled %s=%s", err, ns.GetLabels(), JoinedByLabel, DefaultFederationName)
	}
	if _, err := f.member.CoreV1().ServiceAccounts(names.Namespace).Get(ctx, "federation-controller-manager", metav1.GetOptions{}); err != nil {
		t.Errorf("service account: %v", err)
	}
	role, err := f.member.RbacV1().ClusterRoles().Get(ctx, names.ClusterRole, metav1.GetOptions{})
	if err != nil || !equality.Semantic.DeepEqual(role.Rules, MemberRules()) {
		t.Errorf("cluster role: %v, rules %v", err, role.GetObjectMeta())
	}
	binding, err := f.member.RbacV1().ClusterRoleBindings().Get(ctx, names.ClusterRoleBinding, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("cluster role binding: %v", err)
	}
	wantSubject := rbacv1.Subject{Kind: "ServiceAccount", Name: names.ServiceAccount, Namespace: names.Namespace}
	if binding.RoleRef.Name != names.ClusterRole || len(binding.Subjects) != 1 || binding.Subjects[0] != wantSubject {
		t.Errorf("binding refers to %v with subjects %v", binding.RoleRef, binding.Subjects)
	}
	tokenSecret, err := f.member.CoreV1().Secrets(names.Namespace).Get(ctx, names.TokenSecret, metav1.GetOptions{})
	if err != nil || tokenSecret.Type != corev1.SecretTypeServiceAccountToken || tokenSecret.Annotations[corev1.ServiceAccountNameKey] != names.ServiceAccount {
		t.Errorf("token secret: %v %+v", err, tokenSecret)
	}

	secret, err := f.fedKube.CoreV1().Secrets(federationv1beta1.FederationSystemNamespace).Get(ctx, "us-central1-a", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("federation secret: %v", err)
	}
	if string(secret.Data["token"]) != token || string(secret.Data["ca.crt"]) != kubeconfigCA {
		t.Errorf("federation secret data: token %q ca.crt %q; want the member's token and the kubeconfig's CA", secret.Data["token"], secret.Data["ca.crt"])
	}
	cluster, err := f.fed.FederationV1beta1().Clusters().Get(ctx, "us-central1-a", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("cluster: %v", err)
	}
	wantSpec := federationv1beta1.ClusterSpec{
		ServerAddressByClientCIDRs: []federationv1beta1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: memberServer}},
		SecretRef:                  &federationv1beta1.LocalObjectReference{Name: "us-central1-a"},
	}
	if !equality.Semantic.DeepEqual(cluster.Spec, wantSpec) {
		t.Errorf("cluster spec: got %+v, want %+v", cluster.Spec, wantSpec)
	}
	for _, line := range []string{
		"Created namespace federation-system in us-central1-a",
		"Created ServiceAccount federation-system/federation-controller-manager in us-central1-a",
		"Created ClusterRole federation-controller-manager in us-central1-a",
		"Created Secret federation-system/us-central1-a in the federation",
		"Cluster us-central1-a joined the federation",
	} {
		if !strings.Contains(f.out.String(), line) {
			t.Errorf("output lacks %q:\n%s", line, f.out.String())
		}
	}
}

func TestJoinTakesTheCAOfTheTokenSecretWhenTheKubeconfigHasNone(t *testing.T) {
	f := newFixture(t)
	o := f.options()
	o.MemberCAData = nil
	if err := o.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	secret, _ := f.fedKube.CoreV1().Secrets(federationv1beta1.FederationSystemNamespace).Get(context.Background(), "us-central1-a", metav1.GetOptions{})
	if got := string(secret.Data["ca.crt"]); got != tokenCA {
		t.Errorf("ca.crt = %q, want the token secret's %q", got, tokenCA)
	}
}

func TestJoinOfAJoinedClusterChangesNothing(t *testing.T) {
	existing := &federationv1beta1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: "us-central1-a"},
		Spec: federationv1beta1.ClusterSpec{ServerAddressByClientCIDRs: []federationv1beta1.ServerAddressByClientCIDR{
			// Written without the scheme and with a trailing slash: still the same server.
			{ClientCIDR: "0.0.0.0/0", ServerAddress: "10.0.0.1:6443/"},
		}},
	}
	f := newFixture(t, existing)
	if err := f.options().Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.out.String(), "already joined") {
		t.Errorf("output does not say the cluster is already joined:\n%s", f.out.String())
	}
	for name, actions := range map[string][]k8stesting.Action{"federation": f.fed.Actions(), "federation core": f.fedKube.Actions(), "member": f.member.Actions()} {
		if w := writes(actions); len(w) > 0 {
			t.Errorf("%s got writes %v", name, w)
		}
	}
}

func TestJoinRefusesWhatTheFederationKnowsOtherwise(t *testing.T) {
	cluster := func(name, server string) *federationv1beta1.Cluster {
		return &federationv1beta1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: federationv1beta1.ClusterSpec{
			ServerAddressByClientCIDRs: []federationv1beta1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: server}},
		}}
	}
	for _, tc := range []struct {
		name     string
		existing *federationv1beta1.Cluster
		want     string
	}{
		{"name taken by another server", cluster("us-central1-a", "https://10.9.9.9:6443"), `cluster name "us-central1-a" is already registered in the federation for server https://10.9.9.9:6443`},
		{"server joined under another name", cluster("old-name", memberServer), "already joined to the federation as cluster old-name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.existing)
			err := f.options().Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if w := writes(f.member.Actions()); len(w) > 0 {
				t.Errorf("member got writes %v", w)
			}
		})
	}
}

func TestJoinNamesTheMissingPermissionsBeforeCreatingAnything(t *testing.T) {
	f := newFixture(t)
	f.denied["clusterroles"] = true
	f.denied["clusterrolebindings"] = true
	err := f.options().Run(context.Background())
	if err == nil {
		t.Fatal("join succeeded without permission to create cluster roles")
	}
	for _, want := range []string{`context "us-central1-a" may not create clusterroles.rbac.authorization.k8s.io, create clusterrolebindings.rbac.authorization.k8s.io`, "cluster-admin"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if w := writes(f.member.Actions()); len(w) > 0 {
		t.Errorf("member got writes %v", w)
	}
}

func TestJoinReportsAnUnreachableMember(t *testing.T) {
	f := newFixture(t)
	f.member.PrependReactor("get", "version", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	})
	err := f.options().Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot reach cluster us-central1-a at "+memberServer) {
		t.Fatalf("got %v, want an error saying the member cannot be reached", err)
	}
}

func TestJoinRollsBackWhenTheMemberRefusesHalfway(t *testing.T) {
	f := newFixture(t)
	f.member.PrependReactor("create", "clusterrolebindings", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"}, "federation-controller-manager", errors.New("attempting to grant RBAC permissions not currently held"))
	})
	err := f.options().Run(context.Background())
	if err == nil {
		t.Fatal("join succeeded although the binding was refused")
	}
	for _, want := range []string{"attempting to grant RBAC permissions not currently held", "escalate", "rolled back everything"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	ctx := context.Background()
	if _, err := f.member.CoreV1().Namespaces().Get(ctx, federationv1beta1.FederationSystemNamespace, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace left behind: %v", err)
	}
	if _, err := f.member.RbacV1().ClusterRoles().Get(ctx, "federation-controller-manager", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("cluster role left behind: %v", err)
	}
	if _, err := f.member.CoreV1().ServiceAccounts(federationv1beta1.FederationSystemNamespace).Get(ctx, "federation-controller-manager", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("service account left behind: %v", err)
	}
	if !strings.Contains(f.out.String(), "Rolled back: deleted ClusterRole federation-controller-manager in us-central1-a") {
		t.Errorf("output does not report the rollback:\n%s", f.out.String())
	}
}

func TestJoinPrintsWhatItCouldNotRollBack(t *testing.T) {
	f := newFixture(t)
	f.fed.PrependReactor("create", "clusters", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewInternalError(errors.New("etcd is down"))
	})
	f.member.PrependReactor("delete", "clusterroles", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewInternalError(errors.New("member is down too"))
	})
	err := f.options().Run(context.Background())
	if err == nil {
		t.Fatal("join succeeded although the Cluster was refused")
	}
	want := "kubectl --context=us-central1-a delete clusterrole federation-controller-manager"
	if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "delete namespace") {
		t.Errorf("error should list exactly what is left (%q):\n%v", want, err)
	}
	if _, err := f.fedKube.CoreV1().Secrets(federationv1beta1.FederationSystemNamespace).Get(context.Background(), "us-central1-a", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("federation secret left behind: %v", err)
	}
}

func TestJoinGivesUpOnAMissingTokenAndRollsBack(t *testing.T) {
	f := newFixture(t)
	f.noTokens = true
	o := f.options()
	o.TokenTimeout = 300 * time.Millisecond
	err := o.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "--service-account-private-key-file") || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("got %v, want a timeout naming the token controller, rolled back", err)
	}
	if _, err := f.member.CoreV1().Namespaces().Get(context.Background(), federationv1beta1.FederationSystemNamespace, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace left behind: %v", err)
	}
}

func TestJoinDryRunChangesNothing(t *testing.T) {
	f := newFixture(t)
	o := f.options()
	o.DryRun = true
	if err := o.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, actions := range map[string][]k8stesting.Action{"federation": f.fed.Actions(), "federation core": f.fedKube.Actions(), "member": f.member.Actions()} {
		if w := writes(actions); len(w) > 0 {
			t.Errorf("%s got writes %v", name, w)
		}
	}
	for _, want := range []string{"Would create namespace federation-system in us-central1-a", "Would create ClusterRole federation-controller-manager", "Would create Cluster us-central1-a", "nothing was changed"} {
		if !strings.Contains(f.out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, f.out.String())
		}
	}
}

func TestJoinReusesItsOwnLeftoversButNotOthersObjects(t *testing.T) {
	names := MemberObjectNames(DefaultFederationName, federationv1beta1.FederationSystemNamespace)
	sa := func(labels map[string]string) *corev1.ServiceAccount {
		return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: names.ServiceAccount, Namespace: names.Namespace, Labels: labels}}
	}
	t.Run("leftover of an earlier join", func(t *testing.T) {
		f := newFixture(t)
		_ = f.member.Tracker().Add(sa(map[string]string{JoinedByLabel: DefaultFederationName}))
		if err := f.options().Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(f.out.String(), "Using the existing ServiceAccount") {
			t.Errorf("output does not say the service account was reused:\n%s", f.out.String())
		}
	})
	t.Run("someone else's service account", func(t *testing.T) {
		f := newFixture(t)
		_ = f.member.Tracker().Add(sa(nil))
		err := f.options().Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), "was not created by kubefed join") {
			t.Fatalf("got %v, want a refusal to take over the service account", err)
		}
		// The namespace this run created is rolled back; the account stays.
		if _, err := f.member.CoreV1().ServiceAccounts(names.Namespace).Get(context.Background(), names.ServiceAccount, metav1.GetOptions{}); err != nil {
			t.Errorf("the existing service account was touched: %v", err)
		}
	})
}

func TestMemberRulesGrantExactlyWhatTheControllersNeed(t *testing.T) {
	sync := []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	want := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"configmaps", "namespaces", "secrets", "serviceaccounts", "services"}, Verbs: sync},
		{APIGroups: []string{"apps"}, Resources: []string{"daemonsets", "deployments", "replicasets"}, Verbs: sync},
		{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: sync},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingressclasses", "ingresses"}, Verbs: sync},
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterrolebindings", "clusterroles", "rolebindings", "roles"}, Verbs: sync},
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles", "roles"}, Verbs: []string{"bind", "escalate"}},
		{APIGroups: []string{""}, Resources: []string{"nodes", "pods"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"get", "list", "watch"}},
		{NonResourceURLs: []string{"/healthz", "/livez", "/readyz"}, Verbs: []string{"get"}},
	}
	got := MemberRules()
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("MemberRules() =\n%v\nwant\n%v", got, want)
	}
	for _, r := range got {
		for _, field := range [][]string{r.APIGroups, r.Resources, r.Verbs, r.NonResourceURLs} {
			if slices.Contains(field, "*") {
				t.Errorf("rule %v grants a wildcard", r)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	kc := clientcmdapi.NewConfig()
	for _, c := range []string{"federation-cluster", "us-central1-a", "europe-west1-b"} {
		kc.Contexts[c] = &clientcmdapi.Context{Cluster: c}
	}
	for _, tc := range []struct {
		name   string
		modify func(o *JoinOptions)
		want   []string // substrings of the error; none means valid
	}{
		{"valid", func(*JoinOptions) {}, nil},
		{"upper case name", func(o *JoinOptions) { o.ClusterName = "US-Central" }, []string{`cluster name "US-Central" is invalid`}},
		{"too long name", func(o *JoinOptions) { o.ClusterName = strings.Repeat("a", 64) }, []string{"is invalid", "63"}},
		{"dotted name", func(o *JoinOptions) { o.ClusterName = "a.b" }, []string{`cluster name "a.b" is invalid`}},
		{"unknown member context", func(o *JoinOptions) { o.ClusterContext = "asia-east1-a" },
			[]string{`--cluster-context=asia-east1-a: no context "asia-east1-a"`, "europe-west1-b, federation-cluster, us-central1-a"}},
		{"no host context", func(o *JoinOptions) { o.HostClusterContext = "" }, []string{"--host-cluster-context is required"}},
		{"bad federation name", func(o *JoinOptions) { o.FederationName = "Fed" }, []string{`--federation-name "Fed" is invalid`}},
		{"zero token timeout", func(o *JoinOptions) { o.TokenTimeout = 0 }, []string{"--token-timeout must be positive"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := NewJoinOptions(clioptions.IOStreams{})
			o.ClusterName, o.SecretName = "us-central1-a", "us-central1-a"
			o.HostClusterContext, o.ClusterContext = "federation-cluster", "us-central1-a"
			o.kubeconfig = clioptions.NewKubeconfig(kc, time.Second)
			tc.modify(o)
			err := o.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestSameServer(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"https://10.0.0.1:6443", "10.0.0.1:6443", true},
		{"https://api.example.com/", "https://API.example.com:443", true},
		{"https://10.0.0.1:6443", "https://10.0.0.1:6444", false},
		{"http://10.0.0.1", "https://10.0.0.1", false},
	} {
		if got := SameServer(tc.a, tc.b); got != tc.same {
			t.Errorf("SameServer(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}

func ExampleKubectl() {
	fmt.Println(Kubectl("", "us-central1-a"))
	fmt.Println(Kubectl("/tmp/kubeconfig", "federation-cluster"))
	// Output:
	// kubectl --context=us-central1-a
	// kubectl --kubeconfig=/tmp/kubeconfig --context=federation-cluster
}

// FuzzSameServer checks that comparing user-given server addresses is an
// equivalence and never panics.
func FuzzSameServer(f *testing.F) {
	for _, s := range []string{"https://10.0.0.1:6443", "10.0.0.1:6443/", "HTTPS://api.example.com:443", "", "://", "http://[::1]:80"} {
		f.Add(s, "https://10.0.0.1:6443")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if !SameServer(a, a) {
			t.Errorf("SameServer(%q, %q) is false", a, a)
		}
		if SameServer(a, b) != SameServer(b, a) {
			t.Errorf("SameServer is not symmetric for %q, %q", a, b)
		}
	})
}

// TestJoinWaitsForANamespaceBeingDeleted: right after an unjoin, the
// member's namespace is still terminating; join waits until it is gone
// (up to --namespace-timeout) instead of failing.
func TestJoinWaitsForANamespaceBeingDeleted(t *testing.T) {
	names := MemberObjectNames(DefaultFederationName, federationv1beta1.FederationSystemNamespace)
	for _, tc := range []struct {
		name    string
		looks   int // Gets that still find it terminating; -1: forever
		wantErr string
	}{
		{name: "gone soon", looks: 2},
		{name: "never gone", looks: -1, wantErr: "is still being deleted after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			left := tc.looks
			f.member.PrependReactor("get", "namespaces", func(a k8stesting.Action) (bool, runtime.Object, error) {
				if a.(k8stesting.GetAction).GetName() != names.Namespace || left == 0 {
					return false, nil, nil
				}
				if left > 0 {
					left--
				}
				now := metav1.Now()
				return true, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: names.Namespace, DeletionTimestamp: &now}}, nil
			})
			o := f.options()
			o.NamespaceTimeout = 2 * time.Second
			err := o.Run(context.Background())
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("join: %v\n%s", err, f.out.String())
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("join = %v, want an error saying %q", err, tc.wantErr)
			}
			if !strings.Contains(f.out.String(), "Waiting for namespace "+names.Namespace) {
				t.Errorf("join did not say it waits:\n%s", f.out.String())
			}
			if tc.wantErr == "" {
				if _, err := f.member.CoreV1().Namespaces().Get(context.Background(), names.Namespace, metav1.GetOptions{}); err != nil {
					t.Errorf("the namespace was not created after the wait: %v", err)
				}
			}
		})
	}
}
