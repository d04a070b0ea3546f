// Package dnsprovider is what the federation's DNS controllers need of a
// DNS service, behind one interface: a zone, the record sets at a name with
// who owns them, every record set one federation owns, and one change
// applied whole or not at all. Providers live in the packages below it
// (coredns, clouddns); conformance has the test suite every provider
// passes.
package dnsprovider

import (
	"context"
	"errors"
)

// RecordType is a record set's type.
type RecordType string

// The record types the federation writes.
const (
	A     RecordType = "A"
	AAAA  RecordType = "AAAA"
	CNAME RecordType = "CNAME"
)

// RecordSet is the records of one type at one name.
type RecordSet struct {
	// Name is fully qualified, with the trailing dot:
	// "nginx.mynamespace.myfederation.svc.example.com.".
	Name string
	Type RecordType
	// TTL in seconds.
	TTL int64
	// Data holds the addresses of an A or AAAA set, sorted, or the one
	// target name (fully qualified) of a CNAME.
	Data []string
}

// Owner says who wrote a record set: a federation, and the object in it
// the records are for ("service/mynamespace/nginx").
type Owner struct {
	Federation string
	Object     string
}

// IsZero says the record set has no owner the federation knows: someone
// else wrote it, and the federation must never change or delete it.
func (o Owner) IsZero() bool { return o == Owner{} }

// Owned is a record set with its owner.
type Owned struct {
	RecordSet
	Owner Owner
}

// Change is what one object's records need: record sets to delete, exactly
// as the provider has them, and record sets to add, all of them owned by
// Owner.
type Change struct {
	Owner  Owner
	Delete []RecordSet
	Add    []RecordSet
}

// IsEmpty says the change changes nothing.
func (c Change) IsEmpty() bool { return len(c.Delete) == 0 && len(c.Add) == 0 }

// ErrConflict is returned by Apply when the zone is not as the change
// expects: a record set to delete is not there exactly so (other data,
// TTL or owner), or one to add is there already. Nothing was changed; read
// the name again and compute the change anew.
var ErrConflict = errors.New("the zone is not as the change expects")

// Provider is one DNS service.
type Provider interface {
	// Zone returns the zone called name ("example.com."), the one with
	// id when id is given, creating it when there is none.
	Zone(ctx context.Context, name, id string) (Zone, error)
}

// Zone is one DNS zone of a provider.
type Zone interface {
	// Name is the zone's name, fully qualified.
	Name() string
	// Get returns the record sets at name, of every type, with their
	// owners.
	Get(ctx context.Context, name string) ([]Owned, error)
	// List returns every record set in the zone that federation owns.
	List(ctx context.Context, federation string) ([]Owned, error)
	// Apply makes the change whole or not at all (ErrConflict, or the
	// provider's error).
	Apply(ctx context.Context, change Change) error
}
