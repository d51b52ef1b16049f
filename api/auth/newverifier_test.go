package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"partners/api/auth"
)

func TestNewVerifierConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		cfg     auth.Config
		wantErr string
	}{
		{name: "nothing configured", cfg: auth.Config{}, wantErr: "no key source"},
		{name: "empty secret", cfg: auth.Config{Secret: []byte{}}, wantErr: "no key source"},
		{name: "issuer alone is not a key source", cfg: auth.Config{Issuer: testIssuer, Audience: testAudience}, wantErr: "no key source"},
		{name: "short secret", cfg: auth.Config{Secret: []byte("too-short")}, wantErr: "at least 32 bytes"},
		{name: "JWKS URL not a URL", cfg: auth.Config{JWKSURL: "not a url"}, wantErr: "not an absolute URL"},
		{name: "JWKS URL relative", cfg: auth.Config{JWKSURL: "/.well-known/jwks.json"}, wantErr: "not an absolute URL"},
		{name: "JWKS URL without host", cfg: auth.Config{JWKSURL: "https:///jwks"}, wantErr: "not an absolute URL"},
		{name: "JWKS URL plain http to a remote host", cfg: auth.Config{JWKSURL: "http://idp.example/jwks"}, wantErr: "must use https"},
		{name: "JWKS URL other scheme", cfg: auth.Config{JWKSURL: "ftp://idp.example/jwks"}, wantErr: "must use https"},
		{name: "bad JWKS URL even with a secret", cfg: auth.Config{Secret: testSecret, JWKSURL: "http://idp.example/jwks"}, wantErr: "must use https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := auth.NewVerifier(t.Context(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewVerifier(%v) = %v, %v; want error containing %q", tt.cfg, v, err, tt.wantErr)
			}
		})
	}
}

func TestNewVerifierJWKSFetchErrors(t *testing.T) {
	big := func(n int) []byte {
		k := testKeys()
		return fmt.Appendf(nil, `{"keys":[%s],"padding":"%s"}`,
			strings.TrimSuffix(strings.TrimPrefix(string(jwksJSON(rsaJWK(kidRSA, &k.rsa.PublicKey))), `{"keys":[`), `]}`),
			strings.Repeat("p", n))
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		client  func(*httptest.Server) *http.Client
		wantErr bool
	}{
		{
			name:    "server error",
			handler: func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) },
			wantErr: true,
		},
		{
			name:    "not found",
			handler: func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) },
			wantErr: true,
		},
		{
			name:    "invalid JSON",
			handler: func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"keys": [`)) },
			wantErr: true,
		},
		{
			name:    "oversized document",
			handler: func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(big(1100 << 10)) },
			wantErr: true,
		},
		{
			name:    "large document under the limit",
			handler: func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(big(900 << 10)) },
			wantErr: false,
		},
		{
			name: "hanging server hits the client timeout",
			handler: func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			},
			client: func(s *httptest.Server) *http.Client {
				c := s.Client()
				c.Timeout = 200 * time.Millisecond
				return c
			},
			wantErr: true,
		},
		{
			name:    "untrusted certificate",
			handler: func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(defaultJWKS()) },
			client:  func(*httptest.Server) *http.Client { return nil }, // default client: test CA unknown
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewTLSServer(tt.handler)
			defer srv.Close()
			client := srv.Client()
			if tt.client != nil {
				client = tt.client(srv)
			}
			start := time.Now()
			v, err := auth.NewVerifier(t.Context(), auth.Config{JWKSURL: srv.URL, HTTPClient: client})
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewVerifier() = %v, %v; want error: %v", v, err, tt.wantErr)
			}
			if elapsed := time.Since(start); elapsed > 3*time.Second {
				t.Errorf("NewVerifier() took %v; want it bounded by the client timeout", elapsed)
			}
		})
	}
}

func TestNewVerifierPlainHTTPLoopback(t *testing.T) {
	k := testKeys()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(defaultJWKS())
	}))
	defer srv.Close()
	for _, u := range []string{srv.URL, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)} {
		t.Run(u, func(t *testing.T) {
			v := newVerifier(t, auth.Config{JWKSURL: u})
			tok := sign(t, jwt.SigningMethodRS256, k.rsa, kidRSA, claims(nil))
			if _, err := v.Verify(tok); err != nil {
				t.Errorf("Verify() error = %v; want nil", err)
			}
		})
	}
}

func TestJWKSKeyRotation(t *testing.T) {
	k := testKeys()
	srv := newJWKSServer(t, defaultJWKS())
	v := newVerifier(t, auth.Config{JWKSURL: srv.URL, HTTPClient: srv.Client()})
	if got := srv.requests.Load(); got != 1 {
		t.Fatalf("JWKS requests after NewVerifier = %d; want 1", got)
	}

	// The issuer rotates in a new key; the first token naming it triggers a
	// refresh.
	srv.set(jwksJSON(rsaJWK(kidRSA, &k.rsa.PublicKey), rsaJWK(kidRSA2, &k.rsaRotated.PublicKey)))
	rotated := sign(t, jwt.SigningMethodRS256, k.rsaRotated, kidRSA2, claims(nil))
	if _, err := v.Verify(rotated); err != nil {
		t.Fatalf("Verify(token with rotated kid) error = %v; want nil", err)
	}
	if got := srv.requests.Load(); got != 2 {
		t.Errorf("JWKS requests after rotation = %d; want 2", got)
	}

	// Further unknown key ids are rate limited: they fail at once, without
	// another fetch, rather than hammering the JWKS endpoint or blocking.
	start := time.Now()
	for i := range 5 {
		tok := sign(t, jwt.SigningMethodRS256, k.rsaOther, fmt.Sprintf("unknown-%d", i), claims(nil))
		if _, err := v.Verify(tok); err == nil || !strings.Contains(err.Error(), "no matching verification key") {
			t.Errorf("Verify(token with unknown kid) error = %v; want no matching verification key", err)
		}
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("unknown kids took %v; want them refused without waiting", elapsed)
	}
	if got := srv.requests.Load(); got != 2 {
		t.Errorf("JWKS requests after unknown kids = %d; want still 2", got)
	}

	// Known keys keep working.
	for _, tok := range []string{rotated, sign(t, jwt.SigningMethodRS256, k.rsa, kidRSA, claims(nil))} {
		if _, err := v.Verify(tok); err != nil {
			t.Errorf("Verify(known kid) error = %v; want nil", err)
		}
	}
}

func TestJWKSStopsWithContext(t *testing.T) {
	k := testKeys()
	srv := newJWKSServer(t, defaultJWKS())
	ctx, cancel := context.WithCancel(t.Context())
	v, err := auth.NewVerifier(ctx, auth.Config{JWKSURL: srv.URL, HTTPClient: srv.Client(), Now: clock})
	if err != nil {
		t.Fatalf("NewVerifier() error = %v; want nil", err)
	}
	cancel()

	srv.set(jwksJSON(rsaJWK(kidRSA2, &k.rsaRotated.PublicKey)))
	tok := sign(t, jwt.SigningMethodRS256, k.rsaRotated, kidRSA2, claims(nil))
	if _, err := v.Verify(tok); err == nil {
		t.Errorf("Verify(new kid after ctx done) error = nil; want an error")
	}
	if got := srv.requests.Load(); got != 1 {
		t.Errorf("JWKS requests after ctx done = %d; want 1 (no more fetching)", got)
	}
	// Keys fetched before cancellation stay usable.
	if _, err := v.Verify(sign(t, jwt.SigningMethodRS256, k.rsa, kidRSA, claims(nil))); err != nil {
		t.Errorf("Verify(cached kid) error = %v; want nil", err)
	}
}

func TestNewVerifierCopiesSecret(t *testing.T) {
	secret := []byte(auth.DevelopmentSecret)
	v := newVerifier(t, auth.Config{Secret: secret})
	tok := sign(t, jwt.SigningMethodHS256, []byte(auth.DevelopmentSecret), "", claims(nil))
	for i := range secret {
		secret[i] = 'x'
	}
	if _, err := v.Verify(tok); err != nil {
		t.Errorf("Verify() after mutating Config.Secret error = %v; want nil", err)
	}
}

func TestConfigStringRedactsSecret(t *testing.T) {
	cfg := auth.Config{Secret: []byte("super-secret-value-0123456789abcdef"), JWKSURL: "https://idp.example/jwks", Issuer: testIssuer}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		t.Run(format, func(t *testing.T) {
			for _, got := range []string{fmt.Sprintf(format, cfg), fmt.Sprintf(format, &cfg)} {
				if strings.Contains(got, "super-secret") || strings.Contains(got, "115 117 112") {
					t.Errorf("Sprintf(%q, cfg) = %q; want the secret redacted", format, got)
				}
				if !strings.Contains(got, "https://idp.example/jwks") {
					t.Errorf("Sprintf(%q, cfg) = %q; want it to show the JWKS URL", format, got)
				}
			}
		})
	}
}

func TestVerifierStringRedactsSecret(t *testing.T) {
	srv := newJWKSServer(t, defaultJWKS())
	v := newVerifier(t, auth.Config{Secret: testSecret, JWKSURL: srv.URL, HTTPClient: srv.Client()})
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		t.Run(format, func(t *testing.T) {
			got := fmt.Sprintf(format, v)
			if strings.Contains(got, auth.DevelopmentSecret) || strings.Contains(got, "112 97 114") {
				t.Errorf("Sprintf(%q, verifier) = %q; want no key material", format, got)
			}
			if want := "auth.Verifier{algs: HS256,RS256,ES256}"; got != want {
				t.Errorf("Sprintf(%q, verifier) = %q; want %q", format, got, want)
			}
		})
	}
}

func TestVerifyConcurrent(t *testing.T) {
	k := testKeys()
	srv := newJWKSServer(t, defaultJWKS())
	v := newVerifier(t, auth.Config{Secret: testSecret, JWKSURL: srv.URL, HTTPClient: srv.Client()})
	good := []string{
		sign(t, jwt.SigningMethodHS256, testSecret, "", claims(nil)),
		sign(t, jwt.SigningMethodRS256, k.rsa, kidRSA, claims(nil)),
		sign(t, jwt.SigningMethodES256, k.ec, kidEC, claims(nil)),
		sign(t, jwt.SigningMethodES256, k.ec, "", claims(nil)),
	}
	bad := sign(t, jwt.SigningMethodHS256, []byte("wrong-secret-wrong-secret-wrong-secret"), "", claims(nil))

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				tok := good[(g+i)%len(good)]
				if _, err := v.Verify(tok); err != nil {
					errs <- fmt.Errorf("Verify(good) error = %w; want nil", err)
					return
				}
				if _, err := v.Verify(bad); err == nil {
					errs <- fmt.Errorf("Verify(bad) error = nil; want an error")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
