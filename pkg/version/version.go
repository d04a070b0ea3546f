// Package version says which build of the federation this is.
package version

import (
	"fmt"
	"runtime"
)

// Version is set at build time with -ldflags "-X github.com/kfederation/federation/pkg/version.Version=...".
var Version = "v0.1.0-dev"

// KubernetesVersion is the Kubernetes release whose libraries, validation and
// API kinds the federation uses.
const KubernetesVersion = "v1.36.3"

// String describes this build for --version.
func String(component string) string {
	return fmt.Sprintf("%s %s (Kubernetes %s, %s %s/%s)", component, Version, KubernetesVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
