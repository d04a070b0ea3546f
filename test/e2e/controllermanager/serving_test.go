// Package controllermanager tests what the federation-controller-manager
// serves on its secure port, and to whom.
package controllermanager

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kfederation/federation/test/framework"
)

// identity is how a request proves who sent it: a client certificate, a
// bearer token, or nothing.
type identity struct {
	cert  *tls.Certificate
	token string
}

// get sends GET path to server as id, trusting only roots, and returns the
// status code and body.
func get(ctx context.Context, server string, roots *x509.CertPool, id identity, path string) (int, string, error) {
	tlsConfig := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if id.cert != nil {
		tlsConfig.Certificates = []tls.Certificate{*id.cert}
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+path, nil)
	if err != nil {
		return 0, "", err
	}
	if id.token != "" {
		req.Header.Set("Authorization", "Bearer "+id.token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// TestSecureServing proves the controller manager's secure port: the health
// paths answer anyone over HTTPS; /metrics needs a user allowed to get it,
// whether a client certificate of --client-ca-file (the federation's admin,
// system:masters) or a bearer token that the cluster of
// --authentication-kubeconfig knows and whose RBAC, asked through
// --authorization-kubeconfig, allows it; /debug/pprof is served only with
// --profiling, and then only to such users; and without --tls-cert-file the
// serving certificate is a self-signed one.
//
// The cluster asked here is a member kube-apiserver, named by the two
// flags, standing in for a host cluster; without them the controller
// manager asks the federation-apiserver (TestMetricsAreAuthorizedByTheFederation).
func TestSecureServing(t *testing.T) {
	f := framework.StartForTest(t, framework.Options{
		Members:               []framework.MemberOptions{{Name: "host", APIServerOnly: true}},
		ControllerManagerArgs: []string{"--leader-elect=false"},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	host := f.Members[0]
	hostKubeconfig := filepath.Join(f.Dir, "host-cluster.kubeconfig")
	if err := framework.WriteKubeconfig(hostKubeconfig, host.Endpoint); err != nil {
		t.Fatal(err)
	}
	baseArgs := slices.Clip(f.ControllerManager.Args)
	restart := func(t *testing.T, args ...string) {
		t.Helper()
		f.ControllerManager.Args = args
		if err := f.ControllerManager.Restart(); err != nil {
			t.Fatal(err)
		}
	}
	restart(t, append(baseArgs, "--authentication-kubeconfig="+hostKubeconfig, "--authorization-kubeconfig="+hostKubeconfig)...)

	// In the host cluster: a scraper allowed to get /metrics (and
	// /debug/pprof/), and a service account without rights.
	scraperToken := serviceAccountToken(ctx, t, host, "scraper")
	nobodyToken := serviceAccountToken(ctx, t, host, "nobody")
	if _, err := host.Client.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "metrics-reader"},
		Rules:      []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics", "/debug/pprof/"}, Verbs: []string{"get"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := host.Client.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "metrics-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "default", Name: "scraper"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	server := f.ControllerManagerEndpoint.Server
	roots := x509.NewCertPool()
	caPEM, err := os.ReadFile(f.PKI.CA.CertFile)
	if err != nil || !roots.AppendCertsFromPEM(caPEM) {
		t.Fatalf("read the framework's CA %s: %v", f.PKI.CA.CertFile, err)
	}
	admin, err := tls.LoadX509KeyPair(f.ControllerManagerEndpoint.CertFile, f.ControllerManagerEndpoint.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	xCert, xKey, err := f.PKI.CA.IssueClient(t.TempDir(), "x", "x")
	if err != nil {
		t.Fatal(err)
	}
	x, err := tls.LoadX509KeyPair(xCert, xKey)
	if err != nil {
		t.Fatal(err)
	}
	waitServing(t, server, roots)

	type request struct {
		name string
		id   identity
		path string
		// codes are the acceptable status codes.
		codes []int
		want  string
	}
	check := func(t *testing.T, r request) {
		t.Helper()
		// The delegated authorizer caches denials for 10 s: retry until the
		// RBAC created above is seen.
		framework.Eventually(t, 30*time.Second, r.name, func(ctx context.Context) error {
			code, body, err := get(ctx, server, roots, r.id, r.path)
			if err != nil {
				return err
			}
			if !slices.Contains(r.codes, code) {
				return fmt.Errorf("GET %s: %d, want one of %v: %.300s", r.path, code, r.codes, body)
			}
			if !strings.Contains(body, r.want) {
				return fmt.Errorf("GET %s: body has no %q: %.300s", r.path, r.want, body)
			}
			return nil
		})
	}
	ok := []int{http.StatusOK}
	denied := []int{http.StatusUnauthorized, http.StatusForbidden}

	for _, r := range []request{
		{name: "anonymous healthz", path: "/healthz", codes: ok, want: "ok"},
		{name: "anonymous livez", path: "/livez", codes: ok, want: "ok"},
		{name: "anonymous readyz", path: "/readyz", codes: ok, want: "ok"},
		{name: "anonymous metrics are forbidden", path: "/metrics", codes: []int{http.StatusForbidden}, want: `User \"system:anonymous\" cannot get path \"/metrics\"`},
		{name: "admin certificate reads metrics", id: identity{cert: &admin}, path: "/metrics", codes: ok, want: "workqueue_adds_total"},
		{name: "certificate of a user without rights is forbidden", id: identity{cert: &x}, path: "/metrics", codes: []int{http.StatusForbidden},
			want: `forbidden: User \"x\" cannot get path \"/metrics\"`},
		{name: "token of a user allowed to get /metrics", id: identity{token: scraperToken}, path: "/metrics", codes: ok, want: "workqueue_adds_total"},
		{name: "token of a user without rights is forbidden", id: identity{token: nobodyToken}, path: "/metrics", codes: []int{http.StatusForbidden},
			want: `cannot get path \"/metrics\"`},
		{name: "unknown token is unauthorized", id: identity{token: "no-such-token"}, path: "/metrics", codes: []int{http.StatusUnauthorized}},
		{name: "no profiling by default", id: identity{cert: &admin}, path: "/debug/pprof/", codes: []int{http.StatusNotFound}},
	} {
		t.Run(r.name, func(t *testing.T) { check(t, r) })
	}

	t.Run("plain HTTP is refused", func(t *testing.T) {
		code, body, err := get(ctx, strings.Replace(server, "https://", "http://", 1), nil, identity{}, "/healthz")
		if err == nil && code != http.StatusBadRequest {
			t.Errorf("GET /healthz over HTTP: %d %s; want no answer or 400", code, body)
		}
	})

	t.Run("--profiling", func(t *testing.T) {
		restart(t, append(baseArgs, "--authentication-kubeconfig="+hostKubeconfig, "--authorization-kubeconfig="+hostKubeconfig, "--profiling")...)
		waitServing(t, server, roots)
		for _, r := range []request{
			{name: "admin reads profiles", id: identity{cert: &admin}, path: "/debug/pprof/", codes: ok, want: "goroutine"},
			{name: "scraper reads profiles", id: identity{token: scraperToken}, path: "/debug/pprof/", codes: ok, want: "goroutine"},
			{name: "anonymous profiles are refused", path: "/debug/pprof/", codes: denied},
			{name: "user without rights is forbidden", id: identity{token: nobodyToken}, path: "/debug/pprof/", codes: []int{http.StatusForbidden}},
		} {
			t.Run(r.name, func(t *testing.T) { check(t, r) })
		}
	})

	t.Run("self-signed certificate without --tls-cert-file", func(t *testing.T) {
		var args []string
		for _, a := range baseArgs {
			if !strings.HasPrefix(a, "--tls-cert-file=") && !strings.HasPrefix(a, "--tls-private-key-file=") {
				args = append(args, a)
			}
		}
		restart(t, args...)
		var served *x509.Certificate
		framework.Eventually(t, time.Minute, "serving with a self-signed certificate", func(ctx context.Context) error {
			conn, err := (&tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}}).DialContext(ctx, "tcp", strings.TrimPrefix(server, "https://")) //nolint:gosec // the test reads the certificate it is served
			if err != nil {
				return err
			}
			defer conn.Close()
			served = conn.(*tls.Conn).ConnectionState().PeerCertificates[0]
			return nil
		})
		if _, err := served.Verify(x509.VerifyOptions{Roots: roots}); err == nil {
			t.Errorf("the serving certificate %q is the framework's, not a self-signed one", served.Subject)
		}
		if err := served.VerifyHostname("127.0.0.1"); err != nil {
			t.Errorf("self-signed certificate: %v", err)
		}
		code, body, err := getInsecure(ctx, server, "/healthz")
		if err != nil || code != http.StatusOK || body != "ok" {
			t.Errorf("GET /healthz with the self-signed certificate: %d %q %v", code, body, err)
		}
	})
}

// getInsecure GETs path anonymously without checking the server's
// certificate.
func getInsecure(ctx context.Context, server, path string) (int, string, error) {
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}}} //nolint:gosec // a self-signed certificate is under test
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+path, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// waitServing waits until the controller manager answers /healthz.
func waitServing(t *testing.T, server string, roots *x509.CertPool) {
	t.Helper()
	framework.Eventually(t, time.Minute, "controller manager serving /healthz", func(ctx context.Context) error {
		code, body, err := get(ctx, server, roots, identity{}, "/healthz")
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("/healthz: %d %s", code, body)
		}
		return err
	})
}

// serviceAccountToken creates the service account name in the default
// namespace of cluster m and returns a token of it.
func serviceAccountToken(ctx context.Context, t *testing.T, m *framework.Member, name string) string {
	t.Helper()
	sa, err := m.Client.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := m.Client.CoreV1().ServiceAccounts("default").CreateToken(ctx, sa.Name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Status.Token == "" {
		t.Fatal(errors.New("TokenRequest returned no token"))
	}
	return tr.Status.Token
}

// TestMetricsAreAuthorizedByTheFederation: without
// --authentication-kubeconfig and --authorization-kubeconfig, the
// controller manager asks the federation-apiserver of its --kubeconfig, as
// kube-controller-manager asks its kube-apiserver: whom the federation lets
// in may read /metrics, and whom it does not may not.
func TestMetricsAreAuthorizedByTheFederation(t *testing.T) {
	f := framework.StartForTest(t, framework.Options{ControllerManagerArgs: []string{"--leader-elect=false"}})
	server := f.ControllerManagerEndpoint.Server
	roots := x509.NewCertPool()
	caPEM, err := os.ReadFile(f.PKI.CA.CertFile)
	if err != nil || !roots.AppendCertsFromPEM(caPEM) {
		t.Fatalf("read the framework's CA %s: %v", f.PKI.CA.CertFile, err)
	}
	certFile, keyFile, err := f.PKI.CA.IssueClient(t.TempDir(), "scraper", "scraper")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	scraper := identity{cert: &cert}
	waitServing(t, server, roots)

	// The framework's federation authorizes with Webhook and no host
	// cluster: nobody but system:masters.
	ctx := context.Background()
	code, body, err := get(ctx, server, roots, scraper, "/metrics")
	if err != nil || code != http.StatusForbidden || !strings.Contains(body, `User \"scraper\" cannot get path \"/metrics\"`) {
		t.Fatalf("scraper, whom the federation allows nothing, reads /metrics: %d %.200s %v; want 403", code, body, err)
	}

	// The federation, restarted to allow every authenticated user, lets
	// the scraper in; so does the controller manager, once its cached
	// denial (10 s) expires.
	f.APIServer.Args = append(slices.Clip(f.APIServer.Args), "--authorization-mode=AlwaysAllow")
	if err := f.APIServer.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := f.WaitAPIServerReady(ctx); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, time.Minute, "the scraper reads /metrics once the federation allows it", func(ctx context.Context) error {
		code, body, err := get(ctx, server, roots, scraper, "/metrics")
		if err != nil {
			return err
		}
		if code != http.StatusOK || !strings.Contains(body, "workqueue_") {
			return fmt.Errorf("/metrics: %d %.200s", code, body)
		}
		return nil
	})
}
