// Package embeddedetcd runs a single-member etcd inside the
// federation-apiserver process, for a local run without an external etcd.
//
// It listens on no network port: its one client, the API server's
// storage, reaches it over a unix socket inside its data directory (or, if
// that path is too long for a socket, a directory of its own), which only
// the directory's owner may enter. An etcd on a loopback port would
// give every local user the federation's objects, the members' credentials
// among them, without a password.
package embeddedetcd

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
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
	etcd   *embed.Etcd
	socket *Socket
	// closing is set when Stop begins, so that what closing logs is
	// left out (see logging.go).
	closing *atomic.Bool
}

// Socket is where an embedded etcd listens for its one client.
type Socket struct {
	// Path is the unix socket's path.
	Path string
	// dir is the directory made for the socket when the data directory's
	// path was too long for it; Remove deletes it.
	dir string
}

// NewSocket decides where the embedded etcd with its data in dataDir
// listens: etcd.sock in dataDir or, when that path would be longer than a
// unix socket's may be, etcd.sock in a new directory under the system's
// temporary one, which only its owner may enter.
func NewSocket(dataDir string) (*Socket, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd: data directory %s: %w", dataDir, err)
	}
	if path := filepath.Join(abs, socketName); len(path) <= maxSocketPath {
		return &Socket{Path: path}, nil
	}
	dir, err := os.MkdirTemp("", "federation-apiserver-etcd-")
	if err != nil {
		return nil, fmt.Errorf("embedded etcd: the data directory %s is too long a path for a unix socket inside it, and a directory for the socket cannot be made: %w", dataDir, err)
	}
	path := filepath.Join(dir, socketName)
	if len(path) > maxSocketPath {
		os.Remove(dir)
		return nil, fmt.Errorf("embedded etcd: neither %s nor %s is short enough for a unix socket (%d bytes at most); choose a shorter --embedded-etcd-data-dir or TMPDIR", filepath.Join(abs, socketName), path, maxSocketPath)
	}
	return &Socket{Path: path, dir: dir}, nil
}

// URL is the address the API server's storage connects to.
func (s *Socket) URL() string { return "unix://" + s.Path }

// Remove deletes the directory made for the socket, if one was.
func (s *Socket) Remove() {
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// Start starts etcd with its data under dataDir, serving its client on
// socket, and waits until it is ready. Data in dataDir from an earlier run
// is kept, so objects survive restarts.
func Start(ctx context.Context, dataDir string, socket *Socket) (*Server, error) {
	if err := privateDir(dataDir); err != nil {
		return nil, err
	}
	closing := &atomic.Bool{}
	lg, err := newLogger(closing)
	if err != nil {
		return nil, err
	}
	cfg := config(dataDir, socket.Path)
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(lg)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd: start with data directory %s: %w (is another federation-apiserver using it?)", dataDir, err)
	}
	s := &Server{etcd: e, socket: socket, closing: closing}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		s.close()
		return nil, fmt.Errorf("embedded etcd: %w", err)
	case <-time.After(60 * time.Second):
		s.close()
		return nil, fmt.Errorf("embedded etcd: not ready after 60s; see the etcd messages above")
	case <-ctx.Done():
		s.close()
		return nil, ctx.Err()
	}
	klog.InfoS("Embedded etcd is ready", "dataDir", dataDir, "socket", socket.Path)
	return s, nil
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
func config(dataDir, socket string) *embed.Config {
	cfg := embed.NewConfig()
	cfg.Name = "federation"
	cfg.Dir = filepath.Clean(dataDir)
	cfg.ListenClientUrls = []url.URL{{Scheme: "unix", Path: socket}}
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
	return cfg
}

// Stop shuts etcd down, flushing its data, and removes the socket's own
// directory if one was made.
func (s *Server) Stop() {
	s.close()
	s.socket.Remove()
}

func (s *Server) close() {
	s.closing.Store(true)
	s.etcd.Close()
}
