package coredns

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

const (
	webName = "web.example.com."
	apiName = "api.example.com."
	apiPath = "/skydns/com/example/api"
)

// states reads web.example.com. from below (keys under its path) and
// api.example.com. as empty.
func states(t *testing.T, below ...kv) map[string]nameState {
	t.Helper()
	webState, err := readName(webName, webPath, nil, below)
	if err != nil {
		t.Fatal(err)
	}
	apiState, err := readName(apiName, apiPath, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]nameState{webName: webState, apiName: apiState}
}

func TestPlan(t *testing.T) {
	a1, a2 := key(dnsprovider.A, "192.0.2.1", 180, web), key(dnsprovider.A, "192.0.2.2", 180, web)
	quiet := []string{apiPath, webPath}
	for _, tc := range []struct {
		name   string
		stored []kv
		change dnsprovider.Change
		want   txnPlan
	}{
		{
			name:   "add into nothing: create each key",
			change: add(rset(webName, dnsprovider.A, 180, "192.0.2.2", "192.0.2.1")),
			want: txnPlan{
				quiet:  quiet,
				absent: []string{a2.key, a1.key},
				puts:   []kv{a2, a1},
			},
		},
		{
			name:   "delete: every key of the set, each as read",
			stored: []kv{a1, a2},
			change: dnsprovider.Change{Owner: web, Delete: []dnsprovider.RecordSet{rset(webName, dnsprovider.A, 180, "192.0.2.2", "192.0.2.1")}},
			want: txnPlan{
				quiet:   quiet,
				held:    []kv{a1, a2},
				deletes: []string{a1.key, a2.key},
			},
		},
		{
			name:   "replace with a kept address: that key is overwritten, not deleted and created",
			stored: []kv{a1},
			change: dnsprovider.Change{Owner: web,
				Delete: []dnsprovider.RecordSet{rset(webName, dnsprovider.A, 180, "192.0.2.1")},
				Add:    []dnsprovider.RecordSet{rset(webName, dnsprovider.A, 60, "192.0.2.1", "192.0.2.2")},
			},
			want: txnPlan{
				quiet:  quiet,
				held:   []kv{a1},
				absent: []string{a2.key},
				puts:   []kv{key(dnsprovider.A, "192.0.2.1", 60, web), key(dnsprovider.A, "192.0.2.2", 60, web)},
			},
		},
		{
			name:   "replace an A set by a CNAME",
			stored: []kv{a1, a2},
			change: dnsprovider.Change{Owner: web,
				Delete: []dnsprovider.RecordSet{rset(webName, dnsprovider.A, 180, "192.0.2.1", "192.0.2.2")},
				Add:    []dnsprovider.RecordSet{rset(webName, dnsprovider.CNAME, 180, apiName)},
			},
			want: txnPlan{
				quiet: quiet,
				held:  []kv{a1, a2},
				// A CNAME is the key at the name's own path.
				absent:  []string{webPath},
				deletes: []string{a1.key, a2.key},
				puts:    []kv{{key: webPath, value: encode(apiName, 180, web)}},
			},
		},
		{
			name:   "an AAAA set beside a foreign A set",
			stored: []kv{{key: webPath + "/x1", value: []byte(`{"host":"198.51.100.1"}`)}},
			change: add(rset(webName, dnsprovider.AAAA, 180, "2001:db8::1")),
			want: txnPlan{
				quiet:  quiet,
				absent: []string{webPath + "/aaaa.2001:db8::1"},
				puts:   []kv{key(dnsprovider.AAAA, "2001:db8::1", 180, web)},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := plan(tc.change, states(t, tc.stored...))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("plan:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestPlanConflicts(t *testing.T) {
	a1, a2 := key(dnsprovider.A, "192.0.2.1", 180, web), key(dnsprovider.A, "192.0.2.2", 180, web)
	foreignA := kv{key: webPath + "/x1", value: []byte(`{"host":"198.51.100.1","ttl":60}`)}
	for _, tc := range []struct {
		name   string
		stored []kv
		change dnsprovider.Change
		// wantErr is part of the error.
		wantErr string
	}{
		{name: "delete a set that is not there", change: dnsprovider.Change{Owner: web, Delete: []dnsprovider.RecordSet{rset(webName, dnsprovider.A, 180, "192.0.2.1")}},
			wantErr: "delete A web.example.com.: the name has no A records"},
		{name: "delete fewer records than there are", stored: []kv{a1, a2},
			change:  dnsprovider.Change{Owner: web, Delete: []dnsprovider.RecordSet{rset(webName, dnsprovider.A, 180, "192.0.2.1")}},
			wantErr: "the zone has [192.0.2.1 192.0.2.2] with TTL 180, not [192.0.2.1] with TTL 180"},
		{name: "delete with another TTL", stored: []kv{a1},
			change:  dnsprovider.Change{Owner: web, Delete: []dnsprovider.RecordSet{rset(webName, dnsprovider.A, 60, "192.0.2.1")}},
			wantErr: "with TTL 180, not [192.0.2.1] with TTL 60"},
		{name: "delete another object's set", stored: []kv{a1},
			change:  dnsprovider.Change{Owner: api, Delete: []dnsprovider.RecordSet{rset(webName, dnsprovider.A, 180, "192.0.2.1")}},
			wantErr: `the A records there are owned by federation "fed" for "service/ns/web", not by federation "fed" for "service/ns/api"`},
		{name: "delete a foreign set", stored: []kv{foreignA},
			change:  dnsprovider.Change{Owner: web, Delete: []dnsprovider.RecordSet{rset(webName, dnsprovider.A, 60, "198.51.100.1")}},
			wantErr: "owned by someone other than a federation"},
		{name: "add the set that is there", stored: []kv{a1},
			change:  add(rset(webName, dnsprovider.A, 180, "192.0.2.1")),
			wantErr: `add A web.example.com.: the name has A records already, owned by federation "fed"`},
		{name: "add an A set beside a foreign one", stored: []kv{foreignA},
			change:  add(rset(webName, dnsprovider.A, 180, "192.0.2.1")),
			wantErr: "the name has A records already, owned by someone other than a federation"},
		{name: "add a CNAME beside an A set", stored: []kv{a1},
			change:  add(rset(webName, dnsprovider.CNAME, 180, apiName)),
			wantErr: "a CNAME cannot share its name with other records"},
		{name: "add an A set beside a CNAME", stored: []kv{key(dnsprovider.CNAME, apiName, 180, web)},
			change:  add(rset(webName, dnsprovider.A, 180, "192.0.2.1")),
			wantErr: "a CNAME cannot share its name with other records"},
		{name: "add a record whose key holds one of another type", stored: []kv{{key: webPath + "/aaaa.2001:db8::1", value: []byte(`{"host":"192.0.2.1"}`)}},
			change:  add(rset(webName, dnsprovider.AAAA, 180, "2001:db8::1")),
			wantErr: "the key /skydns/com/example/web/aaaa.2001:db8::1 is there already"},
		{name: "a conflict in one part fails the whole change", stored: []kv{a1},
			change:  add(rset(apiName, dnsprovider.A, 180, "192.0.2.9"), rset(webName, dnsprovider.A, 180, "192.0.2.2")),
			wantErr: "add A web.example.com.: the name has A records already"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := plan(tc.change, states(t, tc.stored...))
			if !errors.Is(err, dnsprovider.ErrConflict) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("plan = %+v, %v; want ErrConflict with %q", got, err, tc.wantErr)
			}
		})
	}
}

func TestPlanRefusesANameWithKeysBelowIt(t *testing.T) {
	below := kv{key: webPath + "/www/x1", value: []byte(`{"host":"198.51.100.1"}`)}
	_, err := plan(add(rset(webName, dnsprovider.A, 180, "192.0.2.1")), states(t, below))
	if err == nil || errors.Is(err, dnsprovider.ErrConflict) || !strings.Contains(err.Error(), "the key "+below.key+" is at or below the name's path") {
		t.Fatalf("plan = %v, want an error (not ErrConflict) naming %s", err, below.key)
	}
	// Deleting there is fine.
	a1 := key(dnsprovider.A, "192.0.2.1", 180, web)
	if _, err := plan(dnsprovider.Change{Owner: web, Delete: []dnsprovider.RecordSet{rset(webName, dnsprovider.A, 180, "192.0.2.1")}}, states(t, a1, below)); err != nil {
		t.Fatalf("plan of a delete = %v, want no error", err)
	}
}

func TestTxn(t *testing.T) {
	a1, a2 := key(dnsprovider.A, "192.0.2.1", 180, web), key(dnsprovider.A, "192.0.2.2", 180, web)
	p := txnPlan{quiet: []string{webPath}, held: []kv{a1}, absent: []string{a2.key}, deletes: []string{a1.key}, puts: []kv{a2}}
	cmps, ops := p.txn(41)
	wantCmps := []clientv3.Cmp{
		clientv3.Compare(clientv3.ModRevision(webPath), "<", 42),
		clientv3.Compare(clientv3.ModRevision(webPath+"/"), "<", 42).WithPrefix(),
		clientv3.Compare(clientv3.Value(a1.key), "=", string(a1.value)),
		clientv3.Compare(clientv3.CreateRevision(a2.key), "=", 0),
	}
	if !reflect.DeepEqual(cmps, wantCmps) {
		t.Errorf("comparisons:\n got %v\nwant %v", cmps, wantCmps)
	}
	if len(ops) != 2 || !ops[0].IsDelete() || string(ops[0].KeyBytes()) != a1.key ||
		!ops[1].IsPut() || string(ops[1].KeyBytes()) != a2.key || string(ops[1].ValueBytes()) != string(a2.value) {
		t.Errorf("operations = %+v, want delete %s, put %s", ops, a1.key, a2.key)
	}
}

// TestPlanFromCNAME: a CNAME kept at the name's own path is replaced by A
// records below the path in one transaction, the path's key deleted; and
// by another CNAME with one put over the value read.
func TestPlanFromCNAME(t *testing.T) {
	cname := kv{key: webPath, value: encode(apiName, 180, web)}
	webState, err := readName(webName, webPath, []kv{cname}, nil)
	if err != nil {
		t.Fatal(err)
	}
	apiState, _ := readName(apiName, apiPath, nil, nil)
	st := map[string]nameState{webName: webState, apiName: apiState}
	old := rset(webName, dnsprovider.CNAME, 180, apiName)

	toA, err := plan(dnsprovider.Change{Owner: web, Delete: []dnsprovider.RecordSet{old},
		Add: []dnsprovider.RecordSet{rset(webName, dnsprovider.A, 180, "192.0.2.1")}}, st)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(toA.deletes, []string{webPath}) || len(toA.puts) != 1 || toA.puts[0].key != webPath+"/a.192.0.2.1" {
		t.Errorf("CNAME to A: deletes %v, puts %v; want the path's key deleted and one key below it", toA.deletes, toA.puts)
	}

	retarget, err := plan(dnsprovider.Change{Owner: web, Delete: []dnsprovider.RecordSet{old},
		Add: []dnsprovider.RecordSet{rset(webName, dnsprovider.CNAME, 180, "other.example.com.")}}, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(retarget.deletes) != 0 || len(retarget.puts) != 1 || retarget.puts[0].key != webPath || len(retarget.held) != 1 {
		t.Errorf("CNAME to CNAME: %+v; want one put at the path, held at the value read", retarget)
	}

	// Someone else's key at the path, not deleted by the change, keeps A
	// records from being added below it.
	foreignState, _ := readName(webName, webPath, []kv{{key: webPath, value: []byte(`{"host":"192.0.2.9"}`)}}, nil)
	if _, err := plan(dnsprovider.Change{Owner: web, Add: []dnsprovider.RecordSet{rset(webName, dnsprovider.AAAA, 180, "2001:db8::1")}},
		map[string]nameState{webName: foreignState}); err == nil {
		t.Error("added records below a foreign key at the name's path")
	}
}
