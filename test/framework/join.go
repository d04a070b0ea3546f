package framework

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	federationv1beta1 "github.com/kfederation/api/federation/v1beta1"
	fedclientset "github.com/kfederation/client-go/clientset/versioned"
)

// FederationClient is a clientset for the federation.k8s.io group.
func (f *Federation) FederationClient() (fedclientset.Interface, error) {
	return fedclientset.NewForConfig(f.Endpoint.RESTConfig())
}

// Register adds a member to the federation directly: its admin kubeconfig as
// a Secret in federation-system and a Cluster object pointing at it. It is
// what tests use where `kubefed join` itself is not under test.
func (f *Federation) Register(ctx context.Context, m *Member) error {
	kubeconfig := filepath.Join(f.Dir, "members", m.Name, "federation-credentials.kubeconfig")
	if err := WriteKubeconfig(kubeconfig, m.Endpoint); err != nil {
		return err
	}
	data, err := embedKubeconfig(kubeconfig)
	if err != nil {
		return err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: m.Name, Namespace: federationv1beta1.FederationSystemNamespace},
		Data:       map[string][]byte{"kubeconfig": data},
	}
	if _, err := f.Client.CoreV1().Secrets(federationv1beta1.FederationSystemNamespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("register %s: create secret: %w", m.Name, err)
	}
	fc, err := f.FederationClient()
	if err != nil {
		return err
	}
	cluster := &federationv1beta1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: m.Name},
		Spec: federationv1beta1.ClusterSpec{
			ServerAddressByClientCIDRs: []federationv1beta1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: m.Endpoint.Server}},
			SecretRef:                  &federationv1beta1.LocalObjectReference{Name: m.Name},
		},
	}
	if _, err := fc.FederationV1beta1().Clusters().Create(ctx, cluster, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("register %s: create cluster: %w", m.Name, err)
	}
	return nil
}

// Join joins a member as an admin would: with `kubefed join`, which gives
// the federation only the permissions in the member that the controllers
// need. Its output goes to out (nil: dropped).
func (f *Federation) Join(ctx context.Context, m *Member, out io.Writer) error {
	args := []string{"join", m.Name, "--kubeconfig", f.Kubeconfig, "--host-cluster-context", FederationContext, "--cluster-context", m.Name}
	if f.FederationName != "" {
		args = append(args, "--federation-name", f.FederationName)
	}
	if f.DNS != nil {
		// The member's cluster DNS learns the federation's zone.
		args = append(args, "--dns-zone-name", strings.TrimSuffix(f.DNS.Zone, "."))
	}
	join := exec.CommandContext(ctx, Binary("kubefed"), args...)
	var buf bytes.Buffer
	join.Stdout, join.Stderr = &buf, &buf
	if out != nil {
		join.Stdout, join.Stderr = io.MultiWriter(&buf, out), io.MultiWriter(&buf, out)
	}
	if err := join.Run(); err != nil {
		return fmt.Errorf("kubefed join %s: %w: %s", m.Name, err, buf.String())
	}
	return nil
}

// Unjoin removes a member as an admin would: with `kubefed unjoin`.
func (f *Federation) Unjoin(ctx context.Context, m *Member) error {
	args := []string{"unjoin", m.Name, "--kubeconfig", f.Kubeconfig, "--host-cluster-context", FederationContext, "--cluster-context", m.Name}
	if f.FederationName != "" {
		args = append(args, "--federation-name", f.FederationName)
	}
	if out, err := exec.CommandContext(ctx, Binary("kubefed"), args...).CombinedOutput(); err != nil {
		return fmt.Errorf("kubefed unjoin %s: %w: %s", m.Name, err, out)
	}
	return nil
}

// RegisterAll registers every member.
func (f *Federation) RegisterAll(ctx context.Context) error {
	for _, m := range f.Members {
		if err := f.Register(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// embedKubeconfig returns a kubeconfig with the certificate files inlined,
// so that it works from any machine.
func embedKubeconfig(path string) ([]byte, error) {
	cfg, err := loadKubeconfig(path)
	if err != nil {
		return nil, err
	}
	for _, c := range cfg.Clusters {
		if c.CertificateAuthority != "" {
			if c.CertificateAuthorityData, err = os.ReadFile(c.CertificateAuthority); err != nil {
				return nil, err
			}
			c.CertificateAuthority = ""
		}
	}
	for _, a := range cfg.AuthInfos {
		if a.ClientCertificate != "" {
			if a.ClientCertificateData, err = os.ReadFile(a.ClientCertificate); err != nil {
				return nil, err
			}
			a.ClientCertificate = ""
		}
		if a.ClientKey != "" {
			if a.ClientKeyData, err = os.ReadFile(a.ClientKey); err != nil {
				return nil, err
			}
			a.ClientKey = ""
		}
	}
	return writeKubeconfigBytes(cfg)
}
