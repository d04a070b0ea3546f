// Package removedfields is an admission plugin that refuses the fields of
// old API versions that today's versions no longer have. The federation
// serves old versions (extensions/v1beta1, apps/v1beta1...) but stores and
// propagates today's; a field with no place in today's version would be
// kept only as a note in an annotation that nothing acts on, so the user
// is told at once, with a 422 naming the field, rather than finding later
// that it did nothing.
package removedfields

import (
	"context"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/kubernetes/pkg/apis/apps"
)

// PluginName is the name of this plugin in --enable-admission-plugins.
const PluginName = "RemovedFields"

// Register adds the plugin to plugins.
func Register(plugins *admission.Plugins) {
	plugins.Register(PluginName, func(io.Reader) (admission.Interface, error) {
		return NewPlugin(), nil
	})
}

// Plugin refuses removed fields on create and update of the main resource.
type Plugin struct {
	*admission.Handler
}

var _ admission.ValidationInterface = &Plugin{}

// NewPlugin returns the plugin; it needs no configuration.
func NewPlugin() *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update)}
}

// Validate answers 422 when the object, as decoded from the request's
// version into the internal type, holds a field today's version lacks.
func (p *Plugin) Validate(ctx context.Context, a admission.Attributes, o admission.ObjectInterfaces) error {
	if a.GetSubresource() != "" {
		return nil
	}
	var errs field.ErrorList
	switch obj := a.GetObject().(type) {
	case *apps.Deployment:
		errs = deploymentErrors(obj)
	}
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(a.GetKind().GroupKind(), a.GetName(), errs)
}

// deploymentErrors refuses spec.rollbackTo (extensions/v1beta1 and
// apps/v1beta1; apps/v1 carries it as the deprecated.deployment.rollback.to
// annotation). It asked a Deployment controller to roll back to a revision
// of its own ReplicaSets; apps/v1 dropped it, and the federation has no
// revision history to roll back to.
func deploymentErrors(d *apps.Deployment) field.ErrorList {
	if d.Spec.RollbackTo == nil {
		return nil
	}
	return field.ErrorList{field.Forbidden(field.NewPath("spec", "rollbackTo"),
		"apps/v1 has no rollbackTo (nor its annotation deprecated.deployment.rollback.to), and the federation stores and propagates apps/v1 Deployments; to roll back, apply the pod template you want back")}
}
