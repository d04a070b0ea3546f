package fakecompute

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// firewallKind is a VPC firewall rule. Its network is made a link but not
// looked up: the fake serves no networks, and every project has "default".
var firewallKind = &kind{
	collection: "firewalls",
	segment:    segFirewalls,
	typeName:   "firewall",
	apiKind:    "compute#firewall",
	update:     true,
	patch:      true,
	prepare:    prepareFirewall,
}

type firewallView struct {
	Network               string         `json:"network,omitempty"`
	Direction             string         `json:"direction,omitempty"`
	Priority              int64          `json:"priority,omitempty"`
	SourceRanges          []string       `json:"sourceRanges,omitempty"`
	DestinationRanges     []string       `json:"destinationRanges,omitempty"`
	SourceTags            []string       `json:"sourceTags,omitempty"`
	TargetTags            []string       `json:"targetTags,omitempty"`
	SourceServiceAccounts []string       `json:"sourceServiceAccounts,omitempty"`
	TargetServiceAccounts []string       `json:"targetServiceAccounts,omitempty"`
	Allowed               []firewallRule `json:"allowed,omitempty"`
	Denied                []firewallRule `json:"denied,omitempty"`
}

type firewallRule struct {
	IPProtocol string   `json:"IPProtocol,omitempty"`
	Ports      []string `json:"ports,omitempty"`
}

// protocolsWithPorts are the protocols whose rules may name ports, by name
// and by number.
var protocolsWithPorts = []string{"tcp", "udp", "sctp", "6", "17", "132"}

func prepareFirewall(s *Server, c *candidate) *apiError {
	setDefault(c.fields, "network", "global/networks/default")
	setDefault(c.fields, "direction", "INGRESS")
	setDefault(c.fields, "priority", int64(1000))
	var v firewallView
	if err := decodeView(c.fields, &v); err != nil {
		return err
	}
	network, ok := parseRef(c.at.project, v.Network)
	if !ok || network.segment != "networks" {
		return invalidField("resource.network", v.Network, "It must be a reference to a network.")
	}
	v.Network = s.link(network)
	if v.Priority < 0 || v.Priority > 65535 {
		return invalidField("resource.priority", v.Priority, "It must be between 0 and 65535.")
	}
	switch {
	case len(v.Allowed) == 0 && len(v.Denied) == 0:
		return invalidField("resource.allowed", "", "A firewall rule needs allowed or denied rules.")
	case len(v.Allowed) > 0 && len(v.Denied) > 0:
		return invalidField("resource.denied", "", "A firewall rule has allowed or denied rules, not both.")
	}
	for i, rule := range slices.Concat(v.Allowed, v.Denied) {
		side := "allowed"
		if len(v.Denied) > 0 {
			side = "denied"
		}
		if err := validFirewallRule(fmt.Sprintf("resource.%s[%d]", side, i), rule); err != nil {
			return err
		}
	}

	switch v.Direction {
	case "INGRESS":
		if len(v.DestinationRanges) > 0 {
			return invalidField("resource.destinationRanges", v.DestinationRanges, "An INGRESS rule has source ranges, not destination ranges.")
		}
		// The API's default: an ingress rule with no source at all is
		// from anywhere.
		if len(v.SourceRanges) == 0 && len(v.SourceTags) == 0 && len(v.SourceServiceAccounts) == 0 {
			v.SourceRanges = []string{"0.0.0.0/0"}
		}
	case "EGRESS":
		if len(v.SourceTags) > 0 || len(v.SourceServiceAccounts) > 0 {
			return invalidField("resource.sourceTags", v.SourceTags, "An EGRESS rule has no source tags or service accounts.")
		}
		if len(v.DestinationRanges) == 0 {
			v.DestinationRanges = []string{"0.0.0.0/0"}
		}
	default:
		return invalidField("resource.direction", v.Direction, "It must be INGRESS or EGRESS.")
	}
	for _, f := range []struct {
		name   string
		values []string
		tags   bool
	}{
		{"sourceRanges", v.SourceRanges, false}, {"destinationRanges", v.DestinationRanges, false},
		{"sourceTags", v.SourceTags, true}, {"targetTags", v.TargetTags, true},
	} {
		for i, value := range f.values {
			field := fmt.Sprintf("resource.%s[%d]", f.name, i)
			if f.tags {
				if err := validName(field, value); err != nil {
					return err
				}
			} else if !validRange(value) {
				return invalidField(field, value, "It must be an IP address or a CIDR range.")
			}
		}
	}
	if len(v.TargetTags) > 0 && len(v.TargetServiceAccounts) > 0 {
		return invalidField("resource.targetServiceAccounts", v.TargetServiceAccounts, "A rule targets tags or service accounts, not both.")
	}
	if len(v.SourceTags) > 0 && len(v.SourceServiceAccounts) > 0 {
		return invalidField("resource.sourceServiceAccounts", v.SourceServiceAccounts, "A rule's sources are tags or service accounts, not both.")
	}
	return overlay(c.fields, v)
}

func validFirewallRule(field string, rule firewallRule) *apiError {
	proto := strings.ToLower(rule.IPProtocol)
	switch proto {
	case "tcp", "udp", "icmp", "esp", "ah", "sctp", "ipip", "all":
	default:
		if n, err := strconv.Atoi(proto); err != nil || n < 0 || n > 255 {
			return invalidField(field+".IPProtocol", rule.IPProtocol,
				"It must be tcp, udp, icmp, esp, ah, sctp, ipip, all or a protocol number.")
		}
	}
	if len(rule.Ports) > 0 && !slices.Contains(protocolsWithPorts, proto) {
		return invalidField(field+".ports", rule.Ports, "Only tcp, udp and sctp rules name ports.")
	}
	for i, p := range rule.Ports {
		if !validPortRange(p) {
			return invalidField(fmt.Sprintf("%s.ports[%d]", field, i), p, "It must be a port, \"80\", or a range, \"30000-32767\".")
		}
	}
	return nil
}

func validPortRange(p string) bool {
	lo, hi, found := strings.Cut(p, "-")
	if !found {
		hi = lo
	}
	l, err1 := strconv.ParseUint(lo, 10, 16)
	h, err2 := strconv.ParseUint(hi, 10, 16)
	return err1 == nil && err2 == nil && l <= h
}

func validRange(r string) bool {
	if _, err := netip.ParsePrefix(r); err == nil {
		return true
	}
	_, err := netip.ParseAddr(r)
	return err == nil
}
