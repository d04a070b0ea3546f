package fakecompute

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// forwardingRuleKind is a global forwarding rule to a target HTTP proxy. It
// uses its target, and the global address whose IP it listens on, if any.
var forwardingRuleKind = &kind{
	collection:  "globalForwardingRules",
	segment:     segForwardingRules,
	typeName:    "forwarding_rule",
	apiKind:     "compute#forwardingRule",
	fingerprint: true,
	patch:       true,
	prepare:     prepareForwardingRule,
}

type forwardingRuleView struct {
	IPAddress           string `json:"IPAddress,omitempty"`
	IPProtocol          string `json:"IPProtocol,omitempty"`
	PortRange           string `json:"portRange,omitempty"`
	Target              string `json:"target,omitempty"`
	LoadBalancingScheme string `json:"loadBalancingScheme,omitempty"`
	NetworkTier         string `json:"networkTier,omitempty"`
}

func prepareForwardingRule(s *Server, c *candidate) *apiError {
	setDefault(c.fields, "IPProtocol", "TCP")
	setDefault(c.fields, "portRange", "80-80")
	setDefault(c.fields, "loadBalancingScheme", "EXTERNAL")
	setDefault(c.fields, "networkTier", "PREMIUM")
	var v forwardingRuleView
	if err := decodeView(c.fields, &v); err != nil {
		return err
	}
	if v.Target == "" {
		return invalidField("resource.target", "", "A global forwarding rule needs a target proxy.")
	}
	t, err := s.resolve(c.at.project, "resource.target", v.Target, segTargetHTTPProxies)
	if err != nil {
		return err
	}
	v.Target = s.link(t)
	c.uses = append(c.uses, t)
	if v.IPProtocol != "TCP" {
		return invalidField("resource.IPProtocol", v.IPProtocol, "A forwarding rule to a target HTTP proxy is TCP.")
	}
	if v.LoadBalancingScheme != "EXTERNAL" && v.LoadBalancingScheme != "EXTERNAL_MANAGED" {
		return invalidField("resource.loadBalancingScheme", v.LoadBalancingScheme, "The fake serves EXTERNAL and EXTERNAL_MANAGED forwarding rules only.")
	}
	if v.NetworkTier != "PREMIUM" {
		return invalidField("resource.networkTier", v.NetworkTier, "A global forwarding rule is in the PREMIUM tier.")
	}
	port, ok := singlePort(v.PortRange)
	if !ok || (port != 80 && port != 8080) {
		return invalidField("resource.portRange", v.PortRange, "A target HTTP proxy serves port 80 or 8080.")
	}
	v.PortRange = strconv.Itoa(port) + "-" + strconv.Itoa(port)

	ip, err := s.listenIP(c, v.IPAddress)
	if err != nil {
		return err
	}
	v.IPAddress = ip.String()
	for name, o := range s.scopes[c.at.scope] {
		if name != c.at.name && stringField(o.fields, "IPAddress") == v.IPAddress && stringField(o.fields, "portRange") == v.PortRange {
			return invalidField("resource.IPAddress", v.IPAddress, "Forwarding rule '%s' listens on this IP address and port already.", name)
		}
	}
	return overlay(c.fields, v)
}

// listenIP is the IP a forwarding rule listens on, from its IPAddress:
//
//   - empty: an ephemeral IP from the pool;
//   - a reference to a global address: that address's IP, and the rule
//     uses the address;
//   - an IP literal: it must be a global address reserved in the project
//     (the rule then uses it), or the ephemeral IP the rule has already, as
//     the API does not let a rule pick an IP nobody reserved.
//
// The IP literal is what the API stores and returns in every case.
func (s *Server) listenIP(c *candidate, value string) (netip.Addr, *apiError) {
	if value == "" {
		ip, ok := s.freeIP()
		if !ok {
			return ip, errorf(http.StatusForbidden, "quotaExceeded", "The fake's pool %s has no free address left.", addressPool)
		}
		return ip, nil
	}
	if ip, err := netip.ParseAddr(value); err == nil {
		if !ip.Is4() {
			return ip, invalidField("resource.IPAddress", value, "The fake serves IPv4 only.")
		}
		if a, ok := s.reservedAddress(c.at.project, ip); ok {
			c.uses = append(c.uses, a)
			return ip, nil
		}
		if c.old != nil && stringField(c.old.fields, "IPAddress") == ip.String() {
			return ip, nil
		}
		return ip, invalidField("resource.IPAddress", value,
			"The IP address is not reserved in project '%s'; reserve a global address, or leave IPAddress empty for an ephemeral one.", c.at.project)
	}
	a, err := s.resolve(c.at.project, "resource.IPAddress", value, segAddresses)
	if err != nil {
		return netip.Addr{}, err
	}
	c.uses = append(c.uses, a)
	ip, perr := netip.ParseAddr(stringField(s.find(a).fields, "address"))
	if perr != nil {
		return ip, errorf(http.StatusInternalServerError, "internalError", "address '%s' has no IP: %v", a.key(), perr)
	}
	return ip, nil
}

// singlePort reads a port range of one port, "80" or "80-80".
func singlePort(portRange string) (int, bool) {
	lo, hi, found := strings.Cut(portRange, "-")
	if !found {
		hi = lo
	}
	l, err1 := strconv.Atoi(lo)
	h, err2 := strconv.Atoi(hi)
	return l, err1 == nil && err2 == nil && l == h && l > 0 && l < 65536
}

// setTarget serves globalForwardingRules.setTarget.
func (s *Server) setTarget(r *http.Request, body []byte) (any, *apiError) {
	in, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	at := pathRef(r, segForwardingRules)
	return s.replace(forwardingRuleKind, at, "setTarget", func(c *candidate) *apiError {
		c.fields["target"] = in["target"]
		return nil
	})
}
