// Package conformance is the test suite every dnsprovider.Zone passes: what
// the federation's DNS controllers rely on, asserted the same way for each
// provider against its real server or the fake one under test/.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

// Run runs the suite as subtests of t.
//
// newZone returns the zone to test; the suite writes only names below
// "conformance." in it, a label of its own for each subtest, and owners of
// its own, so newZone may return the same zone every time, and a zone that
// holds other records. It needs the zone not to hold names below
// "conformance." before.
//
// writeForeign writes a record set as someone other than the federation
// would, straight into the provider's backend: with no owner the provider
// can read.
func Run(t *testing.T, newZone func(t *testing.T) dnsprovider.Zone, writeForeign func(t *testing.T, rs dnsprovider.RecordSet)) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			zone := newZone(t)
			if !strings.HasSuffix(zone.Name(), ".") {
				t.Fatalf("zone name %q is not fully qualified", zone.Name())
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c.run(&fixture{
				t:            t,
				ctx:          ctx,
				zone:         zone,
				label:        c.name,
				base:         c.name + ".conformance." + zone.Name(),
				writeForeign: writeForeign,
			})
		})
	}
}

// fixture is what one case works with.
type fixture struct {
	t            *testing.T
	ctx          context.Context
	zone         dnsprovider.Zone
	label        string
	base         string
	writeForeign func(t *testing.T, rs dnsprovider.RecordSet)
}

// name is a name of this case's own: label below the case's base.
func (f *fixture) name(label string) string { return label + "." + f.base }

// owner is an owner of this case's own: a federation called fed and the
// case's label, and the object.
func (f *fixture) owner(fed, object string) dnsprovider.Owner {
	return dnsprovider.Owner{Federation: fed + "-" + f.label, Object: object}
}

func (f *fixture) apply(c dnsprovider.Change) error { return f.zone.Apply(f.ctx, c) }

// mustApply applies c, failing the test if that fails.
func (f *fixture) mustApply(c dnsprovider.Change) {
	f.t.Helper()
	if err := f.apply(c); err != nil {
		f.t.Fatalf("Apply(%+v): %v", c, err)
	}
}

// mustConflict applies c and fails the test unless that fails with
// ErrConflict.
func (f *fixture) mustConflict(c dnsprovider.Change) {
	f.t.Helper()
	err := f.apply(c)
	if !errors.Is(err, dnsprovider.ErrConflict) {
		f.t.Fatalf("Apply(%+v) = %v, want an error wrapping ErrConflict", c, err)
	}
}

// expectGet fails the test unless Get(name) returns want: the sets in any
// order, each with its data sorted.
func (f *fixture) expectGet(name string, want ...dnsprovider.Owned) {
	f.t.Helper()
	got, err := f.zone.Get(f.ctx, name)
	if err != nil {
		f.t.Fatalf("Get(%s): %v", name, err)
	}
	expectSets(f.t, fmt.Sprintf("Get(%s)", name), got, want)
}

// expectList fails the test unless List(federation) returns want, in any
// order.
func (f *fixture) expectList(federation string, want ...dnsprovider.Owned) {
	f.t.Helper()
	got, err := f.zone.List(f.ctx, federation)
	if err != nil {
		f.t.Fatalf("List(%s): %v", federation, err)
	}
	expectSets(f.t, fmt.Sprintf("List(%s)", federation), got, want)
}

func expectSets(t *testing.T, call string, got, want []dnsprovider.Owned) {
	t.Helper()
	for _, s := range got {
		if !slices.IsSorted(s.Data) {
			t.Errorf("%s: the data of %s %s is not sorted: %q", call, s.Type, s.Name, s.Data)
		}
	}
	got, want = sortedSets(got), sortedSets(want)
	if !slices.EqualFunc(got, want, equalOwned) {
		t.Fatalf("%s:\n got %s\nwant %s", call, describe(got), describe(want))
	}
}

func sortedSets(sets []dnsprovider.Owned) []dnsprovider.Owned {
	out := slices.Clone(sets)
	for i := range out {
		out[i].Data = slices.Sorted(slices.Values(out[i].Data))
	}
	slices.SortFunc(out, func(a, b dnsprovider.Owned) int { return strings.Compare(key(a), key(b)) })
	return out
}

func key(s dnsprovider.Owned) string {
	return strings.Join([]string{s.Name, string(s.Type), s.Owner.Federation, s.Owner.Object}, "\x00")
}

func equalOwned(a, b dnsprovider.Owned) bool {
	return a.Name == b.Name && a.Type == b.Type && a.TTL == b.TTL && a.Owner == b.Owner && slices.Equal(a.Data, b.Data)
}

func describe(sets []dnsprovider.Owned) string {
	if len(sets) == 0 {
		return "nothing"
	}
	var parts []string
	for _, s := range sets {
		parts = append(parts, fmt.Sprintf("{%s %s TTL %d %q owner %+v}", s.Name, s.Type, s.TTL, s.Data, s.Owner))
	}
	return strings.Join(parts, ", ")
}

// set is a record set.
func set(name string, t dnsprovider.RecordType, ttl int64, data ...string) dnsprovider.RecordSet {
	return dnsprovider.RecordSet{Name: name, Type: t, TTL: ttl, Data: data}
}

// own is rs owned by owner.
func own(rs dnsprovider.RecordSet, owner dnsprovider.Owner) dnsprovider.Owned {
	return dnsprovider.Owned{RecordSet: rs, Owner: owner}
}
