// Package googlecloud is what every Google Cloud client of the federation
// (Cloud DNS, Compute Engine) needs the same way: the project, the
// credentials file and its type, and the endpoint, as read from a
// configuration file, checked, and turned into client options. A
// credentials file is checked to hold the type it is said to before any
// client loads it, and no error ever quotes what it holds.
package googlecloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"google.golang.org/api/option"
)

// Access says how to reach one Google Cloud API. It is embedded in the
// configuration files of the federation's Google Cloud clients, in YAML:
//
//	project: my-project
//	credentialsFile: /etc/federation/google/key.json
//	credentialsType: service_account
//	endpoint: https://dns.googleapis.com/
//
// The file names the credentials and never holds them, so that it can be
// read, shown and logged without leaking a secret.
type Access struct {
	// Project is the Google Cloud project. Required.
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
	// Endpoint is the API's base URL, to use another endpoint than the
	// public one (a private endpoint, or a fake in tests). Plain http is
	// accepted only on a loopback address, where it is a local fake; with
	// it and no CredentialsFile the client sends no credentials at all.
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

// Validate says what is wrong with a, field by field, and how to fix it.
// projectHolds names what the project is for, for the message ("the
// managed zone"); exampleEndpoint is the API's public endpoint.
func (a Access) Validate(projectHolds, exampleEndpoint string) []error {
	var errs []error
	switch {
	case a.Project == "":
		errs = append(errs, fmt.Errorf("project: missing; set it to the Google Cloud project that holds %s", projectHolds))
	case !validProject(a.Project):
		errs = append(errs, fmt.Errorf("project: %q is not a Google Cloud project ID (lower-case letters, digits, dashes, optionally prefixed by a domain and a colon)", a.Project))
	}
	if a.CredentialsType != "" {
		if _, ok := credentialsTypes[a.CredentialsType]; !ok {
			errs = append(errs, fmt.Errorf("credentialsType: %q is not one of service_account, external_account, authorized_user, impersonated_service_account", a.CredentialsType))
		}
		if a.CredentialsFile == "" {
			errs = append(errs, errors.New("credentialsType: set without credentialsFile; give the file, or remove both to use Application Default Credentials"))
		}
	}
	if a.Endpoint != "" {
		if err := validEndpoint(a.Endpoint, exampleEndpoint); err != nil {
			errs = append(errs, fmt.Errorf("endpoint: %w", err))
		}
	}
	return errs
}

// ClientOptions are the options that make a client as configured. It
// checks that the credentials file holds the credentialsType it is said
// to, which the client's new auth path does not: a file of another type
// (an external account that runs a command, say) is never loaded unasked.
func (a Access) ClientOptions() ([]option.ClientOption, error) {
	var opts []option.ClientOption
	if a.Endpoint != "" {
		// The client resolves its paths against the endpoint, so without
		// the trailing slash it would drop the endpoint's last segment.
		endpoint := a.Endpoint
		if !strings.HasSuffix(endpoint, "/") {
			endpoint += "/"
		}
		opts = append(opts, option.WithEndpoint(endpoint))
	}
	switch {
	case a.CredentialsFile != "":
		name := a.CredentialsType
		if name == "" {
			name = "service_account"
		}
		if err := checkCredentialsType(a.CredentialsFile, name); err != nil {
			return nil, err
		}
		opts = append(opts, option.WithAuthCredentialsFile(credentialsTypes[name], a.CredentialsFile))
	case a.Endpoint != "" && loopbackEndpoint(a.Endpoint):
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

func validEndpoint(s, example string) error {
	u, err := url.Parse(s)
	if err != nil {
		// url's errors quote the input, which may hold a password.
		return fmt.Errorf("not a URL; give one like %s", example)
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
