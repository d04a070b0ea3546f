package sync

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func copyAt(rv string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]interface{}{}}
	u.SetNamespace("ns")
	u.SetName("cm")
	u.SetResourceVersion(rv)
	return u
}

func TestRecentWrites(t *testing.T) {
	r := newRecentWrites()
	if got := r.newest("a", "ns/cm", nil); got != nil {
		t.Fatalf("nothing written, nothing cached: got %v", got)
	}

	// Created in cluster a; its informer has not delivered it yet.
	r.wrote("a", "ns/cm", copyAt("10"))
	if got := r.newest("a", "ns/cm", nil); got == nil || got.GetResourceVersion() != "10" {
		t.Fatalf("a fresh create must stand in for the cache: got %v", got)
	}
	if got := r.newest("b", "ns/cm", nil); got != nil {
		t.Fatalf("a write in cluster a says nothing of cluster b: got %v", got)
	}
	// An older cached copy loses to the newer write.
	if got := r.newest("a", "ns/cm", copyAt("9")); got.GetResourceVersion() != "10" {
		t.Fatalf("cache older than the write: got rv %s, want 10", got.GetResourceVersion())
	}
	// Once the informer delivers it, the cache is the truth again.
	r.seen("a", "ns/cm", copyAt("10"))
	if got := r.newest("a", "ns/cm", nil); got != nil {
		t.Fatalf("after the informer delivered the write, an empty cache (a later delete) must win: got %v", got)
	}

	// A delete forgets the write, so a deleted copy is seen as deleted.
	r.wrote("a", "ns/cm", copyAt("20"))
	r.forget("a", "ns/cm")
	if got := r.newest("a", "ns/cm", nil); got != nil {
		t.Fatalf("after a delete: got %v", got)
	}

	// A cache that moved past the write (someone else updated the copy)
	// wins, and the write is dropped.
	r.wrote("a", "ns/cm", copyAt("30"))
	if got := r.newest("a", "ns/cm", copyAt("31")); got.GetResourceVersion() != "31" {
		t.Fatalf("newer cache: got rv %s, want 31", got.GetResourceVersion())
	}
	if got := r.newest("a", "ns/cm", nil); got != nil {
		t.Fatalf("a write the cache moved past must be dropped: got %v", got)
	}
}
