package options

import (
	"fmt"
	"net/http"
	"os"

	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/spf13/pflag"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/group"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/authentication/request/union"
	"k8s.io/apiserver/pkg/authentication/token/tokenfile"
	"k8s.io/apiserver/pkg/authentication/user"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	openapicommon "k8s.io/kube-openapi/pkg/common"

	"github.com/kfederation/federation/pkg/clientcertcache"
)

// AuthenticationOptions are the ways a request can prove who sent it: x509
// client certificates (--client-ca-file), bearer tokens from a file
// (--token-auth-file), a front proxy's request headers (--requestheader-*),
// and TokenReview delegated to a host cluster (--authentication-kubeconfig).
// Anonymous requests get 401 unless --anonymous-auth is set.
type AuthenticationOptions struct {
	Delegating    *genericoptions.DelegatingAuthenticationOptions
	TokenAuthFile string
	Anonymous     bool
}

// NewAuthenticationOptions returns the defaults: no anonymous access.
func NewAuthenticationOptions() *AuthenticationOptions {
	d := genericoptions.NewDelegatingAuthenticationOptions()
	d.RemoteKubeConfigFileOptional = true
	return &AuthenticationOptions{Delegating: d}
}

// AddFlags adds the flags, named as kube-apiserver names them.
func (o *AuthenticationOptions) AddFlags(fs *pflag.FlagSet) {
	o.Delegating.AddFlags(fs)
	fs.StringVar(&o.TokenAuthFile, "token-auth-file", o.TokenAuthFile,
		"If set, the file that will be used to secure the secure port of the API server via token authentication. "+
			"A CSV file of token,user,uid[,\"group1,group2\"], as kube-apiserver reads it.")
	fs.BoolVar(&o.Anonymous, "anonymous-auth", o.Anonymous,
		"Enables anonymous requests to the secure port. Requests that are not rejected by another authentication method "+
			"are then treated as user system:anonymous. Off by default: unauthenticated requests get 401.")
}

// Validate checks the flags.
func (o *AuthenticationOptions) Validate() []error {
	errs := o.Delegating.Validate()
	if o.TokenAuthFile != "" {
		if _, err := os.Stat(o.TokenAuthFile); err != nil {
			errs = append(errs, fmt.Errorf("--token-auth-file: %w", err))
		}
	}
	return errs
}

// ApplyTo builds the request authenticator.
func (o *AuthenticationOptions) ApplyTo(info *genericapiserver.AuthenticationInfo, serving *genericapiserver.SecureServingInfo, openAPIConfig *openapicommon.Config) error {
	if o.Delegating.RemoteKubeConfigFile == "" {
		// Without a host cluster there is no configmap to look the client CAs up in.
		o.Delegating.SkipInClusterLookup = true
	}
	if err := o.Delegating.ApplyTo(info, serving, openAPIConfig); err != nil {
		return err
	}
	authenticators := []authenticator.Request{}
	if o.TokenAuthFile != "" {
		tokens, err := tokenfile.NewCSV(o.TokenAuthFile)
		if err != nil {
			return fmt.Errorf("--token-auth-file %s: %w", o.TokenAuthFile, err)
		}
		authenticators = append(authenticators, group.NewAuthenticatedGroupAdder(bearertoken.New(tokens)))
	}
	authenticators = append(authenticators, delegatedWithCachedCerts(info))
	a := union.New(authenticators...)
	if !o.Anonymous {
		a = withoutAnonymous(a)
	}
	info.Authenticator = a
	return nil
}

// delegatedWithCachedCerts is the delegating authenticator, remembering
// for clientcertcache.DefaultTTL who each client certificate chain is,
// unless a front proxy's request headers are honoured: then a chain alone
// does not say who a request is from.
func delegatedWithCachedCerts(info *genericapiserver.AuthenticationInfo) authenticator.Request {
	if info.RequestHeaderConfig != nil {
		return info.Authenticator
	}
	return clientcertcache.New(info.Authenticator, clientcertcache.DefaultTTL)
}

// healthPaths may be probed anonymously even when --anonymous-auth is off,
// as kube-apiserver's anonymous conditions allow, so that a kubelet can probe
// the server without credentials.
var healthPaths = sets.New("/healthz", "/livez", "/readyz")

// withoutAnonymous turns the delegating authenticator's built-in anonymous
// fallback into "not authenticated", so that such requests get 401.
func withoutAnonymous(a authenticator.Request) authenticator.Request {
	return authenticator.RequestFunc(func(req *http.Request) (*authenticator.Response, bool, error) {
		resp, ok, err := a.AuthenticateRequest(req)
		if ok && resp != nil && resp.User != nil && resp.User.GetName() == user.Anonymous && !healthPaths.Has(req.URL.Path) {
			return nil, false, err
		}
		return resp, ok, err
	})
}
