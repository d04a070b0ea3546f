package initfed

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"

	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
)

// Certificate lifetimes. Leaf certificates are renewed by running kubefed
// init again, which issues new ones from the same CA.
const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 365 * 24 * time.Hour
	// backdate absorbs clock skew between this machine and the servers.
	backdate = 5 * time.Minute
)

// certAuthority signs the federation's serving and client certificates.
type certAuthority struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
	keyPEM  []byte
}

// newCA creates a self-signed CA.
func newCA(commonName string) (*certAuthority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return nil, err
	}
	return &certAuthority{cert: cert, key: key, certPEM: encodeCert(der), keyPEM: keyPEM}, nil
}

// loadCA reads back a CA kubefed init stored before.
func loadCA(certPEM, keyPEM []byte) (*certAuthority, error) {
	certs, err := certutil.ParseCertsPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	parsed, err := keyutil.ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("parse CA key: %w", err)
	}
	key, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("CA key of type %T cannot sign", parsed)
	}
	if !certs[0].IsCA {
		return nil, fmt.Errorf("certificate %q is not a CA", certs[0].Subject.CommonName)
	}
	if time.Now().After(certs[0].NotAfter) {
		return nil, fmt.Errorf("CA certificate expired on %s", certs[0].NotAfter.Format(time.RFC3339))
	}
	return &certAuthority{cert: certs[0], key: key, certPEM: certPEM, keyPEM: keyPEM}, nil
}

// keyPair is a PEM certificate and its key.
type keyPair struct {
	certPEM, keyPEM []byte
}

// issueServing issues a serving certificate for the DNS names and IPs in
// hosts.
func (ca *certAuthority) issueServing(commonName string, hosts []string) (keyPair, error) {
	dns, ips := splitHosts(hosts)
	return ca.issue(pkix.Name{CommonName: commonName}, dns, ips, x509.ExtKeyUsageServerAuth)
}

// issuePeer issues a certificate for both ends of a connection between
// peers, such as etcd members, which serve and dial each other.
func (ca *certAuthority) issuePeer(commonName string, hosts []string) (keyPair, error) {
	dns, ips := splitHosts(hosts)
	return ca.issue(pkix.Name{CommonName: commonName}, dns, ips, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
}

// issueClient issues a client certificate for user in groups.
func (ca *certAuthority) issueClient(user string, groups ...string) (keyPair, error) {
	return ca.issue(pkix.Name{CommonName: user, Organization: groups}, nil, nil, x509.ExtKeyUsageClientAuth)
}

// splitHosts splits hosts into DNS names and IP addresses.
func splitHosts(hosts []string) (dns []string, ips []net.IP) {
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, h)
		}
	}
	return dns, ips
}

func (ca *certAuthority) issue(subject pkix.Name, dns []string, ips []net.IP, usages ...x509.ExtKeyUsage) (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, fmt.Errorf("generate key for %q: %w", subject.CommonName, err)
	}
	serial, err := randomSerial()
	if err != nil {
		return keyPair{}, err
	}
	now := time.Now()
	notAfter := now.Add(leafValidity)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    now.Add(-backdate),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  usages,
		DNSNames:     dns,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return keyPair{}, fmt.Errorf("sign certificate for %q: %w", subject.CommonName, err)
	}
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return keyPair{}, err
	}
	return keyPair{certPEM: encodeCert(der), keyPEM: keyPEM}, nil
}

// etcdClientUser names the federation-apiserver's client certificate for
// etcd.
const etcdClientUser = "federation-apiserver"

// etcdCredentials are the certificates of the etcd kubefed init deploys.
// They come from a CA of their own, as kubeadm's do, which signs nothing
// else: no certificate of the federation's CA (an admin's, the controller
// manager's) opens etcd, and etcd's open nothing of the federation's.
type etcdCredentials struct {
	ca *certAuthority
	// server is etcd's serving certificate for clients, peer the one for
	// its peers (serving and dialing), apiserver the federation-apiserver's
	// client certificate.
	server, peer, apiserver keyPair
}

// issueEtcd issues etcd's certificates for the names in hosts, and the
// federation-apiserver's, from ca.
func issueEtcd(ca *certAuthority, hosts []string) (*etcdCredentials, error) {
	var (
		c   = &etcdCredentials{ca: ca}
		err error
	)
	if c.server, err = ca.issueServing("etcd", hosts); err != nil {
		return nil, err
	}
	if c.peer, err = ca.issuePeer("etcd-peer", hosts); err != nil {
		return nil, err
	}
	if c.apiserver, err = ca.issueClient(etcdClientUser); err != nil {
		return nil, err
	}
	return c, nil
}

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: certutil.CertificateBlockType, Bytes: der})
}

func randomSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generate certificate serial: %w", err)
	}
	return serial, nil
}

// hashOf is a short digest of the given blobs, to tell when they change.
func hashOf(blobs ...[]byte) string {
	h := sha256.New()
	for _, b := range blobs {
		h.Write(b)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
