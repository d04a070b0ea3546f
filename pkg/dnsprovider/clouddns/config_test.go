package clouddns_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kfederation/federation/pkg/dnsprovider/clouddns"
	"github.com/kfederation/federation/pkg/googlecloud"
)

// secret stands for credentials: no error may show it.
const secret = "S3CRET-do-not-print"

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want clouddns.Config
		err  string // what the error must say; "": no error
	}{{
		name: "everything",
		in: "project: my-project\ncredentialsFile: /etc/key.json\ncredentialsType: external_account\n" +
			"endpoint: https://dns.example.internal/\n",
		want: clouddns.Config{Access: googlecloud.Access{Project: "my-project", CredentialsFile: "/etc/key.json", CredentialsType: "external_account", Endpoint: "https://dns.example.internal/"}},
	}, {
		name: "a project only",
		in:   "project: example.com:my-project\n",
		want: clouddns.Config{Access: googlecloud.Access{Project: "example.com:my-project"}},
	}, {
		name: "a local fake",
		in:   "project: p\nendpoint: http://127.0.0.1:8080\n",
		want: clouddns.Config{Access: googlecloud.Access{Project: "p", Endpoint: "http://127.0.0.1:8080"}},
	}, {
		name: "empty",
		in:   "\n",
		err:  "project: <Google Cloud project>",
	}, {
		name: "no project",
		in:   "credentialsFile: /etc/key.json\n",
		err:  "project: missing",
	}, {
		name: "not a project ID",
		in:   "project: My Project\n",
		err:  "not a Google Cloud project ID",
	}, {
		name: "a misspelt field",
		in:   "project: p\ncredentialFile: /etc/key.json\n",
		err:  `unknown field "credentialFile"`,
	}, {
		name: "credentials inline",
		in:   "project: p\ncredentials: " + secret + "\n",
		err:  `unknown field "credentials"`,
	}, {
		name: "an unknown credentials type",
		in:   "project: p\ncredentialsFile: /k.json\ncredentialsType: api_key\n",
		err:  "not one of service_account",
	}, {
		name: "a credentials type without a file",
		in:   "project: p\ncredentialsType: service_account\n",
		err:  "set without credentialsFile",
	}, {
		name: "plain http to another host",
		in:   "project: p\nendpoint: http://dns.example.com/\n",
		err:  "use https",
	}, {
		name: "a password in the endpoint",
		in:   "project: p\nendpoint: https://user:" + secret + "@dns.example.com/\n",
		err:  "holds user information",
	}, {
		name: "an endpoint that is no URL",
		in:   "project: p\nendpoint: \"https://" + secret + "\\x7f\"\n",
		err:  "not a URL",
	}, {
		name: "not YAML",
		in:   "project: [p\n",
		err:  "parse the Cloud DNS provider configuration",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := clouddns.ParseConfig(strings.NewReader(tc.in))
			if tc.err == "" {
				if err != nil {
					t.Fatalf("ParseConfig: %v", err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("ParseConfig (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("ParseConfig = %+v, %v; want an error saying %q", got, err, tc.err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
}

func TestParseConfigTooLarge(t *testing.T) {
	in := "project: p\n# " + strings.Repeat("x", 70<<10) + "\n"
	if _, err := clouddns.ParseConfig(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("ParseConfig of 70 KiB = %v, want an error saying it is too large", err)
	}
}

// TestNewFromConfigBadCredentials: credentials that cannot be loaded, or
// are not of the type configured, are an error that names the file and
// never shows what is in it.
func TestNewFromConfigBadCredentials(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte(`{"type": "service_account", "private_key": "`+secret), 0o600); err != nil {
		t.Fatal(err)
	}
	// A file of another type than credentialsType says is not loaded: an
	// external account file can make the client run a command.
	external := filepath.Join(dir, "external.json")
	if err := os.WriteFile(external, []byte(`{"type": "external_account", "credential_source": {"executable": {"command": "/bin/`+secret+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, want string }{
		{broken, "not a JSON credentials file"},
		{filepath.Join(dir, "missing.json"), "missing.json"},
		{external, `holds "external_account" credentials, not service_account`},
	} {
		cfg := "project: p\ncredentialsFile: " + tc.file + "\nendpoint: http://127.0.0.1:1/\n"
		_, err := clouddns.NewFromConfig(context.Background(), strings.NewReader(cfg))
		if err == nil || !strings.Contains(err.Error(), "credentialsFile") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewFromConfig with credentials file %s = %v, want an error about credentialsFile saying %q", filepath.Base(tc.file), err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows what is in the credentials file: %v", err)
		}
	}
}

// FuzzParseConfig: no input makes the parser panic, and what it accepts is
// valid.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"project: p\n",
		"project: p\nendpoint: http://127.0.0.1:1/\n",
		"project: p\ncredentialsFile: /k.json\ncredentialsType: service_account\n",
		"project: [\n",
		"{}",
		"project: 1\n",
		"- a\n- b\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		cfg, err := clouddns.ParseConfig(bytes.NewReader(in))
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("ParseConfig accepted %q, which does not validate: %v", in, err)
		}
	})
}
