// Command local-up is `make run`: it starts a local federation of three real
// member clusters, registers them, prints how to use it, and stops
// everything cleanly on Ctrl-C.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/kfederation/federation/test/framework"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "make run:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := framework.RepoRoot()
	if err != nil {
		return err
	}
	dir := filepath.Join(root, "_output", "local")
	// Every run starts from a clean slate, so that nothing from an earlier
	// run (ports, certificates, data) gets in the way.
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	start := time.Now()
	fmt.Println("Starting etcd, the federation control plane and three member clusters...")
	f, err := framework.Start(ctx, framework.Options{
		Dir:          dir,
		EmbeddedEtcd: true,
		Members: []framework.MemberOptions{
			{Name: "us-central1-a", Zone: "us-central1-a", Region: "us-central1"},
			{Name: "us-central1-b", Zone: "us-central1-b", Region: "us-central1"},
			{Name: "europe-west1-b", Zone: "europe-west1-b", Region: "europe-west1"},
		},
	})
	if err != nil {
		return fmt.Errorf("%w (logs are in %s)", err, filepath.Join(dir, "logs"))
	}
	defer f.Stop()
	// Members join as an admin would join them: with kubefed.
	for _, m := range f.Members {
		join := exec.CommandContext(ctx, framework.Binary("kubefed"), "join", m.Name,
			"--kubeconfig", f.Kubeconfig, "--host-cluster-context", framework.FederationContext, "--cluster-context", m.Name)
		join.Stdout, join.Stderr = os.Stdout, os.Stderr
		if err := join.Run(); err != nil {
			return fmt.Errorf("kubefed join %s: %w", m.Name, err)
		}
	}
	if err := f.WaitClustersReady(ctx, 3*time.Minute); err != nil {
		fmt.Fprintf(os.Stderr, "warning: %v\n", err)
	}
	fmt.Printf(`
The federation is up (%s).

  export KUBECONFIG=%s
  kubectl --context=federation-cluster get clusters
  kubectl --context=federation-cluster create deployment nginx --image=nginx --replicas=6
  kubectl --context=federation-cluster expose deployment nginx --port=80 --type=LoadBalancer
  kubectl --context=us-central1-a get deployments,services

kubectl is in %s. Logs of every process are in %s.
Press Ctrl-C to stop everything.
`, time.Since(start).Round(time.Second), f.Kubeconfig, filepath.Join(root, "_output", "bin"), f.LogDir)
	<-ctx.Done()
	fmt.Println("\nStopping...")
	return nil
}
