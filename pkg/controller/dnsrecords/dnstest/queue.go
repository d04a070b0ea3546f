package dnstest

import "github.com/kfederation/federation/pkg/controller/controllertest"

// RecordingQueue is controllertest.RecordingQueue, which the DNS
// controllers' tests use through Env.
type RecordingQueue = controllertest.RecordingQueue
