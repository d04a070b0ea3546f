package federationfinalizer

import (
	"context"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/kubernetes/pkg/apis/apps"
	"k8s.io/kubernetes/pkg/apis/core"
	"k8s.io/kubernetes/pkg/apis/networking"

	"github.com/kfederation/federation/pkg/federatedtypes"
)

func TestAdmit(t *testing.T) {
	configMaps := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	secrets := schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	namespaces := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	deployments := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	events := schema.GroupVersionResource{Version: "v1", Resource: "events"}
	ingressClasses := schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingressclasses"}
	meta := func(ns, name string, finalizers ...string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: ns, Name: name, Finalizers: finalizers}
	}
	cases := []struct {
		name        string
		gvr         schema.GroupVersionResource
		subresource string
		obj         runtime.Object
		want        []string
	}{
		{"configmap gets it", configMaps, "", &core.ConfigMap{ObjectMeta: meta("app", "settings")}, []string{federatedtypes.Finalizer}},
		{"kept once", configMaps, "", &core.ConfigMap{ObjectMeta: meta("app", "settings", "example.com/mine", federatedtypes.Finalizer)}, []string{"example.com/mine", federatedtypes.Finalizer}},
		{"others' finalizers stay", deployments, "", &apps.Deployment{ObjectMeta: meta("app", "web", "example.com/mine")}, []string{"example.com/mine", federatedtypes.Finalizer}},
		{"opaque secret gets it", secrets, "", &core.Secret{ObjectMeta: meta("app", "creds"), Type: core.SecretTypeOpaque}, []string{federatedtypes.Finalizer}},
		{"service account token is never propagated", secrets, "", &core.Secret{ObjectMeta: meta("app", "token"), Type: core.SecretTypeServiceAccountToken}, nil},
		{"federation-system is never propagated", configMaps, "", &core.ConfigMap{ObjectMeta: meta("federation-system", "settings")}, nil},
		{"user namespace gets it", namespaces, "", &core.Namespace{ObjectMeta: meta("", "app")}, []string{federatedtypes.Finalizer}},
		{"kube-system is adopted, like default", namespaces, "", &core.Namespace{ObjectMeta: meta("", "kube-system")}, []string{federatedtypes.Finalizer}},
		{"kube-node-lease is a member's own", namespaces, "", &core.Namespace{ObjectMeta: meta("", "kube-node-lease")}, nil},
		{"events are not propagated", events, "", &core.Event{ObjectMeta: meta("app", "e1")}, nil},
		{"ingress class gets it", ingressClasses, "", &networking.IngressClass{ObjectMeta: meta("", "nginx"), Spec: networking.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}, []string{federatedtypes.Finalizer}},
	}
	plugin := NewPlugin()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			accessor := tc.obj.(metav1.ObjectMetaAccessor).GetObjectMeta()
			a := admission.NewAttributesRecord(tc.obj, nil, schema.GroupVersionKind{}, accessor.GetNamespace(), accessor.GetName(), tc.gvr, tc.subresource, admission.Create, &metav1.CreateOptions{}, false, nil)
			if err := plugin.Admit(context.Background(), a, nil); err != nil {
				t.Fatalf("Admit: %v", err)
			}
			if got := accessor.GetFinalizers(); !slices.Equal(got, tc.want) {
				t.Errorf("finalizers = %v, want %v", got, tc.want)
			}
		})
	}
	for _, op := range []admission.Operation{admission.Update, admission.Delete, admission.Connect} {
		if plugin.Handles(op) {
			t.Errorf("Handles(%s) = true; the finalizer goes on at create only, so that a user may remove it", op)
		}
	}
}
