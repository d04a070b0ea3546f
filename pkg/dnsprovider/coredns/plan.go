package coredns

import (
	"fmt"
	"maps"
	"slices"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

// txnPlan is the etcd transaction that makes one change: what must still
// hold when it commits, and then the writes.
type txnPlan struct {
	// quiet are the paths of the names the change touches: nothing may
	// have been written at or below any of them since they were read.
	quiet []string
	// held are the keys the change deletes or overwrites, with the value
	// each held when read; each must hold it still.
	held []kv
	// absent are the keys the change creates; none may exist.
	absent []string
	// deletes and puts are the writes.
	deletes []string
	puts    []kv
}

// plan makes the transaction for a checked change from the names it
// touches as read (states, by name). It fails with ErrConflict when the
// zone is not as the change expects: a set to delete is not there exactly
// so, or a set to add would meet a set of its type, or a CNAME meet any
// set, at its name.
func plan(change dnsprovider.Change, states map[string]nameState) (txnPlan, error) {
	var p txnPlan
	// deleted holds the keys of the sets deleted, with the values read.
	deleted := map[string][]byte{}
	// gone marks, by name, the sets deleted (indexes into the state's sets).
	gone := map[string]map[int]bool{}
	for _, d := range change.Delete {
		st, err := stateOf(states, d.Name)
		if err != nil {
			return txnPlan{}, err
		}
		i := slices.IndexFunc(st.sets, func(s storedSet) bool { return s.Type == d.Type && s.Owner == change.Owner })
		if i < 0 {
			return txnPlan{}, conflict("delete %s %s: %s", d.Type, d.Name, noSetOf(st, d.Type, change.Owner))
		}
		s := st.sets[i]
		if !sameRecords(s.RecordSet, d) {
			return txnPlan{}, conflict("delete %s %s: the zone has %v with TTL %d, not %v with TTL %d", d.Type, d.Name, s.Data, s.TTL, d.Data, d.TTL)
		}
		for _, k := range s.keys {
			deleted[k.key] = k.value
		}
		if gone[d.Name] == nil {
			gone[d.Name] = map[int]bool{}
		}
		gone[d.Name][i] = true
	}
	for _, a := range change.Add {
		st, err := stateOf(states, a.Name)
		if err != nil {
			return txnPlan{}, err
		}
		for i, s := range st.sets {
			if gone[a.Name][i] {
				continue
			}
			if s.Type == a.Type {
				return txnPlan{}, conflict("add %s %s: the name has %s records already, owned by %s", a.Type, a.Name, s.Type, ownerText(s.Owner))
			}
			if s.Type == dnsprovider.CNAME || a.Type == dnsprovider.CNAME {
				return txnPlan{}, conflict("add %s %s: the name has %s records, owned by %s, and a CNAME cannot share its name with other records", a.Type, a.Name, s.Type, ownerText(s.Owner))
			}
		}
		if b := st.blocker(deleted); b != "" {
			return txnPlan{}, fmt.Errorf("add %s %s: the key %s is at or below the name's path %s, and CoreDNS would answer %s with its records too; remove it, or use another name", a.Type, a.Name, b, st.path, a.Name)
		}
		for _, data := range a.Data {
			key := recordKey(st.path, a.Type, data)
			put := kv{key: key, value: encode(data, a.TTL, change.Owner)}
			old, ok := deleted[key]
			if !ok && st.has(key) {
				// Someone else's record of another type under this key.
				return txnPlan{}, conflict("add %s %s: the key %s is there already, with a record of another type", a.Type, a.Name, key)
			}
			if ok {
				// Deleted and added again: one put, which etcd needs (no
				// key twice in a transaction), over the value read.
				delete(deleted, key)
				p.held = append(p.held, kv{key: key, value: old})
			} else {
				p.absent = append(p.absent, key)
			}
			p.puts = append(p.puts, put)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(deleted)) {
		p.held = append(p.held, kv{key: key, value: deleted[key]})
		p.deletes = append(p.deletes, key)
	}
	for _, name := range slices.Sorted(maps.Keys(states)) {
		p.quiet = append(p.quiet, states[name].path)
	}
	return p, nil
}

// txn is the plan as etcd comparisons and operations, for names read at
// revision rev.
func (p txnPlan) txn(rev int64) ([]clientv3.Cmp, []clientv3.Op) {
	var cmps []clientv3.Cmp
	for _, path := range p.quiet {
		cmps = append(cmps,
			clientv3.Compare(clientv3.ModRevision(path), "<", rev+1),
			clientv3.Compare(clientv3.ModRevision(path+"/"), "<", rev+1).WithPrefix())
	}
	for _, h := range p.held {
		cmps = append(cmps, clientv3.Compare(clientv3.Value(h.key), "=", string(h.value)))
	}
	for _, key := range p.absent {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(key), "=", 0))
	}
	var ops []clientv3.Op
	for _, key := range p.deletes {
		ops = append(ops, clientv3.OpDelete(key))
	}
	for _, put := range p.puts {
		ops = append(ops, clientv3.OpPut(put.key, string(put.value)))
	}
	return cmps, ops
}

// has says whether key is the key of a record at the name.
func (st nameState) has(key string) bool {
	for _, s := range st.sets {
		for _, k := range s.keys {
			if k.key == key {
				return true
			}
		}
	}
	return false
}

func stateOf(states map[string]nameState, name string) (nameState, error) {
	st, ok := states[name]
	if !ok {
		// Apply reads every name of the change; this is a bug.
		return nameState{}, fmt.Errorf("name %s of the change was not read", name)
	}
	return st, nil
}

// sameRecords says whether a set as stored and a set as a change gives it
// are the same records: type, TTL and data, in any order.
func sameRecords(stored, want dnsprovider.RecordSet) bool {
	data := slices.Clone(want.Data)
	slices.Sort(data)
	return stored.Type == want.Type && stored.TTL == want.TTL && slices.Equal(stored.Data, data)
}

// noSetOf says why the name has no set of type t owned by owner.
func noSetOf(st nameState, t dnsprovider.RecordType, owner dnsprovider.Owner) string {
	for _, s := range st.sets {
		if s.Type == t {
			return fmt.Sprintf("the %s records there are owned by %s, not by %s", t, ownerText(s.Owner), ownerText(owner))
		}
	}
	return fmt.Sprintf("the name has no %s records", t)
}

func ownerText(o dnsprovider.Owner) string {
	if o.IsZero() {
		return "someone other than a federation"
	}
	return fmt.Sprintf("federation %q for %q", o.Federation, o.Object)
}

func conflict(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{dnsprovider.ErrConflict}, args...)...)
}
