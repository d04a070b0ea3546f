package clioptions

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestExplainSaysWhatToCheck(t *testing.T) {
	target := Target{What: "cluster us-central1-a", Context: "us-central1-a", Server: "https://10.0.0.1:6443"}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errors.New("connection refused"))}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"refused", fmt.Errorf("get version: %w", refused), "cannot reach cluster us-central1-a at https://10.0.0.1:6443"},
		{"timeout", fmt.Errorf("get version: %w", context.DeadlineExceeded), "cannot reach cluster us-central1-a"},
		{"client timeout", errors.New(`Get "https://10.0.0.1:6443/version": net/http: request canceled (Client.Timeout exceeded while awaiting headers)`), "cannot reach"},
		{"unknown CA", fmt.Errorf("get version: %w", x509.UnknownAuthorityError{}), "serving certificate the kubeconfig does not trust"},
		{"unauthorized", apierrors.NewUnauthorized("no"), `rejected the credentials of context "us-central1-a"`},
		{"other", apierrors.NewNotFound(schema.GroupResource{Resource: "clusters"}, "x"), `cluster us-central1-a (context "us-central1-a"): clusters "x" not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := target.Explain(tc.err)
			if !strings.Contains(got.Error(), tc.want) {
				t.Errorf("Explain(%v) = %q, want it to contain %q", tc.err, got, tc.want)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("Explain(%v) does not wrap the error", tc.err)
			}
		})
	}
}

func TestLoadKubeconfigListsTheContextsThereAre(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	data := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: https://c, certificate-authority: ca.crt}\ncontexts:\n- name: b\n  context: {cluster: c}\n- name: a\n  context: {cluster: c}\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "ca.crt"), []byte("the CA"), 0o600); err != nil {
		t.Fatal(err)
	}
	kc, err := LoadKubeconfig(path, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := kc.CheckContext("cluster-context", "a"); err != nil {
		t.Errorf("context a: %v", err)
	}
	err = kc.CheckContext("cluster-context", "z")
	if err == nil || !strings.Contains(err.Error(), `no context "z" in `+path+"; the contexts there are: a, b") {
		t.Errorf("unknown context: %v", err)
	}
	cfg, err := kc.RESTConfig("a")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Timeout != 3*time.Second {
		t.Errorf("timeout %s, want the request timeout", cfg.Timeout)
	}
	// Relative paths are relative to the kubeconfig file, as for kubectl.
	if ca, err := kc.CAData("a"); err != nil || string(ca) != "the CA" {
		t.Errorf("CAData = %q, %v; want the file next to the kubeconfig", ca, err)
	}
}

func TestGlobalFromCommand(t *testing.T) {
	root := &cobra.Command{Use: "root"}
	g := &GlobalFlags{}
	g.AddFlags(root.PersistentFlags())
	var got GlobalFlags
	child := &cobra.Command{Use: "child", RunE: func(cmd *cobra.Command, args []string) error {
		got = GlobalFromCommand(cmd)
		return nil
	}}
	root.AddCommand(child)
	root.SetArgs([]string{"child", "--kubeconfig=/k", "--request-timeout=3s"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Kubeconfig != "/k" || got.RequestTimeout != 3*time.Second {
		t.Errorf("got %+v", got)
	}
	if d := GlobalFromCommand(&cobra.Command{}); d.RequestTimeout != DefaultRequestTimeout || d.Kubeconfig != "" {
		t.Errorf("defaults without a root: %+v", d)
	}
}
