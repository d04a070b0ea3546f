package coredns

import (
	"reflect"
	"strings"
	"testing"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

const webPath = "/skydns/com/example/web"

var (
	web     = dnsprovider.Owner{Federation: "fed", Object: "service/ns/web"}
	api     = dnsprovider.Owner{Federation: "fed", Object: "service/ns/api"}
	foreign = dnsprovider.Owner{}
)

// key is the key of a record of web.example.com. of ours.
func key(t dnsprovider.RecordType, data string, ttl int64, owner dnsprovider.Owner) kv {
	return kv{key: webPath + "/" + leaf(t, data), value: encode(data, ttl, owner)}
}

func owned1(t dnsprovider.RecordType, ttl int64, owner dnsprovider.Owner, data ...string) dnsprovider.Owned {
	return dnsprovider.Owned{RecordSet: dnsprovider.RecordSet{Name: "web.example.com.", Type: t, TTL: ttl, Data: data}, Owner: owner}
}

func TestReadName(t *testing.T) {
	for _, tc := range []struct {
		name         string
		exact, below []kv
		want         []dnsprovider.Owned
		wantBlocker  string
	}{
		{name: "nothing", want: []dnsprovider.Owned{}},
		{
			name: "several A records of one owner are one set, data sorted",
			below: []kv{
				key(dnsprovider.A, "192.0.2.3", 180, web),
				key(dnsprovider.A, "192.0.2.1", 180, web),
				key(dnsprovider.A, "192.0.2.2", 180, web),
			},
			want: []dnsprovider.Owned{owned1(dnsprovider.A, 180, web, "192.0.2.1", "192.0.2.2", "192.0.2.3")},
		},
		{
			name: "sets by type and owner: foreign first, then by federation and object",
			below: []kv{
				key(dnsprovider.A, "192.0.2.1", 180, web),
				key(dnsprovider.AAAA, "2001:db8::1", 60, web),
				key(dnsprovider.A, "192.0.2.2", 30, api),
				{key: webPath + "/x1", value: []byte(`{"host":"198.51.100.1","ttl":120}`)},
				{key: webPath + "/x2", value: []byte(`{"host":"198.51.100.2","ttl":120,"owner":"external-dns"}`)},
			},
			want: []dnsprovider.Owned{
				owned1(dnsprovider.A, 120, foreign, "198.51.100.1", "198.51.100.2"),
				owned1(dnsprovider.A, 30, api, "192.0.2.2"),
				owned1(dnsprovider.A, 180, web, "192.0.2.1"),
				owned1(dnsprovider.AAAA, 60, web, "2001:db8::1"),
			},
		},
		{
			name: "repeated addresses once, the smallest TTL",
			below: []kv{
				{key: webPath + "/x1", value: []byte(`{"host":"198.51.100.1","ttl":120}`)},
				{key: webPath + "/x2", value: []byte(`{"host":"198.51.100.1","ttl":60}`)},
			},
			want: []dnsprovider.Owned{owned1(dnsprovider.A, 60, foreign, "198.51.100.1")},
		},
		{
			name:  "TXT records are no set",
			below: []kv{{key: webPath + "/t", value: []byte(`{"text":"v=spf1"}`)}},
			want:  []dnsprovider.Owned{},
		},
		{
			name: "keys of a name below are not the name's, and block it",
			below: []kv{
				key(dnsprovider.A, "192.0.2.1", 180, web),
				{key: webPath + "/www/x1", value: []byte(`{"host":"198.51.100.1"}`)},
			},
			want:        []dnsprovider.Owned{owned1(dnsprovider.A, 180, web, "192.0.2.1")},
			wantBlocker: webPath + "/www/x1",
		},
		{
			name:        "the key at the path itself is the name's record when there is none below, and blocks it",
			exact:       []kv{{key: webPath, value: []byte(`{"host":"198.51.100.1","ttl":10}`)}},
			want:        []dnsprovider.Owned{owned1(dnsprovider.A, 10, foreign, "198.51.100.1")},
			wantBlocker: webPath,
		},
		{
			name:        "the key at the path itself is not served when there are keys below",
			exact:       []kv{{key: webPath, value: []byte(`{"host":"198.51.100.1","ttl":10}`)}},
			below:       []kv{key(dnsprovider.A, "192.0.2.1", 180, web)},
			want:        []dnsprovider.Owned{owned1(dnsprovider.A, 180, web, "192.0.2.1")},
			wantBlocker: webPath,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := readName("web.example.com.", webPath, tc.exact, tc.below)
			if err != nil {
				t.Fatal(err)
			}
			if got := owned(st.sets); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("sets:\n got %+v\nwant %+v", got, tc.want)
			}
			if st.blocker(nil) != tc.wantBlocker {
				t.Errorf("blocker = %q, want %q", st.blocker(nil), tc.wantBlocker)
			}
		})
	}
}

func TestReadNameKeepsTheKeysOfEachSet(t *testing.T) {
	a1, a2 := key(dnsprovider.A, "192.0.2.1", 180, web), key(dnsprovider.A, "192.0.2.2", 180, web)
	v6 := key(dnsprovider.AAAA, "2001:db8::1", 180, web)
	st, err := readName("web.example.com.", webPath, nil, []kv{a1, v6, a2})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.sets) != 2 || !reflect.DeepEqual(st.sets[0].keys, []kv{a1, a2}) || !reflect.DeepEqual(st.sets[1].keys, []kv{v6}) {
		t.Fatalf("sets = %+v, want the A set with keys %v and the AAAA set with %v", st.sets, []kv{a1, a2}, v6)
	}
}

func TestReadNameRefusesAValueCoreDNSCannotRead(t *testing.T) {
	_, err := readName("web.example.com.", webPath, nil, []kv{{key: webPath + "/x1", value: []byte("not json")}})
	if err == nil || !strings.Contains(err.Error(), webPath+"/x1") {
		t.Fatalf("readName = %v, want an error naming the key %s/x1", err, webPath)
	}
}
