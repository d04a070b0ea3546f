package fakecompute

import (
	"maps"
	"slices"
	"strings"
)

// healthCheckKind is a global health check. The fake checks HTTP ones
// closely, since they are what an ingress's backends use, and keeps the
// other types' settings as sent.
var healthCheckKind = &kind{
	collection: "healthChecks",
	segment:    segHealthChecks,
	typeName:   "health_check",
	apiKind:    "compute#healthCheck",
	update:     true,
	patch:      true,
	prepare:    prepareHealthCheck,
}

type healthCheckView struct {
	Type               string               `json:"type,omitempty"`
	CheckIntervalSec   int64                `json:"checkIntervalSec,omitempty"`
	TimeoutSec         int64                `json:"timeoutSec,omitempty"`
	HealthyThreshold   int64                `json:"healthyThreshold,omitempty"`
	UnhealthyThreshold int64                `json:"unhealthyThreshold,omitempty"`
	HTTPHealthCheck    *httpHealthCheckView `json:"httpHealthCheck,omitempty"`
}

type httpHealthCheckView struct {
	Port              int64  `json:"port,omitempty"`
	PortName          string `json:"portName,omitempty"`
	PortSpecification string `json:"portSpecification,omitempty"`
	RequestPath       string `json:"requestPath,omitempty"`
}

// healthCheckTypes maps each type to the field that holds its settings.
var healthCheckTypes = map[string]string{
	"HTTP":  "httpHealthCheck",
	"HTTPS": "httpsHealthCheck",
	"HTTP2": "http2HealthCheck",
	"TCP":   "tcpHealthCheck",
	"SSL":   "sslHealthCheck",
	"GRPC":  "grpcHealthCheck",
}

func prepareHealthCheck(_ *Server, c *candidate) *apiError {
	// The API's defaults, filled in first so that they are checked like
	// the rest.
	setDefault(c.fields, "checkIntervalSec", int64(5))
	setDefault(c.fields, "timeoutSec", int64(5))
	setDefault(c.fields, "healthyThreshold", int64(2))
	setDefault(c.fields, "unhealthyThreshold", int64(2))
	typ := stringField(c.fields, "type")
	if typ == "HTTP" {
		hc := child(c.fields, "httpHealthCheck")
		setDefault(hc, "requestPath", "/")
		setDefault(hc, "proxyHeader", "NONE")
		if hc["portName"] == nil && hc["portSpecification"] == nil {
			setDefault(hc, "port", int64(80))
		}
	}

	var v healthCheckView
	if err := decodeView(c.fields, &v); err != nil {
		return err
	}
	settings, ok := healthCheckTypes[v.Type]
	if !ok {
		return invalidField("resource.type", v.Type, "It must be one of HTTP, HTTPS, HTTP2, TCP, SSL or GRPC.")
	}
	for _, other := range slices.Sorted(maps.Values(healthCheckTypes)) {
		if _, set := c.fields[other]; set && other != settings {
			return invalidField("resource."+other, "", "A health check of type %s has %s only.", v.Type, settings)
		}
	}
	for _, f := range []struct {
		name string
		n    int64
	}{
		{"checkIntervalSec", v.CheckIntervalSec}, {"timeoutSec", v.TimeoutSec},
		{"healthyThreshold", v.HealthyThreshold}, {"unhealthyThreshold", v.UnhealthyThreshold},
	} {
		if f.n < 1 || f.n > 300 {
			return invalidField("resource."+f.name, f.n, "It must be between 1 and 300.")
		}
	}
	if v.TimeoutSec > v.CheckIntervalSec {
		return invalidField("resource.timeoutSec", v.TimeoutSec, "It must not be greater than checkIntervalSec, %d.", v.CheckIntervalSec)
	}
	if hc := v.HTTPHealthCheck; hc != nil {
		if hc.Port < 0 || hc.Port > 65535 {
			return invalidField("resource.httpHealthCheck.port", hc.Port, "It must be between 1 and 65535.")
		}
		switch hc.PortSpecification {
		case "", "USE_FIXED_PORT", "USE_NAMED_PORT", "USE_SERVING_PORT":
		default:
			return invalidField("resource.httpHealthCheck.portSpecification", hc.PortSpecification,
				"It must be USE_FIXED_PORT, USE_NAMED_PORT or USE_SERVING_PORT.")
		}
		if !strings.HasPrefix(hc.RequestPath, "/") {
			return invalidField("resource.httpHealthCheck.requestPath", hc.RequestPath, "It must start with '/'.")
		}
	}
	return nil
}
