package fakecompute

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net/http"
	"strings"
	"time"
)

// segOperations is where a scope's operations live: global/operations for
// changes to global resources, zones/z/operations for zonal ones.
const segOperations = "operations"

// operation is the record of one change, which a client polls with Get or
// Wait until it is DONE.
type operation struct {
	wire wireOperation
	// polls is how many more polls answer RUNNING.
	polls int
	// pending checks and commits the change of a RUNNING operation; nil
	// once it is DONE.
	pending func() (func(), *apiError)
}

// wireOperation is the API's Operation, the fields a client reads.
type wireOperation struct {
	Kind                string          `json:"kind"`
	ID                  uint64          `json:"id,string"`
	Name                string          `json:"name"`
	OperationType       string          `json:"operationType"`
	TargetLink          string          `json:"targetLink"`
	TargetID            uint64          `json:"targetId,string"`
	Status              string          `json:"status"`
	Progress            int             `json:"progress"`
	InsertTime          string          `json:"insertTime"`
	StartTime           string          `json:"startTime"`
	EndTime             string          `json:"endTime,omitempty"`
	Zone                string          `json:"zone,omitempty"`
	SelfLink            string          `json:"selfLink"`
	Error               *operationError `json:"error,omitempty"`
	HTTPErrorStatusCode int             `json:"httpErrorStatusCode,omitempty"`
	HTTPErrorMessage    string          `json:"httpErrorMessage,omitempty"`
}

type operationError struct {
	Errors []operationErrorItem `json:"errors"`
}

type operationErrorItem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func timestamp() string { return time.Now().Format("2006-01-02T15:04:05.000-07:00") }

// mutate answers a change as the API does: with an operation. check
// validates the change against the current state and returns the commit
// that applies it; a change that does not validate is answered with its
// error at once and leaves no operation. The commit runs now or, for a
// change SlowNext slowed down, when a poll finds the operation done, after
// check has run again on the state of that moment.
func (s *Server) mutate(opType string, target ref, targetID uint64, check func() (func(), *apiError)) (any, *apiError) {
	commit, err := check()
	if err != nil {
		return nil, err
	}
	id := s.newID()
	at := ref{
		scope: scope{project: target.project, zone: target.zone, segment: segOperations},
		name:  fmt.Sprintf("operation-%d-%x", time.Now().UnixMilli(), id),
	}
	now := timestamp()
	op := &operation{wire: wireOperation{
		Kind:          "compute#operation",
		ID:            id,
		Name:          at.name,
		OperationType: opType,
		TargetLink:    s.link(target),
		TargetID:      targetID,
		Status:        "RUNNING",
		InsertTime:    now,
		StartTime:     now,
		SelfLink:      s.link(at),
	}}
	if target.zone != "" {
		op.wire.Zone = s.zoneLink(target.project, target.zone)
	}
	s.ops[at] = op
	if len(s.slow) > 0 {
		polls := s.slow[0]
		s.slow = s.slow[1:]
		if polls > 0 {
			op.polls, op.pending = polls, check
			return op.wire, nil
		}
	}
	commit()
	op.finish(nil)
	return op.wire, nil
}

// finish marks an operation DONE, with the error of a change that no longer
// applied when it completed.
func (op *operation) finish(err *apiError) {
	op.wire.Status, op.wire.Progress, op.wire.EndTime = "DONE", 100, timestamp()
	if err == nil {
		return
	}
	code, ok := operationCodes[err.Reason]
	if !ok {
		code = "INTERNAL_ERROR"
	}
	op.wire.Error = &operationError{Errors: []operationErrorItem{{Code: code, Message: err.Message}}}
	op.wire.HTTPErrorStatusCode = err.Code
	op.wire.HTTPErrorMessage = strings.ToUpper(http.StatusText(err.Code))
}

// pollOperation serves Get and Wait of global and zonal operations alike.
// Wait does not wait: the fake has no time, only polls, and a RUNNING
// operation advances by one poll either way.
func (s *Server) pollOperation(r *http.Request, _ []byte) (any, *apiError) {
	at := pathRef(r, segOperations)
	op := s.ops[at]
	if op == nil {
		return nil, notFound(at)
	}
	if op.pending != nil {
		if op.polls > 0 {
			op.polls--
			return op.wire, nil
		}
		commit, err := op.pending()
		op.pending = nil
		if err == nil {
			commit()
		}
		op.finish(err)
	}
	return op.wire, nil
}

// newFingerprint returns a fingerprint no resource had before, in the
// API's form: 8 bytes in base64.
func (s *Server) newFingerprint() string {
	s.prints++
	h := fnv.New64a()
	_, _ = h.Write(binary.BigEndian.AppendUint64(nil, s.prints))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
