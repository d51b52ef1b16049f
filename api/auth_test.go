package api_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"partners/api/auth"
	"partners/internal/apitest"
	"partners/internal/pgtest"
)

func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAuthentication(t *testing.T) {
	pool := pgtest.Pool(t)
	s := apitest.Start(t, pool, apitest.Options{NoProjector: true, Auth: &auth.Config{
		Secret: []byte(apitest.Secret), Issuer: "https://id.example.com", Audience: "partners"}})
	now := time.Now()
	valid := jwt.MapClaims{"sub": "u1", "email": "u1@example.com", "exp": now.Add(time.Hour).Unix(), "iss": "https://id.example.com", "aud": "partners"}
	with := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for kk, vv := range valid {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"u1","exp":`+jsonNum(now.Add(time.Hour).Unix())+`}`)) + "."

	for _, tc := range []struct {
		name   string
		header string
		status int
	}{
		{"OK", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(apitest.Secret), valid), 200},
		{"ErrMissing", "", 401},
		{"ErrNotBearer", "Basic dTpw", 401},
		{"ErrExpired", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(apitest.Secret), with("exp", now.Add(-time.Hour).Unix())), 401},
		{"ErrNoExp", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(apitest.Secret), with("exp", nil)), 401},
		{"ErrBadSignature", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte("another-secret-0123456789-0123456789-xyz"), valid), 401},
		{"ErrAlgNone", "Bearer " + none, 401},
		{"ErrWrongIssuer", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(apitest.Secret), with("iss", "https://evil.example.com")), 401},
		{"ErrWrongAudience", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(apitest.Secret), with("aud", "other")), 401},
		{"ErrGarbage", "Bearer not.a.token", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.header != "" {
				h["Authorization"] = tc.header
			}
			r := s.Do(t, apitest.Request{Method: "GET", Path: "/v1/me/organizations", Header: h})
			if tc.status == 200 {
				apitest.Expect(t, r, 200)
				return
			}
			apitest.Expect(t, r, tc.status, "unauthorized")
		})
	}
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

// With only a JWKS configured, an HS256 token is refused even when signed
// with something the attacker knows (the public key), and RS256 works.
func TestHS256RefusedWhenOnlyJWKS(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks := map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
	}}}
	js := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jwks)
	}))
	defer js.Close()
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{NoProjector: true, Auth: &auth.Config{JWKSURL: js.URL}})
	claims := jwt.MapClaims{"sub": "u1", "email": "u1@example.com", "exp": time.Now().Add(time.Hour).Unix()}

	rs := s.Do(t, apitest.Request{Method: "GET", Path: "/v1/me/organizations", Token: sign(t, jwt.SigningMethodRS256, key, claims)})
	apitest.Expect(t, rs, 200)
	hs := s.Do(t, apitest.Request{Method: "GET", Path: "/v1/me/organizations", Token: sign(t, jwt.SigningMethodHS256, []byte(apitest.Secret), claims)})
	apitest.Expect(t, hs, 401, "unauthorized")
	_ = context.Background()
}
