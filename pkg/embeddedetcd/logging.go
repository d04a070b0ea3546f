package embeddedetcd

import (
	"fmt"
	"sync/atomic"

	"go.etcd.io/etcd/client/pkg/v3/logutil"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// etcd's messages that tell the federation's admin nothing, left out of
// the log. Two warnings at every start about features the embedded etcd
// does not use on purpose:
var unusedFeatureWarnings = map[string]bool{
	// one socket serves gRPC and HTTP: it has one client, and no port.
	"Running http and grpc server on single port. This is not recommended for production.": true,
	// etcd's own authentication is off: the socket's directory is the
	// access control.
	"simple token is not cryptographically signed": true,
}

// And, once Stop has begun, the errors of etcd's listeners being closed
// under it, which etcd logs as a failure to serve, with a stack trace.
var closingMessages = map[string]bool{
	"setting up serving from embedded etcd failed.": true,
	"stopping insecure grpc server due to error":    true,
	"stopped insecure grpc server due to error":     true,
}

// quietCore passes etcd's log entries on to its core, except those above.
type quietCore struct {
	zapcore.Core
	closing *atomic.Bool
}

func (c quietCore) With(fields []zapcore.Field) zapcore.Core {
	return quietCore{Core: c.Core.With(fields), closing: c.closing}
}

func (c quietCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if unusedFeatureWarnings[e.Message] || (c.closing.Load() && closingMessages[e.Message]) {
		return ce
	}
	return c.Core.Check(e, ce)
}

// newLogger is etcd's own logger (JSON, warnings and worse) with the
// messages above left out; closing says Stop has begun.
func newLogger(closing *atomic.Bool) (*zap.Logger, error) {
	cfg := logutil.DefaultZapLoggerConfig
	cfg.Level = zap.NewAtomicLevelAt(zap.WarnLevel)
	lg, err := cfg.Build(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return quietCore{Core: c, closing: closing} }))
	if err != nil {
		return nil, fmt.Errorf("embedded etcd: its logger: %w", err)
	}
	return lg, nil
}
