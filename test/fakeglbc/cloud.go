package fakeglbc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"google.golang.org/api/compute/v1"
	"google.golang.org/api/googleapi"
)

// Operation polling: Wait returns as soon as the operation is done or after
// a while on the real API, but a fake may answer RUNNING at once, so the
// loop sleeps between polls, from opPollFirst doubling up to opPollMax.
const (
	opPollFirst = 10 * time.Millisecond
	opPollMax   = 500 * time.Millisecond
	opDone      = "DONE"
)

// opError is an operation that finished with an error.
type opError struct {
	op         string
	httpStatus int64
	code       string
	message    string
}

func (e *opError) Error() string {
	return fmt.Sprintf("operation %s failed: %s (%d): %s", e.op, e.code, e.httpStatus, e.message)
}

// cloud is the Compute API of one member's project and zone.
type cloud struct {
	svc                    *compute.Service
	project, zone, network string
}

// wait polls op until it is done and returns its error, if any.
func (c *cloud) wait(ctx context.Context, op *compute.Operation) error {
	delay := opPollFirst
	for op.Status != opDone {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, opPollMax)
		var err error
		if op.Zone != "" {
			op, err = c.svc.ZoneOperations.Wait(c.project, lastSegment(op.Zone), op.Name).Context(ctx).Do()
		} else {
			op, err = c.svc.GlobalOperations.Wait(c.project, op.Name).Context(ctx).Do()
		}
		if err != nil {
			return fmt.Errorf("wait for operation: %w", err)
		}
	}
	if op.Error != nil && len(op.Error.Errors) > 0 {
		e := op.Error.Errors[0]
		return &opError{op: op.Name, httpStatus: op.HttpErrorStatusCode, code: e.Code, message: e.Message}
	}
	return nil
}

// opCall is a mutation call of the API; its result is an operation.
type opCall interface {
	Do(opts ...googleapi.CallOption) (*compute.Operation, error)
}

// run sends a mutation and waits for its operation.
func (c *cloud) run(ctx context.Context, call opCall) error {
	op, err := call.Do()
	if err != nil {
		return err
	}
	return c.wait(ctx, op)
}

// globalLink and zonalLink build the URL the API gives a resource as its
// selfLink; the API takes it wherever a resource is referenced.
func (c *cloud) globalLink(collection, name string) string {
	return fmt.Sprintf("%sprojects/%s/global/%s/%s", c.svc.BasePath, c.project, collection, name)
}

func (c *cloud) zonalLink(collection, name string) string {
	return fmt.Sprintf("%sprojects/%s/zones/%s/%s/%s", c.svc.BasePath, c.project, c.zone, collection, name)
}

// hasStatus reports whether err is an API error, returned directly or by an
// operation, with the HTTP status code, or with one of the reasons or
// operation error codes given.
func hasStatus(err error, code int, reasons ...string) bool {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		if ge.Code == code {
			return true
		}
		for _, item := range ge.Errors {
			for _, r := range reasons {
				if strings.EqualFold(item.Reason, r) {
					return true
				}
			}
		}
		return false
	}
	var oe *opError
	if errors.As(err, &oe) {
		if oe.httpStatus == int64(code) {
			return true
		}
		for _, r := range reasons {
			if strings.EqualFold(oe.code, r) {
				return true
			}
		}
	}
	return false
}

func isNotFound(err error) bool {
	return hasStatus(err, http.StatusNotFound, "notFound", "RESOURCE_NOT_FOUND")
}

func isAlreadyExists(err error) bool {
	return hasStatus(err, http.StatusConflict, "alreadyExists", "RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS")
}

func isStale(err error) bool {
	return hasStatus(err, http.StatusPreconditionFailed, "conditionNotMet", "CONDITION_NOT_MET")
}

// isInUse reports the API's refusal to delete a resource another one still
// references. The HTTP status alone (400) would also match bad requests.
func isInUse(err error) bool {
	return hasStatus(err, 0, "resourceInUseByAnotherResource", "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE")
}

// ignore returns nil for errors that match any of the predicates.
func ignore(err error, preds ...func(error) bool) error {
	for _, p := range preds {
		if err != nil && p(err) {
			return nil
		}
	}
	return err
}

// resourcePath is the project-relative part of a resource URL
// ("projects/p/global/urlMaps/x"), so that links built against different
// endpoints, or partial URLs, compare equal.
func resourcePath(link string) string {
	if i := strings.Index(link, "projects/"); i >= 0 {
		return link[i:]
	}
	return link
}

func sameLink(a, b string) bool { return resourcePath(a) == resourcePath(b) }

// lastSegment is the name at the end of a resource URL.
func lastSegment(link string) string {
	return link[strings.LastIndex(link, "/")+1:]
}
