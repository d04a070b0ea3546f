package ingresslb

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kfederation/federation/pkg/controller/controllertest"

	compute "google.golang.org/api/compute/v1"
	"google.golang.org/api/option"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/dynamicinformer"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2/ktesting"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
	fedfake "github.com/kfederation/client-go/clientset/versioned/fake"
	fedinformers "github.com/kfederation/client-go/informers/externalversions"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller"
	"github.com/kfederation/federation/pkg/googlecloud/gce"
	"github.com/kfederation/federation/test/fakecompute"
)

// The federation, project and namespace of every test.
const (
	federationName = "myfederation"
	gcpProject     = "test-project"
	ns             = "shop"
	webKey         = ns + "/web"
)

// memberZones are the members every test has, and the zone of each one's
// nodes.
var memberZones = map[string]string{
	"cluster-a": "us-central1-a",
	"cluster-b": "us-central1-b",
	"cluster-c": "europe-west1-b",
}

// seed is what a fixture starts with.
type seed struct {
	// ready lists the Ready members in the order the fake members give
	// them: not sorted, so that the controller's own order by name counts.
	// Nil: every member, in reverse order of names.
	ready []string
	// ingresses, services and classes are the federation's objects.
	// Services are in both the dynamic client (the controller's informer)
	// and the typed one (the node port writes).
	ingresses []*unstructured.Unstructured
	services  []*corev1.Service
	classes   []*unstructured.Unstructured
	// uidConfigMaps is the data of each member's ConfigMap
	// kube-system/ingress-uid; a member missing here has none.
	uidConfigMaps map[string]map[string]string
	// memberIngresses are each member's Ingresses, as its own API holds
	// them.
	memberIngresses map[string][]*networkingv1.Ingress
	// cached are each member's copies in its informer cache.
	cached map[string][]*unstructured.Unstructured
	// recorded is the UID annotation on each Cluster object.
	recorded map[string]string
}

// fixture is one Ingress load balancer controller over a fake federation
// API (dynamic for Ingresses, Services and IngressClasses, typed for
// Clusters and the Services' node port writes), fake members, and the real
// Compute Engine client on an in-process fake Compute Engine: seed
// objects, call a sync, then read what the federation, the members and
// the project hold.
type fixture struct {
	t        *testing.T
	ctx      context.Context
	c        *Controller
	fed      *dynamicfake.FakeDynamicClient
	kube     *kubefake.Clientset
	fedTyped *fedfake.Clientset
	members  *fakeMembers
	cloud    *fakecompute.Server
	compute  *compute.Service
	events   *record.FakeRecorder
	queue    recordingQueue

	mu sync.Mutex
	// refused are the errors the federation answers requests on Clusters
	// with, by "verb name".
	refused map[string]error
}

func newFixture(t *testing.T, opts Options, s seed) *fixture {
	t.Helper()
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	f := &fixture{t: t, ctx: ctx, events: record.NewFakeRecorder(100), refused: map[string]error{}}

	f.cloud = fakecompute.New()
	f.cloud.Start()
	t.Cleanup(f.cloud.Close)
	svc, err := compute.NewService(ctx, option.WithEndpoint(f.cloud.Endpoint()), option.WithoutAuthentication(), option.WithHTTPClient(&http.Client{}))
	if err != nil {
		t.Fatalf("create the compute/v1 client: %v", err)
	}
	f.compute = svc

	fedObjs := []runtime.Object{}
	kubeObjs := []runtime.Object{}
	for _, o := range slices.Concat(s.ingresses, s.classes) {
		fedObjs = append(fedObjs, o)
	}
	for _, svc := range s.services {
		fedObjs = append(fedObjs, toUnstructured(t, svc))
		kubeObjs = append(kubeObjs, svc)
	}
	f.fed = dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		ingressGVR: "IngressList", serviceGVR: "ServiceList", ingressClassGVR: "IngressClassList",
	}, fedObjs...)
	f.kube = kubefake.NewClientset(kubeObjs...)

	names := sortedMembers()
	ready := s.ready
	if ready == nil {
		ready = slices.Clone(names)
		slices.Reverse(ready)
	}
	f.members = &fakeMembers{ready: ready, clients: map[string]*kubefake.Clientset{}, cached: map[string]map[string]*unstructured.Unstructured{}}
	var clusters []runtime.Object
	for _, name := range names {
		var objs []runtime.Object
		if data, ok := s.uidConfigMaps[name]; ok {
			objs = append(objs, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: UIDNamespace, Name: UIDConfigMap}, Data: data})
		}
		for _, ing := range s.memberIngresses[name] {
			objs = append(objs, ing)
		}
		f.members.clients[name] = kubefake.NewClientset(objs...)
		f.members.cached[name] = map[string]*unstructured.Unstructured{}
		for _, u := range s.cached[name] {
			f.members.cached[name][cachedKey(u)] = u
		}
		cl := &federationv1beta1.Cluster{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Status: federationv1beta1.ClusterStatus{
				Conditions: []federationv1beta1.ClusterCondition{{Type: federationv1beta1.ClusterReady, Status: federationv1beta1.ConditionTrue}},
				Zones:      []string{memberZones[name]},
			},
		}
		if uid := s.recorded[name]; uid != "" {
			cl.Annotations = map[string]string{ClusterUIDAnnotation: uid}
		}
		clusters = append(clusters, cl)
	}
	// NewClientset's field-managed tracker has no schema for Cluster and
	// refuses the patches recording the UID; the simple one applies them.
	f.fedTyped = fedfake.NewSimpleClientset(clusters...)
	f.fedTyped.PrependReactor("*", "clusters", func(a clienttesting.Action) (bool, runtime.Object, error) {
		named, ok := a.(interface{ GetName() string })
		if !ok {
			return false, nil, nil
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		err := f.refused[a.GetVerb()+" "+named.GetName()]
		return err != nil, nil, err
	})

	cctx := &controller.Context{
		KubeClient:       f.kube,
		FedClient:        f.fedTyped,
		DynamicClient:    f.fed,
		DynamicInformers: dynamicinformer.NewDynamicSharedInformerFactory(f.fed, 0),
		FedInformers:     fedinformers.NewSharedInformerFactory(f.fedTyped, 0),
		FederationName:   federationName,
	}
	f.c = newController(ctx, cctx, gce.New(svc, gcpProject, ""), opts, f.members, f.events)
	f.queue = recordingQueue{controllertest.NewRecordingQueue(f.c.queue)}
	f.c.queue = f.queue
	t.Cleanup(f.queue.ShutDown)
	cctx.DynamicInformers.Start(ctx.Done())
	cctx.FedInformers.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), f.c.synced...) {
		t.Fatal("caches did not sync")
	}
	return f
}

func sortedMembers() []string {
	var names []string
	for name := range memberZones {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// refuseCluster makes the federation answer verb on the Cluster name with
// err; nil lets such requests through again.
func (f *fixture) refuseCluster(verb, name string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refused[verb+" "+name] = err
}

// syncUIDs runs one sync of the UIDs, then waits until the Cluster
// informer has the annotations it wrote, as a worker's next sync would.
func (f *fixture) syncUIDs() error {
	f.t.Helper()
	err := f.c.syncUIDs(f.ctx)
	f.waitClusterCache()
	return err
}

// syncIngress runs one sync of the federated Ingress key, then waits until
// the Ingress informer has what it wrote.
func (f *fixture) syncIngress(key string) error {
	f.t.Helper()
	err := f.c.syncIngress(f.ctx, key)
	f.waitIngressCache(key)
	return err
}

func (f *fixture) mustSyncIngress(key string) {
	f.t.Helper()
	if err := f.syncIngress(key); err != nil {
		f.t.Fatalf("syncIngress(%s): %v", key, err)
	}
}

func (f *fixture) syncFirewall() error {
	f.t.Helper()
	return f.c.syncFirewall(f.ctx)
}

// eventually polls cond until it holds, for at most 5 s.
func (f *fixture) eventually(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitIngressCache waits until the informer holds the federated Ingress
// key as the fake API holds it now.
func (f *fixture) waitIngressCache(key string) {
	f.t.Helper()
	want := f.fedIngressOrNil(key)
	f.eventually("the Ingress informer to catch up with "+key, func() bool {
		item, exists, err := f.c.ings.GetStore().GetByKey(key)
		return err == nil && exists == (want != nil) &&
			(want == nil || equality.Semantic.DeepEqual(item.(*unstructured.Unstructured).Object, want.Object))
	})
}

// waitClusterCache waits until the Cluster lister has every Cluster's
// annotations as the fake API holds them now.
func (f *fixture) waitClusterCache() {
	f.t.Helper()
	list, err := f.fedTyped.FederationV1beta1().Clusters().List(f.ctx, metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, want := range list.Items {
		f.eventually("the Cluster informer to catch up with "+want.Name, func() bool {
			got, err := f.c.clusters.Get(want.Name)
			return err == nil && equality.Semantic.DeepEqual(got.Annotations, want.Annotations)
		})
	}
}

func (f *fixture) fedIngressOrNil(key string) *unstructured.Unstructured {
	namespace, name, _ := cache.SplitMetaNamespaceKey(key)
	obj, err := f.fed.Resource(ingressGVR).Namespace(namespace).Get(f.ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	return obj
}

// fedIngress returns the federated Ingress key as the fake API holds it.
func (f *fixture) fedIngress(key string) *unstructured.Unstructured {
	f.t.Helper()
	obj := f.fedIngressOrNil(key)
	if obj == nil {
		f.t.Fatalf("the federation has no Ingress %s", key)
	}
	return obj
}

// deleteIngress deletes the federated Ingress key and waits for the
// informer to see it go.
func (f *fixture) deleteIngress(key string) {
	f.t.Helper()
	namespace, name, _ := cache.SplitMetaNamespaceKey(key)
	if err := f.fed.Resource(ingressGVR).Namespace(namespace).Delete(f.ctx, name, metav1.DeleteOptions{}); err != nil {
		f.t.Fatal(err)
	}
	f.waitIngressCache(key)
}

// hold is the controller's MemberGate answer for the federated Ingress
// key and cluster, on the informer's copy, as the sync asks it.
func (f *fixture) hold(key, cluster string) string {
	f.t.Helper()
	obj, exists, err := f.c.ings.GetStore().GetByKey(key)
	if err != nil || !exists {
		f.t.Fatalf("the Ingress informer has no %s (%v)", key, err)
	}
	return f.c.Hold(obj.(*unstructured.Unstructured), cluster)
}

// configMap returns the data of the member's ConfigMap
// kube-system/ingress-uid, nil if it has none.
func (f *fixture) configMap(cluster string) map[string]string {
	f.t.Helper()
	cm, err := f.members.clients[cluster].CoreV1().ConfigMaps(UIDNamespace).Get(f.ctx, UIDConfigMap, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	return cm.Data
}

// recorded returns the UID annotation of the Cluster object, as the fake
// API holds it.
func (f *fixture) recorded(cluster string) string {
	f.t.Helper()
	cl, err := f.fedTyped.FederationV1beta1().Clusters().Get(f.ctx, cluster, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return cl.Annotations[ClusterUIDAnnotation]
}

// memberActions are the requests a member's client got, as "verb
// resource", reads included.
func (f *fixture) memberActions(cluster string) []string {
	return actions(f.members.clients[cluster].Actions())
}

// serviceUpdates are the federated Services the controller updated
// through the typed client.
func (f *fixture) serviceUpdates() []*corev1.Service {
	var out []*corev1.Service
	for _, a := range f.kube.Actions() {
		if u, ok := a.(clienttesting.UpdateAction); ok && a.GetResource().Resource == "services" {
			out = append(out, u.GetObject().(*corev1.Service))
		}
	}
	return out
}

func actions(as []clienttesting.Action) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.GetVerb()+" "+a.GetResource().Resource)
	}
	return out
}

// takeEvents returns the events recorded since the last call.
func (f *fixture) takeEvents() []string { return controllertest.TakeEvents(f.events) }

var countEvents = controllertest.CountEvents

// do fails the test unless a change to the fake project was accepted and
// done.
func (f *fixture) do(op *compute.Operation, err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("change refused: %v", err)
	}
	if op.Status != "DONE" || op.Error != nil {
		f.t.Fatalf("operation %s %s: %s, %+v", op.OperationType, op.TargetLink, op.Status, op.Error)
	}
}

// reserve reserves a global address in the project, as someone outside
// the controller (a user, or the controller before a restart) would.
func (f *fixture) reserve(name, description string) {
	f.t.Helper()
	f.do(f.compute.GlobalAddresses.Insert(gcpProject, &compute.Address{Name: name, Description: description}).Context(f.ctx).Do())
}

// address returns the project's global address called name, nil if none.
func (f *fixture) address(name string) *compute.Address {
	a, err := f.compute.GlobalAddresses.Get(gcpProject, name).Context(f.ctx).Do()
	if err != nil {
		return nil
	}
	return a
}

// useAddress puts a load balancer's forwarding rule on the global address
// called name, as a member's GLBC does.
func (f *fixture) useAddress(name string) {
	f.t.Helper()
	ctx := f.ctx
	f.do(f.compute.HealthChecks.Insert(gcpProject, &compute.HealthCheck{Name: "hc", Type: "HTTP"}).Context(ctx).Do())
	f.do(f.compute.BackendServices.Insert(gcpProject, &compute.BackendService{Name: "bs", HealthChecks: []string{"global/healthChecks/hc"}}).Context(ctx).Do())
	f.do(f.compute.UrlMaps.Insert(gcpProject, &compute.UrlMap{Name: "um", DefaultService: "global/backendServices/bs"}).Context(ctx).Do())
	f.do(f.compute.TargetHttpProxies.Insert(gcpProject, &compute.TargetHttpProxy{Name: "tp", UrlMap: "global/urlMaps/um"}).Context(ctx).Do())
	f.do(f.compute.GlobalForwardingRules.Insert(gcpProject, &compute.ForwardingRule{Name: "fr", Target: "global/targetHttpProxies/tp", IPAddress: "global/addresses/" + name}).Context(ctx).Do())
}

// instanceGroup creates the unmanaged instance group name in zone, of
// instances carrying the given network tags, as a member's GLBC does.
func (f *fixture) instanceGroup(zone, name string, instances map[string][]string) {
	f.t.Helper()
	ctx := f.ctx
	f.do(f.compute.InstanceGroups.Insert(gcpProject, zone, &compute.InstanceGroup{Name: name}).Context(ctx).Do())
	req := &compute.InstanceGroupsAddInstancesRequest{}
	for vm, tags := range instances {
		f.do(f.compute.Instances.Insert(gcpProject, zone, &compute.Instance{Name: vm, Tags: &compute.Tags{Items: tags}}).Context(ctx).Do())
		req.Instances = append(req.Instances, &compute.InstanceReference{Instance: "zones/" + zone + "/instances/" + vm})
	}
	f.do(f.compute.InstanceGroups.AddInstances(gcpProject, zone, name, req).Context(ctx).Do())
}

// firewall returns the project's firewall rule called name, nil if none.
func (f *fixture) firewall(name string) *compute.Firewall {
	fw, err := f.compute.Firewalls.Get(gcpProject, name).Context(f.ctx).Do()
	if err != nil {
		return nil
	}
	return fw
}

// fakeMembers are member clusters as fake clientsets and a map for each
// member's informer cache.
type fakeMembers struct {
	ready   []string
	clients map[string]*kubefake.Clientset
	// cached holds, per cluster, "resource namespace/name" -> object.
	cached map[string]map[string]*unstructured.Unstructured
}

var _ members = &fakeMembers{}

func (m *fakeMembers) Ready() []string { return slices.Clone(m.ready) }

func (m *fakeMembers) Client(cluster string) kubernetes.Interface {
	if c, ok := m.clients[cluster]; ok {
		return c
	}
	return nil
}

func (m *fakeMembers) Cached(cluster string, gvr schema.GroupVersionResource, key string) (*unstructured.Unstructured, bool) {
	u, ok := m.cached[cluster][gvr.Resource+" "+key]
	return u, ok
}

// cachedKey is where fakeMembers keeps a member's copy u.
func cachedKey(u *unstructured.Unstructured) string {
	resource := map[string]string{"Service": serviceGVR.Resource, "Ingress": ingressGVR.Resource}[u.GetKind()]
	return resource + " " + u.GetNamespace() + "/" + u.GetName()
}

// recordingQueue is the controller's queue, recording what is queued, now
// and for later.
type recordingQueue struct{ *controllertest.RecordingQueue }

// takeAdded says whether key was queued since the last call, and forgets
// what was.
func (q recordingQueue) takeAdded(key string) bool { return slices.Contains(q.TakeAdded(), key) }

// takeAfter says whether key was queued for later since the last call,
// and for when, and forgets it.
func (q recordingQueue) takeAfter(key string) (time.Duration, bool) { return q.TakeAfter(key) }

// ingress is a federated Ingress in ns of class gce, whose default backend
// is Service web port 80; opts change it.
func ingress(t *testing.T, name string, opts ...func(*networkingv1.Ingress)) *unstructured.Unstructured {
	t.Helper()
	ing := &networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: map[string]string{IngressClassAnnotation: GCEClass}},
		Spec: networkingv1.IngressSpec{DefaultBackend: &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
			Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}},
	}
	for _, o := range opts {
		o(ing)
	}
	return toUnstructured(t, ing)
}

// withClass gives the Ingress the class annotation class; "" takes it off.
func withClass(class string) func(*networkingv1.Ingress) {
	return func(ing *networkingv1.Ingress) {
		if class == "" {
			delete(ing.Annotations, IngressClassAnnotation)
			return
		}
		ing.Annotations[IngressClassAnnotation] = class
	}
}

// withClassName names an IngressClass, in place of the annotation.
func withClassName(class string) func(*networkingv1.Ingress) {
	return func(ing *networkingv1.Ingress) {
		delete(ing.Annotations, IngressClassAnnotation)
		ing.Spec.IngressClassName = &class
	}
}

// withStaticIP names a global address.
func withStaticIP(name string) func(*networkingv1.Ingress) {
	return func(ing *networkingv1.Ingress) { ing.Annotations[GlobalStaticIPAnnotation] = name }
}

// withBackend makes Service svc port 80 the default backend.
func withBackend(svc string) func(*networkingv1.Ingress) {
	return func(ing *networkingv1.Ingress) { ing.Spec.DefaultBackend.Service.Name = svc }
}

// deleting marks the Ingress deleted, held by finalizers.
func deleting(finalizers ...string) func(*networkingv1.Ingress) {
	return func(ing *networkingv1.Ingress) {
		now := metav1.NewTime(time.Now())
		ing.DeletionTimestamp = &now
		ing.Finalizers = finalizers
	}
}

// memberIngress is a member's own Ingress of class, not the federation's.
func memberIngress(name, class string) *networkingv1.Ingress {
	return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: map[string]string{IngressClassAnnotation: class}}}
}

// gceClass is a federated IngressClass of GLBC's.
func gceClass(t *testing.T, name string) *unstructured.Unstructured {
	t.Helper()
	return toUnstructured(t, &networkingv1.IngressClass{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "IngressClass"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       networkingv1.IngressClassSpec{Controller: GCEController},
	})
}

// service is a Service in ns of type typ with port 80 on nodePort (0:
// none yet).
func service(name string, typ corev1.ServiceType, nodePort int32) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{Type: typ, Ports: []corev1.ServicePort{
			{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, NodePort: nodePort}}},
	}
}

// memberService is a member's copy of the federated Service name, on the
// node port it allocated.
func memberService(t *testing.T, name string, nodePort int32) *unstructured.Unstructured {
	t.Helper()
	svc := service(name, corev1.ServiceTypeNodePort, nodePort)
	svc.Labels = map[string]string{clusterclient.ManagedByLabel: federationName}
	return toUnstructured(t, svc)
}

func toUnstructured(t *testing.T, obj runtime.Object) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}
