package propagation

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/federatedtypes"
)

func obj(o map[string]interface{}) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: o}
}

func fedDeployment() *unstructured.Unstructured {
	return obj(map[string]interface{}{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata": map[string]interface{}{
			"name": "web", "namespace": "prod", "generation": int64(4), "uid": "fed-uid", "resourceVersion": "99",
			"labels": map[string]interface{}{"app": "web"},
			"annotations": map[string]interface{}{
				"team": "a",
				"kubectl.kubernetes.io/last-applied-configuration": "{}",
				"federation.kubernetes.io/deployment-preferences":  "{}",
				"federation.alpha.kubernetes.io/cluster-selector":  "[]",
			},
			"finalizers": []interface{}{Finalizer},
		},
		"spec":   map[string]interface{}{"replicas": int64(6), "template": map[string]interface{}{"spec": map[string]interface{}{}}},
		"status": map[string]interface{}{"replicas": int64(6)},
	})
}

func TestDesiredCopy(t *testing.T) {
	a := federatedtypes.Deployment()
	two := int64(2)
	d := desiredCopy(a, fedDeployment(), "fed", &split{replicas: two})
	if d.GetName() != "web" || d.GetNamespace() != "prod" {
		t.Errorf("name %s/%s", d.GetNamespace(), d.GetName())
	}
	if d.GetUID() != "" || d.GetResourceVersion() != "" || len(d.GetFinalizers()) != 0 {
		t.Errorf("copied the federation's identity: uid %q rv %q finalizers %v", d.GetUID(), d.GetResourceVersion(), d.GetFinalizers())
	}
	if _, ok := d.Object["status"]; ok {
		t.Error("status must not be sent to members")
	}
	if d.GetLabels()["app"] != "web" || d.GetLabels()[clusterclient.ManagedByLabel] != "fed" {
		t.Errorf("labels %v", d.GetLabels())
	}
	ann := d.GetAnnotations()
	if ann["team"] != "a" || ann[GenerationAnnotation] != "4" {
		t.Errorf("annotations %v", ann)
	}
	cm := fedDeployment()
	cm.SetAPIVersion("v1")
	cm.SetKind("ConfigMap")
	if got, ok := desiredCopy(federatedtypes.ConfigMap(), cm, "fed", nil).GetAnnotations()[GenerationAnnotation]; ok {
		t.Errorf("a ConfigMap's copy carries %s=%s; only kinds with an aggregated status need it", GenerationAnnotation, got)
	}
	for _, k := range []string{"kubectl.kubernetes.io/last-applied-configuration", "federation.kubernetes.io/deployment-preferences", "federation.alpha.kubernetes.io/cluster-selector"} {
		if _, ok := ann[k]; ok {
			t.Errorf("internal annotation %s sent to members", k)
		}
	}
	if r, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); r != 2 {
		t.Errorf("replicas %d, want this cluster's share 2", r)
	}
	// The federated object itself is left alone.
	if r, _, _ := unstructured.NestedInt64(fedDeployment().Object, "spec", "replicas"); r != 6 {
		t.Errorf("federated replicas changed to %d", r)
	}
}

func TestUpToDateAndMerged(t *testing.T) {
	a := federatedtypes.Deployment()
	two := int64(2)
	desired := desiredCopy(a, fedDeployment(), "fed", &split{replicas: two})
	member := desired.DeepCopy()
	member.SetResourceVersion("7")
	// Members and their controllers add labels, annotations and status.
	member.SetAnnotations(map[string]string{"deployment.kubernetes.io/revision": "3", "team": "a", GenerationAnnotation: "4"})
	member.Object["status"] = map[string]interface{}{"readyReplicas": int64(2)}
	if !upToDate(a, desired, member) {
		t.Fatal("a member copy with only member-added fields is not drift")
	}
	drifted := member.DeepCopy()
	_ = unstructured.SetNestedField(drifted.Object, int64(5), "spec", "replicas")
	if upToDate(a, desired, drifted) {
		t.Fatal("changed replicas is drift")
	}
	fixed := merged(a, desired, drifted)
	if r, _, _ := unstructured.NestedInt64(fixed.Object, "spec", "replicas"); r != 2 {
		t.Errorf("merged replicas %d", r)
	}
	if fixed.GetResourceVersion() != "7" || fixed.GetAnnotations()["deployment.kubernetes.io/revision"] != "3" {
		t.Errorf("merge lost the member's resourceVersion or annotations: %v", fixed.Object["metadata"])
	}
	if _, ok := fixed.Object["status"]; !ok {
		t.Error("merge dropped the member's status")
	}
	relabelled := member.DeepCopy()
	relabelled.SetLabels(map[string]string{"app": "other", clusterclient.ManagedByLabel: "fed"})
	if upToDate(a, desired, relabelled) {
		t.Fatal("a changed label is drift")
	}
}

func TestUnmanaged(t *testing.T) {
	m := obj(map[string]interface{}{"metadata": map[string]interface{}{
		"name":        "x",
		"labels":      map[string]interface{}{clusterclient.ManagedByLabel: "fed", "app": "x"},
		"annotations": map[string]interface{}{GenerationAnnotation: "1", "keep": "me"},
	}})
	r := unmanaged(m)
	if _, ok := r.GetLabels()[clusterclient.ManagedByLabel]; ok || r.GetLabels()["app"] != "x" {
		t.Errorf("labels %v", r.GetLabels())
	}
	if _, ok := r.GetAnnotations()[GenerationAnnotation]; ok || r.GetAnnotations()["keep"] != "me" {
		t.Errorf("annotations %v", r.GetAnnotations())
	}
}
