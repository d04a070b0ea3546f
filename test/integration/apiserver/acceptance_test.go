// Package apiserver tests the federation-apiserver from the outside: with
// the real kubectl, with raw HTTPS requests of every kind of identity, and as
// an aggregated API server behind a member cluster's kube-apiserver.
package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kfederation/federation/test/framework"
)

// acceptanceNamespace holds every namespaced object of the acceptance test
// (testdata/namespace.yaml).
const acceptanceNamespace = "acceptance"

// servedResources is every resource the federation-apiserver serves, as
// `kubectl api-resources -o name` prints it. Nothing of a single cluster's
// machinery (pods, nodes, endpoints) may appear.
//
// The old versions the federation still serves (apps/v1beta1 and v1beta2,
// networking.k8s.io/v1beta1, rbac.authorization.k8s.io/v1beta1) are
// versions of groups kubectl already lists, so they add no name; the
// extensions group has no version of today and is listed as a group of its
// own (kubectl api-resources lists every group's preferred version).
var servedResources = []string{
	"clusterrolebindings.rbac.authorization.k8s.io",
	"clusterroles.rbac.authorization.k8s.io",
	"clusters.federation.k8s.io",
	"configmaps",
	"daemonsets.apps",
	"daemonsets.extensions",
	"deployments.apps",
	"deployments.extensions",
	"events",
	"ingressclasses.networking.k8s.io",
	"ingresses.extensions",
	"ingresses.networking.k8s.io",
	"jobs.batch",
	"leases.coordination.k8s.io",
	"namespaces",
	"propagations.federation.k8s.io",
	"replicasets.apps",
	"replicasets.extensions",
	"rolebindings.rbac.authorization.k8s.io",
	"roles.rbac.authorization.k8s.io",
	"secrets",
	"serviceaccounts",
	"services",
}

// reviewResources are the create-only review resources, served as
// kube-apiserver serves them so that kubectl auth can-i and whoami work.
var reviewResources = []string{
	"localsubjectaccessreviews.authorization.k8s.io",
	"selfsubjectaccessreviews.authorization.k8s.io",
	"selfsubjectreviews.authentication.k8s.io",
	"selfsubjectrulesreviews.authorization.k8s.io",
	"subjectaccessreviews.authorization.k8s.io",
	"tokenreviews.authentication.k8s.io",
}

// servedKind is one object of a served kind that the acceptance test
// creates, and what kubectl prints for it.
type servedKind struct {
	resource string
	// typeName is how kubectl names the type in its messages and in -o name.
	typeName   string
	name       string
	namespaced bool
	apiVersion string
	kind       string
	// columns is the header of `kubectl get`, as kube-apiserver prints it.
	columns []string
	// labelled are the objects of this resource carrying suite=acceptance
	// (default: name alone).
	labelled []string
}

// nsArgs are the flags that select the object's namespace, if it has one.
func (k servedKind) nsArgs() []string {
	if k.namespaced {
		return []string{"-n", acceptanceNamespace}
	}
	return nil
}

// servedKinds has one object of every served kind: the namespace from
// testdata/namespace.yaml, the events from testdata/event.yaml, the rest
// from testdata/objects.
var servedKinds = []servedKind{
	{resource: "namespaces", typeName: "namespace", name: acceptanceNamespace, apiVersion: "v1", kind: "Namespace",
		columns: []string{"NAME", "STATUS", "AGE"}},
	{resource: "services", typeName: "service", name: "web", namespaced: true, apiVersion: "v1", kind: "Service",
		columns: []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"}},
	{resource: "secrets", typeName: "secret", name: "web-credentials", namespaced: true, apiVersion: "v1", kind: "Secret",
		columns: []string{"NAME", "TYPE", "DATA", "AGE"}},
	{resource: "configmaps", typeName: "configmap", name: "web-config", namespaced: true, apiVersion: "v1", kind: "ConfigMap",
		columns: []string{"NAME", "DATA", "AGE"}},
	{resource: "serviceaccounts", typeName: "serviceaccount", name: "web", namespaced: true, apiVersion: "v1", kind: "ServiceAccount",
		columns: []string{"NAME", "AGE"}},
	// Roles and ClusterRoles have no printer in kube-apiserver: theirs is
	// the default table of every kind without one.
	{resource: "roles.rbac.authorization.k8s.io", typeName: "role.rbac.authorization.k8s.io", name: "web-config-reader", namespaced: true, apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role",
		columns: []string{"NAME", "CREATED AT"}},
	{resource: "rolebindings.rbac.authorization.k8s.io", typeName: "rolebinding.rbac.authorization.k8s.io", name: "web-config-reader", namespaced: true, apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding",
		columns: []string{"NAME", "ROLE", "AGE"}},
	{resource: "clusterroles.rbac.authorization.k8s.io", typeName: "clusterrole.rbac.authorization.k8s.io", name: "ingress-viewer", apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole",
		columns: []string{"NAME", "CREATED AT"}},
	{resource: "clusterrolebindings.rbac.authorization.k8s.io", typeName: "clusterrolebinding.rbac.authorization.k8s.io", name: "ingress-viewer", apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding",
		columns: []string{"NAME", "ROLE", "AGE"}},
	{resource: "events", typeName: "event", name: "web-service", namespaced: true, apiVersion: "v1", kind: "Event",
		columns:  []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"},
		labelled: []string{"web-deployment", "web-service"}},
	{resource: "replicasets.apps", typeName: "replicaset.apps", name: "cache", namespaced: true, apiVersion: "apps/v1", kind: "ReplicaSet",
		columns: []string{"NAME", "DESIRED", "CURRENT", "READY", "AGE"}},
	{resource: "deployments.apps", typeName: "deployment.apps", name: "web", namespaced: true, apiVersion: "apps/v1", kind: "Deployment",
		columns: []string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"}},
	{resource: "daemonsets.apps", typeName: "daemonset.apps", name: "node-agent", namespaced: true, apiVersion: "apps/v1", kind: "DaemonSet",
		columns: []string{"NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"}},
	{resource: "ingresses.networking.k8s.io", typeName: "ingress.networking.k8s.io", name: "web", namespaced: true, apiVersion: "networking.k8s.io/v1", kind: "Ingress",
		columns: []string{"NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"}},
	{resource: "ingressclasses.networking.k8s.io", typeName: "ingressclass.networking.k8s.io", name: "nginx", apiVersion: "networking.k8s.io/v1", kind: "IngressClass",
		columns: []string{"NAME", "CONTROLLER", "PARAMETERS", "AGE"}},
	{resource: "jobs.batch", typeName: "job.batch", name: "migrate", namespaced: true, apiVersion: "batch/v1", kind: "Job",
		columns: []string{"NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"}},
	{resource: "leases.coordination.k8s.io", typeName: "lease.coordination.k8s.io", name: "leader", namespaced: true, apiVersion: "coordination.k8s.io/v1", kind: "Lease",
		columns: []string{"NAME", "HOLDER", "AGE"}},
	{resource: "clusters.federation.k8s.io", typeName: "cluster.federation.k8s.io", name: "east", apiVersion: "federation.k8s.io/v1beta1", kind: "Cluster",
		columns: []string{"NAME", "STATUS", "SERVER ADDRESS", "AGE"}},
	{resource: "propagations.federation.k8s.io", typeName: "propagation.federation.k8s.io", name: "deployment.web", namespaced: true, apiVersion: "federation.k8s.io/v1beta1", kind: "Propagation",
		columns: []string{"NAME", "PROPAGATED", "PENDING", "FAILED", "AGE"}},
}

// describedObjects are the objects the test writes an Event about, so that
// `kubectl describe` can show it; the event names are in servedKinds.
var describedObjects = []struct {
	event      string
	resource   string
	name       string
	namespaced bool
	apiVersion string
	kind       string
	// sections are what `kubectl describe` must print besides the event.
	sections []string
}{
	{event: "web-service", resource: "service", name: "web", namespaced: true, apiVersion: "v1", kind: "Service",
		sections: []string{"Name:", "Namespace:", "Labels:", "suite=acceptance", "Selector:", "app=web", "Type:", "ClusterIP", "Port:", "http  80/TCP", "TargetPort:", "8080/TCP", "Events:"}},
	{event: "web-deployment", resource: "deployment", name: "web", namespaced: true, apiVersion: "apps/v1", kind: "Deployment",
		sections: []string{"Name:", "Namespace:", "Selector:", "app=web", "Replicas:", "StrategyType:", "RollingUpdate", "Pod Template:", "Containers:", "nginx:1.27", "Events:"}},
	{event: "east-cluster", resource: "cluster", name: "east", apiVersion: "federation.k8s.io/v1beta1", kind: "Cluster",
		sections: []string{"Name:", "east", "Labels:", "suite=acceptance", "API Version:", "federation.k8s.io/v1beta1", "Kind:", "Cluster", "Spec:", "Server Address By Client CIDRs:", "https://10.10.0.1:6443", "Secret Ref:", "Events:"}},
}

// TestKubectlAcceptance drives the federation-apiserver with the real
// kubectl through every verb a user has, for every served kind: if kubectl
// works against the federation as it does against kube-apiserver, the
// federation speaks the Kubernetes API. The objects then survive a restart
// of the federation-apiserver, on the shared etcd and on the embedded one.
func TestKubectlAcceptance(t *testing.T) {
	f := framework.StartForTest(t, framework.Options{NoControllerManager: true})
	k := newKubectl(f.Kubeconfig, framework.FederationContext)

	t.Run("bootstrap namespaces exist", func(t *testing.T) {
		// kube-system and kube-public, as in a kube-apiserver: manifests
		// written for a cluster put their add-ons there.
		want := []string{"default", "federation-system", "kube-public", "kube-system"}
		got := names(k.ok(t, append([]string{"get", "namespaces", "-o", "name"}, want...)...))
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("namespaces: got %v, want %v", got, want)
		}
	})

	t.Run("create in a missing namespace fails", func(t *testing.T) {
		out := k.fails(t, "create", "-f", "testdata/missing-namespace-configmap.yaml")
		mustContain(t, "kubectl create output", out, `namespaces "does-not-exist" not found`)
	})

	t.Run("create", func(t *testing.T) {
		mustContain(t, "kubectl create output", k.ok(t, "create", "-f", "testdata/namespace.yaml"), "namespace/acceptance created")
		out := k.ok(t, "create", "-f", "testdata/objects")
		for _, sk := range servedKinds {
			if sk.resource == "namespaces" || sk.resource == "events" {
				continue
			}
			mustContain(t, "kubectl create output", out, sk.typeName+"/"+sk.name+" created")
		}
		for _, d := range describedObjects {
			createEvent(t, k, d.event, d.resource, d.name, d.namespaced, d.apiVersion, d.kind)
		}
	})

	t.Run("auth can-i and whoami", func(t *testing.T) {
		mustContain(t, "kubectl auth can-i", k.ok(t, "auth", "can-i", "create", "configmaps", "-n", acceptanceNamespace), "yes")
		mustContain(t, "kubectl auth whoami", k.ok(t, "auth", "whoami"), "admin")
	})

	t.Run("api-resources lists exactly the served resources", func(t *testing.T) {
		got := strings.Fields(k.ok(t, "api-resources", "-o", "name"))
		slices.Sort(got)
		want := slices.Sorted(slices.Values(append(slices.Clone(servedResources), reviewResources...)))
		if !slices.Equal(got, want) {
			t.Errorf("kubectl api-resources:\ngot  %v\nwant %v", got, want)
		}
		for _, r := range []string{"pods", "nodes", "endpoints"} {
			mustContain(t, "kubectl get "+r, k.fails(t, "get", r), fmt.Sprintf(`the server doesn't have a resource type "%s"`, r))
		}
	})

	t.Run("get", func(t *testing.T) {
		for _, sk := range servedKinds {
			t.Run(sk.resource, func(t *testing.T) { testGet(t, k, sk) })
		}
	})

	t.Run("old versions serve the same objects", func(t *testing.T) {
		for _, tc := range []struct {
			old, today string
			namespaced bool
			name       string
		}{
			{"deployments.v1beta1.extensions", "deployments.v1.apps", true, "web"},
			{"deployments.v1beta1.apps", "deployments.v1.apps", true, "web"},
			{"daemonsets.v1beta2.apps", "daemonsets.v1.apps", true, "node-agent"},
			{"replicasets.v1beta1.extensions", "replicasets.v1.apps", true, "cache"},
			{"ingresses.v1beta1.extensions", "ingresses.v1.networking.k8s.io", true, "web"},
			{"ingresses.v1beta1.networking.k8s.io", "ingresses.v1.networking.k8s.io", true, "web"},
			{"clusterrolebindings.v1beta1.rbac.authorization.k8s.io", "clusterrolebindings.v1.rbac.authorization.k8s.io", false, "ingress-viewer"},
		} {
			t.Run(tc.old, func(t *testing.T) {
				var ns []string
				if tc.namespaced {
					ns = []string{"-n", acceptanceNamespace}
				}
				const jsonpath = "jsonpath={.apiVersion} {.metadata.uid}"
				today := k.ok(t, append([]string{"get", tc.today, tc.name, "-o", jsonpath}, ns...)...)
				out, errOut, err := k.run("", append([]string{"get", tc.old, tc.name, "-o", jsonpath}, ns...)...)
				if err != nil {
					t.Fatalf("kubectl get %s %s: %v\n%s", tc.old, tc.name, err, errOut)
				}
				// resource.version.group
				parts := strings.SplitN(tc.old, ".", 3)
				oldVersion := parts[2] + "/" + parts[1]
				_, todayUID, _ := strings.Cut(today, " ")
				if want := oldVersion + " " + todayUID; todayUID == "" || out != want {
					t.Errorf("kubectl get %s %s: got %q, want %q (the object of today's version is %q)", tc.old, tc.name, out, want, today)
				}
				// kube-apiserver's deprecation warning, which kubectl prints.
				mustContain(t, "kubectl get "+tc.old+" stderr", errOut, "Warning: "+oldVersion+" ", "deprecated")
			})
		}
		// Without a group kubectl takes today's version: the extensions
		// group comes last in discovery, so no deprecation warning.
		for _, r := range []string{"ingress", "deployment", "daemonset", "replicaset"} {
			_, errOut, err := k.run("", "get", r, "-n", acceptanceNamespace, "-o", "name")
			if err != nil || strings.Contains(errOut, "Warning") {
				t.Errorf("kubectl get %s: %v, stderr %q; want today's version, without a warning", r, err, errOut)
			}
		}
		// spec.rollbackTo has no place in apps/v1: the RemovedFields
		// admission plugin refuses it rather than keep it as a note
		// nothing acts on.
		rollback := "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata:\n  name: rollback\n  namespace: " + acceptanceNamespace +
			"\nspec:\n  rollbackTo:\n    revision: 1\n  template:\n    metadata:\n      labels:\n        app: rollback\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n"
		out, errOut, err := k.run(rollback, "create", "-f", "-")
		if err == nil {
			t.Errorf("kubectl create of an extensions/v1beta1 Deployment with spec.rollbackTo succeeded: %s", out)
		}
		mustContain(t, "kubectl create of a Deployment with spec.rollbackTo", errOut, "is invalid", "spec.rollbackTo: Forbidden")
	})

	t.Run("get events by involved object", func(t *testing.T) {
		for _, tc := range []struct {
			selector string
			want     []string
		}{
			{"involvedObject.name=east", []string{"east-cluster"}},
			{"involvedObject.name=web", []string{"web-deployment", "web-service"}},
			{"involvedObject.name=web,involvedObject.kind=Deployment", []string{"web-deployment"}},
			{"involvedObject.name=nothing", nil},
		} {
			got := names(k.ok(t, "get", "events", "--all-namespaces", "--field-selector", tc.selector, "-o", "name"))
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("events with %s: got %v, want %v", tc.selector, got, tc.want)
			}
		}
	})

	t.Run("get propagations by federated object", func(t *testing.T) {
		for _, tc := range []struct {
			selector string
			want     []string
		}{
			{"status.object.name=web", []string{"deployment.web"}},
			{"status.object.kind=Deployment,status.object.name=web", []string{"deployment.web"}},
			{"status.object.kind=Service", nil},
		} {
			got := names(k.ok(t, "get", "propagations", "-n", acceptanceNamespace, "--field-selector", tc.selector, "-o", "name"))
			if !slices.Equal(got, tc.want) {
				t.Errorf("propagations with %s: got %v, want %v", tc.selector, got, tc.want)
			}
		}
	})

	t.Run("get clusters", func(t *testing.T) {
		out := k.ok(t, "get", "clusters")
		if got, want := tableHeader(out), []string{"NAME", "STATUS", "SERVER ADDRESS", "AGE"}; !slices.Equal(got, want) {
			t.Errorf("kubectl get clusters header: got %q, want %q", got, want)
		}
		rows := tableRows(out)
		if len(rows) != 1 || len(rows[0]) != 4 || rows[0][0] != "east" || rows[0][1] != "Unknown" || rows[0][2] != "https://10.10.0.1:6443" {
			// No controller manager runs, so no one has probed the cluster.
			t.Errorf("kubectl get clusters: want one row east, Unknown, https://10.10.0.1:6443, age; got\n%s", out)
		}
		wide := k.ok(t, "get", "clusters", "-o", "wide")
		if got, want := tableHeader(wide), []string{"NAME", "STATUS", "SERVER ADDRESS", "AGE", "ZONES", "REGION"}; !slices.Equal(got, want) {
			t.Errorf("kubectl get clusters -o wide header: got %q, want %q", got, want)
		}
		mustContain(t, "kubectl get cl", k.ok(t, "get", "cl", "-o", "name"), "cluster.federation.k8s.io/east")
	})

	t.Run("describe shows sections and events", func(t *testing.T) {
		for _, d := range describedObjects {
			t.Run(d.resource, func(t *testing.T) {
				args := []string{"describe", d.resource, d.name}
				if d.namespaced {
					args = append(args, "-n", acceptanceNamespace)
				}
				out := k.ok(t, args...)
				mustContain(t, "kubectl describe "+d.resource, out, d.sections...)
				_, events, _ := strings.Cut(out, "\nEvents:")
				mustContain(t, "the Events section of kubectl describe "+d.resource, events, eventReason(d.kind), eventMessage(d.kind, d.name))
			})
		}
	})

	t.Run("invalid clusters are rejected with the field path", func(t *testing.T) {
		for _, tc := range []struct {
			file string
			want string
		}{
			{"bad-cidr.yaml", `spec.serverAddressByClientCIDRs[0].clientCIDR: Invalid value: "not-a-cidr"`},
			{"no-addresses.yaml", "spec.serverAddressByClientCIDRs: Required value"},
			{"bad-port.yaml", `spec.serverAddressByClientCIDRs[0].serverAddress: Invalid value: "https://10.0.0.1:99999"`},
			{"bad-secret-ref.yaml", `spec.secretRef.name: Invalid value: "Not_A_Name"`},
			{"bad-name.yaml", `metadata.name: Invalid value: "Bad.Name"`},
		} {
			t.Run(tc.file, func(t *testing.T) {
				out := k.fails(t, "create", "-f", filepath.Join("testdata", "invalid", tc.file))
				mustContain(t, "kubectl create output", out, "is invalid", tc.want)
			})
		}
	})

	t.Run("apply", func(t *testing.T) {
		mustContain(t, "first apply", k.ok(t, "apply", "-f", "testdata/apply/settings.yaml"), "configmap/settings created")
		mustContain(t, "changed apply", k.ok(t, "apply", "-f", "testdata/apply/settings-changed.yaml"), "configmap/settings configured")
		// retries was in the last applied configuration and is not in the
		// new one, so the three-way merge deletes it.
		got := k.ok(t, "get", "configmap", "settings", "-n", acceptanceNamespace, "-o", "jsonpath={.data}")
		if got != `{"mode":"safe"}` {
			t.Errorf("data after the changed apply: got %s, want {\"mode\":\"safe\"}", got)
		}
		ann := k.ok(t, "get", "configmap", "settings", "-n", acceptanceNamespace, "-o", `jsonpath={.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}`)
		mustContain(t, "last-applied-configuration", ann, `"mode":"safe"`)
		// Unchanged input: nothing to do.
		mustContain(t, "repeated apply", k.ok(t, "apply", "-f", "testdata/apply/settings-changed.yaml"), "configmap/settings unchanged")
	})

	t.Run("server-side apply", func(t *testing.T) {
		k.ok(t, "apply", "--server-side", "--field-manager=team-a", "-f", "testdata/apply/shared-team-a.yaml")
		out := k.fails(t, "apply", "--server-side", "--field-manager=team-b", "-f", "testdata/apply/shared-team-b.yaml")
		mustContain(t, "conflicting apply", out, "Apply failed with 1 conflict", `conflict with "team-a"`, ".data.color")
		if got := k.ok(t, "get", "configmap", "shared", "-n", acceptanceNamespace, "-o", "jsonpath={.data.color}"); got != "red" {
			t.Errorf("color after the refused apply: got %q, want red", got)
		}
		k.ok(t, "apply", "--server-side", "--field-manager=team-b", "--force-conflicts", "-f", "testdata/apply/shared-team-b.yaml")
		if got := k.ok(t, "get", "configmap", "shared", "-n", acceptanceNamespace, "-o", "jsonpath={.data.color} {.data.owner}"); got != "yellow team-a" {
			t.Errorf("data after the forced apply: got %q, want \"yellow team-a\"", got)
		}
		managers := k.ok(t, "get", "configmap", "shared", "-n", acceptanceNamespace, "--show-managed-fields", "-o", `jsonpath={range .metadata.managedFields[*]}{.manager}={.operation};{end}`)
		mustContain(t, "managedFields", managers, "team-a=Apply;", "team-b=Apply;")

		// The federation's own kind goes through the same structured merge,
		// with a type converter built from the federation's OpenAPI.
		k.ok(t, "apply", "--server-side", "-f", "testdata/apply/cluster-west.yaml")
		k.ok(t, "apply", "--server-side", "-f", "testdata/apply/cluster-west-changed.yaml")
		got := k.ok(t, "get", "cluster", "west", "-o", `jsonpath={.metadata.labels.region} {.metadata.generation} {range .spec.serverAddressByClientCIDRs[*]}{.serverAddress},{end}`)
		if want := "west 2 https://10.20.0.2:6443,https://192.168.20.2:6443,"; got != want {
			t.Errorf("cluster west after the second server-side apply: got %q, want %q", got, want)
		}
	})

	t.Run("edit", func(t *testing.T) {
		editor := filepath.Join(t.TempDir(), "editor.sh")
		script := "#!/bin/sh\nexec sed -i -e 's/^  color: blue$/  color: green/' \"$1\"\n"
		if err := os.WriteFile(editor, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		out := k.withEnv("KUBE_EDITOR="+editor).ok(t, "edit", "configmap", "web-config", "-n", acceptanceNamespace)
		mustContain(t, "kubectl edit output", out, "configmap/web-config edited")
		if got := k.ok(t, "get", "configmap", "web-config", "-n", acceptanceNamespace, "-o", "jsonpath={.data.color}"); got != "green" {
			t.Errorf("color after edit: got %q, want green", got)
		}
	})

	t.Run("patch", func(t *testing.T) {
		for _, tc := range []struct {
			name      string
			target    []string
			patchType string
			patch     string
			jsonpath  string
			want      string
		}{
			{"strategic merges containers by name", []string{"deployment", "web", "-n", acceptanceNamespace}, "strategic",
				`{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}}}`,
				"{.spec.template.spec.containers[*].name}={.spec.template.spec.containers[*].image}", "web=nginx:1.28"},
			{"strategic on the federation's own kind", []string{"cluster", "east"}, "strategic",
				`{"metadata":{"annotations":{"patched":"strategic"}}}`, "{.metadata.annotations.patched}", "strategic"},
			{"merge", []string{"service", "web", "-n", acceptanceNamespace}, "merge",
				`{"spec":{"selector":{"app":"web","tier":"frontend"}}}`, "{.spec.selector.tier}", "frontend"},
			{"merge on a cluster", []string{"cluster", "east"}, "merge",
				`{"spec":{"secretRef":{"name":"east-v2"}}}`, "{.spec.secretRef.name} {.metadata.generation}", "east-v2 2"},
			{"json", []string{"ingress", "web", "-n", acceptanceNamespace}, "json",
				`[{"op":"replace","path":"/spec/rules/0/host","value":"www.example.com"}]`, "{.spec.rules[0].host}", "www.example.com"},
			{"json on a daemonset", []string{"daemonset", "node-agent", "-n", acceptanceNamespace}, "json",
				`[{"op":"add","path":"/spec/template/spec/nodeSelector","value":{"kubernetes.io/os":"linux"}}]`,
				"{.spec.template.spec.nodeSelector.kubernetes\\.io/os}", "linux"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				k.ok(t, append(append([]string{"patch"}, tc.target...), "--type="+tc.patchType, "-p", tc.patch)...)
				if got := k.ok(t, append(append([]string{"get"}, tc.target...), "-o", "jsonpath="+tc.jsonpath)...); got != tc.want {
					t.Errorf("after the %s patch: got %q, want %q", tc.patchType, got, tc.want)
				}
			})
		}
	})

	t.Run("scale", func(t *testing.T) {
		for _, tc := range []struct{ resource, printed string }{
			{"deployment/web", "deployment.apps/web"},
			{"replicaset/cache", "replicaset.apps/cache"},
		} {
			resource := tc.resource
			t.Run(resource, func(t *testing.T) {
				mustContain(t, "kubectl scale output", k.ok(t, "scale", resource, "-n", acceptanceNamespace, "--replicas=5"), tc.printed+" scaled")
				if got := k.ok(t, "get", resource, "-n", acceptanceNamespace, "-o", "jsonpath={.spec.replicas}"); got != "5" {
					t.Errorf("spec.replicas of %s after scale: got %s, want 5", resource, got)
				}
				// A precondition that does not hold leaves the object alone.
				out := k.fails(t, "scale", resource, "-n", acceptanceNamespace, "--current-replicas=2", "--replicas=7")
				mustContain(t, "kubectl scale with a wrong --current-replicas", out, "Expected replicas to be 2, was 5")
				if got := k.ok(t, "get", resource, "-n", acceptanceNamespace, "-o", "jsonpath={.spec.replicas}"); got != "5" {
					t.Errorf("spec.replicas of %s after a failed precondition: got %s, want 5", resource, got)
				}
			})
		}
	})

	t.Run("label and annotate", func(t *testing.T) {
		k.ok(t, "label", "deployment", "web", "-n", acceptanceNamespace, "tier=frontend")
		k.ok(t, "label", "cluster", "east", "region=us-east")
		k.ok(t, "annotate", "secret", "web-credentials", "-n", acceptanceNamespace, "rotated-by=acceptance")
		k.ok(t, "annotate", "cluster", "east", "owner=platform")
		if got := names(k.ok(t, "get", "deployments", "-n", acceptanceNamespace, "-l", "tier=frontend", "-o", "name")); !slices.Equal(got, []string{"web"}) {
			t.Errorf("deployments with tier=frontend: got %v, want [web]", got)
		}
		if got := names(k.ok(t, "get", "clusters", "-l", "region=us-east", "-o", "name")); !slices.Equal(got, []string{"east"}) {
			t.Errorf("clusters with region=us-east: got %v, want [east]", got)
		}
		if got := k.ok(t, "get", "cluster", "east", "-o", "jsonpath={.metadata.annotations.owner}"); got != "platform" {
			t.Errorf("annotation owner of cluster east: got %q, want platform", got)
		}
		// Without --overwrite a label is not replaced; with it, it is; a
		// trailing dash removes it.
		mustContain(t, "kubectl label without --overwrite", k.fails(t, "label", "cluster", "east", "region=eu-west"), "already has a value")
		k.ok(t, "label", "cluster", "east", "region=eu-west", "--overwrite")
		k.ok(t, "label", "deployment", "web", "-n", acceptanceNamespace, "tier-")
		if got := k.ok(t, "get", "deployments", "-n", acceptanceNamespace, "-l", "tier", "-o", "name"); got != "" {
			t.Errorf("deployments with a tier label after removing it: %s", got)
		}
		k.ok(t, "annotate", "secret", "web-credentials", "-n", acceptanceNamespace, "rotated-by-")
		if got := k.ok(t, "get", "secret", "web-credentials", "-n", acceptanceNamespace, "-o", "jsonpath={.metadata.annotations}"); strings.Contains(got, "rotated-by") {
			t.Errorf("annotations after removing rotated-by: %s", got)
		}
	})

	t.Run("wait for a jsonpath value", func(t *testing.T) {
		// kubectl wait starts before the change, so it must watch for it.
		done := make(chan error, 1)
		var out, errOut string
		go func() {
			var err error
			out, errOut, err = k.run("", "wait", "lease/leader", "-n", acceptanceNamespace, "--for=jsonpath={.spec.holderIdentity}=controller-1", "--timeout=45s")
			done <- err
		}()
		time.Sleep(time.Second)
		k.ok(t, "patch", "lease", "leader", "-n", acceptanceNamespace, "--type=merge", "-p", `{"spec":{"holderIdentity":"controller-1"}}`)
		if err := <-done; err != nil {
			t.Fatalf("kubectl wait --for=jsonpath: %v\n%s%s", err, out, errOut)
		}
		mustContain(t, "kubectl wait output", out, "lease.coordination.k8s.io/leader condition met")
		// A value that never comes times out.
		mustContain(t, "kubectl wait for a value that never comes", k.fails(t, "wait", "lease/leader", "-n", acceptanceNamespace, "--for=jsonpath={.spec.holderIdentity}=nobody", "--timeout=2s"), "timed out")
	})

	t.Run("delete and wait for delete", func(t *testing.T) {
		done := make(chan error, 1)
		var out, errOut string
		go func() {
			var err error
			out, errOut, err = k.run("", "wait", "--for=delete", "job/migrate", "-n", acceptanceNamespace, "--timeout=45s")
			done <- err
		}()
		time.Sleep(time.Second)
		mustContain(t, "kubectl delete output", k.ok(t, "delete", "job", "migrate", "-n", acceptanceNamespace, "--wait=false"), `job.batch "migrate" deleted`)
		if err := <-done; err != nil {
			t.Fatalf("kubectl wait --for=delete: %v\n%s%s", err, out, errOut)
		}
		mustContain(t, "kubectl get of a deleted job", k.fails(t, "get", "job", "migrate", "-n", acceptanceNamespace), `jobs.batch "migrate" not found`)
		// kubectl delete waits by default until the object is gone.
		k.ok(t, "delete", "-f", "testdata/apply/settings-changed.yaml")
		mustContain(t, "kubectl get of a deleted configmap", k.fails(t, "get", "configmap", "settings", "-n", acceptanceNamespace), `configmaps "settings" not found`)
	})

	t.Run("explain", func(t *testing.T) {
		for _, tc := range []struct {
			field string
			want  []string
		}{
			{"ingress.spec.rules", []string{"GROUP:      networking.k8s.io", "KIND:       Ingress", "FIELD: rules <[]IngressRule>", "host", "http"}},
			{"ingressclass.spec", []string{"GROUP:      networking.k8s.io", "KIND:       IngressClass", "FIELD: spec <IngressClassSpec>", "controller", "parameters"}},
			{"cluster.spec", []string{"GROUP:      federation.k8s.io", "KIND:       Cluster", "VERSION:    v1beta1", "FIELD: spec <ClusterSpec>", "serverAddressByClientCIDRs", "-required-", "secretRef"}},
			{"clusters.spec.serverAddressByClientCIDRs", []string{"clientCIDR", "serverAddress"}},
		} {
			t.Run(tc.field, func(t *testing.T) {
				mustContain(t, "kubectl explain "+tc.field, k.ok(t, "explain", tc.field), tc.want...)
			})
		}
	})

	t.Run("list in chunks", func(t *testing.T) {
		const count, chunk = 12, 5
		var list strings.Builder
		list.WriteString("apiVersion: v1\nkind: List\nitems:\n")
		var want []string
		for i := range count {
			name := fmt.Sprintf("chunk-%02d", i)
			want = append(want, name)
			fmt.Fprintf(&list, "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: %s\n    namespace: %s\n    labels:\n      chunked: \"yes\"\n  data:\n    index: %q\n", name, acceptanceNamespace, fmt.Sprint(i))
		}
		k.okIn(t, list.String(), "create", "-f", "-")
		// -v=6 logs every request, so that the test sees the pages.
		out, errOut, err := k.run("", "get", "configmaps", "-n", acceptanceNamespace, "-l", "chunked=yes", "--chunk-size="+fmt.Sprint(chunk), "-o", "name", "-v=6")
		if err != nil {
			t.Fatalf("kubectl get --chunk-size: %v\n%s", err, errOut)
		}
		if got := names(out); !slices.Equal(got, want) {
			t.Errorf("configmaps listed in chunks: got %v, want %v", got, want)
		}
		var pages, continued int
		for _, l := range strings.Split(errOut, "\n") {
			if strings.Contains(l, `verb="GET"`) && strings.Contains(l, "/configmaps?") && strings.Contains(l, fmt.Sprintf("limit=%d", chunk)) {
				pages++
				if strings.Contains(l, "continue=") {
					continued++
				}
			}
		}
		if wantPages := (count + chunk - 1) / chunk; pages != wantPages || continued != wantPages-1 {
			t.Errorf("kubectl made %d list requests (%d with a continue token), want %d (%d); its log:\n%s", pages, continued, wantPages, wantPages-1, errOut)
		}
	})

	t.Run("get --watch sees an update", func(t *testing.T) {
		lines := k.watchUntil(t, 45*time.Second, regexp.MustCompile(`^web-config\s+watched\s*$`), func() {
			k.ok(t, "patch", "configmap", "web-config", "-n", acceptanceNamespace, "--type=merge", "-p", `{"data":{"color":"watched"}}`)
		}, "get", "configmap", "web-config", "-n", acceptanceNamespace, "--watch", "-o", "custom-columns=NAME:.metadata.name,COLOR:.data.color")
		if len(lines) < 3 || !regexp.MustCompile(`^web-config\s+green\s*$`).MatchString(lines[1]) {
			t.Errorf("kubectl get --watch printed %q; want the header, the object as it was (green), then the update", lines)
		}
	})

	t.Run("server-side dry run stores nothing", func(t *testing.T) {
		mustContain(t, "kubectl create --dry-run=server", k.ok(t, "create", "-f", "testdata/dryrun-configmap.yaml", "--dry-run=server"), "configmap/never-stored created (server dry run)")
		mustContain(t, "kubectl get after a dry run", k.fails(t, "get", "configmap", "never-stored", "-n", acceptanceNamespace), `configmaps "never-stored" not found`)
		k.ok(t, "apply", "--server-side", "--dry-run=server", "-f", "testdata/dryrun-configmap.yaml")
		k.fails(t, "get", "configmap", "never-stored", "-n", acceptanceNamespace)
		// An invalid object fails a dry run as it would fail for real.
		mustContain(t, "dry run of an invalid cluster", k.fails(t, "create", "-f", "testdata/invalid/bad-cidr.yaml", "--dry-run=server"), "spec.serverAddressByClientCIDRs[0].clientCIDR")
		mustContain(t, "kubectl delete --dry-run=server", k.ok(t, "delete", "cluster", "east", "--dry-run=server"), "(server dry run)")
		k.ok(t, "scale", "deployment/web", "-n", acceptanceNamespace, "--replicas=9", "--dry-run=server")
		if got := k.ok(t, "get", "cluster", "east", "-o", "name"); strings.TrimSpace(got) != "cluster.federation.k8s.io/east" {
			t.Errorf("cluster east after a dry-run delete: %q", got)
		}
		if got := k.ok(t, "get", "deployment", "web", "-n", acceptanceNamespace, "-o", "jsonpath={.spec.replicas}"); got != "5" {
			t.Errorf("replicas after a dry-run scale: got %s, want 5", got)
		}
	})

	t.Run("objects survive a restart of the federation-apiserver", func(t *testing.T) {
		before := snapshot(t, k)
		restartAPIServer(t, f)
		after := snapshot(t, k)
		if before != after {
			t.Errorf("objects changed across the restart:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		// Values written by the verbs above are what was stored.
		for _, tc := range []struct{ args, want string }{
			{"deployment web -n acceptance -o jsonpath={.spec.replicas}", "5"},
			{"configmap web-config -n acceptance -o jsonpath={.data.color}", "watched"},
			{"cluster east -o jsonpath={.spec.secretRef.name}", "east-v2"},
		} {
			if got := k.ok(t, append([]string{"get"}, strings.Fields(tc.args)...)...); got != tc.want {
				t.Errorf("kubectl get %s after the restart: got %q, want %q", tc.args, got, tc.want)
			}
		}
	})

	t.Run("embedded etcd keeps objects across a restart", func(t *testing.T) {
		ef := framework.StartForTest(t, framework.Options{NoControllerManager: true, EmbeddedEtcd: true})
		ek := newKubectl(ef.Kubeconfig, framework.FederationContext)
		ek.ok(t, "create", "-f", "testdata/namespace.yaml")
		ek.ok(t, "create", "-f", "testdata/objects")
		ek.ok(t, "scale", "deployment/web", "-n", acceptanceNamespace, "--replicas=4")
		before := snapshot(t, ek)
		restartAPIServer(t, ef)
		after := snapshot(t, ek)
		if before != after {
			t.Errorf("objects changed across the restart:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		for _, sk := range servedKinds {
			if sk.resource == "events" {
				continue
			}
			ek.ok(t, append([]string{"get", sk.resource, sk.name}, sk.nsArgs()...)...)
		}
		if got := ek.ok(t, "get", "deployment", "web", "-n", acceptanceNamespace, "-o", "jsonpath={.spec.replicas}"); got != "4" {
			t.Errorf("replicas after the restart: got %s, want 4", got)
		}
		checkEmbeddedEtcdPrivate(t, ef)
	})
}

// checkEmbeddedEtcdPrivate checks, after the federation-apiserver of f has
// served requests on its embedded etcd, that the etcd is reached over no
// port: the process listens on its secure port alone, and etcd's data
// directory, which holds its socket, is its owner's only. And that etcd
// logged none of those requests as slow unless it was (it logs a request
// before answering it, so by now every line is in the log), nor any error
// across the restart.
func checkEmbeddedEtcdPrivate(t *testing.T, f *framework.Federation) {
	t.Helper()
	listeners, err := f.APIServer.TCPListeners()
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimPrefix(f.Endpoint.Server, "https://"); !slices.Equal(listeners, []string{want}) {
		t.Errorf("the federation-apiserver listens on %q over TCP, want its secure port %s alone", listeners, want)
	}
	dataDir := filepath.Join(f.Dir, "federation-apiserver", "etcd")
	if info, err := os.Stat(dataDir); err != nil {
		t.Error(err)
	} else if info.Mode().Perm() != 0o700 {
		t.Errorf("the embedded etcd's data directory has mode %v, want 0700", info.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(dataDir, "etcd.sock")); err != nil {
		t.Errorf("the embedded etcd's socket: %v", err)
	}
	log, err := os.ReadFile(f.APIServer.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	spent := regexp.MustCompile(`"msg":"request stats".*"time spent":"([^"]+)"`)
	fast := 0
	for _, m := range spent.FindAllStringSubmatch(string(log), -1) {
		if d, err := time.ParseDuration(m[1]); err != nil || d < 300*time.Millisecond {
			fast++
		}
	}
	if fast > 0 {
		t.Errorf("the embedded etcd logged %d requests under 300 ms as slow (\"request stats\" in %s)", fast, f.APIServer.LogPath)
	}
	// The restart stopped the server, and its etcd, cleanly: nothing
	// failed, so etcd has no error to log.
	if n := strings.Count(string(log), `{"level":"error"`); n > 0 {
		t.Errorf("the embedded etcd logged %d errors across a clean restart (in %s)", n, f.APIServer.LogPath)
	}
}

// testGet checks every form of `kubectl get` on one served kind.
func testGet(t *testing.T, k kubectl, sk servedKind) {
	one := append([]string{"get", sk.resource, sk.name}, sk.nsArgs()...)
	all := append([]string{"get", sk.resource}, sk.nsArgs()...)

	yamlOut := k.ok(t, append(one, "-o", "yaml")...)
	mustContain(t, "kubectl get -o yaml", yamlOut, "apiVersion: "+sk.apiVersion+"\n", "kind: "+sk.kind+"\n", "  name: "+sk.name+"\n", "  uid: ")

	var obj struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string            `json:"name"`
			Namespace string            `json:"namespace"`
			Labels    map[string]string `json:"labels"`
		} `json:"metadata"`
	}
	jsonOut := k.ok(t, append(one, "-o", "json")...)
	if err := json.Unmarshal([]byte(jsonOut), &obj); err != nil {
		t.Fatalf("kubectl get -o json printed no JSON object: %v\n%s", err, jsonOut)
	}
	wantNS := ""
	if sk.namespaced {
		wantNS = acceptanceNamespace
	}
	if obj.APIVersion != sk.apiVersion || obj.Kind != sk.kind || obj.Metadata.Name != sk.name || obj.Metadata.Namespace != wantNS || obj.Metadata.Labels["suite"] != "acceptance" {
		t.Errorf("kubectl get -o json: got %s %s %s/%s labels %v", obj.APIVersion, obj.Kind, obj.Metadata.Namespace, obj.Metadata.Name, obj.Metadata.Labels)
	}

	if got, want := strings.TrimSpace(k.ok(t, append(one, "-o", "name")...)), sk.typeName+"/"+sk.name; got != want {
		t.Errorf("kubectl get -o name: got %q, want %q", got, want)
	}

	table := k.ok(t, one...)
	if got := tableHeader(table); !slices.Equal(got, sk.columns) {
		t.Errorf("kubectl get header: got %q, want %q", got, sk.columns)
	}
	rows := tableRows(table)
	nameCol := slices.Index(sk.columns, "NAME")
	if sk.resource == "events" {
		// Events are printed by the object they are about.
		nameCol = slices.Index(sk.columns, "OBJECT")
	}
	if len(rows) != 1 || len(rows[0]) < len(sk.columns)-1 || (sk.resource != "events" && rows[0][nameCol] != sk.name) {
		t.Errorf("kubectl get: want one row for %s, got\n%s", sk.name, table)
	}

	labelled := sk.labelled
	if labelled == nil {
		labelled = []string{sk.name}
	}
	for _, tc := range []struct {
		flag, value string
		want        []string
	}{
		{"-l", "suite=acceptance", labelled},
		{"-l", "suite=acceptance,suite!=acceptance", nil},
		{"-l", "suite in (other)", nil},
		{"--field-selector", "metadata.name=" + sk.name, []string{sk.name}},
		{"--field-selector", "metadata.name=nothing-by-this-name", nil},
	} {
		got := names(k.ok(t, append(all, tc.flag, tc.value, "-o", "name")...))
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("kubectl get %s %s %q: got %v, want %v", sk.resource, tc.flag, tc.value, got, tc.want)
		}
	}
	// A selector that matches nothing says so, as kube-apiserver's does.
	_, errOut, err := k.run("", append(all, "--field-selector", "metadata.name=nothing-by-this-name")...)
	if err != nil || !strings.Contains(errOut, "No resources found") {
		t.Errorf("kubectl get with an empty result: err %v, stderr %q", err, errOut)
	}
}

// eventReason and eventMessage are what createEvent writes about an object.
func eventReason(kind string) string { return "Acceptance" + kind }

func eventMessage(kind, name string) string {
	return fmt.Sprintf("%s %s was checked by the acceptance test", kind, name)
}

// createEvent writes an Event about an object from testdata/event.yaml,
// with the object's UID, since `kubectl describe` matches events by UID.
func createEvent(t *testing.T, k kubectl, event, resource, name string, namespaced bool, apiVersion, kind string) {
	t.Helper()
	args := []string{"get", resource, name, "-o", "jsonpath={.metadata.uid}"}
	// Events about cluster-scoped objects live in default, as validation
	// demands.
	objectNS, eventNS := "", metav1.NamespaceDefault
	if namespaced {
		args = append(args, "-n", acceptanceNamespace)
		objectNS, eventNS = acceptanceNamespace, acceptanceNamespace
	}
	uid := k.ok(t, args...)
	tmpl, err := os.ReadFile("testdata/event.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{
		"NAME":             event,
		"NAMESPACE":        eventNS,
		"API_VERSION":      apiVersion,
		"KIND":             kind,
		"OBJECT":           name,
		"OBJECT_NAMESPACE": objectNS,
		"UID":              uid,
		"REASON":           eventReason(kind),
		"MESSAGE":          eventMessage(kind, name),
		"NOW":              time.Now().UTC().Format(time.RFC3339),
	}
	manifest := os.Expand(string(tmpl), func(key string) string { return fields[key] })
	mustContain(t, "kubectl create of an event", k.okIn(t, manifest, "create", "-f", "-"), "event/"+event+" created")
}

// snapshot lists every stored object with its UID and resource version, so
// that two snapshots are equal only if no object was lost, recreated or
// changed.
func snapshot(t *testing.T, k kubectl) string {
	t.Helper()
	var b strings.Builder
	for _, r := range servedResources {
		out := k.ok(t, "get", r, "--all-namespaces", "--sort-by=.metadata.name", "-o", "custom-columns=NAMESPACE:.metadata.namespace,NAME:.metadata.name,UID:.metadata.uid,RV:.metadata.resourceVersion", "--no-headers")
		fmt.Fprintf(&b, "%s:\n%s", r, out)
	}
	return b.String()
}

// restartAPIServer restarts the federation-apiserver and waits until it
// serves again.
func restartAPIServer(t *testing.T, f *framework.Federation) {
	t.Helper()
	if err := f.APIServer.Restart(); err != nil {
		t.Fatalf("restart the federation-apiserver: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := f.WaitAPIServerReady(ctx); err != nil {
		t.Fatalf("federation-apiserver not ready after a restart: %v", err)
	}
}
