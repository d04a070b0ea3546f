package framework

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// EtcdCluster is a real etcd cluster of several members on loopback that
// speaks only TLS, to clients and between members, and demands client
// certificates of both: the etcd a highly available federation runs on.
type EtcdCluster struct {
	Members []*Etcd
	// CAFile, CertFile and KeyFile are what a client presents: the
	// federation-apiserver's --etcd-cafile, --etcd-certfile, --etcd-keyfile.
	CAFile, CertFile, KeyFile string
}

// ClientURLs are the members' client URLs, comma-separated, as
// --etcd-servers takes them.
func (c *EtcdCluster) ClientURLs() string {
	urls := make([]string, len(c.Members))
	for i, m := range c.Members {
		urls[i] = m.ClientURL
	}
	return strings.Join(urls, ",")
}

// APIServerArgs are the federation-apiserver flags that put it on the
// cluster.
func (c *EtcdCluster) APIServerArgs() []string {
	return []string{"--etcd-servers=" + c.ClientURLs(), "--etcd-cafile=" + c.CAFile, "--etcd-certfile=" + c.CertFile, "--etcd-keyfile=" + c.KeyFile}
}

// StartEtcdCluster starts n etcd members with certificates of ca under
// dir, and waits until each is healthy.
func StartEtcdCluster(ctx context.Context, ca *CA, dir, logDir string, n int) (_ *EtcdCluster, err error) {
	c := &EtcdCluster{CAFile: ca.CertFile}
	if c.CertFile, c.KeyFile, err = ca.IssueClient(dir, "etcd-client", "federation-apiserver"); err != nil {
		return nil, err
	}
	type ports struct{ client, peer int }
	pp := make([]ports, n)
	peers := make([]string, n)
	for i := range pp {
		if pp[i].client, err = FreePort(); err != nil {
			return nil, err
		}
		if pp[i].peer, err = FreePort(); err != nil {
			return nil, err
		}
		peers[i] = fmt.Sprintf("etcd-%d=https://127.0.0.1:%d", i, pp[i].peer)
	}
	client, err := c.httpClient()
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	loopback := []net.IP{net.ParseIP("127.0.0.1")}
	for i := range pp {
		name := fmt.Sprintf("etcd-%d", i)
		cert, key, err := ca.IssuePeer(filepath.Join(dir, name), "tls", []string{"localhost"}, loopback)
		if err != nil {
			return nil, err
		}
		clientURL := fmt.Sprintf("https://127.0.0.1:%d", pp[i].client)
		peerURL := fmt.Sprintf("https://127.0.0.1:%d", pp[i].peer)
		p := NewProcess(name, Binary("etcd"), []string{
			"--name=" + name,
			"--data-dir=" + filepath.Join(dir, name, "data"),
			"--listen-client-urls=" + clientURL,
			"--advertise-client-urls=" + clientURL,
			"--listen-peer-urls=" + peerURL,
			"--initial-advertise-peer-urls=" + peerURL,
			"--initial-cluster=" + strings.Join(peers, ","),
			"--initial-cluster-state=new",
			"--cert-file=" + cert, "--key-file=" + key, "--trusted-ca-file=" + ca.CertFile, "--client-cert-auth",
			"--peer-cert-file=" + cert, "--peer-key-file=" + key, "--peer-trusted-ca-file=" + ca.CertFile, "--peer-client-cert-auth",
			"--unsafe-no-fsync",
			"--log-level=warn",
		}, logDir)
		if err := p.Start(); err != nil {
			return nil, err
		}
		c.Members = append(c.Members, &Etcd{Process: p, ClientURL: clientURL, client: client})
	}
	// The members wait for each other (quorum) before they are healthy.
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, m := range c.Members {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = m.WaitHealthy(ctx) }()
	}
	wg.Wait()
	return c, errors.Join(errs...)
}

// httpClient presents the client certificate, for /health.
func (c *EtcdCluster) httpClient() (*http.Client, error) {
	pair, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, err
	}
	pool.AppendCertsFromPEM(ca)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool, MinVersion: tls.VersionTLS12}}}, nil
}

// Stop stops every member.
func (c *EtcdCluster) Stop() {
	for _, m := range c.Members {
		_ = m.Stop(10 * time.Second)
	}
}
