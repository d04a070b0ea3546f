package dnstest

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-cmp/cmp"

	"github.com/kfederation/federation/pkg/dnsprovider"
	"github.com/kfederation/federation/test/fakeclouddns"
)

// HookedZone is the provider's zone with a hook run just before the next
// Apply: a fault injected there hits the change, not the reads before it.
// With LoseAnswer, the next Apply goes through but returns an error, as
// when the answer is lost on the way back.
type HookedZone struct {
	dnsprovider.Zone
	BeforeApply func()
	LoseAnswer  bool
}

// Apply runs and clears BeforeApply, applies change, and clears and
// honours LoseAnswer.
func (z *HookedZone) Apply(ctx context.Context, change dnsprovider.Change) error {
	if hook := z.BeforeApply; hook != nil {
		z.BeforeApply = nil
		hook()
	}
	err := z.Zone.Apply(ctx, change)
	if err == nil && z.LoseAnswer {
		z.LoseAnswer = false
		return context.DeadlineExceeded
	}
	return err
}

// Requests returns the provider's requests to the fake since the last
// call, by method (fakeclouddns.MethodChangesCreate ...).
func (e *Env) Requests() map[string]int {
	r := e.DNS.Requests()
	e.DNS.ResetRequests()
	return r
}

// ownerPrefix begins the name of every ownership TXT record.
const ownerPrefix = "_kfed-owner-"

// Records returns every record set of the zone but its SOA and NS, one a
// line (see Rec), sorted, with the owner read from the set's ownership TXT
// record: the object for the federation's sets, "foreign" for a set with
// no ownership record.
func (e *Env) Records() []string {
	e.T.Helper()
	sets, err := e.DNS.RecordSets(Project, ManagedZone)
	if err != nil {
		e.T.Fatal(err)
	}
	owners := map[string]string{} // ownership record name -> owner
	for _, rs := range sets {
		if rs.Type == "TXT" && strings.HasPrefix(rs.Name, ownerPrefix) {
			owners[rs.Name] = ownerOfTXT(rs.Rrdatas)
		}
	}
	var out []string
	for _, rs := range sets {
		if rs.Type == "SOA" || rs.Type == "NS" || strings.HasPrefix(rs.Name, ownerPrefix) {
			continue
		}
		owner, ok := owners[ownerPrefix+strings.ToLower(rs.Type)+"."+rs.Name]
		if !ok {
			owner = "foreign"
		}
		out = append(out, Rec(rs.Name, dnsprovider.RecordType(rs.Type), rs.TTL, owner, rs.Rrdatas...))
	}
	slices.Sort(out)
	return out
}

// ownerOfTXT reads an ownership record
// ("heritage=kfederation,federation=myfederation,object=service/ns/name"):
// the object in federation FederationName, federation/object in another.
func ownerOfTXT(rrdatas []string) string {
	fields := map[string]string{}
	for _, kv := range strings.Split(strings.Trim(strings.Join(rrdatas, ""), `"`), ",") {
		k, v, _ := strings.Cut(kv, "=")
		fields[k] = v
	}
	if fields["federation"] != FederationName {
		return fields["federation"] + "/" + fields["object"]
	}
	return fields["object"]
}

// WantRecords compares the zone's records with want (in any order), and
// reports a difference as an error of the test about what.
func (e *Env) WantRecords(what string, want ...string) {
	e.T.Helper()
	want = slices.Clone(want)
	slices.Sort(want)
	if diff := cmp.Diff(want, e.Records()); diff != "" {
		e.T.Errorf("%s: records (-want +got):\n%s", what, diff)
	}
}

// Rec is one record set as Records renders it: name, type, TTL, data and
// owner.
func Rec(name string, typ dnsprovider.RecordType, ttl int64, owner string, data ...string) string {
	return fmt.Sprintf("%s %s %d %s %s", name, typ, ttl, strings.Join(data, ","), owner)
}

// PutForeign writes a record set into the zone as someone outside the
// federation would, with no ownership record.
func (e *Env) PutForeign(name string, typ dnsprovider.RecordType, ttl int64, data ...string) {
	e.T.Helper()
	if err := e.DNS.PutRecordSet(Project, ManagedZone, fakeclouddns.RecordSet{Name: name, Type: string(typ), TTL: ttl, Rrdatas: data}); err != nil {
		e.T.Fatalf("write a foreign record set: %v", err)
	}
}
