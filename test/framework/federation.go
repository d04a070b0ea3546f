package framework

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
)

// FederationContext is the kubeconfig context of the federation's API.
const FederationContext = "federation-cluster"

// Options describe a federation to start.
type Options struct {
	// Dir holds data, certificates and the kubeconfig; LogDir the logs
	// (default Dir/logs).
	Dir    string
	LogDir string
	// Members are the member clusters, started in parallel.
	Members []MemberOptions
	// EmbeddedEtcd runs the federation-apiserver on its own embedded etcd
	// instead of the shared etcd.
	EmbeddedEtcd bool
	// APIServerArgs are extra federation-apiserver flags.
	APIServerArgs []string
	// NoControllerManager leaves the federation-controller-manager out.
	// The apiserver then runs without the FederationFinalizer admission
	// plugin, since nothing would take the finalizer off, unless
	// ControllerManagerElsewhere says the test runs its own.
	NoControllerManager        bool
	ControllerManagerElsewhere bool
	// ControllerManagerArgs are extra federation-controller-manager flags;
	// they come last, so they win over the framework's own.
	ControllerManagerArgs []string
	// FederationName, when set, is the controller manager's
	// --federation-name (its default is "federation").
	FederationName string
	// DNS starts a CoreDNS serving DNSZone (Federation.DNS) and has the
	// controller manager write Service records into it.
	DNS bool
	// Compute starts a simulated Google Cloud project (Federation.Cloud):
	// a fake Compute Engine API, a stand-in for GCE's ingress controller
	// in every member that has a zone, and the controller manager with
	// --cloud-provider=gce pointed at it.
	Compute bool
	// FederationCPUs pin the federation-apiserver and the
	// federation-controller-manager, and MemberCPUs the shared etcd and
	// every member's processes (unless a member sets its own), so that a
	// benchmark can keep them apart as separate machines would. Empty
	// means no pinning.
	FederationCPUs, MemberCPUs []int
	// HA runs the control plane highly available: the
	// federation-apiservers on an etcd cluster of three members speaking
	// only TLS (Federation.EtcdCluster), two federation-apiservers behind a
	// TCP balancer whose address is the Endpoint (Federation.Balancer), and
	// two controller managers (Federation.ControllerManagers), which elect
	// a leader if ControllerManagerArgs say --leader-elect=true. Members
	// keep the plain shared etcd.
	HA bool
}

// Federation is a running federation: the control plane and its members.
type Federation struct {
	Dir, LogDir string
	PKI         *PKI
	Etcd        *Etcd

	// APIServer is the federation-apiserver, the first of APIServers.
	APIServer  *Process
	APIServers []*Process
	// EtcdCluster and Balancer are the HA control plane's (Options.HA).
	EtcdCluster *EtcdCluster
	Balancer    *Balancer
	Endpoint    Endpoint
	Client      kubernetes.Interface
	// ControllerManager is the first of ControllerManagers.
	ControllerManager  *Process
	ControllerManagers []*Process
	// ControllerManagerEndpoint is the controller manager's secure port
	// (/healthz, /metrics, /debug/pprof with --profiling) with the
	// federation admin's certificate, of group system:masters, which may
	// read everything there.
	ControllerManagerEndpoint Endpoint
	// DNS is the CoreDNS the controller manager writes to, when
	// Options.DNS asked for one.
	DNS *DNSServer
	// Cloud is the simulated Google Cloud project, when Options.Compute
	// asked for one.
	Cloud *CloudProject

	Members []*Member
	// Kubeconfig has the context federation-cluster (current) and one
	// context per member, named after it.
	Kubeconfig string
	// FederationName is Options.FederationName: "" for the controller
	// manager's default.
	FederationName string
}

// Start starts etcd, the federation-apiserver, the DNS server (with
// Options.DNS), the members and the federation-controller-manager, and
// waits until each answers.
func Start(ctx context.Context, opts Options) (_ *Federation, err error) {
	if err := EnsureBinaries(); err != nil {
		return nil, err
	}
	if opts.LogDir == "" {
		opts.LogDir = filepath.Join(opts.Dir, "logs")
	}
	f := &Federation{Dir: opts.Dir, LogDir: opts.LogDir, Kubeconfig: filepath.Join(opts.Dir, "kubeconfig"), FederationName: opts.FederationName}
	defer func() {
		if err != nil {
			f.Stop()
		}
	}()
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	if f.PKI, err = NewPKI(opts.Dir); err != nil {
		return nil, err
	}
	if f.Etcd, err = StartEtcd(ctx, opts.Dir, opts.LogDir, opts.MemberCPUs); err != nil {
		return nil, err
	}
	if err := f.startAPIServer(ctx, opts); err != nil {
		return nil, err
	}
	if opts.DNS {
		if f.DNS, err = StartDNS(ctx, filepath.Join(opts.Dir, "dns"), filepath.Join(opts.LogDir, "dns"), DNSZone); err != nil {
			return nil, err
		}
	}

	// Members start in parallel: each takes a few seconds of kube-apiserver
	// start-up.
	f.Members = make([]*Member, len(opts.Members))
	errs := make([]error, len(opts.Members))
	var wg sync.WaitGroup
	for i, mo := range opts.Members {
		wg.Add(1)
		if mo.CPUs == nil {
			mo.CPUs = opts.MemberCPUs
		}
		go func() {
			defer wg.Done()
			f.Members[i], errs[i] = StartMember(ctx, f.Etcd, f.PKI, filepath.Join(opts.Dir, "members"), opts.LogDir, mo)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if opts.Compute {
		if err := f.startCloudProject(ctx, opts); err != nil {
			return nil, err
		}
	}
	if err := f.writeKubeconfig(); err != nil {
		return nil, err
	}
	if !opts.NoControllerManager {
		if err := f.startControllerManager(opts); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (f *Federation) writeKubeconfig() error {
	eps := []Endpoint{f.Endpoint}
	for _, m := range f.Members {
		if m != nil {
			eps = append(eps, m.Endpoint)
		}
	}
	return WriteKubeconfig(f.Kubeconfig, eps...)
}

func (f *Federation) startAPIServer(ctx context.Context, opts Options) error {
	if _, err := os.Stat(Binary("federation-apiserver")); err != nil {
		return fmt.Errorf("federation-apiserver is not built (run make build): %w", err)
	}
	dir := filepath.Join(opts.Dir, "federation-apiserver")
	cert, key, err := f.PKI.CA.IssueServing(dir, "serving", []string{"localhost", "federation-apiserver"}, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		return err
	}
	adminCert, adminKey, err := f.PKI.CA.IssueClient(dir, "admin", "admin", "system:masters")
	if err != nil {
		return err
	}
	args := []string{
		"--bind-address=127.0.0.1",
		"--tls-cert-file=" + cert,
		"--tls-private-key-file=" + key,
		"--client-ca-file=" + f.PKI.CA.CertFile,
	}
	switch {
	case opts.HA:
		if f.EtcdCluster, err = StartEtcdCluster(ctx, f.PKI.CA, filepath.Join(opts.Dir, "etcd-cluster"), opts.LogDir, 3); err != nil {
			return err
		}
		args = append(args, f.EtcdCluster.APIServerArgs()...)
		args = append(args, "--etcd-prefix=/federation/registry")
	case opts.EmbeddedEtcd:
		args = append(args, "--embedded-etcd-data-dir="+filepath.Join(dir, "etcd"))
	default:
		args = append(args, "--etcd-servers="+f.Etcd.ClientURL, "--etcd-prefix=/federation/registry")
	}
	if opts.NoControllerManager && !opts.ControllerManagerElsewhere {
		// Nothing would take the federation's finalizer off a deleted
		// object: without a controller manager, deletes would wait
		// forever, as in a real federation whose controller manager is
		// down.
		args = append(args, "--disable-admission-plugins=FederationFinalizer")
	}
	args = append(args, opts.APIServerArgs...)

	var addrs []string
	for _, name := range replicaNames("federation-apiserver", opts.HA) {
		port, err := FreePort()
		if err != nil {
			return err
		}
		p := NewProcess(name, Binary("federation-apiserver"), append([]string{"--secure-port=" + strconv.Itoa(port)}, args...), opts.LogDir)
		p.CPUs = opts.FederationCPUs
		if err := p.Start(); err != nil {
			return err
		}
		f.APIServers = append(f.APIServers, p)
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", port))
	}
	f.APIServer = f.APIServers[0]
	server := "https://" + addrs[0]
	if opts.HA {
		if f.Balancer, err = StartBalancer(addrs...); err != nil {
			return err
		}
		server = "https://" + f.Balancer.Addr
	}
	f.Endpoint = Endpoint{
		Context:  FederationContext,
		Server:   server,
		CAFile:   f.PKI.CA.CertFile,
		CertFile: adminCert,
		KeyFile:  adminKey,
	}
	if f.Client, err = kubernetes.NewForConfig(f.Endpoint.RESTConfig()); err != nil {
		return err
	}
	return f.WaitAPIServerReady(ctx)
}

// replicaNames are the process names of a control-plane component: one,
// named base, or with ha two, base-0 and base-1.
func replicaNames(base string, ha bool) []string {
	if !ha {
		return []string{base}
	}
	return []string{base + "-0", base + "-1"}
}

// WaitAPIServerReady waits until the federation-apiserver answers /readyz
// and its bootstrap namespaces exist.
func (f *Federation) WaitAPIServerReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	return f.APIServer.WaitFor(ctx, "/readyz ok", func(ctx context.Context) error {
		body, err := f.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return err
		}
		if string(body) != "ok" {
			return fmt.Errorf("/readyz: %s", body)
		}
		_, err = f.Client.CoreV1().Namespaces().Get(ctx, federationv1beta1.FederationSystemNamespace, metav1.GetOptions{})
		return err
	})
}

func (f *Federation) startControllerManager(opts Options) error {
	if _, err := os.Stat(Binary("federation-controller-manager")); err != nil {
		return fmt.Errorf("federation-controller-manager is not built: %w", err)
	}
	kubeconfig := filepath.Join(opts.Dir, "federation-apiserver", "admin.kubeconfig")
	if err := WriteKubeconfig(kubeconfig, f.Endpoint); err != nil {
		return err
	}
	// The controller manager serves on a free port of 127.0.0.1 with a
	// certificate of the framework's CA, and trusts that CA's client
	// certificates, so that the admin's may read /metrics. It has no
	// cluster to ask about tokens (--authentication-kubeconfig): tests
	// that want one add it.
	dir := filepath.Join(opts.Dir, "federation-controller-manager")
	cert, key, err := f.PKI.CA.IssueServing(dir, "serving", []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		return err
	}
	args := []string{
		"--kubeconfig=" + kubeconfig,
		"--bind-address=127.0.0.1",
		"--tls-cert-file=" + cert,
		"--tls-private-key-file=" + key,
		"--client-ca-file=" + f.PKI.CA.CertFile,
		// As kubefed init's: no front proxy stands before it.
		"--authentication-skip-lookup=true",
	}
	if opts.FederationName != "" {
		args = append(args, "--federation-name="+opts.FederationName)
	}
	if f.DNS != nil {
		args = append(args, f.DNS.ControllerManagerArgs()...)
	}
	if f.Cloud != nil {
		args = append(args, f.Cloud.ControllerManagerArgs()...)
	}
	args = append(args, opts.ControllerManagerArgs...)
	for i, name := range replicaNames("federation-controller-manager", opts.HA) {
		port, err := FreePort()
		if err != nil {
			return err
		}
		p := NewProcess(name, Binary("federation-controller-manager"), append([]string{"--secure-port=" + strconv.Itoa(port)}, args...), opts.LogDir)
		p.CPUs = opts.FederationCPUs
		if err := p.Start(); err != nil {
			return err
		}
		f.ControllerManagers = append(f.ControllerManagers, p)
		if i == 0 {
			f.ControllerManager = p
			f.ControllerManagerEndpoint = Endpoint{
				Server:   fmt.Sprintf("https://127.0.0.1:%d", port),
				CAFile:   f.PKI.CA.CertFile,
				CertFile: f.Endpoint.CertFile,
				KeyFile:  f.Endpoint.KeyFile,
			}
		}
	}
	return nil
}

// ControllerManagerGet reads path from the controller manager's secure
// port as the federation's admin, and fails unless the answer is 200.
func (f *Federation) ControllerManagerGet(ctx context.Context, path string) ([]byte, error) {
	if f.ControllerManagerEndpoint.Server == "" {
		return nil, fmt.Errorf("GET %s: the framework started no controller manager", path)
	}
	client, err := rest.HTTPClientFor(f.ControllerManagerEndpoint.RESTConfig())
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.ControllerManagerEndpoint.Server+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s from the controller manager: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s from the controller manager: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s from the controller manager: %s: %s", path, resp.Status, body)
	}
	return body, nil
}

// startCloudProject starts the fake Compute Engine API and a GLBC
// stand-in in every member with a zone.
func (f *Federation) startCloudProject(ctx context.Context, opts Options) error {
	var err error
	if f.Cloud, err = StartCloudProject(ctx, filepath.Join(opts.Dir, "cloud")); err != nil {
		return err
	}
	for _, m := range f.Members {
		if m.Zone == "" || m.APIServerOnly {
			continue
		}
		if err := m.StartGLBC(ctx, f.Cloud); err != nil {
			return err
		}
	}
	return nil
}

// Member returns the member called name, or nil.
func (f *Federation) Member(name string) *Member {
	for _, m := range f.Members {
		if m != nil && m.Name == name {
			return m
		}
	}
	return nil
}

// Stop stops every process: controller manager, DNS server, members, API
// server, etcd.
func (f *Federation) Stop() {
	for _, cm := range f.ControllerManagers {
		_ = cm.Stop(10 * time.Second)
	}
	if f.DNS != nil {
		f.DNS.Stop()
	}
	var wg sync.WaitGroup
	for _, m := range f.Members {
		if m != nil {
			wg.Add(1)
			go func() { defer wg.Done(); m.Stop() }()
		}
	}
	wg.Wait()
	if f.Cloud != nil {
		f.Cloud.Stop()
	}
	if f.Balancer != nil {
		f.Balancer.Close()
	}
	for _, a := range f.APIServers {
		_ = a.Stop(10 * time.Second)
	}
	if f.EtcdCluster != nil {
		f.EtcdCluster.Stop()
	}
	if f.Etcd != nil {
		_ = f.Etcd.Stop(10 * time.Second)
	}
}

// StartForTest starts a federation under a temporary directory and stops it
// when the test ends; on failure the logs are kept and their place printed.
func StartForTest(t testing.TB, opts Options) *Federation {
	t.Helper()
	if opts.Dir == "" {
		dir, err := os.MkdirTemp("", "federation-test-")
		if err != nil {
			t.Fatal(err)
		}
		opts.Dir = dir
	}
	// Building binaries (cold: many minutes) is not part of start-up time.
	if err := EnsureBinaries(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	f, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("start federation (logs in %s): %v", opts.Dir, err)
	}
	t.Cleanup(func() {
		f.Stop()
		if t.Failed() {
			t.Logf("logs of the federation are in %s", f.LogDir)
			return
		}
		_ = os.RemoveAll(opts.Dir)
	})
	return f
}

// WaitClustersReady waits until every registered Cluster reports Ready.
func (f *Federation) WaitClustersReady(ctx context.Context, timeout time.Duration) error {
	fc, err := f.FederationClient()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		list, err := fc.FederationV1beta1().Clusters().List(ctx, metav1.ListOptions{})
		if err == nil {
			notReady := 0
			last = ""
			for _, c := range list.Items {
				ready := false
				for _, cond := range c.Status.Conditions {
					if cond.Type == "Ready" && cond.Status == "True" {
						ready = true
					}
				}
				if !ready {
					notReady++
					last += " " + c.Name
				}
			}
			if notReady == 0 && len(list.Items) > 0 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("clusters not Ready after %s:%s (is the federation-controller-manager running? see %s)", timeout, last, f.LogDir)
		case <-time.After(500 * time.Millisecond):
		}
	}
}
