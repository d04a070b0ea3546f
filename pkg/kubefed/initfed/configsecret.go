package initfed

import (
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
	"github.com/kfederation/federation/pkg/googlecloud"
)

// maxConfigSecretSize is the most a configSecret may hold: the API server
// refuses a Secret whose data is larger.
const maxConfigSecretSize = 1 << 20

// configSecret is a Secret that kubefed init fills with a local
// configuration file and the files it names, and mounts read-only in the
// controller manager's pod, where a flag of the controller manager points
// at the configuration.
type configSecret struct {
	// name is the Secret's name, mount where the pod sees its files, and
	// configKey the configuration's file name among them.
	name, mount, configKey string
	// configFlag and filesFlag are kubefed init's flags that give the
	// configuration file and the files beside it.
	configFlag, filesFlag string
}

var (
	// dnsConfigSecret holds --dns-provider-config and
	// --dns-provider-secret-file.
	dnsConfigSecret = configSecret{
		name:       manifests.DNSProviderSecretName,
		mount:      manifests.DNSProviderMountPath,
		configKey:  manifests.DNSProviderConfigKey,
		configFlag: "--dns-provider-config",
		filesFlag:  "--dns-provider-secret-file",
	}
	// cloudConfigSecret holds --cloud-config and --cloud-secret-file.
	cloudConfigSecret = configSecret{
		name:       manifests.CloudConfigSecretName,
		mount:      manifests.CloudConfigMountPath,
		configKey:  manifests.CloudConfigKey,
		configFlag: "--cloud-config",
		filesFlag:  "--cloud-secret-file",
	}
)

// secretContent is what goes into a configSecret.
type secretContent struct {
	config []byte
	// files are the files given beside the configuration, sorted by name.
	files []manifests.File
}

// hash changes when any of settings (the flags the controller manager gets
// beside the configuration's path), the configuration or any file does, so
// that the controller manager restarts and reads them.
func (s *secretContent) hash(settings ...string) string {
	blobs := make([][]byte, 0, len(settings)+1+2*len(s.files))
	for _, v := range settings {
		blobs = append(blobs, []byte(v))
	}
	blobs = append(blobs, s.config)
	for _, f := range s.files {
		blobs = append(blobs, []byte(f.Name), f.Data)
	}
	return hashOf(blobs...)
}

// podPath is a field of a configuration that names a file in the
// controller manager's pod.
type podPath struct {
	field, path string
}

// googleCredentials are the fields of a Google Cloud configuration
// (Cloud DNS's, Compute Engine's) that name a file in the pod.
func googleCredentials(a googlecloud.Access) []podPath {
	if a.CredentialsFile == "" {
		return nil
	}
	return []podPath{{"credentialsFile", a.CredentialsFile}}
}

// load reads the configuration configFile and the files specs
// ([NAME=]PATH), parses the configuration with parse, which checks it as
// the controller manager will and returns the fields that name files in
// the pod, and checks those paths. Its errors name the files and the
// fields, and never quote what the files hold.
func (cs configSecret) load(configFile string, specs []string, parse func([]byte) ([]podPath, error)) (*secretContent, error) {
	config, err := cs.readLocalFile(configFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cs.configFlag, err)
	}
	var errs []error
	refs, err := parse(config)
	if err != nil {
		errs = append(errs, fmt.Errorf("%s %s: %w", cs.configFlag, configFile, err))
	}
	files, fileErrs := cs.readFiles(specs)
	errs = append(errs, fileErrs...)
	given := map[string]bool{}
	size := len(config)
	for _, f := range files {
		given[f.Name] = true
		size += len(f.Data)
	}
	for _, r := range refs {
		if err := cs.checkPodPath(r, given); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", cs.configFlag, configFile, err))
		}
	}
	if size > maxConfigSecretSize {
		errs = append(errs, fmt.Errorf("%s and %s come to %d bytes; the Secret %s can hold at most %d", cs.configFlag, cs.filesFlag, size, cs.name, maxConfigSecretSize))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &secretContent{config: config, files: files}, nil
}

// readLocalFile reads a file that fits into the Secret.
func (cs configSecret) readLocalFile(name string) ([]byte, error) {
	info, err := os.Stat(name)
	switch {
	case err != nil:
		return nil, fmt.Errorf("cannot read %s: %w", name, pathErr(err))
	case info.IsDir():
		return nil, fmt.Errorf("%s is a directory; give a file", name)
	case info.Size() > maxConfigSecretSize:
		return nil, fmt.Errorf("%s is %d bytes; the Secret %s can hold at most %d", name, info.Size(), cs.name, maxConfigSecretSize)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, pathErr(err))
	}
	return data, nil
}

// pathErr drops the operation and path of an fs.PathError, which the
// caller's message names already.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readFiles reads the filesFlag values, [NAME=]PATH, sorted by name.
func (cs configSecret) readFiles(specs []string) ([]manifests.File, []error) {
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
			errs = append(errs, fmt.Errorf("%s %q: no file; give [NAME=]LOCAL_FILE", cs.filesFlag, spec))
			continue
		}
		switch msgs := validation.IsConfigMapKey(name); {
		case len(msgs) > 0:
			errs = append(errs, fmt.Errorf("%s %q: %q cannot name a file in a Secret: %s; give NAME=LOCAL_FILE", cs.filesFlag, spec, name, strings.Join(msgs, "; ")))
			continue
		case name == cs.configKey:
			errs = append(errs, fmt.Errorf("%s %q: the name %s is the %s's; give another NAME=LOCAL_FILE", cs.filesFlag, spec, name, cs.configFlag))
			continue
		case seen[name]:
			errs = append(errs, fmt.Errorf("%s %q: another one is named %s too; give another NAME=LOCAL_FILE", cs.filesFlag, spec, name))
			continue
		}
		seen[name] = true
		data, err := cs.readLocalFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", cs.filesFlag, err))
			continue
		}
		files = append(files, manifests.File{Name: name, Data: data})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, errs
}

// checkPodPath says whether r is a path the controller manager can read: an
// absolute path, and when under the Secret's mount, the name of one of the
// files given.
func (cs configSecret) checkPodPath(r podPath, given map[string]bool) error {
	p := path.Clean(r.path)
	switch {
	case !path.IsAbs(p):
		return fmt.Errorf("%s %q is not an absolute path; give the file's path inside the controller manager's pod, such as %s/NAME with %s=NAME=LOCAL_FILE", r.field, r.path, cs.mount, cs.filesFlag)
	case path.Dir(p) == cs.mount:
		if name := path.Base(p); !given[name] {
			return fmt.Errorf("%s is %s, in the Secret %s, but no %s is named %s; add %s=%s=LOCAL_FILE", r.field, r.path, cs.name, cs.filesFlag, name, cs.filesFlag, name)
		}
	case strings.HasPrefix(p, cs.mount+"/"):
		return fmt.Errorf("%s %q: the files of %s are at %s/NAME, with no directory below", r.field, r.path, cs.filesFlag, cs.mount)
	}
	return nil
}
