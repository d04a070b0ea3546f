package app

import (
	"context"

	"github.com/kfederation/federation/cmd/federation-controller-manager/app/options"
	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/controller/cluster"
	"github.com/kfederation/federation/pkg/controller/ingressdns"
	"github.com/kfederation/federation/pkg/controller/ingresslb"
	"github.com/kfederation/federation/pkg/controller/namespace"
	"github.com/kfederation/federation/pkg/controller/propagation"
	"github.com/kfederation/federation/pkg/controller/servicedns"
	"github.com/kfederation/federation/pkg/federatedtypes"
)

// startFunc starts one controller; it returns once the controller runs.
type startFunc func(ctx context.Context, c *controller.Context) error

type controllerEntry struct {
	name  string
	start startFunc
	// whenDisabled, if set, runs in place of a controller turned off,
	// and disabledNote says what that means.
	whenDisabled startFunc
	disabledNote string
}

// controllers is the one list of controllers, in start order; --controllers
// turns them on and off by name. Each federated kind's sync controller is
// named after its adapter: "service", "replicaset", ...
func controllers(o *options.Options) []controllerEntry {
	// Service DNS and Ingress DNS write into one zone of one provider.
	zone := newDNSZone(o)
	return append([]controllerEntry{
		{name: "cluster", start: cluster.Start},
		{name: "namespace-lifecycle", start: namespace.Start},
		{name: servicedns.Name, start: startServiceDNS(o, zone), whenDisabled: releaseServiceDNS(o),
			disabledNote: "federated Services get no DNS records, and deleting one leaves the records it has"},
		{name: ingressdns.Name, start: startIngressDNS(o, zone), whenDisabled: releaseIngressDNS(o),
			disabledNote: "federated Ingresses get no DNS records for their hosts, and deleting one leaves the records it has"},
		// Before the sync controllers: it is the Ingress sync's gate.
		{name: ingresslb.Name, start: startIngressLB(o), whenDisabled: releaseIngressLB(o),
			disabledNote: "Ingresses of class gce get no shared global address, UID or firewall rule, and deleting one leaves the address the federation reserved for it"},
	}, syncControllers()...)
}

func syncControllers() []controllerEntry {
	var out []controllerEntry
	for _, a := range federatedtypes.All() {
		out = append(out, controllerEntry{name: a.Name, start: propagation.StartFunc(a), whenDisabled: propagation.StartReleaseOnlyFunc(a),
			disabledNote: "objects of its kind are no longer propagated, and deleting one leaves its member copies in place"})
	}
	return out
}

// ControllerNames lists every controller's name.
func ControllerNames() []string {
	all := controllers(options.NewOptions())
	names := make([]string, 0, len(all))
	for _, c := range all {
		names = append(names, c.name)
	}
	return names
}
