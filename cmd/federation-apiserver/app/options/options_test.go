package options

import (
	"slices"
	"testing"
)

func TestUncacheEventsKeepsWhatTheFlagGives(t *testing.T) {
	for _, tc := range []struct {
		name       string
		watchCache bool
		flag       []string
		want       []string
	}{
		{"default", true, nil, []string{"events#0"}},
		{"other resources kept", true, []string{"configmaps#500"}, []string{"configmaps#500", "events#0"}},
		{"events named by the flag", true, []string{"events#100"}, []string{"events#100"}},
		{"no watch cache at all", false, []string{"configmaps#500"}, []string{"configmaps#500"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServerRunOptions()
			s.Etcd.EnableWatchCache = tc.watchCache
			s.Etcd.WatchCacheSizes = tc.flag
			if err := s.uncacheEvents(); err != nil {
				t.Fatal(err)
			}
			got := slices.Sorted(slices.Values(s.Etcd.WatchCacheSizes))
			if !slices.Equal(got, tc.want) {
				t.Errorf("--watch-cache-sizes %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUncacheEventsRejectsABadFlag(t *testing.T) {
	s := NewServerRunOptions()
	s.Etcd.WatchCacheSizes = []string{"events"}
	if err := s.uncacheEvents(); err == nil {
		t.Fatal("--watch-cache-sizes=events (no size) accepted")
	}
}
