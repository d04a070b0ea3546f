package fakecompute

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// The collections, as their path segments spell them.
const (
	segAddresses         = "addresses"
	segHealthChecks      = "healthChecks"
	segBackendServices   = "backendServices"
	segURLMaps           = "urlMaps"
	segTargetHTTPProxies = "targetHttpProxies"
	segForwardingRules   = "forwardingRules"
	segFirewalls         = "firewalls"
	segInstances         = "instances"
	segInstanceGroups    = "instanceGroups"
)

// zonalSegments are the collections that live in a zone rather than in a
// project's global scope.
var zonalSegments = map[string]bool{segInstances: true, segInstanceGroups: true}

// nameRE is the API's pattern for resource names, an RFC 1035 label; tags
// and named ports follow it too.
var nameRE = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)

// scope is one collection of one project, global or in one zone.
type scope struct {
	project string
	zone    string // "" for a global collection
	segment string
}

// path is the collection's path under the API's base path.
func (c scope) path() string {
	if c.zone == "" {
		return "projects/" + c.project + "/global/" + c.segment
	}
	return "projects/" + c.project + "/zones/" + c.zone + "/" + c.segment
}

// ref names one resource. Its key, "projects/p/global/urlMaps/m", is what
// the API's messages name it by; its link is the key under the server's
// URL.
type ref struct {
	scope
	name string
}

func (r ref) key() string { return r.path() + "/" + r.name }

// link is the full URL of a resource of this server, what selfLink and
// every stored reference hold. The caller holds s.mu.
func (s *Server) link(r ref) string { return s.base + r.key() }

func (s *Server) zoneLink(project, zone string) string {
	return s.base + "projects/" + project + "/zones/" + zone
}

// validName checks a resource name, the field named as the API names it.
func validName(field, name string) *apiError {
	if !nameRE.MatchString(name) {
		return invalidField(field, name, "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'")
	}
	return nil
}

// pathRef is the resource a request's path names. A name that cannot exist
// is simply not found, as on the API.
func pathRef(r *http.Request, segment string) ref {
	return ref{scope: scope{project: r.PathValue("project"), zone: r.PathValue("zone"), segment: segment}, name: r.PathValue("name")}
}

// parseRef reads a reference in any of the forms the API accepts: a full
// URL of any host ("https://www.googleapis.com/compute/v1/projects/p/...",
// or this server's own), "projects/p/global/urlMaps/m", or
// "global/urlMaps/m" and "zones/z/instances/i" in the caller's project.
func parseRef(project, v string) (ref, bool) {
	p := v
	if u, err := url.Parse(v); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
		var ok bool
		for _, version := range []string{"/compute/v1/", "/compute/beta/", "/compute/alpha/"} {
			if p, ok = strings.CutPrefix(u.Path, version); ok {
				break
			}
		}
		if !ok {
			return ref{}, false
		}
	}
	parts := strings.Split(p, "/")
	if len(parts) > 2 && parts[0] == "projects" {
		project, parts = parts[1], parts[2:]
	}
	var r ref
	switch {
	case len(parts) == 3 && parts[0] == "global":
		r = ref{scope: scope{project: project, segment: parts[1]}, name: parts[2]}
	case len(parts) == 4 && parts[0] == "zones":
		r = ref{scope: scope{project: project, zone: parts[1], segment: parts[2]}, name: parts[3]}
	default:
		return ref{}, false
	}
	if r.project == "" || (r.zone == "") == zonalSegments[r.segment] || !nameRE.MatchString(r.name) {
		return ref{}, false
	}
	return r, true
}

// resolve reads the reference in field, which must be to an existing
// resource of the given collection, and returns it.
//
// A reference to a resource that does not exist is answered 404 notFound,
// naming the missing resource, not 400: the API looks references up before
// it validates the rest, and answers as a Get of them would, so a client
// cannot tell a missing health check in a backend service from a missing
// backend service by the code alone, only by the message.
func (s *Server) resolve(project, field, value, segment string) (ref, *apiError) {
	r, ok := parseRef(project, value)
	if !ok {
		return ref{}, invalidField(field, value, "The URL is malformed.")
	}
	if r.segment != segment {
		return ref{}, invalidField(field, value, "It must be a reference to a resource of the collection %s.", segment)
	}
	if s.find(r) == nil {
		return ref{}, notFound(r)
	}
	return r, nil
}
