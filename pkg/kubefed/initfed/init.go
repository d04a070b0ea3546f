// Package initfed implements `kubefed init` (the package cannot be called
// init): it deploys a federation control plane into a host cluster from the
// templates in manifests/ (etcd, federation-apiserver,
// federation-controller-manager, their certificates and RBAC), applying them
// with server-side apply, and writes a kubeconfig context for the new
// federation.
package initfed

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/kfederation/federation/manifests"
	"github.com/kfederation/federation/pkg/kubefed/clioptions"
	"github.com/kfederation/federation/pkg/version"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
)

// FieldManager owns the fields kubefed init applies.
const FieldManager = "kubefed"

// Choices of the flags with a fixed set of values.
const (
	DNSProviderCoreDNS     = "coredns"
	DNSProviderGoogleCloud = "google-clouddns"

	// CloudProviderGCE is the one --cloud-provider: federated Ingresses on
	// one Google Cloud global load balancer.
	CloudProviderGCE = "gce"

	ServiceTypeLoadBalancer = string(corev1.ServiceTypeLoadBalancer)
	ServiceTypeNodePort     = string(corev1.ServiceTypeNodePort)
)

// Defaults of the flags.
const (
	DefaultEtcdImage     = "quay.io/coreos/etcd:v3.6.8"
	DefaultEtcdPVSize    = "10Gi"
	DefaultWaitTimeout   = 5 * time.Minute
	defaultImageRepo     = "kfederation/federation"
	adminUser            = "federation-admin"
	systemMastersGroup   = "system:masters"
	maxAdvertisedAddress = 16
)

// DefaultImage is the image with both federation binaries, at kubefed's
// own version.
var DefaultImage = defaultImageRepo + ":" + version.Version

var (
	initLong = `Deploy a federation control plane into a host cluster.

kubefed init renders the manifests under manifests/federation (in the namespace
--federation-system-namespace): an etcd StatefulSet on a persistent volume
(unless --etcd-servers names an existing etcd), which speaks TLS only and
requires client certificates of its own CA (Secrets federation-etcd-ca,
federation-etcd-certs, federation-apiserver-etcd-client), the federation-apiserver behind
a Service of type --api-server-service-type, the federation-controller-manager,
a new CA with the apiserver's serving certificate and client certificates for
the controller manager and for you (system:masters), and the RBAC they need in
the host cluster. It applies them with server-side apply (field manager
"kubefed"), waits until the federation-apiserver answers (unless --wait=false),
and writes a context NAME into your kubeconfig.

The federation-apiserver authorizes requests with the host cluster's RBAC
(SubjectAccessReview), so grant users access to the federation there.

With --dns-provider, the federation-controller-manager writes the DNS records
of federated Services into --dns-zone-name, through the provider that
--dns-provider-config configures. That file goes into the Secret
federation-dns-provider, mounted in the controller manager's pod at
/etc/federation/dns; the files it names (etcd TLS files, Cloud DNS credentials)
are paths in that pod: add them to the Secret with --dns-provider-secret-file
and name them /etc/federation/dns/NAME, or mount them yourself.

With --cloud-provider=gce, the federation-controller-manager puts federated
Ingresses of class gce (and those without a class) on one global load balancer,
with the Compute Engine API that --cloud-config configures. That file goes into
the Secret federation-cloud-config, mounted in the controller manager's pod at
/etc/federation/cloud; a credentialsFile it names is a path in that pod: add
the file with --cloud-secret-file and name it /etc/federation/cloud/NAME, or
mount it yourself.

An existing etcd's TLS files go into the Secret federation-apiserver-etcd-client
with --etcd-cafile, --etcd-certfile and --etcd-keyfile.

Running kubefed init again re-applies everything and issues new certificates
from the same CAs, kept in the Secrets federation-ca and federation-etcd-ca.`

	initExample = `  # Deploy federation "myfed" into the cluster of context host, behind a load balancer
  kubefed init myfed --host-cluster-context=host

  # Use a NodePort Service reached at 203.0.113.10, and an existing etcd with
  # a client certificate for the federation-apiserver
  kubefed init myfed --host-cluster-context=host --api-server-service-type=NodePort \
      --api-server-advertise-address=203.0.113.10 --etcd-servers=https://etcd.example.com:2379 \
      --etcd-cafile=etcd-ca.pem --etcd-certfile=etcd-client.pem --etcd-keyfile=etcd-client-key.pem

  # Service DNS through CoreDNS, whose etcd wants a client certificate; the
  # config names /etc/federation/dns/etcd-client.crt, etcd-client.key, etcd-ca.crt
  kubefed init myfed --host-cluster-context=host --dns-provider=coredns --dns-zone-name=example.com \
      --dns-provider-config=coredns.yaml --dns-provider-secret-file=etcd-client.crt \
      --dns-provider-secret-file=etcd-client.key --dns-provider-secret-file=etcd-ca.crt=ca.pem

  # One global load balancer for federated GCE Ingresses; gce.yaml names
  # credentialsFile: /etc/federation/cloud/key.json
  kubefed init myfed --host-cluster-context=host --cloud-provider=gce \
      --cloud-config=gce.yaml --cloud-secret-file=key.json=service-account.json

  # Print the manifests, and change nothing
  kubefed init myfed --host-cluster-context=host --dry-run`
)

// InitOptions are the inputs of `kubefed init`.
type InitOptions struct {
	// Name is the federation's name, and the name of the kubeconfig context
	// written for it.
	Name string
	// HostClusterContext is the kubeconfig context of the host cluster.
	HostClusterContext string
	// FederationSystemNamespace is where the control plane runs.
	FederationSystemNamespace string
	DNSProvider               string
	DNSZoneName               string
	// DNSProviderConfig is a local file with the DNS provider's
	// configuration, which goes into the Secret federation-dns-provider.
	DNSProviderConfig string
	// DNSProviderSecretFiles, [NAME=]PATH, are local files that go into
	// that Secret too, for the configuration to name as
	// /etc/federation/dns/NAME.
	DNSProviderSecretFiles []string
	// CloudProvider "gce" turns on the controller manager's Ingress global
	// load balancer; "" leaves it off.
	CloudProvider string
	// CloudConfig is a local file with the cloud's configuration, which
	// goes into the Secret federation-cloud-config.
	CloudConfig string
	// CloudSecretFiles, [NAME=]PATH, are local files that go into that
	// Secret too, for the configuration to name as
	// /etc/federation/cloud/NAME.
	CloudSecretFiles []string
	// EtcdServers is an existing etcd; empty deploys one.
	EtcdServers    []string
	EtcdImage      string
	EtcdPVCapacity string
	// EtcdCAFile, EtcdCertFile and EtcdKeyFile are local files with the CA
	// certificate that an existing etcd's serving certificate chains to,
	// and the federation-apiserver's client certificate and key for it.
	// They go into the Secret federation-apiserver-etcd-client.
	EtcdCAFile, EtcdCertFile, EtcdKeyFile string
	// APIServerServiceType is LoadBalancer or NodePort.
	APIServerServiceType string
	// APIServerAdvertiseAddress is the address clients reach the
	// federation-apiserver at, when the Service's own cannot be found.
	APIServerAdvertiseAddress string
	Image                     string
	// HA runs the control plane highly available: etcd as three members
	// (when init deploys it), two federation-apiservers behind their
	// Service and two controller managers electing a leader, each spread
	// over the host's nodes where it can be.
	HA bool
	// DryRun prints the manifests and changes nothing.
	DryRun bool
	// Wait waits for the federation-apiserver to answer (and for a load
	// balancer address).
	Wait        bool
	WaitTimeout time.Duration

	// Clients, built by Run from the kubeconfig unless set (tests set them).
	HostClient  kubernetes.Interface
	HostDynamic dynamic.Interface
	Mapper      meta.RESTMapper
	Host        clioptions.Target
	// KubeconfigAccess is where the new context goes.
	KubeconfigAccess clientcmd.ConfigAccess
	// RequestTimeout bounds each request to the federation-apiserver
	// while waiting.
	RequestTimeout time.Duration

	clioptions.IOStreams

	kubeconfig     *clioptions.Kubeconfig
	kubeconfigPath string
	// dns is what loadDNS read, once.
	dns *secretContent
	// cloud is what loadCloud read, once.
	cloud *secretContent
	// etcdClient is what loadEtcdClient read, once.
	etcdClient *etcdClientFiles
}

// NewInitOptions returns the defaults.
func NewInitOptions(streams clioptions.IOStreams) *InitOptions {
	return &InitOptions{
		FederationSystemNamespace: federationv1beta1.FederationSystemNamespace,
		EtcdImage:                 DefaultEtcdImage,
		EtcdPVCapacity:            DefaultEtcdPVSize,
		APIServerServiceType:      ServiceTypeLoadBalancer,
		Image:                     DefaultImage,
		Wait:                      true,
		WaitTimeout:               DefaultWaitTimeout,
		RequestTimeout:            clioptions.DefaultRequestTimeout,
		IOStreams:                 streams,
	}
}

// NewCmdInit returns the init command.
func NewCmdInit(streams clioptions.IOStreams) *cobra.Command {
	o := NewInitOptions(streams)
	cmd := &cobra.Command{
		Use:                   "init NAME --host-cluster-context=CONTEXT [--api-server-service-type=LoadBalancer|NodePort] [--dry-run]",
		DisableFlagsInUseLine: true,
		Short:                 "Deploy a federation control plane into a host cluster",
		Long:                  initLong,
		Example:               initExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(cmd, args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.HostClusterContext, "host-cluster-context", o.HostClusterContext, "Kubeconfig context of the cluster to deploy the control plane into (required).")
	fs.StringVar(&o.FederationSystemNamespace, "federation-system-namespace", o.FederationSystemNamespace, "Namespace of the control plane in the host cluster.")
	fs.StringVar(&o.DNSProvider, "dns-provider", o.DNSProvider, "DNS provider for Service DNS records: coredns or google-clouddns. Empty for none.")
	fs.StringVar(&o.DNSZoneName, "dns-zone-name", o.DNSZoneName, "DNS zone of the Service DNS records, e.g. example.com. Required with --dns-provider.")
	fs.StringVar(&o.DNSProviderConfig, "dns-provider-config", o.DNSProviderConfig, "Local YAML file with the DNS provider's configuration; required with --dns-provider. coredns: etcdEndpoints, etcdCertFile, etcdKeyFile, etcdCAFile, path. google-clouddns: project, credentialsFile, credentialsType, endpoint. It goes into the Secret federation-dns-provider, which the controller manager reads at /etc/federation/dns/provider.yaml. The files it names are paths inside the controller manager's pod: give them with --dns-provider-secret-file and name them /etc/federation/dns/NAME, or mount them yourself.")
	fs.StringArrayVar(&o.DNSProviderSecretFiles, "dns-provider-secret-file", o.DNSProviderSecretFiles, "[NAME=]LOCAL_FILE to add to the Secret federation-dns-provider, which the controller manager sees as /etc/federation/dns/NAME (default NAME: the file's base name), such as an etcd client certificate and key or a Cloud DNS credentials JSON. Repeat for more files.")
	fs.StringVar(&o.CloudProvider, "cloud-provider", o.CloudProvider, "Cloud of the member clusters, for federated Ingresses on one global load balancer: gce. Empty for none.")
	fs.StringVar(&o.CloudConfig, "cloud-config", o.CloudConfig, "Local YAML file with the cloud's configuration; required with --cloud-provider. gce: project, network, credentialsFile, credentialsType, endpoint. It goes into the Secret federation-cloud-config, which the controller manager reads at /etc/federation/cloud/cloud-config.yaml. A credentialsFile is a path inside the controller manager's pod: give the file with --cloud-secret-file and name it /etc/federation/cloud/NAME, or mount it yourself.")
	fs.StringArrayVar(&o.CloudSecretFiles, "cloud-secret-file", o.CloudSecretFiles, "[NAME=]LOCAL_FILE to add to the Secret federation-cloud-config, which the controller manager sees as /etc/federation/cloud/NAME (default NAME: the file's base name), such as a Compute Engine credentials JSON. Repeat for more files.")
	fs.StringSliceVar(&o.EtcdServers, "etcd-servers", o.EtcdServers, "URLs of an existing etcd for the federation-apiserver, comma-separated. Empty deploys etcd as a StatefulSet with a persistent volume.")
	fs.StringVar(&o.EtcdCAFile, "etcd-cafile", o.EtcdCAFile, "With --etcd-servers: local PEM file of the CA that the etcd's serving certificate chains to. Default: the system's CAs. It goes into the Secret federation-apiserver-etcd-client.")
	fs.StringVar(&o.EtcdCertFile, "etcd-certfile", o.EtcdCertFile, "With --etcd-servers: local PEM file of the client certificate the federation-apiserver presents to etcd; needs --etcd-keyfile. It goes into the Secret federation-apiserver-etcd-client.")
	fs.StringVar(&o.EtcdKeyFile, "etcd-keyfile", o.EtcdKeyFile, "With --etcd-servers: local PEM file of the key of --etcd-certfile.")
	fs.StringVar(&o.EtcdImage, "etcd-image", o.EtcdImage, "Image of the etcd StatefulSet.")
	fs.StringVar(&o.EtcdPVCapacity, "etcd-pv-capacity", o.EtcdPVCapacity, "Size of etcd's persistent volume.")
	fs.StringVar(&o.APIServerServiceType, "api-server-service-type", o.APIServerServiceType, "Type of the federation-apiserver's Service: LoadBalancer or NodePort.")
	fs.StringVar(&o.APIServerAdvertiseAddress, "api-server-advertise-address", o.APIServerAdvertiseAddress, "IP address or DNS name clients reach the federation-apiserver at. Default: the load balancer's address, or a node's address for NodePort.")
	fs.StringVar(&o.Image, "image", o.Image, "Image with the federation-apiserver and federation-controller-manager binaries on its PATH.")
	fs.BoolVar(&o.HA, "ha", o.HA, "Run the control plane highly available: etcd as three members (when init deploys it), two federation-apiservers and two federation-controller-managers (one leads, the other takes over within seconds), spread over the host cluster's nodes where possible. Losing any one of them loses nothing.")
	fs.BoolVar(&o.DryRun, "dry-run", o.DryRun, "Print the manifests as YAML, and change nothing. The certificates in them are freshly generated.")
	fs.BoolVar(&o.Wait, "wait", o.Wait, "Wait until the federation-apiserver answers.")
	fs.DurationVar(&o.WaitTimeout, "wait-timeout", o.WaitTimeout, "How long to wait for a load balancer address and for the federation-apiserver to answer.")
	return cmd
}

// Complete takes the federation name from args and loads the kubeconfig.
func (o *InitOptions) Complete(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("init takes exactly one argument, the federation NAME, got %d; see kubefed init --help", len(args))
	}
	o.Name = args[0]
	global := clioptions.GlobalFromCommand(cmd)
	o.kubeconfigPath = global.Kubeconfig
	o.RequestTimeout = global.RequestTimeout
	kc, err := clioptions.LoadKubeconfig(global.Kubeconfig, global.RequestTimeout)
	if err != nil {
		return err
	}
	o.kubeconfig = kc
	return nil
}

// Validate reports every problem with the arguments and flags at once.
func (o *InitOptions) Validate() error {
	var errs []error
	if msgs := validation.IsDNS1123Label(o.Name); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("federation name %q is invalid: %s; use at most 63 lower-case letters, digits and '-' (a DNS-1123 label)", o.Name, strings.Join(msgs, "; ")))
	}
	if o.Name != "" && o.Name == o.HostClusterContext {
		errs = append(errs, fmt.Errorf("federation name %q is the name of the host cluster's context, which init would overwrite with the federation's; choose another name", o.Name))
	}
	if msgs := validation.IsDNS1123Label(o.FederationSystemNamespace); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("--federation-system-namespace %q is invalid: %s", o.FederationSystemNamespace, strings.Join(msgs, "; ")))
	}
	switch o.DNSProvider {
	case "":
		if o.DNSZoneName != "" {
			errs = append(errs, fmt.Errorf("--dns-zone-name needs --dns-provider (%s or %s)", DNSProviderCoreDNS, DNSProviderGoogleCloud))
		}
		if o.DNSProviderConfig != "" || len(o.DNSProviderSecretFiles) > 0 {
			errs = append(errs, fmt.Errorf("--dns-provider-config and --dns-provider-secret-file need --dns-provider (%s or %s)", DNSProviderCoreDNS, DNSProviderGoogleCloud))
		}
	case DNSProviderCoreDNS, DNSProviderGoogleCloud:
		zone := strings.TrimSuffix(o.DNSZoneName, ".")
		if zone == "" {
			errs = append(errs, fmt.Errorf("--dns-provider=%s needs --dns-zone-name, the DNS zone to write records into, e.g. example.com", o.DNSProvider))
		} else if msgs := validation.IsDNS1123Subdomain(zone); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("--dns-zone-name %q is invalid: %s", o.DNSZoneName, strings.Join(msgs, "; ")))
		}
		if err := o.loadDNS(); err != nil {
			errs = append(errs, err)
		}
	default:
		errs = append(errs, fmt.Errorf("--dns-provider %q is not supported; use %s or %s", o.DNSProvider, DNSProviderCoreDNS, DNSProviderGoogleCloud))
	}
	switch o.CloudProvider {
	case "":
		if o.CloudConfig != "" || len(o.CloudSecretFiles) > 0 {
			errs = append(errs, fmt.Errorf("--cloud-config and --cloud-secret-file need --cloud-provider (%s)", CloudProviderGCE))
		}
	case CloudProviderGCE:
		if err := o.loadCloud(); err != nil {
			errs = append(errs, err)
		}
	default:
		errs = append(errs, fmt.Errorf("--cloud-provider %q is not supported; use %s", o.CloudProvider, CloudProviderGCE))
	}
	for _, s := range o.EtcdServers {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--etcd-servers: %q is not an http:// or https:// URL", s))
		}
	}
	if err := o.validateEtcdClient(); err != nil {
		errs = append(errs, err)
	}
	if len(o.EtcdServers) == 0 {
		if o.EtcdImage == "" {
			errs = append(errs, fmt.Errorf("--etcd-image may not be empty when init deploys etcd"))
		}
		if q, err := resource.ParseQuantity(o.EtcdPVCapacity); err != nil || q.Sign() <= 0 {
			errs = append(errs, fmt.Errorf("--etcd-pv-capacity %q is not a positive size such as 10Gi", o.EtcdPVCapacity))
		}
	}
	if o.APIServerServiceType != ServiceTypeLoadBalancer && o.APIServerServiceType != ServiceTypeNodePort {
		errs = append(errs, fmt.Errorf("--api-server-service-type %q is not supported; use %s or %s", o.APIServerServiceType, ServiceTypeLoadBalancer, ServiceTypeNodePort))
	}
	if a := o.APIServerAdvertiseAddress; a != "" && net.ParseIP(a) == nil {
		if msgs := validation.IsDNS1123Subdomain(a); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("--api-server-advertise-address %q is neither an IP address nor a DNS name: %s", a, strings.Join(msgs, "; ")))
		}
	}
	if o.Image == "" {
		errs = append(errs, fmt.Errorf("--image may not be empty"))
	}
	if o.WaitTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--wait-timeout must be positive, got %s", o.WaitTimeout))
	}
	if o.kubeconfig != nil {
		if err := o.kubeconfig.CheckContext("host-cluster-context", o.HostClusterContext); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (o *InitOptions) connect() error {
	if o.HostClient != nil && o.HostDynamic != nil && o.Mapper != nil {
		return nil
	}
	if o.kubeconfig == nil {
		return fmt.Errorf("no kubeconfig loaded: call Complete first")
	}
	cfg, err := o.kubeconfig.RESTConfig(o.HostClusterContext)
	if err != nil {
		return err
	}
	if o.HostClient, err = kubernetes.NewForConfig(cfg); err != nil {
		return fmt.Errorf("client for context %q: %w", o.HostClusterContext, err)
	}
	if o.HostDynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return fmt.Errorf("client for context %q: %w", o.HostClusterContext, err)
	}
	o.Mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(o.HostClient.Discovery()))
	o.Host = clioptions.Target{What: "host cluster", Context: o.HostClusterContext, Server: cfg.Host}
	if o.KubeconfigAccess == nil {
		o.KubeconfigAccess = o.kubeconfig.PathOptions()
	}
	return nil
}

// credentials are the certificates of one run.
type credentials struct {
	ca      *certAuthority
	serving keyPair
	admin   keyPair
	cm      keyPair
	// cmKubeconfig is the controller manager's kubeconfig.
	cmKubeconfig []byte
	// etcd are the certificates of the etcd init deploys, nil with
	// --etcd-servers.
	etcd *etcdCredentials
}

// controllerManagerUser is the controller manager's user name in the
// federation, which the host cluster's RBAC grants permissions to.
func (o *InitOptions) controllerManagerUser() string {
	return "federation:" + o.Name + ":controller-manager"
}

// inClusterServer is the federation-apiserver's address inside the host
// cluster, which the controller manager uses.
func (o *InitOptions) inClusterServer() string {
	return fmt.Sprintf("https://%s.%s.svc:%d", manifests.APIServerName, o.FederationSystemNamespace, manifests.ServicePort)
}

// servingHosts are the names the serving certificate is valid for: the
// Service's names inside the host cluster, loopback (port-forwarding), and
// the addresses outside clients use.
func (o *InitOptions) servingHosts(external []string) []string {
	svc, ns := manifests.APIServerName, o.FederationSystemNamespace
	hosts := []string{svc, svc + "." + ns, svc + "." + ns + ".svc", svc + "." + ns + ".svc.cluster.local", "localhost", "127.0.0.1"}
	seen := map[string]bool{}
	for _, h := range hosts {
		seen[h] = true
	}
	for _, h := range external {
		if !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// etcdHosts are the names the certificates of the etcd init deploys are
// valid for: its members' and its Service's names, and loopback.
func (o *InitOptions) etcdHosts() []string {
	ns := o.FederationSystemNamespace
	var hosts []string
	for _, m := range o.etcdMembers() {
		hosts = append(hosts, m+".etcd."+ns+".svc", m+".etcd."+ns+".svc.cluster.local")
	}
	return append(hosts, "etcd."+ns+".svc", "etcd."+ns+".svc.cluster.local", "localhost", "127.0.0.1")
}

// etcdMembers are the pod names of the etcd StatefulSet init deploys.
func (o *InitOptions) etcdMembers() []string {
	n := 1
	if o.HA {
		n = 3
	}
	members := make([]string, n)
	for i := range members {
		members[i] = fmt.Sprintf("etcd-%d", i)
	}
	return members
}

// replicas of the federation-apiserver and controller manager Deployments.
func (o *InitOptions) replicas() int {
	if o.HA {
		return 2
	}
	return 1
}

// issue creates the certificates, from ca if given, else from a new CA,
// and, when init deploys etcd, etcd's from etcdCA if given, else from a
// new etcd CA.
func (o *InitOptions) issue(ca, etcdCA *certAuthority, external []string) (*credentials, error) {
	var err error
	if ca == nil {
		if ca, err = newCA("federation-ca:" + o.Name); err != nil {
			return nil, err
		}
	}
	c := &credentials{ca: ca}
	if len(o.EtcdServers) == 0 {
		if etcdCA == nil {
			if etcdCA, err = newCA("federation-etcd-ca:" + o.Name); err != nil {
				return nil, err
			}
		}
		if c.etcd, err = issueEtcd(etcdCA, o.etcdHosts()); err != nil {
			return nil, err
		}
	}
	if c.serving, err = ca.issueServing(manifests.APIServerName, o.servingHosts(external)); err != nil {
		return nil, err
	}
	if c.admin, err = ca.issueClient(adminUser, systemMastersGroup); err != nil {
		return nil, err
	}
	if c.cm, err = ca.issueClient(o.controllerManagerUser()); err != nil {
		return nil, err
	}
	c.cmKubeconfig, err = kubeconfigFor(o.Name, o.inClusterServer(), ca.certPEM, c.cm)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// values are the template inputs.
func (o *InitOptions) values(c *credentials) manifests.FederationValues {
	v := manifests.FederationValues{
		Name:                  o.Name,
		Namespace:             o.FederationSystemNamespace,
		Image:                 o.Image,
		EtcdImage:             o.EtcdImage,
		EtcdStorage:           o.EtcdPVCapacity,
		EtcdServers:           strings.Join(o.EtcdServers, ","),
		APIServerServiceType:  o.APIServerServiceType,
		DNSProvider:           o.DNSProvider,
		DNSZoneName:           strings.TrimSuffix(o.DNSZoneName, "."),
		CloudProvider:         o.CloudProvider,
		ControllerManagerUser: o.controllerManagerUser(),
	}
	v.APIServerReplicas, v.ControllerManagerReplicas = o.replicas(), o.replicas()
	if len(o.EtcdServers) == 0 {
		v.DeployEtcd = true
		var servers, peers []string
		for _, m := range o.etcdMembers() {
			host := fmt.Sprintf("%s.etcd.%s.svc", m, o.FederationSystemNamespace)
			servers = append(servers, "https://"+host+":2379")
			peers = append(peers, m+"=https://"+host+":2380")
		}
		v.EtcdServers = strings.Join(servers, ",")
		v.EtcdInitialCluster = strings.Join(peers, ",")
		v.EtcdReplicas = len(peers)
	} else if o.etcdClient != nil {
		v.EtcdClientCA, v.EtcdClientCert, v.EtcdClientKey = o.etcdClient.ca, o.etcdClient.cert, o.etcdClient.key
	}
	if o.DNSProvider != "" && o.dns != nil {
		v.DNSProviderConfig = o.dns.config
		v.DNSProviderFiles = o.dns.files
		v.DNSConfigHash = o.dns.hash(v.DNSProvider, v.DNSZoneName)
	}
	if o.CloudProvider != "" && o.cloud != nil {
		v.CloudConfig = o.cloud.config
		v.CloudConfigFiles = o.cloud.files
		v.CloudConfigHash = o.cloud.hash(v.CloudProvider)
	}
	if c != nil && c.etcd != nil {
		e := c.etcd
		v.EtcdCACert, v.EtcdCAKey = e.ca.certPEM, e.ca.keyPEM
		v.EtcdServerCert, v.EtcdServerKey = e.server.certPEM, e.server.keyPEM
		v.EtcdPeerCert, v.EtcdPeerKey = e.peer.certPEM, e.peer.keyPEM
		v.EtcdClientCA, v.EtcdClientCert, v.EtcdClientKey = e.ca.certPEM, e.apiserver.certPEM, e.apiserver.keyPEM
		v.EtcdCredentialsHash = hashOf(e.ca.certPEM, e.server.certPEM, e.peer.certPEM)
	}
	if c != nil {
		v.CACert, v.CAKey = c.ca.certPEM, c.ca.keyPEM
		v.ServingCert, v.ServingKey = c.serving.certPEM, c.serving.keyPEM
		v.AdminCert, v.AdminKey = c.admin.certPEM, c.admin.keyPEM
		v.ControllerManagerKubeconfig = c.cmKubeconfig
		v.CredentialsHash = hashOf(c.ca.certPEM, c.serving.certPEM, c.cm.certPEM, v.EtcdClientCA, v.EtcdClientCert, v.EtcdClientKey)
	}
	return v
}

// Render returns the manifests for credentials c as objects, in apply
// order. With --dns-provider or --cloud-provider it reads their files,
// unless Validate has.
func (o *InitOptions) Render(c *credentials) ([]byte, []*unstructured.Unstructured, error) {
	if o.DNSProvider != "" {
		if err := o.loadDNS(); err != nil {
			return nil, nil, err
		}
	}
	if o.CloudProvider != "" {
		if err := o.loadCloud(); err != nil {
			return nil, nil, err
		}
	}
	if err := o.loadEtcdClient(); err != nil {
		return nil, nil, err
	}
	data, err := manifests.RenderFederation(o.values(c))
	if err != nil {
		return nil, nil, err
	}
	objs, err := ParseObjects(data)
	return data, objs, err
}

// Run deploys the control plane.
func (o *InitOptions) Run(ctx context.Context) error {
	if o.DryRun {
		var external []string
		if o.APIServerAdvertiseAddress != "" {
			external = []string{o.APIServerAdvertiseAddress}
		}
		c, err := o.issue(nil, nil, external)
		if err != nil {
			return err
		}
		data, _, err := o.Render(c)
		if err != nil {
			return err
		}
		_, err = o.Out.Write(data)
		return err
	}
	if err := o.connect(); err != nil {
		return err
	}
	if _, err := o.HostClient.Discovery().ServerVersion(); err != nil {
		return o.Host.Explain(fmt.Errorf("get version: %w", err))
	}

	// The namespace and the Service come first: the address outside
	// clients use, which the serving certificate must name, is known only
	// once the Service exists.
	_, objs, err := o.Render(nil)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if obj.GetKind() == "Namespace" || (obj.GetKind() == "Service" && obj.GetName() == manifests.APIServerName) {
			if err := o.apply(ctx, obj); err != nil {
				return err
			}
		}
	}
	external, server, err := o.externalEndpoint(ctx)
	if err != nil {
		return err
	}
	ca, err := o.existingCA(ctx, federationCASecret)
	if err != nil {
		return err
	}
	var etcdCA *certAuthority
	if len(o.EtcdServers) == 0 {
		if etcdCA, err = o.existingCA(ctx, etcdCASecret); err != nil {
			return err
		}
	}
	c, err := o.issue(ca, etcdCA, external)
	if err != nil {
		return err
	}
	_, objs, err = o.Render(c)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if err := o.apply(ctx, obj); err != nil {
			return err
		}
	}
	reachable := server != ""
	if !reachable {
		server = o.inClusterServer()
		fmt.Fprintf(o.ErrOut, "Warning: could not tell the address clients outside the host cluster reach the federation-apiserver at; context %s points at %s, which works only inside the host cluster. Run kubefed init again with --api-server-advertise-address, or set the address with: kubectl config set-cluster %s --server=https://ADDRESS\n", o.Name, server, o.Name)
	}
	if err := o.writeKubeconfig(server, c); err != nil {
		return err
	}
	if o.Wait && reachable {
		if err := o.waitForAPIServer(ctx, server, c); err != nil {
			return err
		}
	}
	fmt.Fprintf(o.Out, "Federation %s is deployed in namespace %s of the host cluster (context %s). Use it with: kubectl --context=%s get clusters\nJoin clusters with: kubefed join CLUSTER_NAME --host-cluster-context=%s --cluster-context=CONTEXT --federation-name=%s\n",
		o.Name, o.FederationSystemNamespace, o.HostClusterContext, o.Name, o.Name, o.Name)
	return nil
}

// storedCA is a Secret where kubefed init keeps a CA across runs.
type storedCA struct {
	// secret is the Secret's name, what the CA's name in messages.
	secret, what string
	// onLoss says what starting over with a new CA does.
	onLoss string
}

var (
	federationCASecret = storedCA{manifests.CASecretName, "CA", "kubeconfigs written before stop working"}
	etcdCASecret       = storedCA{manifests.EtcdCASecretName, "etcd CA", "etcd and the federation-apiserver get new certificates"}
)

// existingCA returns the CA an earlier run stored in sc, or nil.
func (o *InitOptions) existingCA(ctx context.Context, sc storedCA) (*certAuthority, error) {
	s, err := o.HostClient.CoreV1().Secrets(o.FederationSystemNamespace).Get(ctx, sc.secret, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		fmt.Fprintf(o.Out, "Generated a new %s for federation %s\n", sc.what, o.Name)
		return nil, nil
	}
	if err != nil {
		return nil, o.Host.Explain(fmt.Errorf("get secret %s/%s: %w", o.FederationSystemNamespace, sc.secret, err))
	}
	ca, err := loadCA(s.Data["ca.crt"], s.Data["ca.key"])
	if err != nil {
		return nil, fmt.Errorf("secret %s/%s of an earlier kubefed init holds no usable %s: %w; delete the secret to start over with a new one (%s)", o.FederationSystemNamespace, sc.secret, sc.what, err, sc.onLoss)
	}
	fmt.Fprintf(o.Out, "Using the %s of an earlier kubefed init, from Secret %s/%s\n", sc.what, o.FederationSystemNamespace, sc.secret)
	return ca, nil
}

// externalEndpoint finds the addresses outside clients reach the
// federation-apiserver at, and the server URL for the kubeconfig (empty if
// none is known).
func (o *InitOptions) externalEndpoint(ctx context.Context) (hosts []string, server string, err error) {
	services := o.HostClient.CoreV1().Services(o.FederationSystemNamespace)
	svc, err := services.Get(ctx, manifests.APIServerName, metav1.GetOptions{})
	if err != nil {
		return nil, "", o.Host.Explain(fmt.Errorf("get service %s/%s: %w", o.FederationSystemNamespace, manifests.APIServerName, err))
	}
	port := manifests.ServicePort
	if o.APIServerServiceType == ServiceTypeNodePort {
		port = int(nodePort(svc))
		if port == 0 {
			return nil, "", fmt.Errorf("service %s/%s has no node port yet; run kubefed init again", o.FederationSystemNamespace, manifests.APIServerName)
		}
	}
	if a := o.APIServerAdvertiseAddress; a != "" {
		return []string{a}, serverURL(a, port), nil
	}
	switch o.APIServerServiceType {
	case ServiceTypeLoadBalancer:
		if addr := lbAddress(svc); addr != "" || !o.Wait {
			if addr == "" {
				return nil, "", nil
			}
			return []string{addr}, serverURL(addr, port), nil
		}
		fmt.Fprintf(o.Out, "Waiting up to %s for the load balancer of service %s/%s\n", o.WaitTimeout, o.FederationSystemNamespace, manifests.APIServerName)
		var addr string
		err := wait.PollUntilContextTimeout(ctx, 2*time.Second, o.WaitTimeout, true, func(ctx context.Context) (bool, error) {
			s, err := services.Get(ctx, manifests.APIServerName, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			addr = lbAddress(s)
			return addr != "", nil
		})
		if err != nil {
			return nil, "", fmt.Errorf("service %s/%s got no load balancer address within %s: %w; does the host cluster provision load balancers? Use --api-server-service-type=NodePort, or --api-server-advertise-address, or raise --wait-timeout",
				o.FederationSystemNamespace, manifests.APIServerName, o.WaitTimeout, err)
		}
		return []string{addr}, serverURL(addr, port), nil
	default:
		nodes, err := o.HostClient.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, "", o.Host.Explain(fmt.Errorf("list nodes for their addresses (or pass --api-server-advertise-address): %w", err))
		}
		addrs := nodeAddresses(nodes.Items)
		if len(addrs) == 0 {
			return nil, "", nil
		}
		return addrs, serverURL(addrs[0], port), nil
	}
}

func nodePort(svc *corev1.Service) int32 {
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			return p.NodePort
		}
	}
	return 0
}

func lbAddress(svc *corev1.Service) string {
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			return in.IP
		}
		if in.Hostname != "" {
			return in.Hostname
		}
	}
	return ""
}

// nodeAddresses are the nodes' external addresses, or their internal ones
// if none has an external one: every node serves a NodePort.
func nodeAddresses(nodes []corev1.Node) []string {
	for _, typ := range []corev1.NodeAddressType{corev1.NodeExternalIP, corev1.NodeInternalIP} {
		var addrs []string
		for _, n := range nodes {
			for _, a := range n.Status.Addresses {
				if a.Type == typ && a.Address != "" && len(addrs) < maxAdvertisedAddress {
					addrs = append(addrs, a.Address)
				}
			}
		}
		if len(addrs) > 0 {
			return addrs
		}
	}
	return nil
}

func serverURL(host string, port int) string {
	return "https://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// apply server-side applies one object.
func (o *InitOptions) apply(ctx context.Context, obj *unstructured.Unstructured) error {
	gvk := obj.GroupVersionKind()
	desc := obj.GetKind() + " " + key(obj.GetNamespace(), obj.GetName())
	mapping, err := o.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return o.Host.Explain(fmt.Errorf("the host cluster does not serve %s: %w", gvk, err))
	}
	var r dynamic.ResourceInterface = o.HostDynamic.Resource(mapping.Resource)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		r = o.HostDynamic.Resource(mapping.Resource).Namespace(obj.GetNamespace())
	}
	if _, err := r.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
		if apierrors.IsForbidden(err) {
			return fmt.Errorf("host cluster refused %s: %w; kubefed init needs cluster-admin rights in the host cluster (context %q)", desc, err, o.HostClusterContext)
		}
		return o.Host.Explain(fmt.Errorf("apply %s: %w", desc, err))
	}
	fmt.Fprintf(o.Out, "Applied %s\n", desc)
	return nil
}

// writeKubeconfig adds (or replaces) the context NAME for the federation's
// admin.
func (o *InitOptions) writeKubeconfig(server string, c *credentials) error {
	cfg, err := o.KubeconfigAccess.GetStartingConfig()
	if err != nil {
		return fmt.Errorf("read kubeconfig to add context %s: %w", o.Name, err)
	}
	_, replaced := cfg.Contexts[o.Name]
	cfg.Clusters[o.Name] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: c.ca.certPEM}
	cfg.AuthInfos[o.Name] = &clientcmdapi.AuthInfo{ClientCertificateData: c.admin.certPEM, ClientKeyData: c.admin.keyPEM}
	cfg.Contexts[o.Name] = &clientcmdapi.Context{Cluster: o.Name, AuthInfo: o.Name}
	if err := clientcmd.ModifyConfig(o.KubeconfigAccess, *cfg, true); err != nil {
		return fmt.Errorf("write context %s into kubeconfig %s: %w", o.Name, o.KubeconfigAccess.GetDefaultFilename(), err)
	}
	verb := "Added"
	if replaced {
		verb = "Replaced"
	}
	fmt.Fprintf(o.Out, "%s context %s (server %s) in kubeconfig %s\n", verb, o.Name, server, o.KubeconfigAccess.GetDefaultFilename())
	return nil
}

// waitForAPIServer polls the federation-apiserver's /readyz as the admin.
func (o *InitOptions) waitForAPIServer(ctx context.Context, server string, c *credentials) error {
	cfg := &rest.Config{
		Host:            server,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.ca.certPEM, CertData: c.admin.certPEM, KeyData: c.admin.keyPEM},
		Timeout:         o.RequestTimeout,
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "Waiting up to %s for the federation-apiserver at %s\n", o.WaitTimeout, server)
	var last error
	err = wait.PollUntilContextTimeout(ctx, 2*time.Second, o.WaitTimeout, true, func(ctx context.Context) (bool, error) {
		body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			last = err
			return false, nil
		}
		if string(body) != "ok" {
			last = fmt.Errorf("/readyz: %s", body)
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("the federation-apiserver at %s did not answer within %s (last: %v): %w; check its pods: kubectl --context=%s -n %s get pods, and kubectl --context=%s -n %s logs deployment/%s",
			server, o.WaitTimeout, last, err, o.HostClusterContext, o.FederationSystemNamespace, o.HostClusterContext, o.FederationSystemNamespace, manifests.APIServerName)
	}
	fmt.Fprintf(o.Out, "The federation-apiserver answers at %s\n", server)
	return nil
}

// kubeconfigFor is a kubeconfig with the client certificate kp embedded.
func kubeconfigFor(name, server string, caPEM []byte, kp keyPair) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{ClientCertificateData: kp.certPEM, ClientKeyData: kp.keyPEM}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	cfg.CurrentContext = name
	return clientcmd.Write(*cfg)
}

// ParseObjects splits a multi-document YAML stream into objects, skipping
// empty documents.
func ParseObjects(data []byte) ([]*unstructured.Unstructured, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for i := 0; ; i++ {
		doc, err := reader.Read()
		if err == io.EOF {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read manifest document %d: %w", i, err)
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("manifest document %d: %w", i, err)
		}
		if t := bytes.TrimSpace(js); len(t) == 0 || string(t) == "null" {
			continue
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(js); err != nil {
			return nil, fmt.Errorf("manifest document %d: %w", i, err)
		}
		objs = append(objs, obj)
	}
}

func key(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}
