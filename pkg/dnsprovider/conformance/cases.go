package conformance

import (
	"github.com/kfederation/federation/pkg/dnsprovider"
)

// cases are the suite's subtests. Each name is a DNS label: the case's
// names are below it.
var cases = []struct {
	name string
	run  func(f *fixture)
}{
	{"add-a", addA},
	{"several-a", severalA},
	{"aaaa", aaaa},
	{"replace-a-by-cname", replaceAByCNAME},
	{"replace-a-data", replaceAData},
	{"delete", deleteSets},
	{"stale-delete", staleDelete},
	{"add-existing", addExisting},
	{"atomic", atomic},
	{"list", list},
	{"foreign", foreign},
	{"empty-change", emptyChange},
}

// addA: an A set added is there, with its TTL and owner.
func addA(f *fixture) {
	o := f.owner("fed", "service/ns/web")
	rs := set(f.name("web"), dnsprovider.A, 180, "192.0.2.1")
	f.expectGet(rs.Name)
	f.mustApply(dnsprovider.Change{Owner: o, Add: []dnsprovider.RecordSet{rs}})
	f.expectGet(rs.Name, own(rs, o))
}

// severalA: a set of several addresses, given in any order, comes back as
// one set with its data sorted.
func severalA(f *fixture) {
	o := f.owner("fed", "service/ns/web")
	name := f.name("web")
	f.mustApply(dnsprovider.Change{Owner: o, Add: []dnsprovider.RecordSet{
		set(name, dnsprovider.A, 180, "192.0.2.3", "192.0.2.1", "192.0.2.2"),
	}})
	f.expectGet(name, own(set(name, dnsprovider.A, 180, "192.0.2.1", "192.0.2.2", "192.0.2.3"), o))
}

// aaaa: an AAAA set, and an A set beside it at the same name.
func aaaa(f *fixture) {
	o := f.owner("fed", "service/ns/web")
	name := f.name("web")
	v6 := set(name, dnsprovider.AAAA, 60, "2001:db8::2", "2001:db8::1")
	f.mustApply(dnsprovider.Change{Owner: o, Add: []dnsprovider.RecordSet{v6}})
	f.expectGet(name, own(set(name, dnsprovider.AAAA, 60, "2001:db8::1", "2001:db8::2"), o))
	v4 := set(name, dnsprovider.A, 60, "192.0.2.1")
	f.mustApply(dnsprovider.Change{Owner: o, Add: []dnsprovider.RecordSet{v4}})
	f.expectGet(name, own(set(name, dnsprovider.AAAA, 60, "2001:db8::1", "2001:db8::2"), o), own(v4, o))
}

// replaceAByCNAME: one change deletes an A set and adds a CNAME at its
// name, as a zone record does when its last healthy shard goes.
func replaceAByCNAME(f *fixture) {
	o := f.owner("fed", "service/ns/web")
	name := f.name("web")
	a := set(name, dnsprovider.A, 180, "192.0.2.1", "192.0.2.2")
	f.mustApply(dnsprovider.Change{Owner: o, Add: []dnsprovider.RecordSet{a}})
	cname := set(name, dnsprovider.CNAME, 180, f.name("region"))
	f.mustApply(dnsprovider.Change{Owner: o, Delete: []dnsprovider.RecordSet{a}, Add: []dnsprovider.RecordSet{cname}})
	f.expectGet(name, own(cname, o))
}

// replaceAData: one change replaces an A set by one with an address more,
// one kept, and another TTL.
func replaceAData(f *fixture) {
	o := f.owner("fed", "service/ns/web")
	name := f.name("web")
	before := set(name, dnsprovider.A, 180, "192.0.2.1")
	f.mustApply(dnsprovider.Change{Owner: o, Add: []dnsprovider.RecordSet{before}})
	after := set(name, dnsprovider.A, 60, "192.0.2.1", "192.0.2.2")
	f.mustApply(dnsprovider.Change{Owner: o, Delete: []dnsprovider.RecordSet{before}, Add: []dnsprovider.RecordSet{after}})
	f.expectGet(name, own(after, o))
}

// deleteSets: a set deleted is gone, and the other set at its name stays.
func deleteSets(f *fixture) {
	o := f.owner("fed", "service/ns/web")
	name := f.name("web")
	a := set(name, dnsprovider.A, 180, "192.0.2.1", "192.0.2.2")
	v6 := set(name, dnsprovider.AAAA, 180, "2001:db8::1")
	f.mustApply(dnsprovider.Change{Owner: o, Add: []dnsprovider.RecordSet{a, v6}})
	f.mustApply(dnsprovider.Change{Owner: o, Delete: []dnsprovider.RecordSet{a}})
	f.expectGet(name, own(v6, o))
	f.mustApply(dnsprovider.Change{Owner: o, Delete: []dnsprovider.RecordSet{v6}})
	f.expectGet(name)
	f.expectList(o.Federation)
}

// staleDelete: deleting a set that is not there exactly so (other data,
// TTL, type or owner) is a conflict and changes nothing.
func staleDelete(f *fixture) {
	o := f.owner("fed", "service/ns/web")
	name := f.name("web")
	a := set(name, dnsprovider.A, 180, "192.0.2.1", "192.0.2.2")
	f.mustApply(dnsprovider.Change{Owner: o, Add: []dnsprovider.RecordSet{a}})
	for _, c := range []dnsprovider.Change{
		{Owner: o, Delete: []dnsprovider.RecordSet{set(name, dnsprovider.A, 180, "192.0.2.1", "192.0.2.3")}},
		{Owner: o, Delete: []dnsprovider.RecordSet{set(name, dnsprovider.A, 180, "192.0.2.1")}},
		{Owner: o, Delete: []dnsprovider.RecordSet{set(name, dnsprovider.A, 180, "192.0.2.1", "192.0.2.2", "192.0.2.3")}},
		{Owner: o, Delete: []dnsprovider.RecordSet{set(name, dnsprovider.A, 60, "192.0.2.1", "192.0.2.2")}},
		{Owner: o, Delete: []dnsprovider.RecordSet{set(name, dnsprovider.AAAA, 180, "2001:db8::1")}},
		{Owner: o, Delete: []dnsprovider.RecordSet{set(f.name("elsewhere"), dnsprovider.A, 180, "192.0.2.1", "192.0.2.2")}},
		{Owner: f.owner("fed", "service/ns/other"), Delete: []dnsprovider.RecordSet{a}},
		{Owner: f.owner("otherfed", "service/ns/web"), Delete: []dnsprovider.RecordSet{a}},
	} {
		f.mustConflict(c)
		f.expectGet(name, own(a, o))
	}
}

// addExisting: adding a set where one of its type is already, the same or
// another, of this owner or another, is a conflict and changes nothing.
func addExisting(f *fixture) {
	o := f.owner("fed", "service/ns/web")
	name := f.name("web")
	a := set(name, dnsprovider.A, 180, "192.0.2.1")
	f.mustApply(dnsprovider.Change{Owner: o, Add: []dnsprovider.RecordSet{a}})
	for _, c := range []dnsprovider.Change{
		{Owner: o, Add: []dnsprovider.RecordSet{a}},
		{Owner: o, Add: []dnsprovider.RecordSet{set(name, dnsprovider.A, 180, "192.0.2.2")}},
		{Owner: f.owner("otherfed", "service/ns/web"), Add: []dnsprovider.RecordSet{a}},
	} {
		f.mustConflict(c)
		f.expectGet(name, own(a, o))
	}
}

// atomic: a change with a part that conflicts changes nothing at all, not
// even its parts that would not.
func atomic(f *fixture) {
	o := f.owner("fed", "service/ns/web")
	taken, free := f.name("taken"), f.name("free")
	a := set(taken, dnsprovider.A, 180, "192.0.2.1")
	f.mustApply(dnsprovider.Change{Owner: o, Add: []dnsprovider.RecordSet{a}})
	f.mustConflict(dnsprovider.Change{Owner: o, Add: []dnsprovider.RecordSet{
		set(free, dnsprovider.A, 180, "192.0.2.9"),
		set(taken, dnsprovider.A, 180, "192.0.2.2"),
	}})
	f.expectGet(free)
	f.expectGet(taken, own(a, o))
	f.mustConflict(dnsprovider.Change{Owner: o,
		Delete: []dnsprovider.RecordSet{a, set(f.name("absent"), dnsprovider.A, 180, "192.0.2.3")},
		Add:    []dnsprovider.RecordSet{set(free, dnsprovider.A, 180, "192.0.2.9")},
	})
	f.expectGet(free)
	f.expectGet(taken, own(a, o))
}

// list: List returns the sets of every object of one federation, and
// neither another federation's nor someone else's.
func list(f *fixture) {
	web, api := f.owner("fed", "service/ns/web"), f.owner("fed", "service/ns/api")
	other := f.owner("otherfed", "service/ns/web")
	webA := set(f.name("web"), dnsprovider.A, 180, "192.0.2.1", "192.0.2.2")
	apiCNAME := set(f.name("api"), dnsprovider.CNAME, 60, f.name("web"))
	otherAAAA := set(f.name("other"), dnsprovider.AAAA, 180, "2001:db8::1")
	f.mustApply(dnsprovider.Change{Owner: web, Add: []dnsprovider.RecordSet{webA}})
	f.mustApply(dnsprovider.Change{Owner: api, Add: []dnsprovider.RecordSet{apiCNAME}})
	f.mustApply(dnsprovider.Change{Owner: other, Add: []dnsprovider.RecordSet{otherAAAA}})
	f.writeForeign(f.t, set(f.name("foreign"), dnsprovider.A, 180, "198.51.100.1"))
	f.expectList(web.Federation, own(webA, web), own(apiCNAME, api))
	f.expectList(other.Federation, own(otherAAAA, other))
	f.expectList("nobody-" + f.label)
}

// foreign: a set someone else wrote shows with a zero owner, and the
// federation can neither delete it nor add a set of its type beside it.
func foreign(f *fixture) {
	o := f.owner("fed", "service/ns/web")
	name := f.name("web")
	theirs := set(name, dnsprovider.A, 120, "198.51.100.1", "198.51.100.2")
	f.writeForeign(f.t, theirs)
	f.expectGet(name, own(theirs, dnsprovider.Owner{}))
	f.mustConflict(dnsprovider.Change{Owner: o, Delete: []dnsprovider.RecordSet{theirs}})
	f.mustConflict(dnsprovider.Change{Owner: o, Add: []dnsprovider.RecordSet{set(name, dnsprovider.A, 120, "192.0.2.1")}})
	f.expectGet(name, own(theirs, dnsprovider.Owner{}))
	f.expectList(o.Federation)
}

// emptyChange: a change with nothing in it succeeds and changes nothing.
func emptyChange(f *fixture) {
	o := f.owner("fed", "service/ns/web")
	name := f.name("web")
	a := set(name, dnsprovider.A, 180, "192.0.2.1")
	f.mustApply(dnsprovider.Change{Owner: o, Add: []dnsprovider.RecordSet{a}})
	f.mustApply(dnsprovider.Change{})
	f.mustApply(dnsprovider.Change{Owner: o, Delete: []dnsprovider.RecordSet{}, Add: []dnsprovider.RecordSet{}})
	f.expectGet(name, own(a, o))
}
