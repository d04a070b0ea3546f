// Package federation is a CoreDNS plugin that answers for the Services of a
// cluster federation: <service>.<namespace>.<federation>.svc.<cluster-domain>
// is the Service's own addresses when the Service exists in this cluster and
// has a ready endpoint, and otherwise a CNAME to
// <service>.<namespace>.<federation>.svc.<zone>.<region>.<federation-domain>,
// the federation's name for the Service's endpoints nearest to this cluster.
// It reads the informer caches of the kubernetes plugin of the same server
// block.
package federation

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	"github.com/coredns/coredns/plugin"
	clog "github.com/coredns/coredns/plugin/pkg/log"
	"github.com/coredns/coredns/request"
	"github.com/miekg/dns"
)

// PluginName is the plugin's name in a Corefile.
const PluginName = "federation"

var log = clog.NewWithPlugin(PluginName)

// Federation is the federation plugin's handler.
type Federation struct {
	Next plugin.Handler

	// clusterDomains are the cluster domains, lower case and fully
	// qualified, longest first.
	clusterDomains []string
	// federations maps a federation's name to its DNS domain, both lower
	// case, the domain fully qualified.
	federations map[string]string
	// zone and region are this cluster's, lower case; empty when unknown.
	zone, region string

	cluster cluster
	// lastWarning is when the missing zone or region was last logged, in
	// Unix nanoseconds.
	lastWarning atomic.Int64
}

// Name implements plugin.Handler.
func (f *Federation) Name() string { return PluginName }

// ServeDNS implements plugin.Handler.
func (f *Federation) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	state := request.Request{W: w, Req: r}
	name, ok := parseName(state.Name(), f.clusterDomains, f.federations)
	if !ok || f.cluster == nil {
		return plugin.NextOrFailure(f.Name(), f.Next, ctx, w, r)
	}

	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	ttl := f.cluster.ttl()

	if ips := f.cluster.healthyAddresses(name.namespace, name.service); len(ips) > 0 {
		m.Answer = addressRecords(state.QName(), state.QType(), ttl, ips)
		if len(m.Answer) == 0 {
			m.Ns = f.cluster.soa(ctx, name.clusterDomain, state)
		}
		_ = w.WriteMsg(m)
		return dns.RcodeSuccess, nil
	}

	if f.zone == "" || f.region == "" {
		f.warnNoZoneRegion(state.Name())
		return dns.RcodeServerFailure, nil
	}
	target := dns.Fqdn(name.service + "." + name.namespace + "." + name.federation + ".svc." + f.zone + "." + f.region + "." + f.federations[name.federation])
	if _, ok := dns.IsDomainName(target); !ok || len(target) > 254 {
		log.Errorf("Cannot answer %s: the federation's name %s is too long for DNS", state.Name(), target)
		return dns.RcodeServerFailure, nil
	}
	m.Answer = []dns.RR{&dns.CNAME{
		Hdr:    dns.RR_Header{Name: state.QName(), Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: ttl},
		Target: target,
	}}
	_ = w.WriteMsg(m)
	return dns.RcodeSuccess, nil
}

// addressRecords returns the A or AAAA records, as qtype asks, of ips under
// name; none for other query types.
func addressRecords(name string, qtype uint16, ttl uint32, ips []net.IP) []dns.RR {
	var rrs []dns.RR
	for _, ip := range ips {
		hdr := dns.RR_Header{Name: name, Rrtype: qtype, Class: dns.ClassINET, Ttl: ttl}
		switch ip4 := ip.To4(); {
		case qtype == dns.TypeA && ip4 != nil:
			rrs = append(rrs, &dns.A{Hdr: hdr, A: ip4})
		case qtype == dns.TypeAAAA && ip4 == nil:
			rrs = append(rrs, &dns.AAAA{Hdr: hdr, AAAA: ip})
		}
	}
	return rrs
}

// warnNoZoneRegion logs, at most once a minute, that a federated name cannot
// be answered for want of the cluster's zone and region.
func (f *Federation) warnNoZoneRegion(qname string) {
	now := time.Now().UnixNano()
	last := f.lastWarning.Load()
	if last != 0 && now-last < int64(time.Minute) {
		return
	}
	if !f.lastWarning.CompareAndSwap(last, now) {
		return
	}
	log.Errorf("Cannot send %s to the federation: this cluster's zone and region are unknown; set `zone` and `region` in the federation block of the Corefile", qname)
}
