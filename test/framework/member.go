package framework

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// MemberOptions describe one member cluster.
type MemberOptions struct {
	Name   string
	Zone   string
	Region string
	// Nodes is the number of simulated nodes (default 2).
	Nodes int
	// NodeCPU, NodeMemory and NodePods are each node's capacity (default
	// 32 CPUs, 256Gi, 110 pods).
	NodeCPU    string
	NodeMemory string
	NodePods   int
	// APIServerOnly starts only the member's kube-apiserver: no
	// controllers, scheduler or nodes. Tests and benchmarks that use the
	// member as a reference API server want it, so that controllers
	// reacting to their objects (endpoints for every Service, pods for
	// every ReplicaSet) neither change what they observe nor compete for
	// CPU.
	APIServerOnly bool
	// Lean implies APIServerOnly and starts the kube-apiserver with
	// LeanAPIServerArgs: lighter at rest, for benchmarks that run tens of
	// members on one machine.
	Lean bool
	// CPUs pin the member's processes (see Process.CPUs).
	CPUs []int
	// APIServerArgs are extra kube-apiserver flags; they win over the
	// framework's own.
	APIServerArgs []string
}

func (o *MemberOptions) defaults() {
	if o.Nodes == 0 {
		o.Nodes = 2
	}
	if o.NodeCPU == "" {
		o.NodeCPU = "32"
	}
	if o.NodeMemory == "" {
		o.NodeMemory = "256Gi"
	}
	if o.NodePods == 0 {
		o.NodePods = 110
	}
}

// Member is a real Kubernetes cluster: kube-apiserver,
// kube-controller-manager, kube-scheduler, and kwok playing the kubelets of
// simulated nodes.
type Member struct {
	MemberOptions
	Endpoint Endpoint
	// Dir holds the member's certificates, kubeconfig and data; LogDir
	// its logs.
	Dir, LogDir string
	// DNS is the member's cluster DNS once StartClusterDNS ran.
	DNS *MemberDNS

	APIServer         *Process
	ControllerManager *Process
	Scheduler         *Process
	Kwok              *Process

	Client kubernetes.Interface

	// cloud simulates the member's cloud provider until cloudCtx ends;
	// stopCloud ends it.
	cloud     *CloudSimulator
	cloudCtx  context.Context
	stopCloud context.CancelFunc
}

// Processes lists the member's running processes, API server first.
func (m *Member) Processes() []*Process {
	var ps []*Process
	for _, p := range []*Process{m.APIServer, m.ControllerManager, m.Scheduler, m.Kwok} {
		if p != nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// StartMember starts a member cluster on the shared etcd, under its own
// prefix, and waits until its simulated nodes are Ready.
func StartMember(ctx context.Context, etcd *Etcd, pki *PKI, dir, logDir string, opts MemberOptions) (*Member, error) {
	opts.defaults()
	if opts.Lean {
		opts.APIServerOnly = true
	}
	dir = filepath.Join(dir, opts.Name)
	logDir = filepath.Join(logDir, opts.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	servingCert, servingKey, err := pki.CA.IssueServing(dir, "apiserver", []string{"localhost", "kubernetes", "kubernetes.default.svc"}, []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1")})
	if err != nil {
		return nil, err
	}
	adminCert, adminKey, err := pki.CA.IssueClient(dir, "admin", "admin", "system:masters")
	if err != nil {
		return nil, err
	}
	ep := Endpoint{
		Context:  opts.Name,
		Server:   fmt.Sprintf("https://127.0.0.1:%d", port),
		CAFile:   pki.CA.CertFile,
		CertFile: adminCert,
		KeyFile:  adminKey,
	}
	kubeconfig := filepath.Join(dir, "admin.kubeconfig")
	if err := WriteKubeconfig(kubeconfig, ep); err != nil {
		return nil, err
	}
	m := &Member{MemberOptions: opts, Endpoint: ep, Dir: dir, LogDir: logDir}
	m.APIServer = NewProcess("kube-apiserver", Binary("kube-apiserver"), []string{
		"--etcd-servers=" + etcd.ClientURL,
		"--etcd-prefix=/members/" + opts.Name + "/registry",
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--tls-cert-file=" + servingCert,
		"--tls-private-key-file=" + servingKey,
		"--client-ca-file=" + pki.CA.CertFile,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + pki.ServiceAccountPub,
		"--service-account-signing-key-file=" + pki.ServiceAccountKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--authorization-mode=RBAC",
		// Front-proxy settings, so that this cluster's kube-aggregator can
		// proxy to an aggregated API server such as the federation's.
		"--requestheader-client-ca-file=" + pki.FrontProxyCA.CertFile,
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + pki.FrontProxyClientCert,
		"--proxy-client-key-file=" + pki.FrontProxyClientKey,
		"--enable-aggregator-routing=true",
		"--profiling=false",
		"--v=1",
	}, logDir)
	if opts.Lean {
		m.APIServer.Args = append(m.APIServer.Args, LeanAPIServerArgs...)
	}
	m.APIServer.Args = append(m.APIServer.Args, opts.APIServerArgs...)
	m.APIServer.CPUs = opts.CPUs
	if err := m.APIServer.Start(); err != nil {
		return nil, err
	}
	m.Client, err = kubernetes.NewForConfig(ep.RESTConfig())
	if err != nil {
		m.Stop()
		return nil, err
	}
	if err := m.WaitReady(ctx); err != nil {
		m.Stop()
		return nil, err
	}
	if opts.APIServerOnly {
		return m, nil
	}

	m.ControllerManager = NewProcess("kube-controller-manager", Binary("kube-controller-manager"), []string{
		"--kubeconfig=" + kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
		"--service-account-private-key-file=" + pki.ServiceAccountKey,
		"--root-ca-file=" + pki.CA.CertFile,
		"--controllers=*",
		"--concurrent-replicaset-syncs=10",
		"--concurrent-deployment-syncs=10",
		// kube-controller-manager's default of 20 requests a second would
		// let its work for a burst of objects (the EndpointSlices of a
		// thousand Services) trickle on for a minute after the burst.
		"--kube-api-qps=200",
		"--kube-api-burst=400",
		"--v=1",
	}, logDir)
	m.Scheduler = NewProcess("kube-scheduler", Binary("kube-scheduler"), []string{
		"--kubeconfig=" + kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
		"--v=1",
	}, logDir)
	kwokBin, _ := BinDir()
	m.Kwok = NewProcess("kwok", Binary("kwok"), []string{
		"--kubeconfig=" + kubeconfig,
		"--config=" + filepath.Join(kwokBin, "kwok-stages.yaml"),
		"--manage-all-nodes=false",
		"--manage-nodes-with-label-selector=type=kwok",
		// The heartbeat-with-lease stage updates node status only every ten
		// minutes and counts on node leases for liveness, as kwokctl's own
		// configuration sets them up.
		"--node-lease-duration-seconds=40",
		"--server-address=",
		"--v=1",
	}, logDir)
	for _, p := range []*Process{m.ControllerManager, m.Scheduler, m.Kwok} {
		p.CPUs = opts.CPUs
		if err := p.Start(); err != nil {
			m.Stop()
			return nil, err
		}
	}
	if err := m.createNodes(ctx); err != nil {
		m.Stop()
		return nil, err
	}
	if err := m.createCoreDNSConfig(ctx); err != nil {
		m.Stop()
		return nil, err
	}
	m.cloudCtx, m.stopCloud = context.WithCancel(context.Background())
	m.cloud = StartCloudSimulator(m.cloudCtx, m.Name, m.Client)
	return m, nil
}

// LeanAPIServerArgs are the kube-apiserver flags of a Lean member: the
// API groups, watch caches, admission plugins and background loops that
// nothing of a federation's member uses turned off. Each was kept only if
// it lowered a member's resident memory or its processor time at rest,
// measured on kube-apiserver v1.36 (the pinned version) started by itself
// on a shared etcd, 20 s after /readyz, over 30 s (one member at a time)
// and over 90 s (all side by side):
//
//	                                            RSS       processor, 30 s   90 s
//	plain APIServerOnly                         260-269   0.33-0.40 s       1.20 s
//	--enable-priority-and-fairness=false        262-264   0.35 s            1.19 s
//	  + admission plugins off                   261       0.31 s
//	  + --runtime-config (11 groups of 21)      209-220   0.24-0.26 s
//	  + watch caches off where nobody watches   191-212   0.18-0.20 s       0.71 s
//	  + endpoint reconciler, identity lease off 208-212   0.15 s            0.62 s
//	  + etcd metric polls off                   201-203   0.20 s            0.60 s
//
// So a lean member takes about 60 MiB less and half the processor time of
// a plain one at rest; resident memory varies by 20 MiB from run to run
// with the garbage collector's timing. Priority and fairness off saves
// nothing by itself, but its API group must go with it.
var LeanAPIServerArgs = []string{
	// The groups whose kinds the federation syncs (core v1 namespaces,
	// secrets, configmaps, services, serviceaccounts; rbac four kinds;
	// networking ingressclasses and ingresses; apps replicasets,
	// deployments, daemonsets; batch jobs) or reads (discovery.k8s.io
	// EndpointSlices), coordination.k8s.io for the apiserver's own leases,
	// the two review groups (no storage, used by authentication and
	// authorization), and the two kube-apiserver cannot start without:
	// apiregistration.k8s.io (the aggregator), apiextensions.k8s.io (its
	// CRD informer must sync for /readyz). The rest (storage, policy,
	// autoscaling, certificates, events.k8s.io, flowcontrol, node,
	// scheduling, resource, admissionregistration) have no storage, no
	// cachers and no informers: about 50 MiB less at rest.
	"--runtime-config=api/all=false,v1=true,apps/v1=true,batch/v1=true,rbac.authorization.k8s.io/v1=true,networking.k8s.io/v1=true,discovery.k8s.io/v1=true,coordination.k8s.io/v1=true,authentication.k8s.io/v1=true,authorization.k8s.io/v1=true,apiregistration.k8s.io/v1=true,apiextensions.k8s.io/v1=true",
	// flowcontrol.apiserver.k8s.io is off, which priority and fairness
	// needs; the max-in-flight limits take its place. It also drops the
	// configuration controllers that maintain the FlowSchemas.
	"--enable-priority-and-fairness=false",
	// The admission plugins whose informers watch the groups turned off
	// (they would hold /readyz back forever: "not yet ready to handle
	// request"), and those that only concern pods and nodes, which a lean
	// member never has. NamespaceLifecycle, ServiceAccount, LimitRanger,
	// ResourceQuota and DefaultIngressClass stay.
	"--disable-admission-plugins=Priority,DefaultStorageClass,PersistentVolumeClaimResize,RuntimeClass,ClusterTrustBundleAttest,MutatingAdmissionPolicy,MutatingAdmissionWebhook,ValidatingAdmissionPolicy,ValidatingAdmissionWebhook,PodGroupProtection,PodGroupWorkloadExists,StorageObjectInUseProtection,CertificateApproval,CertificateSigning,CertificateSubjectRestriction,PodSecurity,PodTopologyLabels,NodeDeclaredFeatureValidator,PodResizeValidator,DefaultTolerationSeconds,TaintNodesByCondition",
	// No watch cache (its reflector, its etcd watch and its ring of
	// events) for the resources of the enabled groups that nobody but the
	// apiserver itself watches: their few internal watches go to etcd. The
	// synced and read kinds keep theirs, as in a real cluster.
	"--watch-cache-sizes=pods#0,nodes#0,endpoints#0,events#0,limitranges#0,resourcequotas#0,persistentvolumes#0,persistentvolumeclaims#0,podtemplates#0,replicationcontrollers#0,statefulsets.apps#0,controllerrevisions.apps#0,cronjobs.batch#0,networkpolicies.networking.k8s.io#0,ipaddresses.networking.k8s.io#0,servicecidrs.networking.k8s.io#0,customresourcedefinitions.apiextensions.k8s.io#0,apiservices.apiregistration.k8s.io#0",
	// No writes every 10 s for the kubernetes Service's endpoints and
	// lease and for the apiserver identity lease
	// (UnknownVersionInteroperabilityProxy needs the latter): 13 % less
	// processor at rest. Nobody reads the default kubernetes Service's
	// endpoints of a lean member.
	"--endpoint-reconciler-type=none",
	"--feature-gates=APIServerIdentity=false,UnknownVersionInteroperabilityProxy=false",
	// No count of every resource's keys each minute nor database size
	// every 30 s: 5-7 % less processor at rest, at the edge of the noise,
	// and requests the members' shared etcd no longer serves for each of
	// fifty members.
	"--etcd-count-metric-poll-period=0",
	"--etcd-db-metric-poll-interval=0",
}

// WaitReady waits until the member's kube-apiserver answers /readyz.
func (m *Member) WaitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	return m.APIServer.WaitFor(ctx, "/readyz ok", func(ctx context.Context) error {
		body, err := m.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return err
		}
		if string(body) != "ok" {
			return fmt.Errorf("/readyz: %s", body)
		}
		return nil
	})
}

func (m *Member) createNodes(ctx context.Context) error {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(m.NodeCPU),
		corev1.ResourceMemory: resource.MustParse(m.NodeMemory),
		corev1.ResourcePods:   *resource.NewQuantity(int64(m.NodePods), resource.DecimalSI),
	}
	for i := 0; i < m.Nodes; i++ {
		name := fmt.Sprintf("%s-node-%d", m.Name, i)
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name: name,
				Labels: map[string]string{
					"type":                          "kwok",
					"kubernetes.io/hostname":        name,
					"kubernetes.io/os":              "linux",
					"topology.kubernetes.io/zone":   m.Zone,
					"topology.kubernetes.io/region": m.Region,
				},
				Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			},
			Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
		}
		if _, err := m.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("member %s: create node %s: %w", m.Name, name, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	return m.Kwok.WaitFor(ctx, "nodes Ready", func(ctx context.Context) error {
		nodes, err := m.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "type=kwok"})
		if err != nil {
			return err
		}
		ready := 0
		for _, n := range nodes.Items {
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		if ready < m.Nodes {
			return fmt.Errorf("%d of %d nodes Ready", ready, m.Nodes)
		}
		return nil
	})
}

// Stop stops every process of the member.
func (m *Member) Stop() {
	if m.stopCloud != nil {
		m.stopCloud()
	}
	if m.DNS != nil {
		_ = m.DNS.Process.Stop(10 * time.Second)
	}
	for _, p := range []*Process{m.Kwok, m.Scheduler, m.ControllerManager, m.APIServer} {
		if p != nil {
			_ = p.Stop(10 * time.Second)
		}
	}
}

// ThreeZoneMembers are the members of make run and of the DNS and Ingress
// tests: us-central1-a and us-central1-b (region us-central1) and
// europe-west1-b (region europe-west1), each named after its zone.
func ThreeZoneMembers() []MemberOptions {
	return []MemberOptions{
		{Name: "us-central1-a", Zone: "us-central1-a", Region: "us-central1"},
		{Name: "us-central1-b", Zone: "us-central1-b", Region: "us-central1"},
		{Name: "europe-west1-b", Zone: "europe-west1-b", Region: "europe-west1"},
	}
}

// TwoRegionMembers are two members in two regions, us-central1-a and
// europe-west1-b: what most e2e packages need to see an object reach more
// than one cluster.
func TwoRegionMembers() []MemberOptions {
	return []MemberOptions{
		{Name: "us-central1-a", Zone: "us-central1-a", Region: "us-central1"},
		{Name: "europe-west1-b", Zone: "europe-west1-b", Region: "europe-west1"},
	}
}
