package fakecompute

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// urlMapKind is a global URL map. It uses every backend service it routes
// to by defaultService or pathRules; services named only inside route
// actions are kept as sent, not looked up.
var urlMapKind = &kind{
	collection:  "urlMaps",
	segment:     segURLMaps,
	typeName:    "url_map",
	apiKind:     "compute#urlMap",
	fingerprint: true,
	update:      true,
	patch:       true,
	prepare:     prepareURLMap,
}

type urlMapView struct {
	DefaultService     string            `json:"defaultService,omitempty"`
	DefaultURLRedirect json.RawMessage   `json:"defaultUrlRedirect,omitempty"`
	DefaultRouteAction json.RawMessage   `json:"defaultRouteAction,omitempty"`
	HostRules          []hostRuleView    `json:"hostRules,omitempty"`
	PathMatchers       []pathMatcherView `json:"pathMatchers,omitempty"`
}

type hostRuleView struct {
	Hosts       []string `json:"hosts,omitempty"`
	PathMatcher string   `json:"pathMatcher,omitempty"`
}

type pathMatcherView struct {
	Name               string          `json:"name,omitempty"`
	DefaultService     string          `json:"defaultService,omitempty"`
	DefaultURLRedirect json.RawMessage `json:"defaultUrlRedirect,omitempty"`
	DefaultRouteAction json.RawMessage `json:"defaultRouteAction,omitempty"`
	PathRules          []pathRuleView  `json:"pathRules,omitempty"`
}

type pathRuleView struct {
	Paths       []string        `json:"paths,omitempty"`
	Service     string          `json:"service,omitempty"`
	URLRedirect json.RawMessage `json:"urlRedirect,omitempty"`
	RouteAction json.RawMessage `json:"routeAction,omitempty"`
}

// hostRE is a host rule's host: a DNS name, optionally with a leading
// wildcard label and a port, or "*" alone.
var hostRE = regexp.MustCompile(`^(\*|(\*[.-]?)?[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*)(:[0-9]{1,5})?$`)

func prepareURLMap(s *Server, c *candidate) *apiError {
	var v urlMapView
	if err := decodeView(c.fields, &v); err != nil {
		return err
	}
	if v.DefaultService == "" && v.DefaultURLRedirect == nil && v.DefaultRouteAction == nil {
		return invalidField("resource.defaultService", "", "A URL map needs a default service, redirect or route action.")
	}
	if err := s.routeTo(c, &v.DefaultService, "resource.defaultService"); err != nil {
		return err
	}

	var matchers []string
	for i := range v.PathMatchers {
		pm := &v.PathMatchers[i]
		field := fmt.Sprintf("resource.pathMatchers[%d]", i)
		if err := validName(field+".name", pm.Name); err != nil {
			return err
		}
		if slices.Contains(matchers, pm.Name) {
			return invalidField(field+".name", pm.Name, "Path matcher names must be unique.")
		}
		matchers = append(matchers, pm.Name)
		if pm.DefaultService == "" && pm.DefaultURLRedirect == nil && pm.DefaultRouteAction == nil {
			return invalidField(field+".defaultService", "", "A path matcher needs a default service, redirect or route action.")
		}
		if err := s.routeTo(c, &pm.DefaultService, field+".defaultService"); err != nil {
			return err
		}
		for j := range pm.PathRules {
			pr := &pm.PathRules[j]
			ruleField := fmt.Sprintf("%s.pathRules[%d]", field, j)
			if len(pr.Paths) == 0 {
				return invalidField(ruleField+".paths", "", "A path rule needs at least one path.")
			}
			for _, p := range pr.Paths {
				if !validPath(p) {
					return invalidField(ruleField+".paths", p, "A path starts with '/' and may end with '/*'; it has no other '*'.")
				}
			}
			if pr.Service == "" && pr.URLRedirect == nil && pr.RouteAction == nil {
				return invalidField(ruleField+".service", "", "A path rule needs a service, redirect or route action.")
			}
			if err := s.routeTo(c, &pr.Service, ruleField+".service"); err != nil {
				return err
			}
		}
	}

	seen := map[string]bool{}
	for i, hr := range v.HostRules {
		field := fmt.Sprintf("resource.hostRules[%d]", i)
		if !slices.Contains(matchers, hr.PathMatcher) {
			return invalidField(field+".pathMatcher", hr.PathMatcher, "The URL map has no path matcher of that name.")
		}
		if len(hr.Hosts) == 0 {
			return invalidField(field+".hosts", "", "A host rule needs at least one host.")
		}
		for _, h := range hr.Hosts {
			if !hostRE.MatchString(h) {
				return invalidField(field+".hosts", h, "It is not a host name.")
			}
			if seen[strings.ToLower(h)] {
				return invalidField(field+".hosts", h, "A host can be in one host rule only.")
			}
			seen[strings.ToLower(h)] = true
		}
	}
	return overlay(c.fields, v)
}

// routeTo resolves a service the URL map routes to, if any, and records the
// use.
func (s *Server) routeTo(c *candidate, service *string, field string) *apiError {
	if *service == "" {
		return nil
	}
	r, err := s.resolve(c.at.project, field, *service, segBackendServices)
	if err != nil {
		return err
	}
	*service = s.link(r)
	if !slices.Contains(c.uses, r) {
		c.uses = append(c.uses, r)
	}
	return nil
}

func validPath(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	if i := strings.Index(p, "*"); i >= 0 {
		return i == len(p)-1 && strings.HasSuffix(p, "/*")
	}
	return true
}
