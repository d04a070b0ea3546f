package federation

import (
	"context"
	"strings"
	"testing"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"
	"github.com/miekg/dns"
	api "k8s.io/api/core/v1"
)

const testCorefile = `federation cluster.local {
    myfederation example.com
    otherfed other.example.org
    zone us-central1-a
    region us-central1
}`

// newTestFederation returns the plugin set up from corefile over a
// kubernetes plugin (set up from kubeStanza) that reads a, with next after
// both.
func newTestFederation(t *testing.T, corefile, kubeStanza string, a *fakeAPI, next plugin.Handler) *Federation {
	t.Helper()
	f, err := parse(caddy.NewTestController("dns", corefile))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	k := newKubernetes(t, kubeStanza, a)
	k.Next = next
	f.cluster = kubernetesCluster{k: k}
	f.Next = k
	return f
}

// testCluster is a cluster with
//   - mynamespace/nginx: cluster IP 10.0.0.10, one ready endpoint of two;
//   - mynamespace/dual: dual-stack, cluster IPs 10.0.0.11 and fd00::11, ready;
//   - mynamespace/idle: cluster IP 10.0.0.12, endpoints none ready;
//   - mynamespace/noslice: cluster IP 10.0.0.13, no EndpointSlice;
//   - mynamespace/headless: headless, endpoints 10.1.0.1 and 10.1.0.2 ready
//     (in two slices), 10.1.0.3 not ready;
//   - mynamespace/ext: ExternalName;
//   - other/nginx: cluster IP 10.0.0.20, ready.
func testCluster(t *testing.T) *fakeAPI {
	a := &fakeAPI{}
	a.addService(t, service("mynamespace", "nginx", "10.0.0.10"))
	a.addEndpointSlice(t, endpointSlice("mynamespace", "nginx", "nginx-a", endpoint{"10.1.1.1", no}, endpoint{"10.1.1.2", yes}))
	a.addService(t, service("mynamespace", "dual", "10.0.0.11", "fd00::11"))
	a.addEndpointSlice(t, endpointSlice("mynamespace", "dual", "dual-a", endpoint{"10.1.2.1", nil}))
	a.addService(t, service("mynamespace", "idle", "10.0.0.12"))
	a.addEndpointSlice(t, endpointSlice("mynamespace", "idle", "idle-a", endpoint{"10.1.3.1", no}))
	a.addService(t, service("mynamespace", "noslice", "10.0.0.13"))
	a.addService(t, service("mynamespace", "headless", api.ClusterIPNone))
	a.addEndpointSlice(t, endpointSlice("mynamespace", "headless", "headless-a", endpoint{"10.1.0.1", yes}, endpoint{"10.1.0.3", no}))
	a.addEndpointSlice(t, endpointSlice("mynamespace", "headless", "headless-b", endpoint{"10.1.0.2", yes}, endpoint{"10.1.0.1", yes}))
	ext := service("mynamespace", "ext", "")
	ext.Spec.Type = api.ServiceTypeExternalName
	ext.Spec.ExternalName = "nginx.example.net"
	a.addService(t, ext)
	a.addService(t, service("other", "nginx", "10.0.0.20"))
	a.addEndpointSlice(t, endpointSlice("other", "nginx", "nginx-a", endpoint{"10.2.0.1", yes}))
	return a
}

const soa = "cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 3 7200 1800 86400 5"

func TestServeDNS(t *testing.T) {
	f := newTestFederation(t, testCorefile, "kubernetes cluster.local", testCluster(t), test.ErrorHandler())
	cases := []struct {
		name string
		test.Case
	}{
		{"healthy: its cluster IP", test.Case{
			Qname: "nginx.mynamespace.myfederation.svc.cluster.local.", Qtype: dns.TypeA,
			Answer: []dns.RR{test.A("nginx.mynamespace.myfederation.svc.cluster.local. 5 IN A 10.0.0.10")},
		}},
		{"healthy, any case: the query's name", test.Case{
			Qname: "NGINX.MyNamespace.MyFederation.SVC.Cluster.Local.", Qtype: dns.TypeA,
			Answer: []dns.RR{test.A("NGINX.MyNamespace.MyFederation.SVC.Cluster.Local. 5 IN A 10.0.0.10")},
		}},
		{"healthy IPv4-only, AAAA: NODATA", test.Case{
			Qname: "nginx.mynamespace.myfederation.svc.cluster.local.", Qtype: dns.TypeAAAA,
			Ns: []dns.RR{test.SOA(soa)},
		}},
		{"healthy, other type: NODATA", test.Case{
			Qname: "nginx.mynamespace.myfederation.svc.cluster.local.", Qtype: dns.TypeTXT,
			Ns: []dns.RR{test.SOA(soa)},
		}},
		{"healthy dual-stack, A", test.Case{
			Qname: "dual.mynamespace.myfederation.svc.cluster.local.", Qtype: dns.TypeA,
			Answer: []dns.RR{test.A("dual.mynamespace.myfederation.svc.cluster.local. 5 IN A 10.0.0.11")},
		}},
		{"healthy dual-stack, AAAA", test.Case{
			Qname: "dual.mynamespace.myfederation.svc.cluster.local.", Qtype: dns.TypeAAAA,
			Answer: []dns.RR{test.AAAA("dual.mynamespace.myfederation.svc.cluster.local. 5 IN AAAA fd00::11")},
		}},
		{"headless: its ready endpoints", test.Case{
			Qname: "headless.mynamespace.myfederation.svc.cluster.local.", Qtype: dns.TypeA,
			Answer: []dns.RR{
				test.A("headless.mynamespace.myfederation.svc.cluster.local. 5 IN A 10.1.0.1"),
				test.A("headless.mynamespace.myfederation.svc.cluster.local. 5 IN A 10.1.0.2"),
			},
		}},
		{"no ready endpoint: CNAME", test.Case{
			Qname: "idle.mynamespace.myfederation.svc.cluster.local.", Qtype: dns.TypeA,
			Answer: []dns.RR{test.CNAME("idle.mynamespace.myfederation.svc.cluster.local. 5 IN CNAME idle.mynamespace.myfederation.svc.us-central1-a.us-central1.example.com.")},
		}},
		{"no EndpointSlice: CNAME", test.Case{
			Qname: "noslice.mynamespace.myfederation.svc.cluster.local.", Qtype: dns.TypeA,
			Answer: []dns.RR{test.CNAME("noslice.mynamespace.myfederation.svc.cluster.local. 5 IN CNAME noslice.mynamespace.myfederation.svc.us-central1-a.us-central1.example.com.")},
		}},
		{"absent: CNAME", test.Case{
			Qname: "absent.mynamespace.myfederation.svc.cluster.local.", Qtype: dns.TypeA,
			Answer: []dns.RR{test.CNAME("absent.mynamespace.myfederation.svc.cluster.local. 5 IN CNAME absent.mynamespace.myfederation.svc.us-central1-a.us-central1.example.com.")},
		}},
		{"absent, AAAA: CNAME", test.Case{
			Qname: "absent.mynamespace.myfederation.svc.cluster.local.", Qtype: dns.TypeAAAA,
			Answer: []dns.RR{test.CNAME("absent.mynamespace.myfederation.svc.cluster.local. 5 IN CNAME absent.mynamespace.myfederation.svc.us-central1-a.us-central1.example.com.")},
		}},
		{"absent, any case: lower case target", test.Case{
			Qname: "Absent.MyNamespace.MYFEDERATION.svc.cluster.local.", Qtype: dns.TypeA,
			Answer: []dns.RR{test.CNAME("Absent.MyNamespace.MYFEDERATION.svc.cluster.local. 5 IN CNAME absent.mynamespace.myfederation.svc.us-central1-a.us-central1.example.com.")},
		}},
		{"ExternalName: CNAME", test.Case{
			Qname: "ext.mynamespace.myfederation.svc.cluster.local.", Qtype: dns.TypeA,
			Answer: []dns.RR{test.CNAME("ext.mynamespace.myfederation.svc.cluster.local. 5 IN CNAME ext.mynamespace.myfederation.svc.us-central1-a.us-central1.example.com.")},
		}},
		{"other federation, healthy", test.Case{
			Qname: "nginx.other.otherfed.svc.cluster.local.", Qtype: dns.TypeA,
			Answer: []dns.RR{test.A("nginx.other.otherfed.svc.cluster.local. 5 IN A 10.0.0.20")},
		}},
		{"other federation, absent: its domain", test.Case{
			Qname: "absent.other.otherfed.svc.cluster.local.", Qtype: dns.TypeA,
			Answer: []dns.RR{test.CNAME("absent.other.otherfed.svc.cluster.local. 5 IN CNAME absent.other.otherfed.svc.us-central1-a.us-central1.other.example.org.")},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := dnstest.NewRecorder(&test.ResponseWriter{})
			rcode, err := f.ServeDNS(context.Background(), rec, tc.Msg())
			if err != nil || rcode != dns.RcodeSuccess {
				t.Fatalf("ServeDNS = %s, %v; want NOERROR, nil", dns.RcodeToString[rcode], err)
			}
			if !rec.Msg.Authoritative {
				t.Error("answer is not authoritative")
			}
			if err := test.SortAndCheck(rec.Msg, tc.Case); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestServeDNSTTL(t *testing.T) {
	f := newTestFederation(t, testCorefile, "kubernetes cluster.local {\n ttl 30\n}", testCluster(t), test.ErrorHandler())
	for _, tc := range []test.Case{{
		Qname: "nginx.mynamespace.myfederation.svc.cluster.local.", Qtype: dns.TypeA,
		Answer: []dns.RR{test.A("nginx.mynamespace.myfederation.svc.cluster.local. 30 IN A 10.0.0.10")},
	}, {
		Qname: "absent.mynamespace.myfederation.svc.cluster.local.", Qtype: dns.TypeA,
		Answer: []dns.RR{test.CNAME("absent.mynamespace.myfederation.svc.cluster.local. 30 IN CNAME absent.mynamespace.myfederation.svc.us-central1-a.us-central1.example.com.")},
	}} {
		rec := dnstest.NewRecorder(&test.ResponseWriter{})
		if _, err := f.ServeDNS(context.Background(), rec, tc.Msg()); err != nil {
			t.Fatal(err)
		}
		if err := test.SortAndCheck(rec.Msg, tc); err != nil {
			t.Errorf("%s: %v", tc.Qname, err)
		}
	}
}

// Names that are not a configured federation's go to the next plugin as
// they came.
func TestServeDNSFallsThrough(t *testing.T) {
	names := []string{
		"nginx.mynamespace.svc.cluster.local.",
		"nginx.mynamespace.unknownfed.svc.cluster.local.",
		"nginx.mynamespace.myfederation.svc.other.local.",
		"x.nginx.mynamespace.myfederation.svc.cluster.local.",
		"mynamespace.myfederation.svc.cluster.local.",
		"nginx.mynamespace.myfederation.cluster.local.",
		"*.mynamespace.myfederation.svc.cluster.local.",
		"nginx.mynamespace.myfederation.svc.us-central1-a.us-central1.example.com.",
		"example.org.",
	}
	for _, name := range names {
		var got *dns.Msg
		next := test.HandlerFunc(func(_ context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
			got = r.Copy()
			return dns.RcodeRefused, nil
		})
		f := newTestFederation(t, testCorefile, "kubernetes cluster.local", testCluster(t), nil)
		f.Next = next
		req := new(dns.Msg)
		req.SetQuestion(name, dns.TypeA)
		want := req.Copy()
		rec := dnstest.NewRecorder(&test.ResponseWriter{})
		rcode, err := f.ServeDNS(context.Background(), rec, req)
		if rcode != dns.RcodeRefused || err != nil {
			t.Errorf("%s: ServeDNS = %s, %v; want the next plugin's REFUSED", name, dns.RcodeToString[rcode], err)
		}
		if got == nil || got.String() != want.String() {
			t.Errorf("%s: the next plugin got %v, want the query unchanged", name, got)
		}
		if rec.Msg != nil {
			t.Errorf("%s: the plugin wrote %v", name, rec.Msg)
		}
	}
}

// A pod's resolver tries nginx.mynamespace.myfederation with each search
// domain in turn: only the svc.<cluster-domain> one is the plugin's; the
// others reach the kubernetes plugin, which finds no such name.
func TestServeDNSSearchPath(t *testing.T) {
	f := newTestFederation(t, testCorefile, "kubernetes cluster.local", testCluster(t), test.ErrorHandler())
	for _, tc := range []struct {
		name  string
		rcode int
		cname bool
	}{
		{"nginx.mynamespace.myfederation.podns.svc.cluster.local.", dns.RcodeNameError, false},
		{"nginx.mynamespace.myfederation.mynamespace.svc.cluster.local.", dns.RcodeNameError, false},
		{"absent.mynamespace.myfederation.mynamespace.svc.cluster.local.", dns.RcodeNameError, false},
		{"absent.mynamespace.myfederation.svc.cluster.local.", dns.RcodeSuccess, true},
		{"nginx.mynamespace.myfederation.cluster.local.", dns.RcodeNameError, false},
	} {
		req := new(dns.Msg)
		req.SetQuestion(tc.name, dns.TypeA)
		rec := dnstest.NewRecorder(&test.ResponseWriter{})
		if _, err := f.ServeDNS(context.Background(), rec, req); err != nil && tc.rcode == dns.RcodeSuccess {
			t.Errorf("%s: %v", tc.name, err)
		}
		if rec.Msg == nil {
			t.Errorf("%s: no answer", tc.name)
			continue
		}
		if rec.Msg.Rcode != tc.rcode {
			t.Errorf("%s: rcode %s, want %s", tc.name, dns.RcodeToString[rec.Msg.Rcode], dns.RcodeToString[tc.rcode])
		}
		if gotCNAME := len(rec.Msg.Answer) == 1 && rec.Msg.Answer[0].Header().Rrtype == dns.TypeCNAME; gotCNAME != tc.cname {
			t.Errorf("%s: answer %v, want a CNAME: %v", tc.name, rec.Msg.Answer, tc.cname)
		}
	}
}

// Without zone and region there is no federation name to send a query to.
func TestServeDNSNoZoneRegion(t *testing.T) {
	corefile := "federation cluster.local {\n myfederation example.com\n}"
	f := newTestFederation(t, corefile, "kubernetes cluster.local", testCluster(t), test.ErrorHandler())

	req := new(dns.Msg)
	req.SetQuestion("absent.mynamespace.myfederation.svc.cluster.local.", dns.TypeA)
	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	rcode, _ := f.ServeDNS(context.Background(), rec, req)
	if rcode != dns.RcodeServerFailure || rec.Msg != nil {
		t.Errorf("absent Service: rcode %s, wrote %v; want SERVFAIL left to the server to write", dns.RcodeToString[rcode], rec.Msg)
	}

	// A healthy Service needs neither.
	tc := test.Case{
		Qname: "nginx.mynamespace.myfederation.svc.cluster.local.", Qtype: dns.TypeA,
		Answer: []dns.RR{test.A("nginx.mynamespace.myfederation.svc.cluster.local. 5 IN A 10.0.0.10")},
	}
	rec = dnstest.NewRecorder(&test.ResponseWriter{})
	if _, err := f.ServeDNS(context.Background(), rec, tc.Msg()); err != nil {
		t.Fatal(err)
	}
	if err := test.SortAndCheck(rec.Msg, tc); err != nil {
		t.Error(err)
	}
}

// The kubernetes plugin's namespaces option limits the Services it serves,
// and so the Services this cluster answers for itself.
func TestServeDNSNamespaces(t *testing.T) {
	f := newTestFederation(t, testCorefile, "kubernetes cluster.local {\n namespaces other\n}", testCluster(t), test.ErrorHandler())
	req := new(dns.Msg)
	req.SetQuestion("nginx.mynamespace.myfederation.svc.cluster.local.", dns.TypeA)
	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	if _, err := f.ServeDNS(context.Background(), rec, req); err != nil {
		t.Fatal(err)
	}
	if len(rec.Msg.Answer) != 1 || rec.Msg.Answer[0].Header().Rrtype != dns.TypeCNAME {
		t.Errorf("Service of an unserved namespace: answer %v, want a CNAME", rec.Msg.Answer)
	}
}

func TestKubernetesOf(t *testing.T) {
	if _, err := kubernetesOf(nil); err == nil || !strings.Contains(err.Error(), "needs the kubernetes plugin") {
		t.Errorf("no kubernetes plugin: error %v", err)
	}
	if _, err := kubernetesOf(test.ErrorHandler()); err == nil {
		t.Error("another handler: no error")
	}
	k := newKubernetes(t, "kubernetes cluster.local", &fakeAPI{})
	if got, err := kubernetesOf(k); err != nil || got != k {
		t.Errorf("kubernetes plugin: %v, %v", got, err)
	}
}
