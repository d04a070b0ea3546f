// Package kubefed tests the kubefed binary end to end: it joins and unjoins
// real member clusters of a real federation, and deploys control planes
// into a real cluster. Clusters are joined only by kubefed here, never by
// the framework.
package kubefed

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kfederation/federation/test/framework"
)

const (
	memberA = "us-central1-a"
	memberB = "europe-west1-b"
)

var fed *framework.Federation

// TestMain starts one federation of two members, neither of them joined,
// shared by every test of the package.
func TestMain(m *testing.M) {
	os.Exit(framework.RunMain(m, framework.MainOptions{
		Register: false,
		Options: framework.Options{
			Members: []framework.MemberOptions{
				{Name: memberA, Zone: memberA, Region: "us-central1"},
				{Name: memberB, Zone: memberB, Region: "europe-west1"},
			},
			ControllerManagerArgs: []string{"--leader-elect=false"},
		},
	}, func(f *framework.Federation) { fed = f }))
}

// result is one run of the kubefed binary.
type result struct {
	stdout, stderr string
	err            error
	elapsed        time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit: %v\nstdout:\n%s\nstderr:\n%s", r.err, r.stdout, r.stderr)
}

// kubefed runs the built binary with KUBECONFIG set to the federation's
// kubeconfig, followed by extra kubeconfig files if given.
func kubefed(t *testing.T, extraKubeconfigs []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, framework.Binary("kubefed"), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+strings.Join(append([]string{fed.Kubeconfig}, extraKubeconfigs...), string(os.PathListSeparator)))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), err: err, elapsed: time.Since(start)}
	t.Logf("kubefed %s (%s)\n%s", strings.Join(args, " "), r.elapsed.Round(time.Millisecond), r)
	return r
}

// mustSucceed fails the test unless r exited 0 and printed every line of want.
func mustSucceed(t *testing.T, r result, want ...string) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("kubefed failed:\n%s", r)
	}
	mustPrint(t, r, want...)
}

// mustPrint fails the test unless r printed every line of want.
func mustPrint(t *testing.T, r result, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("output lacks %q", w)
		}
	}
}

// mustFail fails the test unless r exited non-zero with an error saying
// every part of want.
func mustFail(t *testing.T, r result, want ...string) {
	t.Helper()
	if r.err == nil {
		t.Fatalf("kubefed succeeded, want a failure:\n%s", r)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("error output lacks %q", w)
		}
	}
}

// writeKubeconfig writes a kubeconfig of extra contexts into the test's
// temporary directory.
func writeKubeconfig(t *testing.T, cfg *clientcmdapi.Config) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "extra.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// copyKubeconfig copies the federation's kubeconfig, for tests that have
// kubefed write into it.
func copyKubeconfig(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(fed.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
