package fakecompute

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// instanceGroupKind is a zonal unmanaged instance group: a set of instances
// of its zone, and named ports. Its size is computed on every read. Its
// fingerprint guards the named ports only, as the API documents it: adding
// or removing instances leaves it as it is.
var instanceGroupKind = &kind{
	collection: "instanceGroups",
	segment:    segInstanceGroups,
	typeName:   "instance_group",
	apiKind:    "compute#instanceGroup",
	outputOnly: []string{"size"},
	prepare:    prepareInstanceGroup,
	derive:     deriveInstanceGroup,
}

type instanceGroupView struct {
	NamedPorts []namedPortView `json:"namedPorts,omitempty"`
}

type namedPortView struct {
	Name string `json:"name,omitempty"`
	Port int64  `json:"port,omitempty"`
}

func prepareInstanceGroup(s *Server, c *candidate) *apiError {
	var v instanceGroupView
	if err := decodeView(c.fields, &v); err != nil {
		return err
	}
	for i, np := range v.NamedPorts {
		field := fmt.Sprintf("resource.namedPorts[%d]", i)
		if err := validName(field+".name", np.Name); err != nil {
			return err
		}
		if np.Port < 1 || np.Port > 65535 {
			return invalidField(field+".port", np.Port, "It must be between 1 and 65535.")
		}
	}
	if c.old != nil && jsonEqual(c.old.fields["namedPorts"], c.fields["namedPorts"]) {
		c.fields["fingerprint"] = c.old.fields["fingerprint"]
	} else {
		c.fields["fingerprint"] = s.newFingerprint()
	}
	return nil
}

func deriveInstanceGroup(s *Server, r ref, fields map[string]any) {
	if g := s.find(r); g != nil {
		fields["size"] = len(g.members)
	}
}

// memberRefs reads the instances of an addInstances or removeInstances
// request, which must be in the group's project and zone.
func memberRefs(group ref, body []byte) ([]ref, *apiError) {
	in, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	var out []ref
	for i, m := range children(in, "instances") {
		value, _ := m["instance"].(string)
		r, ok := parseRef(group.project, value)
		if !ok || r.segment != segInstances || r.project != group.project || r.zone != group.zone {
			return nil, invalidField(fmt.Sprintf("resource.instances[%d].instance", i), value,
				"It must be an instance in zone '%s' of project '%s'.", group.zone, group.project)
		}
		out = append(out, r)
	}
	return out, nil
}

func sortMembers(members []ref) {
	slices.SortFunc(members, func(a, b ref) int { return strings.Compare(a.name, b.name) })
}

// addInstances serves instanceGroups.addInstances. Every instance must
// exist and not be a member yet (400 memberAlreadyExists, which clients
// that add idempotently look for).
func (s *Server) addInstances(r *http.Request, body []byte) (any, *apiError) {
	at := pathRef(r, segInstanceGroups)
	add, err := memberRefs(at, body)
	if err != nil {
		return nil, err
	}
	return s.replace(instanceGroupKind, at, "addInstances", func(c *candidate) *apiError {
		for _, m := range add {
			if s.find(m) == nil {
				return notFound(m)
			}
			if slices.Contains(c.members, m) {
				return errorf(http.StatusBadRequest, "memberAlreadyExists", "Resource '%s' is already a member of '%s'.", m.key(), at.key())
			}
			c.members = append(c.members, m)
		}
		sortMembers(c.members)
		return nil
	})
}

// removeInstances serves instanceGroups.removeInstances. An instance that
// is not a member is skipped: it may have left by being deleted.
func (s *Server) removeInstances(r *http.Request, body []byte) (any, *apiError) {
	at := pathRef(r, segInstanceGroups)
	remove, err := memberRefs(at, body)
	if err != nil {
		return nil, err
	}
	return s.replace(instanceGroupKind, at, "removeInstances", func(c *candidate) *apiError {
		c.members = slices.DeleteFunc(c.members, func(m ref) bool { return slices.Contains(remove, m) })
		return nil
	})
}

// setNamedPorts serves instanceGroups.setNamedPorts: it replaces the named
// ports, if the request has the group's current fingerprint.
func (s *Server) setNamedPorts(r *http.Request, body []byte) (any, *apiError) {
	in, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	at := pathRef(r, segInstanceGroups)
	return s.replace(instanceGroupKind, at, "setNamedPorts", func(c *candidate) *apiError {
		if err := checkFingerprint(in["fingerprint"], c.old.fields["fingerprint"]); err != nil {
			return err
		}
		if ports, ok := in["namedPorts"]; ok && ports != nil {
			c.fields["namedPorts"] = cloneValue(ports)
		} else {
			delete(c.fields, "namedPorts")
		}
		return nil
	})
}

// listInstances serves instanceGroups.listInstances, a POST whose body
// picks ALL instances or the RUNNING ones; every instance the fake has is
// RUNNING. Each item carries the group's named ports, as on the API.
func (s *Server) listInstances(r *http.Request, body []byte) (any, *apiError) {
	at := pathRef(r, segInstanceGroups)
	g := s.find(at)
	if g == nil {
		return nil, notFound(at)
	}
	in := map[string]any{}
	if len(body) > 0 {
		var err *apiError
		if in, err = decodeObject(body); err != nil {
			return nil, err
		}
	}
	state, _ := in["instanceState"].(string)
	if state != "" && state != "ALL" && state != "RUNNING" {
		return nil, invalidField("resource.instanceState", state, "It must be ALL or RUNNING.")
	}
	q, err := parseListQuery(r.URL.Query(), s.pageSize)
	if err != nil {
		return nil, err
	}
	var items []item
	for _, m := range g.members {
		inst := s.find(m)
		if inst == nil {
			continue
		}
		status := stringField(inst.fields, "status")
		if state == "RUNNING" && status != "RUNNING" {
			continue
		}
		fields := map[string]any{"instance": s.link(m), "status": status}
		if ports, ok := g.fields["namedPorts"]; ok {
			fields["namedPorts"] = cloneValue(ports)
		}
		items = append(items, item{key: m.name, fields: fields})
	}
	page, next := q.page(items)
	out := listResponse{Kind: "compute#instanceGroupsListInstances", ID: at.key(), NextPageToken: next, SelfLink: s.link(at) + "/listInstances"}
	for _, it := range page {
		out.Items = append(out.Items, it.fields)
	}
	return out, nil
}
