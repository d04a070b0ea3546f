// Package embeddedetcd runs a single-member etcd inside the
// federation-apiserver process, for a local run without an external etcd.
package embeddedetcd

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/klog/v2"
)

// Server is a running embedded etcd.
type Server struct {
	etcd *embed.Etcd
	// ClientURL is where the API server's storage connects.
	ClientURL string
}

// FreeLoopbackPort asks the kernel for a TCP port on 127.0.0.1 that nothing
// listens on now.
func FreeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start starts etcd with its data under dataDir, serving clients on
// 127.0.0.1:clientPort and waits until it is ready. Data in dataDir from an
// earlier run is kept, so objects survive restarts.
func Start(ctx context.Context, dataDir string, clientPort int) (*Server, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded etcd: create data directory %s: %w", dataDir, err)
	}
	peerPort, err := FreeLoopbackPort()
	if err != nil {
		return nil, err
	}
	clientURL := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", clientPort)}
	peerURL := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", peerPort)}

	cfg := embed.NewConfig()
	cfg.Name = "federation"
	cfg.Dir = filepath.Clean(dataDir)
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	cfg.ListenPeerUrls = []url.URL{peerURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = "warn"

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd: start with data directory %s: %w (is another federation-apiserver using it?)", dataDir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd: %w", err)
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, fmt.Errorf("embedded etcd: not ready after 60s; see the etcd messages above")
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
	klog.InfoS("Embedded etcd is ready", "dataDir", dataDir, "clientURL", clientURL.String())
	return &Server{etcd: e, ClientURL: clientURL.String()}, nil
}

// Stop shuts etcd down, flushing its data.
func (s *Server) Stop() {
	s.etcd.Close()
}
