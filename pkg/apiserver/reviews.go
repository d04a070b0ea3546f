package apiserver

import (
	"context"
	"fmt"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/kubernetes/pkg/registry/authentication/selfsubjectreview"
	"k8s.io/kubernetes/pkg/registry/authentication/tokenreview"
	"k8s.io/kubernetes/pkg/registry/authorization/localsubjectaccessreview"
	"k8s.io/kubernetes/pkg/registry/authorization/selfsubjectaccessreview"
	"k8s.io/kubernetes/pkg/registry/authorization/selfsubjectrulesreview"
	"k8s.io/kubernetes/pkg/registry/authorization/subjectaccessreview"

	// The review kinds' internal types, registered as kube-apiserver
	// registers them.
	_ "k8s.io/kubernetes/pkg/apis/authentication/install"
	_ "k8s.io/kubernetes/pkg/apis/authorization/install"
)

// reviewGroups serve the review resources of authentication.k8s.io and
// authorization.k8s.io with kube-apiserver's own storage, answered by this
// server's authenticator and authorizer: `kubectl auth can-i` and `kubectl
// auth whoami` work against the federation, and a component that
// delegates its authentication and authorization (the controller
// manager's --authentication-kubeconfig) can ask the federation itself.
func reviewGroups(c genericapiserver.CompletedConfig) ([]*genericapiserver.APIGroupInfo, error) {
	authn, authz := c.Authentication.Authenticator, c.Authorization.Authorizer
	if authn == nil || authz == nil {
		return nil, fmt.Errorf("the review APIs need the server's authenticator and authorizer")
	}
	rules := c.RuleResolver
	if rules == nil {
		rules = unknownRules{}
	}
	authentication := newGroupInfo(authenticationv1.GroupName)
	authentication.VersionedResourcesStorageMap["v1"] = map[string]rest.Storage{
		"tokenreviews":       tokenreview.NewREST(authn, c.Authentication.APIAudiences),
		"selfsubjectreviews": selfsubjectreview.NewREST(),
	}
	authorization := newGroupInfo(authorizationv1.GroupName)
	authorization.VersionedResourcesStorageMap["v1"] = map[string]rest.Storage{
		"subjectaccessreviews":      subjectaccessreview.NewREST(authz),
		"selfsubjectaccessreviews":  selfsubjectaccessreview.NewREST(authz),
		"localsubjectaccessreviews": localsubjectaccessreview.NewREST(authz),
		"selfsubjectrulesreviews":   selfsubjectrulesreview.NewREST(rules),
	}
	return []*genericapiserver.APIGroupInfo{authentication, authorization}, nil
}

// unknownRules answers a rules review when the authorizer cannot list what
// it allows (a webhook to the host cluster): no rules, and "incomplete",
// as kube-apiserver answers for its own webhook authorizer; kubectl auth
// can-i --list then says the list may be incomplete.
type unknownRules struct{}

func (unknownRules) RulesFor(context.Context, user.Info, string) ([]authorizer.ResourceRuleInfo, []authorizer.NonResourceRuleInfo, bool, error) {
	return nil, nil, true, nil
}
