package fakecompute

import (
	"fmt"
	"net/http"
	"slices"
)

// instanceKind is a zonal VM instance, as far as a load balancer sees one:
// its name, zone and network tags. Everything else (machineType, disks,
// networkInterfaces) is kept as sent. An instance is RUNNING as soon as it
// exists, and leaves its instance groups when it is deleted, as on the API.
var instanceKind = &kind{
	collection:  "instances",
	segment:     segInstances,
	typeName:    "instance",
	apiKind:     "compute#instance",
	outputOnly:  []string{"status"},
	fingerprint: true,
	prepare:     prepareInstance,
	deleted:     leaveGroups,
}

type instanceView struct {
	Tags *tagsView `json:"tags,omitempty"`
}

type tagsView struct {
	Items []string `json:"items,omitempty"`
}

func prepareInstance(s *Server, c *candidate) *apiError {
	var v instanceView
	if err := decodeView(c.fields, &v); err != nil {
		return err
	}
	var items []string
	if v.Tags != nil {
		items = v.Tags.Items
	}
	for i, t := range items {
		if err := validName(fmt.Sprintf("resource.tags.items[%d]", i), t); err != nil {
			return err
		}
	}
	c.fields["status"] = "RUNNING"
	// The tags have a fingerprint of their own, which setTags checks; it
	// changes when the tags do. Every instance has one, tags or not.
	tags := child(c.fields, "tags")
	tags["fingerprint"] = s.newFingerprint()
	if c.old != nil {
		oldTags, _ := c.old.fields["tags"].(map[string]any)
		if jsonEqual(oldTags["items"], tags["items"]) {
			tags["fingerprint"] = oldTags["fingerprint"]
		}
	}
	return nil
}

// setTags serves instances.setTags: it replaces the instance's tags, if
// the request has the tags' current fingerprint.
func (s *Server) setTags(r *http.Request, body []byte) (any, *apiError) {
	in, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	at := pathRef(r, segInstances)
	return s.replace(instanceKind, at, "setTags", func(c *candidate) *apiError {
		tags, _ := c.fields["tags"].(map[string]any)
		if err := checkFingerprint(in["fingerprint"], tags["fingerprint"]); err != nil {
			return err
		}
		next := map[string]any{}
		if items, ok := in["items"]; ok && items != nil {
			next["items"] = cloneValue(items)
		}
		c.fields["tags"] = next
		return nil
	})
}

// leaveGroups takes a deleted instance out of its zone's instance groups.
func leaveGroups(s *Server, r ref) {
	groups := s.scopes[scope{project: r.project, zone: r.zone, segment: segInstanceGroups}]
	for name, g := range groups {
		if slices.Contains(g.members, r) {
			left := *g
			left.members = slices.DeleteFunc(slices.Clone(g.members), func(m ref) bool { return m == r })
			groups[name] = &left
		}
	}
}
