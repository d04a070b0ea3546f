// Package parity checks that the federation-apiserver answers create
// requests for the stock kinds as kube-apiserver does: one corpus of
// manifests (testdata/<resource>/), each sent byte for byte to both servers,
// and the answers compared.
package parity

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/kfederation/federation/pkg/federatedtypes"
	"github.com/kfederation/federation/test/framework"
)

// byDesignDifference is a case where the federation-apiserver answers
// differently from kube-apiserver on purpose, and what it answers instead.
type byDesignDifference struct {
	reason string
	code   int
	fields []string
}

// byDesign lists every case the two servers answer differently on purpose.
// For these the test asserts the federation's own answer, and that
// kube-apiserver still answers differently (an entry that no longer differs
// is stale and fails the test).
var byDesign = map[string]byDesignDifference{
	// kube-apiserver checks a chosen clusterIP against its
	// --service-cluster-ip-range when it allocates it. The federation
	// allocates nothing: each member has its own range, and a member copy
	// gets (or refuses) its own IP.
	"services/bydesign-clusterip-out-of-range.yaml": {
		reason: "the federation allocates no cluster IPs, so it has no service range to check against",
		code:   201,
	},
	// The node port range (--service-node-port-range) belongs to each
	// member too.
	"services/bydesign-nodeport-out-of-range.yaml": {
		reason: "the federation allocates no node ports, so it has no node port range to check against",
		code:   201,
	},
	// Whether dual-stack is possible depends on the member a copy lands in;
	// the federation cannot refuse it for all of them.
	"services/bydesign-require-dual-stack.yaml": {
		reason: "IP families are configured per member; the federation has none of its own",
		code:   201,
	},
	"services/bydesign-ipv6-family.yaml": {
		reason: "IP families are configured per member; the federation has none of its own",
		code:   201,
	},
	// Federation annotations are checked by the FederationAnnotations
	// admission plugin, so that a typo is a 422 at once rather than a
	// silent fallback in a controller; kube-apiserver treats them as
	// opaque annotations.
	"services/bydesign-bad-cluster-selector.yaml": {
		reason: "the federation validates its cluster selector annotation",
		code:   422,
		fields: []string{"metadata.annotations[federation.alpha.kubernetes.io/cluster-selector]"},
	},
	"services/bydesign-bad-dns-ttl.yaml": {
		reason: "the federation validates its DNS TTL annotation",
		code:   422,
		fields: []string{"metadata.annotations[federation.kubernetes.io/dns-ttl]"},
	},
	"deployments/bydesign-bad-preferences.yaml": {
		reason: "the federation validates its replica preferences annotation",
		code:   422,
		fields: []string{"metadata.annotations[federation.kubernetes.io/deployment-preferences]"},
	},
	"jobs/bydesign-bad-preferences.yaml": {
		reason: "the federation validates its replica preferences annotation",
		code:   422,
		fields: []string{"metadata.annotations[federation.kubernetes.io/job-preferences]"},
	},
	// spec.rollbackTo asked a Deployment controller to roll back to a
	// revision of its own ReplicaSets. apps/v1 keeps it only as the
	// deprecated.deployment.rollback.to annotation, which no controller
	// reads any more; kube-apiserver accepts both forms. The federation
	// stores and propagates apps/v1 and has no revision history, so its
	// RemovedFields admission plugin refuses both, naming the field of the
	// internal type.
	"old-extensions-v1beta1-deployments/bydesign-rollback-to.yaml": {
		reason: "the federation refuses spec.rollbackTo (RemovedFields admission): it would be kept as an annotation nothing acts on",
		code:   422,
		fields: []string{"spec.rollbackTo"},
	},
	// The federation's own annotations are checked whatever the version
	// of the request.
	"old-extensions-v1beta1-deployments/bydesign-bad-preferences.yaml": {
		reason: "the federation validates its replica preferences annotation",
		code:   422,
		fields: []string{"metadata.annotations[federation.kubernetes.io/deployment-preferences]"},
	},
	"deployments/bydesign-rollback-annotation.yaml": {
		reason: "the federation refuses the deprecated.deployment.rollback.to annotation, apps/v1's form of spec.rollbackTo (RemovedFields admission)",
		code:   422,
		fields: []string{"spec.rollbackTo"},
	},
}

// TestParityWithKubeAPIServer sends every case of testdata to the
// federation-apiserver and to a real kube-apiserver of the same Kubernetes
// version, in a namespace of the same name (a case of an old version that
// kube-apiserver no longer serves is sent to it converted to today's
// version, see oldEndpoint), and asserts per case:
//   - the same status code, and for 422 the same set of invalid fields
//     (except the by-design differences above, whose federation answer is
//     asserted instead);
//   - kube-apiserver's code is the one the case declares, so that a case
//     that tests nothing (an "invalid" body that is valid) is noticed;
//   - after a refused create, the name is not stored on either server;
//   - after a successful create, the two returned objects are the same
//     once server-assigned metadata and allocations are left out;
//   - a Service stored in the federation has no cluster IP or node port the
//     user did not set, and keeps those the user did set.
func TestParityWithKubeAPIServer(t *testing.T) {
	cases, err := loadCases("testdata")
	if err != nil {
		t.Fatal(err)
	}
	f := framework.StartForTest(t, framework.Options{
		// The admission chain as shipped, FederationFinalizer included:
		// nothing here is deleted, so no controller manager needs to take
		// the finalizer off again.
		NoControllerManager:        true,
		ControllerManagerElsewhere: true,
		// Only the member's kube-apiserver is needed: its controllers
		// would only add endpoints and pods the test does not look at.
		Members: []framework.MemberOptions{{Name: "m1", Zone: "z", Region: "r", APIServerOnly: true}},
	})
	fedCfg, kubeCfg := f.Endpoint.RESTConfig(), f.Member("m1").Endpoint.RESTConfig()
	fed, err := newServer("federation-apiserver", fedCfg)
	if err != nil {
		t.Fatal(err)
	}
	kube, err := newServer("kube-apiserver", kubeCfg)
	if err != nil {
		t.Fatal(err)
	}
	fedClient := kubernetes.NewForConfigOrDie(fedCfg)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ns := "parity-" + rand.String(5)
	for _, cs := range []kubernetes.Interface{fedClient, kubernetes.NewForConfigOrDie(kubeCfg)} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create test namespace %s: %v", ns, err)
		}
	}

	var same, differentByDesign, allocatedByKubeOnly int
	seenByDesign := map[string]bool{}
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			kubeOut, fedOut := sendBoth(ctx, t, c, ns, kube, fed)
			t.Logf("kube-apiserver: %s; federation-apiserver: %s", kubeOut, fedOut)
			if kubeOut.Code != c.Want {
				t.Errorf("kube-apiserver answered %s, but the case declares %d (%s): fix the case", kubeOut, c.Want, c.Why)
			}

			if d, ok := byDesign[c.ID]; ok {
				seenByDesign[c.ID] = true
				differentByDesign++
				t.Logf("different by design: %s", d.reason)
				want := outcome{Code: d.code, Fields: d.fields}
				if !fedOut.sameAs(want) {
					t.Errorf("by-design difference (%s): federation answered %s, want %s", d.reason, fedOut, want)
				}
				if fedOut.sameAs(kubeOut) {
					t.Errorf("listed as a by-design difference (%s), but both servers answered %s: remove it from byDesign", d.reason, fedOut)
				}
			} else {
				if fedOut.sameAs(kubeOut) {
					same++
				} else {
					t.Errorf("different answers to %s (%s):\n  kube-apiserver:       %s\n  federation-apiserver: %s", c.ID, c.Why, kubeOut, fedOut)
				}
				if fedOut.Code == 201 && kubeOut.Code == 201 {
					fedObj := fedOut.Object
					if c.Old != nil {
						fedObj = readBackInTodaysVersion(ctx, t, c, ns, fed, fedOut)
					}
					compareCreated(t, c, kubeOut.Object, fedObj)
				}
				wantWarnings := kubeOut.Warnings
				if c.Old != nil {
					w, err := c.Old.deprecationWarning()
					if err != nil || w == "" {
						t.Fatalf("no deprecation warning for %s %s: %v", c.Old.old, c.Old.kind, err)
					}
					wantWarnings = slices.Sorted(slices.Values(append(slices.Clone(kubeOut.Warnings), w)))
				}
				if !slices.Equal(fedOut.Warnings, wantWarnings) {
					t.Errorf("different warnings:\n  kube-apiserver:       %q\n  federation-apiserver: %q\n  want:                 %q", kubeOut.Warnings, fedOut.Warnings, wantWarnings)
				}
			}

			assertNotHalfStored(ctx, t, c.referencePath(ns), c.name(), kube, kubeOut)
			assertNotHalfStored(ctx, t, c.path(ns), c.name(), fed, fedOut)
			if c.Endpoint.resource == "services" && fedOut.Code == 201 {
				allocatedByKubeOnly += assertNothingAllocated(ctx, t, c, fedClient, fedOut, kubeOut)
			}
		})
	}
	for id := range byDesign {
		if !seenByDesign[id] {
			t.Errorf("byDesign lists %s, which is not a case in testdata", id)
		}
	}
	// The allocation check means something only if kube-apiserver did
	// allocate where the federation did not.
	if allocatedByKubeOnly == 0 {
		t.Errorf("kube-apiserver allocated no cluster IP or node port in any Service case; the allocation check tested nothing")
	}
	t.Logf("parity: %d cases, %d same, %d by-design differences, %d different; kube-apiserver allocated %d values the federation did not",
		len(cases), same, differentByDesign, len(cases)-same-differentByDesign, allocatedByKubeOnly)
}

// sendBoth posts the case to both servers (twice for a repeat case, whose
// first create must succeed on both) and returns the answers. A case of an
// old version is posted to kube-apiserver converted to today's version
// (oldEndpoint); one that does not convert is answered 400 without asking
// kube-apiserver.
func sendBoth(ctx context.Context, t *testing.T, c parityCase, ns string, kube, fed server) (kubeOut, fedOut outcome) {
	t.Helper()
	send := func(s server) outcome {
		path, body, contentType := c.path(ns), c.body(ns), c.ContentType
		if s.name == kube.name && c.Old != nil {
			converted, err := c.Old.convert(body)
			if err != nil {
				return outcome{Code: 400, Reason: metav1.StatusReasonBadRequest, Message: "reference conversion: " + err.Error()}
			}
			path, body, contentType = c.referencePath(ns), converted, "application/json"
		}
		o, err := s.post(ctx, path, body, contentType, c.Query)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	if c.Repeat {
		for _, s := range []server{kube, fed} {
			if o := send(s); o.Code != 201 {
				t.Fatalf("%s: first create of a repeat case answered %s, want 201", s.name, o)
			}
		}
	}
	return send(kube), send(fed)
}

// assertNotHalfStored checks that a refused create left nothing under the
// body's name: validation, admission and decoding all happen before
// anything reaches etcd.
func assertNotHalfStored(ctx context.Context, t *testing.T, path, name string, s server, created outcome) {
	t.Helper()
	// A 409 is about an object the first create stored; a body without a
	// name (broken, or generateName) names nothing that could be stored.
	if created.Code < 400 || created.Code == 409 || name == "" {
		return
	}
	got, err := s.get(ctx, path+"/"+name)
	if err != nil {
		t.Fatal(err)
	}
	if got.Code != 404 {
		t.Errorf("%s: create was refused with %d, but GET %s answers %d", s.name, created.Code, name, got.Code)
	}
}

// compareCreated checks that both servers defaulted and stored the same
// object. What each server assigns on its own (uid, timestamps, versions,
// generated names, and for Services the allocations the federation leaves
// to the members) is left out.
func compareCreated(t *testing.T, c parityCase, kubeObj, fedObj map[string]any) {
	t.Helper()
	var userSvc corev1.Service
	if c.Endpoint.resource == "services" {
		if err := yaml.Unmarshal(c.Body, &userSvc); err != nil {
			t.Fatalf("parse the case's Service: %v", err)
		}
	}
	fedObj = withoutFederationFinalizer(t, c, fedObj)
	k, fd := withoutServerAssigned(kubeObj, userSvc), withoutServerAssigned(fedObj, userSvc)
	if !reflect.DeepEqual(k, fd) {
		kj, _ := json.MarshalIndent(k, "", "  ")
		fj, _ := json.MarshalIndent(fd, "", "  ")
		t.Errorf("created objects differ:\n--- kube-apiserver\n%s\n--- federation-apiserver\n%s", kj, fj)
	}
}

// readBackInTodaysVersion checks that the federation answered a create at
// an old endpoint with the object in that old version, and returns the
// object as it is stored and given to members: read back at today's
// endpoint.
func readBackInTodaysVersion(ctx context.Context, t *testing.T, c parityCase, ns string, fed server, created outcome) map[string]any {
	t.Helper()
	if got, want := created.Object["apiVersion"], c.Old.old.String(); got != want {
		t.Errorf("the federation answered a create at %s with an object of apiVersion %v, want %s", c.path(ns), got, want)
	}
	meta, _ := created.Object["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	got, err := fed.get(ctx, c.referencePath(ns)+"/"+name)
	if err != nil {
		t.Fatal(err)
	}
	if got.Code != 200 {
		t.Fatalf("read back %s at today's endpoint %s: %s", name, c.referencePath(ns), got)
	}
	return got.Object
}

// withoutFederationFinalizer checks that the federation put its deletion
// finalizer on an object of a kind it propagates (FederationFinalizer
// admission), and returns the object without it, as kube-apiserver would
// have stored it.
func withoutFederationFinalizer(t *testing.T, c parityCase, obj map[string]any) map[string]any {
	t.Helper()
	u := &unstructured.Unstructured{Object: runtime.DeepCopyJSON(obj)}
	propagated := false
	for _, a := range federatedtypes.All() {
		if a.GVR.Resource == c.Endpoint.resource && !a.Skips(federatedtypes.IdentityOf(u)) {
			propagated = true
		}
	}
	finalizers := u.GetFinalizers()
	has := slices.Contains(finalizers, federatedtypes.Finalizer)
	if propagated != has {
		t.Errorf("%s: finalizers %v; the federation's %s should be there exactly when the kind is propagated (%v)", c.name(), finalizers, federatedtypes.Finalizer, propagated)
	}
	finalizers = slices.DeleteFunc(finalizers, func(f string) bool { return f == federatedtypes.Finalizer })
	if len(finalizers) == 0 {
		unstructured.RemoveNestedField(u.Object, "metadata", "finalizers")
	} else {
		u.SetFinalizers(finalizers)
	}
	return u.Object
}

// withoutServerAssigned is obj without what a server assigns by itself. userSvc is
// the Service the user sent (zero for other kinds): allocated fields the
// user did not set are dropped, because kube-apiserver allocates them and
// the federation, by design, does not (assertNothingAllocated checks the
// federation's side of that).
func withoutServerAssigned(obj map[string]any, userSvc corev1.Service) map[string]any {
	// Values derived from the object's uid (a Job's selector and
	// controller-uid labels) or from a generated name (a Namespace's
	// kubernetes.io/metadata.name label) are made equal by replacing the
	// uid and the generated name.
	meta, _ := obj["metadata"].(map[string]any)
	data, _ := json.Marshal(obj)
	if uid, _ := meta["uid"].(string); uid != "" {
		data = []byte(strings.ReplaceAll(string(data), uid, "<uid>"))
	}
	if _, generated := meta["generateName"]; generated {
		if name, _ := meta["name"].(string); name != "" {
			data = []byte(strings.ReplaceAll(string(data), `"`+name+`"`, `"<generated name>"`))
		}
	}
	var out map[string]any
	_ = json.Unmarshal(data, &out)

	meta, _ = out["metadata"].(map[string]any)
	for _, k := range []string{"uid", "resourceVersion", "creationTimestamp", "managedFields"} {
		delete(meta, k)
	}
	if spec, ok := out["spec"].(map[string]any); ok && userSvc.Kind == "Service" {
		if userSvc.Spec.ClusterIP == "" && len(userSvc.Spec.ClusterIPs) == 0 {
			delete(spec, "clusterIP")
			delete(spec, "clusterIPs")
		}
		if userSvc.Spec.HealthCheckNodePort == 0 {
			delete(spec, "healthCheckNodePort")
		}
		// kube-apiserver fills in the IP families of its own cluster;
		// the federation leaves them to each member.
		if len(userSvc.Spec.IPFamilies) == 0 {
			delete(spec, "ipFamilies")
		}
		if userSvc.Spec.IPFamilyPolicy == nil {
			delete(spec, "ipFamilyPolicy")
		}
		ports, _ := spec["ports"].([]any)
		for i, p := range ports {
			if i < len(userSvc.Spec.Ports) && userSvc.Spec.Ports[i].NodePort == 0 {
				delete(p.(map[string]any), "nodePort")
			}
		}
	}
	return out
}

// assertNothingAllocated reads back a Service the federation created and
// checks it carries exactly the cluster IPs and node ports the user wrote.
// It returns how many values kube-apiserver allocated for the same body
// where the federation left them empty.
func assertNothingAllocated(ctx context.Context, t *testing.T, c parityCase, fedClient kubernetes.Interface, fedOut, kubeOut outcome) int {
	t.Helper()
	var user corev1.Service
	if err := yaml.Unmarshal(c.Body, &user); err != nil {
		t.Fatalf("parse the case's Service: %v", err)
	}
	meta := fedOut.Object["metadata"].(map[string]any)
	stored, err := fedClient.CoreV1().Services(meta["namespace"].(string)).Get(ctx, meta["name"].(string), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("read back the federation's Service: %v", err)
	}

	wantIPs := user.Spec.ClusterIPs
	if len(wantIPs) == 0 && user.Spec.ClusterIP != "" {
		wantIPs = []string{user.Spec.ClusterIP}
	}
	wantIP := user.Spec.ClusterIP
	if wantIP == "" && len(wantIPs) > 0 {
		wantIP = wantIPs[0]
	}
	if stored.Spec.ClusterIP != wantIP || !slices.Equal(stored.Spec.ClusterIPs, wantIPs) {
		t.Errorf("federation stored clusterIP %q, clusterIPs %q; the user wrote %q, %q", stored.Spec.ClusterIP, stored.Spec.ClusterIPs, user.Spec.ClusterIP, user.Spec.ClusterIPs)
	}
	for i, p := range stored.Spec.Ports {
		if i < len(user.Spec.Ports) && p.NodePort != user.Spec.Ports[i].NodePort {
			t.Errorf("federation stored ports[%d].nodePort %d; the user wrote %d", i, p.NodePort, user.Spec.Ports[i].NodePort)
		}
	}
	if stored.Spec.HealthCheckNodePort != user.Spec.HealthCheckNodePort {
		t.Errorf("federation stored healthCheckNodePort %d; the user wrote %d", stored.Spec.HealthCheckNodePort, user.Spec.HealthCheckNodePort)
	}

	if kubeOut.Code != 201 {
		return 0
	}
	var kubeSvc corev1.Service
	data, _ := json.Marshal(kubeOut.Object)
	if err := json.Unmarshal(data, &kubeSvc); err != nil {
		t.Fatalf("kube-apiserver's Service: %v", err)
	}
	allocated := 0
	if wantIP == "" && kubeSvc.Spec.ClusterIP != "" {
		allocated++
	}
	for i, p := range kubeSvc.Spec.Ports {
		if i < len(user.Spec.Ports) && user.Spec.Ports[i].NodePort == 0 && p.NodePort != 0 {
			allocated++
		}
	}
	if user.Spec.HealthCheckNodePort == 0 && kubeSvc.Spec.HealthCheckNodePort != 0 {
		allocated++
	}
	return allocated
}
