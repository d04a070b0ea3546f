package e2e

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kfederation/federation/pkg/clusterclient"
)

// sentHeaders records the Content-Type of every POST a client sends, and
// the Accept header of every list or watch of ConfigMaps.
type sentHeaders struct {
	mu      sync.Mutex
	types   []string
	accepts []string
}

// wrap is a client's transport, recording into p.
func (p *sentHeaders) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		p.mu.Lock()
		switch {
		case r.Method == http.MethodPost:
			p.types = append(p.types, r.Header.Get("Content-Type"))
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/configmaps"):
			p.accepts = append(p.accepts, r.Header.Get("Accept"))
		}
		p.mu.Unlock()
		return next.RoundTrip(r)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (p *sentHeaders) listAccepts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.accepts...)
}

func (p *sentHeaders) last() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.types) == 0 {
		return ""
	}
	return p.types[len(p.types)-1]
}

// TestMemberCreateSpeaksProtobuf checks the member client's creates: a
// built-in kind goes to the member's kube-apiserver over protobuf and comes
// back as the member stored it; an object with a field the built-in type
// lacks goes over JSON, so that nothing is dropped on the federation's side.
func TestMemberCreateSpeaksProtobuf(t *testing.T) {
	m := sharedFed.Members[0]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	seen := &sentHeaders{}
	cfg := m.Endpoint.RESTConfig()
	cfg.Wrap(seen.wrap)
	reg := clusterclient.NewRegistry("e2e-member-client")
	cl, err := reg.Set(m.Name, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Remove(m.Name)

	services := schema.GroupVersionResource{Version: "v1", Resource: "services"}
	svc := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]interface{}{"name": "member-client", "namespace": "default", "labels": map[string]interface{}{"app": "member-client"}},
		"spec": map[string]interface{}{
			"selector": map[string]interface{}{"app": "member-client"},
			"ports":    []interface{}{map[string]interface{}{"port": int64(80), "targetPort": int64(8080)}},
		},
	}}
	created, err := cl.Create(ctx, services, svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create Service in %s: %v", m.Name, err)
	}
	defer func() {
		_ = m.Client.CoreV1().Services("default").Delete(context.Background(), "member-client", metav1.DeleteOptions{})
	}()
	if got := seen.last(); got != "application/vnd.kubernetes.protobuf" {
		t.Errorf("Service create went as %q, want protobuf", got)
	}
	if created.GetKind() != "Service" || created.GetAPIVersion() != "v1" || created.GetUID() == "" || created.GetResourceVersion() == "" {
		t.Errorf("created Service reads back as kind %q apiVersion %q uid %q resourceVersion %q", created.GetKind(), created.GetAPIVersion(), created.GetUID(), created.GetResourceVersion())
	}
	live, err := m.Client.CoreV1().Services("default").Get(ctx, "member-client", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ip, _, _ := unstructured.NestedString(created.Object, "spec", "clusterIP"); ip == "" || ip != live.Spec.ClusterIP {
		t.Errorf("created Service has clusterIP %q, the member has %q", ip, live.Spec.ClusterIP)
	}
	ports, _, _ := unstructured.NestedSlice(created.Object, "spec", "ports")
	if len(ports) != 1 || ports[0].(map[string]interface{})["port"] != int64(80) || live.Spec.Ports[0].TargetPort.IntValue() != 8080 {
		t.Errorf("created Service has ports %v, the member %v", ports, live.Spec.Ports)
	}
	if live.Labels["app"] != "member-client" {
		t.Errorf("member's Service has labels %v", live.Labels)
	}
	// The member keeps managedFields; the copy handed back, which stands
	// in for the informer's until the watch brings it, drops them as the
	// informers do.
	if len(live.ManagedFields) == 0 || created.GetManagedFields() != nil {
		t.Errorf("member has %d managedFields entries, the created copy %d; want some and none", len(live.ManagedFields), len(created.GetManagedFields()))
	}

	// The member's answer to a second create is still an AlreadyExists
	// the sync controller can recognize.
	if _, err := cl.Create(ctx, services, svc, metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Errorf("second create: got %v, want AlreadyExists", err)
	}

	configMaps := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	odd := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata":  map[string]interface{}{"name": "member-client-newer", "namespace": "default"},
		"data":      map[string]interface{}{"k": "v"},
		"fromNewer": "a field these types lack",
	}}
	if _, err := cl.Create(ctx, configMaps, odd, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ConfigMap with an unknown field: %v", err)
	}
	defer func() {
		_ = m.Client.CoreV1().ConfigMaps("default").Delete(context.Background(), "member-client-newer", metav1.DeleteOptions{})
	}()
	if got := seen.last(); got != "application/json" {
		t.Errorf("ConfigMap with a field the type lacks went as %q, want JSON", got)
	}

	// The member informer of a built-in kind lists and watches over
	// protobuf and holds typed copies of the managed objects only (a
	// fraction of an unstructured copy's memory); Get hands out an
	// unstructured one.
	managed := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]interface{}{"name": "member-client-managed", "namespace": "default",
			"labels": map[string]interface{}{clusterclient.ManagedByLabel: "e2e-member-client"}},
		"data": map[string]interface{}{"k": "v"},
	}}
	if _, err := cl.Create(ctx, configMaps, managed, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = m.Client.CoreV1().ConfigMaps("default").Delete(context.Background(), "member-client-managed", metav1.DeleteOptions{})
	}()
	inf, _ := cl.Informer(configMaps)
	err = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		return inf.HasSynced() && len(inf.GetStore().ListKeys()) > 0, nil
	})
	if err != nil {
		t.Fatalf("member informer never held the managed ConfigMap: %v", err)
	}
	if keys := inf.GetStore().ListKeys(); len(keys) != 1 || keys[0] != "default/member-client-managed" {
		t.Errorf("member informer holds %v, want only default/member-client-managed", keys)
	}
	obj, _, _ := inf.GetStore().GetByKey("default/member-client-managed")
	if typed, ok := obj.(*corev1.ConfigMap); !ok {
		t.Errorf("member informer holds a %T, want *v1.ConfigMap", obj)
	} else if typed.Data["k"] != "v" {
		t.Errorf("cached typed copy has data %v, want k: v", typed.Data)
	}
	cached, exists, err := cl.Get(configMaps, "default/member-client-managed")
	if err != nil || !exists {
		t.Fatalf("Get of the managed ConfigMap: exists %v, %v", exists, err)
	}
	if v, _, _ := unstructured.NestedString(cached.Object, "data", "k"); cached.GetKind() != "ConfigMap" || cached.GetAPIVersion() != "v1" || v != "v" {
		t.Errorf("Get's copy reads as kind %q apiVersion %q data.k %q", cached.GetKind(), cached.GetAPIVersion(), v)
	}
	accepts := seen.listAccepts()
	if len(accepts) == 0 {
		t.Fatal("no list or watch of ConfigMaps recorded")
	}
	for _, a := range accepts {
		if !strings.HasPrefix(a, "application/vnd.kubernetes.protobuf") {
			t.Errorf("ConfigMaps listed or watched accepting %q, want protobuf first", a)
		}
	}
}
