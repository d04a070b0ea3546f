package fakecompute

import (
	"net/http"
	"net/netip"
)

// addressPool is where the fake takes the IPs of addresses reserved
// without one and of ephemeral forwarding rules: a range the API hands out
// global load balancer addresses from, so that they look real in logs and
// DNS records. Nothing is ever sent to them.
var addressPool = netip.MustParsePrefix("34.120.0.0/16")

// addressKind is a global static external IPv4 address. Its status is
// RESERVED, or IN_USE while a forwarding rule uses it; users lists those
// forwarding rules. Both are computed on every read, so they cannot go out
// of date.
var addressKind = &kind{
	collection: "globalAddresses",
	segment:    segAddresses,
	typeName:   "address",
	apiKind:    "compute#address",
	outputOnly: []string{"status", "users"},
	prepare:    prepareAddress,
	derive:     deriveAddress,
}

type addressView struct {
	Address     string `json:"address,omitempty"`
	AddressType string `json:"addressType,omitempty"`
	IPVersion   string `json:"ipVersion,omitempty"`
	NetworkTier string `json:"networkTier,omitempty"`
}

func prepareAddress(s *Server, c *candidate) *apiError {
	var v addressView
	if err := decodeView(c.fields, &v); err != nil {
		return err
	}
	if v.AddressType != "" && v.AddressType != "EXTERNAL" {
		return invalidField("resource.addressType", v.AddressType, "The fake serves EXTERNAL global addresses only.")
	}
	if v.IPVersion != "" && v.IPVersion != "IPV4" {
		return invalidField("resource.ipVersion", v.IPVersion, "The fake serves IPV4 addresses only.")
	}
	if v.NetworkTier != "" && v.NetworkTier != "PREMIUM" {
		return invalidField("resource.networkTier", v.NetworkTier, "A global address is in the PREMIUM tier.")
	}
	if v.Address == "" {
		ip, ok := s.freeIP()
		if !ok {
			return errorf(http.StatusForbidden, "quotaExceeded", "The fake's pool %s has no free address left.", addressPool)
		}
		v.Address = ip.String()
	} else {
		ip, err := netip.ParseAddr(v.Address)
		if err != nil || !ip.Is4() {
			return invalidField("resource.address", v.Address, "It must be an IPv4 address.")
		}
		if holder, ok := s.ipHolders()[ip]; ok {
			return invalidField("resource.address", v.Address, "The IP address is already reserved or in use by '%s'.", holder.key())
		}
		v.Address = ip.String()
	}
	setDefault(c.fields, "addressType", "EXTERNAL")
	setDefault(c.fields, "networkTier", "PREMIUM")
	return overlay(c.fields, v)
}

func deriveAddress(s *Server, r ref, fields map[string]any) {
	users := s.usersOf(r, segForwardingRules)
	if len(users) == 0 {
		fields["status"] = "RESERVED"
		return
	}
	links := make([]any, 0, len(users))
	for _, u := range users {
		links = append(links, s.link(u))
	}
	fields["status"], fields["users"] = "IN_USE", links
}

// ipHolders maps every IP the fake has handed out, in any project, to the
// address that reserves it or the forwarding rule that uses it ephemerally:
// an IP belongs to one holder, as external IPs do.
func (s *Server) ipHolders() map[netip.Addr]ref {
	held := map[netip.Addr]ref{}
	for sc, objs := range s.scopes {
		field := map[string]string{segAddresses: "address", segForwardingRules: "IPAddress"}[sc.segment]
		if field == "" {
			continue
		}
		for name, o := range objs {
			ip, err := netip.ParseAddr(stringField(o.fields, field))
			if err != nil {
				continue
			}
			// A forwarding rule on a reserved address does not hold its
			// IP; the address does.
			if _, taken := held[ip]; !taken || sc.segment == segAddresses {
				held[ip] = ref{scope: sc, name: name}
			}
		}
	}
	return held
}

// freeIP is the lowest IP of the pool nothing holds.
func (s *Server) freeIP() (netip.Addr, bool) {
	held := s.ipHolders()
	for ip := addressPool.Addr().Next(); addressPool.Contains(ip); ip = ip.Next() {
		if _, taken := held[ip]; !taken {
			return ip, true
		}
	}
	return netip.Addr{}, false
}

// reservedAddress returns the project's global address that reserves ip.
func (s *Server) reservedAddress(project string, ip netip.Addr) (ref, bool) {
	sc := scope{project: project, segment: segAddresses}
	for name, o := range s.scopes[sc] {
		if stringField(o.fields, "address") == ip.String() {
			return ref{scope: sc, name: name}, true
		}
	}
	return ref{}, false
}

// stringField reads a top-level string field of a stored resource.
func stringField(fields map[string]any, key string) string {
	v, _ := fields[key].(string)
	return v
}
