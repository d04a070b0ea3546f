package join

import (
	"sort"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kfederation/federation/pkg/federatedtypes"
)

// Labels kubefed join puts on what it creates, so that unjoin removes only
// that, and a second join recognises its own leftovers.
const (
	// JoinedByLabel marks the member objects join created for a federation
	// (the ServiceAccount, its token Secret, the ClusterRole and binding,
	// and the namespace if join created it), with the federation's name as
	// value. It is not the managed-by label on purpose: the sync controllers
	// own every member object carrying that one.
	JoinedByLabel = "federation.k8s.io/joined-by"
	// ClusterLabel marks the credential Secret in the federation with the
	// name of the cluster it belongs to.
	ClusterLabel = "federation.k8s.io/cluster"
)

// DefaultFederationName is the federation-controller-manager's default
// --federation-name.
const DefaultFederationName = "federation"

// MemberObjects are the names of what join creates in a member cluster.
type MemberObjects struct {
	Namespace          string
	ServiceAccount     string
	TokenSecret        string
	ClusterRole        string
	ClusterRoleBinding string
}

// MemberObjectNames are the member objects of the federation called
// federationName. They are named after the federation, so that two
// federations can share a member: with the default name that is
// "federation-controller-manager".
func MemberObjectNames(federationName, namespace string) MemberObjects {
	name := federationName + "-controller-manager"
	return MemberObjects{
		Namespace:          namespace,
		ServiceAccount:     name,
		TokenSecret:        name + "-token",
		ClusterRole:        name,
		ClusterRoleBinding: name,
	}
}

// syncVerbs are what a sync controller does to member copies.
var syncVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete"}

// readVerbs are what the controllers need on member objects they only look
// at: nodes for zones and regions, pods for capacity, EndpointSlices for
// whether a federated Service has ready endpoints (Service DNS).
var readVerbs = []string{"get", "list", "watch"}

// HealthPaths are the member API server's health endpoints the cluster
// controller probes.
var HealthPaths = []string{"/healthz", "/livez", "/readyz"}

// MemberRules are the permissions of the federation in a member: the sync
// verbs on every federated kind (taken from the adapter table, so a new
// kind is covered where it is added), binding and escalating roles (RBAC
// objects are propagated too), reading nodes, pods and
// EndpointSlices, and the health endpoints. Nothing is granted with a wildcard, so that the
// federation's credentials cannot be used for anything else in the member.
func MemberRules() []rbacv1.PolicyRule {
	byGroup := map[string][]string{}
	for _, a := range federatedtypes.All() {
		byGroup[a.GVR.Group] = append(byGroup[a.GVR.Group], a.GVR.Resource)
	}
	groups := make([]string, 0, len(byGroup))
	for g := range byGroup {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	rules := make([]rbacv1.PolicyRule, 0, len(groups)+2)
	for _, g := range groups {
		resources := byGroup[g]
		sort.Strings(resources)
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: resources, Verbs: syncVerbs})
	}
	return append(rules,
		// RBAC objects are propagated as written: a role may hold rights
		// the federation's own role lacks (escalate), and a binding may
		// name any role (bind), cluster-admin included. Whoever may write
		// RBAC objects through the federation is thereby an administrator
		// of every member (docs/user-guide.md, "RBAC objects").
		rbacv1.PolicyRule{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles", "roles"}, Verbs: []string{"bind", "escalate"}},
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"nodes", "pods"}, Verbs: readVerbs},
		rbacv1.PolicyRule{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: readVerbs},
		rbacv1.PolicyRule{NonResourceURLs: HealthPaths, Verbs: []string{"get"}},
	)
}
