package federation

import (
	"context"
	"errors"
	"testing"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/plugin/kubernetes"
	"github.com/coredns/coredns/plugin/kubernetes/object"
	api "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fakeAPI stands in for the kubernetes plugin's API connection: it serves
// Services and EndpointSlices, converted the way the plugin's informers
// convert them, from its indexes.
type fakeAPI struct {
	services  []*object.Service
	endpoints []*object.Endpoints
}

func (a *fakeAPI) addService(t *testing.T, svc *api.Service) {
	t.Helper()
	o, err := object.ToService(svc)
	if err != nil {
		t.Fatal(err)
	}
	a.services = append(a.services, o.(*object.Service))
}

func (a *fakeAPI) addEndpointSlice(t *testing.T, slice *discovery.EndpointSlice) {
	t.Helper()
	o, err := object.EndpointSliceToEndpoints(slice)
	if err != nil {
		t.Fatal(err)
	}
	a.endpoints = append(a.endpoints, o.(*object.Endpoints))
}

func (a *fakeAPI) SvcIndex(key string) []*object.Service {
	var out []*object.Service
	for _, s := range a.services {
		if s.Index == key {
			out = append(out, s)
		}
	}
	return out
}

func (a *fakeAPI) EpIndex(key string) []*object.Endpoints {
	var out []*object.Endpoints
	for _, e := range a.endpoints {
		if e.Index == key {
			out = append(out, e)
		}
	}
	return out
}

func (a *fakeAPI) ServiceList() []*object.Service                   { return a.services }
func (a *fakeAPI) EndpointsList() []*object.Endpoints               { return a.endpoints }
func (a *fakeAPI) ServiceImportList() []*object.ServiceImport       { return nil }
func (a *fakeAPI) SvcIndexReverse(string) []*object.Service         { return nil }
func (a *fakeAPI) SvcExtIndexReverse(string) []*object.Service      { return nil }
func (a *fakeAPI) SvcImportIndex(string) []*object.ServiceImport    { return nil }
func (a *fakeAPI) PodIndex(string) []*object.Pod                    { return nil }
func (a *fakeAPI) EpIndexReverse(string) []*object.Endpoints        { return nil }
func (a *fakeAPI) McEpIndex(string) []*object.MultiClusterEndpoints { return nil }
func (a *fakeAPI) Run()                                             {}
func (a *fakeAPI) HasSynced() bool                                  { return true }
func (a *fakeAPI) Stop() error                                      { return nil }
func (a *fakeAPI) Modified(kubernetes.ModifiedMode) int64           { return 3 }
func (a *fakeAPI) GetNodeByName(context.Context, string) (*api.Node, error) {
	return nil, errors.New("no nodes")
}

func (a *fakeAPI) GetNamespaceByName(name string) (*object.Namespace, error) {
	for _, s := range a.services {
		if s.Namespace == name {
			return &object.Namespace{Name: name}, nil
		}
	}
	return nil, errors.New("namespace not found")
}

// newKubernetes returns the kubernetes plugin set up from stanza, e.g.
// "kubernetes cluster.local", over api.
func newKubernetes(t *testing.T, stanza string, a *fakeAPI) *kubernetes.Kubernetes {
	t.Helper()
	c := caddy.NewTestController("dns", stanza)
	c.Next()
	k, err := kubernetes.ParseStanza(c)
	if err != nil {
		t.Fatalf("kubernetes stanza %q: %v", stanza, err)
	}
	k.APIConn = a
	return k
}

func service(ns, name string, clusterIPs ...string) *api.Service {
	return &api.Service{
		ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: name},
		Spec: api.ServiceSpec{
			Type:       api.ServiceTypeClusterIP,
			ClusterIP:  clusterIPs[0],
			ClusterIPs: clusterIPs,
			Ports:      []api.ServicePort{{Name: "http", Port: 80, Protocol: api.ProtocolTCP}},
		},
	}
}

type endpoint struct {
	ip    string
	ready *bool
}

var (
	yes = new(true)
	no  = new(false)
)

func endpointSlice(ns, service, name string, endpoints ...endpoint) *discovery.EndpointSlice {
	s := &discovery.EndpointSlice{
		ObjectMeta: meta.ObjectMeta{
			Namespace: ns,
			Name:      name,
			Labels:    map[string]string{discovery.LabelServiceName: service},
		},
		AddressType: discovery.AddressTypeIPv4,
	}
	for _, e := range endpoints {
		s.Endpoints = append(s.Endpoints, discovery.Endpoint{
			Addresses:  []string{e.ip},
			Conditions: discovery.EndpointConditions{Ready: e.ready},
		})
	}
	return s
}
