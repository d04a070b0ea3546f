// Command kubefed deploys a federation control plane and joins clusters to
// it and unjoins them.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/kfederation/federation/pkg/kubefed"
	"github.com/kfederation/federation/pkg/kubefed/clioptions"
)

func main() {
	// ^C cancels the run, so that join rolls back what it created.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := kubefed.NewKubefedCommand(clioptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		stop()
		os.Exit(1)
	}
}
