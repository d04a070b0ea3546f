package clusterclient

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
)

// Keys of a cluster credential Secret: either a whole kubeconfig, or a
// bearer token with the CA that signed the member's serving certificate.
const (
	SecretKubeconfigKey = "kubeconfig"
	SecretTokenKey      = "token"
	SecretCAKey         = "ca.crt"
)

// ErrCredentials marks problems with a cluster's credential Secret, so that
// the cluster controller can report them as such.
var ErrCredentials = errors.New("invalid cluster credentials")

// ServerAddress is the URL controllers reach the member's API server at:
// its preferred address (federationv1beta1.PreferredServerAddress), https
// unless it names a scheme.
func ServerAddress(c *federationv1beta1.Cluster) (string, error) {
	addr := federationv1beta1.PreferredServerAddress(c.Spec.ServerAddressByClientCIDRs)
	if addr == "" {
		return "", fmt.Errorf("cluster %s has no spec.serverAddressByClientCIDRs", c.Name)
	}
	if !strings.Contains(addr, "://") {
		addr = "https://" + addr
	}
	if _, err := url.Parse(addr); err != nil {
		return "", fmt.Errorf("cluster %s: server address %q: %w", c.Name, addr, err)
	}
	return addr, nil
}

// RESTConfig builds the client config of a member from its Cluster and
// credential Secret. The Cluster's server address wins over a kubeconfig's,
// so that admins can move a member by editing the Cluster alone. It sets
// no client timeout, which would cut watches: callers bound each request
// with a context.
func RESTConfig(c *federationv1beta1.Cluster, secret *corev1.Secret) (*rest.Config, error) {
	server, err := ServerAddress(c)
	if err != nil {
		return nil, err
	}
	var cfg *rest.Config
	switch {
	case len(secret.Data[SecretKubeconfigKey]) > 0:
		cfg, err = clientcmd.RESTConfigFromKubeConfig(secret.Data[SecretKubeconfigKey])
		if err != nil {
			return nil, fmt.Errorf("%w: secret %s/%s key %q is not a usable kubeconfig: %v", ErrCredentials, secret.Namespace, secret.Name, SecretKubeconfigKey, err)
		}
	case len(secret.Data[SecretTokenKey]) > 0:
		cfg = &rest.Config{BearerToken: strings.TrimSpace(string(secret.Data[SecretTokenKey]))}
		if ca := secret.Data[SecretCAKey]; len(ca) > 0 {
			cfg.CAData = ca
		}
	default:
		return nil, fmt.Errorf("%w: secret %s/%s has neither a %q nor a %q key", ErrCredentials, secret.Namespace, secret.Name, SecretKubeconfigKey, SecretTokenKey)
	}
	cfg.Host = server
	return cfg, nil
}
