package coredns

import (
	"context"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kfederation/federation/pkg/dnsprovider"
)

// Provider writes record sets for CoreDNS's etcd plugin into etcd.
type Provider struct {
	client *clientv3.Client
	prefix string
	// ownsClient says Close closes the client: NewFromConfig made it.
	ownsClient bool
}

var _ dnsprovider.Provider = (*Provider)(nil)

// New returns a provider writing through client under prefix, the path of
// the Corefile's etcd block ("" means DefaultPath). The caller keeps
// ownership of client.
func New(client *clientv3.Client, prefix string) *Provider {
	return &Provider{client: client, prefix: cleanPrefix(prefix)}
}

// Zone implements dnsprovider.Provider. CoreDNS's zones are the ones its
// Corefile names, so there is nothing to create: the zone is the name, in
// lower case and with a trailing dot. CoreDNS zones have no IDs, so id must
// be empty.
func (p *Provider) Zone(_ context.Context, name, id string) (dnsprovider.Zone, error) {
	if id != "" {
		return nil, fmt.Errorf("coredns: zone id %q: CoreDNS zones have no IDs; leave the zone ID empty and give the zone name", id)
	}
	name = strings.ToLower(name)
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	path, err := namePath(p.prefix, name)
	if err != nil {
		return nil, fmt.Errorf("coredns: zone: %w", err)
	}
	return &zone{client: p.client, prefix: p.prefix, name: name, path: path}, nil
}

// Close releases the etcd client when NewFromConfig made it; a client
// given to New stays open.
func (p *Provider) Close() error {
	if !p.ownsClient {
		return nil
	}
	return p.client.Close()
}
