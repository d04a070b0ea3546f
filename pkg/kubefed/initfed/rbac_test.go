package initfed

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	rbacvalidation "k8s.io/component-helpers/auth/rbac/validation"

	"github.com/kfederation/federation/pkg/federatedtypes"
)

// TestControllerManagerMaySyncEveryFederatedKind checks the ClusterRole
// kubefed init gives the controller manager in the federation against the
// kinds table: a kind added to federatedtypes.All() but not to
// manifests/federation/10-rbac.yaml would be served, and never propagated
// by a controller manager deployed with kubefed init.
func TestControllerManagerMaySyncEveryFederatedKind(t *testing.T) {
	_, objs := render(t, testOptions())
	var role rbacv1.ClusterRole
	u := find(t, objs, "ClusterRole", "federation:myfed:controller-manager")
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &role); err != nil {
		t.Fatal(err)
	}
	sync := []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	for _, a := range federatedtypes.All() {
		need := []rbacv1.PolicyRule{{APIGroups: []string{a.GVR.Group}, Resources: []string{a.GVR.Resource}, Verbs: sync}}
		if a.HasStatus {
			need = append(need, rbacv1.PolicyRule{APIGroups: []string{a.GVR.Group}, Resources: []string{a.GVR.Resource + "/status"}, Verbs: []string{"update"}})
		}
		if ok, missing := rbacvalidation.Covers(role.Rules, need); !ok {
			t.Errorf("%s: the controller manager's ClusterRole lacks %v", a.Kind, missing)
		}
	}
}
