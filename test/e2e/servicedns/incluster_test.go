package servicedns

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kfederation/federation/test/framework"
)

// TestInClusterDNS asks a member's cluster DNS, the CoreDNS with the
// federation plugin and the Corefile kubefed join wrote, what a pod there
// would get for a federated Service: the member's own Service while its
// shard is healthy, else a CNAME to the zone's federated name, which the
// federation's DNS answers with the nearest healthy shards. Names outside
// the federation are answered as stock CoreDNS answers them.
func TestInClusterDNS(t *testing.T) {
	ctx := context.Background()
	a := fed.Member(zoneA)
	if a.DNS == nil {
		if _, err := a.StartClusterDNS(ctx, framework.ClusterDNSOptions{Upstream: fed.DNS.Addr}); err != nil {
			t.Fatal(err)
		}
	}
	n := names{ns: "incluster", svc: "web"}
	createApp(t, n.ns, n.svc)
	ips := lbAddresses(t, n.ns, n.svc)
	expectAll(t, n, ips, zoneA, zoneB, zoneE)
	local := n.svc + "." + n.ns + "." + federationName + ".svc." + framework.ClusterDomain + "."
	svc, err := a.Client.CoreV1().Services(n.ns).Get(ctx, n.svc, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("healthy local shard", func(t *testing.T) {
		framework.Eventually(t, transition, "the member's cluster IP", func(ctx context.Context) error {
			return answers(ctx, a.DNS, local, dns.TypeA, local+" A "+svc.Spec.ClusterIP)
		})
	})
	t.Run("search path", func(t *testing.T) {
		// What a pod in namespace default gets for web.incluster.myfederation
		// (ndots:5, so the search path comes first).
		r, name, err := resolveLikeAPod(ctx, a.DNS, n.svc+"."+n.ns+"."+federationName, "default")
		if err != nil {
			t.Fatal(err)
		}
		if got := data(r); name != local || !slices.Equal(got, []string{local + " A " + svc.Spec.ClusterIP}) {
			t.Errorf("resolved %s to %q, want %s A %s", name, got, local, svc.Spec.ClusterIP)
		}
	})
	t.Run("unhealthy local shard", func(t *testing.T) {
		setPreferences(t, n.ns, n.svc, without(zoneA))
		target := n.zone(zoneA, usCentral)
		framework.Eventually(t, transition, "a CNAME to the zone's federated name", func(ctx context.Context) error {
			return answers(ctx, a.DNS, local, dns.TypeA, local+" CNAME "+target)
		})
		// The pod's resolver follows the CNAME, through the member's DNS,
		// which forwards to the federation's: the zone has no healthy
		// shard, so the region's answers.
		framework.Eventually(t, transition, "the CNAME followed to another member", func(ctx context.Context) error {
			return answers(ctx, a.DNS, target, dns.TypeA,
				target+" CNAME "+n.region(usCentral), n.region(usCentral)+" A "+ips[zoneB])
		})
		setPreferences(t, n.ns, n.svc, everywhere)
		framework.Eventually(t, transition, "the member's cluster IP again", func(ctx context.Context) error {
			return answers(ctx, a.DNS, local, dns.TypeA, local+" A "+svc.Spec.ClusterIP)
		})
	})
	t.Run("other names as stock CoreDNS", func(t *testing.T) {
		stock, err := a.StartClusterDNS(ctx, framework.ClusterDNSOptions{Binary: "coredns", Name: "coredns-stock", Upstream: fed.DNS.Addr, WithoutFederation: true})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = stock.Stop() }()
		for _, q := range []struct {
			name  string
			qtype uint16
		}{
			{"kubernetes.default.svc.cluster.local.", dns.TypeA},
			{n.svc + "." + n.ns + ".svc.cluster.local.", dns.TypeA},
			{"nosuch." + n.ns + ".svc.cluster.local.", dns.TypeA},
			{n.svc + "." + n.ns + ".otherfed.svc.cluster.local.", dns.TypeA},
			{n.svc + "." + n.ns + "." + federationName + ".default.svc.cluster.local.", dns.TypeA},
			{n.svc + "." + n.ns + "." + federationName + ".cluster.local.", dns.TypeA},
			{"1.0.96.10.in-addr.arpa.", dns.TypePTR},
			{n.global(), dns.TypeA},
			{"example.com.", dns.TypeSOA},
		} {
			want, err := stock.Query(ctx, q.name, q.qtype)
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.DNS.Query(ctx, q.name, q.qtype)
			if err != nil {
				t.Fatal(err)
			}
			if got.Rcode != want.Rcode || !slices.Equal(data(got), data(want)) {
				t.Errorf("%s %s: %s %q, stock CoreDNS says %s %q", dns.TypeToString[q.qtype], q.name,
					dns.RcodeToString[got.Rcode], data(got), dns.RcodeToString[want.Rcode], data(want))
			}
		}
	})
}

// data is the answer section as "name TYPE data" lines, sorted, without
// TTLs (a cache counts them down).
func data(r *dns.Msg) []string {
	var out []string
	for _, line := range framework.Answers(r) {
		f := strings.SplitN(line, " ", 3)
		out = append(out, f[0]+" "+f[2])
	}
	slices.Sort(out)
	return out
}

// answers says whether the server answers name with exactly want (as data
// formats them).
func answers(ctx context.Context, d *framework.MemberDNS, name string, qtype uint16, want ...string) error {
	r, err := d.Query(ctx, name, qtype)
	if err != nil {
		return err
	}
	slices.Sort(want)
	if got := data(r); r.Rcode != dns.RcodeSuccess || !slices.Equal(got, want) {
		return fmt.Errorf("%s: %s %q, want %q", name, dns.RcodeToString[r.Rcode], got, want)
	}
	return nil
}

// resolveLikeAPod resolves name as a pod in namespace ns would, with
// kubelet's search path and ndots:5: each search domain in turn, then the
// name as it is; the first answer that is not NXDOMAIN wins.
func resolveLikeAPod(ctx context.Context, d *framework.MemberDNS, name, ns string) (*dns.Msg, string, error) {
	search := []string{ns + ".svc." + framework.ClusterDomain, "svc." + framework.ClusterDomain, framework.ClusterDomain}
	var tries []string
	for _, s := range search {
		tries = append(tries, name+"."+s+".")
	}
	tries = append(tries, name+".")
	for _, fqdn := range tries {
		r, err := d.Query(ctx, fqdn, dns.TypeA)
		if err != nil {
			return nil, "", err
		}
		if r.Rcode != dns.RcodeNameError {
			return r, fqdn, nil
		}
	}
	return nil, "", fmt.Errorf("%s: NXDOMAIN for every search domain", name)
}
