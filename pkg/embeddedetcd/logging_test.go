package embeddedetcd

import (
	"sync/atomic"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestQuietCoreLeavesOutOnlyWhatTellsNothing: the two start-up warnings
// always, the listeners' errors only once Stop has begun; anything else,
// and those errors while etcd runs, reach the log.
func TestQuietCoreLeavesOutOnlyWhatTellsNothing(t *testing.T) {
	inner, logs := observer.New(zapcore.WarnLevel)
	closing := &atomic.Bool{}
	lg := zap.New(quietCore{Core: inner, closing: closing}).With(zap.String("member", "federation"))

	lg.Warn("simple token is not cryptographically signed")
	lg.Warn("Running http and grpc server on single port. This is not recommended for production.")
	lg.Error("setting up serving from embedded etcd failed.", zap.String("when", "running"))
	lg.Warn("slow fdatasync")
	lg.Info("below the level")
	closing.Store(true)
	lg.Error("setting up serving from embedded etcd failed.", zap.String("when", "closing"))
	lg.Warn("stopping insecure grpc server due to error")
	lg.Warn("stopped insecure grpc server due to error")
	lg.Error("failed to save consistent index")

	var got []string
	for _, e := range logs.All() {
		got = append(got, e.Message)
	}
	want := []string{"setting up serving from embedded etcd failed.", "slow fdatasync", "failed to save consistent index"}
	if len(got) != len(want) {
		t.Fatalf("logged %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: %q, want %q", i, got[i], want[i])
		}
	}
	if when := logs.All()[0].ContextMap()["when"]; when != "running" {
		t.Errorf("the serving error logged was the one %v, want the one while running", when)
	}
}
