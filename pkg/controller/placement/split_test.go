package placement

import (
	"fmt"
	"testing"
)

func TestEven(t *testing.T) {
	clusters := []string{"a", "b", "c"}
	for _, total := range []int64{0, 1, 2, 3, 7, 100} {
		got := Even(total, clusters, "ns/obj")
		var sum int64
		for _, c := range clusters {
			n := got[c]
			if n < total/3 || n > total/3+1 {
				t.Errorf("total %d: %s gets %d", total, c, n)
			}
			sum += n
		}
		if sum != total {
			t.Errorf("total %d: placed %d", total, sum)
		}
		again := Even(total, clusters, "ns/obj")
		if fmt.Sprint(again) != fmt.Sprint(got) {
			t.Errorf("total %d: split not deterministic: %v vs %v", total, got, again)
		}
	}
	// Remainders of many objects spread over the clusters instead of
	// piling onto the first one.
	ones := map[string]int{}
	for i := 0; i < 300; i++ {
		for c, n := range Even(1, clusters, fmt.Sprintf("ns/obj-%d", i)) {
			ones[c] += int(n)
		}
	}
	for _, c := range clusters {
		if ones[c] < 60 {
			t.Errorf("cluster %s got the remainder of only %d of 300 objects: %v", c, ones[c], ones)
		}
	}
	if len(Even(5, nil, "k")) != 0 {
		t.Error("no clusters, no placement")
	}
}

func TestSplitAlong(t *testing.T) {
	cases := []struct {
		name   string
		total  int64
		shares map[string]int64
		want   map[string]int64
	}{
		// The bug this fixes: parallelism 2 over 3 members left one with
		// parallelism 0 but completions 2, and the Job never completed.
		{"completions follow parallelism", 6, map[string]int64{"a": 1, "b": 1, "c": 0}, map[string]int64{"a": 3, "b": 3, "c": 0}},
		{"in proportion", 10, map[string]int64{"a": 3, "b": 1, "c": 1}, map[string]int64{"a": 6, "b": 2, "c": 2}},
		{"a left-out member gets none", 5, map[string]int64{"a": 2, "b": 1, "c": 0}, nil},
		{"nothing runs anywhere: even", 6, map[string]int64{"a": 0, "b": 0, "c": 0}, map[string]int64{"a": 2, "b": 2, "c": 2}},
		{"zero total", 0, map[string]int64{"a": 1, "b": 1}, map[string]int64{"a": 0, "b": 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := SplitAlong(tc.total, tc.shares, "ns/job")
			var sum int64
			for name, n := range got {
				sum += n
				if n > 0 && tc.shares[name] == 0 && tc.name != "nothing runs anywhere: even" {
					t.Errorf("cluster %s gets %d with a share of 0: %v", name, n, got)
				}
			}
			if sum != tc.total {
				t.Errorf("placed %d of %d: %v", sum, tc.total, got)
			}
			if tc.want != nil && fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
