package framework

import "testing"

// TestProcNumbers reads the "name: number" lines of /proc files as they
// come: status (with units and tabs), io, and lines that are not numbers.
func TestProcNumbers(t *testing.T) {
	status := "Name:\tkube-apiserver\nVmRSS:\t  228332 kB\nvoluntary_ctxt_switches:\t41\nnonvoluntary_ctxt_switches:\t7\nCpus_allowed_list:\t1\n"
	got := procNumbers([]byte(status))
	for name, want := range map[string]int64{"VmRSS": 228332, "voluntary_ctxt_switches": 41, "nonvoluntary_ctxt_switches": 7, "Cpus_allowed_list": 1} {
		if got[name] != want {
			t.Errorf("%s = %d, want %d", name, got[name], want)
		}
	}
	if _, ok := got["Name"]; ok {
		t.Error("Name, not a number, was read as one")
	}
	io := procNumbers([]byte("rchar: 100\nsyscr: 12\nsyscw: 34\n"))
	if io["syscr"] != 12 || io["syscw"] != 34 {
		t.Errorf("io: syscr %d, syscw %d; want 12, 34", io["syscr"], io["syscw"])
	}
}
