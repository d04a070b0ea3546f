package clouddns_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/dns/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	"k8s.io/klog/v2/ktesting"

	"github.com/kfederation/federation/pkg/dnsprovider"
	"github.com/kfederation/federation/pkg/dnsprovider/clouddns"
	"github.com/kfederation/federation/pkg/dnsprovider/conformance"
	"github.com/kfederation/federation/test/fakeclouddns"
)

const (
	project = "test-project"
	// zoneName is the managed zone the provider creates for example.com.
	zoneName = "kfed-example-com"
)

// testContext is a context whose logger writes to the test's log.
func testContext(t *testing.T) context.Context {
	_, ctx := ktesting.NewTestContext(t)
	return ctx
}

// env is a fake Cloud DNS with the provider and a plain client on it.
type env struct {
	fake     *fakeclouddns.Server
	svc      *dns.Service
	provider *clouddns.Provider
}

// newEnv starts a fake and makes the provider from a configuration file
// that names it, as the controller manager does: with no credentials, which
// a loopback endpoint allows.
func newEnv(t *testing.T) *env {
	t.Helper()
	fake := fakeclouddns.New()
	fake.Start()
	t.Cleanup(fake.Close)
	cfg := fmt.Sprintf("project: %s\nendpoint: %s\n", project, strings.TrimSuffix(fake.URL(), "/"))
	p, err := clouddns.NewFromConfig(context.Background(), strings.NewReader(cfg))
	if err != nil {
		t.Fatalf("NewFromConfig: %v", err)
	}
	svc, err := dns.NewService(context.Background(), option.WithEndpoint(fake.URL()), option.WithoutAuthentication())
	if err != nil {
		t.Fatalf("create a dns/v1 client: %v", err)
	}
	return &env{fake: fake, svc: svc, provider: p}
}

// zone returns the provider's zone for example.com., creating it.
func (e *env) zone(t *testing.T) dnsprovider.Zone {
	t.Helper()
	z, err := e.provider.Zone(testContext(t), "example.com.", "")
	if err != nil {
		t.Fatalf("Zone(example.com.): %v", err)
	}
	return z
}

// writeForeign writes a record set into the fake as someone else would.
func (e *env) writeForeign(t *testing.T, managedZone string, rs dnsprovider.RecordSet) {
	t.Helper()
	err := e.fake.PutRecordSet(project, managedZone, fakeclouddns.RecordSet{Name: rs.Name, Type: string(rs.Type), TTL: rs.TTL, Rrdatas: rs.Data})
	if err != nil {
		t.Fatalf("write a foreign record set: %v", err)
	}
}

func (e *env) sets(t *testing.T, managedZone string) []fakeclouddns.RecordSet {
	t.Helper()
	sets, err := e.fake.RecordSets(project, managedZone)
	if err != nil {
		t.Fatal(err)
	}
	return sets
}

func TestConformance(t *testing.T) {
	e := newEnv(t)
	zone := e.zone(t)
	// Small pages, so that every list the provider makes follows pages.
	e.fake.SetPageSize(3)
	conformance.Run(t,
		func(*testing.T) dnsprovider.Zone { return zone },
		func(t *testing.T, rs dnsprovider.RecordSet) { e.writeForeign(t, zoneName, rs) })
}

var web = dnsprovider.Owner{Federation: "myfederation", Object: "service/mynamespace/nginx"}

func set(name string, t dnsprovider.RecordType, ttl int64, data ...string) dnsprovider.RecordSet {
	return dnsprovider.RecordSet{Name: name, Type: t, TTL: ttl, Data: data}
}

func TestZoneCreatedWhenMissing(t *testing.T) {
	e := newEnv(t)
	ctx := testContext(t)
	z, err := e.provider.Zone(ctx, "Example.COM", "")
	if err != nil {
		t.Fatalf("Zone: %v", err)
	}
	if z.Name() != "example.com." {
		t.Errorf("Name() = %q, want example.com.", z.Name())
	}
	if diff := cmp.Diff(map[string]int{fakeclouddns.MethodManagedZonesList: 1, fakeclouddns.MethodManagedZonesCreate: 1}, e.fake.Requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	got, err := e.svc.ManagedZones.Get(project, zoneName).Context(ctx).Do()
	if err != nil {
		t.Fatalf("the created zone: %v", err)
	}
	if got.DnsName != "example.com." || got.Description == "" {
		t.Errorf("created zone = %+v", got)
	}

	// Found, not created, the second time; both are the same zone.
	again, err := e.provider.Zone(ctx, "example.com.", "")
	if err != nil {
		t.Fatalf("Zone again: %v", err)
	}
	if n := e.fake.Requests()[fakeclouddns.MethodManagedZonesCreate]; n != 1 {
		t.Errorf("%d zone creations, want 1", n)
	}
	a := set("web.example.com.", dnsprovider.A, 180, "192.0.2.1")
	if err := again.Apply(ctx, dnsprovider.Change{Owner: web, Add: []dnsprovider.RecordSet{a}}); err != nil {
		t.Fatal(err)
	}
	owned, err := z.Get(ctx, a.Name)
	if err != nil || len(owned) != 1 || owned[0].Owner != web {
		t.Errorf("Get through the first zone = %+v, %v; want the set written through the second", owned, err)
	}
}

// TestZoneNameTaken: the derived name belongs to a zone for another DNS
// name, so the zone is created under the name with a hash.
func TestZoneNameTaken(t *testing.T) {
	e := newEnv(t)
	ctx := testContext(t)
	if _, err := e.svc.ManagedZones.Create(project, &dns.ManagedZone{Name: zoneName, DnsName: "example.org."}).Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.provider.Zone(ctx, "example.com.", ""); err != nil {
		t.Fatalf("Zone: %v", err)
	}
	zones, err := e.svc.ManagedZones.List(project).DnsName("example.com.").Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(zones.ManagedZones) != 1 || !regexp.MustCompile(`^kfed-example-com-[0-9a-f]{8}$`).MatchString(zones.ManagedZones[0].Name) {
		t.Errorf("zones for example.com. = %+v, want one named kfed-example-com-<hash>", zones.ManagedZones)
	}
}

func TestZoneChoice(t *testing.T) {
	e := newEnv(t)
	ctx := testContext(t)
	var ids []string
	for _, name := range []string{"first", "second"} {
		z, err := e.svc.ManagedZones.Create(project, &dns.ManagedZone{Name: name, DnsName: "example.com."}).Context(ctx).Do()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, fmt.Sprint(z.Id))
	}
	e.fake.ResetRequests()

	_, err := e.provider.Zone(ctx, "example.com.", "")
	if err == nil || !strings.Contains(err.Error(), "first (id "+ids[0]) || !strings.Contains(err.Error(), "second (id "+ids[1]) {
		t.Errorf("Zone with two zones and no id = %v, want an error naming both", err)
	}
	_, err = e.provider.Zone(ctx, "example.com.", "12345")
	if err == nil || !strings.Contains(err.Error(), "12345") {
		t.Errorf("Zone with an id no zone has = %v, want an error naming it", err)
	}
	if n := e.fake.Requests()[fakeclouddns.MethodManagedZonesCreate]; n != 0 {
		t.Errorf("%d zones created, want none", n)
	}

	// The id, numeric or the managed zone's name, picks the zone written.
	for _, tc := range []struct{ id, managedZone string }{{ids[1], "second"}, {"first", "first"}} {
		z, err := e.provider.Zone(ctx, "example.com.", tc.id)
		if err != nil {
			t.Fatalf("Zone(id %s): %v", tc.id, err)
		}
		a := set(tc.managedZone+".example.com.", dnsprovider.A, 60, "192.0.2.1")
		if err := z.Apply(ctx, dnsprovider.Change{Owner: web, Add: []dnsprovider.RecordSet{a}}); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, rs := range e.sets(t, tc.managedZone) {
			found = found || rs.Name == a.Name
		}
		if !found {
			t.Errorf("Zone(id %s) wrote elsewhere than managed zone %s", tc.id, tc.managedZone)
		}
	}
}

func TestZoneLookupFault(t *testing.T) {
	e := newEnv(t)
	e.fake.FailNext(1, http.StatusServiceUnavailable)
	_, err := e.provider.Zone(testContext(t), "example.com.", "")
	if err == nil || !clouddns.IsRetriable(err) {
		t.Fatalf("Zone while the API answers 503 = %v, want a retriable error", err)
	}
	if _, err := e.provider.Zone(testContext(t), "example.com.", ""); err != nil {
		t.Fatalf("Zone after the fault: %v", err)
	}
}

// TestApplyFaults: a change Cloud DNS refuses for now (503, 429) is an
// error the caller can tell is worth retrying, leaves the zone as it was,
// and goes through when sent again.
func TestApplyFaults(t *testing.T) {
	for _, code := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			e := newEnv(t)
			ctx := testContext(t)
			z := e.zone(t)
			before := set("web.example.com.", dnsprovider.A, 180, "192.0.2.1")
			if err := z.Apply(ctx, dnsprovider.Change{Owner: web, Add: []dnsprovider.RecordSet{before}}); err != nil {
				t.Fatal(err)
			}
			zoneBefore := e.sets(t, zoneName)

			after := set("web.example.com.", dnsprovider.A, 180, "192.0.2.1", "192.0.2.2")
			change := dnsprovider.Change{Owner: web, Delete: []dnsprovider.RecordSet{before}, Add: []dnsprovider.RecordSet{after}}
			e.fake.FailNext(1, code)
			err := z.Apply(ctx, change)
			var gerr *googleapi.Error
			if !errors.As(err, &gerr) || gerr.Code != code {
				t.Fatalf("Apply = %v, want the API's %d", err, code)
			}
			if !clouddns.IsRetriable(err) || errors.Is(err, dnsprovider.ErrConflict) {
				t.Errorf("Apply = %v: retriable %v, conflict %v; want retriable and no conflict", err, clouddns.IsRetriable(err), errors.Is(err, dnsprovider.ErrConflict))
			}
			if diff := cmp.Diff(zoneBefore, e.sets(t, zoneName)); diff != "" {
				t.Errorf("a refused change changed the zone (-before +after):\n%s", diff)
			}

			if err := z.Apply(ctx, change); err != nil {
				t.Fatalf("Apply after the fault: %v", err)
			}
			got, err := z.Get(ctx, after.Name)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]dnsprovider.Owned{{RecordSet: after, Owner: web}}, got); diff != "" {
				t.Errorf("Get after the retry (-want +got):\n%s", diff)
			}
		})
	}
}

// TestApplyIsOneRequest: Apply reads nothing; it sends exactly one
// changes.create, whether the change goes through or conflicts, and
// nothing at all for an empty change.
func TestApplyIsOneRequest(t *testing.T) {
	e := newEnv(t)
	ctx := testContext(t)
	z := e.zone(t)
	global := set("nginx.mynamespace.myfederation.svc.example.com.", dnsprovider.A, 180, "192.0.2.1")
	region := set("nginx.mynamespace.myfederation.svc.us-central1.example.com.", dnsprovider.A, 180, "192.0.2.1")
	if err := z.Apply(ctx, dnsprovider.Change{Owner: web, Add: []dnsprovider.RecordSet{global, region}}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name     string
		change   dnsprovider.Change
		conflict bool
		requests map[string]int
	}{{
		name: "a change over several names",
		change: dnsprovider.Change{Owner: web,
			Delete: []dnsprovider.RecordSet{global, region},
			Add: []dnsprovider.RecordSet{
				set(global.Name, dnsprovider.A, 180, "192.0.2.1", "198.51.100.1"),
				set(region.Name, dnsprovider.CNAME, 180, global.Name),
				set("nginx.mynamespace.myfederation.svc.us-central1-a.us-central1.example.com.", dnsprovider.CNAME, 180, region.Name),
			}},
		requests: map[string]int{fakeclouddns.MethodChangesCreate: 1},
	}, {
		name:     "a conflicting change",
		change:   dnsprovider.Change{Owner: web, Delete: []dnsprovider.RecordSet{global}},
		conflict: true,
		requests: map[string]int{fakeclouddns.MethodChangesCreate: 1},
	}, {
		name:     "an empty change",
		change:   dnsprovider.Change{Owner: web},
		requests: map[string]int{},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			e.fake.ResetRequests()
			err := z.Apply(ctx, tc.change)
			if errors.Is(err, dnsprovider.ErrConflict) != tc.conflict || (err != nil && !tc.conflict) {
				t.Errorf("Apply = %v, want conflict %v", err, tc.conflict)
			}
			if diff := cmp.Diff(tc.requests, e.fake.Requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOwnershipRecords: each set the federation writes has its ownership
// TXT record, which goes with it, and which Get and List never return as a
// set.
func TestOwnershipRecords(t *testing.T) {
	e := newEnv(t)
	ctx := testContext(t)
	z := e.zone(t)
	name := "nginx.mynamespace.myfederation.svc.example.com."
	a := set(name, dnsprovider.A, 180, "192.0.2.1")
	v6 := set(name, dnsprovider.AAAA, 180, "2001:db8::1")
	const data = `"heritage=kfederation,federation=myfederation,object=service/mynamespace/nginx"`
	ownerRecords := func() []fakeclouddns.RecordSet {
		var out []fakeclouddns.RecordSet
		for _, rs := range e.sets(t, zoneName) {
			if rs.Type == "TXT" {
				out = append(out, rs)
			}
		}
		return out
	}
	txt := func(typ string) fakeclouddns.RecordSet {
		return fakeclouddns.RecordSet{Name: "_kfed-owner-" + typ + "." + name, Type: "TXT", TTL: 300, Rrdatas: []string{data}}
	}

	if err := z.Apply(ctx, dnsprovider.Change{Owner: web, Add: []dnsprovider.RecordSet{a, v6}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]fakeclouddns.RecordSet{txt("a"), txt("aaaa")}, ownerRecords()); diff != "" {
		t.Errorf("ownership records (-want +got):\n%s", diff)
	}
	got, err := z.Get(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]dnsprovider.Owned{{RecordSet: a, Owner: web}, {RecordSet: v6, Owner: web}}, got); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
	listed, err := z.List(ctx, web.Federation)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, listed); diff != "" {
		t.Errorf("List (-Get +List):\n%s", diff)
	}

	cname := set(name, dnsprovider.CNAME, 60, "nginx.example.org.")
	if err := z.Apply(ctx, dnsprovider.Change{Owner: web, Delete: []dnsprovider.RecordSet{a, v6}, Add: []dnsprovider.RecordSet{cname}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]fakeclouddns.RecordSet{txt("cname")}, ownerRecords()); diff != "" {
		t.Errorf("ownership records after A and AAAA became a CNAME (-want +got):\n%s", diff)
	}
	if err := z.Apply(ctx, dnsprovider.Change{Owner: web, Delete: []dnsprovider.RecordSet{cname}}); err != nil {
		t.Fatal(err)
	}
	if got := e.sets(t, zoneName); len(got) != 2 {
		t.Errorf("after the last set went the zone has %+v, want only its SOA and NS", got)
	}
}

// TestForeignNeighbours: records someone else wrote at a name are shown
// with no owner and never changed, and a CNAME cannot be added beside them.
func TestForeignNeighbours(t *testing.T) {
	e := newEnv(t)
	ctx := testContext(t)
	z := e.zone(t)
	name := "mail.example.com."
	mx := set(name, "MX", 300, "10 mx.example.org.")
	spf := set(name, "TXT", 300, `"v=spf1 -all"`)
	e.writeForeign(t, zoneName, mx)
	e.writeForeign(t, zoneName, spf)

	got, err := z.Get(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]dnsprovider.Owned{{RecordSet: mx}, {RecordSet: spf}}, got); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
	err = z.Apply(ctx, dnsprovider.Change{Owner: web, Add: []dnsprovider.RecordSet{set(name, dnsprovider.CNAME, 60, "x.example.org.")}})
	if !errors.Is(err, dnsprovider.ErrConflict) {
		t.Errorf("a CNAME beside foreign records = %v, want ErrConflict", err)
	}
	// An A beside them is fine: nothing of its type is there.
	a := set(name, dnsprovider.A, 60, "192.0.2.1")
	if err := z.Apply(ctx, dnsprovider.Change{Owner: web, Add: []dnsprovider.RecordSet{a}}); err != nil {
		t.Fatalf("an A beside foreign records: %v", err)
	}
	got, err = z.Get(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]dnsprovider.Owned{{RecordSet: a, Owner: web}, {RecordSet: mx}, {RecordSet: spf}}, got); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
}

// TestOrphanOwnershipRecord: an ownership record whose set someone deleted
// is no set: List and Get do not return it, and adding the set again is a
// conflict that names the record in the way.
func TestOrphanOwnershipRecord(t *testing.T) {
	e := newEnv(t)
	ctx := testContext(t)
	z := e.zone(t)
	name := "web.example.com."
	e.writeForeign(t, zoneName, set("_kfed-owner-a."+name, "TXT", 300, `"heritage=kfederation,federation=myfederation,object=service/mynamespace/nginx"`))
	if got, err := z.List(ctx, web.Federation); err != nil || len(got) != 0 {
		t.Errorf("List = %+v, %v; want nothing", got, err)
	}
	if got, err := z.Get(ctx, name); err != nil || len(got) != 0 {
		t.Errorf("Get = %+v, %v; want nothing", got, err)
	}
	err := z.Apply(ctx, dnsprovider.Change{Owner: web, Add: []dnsprovider.RecordSet{set(name, dnsprovider.A, 60, "192.0.2.1")}})
	if !errors.Is(err, dnsprovider.ErrConflict) || !strings.Contains(err.Error(), "_kfed-owner-a."+name) {
		t.Errorf("Apply = %v, want ErrConflict naming the ownership record", err)
	}
}

// TestApplyRefusesBadChanges: a change the provider cannot write is an
// error that says what is wrong, is not a conflict, and sends nothing.
func TestApplyRefusesBadChanges(t *testing.T) {
	e := newEnv(t)
	z := e.zone(t)
	ok := set("web.example.com.", dnsprovider.A, 60, "192.0.2.1")
	for _, tc := range []struct {
		name   string
		change dnsprovider.Change
		want   string
	}{
		{"no owner", dnsprovider.Change{Add: []dnsprovider.RecordSet{ok}}, "no federation"},
		{"an owner with a comma", dnsprovider.Change{Owner: dnsprovider.Owner{Federation: "a,b", Object: "service/ns/x"}, Add: []dnsprovider.RecordSet{ok}}, "comma"},
		{"a name outside the zone", dnsprovider.Change{Owner: web, Add: []dnsprovider.RecordSet{set("web.example.org.", dnsprovider.A, 60, "192.0.2.1")}}, "not in the zone"},
		{"a type the federation does not write", dnsprovider.Change{Owner: web, Add: []dnsprovider.RecordSet{set("web.example.com.", "TXT", 60, `"x"`)}}, "only A, AAAA and CNAME"},
		{"an A that is no address", dnsprovider.Change{Owner: web, Add: []dnsprovider.RecordSet{set("web.example.com.", dnsprovider.A, 60, "lb.example.org")}}, "not an IPv4 address"},
		{"an AAAA with an IPv4 address", dnsprovider.Change{Owner: web, Add: []dnsprovider.RecordSet{set("web.example.com.", dnsprovider.AAAA, 60, "192.0.2.1")}}, "not an IPv6 address"},
		{"a CNAME not fully qualified", dnsprovider.Change{Owner: web, Add: []dnsprovider.RecordSet{set("web.example.com.", dnsprovider.CNAME, 60, "lb.example.org")}}, "end it with a dot"},
		{"a set with no data", dnsprovider.Change{Owner: web, Add: []dnsprovider.RecordSet{set("web.example.com.", dnsprovider.A, 60)}}, "no data"},
		{"a negative TTL", dnsprovider.Change{Owner: web, Add: []dnsprovider.RecordSet{set("web.example.com.", dnsprovider.A, -1, "192.0.2.1")}}, "negative"},
		{"a set twice", dnsprovider.Change{Owner: web, Delete: []dnsprovider.RecordSet{ok, ok}}, "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.fake.ResetRequests()
			err := z.Apply(testContext(t), tc.change)
			if err == nil || errors.Is(err, dnsprovider.ErrConflict) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Apply = %v, want an error saying %q and no conflict", err, tc.want)
			}
			if got := e.fake.Requests(); len(got) != 0 {
				t.Errorf("requests %v, want none", got)
			}
		})
	}
}

// TestApplyTTLZero: a TTL of 0 is written and matched, not left out as the
// client leaves out zero values.
func TestApplyTTLZero(t *testing.T) {
	e := newEnv(t)
	ctx := testContext(t)
	z := e.zone(t)
	a := set("web.example.com.", dnsprovider.A, 0, "192.0.2.1")
	if err := z.Apply(ctx, dnsprovider.Change{Owner: web, Add: []dnsprovider.RecordSet{a}}); err != nil {
		t.Fatal(err)
	}
	if err := z.Apply(ctx, dnsprovider.Change{Owner: web, Delete: []dnsprovider.RecordSet{a}}); err != nil {
		t.Fatalf("delete the set of TTL 0: %v", err)
	}
}
