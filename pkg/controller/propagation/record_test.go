package propagation

import "testing"

func TestPropagationName(t *testing.T) {
	for _, tc := range []struct {
		kind, objNamespace, objName string
		wantNamespace, wantName     string
	}{
		{"Deployment", "shop", "web", "shop", "deployment.web"},
		{"Namespace", "", "shop", "shop", "namespace.shop"},
		{"IngressClass", "", "nginx", "federation-system", "ingressclass.nginx"},
		// An IngressClass called like a namespace is still not in one.
		{"IngressClass", "", "default", "federation-system", "ingressclass.default"},
	} {
		ns, name := propagationName(tc.kind, tc.objNamespace, tc.objName)
		if ns != tc.wantNamespace || name != tc.wantName {
			t.Errorf("propagationName(%q, %q, %q) = %s/%s, want %s/%s", tc.kind, tc.objNamespace, tc.objName, ns, name, tc.wantNamespace, tc.wantName)
		}
	}
}
