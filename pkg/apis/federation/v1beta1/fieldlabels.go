package v1beta1

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
)

func init() {
	localSchemeBuilder.Register(addFieldLabelConversions)
}

// addFieldLabelConversions lists the fields Propagations can be selected by,
// so that `kubectl get propagations --field-selector status.object.name=web` works.
func addFieldLabelConversions(scheme *runtime.Scheme) error {
	return scheme.AddFieldLabelConversionFunc(SchemeGroupVersion.WithKind("Propagation"),
		func(label, value string) (string, string, error) {
			switch label {
			case "metadata.name", "metadata.namespace", "status.object.kind", "status.object.name":
				return label, value, nil
			}
			return "", "", fmt.Errorf("field label not supported for Propagation: %s", label)
		})
}
