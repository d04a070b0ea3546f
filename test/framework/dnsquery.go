package framework

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Query asks the DNS server once for name (made fully qualified) and
// qtype, over UDP, and again over TCP when the answer did not fit. Any
// response is returned, whatever its code; an error means none came.
func (d *DNSServer) Query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	return query(ctx, d.Addr, name, qtype)
}

// query asks the DNS server at addr once for name and qtype over UDP, and
// again over TCP when the answer did not fit.
func query(ctx context.Context, addr, name string, qtype uint16) (*dns.Msg, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	// A lost UDP packet costs at most this, not the caller's whole wait.
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	r, _, err := c.ExchangeContext(ctx, q, addr)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.ExchangeContext(ctx, q, addr)
	}
	if err != nil {
		return nil, fmt.Errorf("query %s %s at %s: %w", dns.TypeToString[qtype], q.Question[0].Name, addr, err)
	}
	return r, nil
}

// Answers is the answer section of r, one record a line as
// "name TTL TYPE data" (data as in a zone file), sorted:
//
//	web.example.com. 180 A 192.0.2.1
//	alias.example.com. 90 CNAME web.example.com.
func Answers(r *dns.Msg) []string {
	out := make([]string, 0, len(r.Answer))
	for _, rr := range r.Answer {
		h := rr.Header()
		// A record's text is its header's text followed by its data.
		data := strings.TrimPrefix(rr.String(), h.String())
		out = append(out, fmt.Sprintf("%s %d %s %s", h.Name, h.Ttl, dns.TypeToString[h.Rrtype], data))
	}
	slices.Sort(out)
	return out
}

// WaitFor asks for name and qtype every 100 ms until check accepts the
// response, CoreDNS exits, or ctx ends (callers bound the wait with ctx);
// the error says what was last wrong and where CoreDNS's log is.
func (d *DNSServer) WaitFor(ctx context.Context, what, name string, qtype uint16, check func(*dns.Msg) error) error {
	return d.Process.WaitFor(ctx, what, func(ctx context.Context) error {
		r, err := d.Query(ctx, name, qtype)
		if err != nil {
			return err
		}
		return check(r)
	})
}

// WaitAnswer waits until the server answers name and qtype with exactly
// want (as Answers formats them, in any order).
func (d *DNSServer) WaitAnswer(ctx context.Context, name string, qtype uint16, want ...string) error {
	want = slices.Sorted(slices.Values(want))
	what := fmt.Sprintf("answer %s %s with %q", dns.TypeToString[qtype], name, want)
	return d.WaitFor(ctx, what, name, qtype, func(r *dns.Msg) error {
		if r.Rcode != dns.RcodeSuccess {
			return fmt.Errorf("rcode %s", dns.RcodeToString[r.Rcode])
		}
		if got := Answers(r); !slices.Equal(got, want) {
			return fmt.Errorf("answer %q", got)
		}
		return nil
	})
}

// WaitNXDOMAIN waits until the server says name does not exist.
func (d *DNSServer) WaitNXDOMAIN(ctx context.Context, name string, qtype uint16) error {
	what := fmt.Sprintf("answer %s %s with NXDOMAIN", dns.TypeToString[qtype], name)
	return d.WaitFor(ctx, what, name, qtype, func(r *dns.Msg) error {
		if r.Rcode != dns.RcodeNameError {
			return fmt.Errorf("rcode %s, answer %q", dns.RcodeToString[r.Rcode], Answers(r))
		}
		return nil
	})
}
