package clouddns

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/api/dns/v1"
	"k8s.io/klog/v2"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

// zone is one managed zone.
type zone struct {
	svc         *dns.Service
	project     string
	managedZone string // the managed zone's name in Cloud DNS
	dnsName     string // fully qualified, lower case
}

var _ dnsprovider.Zone = (*zone)(nil)

// Name is the zone's DNS name, fully qualified.
func (z *zone) Name() string { return z.dnsName }

func (z *zone) String() string {
	return fmt.Sprintf("managed zone %s (%s) of project %q", z.managedZone, z.dnsName, z.project)
}

// Get returns the record sets at name, with their owners read from their
// ownership records: one list of the name, and one of the ownership record
// of each A, AAAA or CNAME set found there.
func (z *zone) Get(ctx context.Context, name string) ([]dnsprovider.Owned, error) {
	name, err := z.recordName(name)
	if err != nil {
		return nil, err
	}
	sets, err := z.list(ctx, name, "")
	if err != nil {
		return nil, err
	}
	out := make([]dnsprovider.Owned, 0, len(sets))
	for _, rs := range sets {
		if _, _, isOwner := splitOwnerName(rs.Name); isOwner && rs.Type == "TXT" {
			continue
		}
		o := dnsprovider.Owned{RecordSet: fromAPI(rs)}
		// A name too long for an ownership record beside it cannot be
		// owned.
		if ownable(o.Type) && len(ownerName(name, o.Type)) <= 254 {
			owners, err := z.list(ctx, ownerName(name, o.Type), "TXT")
			if err != nil {
				return nil, err
			}
			if len(owners) == 1 {
				o.Owner, _ = parseOwner(owners[0].Rrdatas)
			}
		}
		out = append(out, o)
	}
	slices.SortFunc(out, compareOwned)
	return out, nil
}

// List returns every record set of the zone that federation owns: it reads
// the whole zone once and keeps the sets whose ownership record names
// federation. An ownership record whose set is gone is not a set, and is
// skipped.
func (z *zone) List(ctx context.Context, federation string) ([]dnsprovider.Owned, error) {
	if federation == "" {
		return nil, fmt.Errorf("list the record sets of %s: no federation given", z)
	}
	sets, err := z.list(ctx, "", "")
	if err != nil {
		return nil, err
	}
	type key struct{ name, typ string }
	byKey := make(map[key]*dns.ResourceRecordSet, len(sets))
	for _, rs := range sets {
		byKey[key{strings.ToLower(rs.Name), rs.Type}] = rs
	}
	var out []dnsprovider.Owned
	for _, rs := range sets {
		if rs.Type != "TXT" {
			continue
		}
		name, t, ok := splitOwnerName(strings.ToLower(rs.Name))
		if !ok {
			continue
		}
		owner, ok := parseOwner(rs.Rrdatas)
		if !ok || owner.Federation != federation {
			continue
		}
		if set, ok := byKey[key{name, string(t)}]; ok {
			out = append(out, dnsprovider.Owned{RecordSet: fromAPI(set), Owner: owner})
		}
	}
	slices.SortFunc(out, compareOwned)
	return out, nil
}

// Apply sends the change as one Changes.Create, which Cloud DNS applies
// whole or not at all, without reading the zone first. With each record
// set deleted goes its ownership record with change.Owner in it, so Cloud
// DNS refuses the deletion (412) unless that owner owns the set; with each
// set added goes its ownership record, which Cloud DNS refuses (409) when
// a record is already there. A set replaced (deleted and added) has its
// ownership record deleted and added back, which checks the owner too.
func (z *zone) Apply(ctx context.Context, change dnsprovider.Change) error {
	if change.IsEmpty() {
		return nil
	}
	what := fmt.Sprintf("apply the DNS change of %q (%d deletions, %d additions) to %s", change.Owner.Object, len(change.Delete), len(change.Add), z)
	txt, err := ownerData(change.Owner)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	deletions, err := z.withOwners(change.Delete, txt)
	if err != nil {
		return fmt.Errorf("%s: delete: %w", what, err)
	}
	additions, err := z.withOwners(change.Add, txt)
	if err != nil {
		return fmt.Errorf("%s: add: %w", what, err)
	}
	done, err := z.svc.Changes.Create(z.project, z.managedZone, &dns.Change{Deletions: deletions, Additions: additions}).Context(ctx).Do()
	switch {
	case err == nil:
		klog.FromContext(ctx).V(4).Info("Applied Cloud DNS change", "managedZone", z.managedZone, "object", change.Owner.Object,
			"deletions", len(change.Delete), "additions", len(change.Add), "change", done.Id, "status", done.Status)
		return nil
	case isConflict(err):
		return fmt.Errorf("%s: %w: %w", what, dnsprovider.ErrConflict, err)
	case IsRetriable(err):
		return fmt.Errorf("%s: Cloud DNS cannot take it now, retry later: %w", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// withOwners converts record sets for the API, each followed by its
// ownership record.
func (z *zone) withOwners(sets []dnsprovider.RecordSet, txt string) ([]*dns.ResourceRecordSet, error) {
	out := make([]*dns.ResourceRecordSet, 0, 2*len(sets))
	seen := map[string]bool{}
	for _, rs := range sets {
		set, err := z.toAPI(rs)
		if err != nil {
			return nil, err
		}
		if seen[set.Name+" "+set.Type] {
			return nil, fmt.Errorf("the %s record set at %s is listed twice", set.Type, set.Name)
		}
		seen[set.Name+" "+set.Type] = true
		owner := ownerName(set.Name, rs.Type)
		if len(owner) > 254 {
			return nil, fmt.Errorf("%s: the name is too long to have an ownership record at %s (253 characters at most)", set.Name, owner)
		}
		out = append(out, set, &dns.ResourceRecordSet{Name: owner, Type: "TXT", Ttl: ownerTTL, Rrdatas: []string{txt}})
	}
	return out, nil
}

// toAPI converts a record set the federation writes, checking what Cloud
// DNS would refuse anyway, so that the error says which set is wrong.
func (z *zone) toAPI(rs dnsprovider.RecordSet) (*dns.ResourceRecordSet, error) {
	name, err := z.recordName(rs.Name)
	if err != nil {
		return nil, err
	}
	if !ownable(rs.Type) {
		return nil, fmt.Errorf("%s: type %q; the federation writes only A, AAAA and CNAME record sets", name, rs.Type)
	}
	if rs.TTL < 0 {
		return nil, fmt.Errorf("%s %s: TTL %d is negative", name, rs.Type, rs.TTL)
	}
	data, err := canonicalData(rs.Type, rs.Data)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", name, rs.Type, err)
	}
	// A TTL of 0 is sent, not left out as the client leaves out zero
	// values: a deletion must match the TTL exactly.
	return &dns.ResourceRecordSet{Name: name, Type: string(rs.Type), Ttl: rs.TTL, Rrdatas: data, ForceSendFields: []string{"Ttl"}}, nil
}

// recordName is name fully qualified and in lower case, if it is in the
// zone.
func (z *zone) recordName(name string) (string, error) {
	n, err := fqdn(name)
	if err != nil {
		return "", fmt.Errorf("record name %q: %w", name, err)
	}
	if n != z.dnsName && !strings.HasSuffix(n, "."+z.dnsName) {
		return "", fmt.Errorf("record name %q is not in the zone %s", name, z.dnsName)
	}
	return n, nil
}

// list reads the record sets of the zone, those at name and of type typ
// when given, following every page.
func (z *zone) list(ctx context.Context, name, typ string) ([]*dns.ResourceRecordSet, error) {
	call := z.svc.ResourceRecordSets.List(z.project, z.managedZone)
	what := "every record set"
	if name != "" {
		call = call.Name(name)
		what = "the record sets at " + name
	}
	if typ != "" {
		call = call.Type(typ)
		what = "the " + typ + " record set at " + name
	}
	var out []*dns.ResourceRecordSet
	err := call.Pages(ctx, func(page *dns.ResourceRecordSetsListResponse) error {
		out = append(out, page.Rrsets...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s of %s: %w", what, z, err)
	}
	return out, nil
}

// fromAPI converts a record set read from Cloud DNS.
func fromAPI(rs *dns.ResourceRecordSet) dnsprovider.RecordSet {
	t := dnsprovider.RecordType(rs.Type)
	data, err := canonicalData(t, rs.Rrdatas)
	if err != nil {
		// Someone else's data the provider would not write: shown as
		// Cloud DNS has it.
		data = slices.Clone(rs.Rrdatas)
	}
	return dnsprovider.RecordSet{Name: strings.ToLower(rs.Name), Type: t, TTL: rs.Ttl, Data: data}
}

func compareOwned(a, b dnsprovider.Owned) int {
	return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(string(a.Type), string(b.Type)))
}
