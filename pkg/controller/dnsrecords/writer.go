package dnsrecords

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

// Event reasons a Writer records on the objects whose records it writes.
const (
	ReasonRecordsUpdated = "DNSRecordsUpdated"
	ReasonUpdateFailed   = "DNSUpdateFailed"
	ReasonNameConflict   = "DNSNameConflict"
)

// ProviderTimeout bounds one request to the DNS provider, so that a
// provider that hangs holds a worker no longer than this.
const ProviderTimeout = 10 * time.Second

// Writer writes the records of one kind of federated object into a zone:
// each object's record sets in one change, owned by the federation and the
// object, never touching a record set someone else owns. It remembers what
// each object owns, so that an object whose records are as they should be
// costs no request.
type Writer struct {
	federation string
	kind       string
	fix        string
	recorder   record.EventRecorder
	logger     klog.Logger
	owned      *owned
}

// NewWriter returns the Writer of the objects of one kind ("service",
// "ingress") in the federation: an object's records are owned by
// "<kind>/<namespace>/<name>", and record sets of owners with another kind
// are never its business. fix says, in a conflict event, what the user can
// do besides removing the foreign records ("rename the Service").
func NewWriter(federation, kind, fix string, recorder record.EventRecorder, logger klog.Logger) *Writer {
	return &Writer{federation: federation, kind: kind, fix: fix, recorder: recorder, logger: logger, owned: newOwned(kind + "/")}
}

// Owner is the owner of the records of the object key (namespace/name).
func (w *Writer) Owner(key string) dnsprovider.Owner {
	return dnsprovider.Owner{Federation: w.federation, Object: w.kind + "/" + key}
}

// Publish makes zone hold desired for key, owned by the federation, in one
// change, and tells the object (obj, nil once it is gone) what changed. It
// costs nothing when the cache says the zone holds desired already. When
// desired is nil and the cache cannot say what key owns, everyName (may be
// nil) gives every name key could have records at, to be read.
func (w *Writer) Publish(ctx context.Context, zone dnsprovider.Zone, key string, obj *unstructured.Unstructured, desired []dnsprovider.RecordSet, everyName func() []string) error {
	known, sure := w.owned.get(key)
	if sure && len(known.conflicts) == 0 && SameSets(known.sets, desired) {
		return nil
	}
	owner := w.Owner(key)
	look := names(desired, known.sets)
	if !sure && desired == nil && everyName != nil {
		// Going away and the cache cannot say what it has: look at
		// every name it could have.
		look = SortedUnique(append(look, everyName()...))
	}
	current, err := read(ctx, zone, look)
	if err != nil {
		w.owned.doubt(key)
		if obj != nil {
			w.recorder.Eventf(obj, corev1.EventTypeWarning, ReasonUpdateFailed, "Cannot read DNS records in zone %s: %v", zone.Name(), err)
		}
		return err
	}
	change, conflicts := Diff(owner, current, desired)
	if !change.IsEmpty() {
		if err := apply(ctx, zone, change); err != nil {
			w.owned.doubt(key)
			if obj != nil && !errors.Is(err, dnsprovider.ErrConflict) {
				w.recorder.Eventf(obj, corev1.EventTypeWarning, ReasonUpdateFailed, "Cannot update DNS records in zone %s: %v", zone.Name(), err)
			}
			return fmt.Errorf("apply the change of %s %s in zone %s: %w", w.kind, key, zone.Name(), err)
		}
		w.logger.V(2).Info("Updated DNS records", w.kind, key, "change", Describe(change))
		if obj != nil {
			w.recorder.Eventf(obj, corev1.EventTypeNormal, ReasonRecordsUpdated, "%s", Describe(change))
		}
	}
	w.reportConflicts(obj, known.conflicts, conflicts)
	w.owned.set(key, ownedEntry{sets: ours(owner, current, change), conflicts: conflictNames(conflicts)})
	return nil
}

// SweepInto sweeps (see Sweep) and hands each key to look at again to
// enqueue. A failed sweep is logged and left to the next one, period later.
func (w *Writer) SweepInto(ctx context.Context, zone dnsprovider.Zone, enqueue func(string), logger klog.Logger, period time.Duration) {
	again, err := w.Sweep(ctx, zone)
	if err != nil {
		logger.Error(err, "Cannot list the federation's DNS records; retrying at the next sweep", "period", period)
		return
	}
	for _, key := range again {
		enqueue(key)
	}
}

// Sweep lists every record set the federation owns in zone and returns
// the key of each object whose records are not as this Writer last left
// them (records of objects deleted while the controller was down, or
// changed by hand) or whose names someone else held (they may be free
// now), to be looked at again. The first Sweep fills the cache: after a
// restart, an object whose records are right then costs no request.
func (w *Writer) Sweep(ctx context.Context, zone dnsprovider.Zone) ([]string, error) {
	lctx, cancel := context.WithTimeout(ctx, ProviderTimeout)
	defer cancel()
	listed, err := zone.List(lctx, w.federation)
	if err != nil {
		return nil, fmt.Errorf("list the federation's DNS records in zone %s: %w", zone.Name(), err)
	}
	return w.owned.load(listed), nil
}

// read returns what the zone holds at names, every type and owner.
func read(ctx context.Context, zone dnsprovider.Zone, names []string) ([]dnsprovider.Owned, error) {
	var out []dnsprovider.Owned
	for _, n := range names {
		rctx, cancel := context.WithTimeout(ctx, ProviderTimeout)
		sets, err := zone.Get(rctx, n)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("read %s in zone %s: %w", n, zone.Name(), err)
		}
		out = append(out, sets...)
	}
	return out, nil
}

func apply(ctx context.Context, zone dnsprovider.Zone, change dnsprovider.Change) error {
	actx, cancel := context.WithTimeout(ctx, ProviderTimeout)
	defer cancel()
	return zone.Apply(actx, change)
}

// reportConflicts warns on the object when the names someone else holds
// change, and only then: a standing conflict is not repeated every sync.
func (w *Writer) reportConflicts(obj *unstructured.Unstructured, before []string, now []Conflict) {
	if obj == nil || len(now) == 0 || slices.Equal(before, conflictNames(now)) {
		return
	}
	for _, cf := range now {
		who := "a record set the federation does not own"
		if !cf.Theirs.Owner.IsZero() {
			who = fmt.Sprintf("records of %s in federation %s", cf.Theirs.Owner.Object, cf.Theirs.Owner.Federation)
		}
		w.recorder.Eventf(obj, corev1.EventTypeWarning, ReasonNameConflict,
			"%s is taken by %s (%s %s); the federation leaves it alone: remove it, or %s", cf.Name, who, cf.Theirs.Type, strings.Join(cf.Theirs.Data, ","), w.fix)
	}
}

func conflictNames(cs []Conflict) []string {
	var out []string
	for _, cf := range cs {
		out = append(out, cf.Name)
	}
	return out
}
