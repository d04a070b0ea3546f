// Package manifests applies the manifests people already have (written
// with API versions kube-apiserver no longer serves, or rendered by Helm)
// to a federation whose members were joined with kubefed (so the
// federation has only the rights kubefed grants it there), and checks what
// every member gets: today's versions, running where the manifests say.
package manifests

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

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/kfederation/federation/test/framework"
)

var fed *framework.Federation

// TestMain starts one federation of two members joined with kubefed.
func TestMain(m *testing.M) {
	os.Exit(framework.RunMain(m, framework.MainOptions{
		Join: true,
		Options: framework.Options{
			Members:               framework.TwoRegionMembers(),
			ControllerManagerArgs: []string{"--leader-elect=false"},
		},
	}, func(f *framework.Federation) { fed = f }))
}

// wait bounds each wait for the members to catch up.
const wait = 90 * time.Second

// kubectlResult is one run of the real kubectl.
type kubectlResult struct {
	stdout, stderr string
	err            error
}

func (r kubectlResult) String() string {
	return fmt.Sprintf("exit: %v\nstdout:\n%s\nstderr:\n%s", r.err, r.stdout, r.stderr)
}

// kubectl runs kubectl against the federation.
func kubectl(t *testing.T, args ...string) kubectlResult {
	t.Helper()
	return kubectlIn(t, framework.FederationContext, args...)
}

func kubectlIn(t *testing.T, context string, args ...string) kubectlResult {
	t.Helper()
	cmd := exec.Command(framework.Binary("kubectl"), append([]string{"--kubeconfig", fed.Kubeconfig, "--context", context}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return kubectlResult{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

func mustKubectl(t *testing.T, args ...string) kubectlResult {
	t.Helper()
	r := kubectl(t, args...)
	if r.err != nil {
		t.Fatalf("kubectl %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// labelEdgeNodes labels the first node of every member edgenode=true, as
// the tutorial asks of the nodes that take ingress traffic, and returns the
// labelled node of each member.
func labelEdgeNodes(t *testing.T) map[string]string {
	t.Helper()
	ctx := context.Background()
	edge := map[string]string{}
	for _, m := range fed.Members {
		node := m.Name + "-node-0"
		patch := []byte(`{"metadata":{"labels":{"edgenode":"true"}}}`)
		if _, err := m.Client.CoreV1().Nodes().Patch(ctx, node, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatalf("label %s in %s: %v", node, m.Name, err)
		}
		edge[m.Name] = node
	}
	return edge
}

// TestTraefikTutorialManifests applies a 2018 traefik tutorial's manifests
// unchanged: every member gets today's versions, the DaemonSet's pods run
// on the members' edge nodes only, and kubectl reads the objects in
// today's version and in the old one, as kube-apiserver did.
func TestTraefikTutorialManifests(t *testing.T) {
	edge := labelEdgeNodes(t)
	// The user guide's and make run's example, tested here.
	manifest := filepath.Join("..", "..", "..", "docs", "examples", "traefik-2018.yaml")
	applied := mustKubectl(t, "apply", "-f", manifest)
	for _, warning := range []string{
		"Warning: rbac.authorization.k8s.io/v1beta1 ClusterRoleBinding is deprecated in v1.17+, unavailable in v1.22+; use rbac.authorization.k8s.io/v1 ClusterRoleBinding",
		"Warning: extensions/v1beta1 DaemonSet is deprecated in v1.8+, unavailable in v1.16+; use apps/v1 DaemonSet",
		"Warning: extensions/v1beta1 Ingress is deprecated in v1.14+, unavailable in v1.22+; use networking.k8s.io/v1 Ingress",
	} {
		if !strings.Contains(applied.stderr, warning) {
			t.Errorf("kubectl apply did not pass on kube-apiserver's deprecation warning %q:\n%s", warning, applied)
		}
	}
	t.Cleanup(func() { kubectl(t, "delete", "-f", manifest, "--ignore-not-found", "--wait=false") })

	for _, m := range fed.Members {
		t.Run("member "+m.Name, func(t *testing.T) {
			checkTraefikInMember(t, m, edge[m.Name])
		})
	}
	t.Run("federated status", func(t *testing.T) {
		framework.Eventually(t, wait, "the federated DaemonSet counts one ready pod per member", func(ctx context.Context) error {
			ds, err := fed.Client.AppsV1().DaemonSets("kube-system").Get(ctx, "traefik-ingress-controller", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if want := int32(len(fed.Members)); ds.Status.DesiredNumberScheduled != want || ds.Status.NumberReady != want {
				return fmt.Errorf("desired %d, ready %d; want %d each", ds.Status.DesiredNumberScheduled, ds.Status.NumberReady, want)
			}
			return nil
		})
	})
	t.Run("read in today's version", func(t *testing.T) {
		out := mustKubectl(t, "get", "ingress", "traefik-web-ui", "-n", "kube-system", "-o", "yaml")
		var ing networkingv1.Ingress
		if err := yaml.Unmarshal([]byte(out.stdout), &ing); err != nil {
			t.Fatal(err)
		}
		if ing.APIVersion != "networking.k8s.io/v1" {
			t.Errorf("kubectl get ingress: apiVersion %s, want networking.k8s.io/v1 (kubectl prefers today's group)", ing.APIVersion)
		}
		if out.stderr != "" {
			t.Errorf("kubectl get ingress warned: %s", out.stderr)
		}
		if err := checkIngressSpec(&ing); err != nil {
			t.Error(err)
		}
	})
	// Before the write-back below: kubectl replace rewrites the
	// last-applied annotation of an object that has one (with kube-apiserver
	// too), and the next apply would then patch it back.
	t.Run("applied twice changes nothing", func(t *testing.T) {
		before := resourceVersions(t, manifest)
		again := mustKubectl(t, "apply", "-f", manifest)
		// kubectl may still send the Ingress's rules and print
		// "configured": they are a list it replaces whole, and the stored
		// ones hold a field the server defaulted (pathType), as they did
		// with kube-apiserver 1.19 to 1.21. What counts is that nothing
		// is written.
		if after := resourceVersions(t, manifest); after != before {
			t.Errorf("a second apply of the same manifest wrote: resourceVersions %s, then %s\n%s", before, after, again)
		}
	})
	t.Run("read in the old version and written back", func(t *testing.T) {
		before := ingressGeneration(t)
		out := mustKubectl(t, "get", "ingresses.v1beta1.extensions", "traefik-web-ui", "-n", "kube-system", "-o", "yaml")
		for _, want := range []string{"apiVersion: extensions/v1beta1", "serviceName: traefik-web-ui", "servicePort: web", "pathType: ImplementationSpecific"} {
			if !strings.Contains(out.stdout, want) {
				t.Errorf("kubectl get ingresses.v1beta1.extensions lacks %q:\n%s", want, out.stdout)
			}
		}
		file := filepath.Join(t.TempDir(), "ingress-v1beta1.yaml")
		if err := os.WriteFile(file, []byte(out.stdout), 0o600); err != nil {
			t.Fatal(err)
		}
		mustKubectl(t, "replace", "-f", file)
		if after := ingressGeneration(t); after != before {
			t.Errorf("writing back what was read changed the Ingress: generation %d, then %d", before, after)
		}
	})
	t.Run("explain the old versions", func(t *testing.T) {
		for _, tc := range []struct{ args, want []string }{
			{[]string{"explain", "ingresses.spec.backend", "--api-version=extensions/v1beta1"}, []string{"GROUP:      extensions", "VERSION:    v1beta1", "serviceName", "servicePort"}},
			{[]string{"explain", "daemonsets.spec.templateGeneration", "--api-version=extensions/v1beta1"}, []string{"VERSION:    v1beta1", "templateGeneration"}},
			{[]string{"explain", "deployments.spec", "--api-version=apps/v1beta1"}, []string{"GROUP:      apps", "VERSION:    v1beta1", "rollbackTo"}},
			{[]string{"explain", "clusterrolebindings", "--api-version=rbac.authorization.k8s.io/v1beta1"}, []string{"VERSION:    v1beta1", "roleRef"}},
		} {
			out := mustKubectl(t, tc.args...)
			for _, w := range tc.want {
				if !strings.Contains(out.stdout, w) {
					t.Errorf("kubectl %s lacks %q:\n%s", strings.Join(tc.args, " "), w, out.stdout)
				}
			}
		}
	})
}

// resourceVersions are those of the manifest's objects, in its order.
func resourceVersions(t *testing.T, manifest string) string {
	t.Helper()
	return mustKubectl(t, "get", "-f", manifest, "-o", "jsonpath={.items[*].metadata.resourceVersion}").stdout
}

func ingressGeneration(t *testing.T) int64 {
	t.Helper()
	ing, err := fed.Client.NetworkingV1().Ingresses("kube-system").Get(context.Background(), "traefik-web-ui", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ing.Generation
}

// checkIngressSpec: the extensions/v1beta1 backend, converted.
func checkIngressSpec(ing *networkingv1.Ingress) error {
	if len(ing.Spec.Rules) != 1 || ing.Spec.Rules[0].HTTP == nil || len(ing.Spec.Rules[0].HTTP.Paths) != 1 {
		return fmt.Errorf("rules: %+v", ing.Spec.Rules)
	}
	p := ing.Spec.Rules[0].HTTP.Paths[0]
	if p.Backend.Service == nil || p.Backend.Service.Name != "traefik-web-ui" || p.Backend.Service.Port.Name != "web" {
		return fmt.Errorf("backend %+v, want service traefik-web-ui port web", p.Backend)
	}
	if p.PathType == nil || *p.PathType != networkingv1.PathTypeImplementationSpecific {
		return fmt.Errorf("pathType %v, want ImplementationSpecific (extensions/v1beta1's default)", p.PathType)
	}
	return nil
}

// checkTraefikInMember waits until the member has today's versions of
// every object, and the DaemonSet's one pod runs on its edge node.
func checkTraefikInMember(t *testing.T, m *framework.Member, edgeNode string) {
	framework.Eventually(t, wait, "service account and cluster-admin binding in "+m.Name, func(ctx context.Context) error {
		if _, err := m.Client.CoreV1().ServiceAccounts("kube-system").Get(ctx, "traefik-ingress-controller", metav1.GetOptions{}); err != nil {
			return err
		}
		b, err := m.Client.RbacV1().ClusterRoleBindings().Get(ctx, "traefik-ingress-controller", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if b.RoleRef.Name != "cluster-admin" || len(b.Subjects) != 1 || b.Subjects[0].Name != "traefik-ingress-controller" || b.Subjects[0].Namespace != "kube-system" {
			return fmt.Errorf("binding %+v %+v", b.RoleRef, b.Subjects)
		}
		return nil
	})
	framework.Eventually(t, wait, "apps/v1 DaemonSet in "+m.Name, func(ctx context.Context) error {
		ds, err := m.Client.AppsV1().DaemonSets("kube-system").Get(ctx, "traefik-ingress-controller", metav1.GetOptions{})
		if err != nil {
			return err
		}
		return checkDaemonSet(ds)
	})
	framework.Eventually(t, wait, "networking.k8s.io/v1 Ingress in "+m.Name, func(ctx context.Context) error {
		ing, err := m.Client.NetworkingV1().Ingresses("kube-system").Get(ctx, "traefik-web-ui", metav1.GetOptions{})
		if err != nil {
			return err
		}
		return checkIngressSpec(ing)
	})
	framework.Eventually(t, wait, "one traefik pod, on the edge node, in "+m.Name, func(ctx context.Context) error {
		return checkPods(ctx, m.Client, edgeNode)
	})
}

// checkDaemonSet: the selector kube-apiserver's extensions/v1beta1
// defaulting took from the template's labels, and the pod spec as written.
func checkDaemonSet(ds *appsv1.DaemonSet) error {
	sel := ds.Spec.Selector
	if sel == nil || len(sel.MatchLabels) != 2 || sel.MatchLabels["k8s-app"] != "traefik-ingress-lb" || sel.MatchLabels["name"] != "traefik-ingress-lb" {
		return fmt.Errorf("selector %v, want the template's labels", sel)
	}
	spec := ds.Spec.Template.Spec
	if !spec.HostNetwork || spec.NodeSelector["edgenode"] != "true" || spec.ServiceAccountName != "traefik-ingress-controller" {
		return fmt.Errorf("pod spec: hostNetwork %v, nodeSelector %v, serviceAccountName %q", spec.HostNetwork, spec.NodeSelector, spec.ServiceAccountName)
	}
	return nil
}

func checkPods(ctx context.Context, member kubernetes.Interface, edgeNode string) error {
	pods, err := member.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=traefik-ingress-lb"})
	if err != nil {
		return err
	}
	if len(pods.Items) != 1 {
		return fmt.Errorf("%d pods, want 1 (one edge node)", len(pods.Items))
	}
	p := pods.Items[0]
	if p.Spec.NodeName != edgeNode {
		return fmt.Errorf("pod %s on node %q, want the edge node %s", p.Name, p.Spec.NodeName, edgeNode)
	}
	if p.Status.Phase != corev1.PodRunning {
		return fmt.Errorf("pod %s is %s", p.Name, p.Status.Phase)
	}
	return nil
}

// TestRemovedFieldIsRefused: an old field that today's version cannot
// hold is a 422 naming it, not silently dropped.
func TestRemovedFieldIsRefused(t *testing.T) {
	r := kubectl(t, "create", "-f", filepath.Join("testdata", "rollback.yaml"))
	if r.err == nil {
		kubectl(t, "delete", "-f", filepath.Join("testdata", "rollback.yaml"))
		t.Fatalf("a Deployment with spec.rollbackTo was accepted:\n%s", r)
	}
	if !strings.Contains(r.stderr, "is invalid") || !strings.Contains(r.stderr, "spec.rollbackTo: Forbidden") {
		t.Errorf("kubectl create: want a 422 naming spec.rollbackTo:\n%s", r)
	}
	if _, err := fed.Client.AppsV1().Deployments("default").Get(context.Background(), "rollback", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the refused Deployment is stored: %v", err)
	}
}
