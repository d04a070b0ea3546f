package fakecompute

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// kind is what the generic collection methods need to know about one
// resource type: where it lives, how the API names it, and the rules of
// its family. Each family's file declares one.
type kind struct {
	collection string // as the API names it in method names: "globalAddresses"
	segment    string // as paths spell it: "addresses"
	typeName   string // as the API's messages name it: "backend_service"
	apiKind    string // the kind field: "compute#backendService"
	// outputOnly are the fields only the server sets, beyond the ones
	// every resource has; they are dropped from a request body.
	outputOnly []string
	// fingerprint is whether the resource has a top-level fingerprint that
	// changes on every change and that update and patch check.
	fingerprint bool
	// update and patch say whether the API serves those methods.
	update, patch bool
	// prepare checks a resource about to be stored against the current
	// state, turns the references it reads into links, fills in defaults
	// and sets c.uses. It must not change the state: for a slow operation
	// it runs again when the operation completes.
	prepare func(s *Server, c *candidate) *apiError
	// derive fills in, on a copy about to be returned, the fields computed
	// from other resources, such as an address's users.
	derive func(s *Server, r ref, fields map[string]any)
	// deleted makes the changes a deletion implies elsewhere, such as an
	// instance leaving its groups.
	deleted func(s *Server, r ref)
}

// kinds are the resource types the fake serves.
var kinds = []*kind{
	addressKind, healthCheckKind, backendServiceKind, urlMapKind, targetHTTPProxyKind,
	forwardingRuleKind, firewallKind, instanceKind, instanceGroupKind,
}

// object is one stored resource. It is never changed once stored: a change
// stores a new one, so a response built from it is never torn.
type object struct {
	id uint64
	// fields is the resource's JSON, without the fields derive computes.
	fields map[string]any
	// uses are the resources this one references; delete refuses to
	// remove a resource another one uses.
	uses []ref
	// members are an instance group's instances, sorted by name.
	members []ref
}

// candidate is a resource being built by a change, before it is stored.
type candidate struct {
	at      ref
	id      uint64
	fields  map[string]any
	old     *object // the version it replaces; nil on insert
	uses    []ref
	members []ref
}

func (c *candidate) object() *object {
	return &object{id: c.id, fields: c.fields, uses: c.uses, members: c.members}
}

// fieldsEveryResourceHas are set by the server on every resource.
var fieldsEveryResourceHas = []string{"kind", "id", "creationTimestamp", "selfLink", "fingerprint"}

func (s *Server) serveKind(k *kind) {
	path := globalPath + "/" + k.segment
	if zonalSegments[k.segment] {
		path = zonePath + "/" + k.segment
		s.route("GET "+projectPath+"/aggregated/"+k.segment, k.collection+".aggregatedList", s.aggregatedList(k))
	}
	s.route("GET "+path, k.collection+".list", s.list(k))
	s.route("POST "+path, k.collection+".insert", s.insert(k))
	s.route("GET "+path+"/{name}", k.collection+".get", s.get(k))
	s.route("DELETE "+path+"/{name}", k.collection+".delete", s.remove(k))
	if k.update {
		s.route("PUT "+path+"/{name}", k.collection+".update", s.updateMethod(k))
	}
	if k.patch {
		s.route("PATCH "+path+"/{name}", k.collection+".patch", s.patchMethod(k))
	}
}

// find returns the stored resource r names, or nil. The caller holds s.mu,
// as every method below does.
func (s *Server) find(r ref) *object { return s.scopes[r.scope][r.name] }

func (s *Server) store(r ref, o *object) {
	if s.scopes[r.scope] == nil {
		s.scopes[r.scope] = map[string]*object{}
	}
	s.scopes[r.scope][r.name] = o
}

// render is the JSON of a stored resource as a response carries it: a copy,
// with the derived fields filled in.
func (s *Server) render(k *kind, r ref, o *object) map[string]any {
	f := cloneObject(o.fields)
	if k.derive != nil {
		k.derive(s, r, f)
	}
	return f
}

// usersOf returns the resources that reference r, those of one collection
// if segment is not empty, sorted by key.
func (s *Server) usersOf(r ref, segment string) []ref {
	var users []ref
	for sc, objs := range s.scopes {
		if segment != "" && sc.segment != segment {
			continue
		}
		for name, o := range objs {
			if slices.Contains(o.uses, r) {
				users = append(users, ref{scope: sc, name: name})
			}
		}
	}
	slices.SortFunc(users, func(a, b ref) int { return strings.Compare(a.key(), b.key()) })
	return users
}

func (s *Server) newID() uint64 {
	id := s.nextID
	s.nextID++
	return id
}

func (s *Server) get(k *kind) handler {
	return func(r *http.Request, _ []byte) (any, *apiError) {
		at := pathRef(r, k.segment)
		o := s.find(at)
		if o == nil {
			return nil, notFound(at)
		}
		return s.render(k, at, o), nil
	}
}

// listResponse is the JSON of every list method; items is left out when
// empty, as the API leaves it out.
type listResponse struct {
	Kind          string           `json:"kind"`
	ID            string           `json:"id"`
	Items         []map[string]any `json:"items,omitempty"`
	NextPageToken string           `json:"nextPageToken,omitempty"`
	SelfLink      string           `json:"selfLink"`
}

func (s *Server) list(k *kind) handler {
	return func(r *http.Request, _ []byte) (any, *apiError) {
		q, err := parseListQuery(r.URL.Query(), s.pageSize)
		if err != nil {
			return nil, err
		}
		sc := pathRef(r, k.segment).scope
		var items []item
		for name, o := range s.scopes[sc] {
			items = append(items, item{key: name, fields: s.render(k, ref{scope: sc, name: name}, o)})
		}
		page, next := q.page(items)
		out := listResponse{Kind: k.apiKind + "List", ID: sc.path(), NextPageToken: next, SelfLink: s.base + sc.path()}
		for _, it := range page {
			out.Items = append(out.Items, it.fields)
		}
		return out, nil
	}
}

// aggregatedResponse is the JSON of the aggregatedList methods: items
// under "zones/<zone>", each a scoped list under the collection's name.
type aggregatedResponse struct {
	Kind          string                                 `json:"kind"`
	ID            string                                 `json:"id"`
	Items         map[string]map[string][]map[string]any `json:"items"`
	NextPageToken string                                 `json:"nextPageToken,omitempty"`
	SelfLink      string                                 `json:"selfLink"`
}

// aggregatedList lists a zonal collection across zones, keyed by
// "zones/<zone>". Only zones that have resources on the page are listed.
func (s *Server) aggregatedList(k *kind) handler {
	return func(r *http.Request, _ []byte) (any, *apiError) {
		q, err := parseListQuery(r.URL.Query(), s.pageSize)
		if err != nil {
			return nil, err
		}
		project := r.PathValue("project")
		var items []item
		for sc, objs := range s.scopes {
			if sc.project != project || sc.segment != k.segment {
				continue
			}
			for name, o := range objs {
				items = append(items, item{key: sc.zone + "/" + name, zone: sc.zone, fields: s.render(k, ref{scope: sc, name: name}, o)})
			}
		}
		page, next := q.page(items)
		scoped := map[string]map[string][]map[string]any{}
		for _, it := range page {
			zone := "zones/" + it.zone
			if scoped[zone] == nil {
				scoped[zone] = map[string][]map[string]any{}
			}
			scoped[zone][k.segment] = append(scoped[zone][k.segment], it.fields)
		}
		id := "projects/" + project + "/aggregated/" + k.segment
		return aggregatedResponse{Kind: k.apiKind + "AggregatedList", ID: id, Items: scoped, NextPageToken: next, SelfLink: s.base + id}, nil
	}
}

func (s *Server) insert(k *kind) handler {
	return func(r *http.Request, body []byte) (any, *apiError) {
		in, err := decodeObject(body)
		if err != nil {
			return nil, err
		}
		name, _ := in["name"].(string)
		if err := validName("resource.name", name); err != nil {
			return nil, err
		}
		at := pathRef(r, k.segment)
		at.name = name
		id := s.newID()
		return s.mutate("insert", at, id, func() (func(), *apiError) {
			if s.find(at) != nil {
				return nil, alreadyExists(at)
			}
			c := &candidate{at: at, id: id, fields: cloneObject(in)}
			if err := s.build(k, c); err != nil {
				return nil, err
			}
			return func() { s.store(at, c.object()) }, nil
		})
	}
}

// build makes c the resource to store: it drops what only the server sets,
// lets the kind check and complete the rest, and sets the fields every
// resource has.
func (s *Server) build(k *kind, c *candidate) *apiError {
	for _, f := range slices.Concat(fieldsEveryResourceHas, k.outputOnly) {
		delete(c.fields, f)
	}
	c.uses = nil
	if err := k.prepare(s, c); err != nil {
		return err
	}
	created := timestamp()
	if c.old != nil {
		created = stringField(c.old.fields, "creationTimestamp")
	}
	c.fields["kind"] = k.apiKind
	c.fields["id"] = strconv.FormatUint(c.id, 10)
	c.fields["name"] = c.at.name
	c.fields["creationTimestamp"] = created
	c.fields["selfLink"] = s.link(c.at)
	if c.at.zone != "" {
		c.fields["zone"] = s.zoneLink(c.at.project, c.at.zone)
	}
	if k.fingerprint {
		c.fields["fingerprint"] = s.newFingerprint()
	}
	return nil
}

func (s *Server) remove(k *kind) handler {
	return func(r *http.Request, _ []byte) (any, *apiError) {
		at := pathRef(r, k.segment)
		o := s.find(at)
		if o == nil {
			return nil, notFound(at)
		}
		return s.mutate("delete", at, o.id, func() (func(), *apiError) {
			if s.find(at) == nil {
				return nil, notFound(at)
			}
			if users := s.usersOf(at, ""); len(users) > 0 {
				return nil, inUse(k.typeName, at, users[0].key())
			}
			return func() {
				delete(s.scopes[at.scope], at.name)
				if k.deleted != nil {
					k.deleted(s, at)
				}
			}, nil
		})
	}
}

func (s *Server) updateMethod(k *kind) handler {
	return func(r *http.Request, body []byte) (any, *apiError) {
		in, err := decodeObject(body)
		if err != nil {
			return nil, err
		}
		at := pathRef(r, k.segment)
		return s.replace(k, at, "update", func(c *candidate) *apiError {
			if err := checkFingerprint(in["fingerprint"], c.old.fields["fingerprint"]); err != nil {
				return err
			}
			c.fields = cloneObject(in)
			return sameName(c)
		})
	}
}

func (s *Server) patchMethod(k *kind) handler {
	return func(r *http.Request, body []byte) (any, *apiError) {
		in, err := decodeObject(body)
		if err != nil {
			return nil, err
		}
		at := pathRef(r, k.segment)
		return s.replace(k, at, "patch", func(c *candidate) *apiError {
			if err := checkFingerprint(in["fingerprint"], c.old.fields["fingerprint"]); err != nil {
				return err
			}
			mergePatch(c.fields, in)
			return sameName(c)
		})
	}
}

// sameName refuses a rename: update and patch change a resource in place.
func sameName(c *candidate) *apiError {
	if name, ok := c.fields["name"]; ok && name != c.at.name {
		return invalidField("resource.name", name, "A resource cannot be renamed; it is '%s'.", c.at.name)
	}
	return nil
}

// replace runs a change that stores a new version of an existing resource:
// edit turns a copy of the current version (and of its members) into the
// new one, and the kind's rules apply to the result as to an
// insert. Update, patch and every set method go through it, so the rules
// live in one place.
func (s *Server) replace(k *kind, at ref, opType string, edit func(c *candidate) *apiError) (any, *apiError) {
	o := s.find(at)
	if o == nil {
		return nil, notFound(at)
	}
	return s.mutate(opType, at, o.id, func() (func(), *apiError) {
		old := s.find(at)
		if old == nil {
			return nil, notFound(at)
		}
		c := &candidate{at: at, id: old.id, fields: cloneObject(old.fields), old: old, members: slices.Clone(old.members)}
		if err := edit(c); err != nil {
			return nil, err
		}
		if err := s.build(k, c); err != nil {
			return nil, err
		}
		return func() { s.store(at, c.object()) }, nil
	})
}
