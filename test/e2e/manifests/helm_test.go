package manifests

// The tests here drive a real Helm (built by hack/install-test-binaries.sh
// from its Go module) against the federation: the chart `helm create`
// scaffolds installs, upgrades and uninstalls through it, its objects reach
// every member, and a kind the federation does not serve fails the way it
// fails against a kube-apiserver without it.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/kfederation/federation/test/framework"
)

const (
	// release and chart are both "demo", so the scaffold names every
	// object it makes "demo".
	release = "demo"
	// propagation bounds how long the controller manager takes to bring
	// a change in the federation to every member.
	propagation = 60 * time.Second
)

// result is one run of the helm binary.
type result struct {
	args           []string
	stdout, stderr string
	err            error
}

func (r result) String() string {
	return fmt.Sprintf("helm %s\nexit: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.err, r.stdout, r.stderr)
}

// helm runs the built helm in dir against the federation, with Helm's
// own configuration, cache and data in the test's temporary directory.
func helm(t *testing.T, dir string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, framework.Binary("helm"), args...)
	cmd.Dir = dir
	home := t.TempDir()
	cmd.Env = append(os.Environ(),
		"HOME="+home,
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"KUBECONFIG="+fed.Kubeconfig,
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String(), err: err}
	t.Logf("%s", r)
	return r
}

// mustHelm runs helm and fails the test unless it exits 0.
func mustHelm(t *testing.T, dir string, args ...string) result {
	t.Helper()
	r := helm(t, dir, args...)
	if r.err != nil {
		t.Fatalf("helm failed:\n%s", r)
	}
	return r
}

// kubeArgs point a helm command at the federation's namespace ns.
func kubeArgs(ns string) []string {
	return []string{"--kubeconfig", fed.Kubeconfig, "--kube-context", framework.FederationContext, "--namespace", ns}
}

// createChart scaffolds the chart "demo" with `helm create` in a fresh
// directory and returns the directory.
func createChart(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	mustHelm(t, dir, "create", release)
	for _, f := range []string{"Chart.yaml", "templates/deployment.yaml", "templates/service.yaml", "templates/serviceaccount.yaml", "templates/hpa.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, release, f)); err != nil {
			t.Fatalf("helm create made no %s: %v", f, err)
		}
	}
	return dir
}

// createNamespace creates the namespace ns through the federation.
func createNamespace(t *testing.T, ns string) {
	t.Helper()
	_, err := fed.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace %s in the federation: %v", ns, err)
	}
}

// chartObjects are the objects the scaffold makes with its default values,
// as [kind, get-from-a-member] pairs.
func chartObjects(ns string) []struct {
	kind string
	get  func(ctx context.Context, m *framework.Member) error
} {
	return []struct {
		kind string
		get  func(ctx context.Context, m *framework.Member) error
	}{
		{"Deployment", func(ctx context.Context, m *framework.Member) error {
			_, err := m.Client.AppsV1().Deployments(ns).Get(ctx, release, metav1.GetOptions{})
			return err
		}},
		{"Service", func(ctx context.Context, m *framework.Member) error {
			_, err := m.Client.CoreV1().Services(ns).Get(ctx, release, metav1.GetOptions{})
			return err
		}},
		{"ServiceAccount", func(ctx context.Context, m *framework.Member) error {
			_, err := m.Client.CoreV1().ServiceAccounts(ns).Get(ctx, release, metav1.GetOptions{})
			return err
		}},
	}
}

// memberReplicas is the sum of spec.replicas of the member copies of the
// Deployment, and each member's share.
func memberReplicas(ctx context.Context, ns string) (int32, map[string]int32, error) {
	var total int32
	shares := map[string]int32{}
	for _, m := range fed.Members {
		d, err := m.Client.AppsV1().Deployments(ns).Get(ctx, release, metav1.GetOptions{})
		if err != nil {
			return 0, nil, fmt.Errorf("%s: %w", m.Name, err)
		}
		if d.Spec.Replicas == nil {
			return 0, nil, fmt.Errorf("%s: the Deployment has no spec.replicas", m.Name)
		}
		shares[m.Name] = *d.Spec.Replicas
		total += *d.Spec.Replicas
	}
	return total, shares, nil
}

// wantReplicas waits until the federated Deployment asks for want
// replicas and its member copies' replicas add up to want.
func wantReplicas(t *testing.T, ns string, want int32) {
	t.Helper()
	framework.Eventually(t, propagation, fmt.Sprintf("the federated Deployment and its member copies have %d replicas in total", want), func(ctx context.Context) error {
		d, err := fed.Client.AppsV1().Deployments(ns).Get(ctx, release, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("federation: %w", err)
		}
		if d.Spec.Replicas == nil || *d.Spec.Replicas != want {
			return fmt.Errorf("the federated Deployment has spec.replicas %v", d.Spec.Replicas)
		}
		total, shares, err := memberReplicas(ctx, ns)
		if err != nil {
			return err
		}
		if total != want {
			return fmt.Errorf("member copies have %v replicas, %d in total", shares, total)
		}
		return nil
	})
}

// TestChartInstallsUpgradesAndUninstallsEverywhere: the scaffold's
// Deployment, Service and ServiceAccount, installed through the federation,
// reach every member; an upgrade's new replica count is split over the
// members; an uninstall removes them from every member.
func TestChartInstallsUpgradesAndUninstallsEverywhere(t *testing.T) {
	const ns = "helm-demo"
	dir := createChart(t)
	createNamespace(t, ns)

	// --wait=hookOnly (the default; helm v4's spelling of --wait=false):
	// readiness is checked below, per member.
	mustHelm(t, dir, append([]string{"install", release, "./" + release, "--wait=hookOnly"}, kubeArgs(ns)...)...)
	for _, o := range chartObjects(ns) {
		for _, m := range fed.Members {
			framework.Eventually(t, propagation, fmt.Sprintf("the chart's %s %s/%s in member %s", o.kind, ns, release, m.Name), func(ctx context.Context) error {
				return o.get(ctx, m)
			})
		}
	}
	// The scaffold's replicaCount is 1.
	wantReplicas(t, ns, 1)
	if r := mustHelm(t, dir, append([]string{"status", release}, kubeArgs(ns)...)...); !strings.Contains(r.stdout, "STATUS: deployed") {
		t.Errorf("helm status does not say deployed:\n%s", r)
	}

	mustHelm(t, dir, append([]string{"upgrade", release, "./" + release, "--set", "replicaCount=3", "--wait=hookOnly"}, kubeArgs(ns)...)...)
	wantReplicas(t, ns, 3)
	if r := mustHelm(t, dir, append([]string{"history", release}, kubeArgs(ns)...)...); !strings.Contains(r.stdout, "Upgrade complete") {
		t.Errorf("helm history lacks the upgrade:\n%s", r)
	}

	mustHelm(t, dir, append([]string{"uninstall", release}, kubeArgs(ns)...)...)
	for _, o := range chartObjects(ns) {
		for _, m := range fed.Members {
			framework.Eventually(t, propagation, fmt.Sprintf("the chart's %s %s/%s gone from member %s", o.kind, ns, release, m.Name), func(ctx context.Context) error {
				err := o.get(ctx, m)
				if apierrors.IsNotFound(err) {
					return nil
				}
				return fmt.Errorf("still there (get: %v)", err)
			})
		}
	}
	if _, err := fed.Client.AppsV1().Deployments(ns).Get(context.Background(), release, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the federated Deployment is still there after helm uninstall (get: %v)", err)
	}
}

// notServedMessages are what the client says when it could not tell
// whether an unknown kind was a custom resource: the federation must
// answer its list of CustomResourceDefinitions, so that these never show.
var notServedMessages = []string{"failed to check CRD", "failed to list CRDs"}

// mustFailNoMatch fails the test unless r failed with want and without
// notServedMessages, and the release created nothing in ns.
func mustFailNoMatch(t *testing.T, r result, ns, want string) {
	t.Helper()
	if r.err == nil {
		t.Fatalf("helm succeeded, want it to fail with %s:\n%s", want, r)
	}
	if !strings.Contains(r.stderr, want) {
		t.Errorf("helm's error lacks %s:\n%s", want, r)
	}
	for _, bad := range notServedMessages {
		if strings.Contains(r.stdout+r.stderr, bad) {
			t.Errorf("helm says %q, want the plain %s:\n%s", bad, want, r)
		}
	}
	// Helm checks every object before it makes any.
	if _, err := fed.Client.AppsV1().Deployments(ns).Get(context.Background(), release, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the failed install made the Deployment %s/%s (get: %v)", ns, release, err)
	}
}

// TestUnservedKindFailsWithNoMatches: with autoscaling enabled the
// scaffold renders an autoscaling/v2 HorizontalPodAutoscaler, which the
// federation does not serve, and helm fails as it would against a
// kube-apiserver without that kind, not because it could not list
// CustomResourceDefinitions.
func TestUnservedKindFailsWithNoMatches(t *testing.T) {
	const ns = "helm-hpa"
	dir := createChart(t)
	createNamespace(t, ns)
	r := helm(t, dir, append([]string{"install", release, "./" + release, "--set", "autoscaling.enabled=true", "--wait=hookOnly"}, kubeArgs(ns)...)...)
	mustFailNoMatch(t, r, ns, `no matches for kind "HorizontalPodAutoscaler"`)
}

// TestUnservedKindOfServedVersionFailsWithNoMatches: a kind missing from a
// group version the federation serves (core v1) is the case in which the
// client, not finding the kind in the OpenAPI documents, lists
// CustomResourceDefinitions to see whether it is a custom resource.
func TestUnservedKindOfServedVersionFailsWithNoMatches(t *testing.T) {
	const ns = "helm-unserved"
	resources, err := fed.Client.Discovery().ServerResourcesForGroupVersion("v1")
	if err != nil {
		t.Fatalf("discovery of v1 in the federation: %v", err)
	}
	served := map[string]bool{}
	for _, r := range resources.APIResources {
		served[r.Kind] = true
	}
	kind := ""
	for _, k := range []string{"ResourceQuota", "LimitRange", "PersistentVolumeClaim"} {
		if !served[k] {
			kind = k
			break
		}
	}
	if kind == "" {
		t.Skip("the federation serves every candidate kind of v1")
	}
	dir := createChart(t)
	manifest := fmt.Sprintf("apiVersion: v1\nkind: %s\nmetadata:\n  name: {{ include \"demo.fullname\" . }}\nspec: {}\n", kind)
	if err := os.WriteFile(filepath.Join(dir, release, "templates", "unserved.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	createNamespace(t, ns)
	r := helm(t, dir, append([]string{"install", release, "./" + release, "--wait=hookOnly"}, kubeArgs(ns)...)...)
	mustFailNoMatch(t, r, ns, fmt.Sprintf("no matches for kind %q in version \"v1\"", kind))
}

// TestCustomResourceDefinitionListIsEmptyAndGuarded: the list of
// CustomResourceDefinitions the tests above rely on is empty for the
// admin, and, like every other request, authenticated and authorized.
func TestCustomResourceDefinitionListIsEmptyAndGuarded(t *testing.T) {
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	list := func(cfg *rest.Config) (int, error) {
		client, err := dynamic.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		l, err := client.Resource(crds).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return 0, err
		}
		return len(l.Items), nil
	}
	admin := fed.Endpoint.RESTConfig()
	if n, err := list(admin); err != nil || n != 0 {
		t.Errorf("the admin's list of CRDs: %d items, error %v; want none and no error", n, err)
	}
	if _, err := list(rest.AnonymousClientConfig(admin)); !apierrors.IsUnauthorized(err) && !apierrors.IsForbidden(err) {
		t.Errorf("an anonymous list of CRDs: got error %v, want Unauthorized or Forbidden", err)
	}
	nobody := rest.CopyConfig(admin)
	nobody.Impersonate = rest.ImpersonationConfig{UserName: "helm-e2e-nobody"}
	if _, err := list(nobody); !apierrors.IsForbidden(err) {
		t.Errorf("a list of CRDs by a user without roles: got error %v, want Forbidden", err)
	}
}
