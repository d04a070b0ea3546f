package corefile

import (
	"strings"
	"testing"
)

// kubeadm is the Corefile kubeadm gives a cluster.
const kubeadm = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`

// kubeadmJoined is kubeadm after joining myfederation.
const kubeadmJoined = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    federation cluster.local { # added by kubefed join
       myfederation example.com # added by kubefed join
       zone us-central1-a # added by kubefed join
       region us-central1 # added by kubefed join
    }
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`

var myfed = Settings{Federation: "myfederation", Domain: "example.com", Zone: "us-central1-a", Region: "us-central1"}

// with returns myfed changed by f.
func with(f func(*Settings)) Settings {
	st := myfed
	f(&st)
	return st
}

func TestJoin(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       string
		settings Settings
		want     string // empty: unchanged
		notes    []string
		err      string
	}{
		{name: "kubeadm's default", in: kubeadm, settings: myfed, want: kubeadmJoined},
		{name: "already joined", in: kubeadmJoined, settings: myfed},
		{name: "domain with a trailing dot and capitals is the same", in: kubeadmJoined, settings: with(func(s *Settings) { s.Domain = "Example.COM." })},
		{
			name: "a second federation goes after the first", in: kubeadmJoined,
			settings: Settings{Federation: "otherfed", Domain: "other.org", Zone: "us-central1-a", Region: "us-central1"},
			want: strings.Replace(kubeadmJoined, "       myfederation example.com # added by kubefed join\n",
				"       myfederation example.com # added by kubefed join\n       otherfed other.org # added by kubefed join\n", 1),
		},
		{
			name: "domain changed", in: kubeadmJoined, settings: with(func(s *Settings) { s.Domain = "example.org" }),
			want: strings.Replace(kubeadmJoined, "myfederation example.com #", "myfederation example.org #", 1),
		},
		{
			name: "zone and region changed", in: kubeadmJoined, settings: with(func(s *Settings) { s.Zone, s.Region = "europe-west1-b", "europe-west1" }),
			want: strings.NewReplacer("zone us-central1-a", "zone europe-west1-b", "region us-central1", "region europe-west1").Replace(kubeadmJoined),
		},
		{
			name: "nodes without topology labels", in: kubeadm, settings: with(func(s *Settings) { s.Zone, s.Region = "", "" }),
			want: strings.NewReplacer("       zone us-central1-a # added by kubefed join\n", "", "       region us-central1 # added by kubefed join\n", "").Replace(kubeadmJoined),
		},
		{
			name: "zone lines of an earlier join stay when the nodes lost their labels", in: kubeadmJoined,
			settings: with(func(s *Settings) { s.Zone, s.Region = "", "" }),
		},
		{
			name:     "hand-written stanza that says the same",
			in:       ".:53 {\n    federation cluster.local {\n        myfederation example.com\n        zone us-central1-a\n        region us-central1\n    }\n    kubernetes cluster.local\n}\n",
			settings: myfed,
		},
		{
			name:     "hand-written stanza that says otherwise is left alone",
			in:       ".:53 {\n    federation cluster.local {\n        myfederation example.org\n        zone a\n        region r\n    }\n    kubernetes cluster.local\n}\n",
			settings: myfed,
			notes:    []string{"federation myfederation is written by hand with domain example.org, not example.com", "zone is written by hand as a", "region is written by hand as r"},
		},
		{
			name:     "hand-written stanza of another federation gets ours and the zone",
			in:       ".:53 {\n  federation {\n    other other.org\n  }\n  kubernetes cluster.local\n}\n",
			settings: myfed,
			want: ".:53 {\n  federation {\n    other other.org\n    myfederation example.com # added by kubefed join\n" +
				"    zone us-central1-a # added by kubefed join\n    region us-central1 # added by kubefed join\n  }\n  kubernetes cluster.local\n}\n",
		},
		{
			name:     "empty hand-written stanza",
			in:       ".:53 {\n  federation {\n  }\n  kubernetes\n}\n",
			settings: with(func(s *Settings) { s.Region = "" }),
			want:     ".:53 {\n  federation {\n    myfederation example.com # added by kubefed join\n    zone us-central1-a # added by kubefed join\n  }\n  kubernetes\n}\n",
		},
		{
			name: "kubernetes without arguments gives a federation without any",
			in:   ".:53 {\n  kubernetes\n}\n", settings: with(func(s *Settings) { s.Zone, s.Region = "", "" }),
			want: ".:53 {\n  federation { # added by kubefed join\n    myfederation example.com # added by kubefed join\n  }\n  kubernetes\n}\n",
		},
		{name: "no kubernetes plugin", in: "example.org {\n    file db.example.org\n}\n", settings: myfed, err: ErrNoKubernetes.Error()},
		{name: "empty Corefile", in: "", settings: myfed, err: ErrNoKubernetes.Error()},
		{
			name: "CRLF", in: strings.ReplaceAll(kubeadm, "\n", "\r\n"), settings: myfed,
			want: strings.ReplaceAll(kubeadmJoined, "\n", "\r\n"),
		},
		{
			name:     "tabs",
			in:       ".:53 {\n\terrors\n\tkubernetes cluster.local in-addr.arpa ip6.arpa\n\tforward . /etc/resolv.conf\n}\n",
			settings: myfed,
			want: ".:53 {\n\terrors\n\tfederation cluster.local { # added by kubefed join\n\t\tmyfederation example.com # added by kubefed join\n" +
				"\t\tzone us-central1-a # added by kubefed join\n\t\tregion us-central1 # added by kubefed join\n\t}\n" +
				"\tkubernetes cluster.local in-addr.arpa ip6.arpa\n\tforward . /etc/resolv.conf\n}\n",
		},
		{
			name: "several server blocks: the one with kubernetes",
			in: "# stub zone\nexample.org:53 {\n    file /etc/coredns/db.example.org # the zone\n}\n\n" +
				"cluster.test:53 in-addr.arpa:53 {\n    kubernetes cluster.test {\n        pods verified\n    }\n}\n. {\n    forward . 8.8.8.8\n}\n",
			settings: with(func(s *Settings) { s.Zone, s.Region = "", "" }),
			want: "# stub zone\nexample.org:53 {\n    file /etc/coredns/db.example.org # the zone\n}\n\n" +
				"cluster.test:53 in-addr.arpa:53 {\n    federation cluster.test { # added by kubefed join\n        myfederation example.com # added by kubefed join\n    }\n" +
				"    kubernetes cluster.test {\n        pods verified\n    }\n}\n. {\n    forward . 8.8.8.8\n}\n",
		},
		{
			name:     "comments and quotes that look like braces",
			in:       ".:53 { # {\n    template IN A \"{\" {\n        answer \"} # {\"\n    }\n    kubernetes cluster.local # }\n}\n",
			settings: with(func(s *Settings) { s.Zone, s.Region = "", "" }),
			want: ".:53 { # {\n    template IN A \"{\" {\n        answer \"} # {\"\n    }\n    federation cluster.local { # added by kubefed join\n" +
				"        myfederation example.com # added by kubefed join\n    }\n    kubernetes cluster.local # }\n}\n",
		},
		{name: "kubernetes not on a line of its own", in: ".:53 { kubernetes cluster.local }\n", settings: myfed, err: "does not start a line of its own"},
		{name: "stanza on one line", in: ".:53 {\n  federation { other other.org }\n  kubernetes\n}\n", settings: myfed, err: "not laid out one setting a line"},
		{name: "stanza without a block", in: ".:53 {\n  federation\n  kubernetes\n}\n", settings: myfed, err: "has no block"},
		{name: "two stanzas", in: ".:53 {\n  federation {\n  }\n  federation {\n  }\n  kubernetes\n}\n", settings: myfed, err: "2 federation stanzas"},
		{name: "unclosed block", in: ".:53 {\n  kubernetes cluster.local\n", settings: myfed, err: "never closed"},
		{name: "unclosed quote", in: ".:53 {\n  kubernetes \"cluster.local\n}\n", settings: myfed, err: "quote \" is never closed"},
		{name: "stray brace", in: "}\n", settings: myfed, err: "closes no block"},
		{name: "federation called zone", in: kubeadm, settings: with(func(s *Settings) { s.Federation = "zone" }), err: "keyword"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Join(tc.in, tc.settings)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error containing %q", err, tc.err)
				}
				if res.Changed || res.Corefile != tc.in {
					t.Errorf("the Corefile changed although join failed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want == "" {
				want = tc.in
			}
			if res.Corefile != want {
				t.Errorf("got\n%s\nwant\n%s", res.Corefile, want)
			}
			if res.Changed != (tc.want != "") {
				t.Errorf("Changed = %v, want %v", res.Changed, tc.want != "")
			}
			for _, n := range tc.notes {
				if !strings.Contains(strings.Join(res.Notes, "\n"), n) {
					t.Errorf("notes %q lack %q", res.Notes, n)
				}
			}
			if len(tc.notes) == 0 && len(res.Notes) > 0 {
				t.Errorf("unexpected notes %q", res.Notes)
			}
			// Joining again changes nothing.
			again, err := Join(res.Corefile, tc.settings)
			if err != nil || again.Changed {
				t.Errorf("joining again: changed %v, error %v:\n%s", again.Changed, err, again.Corefile)
			}
		})
	}
}

func TestJoinSaysWhetherCoreDNSReloads(t *testing.T) {
	res, err := Join(kubeadm, myfed)
	if err != nil || !res.Reload {
		t.Errorf("kubeadm's Corefile: Reload %v, error %v; want true", res.Reload, err)
	}
	res, err = Join(strings.Replace(kubeadm, "    reload\n", "", 1), myfed)
	if err != nil || res.Reload {
		t.Errorf("without reload: Reload %v, error %v; want false", res.Reload, err)
	}
}

func TestUnjoin(t *testing.T) {
	twoFeds := strings.Replace(kubeadmJoined, "       myfederation example.com # added by kubefed join\n",
		"       myfederation example.com # added by kubefed join\n       otherfed other.org # added by kubefed join\n", 1)
	for _, tc := range []struct {
		name       string
		in         string
		federation string
		want       string // empty: unchanged
		notes      []string
	}{
		{name: "the stanza join created goes", in: kubeadmJoined, federation: "myfederation", want: kubeadm},
		{name: "CRLF", in: strings.ReplaceAll(kubeadmJoined, "\n", "\r\n"), federation: "myfederation", want: strings.ReplaceAll(kubeadm, "\n", "\r\n")},
		{name: "another federation's name", in: kubeadmJoined, federation: "otherfed"},
		{name: "nothing joined", in: kubeadm, federation: "myfederation"},
		{
			name: "another federation stays, with the zone", in: twoFeds, federation: "myfederation",
			want: strings.Replace(twoFeds, "       myfederation example.com # added by kubefed join\n", "", 1),
		},
		{
			name:       "a hand-written stanza gets back what it was",
			in:         ".:53 {\n  federation {\n    other other.org\n    myfederation example.com # added by kubefed join\n    zone z # added by kubefed join\n  }\n  kubernetes\n}\n",
			federation: "myfederation",
			want:       ".:53 {\n  federation {\n    other other.org\n  }\n  kubernetes\n}\n",
		},
		{
			name:       "hand-written lines stay",
			in:         ".:53 {\n  federation {\n    myfederation example.com\n    zone z\n  }\n  kubernetes\n}\n",
			federation: "myfederation",
		},
		{
			name:       "a stanza join created, with a line written by hand since",
			in:         ".:53 {\n  federation { # added by kubefed join\n    myfederation example.com # added by kubefed join\n    mine mine.org\n    zone z # added by kubefed join\n  }\n  kubernetes\n}\n",
			federation: "myfederation",
			want:       ".:53 {\n  federation { # added by kubefed join\n    mine mine.org\n    zone z # added by kubefed join\n  }\n  kubernetes\n}\n",
			notes:      []string{"kept the federation stanza kubefed join created"},
		},
		{
			name:       "a stanza join created, with a comment written by hand since",
			in:         ".:53 {\n  federation { # added by kubefed join\n    # keep me\n    myfederation example.com # added by kubefed join\n  }\n  kubernetes\n}\n",
			federation: "myfederation",
			want:       ".:53 {\n  kubernetes\n}\n",
			notes:      []string{"removed the federation stanza kubefed join created with the lines written into it since"},
		},
		{
			name:       "several server blocks",
			in:         "a.example {\n  federation { # added by kubefed join\n    myfederation example.com # added by kubefed join\n  }\n  kubernetes a.example\n}\nb.example {\n  federation {\n    myfederation example.com # added by kubefed join\n  }\n  kubernetes b.example\n}\n",
			federation: "myfederation",
			want:       "a.example {\n  kubernetes a.example\n}\nb.example {\n  federation {\n  }\n  kubernetes b.example\n}\n",
		},
		{
			name:       "a line shared with other settings is left with a note",
			in:         ".:53 {\n  federation {\n    myfederation example.com # added by kubefed join\n    zone z }\n  kubernetes\n}\n",
			federation: "myfederation",
			want:       ".:53 {\n  federation {\n    zone z }\n  kubernetes\n}\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Unjoin(tc.in, tc.federation)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want == "" {
				want = tc.in
			}
			if res.Corefile != want {
				t.Errorf("got\n%s\nwant\n%s", res.Corefile, want)
			}
			if res.Changed != (tc.want != "") {
				t.Errorf("Changed = %v, want %v", res.Changed, tc.want != "")
			}
			for _, n := range tc.notes {
				if !strings.Contains(strings.Join(res.Notes, "\n"), n) {
					t.Errorf("notes %q lack %q", res.Notes, n)
				}
			}
		})
	}
}

func TestUnjoinOfAnUnreadableCorefile(t *testing.T) {
	if _, err := Unjoin(".:53 {\n", "myfederation"); err == nil {
		t.Error("no error for an unclosed block")
	}
}

func TestJoinAndUnjoinRestoreTheInput(t *testing.T) {
	joined := 0
	for _, in := range joinUnjoinSeeds {
		res, err := Join(in, myfed)
		if err != nil {
			continue
		}
		joined++
		back, err := Unjoin(res.Corefile, myfed.Federation)
		if err != nil || back.Corefile != in {
			t.Errorf("unjoin after join of\n%s\ngave (error %v)\n%s", in, err, back.Corefile)
		}
	}
	if joined < 9 {
		t.Errorf("join accepted only %d of the seeds", joined)
	}
}

func TestDiff(t *testing.T) {
	got := Diff(kubeadm, kubeadmJoined)
	want := []string{
		"      ready",
		"+     federation cluster.local { # added by kubefed join",
		"+        myfederation example.com # added by kubefed join",
		"+        zone us-central1-a # added by kubefed join",
		"+        region us-central1 # added by kubefed join",
		"+     }",
		"      kubernetes cluster.local in-addr.arpa ip6.arpa {",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := Diff(kubeadm, kubeadm); d != nil {
		t.Errorf("diff of equal texts: %q", d)
	}
}

func TestSnippet(t *testing.T) {
	want := "federation cluster.local {\n    myfederation example.com\n    zone us-central1-a\n    region us-central1\n}"
	if got := Snippet("cluster.local", with(func(s *Settings) { s.Domain = "example.com." })); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

var joinUnjoinSeeds = []string{
	kubeadm,
	strings.ReplaceAll(kubeadm, "\n", "\r\n"),
	strings.ReplaceAll(kubeadm, "    ", "\t"),
	".:53 {\n  federation {\n    other other.org\n  }\n  kubernetes cluster.local\n}\n",
	".:53 {\n  federation cluster.local {\n    myfederation example.com\n  }\n  kubernetes cluster.local\n}\n",
	".:53 {\n  federation {\n  }\n  kubernetes\n}",
	"a.example {\n  whoami\n}\n\n.:53 {\n  kubernetes \"cluster.local\" {\n  }\n}\n",
	".:53 {\nkubernetes cluster.local\n}",
	".:53 { # {\n    template IN A \"{\" {\n        answer \"} # {\"\n    }\n    kubernetes cluster.local # }\n}\n",
	"(snippet) {\n  log\n}\n.:53 {\n  import snippet\n  kubernetes cluster.local \\\n    in-addr.arpa\n}\n",
	"",
	"}",
	".:53 {\n  kubernetes\n",
}

// FuzzJoinUnjoin checks that the editor never panics, that join's output
// reads back and joins again without a change, and that for a Corefile
// without join's marks, unjoin after join gives back the very bytes.
func FuzzJoinUnjoin(f *testing.F) {
	for _, s := range joinUnjoinSeeds {
		f.Add(s)
	}
	f.Add(kubeadmJoined)
	f.Fuzz(func(t *testing.T, in string) {
		if _, err := Unjoin(in, myfed.Federation); err != nil {
			return
		}
		res, err := Join(in, myfed)
		if err != nil {
			if res.Changed || res.Corefile != in {
				t.Fatalf("failed join changed the Corefile")
			}
			return
		}
		again, err := Join(res.Corefile, myfed)
		if err != nil || again.Changed {
			t.Fatalf("joining again: changed %v, error %v\ninput:\n%q\nafter join:\n%q", again.Changed, err, in, res.Corefile)
		}
		if strings.Contains(in, "kubefed") {
			// Lines of an earlier join are join's to change.
			return
		}
		back, err := Unjoin(res.Corefile, myfed.Federation)
		if err != nil {
			t.Fatalf("unjoin after join: %v\ninput:\n%q\nafter join:\n%q", err, in, res.Corefile)
		}
		if back.Corefile != in {
			t.Fatalf("unjoin after join gave\n%q\nnot the input\n%q\nafter join:\n%q", back.Corefile, in, res.Corefile)
		}
	})
}
