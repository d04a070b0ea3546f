// Command federation-controller-manager runs the federation's controllers.
package main

import (
	"os"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/component-base/cli"

	"github.com/kfederation/federation/cmd/federation-controller-manager/app"
)

func main() {
	ctx := genericapiserver.SetupSignalContext()
	os.Exit(cli.Run(app.NewControllerManagerCommand(ctx)))
}
