package embeddedetcd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestServesOnItsSocketInAPrivateDirectory starts etcd in a data
// directory that others could enter: Start makes it private, and a client
// told the socket's URL reads back what it wrote.
func TestServesOnItsSocketInAPrivateDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etcd")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	socket, err := NewSocket(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "etcd.sock"); socket.Path != want {
		t.Errorf("socket %s, want %s", socket.Path, want)
	}
	s := start(t, dir, socket)
	defer s.Stop()
	if mode := perm(t, dir); mode != 0o700 {
		t.Errorf("data directory mode %v, want 0700", mode)
	}
	putAndGet(t, socket.URL())
}

// TestPutsTheSocketElsewhereWhenTheDataDirectoryIsTooLong: a unix socket's
// path has at most 107 bytes. With a data directory longer than that, the
// socket goes in a private directory of its own, which Stop removes.
func TestPutsTheSocketElsewhereWhenTheDataDirectoryIsTooLong(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 100))
	socket, err := NewSocket(dir)
	if err != nil {
		t.Fatal(err)
	}
	own := filepath.Dir(socket.Path)
	if strings.HasPrefix(socket.Path, dir) || len(socket.Path) > maxSocketPath {
		t.Fatalf("socket %s: want a short path outside %s", socket.Path, dir)
	}
	if mode := perm(t, own); mode != 0o700 {
		t.Errorf("the socket's directory has mode %v, want 0700", mode)
	}
	s := start(t, dir, socket)
	putAndGet(t, socket.URL())
	s.Stop()
	if _, err := os.Stat(own); !os.IsNotExist(err) {
		t.Errorf("the socket's directory %s is still there after Stop (%v)", own, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "member")); err != nil {
		t.Errorf("etcd kept no data in %s: %v", dir, err)
	}
}

func start(t *testing.T, dir string, socket *Socket) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, dir, socket)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func perm(t *testing.T, dir string) os.FileMode {
	t.Helper()
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

func putAndGet(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{url}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Put(ctx, "/federation/test", "written"); err != nil {
		t.Fatalf("put over %s: %v", url, err)
	}
	got, err := c.Get(ctx, "/federation/test")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "written" {
		t.Errorf("read back %v, want the value written", got.Kvs)
	}
}
