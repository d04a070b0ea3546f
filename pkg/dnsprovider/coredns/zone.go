package coredns

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

// zone is one zone a CoreDNS serves from etcd.
type zone struct {
	client *clientv3.Client
	prefix string
	name   string
	path   string
}

var _ dnsprovider.Zone = (*zone)(nil)

// Name implements dnsprovider.Zone.
func (z *zone) Name() string { return z.name }

// Get implements dnsprovider.Zone: the records CoreDNS serves at name (a
// name differing in case only is the same name), by type and owner.
func (z *zone) Get(ctx context.Context, name string) ([]dnsprovider.Owned, error) {
	name = strings.ToLower(name)
	if err := checkName(name); err != nil {
		return nil, fmt.Errorf("zone %s: get: %w", z.name, err)
	}
	if !inZone(name, z.name) {
		return nil, fmt.Errorf("zone %s: get %s: the name is not in the zone", z.name, name)
	}
	states, _, err := z.read(ctx, []string{name})
	if err != nil {
		return nil, err
	}
	return owned(states[name].sets), nil
}

// List implements dnsprovider.Zone.
func (z *zone) List(ctx context.Context, federation string) ([]dnsprovider.Owned, error) {
	resp, err := z.client.Get(ctx, z.path+"/", clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("zone %s: list the records of federation %q: read etcd under %s/: %w", z.name, federation, z.path, err)
	}
	byName := map[string][]storedRecord{}
	for _, e := range resp.Kvs {
		key := string(e.Key)
		// The key at a name's own path (a CNAME), or a leaf below it.
		name, ok := nameOfPath(z.prefix, key)
		if !ok {
			name, ok = nameOfPath(z.prefix, key[:strings.LastIndexByte(key, '/')])
		}
		if !ok {
			continue
		}
		// A key that does not decode is not one the federation wrote.
		r, ok, err := decode(e.Value)
		if err != nil || !ok || r.Owner.Federation != federation {
			continue
		}
		byName[name] = append(byName[name], storedRecord{record: r, kv: kv{key: key, value: e.Value}})
	}
	var out []dnsprovider.Owned
	for name, records := range byName {
		out = append(out, owned(groupSets(name, records))...)
	}
	slices.SortFunc(out, compareOwned)
	return out, nil
}

// Apply implements dnsprovider.Zone: one read of the names the change
// touches, then one etcd transaction that commits only if they are still
// as read.
func (z *zone) Apply(ctx context.Context, change dnsprovider.Change) error {
	if change.IsEmpty() {
		return nil
	}
	if err := checkChange(z.name, change); err != nil {
		return fmt.Errorf("zone %s: the change of %q is invalid: %w", z.name, change.Owner.Object, err)
	}
	var names []string
	for _, rs := range slices.Concat(change.Delete, change.Add) {
		names = append(names, rs.Name)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	states, rev, err := z.read(ctx, names)
	if err != nil {
		return err
	}
	p, err := plan(change, states)
	if err != nil {
		return fmt.Errorf("zone %s: change of %q: %w", z.name, change.Owner.Object, err)
	}
	cmps, ops := p.txn(rev)
	resp, err := z.client.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if errors.Is(err, rpctypes.ErrTooManyOps) {
		return fmt.Errorf("zone %s: change of %q: %d keys to write and %d to check in one transaction is more than etcd allows; raise etcd's --max-txn-ops: %w", z.name, change.Owner.Object, len(ops), len(cmps), err)
	}
	if err != nil {
		return fmt.Errorf("zone %s: change of %q: etcd transaction: %w", z.name, change.Owner.Object, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("zone %s: change of %q: %w: records at %v were written by someone else meanwhile; read them again and compute the change anew", z.name, change.Owner.Object, dnsprovider.ErrConflict, names)
	}
	return nil
}

// read reads the names, each checked, at one etcd revision, and returns
// their states by name and that revision.
func (z *zone) read(ctx context.Context, names []string) (map[string]nameState, int64, error) {
	paths := make([]string, len(names))
	var ops []clientv3.Op
	for i, name := range names {
		p, err := namePath(z.prefix, name)
		if err != nil {
			return nil, 0, fmt.Errorf("zone %s: %w", z.name, err)
		}
		paths[i] = p
		ops = append(ops, clientv3.OpGet(p), clientv3.OpGet(p+"/", clientv3.WithPrefix()))
	}
	resp, err := z.client.Txn(ctx).Then(ops...).Commit()
	if err != nil {
		return nil, 0, fmt.Errorf("zone %s: read %v from etcd: %w", z.name, names, err)
	}
	states := make(map[string]nameState, len(names))
	for i, name := range names {
		exact := kvs(resp.Responses[2*i].GetResponseRange().GetKvs())
		below := kvs(resp.Responses[2*i+1].GetResponseRange().GetKvs())
		st, err := readName(name, paths[i], exact, below)
		if err != nil {
			return nil, 0, fmt.Errorf("zone %s: read %s: %w; fix or remove that key", z.name, name, err)
		}
		states[name] = st
	}
	return states, resp.Header.Revision, nil
}

func kvs(in []*mvccpb.KeyValue) []kv {
	out := make([]kv, 0, len(in))
	for _, e := range in {
		out = append(out, kv{key: string(e.Key), value: e.Value})
	}
	return out
}
