package clusterclient

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"

	"github.com/kfederation/federation/pkg/apis/federation/annotations"
)

func TestServerAddress(t *testing.T) {
	cases := []struct {
		name  string
		addrs []federationv1beta1.ServerAddressByClientCIDR
		want  string
		err   bool
	}{
		{"none", nil, "", true},
		{"the entry for every client wins", []federationv1beta1.ServerAddressByClientCIDR{
			{ClientCIDR: "10.0.0.0/8", ServerAddress: "https://internal:6443"},
			{ClientCIDR: "0.0.0.0/0", ServerAddress: "https://public:6443"}}, "https://public:6443", false},
		{"IPv6 every client", []federationv1beta1.ServerAddressByClientCIDR{
			{ClientCIDR: "10.0.0.0/8", ServerAddress: "https://internal:6443"},
			{ClientCIDR: "::/0", ServerAddress: "https://v6:6443"}}, "https://v6:6443", false},
		{"else the first", []federationv1beta1.ServerAddressByClientCIDR{
			{ClientCIDR: "10.0.0.0/8", ServerAddress: "https://internal:6443"},
			{ClientCIDR: "192.168.0.0/16", ServerAddress: "https://other:6443"}}, "https://internal:6443", false},
		{"https by default", []federationv1beta1.ServerAddressByClientCIDR{
			{ClientCIDR: "0.0.0.0/0", ServerAddress: "member.example.com:6443"}}, "https://member.example.com:6443", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &federationv1beta1.Cluster{Spec: federationv1beta1.ClusterSpec{ServerAddressByClientCIDRs: tc.addrs}}
			c.Name = "m"
			got, err := ServerAddress(c)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("ServerAddress = %q, %v; want %q, error %v", got, err, tc.want, tc.err)
			}
		})
	}
}

// secretValue is in every credential of the test kubeconfigs: no error may
// quote it.
const secretValue = "s3cr3t"

// kubeconfig returns a kubeconfig whose current context uses cluster c and
// user u, given as the YAML of their fields, indented by 4 spaces.
func kubeconfig(c, u string) string {
	return `apiVersion: v1
kind: Config
current-context: ctx
contexts:
- name: ctx
  context: {cluster: member, user: fed}
clusters:
- name: member
  cluster:
    server: https://kubeconfig-server:6443
` + c + `users:
- name: fed
  user:
` + u
}

const (
	tokenUser = "    token: " + secretValue + "-token\n"
	certUser  = "    client-certificate-data: Y2VydA==\n    client-key-data: a2V5\n"
	caCluster = "    certificate-authority-data: Y2E=\n"
)

func testCluster(annotations map[string]string) *federationv1beta1.Cluster {
	c := &federationv1beta1.Cluster{Spec: federationv1beta1.ClusterSpec{ServerAddressByClientCIDRs: []federationv1beta1.ServerAddressByClientCIDR{
		{ClientCIDR: "0.0.0.0/0", ServerAddress: "https://member:6443"}}}}
	c.Name, c.Annotations = "m", annotations
	return c
}

var insecureAnnotation = map[string]string{annotations.InsecureSkipTLSVerify: "true"}

// restConfigCase is one Secret and Cluster, and the expected outcome: a
// config, a refused field, or another credential error.
type restConfigCase struct {
	name        string
	data        map[string]string
	annotations map[string]string
	// refused is the path of the refused field; "" if none.
	refused string
	// invalid is a substring of an ErrCredentials error that is not a refusal.
	invalid string
	// configErr is a substring of an error that is not about credentials.
	configErr string
	want      *rest.Config
}

var restConfigCases = []restConfigCase{
	{name: "token Secret", data: map[string]string{SecretTokenKey: " tok\n", SecretCAKey: "ca"},
		want: &rest.Config{Host: "https://member:6443", BearerToken: "tok", TLSClientConfig: rest.TLSClientConfig{CAData: []byte("ca")}}},
	{name: "token Secret, Cluster skips TLS verification", data: map[string]string{SecretTokenKey: "tok", SecretCAKey: "ca"}, annotations: insecureAnnotation,
		want: &rest.Config{Host: "https://member:6443", BearerToken: "tok", TLSClientConfig: rest.TLSClientConfig{Insecure: true}}},
	{name: "no keys", data: map[string]string{"other": "x"}, invalid: "neither"},
	{name: "kubeconfig with token and CA; the Cluster's address wins",
		data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster+"    tls-server-name: member.internal\n", tokenUser)},
		want: &rest.Config{Host: "https://member:6443", BearerToken: secretValue + "-token", TLSClientConfig: rest.TLSClientConfig{CAData: []byte("ca"), ServerName: "member.internal"}}},
	{name: "kubeconfig with client certificate",
		data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster+"    disable-compression: true\n", certUser)},
		want: &rest.Config{Host: "https://member:6443", DisableCompression: true, TLSClientConfig: rest.TLSClientConfig{CertData: []byte("cert"), KeyData: []byte("key"), CAData: []byte("ca")}}},
	{name: "kubeconfig asking to skip TLS verification, allowed by the Cluster", annotations: insecureAnnotation,
		data: map[string]string{SecretKubeconfigKey: kubeconfig("    insecure-skip-tls-verify: true\n", tokenUser)},
		want: &rest.Config{Host: "https://member:6443", BearerToken: secretValue + "-token", TLSClientConfig: rest.TLSClientConfig{Insecure: true}}},
	{name: "Cluster skips TLS verification, the kubeconfig's CA is dropped", annotations: insecureAnnotation,
		data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster, tokenUser)},
		want: &rest.Config{Host: "https://member:6443", BearerToken: secretValue + "-token", TLSClientConfig: rest.TLSClientConfig{Insecure: true}}},
	{name: "Cluster says false", annotations: map[string]string{annotations.InsecureSkipTLSVerify: "false"},
		data:    map[string]string{SecretKubeconfigKey: kubeconfig("    insecure-skip-tls-verify: true\n", tokenUser)},
		refused: "clusters[0].cluster.insecure-skip-tls-verify"},
	{name: "Cluster annotation not true or false", annotations: map[string]string{annotations.InsecureSkipTLSVerify: "yes"},
		data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster, tokenUser)}, configErr: annotations.InsecureSkipTLSVerify},
	{name: "other users and clusters are ignored, exec included",
		data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster, tokenUser) + `- name: other
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: touch}
`},
		want: &rest.Config{Host: "https://member:6443", BearerToken: secretValue + "-token", TLSClientConfig: rest.TLSClientConfig{CAData: []byte("ca")}}},

	{name: "exec", data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster, tokenUser+"    exec: {apiVersion: client.authentication.k8s.io/v1, command: touch, args: [marker]}\n")},
		refused: "users[0].user.exec"},
	{name: "auth-provider", data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster, "    auth-provider: {name: oidc, config: {id-token: "+secretValue+"}}\n")},
		refused: "users[0].user.auth-provider"},
	{name: "tokenFile", data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster, tokenUser+"    tokenFile: /etc/shadow\n")},
		refused: "users[0].user.tokenFile"},
	{name: "client-certificate", data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster, "    client-certificate: /etc/cert\n    client-key-data: a2V5\n")},
		refused: "users[0].user.client-certificate"},
	{name: "client-key", data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster, "    client-certificate-data: Y2VydA==\n    client-key: /etc/key\n")},
		refused: "users[0].user.client-key"},
	{name: "certificate-authority", data: map[string]string{SecretKubeconfigKey: kubeconfig("    certificate-authority: /etc/ca\n", tokenUser)},
		refused: "clusters[0].cluster.certificate-authority"},
	{name: "username", data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster, "    username: admin\n    password: "+secretValue+"\n")},
		refused: "users[0].user.username"},
	{name: "password", data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster, tokenUser+"    password: "+secretValue+"\n")},
		refused: "users[0].user.password"},
	{name: "as", data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster, tokenUser+"    as: system:admin\n")},
		refused: "users[0].user.as"},
	{name: "as-uid", data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster, tokenUser+"    as-uid: \"1\"\n")},
		refused: "users[0].user.as-uid"},
	{name: "as-groups", data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster, tokenUser+"    as-groups: [system:masters]\n")},
		refused: "users[0].user.as-groups"},
	{name: "as-user-extra", data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster, tokenUser+"    as-user-extra: {scopes: [all]}\n")},
		refused: "users[0].user.as-user-extra"},
	{name: "proxy-url", data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster+"    proxy-url: http://proxy:3128\n", tokenUser)},
		refused: "clusters[0].cluster.proxy-url"},
	{name: "insecure-skip-tls-verify without the Cluster's consent", data: map[string]string{SecretKubeconfigKey: kubeconfig("    insecure-skip-tls-verify: true\n", tokenUser)},
		refused: "clusters[0].cluster.insecure-skip-tls-verify"},
	{name: "the path has the index of the current context's user and cluster",
		data: map[string]string{SecretKubeconfigKey: `current-context: ctx
contexts:
- {name: ctx, context: {cluster: second, user: second}}
clusters:
- {name: first, cluster: {server: https://a}}
- {name: second, cluster: {server: https://b, certificate-authority-data: Y2E=}}
users:
- {name: first, user: {token: ` + secretValue + `}}
- {name: second, user: {token: ` + secretValue + `, tokenFile: /etc/token}}
`}, refused: "users[1].user.tokenFile"},

	{name: "not a kubeconfig", data: map[string]string{SecretKubeconfigKey: "token: " + secretValue + "\n\t]"}, invalid: "does not parse"},
	{name: "duplicate users, an error that would quote them", data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster, tokenUser) + "- name: fed\n  user: {token: " + secretValue + "}\n"},
		invalid: "does not parse"},
	{name: "no current context", data: map[string]string{SecretKubeconfigKey: "users:\n- {name: fed, user: {token: " + secretValue + "}}\n"}, invalid: "no current-context"},
	{name: "current context missing", data: map[string]string{SecretKubeconfigKey: "current-context: other\n"}, invalid: "names no context"},
	{name: "user missing", data: map[string]string{SecretKubeconfigKey: strings.Replace(kubeconfig(caCluster, tokenUser), "user: fed}", "user: nobody}", 1)}, invalid: "user is not in users"},
	{name: "cluster missing", data: map[string]string{SecretKubeconfigKey: strings.Replace(kubeconfig(caCluster, tokenUser), "cluster: member,", "cluster: nowhere,", 1)}, invalid: "cluster is not in clusters"},
	{name: "no credentials", data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster, "    extensions: []\n")}, invalid: "users[0].user has neither a token nor"},
	{name: "certificate without key", data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster, "    client-certificate-data: Y2VydA==\n")}, invalid: "no client-key-data"},
	{name: "key without certificate", data: map[string]string{SecretKubeconfigKey: kubeconfig(caCluster, "    client-key-data: a2V5\n")}, invalid: "no client-certificate-data"},
}

func testSecret(data map[string]string) *corev1.Secret {
	s := &corev1.Secret{Data: map[string][]byte{}}
	s.Namespace, s.Name = federationv1beta1.FederationSystemNamespace, "m"
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func TestRESTConfig(t *testing.T) {
	for _, tc := range restConfigCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RESTConfig(testCluster(tc.annotations), testSecret(tc.data))
			if err != nil && strings.Contains(err.Error(), secretValue) {
				t.Errorf("error quotes a credential: %v", err)
			}
			var refused *RefusedError
			switch {
			case tc.refused != "":
				if !errors.As(err, &refused) || refused.Field != tc.refused || !errors.Is(err, ErrCredentials) {
					t.Fatalf("err = %v, want field %s refused", err, tc.refused)
				}
				if !strings.Contains(err.Error(), tc.refused) {
					t.Errorf("error %q does not name %s", err, tc.refused)
				}
			case tc.invalid != "":
				if !errors.Is(err, ErrCredentials) || errors.As(err, &refused) || !strings.Contains(err.Error(), tc.invalid) {
					t.Fatalf("err = %v, want a credentials error with %q", err, tc.invalid)
				}
			case tc.configErr != "":
				if err == nil || errors.Is(err, ErrCredentials) || !strings.Contains(err.Error(), tc.configErr) {
					t.Fatalf("err = %v, want an error about the Cluster with %q", err, tc.configErr)
				}
			default:
				if err != nil {
					t.Fatalf("RESTConfig: %v", err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("RESTConfig =\n%#v\nwant\n%#v", got, tc.want)
				}
			}
			if err != nil && got != nil {
				t.Errorf("RESTConfig returned a config with error %v", err)
			}
		})
	}
}

// TestRESTConfigRunsAndReadsNothing uses whatever RESTConfig returns for a
// kubeconfig with an exec plugin or a tokenFile, as the controllers would,
// and checks that the command never ran and the file was never sent.
func TestRESTConfigRunsAndReadsNothing(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "marker")
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("file-"+secretValue), 0o600); err != nil {
		t.Fatal(err)
	}
	var authorizations []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		authorizations = append(authorizations, r.Header.Get("Authorization"))
		mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	cluster := testCluster(nil)
	cluster.Spec.ServerAddressByClientCIDRs[0].ServerAddress = srv.URL

	for name, user := range map[string]string{
		"exec": `    exec:
      apiVersion: client.authentication.k8s.io/v1
      interactiveMode: Never
      command: sh
      args: ["-c", "touch ` + marker + `; echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"exec\"}}'"]
`,
		"tokenFile":          "    tokenFile: " + tokenFile + "\n",
		"client-certificate": "    client-certificate: " + filepath.Join(dir, "does-not-exist") + "\n    client-key-data: a2V5\n",
	} {
		t.Run(name, func(t *testing.T) {
			mu.Lock()
			authorizations = nil
			mu.Unlock()
			cfg, err := RESTConfig(cluster, testSecret(map[string]string{SecretKubeconfigKey: kubeconfig("", user)}))
			if err == nil {
				// Make the one request a controller would, which is when
				// client-go runs exec plugins and reads token files.
				client, err := rest.HTTPClientFor(cfg)
				if err != nil {
					t.Fatalf("HTTPClientFor: %v", err)
				}
				if resp, err := client.Get(srv.URL + "/readyz"); err == nil {
					_ = resp.Body.Close()
				}
				t.Errorf("RESTConfig accepted a kubeconfig with %s", name)
			}
			if _, err := os.Stat(marker); !os.IsNotExist(err) {
				t.Errorf("the exec command ran: %s exists", marker)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, a := range authorizations {
				if strings.Contains(a, secretValue) {
					t.Errorf("a request carried the token file's token")
				}
			}
		})
	}
}

// TestKubeconfigFieldsKnown fails when client-go adds a kubeconfig field
// that kubeconfigRESTConfig neither honours nor refuses, so that someone
// decides which it should be instead of it being ignored.
func TestKubeconfigFieldsKnown(t *testing.T) {
	known := map[reflect.Type][]string{
		reflect.TypeOf(clientcmdapi.AuthInfo{}): {"LocationOfOrigin", "ClientCertificate", "ClientCertificateData", "ClientKey", "ClientKeyData",
			"Token", "TokenFile", "Impersonate", "ImpersonateUID", "ImpersonateGroups", "ImpersonateUserExtra", "Username", "Password",
			"AuthProvider", "Exec", "Extensions"},
		reflect.TypeOf(clientcmdapi.Cluster{}): {"LocationOfOrigin", "Server", "TLSServerName", "InsecureSkipTLSVerify", "CertificateAuthority",
			"CertificateAuthorityData", "ProxyURL", "DisableCompression", "Extensions"},
		reflect.TypeOf(clientcmdapi.Context{}): {"LocationOfOrigin", "Cluster", "AuthInfo", "Namespace", "Extensions"},
	}
	for typ, fields := range known {
		var got []string
		for i := range typ.NumField() {
			got = append(got, typ.Field(i).Name)
		}
		if !reflect.DeepEqual(got, fields) {
			t.Errorf("clientcmd api.%s has fields %v, kubeconfigRESTConfig knows %v: decide whether each new one is honoured or refused", typ.Name(), got, fields)
		}
	}
}

// FuzzRESTConfig feeds kubeconfigs to RESTConfig: it must not panic, and
// whatever it accepts must be inline credentials only.
func FuzzRESTConfig(f *testing.F) {
	for _, tc := range restConfigCases {
		if kc, ok := tc.data[SecretKubeconfigKey]; ok {
			f.Add([]byte(kc), tc.annotations != nil)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, insecure bool) {
		var a map[string]string
		if insecure {
			a = insecureAnnotation
		}
		secret := &corev1.Secret{Data: map[string][]byte{SecretKubeconfigKey: data}}
		cfg, err := RESTConfig(testCluster(a), secret)
		if err != nil {
			if cfg != nil || (len(data) > 0 && !errors.Is(err, ErrCredentials)) {
				t.Fatalf("RESTConfig = %v, %v", cfg, err)
			}
			return
		}
		if cfg.ExecProvider != nil || cfg.AuthProvider != nil || cfg.BearerTokenFile != "" || cfg.CertFile != "" || cfg.KeyFile != "" ||
			cfg.CAFile != "" || cfg.Username != "" || cfg.Password != "" || cfg.Proxy != nil || !reflect.DeepEqual(cfg.Impersonate, rest.ImpersonationConfig{}) ||
			cfg.Host != "https://member:6443" || cfg.Insecure != insecure || (cfg.Insecure && len(cfg.CAData) > 0) {
			t.Fatalf("RESTConfig accepted more than inline credentials: %#v", cfg)
		}
	})
}
