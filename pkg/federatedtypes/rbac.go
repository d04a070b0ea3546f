package federatedtypes

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The kinds an add-on is rolled out with: a ServiceAccount, the roles it
// gets and the bindings that give them. In the federation they are
// templates for the members: the federation's own authorization never
// reads them, so binding someone to cluster-admin here grants nothing in
// the federation and cluster-admin in every selected member.

var rbacGroup = "rbac.authorization.k8s.io"

// ServiceAccount propagates ServiceAccounts. Each member issues the
// tokens itself; the Secrets and image pull Secrets an account names go as
// written (the Secrets themselves are propagated on their own, except
// service account tokens).
func ServiceAccount() *Adapter {
	return &Adapter{
		Name:       "serviceaccount",
		GVR:        schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"},
		Kind:       "ServiceAccount",
		Namespaced: true,
		Fields:     []string{"secrets", "imagePullSecrets", "automountServiceAccountToken"},
		Skip:       inFederationSystem,
	}
}

// ClusterRole propagates ClusterRoles. A role with an aggregationRule has
// its rules filled in by each member's aggregation controller, from that
// member's own roles: those rules are the member's, kept rather than
// reverted.
func ClusterRole() *Adapter {
	return &Adapter{
		Name:       "clusterrole",
		GVR:        schema.GroupVersionResource{Group: rbacGroup, Version: "v1", Resource: "clusterroles"},
		Kind:       "ClusterRole",
		Namespaced: false,
		Fields:     []string{"rules", "aggregationRule"},
		Retain:     retainAggregatedRules,
	}
}

func retainAggregatedRules(desired, member *unstructured.Unstructured) {
	if _, aggregated := desired.Object["aggregationRule"]; !aggregated {
		return
	}
	if rules, ok := member.Object["rules"]; ok {
		desired.Object["rules"] = rules
	} else {
		delete(desired.Object, "rules")
	}
}

// ClusterRoleBinding propagates ClusterRoleBindings. The role a binding
// names is looked up in each member: a stock role (cluster-admin, view)
// is the member's own.
func ClusterRoleBinding() *Adapter {
	return &Adapter{
		Name:       "clusterrolebinding",
		GVR:        schema.GroupVersionResource{Group: rbacGroup, Version: "v1", Resource: "clusterrolebindings"},
		Kind:       "ClusterRoleBinding",
		Namespaced: false,
		Fields:     []string{"subjects", "roleRef"},
	}
}

// Role propagates Roles.
func Role() *Adapter {
	return &Adapter{
		Name:       "role",
		GVR:        schema.GroupVersionResource{Group: rbacGroup, Version: "v1", Resource: "roles"},
		Kind:       "Role",
		Namespaced: true,
		Fields:     []string{"rules"},
		Skip:       inFederationSystem,
	}
}

// RoleBinding propagates RoleBindings.
func RoleBinding() *Adapter {
	return &Adapter{
		Name:       "rolebinding",
		GVR:        schema.GroupVersionResource{Group: rbacGroup, Version: "v1", Resource: "rolebindings"},
		Kind:       "RoleBinding",
		Namespaced: true,
		Fields:     []string{"subjects", "roleRef"},
		Skip:       inFederationSystem,
	}
}
