package fakecompute

import (
	"fmt"
	"net/http"
	"slices"
)

// backendServiceKind is a global backend service with instance group
// backends. It uses its health check and its groups, which therefore
// cannot be deleted before it.
var backendServiceKind = &kind{
	collection:  "backendServices",
	segment:     segBackendServices,
	typeName:    "backend_service",
	apiKind:     "compute#backendService",
	fingerprint: true,
	update:      true,
	patch:       true,
	prepare:     prepareBackendService,
}

type backendServiceView struct {
	Protocol            string        `json:"protocol,omitempty"`
	LoadBalancingScheme string        `json:"loadBalancingScheme,omitempty"`
	HealthChecks        []string      `json:"healthChecks,omitempty"`
	Backends            []backendView `json:"backends,omitempty"`
}

type backendView struct {
	Group         string `json:"group,omitempty"`
	BalancingMode string `json:"balancingMode,omitempty"`
}

func prepareBackendService(s *Server, c *candidate) *apiError {
	// The API's defaults, which a client comparing what it wants with
	// what it reads back must expect.
	setDefault(c.fields, "protocol", "HTTP")
	setDefault(c.fields, "portName", "http")
	setDefault(c.fields, "port", int64(80))
	setDefault(c.fields, "timeoutSec", int64(30))
	setDefault(c.fields, "sessionAffinity", "NONE")
	setDefault(c.fields, "loadBalancingScheme", "EXTERNAL")
	for _, b := range children(c.fields, "backends") {
		setDefault(b, "balancingMode", "UTILIZATION")
		setDefault(b, "capacityScaler", 1.0)
	}

	var v backendServiceView
	if err := decodeView(c.fields, &v); err != nil {
		return err
	}
	switch v.Protocol {
	case "HTTP", "HTTPS", "HTTP2", "TCP", "SSL", "GRPC":
	default:
		return invalidField("resource.protocol", v.Protocol, "A global backend service's protocol is HTTP, HTTPS, HTTP2, TCP, SSL or GRPC.")
	}
	switch v.LoadBalancingScheme {
	case "EXTERNAL", "EXTERNAL_MANAGED", "INTERNAL_SELF_MANAGED":
	default:
		return invalidField("resource.loadBalancingScheme", v.LoadBalancingScheme,
			"A global backend service's scheme is EXTERNAL, EXTERNAL_MANAGED or INTERNAL_SELF_MANAGED.")
	}
	if len(v.HealthChecks) > 1 {
		return invalidField("resource.healthChecks", v.HealthChecks, "A backend service has at most one health check.")
	}
	for i, hc := range v.HealthChecks {
		r, err := s.resolve(c.at.project, fmt.Sprintf("resource.healthChecks[%d]", i), hc, segHealthChecks)
		if err != nil {
			return err
		}
		v.HealthChecks[i] = s.link(r)
		c.uses = append(c.uses, r)
	}
	if len(v.Backends) > 0 && len(v.HealthChecks) == 0 {
		return invalidField("resource.healthChecks", "", "A backend service with instance group backends needs a health check.")
	}
	for i, b := range v.Backends {
		field := fmt.Sprintf("resource.backends[%d]", i)
		r, err := s.resolve(c.at.project, field+".group", b.Group, segInstanceGroups)
		if err != nil {
			return err
		}
		if slices.Contains(c.uses, r) {
			return invalidField(field+".group", b.Group, "The instance group is a backend of this service already.")
		}
		switch b.BalancingMode {
		case "UTILIZATION", "RATE", "CONNECTION":
		default:
			return invalidField(field+".balancingMode", b.BalancingMode, "It must be UTILIZATION, RATE or CONNECTION.")
		}
		v.Backends[i].Group = s.link(r)
		c.uses = append(c.uses, r)
	}
	return overlay(c.fields, v)
}

// getHealth reports every instance of one of the service's groups HEALTHY:
// the fake sends no probes. An instance's ipAddress is the networkIP of its
// first network interface, if the client gave it one.
func (s *Server) getHealth(r *http.Request, body []byte) (any, *apiError) {
	at := pathRef(r, segBackendServices)
	bs := s.find(at)
	if bs == nil {
		return nil, notFound(at)
	}
	in, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	value, _ := in["group"].(string)
	g, err := s.resolve(at.project, "resource.group", value, segInstanceGroups)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(bs.uses, g) {
		return nil, invalidField("resource.group", value, "The instance group is not a backend of '%s'.", at.key())
	}
	group := s.find(g)
	port := bs.fields["port"]
	for _, np := range children(group.fields, "namedPorts") {
		if np["name"] == bs.fields["portName"] {
			port = np["port"]
			break
		}
	}
	out := map[string]any{"kind": "compute#backendServiceGroupHealth"}
	var statuses []any
	for _, m := range group.members {
		inst := s.find(m)
		if inst == nil {
			continue
		}
		status := map[string]any{"instance": s.link(m), "port": port, "healthState": "HEALTHY"}
		if nics := children(inst.fields, "networkInterfaces"); len(nics) > 0 && nics[0]["networkIP"] != nil {
			status["ipAddress"] = nics[0]["networkIP"]
		}
		statuses = append(statuses, status)
	}
	if len(statuses) > 0 {
		out["healthStatus"] = statuses
	}
	return out, nil
}
