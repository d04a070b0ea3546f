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
// told ClientURL reads back what it wrote.
func TestServesOnItsSocketInAPrivateDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etcd")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o700 {
		t.Errorf("data directory mode %v, want 0700", info.Mode().Perm())
	}
	url, err := ClientURL(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := "unix://" + filepath.Join(dir, "etcd.sock"); url != want {
		t.Errorf("ClientURL = %s, want %s", url, want)
	}
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

// TestRefusesADataDirectoryTooLongForASocket: a unix socket's path has
// at most 107 bytes; a longer one is refused before etcd starts, with the
// flag to change.
func TestRefusesADataDirectoryTooLongForASocket(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 100))
	_, err := ClientURL(dir)
	if err == nil || !strings.Contains(err.Error(), "--embedded-etcd-data-dir") {
		t.Fatalf("ClientURL(%s): got %v, want an error naming --embedded-etcd-data-dir", dir, err)
	}
	if _, err := Start(context.Background(), dir); err == nil {
		t.Fatal("Start accepted a data directory too long for its socket")
	}
}
