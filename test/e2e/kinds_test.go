package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"

	"github.com/kfederation/federation/pkg/federatedtypes"
	"github.com/kfederation/federation/test/framework"
)

// managedByLabel is on every member copy, with the federation's name: the
// shared federation runs with the default --federation-name.
const (
	managedByLabel = "federation.k8s.io/managed-by"
	federationName = "federation"
)

// Labels and annotations the round trip puts on every object: tier at
// create, stage (label and annotation) at the update.
const (
	tierLabel       = "kinds.example.com/tier"
	stageLabel      = "kinds.example.com/stage"
	stageAnnotation = "kinds.example.com/stage"
)

// kindCase is one federated kind's round trip: create in the federation,
// check the member copies, update, check again, delete.
type kindCase struct {
	// name names the subtest and its namespace (kinds-<name>).
	name string
	gvr  schema.GroupVersionResource
	kind string
	// clusterScoped is true for kinds without a namespace: a Namespace
	// (the object is its own namespace) and an IngressClass. Such a case's
	// object is named after the namespace its round trip is given.
	clusterScoped bool
	// object is the typed object to create in the federation, in ns.
	object func(ns string) runtime.Object
	// update changes the federated object's content (the harness also
	// adds the stage label and annotation).
	update func(fed *unstructured.Unstructured) error
	// member checks one member's copy against the federated object.
	member func(m *framework.Member, fed, cp *unstructured.Unstructured) error
	// all checks the copies together and the federated object's status.
	all func(fed *unstructured.Unstructured, copies map[string]*unstructured.Unstructured) error
	// extra runs once the created object is in every member.
	extra func(t *testing.T, ns string)
}

// kindWait bounds each wait of a round trip.
const kindWait = 60 * time.Second

// as converts an unstructured object into its typed form.
func as[T any](u *unstructured.Unstructured) (*T, error) {
	out := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out); err != nil {
		return nil, fmt.Errorf("convert %s: %w", u.GetKind(), err)
	}
	return out, nil
}

func dynamicFor(t *testing.T, cfg *rest.Config) dynamic.Interface {
	t.Helper()
	d, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func resourceIn(d dynamic.Interface, c kindCase, ns string) dynamic.ResourceInterface {
	if c.clusterScoped {
		return d.Resource(c.gvr)
	}
	return d.Resource(c.gvr).Namespace(ns)
}

// clients are dynamic clients of the federation and of each member.
type clients struct {
	fed     dynamic.Interface
	members map[string]dynamic.Interface
}

func newClients(t *testing.T) clients {
	cs := clients{fed: dynamicFor(t, sharedFed.Endpoint.RESTConfig()), members: map[string]dynamic.Interface{}}
	for _, m := range sharedFed.Members {
		cs.members[m.Name] = dynamicFor(t, m.Endpoint.RESTConfig())
	}
	return cs
}

// internalAnnotation says whether the federation keeps an annotation of
// the federated object from the members.
func internalAnnotation(key string) bool {
	for _, p := range []string{"federation.k8s.io/", "federation.kubernetes.io/", "federation.alpha.kubernetes.io/", "kubectl.kubernetes.io/last-applied-configuration"} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// checkCopies fetches the federated object and every member's copy and
// checks them: marked managed, the federated labels and public annotations,
// the kind's own checks, and a Propagation saying Propagated everywhere.
// A copy found wrong is reported with what the Propagation says of it.
func checkCopies(ctx context.Context, cs clients, c kindCase, ns, name string) error {
	states, propErr := propagationStates(ctx, propagationNamespace(c, ns, name), strings.ToLower(c.kind)+"."+name)
	fed, err := resourceIn(cs.fed, c, ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("federated object: %w", err)
	}
	copies := map[string]*unstructured.Unstructured{}
	for _, m := range sharedFed.Members {
		cp, err := resourceIn(cs.members[m.Name], c, ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			err = checkCopy(c, m, fed, cp)
		}
		if err != nil {
			if s, ok := states[m.Name]; ok && s.State != federationv1beta1.PropagationPropagated {
				return fmt.Errorf("copy in %s: %w (the propagation says %s/%s: %s)", m.Name, err, s.State, s.Reason, s.Message)
			}
			return fmt.Errorf("copy in %s: %w", m.Name, err)
		}
		copies[m.Name] = cp
	}
	if c.all != nil {
		if err := c.all(fed, copies); err != nil {
			return err
		}
	}
	if propErr != nil {
		return fmt.Errorf("propagation: %w", propErr)
	}
	for _, m := range sharedFed.Members {
		s := states[m.Name]
		if s.State != federationv1beta1.PropagationPropagated || s.Generation != fed.GetGeneration() {
			return fmt.Errorf("propagation in %s: %+v, federated generation %d", m.Name, s, fed.GetGeneration())
		}
	}
	return nil
}

// propagationNamespace is where the Propagation of the case's object name
// is: in the object's namespace ns; a Namespace's in itself; that of any
// other cluster-scoped object, which has no namespace of its own, in
// federation-system.
func propagationNamespace(c kindCase, ns, name string) string {
	switch {
	case !c.clusterScoped:
		return ns
	case c.kind == "Namespace":
		return name
	default:
		return federationv1beta1.FederationSystemNamespace
	}
}

// checkCopy checks one member's copy: marked managed, with the federated
// labels and public annotations, and what the kind checks.
func checkCopy(c kindCase, m *framework.Member, fed, cp *unstructured.Unstructured) error {
	if v := cp.GetLabels()[managedByLabel]; v != federationName {
		return fmt.Errorf("label %s=%q, want %q", managedByLabel, v, federationName)
	}
	for k, v := range fed.GetLabels() {
		if got, ok := cp.GetLabels()[k]; !ok || got != v {
			return fmt.Errorf("label %s=%q, the federation has %q", k, got, v)
		}
	}
	for k, v := range fed.GetAnnotations() {
		if internalAnnotation(k) {
			continue
		}
		if got, ok := cp.GetAnnotations()[k]; !ok || got != v {
			return fmt.Errorf("annotation %s=%q, the federation has %q", k, got, v)
		}
	}
	if c.member != nil {
		return c.member(m, fed, cp)
	}
	return nil
}

func toUnstructured(t *testing.T, c kindCase, obj runtime.Object) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(c.gvr.GroupVersion().String())
	u.SetKind(c.kind)
	labels := u.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[tierLabel] = "kinds"
	u.SetLabels(labels)
	return u
}

func notFound(what string, err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err == nil {
		return fmt.Errorf("%s still there", what)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// waitFor is eventually, reporting the last failure of cond itself rather
// than the client's complaint that the deadline is near.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func(ctx context.Context) error) {
	t.Helper()
	var last error
	framework.Eventually(t, timeout, what, func(ctx context.Context) error {
		err := cond(ctx)
		if err != nil && last != nil && (ctx.Err() != nil || strings.Contains(err.Error(), "context deadline")) {
			return last
		}
		last = err
		return err
	})
}

// background is kubectl delete's propagation policy. Without it, deleting
// a batch/v1 Job orphans its dependents (as in Kubernetes), which the
// federation takes as "leave the member copies, unmanaged".
var background = ptr.To(metav1.DeletePropagationBackground)

// TestEveryKindPropagates runs the same round trip for every federated
// kind: create in the federation, check the member copies (content, the
// managed-by label, the kind's split and aggregated status), update and
// check again, delete and see the member copies go.
func TestEveryKindPropagates(t *testing.T) {
	cases := kindCases()
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.kind] = true
	}
	for _, a := range federatedtypes.All() {
		if !covered[a.Kind] {
			t.Errorf("no round trip for the federated kind %s", a.Kind)
		}
	}
	cs := newClients(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			ctx := context.Background()
			ns := "kinds-" + c.name
			if !c.clusterScoped {
				createNamespace(t, ns)
			}
			obj := toUnstructured(t, c, c.object(ns))
			name := obj.GetName()
			if c.clusterScoped {
				ns = name
			}
			if _, err := resourceIn(cs.fed, c, ns).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			// Whatever fails below, the object does not linger for the
			// tests that follow.
			t.Cleanup(func() {
				_ = resourceIn(cs.fed, c, ns).Delete(context.Background(), name, metav1.DeleteOptions{PropagationPolicy: background})
			})
			waitFor(t, kindWait, "created: copies in every member", func(ctx context.Context) error {
				return checkCopies(ctx, cs, c, ns, name)
			})
			t.Logf("propagated after %s", time.Since(start).Round(100*time.Millisecond))
			if c.extra != nil {
				c.extra(t, ns)
			}

			updated := time.Now()
			err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
				fed, err := resourceIn(cs.fed, c, ns).Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					return err
				}
				labels := fed.GetLabels()
				labels[stageLabel] = "updated"
				fed.SetLabels(labels)
				annotations := fed.GetAnnotations()
				if annotations == nil {
					annotations = map[string]string{}
				}
				annotations[stageAnnotation] = "updated"
				fed.SetAnnotations(annotations)
				if c.update != nil {
					if err := c.update(fed); err != nil {
						return err
					}
				}
				_, err = resourceIn(cs.fed, c, ns).Update(ctx, fed, metav1.UpdateOptions{})
				return err
			})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			waitFor(t, kindWait, "updated: every member has the update", func(ctx context.Context) error {
				return checkCopies(ctx, cs, c, ns, name)
			})
			t.Logf("update propagated after %s", time.Since(updated).Round(100*time.Millisecond))

			deleted := time.Now()
			if err := resourceIn(cs.fed, c, ns).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: background}); err != nil {
				t.Fatal(err)
			}
			timeout := kindWait
			if c.clusterScoped {
				timeout = 90 * time.Second
			}
			for _, m := range sharedFed.Members {
				waitFor(t, timeout, "deleted from "+m.Name, func(ctx context.Context) error {
					_, err := resourceIn(cs.members[m.Name], c, ns).Get(ctx, name, metav1.GetOptions{})
					return notFound("copy in "+m.Name, err)
				})
			}
			waitFor(t, timeout, "gone from the federation", func(ctx context.Context) error {
				_, err := resourceIn(cs.fed, c, ns).Get(ctx, name, metav1.GetOptions{})
				return notFound("federated object", err)
			})
			// The record of where it went goes with it: that of a
			// cluster-scoped object, in federation-system, goes with no
			// namespace.
			waitFor(t, kindWait, "its Propagation gone", func(ctx context.Context) error {
				_, err := propagationStates(ctx, propagationNamespace(c, ns, name), strings.ToLower(c.kind)+"."+name)
				return notFound("propagation", err)
			})
			t.Logf("deleted everywhere after %s", time.Since(deleted).Round(100*time.Millisecond))
		})
	}
}

// kindCases has one round trip per federated kind; a kind may have more.
func kindCases() []kindCase {
	return append([]kindCase{
		{
			name:          "namespace",
			gvr:           schema.GroupVersionResource{Version: "v1", Resource: "namespaces"},
			kind:          "Namespace",
			clusterScoped: true,
			object: func(string) runtime.Object {
				return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kinds-namespace"}}
			},
		},
		{
			name: "configmap",
			gvr:  schema.GroupVersionResource{Version: "v1", Resource: "configmaps"},
			kind: "ConfigMap",
			object: func(ns string) runtime.Object {
				return &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{Name: "sample", Namespace: ns},
					Data:       map[string]string{"color": "blue"},
					BinaryData: map[string][]byte{"blob": {0, 1, 2}},
				}
			},
			update: func(fed *unstructured.Unstructured) error {
				return unstructured.SetNestedField(fed.Object, "green", "data", "color")
			},
			member: sameFields("data", "binaryData"),
		},
		{
			name:   "secret",
			gvr:    schema.GroupVersionResource{Version: "v1", Resource: "secrets"},
			kind:   "Secret",
			object: secretObject,
			update: func(fed *unstructured.Unstructured) error {
				// "s3cret", base64.
				return unstructured.SetNestedField(fed.Object, "czNjcmV0", "data", "password")
			},
			member: sameFields("type", "data"),
			extra:  secretsNotPropagated,
		},
		{
			name:   "service",
			gvr:    schema.GroupVersionResource{Version: "v1", Resource: "services"},
			kind:   "Service",
			object: serviceObject,
			update: func(fed *unstructured.Unstructured) error {
				svc, err := as[corev1.Service](fed)
				if err != nil {
					return err
				}
				svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: "metrics", Port: 9090, TargetPort: intstr.FromInt32(9090), Protocol: corev1.ProtocolTCP})
				return setSpec(fed, &svc.Spec)
			},
			member: checkService,
		},
		{
			// Cluster-scoped, but not a namespace: its Propagation is
			// in federation-system. The default-class annotation goes
			// to the members as written. The controller is immutable;
			// the parameters are not.
			name:          "ingressclass",
			gvr:           schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingressclasses"},
			kind:          "IngressClass",
			clusterScoped: true,
			object:        ingressClassObject,
			update: func(fed *unstructured.Unstructured) error {
				return unstructured.SetNestedMap(fed.Object, map[string]interface{}{
					"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external-lb", "scope": "Cluster",
				}, "spec", "parameters")
			},
			member: checkIngressClassCopy,
		},
		{
			name:   "ingress",
			gvr:    schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"},
			kind:   "Ingress",
			object: ingressObject,
			update: func(fed *unstructured.Unstructured) error {
				rules, _, _ := unstructured.NestedSlice(fed.Object, "spec", "rules")
				rule := rules[0].(map[string]interface{})
				rule["host"] = "shop.example.com"
				return unstructured.SetNestedSlice(fed.Object, rules, "spec", "rules")
			},
			member: checkIngressCopy,
			all:    checkIngressStatus,
		},
		{
			name:   "replicaset",
			gvr:    schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"},
			kind:   "ReplicaSet",
			object: replicaSetObject,
			update: func(fed *unstructured.Unstructured) error {
				return unstructured.SetNestedField(fed.Object, int64(6), "spec", "replicas")
			},
			member: checkReplicaSetCopy,
			all:    checkReplicaSetSplit,
		},
		{
			name:   "deployment",
			gvr:    schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"},
			kind:   "Deployment",
			object: deploymentObject,
			update: func(fed *unstructured.Unstructured) error {
				return unstructured.SetNestedField(fed.Object, int64(4), "spec", "replicas")
			},
			member: checkDeploymentCopy,
			all:    checkDeploymentSplit,
		},
		{
			name:   "daemonset",
			gvr:    schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"},
			kind:   "DaemonSet",
			object: daemonSetObject,
			update: func(fed *unstructured.Unstructured) error {
				containers, _, _ := unstructured.NestedSlice(fed.Object, "spec", "template", "spec", "containers")
				containers[0].(map[string]interface{})["image"] = "nginx:1.27"
				return unstructured.SetNestedSlice(fed.Object, containers, "spec", "template", "spec", "containers")
			},
			member: checkDaemonSetCopy,
			all:    checkDaemonSetStatus,
		},
		{
			// parallelism == completions: each member runs its share
			// of both. A Job's template is immutable: the update is
			// the labels and annotations only.
			name:   "job",
			gvr:    schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"},
			kind:   "Job",
			object: jobObject(2, 2),
			member: checkJobCopy,
			all:    checkJobSplit,
		},
		{
			// parallelism is mutable, completions are not: scaling a
			// Job leaves each member's completions as they were.
			name:   "job-scale",
			gvr:    schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"},
			kind:   "Job",
			object: jobObject(2, 2),
			update: func(fed *unstructured.Unstructured) error {
				return unstructured.SetNestedField(fed.Object, int64(4), "spec", "parallelism")
			},
			member: checkJobCopy,
			all:    checkJobSplit,
		},
		{
			// completions larger than parallelism: the completions are
			// split too, so that the members together complete as
			// many pods as the federated Job asks for; parallelism
			// can be changed afterwards.
			name:   "job-completions",
			gvr:    schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"},
			kind:   "Job",
			object: jobObject(2, 4),
			update: func(fed *unstructured.Unstructured) error {
				return unstructured.SetNestedField(fed.Object, int64(4), "spec", "parallelism")
			},
			member: checkJobCopy,
			all:    checkJobSplit,
		},
	}, rbacKindCases()...)
}

// sameFields checks that the copy has the federated object's top-level
// fields as they are.
func sameFields(fields ...string) func(m *framework.Member, fed, cp *unstructured.Unstructured) error {
	return func(_ *framework.Member, fed, cp *unstructured.Unstructured) error {
		for _, f := range fields {
			if !equality.Semantic.DeepEqual(fed.Object[f], cp.Object[f]) {
				return fmt.Errorf("%s is %v, the federation has %v", f, cp.Object[f], fed.Object[f])
			}
		}
		return nil
	}
}

func setSpec(u *unstructured.Unstructured, spec interface{}) error {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(spec)
	if err != nil {
		return err
	}
	return unstructured.SetNestedMap(u.Object, m, "spec")
}

func secretObject(ns string) runtime.Object {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "sample", Namespace: ns},
		Type:       corev1.SecretTypeBasicAuth,
		Data:       map[string][]byte{"username": []byte("admin"), "password": []byte("hunter2")},
	}
}

// secretsNotPropagated: a service account token Secret, and any Secret in
// federation-system, stay in the federation. A Secret created after them
// reaches the members, so the controller has had its chance.
func secretsNotPropagated(t *testing.T, ns string) {
	f := sharedFed
	ctx := context.Background()
	// kubefed join gives members a federation-system namespace; make sure
	// they have one, so that a Secret sent there would land.
	for _, m := range f.Members {
		_, err := m.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: federationv1beta1.FederationSystemNamespace}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	token := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "sa-token", Namespace: ns, Annotations: map[string]string{corev1.ServiceAccountNameKey: "default"}},
		Type:       corev1.SecretTypeServiceAccountToken,
		Data:       map[string][]byte{"token": []byte("federation-issued")},
	}
	if _, err := f.Client.CoreV1().Secrets(ns).Create(ctx, token, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	system := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "kinds-not-propagated", Namespace: federationv1beta1.FederationSystemNamespace},
		Data:       map[string][]byte{"k": []byte("v")},
	}
	if _, err := f.Client.CoreV1().Secrets(federationv1beta1.FederationSystemNamespace).Create(ctx, system, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = f.Client.CoreV1().Secrets(federationv1beta1.FederationSystemNamespace).Delete(context.Background(), system.Name, metav1.DeleteOptions{})
	})
	marker := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "marker", Namespace: ns}, Data: map[string][]byte{"k": []byte("v")}}
	if _, err := f.Client.CoreV1().Secrets(ns).Create(ctx, marker, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, m := range f.Members {
		framework.Eventually(t, 30*time.Second, "marker secret in "+m.Name, func(ctx context.Context) error {
			_, err := m.Client.CoreV1().Secrets(ns).Get(ctx, "marker", metav1.GetOptions{})
			return err
		})
	}
	time.Sleep(3 * time.Second)
	for _, m := range f.Members {
		if s, err := m.Client.CoreV1().Secrets(ns).Get(ctx, "sa-token", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("service account token Secret propagated to %s: %v (labels %v)", m.Name, err, labelsOf(s))
		}
		if s, err := m.Client.CoreV1().Secrets(federationv1beta1.FederationSystemNamespace).Get(ctx, system.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("Secret in %s propagated to %s: %v (labels %v)", federationv1beta1.FederationSystemNamespace, m.Name, err, labelsOf(s))
		}
	}
	// Never propagated, never held back: they delete at once.
	if err := f.Client.CoreV1().Secrets(ns).Delete(ctx, "sa-token", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Client.CoreV1().Secrets(ns).Delete(ctx, "marker", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 10*time.Second, "token Secret deleted from the federation", func(ctx context.Context) error {
		_, err := f.Client.CoreV1().Secrets(ns).Get(ctx, "sa-token", metav1.GetOptions{})
		return notFound("sa-token", err)
	})
}

func labelsOf(s *corev1.Secret) map[string]string {
	if s == nil {
		return nil
	}
	return s.Labels
}

func serviceObject(ns string) runtime.Object {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "sample", Namespace: ns},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "sample"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
}

func checkService(_ *framework.Member, fed, cp *unstructured.Unstructured) error {
	f, err := as[corev1.Service](fed)
	if err != nil {
		return err
	}
	c, err := as[corev1.Service](cp)
	if err != nil {
		return err
	}
	if f.Spec.ClusterIP != "" {
		return fmt.Errorf("the federation allocated cluster IP %s", f.Spec.ClusterIP)
	}
	if c.Spec.ClusterIP == "" || c.Spec.Type != f.Spec.Type || !equality.Semantic.DeepEqual(c.Spec.Selector, f.Spec.Selector) {
		return fmt.Errorf("spec %+v, the federation has %+v", c.Spec, f.Spec)
	}
	if len(c.Spec.Ports) != len(f.Spec.Ports) {
		return fmt.Errorf("ports %+v, the federation has %+v", c.Spec.Ports, f.Spec.Ports)
	}
	for i, p := range f.Spec.Ports {
		q := c.Spec.Ports[i]
		if p.Name != q.Name || p.Port != q.Port || p.Protocol != q.Protocol || p.TargetPort != q.TargetPort {
			return fmt.Errorf("port %d is %+v, the federation has %+v", i, q, p)
		}
	}
	return nil
}

// ingressClassObject is named after the round trip's namespace, which it
// does not live in, so that two tests' classes do not meet.
func ingressClassObject(ns string) runtime.Object {
	return &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: ns, Annotations: map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"}},
		Spec:       networkingv1.IngressClassSpec{Controller: "example.com/kinds-ingress-controller"},
	}
}

// checkIngressClassCopy: the copy has the federated spec, and is the
// member's default class as it is the federation's.
func checkIngressClassCopy(_ *framework.Member, fed, cp *unstructured.Unstructured) error {
	if err := sameFields("spec")(nil, fed, cp); err != nil {
		return err
	}
	if v := cp.GetAnnotations()[networkingv1.AnnotationIsDefaultIngressClass]; v != "true" {
		return fmt.Errorf("annotation %s=%q, want \"true\" as written", networkingv1.AnnotationIsDefaultIngressClass, v)
	}
	return nil
}

func ingressObject(ns string) runtime.Object {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "sample", Namespace: ns},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
			Host: "web.example.com",
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path:     "/",
				PathType: ptr.To(networkingv1.PathTypePrefix),
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
					Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80},
				}},
			}}}},
		}}},
	}
}

func checkIngressCopy(_ *framework.Member, fed, cp *unstructured.Unstructured) error {
	if err := sameFields("spec")(nil, fed, cp); err != nil {
		return err
	}
	c, err := as[networkingv1.Ingress](cp)
	if err != nil {
		return err
	}
	if len(c.Status.LoadBalancer.Ingress) != 1 {
		return fmt.Errorf("no load balancer yet: %+v", c.Status.LoadBalancer)
	}
	return nil
}

// checkIngressStatus: the federated status is the sorted union of the
// members' load balancer addresses.
func checkIngressStatus(fed *unstructured.Unstructured, copies map[string]*unstructured.Unstructured) error {
	want := map[string]bool{}
	for _, cp := range copies {
		c, err := as[networkingv1.Ingress](cp)
		if err != nil {
			return err
		}
		for _, lb := range c.Status.LoadBalancer.Ingress {
			want[lb.IP] = true
		}
	}
	f, err := as[networkingv1.Ingress](fed)
	if err != nil {
		return err
	}
	var got []string
	for _, lb := range f.Status.LoadBalancer.Ingress {
		got = append(got, lb.IP)
	}
	wantList := make([]string, 0, len(want))
	for ip := range want {
		wantList = append(wantList, ip)
	}
	sort.Strings(wantList)
	if strings.Join(got, ",") != strings.Join(wantList, ",") {
		return fmt.Errorf("federated status.loadBalancer.ingress %v, want the members' %v", got, wantList)
	}
	return nil
}

func podTemplate(app, image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: app, Image: image}}},
	}
}

func replicaSetObject(ns string) runtime.Object {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "sample", Namespace: ns},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To[int32](4),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "kinds-rs"}},
			Template: podTemplate("kinds-rs", "nginx"),
		},
	}
}

func sameTemplate(fed, cp corev1.PodTemplateSpec) error {
	if !equality.Semantic.DeepEqual(fed.Spec.Containers, cp.Spec.Containers) || !equality.Semantic.DeepEqual(fed.Labels, cp.Labels) {
		return fmt.Errorf("template %+v %v, the federation has %+v %v", cp.Spec.Containers, cp.Labels, fed.Spec.Containers, fed.Labels)
	}
	return nil
}

func checkReplicaSetCopy(_ *framework.Member, fed, cp *unstructured.Unstructured) error {
	f, err := as[appsv1.ReplicaSet](fed)
	if err != nil {
		return err
	}
	c, err := as[appsv1.ReplicaSet](cp)
	if err != nil {
		return err
	}
	if !equality.Semantic.DeepEqual(f.Spec.Selector, c.Spec.Selector) {
		return fmt.Errorf("selector %v, the federation has %v", c.Spec.Selector, f.Spec.Selector)
	}
	return sameTemplate(f.Spec.Template, c.Spec.Template)
}

// evenShares checks that shares add up to total and differ by one at most
// (no preferences: every cluster weighs the same).
func evenShares(what string, total int32, shares map[string]int32) error {
	var sum, lo, hi int32
	first := true
	for _, s := range shares {
		sum += s
		if first || s < lo {
			lo = s
		}
		if first || s > hi {
			hi = s
		}
		first = false
	}
	if sum != total || hi-lo > 1 {
		return fmt.Errorf("%s split %v over the members, want %d split evenly", what, shares, total)
	}
	return nil
}

func checkReplicaSetSplit(fed *unstructured.Unstructured, copies map[string]*unstructured.Unstructured) error {
	f, err := as[appsv1.ReplicaSet](fed)
	if err != nil {
		return err
	}
	shares := map[string]int32{}
	var ready int32
	for name, cp := range copies {
		c, err := as[appsv1.ReplicaSet](cp)
		if err != nil {
			return err
		}
		shares[name] = *c.Spec.Replicas
		ready += c.Status.ReadyReplicas
	}
	if err := evenShares("spec.replicas", *f.Spec.Replicas, shares); err != nil {
		return err
	}
	if f.Status.ReadyReplicas != *f.Spec.Replicas || f.Status.Replicas != *f.Spec.Replicas || f.Status.ReadyReplicas != ready || f.Status.ObservedGeneration != f.Generation {
		return fmt.Errorf("federated status %+v (generation %d), members have %d ready of %d", f.Status, f.Generation, ready, *f.Spec.Replicas)
	}
	return nil
}

func deploymentObject(ns string) runtime.Object {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "sample", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "kinds-deploy"}},
			Template: podTemplate("kinds-deploy", "nginx"),
		},
	}
}

func checkDeploymentCopy(_ *framework.Member, fed, cp *unstructured.Unstructured) error {
	f, err := as[appsv1.Deployment](fed)
	if err != nil {
		return err
	}
	c, err := as[appsv1.Deployment](cp)
	if err != nil {
		return err
	}
	return sameTemplate(f.Spec.Template, c.Spec.Template)
}

func checkDeploymentSplit(fed *unstructured.Unstructured, copies map[string]*unstructured.Unstructured) error {
	f, err := as[appsv1.Deployment](fed)
	if err != nil {
		return err
	}
	shares := map[string]int32{}
	for name, cp := range copies {
		c, err := as[appsv1.Deployment](cp)
		if err != nil {
			return err
		}
		shares[name] = *c.Spec.Replicas
	}
	if err := evenShares("spec.replicas", *f.Spec.Replicas, shares); err != nil {
		return err
	}
	if f.Status.ReadyReplicas != *f.Spec.Replicas || f.Status.ObservedGeneration != f.Generation {
		return fmt.Errorf("federated status %+v (generation %d)", f.Status, f.Generation)
	}
	return nil
}

func daemonSetObject(ns string) runtime.Object {
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "sample", Namespace: ns},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "kinds-ds"}},
			Template: podTemplate("kinds-ds", "nginx"),
		},
	}
}

// checkDaemonSetCopy: the copy runs the federated template on every one
// of the member's nodes.
func checkDaemonSetCopy(m *framework.Member, fed, cp *unstructured.Unstructured) error {
	f, err := as[appsv1.DaemonSet](fed)
	if err != nil {
		return err
	}
	c, err := as[appsv1.DaemonSet](cp)
	if err != nil {
		return err
	}
	if err := sameTemplate(f.Spec.Template, c.Spec.Template); err != nil {
		return err
	}
	n := int32(m.Nodes)
	s := c.Status
	if s.DesiredNumberScheduled != n || s.NumberReady != n || s.UpdatedNumberScheduled != n || s.ObservedGeneration != c.Generation {
		return fmt.Errorf("member status %+v (generation %d), want %d nodes ready and updated", s, c.Generation, n)
	}
	return nil
}

func checkDaemonSetStatus(fed *unstructured.Unstructured, copies map[string]*unstructured.Unstructured) error {
	f, err := as[appsv1.DaemonSet](fed)
	if err != nil {
		return err
	}
	var nodes int32
	for _, m := range sharedFed.Members {
		nodes += int32(m.Nodes)
	}
	s := f.Status
	if s.DesiredNumberScheduled != nodes || s.NumberReady != nodes || s.CurrentNumberScheduled != nodes || s.UpdatedNumberScheduled != nodes || s.ObservedGeneration != f.Generation {
		return fmt.Errorf("federated status %+v (generation %d), want %d desired, current, ready and updated", s, f.Generation, nodes)
	}
	return nil
}

func jobObject(parallelism, completions int32) func(ns string) runtime.Object {
	return func(ns string) runtime.Object {
		tmpl := podTemplate("kinds-job", "busybox")
		tmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
		return &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: "sample", Namespace: ns},
			Spec: batchv1.JobSpec{
				Parallelism: ptr.To(parallelism),
				Completions: ptr.To(completions),
				Template:    tmpl,
			},
		}
	}
}

// checkJobCopy: the copy runs the federated template under a selector of
// its own (the member's Job UID), not the federation's.
func checkJobCopy(_ *framework.Member, fed, cp *unstructured.Unstructured) error {
	f, err := as[batchv1.Job](fed)
	if err != nil {
		return err
	}
	c, err := as[batchv1.Job](cp)
	if err != nil {
		return err
	}
	if !equality.Semantic.DeepEqual(f.Spec.Template.Spec.Containers, c.Spec.Template.Spec.Containers) || c.Spec.Template.Labels["app"] != "kinds-job" {
		return fmt.Errorf("template %+v %v, the federation has %+v", c.Spec.Template.Spec.Containers, c.Spec.Template.Labels, f.Spec.Template.Spec.Containers)
	}
	if c.Spec.Selector == nil || c.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel] != string(c.UID) {
		return fmt.Errorf("selector %v is not the member's own (uid %s)", c.Spec.Selector, c.UID)
	}
	return nil
}

// checkJobSplit: parallelism and completions are split over the members,
// each member completes its share, and the federated status.succeeded is
// the sum, equal to the federated completions.
func checkJobSplit(fed *unstructured.Unstructured, copies map[string]*unstructured.Unstructured) error {
	f, err := as[batchv1.Job](fed)
	if err != nil {
		return err
	}
	parallelism, completions := map[string]int32{}, map[string]int32{}
	var succeeded int32
	for name, cp := range copies {
		c, err := as[batchv1.Job](cp)
		if err != nil {
			return err
		}
		parallelism[name] = ptr.Deref(c.Spec.Parallelism, 1)
		completions[name] = ptr.Deref(c.Spec.Completions, 0)
		if c.Status.Succeeded != completions[name] {
			return fmt.Errorf("%s: %d of its %d completions succeeded", name, c.Status.Succeeded, completions[name])
		}
		succeeded += c.Status.Succeeded
	}
	if err := evenShares("spec.parallelism", *f.Spec.Parallelism, parallelism); err != nil {
		return err
	}
	if err := evenShares("spec.completions", *f.Spec.Completions, completions); err != nil {
		return err
	}
	if f.Status.Succeeded != *f.Spec.Completions || f.Status.Succeeded != succeeded {
		return fmt.Errorf("federated status.succeeded %d, want the federated completions %d (members succeeded %d)", f.Status.Succeeded, *f.Spec.Completions, succeeded)
	}
	return nil
}

// memberWrites is what shows that a member copy was written: its
// resourceVersion for kinds whose member status does not change on its
// own; for workloads, whose status the member's controllers keep writing,
// the generation (spec writes) and the times of every write to the main
// resource other than the member's own controllers'.
func memberWrites(c kindCase, cp *unstructured.Unstructured) string {
	if workload(c) {
		var writes []string
		for _, mf := range cp.GetManagedFields() {
			if mf.Subresource != "" || mf.Manager == "kube-controller-manager" {
				continue
			}
			when := ""
			if mf.Time != nil {
				when = mf.Time.UTC().Format(time.RFC3339)
			}
			writes = append(writes, fmt.Sprintf("%s %s %s", mf.Manager, mf.Operation, when))
		}
		sort.Strings(writes)
		return fmt.Sprintf("generation %d, writes [%s]", cp.GetGeneration(), strings.Join(writes, "; "))
	}
	return "resourceVersion " + cp.GetResourceVersion()
}

// workload says that the members' own controllers keep writing the kind's
// status (pods and nodes come and go, become ready or not), so that the
// member copy's resourceVersion, the federated status and the ready counts
// in the Propagation may change without the federation doing anything.
func workload(c kindCase) bool {
	switch c.kind {
	case "ReplicaSet", "Deployment", "DaemonSet", "Job":
		return true
	}
	return false
}

// TestResyncWritesNothing: once objects of every kind are propagated and
// settled, neither the event-driven requeues nor a full resync (the
// federation-controller-manager restarted) write anything: not to a member
// copy (for workloads, whose status the members keep writing: not their
// spec, and nothing from the federation); for the other kinds, whose
// member status is settled, not to the federated object (its status is
// the members') nor to its Propagation. And after the restart, every
// Propagation says Propagated again.
func TestResyncWritesNothing(t *testing.T) {
	f := sharedFed
	ctx := context.Background()
	ns := "kinds-resync"
	createNamespace(t, ns)
	t.Cleanup(func() {
		_ = f.Client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	cs := newClients(t)
	// One object of each kind, as its first round trip makes it; the
	// namespace is the test's own.
	var cases []kindCase
	seen := map[string]bool{"Namespace": true}
	for _, c := range kindCases() {
		if seen[c.kind] {
			continue
		}
		seen[c.kind] = true
		cases = append(cases, c)
		obj := toUnstructured(t, c, c.object(ns))
		if _, err := resourceIn(cs.fed, c, ns).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s: %v", c.kind, err)
		}
		if c.clusterScoped {
			// Not in the namespace: it does not go with it.
			t.Cleanup(func() {
				_ = resourceIn(cs.fed, c, ns).Delete(context.Background(), obj.GetName(), metav1.DeleteOptions{PropagationPolicy: background})
			})
		}
	}
	nsCase := kindCases()[0]
	// Cluster-scoped objects are named after the namespace (the namespace
	// is its own object); the others are called sample.
	nameOf := func(c kindCase) string {
		if c.clusterScoped {
			return ns
		}
		return "sample"
	}
	start := time.Now()
	waitFor(t, 120*time.Second, "everything propagated and settled", func(ctx context.Context) error {
		if err := checkCopies(ctx, cs, nsCase, ns, ns); err != nil {
			return fmt.Errorf("namespace: %w", err)
		}
		for _, c := range cases {
			if err := checkCopies(ctx, cs, c, ns, nameOf(c)); err != nil {
				return fmt.Errorf("%s: %w", c.kind, err)
			}
		}
		return nil
	})
	t.Logf("settled after %s", time.Since(start).Round(100*time.Millisecond))

	// What is recorded: every member copy; and, for the kinds whose member
	// status is settled, the federated objects (whose status is the
	// members') and the Propagations saying where they went.
	all := append([]kindCase{nsCase}, cases...)
	fc, err := f.FederationClient()
	if err != nil {
		t.Fatal(err)
	}
	snapshot := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, c := range all {
			name := nameOf(c)
			for _, m := range f.Members {
				cp, err := resourceIn(cs.members[m.Name], c, ns).Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				out["member copy: "+c.kind+" in "+m.Name] = memberWrites(c, cp)
			}
			if workload(c) {
				continue
			}
			fed, err := resourceIn(cs.fed, c, ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			out["federated "+c.kind] = "resourceVersion " + fed.GetResourceVersion()
			prop := strings.ToLower(c.kind) + "." + name
			p, err := fc.FederationV1beta1().Propagations(propagationNamespace(c, ns, name)).Get(ctx, prop, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			out["propagation "+prop] = "resourceVersion " + p.ResourceVersion
		}
		return out
	}

	// Every write to a federated object or a Propagation is recorded with
	// what it wrote, so that a failure says what happened in between.
	var (
		historyMu sync.Mutex
		history   = map[string][]string{}
		phase     = "steady state"
	)
	record := func(key, what string) {
		historyMu.Lock()
		defer historyMu.Unlock()
		history[key] = append(history[key], phase+": "+what)
	}
	watchCtx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	// watchAll records what describe makes of each event: under which key,
	// and the write in words.
	watchAll := func(w watch.Interface, describe func(runtime.Object) (key, what string, ok bool)) {
		go func() {
			defer w.Stop()
			for {
				select {
				case <-watchCtx.Done():
					return
				case ev, ok := <-w.ResultChan():
					if !ok {
						return
					}
					if key, what, ok := describe(ev.Object); ok {
						record(key, fmt.Sprintf("%s %s", ev.Type, what))
					}
				}
			}
		}()
	}

	settled := snapshot()
	for _, c := range all {
		name := nameOf(c)
		list, err := resourceIn(cs.fed, c, ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w, err := resourceIn(cs.fed, c, ns).Watch(watchCtx, metav1.ListOptions{ResourceVersion: list.GetResourceVersion()})
		if err != nil {
			t.Fatal(err)
		}
		watchAll(w, func(o runtime.Object) (string, string, bool) {
			u, ok := o.(*unstructured.Unstructured)
			if !ok || u.GetName() != name {
				return "", "", false
			}
			status, _ := json.Marshal(u.Object["status"])
			return "federated " + c.kind, fmt.Sprintf("resourceVersion %s status %s", u.GetResourceVersion(), status), true
		})
	}
	// The Propagations are in the test's namespace, and those of
	// cluster-scoped objects other than the namespace in federation-system.
	propNamespaces := map[string]bool{}
	for _, c := range all {
		propNamespaces[propagationNamespace(c, ns, nameOf(c))] = true
	}
	for propNS := range propNamespaces {
		props, err := fc.FederationV1beta1().Propagations(propNS).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w, err := fc.FederationV1beta1().Propagations(propNS).Watch(watchCtx, metav1.ListOptions{ResourceVersion: props.ResourceVersion})
		if err != nil {
			t.Fatal(err)
		}
		watchAll(w, func(o runtime.Object) (string, string, bool) {
			p, ok := o.(*federationv1beta1.Propagation)
			if !ok {
				return "", "", false
			}
			return "propagation " + p.Name, "resourceVersion " + p.ResourceVersion + " " + describePropagation(p), true
		})
	}

	compare := func(when string, before, after map[string]string) {
		t.Helper()
		keys := make([]string, 0, len(before))
		for k := range before {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		historyMu.Lock()
		defer historyMu.Unlock()
		for _, k := range keys {
			if before[k] != after[k] {
				t.Errorf("%s: %s was written: %s, then %s; writes seen:\n\t%s", when, k, before[k], after[k], strings.Join(history[k], "\n\t"))
			}
		}
	}

	time.Sleep(10 * time.Second)
	steady := snapshot()
	compare("in 10 s of steady state", settled, steady)

	// A restart lists everything again: every object is synced anew.
	historyMu.Lock()
	phase = "after the restart"
	historyMu.Unlock()
	restarted := time.Now()
	if err := f.ControllerManager.Restart(); err != nil {
		t.Fatalf("restart the federation-controller-manager: %v", err)
	}
	if err := f.WaitClustersReady(ctx, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	// Something new propagating shows that the restarted controllers run
	// and have listed everything.
	probe := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "after-restart", Namespace: ns}, Data: map[string]string{"a": "b"}}
	if _, err := f.Client.CoreV1().ConfigMaps(ns).Create(ctx, probe, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, m := range f.Members {
		framework.Eventually(t, 60*time.Second, "a new ConfigMap in "+m.Name+" after the restart", func(ctx context.Context) error {
			_, err := m.Client.CoreV1().ConfigMaps(ns).Get(ctx, "after-restart", metav1.GetOptions{})
			return err
		})
	}
	t.Logf("controllers back %s after the restart", time.Since(restarted).Round(100*time.Millisecond))
	time.Sleep(10 * time.Second)
	compare("after a restart of the federation-controller-manager", steady, snapshot())

	// Whatever was written, the Propagations must say where things are.
	waitFor(t, 30*time.Second, "every Propagation says Propagated again", func(ctx context.Context) error {
		var wrong []string
		for _, c := range all {
			prop := strings.ToLower(c.kind) + "." + nameOf(c)
			p, err := fc.FederationV1beta1().Propagations(propagationNamespace(c, ns, nameOf(c))).Get(ctx, prop, metav1.GetOptions{})
			if err != nil {
				return err
			}
			for _, e := range p.Status.Clusters {
				if e.State != federationv1beta1.PropagationPropagated {
					wrong = append(wrong, prop+": "+describePropagation(p))
					break
				}
			}
		}
		if len(wrong) > 0 {
			return fmt.Errorf("%s", strings.Join(wrong, "; "))
		}
		return nil
	})
}

// describePropagation is a Propagation's state per cluster, in one line.
func describePropagation(p *federationv1beta1.Propagation) string {
	var out []string
	for _, e := range p.Status.Clusters {
		s := fmt.Sprintf("%s: %s/%s generation %d since %s", e.Cluster, e.State, e.Reason, e.Generation, e.LastTransitionTime.UTC().Format(time.RFC3339))
		if e.Message != "" {
			s += fmt.Sprintf(" (%s)", e.Message)
		}
		if e.Replicas != nil || e.ReadyReplicas != nil {
			s += fmt.Sprintf(" replicas %d ready %d", ptr.Deref(e.Replicas, -1), ptr.Deref(e.ReadyReplicas, -1))
		}
		out = append(out, s)
	}
	return "[" + strings.Join(out, "; ") + "]"
}
