package coredns

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"sigs.k8s.io/yaml"
)

// Config is the provider's configuration file (--dns-provider-config):
// where the etcd is that CoreDNS reads, and under which path.
//
//	etcdEndpoints: ["https://etcd-0.dns:2379", "https://etcd-1.dns:2379"]
//	etcdCertFile: /etc/federation/dns/etcd-client.crt
//	etcdKeyFile: /etc/federation/dns/etcd-client.key
//	etcdCAFile: /etc/federation/dns/etcd-ca.crt
//	path: /skydns
type Config struct {
	// EtcdEndpoints are the etcd client URLs, http:// or https://.
	EtcdEndpoints []string `json:"etcdEndpoints"`
	// EtcdCertFile and EtcdKeyFile are a client certificate and its key
	// in PEM, for an etcd that asks for one; give both or neither.
	EtcdCertFile string `json:"etcdCertFile,omitempty"`
	EtcdKeyFile  string `json:"etcdKeyFile,omitempty"`
	// EtcdCAFile holds, in PEM, the CA certificates that etcd's serving
	// certificate is checked against; without it, the system's.
	EtcdCAFile string `json:"etcdCAFile,omitempty"`
	// Path is the path of the Corefile's etcd block; default /skydns.
	Path string `json:"path,omitempty"`
}

// dialTimeout bounds the first connection to etcd.
const dialTimeout = 10 * time.Second

// NewFromConfig reads a Config in YAML from r and returns a provider with
// its own etcd client, which Close releases. It does not wait for etcd to
// answer: a request fails when etcd is not there, and succeeds once it is.
func NewFromConfig(r io.Reader) (*Provider, error) {
	c, err := ParseConfig(r)
	if err != nil {
		return nil, err
	}
	tlsConfig, err := c.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("coredns provider config: %w", err)
	}
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   c.EtcdEndpoints,
		TLS:         tlsConfig,
		DialTimeout: dialTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("coredns provider: etcd client for %d endpoints: %w", len(c.EtcdEndpoints), err)
	}
	p := New(client, c.Path)
	p.ownsClient = true
	return p, nil
}

// ParseConfig reads a Config in YAML from r, strictly (a misspelt field is
// an error), and validates it. It reads none of the files the Config names:
// kubefed init checks a configuration meant for another machine with it.
func ParseConfig(r io.Reader) (Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Config{}, fmt.Errorf("coredns provider config: read: %w", err)
	}
	var c Config
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return Config{}, fmt.Errorf("coredns provider config: %w; the fields are etcdEndpoints, etcdCertFile, etcdKeyFile, etcdCAFile and path", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("coredns provider config: %w", err)
	}
	return c, nil
}

// Validate says whether c is complete and consistent, without reading the
// files it names. Endpoints are quoted with any password redacted.
func (c Config) Validate() error {
	if len(c.EtcdEndpoints) == 0 {
		return fmt.Errorf("etcdEndpoints: required: the client URLs of the etcd CoreDNS reads, such as [\"https://etcd.dns:2379\"]")
	}
	secure, plain := false, false
	for i, e := range c.EtcdEndpoints {
		u, err := url.Parse(e)
		switch {
		case err != nil:
			// url's errors quote the input, which may hold a password.
			return fmt.Errorf("etcdEndpoints[%d]: not a URL; give one like \"https://etcd.dns:2379\"", i)
		case u.Host == "" || (u.Path != "" && u.Path != "/"):
			return fmt.Errorf("etcdEndpoints[%d] %q: give a URL with a host and port and no path, such as \"https://etcd.dns:2379\"", i, u.Redacted())
		case u.Scheme == "https":
			secure = true
		case u.Scheme == "http":
			plain = true
		default:
			return fmt.Errorf("etcdEndpoints[%d] %q: the scheme must be http or https", i, u.Redacted())
		}
	}
	if (c.EtcdCertFile == "") != (c.EtcdKeyFile == "") {
		return fmt.Errorf("etcdCertFile %q and etcdKeyFile %q: give both (a client certificate and its key) or neither", c.EtcdCertFile, c.EtcdKeyFile)
	}
	switch {
	case secure && plain:
		return errors.New("etcdEndpoints: mixes http:// and https:// endpoints; an etcd cluster serves one or the other")
	case plain && (c.EtcdCertFile != "" || c.EtcdCAFile != ""):
		return errors.New("etcdCertFile, etcdKeyFile and etcdCAFile are for https:// endpoints, but etcdEndpoints are http://; use https:// or drop the files")
	}
	return nil
}

// tlsConfig loads the TLS files of a valid c: nil for http:// endpoints.
func (c Config) tlsConfig() (*tls.Config, error) {
	if u, err := url.Parse(c.EtcdEndpoints[0]); err != nil || u.Scheme == "http" {
		return nil, nil
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.EtcdCertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.EtcdCertFile, c.EtcdKeyFile)
		if err != nil {
			return nil, fmt.Errorf("etcdCertFile %q and etcdKeyFile %q: %w", c.EtcdCertFile, c.EtcdKeyFile, err)
		}
		tlsConfig.Certificates = []tls.Certificate{cert}
	}
	if c.EtcdCAFile != "" {
		pem, err := os.ReadFile(c.EtcdCAFile)
		if err != nil {
			return nil, fmt.Errorf("etcdCAFile: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("etcdCAFile %q: no PEM certificate in it", c.EtcdCAFile)
		}
		tlsConfig.RootCAs = pool
	}
	return tlsConfig, nil
}
