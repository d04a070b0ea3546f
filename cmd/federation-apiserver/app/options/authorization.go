package options

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/authorization/path"
	"k8s.io/apiserver/pkg/authorization/union"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
)

// Authorization modes, named as kube-apiserver names them.
const (
	ModeAlwaysAllow = "AlwaysAllow"
	ModeAlwaysDeny  = "AlwaysDeny"
	ModeWebhook     = "Webhook"
)

var authorizationModes = []string{ModeAlwaysAllow, ModeAlwaysDeny, ModeWebhook}

// AuthorizationOptions decide who may do what. system:masters may always do
// everything and /healthz, /livez and /readyz are always open; beyond that,
// the modes are asked in order. Webhook delegates to a host cluster's
// SubjectAccessReview (--authorization-kubeconfig); without a host cluster
// it denies, so the server is never open by default.
type AuthorizationOptions struct {
	Modes      []string
	Delegating *genericoptions.DelegatingAuthorizationOptions
}

// NewAuthorizationOptions returns the defaults: Webhook.
func NewAuthorizationOptions() *AuthorizationOptions {
	d := genericoptions.NewDelegatingAuthorizationOptions()
	d.RemoteKubeConfigFileOptional = true
	return &AuthorizationOptions{Modes: []string{ModeWebhook}, Delegating: d}
}

// AddFlags adds the flags.
func (o *AuthorizationOptions) AddFlags(fs *pflag.FlagSet) {
	o.Delegating.AddFlags(fs)
	fs.StringSliceVar(&o.Modes, "authorization-mode", o.Modes,
		"Ordered list of plug-ins to do authorization on secure port, after system:masters. Comma-delimited list of: "+
			strings.Join(authorizationModes, ",")+". Webhook asks the host cluster named by --authorization-kubeconfig.")
}

// Validate checks the flags.
func (o *AuthorizationOptions) Validate() []error {
	errs := o.Delegating.Validate()
	if len(o.Modes) == 0 {
		errs = append(errs, fmt.Errorf("--authorization-mode may not be empty; use one of %s", strings.Join(authorizationModes, ",")))
	}
	for _, m := range o.Modes {
		if !slices.Contains(authorizationModes, m) {
			errs = append(errs, fmt.Errorf("--authorization-mode: unknown mode %q; use any of %s", m, strings.Join(authorizationModes, ",")))
		}
	}
	return errs
}

// ApplyTo builds the authorizer.
func (o *AuthorizationOptions) ApplyTo(info *genericapiserver.AuthorizationInfo) error {
	var authorizers []authorizer.Authorizer
	for _, m := range o.Modes {
		switch m {
		case ModeAlwaysAllow:
			authorizers = append(authorizers, authorizerfactory.NewAlwaysAllowAuthorizer())
		case ModeAlwaysDeny:
			authorizers = append(authorizers, authorizerfactory.NewAlwaysDenyAuthorizer())
		case ModeWebhook:
			// The delegating authorizer also allows system:masters and the
			// health paths before it asks the host cluster.
			var delegated genericapiserver.AuthorizationInfo
			if err := o.Delegating.ApplyTo(&delegated); err != nil {
				return fmt.Errorf("--authorization-mode=Webhook: %w", err)
			}
			authorizers = append(authorizers, delegated.Authorizer)
		}
	}
	if !slices.Contains(o.Modes, ModeWebhook) {
		// Without Webhook, nothing else allows what the delegating
		// authorizer allows before it asks: system:masters, and the health
		// paths (--authorization-always-allow-paths), which probes must
		// reach even under AlwaysDeny.
		paths, err := path.NewAuthorizer(o.Delegating.AlwaysAllowPaths)
		if err != nil {
			return fmt.Errorf("--authorization-always-allow-paths: %w", err)
		}
		authorizers = append([]authorizer.Authorizer{authorizerfactory.NewPrivilegedGroups("system:masters"), paths}, authorizers...)
	}
	info.Authorizer = union.New(authorizers...)
	return nil
}
