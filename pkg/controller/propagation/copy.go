package propagation

import (
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/federatedtypes"
)

// GenerationAnnotation on a member copy of a kind with a status (a
// Deployment, a Service...) is the generation of the federated object it
// was last written from, so that status aggregation can tell whether every
// member has caught up.
const GenerationAnnotation = "federation.k8s.io/generation"

// internalAnnotationPrefixes are annotations that steer the federation or
// the client that wrote the federated object; members never see them.
var internalAnnotationPrefixes = []string{
	"federation.k8s.io/",
	"federation.kubernetes.io/",
	"federation.alpha.kubernetes.io/",
	"kubectl.kubernetes.io/last-applied-configuration",
}

func internalAnnotation(key string) bool {
	for _, p := range internalAnnotationPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// desiredCopy builds what a member's copy should be: the federated object's
// name, labels, public annotations and propagated fields, marked as managed
// by this federation, with this cluster's share of the replicas.
func desiredCopy(a *federatedtypes.Adapter, fed *unstructured.Unstructured, federationName string, share *split) *unstructured.Unstructured {
	d := &unstructured.Unstructured{Object: map[string]interface{}{}}
	d.SetAPIVersion(fed.GetAPIVersion())
	d.SetKind(fed.GetKind())
	d.SetNamespace(fed.GetNamespace())
	d.SetName(fed.GetName())
	labels := map[string]string{}
	for k, v := range fed.GetLabels() {
		labels[k] = v
	}
	labels[clusterclient.ManagedByLabel] = federationName
	d.SetLabels(labels)
	annotations := map[string]string{}
	for k, v := range fed.GetAnnotations() {
		if !internalAnnotation(k) {
			annotations[k] = v
		}
	}
	if a.HasStatus {
		// Only status aggregation reads it; a ConfigMap's copy need not
		// carry it.
		annotations[GenerationAnnotation] = strconv.FormatInt(fed.GetGeneration(), 10)
	}
	if len(annotations) > 0 {
		d.SetAnnotations(annotations)
	}
	for _, f := range a.Fields {
		if v, ok := fed.Object[f]; ok {
			d.Object[f] = runtime.DeepCopyJSONValue(v)
		}
	}
	if share != nil && len(a.Replicas) > 0 {
		_ = unstructured.SetNestedField(d.Object, share.replicas, a.Replicas...)
		for _, path := range a.SplitAlong {
			if n, ok := share.along[pathKey(path)]; ok {
				_ = unstructured.SetNestedField(d.Object, n, path...)
			}
		}
	}
	if a.PrepareDesired != nil {
		a.PrepareDesired(d)
	}
	return d
}

// upToDate says whether member already has everything desired asks for.
// Labels and annotations members or their controllers add are left alone.
func upToDate(a *federatedtypes.Adapter, desired, member *unstructured.Unstructured) bool {
	if !subset(desired.GetLabels(), member.GetLabels()) || !subset(desired.GetAnnotations(), member.GetAnnotations()) {
		return false
	}
	for _, f := range a.Fields {
		dv, dok := desired.Object[f]
		mv, mok := member.Object[f]
		if dok != mok || !equality.Semantic.DeepEqual(dv, mv) {
			return false
		}
	}
	return true
}

func subset(want, have map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// merged is member with desired's labels, annotations and fields applied,
// keeping the member's resourceVersion for an optimistic update.
func merged(a *federatedtypes.Adapter, desired, member *unstructured.Unstructured) *unstructured.Unstructured {
	out := member.DeepCopy()
	labels := out.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	for k, v := range desired.GetLabels() {
		labels[k] = v
	}
	out.SetLabels(labels)
	annotations := out.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	for k, v := range desired.GetAnnotations() {
		annotations[k] = v
	}
	out.SetAnnotations(annotations)
	for _, f := range a.Fields {
		if v, ok := desired.Object[f]; ok {
			out.Object[f] = runtime.DeepCopyJSONValue(v)
		} else {
			delete(out.Object, f)
		}
	}
	return out
}

// unmanaged is member without the marks of the federation, for orphaning.
func unmanaged(member *unstructured.Unstructured) *unstructured.Unstructured {
	out := member.DeepCopy()
	labels := out.GetLabels()
	delete(labels, clusterclient.ManagedByLabel)
	out.SetLabels(labels)
	annotations := out.GetAnnotations()
	delete(annotations, GenerationAnnotation)
	out.SetAnnotations(annotations)
	return out
}
