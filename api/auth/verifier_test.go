package auth_test

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"partners/api/auth"
)

const (
	testIssuer   = "https://issuer.example"
	testAudience = "partners-api"
)

func TestVerify(t *testing.T) {
	k := testKeys()
	srv := newJWKSServer(t, defaultJWKS())
	verifiers := map[string]*auth.Verifier{
		"secret": newVerifier(t, auth.Config{Secret: testSecret}),
		"jwks":   newVerifier(t, auth.Config{JWKSURL: srv.URL, HTTPClient: srv.Client()}),
		"both":   newVerifier(t, auth.Config{Secret: testSecret, JWKSURL: srv.URL, HTTPClient: srv.Client()}),
		"secret+iss+aud": newVerifier(t, auth.Config{
			Secret: testSecret, Issuer: testIssuer, Audience: testAudience,
		}),
		"jwks+iss+aud": newVerifier(t, auth.Config{
			JWKSURL: srv.URL, HTTPClient: srv.Client(), Issuer: testIssuer, Audience: testAudience,
		}),
		"secret+assume": newVerifier(t, auth.Config{Secret: testSecret, AssumeEmailVerified: true}),
		"jwks+assume":   newVerifier(t, auth.Config{JWKSURL: srv.URL, HTTPClient: srv.Client(), AssumeEmailVerified: true}),
	}

	hs := func(over map[string]any) string { return sign(t, jwt.SigningMethodHS256, testSecret, "", claims(over)) }
	rs := func(kid string, over map[string]any) string {
		return sign(t, jwt.SigningMethodRS256, k.rsa, kid, claims(over))
	}
	es := func(kid string, over map[string]any) string {
		return sign(t, jwt.SigningMethodES256, k.ec, kid, claims(over))
	}
	withPrincipal := func(f func(*auth.Principal)) auth.Principal {
		p := auth.Principal{
			Subject:       "user-1",
			Email:         "alice@example.com",
			EmailVerified: true,
			Name:          "Alice",
			Scopes:        []string{"partners:read"},
			IssuedAt:      testNow,
		}
		if f != nil {
			f(&p)
		}
		return p
	}
	rsaDER, err := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	validHS := hs(nil)
	validSig := validHS[strings.LastIndexByte(validHS, '.')+1:]
	noneHeader := map[string]any{"alg": "none", "typ": "JWT"}
	iss := map[string]any{"iss": testIssuer, "aud": testAudience}

	tests := []struct {
		name     string
		verifier string
		token    string
		want     auth.Principal // checked when wantErr == ""
		wantErr  string         // substring of the error; "" means success
	}{
		// HS256.
		{name: "valid HS256", verifier: "secret", token: validHS, want: withPrincipal(nil)},
		{name: "valid HS256 with both sources", verifier: "both", token: validHS, want: withPrincipal(nil)},
		{name: "missing exp", verifier: "secret", token: hs(map[string]any{"exp": nil}), wantErr: "missing exp"},
		{name: "expired", verifier: "secret", token: hs(map[string]any{"exp": testNow.Add(-2 * time.Minute).Unix()}), wantErr: "token expired"},
		{name: "expired within leeway", verifier: "secret", token: hs(map[string]any{"exp": testNow.Add(-10 * time.Second).Unix()}), want: withPrincipal(nil)},
		{name: "not yet valid", verifier: "secret", token: hs(map[string]any{"nbf": testNow.Add(time.Hour).Unix()}), wantErr: "not valid yet"},
		{name: "nbf within leeway", verifier: "secret", token: hs(map[string]any{"nbf": testNow.Add(10 * time.Second).Unix()}), want: withPrincipal(nil)},
		{name: "exp wrong type", verifier: "secret", token: hs(map[string]any{"exp": "tomorrow"}), wantErr: "malformed"},
		{name: "badly signed", verifier: "secret", token: sign(t, jwt.SigningMethodHS256, []byte("another-secret-that-is-long-enough-0123"), "", claims(nil)), wantErr: "signature invalid"},
		{name: "tampered payload", verifier: "secret", token: unsigned(t, map[string]any{"alg": "HS256", "typ": "JWT"}, claims(map[string]any{"scope": "partners:admin"}), validSig), wantErr: "signature invalid"},
		{name: "empty signature", verifier: "secret", token: unsigned(t, map[string]any{"alg": "HS256", "typ": "JWT"}, claims(nil), ""), wantErr: "signature invalid"},

		// Algorithms that are never accepted.
		{name: "alg none", verifier: "secret", token: unsigned(t, noneHeader, claims(nil), ""), wantErr: "algorithm not accepted"},
		{name: "alg none with jwks", verifier: "jwks", token: unsigned(t, noneHeader, claims(nil), ""), wantErr: "algorithm not accepted"},
		{name: "alg none with both sources", verifier: "both", token: unsigned(t, noneHeader, claims(nil), ""), wantErr: "algorithm not accepted"},
		{name: "alg none with a signature", verifier: "both", token: unsigned(t, noneHeader, claims(nil), validSig), wantErr: "algorithm not accepted"},
		{name: "alg None mixed case", verifier: "both", token: unsigned(t, map[string]any{"alg": "None"}, claims(nil), ""), wantErr: "algorithm not accepted"},
		{name: "alg missing", verifier: "both", token: unsigned(t, map[string]any{"typ": "JWT"}, claims(nil), validSig), wantErr: "algorithm not accepted"},
		{name: "alg empty", verifier: "both", token: unsigned(t, map[string]any{"alg": ""}, claims(nil), validSig), wantErr: "algorithm not accepted"},
		{name: "HS512", verifier: "both", token: sign(t, jwt.SigningMethodHS512, testSecret, "", claims(nil)), wantErr: "algorithm not accepted"},
		{name: "HS384", verifier: "secret", token: sign(t, jwt.SigningMethodHS384, testSecret, "", claims(nil)), wantErr: "algorithm not accepted"},
		{name: "RS384 with a served key", verifier: "jwks", token: sign(t, jwt.SigningMethodRS384, k.rsa, kidRSA, claims(nil)), wantErr: "algorithm not accepted"},
		{name: "PS256 with a served key", verifier: "both", token: sign(t, jwt.SigningMethodPS256, k.rsa, kidRSA, claims(nil)), wantErr: "algorithm not accepted"},

		// Each algorithm only with its own key source.
		{name: "HS256 when only JWKS configured", verifier: "jwks", token: validHS, wantErr: "algorithm not accepted"},
		{name: "RS256 when only secret configured", verifier: "secret", token: rs(kidRSA, nil), wantErr: "algorithm not accepted"},
		{name: "ES256 when only secret configured", verifier: "secret", token: es(kidEC, nil), wantErr: "algorithm not accepted"},
		{name: "alg confusion: HS256 keyed with RSA public PEM, JWKS only", verifier: "jwks", token: sign(t, jwt.SigningMethodHS256, rsaPublicPEM(t, &k.rsa.PublicKey), kidRSA, claims(nil)), wantErr: "algorithm not accepted"},
		{name: "alg confusion: HS256 keyed with RSA public PEM, both sources", verifier: "both", token: sign(t, jwt.SigningMethodHS256, rsaPublicPEM(t, &k.rsa.PublicKey), kidRSA, claims(nil)), wantErr: "signature invalid"},
		{name: "alg confusion: HS256 keyed with RSA public DER, both sources", verifier: "both", token: sign(t, jwt.SigningMethodHS256, rsaDER, kidRSA, claims(nil)), wantErr: "signature invalid"},
		{name: "alg confusion: HS256 keyed with RSA modulus, both sources", verifier: "both", token: sign(t, jwt.SigningMethodHS256, k.rsa.N.Bytes(), kidRSA, claims(nil)), wantErr: "signature invalid"},
		{name: "HS256 keyed with JWKS oct key, JWKS only", verifier: "jwks", token: sign(t, jwt.SigningMethodHS256, []byte(octKeyText), kidOct, claims(nil)), wantErr: "algorithm not accepted"},
		{name: "HS256 keyed with JWKS oct key, both sources", verifier: "both", token: sign(t, jwt.SigningMethodHS256, []byte(octKeyText), kidOct, claims(nil)), wantErr: "signature invalid"},

		// RS256 / ES256 through the JWKS.
		{name: "valid RS256", verifier: "jwks", token: rs(kidRSA, nil), want: withPrincipal(nil)},
		{name: "valid RS256 without kid", verifier: "jwks", token: rs("", nil), want: withPrincipal(nil)},
		{name: "valid RS256 with both sources", verifier: "both", token: rs(kidRSA, nil), want: withPrincipal(nil)},
		{name: "valid ES256", verifier: "jwks", token: es(kidEC, nil), want: withPrincipal(nil)},
		{name: "valid ES256 without kid", verifier: "jwks", token: es("", nil), want: withPrincipal(nil)},
		{name: "valid ES256 with both sources", verifier: "both", token: es(kidEC, nil), want: withPrincipal(nil)},
		{name: "RS256 signed by an unknown key", verifier: "jwks", token: sign(t, jwt.SigningMethodRS256, k.rsaOther, kidRSA, claims(nil)), wantErr: "signature invalid"},
		{name: "RS256 signed by an unknown key without kid", verifier: "jwks", token: sign(t, jwt.SigningMethodRS256, k.rsaOther, "", claims(nil)), wantErr: "signature invalid"},
		{name: "RS256 with unknown kid", verifier: "jwks", token: rs("no-such-kid", nil), wantErr: "no matching verification key"},
		{name: "RS256 with kid of the EC key", verifier: "jwks", token: rs(kidEC, nil), wantErr: "no matching verification key"},
		{name: "RS256 with kid of the oct key", verifier: "jwks", token: rs(kidOct, nil), wantErr: "no matching verification key"},
		{name: "ES256 with kid of the RSA key", verifier: "jwks", token: es(kidRSA, nil), wantErr: "no matching verification key"},
		{name: "RS256 expired", verifier: "jwks", token: rs(kidRSA, map[string]any{"exp": testNow.Add(-time.Hour).Unix()}), wantErr: "token expired"},
		{name: "ES256 missing exp", verifier: "jwks", token: es(kidEC, map[string]any{"exp": nil}), wantErr: "missing exp"},

		// Issuer and audience.
		{name: "issuer and audience match", verifier: "secret+iss+aud", token: hs(iss), want: withPrincipal(nil)},
		{name: "issuer and audience match RS256", verifier: "jwks+iss+aud", token: rs(kidRSA, iss), want: withPrincipal(nil)},
		{name: "audience among several", verifier: "secret+iss+aud", token: hs(map[string]any{"iss": testIssuer, "aud": []string{"other", testAudience}}), want: withPrincipal(nil)},
		{name: "wrong issuer", verifier: "secret+iss+aud", token: hs(map[string]any{"iss": "https://evil.example", "aud": testAudience}), wantErr: "wrong issuer"},
		{name: "wrong issuer RS256", verifier: "jwks+iss+aud", token: rs(kidRSA, map[string]any{"iss": "https://evil.example", "aud": testAudience}), wantErr: "wrong issuer"},
		{name: "missing issuer", verifier: "secret+iss+aud", token: hs(map[string]any{"aud": testAudience}), wantErr: "missing iss"},
		{name: "wrong audience", verifier: "secret+iss+aud", token: hs(map[string]any{"iss": testIssuer, "aud": "other-api"}), wantErr: "wrong audience"},
		{name: "wrong audience list", verifier: "secret+iss+aud", token: hs(map[string]any{"iss": testIssuer, "aud": []string{"a", "b"}}), wantErr: "wrong audience"},
		{name: "missing audience", verifier: "secret+iss+aud", token: hs(map[string]any{"iss": testIssuer}), wantErr: "missing aud"},
		{name: "issuer and audience not configured", verifier: "secret", token: hs(map[string]any{"iss": "https://anyone.example", "aud": "anything"}), want: withPrincipal(nil)},
		{name: "issuer and audience not configured RS256", verifier: "jwks", token: rs(kidRSA, map[string]any{"iss": "https://anyone.example", "aud": "anything"}), want: withPrincipal(nil)},

		// Subject.
		{name: "sub missing", verifier: "secret", token: hs(map[string]any{"sub": nil}), wantErr: "missing sub"},
		{name: "sub empty", verifier: "secret", token: hs(map[string]any{"sub": ""}), wantErr: "missing sub"},
		{name: "sub 129 characters", verifier: "secret", token: hs(map[string]any{"sub": strings.Repeat("x", 129)}), wantErr: "sub longer than 128"},
		{name: "sub 128 characters", verifier: "secret", token: hs(map[string]any{"sub": strings.Repeat("x", 128)}),
			want: withPrincipal(func(p *auth.Principal) { p.Subject = strings.Repeat("x", 128) })},
		{name: "sub 128 multi-byte characters", verifier: "secret", token: hs(map[string]any{"sub": strings.Repeat("é", 128)}),
			want: withPrincipal(func(p *auth.Principal) { p.Subject = strings.Repeat("é", 128) })},
		{name: "sub 129 multi-byte characters", verifier: "secret", token: hs(map[string]any{"sub": strings.Repeat("é", 129)}), wantErr: "sub longer than 128"},
		{name: "sub not a string", verifier: "secret", token: hs(map[string]any{"sub": 42}), wantErr: "malformed"},

		// Email, name, email_verified.
		{name: "email normalized", verifier: "secret", token: hs(map[string]any{"email": "  Alice.Smith@Example.COM\t"}),
			want: withPrincipal(func(p *auth.Principal) { p.Email = "alice.smith@example.com" })},
		{name: "email absent", verifier: "secret", token: hs(map[string]any{"email": nil}),
			want: withPrincipal(func(p *auth.Principal) { p.Email = "" })},
		{name: "email_verified false", verifier: "secret", token: hs(map[string]any{"email_verified": false}),
			want: withPrincipal(func(p *auth.Principal) { p.EmailVerified = false })},
		{name: "email_verified false RS256", verifier: "jwks", token: rs(kidRSA, map[string]any{"email_verified": false}),
			want: withPrincipal(func(p *auth.Principal) { p.EmailVerified = false })},
		{name: "email_verified true", verifier: "secret", token: hs(map[string]any{"email_verified": true}), want: withPrincipal(nil)},
		// A provider's silence does not vouch for an email, unless the
		// operator assumes it does.
		{name: "email_verified absent", verifier: "secret", token: hs(map[string]any{"email_verified": nil}),
			want: withPrincipal(func(p *auth.Principal) { p.EmailVerified = false })},
		{name: "email_verified absent RS256", verifier: "jwks", token: rs(kidRSA, map[string]any{"email_verified": nil}),
			want: withPrincipal(func(p *auth.Principal) { p.EmailVerified = false })},
		{name: "email_verified absent, assumed", verifier: "secret+assume", token: hs(map[string]any{"email_verified": nil}), want: withPrincipal(nil)},
		{name: "email_verified absent RS256, assumed", verifier: "jwks+assume", token: rs(kidRSA, map[string]any{"email_verified": nil}), want: withPrincipal(nil)},
		{name: "email_verified false, assumed", verifier: "secret+assume", token: hs(map[string]any{"email_verified": false}),
			want: withPrincipal(func(p *auth.Principal) { p.EmailVerified = false })},
		{name: "email_verified null", verifier: "secret", token: hs(map[string]any{"email_verified": json.RawMessage("null")}),
			want: withPrincipal(func(p *auth.Principal) { p.EmailVerified = false })},
		{name: "email_verified as a string is refused", verifier: "secret", token: hs(map[string]any{"email_verified": "false"}), wantErr: "malformed"},
		{name: "iat absent", verifier: "secret", token: hs(map[string]any{"iat": nil}),
			want: withPrincipal(func(p *auth.Principal) { p.IssuedAt = time.Time{} })},
		{name: "name absent", verifier: "secret", token: hs(map[string]any{"name": nil}),
			want: withPrincipal(func(p *auth.Principal) { p.Name = "" })},

		// Scopes.
		{name: "scopes split on whitespace", verifier: "secret", token: hs(map[string]any{"scope": " partners:admin  partners:read\tpartners:write "}),
			want: withPrincipal(func(p *auth.Principal) { p.Scopes = []string{auth.ScopeAdmin, "partners:read", "partners:write"} })},
		{name: "scope absent", verifier: "secret", token: hs(map[string]any{"scope": nil}),
			want: withPrincipal(func(p *auth.Principal) { p.Scopes = nil })},
		{name: "scope blank", verifier: "secret", token: hs(map[string]any{"scope": "   "}),
			want: withPrincipal(func(p *auth.Principal) { p.Scopes = nil })},
		{name: "scope as array is refused", verifier: "secret", token: hs(map[string]any{"scope": []string{auth.ScopeAdmin}}), wantErr: "malformed"},

		// Size and shape.
		{name: "empty token", verifier: "both", token: "", wantErr: "empty token"},
		{name: "oversized token", verifier: "secret", token: hs(map[string]any{"name": strings.Repeat("n", 7000)}), wantErr: "longer than 8192 bytes"},
		{name: "oversized garbage", verifier: "both", token: strings.Repeat("a", auth.MaxTokenLength+1), wantErr: "longer than 8192 bytes"},
		{name: "large token under the limit", verifier: "secret", token: hs(map[string]any{"name": strings.Repeat("n", 5000)}),
			want: withPrincipal(func(p *auth.Principal) { p.Name = strings.Repeat("n", 5000) })},
		{name: "not a JWT", verifier: "both", token: "not-a-jwt", wantErr: "malformed"},
		{name: "four segments", verifier: "secret", token: validHS + ".extra", wantErr: "malformed"},
		{name: "bad base64 header", verifier: "secret", token: "!!!." + validHS[strings.IndexByte(validHS, '.')+1:], wantErr: "malformed"},
		{name: "header not JSON", verifier: "secret", token: b64([]byte("nope")) + "." + validHS[strings.IndexByte(validHS, '.')+1:], wantErr: "malformed"},
		{name: "padded base64", verifier: "secret", token: strings.Replace(validHS, ".", "==.", 1), wantErr: "malformed"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := verifiers[tt.verifier]
			if !ok {
				t.Fatalf("unknown verifier %q", tt.verifier)
			}
			got, err := v.Verify(tt.token)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Verify() = %+v, nil; want error containing %q", got, tt.wantErr)
				}
				if !errors.Is(err, auth.ErrInvalidToken) {
					t.Errorf("Verify() error = %v; want it to wrap ErrInvalidToken", err)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Verify() error = %q; want it to contain %q", err, tt.wantErr)
				}
				if tokenLeaks(err, tt.token) {
					t.Errorf("Verify() error = %q; it contains the token", err)
				}
				if !reflect.DeepEqual(got, auth.Principal{}) {
					t.Errorf("Verify() principal = %+v on error; want zero Principal", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify() error = %v; want nil (want principal %+v)", err, tt.want)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Verify() = %+v; want %+v", got, tt.want)
			}
		})
	}
}

func TestPrincipalHasScope(t *testing.T) {
	admin := auth.Principal{Subject: "u", Scopes: []string{"partners:read", auth.ScopeAdmin}}
	tests := []struct {
		name  string
		p     auth.Principal
		scope string
		want  bool
	}{
		{name: "admin present", p: admin, scope: auth.ScopeAdmin, want: true},
		{name: "other present", p: admin, scope: "partners:read", want: true},
		{name: "absent", p: admin, scope: "partners:write", want: false},
		{name: "prefix is not a match", p: admin, scope: "partners", want: false},
		{name: "case matters", p: admin, scope: "PARTNERS:ADMIN", want: false},
		{name: "empty scope never matches", p: auth.Principal{Scopes: []string{""}}, scope: "", want: false},
		{name: "no scopes", p: auth.Principal{Subject: "u"}, scope: auth.ScopeAdmin, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.HasScope(tt.scope); got != tt.want {
				t.Errorf("%+v.HasScope(%q) = %v; want %v", tt.p, tt.scope, got, tt.want)
			}
		})
	}
}

func TestVerifyScopeFromToken(t *testing.T) {
	v := newVerifier(t, auth.Config{Secret: testSecret})
	tests := []struct {
		name  string
		scope any // nil = claim absent
		want  bool
	}{
		{name: "admin alone", scope: auth.ScopeAdmin, want: true},
		{name: "admin among others", scope: "partners:read partners:admin", want: true},
		{name: "admin prefix only", scope: "partners:admin2 partners:adm", want: false},
		{name: "no scope", scope: nil, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := sign(t, jwt.SigningMethodHS256, testSecret, "", claims(map[string]any{"scope": tt.scope}))
			p, err := v.Verify(tok)
			if err != nil {
				t.Fatalf("Verify() error = %v; want nil", err)
			}
			if got := p.HasScope(auth.ScopeAdmin); got != tt.want {
				t.Errorf("HasScope(%q) = %v with scopes %q; want %v", auth.ScopeAdmin, got, p.Scopes, tt.want)
			}
		})
	}
}

func TestVerifyZeroVerifier(t *testing.T) {
	tok := sign(t, jwt.SigningMethodHS256, testSecret, "", claims(nil))
	tests := []struct {
		name string
		v    *auth.Verifier
	}{
		{name: "nil", v: nil},
		{name: "zero value", v: &auth.Verifier{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.v.Verify(tok)
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("Verify() = %+v, %v; want ErrInvalidToken", got, err)
			}
		})
	}
}
