package ingressdns

import (
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller/dnsrecords"
)

var (
	ingressesGVR      = networkingv1.SchemeGroupVersion.WithResource("ingresses")
	ingressClassesGVR = networkingv1.SchemeGroupVersion.WithResource("ingressclasses")
)

// members is what Ingress DNS reads of the member clusters, all from their
// informers: never a request per sync.
type members interface {
	// Ready says the cluster controller last found the cluster Ready.
	Ready(cluster string) bool
	// Synced says the cluster's Ingress and EndpointSlice informers have
	// their first list.
	Synced(cluster string) bool
	// Ingress returns the cluster's copy of the federated Ingress, nil if
	// it has none.
	Ingress(cluster, namespace, name string) (*networkingv1.Ingress, error)
	// ReadyEndpoint says whether the Service has at least one ready
	// endpoint in the cluster. Only federated Services count: the member
	// informers see the EndpointSlices of those alone.
	ReadyEndpoint(cluster, namespace, service string) (bool, error)
	// Watch calls onIngress on every change to a member's copy of a
	// federated Ingress, and onService on every change to the
	// EndpointSlices of a Service.
	Watch(onIngress, onService func(namespace, name string))
}

// registryMembers reads the registry's member informers.
type registryMembers struct{ r *clusterclient.Registry }

func (m registryMembers) m() dnsrecords.Members { return dnsrecords.Members{Registry: m.r} }

func (m registryMembers) Ready(cluster string) bool { return m.m().Ready(cluster) }

func (m registryMembers) Synced(cluster string) bool {
	return m.m().Synced(cluster, ingressesGVR, dnsrecords.EndpointSlicesGVR)
}

func (m registryMembers) Ingress(cluster, namespace, name string) (*networkingv1.Ingress, error) {
	ing := &networkingv1.Ingress{}
	if ok, err := m.m().Get(cluster, ingressesGVR, namespace, name, ing); !ok || err != nil {
		return nil, err
	}
	return ing, nil
}

func (m registryMembers) ReadyEndpoint(cluster, namespace, service string) (bool, error) {
	return m.m().ReadyEndpoint(cluster, namespace, service)
}

func (m registryMembers) Watch(onIngress, onService func(namespace, name string)) {
	m.m().Watch(ingressesGVR, onIngress)
	m.m().WatchEndpoints(onService)
}
