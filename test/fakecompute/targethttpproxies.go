package fakecompute

import (
	"net/http"
)

// targetHTTPProxyKind is a global target HTTP proxy. It uses its URL map.
// The API serves patch but no update for it, and setUrlMap to switch maps.
var targetHTTPProxyKind = &kind{
	collection:  "targetHttpProxies",
	segment:     segTargetHTTPProxies,
	typeName:    "target_http_proxy",
	apiKind:     "compute#targetHttpProxy",
	fingerprint: true,
	patch:       true,
	prepare:     prepareTargetHTTPProxy,
}

type targetHTTPProxyView struct {
	URLMap string `json:"urlMap,omitempty"`
}

func prepareTargetHTTPProxy(s *Server, c *candidate) *apiError {
	var v targetHTTPProxyView
	if err := decodeView(c.fields, &v); err != nil {
		return err
	}
	if v.URLMap == "" {
		return invalidField("resource.urlMap", "", "A target HTTP proxy needs a URL map.")
	}
	r, err := s.resolve(c.at.project, "resource.urlMap", v.URLMap, segURLMaps)
	if err != nil {
		return err
	}
	v.URLMap = s.link(r)
	c.uses = append(c.uses, r)
	return overlay(c.fields, v)
}

// setURLMap serves targetHttpProxies.setUrlMap, whose path, unlike the
// other methods', has no "global".
func (s *Server) setURLMap(r *http.Request, body []byte) (any, *apiError) {
	in, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	at := pathRef(r, segTargetHTTPProxies)
	return s.replace(targetHTTPProxyKind, at, "setUrlMap", func(c *candidate) *apiError {
		c.fields["urlMap"] = in["urlMap"]
		return nil
	})
}
