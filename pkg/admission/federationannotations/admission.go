// Package federationannotations is an admission plugin that refuses objects
// whose federation annotations cannot be parsed, so that a typo in a
// cluster selector, in replica preferences or in a DNS TTL is a 422 for the
// user who made it, not a silent fallback in a controller minutes later.
package federationannotations

import (
	"context"
	"io"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/admission"

	"github.com/kfederation/federation/pkg/apis/federation"
	"github.com/kfederation/federation/pkg/apis/federation/annotations"
)

// PluginName is the name of this plugin in --enable-admission-plugins.
const PluginName = "FederationAnnotations"

// Register adds the plugin to plugins.
func Register(plugins *admission.Plugins) {
	plugins.Register(PluginName, func(io.Reader) (admission.Interface, error) {
		return NewPlugin(), nil
	})
}

// replicaPreferencesByResource says which replica preferences annotation
// each resource carries. Only the resource the planner reads it from gets
// it checked: the same key on another kind is inert, like any other
// unknown annotation.
var replicaPreferencesByResource = map[schema.GroupResource]string{
	appsv1.Resource("replicasets"): annotations.ReplicaSetPreferences,
	appsv1.Resource("deployments"): annotations.DeploymentPreferences,
	batchv1.Resource("jobs"):       annotations.JobPreferences,
}

// dnsTTLResource is the one resource whose DNSTTL annotation is checked:
// the annotation sets the TTL of a Service's DNS records and means nothing
// on another kind, where it is inert and left alone, like replica
// preferences on the wrong kind. (The cluster selector, by contrast, is
// checked on every kind.)
var dnsTTLResource = corev1.Resource("services")

// clustersResource is where InsecureSkipTLSVerify means something: a
// value the cluster controller cannot read is refused at the door rather
// than found later as a NotReady Cluster.
var clustersResource = schema.GroupResource{Group: federation.GroupName, Resource: "clusters"}

// Plugin validates the federation annotations of every object created or
// updated through the main resource.
type Plugin struct {
	*admission.Handler
}

var _ admission.ValidationInterface = &Plugin{}

// NewPlugin returns the plugin. It needs no configuration and no informers:
// each decision depends only on the object in the request.
func NewPlugin() *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update)}
}

// Validate refuses the request with 422 Unprocessable Entity, naming each
// bad annotation as a field of metadata.annotations, when a federation
// annotation the object carries cannot be parsed.
func (p *Plugin) Validate(ctx context.Context, a admission.Attributes, o admission.ObjectInterfaces) error {
	// Subresources (status, scale) cannot change annotations.
	if a.GetSubresource() != "" || a.GetObject() == nil {
		return nil
	}
	// Objects reaching admission are internal types, so the annotations are
	// read through the generic accessor. An object without ObjectMeta has
	// no annotations to check.
	obj, err := meta.Accessor(a.GetObject())
	if err != nil {
		return nil
	}
	var oldAnnotations map[string]string
	if a.GetOperation() == admission.Update && a.GetOldObject() != nil {
		if old, err := meta.Accessor(a.GetOldObject()); err == nil {
			oldAnnotations = old.GetAnnotations()
		}
	}
	errs := validateAnnotations(a.GetResource().GroupResource(), obj.GetAnnotations(), oldAnnotations)
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(a.GetKind().GroupKind(), a.GetName(), errs)
}

// validateAnnotations checks the federation annotations of an object of
// resource gr. An annotation whose value is the same in oldAnnotations is
// not checked again: it was stored before this plugin was enabled (or
// before a rule was tightened), and refusing every update of such an
// object would also refuse the finalizer removal that lets it be deleted.
func validateAnnotations(gr schema.GroupResource, newAnnotations, oldAnnotations map[string]string) field.ErrorList {
	fldPath := field.NewPath("metadata", "annotations")
	changed := func(key string) (string, bool) {
		value, ok := newAnnotations[key]
		if !ok {
			return "", false
		}
		if old, had := oldAnnotations[key]; had && old == value {
			return "", false
		}
		return value, true
	}

	var errs field.ErrorList
	if value, ok := changed(annotations.ClusterSelector); ok {
		errs = append(errs, annotations.ValidateClusterSelector(value, fldPath)...)
	}
	if key, ok := replicaPreferencesByResource[gr]; ok {
		if value, ok := changed(key); ok {
			errs = append(errs, annotations.ValidateReplicaPreferences(key, value, fldPath)...)
		}
	}
	if gr == dnsTTLResource {
		if value, ok := changed(annotations.DNSTTL); ok {
			errs = append(errs, annotations.ValidateDNSTTL(value, fldPath)...)
		}
	}
	if gr == clustersResource {
		if value, ok := changed(annotations.InsecureSkipTLSVerify); ok {
			errs = append(errs, annotations.ValidateInsecureSkipTLSVerify(value, fldPath)...)
		}
	}
	return errs
}
