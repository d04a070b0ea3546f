package fakeclouddns_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/dns/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/kfederation/federation/test/fakeclouddns"
)

const project = "test-project"

// start serves a fake and returns a real dns/v1 client of it.
func start(t *testing.T) (*fakeclouddns.Server, *dns.Service) {
	t.Helper()
	s := fakeclouddns.New()
	s.Start()
	t.Cleanup(s.Close)
	svc, err := dns.NewService(t.Context(), option.WithEndpoint(s.URL()), option.WithoutAuthentication())
	if err != nil {
		t.Fatalf("create the dns/v1 client: %v", err)
	}
	return s, svc
}

func createZone(t *testing.T, svc *dns.Service, name, dnsName string) *dns.ManagedZone {
	t.Helper()
	z, err := svc.ManagedZones.Create(project, &dns.ManagedZone{Name: name, DnsName: dnsName}).Context(t.Context()).Do()
	if err != nil {
		t.Fatalf("create managed zone %s: %v", name, err)
	}
	return z
}

// wantAPIError fails unless err is the API's error with code and reason,
// as the client decodes it from the fake's body.
func wantAPIError(t *testing.T, err error, code int, reason string) {
	t.Helper()
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) {
		t.Fatalf("got error %v, want a *googleapi.Error %d %s", err, code, reason)
	}
	if gerr.Code != code || len(gerr.Errors) != 1 || gerr.Errors[0].Reason != reason || gerr.Message == "" {
		t.Fatalf("got error code %d, errors %+v, message %q; want code %d, reason %s and a message", gerr.Code, gerr.Errors, gerr.Message, code, reason)
	}
}

func rrset(name, typ string, ttl int64, data ...string) *dns.ResourceRecordSet {
	return &dns.ResourceRecordSet{Name: name, Type: typ, Ttl: ttl, Rrdatas: data}
}

func TestManagedZones(t *testing.T) {
	s, svc := start(t)
	ctx := t.Context()

	z := createZone(t, svc, "example", "example.com.")
	// The id is above 2^53: it survives only as the JSON string it is.
	if z.Id != 7_000_000_000_000_000_001 || z.Name != "example" || z.DnsName != "example.com." || len(z.NameServers) == 0 {
		t.Errorf("created zone = %+v", z)
	}
	createZone(t, svc, "other", "other.com.")
	createZone(t, svc, "example-again", "example.com.")

	_, err := svc.ManagedZones.Create(project, &dns.ManagedZone{Name: "example", DnsName: "x.com."}).Context(ctx).Do()
	wantAPIError(t, err, 409, "alreadyExists")
	for _, bad := range []*dns.ManagedZone{
		{Name: "Example", DnsName: "x.com."},
		{Name: "1x", DnsName: "x.com."},
		{Name: "x-", DnsName: "x.com."},
		{Name: strings.Repeat("x", 64), DnsName: "x.com."},
		{Name: "x", DnsName: "x.com"},
		{Name: "x", DnsName: "x..com."},
	} {
		_, err := svc.ManagedZones.Create(project, bad).Context(ctx).Do()
		wantAPIError(t, err, 400, "invalid")
	}

	for _, ref := range []string{"example", "7000000000000000001"} {
		got, err := svc.ManagedZones.Get(project, ref).Context(ctx).Do()
		if err != nil || got.Name != "example" {
			t.Errorf("get %s = %+v, %v; want the zone example", ref, got, err)
		}
	}
	_, err = svc.ManagedZones.Get(project, "missing").Context(ctx).Do()
	wantAPIError(t, err, 404, "notFound")

	var names []string
	err = svc.ManagedZones.List(project).DnsName("example.com.").MaxResults(1).Pages(ctx, func(page *dns.ManagedZonesListResponse) error {
		if len(page.ManagedZones) > 1 {
			t.Errorf("a page of maxResults 1 has %d zones", len(page.ManagedZones))
		}
		for _, z := range page.ManagedZones {
			names = append(names, z.Name)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("list zones: %v", err)
	}
	if diff := cmp.Diff([]string{"example", "example-again"}, names); diff != "" {
		t.Errorf("zones for example.com. (-want +got):\n%s", diff)
	}

	// A new zone has its SOA and NS at the apex, and can be deleted with
	// only them; one with other records cannot.
	sets, err := s.RecordSets(project, "other")
	if err != nil || len(sets) != 2 || sets[0].Type != "NS" || sets[1].Type != "SOA" {
		t.Errorf("record sets of a new zone = %+v, %v; want its NS and SOA", sets, err)
	}
	if err := s.PutRecordSet(project, "example", fakeclouddns.RecordSet{Name: "www.example.com.", Type: "A", TTL: 60, Rrdatas: []string{"192.0.2.1"}}); err != nil {
		t.Fatal(err)
	}
	err = svc.ManagedZones.Delete(project, "example").Context(ctx).Do()
	wantAPIError(t, err, 400, "containerNotEmpty")
	if err := svc.ManagedZones.Delete(project, "other").Context(ctx).Do(); err != nil {
		t.Fatalf("delete an empty zone: %v", err)
	}
	_, err = svc.ManagedZones.Get(project, "other").Context(ctx).Do()
	wantAPIError(t, err, 404, "notFound")
}

// seed is the zone every change test starts from.
var seed = []fakeclouddns.RecordSet{
	{Name: "www.example.com.", Type: "A", TTL: 300, Rrdatas: []string{"192.0.2.1", "192.0.2.2"}},
	{Name: "alias.example.com.", Type: "CNAME", TTL: 300, Rrdatas: []string{"www.example.com."}},
	{Name: "v6.example.com.", Type: "AAAA", TTL: 60, Rrdatas: []string{"2001:db8::1"}},
}

func TestChangeRules(t *testing.T) {
	for _, tc := range []struct {
		name      string
		change    *dns.Change
		code      int // 0: accepted
		reason    string
		wantAfter func(t *testing.T, sets map[string]fakeclouddns.RecordSet) // for an accepted change
	}{{
		name:   "deletion with another TTL",
		change: &dns.Change{Deletions: []*dns.ResourceRecordSet{rrset("www.example.com.", "A", 60, "192.0.2.1", "192.0.2.2")}},
		code:   412, reason: "conditionNotMet",
	}, {
		name:   "deletion with other data",
		change: &dns.Change{Deletions: []*dns.ResourceRecordSet{rrset("www.example.com.", "A", 300, "192.0.2.1", "192.0.2.3")}},
		code:   412, reason: "conditionNotMet",
	}, {
		name:   "deletion of part of the data",
		change: &dns.Change{Deletions: []*dns.ResourceRecordSet{rrset("www.example.com.", "A", 300, "192.0.2.1")}},
		code:   412, reason: "conditionNotMet",
	}, {
		name:   "deletion of a set that is not there",
		change: &dns.Change{Deletions: []*dns.ResourceRecordSet{rrset("none.example.com.", "A", 300, "192.0.2.1")}},
		code:   412, reason: "conditionNotMet",
	}, {
		name:   "addition of a set that is there",
		change: &dns.Change{Additions: []*dns.ResourceRecordSet{rrset("www.example.com.", "A", 300, "192.0.2.9")}},
		code:   409, reason: "alreadyExists",
	}, {
		name: "a good deletion does not pass with a bad addition",
		change: &dns.Change{
			Deletions: []*dns.ResourceRecordSet{rrset("www.example.com.", "A", 300, "192.0.2.1", "192.0.2.2")},
			Additions: []*dns.ResourceRecordSet{rrset("new.example.com.", "A", 300, "192.0.2.7"), rrset("alias.example.com.", "CNAME", 300, "other.example.org.")},
		},
		code: 409, reason: "alreadyExists",
	}, {
		name: "good additions do not pass with a bad deletion",
		change: &dns.Change{
			Deletions: []*dns.ResourceRecordSet{rrset("v6.example.com.", "AAAA", 60, "2001:db8::1"), rrset("www.example.com.", "A", 301, "192.0.2.1", "192.0.2.2")},
			Additions: []*dns.ResourceRecordSet{rrset("new.example.com.", "A", 300, "192.0.2.7")},
		},
		code: 412, reason: "conditionNotMet",
	}, {
		name:   "a CNAME beside an A",
		change: &dns.Change{Additions: []*dns.ResourceRecordSet{rrset("www.example.com.", "CNAME", 300, "elsewhere.example.org.")}},
		code:   400, reason: "cnameResourceRecordSetConflict",
	}, {
		name:   "an A beside a CNAME",
		change: &dns.Change{Additions: []*dns.ResourceRecordSet{rrset("alias.example.com.", "A", 300, "192.0.2.5")}},
		code:   400, reason: "cnameResourceRecordSetConflict",
	}, {
		name:   "a TXT beside a CNAME",
		change: &dns.Change{Additions: []*dns.ResourceRecordSet{rrset("alias.example.com.", "TXT", 300, `"hello"`)}},
		code:   400, reason: "cnameResourceRecordSetConflict",
	}, {
		name: "a CNAME and an A added together",
		change: &dns.Change{Additions: []*dns.ResourceRecordSet{
			rrset("both.example.com.", "A", 300, "192.0.2.5"), rrset("both.example.com.", "CNAME", 300, "www.example.com.")}},
		code: 400, reason: "cnameResourceRecordSetConflict",
	}, {
		name:   "an A that is not an IPv4 address",
		change: &dns.Change{Additions: []*dns.ResourceRecordSet{rrset("new.example.com.", "A", 300, "2001:db8::5")}},
		code:   400, reason: "invalid",
	}, {
		name:   "an AAAA that is not an IPv6 address",
		change: &dns.Change{Additions: []*dns.ResourceRecordSet{rrset("new.example.com.", "AAAA", 300, "192.0.2.5")}},
		code:   400, reason: "invalid",
	}, {
		name:   "a CNAME with two targets",
		change: &dns.Change{Additions: []*dns.ResourceRecordSet{rrset("new.example.com.", "CNAME", 300, "a.example.org.", "b.example.org.")}},
		code:   400, reason: "invalid",
	}, {
		name:   "a CNAME to a name not fully qualified",
		change: &dns.Change{Additions: []*dns.ResourceRecordSet{rrset("new.example.com.", "CNAME", 300, "a.example.org")}},
		code:   400, reason: "invalid",
	}, {
		name:   "a set with no data",
		change: &dns.Change{Additions: []*dns.ResourceRecordSet{rrset("new.example.com.", "A", 300)}},
		code:   400, reason: "invalid",
	}, {
		name:   "the same address twice",
		change: &dns.Change{Additions: []*dns.ResourceRecordSet{rrset("new.example.com.", "A", 300, "192.0.2.5", "192.0.2.5")}},
		code:   400, reason: "invalid",
	}, {
		name:   "a name outside the zone",
		change: &dns.Change{Additions: []*dns.ResourceRecordSet{rrset("www.example.org.", "A", 300, "192.0.2.5")}},
		code:   400, reason: "invalid",
	}, {
		name:   "a name not fully qualified",
		change: &dns.Change{Additions: []*dns.ResourceRecordSet{rrset("new.example.com", "A", 300, "192.0.2.5")}},
		code:   400, reason: "invalid",
	}, {
		name: "the same set added twice",
		change: &dns.Change{Additions: []*dns.ResourceRecordSet{
			rrset("new.example.com.", "A", 300, "192.0.2.5"), rrset("new.example.com.", "A", 60, "192.0.2.6")}},
		code: 400, reason: "invalid",
	}, {
		name:   "an empty change",
		change: &dns.Change{},
		code:   400, reason: "required",
	}, {
		name:   "a deletion matches whatever the order of the data",
		change: &dns.Change{Deletions: []*dns.ResourceRecordSet{rrset("www.example.com.", "A", 300, "192.0.2.2", "192.0.2.1")}},
		wantAfter: func(t *testing.T, sets map[string]fakeclouddns.RecordSet) {
			if _, ok := sets["www.example.com. A"]; ok {
				t.Error("the A set at www is still there")
			}
		},
	}, {
		name: "an A replaced by a CNAME in one change",
		change: &dns.Change{
			Deletions: []*dns.ResourceRecordSet{rrset("www.example.com.", "A", 300, "192.0.2.1", "192.0.2.2")},
			Additions: []*dns.ResourceRecordSet{rrset("www.example.com.", "CNAME", 60, "lb.example.org.")},
		},
		wantAfter: func(t *testing.T, sets map[string]fakeclouddns.RecordSet) {
			if got := sets["www.example.com. CNAME"]; got.TTL != 60 || len(got.Rrdatas) != 1 || got.Rrdatas[0] != "lb.example.org." {
				t.Errorf("CNAME at www = %+v", got)
			}
			if _, ok := sets["www.example.com. A"]; ok {
				t.Error("the A set at www is still there")
			}
		},
	}, {
		name: "a set deleted and added back the same",
		change: &dns.Change{
			Deletions: []*dns.ResourceRecordSet{rrset("v6.example.com.", "AAAA", 60, "2001:db8::1")},
			Additions: []*dns.ResourceRecordSet{rrset("v6.example.com.", "AAAA", 60, "2001:db8::1")},
		},
		wantAfter: func(t *testing.T, sets map[string]fakeclouddns.RecordSet) {
			if _, ok := sets["v6.example.com. AAAA"]; !ok {
				t.Error("the AAAA set at v6 is gone")
			}
		},
	}, {
		name: "a TTL of 0 is kept and matched",
		change: &dns.Change{
			Additions: []*dns.ResourceRecordSet{{Name: "zero.example.com.", Type: "A", Ttl: 0, Rrdatas: []string{"192.0.2.8"}, ForceSendFields: []string{"Ttl"}}},
		},
		wantAfter: func(t *testing.T, sets map[string]fakeclouddns.RecordSet) {
			if got, ok := sets["zero.example.com. A"]; !ok || got.TTL != 0 {
				t.Errorf("A at zero = %+v, %v", got, ok)
			}
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s, svc := start(t)
			createZone(t, svc, "example", "example.com.")
			for _, rs := range seed {
				if err := s.PutRecordSet(project, "example", rs); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := s.RecordSets(project, "example")

			got, err := svc.Changes.Create(project, "example", tc.change).Context(t.Context()).Do()
			after, _ := s.RecordSets(project, "example")
			if tc.code != 0 {
				wantAPIError(t, err, tc.code, tc.reason)
				if diff := cmp.Diff(before, after); diff != "" {
					t.Errorf("a refused change changed the zone (-before +after):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("change refused: %v", err)
			}
			if got.Id == "" || got.Status != "done" || len(got.Additions) != len(tc.change.Additions) || len(got.Deletions) != len(tc.change.Deletions) {
				t.Errorf("change = %+v", got)
			}
			byKey := map[string]fakeclouddns.RecordSet{}
			for _, rs := range after {
				byKey[rs.Name+" "+rs.Type] = rs
			}
			tc.wantAfter(t, byKey)
		})
	}
}

func TestChangesGet(t *testing.T) {
	_, svc := start(t)
	ctx := t.Context()
	createZone(t, svc, "example", "example.com.")
	made, err := svc.Changes.Create(project, "example", &dns.Change{Additions: []*dns.ResourceRecordSet{rrset("a.example.com.", "A", 30, "192.0.2.1")}}).Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.Changes.Get(project, "example", made.Id).Context(ctx).Do()
	if err != nil {
		t.Fatalf("get change %s: %v", made.Id, err)
	}
	if got.Id != made.Id || len(got.Additions) != 1 || got.Additions[0].Name != "a.example.com." || got.Additions[0].Ttl != 30 {
		t.Errorf("change = %+v, want the one made", got)
	}
	_, err = svc.Changes.Get(project, "example", "999").Context(ctx).Do()
	wantAPIError(t, err, 404, "notFound")
	_, err = svc.Changes.Create(project, "missing", &dns.Change{Additions: []*dns.ResourceRecordSet{rrset("a.example.com.", "A", 30, "192.0.2.1")}}).Context(ctx).Do()
	wantAPIError(t, err, 404, "notFound")
}

func TestRecordSetsList(t *testing.T) {
	s, svc := start(t)
	ctx := t.Context()
	createZone(t, svc, "example", "example.com.")
	for _, rs := range []fakeclouddns.RecordSet{
		{Name: "a.example.com.", Type: "A", TTL: 60, Rrdatas: []string{"192.0.2.1"}},
		{Name: "a.example.com.", Type: "AAAA", TTL: 60, Rrdatas: []string{"2001:db8::1"}},
		{Name: "a.example.com.", Type: "TXT", TTL: 60, Rrdatas: []string{`"x"`}},
		{Name: "b.example.com.", Type: "A", TTL: 60, Rrdatas: []string{"192.0.2.2"}},
		{Name: "c.example.com.", Type: "CNAME", TTL: 60, Rrdatas: []string{"b.example.com."}},
	} {
		if err := s.PutRecordSet(project, "example", rs); err != nil {
			t.Fatal(err)
		}
	}
	list := func(call *dns.ResourceRecordSetsListCall) (keys []string, pages int) {
		t.Helper()
		err := call.Pages(ctx, func(page *dns.ResourceRecordSetsListResponse) error {
			pages++
			for _, rs := range page.Rrsets {
				keys = append(keys, rs.Name+" "+rs.Type)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		return keys, pages
	}
	all := []string{"a.example.com. A", "a.example.com. AAAA", "a.example.com. TXT", "b.example.com. A", "c.example.com. CNAME", "example.com. NS", "example.com. SOA"}

	got, pages := list(svc.ResourceRecordSets.List(project, "example"))
	if diff := cmp.Diff(all, got); diff != "" || pages != 1 {
		t.Errorf("all sets in %d pages (-want +got):\n%s", pages, diff)
	}
	got, pages = list(svc.ResourceRecordSets.List(project, "example").MaxResults(2))
	if diff := cmp.Diff(all, got); diff != "" || pages != 4 {
		t.Errorf("all sets 2 a page, in %d pages (-want +got):\n%s", pages, diff)
	}
	s.SetPageSize(3)
	got, pages = list(svc.ResourceRecordSets.List(project, "example"))
	if diff := cmp.Diff(all, got); diff != "" || pages != 3 {
		t.Errorf("all sets with a page size of 3, in %d pages (-want +got):\n%s", pages, diff)
	}
	got, _ = list(svc.ResourceRecordSets.List(project, "example").Name("a.example.com."))
	if diff := cmp.Diff(all[:3], got); diff != "" {
		t.Errorf("sets at a (-want +got):\n%s", diff)
	}
	got, _ = list(svc.ResourceRecordSets.List(project, "example").Name("a.example.com.").Type("AAAA"))
	if diff := cmp.Diff(all[1:2], got); diff != "" {
		t.Errorf("AAAA at a (-want +got):\n%s", diff)
	}

	_, err := svc.ResourceRecordSets.List(project, "example").Type("A").Context(ctx).Do()
	wantAPIError(t, err, 400, "invalid")
	_, err = svc.ResourceRecordSets.List(project, "example").PageToken("not-a-token").Context(ctx).Do()
	wantAPIError(t, err, 400, "invalid")
	_, err = svc.ResourceRecordSets.List(project, "missing").Context(ctx).Do()
	wantAPIError(t, err, 404, "notFound")
}

func TestFailNextAndRequests(t *testing.T) {
	s, svc := start(t)
	ctx := t.Context()
	createZone(t, svc, "example", "example.com.")
	s.ResetRequests()

	s.FailNext(1, http.StatusServiceUnavailable)
	s.FailNext(1, http.StatusTooManyRequests)
	add := &dns.Change{Additions: []*dns.ResourceRecordSet{rrset("a.example.com.", "A", 60, "192.0.2.1")}}
	_, err := svc.Changes.Create(project, "example", add).Context(ctx).Do()
	wantAPIError(t, err, 503, "backendError")
	_, err = svc.ResourceRecordSets.List(project, "example").Context(ctx).Do()
	wantAPIError(t, err, 429, "rateLimitExceeded")
	sets, _ := s.RecordSets(project, "example")
	if len(sets) != 2 {
		t.Errorf("a failed change wrote: the zone has %+v", sets)
	}
	if _, err := svc.Changes.Create(project, "example", add).Context(ctx).Do(); err != nil {
		t.Fatalf("the change after the faults: %v", err)
	}
	want := map[string]int{fakeclouddns.MethodChangesCreate: 2, fakeclouddns.MethodRecordSetsList: 1}
	if diff := cmp.Diff(want, s.Requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	s.ResetRequests()
	if got := s.Requests(); len(got) != 0 {
		t.Errorf("requests after a reset = %v", got)
	}
}

// TestErrorBody checks the wire form of an error, which the client's
// decoding would hide.
func TestErrorBody(t *testing.T) {
	s, _ := start(t)
	resp, err := http.Get(s.URL() + "dns/v1/projects/p/managedZones/z/rrsets/a.example.com./A")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Errors  []struct {
				Reason string `json:"reason"`
			} `json:"errors"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode the error body: %v", err)
	}
	if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
		body.Error.Code != 404 || body.Error.Message == "" || len(body.Error.Errors) != 1 || body.Error.Errors[0].Reason != "notFound" {
		t.Errorf("status %d, content type %q, body %+v", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if got := s.Requests()[fakeclouddns.MethodUnknown]; got != 1 {
		t.Errorf("unknown requests = %d, want 1", got)
	}
}

func TestPutRecordSet(t *testing.T) {
	s, svc := start(t)
	createZone(t, svc, "example", "example.com.")
	put := func(rs fakeclouddns.RecordSet) error { return s.PutRecordSet(project, "example", rs) }
	if err := put(fakeclouddns.RecordSet{Name: "WWW.example.com.", Type: "A", TTL: 60, Rrdatas: []string{"192.0.2.2", "192.0.2.1"}}); err != nil {
		t.Fatal(err)
	}
	if err := put(fakeclouddns.RecordSet{Name: "www.example.com.", Type: "A", TTL: 30, Rrdatas: []string{"192.0.2.3"}}); err != nil {
		t.Fatalf("replace a set: %v", err)
	}
	if err := put(fakeclouddns.RecordSet{Name: "www.example.com.", Type: "CNAME", TTL: 30, Rrdatas: []string{"x.example.org."}}); err == nil {
		t.Error("a CNAME was put beside an A")
	}
	if err := put(fakeclouddns.RecordSet{Name: "www.example.com.", Type: "A", TTL: 30, Rrdatas: []string{"not an address"}}); err == nil {
		t.Error("an A with no address was put")
	}
	if err := s.PutRecordSet(project, "missing", fakeclouddns.RecordSet{Name: "a.example.com.", Type: "A", Rrdatas: []string{"192.0.2.1"}}); err == nil {
		t.Error("a set was put in a zone that does not exist")
	}
	sets, _ := s.RecordSets(project, "example")
	want := fakeclouddns.RecordSet{Name: "www.example.com.", Type: "A", TTL: 30, Rrdatas: []string{"192.0.2.3"}}
	if len(sets) != 3 || !cmp.Equal(sets[2], want) {
		t.Errorf("sets = %+v, want the apex and %+v", sets, want)
	}
}
