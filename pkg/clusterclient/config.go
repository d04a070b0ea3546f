package clusterclient

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"

	"github.com/kfederation/federation/pkg/apis/federation/annotations"
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

// RefusedError is the error of a credential Secret whose kubeconfig asks for
// something other than inline credentials: running a command, reading a
// file, another identity, another route, or no TLS verification. Whoever can
// write a Secret in federation-system must not be able to make the
// controller manager do any of that on its own machine. It wraps
// ErrCredentials.
//
// Its text names the Secret key and the field's path in the kubeconfig,
// never a value, so that it can go to status, events and logs as it is.
type RefusedError struct {
	// Key is the Secret's key holding the kubeconfig.
	Key string
	// Field is the path of the refused field in the kubeconfig, as in
	// kubectl's jsonpath, e.g. users[0].user.exec.
	Field string
	// Why says why the field is refused and what to use instead.
	Why string
}

// Error names the Secret key and the field, and says why it is refused.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s in Secret key %q is refused: %s", e.Field, e.Key, e.Why)
}

// Unwrap makes a RefusedError an ErrCredentials.
func (e *RefusedError) Unwrap() error { return ErrCredentials }

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

// InsecureSkipTLSVerify reports whether the Cluster turns off verification
// of its member's serving certificate, with the annotation
// annotations.InsecureSkipTLSVerify set to "true".
func InsecureSkipTLSVerify(c *federationv1beta1.Cluster) (bool, error) {
	v, ok := c.Annotations[annotations.InsecureSkipTLSVerify]
	if !ok {
		return false, nil
	}
	skip, err := annotations.ParseInsecureSkipTLSVerify(v)
	if err != nil {
		return false, fmt.Errorf("cluster %s: annotation %s: %w", c.Name, annotations.InsecureSkipTLSVerify, err)
	}
	return skip, nil
}

// RESTConfig builds the client config of a member from its Cluster and
// credential Secret. The Cluster's server address wins over a kubeconfig's,
// so that admins can move a member by editing the Cluster alone. It sets
// no client timeout, which would cut watches: callers bound each request
// with a context.
//
// Only inline credentials are used: a bearer token, a client certificate
// and key, a CA, and a TLS server name; see kubeconfigRESTConfig for what
// is refused. TLS verification is skipped if and only if the Cluster says
// so (InsecureSkipTLSVerify), and then the Secret's CA is not used.
//
// Errors about the Secret wrap ErrCredentials and quote no byte of it;
// errors about the Cluster quote its spec and annotations only.
func RESTConfig(c *federationv1beta1.Cluster, secret *corev1.Secret) (*rest.Config, error) {
	server, err := ServerAddress(c)
	if err != nil {
		return nil, err
	}
	insecure, err := InsecureSkipTLSVerify(c)
	if err != nil {
		return nil, err
	}
	var cfg *rest.Config
	switch {
	case len(secret.Data[SecretKubeconfigKey]) > 0:
		cfg, err = kubeconfigRESTConfig(secret.Data[SecretKubeconfigKey], insecure)
		if err != nil {
			return nil, fmt.Errorf("secret %s/%s: %w", secret.Namespace, secret.Name, err)
		}
	case len(secret.Data[SecretTokenKey]) > 0:
		cfg = &rest.Config{BearerToken: strings.TrimSpace(string(secret.Data[SecretTokenKey]))}
		if ca := secret.Data[SecretCAKey]; len(ca) > 0 {
			cfg.CAData = ca
		}
	default:
		return nil, fmt.Errorf("%w: secret %s/%s has neither a %q nor a %q key", ErrCredentials, secret.Namespace, secret.Name, SecretKubeconfigKey, SecretTokenKey)
	}
	if insecure {
		// client-go refuses a CA together with Insecure.
		cfg.Insecure, cfg.CAData = true, nil
	}
	cfg.Host = server
	return cfg, nil
}

// kubeconfigRESTConfig builds a client config from the current context of
// a kubeconfig, from inline fields only. It never runs a command, reads a
// file or resolves a path: it refuses, with a *RefusedError naming the
// field,
//
//   - user exec and auth-provider, which run a command or read files,
//   - user tokenFile, client-certificate and client-key, and cluster
//     certificate-authority, which are file paths,
//   - user username and password: basic authentication left
//     kube-apiserver in 1.19, and a password kept to be sent on every
//     request serves no member,
//   - user as, as-uid, as-groups and as-user-extra: the federation acts on
//     a member as the identity its credentials prove, which is what the
//     member's RBAC and audit log are written for,
//   - cluster proxy-url: the Cluster alone decides where member traffic
//     goes, as it does for the server address,
//   - cluster insecure-skip-tls-verify, unless insecure says the Cluster
//     allows it.
//
// Any other field is ignored: server (the Cluster's address wins),
// extensions, the context's namespace, and the other contexts, clusters and
// users. A user with no token and no client certificate is refused too, as
// anonymous requests cannot do the federation's work. Only fields known
// when this was written are honoured, so a field added to kubeconfigs
// later is ignored until it is added here; TestKubeconfigFieldsKnown fails
// when client-go adds one.
func kubeconfigRESTConfig(data []byte, insecure bool) (*rest.Config, error) {
	invalid := func(why string) error {
		return fmt.Errorf("%w: key %q is not a usable kubeconfig: %s", ErrCredentials, SecretKubeconfigKey, why)
	}
	// Load parses only, resolving no path; its errors can quote the bytes
	// that failed to parse, so they are dropped.
	kc, err := clientcmd.Load(data)
	if err != nil {
		return nil, invalid("it does not parse as a kubeconfig")
	}
	if kc.CurrentContext == "" {
		return nil, invalid("it has no current-context")
	}
	kctx, ok := kc.Contexts[kc.CurrentContext]
	if !ok {
		return nil, invalid("its current-context names no context")
	}
	cluster, ok := kc.Clusters[kctx.Cluster]
	if !ok {
		return nil, invalid("the current context's cluster is not in clusters")
	}
	user, ok := kc.AuthInfos[kctx.AuthInfo]
	if !ok {
		return nil, invalid("the current context's user is not in users")
	}
	clusterPath, userPath := entryPaths(data, kctx.Cluster, kctx.AuthInfo)
	if f, why := refusedUserField(user); f != "" {
		return nil, &RefusedError{Key: SecretKubeconfigKey, Field: userPath + "." + f, Why: why}
	}
	if f, why := refusedClusterField(cluster, insecure); f != "" {
		return nil, &RefusedError{Key: SecretKubeconfigKey, Field: clusterPath + "." + f, Why: why}
	}
	hasCert, hasKey := len(user.ClientCertificateData) > 0, len(user.ClientKeyData) > 0
	switch {
	case hasCert && !hasKey:
		return nil, invalid(userPath + " has client-certificate-data but no client-key-data")
	case hasKey && !hasCert:
		return nil, invalid(userPath + " has client-key-data but no client-certificate-data")
	case !hasCert && user.Token == "":
		return nil, invalid(userPath + " has neither a token nor client-certificate-data and client-key-data")
	}
	return &rest.Config{
		BearerToken:        user.Token,
		DisableCompression: cluster.DisableCompression,
		TLSClientConfig: rest.TLSClientConfig{
			CertData:   user.ClientCertificateData,
			KeyData:    user.ClientKeyData,
			CAData:     cluster.CertificateAuthorityData,
			ServerName: cluster.TLSServerName,
		},
	}, nil
}

// refusedUserField returns the first field of user that is refused, by its
// name in a kubeconfig, and why; or "" if there is none.
func refusedUserField(u *clientcmdapi.AuthInfo) (field, why string) {
	const (
		runs  = "it would make the controller manager run a command or read files; put a token, or client-certificate-data and client-key-data, in the kubeconfig instead"
		reads = "it is a file path, which the controller manager does not read; put the content inline in the %s field instead"
		basic = "basic authentication is not accepted (kube-apiserver removed it in 1.19); use a token or a client certificate"
		imp   = "impersonation is not accepted; give the credentials' own identity the member RBAC the federation needs"
	)
	switch {
	case u.Exec != nil:
		return "exec", runs
	case u.AuthProvider != nil:
		return "auth-provider", runs
	case u.TokenFile != "":
		return "tokenFile", fmt.Sprintf(reads, "token")
	case u.ClientCertificate != "":
		return "client-certificate", fmt.Sprintf(reads, "client-certificate-data")
	case u.ClientKey != "":
		return "client-key", fmt.Sprintf(reads, "client-key-data")
	case u.Username != "":
		return "username", basic
	case u.Password != "":
		return "password", basic
	case u.Impersonate != "":
		return "as", imp
	case u.ImpersonateUID != "":
		return "as-uid", imp
	case len(u.ImpersonateGroups) > 0:
		return "as-groups", imp
	case len(u.ImpersonateUserExtra) > 0:
		return "as-user-extra", imp
	}
	return "", ""
}

// refusedClusterField returns the first field of c that is refused, by its
// name in a kubeconfig, and why; or "" if there is none. insecure says
// whether the Cluster turns TLS verification off.
func refusedClusterField(c *clientcmdapi.Cluster, insecure bool) (field, why string) {
	switch {
	case c.CertificateAuthority != "":
		return "certificate-authority", "it is a file path, which the controller manager does not read; put the content inline in the certificate-authority-data field instead"
	case c.ProxyURL != "":
		return "proxy-url", "the Cluster alone says how its member is reached; remove it (the controller manager's HTTPS_PROXY and NO_PROXY environment still apply)"
	case c.InsecureSkipTLSVerify && !insecure:
		return "insecure-skip-tls-verify", fmt.Sprintf("a Secret cannot turn off verification of the member's serving certificate; put the member's CA in certificate-authority-data, or annotate the Cluster %s=true", annotations.InsecureSkipTLSVerify)
	}
	return "", ""
}

// entryPaths returns the paths, as in kubectl's jsonpath, of the named
// cluster and user in a kubeconfig that clientcmd.Load has parsed already,
// e.g. clusters[0].cluster and users[1].user. Load keeps the entries in maps
// and refuses duplicate names, so the index is looked up in a second,
// names-only parse.
func entryPaths(data []byte, clusterName, userName string) (clusterPath, userPath string) {
	var names struct {
		Clusters []struct {
			Name string `json:"name"`
		} `json:"clusters"`
		Users []struct {
			Name string `json:"name"`
		} `json:"users"`
	}
	_ = yaml.Unmarshal(data, &names)
	clusterPath, userPath = "clusters[?].cluster", "users[?].user"
	for i, c := range names.Clusters {
		if c.Name == clusterName {
			clusterPath = fmt.Sprintf("clusters[%d].cluster", i)
			break
		}
	}
	for i, u := range names.Users {
		if u.Name == userName {
			userPath = fmt.Sprintf("users[%d].user", i)
			break
		}
	}
	return clusterPath, userPath
}
