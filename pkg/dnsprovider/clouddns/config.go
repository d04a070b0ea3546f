package clouddns

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"

	"google.golang.org/api/dns/v1"
	"google.golang.org/api/option"
	"sigs.k8s.io/yaml"
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
// The file names the credentials and never holds them, so that it can be
// read, shown and logged without leaking a secret.
type Config struct {
	// Project is the Google Cloud project that holds the managed zone.
	// Required.
	Project string `json:"project"`
	// CredentialsFile is a JSON credentials file. Without it the client
	// uses Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS,
	// the metadata server, Workload Identity).
	CredentialsFile string `json:"credentialsFile,omitempty"`
	// CredentialsType is what CredentialsFile holds: service_account (the
	// default), external_account, authorized_user or
	// impersonated_service_account. A file of another type is refused
	// before the client loads it.
	CredentialsType string `json:"credentialsType,omitempty"`
	// Endpoint is the API's base URL, to use another endpoint than
	// https://dns.googleapis.com/ (a private endpoint, or a fake in tests).
	// Plain http is accepted only on a loopback address, where it is a
	// local fake; with it and no CredentialsFile the client sends no
	// credentials at all.
	Endpoint string `json:"endpoint,omitempty"`
}

// credentialsTypes are the credentialsType values, with the option the
// client loads the file with.
var credentialsTypes = map[string]option.CredentialsType{
	"service_account":              option.ServiceAccount,
	"external_account":             option.ExternalAccount,
	"authorized_user":              option.AuthorizedUser,
	"impersonated_service_account": option.ImpersonatedServiceAccount,
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
	var errs []error
	switch {
	case c.Project == "":
		errs = append(errs, errors.New("project: missing; set it to the Google Cloud project that holds the managed zone"))
	case !validProject(c.Project):
		errs = append(errs, fmt.Errorf("project: %q is not a Google Cloud project ID (lower-case letters, digits, dashes, optionally prefixed by a domain and a colon)", c.Project))
	}
	if c.CredentialsType != "" {
		if _, ok := credentialsTypes[c.CredentialsType]; !ok {
			errs = append(errs, fmt.Errorf("credentialsType: %q is not one of service_account, external_account, authorized_user, impersonated_service_account", c.CredentialsType))
		}
		if c.CredentialsFile == "" {
			errs = append(errs, errors.New("credentialsType: set without credentialsFile; give the file, or remove both to use Application Default Credentials"))
		}
	}
	if c.Endpoint != "" {
		if err := validEndpoint(c.Endpoint); err != nil {
			errs = append(errs, fmt.Errorf("endpoint: %w", err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid Cloud DNS provider configuration: %w", errors.Join(errs...))
	}
	return nil
}

// clientOptions are the options that make a dns/v1 client as configured.
// It checks that the credentials file holds the credentialsType it is said
// to, which the client's new auth path does not: a file of another type
// (an external account that runs a command, say) is never loaded unasked.
func (c Config) clientOptions() ([]option.ClientOption, error) {
	var opts []option.ClientOption
	if c.Endpoint != "" {
		// The client resolves its paths against the endpoint, so without
		// the trailing slash it would drop the endpoint's last segment.
		endpoint := c.Endpoint
		if !strings.HasSuffix(endpoint, "/") {
			endpoint += "/"
		}
		opts = append(opts, option.WithEndpoint(endpoint))
	}
	switch {
	case c.CredentialsFile != "":
		name := c.CredentialsType
		if name == "" {
			name = "service_account"
		}
		if err := checkCredentialsType(c.CredentialsFile, name); err != nil {
			return nil, err
		}
		opts = append(opts, option.WithAuthCredentialsFile(credentialsTypes[name], c.CredentialsFile))
	case c.Endpoint != "" && loopbackEndpoint(c.Endpoint):
		opts = append(opts, option.WithoutAuthentication())
	}
	return opts, nil
}

// checkCredentialsType reads the "type" of a JSON credentials file. Its
// errors name the file and never quote what is in it.
func checkCredentialsType(file, want string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("credentialsFile: %w", err)
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("credentialsFile: %s is not a JSON credentials file; give the key file downloaded from Google Cloud", file)
	}
	if head.Type != want {
		return fmt.Errorf("credentialsFile: %s holds %q credentials, not %s; set credentialsType to the type of the file, if you trust it", file, head.Type, want)
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
	opts, err := cfg.clientOptions()
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

func validProject(p string) bool {
	if len(p) > 100 {
		return false
	}
	for _, c := range p {
		if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyz0123456789-.:", c) {
			return false
		}
	}
	return true
}

func validEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		// url's errors quote the input, which may hold a password.
		return errors.New("not a URL; give one like https://dns.googleapis.com/")
	}
	switch {
	case u.User != nil:
		return fmt.Errorf("%q holds user information; give the endpoint without it and the credentials in credentialsFile", u.Redacted())
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("%q is not an http or https URL", u.Redacted())
	case u.Host == "":
		return fmt.Errorf("%q has no host", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("%q has a query or fragment; give only the scheme, host and path", u.Redacted())
	case u.Scheme == "http" && !loopbackEndpoint(s):
		return fmt.Errorf("%q is plain http to a host that is not loopback, which would send credentials in clear; use https", u.Redacted())
	}
	return nil
}

// loopbackEndpoint says the endpoint is on this machine: a local fake.
func loopbackEndpoint(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
