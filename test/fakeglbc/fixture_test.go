package fakeglbc

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"google.golang.org/api/compute/v1"
	"google.golang.org/api/option"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kfederation/federation/test/fakecompute"
)

const (
	project     = "fed-test"
	ns          = "default"
	webNodePort = 30080
)

// cloudFixture is one fake Compute server that the members of a test share.
type cloudFixture struct {
	srv *fakecompute.Server
	// api is a client for the test's own reads and writes.
	api *compute.Service
}

func newCloud(t *testing.T) *cloudFixture {
	t.Helper()
	srv := fakecompute.New()
	srv.Start()
	t.Cleanup(srv.Close)
	return &cloudFixture{srv: srv, api: computeClient(t, srv, nil)}
}

// computeClient is a compute/v1 client of srv; rt, when not nil, sees every
// request first.
func computeClient(t *testing.T, srv *fakecompute.Server, rt http.RoundTripper) *compute.Service {
	t.Helper()
	opts := []option.ClientOption{option.WithEndpoint(srv.Endpoint()), option.WithoutAuthentication()}
	if rt != nil {
		opts = append(opts, option.WithHTTPClient(&http.Client{Transport: rt}))
	}
	svc, err := compute.NewService(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// member is one fake member cluster with its fake GLBC.
type member struct {
	name   string
	client *fake.Clientset
	glbc   *GLBC
}

type memberConfig struct {
	name, zone string
	// uid is the ConfigMap's data; nil starts the member without one.
	uid map[string]string
	// compute replaces the member's client of the shared server.
	compute *compute.Service
	objects []runtime.Object
}

// startMember starts a member with two nodes and a NodePort Service "web"
// on webNodePort (port 80) and the next node port (port 81), and its fake GLBC, stopped when the test ends.
func startMember(t *testing.T, c *cloudFixture, cfg memberConfig) *member {
	t.Helper()
	objs := append([]runtime.Object{
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-0"}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{
				{Name: "http", Port: 80, NodePort: webNodePort},
				{Name: "admin", Port: 81, NodePort: webNodePort + 1},
			}},
		},
	}, cfg.objects...)
	if cfg.uid != nil {
		objs = append(objs, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: uidNamespace, Name: uidConfigMap},
			Data:       cfg.uid,
		})
	}
	m := &member{name: cfg.name, client: fake.NewClientset(objs...)}
	svc := cfg.compute
	if svc == nil {
		svc = computeClient(t, c.srv, nil)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g, err := Start(ctx, Options{
		Cluster: cfg.name, Client: m.client, Compute: svc, Project: project, Zone: cfg.zone, Resync: time.Minute,
	})
	if err != nil {
		cancel()
		t.Fatalf("start %s: %v", cfg.name, err)
	}
	m.glbc = g
	t.Cleanup(func() {
		cancel()
		g.Wait()
	})
	return m
}

func newIngress(name string, annotations map[string]string) *networkingv1.Ingress {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations},
		Spec: networkingv1.IngressSpec{DefaultBackend: &networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}},
		}},
	}
}

func (m *member) create(t *testing.T, ing *networkingv1.Ingress) {
	t.Helper()
	if _, err := m.client.NetworkingV1().Ingresses(ing.Namespace).Create(context.Background(), ing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (m *member) delete(t *testing.T, name string) {
	t.Helper()
	if err := m.client.NetworkingV1().Ingresses(ns).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (m *member) ingress(t *testing.T, name string) *networkingv1.Ingress {
	t.Helper()
	ing, err := m.client.NetworkingV1().Ingresses(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ing
}

// servedAt returns the address in the Ingress's status, "" if none.
func (m *member) servedAt(t *testing.T, name string) string {
	t.Helper()
	lb := m.ingress(t, name).Status.LoadBalancer.Ingress
	if len(lb) != 1 {
		return ""
	}
	return lb[0].IP
}

// eventually retries check until it returns nil, failing the test with the
// last error after a while.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// namesAre checks the names a collection of the fake holds.
func (c *cloudFixture) namesAre(collection string, want ...string) error {
	got := c.srv.Names(project, collection)
	if !sameSet(got, want) || len(got) != len(want) {
		return fmt.Errorf("%s are %v, want %v", collection, got, want)
	}
	return nil
}

// groupsOf returns the zones of the instance groups in a backend service.
func (c *cloudFixture) groupsOf(name string) ([]string, error) {
	bs, err := c.api.BackendServices.Get(project, name).Do()
	if err != nil {
		return nil, err
	}
	var zones []string
	for _, b := range bs.Backends {
		// .../zones/<zone>/instanceGroups/<name>
		link := resourcePath(b.Group)
		var p, z, g string
		if _, err := fmt.Sscanf(slashesToSpaces(link), "projects %s zones %s instanceGroups %s", &p, &z, &g); err != nil {
			return nil, fmt.Errorf("group link %q: %w", b.Group, err)
		}
		zones = append(zones, z)
	}
	slices.Sort(zones)
	return zones, nil
}

func slashesToSpaces(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == '/' {
			b[i] = ' '
		}
	}
	return string(b)
}
