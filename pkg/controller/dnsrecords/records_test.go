package dnsrecords

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

// Names of one Service's records, as Service DNS writes them.
const (
	zoneA  = "nginx.mynamespace.myfederation.svc.us-central1-a.us-central1.example.com."
	regUS  = "nginx.mynamespace.myfederation.svc.us-central1.example.com."
	global = "nginx.mynamespace.myfederation.svc.example.com."
)

// render writes record sets one a line, "name TYPE data,data ttl=N".
func render(sets []dnsprovider.RecordSet) string {
	var b strings.Builder
	for _, rs := range sets {
		fmt.Fprintf(&b, "%s %s %s ttl=%d\n", rs.Name, rs.Type, strings.Join(rs.Data, ","), rs.TTL)
	}
	return b.String()
}

func TestSets(t *testing.T) {
	const name = "shop.example.com."
	cases := []struct {
		name     string
		targets  Targets
		fallback string
		want     []string
	}{
		{"addresses, repeated and unsorted", Targets{IPs: []string{"192.0.2.2", "192.0.2.1", "192.0.2.2"}}, "", []string{"A 192.0.2.1,192.0.2.2"}},
		{"IPv6 as AAAA", Targets{IPs: []string{"2001:db8::1", "192.0.2.1"}}, "", []string{"A 192.0.2.1", "AAAA 2001:db8::1"}},
		{"one host name alone: CNAME", Targets{Hostnames: []string{"lb.elb.example.net"}}, "", []string{"CNAME lb.elb.example.net."}},
		{"a host name among addresses: its addresses", Targets{IPs: []string{"192.0.2.1"}, Hostnames: []string{"lb.elb.example.net"}, HostAddresses: []string{"198.51.100.1"}}, "", []string{"A 192.0.2.1,198.51.100.1"}},
		{"two host names: their addresses", Targets{Hostnames: []string{"a.example.net", "b.example.net"}, HostAddresses: []string{"198.51.100.2", "198.51.100.1"}}, "", []string{"A 198.51.100.1,198.51.100.2"}},
		{"host names that did not resolve: nothing", Targets{Hostnames: []string{"a.example.net", "b.example.net"}}, "", nil},
		{"nothing, no fallback: no record", Targets{}, "", nil},
		{"nothing, a fallback: CNAME to it", Targets{}, "up.example.com.", []string{"CNAME up.example.com."}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, rs := range Sets(name, 60, tc.targets, tc.fallback) {
				if rs.Name != name || rs.TTL != 60 {
					t.Errorf("set %+v, want name %s and TTL 60", rs, name)
				}
				got = append(got, string(rs.Type)+" "+strings.Join(rs.Data, ","))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestOwnedKinds: a Writer's cache takes in only the record sets of its own
// kind of object, so that the sweep of Service DNS never doubts (or
// deletes) the records of Ingress DNS in the same zone, and the other way
// round.
func TestOwnedKinds(t *testing.T) {
	o := newOwned("ingress/")
	fed := "myfederation"
	listed := []dnsprovider.Owned{
		{RecordSet: dnsprovider.RecordSet{Name: "shop.example.com.", Type: dnsprovider.A, TTL: 180, Data: []string{"192.0.2.1"}}, Owner: dnsprovider.Owner{Federation: fed, Object: "ingress/shop/web"}},
		{RecordSet: dnsprovider.RecordSet{Name: global, Type: dnsprovider.A, TTL: 180, Data: []string{"192.0.2.9"}}, Owner: dnsprovider.Owner{Federation: fed, Object: "service/mynamespace/nginx"}},
	}
	if again := o.load(listed); !slices.Equal(again, []string{"shop/web"}) {
		t.Errorf("the first load queued %q, want only [shop/web]", again)
	}
	if e, sure := o.get("shop/web"); !sure || len(e.sets) != 1 || e.sets[0].Name != "shop.example.com." {
		t.Errorf("shop/web owns %+v (sure %v), want its one set", e.sets, sure)
	}
	if e, sure := o.get("mynamespace/nginx"); !sure || len(e.sets) != 0 {
		t.Errorf("the Service's records went into the Ingress cache: %+v (sure %v)", e.sets, sure)
	}
}

func TestHealthGrace(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	h := NewHealth(time.Minute)
	h.Now = func() time.Time { return now }
	if ok, left := h.Ready("a", true); !ok || left != 0 {
		t.Errorf("Ready: %v, %v; want true, no recheck", ok, left)
	}
	if ok, left := h.Ready("a", false); !ok || left != time.Minute {
		t.Errorf("just down: %v, %v; want true for 1m", ok, left)
	}
	now = now.Add(time.Minute)
	if ok, _ := h.Ready("a", false); ok {
		t.Error("down for the whole grace: still counts as Ready")
	}
	if ok, _ := NewHealth(0).Ready("a", false); ok {
		t.Error("no grace: a down cluster counts as Ready")
	}
}

func TestResolverKeepsAnswersForTTL(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	lookups := 0
	r := NewResolver()
	r.Now = func() time.Time { return now }
	r.Lookup = func(context.Context, string) ([]string, error) {
		lookups++
		return []string{fmt.Sprintf("198.51.100.%d", lookups)}, nil
	}
	ctx := context.Background()
	first := r.Addresses(ctx, []string{"lb.example.net"}, time.Minute)
	now = now.Add(30 * time.Second)
	if got := r.Addresses(ctx, []string{"lb.example.net"}, time.Minute); !slices.Equal(got, first) || lookups != 1 {
		t.Errorf("within the TTL: %q after %d lookups, want %q after 1", got, lookups, first)
	}
	now = now.Add(30 * time.Second)
	if got := r.Addresses(ctx, []string{"lb.example.net"}, time.Minute); slices.Equal(got, first) || lookups != 2 {
		t.Errorf("after the TTL: %q after %d lookups, want a new answer after 2", got, lookups)
	}
}

func TestDiff(t *testing.T) {
	owner := dnsprovider.Owner{Federation: "myfederation", Object: "service/mynamespace/nginx"}
	other := dnsprovider.Owner{Federation: "myfederation", Object: "service/mynamespace/other"}
	a := func(name string, ttl int64, ips ...string) dnsprovider.RecordSet {
		return dnsprovider.RecordSet{Name: name, Type: dnsprovider.A, TTL: ttl, Data: ips}
	}
	cname := func(name, target string) dnsprovider.RecordSet {
		return dnsprovider.RecordSet{Name: name, Type: dnsprovider.CNAME, TTL: 180, Data: []string{target}}
	}
	own := func(rs dnsprovider.RecordSet, o dnsprovider.Owner) dnsprovider.Owned {
		return dnsprovider.Owned{RecordSet: rs, Owner: o}
	}

	t.Run("unchanged, data in another order: nothing to write", func(t *testing.T) {
		change, conflicts := Diff(owner, []dnsprovider.Owned{own(a(global, 180, "10.0.0.2", "10.0.0.1"), owner)}, []dnsprovider.RecordSet{a(global, 180, "10.0.0.1", "10.0.0.2")})
		if !change.IsEmpty() || len(conflicts) != 0 {
			t.Errorf("change %+v, conflicts %+v", change, conflicts)
		}
	})
	t.Run("an address goes: delete the old set, add the new, in one change", func(t *testing.T) {
		change, _ := Diff(owner, []dnsprovider.Owned{own(a(global, 180, "10.0.0.1", "10.0.0.2"), owner)}, []dnsprovider.RecordSet{a(global, 180, "10.0.0.1")})
		if render(change.Delete) != render([]dnsprovider.RecordSet{a(global, 180, "10.0.0.1", "10.0.0.2")}) || render(change.Add) != render([]dnsprovider.RecordSet{a(global, 180, "10.0.0.1")}) || change.Owner != owner {
			t.Errorf("change %+v", change)
		}
	})
	t.Run("A replaced by a CNAME to the region", func(t *testing.T) {
		change, _ := Diff(owner, []dnsprovider.Owned{own(a(zoneA, 180, "10.0.0.1"), owner)}, []dnsprovider.RecordSet{cname(zoneA, regUS)})
		if len(change.Delete) != 1 || change.Delete[0].Type != dnsprovider.A || len(change.Add) != 1 || change.Add[0].Type != dnsprovider.CNAME {
			t.Errorf("change %+v", change)
		}
	})
	t.Run("a TTL change rewrites the set", func(t *testing.T) {
		change, _ := Diff(owner, []dnsprovider.Owned{own(a(global, 180, "10.0.0.1"), owner)}, []dnsprovider.RecordSet{a(global, 60, "10.0.0.1")})
		if len(change.Delete) != 1 || len(change.Add) != 1 || change.Add[0].TTL != 60 {
			t.Errorf("change %+v", change)
		}
	})
	t.Run("Service gone: every owned set deleted, nothing of others touched", func(t *testing.T) {
		change, conflicts := Diff(owner, []dnsprovider.Owned{
			own(a(global, 180, "10.0.0.1"), owner),
			own(cname(zoneA, regUS), owner),
			own(a("other."+global, 180, "10.9.9.9"), other),
		}, nil)
		if len(change.Add) != 0 || len(change.Delete) != 2 || len(conflicts) != 0 {
			t.Errorf("change %+v, conflicts %+v", change, conflicts)
		}
	})
	t.Run("a name someone else holds is reported, never written", func(t *testing.T) {
		foreign := own(a(global, 300, "192.0.2.9"), dnsprovider.Owner{})
		change, conflicts := Diff(owner, []dnsprovider.Owned{foreign}, []dnsprovider.RecordSet{a(global, 180, "10.0.0.1"), a(regUS, 180, "10.0.0.1")})
		if len(change.Delete) != 0 || render(change.Add) != render([]dnsprovider.RecordSet{a(regUS, 180, "10.0.0.1")}) {
			t.Errorf("change %+v", change)
		}
		if len(conflicts) != 1 || conflicts[0].Name != global || conflicts[0].Theirs.Data[0] != "192.0.2.9" {
			t.Errorf("conflicts %+v", conflicts)
		}
	})
}
