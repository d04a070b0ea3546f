package e2e

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"github.com/kfederation/federation/test/framework"
)

// rbacKindCases are the round trips of the kinds an add-on is rolled out
// with: a ServiceAccount, roles and bindings.
func rbacKindCases() []kindCase {
	rbacGVR := func(resource string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: rbacv1.GroupName, Version: "v1", Resource: resource}
	}
	readConfigMaps := rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list"}}
	addRule := func(fed *unstructured.Unstructured) error {
		rules, _, _ := unstructured.NestedSlice(fed.Object, "rules")
		rules = append(rules, map[string]interface{}{"apiGroups": []interface{}{"apps"}, "resources": []interface{}{"deployments"}, "verbs": []interface{}{"get"}})
		return unstructured.SetNestedSlice(fed.Object, rules, "rules")
	}
	addSubject := func(fed *unstructured.Unstructured) error {
		subjects, _, _ := unstructured.NestedSlice(fed.Object, "subjects")
		subjects = append(subjects, map[string]interface{}{"kind": "Group", "apiGroup": rbacv1.GroupName, "name": "auditors"})
		return unstructured.SetNestedSlice(fed.Object, subjects, "subjects")
	}
	return []kindCase{
		{
			name: "serviceaccount",
			gvr:  schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"},
			kind: "ServiceAccount",
			object: func(ns string) runtime.Object {
				return &corev1.ServiceAccount{
					ObjectMeta:                   metav1.ObjectMeta{Name: "sample", Namespace: ns},
					ImagePullSecrets:             []corev1.LocalObjectReference{{Name: "registry"}},
					AutomountServiceAccountToken: ptr.To(false),
				}
			},
			update: func(fed *unstructured.Unstructured) error {
				return unstructured.SetNestedField(fed.Object, true, "automountServiceAccountToken")
			},
			member: sameFields("imagePullSecrets", "automountServiceAccountToken"),
		},
		{
			name:          "clusterrole",
			gvr:           rbacGVR("clusterroles"),
			kind:          "ClusterRole",
			clusterScoped: true,
			object: func(ns string) runtime.Object {
				return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: ns}, Rules: []rbacv1.PolicyRule{readConfigMaps}}
			},
			update: addRule,
			member: sameFields("rules"),
		},
		{
			name:          "clusterrolebinding",
			gvr:           rbacGVR("clusterrolebindings"),
			kind:          "ClusterRoleBinding",
			clusterScoped: true,
			object: func(ns string) runtime.Object {
				// view is each member's own stock role.
				return &rbacv1.ClusterRoleBinding{
					ObjectMeta: metav1.ObjectMeta{Name: ns},
					RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
					Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "sample", Namespace: "default"}},
				}
			},
			update: addSubject,
			member: sameFields("roleRef", "subjects"),
		},
		{
			name: "role",
			gvr:  rbacGVR("roles"),
			kind: "Role",
			object: func(ns string) runtime.Object {
				return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "sample", Namespace: ns}, Rules: []rbacv1.PolicyRule{readConfigMaps}}
			},
			update: addRule,
			member: sameFields("rules"),
		},
		{
			name: "rolebinding",
			gvr:  rbacGVR("rolebindings"),
			kind: "RoleBinding",
			object: func(ns string) runtime.Object {
				return &rbacv1.RoleBinding{
					ObjectMeta: metav1.ObjectMeta{Name: "sample", Namespace: ns},
					RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "sample"},
					Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "sample", Namespace: ns}},
				}
			},
			update: addSubject,
			member: sameFields("roleRef", "subjects"),
		},
	}
}

// TestAggregatedClusterRoleKeepsTheMembersRules: the rules of a ClusterRole
// with an aggregationRule are filled in by each member's aggregation
// controller, from the member's roles; the federation has no such
// controller, and must neither revert them nor count them as drift.
func TestAggregatedClusterRoleKeepsTheMembersRules(t *testing.T) {
	ctx := context.Background()
	const label = "kinds.example.com/aggregate-to-monitoring"
	part := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "kinds-monitoring-part", Labels: map[string]string{label: "true"}},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}}},
	}
	aggregated := &rbacv1.ClusterRole{
		ObjectMeta:      metav1.ObjectMeta{Name: "kinds-monitoring"},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{label: "true"}}}},
	}
	for _, r := range []*rbacv1.ClusterRole{part, aggregated} {
		if _, err := sharedFed.Client.RbacV1().ClusterRoles().Create(ctx, r, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = sharedFed.Client.RbacV1().ClusterRoles().Delete(context.Background(), r.Name, metav1.DeleteOptions{})
		})
	}
	aggregatedRules := func(ctx context.Context, m *framework.Member) error {
		cp, err := m.Client.RbacV1().ClusterRoles().Get(ctx, aggregated.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if len(cp.Rules) != 1 || len(cp.Rules[0].Resources) != 1 || cp.Rules[0].Resources[0] != "pods" {
			return fmt.Errorf("rules %+v, want the aggregated part's", cp.Rules)
		}
		return nil
	}
	for _, m := range sharedFed.Members {
		waitFor(t, kindWait, "the member aggregated the rules in "+m.Name, func(ctx context.Context) error {
			return aggregatedRules(ctx, m)
		})
	}
	// A later change to the federated role is written to the members; by
	// then the sync has compared the members' rules with its own, and the
	// rules must still be the members'.
	fed, err := sharedFed.Client.RbacV1().ClusterRoles().Get(ctx, aggregated.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fed.Labels = map[string]string{"kinds.example.com/stage": "updated"}
	if _, err := sharedFed.Client.RbacV1().ClusterRoles().Update(ctx, fed, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, m := range sharedFed.Members {
		waitFor(t, kindWait, "the label reached "+m.Name, func(ctx context.Context) error {
			cp, err := m.Client.RbacV1().ClusterRoles().Get(ctx, aggregated.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if cp.Labels["kinds.example.com/stage"] != "updated" {
				return fmt.Errorf("labels %v", cp.Labels)
			}
			return nil
		})
		if err := aggregatedRules(ctx, m); err != nil {
			t.Errorf("%s: after the sync wrote the role: %v", m.Name, err)
		}
	}
	waitFor(t, kindWait, "the propagation says Propagated everywhere", func(ctx context.Context) error {
		states, err := propagationStates(ctx, "federation-system", "clusterrole."+aggregated.Name)
		if err != nil {
			return err
		}
		for _, m := range sharedFed.Members {
			if s := states[m.Name]; s.State != "Propagated" {
				return fmt.Errorf("%s: %+v", m.Name, s)
			}
		}
		return nil
	})
}
