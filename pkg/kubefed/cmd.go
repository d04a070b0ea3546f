// Package kubefed is the kubefed command line: init deploys a federation
// control plane into a host cluster, join and unjoin add and remove member
// clusters. Each verb lives in its own package with NewCmdX and XOptions
// {Complete, Validate, Run}, as kubectl's commands do.
package kubefed

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kfederation/federation/pkg/kubefed/clioptions"
	"github.com/kfederation/federation/pkg/kubefed/initfed"
	"github.com/kfederation/federation/pkg/kubefed/join"
	"github.com/kfederation/federation/pkg/kubefed/unjoin"
	"github.com/kfederation/federation/pkg/version"
)

// NewKubefedCommand returns the root command with every verb.
func NewKubefedCommand(streams clioptions.IOStreams) *cobra.Command {
	global := &clioptions.GlobalFlags{RequestTimeout: clioptions.DefaultRequestTimeout}
	cmd := &cobra.Command{
		Use:   "kubefed",
		Short: "kubefed controls a Kubernetes cluster federation",
		Long: `kubefed deploys a federation control plane and adds clusters to it and removes them.

Find more information in docs/admin-guide.md.`,
		// Errors are printed once, by main, without the usage that would
		// bury them.
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown command %q; see kubefed --help", args[0])
			}
			return cmd.Help()
		},
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	global.AddFlags(cmd.PersistentFlags())
	cmd.AddCommand(
		initfed.NewCmdInit(streams),
		join.NewCmdJoin(streams),
		unjoin.NewCmdUnjoin(streams),
		newCmdVersion(streams),
	)
	return cmd
}

func newCmdVersion(streams clioptions.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of kubefed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintln(streams.Out, version.String("kubefed"))
			return err
		},
	}
}
