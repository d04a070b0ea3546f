package apiserver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kfederation/federation/test/framework"
)

// TestOperations: audit log, /metrics, aggregated discovery, --version and
// graceful shutdown, the operational surface kube-apiserver users expect.
func TestOperations(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	auditLog := filepath.Join(dir, "audit.log")
	f := framework.StartForTest(t, framework.Options{
		NoControllerManager: true,
		APIServerArgs:       []string{"--audit-log-path=" + auditLog, "--audit-policy-file=" + policy},
	})
	ctx := context.Background()
	if _, err := f.Client.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}

	// Audit: the request above is in the log, with who made it.
	deadline := time.Now().Add(10 * time.Second)
	found := false
	for !found && time.Now().Before(deadline) {
		if file, err := os.Open(auditLog); err == nil {
			s := bufio.NewScanner(file)
			s.Buffer(make([]byte, 1<<20), 1<<20)
			for s.Scan() {
				var ev struct {
					Verb      string                    `json:"verb"`
					User      struct{ Username string } `json:"user"`
					ObjectRef struct{ Resource string } `json:"objectRef"`
				}
				if json.Unmarshal(s.Bytes(), &ev) == nil && ev.Verb == "list" && ev.ObjectRef.Resource == "configmaps" && ev.User.Username == "admin" {
					found = true
				}
			}
			file.Close()
		}
		if !found {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if !found {
		t.Errorf("the list of configmaps by admin is not in the audit log %s", auditLog)
	}

	// Metrics in Prometheus format, with request counts.
	metrics, err := f.Client.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(metrics), "apiserver_request_total{") {
		t.Error("/metrics has no apiserver_request_total")
	}
	checkEventsUncached(ctx, t, f)

	// Aggregated discovery, which current kubectl asks for first.
	disc, err := f.Client.Discovery().RESTClient().Get().AbsPath("/apis").
		SetHeader("Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(disc), `"kind":"APIGroupDiscoveryList"`) || !strings.Contains(string(disc), "federation.k8s.io") {
		t.Errorf("aggregated discovery: %.300s", disc)
	}

	out, err := exec.Command(framework.Binary("federation-apiserver"), "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "federation-apiserver v") {
		t.Errorf("--version: %v %s", err, out)
	}

	// SIGTERM drains and exits cleanly.
	start := time.Now()
	if err := f.APIServer.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 25*time.Second {
		t.Errorf("graceful shutdown took %s", took)
	}
	logData, _ := os.ReadFile(f.APIServer.LogPath)
	if strings.Contains(string(logData), "panic") {
		t.Errorf("the server log mentions a panic; see %s", f.APIServer.LogPath)
	}
}

// checkEventsUncached checks that Events, as in kube-apiserver, have no
// watch cache while ConfigMaps have one: after a list of each, which waits
// for a watch cache to be filled where there is one, /metrics counts the
// ConfigMaps' cache's initialization and none of an Events' cache.
func checkEventsUncached(ctx context.Context, t *testing.T, f *framework.Federation) {
	t.Helper()
	if _, err := f.Client.CoreV1().Events("default").List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	cached := func(resource string) string {
		return `apiserver_watch_cache_initializations_total{group="",resource="` + resource + `"}`
	}
	var metrics []byte
	framework.Eventually(t, 10*time.Second, "the ConfigMaps' watch cache counted in /metrics (else the check for Events below would prove nothing)", func(ctx context.Context) error {
		if _, err := f.Client.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{}); err != nil {
			return err
		}
		var err error
		if metrics, err = f.Client.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx); err != nil {
			return err
		}
		if !strings.Contains(string(metrics), cached("configmaps")) {
			return fmt.Errorf("/metrics has no %s", cached("configmaps"))
		}
		return nil
	})
	if strings.Contains(string(metrics), cached("events")) {
		t.Errorf("/metrics has %s: Events have a watch cache, which kube-apiserver gives them only when --watch-cache-sizes asks", cached("events"))
	}
}
