package servicedns

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller/dnsrecords"
)

var servicesGVR = corev1.SchemeGroupVersion.WithResource("services")

// members is what Service DNS reads of the member clusters, all from their
// informers: never a request per sync.
type members interface {
	// Ready says the cluster controller last found the cluster Ready.
	Ready(cluster string) bool
	// Synced says the cluster's Service and EndpointSlice informers have
	// their first list.
	Synced(cluster string) bool
	// Service returns the cluster's copy of the federated Service, nil if
	// it has none.
	Service(cluster, namespace, name string) (*corev1.Service, error)
	// ReadyEndpoint says whether the Service has at least one ready
	// endpoint in the cluster.
	ReadyEndpoint(cluster, namespace, name string) (bool, error)
	// Watch calls f with the federated Service's namespace and name on
	// every change to a member's copy of it or to its EndpointSlices.
	Watch(f func(namespace, name string))
}

// registryMembers reads the registry's member informers.
type registryMembers struct{ r *clusterclient.Registry }

func (m registryMembers) m() dnsrecords.Members { return dnsrecords.Members{Registry: m.r} }

func (m registryMembers) Ready(cluster string) bool { return m.m().Ready(cluster) }

func (m registryMembers) Synced(cluster string) bool {
	return m.m().Synced(cluster, servicesGVR, dnsrecords.EndpointSlicesGVR)
}

func (m registryMembers) Service(cluster, namespace, name string) (*corev1.Service, error) {
	svc := &corev1.Service{}
	if ok, err := m.m().Get(cluster, servicesGVR, namespace, name, svc); !ok || err != nil {
		return nil, err
	}
	return svc, nil
}

func (m registryMembers) ReadyEndpoint(cluster, namespace, name string) (bool, error) {
	return m.m().ReadyEndpoint(cluster, namespace, name)
}

func (m registryMembers) Watch(f func(namespace, name string)) {
	m.m().Watch(servicesGVR, f)
	m.m().WatchEndpoints(f)
}
