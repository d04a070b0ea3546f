// Package clouddns is the dnsprovider.Provider over Google Cloud DNS, with
// the google.golang.org/api/dns/v1 client.
//
// A zone is a Cloud DNS managed zone, found by its DNS name (and its id or
// managed-zone name when given) and created when there is none. Record
// sets are read with ResourceRecordSets.List and written with one
// Changes.Create per Apply, which Cloud DNS applies whole or not at all.
// Cloud DNS keeps no owner of a record set, so each set the federation
// writes has an ownership TXT record beside it (see owner.go); a 412 or 409
// from the API means the zone is not as the change expects and is returned
// as dnsprovider.ErrConflict. Errors that pass with time (429, 5xx) are
// returned for the caller to retry with backoff; IsRetriable tells them.
package clouddns

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/api/dns/v1"
	"google.golang.org/api/googleapi"
	"k8s.io/klog/v2"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

// ProviderName is the --dns-provider value that selects this provider, as
// in Federation v1.
const ProviderName = "google-clouddns"

// zoneNamePrefix starts the name of every managed zone the provider
// creates, so that they are told apart from zones made by hand.
const zoneNamePrefix = "kfed-"

// Provider is Google Cloud DNS in one project.
type Provider struct {
	svc     *dns.Service
	project string
}

var _ dnsprovider.Provider = (*Provider)(nil)

// New returns the provider for project over a dns/v1 client.
func New(svc *dns.Service, project string) *Provider {
	return &Provider{svc: svc, project: project}
}

// Zone returns the managed zone whose DNS name is name. When id is given
// it is the zone's numeric id or its managed-zone name, and picks one of
// several zones with that DNS name; without id, one zone with that DNS
// name is used, and one is created when there is none.
func (p *Provider) Zone(ctx context.Context, name, id string) (dnsprovider.Zone, error) {
	dnsName, err := fqdn(name)
	if err != nil {
		return nil, fmt.Errorf("zone %q: %w", name, err)
	}
	zones, err := p.zones(ctx, dnsName, id)
	if err != nil {
		return nil, err
	}
	switch {
	case len(zones) == 1:
		return p.zone(zones[0]), nil
	case len(zones) > 1:
		return nil, p.severalZones(dnsName, zones)
	case id != "":
		return nil, fmt.Errorf("project %q has no managed zone with id or name %q for %s; give the id of an existing zone for that DNS name, or no id to have one created", p.project, id, dnsName)
	}
	return p.createZone(ctx, dnsName)
}

// zones lists the project's managed zones for dnsName, those with id when
// id is given.
func (p *Provider) zones(ctx context.Context, dnsName, id string) ([]*dns.ManagedZone, error) {
	var out []*dns.ManagedZone
	err := p.svc.ManagedZones.List(p.project).DnsName(dnsName).Pages(ctx, func(page *dns.ManagedZonesListResponse) error {
		for _, z := range page.ManagedZones {
			if !strings.EqualFold(z.DnsName, dnsName) {
				continue
			}
			if id != "" && id != z.Name && id != strconv.FormatUint(z.Id, 10) {
				continue
			}
			out = append(out, z)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the managed zones for %s in project %q: %w", dnsName, p.project, err)
	}
	return out, nil
}

func (p *Provider) severalZones(dnsName string, zones []*dns.ManagedZone) error {
	names := make([]string, 0, len(zones))
	for _, z := range zones {
		names = append(names, fmt.Sprintf("%s (id %d)", z.Name, z.Id))
	}
	return fmt.Errorf("project %q has %d managed zones for %s: %s; give the id or name of the one to use", p.project, len(zones), dnsName, strings.Join(names, ", "))
}

// createZone creates a managed zone for dnsName. Its name is derived from
// dnsName, so that two controller managers creating it at once make the
// same zone: the one that loses gets 409 and finds the zone the other made.
// When the name is taken by a zone for another DNS name, a name with a
// hash of dnsName is tried.
func (p *Provider) createZone(ctx context.Context, dnsName string) (dnsprovider.Zone, error) {
	names := managedZoneNames(dnsName)
	for _, name := range names {
		created, err := p.svc.ManagedZones.Create(p.project, &dns.ManagedZone{
			Name:        name,
			DnsName:     dnsName,
			Description: "DNS records of federated Services, written by the federation controller manager.",
		}).Context(ctx).Do()
		if err == nil {
			klog.FromContext(ctx).Info("Created Cloud DNS managed zone", "project", p.project, "managedZone", created.Name, "dnsName", dnsName, "id", created.Id)
			return p.zone(created), nil
		}
		if !hasCode(err, 409) {
			return nil, fmt.Errorf("create managed zone %q for %s in project %q: %w; or create the zone yourself and give its id", name, dnsName, p.project, err)
		}
		zones, lerr := p.zones(ctx, dnsName, "")
		if lerr != nil {
			return nil, lerr
		}
		switch len(zones) {
		case 0: // the name belongs to a zone for another DNS name
		case 1:
			return p.zone(zones[0]), nil
		default:
			return nil, p.severalZones(dnsName, zones)
		}
	}
	return nil, fmt.Errorf("create a managed zone for %s in project %q: the names %s are taken by zones for other DNS names; create the zone yourself and give its id", dnsName, p.project, strings.Join(names, ", "))
}

// managedZoneNames are the names a zone created for dnsName may get, in
// order: "kfed-" and the DNS name with dashes for dots ("kfed-example-com"),
// then the same with a hash of the DNS name, both within Cloud DNS's rule
// (1 to 63 lower-case letters, digits or dashes, starting with a letter,
// ending with a letter or digit).
func managedZoneNames(dnsName string) []string {
	var b strings.Builder
	b.WriteString(zoneNamePrefix)
	dash := true
	for _, c := range strings.ToLower(strings.TrimSuffix(dnsName, ".")) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	plain := strings.TrimRight(b.String(), "-")
	h := fnv.New32a()
	_, _ = h.Write([]byte(dnsName))
	hashed := strings.TrimRight(plain[:min(len(plain), 63-9)], "-") + fmt.Sprintf("-%08x", h.Sum32())
	if len(plain) > 63 {
		return []string{hashed}
	}
	return []string{plain, hashed}
}

func (p *Provider) zone(z *dns.ManagedZone) *zone {
	return &zone{svc: p.svc, project: p.project, managedZone: z.Name, dnsName: strings.ToLower(z.DnsName)}
}

// IsRetriable says err is Cloud DNS answering that it cannot take the
// request now, over quota (429) or unavailable (5xx): the same request may
// succeed later, and the caller should retry with backoff. The API's own
// error is kept in err's chain, as a *googleapi.Error.
func IsRetriable(err error) bool {
	var gerr *googleapi.Error
	return errors.As(err, &gerr) && (gerr.Code == 429 || gerr.Code >= 500)
}

// isConflict says err is Cloud DNS refusing a change because the zone is
// not as the change expects: a deletion that does not match (412), an
// addition that exists (409), or a CNAME addition at a name that has other
// record sets.
func isConflict(err error) bool {
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) {
		return false
	}
	if gerr.Code == 409 || gerr.Code == 412 {
		return true
	}
	return gerr.Code == 400 && slices.ContainsFunc(gerr.Errors, func(e googleapi.ErrorItem) bool {
		return e.Reason == "cnameResourceRecordSetConflict"
	})
}

func hasCode(err error, code int) bool {
	var gerr *googleapi.Error
	return errors.As(err, &gerr) && gerr.Code == code
}

// fqdn is name fully qualified, in lower case.
func fqdn(name string) (string, error) {
	if name == "" {
		return "", errors.New("no DNS name given")
	}
	if strings.ContainsAny(name, " \t\r\n\"\\") {
		return "", errors.New("not a DNS name: it has spaces, quotes or backslashes")
	}
	name = strings.ToLower(name)
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name, nil
}

// canonicalData is the data of a record set as the provider writes and
// compares it: addresses parsed and printed in their canonical form, sorted
// and without duplicates, so that data from the API and data from the
// caller compare equal when they mean the same.
func canonicalData(t dnsprovider.RecordType, data []string) ([]string, error) {
	if len(data) == 0 {
		return nil, errors.New("it has no data")
	}
	switch t {
	case dnsprovider.A, dnsprovider.AAAA:
		family := "IPv4"
		if t == dnsprovider.AAAA {
			family = "IPv6"
		}
		out := make([]string, 0, len(data))
		for _, d := range data {
			a, err := netip.ParseAddr(d)
			if err != nil || a.Zone() != "" || (t == dnsprovider.A) != a.Is4() {
				return nil, fmt.Errorf("%q is not an %s address", d, family)
			}
			out = append(out, a.String())
		}
		slices.Sort(out)
		return slices.Compact(out), nil
	case dnsprovider.CNAME:
		if len(data) != 1 {
			return nil, fmt.Errorf("a CNAME has one target, not %d", len(data))
		}
		if !strings.HasSuffix(data[0], ".") {
			return nil, fmt.Errorf("the CNAME target %q is not fully qualified; end it with a dot", data[0])
		}
		return []string{data[0]}, nil
	}
	return slices.Clone(data), nil
}
