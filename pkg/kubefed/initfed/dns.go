package initfed

import (
	"bytes"
	"fmt"

	"github.com/kfederation/federation/pkg/dnsprovider/clouddns"
	"github.com/kfederation/federation/pkg/dnsprovider/coredns"
)

// dnsConfigHint says what --dns-provider-config holds for provider.
func dnsConfigHint(provider string) string {
	switch provider {
	case DNSProviderCoreDNS:
		return "a local YAML file with etcdEndpoints (the etcd CoreDNS reads) and, as needed, etcdCertFile, etcdKeyFile, etcdCAFile and path"
	case DNSProviderGoogleCloud:
		return "a local YAML file with project and, as needed, credentialsFile, credentialsType and endpoint"
	}
	return "a local YAML file with the provider's configuration"
}

// loadDNS reads and checks --dns-provider-config and the
// --dns-provider-secret-file files, once, for the Secret
// federation-dns-provider.
func (o *InitOptions) loadDNS() error {
	if o.dns != nil {
		return nil
	}
	if o.DNSProviderConfig == "" {
		return fmt.Errorf("--dns-provider-config is required with --dns-provider=%s: %s", o.DNSProvider, dnsConfigHint(o.DNSProvider))
	}
	s, err := dnsConfigSecret.load(o.DNSProviderConfig, o.DNSProviderSecretFiles, func(data []byte) ([]podPath, error) {
		return parseDNSProviderConfig(o.DNSProvider, data)
	})
	if err != nil {
		return err
	}
	o.dns = s
	return nil
}

// parseDNSProviderConfig parses and checks the provider's configuration as
// the controller manager will, short of reading the files it names, which
// are in the controller manager's pod; it returns the fields that name
// them.
func parseDNSProviderConfig(provider string, data []byte) ([]podPath, error) {
	switch provider {
	case DNSProviderGoogleCloud:
		// ParseConfig parses strictly and runs Config.Validate.
		c, err := clouddns.ParseConfig(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		return googleCredentials(c.Access), nil
	case DNSProviderCoreDNS:
		c, err := coredns.ParseConfig(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		var refs []podPath
		for _, r := range []podPath{{"etcdCertFile", c.EtcdCertFile}, {"etcdKeyFile", c.EtcdKeyFile}, {"etcdCAFile", c.EtcdCAFile}} {
			if r.path != "" {
				refs = append(refs, r)
			}
		}
		return refs, nil
	}
	return nil, fmt.Errorf("--dns-provider %q is not supported", provider)
}
