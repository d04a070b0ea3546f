// Package dnsprovider tests the DNS providers on real servers: the coredns
// provider writes into a real etcd, and the real CoreDNS binary, reading
// that etcd with its etcd plugin, is asked over UDP what it answers.
package dnsprovider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kfederation/federation/pkg/dnsprovider"
	"github.com/kfederation/federation/pkg/dnsprovider/conformance"
	"github.com/kfederation/federation/pkg/dnsprovider/coredns"
	"github.com/kfederation/federation/test/framework"
)

const (
	zoneName = framework.DNSZone
	// etcdPrefix is where the framework's CoreDNS reads records.
	etcdPrefix = coredns.DefaultPath
)

// coreDNS is a real etcd and a real CoreDNS serving zoneName from it.
type coreDNS struct {
	server *framework.DNSServer
	etcd   *clientv3.Client
	zone   dnsprovider.Zone
}

func TestCoreDNS(t *testing.T) {
	env := startCoreDNS(t)
	t.Run("conformance", func(t *testing.T) {
		conformance.Run(t, func(*testing.T) dnsprovider.Zone { return env.zone }, env.writeForeign)
	})
	t.Run("served", env.testServed)
}

// testServed writes record sets through the provider and checks what
// CoreDNS answers for them, and that a foreign record beside them stays as
// it was.
func (env *coreDNS) testServed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	owner := dnsprovider.Owner{Federation: "myfederation", Object: "service/mynamespace/web"}
	foreignKey, foreignValue := env.server.EtcdPath("foreign."+zoneName)+"/x1", `{"host":"198.51.100.7","ttl":60}`
	put, err := env.etcd.Put(ctx, foreignKey, foreignValue)
	if err != nil {
		t.Fatal(err)
	}
	foreignRevision := put.Header.Revision
	env.waitAnswer(t, "foreign."+zoneName, dns.TypeA, "foreign.example.com. 60 A 198.51.100.7")

	webA := set("web."+zoneName, dnsprovider.A, 180, "192.0.2.1", "192.0.2.2")
	web6 := set("web6."+zoneName, dnsprovider.AAAA, 120, "2001:db8::1")
	alias := set("alias."+zoneName, dnsprovider.CNAME, 90, "web."+zoneName)

	t.Run("A set", func(t *testing.T) {
		apply(ctx, t, env.zone, dnsprovider.Change{Owner: owner, Add: []dnsprovider.RecordSet{webA}})
		env.waitAnswer(t, "web."+zoneName, dns.TypeA,
			"web.example.com. 180 A 192.0.2.1",
			"web.example.com. 180 A 192.0.2.2")
	})
	t.Run("the keys of an A set", func(t *testing.T) {
		resp, err := env.etcd.Get(ctx, env.server.EtcdPath("web."+zoneName)+"/", clientv3.WithPrefix())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, kv := range resp.Kvs {
			var v map[string]any
			if err := json.Unmarshal(kv.Value, &v); err != nil {
				t.Fatalf("%s: %v", kv.Key, err)
			}
			got = append(got, fmt.Sprintf("%s host=%v ttl=%v federation=%v", kv.Key, v["host"], v["ttl"], v["federation"]))
		}
		want := []string{
			"/skydns/com/example/web/a.192.0.2.1 host=192.0.2.1 ttl=180 federation=map[name:myfederation object:service/mynamespace/web]",
			"/skydns/com/example/web/a.192.0.2.2 host=192.0.2.2 ttl=180 federation=map[name:myfederation object:service/mynamespace/web]",
		}
		if !slices.Equal(got, want) {
			t.Fatalf("keys of web.example.com.:\n got %q\nwant %q", got, want)
		}
	})
	t.Run("AAAA set", func(t *testing.T) {
		apply(ctx, t, env.zone, dnsprovider.Change{Owner: owner, Add: []dnsprovider.RecordSet{web6}})
		env.waitAnswer(t, "web6."+zoneName, dns.TypeAAAA, "web6.example.com. 120 AAAA 2001:db8::1")
	})
	t.Run("CNAME to a name in the zone", func(t *testing.T) {
		apply(ctx, t, env.zone, dnsprovider.Change{Owner: owner, Add: []dnsprovider.RecordSet{alias}})
		env.waitAnswer(t, "alias."+zoneName, dns.TypeA,
			"alias.example.com. 90 CNAME web.example.com.",
			"web.example.com. 180 A 192.0.2.1",
			"web.example.com. 180 A 192.0.2.2")
		// A CNAME query is answered from the key at the name's path
		// alone.
		env.waitAnswer(t, "alias."+zoneName, dns.TypeCNAME, "alias.example.com. 90 CNAME web.example.com.")
	})
	t.Run("a CNAME replaced by an A set, in one change", func(t *testing.T) {
		moved := set("moved."+zoneName, dnsprovider.CNAME, 90, "web."+zoneName)
		apply(ctx, t, env.zone, dnsprovider.Change{Owner: owner, Add: []dnsprovider.RecordSet{moved}})
		env.waitAnswer(t, "moved."+zoneName, dns.TypeCNAME, "moved.example.com. 90 CNAME web.example.com.")
		movedA := set("moved."+zoneName, dnsprovider.A, 90, "192.0.2.5")
		apply(ctx, t, env.zone, dnsprovider.Change{Owner: owner, Delete: []dnsprovider.RecordSet{moved}, Add: []dnsprovider.RecordSet{movedA}})
		env.waitAnswer(t, "moved."+zoneName, dns.TypeA, "moved.example.com. 90 A 192.0.2.5")
		apply(ctx, t, env.zone, dnsprovider.Change{Owner: owner, Delete: []dnsprovider.RecordSet{movedA}, Add: []dnsprovider.RecordSet{moved}})
		env.waitAnswer(t, "moved."+zoneName, dns.TypeCNAME, "moved.example.com. 90 CNAME web.example.com.")
		apply(ctx, t, env.zone, dnsprovider.Change{Owner: owner, Delete: []dnsprovider.RecordSet{moved}})
		env.waitNXDOMAIN(t, "moved."+zoneName, dns.TypeA)
	})
	t.Run("a CNAME beside an A set is a conflict", func(t *testing.T) {
		err := env.zone.Apply(ctx, dnsprovider.Change{Owner: owner, Add: []dnsprovider.RecordSet{
			set("web."+zoneName, dnsprovider.CNAME, 90, "web6."+zoneName),
		}})
		if !errors.Is(err, dnsprovider.ErrConflict) {
			t.Fatalf("Apply = %v, want ErrConflict", err)
		}
		env.waitAnswer(t, "web."+zoneName, dns.TypeA,
			"web.example.com. 180 A 192.0.2.1",
			"web.example.com. 180 A 192.0.2.2")
	})
	t.Run("a name with records below it is refused", func(t *testing.T) {
		below := env.server.EtcdPath("www.taken."+zoneName) + "/x1"
		if _, err := env.etcd.Put(ctx, below, `{"host":"198.51.100.8"}`); err != nil {
			t.Fatal(err)
		}
		err := env.zone.Apply(ctx, dnsprovider.Change{Owner: owner, Add: []dnsprovider.RecordSet{
			set("taken."+zoneName, dnsprovider.A, 180, "192.0.2.9"),
		}})
		if err == nil || errors.Is(err, dnsprovider.ErrConflict) || !strings.Contains(err.Error(), below) {
			t.Fatalf("Apply = %v, want an error naming %s", err, below)
		}
		env.waitAnswer(t, "taken."+zoneName, dns.TypeA, "taken.example.com. 300 A 198.51.100.8")
	})
	t.Run("deleted sets are NXDOMAIN", func(t *testing.T) {
		apply(ctx, t, env.zone, dnsprovider.Change{Owner: owner, Delete: []dnsprovider.RecordSet{alias, webA}})
		env.waitNXDOMAIN(t, "web."+zoneName, dns.TypeA)
		env.waitNXDOMAIN(t, "alias."+zoneName, dns.TypeA)
		apply(ctx, t, env.zone, dnsprovider.Change{Owner: owner, Delete: []dnsprovider.RecordSet{web6}})
		env.waitNXDOMAIN(t, "web6."+zoneName, dns.TypeAAAA)
		if sets, err := env.zone.List(ctx, owner.Federation); err != nil || len(sets) != 0 {
			t.Fatalf("List(%s) = %v, %v; want nothing", owner.Federation, sets, err)
		}
	})
	t.Run("the foreign record is untouched", func(t *testing.T) {
		resp, err := env.etcd.Get(ctx, foreignKey)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != foreignValue || resp.Kvs[0].ModRevision != foreignRevision {
			t.Fatalf("%s = %v, want %s as written at revision %d", foreignKey, resp.Kvs, foreignValue, foreignRevision)
		}
		sets, err := env.zone.Get(ctx, "foreign."+zoneName)
		want := dnsprovider.Owned{RecordSet: set("foreign."+zoneName, dnsprovider.A, 60, "198.51.100.7")}
		if err != nil || len(sets) != 1 || !equalOwned(sets[0], want) {
			t.Fatalf("Get(foreign.example.com.) = %+v, %v; want %+v", sets, err, want)
		}
		env.waitAnswer(t, "foreign."+zoneName, dns.TypeA, "foreign.example.com. 60 A 198.51.100.7")
	})
}

// startCoreDNS starts etcd and CoreDNS, stopped when the test ends; on
// failure their logs stay, and the test says where.
func startCoreDNS(t *testing.T) *coreDNS {
	t.Helper()
	if err := framework.EnsureBinaries(); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "dnsprovider-coredns-")
	if err != nil {
		t.Fatal(err)
	}
	logDir := filepath.Join(dir, "logs")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the logs of etcd and CoreDNS are in %s", logDir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	server, err := framework.StartDNS(ctx, dir, logDir, zoneName)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(server.Stop)
	client, err := clientv3.New(clientv3.Config{Endpoints: []string{server.Etcd.ClientURL}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	zone, err := coredns.New(client, etcdPrefix).Zone(ctx, zoneName, "")
	if err != nil {
		t.Fatal(err)
	}
	return &coreDNS{server: server, etcd: client, zone: zone}
}

// writeForeign writes rs as someone other than the federation would: keys
// x1, x2 ... below the name, with host and ttl and no owner.
func (env *coreDNS) writeForeign(t *testing.T, rs dnsprovider.RecordSet) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, data := range rs.Data {
		value, err := json.Marshal(map[string]any{"host": data, "ttl": rs.TTL})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.etcd.Put(ctx, fmt.Sprintf("%s/x%d", env.server.EtcdPath(rs.Name), i+1), string(value)); err != nil {
			t.Fatalf("write the foreign %s %s: %v", rs.Type, rs.Name, err)
		}
	}
}

// waitAnswer asks CoreDNS for name and type until it answers want, each
// record as "name TTL type data", in any order; it fails the test if that
// does not come within 30 seconds.
func (env *coreDNS) waitAnswer(t *testing.T, name string, qtype uint16, want ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.server.WaitAnswer(ctx, name, qtype, want...); err != nil {
		t.Fatal(err)
	}
}

// waitNXDOMAIN asks CoreDNS for name until it says there is no such name.
func (env *coreDNS) waitNXDOMAIN(t *testing.T, name string, qtype uint16) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.server.WaitNXDOMAIN(ctx, name, qtype); err != nil {
		t.Fatal(err)
	}
}

func apply(ctx context.Context, t *testing.T, zone dnsprovider.Zone, change dnsprovider.Change) {
	t.Helper()
	if err := zone.Apply(ctx, change); err != nil {
		t.Fatalf("Apply(%+v): %v", change, err)
	}
}

func set(name string, t dnsprovider.RecordType, ttl int64, data ...string) dnsprovider.RecordSet {
	return dnsprovider.RecordSet{Name: name, Type: t, TTL: ttl, Data: data}
}

func equalOwned(a, b dnsprovider.Owned) bool {
	return a.Name == b.Name && a.Type == b.Type && a.TTL == b.TTL && a.Owner == b.Owner && slices.Equal(a.Data, b.Data)
}
