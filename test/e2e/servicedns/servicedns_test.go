// Package servicedns tests federated Service DNS on a real federation of
// three member clusters (two zones of us-central1, one of europe-west1):
// the controller manager writes to a real CoreDNS (etcd plugin) and the
// tests ask CoreDNS, with a real DNS client, what it answers.
package servicedns

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
	clientv3 "go.etcd.io/etcd/client/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/kfederation/federation/pkg/apis/federation/annotations"
	"github.com/kfederation/federation/test/framework"
)

const (
	federationName = "myfederation"
	zoneA          = "us-central1-a"
	zoneB          = "us-central1-b"
	zoneE          = "europe-west1-b"
	usCentral      = "us-central1"
	europeWest     = "europe-west1"
	// ttl is the controller manager's default --dns-ttl.
	ttl = 180
	// transition bounds one change of the records: the member's pods
	// and EndpointSlices follow, then the controller and CoreDNS.
	transition = 90 * time.Second
)

var fed *framework.Federation

func TestMain(m *testing.M) {
	// Members join with kubefed, so that the controller manager has only
	// the permissions in them that kubefed grants.
	os.Exit(framework.RunMain(m, framework.MainOptions{
		Join: true,
		Options: framework.Options{
			DNS:                   true,
			FederationName:        federationName,
			Members:               framework.ThreeZoneMembers(),
			ControllerManagerArgs: []string{"--leader-elect=false", "-v=2"},
		},
	}, func(f *framework.Federation) { fed = f }))
}

// names are the DNS names of one federated Service.
type names struct{ ns, svc string }

func (n names) prefix() string { return n.svc + "." + n.ns + "." + federationName + ".svc." }
func (n names) global() string { return n.prefix() + "example.com." }
func (n names) region(r string) string {
	return n.prefix() + r + ".example.com."
}
func (n names) zone(z, r string) string { return n.prefix() + z + "." + r + ".example.com." }

// app is a federated ReplicaSet of app=name, one pod per member unless
// prefs say otherwise, and a LoadBalancer Service over it.
func createApp(t *testing.T, ns, name string) {
	t.Helper()
	ctx := context.Background()
	if _, err := fed.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	labels := map[string]string{"app": name}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: map[string]string{annotations.ReplicaSetPreferences: everywhere}},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
	if _, err := fed.Client.AppsV1().ReplicaSets(ns).Create(ctx, rs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeLoadBalancer,
			Selector: labels,
			Ports:    []corev1.ServicePort{{Port: 80}},
		},
	}
	if _, err := fed.Client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// Replica preferences: one replica in every member, or none in some.
const everywhere = `{"rebalance": true, "clusters": {"*": {"weight": 1}}}`

func without(members ...string) string {
	s := `{"rebalance": true, "clusters": {"*": {"weight": 1}`
	for _, m := range members {
		s += fmt.Sprintf(`, %q: {"weight": 0, "maxReplicas": 0}`, m)
	}
	return s + `}}`
}

func setPreferences(t *testing.T, ns, name, prefs string) {
	t.Helper()
	patch := fmt.Sprintf(`{"metadata": {"annotations": {%q: %q}}}`, annotations.ReplicaSetPreferences, prefs)
	if _, err := fed.Client.AppsV1().ReplicaSets(ns).Patch(context.Background(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// lbAddresses returns each member's load-balancer address for the
// Service, once every member has one.
func lbAddresses(t *testing.T, ns, name string) map[string]string {
	t.Helper()
	out := map[string]string{}
	framework.Eventually(t, transition, "every member's load balancer has an address", func(ctx context.Context) error {
		for _, m := range fed.Members {
			svc, err := m.Client.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			if len(svc.Status.LoadBalancer.Ingress) == 0 {
				return fmt.Errorf("%s: no address yet", m.Name)
			}
			out[m.Name] = svc.Status.LoadBalancer.Ingress[0].IP
		}
		return nil
	})
	return out
}

// expectA waits until name answers A with exactly ips (TTL ttl).
func expectA(t *testing.T, name string, ips ...string) {
	t.Helper()
	var want []string
	for _, ip := range ips {
		want = append(want, fmt.Sprintf("%s %d A %s", name, ttl, ip))
	}
	slices.Sort(want)
	want = slices.Compact(want)
	ctx, cancel := context.WithTimeout(context.Background(), transition)
	defer cancel()
	if err := fed.DNS.WaitAnswer(ctx, name, dns.TypeA, want...); err != nil {
		t.Fatal(err)
	}
}

// expectCNAME waits until name is a CNAME to target.
func expectCNAME(t *testing.T, name, target string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), transition)
	defer cancel()
	if err := fed.DNS.WaitAnswer(ctx, name, dns.TypeCNAME, fmt.Sprintf("%s %d CNAME %s", name, ttl, target)); err != nil {
		t.Fatal(err)
	}
}

func expectNXDOMAIN(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), transition)
	defer cancel()
	if err := fed.DNS.WaitNXDOMAIN(ctx, name, dns.TypeA); err != nil {
		t.Fatal(err)
	}
}

// expectAll waits for the records of n when the members in healthy are
// the healthy shards (addresses by member).
func expectAll(t *testing.T, n names, ips map[string]string, healthy ...string) {
	t.Helper()
	has := func(m string) bool { return slices.Contains(healthy, m) }
	pick := func(ms ...string) []string {
		var out []string
		for _, m := range ms {
			if has(m) {
				out = append(out, ips[m])
			}
		}
		return out
	}
	for _, z := range []struct{ member, region string }{{zoneA, usCentral}, {zoneB, usCentral}, {zoneE, europeWest}} {
		if has(z.member) {
			expectA(t, n.zone(z.member, z.region), ips[z.member])
		} else {
			expectCNAME(t, n.zone(z.member, z.region), n.region(z.region))
		}
	}
	for _, r := range []struct {
		region  string
		members []string
	}{{usCentral, []string{zoneA, zoneB}}, {europeWest, []string{zoneE}}} {
		if got := pick(r.members...); len(got) > 0 {
			expectA(t, n.region(r.region), got...)
		} else {
			expectCNAME(t, n.region(r.region), n.global())
		}
	}
	if got := pick(zoneA, zoneB, zoneE); len(got) > 0 {
		expectA(t, n.global(), got...)
	} else {
		expectNXDOMAIN(t, n.global())
	}
}

// TestShardHealth walks one Service through its shards going unhealthy
// (their member copies scaled to nothing by the replica preferences) and
// back: a zone without healthy shards points at its region, a region
// without any at the global name, and with none at all the global name
// is gone.
func TestShardHealth(t *testing.T) {
	n := names{ns: "mynamespace", svc: "nginx"}
	createApp(t, n.ns, n.svc)
	ips := lbAddresses(t, n.ns, n.svc)
	expectAll(t, n, ips, zoneA, zoneB, zoneE)

	t.Run("one zone down", func(t *testing.T) {
		setPreferences(t, n.ns, n.svc, without(zoneA))
		expectAll(t, n, ips, zoneB, zoneE)
	})
	t.Run("one region down", func(t *testing.T) {
		setPreferences(t, n.ns, n.svc, without(zoneA, zoneB))
		expectAll(t, n, ips, zoneE)
	})
	t.Run("all down", func(t *testing.T) {
		scale(t, n.ns, n.svc, 0)
		expectAll(t, n, ips)
	})
	t.Run("all back", func(t *testing.T) {
		scale(t, n.ns, n.svc, 3)
		setPreferences(t, n.ns, n.svc, everywhere)
		expectAll(t, n, ips, zoneA, zoneB, zoneE)
	})
}

func scale(t *testing.T, ns, name string, replicas int32) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec": {"replicas": %d}}`, replicas)
	if _, err := fed.Client.AppsV1().ReplicaSets(ns).Patch(context.Background(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestMemberLost: a member that stops answering leaves the records once
// the cluster controller finds it NotReady, and comes back with it; an
// unjoined member's names go, and return when it joins again.
func TestMemberLost(t *testing.T) {
	n := names{ns: "members", svc: "web"}
	createApp(t, n.ns, n.svc)
	ips := lbAddresses(t, n.ns, n.svc)
	expectAll(t, n, ips, zoneA, zoneB, zoneE)

	t.Run("killed", func(t *testing.T) {
		m := fed.Member(zoneB)
		if err := m.APIServer.CutOff(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = m.APIServer.Reconnect() }()
		expectAll(t, n, ips, zoneA, zoneE)
		if err := m.APIServer.Reconnect(); err != nil {
			t.Fatal(err)
		}
		expectAll(t, n, ips, zoneA, zoneB, zoneE)
	})
	t.Run("unjoined", func(t *testing.T) {
		ctx := context.Background()
		if err := fed.Unjoin(ctx, fed.Member(zoneE)); err != nil {
			t.Fatal(err)
		}
		expectNXDOMAIN(t, n.zone(zoneE, europeWest))
		expectNXDOMAIN(t, n.region(europeWest))
		expectA(t, n.global(), ips[zoneA], ips[zoneB])
		// kubefed join refuses while unjoin's namespace is going away.
		framework.Eventually(t, 2*time.Minute, "the member's federation-system namespace is gone", func(ctx context.Context) error {
			_, err := fed.Member(zoneE).Client.CoreV1().Namespaces().Get(ctx, "federation-system", metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("still there: %v", err)
		})
		if err := fed.Join(ctx, fed.Member(zoneE), nil); err != nil {
			t.Fatal(err)
		}
		expectAll(t, n, ips, zoneA, zoneB, zoneE)
	})
}

// TestOwnership: records someone else wrote are never changed or deleted.
// A foreign record beside a Service's names outlives the Service; a name
// the Service wants but someone else holds is reported on the Service,
// not taken.
func TestOwnership(t *testing.T) {
	ctx := context.Background()
	taken := names{ns: "owners", svc: "taken"}
	sibling := "other.owners." + federationName + ".svc.example.com."
	foreign := fmt.Sprintf("%s 60 A 198.51.100.7", taken.global())
	putForeign(t, taken.global(), "198.51.100.7")
	putForeign(t, sibling, "198.51.100.8")

	createApp(t, taken.ns, taken.svc)
	ips := lbAddresses(t, taken.ns, taken.svc)
	expectA(t, taken.region(usCentral), ips[zoneA], ips[zoneB])
	expectA(t, taken.zone(zoneE, europeWest), ips[zoneE])
	framework.Eventually(t, transition, "a DNSNameConflict event on the Service", func(ctx context.Context) error {
		return hasEvent(ctx, taken.ns, taken.svc, corev1.EventTypeWarning, "DNSNameConflict")
	})
	answer(t, taken.global(), foreign)

	if err := fed.Client.CoreV1().Services(taken.ns).Delete(ctx, taken.svc, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{taken.region(usCentral), taken.region(europeWest), taken.zone(zoneA, usCentral), taken.zone(zoneB, usCentral), taken.zone(zoneE, europeWest)} {
		expectNXDOMAIN(t, name)
	}
	framework.Eventually(t, transition, "the Service is gone, its finalizers released", func(ctx context.Context) error {
		_, err := fed.Client.CoreV1().Services(taken.ns).Get(ctx, taken.svc, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there: %v", err)
	})
	answer(t, taken.global(), foreign)
	answer(t, sibling, sibling+" 60 A 198.51.100.8")
}

// answer checks what CoreDNS answers for name, A, now.
func answer(t *testing.T, name string, want ...string) {
	t.Helper()
	r, err := fed.DNS.Query(context.Background(), name, dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if got := framework.Answers(r); !slices.Equal(got, want) {
		t.Fatalf("%s: answer %q, want %q", name, got, want)
	}
}

// hasEvent says whether the federated Service has an event of that type
// and reason.
func hasEvent(ctx context.Context, ns, name, eventType, reason string) error {
	list, err := fed.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + name})
	if err != nil {
		return err
	}
	var seen []string
	for _, e := range list.Items {
		if e.Type == eventType && e.Reason == reason {
			return nil
		}
		seen = append(seen, e.Type+" "+e.Reason+": "+e.Message)
	}
	return fmt.Errorf("events: %q", seen)
}

// etcdClient reaches the etcd CoreDNS reads.
func etcdClient(t *testing.T) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{fed.DNS.Etcd.ClientURL}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// putForeign writes an A record at name as someone other than the
// federation would: no owner.
func putForeign(t *testing.T, name, ip string) {
	t.Helper()
	if _, err := etcdClient(t).Put(context.Background(), fed.DNS.EtcdPath(name)+"/foreign", fmt.Sprintf(`{"host":%q,"ttl":60}`, ip)); err != nil {
		t.Fatal(err)
	}
}

// modRevisions returns the etcd keys under the names and the revision
// each was last written at.
func modRevisions(t *testing.T, names ...string) map[string]int64 {
	t.Helper()
	c := etcdClient(t)
	out := map[string]int64{}
	for _, n := range names {
		resp, err := c.Get(context.Background(), fed.DNS.EtcdPath(n)+"/", clientv3.WithPrefix())
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range resp.Kvs {
			out[string(kv.Key)] = kv.ModRevision
		}
	}
	return out
}

func (n names) all() []string {
	return []string{n.global(), n.region(usCentral), n.region(europeWest), n.zone(zoneA, usCentral), n.zone(zoneB, usCentral), n.zone(zoneE, europeWest)}
}

// TestRestart: a controller manager that restarts writes nothing for
// Services whose records are right, and removes the records of a Service
// deleted while it was down.
func TestRestart(t *testing.T) {
	ctx := context.Background()
	stable, gone, probe := names{ns: "restart", svc: "stable"}, names{ns: "restart", svc: "gone"}, names{ns: "restart", svc: "probe"}
	createApp(t, stable.ns, stable.svc)
	createApp(t, gone.ns, gone.svc)
	stableIPs, goneIPs := lbAddresses(t, stable.ns, stable.svc), lbAddresses(t, gone.ns, gone.svc)
	expectAll(t, stable, stableIPs, zoneA, zoneB, zoneE)
	expectAll(t, gone, goneIPs, zoneA, zoneB, zoneE)
	before := modRevisions(t, stable.all()...)
	if len(before) == 0 {
		t.Fatal("no etcd keys under the stable Service's names")
	}

	if err := fed.ControllerManager.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	// Deleted for good while nobody was there to remove its records: its
	// finalizers are taken off by hand.
	if err := fed.Client.CoreV1().Services(gone.ns).Delete(ctx, gone.svc, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := fed.Client.CoreV1().Services(gone.ns).Patch(ctx, gone.svc, types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := fed.ControllerManager.Start(); err != nil {
		t.Fatal(err)
	}
	for _, name := range gone.all() {
		expectNXDOMAIN(t, name)
	}
	// A Service created after the restart gets its records: the
	// controller has gone through its queue by then.
	createApp(t, probe.ns, probe.svc)
	expectAll(t, probe, lbAddresses(t, probe.ns, probe.svc), zoneA, zoneB, zoneE)
	if after := modRevisions(t, stable.all()...); !maps.Equal(before, after) {
		t.Errorf("the restart rewrote the stable Service's records: etcd keys and revisions before %v, after %v", before, after)
	}
}

// TestProviderDown: with CoreDNS's etcd stopped, a change cannot be
// written; the Service says so in a Warning event, and the records catch
// up once etcd is back.
func TestProviderDown(t *testing.T) {
	n := names{ns: "faults", svc: "resilient"}
	createApp(t, n.ns, n.svc)
	ips := lbAddresses(t, n.ns, n.svc)
	expectAll(t, n, ips, zoneA, zoneB, zoneE)

	if err := fed.DNS.Etcd.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fed.DNS.Etcd.Start() }()
	setPreferences(t, n.ns, n.svc, without(zoneA))
	framework.Eventually(t, transition, "a DNSUpdateFailed event on the Service", func(ctx context.Context) error {
		return hasEvent(ctx, n.ns, n.svc, corev1.EventTypeWarning, "DNSUpdateFailed")
	})
	if err := fed.DNS.Etcd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := fed.DNS.Etcd.WaitHealthy(context.Background()); err != nil {
		t.Fatal(err)
	}
	expectAll(t, n, ips, zoneB, zoneE)
}
