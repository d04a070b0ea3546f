package initfed

import (
	"bytes"
	"fmt"

	"github.com/kfederation/federation/pkg/googlecloud/gce"
)

// cloudConfigHint says what --cloud-config holds.
const cloudConfigHint = "a local YAML file with project and, as needed, network, credentialsFile, credentialsType and endpoint"

// loadCloud reads and checks --cloud-config and the --cloud-secret-file
// files, once, for the Secret federation-cloud-config.
func (o *InitOptions) loadCloud() error {
	if o.cloud != nil {
		return nil
	}
	if o.CloudConfig == "" {
		return fmt.Errorf("--cloud-config is required with --cloud-provider=%s: %s", o.CloudProvider, cloudConfigHint)
	}
	s, err := cloudConfigSecret.load(o.CloudConfig, o.CloudSecretFiles, func(data []byte) ([]podPath, error) {
		return parseCloudConfig(o.CloudProvider, data)
	})
	if err != nil {
		return err
	}
	o.cloud = s
	return nil
}

// parseCloudConfig parses and checks the cloud's configuration as the
// controller manager will, short of reading the files it names, which are
// in the controller manager's pod; it returns the fields that name them.
func parseCloudConfig(provider string, data []byte) ([]podPath, error) {
	switch provider {
	case CloudProviderGCE:
		// ParseConfig parses strictly and runs Config.Validate.
		c, err := gce.ParseConfig(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		return googleCredentials(c.Access), nil
	}
	return nil, fmt.Errorf("--cloud-provider %q is not supported", provider)
}
