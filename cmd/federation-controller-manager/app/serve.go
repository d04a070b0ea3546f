package app

import (
	"context"
	"fmt"
	"net"
	"net/http"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/healthz"
	"k8s.io/apiserver/pkg/server/mux"
	"k8s.io/apiserver/pkg/server/routes"
	"k8s.io/component-base/metrics/legacyregistry"
	controllermanagerapp "k8s.io/controller-manager/app"
	netutils "k8s.io/utils/net"

	"github.com/kfederation/federation/cmd/federation-controller-manager/app/options"
)

// secureServing is the completed HTTPS endpoint: a bound listener, a
// serving certificate, and the authenticator and authorizer in front of
// everything but the health paths. It is made before the controllers start,
// so that a taken port or an unreadable certificate stops the process at
// once.
type secureServing struct {
	info      *genericapiserver.SecureServingInfo
	authn     genericapiserver.AuthenticationInfo
	authz     genericapiserver.AuthorizationInfo
	profiling bool
}

// newSecureServing binds --secure-port and builds the delegated
// authentication and authorization, as kube-controller-manager's Config
// does. It returns nil when --secure-port is 0.
func newSecureServing(o *options.Options) (*secureServing, error) {
	if o.SecureServing.BindPort == 0 && o.SecureServing.Listener == nil {
		return nil, nil
	}
	if err := o.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", nil, []net.IP{netutils.ParseIPSloppy("127.0.0.1")}); err != nil {
		return nil, fmt.Errorf("self-signed serving certificate: %w", err)
	}
	s := &secureServing{profiling: o.Profiling}
	if err := o.SecureServing.ApplyTo(&s.info); err != nil {
		return nil, fmt.Errorf("--secure-port=%d: %w", o.SecureServing.BindPort, err)
	}
	delegateToTheFederation(o)
	if err := o.Authentication.ApplyTo(&s.authn, s.info, nil); err != nil {
		return nil, fmt.Errorf("delegated authentication: %w", err)
	}
	if err := o.Authorization.ApplyTo(&s.authz); err != nil {
		return nil, fmt.Errorf("delegated authorization: %w", err)
	}
	return s, nil
}

// delegateToTheFederation makes the federation-apiserver (--kubeconfig) the
// server that reviews tokens and authorizes requests, unless
// --authentication-kubeconfig or --authorization-kubeconfig name another,
// as kube-controller-manager asks the kube-apiserver it works for. The
// federation-apiserver answers TokenReviews and SubjectAccessReviews with
// its own authentication and authorization, so who may read /metrics is
// decided as who may do anything in the federation.
func delegateToTheFederation(o *options.Options) {
	if o.Kubeconfig == "" {
		return // in-cluster: the cluster the controller manager runs in
	}
	if o.Authentication.RemoteKubeConfigFile == "" {
		o.Authentication.RemoteKubeConfigFile = o.Kubeconfig
	}
	if o.Authorization.RemoteKubeConfigFile == "" {
		o.Authorization.RemoteKubeConfigFile = o.Kubeconfig
	}
}

// handler serves the health paths (open to anyone, by
// --authorization-always-allow-paths), /metrics and, with --profiling,
// /debug/pprof, behind kube-controller-manager's authentication and
// authorization filters.
func (s *secureServing) handler(checks ...healthz.HealthChecker) http.Handler {
	m := mux.NewPathRecorderMux("federation-controller-manager")
	checks = append([]healthz.HealthChecker{healthz.PingHealthz}, checks...)
	healthz.InstallHandler(m, checks...)
	healthz.InstallLivezHandler(m, checks...)
	healthz.InstallReadyzHandler(m, checks...)
	m.Handle("/metrics", legacyregistry.Handler())
	if s.profiling {
		routes.Profiling{}.Install(m)
	}
	return controllermanagerapp.BuildHandlerChain(m, &s.authz, &s.authn)
}

// serve serves until ctx ends.
func (s *secureServing) serve(ctx context.Context, checks ...healthz.HealthChecker) error {
	if _, _, err := s.info.Serve(s.handler(checks...), 0, ctx.Done()); err != nil {
		return fmt.Errorf("serve on %s: %w", s.info.Listener.Addr(), err)
	}
	return nil
}
