package service

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	api "k8s.io/kubernetes/pkg/apis/core"
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	svcreg "k8s.io/kubernetes/pkg/registry/core/service"
)

// internalService defaults a v1 Service and converts it to the internal
// type, as the API server does before it validates.
func internalService(t *testing.T, svc *corev1.Service) *api.Service {
	t.Helper()
	legacyscheme.Scheme.Default(svc)
	out := &api.Service{}
	if err := legacyscheme.Scheme.Convert(svc, out, nil); err != nil {
		t.Fatal(err)
	}
	return out
}

func v1Service(typ corev1.ServiceType, etp corev1.ServiceExternalTrafficPolicy, healthCheckNodePort int32) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{
			Type:                  typ,
			ExternalTrafficPolicy: etp,
			HealthCheckNodePort:   healthCheckNodePort,
			Selector:              map[string]string{"app": "web"},
			Ports:                 []corev1.ServicePort{{Port: 80}},
		},
	}
}

// TestValidateWithoutAllocation checks that validation does not demand
// what kube-apiserver would have allocated first (a health check node
// port), and still refuses what is wrong whatever is allocated.
func TestValidateWithoutAllocation(t *testing.T) {
	s := strategy{svcreg.Strategy, svcreg.Strategy}
	ctx := genericapirequest.WithNamespace(context.Background(), "default")
	tests := []struct {
		name      string
		svc       *corev1.Service
		wantField string
	}{
		{"local LoadBalancer without health check port", v1Service(corev1.ServiceTypeLoadBalancer, corev1.ServiceExternalTrafficPolicyLocal, 0), ""},
		{"local LoadBalancer with a chosen health check port", v1Service(corev1.ServiceTypeLoadBalancer, corev1.ServiceExternalTrafficPolicyLocal, 31000), ""},
		{"health check port out of range", v1Service(corev1.ServiceTypeLoadBalancer, corev1.ServiceExternalTrafficPolicyLocal, 70000), "spec.healthCheckNodePort"},
		{"health check port on a cluster-wide LoadBalancer", v1Service(corev1.ServiceTypeLoadBalancer, corev1.ServiceExternalTrafficPolicyCluster, 31000), "spec.healthCheckNodePort"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := internalService(t, tt.svc)
			s.PrepareForCreate(ctx, svc)
			assertErrorField(t, "create", s.Validate(ctx, svc).ToAggregate(), tt.wantField)

			old := internalService(t, v1Service(corev1.ServiceTypeClusterIP, "", 0))
			old.ResourceVersion = "1"
			svc.ResourceVersion = "1"
			s.PrepareForUpdate(ctx, svc, old)
			assertErrorField(t, "update from ClusterIP", s.ValidateUpdate(ctx, svc, old).ToAggregate(), tt.wantField)
		})
	}
}

func assertErrorField(t *testing.T, op string, err error, wantField string) {
	t.Helper()
	switch {
	case wantField == "" && err != nil:
		t.Errorf("%s: unexpected errors: %v", op, err)
	case wantField != "" && err == nil:
		t.Errorf("%s: no error, want one on %s", op, wantField)
	case wantField != "" && !strings.Contains(err.Error(), wantField):
		t.Errorf("%s: errors %v do not name %s", op, err, wantField)
	}
}
