package coredns

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	certutil "k8s.io/client-go/util/cert"
)

// tlsFiles writes a certificate, its key and a file that is no PEM into a
// temporary directory and returns their paths.
func tlsFiles(t *testing.T) (cert, key, notPEM string) {
	t.Helper()
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey("etcd.dns", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key, notPEM = filepath.Join(dir, "etcd.crt"), filepath.Join(dir, "etcd.key"), filepath.Join(dir, "not.pem")
	for path, data := range map[string][]byte{cert: certPEM, key: keyPEM, notPEM: []byte("hello")} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return cert, key, notPEM
}

func TestNewFromConfig(t *testing.T) {
	cert, key, notPEM := tlsFiles(t)
	for _, tc := range []struct {
		name       string
		yaml       string
		wantPrefix string
		// wantErr is part of the error; empty when the config is valid.
		wantErr string
	}{
		{name: "endpoints only", yaml: "etcdEndpoints: [http://127.0.0.1:2379]", wantPrefix: "/skydns"},
		{name: "a path", yaml: "etcdEndpoints: [http://127.0.0.1:2379]\npath: dns/federation/", wantPrefix: "/dns/federation"},
		{name: "TLS", yaml: "etcdEndpoints: [https://127.0.0.1:2379, https://127.0.0.2:2379]\netcdCertFile: " + cert + "\netcdKeyFile: " + key + "\netcdCAFile: " + cert, wantPrefix: "/skydns"},
		{name: "https with the system's CAs", yaml: "etcdEndpoints: [https://etcd.dns:2379]", wantPrefix: "/skydns"},
		{name: "empty", yaml: "", wantErr: "etcdEndpoints: required"},
		{name: "a misspelt field", yaml: "etcdEndpoint: [http://127.0.0.1:2379]", wantErr: `unknown field "etcdEndpoint"`},
		{name: "not YAML of the config", yaml: "etcdEndpoints: http://127.0.0.1:2379", wantErr: "coredns provider config:"},
		{name: "no scheme", yaml: "etcdEndpoints: [127.0.0.1:2379]", wantErr: `etcdEndpoints[0]: not a URL`},
		{name: "another scheme", yaml: "etcdEndpoints: [http://127.0.0.1:2379, unix://etcd.sock]", wantErr: `etcdEndpoints[1] "unix://etcd.sock": the scheme must be http or https`},
		{name: "no host", yaml: "etcdEndpoints: [\"http:///v3\"]", wantErr: "give a URL with a host and port"},
		{name: "a path in the URL", yaml: "etcdEndpoints: [http://etcd.dns:2379/v3]", wantErr: "no path"},
		{name: "http and https", yaml: "etcdEndpoints: [http://a:2379, https://b:2379]", wantErr: "mixes http:// and https://"},
		{name: "TLS files with http", yaml: "etcdEndpoints: [http://a:2379]\netcdCAFile: " + cert, wantErr: "are for https:// endpoints"},
		{name: "a certificate without its key", yaml: "etcdEndpoints: [https://a:2379]\netcdCertFile: " + cert, wantErr: "give both"},
		{name: "a key that is no key", yaml: "etcdEndpoints: [https://a:2379]\netcdCertFile: " + cert + "\netcdKeyFile: " + notPEM, wantErr: "etcdCertFile " + `"` + cert + `"` + " and etcdKeyFile"},
		{name: "a CA file that is not there", yaml: "etcdEndpoints: [https://a:2379]\netcdCAFile: /nonexistent/ca.crt", wantErr: "etcdCAFile: open /nonexistent/ca.crt"},
		{name: "a CA file that is no PEM", yaml: "etcdEndpoints: [https://a:2379]\netcdCAFile: " + notPEM, wantErr: "no PEM certificate in it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewFromConfig(strings.NewReader(tc.yaml))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("NewFromConfig = %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewFromConfig = %v", err)
			}
			defer p.Close()
			if p.prefix != tc.wantPrefix {
				t.Errorf("prefix = %q, want %q", p.prefix, tc.wantPrefix)
			}
			if !p.ownsClient {
				t.Errorf("the provider does not own its client, so Close would leak it")
			}
		})
	}
}

func TestConfigTLS(t *testing.T) {
	cert, key, _ := tlsFiles(t)
	c := Config{EtcdEndpoints: []string{"https://etcd.dns:2379"}, EtcdCertFile: cert, EtcdKeyFile: key, EtcdCAFile: cert}
	tlsConfig, err := c.tlsConfig()
	if err != nil {
		t.Fatal(err)
	}
	if tlsConfig == nil || len(tlsConfig.Certificates) != 1 || tlsConfig.RootCAs == nil {
		t.Fatalf("TLS config = %+v, want the client certificate and the CA pool", tlsConfig)
	}
	plain := Config{EtcdEndpoints: []string{"http://etcd.dns:2379"}}
	if tlsConfig, err := plain.tlsConfig(); err != nil || tlsConfig != nil {
		t.Fatalf("TLS config for http = %+v, %v; want none", tlsConfig, err)
	}
}

func TestZone(t *testing.T) {
	p := New(nil, "")
	for _, tc := range []struct{ in, want, wantErr string }{
		{in: "example.com", want: "example.com."},
		{in: "Example.COM.", want: "example.com."},
		{in: "", wantErr: "root"},
		{in: "exa mple.com", wantErr: "has ' '"},
	} {
		z, err := p.Zone(t.Context(), tc.in, "")
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Zone(%q) = %v, want an error with %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || z.Name() != tc.want {
			t.Errorf("Zone(%q) = %v, %v; want %q", tc.in, z, err, tc.want)
		}
	}
	if _, err := p.Zone(t.Context(), "example.com.", "1234"); err == nil || !strings.Contains(err.Error(), "leave the zone ID empty") {
		t.Errorf("Zone with an ID = %v, want an error saying to leave it empty", err)
	}
}
