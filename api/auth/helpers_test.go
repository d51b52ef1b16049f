package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"partners/api/auth"
)

// testNow is the fixed clock every verifier in these tests runs on.
var testNow = time.Date(2030, time.March, 4, 5, 6, 7, 0, time.UTC)

func clock() time.Time { return testNow }

var testSecret = []byte(auth.DevelopmentSecret)

// Keys are generated once per test binary: RSA generation is slow.
var testKeys = sync.OnceValue(func() keys {
	mustRSA := func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	}
	mustEC := func(c elliptic.Curve) *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	return keys{rsa: mustRSA(), rsaOther: mustRSA(), rsaRotated: mustRSA(), ec: mustEC(elliptic.P256())}
})

type keys struct {
	rsa        *rsa.PrivateKey // served as kid "rsa-1"
	rsaOther   *rsa.PrivateKey // never served
	rsaRotated *rsa.PrivateKey // served as kid "rsa-2" only after rotation
	ec         *ecdsa.PrivateKey
}

const (
	kidRSA     = "rsa-1"
	kidRSA2    = "rsa-2"
	kidEC      = "ec-1"
	kidOct     = "oct-1"
	octKeyText = "a-symmetric-key-that-must-never-be-used-for-hs256"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid string, pub *rsa.PublicKey) map[string]string {
	return map[string]string{
		"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": b64(pub.N.Bytes()),
		"e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}
}

func ecJWK(kid string, pub *ecdsa.PublicKey) map[string]string {
	e, err := pub.ECDH()
	if err != nil {
		panic(err)
	}
	pt := e.Bytes() // 0x04 || X || Y, 32 bytes each for P-256
	return map[string]string{
		"kty": "EC", "kid": kid, "alg": "ES256", "use": "sig", "crv": "P-256",
		"x": b64(pt[1:33]), "y": b64(pt[33:]),
	}
}

func octJWK(kid string, key []byte) map[string]string {
	return map[string]string{"kty": "oct", "kid": kid, "k": b64(key)}
}

func jwksJSON(ks ...map[string]string) []byte {
	b, err := json.Marshal(map[string]any{"keys": ks})
	if err != nil {
		panic(err)
	}
	return b
}

// jwksServer serves a JWKS document over TLS; the document can be swapped.
type jwksServer struct {
	*httptest.Server
	doc      atomic.Pointer[[]byte]
	requests atomic.Int64
}

func (s *jwksServer) set(doc []byte) { s.doc.Store(&doc) }

// defaultJWKS is what the shared test server publishes: an RSA key, a P-256
// key, and a symmetric key that an attacker could try to use for HS256.
func defaultJWKS() []byte {
	k := testKeys()
	return jwksJSON(
		rsaJWK(kidRSA, &k.rsa.PublicKey),
		ecJWK(kidEC, &k.ec.PublicKey),
		octJWK(kidOct, []byte(octKeyText)),
	)
}

func newJWKSServer(t *testing.T, doc []byte) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.set(doc)
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*s.doc.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func newVerifier(t *testing.T, cfg auth.Config) *auth.Verifier {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = clock
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // stops the JWKS refresh goroutine
	v, err := auth.NewVerifier(ctx, cfg)
	if err != nil {
		t.Fatalf("NewVerifier(%v) error = %v, want nil", cfg, err)
	}
	return v
}

// claims returns a valid claim set (with a verified email); entries of over
// replace or (when nil) delete the defaults.
func claims(over map[string]any) jwt.MapClaims {
	c := jwt.MapClaims{
		"sub":            "user-1",
		"email":          "alice@example.com",
		"email_verified": true,
		"name":           "Alice",
		"scope":          "partners:read",
		"iat":            testNow.Unix(),
		"exp":            testNow.Add(time.Hour).Unix(),
	}
	for k, v := range over {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

func sign(t *testing.T, m jwt.SigningMethod, key any, kid string, c jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("signing %s token: %v", m.Alg(), err)
	}
	return s
}

// unsigned crafts a token by hand with the given header and claims and an
// arbitrary signature segment.
func unsigned(t *testing.T, header map[string]any, c jwt.MapClaims, sig string) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	p, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b64(h) + "." + b64(p) + "." + sig
}

func rsaPublicPEM(t *testing.T, pub *rsa.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func ptr[T any](v T) *T { return &v }

// tokenLeaks reports whether err's text contains the token or its signature.
func tokenLeaks(err error, token string) bool {
	if err == nil || token == "" {
		return false
	}
	msg := err.Error()
	if strings.Contains(msg, token) {
		return true
	}
	if i := strings.LastIndexByte(token, '.'); i >= 0 && len(token)-i > 8 {
		return strings.Contains(msg, token[i+1:])
	}
	return false
}
