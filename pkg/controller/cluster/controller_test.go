package cluster

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	kubeinformers "k8s.io/client-go/informers"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
	fedfake "github.com/kfederation/client-go/clientset/versioned/fake"
	fedinformers "github.com/kfederation/client-go/informers/externalversions"

	"github.com/kfederation/federation/pkg/apis/federation/annotations"
	"github.com/kfederation/federation/pkg/clusterclient"
)

// Credentials the tests look for in every message, event and log line.
const (
	testToken  = "t0ken-S3CRET-do-not-print"
	wrongToken = "wr0ng-S3CRET-do-not-print"
)

const failingReadyz = "[+]ping ok\n[-]etcd failed: reason withheld\n[-]informer-sync failed: reason withheld\nreadyz check failed\n"

// member plays a member cluster's API server: /readyz answers as mode says,
// /api/v1/nodes lists nodes, and only testToken is accepted.
type member struct {
	srv     *httptest.Server
	release chan struct{}

	mu    sync.Mutex
	mode  string // ok, notready, forbidden, hang
	nodes []corev1.Node
}

func newMember(t *testing.T, mode string, nodes ...corev1.Node) *member {
	m := &member{mode: mode, nodes: nodes, release: make(chan struct{})}
	m.srv = httptest.NewUnstartedServer(http.HandlerFunc(m.serve))
	// Handshakes the untrusted-certificate case fails on purpose.
	m.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	m.srv.StartTLS()
	t.Cleanup(func() {
		close(m.release)
		m.srv.Close()
	})
	return m
}

func (m *member) setMode(mode string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mode = mode
}

func (m *member) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	m.mu.Lock()
	mode, nodes := m.mode, m.nodes
	m.mu.Unlock()
	switch r.URL.Path {
	case "/readyz":
		switch mode {
		case "ok":
			_, _ = w.Write([]byte("ok"))
		case "notready":
			http.Error(w, failingReadyz, http.StatusInternalServerError)
		case "forbidden":
			http.Error(w, "forbidden", http.StatusForbidden)
		case "hang":
			select {
			case <-r.Context().Done():
			case <-m.release:
			}
		}
	case "/api/v1/nodes":
		// A plain NodeList: the metadata client accepts it, as from old servers.
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(&corev1.NodeList{
			TypeMeta: metav1.TypeMeta{Kind: "NodeList", APIVersion: "v1"},
			Items:    nodes,
		})
	case "/api/v1/namespaces/default/configmaps":
		// A write the member stores (see TestBusyMemberStoringWritesStaysReady).
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(&corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{Kind: "ConfigMap", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "default"},
		})
	default:
		http.NotFound(w, r)
	}
}

func caPEM(srv *httptest.Server) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

// unrelatedCA is a CA that signed nothing: every httptest server shares one
// certificate, so another server's would be trusted.
func unrelatedCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "unrelated-ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func newCluster(name, server, secret string) *federationv1beta1.Cluster {
	c := &federationv1beta1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name)},
		Spec: federationv1beta1.ClusterSpec{
			ServerAddressByClientCIDRs: []federationv1beta1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: server}},
		},
	}
	if secret != "" {
		c.Spec.SecretRef = &federationv1beta1.LocalObjectReference{Name: secret}
	}
	return c
}

func newSecret(name string, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: federationv1beta1.FederationSystemNamespace, Name: name},
		Data:       data,
	}
}

func tokenSecret(name, token string, ca []byte) *corev1.Secret {
	return newSecret(name, map[string][]byte{clusterclient.SecretTokenKey: []byte(token), clusterclient.SecretCAKey: ca})
}

type fixture struct {
	t        *testing.T
	ctx      context.Context
	kube     *kubefake.Clientset
	fed      *fedfake.Clientset
	registry *clusterclient.Registry
	c        *Controller
	recorder *record.FakeRecorder
	clock    *clocktesting.FakePassiveClock
	logs     ktesting.Underlier
	kinf     kubeinformers.SharedInformerFactory
	finf     fedinformers.SharedInformerFactory
}

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// newFixture builds a controller on fake federation clients holding the
// objects; its informers are started and synced, its workers are not.
// fakeEvents replaces the event broadcaster with a FakeRecorder.
func newFixture(t *testing.T, opts Options, fakeEvents bool, secrets []*corev1.Secret, clusters []*federationv1beta1.Cluster) *fixture {
	t.Helper()
	logger := ktesting.NewLogger(ktesting.NopTL{}, ktesting.NewConfig(ktesting.Verbosity(10), ktesting.BufferLogs(true)))
	ctx, cancel := context.WithCancel(klog.NewContext(context.Background(), logger))
	t.Cleanup(cancel)

	var kubeObjs []runtime.Object
	for _, s := range secrets {
		kubeObjs = append(kubeObjs, s)
	}
	var fedObjs []runtime.Object
	for _, c := range clusters {
		c = c.DeepCopy()
		c.ResourceVersion = "1"
		fedObjs = append(fedObjs, c)
	}
	f := &fixture{
		t:        t,
		ctx:      ctx,
		kube:     kubefake.NewClientset(kubeObjs...),
		fed:      versionedClusters(fedfake.NewClientset(fedObjs...)),
		registry: clusterclient.NewRegistry("federation"),
		clock:    clocktesting.NewFakePassiveClock(t0),
		logs:     logger.GetSink().(ktesting.Underlier),
	}
	f.kinf = kubeinformers.NewSharedInformerFactoryWithOptions(f.kube, 0, kubeinformers.WithNamespace(federationv1beta1.FederationSystemNamespace))
	f.finf = fedinformers.NewSharedInformerFactory(f.fed, 0)
	c, err := NewController(ctx, f.kube, f.fed, f.finf.Federation().V1beta1().Clusters(), f.kinf.Core().V1().Secrets(), f.registry, opts)
	if err != nil {
		t.Fatal(err)
	}
	c.clock = f.clock
	if fakeEvents {
		f.recorder = record.NewFakeRecorder(100)
		c.recorder = f.recorder
	}
	f.c = c
	f.kinf.Start(ctx.Done())
	f.finf.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), c.clustersSynced, c.secretsSynced) {
		t.Fatal("caches did not sync")
	}
	return f
}

// versionedClusters makes the fake give each written Cluster a new
// resource version, as an API server does; the fake's tracker leaves it
// empty. The controller tells its own status writes from the informer's
// older copy by resource version: without them a probe that ran before
// the informer caught up would take the write for missing and write again.
// The fake runs its reactors one at a time, under its lock, on a copy of
// the action, whose object the tracker then stores.
func versionedClusters(fed *fedfake.Clientset) *fedfake.Clientset {
	last := 1
	fed.PrependReactor("*", "clusters", func(a k8stesting.Action) (bool, runtime.Object, error) {
		// Creates and updates, of the object or its status, carry it.
		write, ok := a.(interface{ GetObject() runtime.Object })
		if !ok || (a.GetVerb() != "create" && a.GetVerb() != "update") {
			return false, nil, nil
		}
		if cl, ok := write.GetObject().(*federationv1beta1.Cluster); ok {
			last++
			cl.ResourceVersion = strconv.Itoa(last)
		}
		return false, nil, nil
	})
	return fed
}

// probe probes the cluster as the probe loop does and waits until it, and
// whatever it set off (a node list, another probe), is done.
func (f *fixture) probe(name string) {
	f.t.Helper()
	f.c.startProbe(f.ctx, name, true)
	f.settle(name)
}

func (f *fixture) settle(name string) {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.c.mu.Lock()
		st := f.c.states[name]
		busy := st != nil && (st.probing || st.listingNodes)
		f.c.mu.Unlock()
		if !busy {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("cluster %s: probe did not settle", name)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (f *fixture) sync(name string) {
	f.t.Helper()
	if err := f.c.syncCluster(f.ctx, name); err != nil {
		f.t.Fatalf("sync %s: %v", name, err)
	}
}

func (f *fixture) cluster(name string) *federationv1beta1.Cluster {
	f.t.Helper()
	c, err := f.fed.FederationV1beta1().Clusters().Get(f.ctx, name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) statusWrites() int {
	n := 0
	for _, a := range f.fed.Actions() {
		if a.GetVerb() == "update" && a.GetSubresource() == "status" {
			n++
		}
	}
	return n
}

func (f *fixture) events() []string {
	var out []string
	for {
		select {
		case e := <-f.recorder.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

// assertNoSecrets fails if a credential shows in the Cluster's status,
// the given events, or the controller's logs.
func (f *fixture) assertNoSecrets(name string, events []string, secrets ...string) {
	f.t.Helper()
	status, err := json.Marshal(f.cluster(name).Status)
	if err != nil {
		f.t.Fatal(err)
	}
	logs := f.logs.GetBuffer().String()
	for _, s := range append(secrets, testToken, wrongToken) {
		if strings.Contains(string(status), s) {
			f.t.Errorf("status quotes secret %q: %s", s, status)
		}
		for _, e := range events {
			if strings.Contains(e, s) {
				f.t.Errorf("event quotes secret %q: %s", s, e)
			}
		}
		if strings.Contains(logs, s) {
			f.t.Errorf("logs quote secret %q", s)
		}
	}
}

func testOptions() Options {
	return Options{MonitorPeriod: 50 * time.Millisecond, ProbeTimeout: 300 * time.Millisecond, ListTimeout: 2 * time.Second}
}

type wantCond struct {
	status federationv1beta1.ConditionStatus
	reason string
}

func assertCondition(t *testing.T, c *federationv1beta1.Cluster, typ federationv1beta1.ClusterConditionType, want wantCond, msgContains ...string) *federationv1beta1.ClusterCondition {
	t.Helper()
	got := findCondition(c.Status.Conditions, typ)
	if got == nil {
		t.Fatalf("no %s condition in %+v", typ, c.Status.Conditions)
	}
	if got.Status != want.status || got.Reason != want.reason {
		t.Errorf("%s condition: got %s/%s (%q), want %s/%s", typ, got.Status, got.Reason, got.Message, want.status, want.reason)
	}
	for _, s := range msgContains {
		if !strings.Contains(got.Message, s) {
			t.Errorf("%s condition message %q does not mention %q", typ, got.Message, s)
		}
	}
	return got
}

func TestProbeOutcomes(t *testing.T) {
	const secretName = "member-creds"
	// An unusable kubeconfig whose error quotes the token (pasted into the
	// wrong field): clientcmd's error says "context was not found for
	// specified context: <token>", so the controller must not quote it.
	badKubeconfig := "apiVersion: v1\nusers:\n- name: u\n  user:\n    token: " + testToken + "\ncurrent-context: " + testToken + "\n"

	tests := []struct {
		name string
		// setup returns the member's address and its Secret (nil: none).
		setup       func(t *testing.T) (server string, secret *corev1.Secret)
		ready       wantCond
		offline     wantCond
		msg         []string
		registered  bool
		memberReady bool
		maxDuration time.Duration
		// annotations are the Cluster's.
		annotations map[string]string
	}{
		{
			name: "ok",
			setup: func(t *testing.T) (string, *corev1.Secret) {
				m := newMember(t, "ok")
				return m.srv.URL, tokenSecret(secretName, testToken, caPEM(m.srv))
			},
			ready:       wantCond{federationv1beta1.ConditionTrue, ReasonClusterReady},
			offline:     wantCond{federationv1beta1.ConditionFalse, ReasonClusterReachable},
			registered:  true,
			memberReady: true,
		},
		{
			name: "500 with failed checks",
			setup: func(t *testing.T) (string, *corev1.Secret) {
				m := newMember(t, "notready")
				return m.srv.URL, tokenSecret(secretName, testToken, caPEM(m.srv))
			},
			ready:      wantCond{federationv1beta1.ConditionFalse, ReasonClusterNotReady},
			offline:    wantCond{federationv1beta1.ConditionFalse, ReasonClusterReachable},
			msg:        []string{"500", "etcd, informer-sync"},
			registered: true,
		},
		{
			name: "401",
			setup: func(t *testing.T) (string, *corev1.Secret) {
				m := newMember(t, "ok")
				return m.srv.URL, tokenSecret(secretName, wrongToken, caPEM(m.srv))
			},
			ready:      wantCond{federationv1beta1.ConditionFalse, ReasonClusterCredentialsRejected},
			offline:    wantCond{federationv1beta1.ConditionFalse, ReasonClusterReachable},
			msg:        []string{"federation-system/" + secretName, "401"},
			registered: true,
		},
		{
			name: "403",
			setup: func(t *testing.T) (string, *corev1.Secret) {
				m := newMember(t, "forbidden")
				return m.srv.URL, tokenSecret(secretName, testToken, caPEM(m.srv))
			},
			ready:      wantCond{federationv1beta1.ConditionFalse, ReasonClusterCredentialsRejected},
			offline:    wantCond{federationv1beta1.ConditionFalse, ReasonClusterReachable},
			msg:        []string{"federation-system/" + secretName, "403"},
			registered: true,
		},
		{
			name: "unreachable",
			setup: func(t *testing.T) (string, *corev1.Secret) {
				srv := httptest.NewTLSServer(http.NotFoundHandler())
				srv.Close()
				return srv.URL, tokenSecret(secretName, testToken, caPEM(srv))
			},
			ready:      wantCond{federationv1beta1.ConditionFalse, ReasonClusterNotReachable},
			offline:    wantCond{federationv1beta1.ConditionTrue, ReasonClusterNotReachable},
			msg:        []string{"refused"},
			registered: true,
		},
		{
			name: "hanging",
			setup: func(t *testing.T) (string, *corev1.Secret) {
				m := newMember(t, "hang")
				return m.srv.URL, tokenSecret(secretName, testToken, caPEM(m.srv))
			},
			ready:       wantCond{federationv1beta1.ConditionFalse, ReasonClusterNotReachable},
			offline:     wantCond{federationv1beta1.ConditionTrue, ReasonClusterNotReachable},
			msg:         []string{"within 300ms"},
			registered:  true,
			maxDuration: 2 * time.Second,
		},
		{
			name: "untrusted serving certificate",
			setup: func(t *testing.T) (string, *corev1.Secret) {
				m := newMember(t, "ok")
				return m.srv.URL, tokenSecret(secretName, testToken, unrelatedCA(t))
			},
			ready:      wantCond{federationv1beta1.ConditionFalse, ReasonClusterCredentialsInvalid},
			offline:    wantCond{federationv1beta1.ConditionFalse, ReasonClusterReachable},
			msg:        []string{"federation-system/" + secretName, "ca.crt"},
			registered: true,
		},
		{
			name: "secret missing",
			setup: func(t *testing.T) (string, *corev1.Secret) {
				return newMember(t, "ok").srv.URL, nil
			},
			ready:   wantCond{federationv1beta1.ConditionFalse, ReasonClusterSecretMissing},
			offline: wantCond{federationv1beta1.ConditionUnknown, ReasonClusterSecretMissing},
			msg:     []string{"federation-system/" + secretName, `"kubeconfig"`, `"token"`},
		},
		{
			name: "secret without credentials",
			setup: func(t *testing.T) (string, *corev1.Secret) {
				return newMember(t, "ok").srv.URL, newSecret(secretName, map[string][]byte{"password": []byte(testToken)})
			},
			ready:   wantCond{federationv1beta1.ConditionFalse, ReasonClusterCredentialsInvalid},
			offline: wantCond{federationv1beta1.ConditionUnknown, ReasonClusterCredentialsInvalid},
			msg:     []string{"federation-system/" + secretName, `"kubeconfig"`, `"token"`},
		},
		{
			name: "ca.crt not PEM",
			setup: func(t *testing.T) (string, *corev1.Secret) {
				return newMember(t, "ok").srv.URL, tokenSecret(secretName, testToken, []byte("not a certificate "+wrongToken))
			},
			ready:   wantCond{federationv1beta1.ConditionFalse, ReasonClusterCredentialsInvalid},
			offline: wantCond{federationv1beta1.ConditionUnknown, ReasonClusterCredentialsInvalid},
			msg:     []string{"federation-system/" + secretName, `"ca.crt"`},
		},
		{
			name: "kubeconfig with a token and CA",
			setup: func(t *testing.T) (string, *corev1.Secret) {
				m := newMember(t, "ok")
				return m.srv.URL, kubeconfigSecret(secretName, clusterCA(caPEM(m.srv)), "    token: "+testToken+"\n")
			},
			ready:       wantCond{federationv1beta1.ConditionTrue, ReasonClusterReady},
			offline:     wantCond{federationv1beta1.ConditionFalse, ReasonClusterReachable},
			registered:  true,
			memberReady: true,
		},
		{
			name: "kubeconfig with an exec plugin",
			setup: func(t *testing.T) (string, *corev1.Secret) {
				m := newMember(t, "ok")
				return m.srv.URL, kubeconfigSecret(secretName, clusterCA(caPEM(m.srv)), execUser(t))
			},
			ready:   wantCond{federationv1beta1.ConditionFalse, ReasonClusterCredentialsRefused},
			offline: wantCond{federationv1beta1.ConditionUnknown, ReasonClusterCredentialsRefused},
			msg:     []string{"federation-system/" + secretName, `"kubeconfig"`, "users[0].user.exec"},
		},
		{
			name: "kubeconfig with a tokenFile",
			setup: func(t *testing.T) (string, *corev1.Secret) {
				m := newMember(t, "ok")
				return m.srv.URL, kubeconfigSecret(secretName, clusterCA(caPEM(m.srv)), "    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token\n")
			},
			ready:   wantCond{federationv1beta1.ConditionFalse, ReasonClusterCredentialsRefused},
			offline: wantCond{federationv1beta1.ConditionUnknown, ReasonClusterCredentialsRefused},
			msg:     []string{"federation-system/" + secretName, "users[0].user.tokenFile"},
		},
		{
			name: "kubeconfig skipping TLS verification without the Cluster's consent",
			setup: func(t *testing.T) (string, *corev1.Secret) {
				m := newMember(t, "ok")
				return m.srv.URL, kubeconfigSecret(secretName, "    insecure-skip-tls-verify: true\n", "    token: "+testToken+"\n")
			},
			ready:   wantCond{federationv1beta1.ConditionFalse, ReasonClusterCredentialsRefused},
			offline: wantCond{federationv1beta1.ConditionUnknown, ReasonClusterCredentialsRefused},
			msg:     []string{"clusters[0].cluster.insecure-skip-tls-verify", annotations.InsecureSkipTLSVerify},
		},
		{
			name: "Cluster skipping TLS verification",
			setup: func(t *testing.T) (string, *corev1.Secret) {
				m := newMember(t, "ok")
				return m.srv.URL, kubeconfigSecret(secretName, "    insecure-skip-tls-verify: true\n", "    token: "+testToken+"\n")
			},
			annotations: map[string]string{annotations.InsecureSkipTLSVerify: "true"},
			ready:       wantCond{federationv1beta1.ConditionTrue, ReasonClusterReady},
			offline:     wantCond{federationv1beta1.ConditionFalse, ReasonClusterReachable},
			registered:  true,
			memberReady: true,
		},
		{
			name: "Cluster annotation neither true nor false",
			setup: func(t *testing.T) (string, *corev1.Secret) {
				m := newMember(t, "ok")
				return m.srv.URL, tokenSecret(secretName, testToken, caPEM(m.srv))
			},
			annotations: map[string]string{annotations.InsecureSkipTLSVerify: "yes"},
			ready:       wantCond{federationv1beta1.ConditionFalse, ReasonClusterConfigInvalid},
			offline:     wantCond{federationv1beta1.ConditionUnknown, ReasonClusterConfigInvalid},
			msg:         []string{annotations.InsecureSkipTLSVerify},
		},
		{
			name: "unparsable kubeconfig",
			setup: func(t *testing.T) (string, *corev1.Secret) {
				return newMember(t, "ok").srv.URL, newSecret(secretName, map[string][]byte{clusterclient.SecretKubeconfigKey: []byte(badKubeconfig)})
			},
			ready:   wantCond{federationv1beta1.ConditionFalse, ReasonClusterCredentialsInvalid},
			offline: wantCond{federationv1beta1.ConditionUnknown, ReasonClusterCredentialsInvalid},
			msg:     []string{"federation-system/" + secretName, `"kubeconfig"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server, secret := tc.setup(t)
			var secrets []*corev1.Secret
			if secret != nil {
				secrets = append(secrets, secret)
			}
			cluster := newCluster("c1", server, secretName)
			cluster.Annotations = tc.annotations
			f := newFixture(t, testOptions(), true, secrets, []*federationv1beta1.Cluster{cluster})
			f.sync("c1")

			start := time.Now()
			f.probe("c1")
			if tc.maxDuration > 0 && time.Since(start) > tc.maxDuration {
				t.Errorf("probe took %v, want at most %v", time.Since(start), tc.maxDuration)
			}

			got := f.cluster("c1")
			ready := assertCondition(t, got, federationv1beta1.ClusterReady, tc.ready, tc.msg...)
			offline := assertCondition(t, got, federationv1beta1.ClusterOffline, tc.offline)
			t.Logf("Ready: %s; Offline: %s", ready.Message, offline.Message)
			if n := f.statusWrites(); n != 1 {
				t.Errorf("first probe: %d status writes, want 1", n)
			}

			reg := f.registry.Get("c1")
			if (reg != nil) != tc.registered {
				t.Errorf("registered in the registry: %v, want %v", reg != nil, tc.registered)
			}
			if reg != nil && reg.Ready() != tc.memberReady {
				t.Errorf("registry Ready: %v, want %v", reg.Ready(), tc.memberReady)
			}

			events := f.events()
			wantType := corev1.EventTypeWarning
			if tc.memberReady {
				wantType = corev1.EventTypeNormal
			}
			if len(events) != 1 || !strings.HasPrefix(events[0], wantType+" "+tc.ready.reason+" ") {
				t.Errorf("events %q, want one %s %s", events, wantType, tc.ready.reason)
			}

			// Nothing changed: nothing is written and no event recorded.
			f.probe("c1")
			if n := f.statusWrites(); n != 1 {
				t.Errorf("after an unchanged second probe: %d status writes, want 1", n)
			}
			if more := f.events(); len(more) != 0 {
				t.Errorf("unchanged second probe recorded events %q", more)
			}
			f.assertNoSecrets("c1", events, badKubeconfig)
		})
	}
}

// kubeconfigSecret returns a credential Secret holding a kubeconfig whose
// current context uses a cluster and a user with the given fields, each
// line indented by 4 spaces.
func kubeconfigSecret(name, clusterFields, userFields string) *corev1.Secret {
	kc := "apiVersion: v1\nkind: Config\ncurrent-context: ctx\n" +
		"contexts:\n- name: ctx\n  context: {cluster: member, user: fed}\n" +
		"clusters:\n- name: member\n  cluster:\n    server: https://ignored.invalid\n" + clusterFields +
		"users:\n- name: fed\n  user:\n" + userFields
	return newSecret(name, map[string][]byte{clusterclient.SecretKubeconfigKey: []byte(kc)})
}

// clusterCA is the kubeconfig cluster field holding ca inline.
func clusterCA(ca []byte) string {
	return "    certificate-authority-data: " + base64.StdEncoding.EncodeToString(ca) + "\n"
}

// execUser is a kubeconfig user whose exec plugin would create a file, and
// it checks at the end of the test that the file does not exist.
func execUser(t *testing.T) string {
	marker := filepath.Join(t.TempDir(), "exec-ran")
	t.Cleanup(func() {
		if _, err := os.Stat(marker); !os.IsNotExist(err) {
			t.Errorf("the kubeconfig's exec command ran: %s exists", marker)
		}
	})
	return "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      interactiveMode: Never\n      command: touch\n      args: [" + marker + "]\n"
}

func TestStatusRefreshAndTransitionTimes(t *testing.T) {
	m := newMember(t, "ok")
	f := newFixture(t, testOptions(), true,
		[]*corev1.Secret{tokenSecret("s", testToken, caPEM(m.srv))},
		[]*federationv1beta1.Cluster{newCluster("c1", m.srv.URL, "s")})
	f.sync("c1")
	f.probe("c1")
	first := assertCondition(t, f.cluster("c1"), federationv1beta1.ClusterReady, wantCond{federationv1beta1.ConditionTrue, ReasonClusterReady})
	if !first.LastProbeTime.Time.Equal(t0) || !first.LastTransitionTime.Time.Equal(t0) {
		t.Errorf("first probe times: probe %v, transition %v, want both %v", first.LastProbeTime, first.LastTransitionTime, t0)
	}

	// Within StatusRefreshPeriod an unchanged status is not written.
	f.clock.SetTime(t0.Add(StatusRefreshPeriod - time.Second))
	f.probe("c1")
	if n := f.statusWrites(); n != 1 {
		t.Errorf("unchanged within the refresh period: %d writes, want 1", n)
	}

	// After it, it is, with a new probe time and the old transition time.
	t1 := t0.Add(StatusRefreshPeriod + time.Second)
	f.clock.SetTime(t1)
	f.probe("c1")
	if n := f.statusWrites(); n != 2 {
		t.Errorf("unchanged past the refresh period: %d writes, want 2", n)
	}
	got := assertCondition(t, f.cluster("c1"), federationv1beta1.ClusterReady, wantCond{federationv1beta1.ConditionTrue, ReasonClusterReady})
	if !got.LastProbeTime.Time.Equal(t1) || !got.LastTransitionTime.Time.Equal(t0) {
		t.Errorf("refreshed times: probe %v (want %v), transition %v (want %v)", got.LastProbeTime, t1, got.LastTransitionTime, t0)
	}
	if ev := f.events(); len(ev) != 1 {
		t.Errorf("events %q, want only the first ClusterReady", ev)
	}

	// A transition is written at once and moves the transition time of the
	// condition that changed only.
	t2 := t1.Add(time.Second)
	f.clock.SetTime(t2)
	m.setMode("notready")
	f.probe("c1")
	c := f.cluster("c1")
	ready := assertCondition(t, c, federationv1beta1.ClusterReady, wantCond{federationv1beta1.ConditionFalse, ReasonClusterNotReady})
	offline := assertCondition(t, c, federationv1beta1.ClusterOffline, wantCond{federationv1beta1.ConditionFalse, ReasonClusterReachable})
	if !ready.LastTransitionTime.Time.Equal(t2) {
		t.Errorf("Ready transition time %v, want %v", ready.LastTransitionTime, t2)
	}
	if !offline.LastTransitionTime.Time.Equal(t0) || !offline.LastProbeTime.Time.Equal(t2) {
		t.Errorf("Offline times: transition %v (want %v), probe %v (want %v)", offline.LastTransitionTime, t0, offline.LastProbeTime, t2)
	}
	assertTurnedNotReady(t, f, "c1")
}

// assertTurnedNotReady checks that the cluster just turned not Ready: its
// condition, one Warning event, and the registry.
func assertTurnedNotReady(t *testing.T, f *fixture, name string) {
	t.Helper()
	assertCondition(t, f.cluster(name), federationv1beta1.ClusterReady, wantCond{federationv1beta1.ConditionFalse, ReasonClusterNotReady})
	if ev := f.events(); len(ev) != 1 || !strings.HasPrefix(ev[0], "Warning ClusterNotReady ") {
		t.Errorf("events %q, want one Warning ClusterNotReady", ev)
	}
	if f.registry.Get(name).Ready() {
		t.Error("the registry still says Ready")
	}
}

// thresholdFixture is a member answering /readyz as mode, and cluster c1
// for it, synced but not probed yet, with a FailureThreshold of 3.
func thresholdFixture(t *testing.T, mode string) (*member, *fixture) {
	m := newMember(t, mode)
	opts := testOptions()
	opts.FailureThreshold = 3
	f := newFixture(t, opts, true,
		[]*corev1.Secret{tokenSecret("s", testToken, caPEM(m.srv))},
		[]*federationv1beta1.Cluster{newCluster("c1", m.srv.URL, "s")})
	f.sync("c1")
	return m, f
}

// TestFailureThreshold: a Ready member is reported not Ready only when
// FailureThreshold probes in a row fail; a good probe starts the count
// again, and a member that was not Ready is Ready on its first good probe.
func TestFailureThreshold(t *testing.T) {
	m, f := thresholdFixture(t, "ok")
	f.probe("c1")
	assertCondition(t, f.cluster("c1"), federationv1beta1.ClusterReady, wantCond{federationv1beta1.ConditionTrue, ReasonClusterReady})
	f.events()
	stillReady := func(when string) {
		t.Helper()
		assertCondition(t, f.cluster("c1"), federationv1beta1.ClusterReady, wantCond{federationv1beta1.ConditionTrue, ReasonClusterReady})
		if !f.registry.Get("c1").Ready() {
			t.Errorf("%s: the registry says not Ready", when)
		}
		if ev := f.events(); len(ev) != 0 {
			t.Errorf("%s: events %q, want none", when, ev)
		}
	}

	m.setMode("notready")
	f.probe("c1")
	f.probe("c1")
	stillReady("two failed probes of three")
	if !strings.Contains(f.logs.GetBuffer().String(), "Probe failed; the cluster stays Ready") {
		t.Error("a passed-over failure is not logged")
	}

	m.setMode("ok")
	f.probe("c1")
	m.setMode("notready")
	f.probe("c1")
	f.probe("c1")
	stillReady("a good probe, then two failed ones")

	f.probe("c1")
	assertTurnedNotReady(t, f, "c1")

	// Not Ready stays so on further failures, and one good probe brings it back.
	f.probe("c1")
	assertCondition(t, f.cluster("c1"), federationv1beta1.ClusterReady, wantCond{federationv1beta1.ConditionFalse, ReasonClusterNotReady})
	m.setMode("ok")
	f.probe("c1")
	assertCondition(t, f.cluster("c1"), federationv1beta1.ClusterReady, wantCond{federationv1beta1.ConditionTrue, ReasonClusterReady})
	if !f.registry.Get("c1").Ready() {
		t.Error("a good probe after the outage: the registry says not Ready")
	}
}

// TestFailureThresholdFirstProbe: a member never seen Ready is reported
// by its first probe, whatever the threshold, so that a new member with a
// problem shows it at once.
func TestFailureThresholdFirstProbe(t *testing.T) {
	_, f := thresholdFixture(t, "notready")
	f.probe("c1")
	assertCondition(t, f.cluster("c1"), federationv1beta1.ClusterReady, wantCond{federationv1beta1.ConditionFalse, ReasonClusterNotReady})
}

// TestBusyMemberStoringWritesStaysReady: a Ready member whose /readyz
// fails the way an overloaded member's does (a server error, or no answer
// in time) stays Ready, whatever the threshold, while it stores the
// federation's writes; once it has stored none over the last period and
// probe timeout, the threshold counts again. Other failures never pass as
// busy.
func TestBusyMemberStoringWritesStaysReady(t *testing.T) {
	m, f := thresholdFixture(t, "ok")
	f.probe("c1")
	f.events()
	member := f.registry.Get("c1")
	store := func() {
		t.Helper()
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "default"}}
		if _, err := member.Shared.CoreV1().ConfigMaps("default").Create(f.ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatalf("write to the member: %v", err)
		}
	}

	m.setMode("notready")
	for i := 0; i < 4; i++ {
		store()
		f.probe("c1")
	}
	assertCondition(t, f.cluster("c1"), federationv1beta1.ClusterReady, wantCond{federationv1beta1.ConditionTrue, ReasonClusterReady})
	if !member.Ready() {
		t.Error("four failed probes of a member storing writes: the registry says not Ready")
	}
	if ev := f.events(); len(ev) != 0 {
		t.Errorf("events %q, want none", ev)
	}
	if !strings.Contains(f.logs.GetBuffer().String(), "counted busy, not down") {
		t.Error("a probe passed over as busy is not logged")
	}

	// No write stored within the window: failures count again.
	window := testOptions().MonitorPeriod + testOptions().ProbeTimeout
	deadline := time.Now().Add(10 * time.Second)
	for member.StoredSince(time.Now().Add(-window)) {
		if time.Now().After(deadline) {
			t.Fatal("the member's last stored write never left the window")
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.probe("c1")
	f.probe("c1")
	assertCondition(t, f.cluster("c1"), federationv1beta1.ClusterReady, wantCond{federationv1beta1.ConditionTrue, ReasonClusterReady})
	f.probe("c1")
	assertTurnedNotReady(t, f, "c1")

	for _, c := range []struct {
		name     string
		code     int
		err      error
		timedOut bool
		busy     bool
	}{
		{"server error", http.StatusInternalServerError, nil, false, true},
		{"no answer in time", 0, context.DeadlineExceeded, true, true},
		{"forbidden", http.StatusForbidden, nil, false, false},
		{"connection refused", 0, errors.New("connect: connection refused"), false, false},
	} {
		if got := classify(c.code, []byte("x"), c.err, c.timedOut, "https://m", "s", time.Second).busy; got != c.busy {
			t.Errorf("%s: busy = %v, want %v", c.name, got, c.busy)
		}
	}
}

func node(name string, labels map[string]string) corev1.Node {
	return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func TestZonesAndRegionFromNodes(t *testing.T) {
	m := newMember(t, "ok",
		node("a", map[string]string{corev1.LabelTopologyZone: "us-east1-b", corev1.LabelTopologyRegion: "us-east1"}),
		node("b", map[string]string{corev1.LabelFailureDomainBetaZone: "us-east1-c", corev1.LabelFailureDomainBetaRegion: "us-east1"}),
		node("c", map[string]string{corev1.LabelTopologyZone: "us-east1-b", corev1.LabelFailureDomainBetaZone: "ignored", corev1.LabelTopologyRegion: "us-east1"}),
		node("d", map[string]string{corev1.LabelTopologyRegion: "us-west1"}),
		node("e", nil),
	)
	f := newFixture(t, testOptions(), true,
		[]*corev1.Secret{tokenSecret("s", testToken, caPEM(m.srv))},
		[]*federationv1beta1.Cluster{newCluster("c1", m.srv.URL, "s")})
	f.sync("c1")
	f.probe("c1")
	got := f.cluster("c1").Status
	if want := []string{"us-east1-b", "us-east1-c"}; !slices.Equal(got.Zones, want) || got.Region != "us-east1" {
		t.Errorf("zones %q region %q, want %q us-east1", got.Zones, got.Region, want)
	}
	writes := f.statusWrites()

	// Nodes are listed again only after ZonesRefreshPeriod.
	m.mu.Lock()
	m.nodes = []corev1.Node{node("z", map[string]string{corev1.LabelTopologyZone: "eu-west1-a", corev1.LabelTopologyRegion: "eu-west1"})}
	m.mu.Unlock()
	f.probe("c1")
	if got := f.cluster("c1").Status; got.Region != "us-east1" || f.statusWrites() != writes {
		t.Errorf("nodes listed again within the refresh period: region %q, %d writes (want %d)", got.Region, f.statusWrites(), writes)
	}
	f.clock.SetTime(t0.Add(ZonesRefreshPeriod))
	f.probe("c1")
	if got := f.cluster("c1").Status; !slices.Equal(got.Zones, []string{"eu-west1-a"}) || got.Region != "eu-west1" {
		t.Errorf("after the refresh period: zones %q region %q, want [eu-west1-a] eu-west1", got.Zones, got.Region)
	}
}

func TestZonesAndRegion(t *testing.T) {
	zone := func(z, r string) map[string]string {
		return map[string]string{corev1.LabelTopologyZone: z, corev1.LabelTopologyRegion: r}
	}
	tests := []struct {
		name   string
		nodes  []map[string]string
		zones  []string
		region string
	}{
		{name: "no nodes"},
		{name: "no labels", nodes: []map[string]string{nil, {"a": "b"}}},
		{name: "one region", nodes: []map[string]string{zone("z2", "r"), zone("z1", "r"), zone("z2", "r")}, zones: []string{"z1", "z2"}, region: "r"},
		{name: "most common region", nodes: []map[string]string{zone("a", "r2"), zone("b", "r1"), zone("c", "r2")}, zones: []string{"a", "b", "c"}, region: "r2"},
		{name: "tie goes to the first name", nodes: []map[string]string{zone("a", "r2"), zone("b", "r1")}, zones: []string{"a", "b"}, region: "r1"},
		{
			name: "beta labels as fallback",
			nodes: []map[string]string{{
				corev1.LabelFailureDomainBetaZone: "old-z", corev1.LabelFailureDomainBetaRegion: "old-r",
			}},
			zones: []string{"old-z"}, region: "old-r",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			zones, region := zonesAndRegion(tc.nodes)
			if !slices.Equal(zones, tc.zones) || region != tc.region {
				t.Errorf("got %q %q, want %q %q", zones, region, tc.zones, tc.region)
			}
		})
	}
}

func TestFailingChecksMessage(t *testing.T) {
	var body strings.Builder
	for i := range 7 {
		fmt.Fprintf(&body, "[-]check-%d failed: reason withheld\n", i)
	}
	got := notReadyMessage(500, []byte(body.String()))
	want := "/readyz answered HTTP 500; failing checks: check-0, check-1, check-2, check-3, check-4 and 2 more."
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := notReadyMessage(404, []byte("404 page not found\nmore")); got != `/readyz answered HTTP 404: "404 page not found".` {
		t.Errorf("got %q", got)
	}
}

// TestRun runs the whole controller: a hanging member must not delay the
// others, events reach the federation-apiserver, a changed Secret rebuilds
// the client, and a deleted Cluster leaves the registry.
func TestRun(t *testing.T) {
	healthy := newMember(t, "ok")
	hanging := newMember(t, "hang")
	opts := Options{MonitorPeriod: 50 * time.Millisecond, ProbeTimeout: 5 * time.Second, ListTimeout: time.Second}
	f := newFixture(t, opts, false,
		[]*corev1.Secret{
			tokenSecret("healthy", testToken, caPEM(healthy.srv)),
			tokenSecret("hanging", testToken, caPEM(hanging.srv)),
		},
		[]*federationv1beta1.Cluster{
			newCluster("hanging", hanging.srv.URL, "hanging"),
			newCluster("healthy", healthy.srv.URL, "healthy"),
		})
	f.c.clock = clock.RealClock{}
	go func() {
		if err := f.c.Run(f.ctx, 2); err != nil {
			t.Error(err)
		}
	}()

	waitFor := func(what string, within time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v", what, within)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	readyReason := func(name string) string {
		c, err := f.fed.FederationV1beta1().Clusters().Get(f.ctx, name, metav1.GetOptions{})
		if err != nil {
			return ""
		}
		if cond := findCondition(c.Status.Conditions, federationv1beta1.ClusterReady); cond != nil {
			return cond.Reason
		}
		return ""
	}

	// Well before the hanging member's probe times out.
	waitFor("healthy member Ready", 2*time.Second, func() bool { return readyReason("healthy") == ReasonClusterReady })
	if r := readyReason("hanging"); r != "" {
		t.Errorf("hanging member has reason %q before its probe timed out", r)
	}
	if c := f.registry.Get("healthy"); c == nil || !c.Ready() {
		t.Error("healthy member is not Ready in the registry")
	}
	waitFor("ClusterReady event in namespace default", 2*time.Second, func() bool {
		events, err := f.kube.CoreV1().Events(metav1.NamespaceDefault).List(f.ctx, metav1.ListOptions{})
		if err != nil {
			return false
		}
		for _, e := range events.Items {
			if e.Reason == ReasonClusterReady && e.InvolvedObject.Name == "healthy" && e.InvolvedObject.Kind == "Cluster" {
				return true
			}
		}
		return false
	})

	// A changed Secret rebuilds the client.
	if _, err := f.kube.CoreV1().Secrets(federationv1beta1.FederationSystemNamespace).Update(f.ctx,
		tokenSecret("healthy", wrongToken, caPEM(healthy.srv)), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("credentials rejected after the Secret changed", 2*time.Second, func() bool {
		return readyReason("healthy") == ReasonClusterCredentialsRejected
	})
	if c := f.registry.Get("healthy"); c == nil || c.Ready() || c.Config.BearerToken != wrongToken {
		t.Error("registry does not hold the rebuilt, not Ready client")
	}

	// A kubeconfig that skips TLS verification is refused until the
	// Cluster allows it; annotating the Cluster rebuilds the client.
	if _, err := f.kube.CoreV1().Secrets(federationv1beta1.FederationSystemNamespace).Update(f.ctx,
		kubeconfigSecret("healthy", "    insecure-skip-tls-verify: true\n", "    token: "+testToken+"\n"), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("kubeconfig refused", 2*time.Second, func() bool {
		return readyReason("healthy") == ReasonClusterCredentialsRefused
	})
	if f.registry.Get("healthy") != nil {
		t.Error("the refused cluster is still in the registry")
	}
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c, err := f.fed.FederationV1beta1().Clusters().Get(f.ctx, "healthy", metav1.GetOptions{})
		if err != nil {
			return err
		}
		c.Annotations = map[string]string{annotations.InsecureSkipTLSVerify: "true"}
		_, err = f.fed.FederationV1beta1().Clusters().Update(f.ctx, c, metav1.UpdateOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	waitFor("Ready once the Cluster skips TLS verification", 2*time.Second, func() bool {
		return readyReason("healthy") == ReasonClusterReady
	})
	if c := f.registry.Get("healthy"); c == nil || !c.Config.Insecure {
		t.Error("registry does not hold the rebuilt client that skips TLS verification")
	}

	// A deleted Cluster leaves the registry.
	if err := f.fed.FederationV1beta1().Clusters().Delete(f.ctx, "healthy", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("deleted Cluster removed from the registry", 2*time.Second, func() bool { return f.registry.Get("healthy") == nil })
	if f.registry.Get("hanging") == nil {
		t.Error("the other cluster left the registry too")
	}

	events, err := f.kube.CoreV1().Events(metav1.NamespaceDefault).List(f.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range events.Items {
		texts = append(texts, e.Reason+" "+e.Message)
	}
	for _, s := range []string{testToken, wrongToken} {
		if strings.Contains(f.logs.GetBuffer().String(), s) || strings.Contains(strings.Join(texts, "\n"), s) {
			t.Errorf("secret %q appears in logs or events", s)
		}
	}
}
