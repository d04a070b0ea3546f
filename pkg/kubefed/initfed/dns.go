package initfed

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kfederation/federation/manifests"
	"github.com/kfederation/federation/pkg/dnsprovider/clouddns"
	"github.com/kfederation/federation/pkg/dnsprovider/coredns"
)

// maxDNSSecretSize is the most the Secret federation-dns-provider may hold:
// the API server refuses a Secret whose data is larger.
const maxDNSSecretSize = 1 << 20

// dnsSecret is what goes into the Secret federation-dns-provider.
type dnsSecret struct {
	config []byte
	// files are the --dns-provider-secret-file files, sorted by name.
	files []manifests.File
}

// hash changes when the provider, the zone or any file does.
func (d *dnsSecret) hash(provider, zone string) string {
	blobs := [][]byte{[]byte(provider), []byte(zone), d.config}
	for _, f := range d.files {
		blobs = append(blobs, []byte(f.Name), f.Data)
	}
	return hashOf(blobs...)
}

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
// --dns-provider-secret-file files, once. Its errors name the files and
// the fields, and never quote what the files hold.
func (o *InitOptions) loadDNS() error {
	if o.dns != nil {
		return nil
	}
	if o.DNSProviderConfig == "" {
		return fmt.Errorf("--dns-provider-config is required with --dns-provider=%s: %s", o.DNSProvider, dnsConfigHint(o.DNSProvider))
	}
	var errs []error
	config, err := readLocalFile(o.DNSProviderConfig)
	if err != nil {
		return fmt.Errorf("--dns-provider-config: %w", err)
	}
	refs, err := parseDNSProviderConfig(o.DNSProvider, config)
	if err != nil {
		errs = append(errs, fmt.Errorf("--dns-provider-config %s: %w", o.DNSProviderConfig, err))
	}
	files, fileErrs := readDNSSecretFiles(o.DNSProviderSecretFiles)
	errs = append(errs, fileErrs...)
	given := map[string]bool{}
	size := len(config)
	for _, f := range files {
		given[f.Name] = true
		size += len(f.Data)
	}
	for _, r := range refs {
		if err := checkPodPath(r, given); err != nil {
			errs = append(errs, fmt.Errorf("--dns-provider-config %s: %w", o.DNSProviderConfig, err))
		}
	}
	if size > maxDNSSecretSize {
		errs = append(errs, fmt.Errorf("--dns-provider-config and --dns-provider-secret-file come to %d bytes; the Secret %s can hold at most %d", size, manifests.DNSProviderSecretName, maxDNSSecretSize))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	o.dns = &dnsSecret{config: config, files: files}
	return nil
}

// readLocalFile reads a file of at most maxDNSSecretSize bytes.
func readLocalFile(name string) ([]byte, error) {
	info, err := os.Stat(name)
	switch {
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	case info.IsDir():
		return nil, fmt.Errorf("%s is a directory; give a file", name)
	case info.Size() > maxDNSSecretSize:
		return nil, fmt.Errorf("%s is %d bytes; the Secret %s can hold at most %d", name, info.Size(), manifests.DNSProviderSecretName, maxDNSSecretSize)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	return data, nil
}

// readDNSSecretFiles reads the --dns-provider-secret-file values,
// [NAME=]PATH, sorted by name.
func readDNSSecretFiles(specs []string) ([]manifests.File, []error) {
	var (
		files []manifests.File
		errs  []error
		seen  = map[string]bool{}
	)
	for _, spec := range specs {
		name, file := filepath.Base(spec), spec
		if i := strings.Index(spec, "="); i >= 0 {
			name, file = spec[:i], spec[i+1:]
		}
		if file == "" {
			errs = append(errs, fmt.Errorf("--dns-provider-secret-file %q: no file; give [NAME=]LOCAL_FILE", spec))
			continue
		}
		switch msgs := validation.IsConfigMapKey(name); {
		case len(msgs) > 0:
			errs = append(errs, fmt.Errorf("--dns-provider-secret-file %q: %q cannot name a file in a Secret: %s; give NAME=LOCAL_FILE", spec, name, strings.Join(msgs, "; ")))
			continue
		case name == manifests.DNSProviderConfigKey:
			errs = append(errs, fmt.Errorf("--dns-provider-secret-file %q: the name %s is the --dns-provider-config's; give another NAME=LOCAL_FILE", spec, name))
			continue
		case seen[name]:
			errs = append(errs, fmt.Errorf("--dns-provider-secret-file %q: another one is named %s too; give another NAME=LOCAL_FILE", spec, name))
			continue
		}
		seen[name] = true
		data, err := readLocalFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("--dns-provider-secret-file: %w", err))
			continue
		}
		files = append(files, manifests.File{Name: name, Data: data})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, errs
}

// podPath is a field of the provider's configuration that names a file in
// the controller manager's pod.
type podPath struct {
	field, path string
}

// checkPodPath says whether r is a path the controller manager can read: an
// absolute path, and when under the Secret's mount, the name of one of the
// files given.
func checkPodPath(r podPath, given map[string]bool) error {
	mount := manifests.DNSProviderMountPath
	p := path.Clean(r.path)
	switch {
	case !path.IsAbs(p):
		return fmt.Errorf("%s %q is not an absolute path; give the file's path inside the controller manager's pod, such as %s/NAME with --dns-provider-secret-file=NAME=LOCAL_FILE", r.field, r.path, mount)
	case path.Dir(p) == mount:
		if name := path.Base(p); !given[name] {
			return fmt.Errorf("%s is %s, in the Secret %s, but no --dns-provider-secret-file is named %s; add --dns-provider-secret-file=%s=LOCAL_FILE", r.field, r.path, manifests.DNSProviderSecretName, name, name)
		}
	case strings.HasPrefix(p, mount+"/"):
		return fmt.Errorf("%s %q: the files of --dns-provider-secret-file are at %s/NAME, with no directory below", r.field, r.path, mount)
	}
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
		if c.CredentialsFile == "" {
			return nil, nil
		}
		return []podPath{{"credentialsFile", c.CredentialsFile}}, nil
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
