package freshwrites

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
)

func copyAt(rv string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]interface{}{}}
	u.SetNamespace("ns")
	u.SetName("cm")
	u.SetResourceVersion(rv)
	return u
}

func rvOf(u *unstructured.Unstructured) string {
	if u == nil {
		return "<nil>"
	}
	return u.GetResourceVersion()
}

func TestCache(t *testing.T) {
	now := time.Unix(1000, 0)
	c := New[*unstructured.Unstructured](DefaultTTL).WithClock(func() time.Time { return now })
	steps := []struct {
		name   string
		do     func()
		key    string
		cached *unstructured.Unstructured
		want   string
	}{
		{"nothing written, nothing cached", func() {}, "a/ns/cm", nil, "<nil>"},
		{"a fresh create stands in for an empty cache", func() { c.Wrote("a/ns/cm", copyAt("10")) }, "a/ns/cm", nil, "10"},
		{"a write under one key says nothing of another", func() {}, "b/ns/cm", nil, "<nil>"},
		{"an older cached copy loses to the newer write", func() {}, "a/ns/cm", copyAt("9"), "10"},
		{"once the informer delivers it, an empty cache (a later delete) wins", func() { c.Seen("a/ns/cm", copyAt("10")) }, "a/ns/cm", nil, "<nil>"},
		{"a delete forgets the write", func() { c.Wrote("a/ns/cm", copyAt("20")); c.Forget("a/ns/cm") }, "a/ns/cm", nil, "<nil>"},
		{"a cache that moved past the write wins", func() { c.Wrote("a/ns/cm", copyAt("30")) }, "a/ns/cm", copyAt("31"), "31"},
		{"and the write it moved past is dropped", func() {}, "a/ns/cm", nil, "<nil>"},
		{"a write without a resourceVersion is ignored", func() { c.Wrote("a/ns/cm", copyAt("")) }, "a/ns/cm", nil, "<nil>"},
		{"a nil write is ignored", func() { c.Wrote("a/ns/cm", nil) }, "a/ns/cm", nil, "<nil>"},
		{"an informer event older than the write keeps it", func() { c.Wrote("a/ns/cm", copyAt("40")); c.Seen("a/ns/cm", copyAt("39")) }, "a/ns/cm", nil, "40"},
		{"past the time to live the cache wins, even empty", func() { now = now.Add(DefaultTTL + time.Second) }, "a/ns/cm", nil, "<nil>"},
	}
	for _, s := range steps {
		s.do()
		if got := rvOf(c.Newest(s.key, s.cached)); got != s.want {
			t.Fatalf("%s: Newest(%s, cached %s) = %s, want %s", s.name, s.key, rvOf(s.cached), got, s.want)
		}
	}
	if n := len(c.m); n != 0 {
		t.Errorf("every write should be gone by now, %d left", n)
	}
}

func TestHoldsTellsTheEchoOfAWrite(t *testing.T) {
	c := New[*unstructured.Unstructured](DefaultTTL)
	c.Wrote("a/ns/cm", copyAt("10"))
	for _, tc := range []struct {
		key, rv string
		want    bool
	}{
		{"a/ns/cm", "10", true},
		{"a/ns/cm", "11", false},
		{"a/ns/cm", "9", false},
		{"a/ns/cm", "", false},
		{"b/ns/cm", "10", false},
	} {
		if got := c.Holds(tc.key, tc.rv); got != tc.want {
			t.Errorf("Holds(%s, %q) = %v, want %v", tc.key, tc.rv, got, tc.want)
		}
	}
	c.Seen("a/ns/cm", copyAt("10"))
	if c.Holds("a/ns/cm", "10") {
		t.Error("Holds after the informer delivered the write: true, want false (nothing is remembered)")
	}
}

// A typed object works the same; a nil typed pointer counts as "not cached".
func TestCacheTyped(t *testing.T) {
	c := New[*federationv1beta1.Propagation](DefaultTTL)
	p := &federationv1beta1.Propagation{}
	p.ResourceVersion = "5"
	c.Wrote("ns/p", p)
	var none *federationv1beta1.Propagation
	if got := c.Newest("ns/p", none); got != p {
		t.Fatalf("got %v, want the written Propagation", got)
	}
	// Deleted from outside: the informer's delete forgets it, and the
	// cache's nil is the truth.
	c.Forget("ns/p")
	if got := c.Newest("ns/p", none); got != nil {
		t.Fatalf("after a delete got %v", got)
	}
}

func TestNewer(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{{"10", "9", true}, {"9", "10", false}, {"10", "10", false}, {"x", "1", false}, {"1", "", false}} {
		if got := Newer(tc.a, tc.b); got != tc.want {
			t.Errorf("Newer(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// A write the informer delivered before it was recorded is never Seen; it
// goes at a later write once older than the time to live, without its key
// being read again.
func TestUnseenWritesAreSweptAfterTheirTimeToLive(t *testing.T) {
	now := time.Unix(1000, 0)
	c := New[*unstructured.Unstructured](DefaultTTL).WithClock(func() time.Time { return now })
	c.Wrote("a/ns/early", copyAt("5"))
	now = now.Add(DefaultTTL / 2)
	c.Wrote("a/ns/recent", copyAt("6"))
	if len(c.m) != 2 {
		t.Fatalf("%d writes remembered, want 2", len(c.m))
	}
	now = now.Add(DefaultTTL/2 + time.Second)
	c.Wrote("a/ns/later", copyAt("7"))
	if _, ok := c.m["a/ns/early"]; ok {
		t.Errorf("a write older than the time to live is still remembered")
	}
	if _, ok := c.m["a/ns/recent"]; !ok {
		t.Errorf("a write younger than the time to live was dropped")
	}
	if got := rvOf(c.Newest("a/ns/later", nil)); got != "7" {
		t.Errorf("the newest write: got %s, want 7", got)
	}
}
