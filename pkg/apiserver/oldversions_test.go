package apiserver

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/kubernetes/pkg/apis/apps"
)

// recordingAdmission remembers the resource and kind each phase saw.
type recordingAdmission struct {
	admission.Interface
	admitted, validated []schema.GroupVersionResource
	kinds               []schema.GroupVersionKind
}

func (r *recordingAdmission) Admit(_ context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	r.admitted = append(r.admitted, a.GetResource())
	r.kinds = append(r.kinds, a.GetKind())
	return nil
}

func (r *recordingAdmission) Validate(_ context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	r.validated = append(r.validated, a.GetResource())
	return nil
}

func TestAdmitAsToday(t *testing.T) {
	for _, tc := range []struct {
		name         string
		resource     schema.GroupVersionResource
		subresource  string
		kind         schema.GroupVersionKind
		wantResource schema.GroupVersionResource
		wantKind     schema.GroupVersionKind
	}{
		{
			name:         "extensions deployment is an apps deployment",
			resource:     schema.GroupVersionResource{Group: "extensions", Version: "v1beta1", Resource: "deployments"},
			kind:         schema.GroupVersionKind{Group: "extensions", Version: "v1beta1", Kind: "Deployment"},
			wantResource: schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"},
			wantKind:     schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
		},
		{
			name:         "extensions ingress is a networking.k8s.io ingress",
			resource:     schema.GroupVersionResource{Group: "extensions", Version: "v1beta1", Resource: "ingresses"},
			kind:         schema.GroupVersionKind{Group: "extensions", Version: "v1beta1", Kind: "Ingress"},
			wantResource: schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"},
			wantKind:     schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"},
		},
		{
			name:         "a subresource keeps its own kind",
			resource:     schema.GroupVersionResource{Group: "extensions", Version: "v1beta1", Resource: "replicasets"},
			subresource:  "scale",
			kind:         schema.GroupVersionKind{Group: "extensions", Version: "v1beta1", Kind: "Scale"},
			wantResource: schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"},
			wantKind:     schema.GroupVersionKind{Group: "extensions", Version: "v1beta1", Kind: "Scale"},
		},
		{
			name:         "other groups are left alone",
			resource:     schema.GroupVersionResource{Group: "apps", Version: "v1beta2", Resource: "daemonsets"},
			kind:         schema.GroupVersionKind{Group: "apps", Version: "v1beta2", Kind: "DaemonSet"},
			wantResource: schema.GroupVersionResource{Group: "apps", Version: "v1beta2", Resource: "daemonsets"},
			wantKind:     schema.GroupVersionKind{Group: "apps", Version: "v1beta2", Kind: "DaemonSet"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recordingAdmission{}
			chain := AdmitAsToday(rec)
			a := admission.NewAttributesRecord(&apps.Deployment{}, nil, tc.kind, "ns", "web", tc.resource, tc.subresource, admission.Create, &metav1.CreateOptions{}, false, nil)
			if err := chain.(admission.MutationInterface).Admit(context.Background(), a, nil); err != nil {
				t.Fatal(err)
			}
			if err := chain.(admission.ValidationInterface).Validate(context.Background(), a, nil); err != nil {
				t.Fatal(err)
			}
			if rec.admitted[0] != tc.wantResource || rec.validated[0] != tc.wantResource || rec.kinds[0] != tc.wantKind {
				t.Errorf("the chain saw %v / %v, kind %v; want %v, kind %v", rec.admitted[0], rec.validated[0], rec.kinds[0], tc.wantResource, tc.wantKind)
			}
		})
	}
}
