package chaos

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kfederation/federation/test/framework"
)

// StartHA starts a highly available federation of members (framework
// Options.HA; the controller managers elect a leader with a lease of 8 s),
// registers the members, waits until they are Ready, and creates
// namespace. The client it returns goes through the balancer and gives up
// on a request after 10 s, so that one lost to a fault is retried.
func StartHA(t testing.TB, members []framework.MemberOptions, namespace string) (*framework.Federation, kubernetes.Interface) {
	t.Helper()
	f := framework.StartForTest(t, framework.Options{
		HA:      true,
		Members: members,
		ControllerManagerArgs: []string{"--leader-elect=true",
			"--leader-elect-lease-duration=8s", "--leader-elect-renew-deadline=6s", "--leader-elect-retry-period=1s"},
	})
	ctx := context.Background()
	if err := f.RegisterAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.WaitClustersReady(ctx, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := f.Endpoint.RESTConfig()
	cfg.QPS, cfg.Burst = 200, 400
	cfg.Timeout = 10 * time.Second
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f, client
}
