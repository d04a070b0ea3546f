// Package fakecompute is an in-memory Google Compute Engine v1 REST server
// for tests. The real google.golang.org/api/compute/v1 client talks to it
// through its endpoint option (option.WithEndpoint(s.Endpoint()) with
// option.WithoutAuthentication()), so code tested against it runs the same
// client code, paths and JSON as in production.
//
// It serves what an external HTTP load balancer is made of, and what the
// federation's controllers and the GLBC stand-in call: global addresses,
// health checks, backend services, URL maps, target HTTP proxies, global
// forwarding rules and firewalls; zonal instances and unmanaged instance
// groups; and the global and zonal operations every change returns. It keeps
// the API's rules such code depends on:
//
//   - a name is an RFC 1035 label (else 400 invalid) and unique in its
//     collection (else 409 alreadyExists); a missing resource is 404
//     notFound, worded as the API words it;
//   - a reference is accepted as a full URL of any host, as
//     "projects/p/global/urlMaps/m" or as "global/urlMaps/m", and stored as
//     the full link of the resource on this server; a reference to a missing
//     resource is 404 notFound (see resolve for why not 400);
//   - a resource another one references cannot be deleted (400
//     resourceInUseByAnotherResource), so a load balancer comes down from
//     the forwarding rule inward, and an address in use says so in its status
//     and users;
//   - update, patch and the set methods that take a fingerprint fail with 412
//     conditionNotMet when it is stale;
//   - a change is checked and applied under one lock, whole or not at all,
//     and answered with an Operation; SlowNext keeps operations RUNNING, and
//     their change invisible, until they have been polled enough.
//
// A resource is stored as the JSON the client sent, completed as the API
// completes it (id, selfLink, creationTimestamp, fingerprints and the
// defaults a client would see, such as a backend service's timeoutSec 30),
// so fields the fake does not read come back as they were sent.
//
// Errors have Google's JSON error shape, so the client's *googleapi.Error
// carries the code, message and reason. Tests inject faults with FailNext,
// slow operations down with SlowNext, count requests per method with
// Requests and read collections with Names. It never runs in a product
// binary.
//
// It leaves out what no caller needs yet: regional resources, HTTPS proxies,
// SSL certificates, backend buckets and network endpoint groups (references
// to them are 400), networks (a firewall's network is kept as given, not
// looked up), labels, IAM, IPv6 addresses, URL maps' route rules (kept, not
// checked), operations' list and delete, and any notion of time: Wait
// answers at once, as one more poll.
package fakecompute

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"

	"github.com/kfederation/federation/test/fakegoogle"
)

// MethodUnknown counts requests for paths or verbs the server does not
// serve; they are answered 404. Every other method is counted under the
// API's own name for it without the "compute." prefix:
// "globalAddresses.insert", "backendServices.update",
// "targetHttpProxies.setUrlMap", "zoneOperations.wait" ...
const MethodUnknown = "unknown"

// firstID is the id of the first resource or operation. Real ids are this
// large; above 2^53 they would lose digits in a JSON number, which is why
// the API sends them as strings, and the fake's ids make a client that did
// not notice fail.
const firstID uint64 = 6_000_000_000_000_000_001

// maxBody bounds a request body; the API's own limits are far below it.
const maxBody = 1 << 20

// The path prefixes of the API's methods.
const (
	projectPath = "/compute/v1/projects/{project}"
	globalPath  = projectPath + "/global"
	zonePath    = projectPath + "/zones/{zone}"
)

// Server is the fake Compute Engine API. The zero value is not usable; call
// New.
type Server struct {
	mux *http.ServeMux

	mu       sync.Mutex
	base     string // what every link starts with: http://host/compute/v1/
	scopes   map[scope]map[string]*object
	ops      map[ref]*operation
	nextID   uint64
	prints   uint64 // fingerprints handed out so far
	pageSize int
	slow     []int // polls the operations of the next mutating requests stay RUNNING for
	// Ledger counts requests and answers injected faults.
	fakegoogle.Ledger
	srv *httptest.Server
}

// New returns a server with no resources. Any project and zone exists as
// soon as a request names it. Serve it with Start, or mount Handler in a
// server of your own.
func New() *Server {
	s := &Server{
		Ledger:   fakegoogle.Ledger{Server: "fake Compute Engine server"},
		mux:      http.NewServeMux(),
		scopes:   map[scope]map[string]*object{},
		ops:      map[ref]*operation{},
		nextID:   firstID,
		pageSize: DefaultPageSize,
	}
	for _, k := range kinds {
		s.serveKind(k)
	}
	s.route("POST "+globalPath+"/backendServices/{name}/getHealth", "backendServices.getHealth", s.getHealth)
	s.route("POST "+projectPath+"/targetHttpProxies/{name}/setUrlMap", "targetHttpProxies.setUrlMap", s.setURLMap)
	s.route("POST "+globalPath+"/forwardingRules/{name}/setTarget", "globalForwardingRules.setTarget", s.setTarget)
	s.route("POST "+zonePath+"/instances/{name}/setTags", "instances.setTags", s.setTags)
	s.route("POST "+zonePath+"/instanceGroups/{name}/addInstances", "instanceGroups.addInstances", s.addInstances)
	s.route("POST "+zonePath+"/instanceGroups/{name}/removeInstances", "instanceGroups.removeInstances", s.removeInstances)
	s.route("POST "+zonePath+"/instanceGroups/{name}/listInstances", "instanceGroups.listInstances", s.listInstances)
	s.route("POST "+zonePath+"/instanceGroups/{name}/setNamedPorts", "instanceGroups.setNamedPorts", s.setNamedPorts)
	s.route("GET "+globalPath+"/operations/{name}", "globalOperations.get", s.pollOperation)
	s.route("POST "+globalPath+"/operations/{name}/wait", "globalOperations.wait", s.pollOperation)
	s.route("GET "+zonePath+"/operations/{name}", "zoneOperations.get", s.pollOperation)
	s.route("POST "+zonePath+"/operations/{name}/wait", "zoneOperations.wait", s.pollOperation)
	// "/" matches every path and method the patterns above do not, so that
	// a verb the fake does not serve on a path it does is a 404 like any
	// other, not the mux's 405.
	s.route("/", MethodUnknown, func(r *http.Request, _ []byte) (any, *apiError) {
		return nil, errorf(http.StatusNotFound, "notFound", "the fake Compute Engine API does not serve %s %s", r.Method, r.URL.Path)
	})
	return s
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// Start serves the API on a loopback address until Close.
func (s *Server) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		s.srv = httptest.NewServer(s.mux)
		if s.base == "" {
			s.base = s.srv.URL + "/compute/v1/"
		}
	}
}

// URL is the server's root URL, http://127.0.0.1:port, without a trailing
// slash. It is empty before Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return ""
	}
	return s.srv.URL
}

// Endpoint is what to give the client's option.WithEndpoint: URL with the
// API's base path. It is empty before Start.
func (s *Server) Endpoint() string {
	u := s.URL()
	if u == "" {
		return ""
	}
	return u + "/compute/v1/"
}

// Close stops serving, if Start was called.
func (s *Server) Close() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// SlowNext makes the operations of the next n accepted changes stay RUNNING
// for polls Get or Wait calls on them; the call after that finds them DONE.
// The change is applied only then, after being checked again against the
// state of that moment: one that no longer applies (its name was taken in
// between) ends DONE with the operation's error set, as a change the API
// accepts and then fails does. Calls queue up.
func (s *Server) SlowNext(n int, polls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.slow = append(s.slow, max(polls, 0))
	}
}

// SetPageSize sets how many items a list returns when the request has no
// maxResults, so that tests can make a client page with few items.
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = min(max(n, 1), DefaultPageSize)
}

// Names returns the sorted names of a project's resources in a collection,
// named as the API names it in method names: "globalAddresses",
// "healthChecks", "backendServices", "urlMaps", "targetHttpProxies",
// "globalForwardingRules", "firewalls", and, across all zones,
// "instanceGroups" and "instances" (a name used in two zones is listed
// twice). It returns nil for a collection the fake does not serve.
func (s *Server) Names(project, collection string) []string {
	i := slices.IndexFunc(kinds, func(k *kind) bool { return k.collection == collection })
	if i < 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	names := []string{}
	for sc, objs := range s.scopes {
		if sc.project == project && sc.segment == kinds[i].segment {
			for name := range objs {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names
}

// handler serves one method. It runs with s.mu held, so each request sees
// and leaves the state whole; it returns the response's JSON or an error.
type handler func(r *http.Request, body []byte) (any, *apiError)

// route registers h for pattern, counting its requests under method and
// answering injected faults before h sees the request.
func (s *Server) route(pattern, method string, h handler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			writeError(w, errorf(http.StatusBadRequest, "invalid", "read the request body: %v", err))
			return
		}
		fault := s.Record(method)
		s.mu.Lock()
		if s.base == "" {
			// Mounted with Handler in someone else's server: links point
			// to where the client found the server.
			scheme := "http"
			if r.TLS != nil {
				scheme = "https"
			}
			s.base = scheme + "://" + r.Host + "/compute/v1/"
		}
		if fault != nil {
			s.mu.Unlock()
			writeError(w, fault)
			return
		}
		resp, apiErr := h(r, body)
		s.mu.Unlock()
		if apiErr != nil {
			writeError(w, apiErr)
			return
		}
		writeJSON(w, http.StatusOK, resp)
	})
}
