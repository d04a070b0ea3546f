// Command coredns-federation is CoreDNS with every stock plugin plus the
// federation plugin, which answers <service>.<namespace>.<federation>.svc.<cluster-domain>
// names. It is CoreDNS built the documented way for an external plugin: the
// plugin's name goes into the directive list, just before kubernetes, whose
// informer caches it reads.
package main

import (
	"slices"

	"github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/core/plugin" // every stock plugin
	"github.com/coredns/coredns/coremain"

	"github.com/kfederation/federation/plugins/coredns/federation"
)

func main() {
	dnsserver.Directives = withFederation(dnsserver.Directives)
	coremain.Run()
}

// withFederation returns directives with the federation plugin just before
// kubernetes (at the end when there is no kubernetes).
func withFederation(directives []string) []string {
	if slices.Contains(directives, federation.PluginName) {
		return directives
	}
	i := slices.Index(directives, "kubernetes")
	if i < 0 {
		i = len(directives)
	}
	return slices.Insert(slices.Clone(directives), i, federation.PluginName)
}
