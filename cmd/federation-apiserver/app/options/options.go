// Package options holds the federation-apiserver's flags. Flag names follow
// kube-apiserver's wherever the meaning is the same.
package options

import (
	"fmt"
	"io"
	"net"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	cliflag "k8s.io/component-base/cli/flag"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/kubernetes/plugin/pkg/admission/network/defaultingressclass"
	netutils "k8s.io/utils/net"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"

	"github.com/kfederation/federation/pkg/admission/federationannotations"
	"github.com/kfederation/federation/pkg/admission/federationfinalizer"
	"github.com/kfederation/federation/pkg/admission/removedfields"
	"github.com/kfederation/federation/pkg/embeddedetcd"
)

// DefaultEtcdPathPrefix is where objects live in etcd, so that the
// federation can share an etcd with other users.
const DefaultEtcdPathPrefix = "/federation/registry"

// ServerRunOptions are all the flags of federation-apiserver.
type ServerRunOptions struct {
	GenericServerRunOptions *genericoptions.ServerRunOptions
	SecureServing           *genericoptions.SecureServingOptionsWithLoopback
	Etcd                    *genericoptions.EtcdOptions
	Authentication          *AuthenticationOptions
	Authorization           *AuthorizationOptions
	Audit                   *genericoptions.AuditOptions
	Features                *genericoptions.FeatureOptions
	Admission               *genericoptions.AdmissionOptions
	Logs                    *logs.Options

	// EmbeddedEtcdDataDir is where the embedded etcd keeps its data when no
	// --etcd-servers is given.
	EmbeddedEtcdDataDir string
	// EmbeddedEtcdClientPort is kept so that old command lines still
	// parse; the embedded etcd listens on a unix socket instead.
	EmbeddedEtcdClientPort int
	// EventTTL is how long Events are kept.
	EventTTL time.Duration
	// ShowVersion prints the version and exits.
	ShowVersion bool

	// EmbeddedEtcdSocket is where the embedded etcd listens; Complete sets
	// it when no --etcd-servers was given, and only then.
	EmbeddedEtcdSocket *embeddedetcd.Socket
}

// NewServerRunOptions returns the defaults.
func NewServerRunOptions() *ServerRunOptions {
	s := &ServerRunOptions{
		GenericServerRunOptions: genericoptions.NewServerRunOptions(),
		SecureServing:           genericoptions.NewSecureServingOptions().WithLoopback(),
		Etcd:                    genericoptions.NewEtcdOptions(storagebackend.NewDefaultConfig(DefaultEtcdPathPrefix, nil)),
		Authentication:          NewAuthenticationOptions(),
		Authorization:           NewAuthorizationOptions(),
		Audit:                   genericoptions.NewAuditOptions(),
		Features:                genericoptions.NewFeatureOptions(),
		Admission:               newAdmissionOptions(),
		Logs:                    logs.NewOptions(),
		EmbeddedEtcdDataDir:     "/var/lib/federation-apiserver/etcd",
		EventTTL:                time.Hour,
	}
	s.SecureServing.BindPort = 6443
	s.SecureServing.ServerCert.CertDirectory = "/var/run/federation-apiserver"
	s.SecureServing.ServerCert.PairName = "apiserver"
	s.Etcd.DefaultStorageMediaType = "application/vnd.kubernetes.protobuf"
	// The federation serves no flowcontrol API, so requests are limited by
	// --max-requests-inflight instead of API Priority and Fairness.
	s.Features.EnablePriorityAndFairness = false
	return s
}

// ImmortalNamespaces may not be deleted through the federation: kube's own
// and federation-system.
var ImmortalNamespaces = sets.New[string](metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, federationv1beta1.FederationSystemNamespace)

// newAdmissionOptions offers only the admission plugins that make sense
// without the rest of a Kubernetes control plane: NamespaceLifecycle;
// DefaultIngressClass, kube-apiserver's own, which gives a new Ingress
// without a class the IngressClass annotated as the default (the federated
// Ingress then names, in every member, the class the federation propagated
// there, rather than each member filling in its own default, which the sync
// would take for drift); FederationFinalizer, which puts the federation's
// deletion finalizer on new objects of propagated kinds (the
// federation-controller-manager takes it off); FederationAnnotations,
// which refuses federation annotations the controllers could not parse;
// and RemovedFields, which refuses fields of the old API versions that
// today's versions, stored and propagated, no longer have.
func newAdmissionOptions() *genericoptions.AdmissionOptions {
	a := genericoptions.NewAdmissionOptions()
	a.Plugins = admission.NewPlugins()
	// kube-apiserver's NamespaceLifecycle, with federation-system among the
	// namespaces that may not be deleted: it holds every member's
	// credentials, and one delete would take them all.
	a.Plugins.Register(lifecycle.PluginName, func(io.Reader) (admission.Interface, error) {
		return lifecycle.NewLifecycle(ImmortalNamespaces)
	})
	defaultingressclass.Register(a.Plugins)
	federationfinalizer.Register(a.Plugins)
	federationannotations.Register(a.Plugins)
	removedfields.Register(a.Plugins)
	a.RecommendedPluginOrder = []string{lifecycle.PluginName, defaultingressclass.PluginName, federationfinalizer.PluginName, federationannotations.PluginName, removedfields.PluginName}
	a.DefaultOffPlugins = sets.New[string]()
	return a
}

// Flags returns the flags, in named sections for --help.
func (s *ServerRunOptions) Flags() cliflag.NamedFlagSets {
	var fss cliflag.NamedFlagSets
	s.GenericServerRunOptions.AddUniversalFlags(fss.FlagSet("generic"))
	s.Etcd.AddFlags(fss.FlagSet("etcd"))
	etcd := fss.FlagSet("etcd")
	etcd.StringVar(&s.EmbeddedEtcdDataDir, "embedded-etcd-data-dir", s.EmbeddedEtcdDataDir,
		"Data directory of the embedded etcd, started when --etcd-servers is not given.")
	etcd.IntVar(&s.EmbeddedEtcdClientPort, "embedded-etcd-client-port", s.EmbeddedEtcdClientPort,
		"Ignored: the embedded etcd listens on no port, only on the socket etcd.sock in --embedded-etcd-data-dir.")
	_ = etcd.MarkDeprecated("embedded-etcd-client-port", "the embedded etcd now listens only on the socket etcd.sock in --embedded-etcd-data-dir; remove the flag")
	s.SecureServing.AddFlags(fss.FlagSet("secure serving"))
	s.Authentication.AddFlags(fss.FlagSet("authentication"))
	s.Authorization.AddFlags(fss.FlagSet("authorization"))
	s.Audit.AddFlags(fss.FlagSet("auditing"))
	s.Features.AddFlags(fss.FlagSet("features"))
	s.Admission.AddFlags(fss.FlagSet("admission"))
	logsapi.AddFlags(s.Logs, fss.FlagSet("logs"))
	misc := fss.FlagSet("misc")
	misc.DurationVar(&s.EventTTL, "event-ttl", s.EventTTL, "Amount of time to retain events.")
	misc.BoolVar(&s.ShowVersion, "version", false, "Print version information and quit.")
	return fss
}

// UsesEmbeddedEtcd says whether the server starts its own etcd; it is
// decided by Complete.
func (s *ServerRunOptions) UsesEmbeddedEtcd() bool {
	return s.EmbeddedEtcdSocket != nil
}

// Complete fills in what depends on other flags: the embedded etcd's
// address and a self-signed serving certificate when none is given.
func (s *ServerRunOptions) Complete() error {
	if len(s.Etcd.StorageConfig.Transport.ServerList) == 0 {
		socket, err := embeddedetcd.NewSocket(s.EmbeddedEtcdDataDir)
		if err != nil {
			return err
		}
		s.EmbeddedEtcdSocket = socket
		s.Etcd.StorageConfig.Transport.ServerList = []string{socket.URL()}
	}
	if err := s.GenericServerRunOptions.Complete(); err != nil {
		return err
	}
	if err := s.uncacheEvents(); err != nil {
		return err
	}
	alternateIPs := []net.IP{netutils.ParseIPSloppy("127.0.0.1")}
	if err := s.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", []string{"federation-apiserver", "federation-apiserver.federation-system.svc"}, alternateIPs); err != nil {
		return fmt.Errorf("create a self-signed serving certificate in --cert-dir %s: %w", s.SecureServing.ServerCert.CertDirectory, err)
	}
	return nil
}

// Validate checks every flag and reports all problems at once.
func (s *ServerRunOptions) Validate() error {
	var errs []error
	errs = append(errs, s.GenericServerRunOptions.Validate()...)
	errs = append(errs, s.Etcd.Validate()...)
	errs = append(errs, s.SecureServing.Validate()...)
	errs = append(errs, s.Authentication.Validate()...)
	errs = append(errs, s.Authorization.Validate()...)
	errs = append(errs, s.Audit.Validate()...)
	errs = append(errs, s.Features.Validate()...)
	errs = append(errs, s.Admission.Validate()...)
	if s.SecureServing.BindPort == 0 {
		errs = append(errs, fmt.Errorf("--secure-port must be set: the federation-apiserver serves only over TLS"))
	}
	if s.EventTTL <= 0 {
		errs = append(errs, fmt.Errorf("--event-ttl must be positive, got %s", s.EventTTL))
	}
	return utilerrors.NewAggregate(errs)
}

// uncachedByDefault are the resources served without a watch cache unless
// --watch-cache-sizes names them, as kube-apiserver serves them: an Event is
// written once and seldom watched, and a watch cache would hold every Event,
// decoded, for --event-ttl, and decode each one again from etcd's watch as it
// is written. A watch on Events is then served by etcd directly.
var uncachedByDefault = []schema.GroupResource{{Resource: "events"}}

// uncacheEvents adds a size of 0 for each of uncachedByDefault to
// --watch-cache-sizes, unless the flag gives one.
func (s *ServerRunOptions) uncacheEvents() error {
	if !s.Etcd.EnableWatchCache {
		return nil
	}
	sizes, err := genericoptions.ParseWatchCacheSizes(s.Etcd.WatchCacheSizes)
	if err != nil {
		return fmt.Errorf("--watch-cache-sizes: %w", err)
	}
	for _, gr := range uncachedByDefault {
		if _, given := sizes[gr]; !given {
			sizes[gr] = 0
		}
	}
	s.Etcd.WatchCacheSizes, err = genericoptions.WriteWatchCacheSizes(sizes)
	return err
}
