// Package options holds the federation-controller-manager's flags, named as
// kube-controller-manager names them where the meaning is the same.
package options

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/validation"
	apiserveroptions "k8s.io/apiserver/pkg/server/options"
	cliflag "k8s.io/component-base/cli/flag"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"

	"github.com/kfederation/federation/pkg/controller/placement"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
)

// Options are all the flags of federation-controller-manager.
type Options struct {
	// Kubeconfig points at the federation-apiserver.
	Kubeconfig string
	// FederationName marks member objects the federation manages.
	FederationName string
	// Controllers lists the controllers to run: "*" for all, "-name" to
	// leave one out.
	Controllers []string
	// ConcurrentSyncs is the number of workers per kind.
	ConcurrentSyncs int
	// ClusterMonitorPeriod is how often each member is probed.
	ClusterMonitorPeriod time.Duration
	// ClusterProbeTimeout bounds one probe.
	ClusterProbeTimeout time.Duration
	// ClusterFailureThreshold is how many probes of a Ready member in a row
	// must fail before it counts as not Ready.
	ClusterFailureThreshold int
	// MemberRequestTimeout bounds one request to a member.
	MemberRequestTimeout time.Duration
	// UnschedulableThreshold is how long a pod must be Unschedulable in a
	// member before the planner lowers that member's capacity.
	UnschedulableThreshold time.Duration
	// QPS and Burst limit requests to the federation-apiserver.
	QPS float32
	// ContentType is the encoding of the built-in kinds' requests to the
	// federation-apiserver; the federation's own kinds and the dynamic
	// clients always speak JSON.
	ContentType string
	Burst       int
	// MemberQPS and MemberBurst limit requests to each member cluster.
	MemberQPS   float32
	MemberBurst int

	// DNS of federated Services; DNSProvider "" turns it off.
	DNSProvider       string
	DNSProviderConfig string
	ZoneName          string
	ZoneID            string
	ServiceDNSSuffix  string
	DNSTTL            int64
	DNSUnhealthyGrace time.Duration

	// CloudProvider "gce" puts federated Ingresses of GCE's class (and
	// class-less ones) on one global load balancer, with the Compute
	// Engine API configured in CloudConfig; "" leaves them to the sync.
	CloudProvider string
	CloudConfig   string

	LeaderElect      bool
	LeaseDuration    time.Duration
	RenewDeadline    time.Duration
	RetryPeriod      time.Duration
	LeaderElectionID string
	LeaderElectionNS string

	// SecureServing is the HTTPS endpoint of /healthz, /livez, /readyz,
	// /metrics and /debug/pprof (--bind-address, --secure-port, --cert-dir,
	// --tls-*); --secure-port=0 turns it off.
	SecureServing *apiserveroptions.SecureServingOptions
	// Authentication and Authorization guard everything but the health
	// paths, as kube-controller-manager's do: client certificates of
	// --client-ca-file, bearer tokens checked by TokenReview and requests
	// checked by SubjectAccessReview in the server named by
	// --authentication-kubeconfig and --authorization-kubeconfig (when
	// empty: the federation-apiserver of --kubeconfig, which answers them
	// with its own authentication and authorization; in-cluster without
	// --kubeconfig). system:masters may always read.
	Authentication *apiserveroptions.DelegatingAuthenticationOptions
	Authorization  *apiserveroptions.DelegatingAuthorizationOptions
	// Profiling serves /debug/pprof on the secure port, to authorized
	// users only.
	Profiling bool

	Logs *logs.Options
	// ShowVersion prints the version and exits.
	ShowVersion bool
}

// DefaultSecurePort is --secure-port's default. Kubernetes' own components
// take 10257 (kube-controller-manager), 10258 (cloud-controller-manager),
// 10259 (kube-scheduler) and 10260 (cloud-controller-manager's webhooks);
// 10253 was Federation v1's controller manager port, and no current
// component uses it, so the controller manager can share a host network
// with a control plane's.
const DefaultSecurePort = 10253

// NewOptions returns the defaults. A member that refuses connections is
// noticed within ClusterFailureThreshold monitor periods (6 s), one that
// stops answering within ClusterFailureThreshold * (ClusterMonitorPeriod +
// ClusterProbeTimeout) = 12 s.
func NewOptions() *Options {
	serving := apiserveroptions.NewSecureServingOptions()
	serving.BindPort = DefaultSecurePort
	// --secure-port=0 turns serving off, as kube-controller-manager allows.
	serving.Required = false
	// No --cert-dir: without --tls-cert-file, a self-signed certificate is
	// made in memory at start, as kube-controller-manager does; the
	// container's root file system is read-only.
	serving.ServerCert.CertDirectory = ""
	serving.ServerCert.PairName = "federation-controller-manager"
	authn := apiserveroptions.NewDelegatingAuthenticationOptions()
	authn.RemoteKubeConfigFileOptional = true
	authz := apiserveroptions.NewDelegatingAuthorizationOptions()
	authz.RemoteKubeConfigFileOptional = true
	return &Options{
		FederationName:          "federation",
		Controllers:             []string{"*"},
		ConcurrentSyncs:         5,
		ClusterMonitorPeriod:    3 * time.Second,
		ClusterProbeTimeout:     3 * time.Second,
		ClusterFailureThreshold: 2,
		MemberRequestTimeout:    10 * time.Second,
		MemberQPS:               200,
		MemberBurst:             400,
		UnschedulableThreshold:  placement.DefaultUnschedulableThreshold,
		DNSTTL:                  DefaultDNSTTL,
		QPS:                     100,
		ContentType:             runtime.ContentTypeProtobuf,
		Burst:                   200,
		LeaderElect:             true,
		LeaseDuration:           15 * time.Second,
		RenewDeadline:           10 * time.Second,
		RetryPeriod:             2 * time.Second,
		LeaderElectionID:        "federation-controller-manager",
		LeaderElectionNS:        federationv1beta1.FederationSystemNamespace,
		SecureServing:           serving,
		Authentication:          authn,
		Authorization:           authz,
		Profiling:               false,
		Logs:                    logs.NewOptions(),
	}
}

// Flags returns the flags in named sections.
func (o *Options) Flags(allControllers []string) cliflag.NamedFlagSets {
	var fss cliflag.NamedFlagSets
	fs := fss.FlagSet("generic")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Path to a kubeconfig for the federation-apiserver. Empty means in-cluster configuration.")
	fs.StringVar(&o.FederationName, "federation-name", o.FederationName, "Name of this federation; member objects it manages carry the label federation.k8s.io/managed-by=<name>.")
	fs.StringSliceVar(&o.Controllers, "controllers", o.Controllers, fmt.Sprintf("Controllers to run. '*' runs all, 'foo' runs foo, '-foo' leaves foo out. All controllers: %s.", strings.Join(allControllers, ", ")))
	fs.IntVar(&o.ConcurrentSyncs, "concurrent-syncs", o.ConcurrentSyncs, "Number of objects of each kind synced at once.")
	fs.Float32Var(&o.QPS, "kube-api-qps", o.QPS, "QPS to use while talking with the federation-apiserver.")
	fs.IntVar(&o.Burst, "kube-api-burst", o.Burst, "Burst to use while talking with the federation-apiserver.")
	fs.StringVar(&o.ContentType, "kube-api-content-type", o.ContentType, "Content type of the requests for built-in kinds (Events, Secrets, Namespaces, Leases) sent to the federation-apiserver: application/vnd.kubernetes.protobuf or application/json. Federated objects and the federation's own kinds always go as JSON.")
	fs.BoolVar(&o.ShowVersion, "version", false, "Print version information and quit.")

	cl := fss.FlagSet("cluster")
	cl.DurationVar(&o.ClusterMonitorPeriod, "cluster-monitor-period", o.ClusterMonitorPeriod, "How often each member cluster's /readyz is probed. A member that refuses connections is noticed within --cluster-failure-threshold periods; one that stops answering within --cluster-failure-threshold times this period plus --cluster-probe-timeout.")
	cl.DurationVar(&o.ClusterProbeTimeout, "cluster-probe-timeout", o.ClusterProbeTimeout, "How long one probe of a member may take before it counts as failed, the member unreachable.")
	cl.IntVar(&o.ClusterFailureThreshold, "cluster-failure-threshold", o.ClusterFailureThreshold, "How many probes in a row of a Ready member cluster must fail before it counts as not Ready, its objects wait and its replicas move. 1 reacts to a single slow or failed probe, which a busy member gives now and then.")
	cl.Float32Var(&o.MemberQPS, "member-api-qps", o.MemberQPS, "QPS to use while talking with each member cluster, all controllers together.")
	cl.IntVar(&o.MemberBurst, "member-api-burst", o.MemberBurst, "Burst to use while talking with each member cluster.")
	cl.DurationVar(&o.MemberRequestTimeout, "member-request-timeout", o.MemberRequestTimeout, "How long one create, update or delete in a member may take.")

	pl := fss.FlagSet("placement")
	pl.DurationVar(&o.UnschedulableThreshold, "unschedulable-threshold", o.UnschedulableThreshold, "How long a pod of a federated ReplicaSet, Deployment or Job must be Unschedulable in a member cluster before the replicas that do not fit there move to other clusters.")

	dns := fss.FlagSet("dns")
	dns.StringVar(&o.DNSProvider, "dns-provider", o.DNSProvider, fmt.Sprintf("DNS service the federated Services' records are written to: one of %s. Empty turns Service DNS off.", strings.Join(DNSProviders, ", ")))
	dns.StringVar(&o.DNSProviderConfig, "dns-provider-config", o.DNSProviderConfig, "Path of the DNS provider's configuration file (YAML). coredns: etcdEndpoints, etcdCertFile, etcdKeyFile, etcdCAFile, path. google-clouddns: project, credentialsFile, credentialsType, endpoint.")
	dns.StringVar(&o.ZoneName, "zone-name", o.ZoneName, "DNS zone the records go into, such as example.com; created if the provider has no such zone.")
	dns.StringVar(&o.ZoneID, "zone-id", o.ZoneID, "Provider's ID of the zone, to pick one among several zones of the same name (optional).")
	dns.StringVar(&o.ServiceDNSSuffix, "service-dns-suffix", o.ServiceDNSSuffix, "Suffix of the federated Services' names, the zone or a name under it; default --zone-name.")
	dns.Int64Var(&o.DNSTTL, "dns-ttl", o.DNSTTL, "TTL in seconds of the federated Services' records; a Service's federation.kubernetes.io/dns-ttl annotation overrides it.")
	cloud := fss.FlagSet("cloud")
	cloud.StringVar(&o.CloudProvider, "cloud-provider", o.CloudProvider, fmt.Sprintf("Cloud the members run in, for federated Ingresses on one global load balancer: one of %s. With gce, Ingresses of class gce and Ingresses without a class share one global IP. Empty turns it off.", strings.Join(CloudProviders, ", ")))
	cloud.StringVar(&o.CloudConfig, "cloud-config", o.CloudConfig, "Path of the cloud's configuration file (YAML). gce: project, network, credentialsFile, credentialsType, endpoint.")
	dns.DurationVar(&o.DNSUnhealthyGrace, "dns-unhealthy-grace", o.DNSUnhealthyGrace, "How long a member may be not Ready before its addresses leave the DNS records; 0 drops them at once.")

	le := fss.FlagSet("leader election")
	le.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Elect a leader through a Lease in the federation-apiserver, so that only one of several replicas acts.")
	le.DurationVar(&o.LeaseDuration, "leader-elect-lease-duration", o.LeaseDuration, "How long non-leaders wait after the last renewal before taking over.")
	le.DurationVar(&o.RenewDeadline, "leader-elect-renew-deadline", o.RenewDeadline, "How long the leader retries renewing before giving up leadership.")
	le.DurationVar(&o.RetryPeriod, "leader-elect-retry-period", o.RetryPeriod, "How long to wait between tries to acquire or renew leadership.")
	le.StringVar(&o.LeaderElectionID, "leader-elect-resource-name", o.LeaderElectionID, "Name of the Lease used for leader election.")
	le.StringVar(&o.LeaderElectionNS, "leader-elect-resource-namespace", o.LeaderElectionNS, "Namespace of the Lease used for leader election.")

	o.SecureServing.AddFlags(fss.FlagSet("secure serving"))
	o.Authentication.AddFlags(fss.FlagSet("authentication"))
	o.Authorization.AddFlags(fss.FlagSet("authorization"))
	fss.FlagSet("debugging").BoolVar(&o.Profiling, "profiling", o.Profiling, "Serve Go profiles at /debug/pprof/ on --secure-port, to users authorized to get that path.")

	logsapi.AddFlags(o.Logs, fss.FlagSet("logs"))
	return fss
}

// Validate reports every problem with the flags at once.
func (o *Options) Validate(allControllers []string) error {
	var errs []error
	if msgs := validation.IsDNS1123Label(o.FederationName); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("--federation-name %q: %s", o.FederationName, strings.Join(msgs, "; ")))
	}
	known := map[string]bool{"*": true}
	for _, c := range allControllers {
		known[c] = true
	}
	for _, c := range o.Controllers {
		if !known[strings.TrimPrefix(c, "-")] {
			errs = append(errs, fmt.Errorf("--controllers: unknown controller %q; known: %s", c, strings.Join(allControllers, ", ")))
		}
	}
	if o.ContentType != runtime.ContentTypeProtobuf && o.ContentType != runtime.ContentTypeJSON {
		errs = append(errs, fmt.Errorf("--kube-api-content-type %q: must be %s or %s", o.ContentType, runtime.ContentTypeProtobuf, runtime.ContentTypeJSON))
	}
	if o.ConcurrentSyncs < 1 {
		errs = append(errs, fmt.Errorf("--concurrent-syncs must be at least 1"))
	}
	if o.ClusterMonitorPeriod <= 0 || o.ClusterProbeTimeout <= 0 || o.MemberRequestTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--cluster-monitor-period, --cluster-probe-timeout and --member-request-timeout must be positive"))
	}
	if o.ClusterFailureThreshold < 1 {
		errs = append(errs, fmt.Errorf("--cluster-failure-threshold must be at least 1, got %d", o.ClusterFailureThreshold))
	}
	if o.UnschedulableThreshold < 0 {
		errs = append(errs, fmt.Errorf("--unschedulable-threshold must not be negative, got %s", o.UnschedulableThreshold))
	}
	errs = append(errs, o.validateDNS()...)
	errs = append(errs, o.validateCloud()...)
	if o.LeaderElect && o.LeaseDuration <= o.RenewDeadline {
		errs = append(errs, fmt.Errorf("--leader-elect-lease-duration (%s) must be greater than --leader-elect-renew-deadline (%s)", o.LeaseDuration, o.RenewDeadline))
	}
	errs = append(errs, o.SecureServing.Validate()...)
	errs = append(errs, o.Authentication.Validate()...)
	errs = append(errs, o.Authorization.Validate()...)
	if o.Profiling && o.SecureServing.BindPort == 0 {
		errs = append(errs, fmt.Errorf("--profiling needs --secure-port: profiles are served there only"))
	}
	return utilerrors.NewAggregate(errs)
}

// CloudProviders are the values --cloud-provider takes.
var CloudProviders = []string{"gce"}

// validateCloud checks --cloud-provider and --cloud-config: both or
// neither.
func (o *Options) validateCloud() []error {
	switch {
	case o.CloudProvider == "" && o.CloudConfig != "":
		return []error{fmt.Errorf("--cloud-config needs --cloud-provider (one of %s)", strings.Join(CloudProviders, ", "))}
	case o.CloudProvider == "":
		return nil
	case !slices.Contains(CloudProviders, o.CloudProvider):
		return []error{fmt.Errorf("--cloud-provider %q: unknown; use one of %s", o.CloudProvider, strings.Join(CloudProviders, ", "))}
	case o.CloudConfig == "":
		return []error{fmt.Errorf("--cloud-provider=%s needs --cloud-config, the path of a file naming at least the project", o.CloudProvider)}
	}
	return nil
}

// DefaultDNSTTL is --dns-ttl's default, Federation v1's.
const DefaultDNSTTL = 180

// DNSProviders are the values --dns-provider takes.
var DNSProviders = []string{"coredns", "google-clouddns"}

// validateDNS checks the Service DNS flags: all or nothing, and a suffix
// inside the zone, where records can be written.
func (o *Options) validateDNS() []error {
	var errs []error
	if o.DNSTTL < 1 || o.DNSTTL > math.MaxInt32 {
		errs = append(errs, fmt.Errorf("--dns-ttl must be from 1 to %d seconds, got %d", math.MaxInt32, o.DNSTTL))
	}
	if o.DNSUnhealthyGrace < 0 {
		errs = append(errs, fmt.Errorf("--dns-unhealthy-grace must not be negative, got %s", o.DNSUnhealthyGrace))
	}
	if o.DNSProvider == "" {
		if o.ZoneName != "" || o.DNSProviderConfig != "" {
			errs = append(errs, fmt.Errorf("--zone-name and --dns-provider-config need --dns-provider (one of %s)", strings.Join(DNSProviders, ", ")))
		}
		return errs
	}
	if !slices.Contains(DNSProviders, o.DNSProvider) {
		errs = append(errs, fmt.Errorf("--dns-provider %q: unknown; use one of %s", o.DNSProvider, strings.Join(DNSProviders, ", ")))
	}
	if o.DNSProviderConfig == "" {
		errs = append(errs, fmt.Errorf("--dns-provider-config is required with --dns-provider: the provider's configuration file"))
	}
	zone := strings.TrimSuffix(strings.ToLower(o.ZoneName), ".")
	if msgs := validation.IsDNS1123Subdomain(zone); zone == "" || len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("--zone-name %q: a DNS name such as example.com is required with --dns-provider", o.ZoneName))
	}
	if o.ServiceDNSSuffix != "" {
		suffix := strings.TrimSuffix(strings.ToLower(o.ServiceDNSSuffix), ".")
		if msgs := validation.IsDNS1123Subdomain(suffix); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("--service-dns-suffix %q: %s", o.ServiceDNSSuffix, strings.Join(msgs, "; ")))
		} else if zone != "" && suffix != zone && !strings.HasSuffix(suffix, "."+zone) {
			errs = append(errs, fmt.Errorf("--service-dns-suffix %q is not in zone %q: the records could not be written there", o.ServiceDNSSuffix, o.ZoneName))
		}
	}
	return errs
}

// Enabled says whether the controller called name should run.
func (o *Options) Enabled(name string) bool {
	on := false
	for _, c := range o.Controllers {
		switch c {
		case "-" + name:
			return false
		case name, "*":
			on = true
		}
	}
	return on
}
