// Package coredns is the DNS provider for CoreDNS's etcd plugin: it writes
// record sets into etcd v3 in the layout that plugin serves, so that a
// CoreDNS whose Corefile has `etcd example.com { path /skydns ... }`
// answers them with no restart and no reload.
//
// # Layout
//
// A name's path is the path prefix and its labels in reverse:
// "web.example.com." under "/skydns" is "/skydns/com/example/web". Every
// A or AAAA record of a record set is one key directly below its name's
// path, and the key's last segment, its leaf, is the record's type and
// data. A CNAME is the key at the name's path itself:
//
//	/skydns/com/example/web/a.192.0.2.1        {"host":"192.0.2.1","ttl":180,"federation":{...}}
//	/skydns/com/example/web/a.192.0.2.2        {"host":"192.0.2.2","ttl":180,"federation":{...}}
//	/skydns/com/example/web6/aaaa.2001:db8::1  {"host":"2001:db8::1","ttl":180,"federation":{...}}
//	/skydns/com/example/alias                  {"host":"web.example.com.","ttl":180,"federation":{...}}
//
// CoreDNS answers an A or AAAA query for a name with every key below its
// path (a prefix read), or with the key at the path when there are none
// below, and turns "host" into an A record when it is an IPv4 address,
// AAAA when IPv6, and a CNAME otherwise (which it follows within the
// zone); "ttl" is the answer's TTL. A CNAME query it answers from the key
// at the path alone, which is why a CNAME lives there: a name with a
// CNAME has no other records. The leaf is derived from the record alone,
// so writing a record twice writes the same key, and it always holds a
// dot, which no label of a name does: a leaf is never mistaken for the
// path of another name.
//
// # Owners
//
// The owner is in the value's "federation" field, {"name": federation,
// "object": object}, which CoreDNS does not read. A key without it, or with
// one this package cannot read, belongs to someone else: Get shows it with a
// zero Owner, List never returns it, and Apply never changes it.
//
// # Changes
//
// Apply reads the names it touches at one etcd revision, checks the change
// against them, and writes it in one etcd transaction that commits only if
// nothing was written under those names since that read and every key it
// deletes or overwrites still holds the value read. So a change is made
// whole or not at all, and a change computed from a stale read is refused
// with dnsprovider.ErrConflict.
//
// # What CoreDNS cannot serve
//
// The etcd plugin answers a name with every key in its subtree, so records
// at a name and records at a name below it would be mixed in one answer.
// Apply refuses to add records at a name that has keys of a name below it,
// or a key at its own path that the change does not delete; it does not
// look for records at the names above (that would read most of the zone on
// every write). Records at
// the zone apex are refused too: a query for the apex may read the whole
// zone.
package coredns
