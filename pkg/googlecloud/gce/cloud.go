// Package gce is what the federation asks of Compute Engine for a
// federated Ingress's global load balancer: reserve and release a global
// address, keep one firewall rule, and read which instance groups a
// backend service holds and which network tags the instances of a group
// carry. Every call goes through the official compute/v1 client, and
// every change waits for its operation to end, so that a caller sees its
// own writes.
package gce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	compute "google.golang.org/api/compute/v1"
	"google.golang.org/api/googleapi"
)

// ErrNotFound is returned when the resource asked for does not exist.
var ErrNotFound = errors.New("not found")

// operationPoll is how long to wait between two polls of an operation the
// API's own wait call returned unfinished.
const operationPoll = 500 * time.Millisecond

// Cloud is one project's Compute Engine, through the compute/v1 client.
type Cloud struct {
	svc     *compute.Service
	project string
	network string
}

// New returns a Cloud over svc for project; firewall rules go into network.
func New(svc *compute.Service, project, network string) *Cloud {
	if network == "" {
		network = DefaultNetwork
	}
	return &Cloud{svc: svc, project: project, network: network}
}

// Project is the project the Cloud works in.
func (c *Cloud) Project() string { return c.project }

// Address is a global static IP address.
type Address struct {
	Name string
	// IP is the address itself.
	IP string
	// Description is free text; the federation marks the addresses it
	// reserved there.
	Description string
	// InUse says a forwarding rule uses the address.
	InUse bool
}

// GetAddress returns the global address called name, ErrNotFound if the
// project has none.
func (c *Cloud) GetAddress(ctx context.Context, name string) (*Address, error) {
	a, err := c.svc.GlobalAddresses.Get(c.project, name).Context(ctx).Do()
	if err != nil {
		return nil, c.wrap(err, "get global address %s", name)
	}
	return &Address{Name: a.Name, IP: a.Address, Description: a.Description, InUse: a.Status == "IN_USE"}, nil
}

// ReserveAddress reserves a global address called name, with description.
// If the project has one of that name already, it returns that one: the
// caller decides from its description whether it may use it.
func (c *Cloud) ReserveAddress(ctx context.Context, name, description string) (*Address, error) {
	op, err := c.svc.GlobalAddresses.Insert(c.project, &compute.Address{Name: name, Description: description}).Context(ctx).Do()
	if err == nil {
		err = c.wait(ctx, op)
	}
	if err != nil && !isCode(err, http.StatusConflict) {
		return nil, c.wrap(err, "reserve global address %s", name)
	}
	return c.GetAddress(ctx, name)
}

// ReleaseAddress releases the global address called name; one that is
// already gone is no error.
func (c *Cloud) ReleaseAddress(ctx context.Context, name string) error {
	op, err := c.svc.GlobalAddresses.Delete(c.project, name).Context(ctx).Do()
	if err == nil {
		err = c.wait(ctx, op)
	}
	if err != nil && !isCode(err, http.StatusNotFound) {
		return c.wrap(err, "release global address %s", name)
	}
	return nil
}

// wait waits for op to end and returns its error, if it has one.
func (c *Cloud) wait(ctx context.Context, op *compute.Operation) error {
	for op.Status != "DONE" {
		var err error
		if op.Zone != "" {
			op, err = c.svc.ZoneOperations.Wait(c.project, path.Base(op.Zone), op.Name).Context(ctx).Do()
		} else {
			op, err = c.svc.GlobalOperations.Wait(c.project, op.Name).Context(ctx).Do()
		}
		if err != nil {
			return fmt.Errorf("wait for operation: %w", err)
		}
		if op.Status != "DONE" {
			select {
			case <-ctx.Done():
				return fmt.Errorf("wait for operation %s: %w", op.Name, ctx.Err())
			case <-time.After(operationPoll):
			}
		}
	}
	if op.Error != nil && len(op.Error.Errors) > 0 {
		msgs := make([]string, 0, len(op.Error.Errors))
		for _, e := range op.Error.Errors {
			msgs = append(msgs, e.Code+": "+e.Message)
		}
		return fmt.Errorf("operation %s %s failed: %s", op.OperationType, op.TargetLink, strings.Join(msgs, "; "))
	}
	return nil
}

// wrap names what failed; a 404 becomes ErrNotFound.
func (c *Cloud) wrap(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if isCode(err, http.StatusNotFound) {
		return fmt.Errorf("%s in project %s: %w", what, c.project, ErrNotFound)
	}
	return fmt.Errorf("%s in project %s: %w", what, c.project, err)
}

func isCode(err error, code int) bool {
	var gerr *googleapi.Error
	return errors.As(err, &gerr) && gerr.Code == code
}

// sortedPorts parses the ports of a firewall's allowed entries ("80",
// "30000-30002") into a sorted list.
func sortedPorts(specs []string) []int64 {
	var out []int64
	for _, s := range specs {
		lo, hi, found := strings.Cut(s, "-")
		a, err := strconv.ParseInt(lo, 10, 64)
		if err != nil {
			continue
		}
		b := a
		if found {
			if b, err = strconv.ParseInt(hi, 10, 64); err != nil {
				continue
			}
		}
		for p := a; p <= b && p-a < 65536; p++ {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
