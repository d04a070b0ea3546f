package clusterclient

import (
	"errors"
	"testing"
)

func TestSlotsOnePerObjectAndClusterWithinACap(t *testing.T) {
	w := newSlots(2)
	if !w.start("a", "ns/x") {
		t.Fatal("first write of ns/x to a refused")
	}
	if w.start("a", "ns/x") {
		t.Error("a second write of ns/x to a started while the first runs")
	}
	if !w.start("b", "ns/x") {
		t.Error("a write of ns/x to another cluster refused")
	}
	if !w.start("a", "ns/y") {
		t.Error("a write of another object to a refused below the cap")
	}
	if w.start("a", "ns/z") {
		t.Error("a third write to a started above the cap of 2")
	}
	if w.start("a", "ns/w") || w.start("a", "ns/z") {
		t.Error("a write to a started above the cap of 2")
	}
	// Each slot that frees up wakes the object waiting longest, once.
	if next := w.finish("a", "ns/x"); next != "ns/z" {
		t.Errorf("finish woke %q, want ns/z, first in line", next)
	}
	if !w.start("a", "ns/z") {
		t.Error("a write to a refused after one finished")
	}
	if next := w.finish("a", "ns/z"); next != "ns/w" {
		t.Errorf("finish woke %q, want ns/w, next in line", next)
	}
	if next := w.finish("a", "ns/y"); next != "" {
		t.Errorf("finish woke %q with nobody in line", next)
	}
	if !w.start("b", "ns/y") {
		t.Error("cluster b's count was charged for cluster a's writes")
	}
}

// busyWithTwoInLine is a member with one slot, taken by ns/x, and ns/z
// then ns/y waiting in line.
func busyWithTwoInLine() *slots {
	w := newSlots(1)
	w.start("a", "ns/x")
	w.start("a", "ns/z")
	w.start("a", "ns/y")
	return w
}

func TestSlotsLineKeepsNoStaleEntries(t *testing.T) {
	// The slot freed for ns/z goes to ns/y, synced first for another
	// reason: ns/y leaves the line, ns/z goes back into it.
	w := busyWithTwoInLine()
	if next := w.finish("a", "ns/x"); next != "ns/z" {
		t.Fatalf("finish woke %q, want ns/z", next)
	}
	if !w.start("a", "ns/y") {
		t.Fatal("ns/y refused a free slot")
	}
	if w.start("a", "ns/z") {
		t.Fatal("ns/z started above the cap")
	}
	if next := w.finish("a", "ns/y"); next != "ns/z" {
		t.Errorf("finish woke %q, want ns/z: ns/y has had its write", next)
	}

	// An object woken for a slot that turns out to need no write passes
	// the slot on to the next in line.
	w = busyWithTwoInLine()
	if next := w.finish("a", "ns/x"); next != "ns/z" {
		t.Fatalf("finish woke %q, want ns/z", next)
	}
	if next := w.noWrite("a", "ns/z"); next != "ns/y" {
		t.Errorf("noWrite with a free slot woke %q, want ns/y", next)
	}

	// With every slot taken, noWrite only takes the object out of line.
	w = busyWithTwoInLine()
	if next := w.noWrite("a", "ns/z"); next != "" {
		t.Errorf("noWrite with no free slot woke %q", next)
	}
	if next := w.finish("a", "ns/x"); next != "ns/y" {
		t.Errorf("finish woke %q, want ns/y: ns/z had left the line", next)
	}
}

func TestMemberWriteTakenOrLeftBehind(t *testing.T) {
	done := newWrite("a", "ns/x")
	if done.complete(WriteResult{Op: OpCreated}) {
		t.Error("a write nobody left behind reported abandoned")
	}
	if r, ok := done.take(); !ok || r.Op != OpCreated {
		t.Errorf("take after complete = %v, %v; want the result", r, ok)
	}

	late := newWrite("a", "ns/x")
	if _, ok := late.take(); ok {
		t.Fatal("take before complete returned a result")
	}
	if !late.complete(WriteResult{Err: errors.New("late")}) {
		t.Error("a write left behind did not report it when it ended: nobody would sync the object again")
	}
	select {
	case <-late.done:
	default:
		t.Error("done not closed after complete")
	}
}
