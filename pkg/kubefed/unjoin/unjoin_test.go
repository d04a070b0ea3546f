package unjoin

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
	k8stesting "k8s.io/client-go/testing"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
	fedfake "github.com/kfederation/client-go/clientset/versioned/fake"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/federatedtypes"
	"github.com/kfederation/federation/pkg/kubefed/clioptions"
	"github.com/kfederation/federation/pkg/kubefed/corefile"
	"github.com/kfederation/federation/pkg/kubefed/join"
)

const memberServer = "https://10.0.0.1:6443"

var (
	names  = join.MemberObjectNames(join.DefaultFederationName, federationv1beta1.FederationSystemNamespace)
	joined = map[string]string{join.JoinedByLabel: join.DefaultFederationName}
)

// fixture is a federation and a member in the state a successful join
// leaves, plus what the federation propagated: namespace app with a
// ConfigMap, the adopted namespace default, and an IngressClass default.
type fixture struct {
	fed       *fedfake.Clientset
	fedKube   *k8sfake.Clientset
	member    *k8sfake.Clientset
	memberDyn *dynamicfake.FakeDynamicClient
	out       bytes.Buffer
}

func joinedObjects() []runtime.Object {
	return []runtime.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: names.Namespace, Labels: joined}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: names.ServiceAccount, Namespace: names.Namespace, Labels: joined}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: names.Namespace}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: names.TokenSecret, Namespace: names.Namespace, Labels: joined}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: names.ClusterRole, Labels: joined}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: names.ClusterRoleBinding, Labels: joined}},
	}
}

func newFixture(t *testing.T, member ...runtime.Object) *fixture {
	t.Helper()
	cluster := &federationv1beta1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: "us-central1-a"},
		Spec: federationv1beta1.ClusterSpec{
			ServerAddressByClientCIDRs: []federationv1beta1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: memberServer}},
			SecretRef:                  &federationv1beta1.LocalObjectReference{Name: "creds-us"},
		},
	}
	managed := map[string]string{clusterclient.ManagedByLabel: join.DefaultFederationName}
	listKinds := map[schema.GroupVersionResource]string{}
	for _, a := range federatedtypes.All() {
		listKinds[a.GVR] = a.Kind + "List"
	}
	return &fixture{
		fed: fedfake.NewSimpleClientset(cluster),
		fedKube: k8sfake.NewClientset(
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds-us", Namespace: federationv1beta1.FederationSystemNamespace}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "us-central1-a", Namespace: federationv1beta1.FederationSystemNamespace}},
		),
		member: k8sfake.NewClientset(member...),
		memberDyn: dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme.Scheme, listKinds,
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app", Labels: managed}},
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default", Labels: managed}},
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "members-own"}},
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: "app", Labels: managed}},
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "local", Namespace: "app"}},
			// Cluster-scoped, and named like a namespace the member keeps.
			&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "default", Labels: managed}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}},
		),
	}
}

func (f *fixture) options() *UnjoinOptions {
	o := NewUnjoinOptions(clioptions.IOStreams{Out: &f.out, ErrOut: &f.out})
	o.ClusterName, o.SecretName = "us-central1-a", "us-central1-a"
	o.HostClusterContext, o.ClusterContext = "federation-cluster", "us-central1-a"
	o.FederationClient, o.FederationKube = f.fed, f.fedKube
	o.MemberClient, o.MemberDynamic = f.member, f.memberDyn
	o.Federation = clioptions.Target{What: "the federation", Context: "federation-cluster", Server: "https://fed"}
	o.Member = clioptions.Target{What: "cluster us-central1-a", Context: "us-central1-a", Server: memberServer}
	return o
}

func (f *fixture) exists(t *testing.T, get func(context.Context) error) bool {
	t.Helper()
	err := get(context.Background())
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

func (f *fixture) dynExists(t *testing.T, resource, namespace, name string) bool {
	t.Helper()
	_, err := f.memberDyn.Resource(corev1.SchemeGroupVersion.WithResource(resource)).Namespace(namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

func TestUnjoinRemovesWhatJoinCreatedAndLeavesPropagatedObjects(t *testing.T) {
	f := newFixture(t, joinedObjects()...)
	if err := f.options().Run(context.Background()); err != nil {
		t.Fatalf("unjoin: %v\n%s", err, f.out.String())
	}
	ctx := context.Background()
	if _, err := f.fed.FederationV1beta1().Clusters().Get(ctx, "us-central1-a", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("cluster still there: %v", err)
	}
	if _, err := f.fedKube.CoreV1().Secrets(federationv1beta1.FederationSystemNamespace).Get(ctx, "creds-us", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the secret the cluster referred to is still there: %v", err)
	}
	// Not referred to and not labelled by join: someone else's.
	if _, err := f.fedKube.CoreV1().Secrets(federationv1beta1.FederationSystemNamespace).Get(ctx, "us-central1-a", metav1.GetOptions{}); err != nil {
		t.Errorf("an unrelated secret was deleted: %v", err)
	}
	core, rbac := f.member.CoreV1(), f.member.RbacV1()
	for what, get := range map[string]func(context.Context) error{
		"namespace": func(ctx context.Context) error {
			_, err := core.Namespaces().Get(ctx, names.Namespace, metav1.GetOptions{})
			return err
		},
		"service account": func(ctx context.Context) error {
			_, err := core.ServiceAccounts(names.Namespace).Get(ctx, names.ServiceAccount, metav1.GetOptions{})
			return err
		},
		"token secret": func(ctx context.Context) error {
			_, err := core.Secrets(names.Namespace).Get(ctx, names.TokenSecret, metav1.GetOptions{})
			return err
		},
		"cluster role": func(ctx context.Context) error {
			_, err := rbac.ClusterRoles().Get(ctx, names.ClusterRole, metav1.GetOptions{})
			return err
		},
		"cluster role binding": func(ctx context.Context) error {
			_, err := rbac.ClusterRoleBindings().Get(ctx, names.ClusterRoleBinding, metav1.GetOptions{})
			return err
		},
	} {
		if f.exists(t, get) {
			t.Errorf("%s is still in the member", what)
		}
	}
	if !f.dynExists(t, "configmaps", "app", "settings") || !f.dynExists(t, "namespaces", "", "app") {
		t.Error("propagated objects were deleted without --delete-member-objects")
	}
	if want := `Left 4 objects managed by federation "federation" in us-central1-a (configmaps: 1, ingressclasses: 1, namespaces: 2)`; !strings.Contains(f.out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, f.out.String())
	}
}

func TestUnjoinDeletesPropagatedObjectsWhenAsked(t *testing.T) {
	f := newFixture(t, joinedObjects()...)
	o := f.options()
	o.DeleteMemberObjects = true
	if err := o.Run(context.Background()); err != nil {
		t.Fatalf("unjoin: %v\n%s", err, f.out.String())
	}
	if f.dynExists(t, "configmaps", "app", "settings") || f.dynExists(t, "namespaces", "", "app") {
		t.Error("propagated objects are still in the member")
	}
	if !f.dynExists(t, "namespaces", "", "default") {
		t.Error("namespace default was deleted")
	}
	// Only a namespace called default is the member's own.
	_, err := f.memberDyn.Resource(networkingv1.SchemeGroupVersion.WithResource("ingressclasses")).Get(context.Background(), "default", metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("the propagated IngressClass default is still in the member: %v", err)
	}
	if !f.dynExists(t, "configmaps", "app", "local") || !f.dynExists(t, "namespaces", "", "members-own") {
		t.Error("objects the federation does not manage were deleted")
	}
	if want := "Deleted 3 objects"; !strings.Contains(f.out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, f.out.String())
	}
}

func TestUnjoinKeepsWhatJoinDidNotCreate(t *testing.T) {
	objs := []runtime.Object{
		// The namespace existed before join; another federation uses it too.
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: names.Namespace}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: names.ServiceAccount, Namespace: names.Namespace, Labels: joined}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: names.ClusterRole}},
	}
	f := newFixture(t, objs...)
	if err := f.options().Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := f.member.CoreV1().Namespaces().Get(ctx, names.Namespace, metav1.GetOptions{}); err != nil {
		t.Errorf("a namespace join did not create was deleted: %v", err)
	}
	if _, err := f.member.RbacV1().ClusterRoles().Get(ctx, names.ClusterRole, metav1.GetOptions{}); err != nil {
		t.Errorf("a cluster role join did not create was deleted: %v", err)
	}
	if _, err := f.member.CoreV1().ServiceAccounts(names.Namespace).Get(ctx, names.ServiceAccount, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("join's service account is still there: %v", err)
	}
	if !strings.Contains(f.out.String(), "Kept ClusterRole federation-controller-manager in us-central1-a") {
		t.Errorf("output does not say the cluster role was kept:\n%s", f.out.String())
	}
}

func TestUnjoinKeepsANamespaceStillInUse(t *testing.T) {
	objs := append(joinedObjects(),
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "other-controller-manager", Namespace: names.Namespace, Labels: map[string]string{join.JoinedByLabel: "other"}}})
	f := newFixture(t, objs...)
	if err := f.options().Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.member.CoreV1().Namespaces().Get(context.Background(), names.Namespace, metav1.GetOptions{}); err != nil {
		t.Errorf("a namespace another federation uses was deleted: %v", err)
	}
}

func TestUnjoinRefusesAContextOfAnotherServer(t *testing.T) {
	f := newFixture(t, joinedObjects()...)
	o := f.options()
	o.Member.Server = "https://10.9.9.9:6443"
	err := o.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "is registered for server "+memberServer) {
		t.Fatalf("got %v, want a refusal naming the registered server", err)
	}
	if _, err := f.fed.FederationV1beta1().Clusters().Get(context.Background(), "us-central1-a", metav1.GetOptions{}); err != nil {
		t.Errorf("cluster was deleted anyway: %v", err)
	}
}

func TestUnjoinOfAnUnreachableMemberSaysWhatIsLeft(t *testing.T) {
	f := newFixture(t, joinedObjects()...)
	f.member.PrependReactor("get", "version", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	})
	err := f.options().Run(context.Background())
	if err == nil {
		t.Fatal("unjoin succeeded although the member is unreachable")
	}
	for _, want := range []string{"cannot reach cluster us-central1-a", "run this command again", "delete clusterrolebinding,clusterrole federation-controller-manager"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := f.fed.FederationV1beta1().Clusters().Get(context.Background(), "us-central1-a", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("cluster still registered: %v", err)
	}
}

func TestUnjoinOfAClusterNotRegisteredStillCleansTheMember(t *testing.T) {
	f := newFixture(t, joinedObjects()...)
	if err := f.fed.FederationV1beta1().Clusters().Delete(context.Background(), "us-central1-a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.options().Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.out.String(), "not registered") {
		t.Errorf("output does not say the cluster was not registered:\n%s", f.out.String())
	}
	if _, err := f.member.RbacV1().ClusterRoles().Get(context.Background(), names.ClusterRole, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("cluster role still there: %v", err)
	}
}

// kubeadmCorefile is the Corefile kubeadm gives a cluster.
const kubeadmCorefile = ".:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n" +
	"    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n" +
	"    prometheus :9153\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    cache 30\n    loop\n    reload\n    loadbalance\n}\n"

func corednsConfigMap(text string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: join.CoreDNSConfigMap, Namespace: join.CoreDNSNamespace},
		Data:       map[string]string{join.CorefileKey: text},
	}
}

func (f *fixture) corefile(t *testing.T) string {
	t.Helper()
	cm, err := f.member.CoreV1().ConfigMaps(join.CoreDNSNamespace).Get(context.Background(), join.CoreDNSConfigMap, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm.Data[join.CorefileKey]
}

// joinedCorefile is what kubefed join makes of original for federation.
func joinedCorefile(t *testing.T, original, federation string) string {
	t.Helper()
	res, err := corefile.Join(original, corefile.Settings{Federation: federation, Domain: "example.com", Zone: "us-central1-a", Region: "us-central1"})
	if err != nil || !res.Changed {
		t.Fatalf("join the Corefile: changed %v, %v", res.Changed, err)
	}
	return res.Corefile
}

func TestUnjoinRestoresTheCorefile(t *testing.T) {
	for name, original := range map[string]string{
		"kubeadm": kubeadmCorefile,
		"CRLF":    strings.ReplaceAll(kubeadmCorefile, "\n", "\r\n"),
		"hand-written stanza of another federation": strings.Replace(kubeadmCorefile, "    kubernetes cluster.local",
			"    federation cluster.local {\n       other other.org\n    }\n    kubernetes cluster.local", 1),
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, append(joinedObjects(), corednsConfigMap(joinedCorefile(t, original, join.DefaultFederationName)))...)
			if err := f.options().Run(context.Background()); err != nil {
				t.Fatalf("unjoin: %v\n%s", err, f.out.String())
			}
			if got := f.corefile(t); got != original {
				t.Errorf("Corefile:\n%q\nwant the original\n%q", got, original)
			}
			if want := "Removed federation federation from the Corefile in ConfigMap kube-system/coredns of us-central1-a:"; !strings.Contains(f.out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, f.out.String())
			}
		})
	}
}

func TestUnjoinKeepsTheCorefileOfOtherFederations(t *testing.T) {
	text := joinedCorefile(t, joinedCorefile(t, kubeadmCorefile, "other"), join.DefaultFederationName)
	f := newFixture(t, append(joinedObjects(), corednsConfigMap(text))...)
	if err := f.options().Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := f.corefile(t), joinedCorefile(t, kubeadmCorefile, "other"); got != want {
		t.Errorf("Corefile:\n%s\nwant\n%s", got, want)
	}
}

func TestUnjoinLeavesHandWrittenCorefileLinesAlone(t *testing.T) {
	text := strings.Replace(kubeadmCorefile, "    kubernetes cluster.local",
		"    federation cluster.local {\n       federation example.com\n       zone z\n    }\n    kubernetes cluster.local", 1)
	f := newFixture(t, append(joinedObjects(), corednsConfigMap(text))...)
	if err := f.options().Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.corefile(t); got != text {
		t.Errorf("a hand-written stanza changed:\n%s", got)
	}
	for _, a := range f.member.Actions() {
		if a.GetVerb() == "update" && a.GetResource().Resource == "configmaps" {
			t.Errorf("the ConfigMap was updated although nothing changed")
		}
	}
}

func TestUnjoinWithoutCoreDNSConfigMap(t *testing.T) {
	f := newFixture(t, joinedObjects()...)
	if err := f.options().Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(f.out.String(), "Corefile") {
		t.Errorf("output mentions a Corefile there is none of:\n%s", f.out.String())
	}
}

func TestUnjoinReportsACorefileItCannotRead(t *testing.T) {
	f := newFixture(t, append(joinedObjects(), corednsConfigMap(".:53 {\n  kubernetes\n"))...)
	if err := f.options().Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := `remove the lines ending in "# added by kubefed join" by hand`; !strings.Contains(f.out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, f.out.String())
	}
}

// TestUnjoinWaitsForTheNamespace: with --wait (the default) unjoin
// returns once the member's namespace is gone, or says after --timeout
// that it is still terminating; without it, it returns at once.
func TestUnjoinWaitsForTheNamespace(t *testing.T) {
	for _, tc := range []struct {
		name       string
		wait       bool
		getsLeft   int // Gets that still find the namespace terminating; -1: forever
		wantErr    string
		wantPolled bool
	}{
		{name: "gone after a few looks", wait: true, getsLeft: 2, wantPolled: true},
		{name: "never gone", wait: true, getsLeft: -1, wantErr: "is still being deleted after"},
		{name: "without --wait", wait: false, getsLeft: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, joinedObjects()...)
			// The member's namespace controller takes its time: Gets
			// after the delete find it terminating.
			deleted, left, polled := false, tc.getsLeft, 0
			f.member.PrependReactor("delete", "namespaces", func(a k8stesting.Action) (bool, runtime.Object, error) {
				deleted = true
				return true, nil, nil
			})
			f.member.PrependReactor("get", "namespaces", func(a k8stesting.Action) (bool, runtime.Object, error) {
				if !deleted {
					return false, nil, nil
				}
				polled++
				if left == 0 {
					return true, nil, apierrors.NewNotFound(corev1.Resource("namespaces"), names.Namespace)
				}
				if left > 0 {
					left--
				}
				now := metav1.Now()
				return true, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: names.Namespace, DeletionTimestamp: &now}}, nil
			})
			o := f.options()
			o.Wait, o.Timeout = tc.wait, 2*time.Second
			err := o.Run(context.Background())
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unjoin: %v\n%s", err, f.out.String())
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("unjoin = %v, want an error saying %q", err, tc.wantErr)
			}
			if !deleted {
				t.Fatal("the namespace was not deleted")
			}
			if tc.wantPolled && left != 0 {
				t.Errorf("unjoin returned with the namespace still there (%d looks left)", left)
			}
			if !tc.wait && polled > 0 {
				t.Errorf("without --wait unjoin looked %d times", polled)
			}
		})
	}
}
