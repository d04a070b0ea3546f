package initfed

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"

	certutil "k8s.io/client-go/util/cert"

	"github.com/kfederation/federation/manifests"
)

// etcdClientFiles are what --etcd-cafile, --etcd-certfile and
// --etcd-keyfile hold: how the federation-apiserver reaches an existing etcd
// over TLS. The etcd init deploys gets certificates of its own instead.
type etcdClientFiles struct {
	ca, cert, key []byte
}

// etcdClientSecret is only for reading the files: the Secret's size limit
// and its name in errors.
var etcdClientSecret = configSecret{name: manifests.EtcdClientSecretName}

// validateEtcdClient checks the TLS files of an existing etcd: given only
// with --etcd-servers, all https://, a certificate with its key, and each
// file what its flag says. Its errors never quote the files.
func (o *InitOptions) validateEtcdClient() error {
	if o.EtcdCAFile == "" && o.EtcdCertFile == "" && o.EtcdKeyFile == "" {
		return nil
	}
	if len(o.EtcdServers) == 0 {
		return fmt.Errorf("--etcd-cafile, --etcd-certfile and --etcd-keyfile are for an existing etcd, given with --etcd-servers; the etcd init deploys gets certificates of its own")
	}
	var errs []error
	if (o.EtcdCertFile == "") != (o.EtcdKeyFile == "") {
		errs = append(errs, fmt.Errorf("--etcd-certfile and --etcd-keyfile go together: give both or neither"))
	}
	for _, s := range o.EtcdServers {
		if u, err := url.Parse(s); err == nil && u.Scheme == "http" {
			errs = append(errs, fmt.Errorf("--etcd-servers %q is http://, but --etcd-cafile, --etcd-certfile and --etcd-keyfile are for https://", s))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return o.loadEtcdClient()
}

// loadEtcdClient reads and checks the TLS files of an existing etcd, once.
func (o *InitOptions) loadEtcdClient() error {
	if o.etcdClient != nil || len(o.EtcdServers) == 0 || (o.EtcdCAFile == "" && o.EtcdCertFile == "") {
		return nil
	}
	var (
		files etcdClientFiles
		errs  []error
		read  = func(flag, name string) []byte {
			if name == "" {
				return nil
			}
			data, err := etcdClientSecret.readLocalFile(name)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", flag, err))
			}
			return data
		}
	)
	files.ca = read("--etcd-cafile", o.EtcdCAFile)
	files.cert = read("--etcd-certfile", o.EtcdCertFile)
	files.key = read("--etcd-keyfile", o.EtcdKeyFile)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if files.ca != nil {
		if _, err := certutil.ParseCertsPEM(files.ca); err != nil {
			errs = append(errs, fmt.Errorf("--etcd-cafile %s holds no PEM certificate: %w", o.EtcdCAFile, err))
		}
	}
	if files.cert != nil {
		if _, err := tls.X509KeyPair(files.cert, files.key); err != nil {
			errs = append(errs, fmt.Errorf("--etcd-certfile %s and --etcd-keyfile %s are not a PEM certificate and its key: %w", o.EtcdCertFile, o.EtcdKeyFile, err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	o.etcdClient = &files
	return nil
}
