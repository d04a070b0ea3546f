package clouddns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/api/dns/v1"
	"sigs.k8s.io/yaml"

	"github.com/kfederation/federation/pkg/googlecloud"
)

// maxConfigSize bounds the configuration file; a real one is a few lines.
const maxConfigSize = 64 << 10

// Config is the provider's configuration file (--dns-provider-config), in
// YAML:
//
//	project: my-project
//	credentialsFile: /etc/federation/clouddns/key.json
//	credentialsType: service_account
//	endpoint: https://dns.googleapis.com/
//
// Project is the project that holds the managed zone; the fields are
// googlecloud.Access's.
type Config struct {
	googlecloud.Access `json:",inline"`
}

// ParseConfig reads and validates a configuration file. Unknown fields are
// an error, so that a misspelt one is not silently ignored.
func ParseConfig(r io.Reader) (Config, error) {
	var cfg Config
	data, err := io.ReadAll(io.LimitReader(r, maxConfigSize+1))
	if err != nil {
		return cfg, fmt.Errorf("read the Cloud DNS provider configuration: %w", err)
	}
	if len(data) > maxConfigSize {
		return cfg, fmt.Errorf("the Cloud DNS provider configuration is larger than %d bytes; it needs only project, credentialsFile, credentialsType and endpoint", maxConfigSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return cfg, errors.New("the Cloud DNS provider configuration is empty; it needs at least \"project: <Google Cloud project>\"")
	}
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		return Config{}, fmt.Errorf("parse the Cloud DNS provider configuration (YAML with the fields project, credentialsFile, credentialsType, endpoint): %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate says what is wrong with the configuration, and how to fix it.
func (c Config) Validate() error {
	if errs := c.Access.Validate("the managed zone", "https://dns.googleapis.com/"); len(errs) > 0 {
		return fmt.Errorf("invalid Cloud DNS provider configuration: %w", errors.Join(errs...))
	}
	return nil
}

// NewFromConfig reads the configuration file and returns a provider with a
// client made from it.
func NewFromConfig(ctx context.Context, r io.Reader) (*Provider, error) {
	cfg, err := ParseConfig(r)
	if err != nil {
		return nil, err
	}
	opts, err := cfg.ClientOptions()
	if err != nil {
		return nil, fmt.Errorf("invalid Cloud DNS provider configuration: %w", err)
	}
	svc, err := dns.NewService(ctx, opts...)
	if err != nil {
		// The error says which credentials could not be loaded; it never
		// holds their content, and neither does this message.
		return nil, fmt.Errorf("create the Cloud DNS client for project %q: %w; check credentialsFile and credentialsType, or the Application Default Credentials", cfg.Project, err)
	}
	return New(svc, cfg.Project), nil
}
