package dnsrecords

import (
	"slices"
	"strings"
	"sync"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

// owned remembers the record sets each object owns in the zone, as its
// controller last wrote or listed them, so that an object whose records
// are already as they should be costs no request to the provider at all:
// not on a resync, and not after a restart (one List fills it). An entry
// it is not sure of (never seen, or a change failed) makes the object's
// names be read again before anything is written.
//
// Objects are keyed namespace/name; in the zone each is the owner object
// prefix + key ("service/mynamespace/nginx"). A record set whose owner
// object has another prefix is another controller's: the cache ignores it.
type owned struct {
	prefix string

	mu sync.Mutex
	// complete says a List filled the cache: an object absent from it
	// owns nothing.
	complete bool
	sets     map[string]ownedEntry
}

type ownedEntry struct {
	sets []dnsprovider.RecordSet
	// unsure says the zone may hold something else: read before acting.
	unsure bool
	// conflicts are the names someone else holds, last time we looked.
	conflicts []string
}

func newOwned(prefix string) *owned { return &owned{prefix: prefix, sets: map[string]ownedEntry{}} }

// keyOf is the object key of an owner object, false for objects of other
// controllers.
func (o *owned) keyOf(object string) (string, bool) {
	return strings.CutPrefix(object, o.prefix)
}

// get returns what key owns, and whether that is known for sure.
func (o *owned) get(key string) (ownedEntry, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e, ok := o.sets[key]
	if !ok {
		return ownedEntry{}, o.complete
	}
	return e, !e.unsure
}

// set records what key owns now, after a read or a change.
func (o *owned) set(key string, e ownedEntry) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(e.sets) == 0 && len(e.conflicts) == 0 && !e.unsure && o.complete {
		delete(o.sets, key)
		return
	}
	o.sets[key] = e
}

// doubt marks key's entry as not known for sure.
func (o *owned) doubt(key string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e := o.sets[key]
	e.unsure = true
	o.sets[key] = e
}

// load compares a List of the zone with the cache: every object whose
// listed record sets differ from what the cache says is doubted, the
// listed names added to what it is known to own (so that they are read,
// and deleted if not desired), and returned, to be looked at again; so
// is every object whose names were held by someone else, in case they
// are free now. The first load makes the cache complete.
func (o *owned) load(listed []dnsprovider.Owned) (again []string) {
	byKey := map[string][]dnsprovider.RecordSet{}
	for _, rs := range listed {
		if key, ok := o.keyOf(rs.Owner.Object); ok {
			byKey[key] = append(byKey[key], rs.RecordSet)
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	first := !o.complete
	o.complete = true
	for key, sets := range byKey {
		e, known := o.sets[key]
		switch {
		case !known && first:
			// What a restart finds: taken as it is, no request needed.
			o.sets[key] = ownedEntry{sets: sets}
		case !known || !SameSets(e.sets, sets):
			e.sets = union(e.sets, sets)
			e.unsure = true
			o.sets[key] = e
		default:
			if len(e.conflicts) == 0 {
				continue
			}
		}
		again = append(again, key)
	}
	for key, e := range o.sets {
		if _, listed := byKey[key]; listed {
			continue
		}
		if len(e.sets) > 0 || len(e.conflicts) > 0 {
			e.unsure = e.unsure || len(e.sets) > 0
			o.sets[key] = e
			again = append(again, key)
		}
	}
	return again
}

// union is a with the sets of b at a name and type a has none of.
func union(a, b []dnsprovider.RecordSet) []dnsprovider.RecordSet {
	out := slices.Clone(a)
	for _, rs := range b {
		if !slices.ContainsFunc(out, func(x dnsprovider.RecordSet) bool { return x.Name == rs.Name && x.Type == rs.Type }) {
			out = append(out, rs)
		}
	}
	return out
}
