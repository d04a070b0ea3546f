// Package fakeclouddns is an in-memory Google Cloud DNS v1 REST server for
// tests. The real google.golang.org/api/dns/v1 client talks to it through
// its endpoint option (option.WithEndpoint(s.URL()) with
// option.WithoutAuthentication()), so a provider tested against it runs the
// same client code, paths and JSON as in production.
//
// It serves what the federation's provider calls: managed zones (list with
// the dnsName filter, create, get, delete), record sets (list with the name
// and type filters, paged with pageToken and maxResults) and changes
// (create, get). It keeps the API's rules that the provider depends on:
//
//   - a change applies whole or not at all;
//   - every deletion must match an existing record set exactly (name, type,
//     TTL and data), else 412 conditionNotMet;
//   - every addition must not exist yet, else 409 alreadyExists;
//   - record data must be valid for its type, and a CNAME cannot share its
//     name with any other record set (400).
//
// Errors have Google's JSON error shape, so the client's *googleapi.Error
// carries the code, message and reason. Tests inject faults with FailNext,
// count requests per method with Requests, and read or write a zone's record
// sets directly with RecordSets and PutRecordSet. It never runs in a product
// binary.
package fakeclouddns

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kfederation/federation/test/fakegoogle"
)

// The methods the server counts requests under, named as the API names them.
const (
	MethodManagedZonesList   = "managedZones.list"
	MethodManagedZonesCreate = "managedZones.create"
	MethodManagedZonesGet    = "managedZones.get"
	MethodManagedZonesDelete = "managedZones.delete"
	MethodRecordSetsList     = "resourceRecordSets.list"
	MethodChangesCreate      = "changes.create"
	MethodChangesGet         = "changes.get"
	// MethodUnknown counts requests for paths or verbs the server does not
	// serve; they are answered 404.
	MethodUnknown = "unknown"
)

// DefaultPageSize is how many items a list returns when the request has no
// maxResults; SetPageSize changes it.
const DefaultPageSize = 100

// firstZoneID is the id of the first zone created. Real ids are this large;
// above 2^53 they would lose digits in a JSON number, which is why the API
// sends them as strings, and the fake's ids make a client that did not
// notice fail.
const firstZoneID uint64 = 7_000_000_000_000_000_001

// apexTTL is the TTL of the SOA and NS record sets a new zone starts with.
const apexTTL = 21600

// maxBody bounds a request body; the API's own limits are far below it.
const maxBody = 1 << 20

// RecordSet is one resource record set: every record of one type at one
// name. Its JSON is the API's.
type RecordSet struct {
	// Name is fully qualified, with the trailing dot, in lower case.
	Name string `json:"name"`
	// Type is the record type, "A", "AAAA", "CNAME", "TXT" ...
	Type string `json:"type"`
	// TTL in seconds.
	TTL int64 `json:"ttl"`
	// Rrdatas holds the records' data in the zone file's presentation
	// format.
	Rrdatas []string `json:"rrdatas"`
}

// Server is the fake Cloud DNS API. The zero value is not usable; call New.
type Server struct {
	mux *http.ServeMux

	mu       sync.Mutex
	projects map[string]map[string]*zone // project -> managed zone name -> zone
	nextID   uint64
	pageSize int
	// Ledger counts requests and answers injected faults.
	fakegoogle.Ledger
	srv *httptest.Server
}

type recordKey struct{ name, typ string }

type zone struct {
	id          uint64
	name        string
	dnsName     string
	description string
	created     time.Time
	sets        map[recordKey]RecordSet
	changes     []wireChange
}

// New returns a server with no zones. Serve it with Start, or mount Handler
// in a server of your own.
func New() *Server {
	s := &Server{
		Ledger:   fakegoogle.Ledger{Server: "fake Cloud DNS server"},
		mux:      http.NewServeMux(),
		projects: map[string]map[string]*zone{},
		nextID:   firstZoneID,
		pageSize: DefaultPageSize,
	}
	const zones = "/dns/v1/projects/{project}/managedZones"
	s.route("GET "+zones, MethodManagedZonesList, s.listZones)
	s.route("POST "+zones, MethodManagedZonesCreate, s.createZone)
	s.route("GET "+zones+"/{zone}", MethodManagedZonesGet, s.getZone)
	s.route("DELETE "+zones+"/{zone}", MethodManagedZonesDelete, s.deleteZone)
	s.route("GET "+zones+"/{zone}/rrsets", MethodRecordSetsList, s.listRecordSets)
	s.route("POST "+zones+"/{zone}/changes", MethodChangesCreate, s.createChange)
	s.route("GET "+zones+"/{zone}/changes/{change}", MethodChangesGet, s.getChange)
	s.route("/", MethodUnknown, func(r *http.Request, _ []byte) (any, *apiError) {
		return nil, errorf(http.StatusNotFound, "notFound", "the fake Cloud DNS API does not serve %s %s", r.Method, r.URL.Path)
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
	}
}

// URL is the base URL to give the client's option.WithEndpoint, with its
// trailing slash. It is empty before Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return ""
	}
	return s.srv.URL + "/"
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

// SetPageSize sets how many items a list returns when the request has no
// maxResults, so that tests can make a client page with few items.
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = max(n, 1)
}

// RecordSets returns every record set of a managed zone (by name or id),
// sorted by name and type.
func (s *Server) RecordSets(project, managedZone string) ([]RecordSet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zone(project, managedZone)
	if z == nil {
		return nil, fmt.Errorf("project %q has no managed zone %q", project, managedZone)
	}
	return z.sorted(), nil
}

// PutRecordSet writes a record set into a managed zone directly, as someone
// else using the console would: it replaces the set of the same name and
// type, if any. The data must be valid for the type, and a CNAME cannot
// share its name with another set.
func (s *Server) PutRecordSet(project, managedZone string, rs RecordSet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zone(project, managedZone)
	if z == nil {
		return fmt.Errorf("project %q has no managed zone %q", project, managedZone)
	}
	in := wireChange{Additions: []wireRecordSet{{RecordSet: rs}}}
	if old, ok := z.sets[keyOf(normalized(rs))]; ok {
		in.Deletions = []wireRecordSet{{RecordSet: old}}
	}
	if _, err := z.apply(in, time.Now()); err != nil {
		return errors.New(err.Message)
	}
	return nil
}

// route registers h for pattern, counting its requests under method and
// answering injected faults before h sees the request. h runs with s.mu
// held, so each request sees and leaves the state whole.
func (s *Server) route(pattern, method string, h func(r *http.Request, body []byte) (any, *apiError)) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			writeError(w, errorf(http.StatusBadRequest, "invalid", "read the request body: %v", err))
			return
		}
		if f := s.Record(method); f != nil {
			writeError(w, f)
			return
		}
		s.mu.Lock()
		resp, apiErr := h(r, body)
		s.mu.Unlock()
		switch {
		case apiErr != nil:
			writeError(w, apiErr)
		case resp == nil:
			w.WriteHeader(http.StatusNoContent)
		default:
			writeJSON(w, http.StatusOK, resp)
		}
	})
}

// zone finds a managed zone by name or by id, as the API's path accepts
// either. The caller holds s.mu.
func (s *Server) zone(project, nameOrID string) *zone {
	zones := s.projects[project]
	if z, ok := zones[nameOrID]; ok {
		return z
	}
	if id, err := strconv.ParseUint(nameOrID, 10, 64); err == nil {
		for _, z := range zones {
			if z.id == id {
				return z
			}
		}
	}
	return nil
}

func (s *Server) zoneOf(r *http.Request) (*zone, *apiError) {
	project, name := r.PathValue("project"), r.PathValue("zone")
	if z := s.zone(project, name); z != nil {
		return z, nil
	}
	return nil, errorf(http.StatusNotFound, "notFound", "The 'parameters.managedZone' resource named '%s' does not exist.", name)
}

// Wire forms of the API's resources. Only the fields the fake keeps are
// here; the client's other fields are ignored on input.

type wireRecordSet struct {
	Kind string `json:"kind,omitempty"`
	RecordSet
}

type wireZone struct {
	Kind         string   `json:"kind,omitempty"`
	ID           uint64   `json:"id,omitempty,string"`
	Name         string   `json:"name"`
	DNSName      string   `json:"dnsName"`
	Description  string   `json:"description,omitempty"`
	CreationTime string   `json:"creationTime,omitempty"`
	NameServers  []string `json:"nameServers,omitempty"`
	Visibility   string   `json:"visibility,omitempty"`
}

type wireChange struct {
	Kind      string          `json:"kind,omitempty"`
	ID        string          `json:"id,omitempty"`
	Status    string          `json:"status,omitempty"`
	StartTime string          `json:"startTime,omitempty"`
	Additions []wireRecordSet `json:"additions,omitempty"`
	Deletions []wireRecordSet `json:"deletions,omitempty"`
}

type zoneList struct {
	Kind          string     `json:"kind"`
	ManagedZones  []wireZone `json:"managedZones"`
	NextPageToken string     `json:"nextPageToken,omitempty"`
}

type recordSetList struct {
	Kind          string          `json:"kind"`
	Rrsets        []wireRecordSet `json:"rrsets"`
	NextPageToken string          `json:"nextPageToken,omitempty"`
}

// nameServers are what every fake zone is delegated to, in the form real
// zones get.
var nameServers = []string{
	"ns-cloud-a1.googledomains.com.",
	"ns-cloud-a2.googledomains.com.",
	"ns-cloud-a3.googledomains.com.",
	"ns-cloud-a4.googledomains.com.",
}

func (z *zone) wire() wireZone {
	return wireZone{
		Kind:         "dns#managedZone",
		ID:           z.id,
		Name:         z.name,
		DNSName:      z.dnsName,
		Description:  z.description,
		CreationTime: z.created.UTC().Format(time.RFC3339Nano),
		NameServers:  slices.Clone(nameServers),
		Visibility:   "public",
	}
}

func (s *Server) listZones(r *http.Request, _ []byte) (any, *apiError) {
	var zones []*zone
	for _, z := range s.projects[r.PathValue("project")] {
		zones = append(zones, z)
	}
	slices.SortFunc(zones, func(a, b *zone) int { return strings.Compare(a.name, b.name) })
	q := r.URL.Query()
	if dnsName := q.Get("dnsName"); dnsName != "" {
		zones = slices.DeleteFunc(zones, func(z *zone) bool { return z.dnsName != strings.ToLower(dnsName) })
	}
	start, end, next, err := page(len(zones), q, s.pageSize)
	if err != nil {
		return nil, err
	}
	out := zoneList{Kind: "dns#managedZonesListResponse", ManagedZones: []wireZone{}, NextPageToken: next}
	for _, z := range zones[start:end] {
		out.ManagedZones = append(out.ManagedZones, z.wire())
	}
	return out, nil
}

func (s *Server) createZone(r *http.Request, body []byte) (any, *apiError) {
	var in wireZone
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, errorf(http.StatusBadRequest, "parseError", "The request body is not a managed zone: %v", err)
	}
	if !validZoneName(in.Name) {
		return nil, errorf(http.StatusBadRequest, "invalid", "Invalid value for 'entity.managedZone.name': '%s': it must be 1 to 63 lower-case letters, digits or dashes, start with a letter and end with a letter or digit", in.Name)
	}
	dnsName := strings.ToLower(in.DNSName)
	if err := validDomain(dnsName); err != nil {
		return nil, errorf(http.StatusBadRequest, "invalid", "Invalid value for 'entity.managedZone.dnsName': '%s': %v", in.DNSName, err)
	}
	if len(in.Description) > 1024 {
		return nil, errorf(http.StatusBadRequest, "invalid", "Invalid value for 'entity.managedZone.description': longer than 1024 characters")
	}
	project := r.PathValue("project")
	if s.projects[project] == nil {
		s.projects[project] = map[string]*zone{}
	}
	if _, ok := s.projects[project][in.Name]; ok {
		return nil, errorf(http.StatusConflict, "alreadyExists", "The resource 'entity.managedZone' named '%s' already exists", in.Name)
	}
	z := &zone{
		id:          s.nextID,
		name:        in.Name,
		dnsName:     dnsName,
		description: in.Description,
		created:     time.Now(),
		sets:        map[recordKey]RecordSet{},
	}
	s.nextID++
	// A new zone has its SOA and NS record sets at the apex, as a real one.
	soa := RecordSet{Name: dnsName, Type: "SOA", TTL: apexTTL, Rrdatas: []string{
		nameServers[0] + " cloud-dns-hostmaster.google.com. 1 21600 3600 259200 300"}}
	ns := RecordSet{Name: dnsName, Type: "NS", TTL: apexTTL, Rrdatas: slices.Clone(nameServers)}
	z.sets[keyOf(soa)] = soa
	z.sets[keyOf(ns)] = ns
	s.projects[project][z.name] = z
	return z.wire(), nil
}

func (s *Server) getZone(r *http.Request, _ []byte) (any, *apiError) {
	z, err := s.zoneOf(r)
	if err != nil {
		return nil, err
	}
	return z.wire(), nil
}

func (s *Server) deleteZone(r *http.Request, _ []byte) (any, *apiError) {
	z, err := s.zoneOf(r)
	if err != nil {
		return nil, err
	}
	for k := range z.sets {
		if k.name != z.dnsName || (k.typ != "SOA" && k.typ != "NS") {
			return nil, errorf(http.StatusBadRequest, "containerNotEmpty", "The resource named '%s' cannot be deleted because it is not empty", z.name)
		}
	}
	delete(s.projects[r.PathValue("project")], z.name)
	return nil, nil
}

func (s *Server) listRecordSets(r *http.Request, _ []byte) (any, *apiError) {
	z, err := s.zoneOf(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	name, typ := strings.ToLower(q.Get("name")), q.Get("type")
	if typ != "" && name == "" {
		return nil, errorf(http.StatusBadRequest, "invalid", "The 'parameters.type' filter requires the 'parameters.name' filter")
	}
	sets := slices.DeleteFunc(z.sorted(), func(rs RecordSet) bool {
		return (name != "" && rs.Name != name) || (typ != "" && rs.Type != typ)
	})
	start, end, next, err := page(len(sets), q, s.pageSize)
	if err != nil {
		return nil, err
	}
	out := recordSetList{Kind: "dns#resourceRecordSetsListResponse", Rrsets: []wireRecordSet{}, NextPageToken: next}
	for _, rs := range sets[start:end] {
		out.Rrsets = append(out.Rrsets, wireRecordSet{Kind: "dns#resourceRecordSet", RecordSet: rs})
	}
	return out, nil
}

func (s *Server) createChange(r *http.Request, body []byte) (any, *apiError) {
	z, err := s.zoneOf(r)
	if err != nil {
		return nil, err
	}
	var in wireChange
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, errorf(http.StatusBadRequest, "parseError", "The request body is not a change: %v", err)
	}
	return z.apply(in, time.Now())
}

func (s *Server) getChange(r *http.Request, _ []byte) (any, *apiError) {
	z, err := s.zoneOf(r)
	if err != nil {
		return nil, err
	}
	id := r.PathValue("change")
	for _, c := range z.changes {
		if c.ID == id {
			return c, nil
		}
	}
	return nil, errorf(http.StatusNotFound, "notFound", "The 'parameters.changeId' resource named '%s' does not exist.", id)
}

// apply makes a change whole or not at all. Deletions are matched against
// the zone as it is, additions against the zone after the deletions, and
// the CNAME rule against the zone after both; only when every check passes
// is anything written.
func (z *zone) apply(in wireChange, now time.Time) (*wireChange, *apiError) {
	if len(in.Additions) == 0 && len(in.Deletions) == 0 {
		return nil, errorf(http.StatusBadRequest, "required", "The change has no additions and no deletions")
	}
	dels, err := z.validate("deletions", in.Deletions)
	if err != nil {
		return nil, err
	}
	adds, err := z.validate("additions", in.Additions)
	if err != nil {
		return nil, err
	}

	staged := map[recordKey]*RecordSet{} // nil: deleted by this change
	lookup := func(k recordKey) (RecordSet, bool) {
		if rs, ok := staged[k]; ok {
			if rs == nil {
				return RecordSet{}, false
			}
			return *rs, true
		}
		rs, ok := z.sets[k]
		return rs, ok
	}
	for i, d := range dels {
		cur, ok := lookup(keyOf(d))
		if !ok {
			return nil, errorf(http.StatusPreconditionFailed, "conditionNotMet",
				"Precondition not met for 'entity.change.deletions[%d]': there is no %s record set at %s", i, d.Type, d.Name)
		}
		if !sameSet(cur, d) {
			return nil, errorf(http.StatusPreconditionFailed, "conditionNotMet",
				"Precondition not met for 'entity.change.deletions[%d]': the %s record set at %s is ttl %d %q, not ttl %d %q",
				i, d.Type, d.Name, cur.TTL, cur.Rrdatas, d.TTL, d.Rrdatas)
		}
		staged[keyOf(d)] = nil
	}
	for i, a := range adds {
		if _, ok := lookup(keyOf(a)); ok {
			return nil, errorf(http.StatusConflict, "alreadyExists",
				"The resource 'entity.change.additions[%d]' named '%s (%s)' already exists", i, a.Name, a.Type)
		}
		staged[keyOf(a)] = &a
	}
	for i, a := range adds {
		for typ := range rrdataChecks {
			if _, ok := lookup(recordKey{a.Name, typ}); ok && cnameClash(a.Type, typ) {
				return nil, cnameConflict(i, a, typ)
			}
		}
	}

	for k, rs := range staged {
		if rs == nil {
			delete(z.sets, k)
		} else {
			z.sets[k] = *rs
		}
	}
	out := wireChange{
		Kind:      "dns#change",
		ID:        strconv.Itoa(len(z.changes) + 1),
		Status:    "done",
		StartTime: now.UTC().Format(time.RFC3339Nano),
	}
	for _, rs := range adds {
		out.Additions = append(out.Additions, wireRecordSet{Kind: "dns#resourceRecordSet", RecordSet: rs})
	}
	for _, rs := range dels {
		out.Deletions = append(out.Deletions, wireRecordSet{Kind: "dns#resourceRecordSet", RecordSet: rs})
	}
	z.changes = append(z.changes, out)
	return &out, nil
}

// cnameClash says record sets of types a and b cannot share a name: one
// is a CNAME and they are not the same set.
func cnameClash(a, b string) bool { return a != b && (a == "CNAME" || b == "CNAME") }

func cnameConflict(i int, a RecordSet, other string) *apiError {
	return errorf(http.StatusBadRequest, "cnameResourceRecordSetConflict",
		"The resource 'entity.change.additions[%d]' named '%s (%s)' is invalid: a CNAME record set cannot share its name with a %s record set",
		i, a.Name, a.Type, other)
}

// validate checks the record sets of one side of a change and returns them
// normalized.
func (z *zone) validate(side string, in []wireRecordSet) ([]RecordSet, *apiError) {
	out := make([]RecordSet, 0, len(in))
	seen := map[recordKey]bool{}
	for i, w := range in {
		rs := normalized(w.RecordSet)
		field := fmt.Sprintf("entity.change.%s[%d]", side, i)
		if err := z.validSet(rs); err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid", "Invalid value for '%s': %v", field, err)
		}
		if seen[keyOf(rs)] {
			return nil, errorf(http.StatusBadRequest, "invalid", "Invalid value for '%s': the change lists the %s record set at %s twice in its %s", field, rs.Type, rs.Name, side)
		}
		seen[keyOf(rs)] = true
		out = append(out, rs)
	}
	return out, nil
}

func (z *zone) validSet(rs RecordSet) error {
	if err := validDomain(rs.Name); err != nil {
		return fmt.Errorf("name %q: %w", rs.Name, err)
	}
	if rs.Name != z.dnsName && !strings.HasSuffix(rs.Name, "."+z.dnsName) {
		return fmt.Errorf("name %q is not within the zone's DNS name %q", rs.Name, z.dnsName)
	}
	if rs.TTL < 0 {
		return fmt.Errorf("ttl %d is negative", rs.TTL)
	}
	check, ok := rrdataChecks[rs.Type]
	if !ok {
		return fmt.Errorf("type %q is not a record type the fake serves", rs.Type)
	}
	if len(rs.Rrdatas) == 0 {
		return errors.New("a record set needs at least one rrdata")
	}
	if (rs.Type == "CNAME" || rs.Type == "SOA") && len(rs.Rrdatas) != 1 {
		return fmt.Errorf("a %s record set has exactly one rrdata, not %d", rs.Type, len(rs.Rrdatas))
	}
	if rs.Type == "CNAME" && rs.Name == z.dnsName {
		return errors.New("a CNAME cannot be at the zone's apex")
	}
	for i, d := range rs.Rrdatas {
		if err := check(d); err != nil {
			return fmt.Errorf("rrdatas[%d] %q: %w", i, d, err)
		}
		if slices.Contains(rs.Rrdatas[:i], d) {
			return fmt.Errorf("rrdatas[%d] %q is listed twice", i, d)
		}
	}
	return nil
}

var rrdataChecks = map[string]func(string) error{
	"A":     func(d string) error { return checkAddr(d, true) },
	"AAAA":  func(d string) error { return checkAddr(d, false) },
	"CNAME": validDomain,
	"NS":    validDomain,
	"PTR":   validDomain,
	"MX": func(d string) error {
		pref, host, ok := strings.Cut(d, " ")
		if _, err := strconv.ParseUint(pref, 10, 16); !ok || err != nil {
			return errors.New("an MX record is a preference and a host")
		}
		return validDomain(host)
	},
	"SOA": func(d string) error {
		if len(strings.Fields(d)) != 7 {
			return errors.New("an SOA record has seven fields")
		}
		return nil
	},
	"TXT": nonEmpty,
	"SPF": nonEmpty,
	"SRV": nonEmpty,
	"CAA": nonEmpty,
}

func nonEmpty(d string) error {
	if strings.TrimSpace(d) == "" {
		return errors.New("empty")
	}
	return nil
}

func checkAddr(d string, v4 bool) error {
	a, err := netip.ParseAddr(d)
	switch {
	case err != nil:
		return err
	case a.Zone() != "":
		return errors.New("an address cannot have a zone")
	case v4 && !a.Is4():
		return errors.New("not an IPv4 address")
	case !v4 && !a.Is6():
		return errors.New("not an IPv6 address")
	}
	return nil
}

// The characters names are made of.
const (
	lower  = "abcdefghijklmnopqrstuvwxyz"
	upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits = "0123456789"
)

// validDomain checks a fully qualified domain name, with its trailing dot.
func validDomain(name string) error {
	if !strings.HasSuffix(name, ".") {
		return errors.New("not fully qualified: it must end with a dot")
	}
	if name == "." {
		return nil
	}
	if len(name) > 254 {
		return errors.New("longer than 253 characters")
	}
	for i, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("label %q is not 1 to 63 characters", label)
		}
		if label == "*" && i == 0 {
			continue
		}
		for _, c := range label {
			if !strings.ContainsRune(lower+upper+digits+"-_", c) {
				return fmt.Errorf("label %q has the character %q", label, c)
			}
		}
	}
	return nil
}

func validZoneName(name string) bool {
	if name == "" || len(name) > 63 || name[0] < 'a' || name[0] > 'z' || name[len(name)-1] == '-' {
		return false
	}
	for _, c := range name {
		if !strings.ContainsRune(lower+digits+"-", c) {
			return false
		}
	}
	return true
}

// normalized puts a record set in the form the fake keeps: names in lower
// case, addresses in their canonical text, data sorted, so that comparing
// two sets is comparing the values.
func normalized(rs RecordSet) RecordSet {
	out := RecordSet{Name: strings.ToLower(rs.Name), Type: rs.Type, TTL: rs.TTL, Rrdatas: slices.Clone(rs.Rrdatas)}
	if rs.Type == "A" || rs.Type == "AAAA" {
		for i, d := range out.Rrdatas {
			if a, err := netip.ParseAddr(d); err == nil {
				out.Rrdatas[i] = a.String()
			}
		}
	}
	slices.Sort(out.Rrdatas)
	return out
}

func keyOf(rs RecordSet) recordKey { return recordKey{rs.Name, rs.Type} }

func sameSet(a, b RecordSet) bool {
	return a.Name == b.Name && a.Type == b.Type && a.TTL == b.TTL && slices.Equal(a.Rrdatas, b.Rrdatas)
}

func (z *zone) sorted() []RecordSet {
	out := make([]RecordSet, 0, len(z.sets))
	for _, rs := range z.sets {
		rs.Rrdatas = slices.Clone(rs.Rrdatas)
		out = append(out, rs)
	}
	slices.SortFunc(out, func(a, b RecordSet) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Type, b.Type)
	})
	return out
}

// page picks the slice of n items a list request asks for. The page token
// is the offset of the page's first item.
func page(n int, q url.Values, defaultSize int) (start, end int, next string, err *apiError) {
	size := defaultSize
	if v := q.Get("maxResults"); v != "" {
		m, perr := strconv.Atoi(v)
		if perr != nil || m < 1 {
			return 0, 0, "", errorf(http.StatusBadRequest, "invalid", "Invalid value for 'parameters.maxResults': '%s'", v)
		}
		size = m
	}
	if v := q.Get("pageToken"); v != "" {
		s, perr := strconv.Atoi(v)
		if perr != nil || s < 0 || s > n {
			return 0, 0, "", errorf(http.StatusBadRequest, "invalid", "Invalid value for 'parameters.pageToken': '%s'", v)
		}
		start = s
	}
	end = min(start+size, n)
	if end < n {
		next = strconv.Itoa(end)
	}
	return start, end, next, nil
}

// apiError is an error answer in Google's JSON error shape.
type apiError = fakegoogle.Error

func errorf(code int, reason, format string, args ...any) *apiError {
	return fakegoogle.Errorf(code, reason, format, args...)
}

func writeError(w http.ResponseWriter, e *apiError) { fakegoogle.WriteError(w, e) }

func writeJSON(w http.ResponseWriter, code int, v any) { fakegoogle.WriteJSON(w, code, v) }
