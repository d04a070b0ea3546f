package framework

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/util/keyutil"
)

// CA is a certificate authority that signs serving and client certificates
// for the processes of a test federation.
type CA struct {
	Cert     *x509.Certificate
	Key      crypto.Signer
	CertFile string
	KeyFile  string
}

// NewCA creates a CA and writes it under dir as name.crt and name.key.
func NewCA(dir, name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	ca := &CA{Cert: cert, Key: key, CertFile: filepath.Join(dir, name+".crt"), KeyFile: filepath.Join(dir, name+".key")}
	if err := writePair(ca.CertFile, ca.KeyFile, der, key); err != nil {
		return nil, err
	}
	return ca, nil
}

// CertPEM is the CA certificate in PEM.
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// IssueServing writes a serving certificate for the hosts and IPs, returning
// the cert and key file paths.
func (ca *CA) IssueServing(dir, name string, hosts []string, ips []net.IP) (string, string, error) {
	return ca.issue(dir, name, pkix.Name{CommonName: name}, hosts, ips, x509.ExtKeyUsageServerAuth)
}

// IssuePeer writes a certificate good for serving the hosts and IPs and
// for authenticating as a client with it: an etcd member's peer
// certificate, which it presents both ways.
func (ca *CA) IssuePeer(dir, name string, hosts []string, ips []net.IP) (string, string, error) {
	return ca.issue(dir, name, pkix.Name{CommonName: name}, hosts, ips, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
}

// IssueClient writes a client certificate for user in groups.
func (ca *CA) IssueClient(dir, name, user string, groups ...string) (string, string, error) {
	return ca.issue(dir, name, pkix.Name{CommonName: user, Organization: groups}, nil, nil, x509.ExtKeyUsageClientAuth)
}

func (ca *CA) issue(dir, name string, subject pkix.Name, hosts []string, ips []net.IP, usages ...x509.ExtKeyUsage) (string, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(5 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  usages,
		DNSNames:     hosts,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	return certFile, keyFile, writePair(certFile, keyFile, der, key)
}

func writePair(certFile, keyFile string, der []byte, key crypto.Signer) error {
	if err := os.MkdirAll(filepath.Dir(certFile), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return err
	}
	return os.WriteFile(keyFile, keyPEM, 0o600)
}

// WriteServiceAccountKey writes an RSA key pair for service account tokens.
func WriteServiceAccountKey(dir string) (pub, priv string, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", err
	}
	priv, pub = filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return "", "", err
	}
	if err := os.WriteFile(priv, keyPEM, 0o600); err != nil {
		return "", "", err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", err
	}
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return "", "", fmt.Errorf("write %s: %w", pub, err)
	}
	return pub, priv, nil
}

// PKI is every key and certificate a test federation shares: one CA for
// serving and client certificates, a front-proxy CA for aggregation, and the
// service account key pair of the member clusters.
type PKI struct {
	CA                   *CA
	FrontProxyCA         *CA
	FrontProxyClientCert string
	FrontProxyClientKey  string
	ServiceAccountPub    string
	ServiceAccountKey    string
}

// NewPKI creates a PKI under dir.
func NewPKI(dir string) (*PKI, error) {
	dir = filepath.Join(dir, "pki")
	ca, err := NewCA(dir, "ca")
	if err != nil {
		return nil, err
	}
	fp, err := NewCA(dir, "front-proxy-ca")
	if err != nil {
		return nil, err
	}
	fpCert, fpKey, err := fp.IssueClient(dir, "front-proxy-client", "front-proxy-client")
	if err != nil {
		return nil, err
	}
	pub, priv, err := WriteServiceAccountKey(dir)
	if err != nil {
		return nil, err
	}
	return &PKI{CA: ca, FrontProxyCA: fp, FrontProxyClientCert: fpCert, FrontProxyClientKey: fpKey, ServiceAccountPub: pub, ServiceAccountKey: priv}, nil
}
