// Package embeddedetcd runs a single-member etcd inside the
// federation-apiserver process, for a local run without an external etcd.
//
// It listens on no network port: its one client, the API server's
// storage, reaches it over a unix socket inside its data directory, which
// only the directory's owner may enter. An etcd on a loopback port would
// give every local user the federation's objects, the members' credentials
// among them, without a password.
package embeddedetcd

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/klog/v2"
)

// socketName is the client socket's name inside the data directory.
const socketName = "etcd.sock"

// maxSocketPath is the longest path a unix socket can have on Linux
// (sun_path holds 108 bytes with the terminating zero).
const maxSocketPath = 107

// Server is a running embedded etcd.
type Server struct {
	etcd *embed.Etcd
}

// ClientURL is the address the API server's storage connects to for the
// embedded etcd with its data in dataDir: a unix socket in that directory.
func ClientURL(dataDir string) (string, error) {
	path, err := socketPath(dataDir)
	if err != nil {
		return "", err
	}
	return "unix://" + path, nil
}

func socketPath(dataDir string) (string, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return "", fmt.Errorf("embedded etcd: data directory %s: %w", dataDir, err)
	}
	path := filepath.Join(abs, socketName)
	if len(path) > maxSocketPath {
		return "", fmt.Errorf("embedded etcd: its socket %s would be longer than the %d bytes a unix socket's path may have; choose a shorter --embedded-etcd-data-dir", path, maxSocketPath)
	}
	return path, nil
}

// Start starts etcd with its data under dataDir, serving its client on
// the socket ClientURL names, and waits until it is ready. Data in dataDir
// from an earlier run is kept, so objects survive restarts.
func Start(ctx context.Context, dataDir string) (*Server, error) {
	cfg, err := config(dataDir)
	if err != nil {
		return nil, err
	}
	if err := privateDir(dataDir); err != nil {
		return nil, err
	}
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
	klog.InfoS("Embedded etcd is ready", "dataDir", dataDir, "socket", cfg.ListenClientUrls[0].Path)
	return &Server{etcd: e}, nil
}

// privateDir creates dir if needed and makes it the owner's alone: the
// socket inside is only as private as the directory around it.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("embedded etcd: create data directory %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("embedded etcd: make data directory %s private (mode 0700): %w", dir, err)
	}
	return nil
}

// config is etcd's configuration: one member, its client on the socket,
// no peer listener (a single member has no peers to hear from).
func config(dataDir string) (*embed.Config, error) {
	sock, err := socketPath(dataDir)
	if err != nil {
		return nil, err
	}
	cfg := embed.NewConfig()
	cfg.Name = "federation"
	cfg.Dir = filepath.Clean(dataDir)
	cfg.ListenClientUrls = []url.URL{{Scheme: "unix", Path: sock}}
	cfg.ListenPeerUrls = nil
	// etcd publishes its advertised URLs in its member list and wants them
	// as host:port; nothing dials them, since the only client is told the
	// socket and there are no other members.
	unlisted := url.URL{Scheme: "unix", Host: "localhost:0"}
	cfg.AdvertiseClientUrls = []url.URL{unlisted}
	cfg.AdvertisePeerUrls = []url.URL{unlisted}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = "warn"
	// embed.NewConfig leaves this at zero, which logs every request as a
	// slow one; etcd's own command line defaults it to 300 ms.
	cfg.WarningUnaryRequestDuration = embed.DefaultWarningUnaryRequestDuration
	return cfg, nil
}

// Stop shuts etcd down, flushing its data.
func (s *Server) Stop() {
	s.etcd.Close()
}
