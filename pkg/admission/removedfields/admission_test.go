package removedfields

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/kubernetes/pkg/apis/apps"
	"k8s.io/kubernetes/pkg/apis/networking"
)

func attributes(obj runtime.Object, kind schema.GroupVersionKind, resource schema.GroupVersionResource, subresource string, op admission.Operation) admission.Attributes {
	return admission.NewAttributesRecord(obj, nil, kind, "ns", "web", resource, subresource, op, &metav1.CreateOptions{}, false, nil)
}

func TestValidate(t *testing.T) {
	deployKind := schema.GroupVersionKind{Group: "extensions", Version: "v1beta1", Kind: "Deployment"}
	deployResource := schema.GroupVersionResource{Group: "extensions", Version: "v1beta1", Resource: "deployments"}
	withRollback := &apps.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: apps.DeploymentSpec{RollbackTo: &apps.RollbackConfig{Revision: 2}}}
	for _, tc := range []struct {
		name  string
		attrs admission.Attributes
		want  string // substring of the error; empty means allowed
	}{
		{"deployment without rollbackTo", attributes(&apps.Deployment{}, deployKind, deployResource, "", admission.Create), ""},
		{"create with rollbackTo", attributes(withRollback, deployKind, deployResource, "", admission.Create), "spec.rollbackTo: Forbidden"},
		{"update with rollbackTo", attributes(withRollback, deployKind, deployResource, "", admission.Update), "spec.rollbackTo: Forbidden"},
		{"status subresource", attributes(withRollback, deployKind, deployResource, "status", admission.Update), ""},
		{"other kind", attributes(&networking.Ingress{}, schema.GroupVersionKind{Group: "extensions", Version: "v1beta1", Kind: "Ingress"}, schema.GroupVersionResource{Group: "extensions", Version: "v1beta1", Resource: "ingresses"}, "", admission.Create), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := NewPlugin().Validate(context.Background(), tc.attrs, nil)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want allowed", err)
				}
				return
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want a 422 containing %q", err, tc.want)
			}
		})
	}
}
