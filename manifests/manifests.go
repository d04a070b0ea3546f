// Package manifests holds the manifests that deploy a federation control
// plane into a host cluster, as text/template files embedded into kubefed,
// so that what `kubefed init` applies can be read and reviewed as YAML.
package manifests

import (
	"bytes"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"text/template"
)

//go:embed federation/*.yaml
var federationFS embed.FS

// Names of the objects in the federation templates that kubefed init reads
// back or refers to.
const (
	// APIServerName names the federation-apiserver's Service, Deployment and
	// ServiceAccount.
	APIServerName = "federation-apiserver"
	// ControllerManagerName names the federation-controller-manager's
	// Deployment and ServiceAccount.
	ControllerManagerName = "federation-controller-manager"
	// CASecretName holds the CA certificate and key, so that running
	// kubefed init again issues certificates from the same CA and existing
	// kubeconfigs keep working.
	CASecretName = "federation-ca"
	// APIServerPort is the federation-apiserver's secure port in its pod;
	// the Service exposes it on 443.
	APIServerPort = 6443
	// ServicePort is the port of the federation-apiserver's Service.
	ServicePort = 443
	// ControllerManagerPort is the federation-controller-manager's secure
	// port (--secure-port, its default) in its pod, which the kubelet
	// probes over HTTPS.
	ControllerManagerPort = 10253
	// ClientCAMountPath is where the controller manager finds the
	// federation's CA certificate (--client-ca-file), the ca.crt of the
	// federation-apiserver's serving Secret.
	ClientCAMountPath = "/etc/federation/client-ca"

	// EtcdCASecretName holds the CA of the etcd kubefed init deploys, its
	// certificate and key, kept like CASecretName's so that running kubefed
	// init again issues etcd's certificates from the same CA. Nothing
	// mounts it.
	EtcdCASecretName = "federation-etcd-ca"
	// EtcdCertsSecretName holds etcd's serving and peer certificates and
	// keys and its CA's certificate, mounted read-only in etcd's pod at
	// EtcdCertsMountPath.
	EtcdCertsSecretName = "federation-etcd-certs"
	EtcdCertsMountPath  = "/etc/etcd/pki"
	// EtcdClientSecretName holds what the federation-apiserver needs to
	// reach etcd over TLS: the CA certificate (ca.crt) and its client
	// certificate and key (tls.crt, tls.key), mounted read-only at
	// EtcdClientMountPath.
	EtcdClientSecretName = "federation-apiserver-etcd-client"
	EtcdClientMountPath  = "/etc/federation/etcd"

	// DNSProviderSecretName holds the DNS provider's configuration, under
	// DNSProviderConfigKey, and the files it names; the controller manager
	// mounts it at DNSProviderMountPath. The templates spell these three
	// out: keep them in step.
	DNSProviderSecretName = "federation-dns-provider"
	DNSProviderConfigKey  = "provider.yaml"
	DNSProviderMountPath  = "/etc/federation/dns"

	// CloudConfigSecretName holds the cloud's configuration (the
	// controller manager's --cloud-config), under CloudConfigKey, and the
	// files it names; the controller manager mounts it at
	// CloudConfigMountPath. The templates spell these three out: keep them
	// in step.
	CloudConfigSecretName = "federation-cloud-config"
	CloudConfigKey        = "cloud-config.yaml"
	CloudConfigMountPath  = "/etc/federation/cloud"
)

// File is one entry of a Secret's data.
type File struct {
	// Name is the key, and the file's name where the Secret is mounted.
	Name string
	Data []byte
}

// FederationValues are the inputs of the federation templates.
type FederationValues struct {
	// Name is the federation's name: the controller manager's
	// --federation-name, and part of the names of cluster-wide objects.
	Name string
	// Namespace is where the control plane runs in the host cluster.
	Namespace string
	// Image holds both federation binaries on its PATH.
	Image string
	// EtcdImage, EtcdStorage: the etcd StatefulSet's image and volume size.
	EtcdImage   string
	EtcdStorage string
	// EtcdServers, comma-separated, is what the federation-apiserver uses.
	EtcdServers string
	// DeployEtcd deploys etcd as a StatefulSet of EtcdReplicas members
	// (EtcdInitialCluster: name=peer URL, comma-separated), for
	// EtcdServers to point at.
	DeployEtcd         bool
	EtcdReplicas       int
	EtcdInitialCluster string
	// APIServerReplicas and ControllerManagerReplicas size the two
	// Deployments (two each for a highly available control plane).
	APIServerReplicas, ControllerManagerReplicas int
	// APIServerServiceType is LoadBalancer or NodePort.
	APIServerServiceType string
	// DNSProvider and DNSZoneName configure Service DNS; empty for none.
	DNSProvider string
	DNSZoneName string
	// DNSProviderConfig is the provider's configuration file, which the
	// controller manager reads (--dns-provider-config) from the Secret
	// DNSProviderSecretName.
	DNSProviderConfig []byte
	// DNSProviderFiles are more files in that Secret, next to the
	// configuration: the TLS files or credentials it names.
	DNSProviderFiles []File
	// DNSConfigHash changes when any of the DNS settings do, so that the
	// controller manager restarts and reads them.
	DNSConfigHash string

	// CloudProvider turns on the controller manager's Ingress global load
	// balancer on that cloud (gce); empty for none.
	CloudProvider string
	// CloudConfig is the cloud's configuration file, which the controller
	// manager reads (--cloud-config) from the Secret CloudConfigSecretName.
	CloudConfig []byte
	// CloudConfigFiles are more files in that Secret, next to the
	// configuration: the credentials it names.
	CloudConfigFiles []File
	// CloudConfigHash changes when any of the cloud settings do, so that
	// the controller manager restarts and reads them.
	CloudConfigHash string

	// PEM-encoded CA, serving and admin client certificates and keys.
	CACert, CAKey           []byte
	ServingCert, ServingKey []byte
	AdminCert, AdminKey     []byte
	// ControllerManagerKubeconfig is the controller manager's kubeconfig for
	// the federation-apiserver, with its client certificate embedded.
	ControllerManagerKubeconfig []byte
	// ControllerManagerUser is the user name of that certificate, which the
	// host cluster's RBAC authorizes in the federation.
	ControllerManagerUser string
	// CredentialsHash changes when the certificates do, so that the pods
	// restart and load them.
	CredentialsHash string

	// PEM-encoded etcd CA, and the serving and peer certificates and keys
	// of the etcd kubefed init deploys (DeployEtcd).
	EtcdCACert, EtcdCAKey         []byte
	EtcdServerCert, EtcdServerKey []byte
	EtcdPeerCert, EtcdPeerKey     []byte
	// EtcdClientCA, EtcdClientCert and EtcdClientKey are the CA the
	// federation-apiserver trusts for etcd, and its client certificate and
	// key: issued with etcd's when DeployEtcd, else the files given for the
	// existing etcd, where an empty one is not used.
	EtcdClientCA, EtcdClientCert, EtcdClientKey []byte
	// EtcdCredentialsHash changes when etcd's certificates do, so that
	// etcd restarts and loads them.
	EtcdCredentialsHash string
}

var funcs = template.FuncMap{
	// b64 encodes Secret data.
	"b64": func(b []byte) string { return base64.StdEncoding.EncodeToString(b) },
	// quote makes any string a safe YAML scalar: JSON strings are YAML.
	"quote": func(s string) (string, error) {
		b, err := json.Marshal(s)
		return string(b), err
	},
}

// RenderFederation executes every federation template, in file name order,
// and returns one multi-document YAML stream.
func RenderFederation(v FederationValues) ([]byte, error) {
	names, err := fs.Glob(federationFS, "federation/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out bytes.Buffer
	for _, name := range names {
		text, err := federationFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		tmpl, err := template.New(name).Funcs(funcs).Option("missingkey=error").Parse(string(text))
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		var doc bytes.Buffer
		if err := tmpl.Execute(&doc, v); err != nil {
			return nil, fmt.Errorf("render template %s: %w", name, err)
		}
		if len(bytes.TrimSpace(doc.Bytes())) == 0 {
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: manifests/%s\n", name)
		out.Write(bytes.TrimLeft(doc.Bytes(), "\n"))
		if !bytes.HasSuffix(doc.Bytes(), []byte("\n")) {
			out.WriteByte('\n')
		}
	}
	return out.Bytes(), nil
}
