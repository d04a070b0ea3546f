package coredns

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

// kv is one etcd key and its value.
type kv struct {
	key   string
	value []byte
}

// storedRecord is a record and the key it is in.
type storedRecord struct {
	record
	kv
}

// storedSet is a record set as etcd has it, with the keys of its records.
type storedSet struct {
	dnsprovider.Owned
	keys []kv
}

// groupSets groups the records at name into record sets by type and owner:
// each set's data sorted and without repeats (CoreDNS answers a repeated
// address once), its TTL the smallest of its records' (a resolver caches
// the answer no longer). The sets come sorted by type, then owner, foreign
// (zero) owners first.
func groupSets(name string, records []storedRecord) []storedSet {
	type setKey struct {
		t     dnsprovider.RecordType
		owner dnsprovider.Owner
	}
	byKey := map[setKey]*storedSet{}
	var sets []*storedSet
	for _, r := range records {
		k := setKey{r.Type, r.Owner}
		s := byKey[k]
		if s == nil {
			s = &storedSet{Owned: dnsprovider.Owned{
				RecordSet: dnsprovider.RecordSet{Name: name, Type: r.Type, TTL: r.TTL},
				Owner:     r.Owner,
			}}
			byKey[k] = s
			sets = append(sets, s)
		}
		s.TTL = min(s.TTL, r.TTL)
		if !slices.Contains(s.Data, r.Data) {
			s.Data = append(s.Data, r.Data)
		}
		s.keys = append(s.keys, r.kv)
	}
	out := make([]storedSet, 0, len(sets))
	for _, s := range sets {
		slices.Sort(s.Data)
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b storedSet) int { return compareOwned(a.Owned, b.Owned) })
	return out
}

// compareOwned orders record sets by name, type and owner.
func compareOwned(a, b dnsprovider.Owned) int {
	return cmp.Or(
		cmp.Compare(a.Name, b.Name),
		cmp.Compare(a.Type, b.Type),
		cmp.Compare(a.Owner.Federation, b.Owner.Federation),
		cmp.Compare(a.Owner.Object, b.Owner.Object),
	)
}

// nameState is what etcd holds at one name.
type nameState struct {
	name string
	path string
	sets []storedSet
	// deeper is a key below one of the name's record keys: the record of
	// a name below it, which CoreDNS would mix into the name's answers.
	// Empty when there is none.
	deeper string
	// exact is the key at the name's own path, if there is one: where a
	// CNAME is kept (CoreDNS reads only that key for a CNAME query).
	exact string
}

// readName makes the state of name, at path, from the key at the path
// itself (exact, none or one) and the keys below it (below, from a prefix
// read of path + "/"). The records of the name are the keys directly below
// the path; CoreDNS serves the key at the path itself only when there are
// none below it, so it counts as a record of the name then.
func readName(name, path string, exact, below []kv) (nameState, error) {
	st := nameState{name: name, path: path}
	var records []storedRecord
	add := func(e kv) error {
		r, ok, err := decode(e.value)
		if err != nil {
			return fmt.Errorf("key %s: %w", e.key, err)
		}
		if ok {
			records = append(records, storedRecord{record: r, kv: e})
		}
		return nil
	}
	for _, e := range below {
		if strings.Contains(strings.TrimPrefix(e.key, path+"/"), "/") {
			if st.deeper == "" {
				st.deeper = e.key
			}
			continue
		}
		if err := add(e); err != nil {
			return nameState{}, err
		}
	}
	for _, e := range exact {
		st.exact = e.key
		if len(below) == 0 {
			if err := add(e); err != nil {
				return nameState{}, err
			}
		}
	}
	st.sets = groupSets(name, records)
	return st, nil
}

// blocker is a key that keeps records from being added at the name,
// because CoreDNS would then answer the name wrongly: a key of a name below
// it, or a key at its own path that the change does not delete (CoreDNS
// ignores it once there are keys below the path, and serves only it for a
// CNAME query). deleted holds the keys the change deletes.
func (st nameState) blocker(deleted map[string][]byte) string {
	if st.deeper != "" {
		return st.deeper
	}
	if _, going := deleted[st.exact]; st.exact != "" && !going {
		return st.exact
	}
	return ""
}

// owned is the record sets of sets.
func owned(sets []storedSet) []dnsprovider.Owned {
	out := make([]dnsprovider.Owned, 0, len(sets))
	for _, s := range sets {
		out = append(out, s.Owned)
	}
	return out
}
