package clientcertcache

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
)

// authority issues client certificates, as a federation's client CA does.
type authority struct {
	t    *testing.T
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newAuthority(t *testing.T) *authority {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &authority{t: t, cert: cert, key: key, pool: pool}
}

func (a *authority) issue(name string, notAfter time.Time) *x509.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		a.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name, Organization: []string{"system:masters"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		a.t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

// counting counts the chains the real x509 authenticator verifies.
type counting struct {
	inner authenticator.Request
	calls atomic.Int32
}

func (c *counting) AuthenticateRequest(req *http.Request) (*authenticator.Response, bool, error) {
	c.calls.Add(1)
	return c.inner.AuthenticateRequest(req)
}

func request(certs ...*x509.Certificate) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, "https://federation/api", nil)
	req.TLS = &tls.ConnectionState{PeerCertificates: certs}
	return req
}

type fixture struct {
	ca    *authority
	inner *counting
	cache *Authenticator
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	ca := newAuthority(t)
	opts := x509request.DefaultVerifyOptions()
	opts.Roots = ca.pool
	f := &fixture{ca: ca, inner: &counting{inner: x509request.New(opts, x509request.CommonNameUserConversion)}, now: time.Now()}
	f.cache = New(f.inner, DefaultTTL).WithClock(func() time.Time { return f.now })
	return f
}

// authenticate returns the user name the request authenticates as, and
// whether the chain was verified for it.
func (f *fixture) authenticate(t *testing.T, req *http.Request) (name string, verified bool) {
	t.Helper()
	before := f.inner.calls.Load()
	resp, ok, err := f.cache.AuthenticateRequest(req)
	verified = f.inner.calls.Load() > before
	if err != nil || !ok {
		return "", verified
	}
	return resp.User.GetName(), verified
}

func TestAChainIsVerifiedOnceWithinItsTimeToLive(t *testing.T) {
	f := newFixture(t)
	cm := f.ca.issue("federation-controller-manager", time.Now().Add(time.Hour))
	if name, verified := f.authenticate(t, request(cm)); name != "federation-controller-manager" || !verified {
		t.Fatalf("first request: user %q, verified %v; want the certificate's name, verified", name, verified)
	}
	f.now = f.now.Add(DefaultTTL - time.Second)
	if name, verified := f.authenticate(t, request(cm)); name != "federation-controller-manager" || verified {
		t.Fatalf("within the TTL: user %q, verified %v; want the same user from the cache", name, verified)
	}
	f.now = f.now.Add(time.Second)
	if _, verified := f.authenticate(t, request(cm)); !verified {
		t.Fatal("after the TTL the chain was not verified again")
	}
	other := f.ca.issue("alice", time.Now().Add(time.Hour))
	if name, verified := f.authenticate(t, request(other)); name != "alice" || !verified {
		t.Fatalf("another certificate: user %q, verified %v; want alice, verified", name, verified)
	}
}

func TestNothingIsKeptPastTheChainsExpiry(t *testing.T) {
	f := newFixture(t)
	soon := f.ca.issue("short-lived", f.now.Add(3*time.Second))
	if name, _ := f.authenticate(t, request(soon)); name != "short-lived" {
		t.Fatalf("user %q before expiry", name)
	}
	f.now = f.now.Add(2 * time.Second)
	if _, verified := f.authenticate(t, request(soon)); verified {
		t.Fatal("before its expiry the chain was verified again")
	}
	// Past NotAfter, though well within the TTL, the chain goes back to
	// the real authenticator (which refuses it by the wall clock once
	// it has expired there too).
	f.now = f.now.Add(2 * time.Second)
	if _, verified := f.authenticate(t, request(soon)); !verified {
		t.Fatal("an expired certificate was answered from the cache")
	}
}

func TestRefusalsAndOtherCredentialsAreNotRemembered(t *testing.T) {
	f := newFixture(t)
	stranger := newAuthority(t).issue("mallory", time.Now().Add(time.Hour))
	for i := 0; i < 2; i++ {
		if name, verified := f.authenticate(t, request(stranger)); name != "" || !verified {
			t.Fatalf("try %d with another CA's certificate: user %q, verified %v; want refused after a verification", i, name, verified)
		}
	}
	cm := f.ca.issue("federation-controller-manager", time.Now().Add(time.Hour))
	withToken := request(cm)
	withToken.Header.Set("Authorization", "Bearer something")
	for i := 0; i < 2; i++ {
		if _, verified := f.authenticate(t, withToken); !verified {
			t.Fatalf("try %d: a request with a bearer token beside the certificate was answered from the cache", i)
		}
	}
	if _, verified := f.authenticate(t, request()); !verified {
		t.Fatal("a request without a certificate did not reach the authenticator")
	}
}
