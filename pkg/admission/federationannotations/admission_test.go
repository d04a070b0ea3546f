package federationannotations

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/kubernetes/pkg/apis/apps"
	"k8s.io/kubernetes/pkg/apis/batch"
	"k8s.io/kubernetes/pkg/apis/core"

	"github.com/kfederation/federation/pkg/apis/federation"
	"github.com/kfederation/federation/pkg/apis/federation/annotations"
)

const (
	validSelector   = `[{"key":"cluster","operator":"==","values":["1"]}]`
	invalidSelector = `[{"key":"cluster","operator":"=~","values":["1"]}]`
	validPrefs      = `{"rebalance": true, "clusters": {"*": {"weight": 1}}}`
	invalidPrefs    = `{"clusters": {"a": {"minReplicas": 3, "maxReplicas": 1}}}`
	otherSelector   = `[{"key":"cluster","operator":"<>","values":["1"]}]`
	validTTL        = "300"
)

// badDNSTTLs are refused on Services, each with a word of its explanation.
var badDNSTTLs = []struct{ value, detail string }{
	{"0", "a TTL of 0 stops resolvers caching"},
	{"-5", "cannot be negative"},
	{"1h", `write it in seconds: "3600"`},
	{"99999999999", "more than 2147483647"},
}

// path returns the field path the 422 must name for an annotation.
func path(key string) string {
	return "metadata.annotations[" + key + "]"
}

func objectMeta(ann map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: "web", Namespace: "default", Annotations: ann}
}

func service(ann map[string]string) runtime.Object {
	return &core.Service{ObjectMeta: objectMeta(ann)}
}

func replicaSet(ann map[string]string) runtime.Object {
	return &apps.ReplicaSet{ObjectMeta: objectMeta(ann)}
}

func deployment(ann map[string]string) runtime.Object {
	return &apps.Deployment{ObjectMeta: objectMeta(ann)}
}

func cluster(ann map[string]string) runtime.Object {
	return &federation.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "us-central1-a", Annotations: ann}}
}

func job(ann map[string]string) runtime.Object {
	return &batch.Job{ObjectMeta: objectMeta(ann)}
}

// request describes one admission request by the resource it is for.
type request struct {
	gvk         schema.GroupVersionKind
	gvr         schema.GroupVersionResource
	subresource string
	operation   admission.Operation
	obj, old    runtime.Object
}

var (
	services    = request{gvk: corev1.SchemeGroupVersion.WithKind("Service"), gvr: corev1.SchemeGroupVersion.WithResource("services")}
	replicaSets = request{gvk: appsv1.SchemeGroupVersion.WithKind("ReplicaSet"), gvr: appsv1.SchemeGroupVersion.WithResource("replicasets")}
	deployments = request{gvk: appsv1.SchemeGroupVersion.WithKind("Deployment"), gvr: appsv1.SchemeGroupVersion.WithResource("deployments")}
	clusters    = request{gvk: federation.SchemeGroupVersion.WithKind("Cluster"), gvr: federation.SchemeGroupVersion.WithResource("clusters")}
	jobs        = request{gvk: batchv1.SchemeGroupVersion.WithKind("Job"), gvr: batchv1.SchemeGroupVersion.WithResource("jobs")}
)

func (r request) create(obj runtime.Object) request {
	r.operation, r.obj = admission.Create, obj
	return r
}

func (r request) update(obj, old runtime.Object) request {
	r.operation, r.obj, r.old = admission.Update, obj, old
	return r
}

func (r request) on(subresource string) request {
	r.subresource = subresource
	return r
}

func (r request) attributes() admission.Attributes {
	return admission.NewAttributesRecord(r.obj, r.old, r.gvk, "default", "web", r.gvr, r.subresource, r.operation, nil, false, &user.DefaultInfo{Name: "alice"})
}

// validateCase is one request to the plugin and the answer it must get.
type validateCase struct {
	name    string
	request request
	// wantFields are the field paths the 422 must name, in order; none
	// means the request is admitted.
	wantFields []string
	// wantDetail must appear in the error message.
	wantDetail string
}

func TestValidate(t *testing.T) {
	tests := []validateCase{
		{
			name:    "service without annotations",
			request: services.create(service(nil)),
		},
		{
			name:    "service with a valid cluster selector",
			request: services.create(service(map[string]string{annotations.ClusterSelector: validSelector})),
		},
		{
			name:       "service with an invalid cluster selector",
			request:    services.create(service(map[string]string{annotations.ClusterSelector: invalidSelector})),
			wantFields: []string{path(annotations.ClusterSelector)},
			wantDetail: `unknown operator "=~"`,
		},
		{
			name:    "replica preferences on a service are not the planner's business",
			request: services.create(service(map[string]string{annotations.ReplicaSetPreferences: invalidPrefs})),
		},
		{
			name:    "replicaset with valid preferences",
			request: replicaSets.create(replicaSet(map[string]string{annotations.ReplicaSetPreferences: validPrefs})),
		},
		{
			name:       "replicaset with invalid preferences",
			request:    replicaSets.create(replicaSet(map[string]string{annotations.ReplicaSetPreferences: invalidPrefs})),
			wantFields: []string{path(annotations.ReplicaSetPreferences)},
			wantDetail: "minReplicas (3) must not be greater than maxReplicas (1)",
		},
		{
			name:    "replicaset ignores the deployment annotation",
			request: replicaSets.create(replicaSet(map[string]string{annotations.DeploymentPreferences: invalidPrefs})),
		},
		{
			name:       "deployment with invalid preferences",
			request:    deployments.create(deployment(map[string]string{annotations.DeploymentPreferences: `{"clusters": {"a": {"weight": "1"}}}`})),
			wantFields: []string{path(annotations.DeploymentPreferences)},
			wantDetail: "where an integer is expected",
		},
		{
			name:    "deployment ignores the replicaset annotation",
			request: deployments.create(deployment(map[string]string{annotations.ReplicaSetPreferences: invalidPrefs})),
		},
		{
			name:       "job with invalid preferences",
			request:    jobs.create(job(map[string]string{annotations.JobPreferences: `{"clusters": {"US": {}}}`})),
			wantFields: []string{path(annotations.JobPreferences)},
			wantDetail: `"US" is not a cluster name`,
		},
		{
			name:       "job with an invalid cluster selector",
			request:    jobs.create(job(map[string]string{annotations.ClusterSelector: `[{"key":"a"`})),
			wantFields: []string{path(annotations.ClusterSelector)},
			wantDetail: "ends too early",
		},
		{
			name:    "cluster that skips TLS verification",
			request: clusters.create(cluster(map[string]string{annotations.InsecureSkipTLSVerify: "true"})),
		},
		{
			name:       "cluster with a TLS verification value nobody can read",
			request:    clusters.create(cluster(map[string]string{annotations.InsecureSkipTLSVerify: "yes"})),
			wantFields: []string{path(annotations.InsecureSkipTLSVerify)},
			wantDetail: `must be "true" or "false"`,
		},
		{
			name:    "the TLS annotation on another kind is inert",
			request: services.create(service(map[string]string{annotations.InsecureSkipTLSVerify: "yes"})),
		},
		{
			name: "every bad annotation is reported",
			request: replicaSets.create(replicaSet(map[string]string{
				annotations.ClusterSelector:       invalidSelector,
				annotations.ReplicaSetPreferences: invalidPrefs,
			})),
			wantFields: []string{path(annotations.ClusterSelector), path(annotations.ReplicaSetPreferences)},
		},
		{
			name: "update that introduces an invalid selector",
			request: services.update(
				service(map[string]string{annotations.ClusterSelector: invalidSelector}),
				service(map[string]string{annotations.ClusterSelector: validSelector})),
			wantFields: []string{path(annotations.ClusterSelector)},
		},
		{
			name: "update that adds invalid preferences",
			request: deployments.update(
				deployment(map[string]string{annotations.DeploymentPreferences: invalidPrefs}),
				deployment(nil)),
			wantFields: []string{path(annotations.DeploymentPreferences)},
		},
		{
			name: "update that keeps an invalid selector stored earlier",
			request: services.update(
				service(map[string]string{annotations.ClusterSelector: invalidSelector, "team": "web"}),
				service(map[string]string{annotations.ClusterSelector: invalidSelector})),
		},
		{
			name: "update that keeps invalid preferences stored earlier",
			request: replicaSets.update(
				replicaSet(map[string]string{annotations.ReplicaSetPreferences: invalidPrefs}),
				replicaSet(map[string]string{annotations.ReplicaSetPreferences: invalidPrefs})),
		},
		{
			name: "update that replaces an invalid selector by another",
			request: services.update(
				service(map[string]string{annotations.ClusterSelector: otherSelector}),
				service(map[string]string{annotations.ClusterSelector: invalidSelector})),
			wantFields: []string{path(annotations.ClusterSelector)},
			wantDetail: `unknown operator "<>"`,
		},
		{
			name:    "update that fixes an invalid selector",
			request: services.update(service(map[string]string{annotations.ClusterSelector: validSelector}), service(map[string]string{annotations.ClusterSelector: invalidSelector})),
		},
		{
			name:    "service with a valid DNS TTL",
			request: services.create(service(map[string]string{annotations.DNSTTL: validTTL})),
		},
		{
			name:    "update that changes a valid DNS TTL",
			request: services.update(service(map[string]string{annotations.DNSTTL: "60"}), service(map[string]string{annotations.DNSTTL: validTTL})),
		},
		{
			name:    "update that fixes an invalid DNS TTL",
			request: services.update(service(map[string]string{annotations.DNSTTL: validTTL}), service(map[string]string{annotations.DNSTTL: "0"})),
		},
		{
			name: "update that keeps an invalid DNS TTL stored earlier",
			request: services.update(
				service(map[string]string{annotations.DNSTTL: "1h", "team": "web"}),
				service(map[string]string{annotations.DNSTTL: "1h"})),
		},
		{
			name:    "a DNS TTL on a replicaset is not the DNS controller's business",
			request: replicaSets.create(replicaSet(map[string]string{annotations.DNSTTL: "0"})),
		},
		{
			name:    "a DNS TTL on a deployment is not checked on update either",
			request: deployments.update(deployment(map[string]string{annotations.DNSTTL: "-5"}), deployment(nil)),
		},
		{
			name: "a bad DNS TTL is reported with a bad selector",
			request: services.create(service(map[string]string{
				annotations.ClusterSelector: invalidSelector,
				annotations.DNSTTL:          "1h",
			})),
			wantFields: []string{path(annotations.ClusterSelector), path(annotations.DNSTTL)},
		},
		{
			name:    "status subresource is skipped",
			request: replicaSets.update(replicaSet(map[string]string{annotations.ClusterSelector: invalidSelector}), replicaSet(nil)).on("status"),
		},
		{
			name:    "scale subresource is skipped",
			request: deployments.update(deployment(map[string]string{annotations.DeploymentPreferences: invalidPrefs}), deployment(nil)).on("scale"),
		},
		{
			name:    "object without metadata is skipped",
			request: services.create(&metav1.Status{}),
		},
		{
			name:    "request without an object is skipped",
			request: services.create(nil),
		},
	}
	for _, bad := range badDNSTTLs {
		ttl := func(value string) runtime.Object { return service(map[string]string{annotations.DNSTTL: value}) }
		tests = append(tests, []validateCase{
			{
				name:       "service created with DNS TTL " + bad.value,
				request:    services.create(ttl(bad.value)),
				wantFields: []string{path(annotations.DNSTTL)},
				wantDetail: bad.detail,
			},
			{
				name:       "service updated from a valid DNS TTL to " + bad.value,
				request:    services.update(ttl(bad.value), ttl(validTTL)),
				wantFields: []string{path(annotations.DNSTTL)},
				wantDetail: bad.detail,
			},
			{
				name:       "service updated to add DNS TTL " + bad.value,
				request:    services.update(ttl(bad.value), service(nil)),
				wantFields: []string{path(annotations.DNSTTL)},
				wantDetail: bad.detail,
			},
			{
				name:       "service updated from DNS TTL \"x\" to " + bad.value,
				request:    services.update(ttl(bad.value), ttl("x")),
				wantFields: []string{path(annotations.DNSTTL)},
				wantDetail: bad.detail,
			},
		}...)
	}
	plugin := NewPlugin()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.request.attributes()
			if !plugin.Handles(a.GetOperation()) {
				t.Fatalf("plugin does not handle %s", a.GetOperation())
			}
			err := plugin.Validate(context.Background(), a, nil)
			if len(tc.wantFields) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v, want the request admitted", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate admitted the request, want 422 naming %v", tc.wantFields)
			}
			var status apierrors.APIStatus
			if !errors.As(err, &status) || !apierrors.IsInvalid(err) {
				t.Fatalf("Validate: %v (%T), want an Invalid status error", err, err)
			}
			s := status.Status()
			if s.Code != http.StatusUnprocessableEntity {
				t.Errorf("status code %d, want %d", s.Code, http.StatusUnprocessableEntity)
			}
			if s.Details == nil {
				t.Fatalf("status %+v has no details", s)
			}
			if s.Details.Kind != tc.request.gvk.Kind || s.Details.Group != tc.request.gvk.Group || s.Details.Name != "web" {
				t.Errorf("details name %s %s/%s, want %s %s/web", s.Details.Group, s.Details.Kind, s.Details.Name, tc.request.gvk.Group, tc.request.gvk.Kind)
			}
			var fields []string
			for _, c := range s.Details.Causes {
				if !slices.Contains(fields, c.Field) {
					fields = append(fields, c.Field)
				}
			}
			if !slices.Equal(fields, tc.wantFields) {
				t.Errorf("causes name fields %q, want %q", fields, tc.wantFields)
			}
			if !strings.Contains(err.Error(), tc.wantDetail) {
				t.Errorf("error %q does not say %q", err, tc.wantDetail)
			}
		})
	}
}

func TestHandles(t *testing.T) {
	plugin := NewPlugin()
	for op, want := range map[admission.Operation]bool{
		admission.Create:  true,
		admission.Update:  true,
		admission.Delete:  false,
		admission.Connect: false,
	} {
		t.Run(string(op), func(t *testing.T) {
			if got := plugin.Handles(op); got != want {
				t.Errorf("Handles(%s) = %t, want %t", op, got, want)
			}
		})
	}
}

func TestRegister(t *testing.T) {
	plugins := admission.NewPlugins()
	Register(plugins)
	if !slices.Contains(plugins.Registered(), PluginName) {
		t.Fatalf("registered plugins %v do not include %s", plugins.Registered(), PluginName)
	}
	p, err := plugins.InitPlugin(PluginName, nil, admission.PluginInitializers{})
	if err != nil {
		t.Fatalf("InitPlugin(%s): %v", PluginName, err)
	}
	if _, ok := p.(admission.ValidationInterface); !ok {
		t.Errorf("plugin %T is not a ValidationInterface", p)
	}
	if _, ok := p.(admission.MutationInterface); ok {
		t.Errorf("plugin %T mutates, but it only needs to validate", p)
	}
}
