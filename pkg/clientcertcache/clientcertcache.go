// Package clientcertcache remembers, for a few seconds, who a client
// certificate chain authenticated as, so that a client sending many
// requests over one connection does not have its chain's signatures
// checked on every one of them. kube-apiserver checks them every time: in
// the federation-apiserver that was a tenth of its processor time while
// the controller manager wrote bookkeeping for a burst of new objects.
//
// Only a successful authentication is remembered, only for requests whose
// sole credential is the certificate chain (no Authorization or WebSocket
// token header), and never past the earliest expiry in the chain or the
// cache's time to live. The TLS handshake still proves, on every new
// connection, that the client holds the certificate's key.
package clientcertcache

import (
	"crypto/sha256"
	"encoding/binary"
	"net/http"
	"sync"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/utils/lru"
)

// DefaultTTL bounds how long a chain's answer is kept: a client CA taken
// out of the bundle stops being honoured within it, as a cached token
// review does within kube-apiserver's webhook cache TTL.
const DefaultTTL = 10 * time.Second

// defaultSize is how many chains are remembered: far more clients than a
// federation-apiserver serves at once.
const defaultSize = 1024

// Authenticator is an authenticator.Request that remembers the answers of
// another for client certificate chains.
type Authenticator struct {
	inner authenticator.Request
	ttl   time.Duration
	now   func() time.Time

	mu      sync.Mutex
	answers *lru.Cache
}

type answer struct {
	resp    *authenticator.Response
	expires time.Time
}

// New wraps inner, which must authenticate a request carrying only a
// client certificate chain by that chain alone: no front proxy's request
// headers may be in play.
func New(inner authenticator.Request, ttl time.Duration) *Authenticator {
	return &Authenticator{inner: inner, ttl: ttl, now: time.Now, answers: lru.New(defaultSize)}
}

// WithClock replaces the clock, for tests.
func (a *Authenticator) WithClock(now func() time.Time) *Authenticator {
	a.now = now
	return a
}

// AuthenticateRequest implements authenticator.Request.
func (a *Authenticator) AuthenticateRequest(req *http.Request) (*authenticator.Response, bool, error) {
	key, ok := chainKey(req)
	if !ok {
		return a.inner.AuthenticateRequest(req)
	}
	now := a.now()
	if resp, ok := a.lookup(key, now); ok {
		return resp, true, nil
	}
	resp, ok, err := a.inner.AuthenticateRequest(req)
	if ok && err == nil && resp != nil && resp.User != nil && resp.User.GetName() != user.Anonymous {
		a.remember(key, resp, expiry(req, now.Add(a.ttl)))
	}
	return resp, ok, err
}

func (a *Authenticator) lookup(key [sha256.Size]byte, now time.Time) (*authenticator.Response, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	v, ok := a.answers.Get(key)
	if !ok {
		return nil, false
	}
	ans := v.(answer)
	if !now.Before(ans.expires) {
		a.answers.Remove(key)
		return nil, false
	}
	// A copy: later filters may set fields of the response they get.
	resp := *ans.resp
	return &resp, true
}

func (a *Authenticator) remember(key [sha256.Size]byte, resp *authenticator.Response, expires time.Time) {
	cp := *resp
	a.mu.Lock()
	defer a.mu.Unlock()
	a.answers.Add(key, answer{resp: &cp, expires: expires})
}

// chainKey is a digest of the request's client certificate chain, if the
// chain is its only credential.
func chainKey(req *http.Request) ([sha256.Size]byte, bool) {
	var key [sha256.Size]byte
	if req.TLS == nil || len(req.TLS.PeerCertificates) == 0 {
		return key, false
	}
	if req.Header.Get("Authorization") != "" || req.Header.Get("Sec-WebSocket-Protocol") != "" {
		return key, false
	}
	h := sha256.New()
	var n [8]byte
	for _, c := range req.TLS.PeerCertificates {
		binary.BigEndian.PutUint64(n[:], uint64(len(c.Raw)))
		h.Write(n[:])
		h.Write(c.Raw)
	}
	copy(key[:], h.Sum(nil))
	return key, true
}

// expiry is the earlier of limit and the first moment a certificate of
// the request's chain is no longer valid.
func expiry(req *http.Request, limit time.Time) time.Time {
	for _, c := range req.TLS.PeerCertificates {
		// A certificate is valid through NotAfter; from there on the
		// chain is checked again, and refused.
		if c.NotAfter.Before(limit) {
			limit = c.NotAfter
		}
	}
	return limit
}
