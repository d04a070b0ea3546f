package gce

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"

	compute "google.golang.org/api/compute/v1"
	"sigs.k8s.io/yaml"

	"github.com/kfederation/federation/pkg/googlecloud"
)

// maxConfigSize bounds the configuration file; a real one is a few lines.
const maxConfigSize = 64 << 10

// DefaultNetwork is the VPC network firewall rules go into when the
// configuration names none: the network every new project has.
const DefaultNetwork = "default"

// Config is the controller manager's --cloud-config for Google Cloud, in
// YAML:
//
//	project: my-project
//	network: default
//	credentialsFile: /etc/federation/cloud/key.json
//	credentialsType: service_account
//	endpoint: https://compute.googleapis.com/compute/v1/
//
// The project holds the members' nodes and the global load balancers;
// network is the VPC network of the members' nodes.
type Config struct {
	googlecloud.Access `json:",inline"`
	// Network is the VPC network's name; default "default".
	Network string `json:"network,omitempty"`
}

var networkName = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)

// ParseConfig reads and validates a configuration file. Unknown fields are
// an error, so that a misspelt one is not silently ignored.
func ParseConfig(r io.Reader) (Config, error) {
	var cfg Config
	data, err := io.ReadAll(io.LimitReader(r, maxConfigSize+1))
	if err != nil {
		return cfg, fmt.Errorf("read the Google Cloud configuration: %w", err)
	}
	if len(data) > maxConfigSize {
		return cfg, fmt.Errorf("the Google Cloud configuration is larger than %d bytes; it needs only project, network, credentialsFile, credentialsType and endpoint", maxConfigSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return cfg, errors.New("the Google Cloud configuration is empty; it needs at least \"project: <Google Cloud project>\"")
	}
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		return Config{}, fmt.Errorf("parse the Google Cloud configuration (YAML with the fields project, network, credentialsFile, credentialsType, endpoint): %w", err)
	}
	if cfg.Network == "" {
		cfg.Network = DefaultNetwork
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate says what is wrong with the configuration, and how to fix it.
func (c Config) Validate() error {
	errs := c.Access.Validate("the members' nodes and the load balancers", "https://compute.googleapis.com/compute/v1/")
	if c.Network != "" && !networkName.MatchString(c.Network) {
		errs = append(errs, fmt.Errorf("network: %q is not a VPC network name (lower-case letters, digits and dashes, at most 63)", c.Network))
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid Google Cloud configuration (--cloud-config): %w", errors.Join(errs...))
	}
	return nil
}

// NewFromConfig reads the configuration file and returns a Cloud with a
// client made from it.
func NewFromConfig(ctx context.Context, r io.Reader) (*Cloud, error) {
	cfg, err := ParseConfig(r)
	if err != nil {
		return nil, err
	}
	opts, err := cfg.ClientOptions()
	if err != nil {
		return nil, fmt.Errorf("invalid Google Cloud configuration (--cloud-config): %w", err)
	}
	svc, err := compute.NewService(ctx, opts...)
	if err != nil {
		// The error says which credentials could not be loaded; it never
		// holds their content, and neither does this message.
		return nil, fmt.Errorf("create the Compute Engine client for project %q: %w; check credentialsFile and credentialsType, or the Application Default Credentials", cfg.Project, err)
	}
	return New(svc, cfg.Project, cfg.Network), nil
}
