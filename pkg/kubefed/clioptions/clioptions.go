// Package clioptions holds what every kubefed command shares: its output
// streams, the root command's global flags, and kubeconfig contexts loaded
// with errors that name the contexts that do exist.
package clioptions

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// IOStreams are where a command reads and writes, so that tests can
// capture them. Out gets progress and results, ErrOut warnings.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// Names of the global flags, which every command reads through the root's
// persistent flags.
const (
	FlagKubeconfig     = "kubeconfig"
	FlagRequestTimeout = "request-timeout"
)

// DefaultRequestTimeout bounds one request to a cluster. It is short so that
// an unreachable cluster is reported in seconds, not after the minutes a
// TCP connect can take.
const DefaultRequestTimeout = 10 * time.Second

// GlobalFlags are the flags of the root command.
type GlobalFlags struct {
	// Kubeconfig is an explicit kubeconfig file; empty means $KUBECONFIG,
	// then ~/.kube/config, as kubectl does.
	Kubeconfig string
	// RequestTimeout bounds each request to a cluster.
	RequestTimeout time.Duration
}

// AddFlags adds the global flags to fs.
func (g *GlobalFlags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&g.Kubeconfig, FlagKubeconfig, g.Kubeconfig, "Path to the kubeconfig file with the contexts of the federation and its clusters. Defaults to $KUBECONFIG, then ~/.kube/config.")
	fs.DurationVar(&g.RequestTimeout, FlagRequestTimeout, DefaultRequestTimeout, "How long one request to a cluster may take before the cluster counts as unreachable.")
}

// GlobalFromCommand returns the global flags as parsed for cmd. A command
// run without the root (as in tests) gets the defaults.
func GlobalFromCommand(cmd *cobra.Command) GlobalFlags {
	g := GlobalFlags{RequestTimeout: DefaultRequestTimeout}
	if f := cmd.Flags().Lookup(FlagKubeconfig); f != nil {
		g.Kubeconfig = f.Value.String()
	}
	if f := cmd.Flags().Lookup(FlagRequestTimeout); f != nil {
		if d, err := time.ParseDuration(f.Value.String()); err == nil && d > 0 {
			g.RequestTimeout = d
		}
	}
	return g
}

// Kubeconfig is a loaded kubeconfig: the merge of every file kubectl would
// read.
type Kubeconfig struct {
	// Raw is the merged config, with file paths made absolute.
	Raw *clientcmdapi.Config
	// RequestTimeout is set on every client config built from it.
	RequestTimeout time.Duration

	rules *clientcmd.ClientConfigLoadingRules
}

// LoadKubeconfig loads the kubeconfig as kubectl does: path if given, else
// $KUBECONFIG, else ~/.kube/config. A missing default file is an empty
// config, so that the context lookup can say what is missing.
func LoadKubeconfig(path string, requestTimeout time.Duration) (*Kubeconfig, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	raw, err := rules.Load()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s: %w; fix the file or point --kubeconfig at another", strings.Join(rules.GetLoadingPrecedence(), ":"), err)
	}
	return &Kubeconfig{Raw: raw, RequestTimeout: requestTimeout, rules: rules}, nil
}

// NewKubeconfig wraps a config built in memory (tests).
func NewKubeconfig(raw *clientcmdapi.Config, requestTimeout time.Duration) *Kubeconfig {
	return &Kubeconfig{Raw: raw, RequestTimeout: requestTimeout, rules: &clientcmd.ClientConfigLoadingRules{}}
}

// Source names the files the kubeconfig was read from, for messages.
func (k *Kubeconfig) Source() string {
	if k.rules == nil {
		return "kubeconfig"
	}
	if k.rules.ExplicitPath != "" {
		return k.rules.ExplicitPath
	}
	if files := k.rules.GetLoadingPrecedence(); len(files) > 0 {
		return strings.Join(files, string(os.PathListSeparator))
	}
	return "kubeconfig"
}

// ContextNames are the kubeconfig's contexts, sorted.
func (k *Kubeconfig) ContextNames() []string {
	names := make([]string, 0, len(k.Raw.Contexts))
	for n := range k.Raw.Contexts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// CheckContext says what is wrong with the context that flag names: unset,
// or unknown, listing the contexts there are.
func (k *Kubeconfig) CheckContext(flag, name string) error {
	available := "it has no contexts at all"
	if names := k.ContextNames(); len(names) > 0 {
		available = "the contexts there are: " + strings.Join(names, ", ")
	}
	if name == "" {
		return fmt.Errorf("--%s is required; %s (from %s)", flag, available, k.Source())
	}
	if _, ok := k.Raw.Contexts[name]; !ok {
		return fmt.Errorf("--%s=%s: no context %q in %s; %s", flag, name, name, k.Source(), available)
	}
	return nil
}

// RESTConfig is the client config of a context, with the request timeout.
func (k *Kubeconfig) RESTConfig(contextName string) (*rest.Config, error) {
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*k.Raw, contextName, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("context %q in %s: %w", contextName, k.Source(), err)
	}
	cfg.Timeout = k.RequestTimeout
	return cfg, nil
}

// CAData returns the CA bundle a context trusts for its server, read from
// the file if the kubeconfig names one; nil if it trusts the system roots.
func (k *Kubeconfig) CAData(contextName string) ([]byte, error) {
	cfg, err := k.RESTConfig(contextName)
	if err != nil {
		return nil, err
	}
	if len(cfg.CAData) > 0 {
		return cfg.CAData, nil
	}
	if cfg.CAFile != "" {
		data, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("context %q: read certificate-authority %s: %w", contextName, cfg.CAFile, err)
		}
		return data, nil
	}
	return nil, nil
}

// PathOptions says where kubefed writes a new context: the --kubeconfig
// file, else the first $KUBECONFIG file, else ~/.kube/config, as kubectl
// config set-context does.
func (k *Kubeconfig) PathOptions() *clientcmd.PathOptions {
	po := clientcmd.NewDefaultPathOptions()
	if k.rules != nil {
		po.LoadingRules.ExplicitPath = k.rules.ExplicitPath
	}
	return po
}

// Unreachable says whether err means the server did not answer at all:
// refused, reset, timed out or not resolvable, as opposed to answering
// with an error or with a certificate the client does not trust.
func Unreachable(err error) bool {
	if err == nil || CertificateProblem(err) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return true
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.As(err, &opErr) || errors.As(err, &dnsErr) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	// client-go flattens some of these into strings.
	msg := err.Error()
	for _, s := range []string{"connection refused", "i/o timeout", "Client.Timeout exceeded", "no such host", "context deadline exceeded"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// CertificateProblem says whether err is the client refusing the server's
// certificate: the server is there, but the kubeconfig's CA (or the
// server's name in the certificate) is wrong.
func CertificateProblem(err error) bool {
	if err == nil {
		return false
	}
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	if errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify) {
		return true
	}
	return strings.Contains(err.Error(), "x509: ")
}

// Target names a cluster a command talks to, for messages: what it is
// ("the federation", "cluster us-central1-a"), its kubeconfig context and
// its server.
type Target struct {
	What    string
	Context string
	Server  string
}

// Explain turns the error of a request to t into one that says what to
// check: the network, the CA, or the credentials of t's context. Other
// errors only gain t as context.
func (t Target) Explain(err error) error {
	switch {
	case err == nil:
		return nil
	case Unreachable(err):
		return fmt.Errorf("cannot reach %s at %s (context %q): %w; check that its API server is running and that the address is right and reachable from here", t.What, t.Server, t.Context, err)
	case CertificateProblem(err):
		return fmt.Errorf("%s at %s (context %q) presents a serving certificate the kubeconfig does not trust: %w; fix the certificate-authority of the context's cluster entry", t.What, t.Server, t.Context, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%s at %s rejected the credentials of context %q: %w; renew the credentials of the context's user", t.What, t.Server, t.Context, err)
	default:
		return fmt.Errorf("%s (context %q): %w", t.What, t.Context, err)
	}
}
