package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"

	"github.com/kfederation/federation/pkg/clusterclient"
	"github.com/kfederation/federation/pkg/controller/propagation"
	"github.com/kfederation/federation/test/framework"
)

// holdingWebhook is a validating admission webhook that holds every
// request until released: it makes a real member cluster slow to answer
// writes, as a slow webhook or an overloaded etcd would.
type holdingWebhook struct {
	server  *httptest.Server
	release chan struct{}
	once    sync.Once
	held    atomic.Int64
}

func startHoldingWebhook(t *testing.T) *holdingWebhook {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile, err := sharedFed.PKI.CA.IssueServing(dir, "slow-webhook", []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	h := &holdingWebhook{release: make(chan struct{})}
	h.server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Request == nil {
			http.Error(w, "not an AdmissionReview", http.StatusBadRequest)
			return
		}
		h.held.Add(1)
		select {
		case <-h.release:
		case <-r.Context().Done():
		}
		review.Response = &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
		review.Request = nil
		_ = json.NewEncoder(w).Encode(&review)
	}))
	cert, err := loadKeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	h.server.TLS = cert
	h.server.StartTLS()
	t.Cleanup(func() { h.Release(); h.server.Close() })
	return h
}

// Release lets every held request, and every later one, through.
func (h *holdingWebhook) Release() { h.once.Do(func() { close(h.release) }) }

// TestSlowMemberDoesNotHoldUpTheOthers: a member that takes its time to
// answer writes (here a webhook holds every ConfigMap create) gets its
// copies late, but the other members get theirs at once, and the
// Propagations say which cluster is still waiting.
func TestSlowMemberDoesNotHoldUpTheOthers(t *testing.T) {
	f := sharedFed
	ctx := context.Background()
	ns := "slow-member"
	fast, slow := f.Members[0], f.Members[1]

	hook := startHoldingWebhook(t)
	cfgName := "hold-configmaps-" + ns
	wh := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: cfgName},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "hold.slow-member.e2e.federation.k8s.io",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: ptr.To(hook.server.URL + "/validate"), CABundle: f.PKI.CA.CertPEM()},
			Rules:                   []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}}}},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"e2e.federation.k8s.io/slow": "yes"}},
			FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          ptr.To[int32](30),
		}},
	}
	if _, err := f.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"e2e.federation.k8s.io/slow": "yes"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, m := range f.Members {
		framework.Eventually(t, 30*time.Second, "namespace in "+m.Name, func(ctx context.Context) error {
			_, err := m.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			return err
		})
	}
	// One object is everywhere before the slow member turns slow.
	early := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "early", Namespace: ns}, Data: map[string]string{"i": "early"}}
	if _, err := f.Client.CoreV1().ConfigMaps(ns).Create(ctx, early, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "early ConfigMap Propagated everywhere", func(ctx context.Context) error {
		return propagatedEverywhere(ctx, f, ns, "configmap.early")
	})

	if _, err := slow.Client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, wh, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = slow.Client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(context.Background(), cfgName, metav1.DeleteOptions{})
	})

	// Three times as many objects as the controller manager has workers
	// (5): with a sync waiting for every member, the fast member would get
	// no more than 5 of them until the slow member's writes time out
	// (--member-request-timeout, 30s here).
	const n = 15
	for i := 0; i < n; i++ {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%d", i), Namespace: ns}, Data: map[string]string{"i": fmt.Sprint(i)}}
		if _, err := f.Client.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	// allCopies says whether member m has every managed copy.
	allCopies := func(m *framework.Member) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			got, err := managedCopies(ctx, m, ns)
			if err == nil && got != n+1 {
				err = fmt.Errorf("%d of %d", got, n+1)
			}
			return err
		}
	}
	framework.Eventually(t, 8*time.Second, "every ConfigMap in the fast member while the slow one holds its writes", allCopies(fast))
	t.Logf("%d ConfigMaps reached %s in %s while %s held %d creates", n, fast.Name, time.Since(start).Round(time.Millisecond), slow.Name, hook.held.Load())
	if hook.held.Load() == 0 {
		t.Fatalf("the webhook of %s saw no create: the test did not make it slow", slow.Name)
	}
	if got, err := managedCopies(ctx, slow, ns); err != nil || got != 1 {
		t.Fatalf("%s has %d copies (%v), want only the early one, although its webhook holds every create", slow.Name, got, err)
	}
	// The early object's copy in the slow member needs no write, so the
	// member's taken write slots do not concern it: synced again (here to
	// revert a drift in the fast member), it stays Propagated there.
	drifted, err := fast.Client.CoreV1().ConfigMaps(ns).Get(ctx, "early", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	drifted.Data["i"] = "drifted"
	if _, err := fast.Client.CoreV1().ConfigMaps(ns).Update(ctx, drifted, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 10*time.Second, "drift of the early ConfigMap reverted in "+fast.Name, func(ctx context.Context) error {
		cm, err := fast.Client.CoreV1().ConfigMaps(ns).Get(ctx, "early", metav1.GetOptions{})
		if err == nil && cm.Data["i"] != "early" {
			err = fmt.Errorf("data %v", cm.Data)
		}
		return err
	})
	// The sync's record trails by at most BookkeepingDelay.
	for end := time.Now().Add(propagation.BookkeepingDelay + 2*time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		if err := propagatedEverywhere(ctx, f, ns, "configmap.early"); err != nil {
			t.Fatalf("early ConfigMap, already in every member, after a sync while %s's write slots are taken: %v", slow.Name, err)
		}
	}
	// Where an object stands says which cluster it is waiting for.
	framework.Eventually(t, 10*time.Second, "Propagation naming the slow cluster", func(ctx context.Context) error {
		states, err := propagationStates(ctx, ns, "configmap.cm-0")
		if err != nil {
			return err
		}
		if s := states[fast.Name]; s.State != federationv1beta1.PropagationPropagated {
			return fmt.Errorf("%s: %s %s", fast.Name, s.State, s.Message)
		}
		if s := states[slow.Name]; s.State != federationv1beta1.PropagationPending || !strings.Contains(s.Message, slow.Name) {
			return fmt.Errorf("%s: %s %q, want Pending naming the cluster", slow.Name, s.State, s.Message)
		}
		return nil
	})

	// Once the member answers again, it gets every copy and every
	// Propagation says Propagated.
	hook.Release()
	framework.Eventually(t, 60*time.Second, "every ConfigMap in the slow member once it answers", allCopies(slow))
	framework.Eventually(t, 30*time.Second, "every Propagation Propagated", func(ctx context.Context) error {
		for i := 0; i < n; i++ {
			if err := propagatedEverywhere(ctx, f, ns, fmt.Sprintf("configmap.cm-%d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err := f.Client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// propagatedEverywhere says whether the named Propagation in ns says
// Propagated for every member.
func propagatedEverywhere(ctx context.Context, f *framework.Federation, ns, name string) error {
	states, err := propagationStates(ctx, ns, name)
	if err != nil {
		return err
	}
	for _, m := range f.Members {
		if s := states[m.Name]; s.State != federationv1beta1.PropagationPropagated {
			return fmt.Errorf("%s in %s: %s %s", name, m.Name, s.State, s.Message)
		}
	}
	return nil
}

// managedCopies counts the federation's ConfigMap copies in member m's
// namespace ns.
func managedCopies(ctx context.Context, m *framework.Member, ns string) (int, error) {
	list, err := m.Client.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: clusterclient.ManagedByLabel})
	if err != nil {
		return 0, err
	}
	return len(list.Items), nil
}

func loadKeyPair(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
