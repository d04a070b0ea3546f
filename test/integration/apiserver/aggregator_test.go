package apiserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/kfederation/federation/test/framework"
)

const apiServiceName = "v1beta1.federation.k8s.io"

// TestRegisteredBehindKubeAggregator runs the federation-apiserver as an
// aggregated API server of a member cluster's kube-apiserver (the host):
// it takes its client and front-proxy CAs from the host's
// kube-system/extension-apiserver-authentication ConfigMap, and asks the
// host to review tokens (TokenReview) and to authorize requests
// (SubjectAccessReview). Registered with an APIService, its Clusters are
// then served by the host's own API, and the host's RBAC decides who may
// read them, both through the aggregator and at the federation-apiserver
// directly.
func TestRegisteredBehindKubeAggregator(t *testing.T) {
	f := framework.StartForTest(t, framework.Options{
		NoControllerManager: true,
		Members:             []framework.MemberOptions{{Name: "host", Nodes: 1}},
	})
	host := f.Member("host")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := filepath.Join(f.Dir, "aggregated")
	hostK := newKubectl(f.Kubeconfig, host.Name)

	fed := startDelegatingAPIServer(ctx, t, f, host, dir)
	fedK := newKubectl(fed.kubeconfig, "aggregated-federation")
	fedK.ok(t, "create", "-f", "testdata/objects/cluster.yaml")

	manifest, err := os.ReadFile("testdata/aggregation.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{
		"PORT":      strconv.Itoa(fed.port),
		"CA_BUNDLE": base64.StdEncoding.EncodeToString(f.PKI.CA.CertPEM()),
	}
	hostK.okIn(t, os.Expand(string(manifest), func(k string) string { return fields[k] }), "apply", "-f", "-")

	t.Run("endpoint routing refuses ExternalName services", func(t *testing.T) {
		// The framework's members route to endpoints, which an ExternalName
		// service has none of; this is why the host is switched to service
		// routing below. Should kube-aggregator ever resolve ExternalName
		// services here, the switch can go.
		want := `unsupported service type "ExternalName"`
		var last string
		err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
			last, _, _ = hostK.run("", "get", "apiservice", apiServiceName, "-o", `jsonpath={.status.conditions[?(@.type=="Available")].message}`)
			return strings.Contains(last, want), nil
		})
		if err != nil {
			t.Fatalf("APIService %s: want Available to say %s, last said %q", apiServiceName, want, last)
		}
	})

	routeToServices(ctx, t, host)
	hostK.ok(t, "wait", "--for=condition=Available", "apiservice/"+apiServiceName, "--timeout=2m")

	t.Run("the host serves the federation's clusters", func(t *testing.T) {
		out := hostK.ok(t, "get", "clusters.federation.k8s.io")
		if got, want := tableHeader(out), []string{"NAME", "STATUS", "SERVER ADDRESS", "AGE"}; !slices.Equal(got, want) {
			t.Errorf("kubectl --context=host get clusters header: got %q, want %q", got, want)
		}
		if rows := tableRows(out); len(rows) != 1 || rows[0][0] != "east" || rows[0][2] != "https://10.10.0.1:6443" {
			t.Errorf("kubectl --context=host get clusters: want the cluster east created in the federation, got\n%s", out)
		}
		mustContain(t, "kubectl --context=host api-resources", hostK.ok(t, "api-resources", "--api-group=federation.k8s.io", "-o", "name"), "clusters.federation.k8s.io")
		// What the host's admin writes through the aggregator lands in the
		// federation.
		hostK.ok(t, "label", "clusters.federation.k8s.io", "east", "via=host")
		if got := fedK.ok(t, "get", "cluster", "east", "-o", "jsonpath={.metadata.labels.via}"); got != "host" {
			t.Errorf("label via of cluster east in the federation: got %q, want host", got)
		}
	})

	// alice is a user of the host with no rights there; robot a service
	// account of the host, whose token only the host can review.
	aliceCert, aliceKey, err := f.PKI.CA.IssueClient(dir, "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	aliceConfig := filepath.Join(dir, "alice.kubeconfig")
	if err := framework.WriteKubeconfig(aliceConfig,
		framework.Endpoint{Context: "host-alice", Server: host.Endpoint.Server, CAFile: f.PKI.CA.CertFile, CertFile: aliceCert, KeyFile: aliceKey},
		framework.Endpoint{Context: "federation-alice", Server: fed.server, CAFile: f.PKI.CA.CertFile, CertFile: aliceCert, KeyFile: aliceKey},
	); err != nil {
		t.Fatal(err)
	}
	// aliceK goes through the host's aggregator, aliceFedK straight to the
	// federation-apiserver, where only its delegated authorization decides.
	aliceK, aliceFedK := newKubectl(aliceConfig, "host-alice"), newKubectl(aliceConfig, "federation-alice")
	alice := newCaller(t, fed.server, f.PKI.CA.CertFile, identity{cert: loadCert(t, aliceCert, aliceKey)})
	hostK.ok(t, "create", "serviceaccount", "robot", "-n", "default")
	robot := newCaller(t, fed.server, f.PKI.CA.CertFile, identity{token: strings.TrimSpace(hostK.ok(t, "create", "token", "robot", "-n", "default"))})
	forbidden := func(user, verb string) string {
		return fmt.Sprintf(`clusters.federation.k8s.io is forbidden: User "%s" cannot %s resource "clusters" in API group "federation.k8s.io" at the cluster scope`, user, verb)
	}
	forbiddenEast := func(user, verb string) string {
		return fmt.Sprintf(`clusters.federation.k8s.io "east" is forbidden: User "%s" cannot %s resource "clusters" in API group "federation.k8s.io" at the cluster scope`, user, verb)
	}

	t.Run("users without RBAC rights in the host are forbidden", func(t *testing.T) {
		mustContain(t, "kubectl get clusters as alice through the host", aliceK.fails(t, "get", "clusters.federation.k8s.io"), forbidden("alice", "list"))
		for _, r := range []struct {
			name   string
			caller caller
			code   int
			want   string
		}{
			{"alice, at the federation-apiserver", alice, http.StatusForbidden, forbidden("alice", "list")},
			{"robot's token, reviewed by the host", robot, http.StatusForbidden, forbidden("system:serviceaccount:default:robot", "list")},
			{"a token the host does not know", newCaller(t, fed.server, f.PKI.CA.CertFile, identity{token: "not-a-token"}), http.StatusUnauthorized, "Unauthorized"},
		} {
			t.Run(r.name, func(t *testing.T) {
				if code, msg := r.caller.get(t, clustersPath); code != r.code || msg != r.want {
					t.Errorf("GET %s: %d %q, want %d %q", clustersPath, code, msg, r.code, r.want)
				}
			})
		}
	})

	t.Run("RBAC in the host grants access", func(t *testing.T) {
		hostK.ok(t, "create", "clusterrole", "federation-clusters-reader", "--verb=get,list,watch", "--resource=clusters.federation.k8s.io")
		hostK.ok(t, "create", "clusterrolebinding", "federation-clusters-readers", "--clusterrole=federation-clusters-reader",
			"--user=alice", "--serviceaccount=default:robot")
		// The federation-apiserver caches the host's denials for a while.
		var last string
		err := wait.PollUntilContextTimeout(ctx, time.Second, time.Minute, true, func(context.Context) (bool, error) {
			code, msg := alice.get(t, clustersPath)
			last = fmt.Sprintf("%d %s", code, msg)
			return code == http.StatusOK, nil
		})
		if err != nil {
			t.Fatalf("alice never got to list clusters at the federation-apiserver after the host granted it; last answer: %s", last)
		}
		if got := names(aliceK.ok(t, "get", "clusters.federation.k8s.io", "-o", "name")); !slices.Equal(got, []string{"east"}) {
			t.Errorf("clusters alice lists through the host: got %v, want [east]", got)
		}
		if code, msg := robot.get(t, clustersPath); code != http.StatusOK {
			t.Errorf("robot's token at the federation-apiserver: %d %s, want 200", code, msg)
		}
		if got := names(aliceFedK.ok(t, "get", "clusters", "-o", "name")); !slices.Equal(got, []string{"east"}) {
			t.Errorf("clusters alice lists at the federation-apiserver: got %v, want [east]", got)
		}
		// The role grants reading only, and the federation-apiserver asks
		// about each verb.
		mustContain(t, "kubectl delete cluster as alice", aliceFedK.fails(t, "delete", "cluster", "east"), forbiddenEast("alice", "delete"))
		mustContain(t, "kubectl label cluster as alice", aliceFedK.fails(t, "label", "cluster", "east", "owner=alice"), forbiddenEast("alice", "patch"))
	})

	t.Run("a namespace's RoleBinding in the host grants that namespace only", func(t *testing.T) {
		for _, ns := range []string{"team-a", "team-b"} {
			fedK.ok(t, "create", "namespace", ns)
		}
		fedK.ok(t, "create", "secret", "generic", "member-credentials", "-n", "federation-system", "--from-literal=token=secret-value")
		// The host needs the namespace to hold the RoleBinding; edit is the
		// host's stock role.
		hostK.ok(t, "create", "namespace", "team-a")
		hostK.ok(t, "create", "rolebinding", "alice-edits-team-a", "--clusterrole=edit", "--user=alice", "-n", "team-a")
		var last string
		err := wait.PollUntilContextTimeout(ctx, time.Second, time.Minute, true, func(context.Context) (bool, error) {
			out, errOut, err := aliceFedK.run("", "create", "configmap", "settings", "-n", "team-a", "--from-literal=color=blue")
			last = out + errOut
			return err == nil, nil
		})
		if err != nil {
			t.Fatalf("alice never got to create a configmap in team-a after the host bound her there; last answer: %s", last)
		}
		aliceFedK.ok(t, "get", "configmap", "settings", "-n", "team-a")
		aliceFedK.ok(t, "create", "deployment", "web", "--image=nginx", "-n", "team-a")
		mustContain(t, "alice creates a configmap in team-b", aliceFedK.fails(t, "create", "configmap", "settings", "-n", "team-b", "--from-literal=color=blue"),
			`configmaps is forbidden: User "alice" cannot create resource "configmaps" in API group "" in the namespace "team-b"`)
		mustContain(t, "alice reads the member credentials", aliceFedK.fails(t, "get", "secret", "member-credentials", "-n", "federation-system"),
			`secrets "member-credentials" is forbidden: User "alice" cannot get resource "secrets" in API group "" in the namespace "federation-system"`)
		mustContain(t, "alice lists secrets everywhere", aliceFedK.fails(t, "get", "secrets", "--all-namespaces"),
			`secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" at the cluster scope`)
		mustContain(t, "alice deletes team-a", aliceFedK.fails(t, "delete", "namespace", "team-a"),
			`namespaces "team-a" is forbidden: User "alice" cannot delete resource "namespaces"`)
	})

	t.Run("audit records every write, without bodies", func(t *testing.T) {
		events := readAuditLog(t, fed.auditLog)
		for _, w := range []struct {
			user, verb, resource, namespace, name string
			code                                  int32
		}{
			{"alice", "create", "configmaps", "team-a", "settings", http.StatusCreated},
			{"alice", "create", "deployments", "team-a", "web", http.StatusCreated},
			{"alice", "create", "configmaps", "team-b", "", http.StatusForbidden},
			{"alice", "delete", "namespaces", "team-a", "team-a", http.StatusForbidden}, // a namespace is its own namespace in audit
			{"admin", "create", "secrets", "federation-system", "member-credentials", http.StatusCreated},
			{"admin", "patch", "clusters", "", "east", http.StatusOK},
		} {
			if !slices.ContainsFunc(events, func(e auditEvent) bool {
				return e.User.Username == w.user && e.Verb == w.verb && e.ObjectRef.Resource == w.resource &&
					e.ObjectRef.Namespace == w.namespace && (w.name == "" || e.ObjectRef.Name == w.name) && e.ResponseStatus.Code == w.code
			}) {
				t.Errorf("no audit event for %+v among %d events", w, len(events))
			}
		}
		for _, e := range events {
			if e.RequestObject != nil || e.ResponseObject != nil || e.Level != "Metadata" {
				t.Errorf("audit event %s %s/%s at level %s carries a body: the policy records writes at Metadata", e.Verb, e.ObjectRef.Resource, e.ObjectRef.Name, e.Level)
			}
			if slices.Contains([]string{"get", "list", "watch"}, e.Verb) {
				t.Errorf("audit event for a read (%s %s): the policy records writes only", e.Verb, e.ObjectRef.Resource)
			}
		}
		if raw, err := os.ReadFile(fed.auditLog); err != nil || strings.Contains(string(raw), "secret-value") || strings.Contains(string(raw), base64.StdEncoding.EncodeToString([]byte("secret-value"))) {
			t.Errorf("the audit log holds the secret's value (or cannot be read: %v)", err)
		}
	})
}

// auditPolicy records every write at Metadata (who, what, when, the answer;
// never a body, so no Secret's value reaches the log) and nothing else, as
// docs/admin-guide.md suggests.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  verbs: [create, update, patch, delete, deletecollection]
- level: None
`

// auditEvent is the part of an audit.k8s.io/v1 Event the test reads.
type auditEvent struct {
	Level string `json:"level"`
	Verb  string `json:"verb"`
	User  struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef struct {
		Resource  string `json:"resource"`
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"objectRef"`
	ResponseStatus struct {
		Code int32 `json:"code"`
	} `json:"responseStatus"`
	RequestObject  json.RawMessage `json:"requestObject"`
	ResponseObject json.RawMessage `json:"responseObject"`
}

// readAuditLog reads the JSON lines of an audit log, waiting until it has
// some (the log backend writes in batches).
func readAuditLog(t *testing.T, path string) []auditEvent {
	t.Helper()
	var events []auditEvent
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		raw, err := os.ReadFile(path)
		if err != nil {
			return false, nil
		}
		events = nil
		for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			var e auditEvent
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				return false, fmt.Errorf("audit line %q: %w", line, err)
			}
			events = append(events, e)
		}
		return len(events) > 0, nil
	})
	if err != nil {
		t.Fatalf("audit log %s: %v", path, err)
	}
	return events
}

// delegatingAPIServer is a federation-apiserver that delegates
// authentication and authorization to a host cluster.
type delegatingAPIServer struct {
	port       int
	server     string
	kubeconfig string
	auditLog   string
}

// startDelegatingAPIServer starts a federation-apiserver, beside the one
// the framework started, with the framework's flags except for its
// authentication: no --client-ca-file, but --authentication-kubeconfig and
// --authorization-kubeconfig of the host's admin. Its serving certificate
// is valid for federation-apiserver.federation-system.svc, the name
// kube-aggregator checks.
func startDelegatingAPIServer(ctx context.Context, t *testing.T, f *framework.Federation, host *framework.Member, dir string) delegatingAPIServer {
	t.Helper()
	port, err := framework.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := f.PKI.CA.IssueServing(dir, "serving", []string{"localhost", "federation-apiserver.federation-system.svc"}, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	hostKubeconfig := filepath.Join(dir, "host.kubeconfig")
	if err := framework.WriteKubeconfig(hostKubeconfig, host.Endpoint); err != nil {
		t.Fatal(err)
	}
	policy, auditLog := filepath.Join(dir, "audit-policy.yaml"), filepath.Join(dir, "audit.log")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	p := framework.NewProcess("aggregated-federation-apiserver", framework.Binary("federation-apiserver"), []string{
		"--secure-port=" + strconv.Itoa(port),
		"--bind-address=127.0.0.1",
		"--tls-cert-file=" + cert,
		"--tls-private-key-file=" + key,
		"--etcd-servers=" + f.Etcd.ClientURL,
		// Its own prefix: this is a second federation, not a replica.
		"--etcd-prefix=/aggregated-federation/registry",
		"--authentication-kubeconfig=" + hostKubeconfig,
		"--authorization-kubeconfig=" + hostKubeconfig,
		"--audit-policy-file=" + policy,
		"--audit-log-path=" + auditLog,
	}, f.LogDir)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(10 * time.Second) })

	// The host's admin is in system:masters and its certificate is signed
	// by the client CA the host publishes, so it is the federation's admin
	// too.
	ep := framework.Endpoint{
		Context:  "aggregated-federation",
		Server:   fmt.Sprintf("https://127.0.0.1:%d", port),
		CAFile:   f.PKI.CA.CertFile,
		CertFile: host.Endpoint.CertFile,
		KeyFile:  host.Endpoint.KeyFile,
	}
	s := delegatingAPIServer{port: port, server: ep.Server, kubeconfig: filepath.Join(dir, "federation.kubeconfig"), auditLog: auditLog}
	if err := framework.WriteKubeconfig(s.kubeconfig, ep); err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(ep.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	err = p.WaitFor(waitCtx, "ready, with its namespaces", func(ctx context.Context) error {
		body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return err
		}
		if string(body) != "ok" {
			return fmt.Errorf("/readyz: %s", body)
		}
		_, err = client.CoreV1().Namespaces().Get(ctx, "federation-system", metav1.GetOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// routeToServices restarts the host's kube-apiserver with
// --enable-aggregator-routing=false, so that its aggregator resolves the
// ExternalName service of testdata/aggregation.yaml.
func routeToServices(ctx context.Context, t *testing.T, host *framework.Member) {
	t.Helper()
	i := slices.Index(host.APIServer.Args, "--enable-aggregator-routing=true")
	if i < 0 {
		t.Fatalf("the host's kube-apiserver has no --enable-aggregator-routing=true to turn off: %q", host.APIServer.Args)
	}
	args := slices.Clone(host.APIServer.Args)
	args[i] = "--enable-aggregator-routing=false"
	host.APIServer.Args = args
	if err := host.APIServer.Restart(); err != nil {
		t.Fatalf("restart the host's kube-apiserver: %v", err)
	}
	if err := host.WaitReady(ctx); err != nil {
		t.Fatalf("the host's kube-apiserver after its restart: %v", err)
	}
}
