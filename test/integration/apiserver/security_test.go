package apiserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kfederation/federation/test/framework"
)

// identity is how one HTTP client proves who it is: a client certificate,
// a bearer token, front-proxy headers, any mix of them, or nothing.
type identity struct {
	cert    *tls.Certificate
	token   string
	headers map[string]string
}

// caller sends raw HTTPS requests to one API server as one identity, so
// that the test sees status codes and messages exactly as served.
type caller struct {
	server string
	client *http.Client
	id     identity
}

// newCaller returns a caller that trusts the CA in caFile.
func newCaller(t testing.TB, server, caFile string, id identity) caller {
	t.Helper()
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("no certificate in %s", caFile)
	}
	tlsConfig := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if id.cert != nil {
		tlsConfig.Certificates = []tls.Certificate{*id.cert}
	}
	return caller{
		server: server,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}},
		id:     id,
	}
}

// get returns the status code and the message of a GET: a Status's
// message, or else the body.
func (c caller) get(t testing.TB, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.server+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.id.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.id.token)
	}
	for k, v := range c.id.headers {
		req.Header.Set(k, v)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", path, err)
	}
	var status struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &status) == nil && status.Kind == "Status" {
		return resp.StatusCode, status.Message
	}
	return resp.StatusCode, string(body)
}

// clientCert issues a client certificate of the federation's CA for user in
// groups and loads it.
func clientCert(t testing.TB, ca *framework.CA, user string, groups ...string) *tls.Certificate {
	t.Helper()
	certFile, keyFile, err := ca.IssueClient(t.TempDir(), "client", user, groups...)
	if err != nil {
		t.Fatal(err)
	}
	return loadCert(t, certFile, keyFile)
}

// loadCert loads a certificate and its key.
func loadCert(t testing.TB, certFile, keyFile string) *tls.Certificate {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return &cert
}

// request is one request of a table of security checks and its expected
// answer: the status code, and a message that is either exactly want or,
// if contains is set, contains it.
type request struct {
	name     string
	id       identity
	path     string
	code     int
	want     string
	contains bool
}

// check sends the request and compares the answer.
func (r request) check(t *testing.T, server, caFile string) {
	t.Helper()
	code, msg := newCaller(t, server, caFile, r.id).get(t, r.path)
	if code != r.code {
		t.Errorf("GET %s: status %d, want %d (message %q)", r.path, code, r.code, msg)
		return
	}
	if r.want == "" {
		return
	}
	if r.contains && !strings.Contains(msg, r.want) || !r.contains && msg != r.want {
		t.Errorf("GET %s: message\n  %q\nwant\n  %q", r.path, msg, r.want)
	}
}

const (
	servicesPath = "/api/v1/namespaces/default/services"
	clustersPath = "/apis/federation.k8s.io/v1beta1/clusters"
	// forbiddenServicesOfX is kube-apiserver's answer to a user x who may
	// not list the services of default.
	forbiddenServicesOfX = `services is forbidden: User "x" cannot list resource "services" in API group "" in the namespace "default"`
)

// TestAuthentication proves each way a request can authenticate to the
// federation-apiserver, and that everything else gets 401: x509 client
// certificates, --token-auth-file tokens and front-proxy headers from a
// certificate of the --requestheader-client-ca-file. Authorization stays at
// its default (Webhook without a host cluster), so only system:masters may
// do anything; an authenticated user without rights gets 403, not 401.
func TestAuthentication(t *testing.T) {
	dir, err := os.MkdirTemp("", "federation-authn-")
	if err != nil {
		t.Fatal(err)
	}
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte("reader-token,token-reader,1001,\"readers\"\nadmin-token,token-admin,1002,\"system:masters\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The framework writes the front-proxy CA to <Dir>/pki before it starts
	// the federation-apiserver; the path is checked below.
	frontProxyCA := filepath.Join(dir, "pki", "front-proxy-ca.crt")
	f := framework.StartForTest(t, framework.Options{
		Dir:                 dir,
		NoControllerManager: true,
		APIServerArgs: []string{
			"--token-auth-file=" + tokens,
			"--requestheader-client-ca-file=" + frontProxyCA,
			"--requestheader-allowed-names=front-proxy-client",
			"--requestheader-username-headers=X-Remote-User",
			"--requestheader-group-headers=X-Remote-Group",
			"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		},
	})
	if f.PKI.FrontProxyCA.CertFile != frontProxyCA {
		t.Fatalf("the framework keeps the front-proxy CA in %s, not %s", f.PKI.FrontProxyCA.CertFile, frontProxyCA)
	}

	rogueCA, err := framework.NewCA(t.TempDir(), "rogue-ca")
	if err != nil {
		t.Fatal(err)
	}
	masters := loadCert(t, f.Endpoint.CertFile, f.Endpoint.KeyFile)
	x := clientCert(t, f.PKI.CA, "x")
	frontProxy := loadCert(t, f.PKI.FrontProxyClientCert, f.PKI.FrontProxyClientKey)
	// Named like the front proxy, but signed by the client CA: it is a user
	// called front-proxy-client, not a front proxy.
	fakeProxy := clientCert(t, f.PKI.CA, "front-proxy-client")
	asAdmin := map[string]string{"X-Remote-User": "proxied-admin", "X-Remote-Group": "system:masters"}

	for _, r := range []request{
		{name: "anonymous is unauthorized", path: servicesPath, code: http.StatusUnauthorized, want: "Unauthorized"},
		{name: "anonymous discovery is unauthorized", path: "/apis", code: http.StatusUnauthorized},
		{name: "anonymous version is unauthorized", path: "/version", code: http.StatusUnauthorized},
		{name: "anonymous metrics are unauthorized", path: "/metrics", code: http.StatusUnauthorized},
		{name: "anonymous healthz", path: "/healthz", code: http.StatusOK, want: "ok"},
		{name: "anonymous livez", path: "/livez", code: http.StatusOK, want: "ok"},
		{name: "anonymous readyz", path: "/readyz", code: http.StatusOK, want: "ok"},
		{name: "unknown token", id: identity{token: "no-such-token"}, path: servicesPath, code: http.StatusUnauthorized},
		{name: "token of a user without rights is authenticated but forbidden", id: identity{token: "reader-token"}, path: servicesPath,
			code: http.StatusForbidden, want: `services is forbidden: User "token-reader" cannot list resource "services" in API group "" in the namespace "default"`},
		{name: "token of a system:masters user", id: identity{token: "admin-token"}, path: servicesPath, code: http.StatusOK},
		{name: "certificate of a user without rights is authenticated but forbidden", id: identity{cert: x}, path: servicesPath,
			code: http.StatusForbidden, want: forbiddenServicesOfX},
		{name: "certificate of system:masters", id: identity{cert: masters}, path: servicesPath, code: http.StatusOK},
		{name: "system:masters may read metrics", id: identity{cert: masters}, path: "/metrics", code: http.StatusOK,
			want: "apiserver_request_total", contains: true},
		{name: "certificate of an unknown CA", id: identity{cert: clientCert(t, rogueCA, "admin", "system:masters")}, path: servicesPath,
			code: http.StatusUnauthorized},
		{name: "front proxy asserts a system:masters user", id: identity{cert: frontProxy, headers: asAdmin}, path: servicesPath, code: http.StatusOK},
		{name: "front proxy asserts a user without rights", id: identity{cert: frontProxy, headers: map[string]string{"X-Remote-User": "proxied-user"}},
			path: servicesPath, code: http.StatusForbidden,
			want: `services is forbidden: User "proxied-user" cannot list resource "services" in API group "" in the namespace "default"`},
		{name: "front-proxy headers without a front-proxy certificate are ignored", id: identity{headers: asAdmin}, path: servicesPath,
			code: http.StatusUnauthorized},
		{name: "front-proxy headers of a client certificate are ignored", id: identity{cert: x, headers: asAdmin}, path: servicesPath,
			code: http.StatusForbidden, want: forbiddenServicesOfX},
		{name: "front-proxy headers of a client certificate named like the proxy are ignored", id: identity{cert: fakeProxy, headers: asAdmin},
			path: servicesPath, code: http.StatusForbidden, want: `User "front-proxy-client" cannot list resource "services"`, contains: true},
	} {
		t.Run(r.name, func(t *testing.T) { r.check(t, f.Endpoint.Server, f.PKI.CA.CertFile) })
	}
}

// TestAuthorization proves each --authorization-mode: Webhook without a host
// cluster (the default) and AlwaysDeny let only system:masters in, with
// kube-apiserver's forbidden messages; AlwaysAllow lets every authenticated
// user in, and still no anonymous one. The health endpoints stay open
// anonymously in every mode, and an unknown mode keeps the server from
// starting.
func TestAuthorization(t *testing.T) {
	f := framework.StartForTest(t, framework.Options{NoControllerManager: true})
	baseArgs := slices.Clip(f.APIServer.Args)
	masters := loadCert(t, f.Endpoint.CertFile, f.Endpoint.KeyFile)
	x := clientCert(t, f.PKI.CA, "x")

	open := []request{
		{name: "anonymous healthz", path: "/healthz", code: http.StatusOK, want: "ok"},
		{name: "anonymous livez", path: "/livez", code: http.StatusOK, want: "ok"},
		{name: "anonymous readyz", path: "/readyz", code: http.StatusOK, want: "ok"},
		{name: "system:masters", id: identity{cert: masters}, path: servicesPath, code: http.StatusOK},
		{name: "system:masters reads metrics", id: identity{cert: masters}, path: "/metrics", code: http.StatusOK},
		{name: "anonymous is unauthorized", path: servicesPath, code: http.StatusUnauthorized},
		{name: "anonymous metrics are unauthorized", path: "/metrics", code: http.StatusUnauthorized},
	}
	for _, mode := range []struct {
		name  string
		flags []string
		cases []request
	}{
		{name: "Webhook without a host cluster (default)", cases: []request{
			{name: "user without rights lists services", id: identity{cert: x}, path: servicesPath, code: http.StatusForbidden, want: forbiddenServicesOfX},
			{name: "user without rights lists clusters", id: identity{cert: x}, path: clustersPath, code: http.StatusForbidden,
				want: `clusters.federation.k8s.io is forbidden: User "x" cannot list resource "clusters" in API group "federation.k8s.io" at the cluster scope`},
			{name: "user without rights reads metrics", id: identity{cert: x}, path: "/metrics", code: http.StatusForbidden,
				want: `forbidden: User "x" cannot get path "/metrics"`},
		}},
		{name: "AlwaysAllow", flags: []string{"--authorization-mode=AlwaysAllow"}, cases: []request{
			{name: "any user lists services", id: identity{cert: x}, path: servicesPath, code: http.StatusOK},
			{name: "any user lists clusters", id: identity{cert: x}, path: clustersPath, code: http.StatusOK},
			{name: "any user reads metrics", id: identity{cert: x}, path: "/metrics", code: http.StatusOK},
		}},
		{name: "AlwaysDeny", flags: []string{"--authorization-mode=AlwaysDeny"}, cases: []request{
			{name: "user lists services", id: identity{cert: x}, path: servicesPath, code: http.StatusForbidden,
				want: forbiddenServicesOfX + ": Everything is forbidden."},
		}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			if mode.flags != nil {
				f.APIServer.Args = append(baseArgs, mode.flags...)
				restartAPIServer(t, f)
			}
			for _, r := range append(mode.cases, open...) {
				t.Run(r.name, func(t *testing.T) { r.check(t, f.Endpoint.Server, f.PKI.CA.CertFile) })
			}
		})
	}

	t.Run("unknown mode is refused", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, framework.Binary("federation-apiserver"),
			"--authorization-mode=RBAC", "--etcd-servers=http://127.0.0.1:1", "--cert-dir="+t.TempDir(), "--secure-port=1")
		out, err := cmd.CombinedOutput()
		if err == nil || ctx.Err() != nil {
			t.Fatalf("federation-apiserver --authorization-mode=RBAC: want a quick failure, got %v\n%s", err, out)
		}
		// klog quotes the error, so the mode's own quotes are escaped.
		mustContain(t, "federation-apiserver output", string(out), `--authorization-mode: unknown mode \"RBAC\"`, "use any of AlwaysAllow,AlwaysDeny,Webhook")
	})
}

// TestSystemNamespacesCannotBeDeleted: as kube-apiserver refuses to delete
// default, kube-system and kube-public, the federation also refuses
// federation-system, which holds every member's credentials.
func TestSystemNamespacesCannotBeDeleted(t *testing.T) {
	f := framework.StartForTest(t, framework.Options{NoControllerManager: true})
	ctx := context.Background()
	// The federation bootstraps kube's own system namespaces, as
	// kube-apiserver does, besides its own.
	for _, ns := range []string{"kube-system", "kube-public"} {
		if _, err := f.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
			t.Errorf("namespace %s is not bootstrapped: %v", ns, err)
		}
	}
	for _, ns := range []string{"default", "kube-system", "kube-public", "federation-system"} {
		err := f.Client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "may not be deleted") {
			t.Errorf("delete namespace %s: %v, want 403 Forbidden: this namespace may not be deleted", ns, err)
		}
		got, err := f.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil || got.DeletionTimestamp != nil {
			t.Errorf("namespace %s after the refused delete: %v, %v", ns, got, err)
		}
	}
	// Any other namespace goes as usual.
	if _, err := f.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "mortal"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Client.CoreV1().Namespaces().Delete(ctx, "mortal", metav1.DeleteOptions{}); err != nil {
		t.Errorf("delete namespace mortal: %v", err)
	}
}
