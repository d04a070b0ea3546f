package framework

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"
)

// Etcd is a real etcd server on loopback.
type Etcd struct {
	*Process
	ClientURL string
	// client asks /health; nil means plain HTTP.
	client *http.Client
}

// StartEtcd starts etcd with its data under dir and waits until it is
// healthy. cpus, if any, pin it (see Process.CPUs).
func StartEtcd(ctx context.Context, dir, logDir string, cpus []int) (*Etcd, error) {
	clientPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	peerPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	clientURL := fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	p := NewProcess("etcd", Binary("etcd"), []string{
		"--name=test",
		"--data-dir=" + filepath.Join(dir, "etcd"),
		"--listen-client-urls=" + clientURL,
		"--advertise-client-urls=" + clientURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=test=" + peerURL,
		// Tests do not need durability across machine crashes; fsync
		// dominates etcd latency on small disks.
		"--unsafe-no-fsync",
		"--log-level=warn",
	}, logDir)
	p.CPUs = cpus
	if err := p.Start(); err != nil {
		return nil, err
	}
	e := &Etcd{Process: p, ClientURL: clientURL}
	if err := e.WaitHealthy(ctx); err != nil {
		p.Kill()
		return nil, err
	}
	return e, nil
}

// WaitHealthy waits until etcd's /health says it is.
func (e *Etcd) WaitHealthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	return e.WaitFor(ctx, "etcd healthy", func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.ClientURL+"/health", nil)
		client := e.client
		if client == nil {
			client = http.DefaultClient
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"health":"true"`) {
			return fmt.Errorf("etcd /health: %d %s", resp.StatusCode, body)
		}
		return nil
	})
}
