package auth_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"partners/api/auth"
)

func TestSignHS256RoundTrip(t *testing.T) {
	tests := []struct {
		name string
		cfg  auth.Config
		spec auth.TokenSpec
		want auth.Principal
	}{
		{
			name: "minimal",
			cfg:  auth.Config{Secret: testSecret},
			spec: auth.TokenSpec{Subject: "user-1", TTL: time.Hour},
			want: auth.Principal{Subject: "user-1", EmailVerified: false, IssuedAt: testNow},
		},
		{
			name: "full",
			cfg:  auth.Config{Secret: testSecret, Issuer: testIssuer, Audience: testAudience},
			spec: auth.TokenSpec{
				Subject: "user-2", Email: " Bob@Example.org ", Name: "Bob",
				Scopes: []string{auth.ScopeAdmin, "partners:read"}, TTL: 15 * time.Minute,
				Issuer: testIssuer, Audience: testAudience, EmailVerified: ptr(true),
			},
			want: auth.Principal{
				Subject: "user-2", Email: "bob@example.org", EmailVerified: true, Name: "Bob",
				Scopes: []string{auth.ScopeAdmin, "partners:read"}, IssuedAt: testNow,
			},
		},
		{
			name: "email verified false",
			cfg:  auth.Config{Secret: testSecret},
			spec: auth.TokenSpec{Subject: "user-3", Email: "c@example.org", TTL: time.Hour, EmailVerified: ptr(false)},
			want: auth.Principal{Subject: "user-3", Email: "c@example.org", EmailVerified: false, IssuedAt: testNow},
		},
		{
			name: "email verified true",
			cfg:  auth.Config{Secret: testSecret},
			spec: auth.TokenSpec{Subject: "user-4", Email: "d@example.org", TTL: time.Hour, EmailVerified: ptr(true)},
			want: auth.Principal{Subject: "user-4", Email: "d@example.org", EmailVerified: true, IssuedAt: testNow},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := auth.SignHS256(testSecret, tt.spec, testNow)
			if err != nil {
				t.Fatalf("SignHS256() error = %v; want nil", err)
			}
			got, err := newVerifier(t, tt.cfg).Verify(tok)
			if err != nil {
				t.Fatalf("Verify() error = %v; want nil", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Verify(SignHS256()) = %+v; want %+v", got, tt.want)
			}
		})
	}
}

func TestSignHS256Claims(t *testing.T) {
	tok, err := auth.SignHS256(testSecret, auth.TokenSpec{
		Subject: "user-1", Scopes: []string{"a", "b"}, TTL: 90 * time.Minute, Audience: testAudience,
	}, testNow)
	if err != nil {
		t.Fatalf("SignHS256() error = %v; want nil", err)
	}
	got := jwt.MapClaims{}
	parsed, err := jwt.NewParser(jwt.WithoutClaimsValidation()).ParseWithClaims(tok, got, func(*jwt.Token) (any, error) { return testSecret, nil })
	if err != nil {
		t.Fatalf("parsing signed token: %v", err)
	}
	if alg := parsed.Header["alg"]; alg != "HS256" {
		t.Errorf("header alg = %v; want HS256", alg)
	}
	checks := []struct {
		claim string
		want  any
	}{
		{"sub", "user-1"},
		{"scope", "a b"},
		{"iat", float64(testNow.Unix())},
		{"exp", float64(testNow.Add(90 * time.Minute).Unix())},
		{"aud", []any{testAudience}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(got[c.claim], c.want) {
			t.Errorf("claim %q = %#v; want %#v", c.claim, got[c.claim], c.want)
		}
	}
	for _, absent := range []string{"email", "name", "iss", "email_verified", "nbf"} {
		if v, ok := got[absent]; ok {
			t.Errorf("claim %q = %#v; want it absent", absent, v)
		}
	}
}

func TestSignHS256Expiry(t *testing.T) {
	tok, err := auth.SignHS256(testSecret, auth.TokenSpec{Subject: "user-1", TTL: time.Minute}, testNow)
	if err != nil {
		t.Fatalf("SignHS256() error = %v; want nil", err)
	}
	tests := []struct {
		name    string
		now     time.Time
		wantErr bool
	}{
		{name: "at issue", now: testNow},
		{name: "inside TTL", now: testNow.Add(59 * time.Second)},
		{name: "inside leeway", now: testNow.Add(time.Minute + 20*time.Second)},
		{name: "past TTL and leeway", now: testNow.Add(time.Minute + auth.Leeway + time.Second), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, auth.Config{Secret: testSecret, Now: func() time.Time { return tt.now }})
			_, err := v.Verify(tok)
			if (err != nil) != tt.wantErr {
				t.Errorf("Verify() at %v error = %v; want error: %v", tt.now, err, tt.wantErr)
			}
		})
	}
}

func TestSignHS256Errors(t *testing.T) {
	ok := auth.TokenSpec{Subject: "user-1", TTL: time.Hour}
	tests := []struct {
		name    string
		secret  []byte
		spec    auth.TokenSpec
		wantErr string
	}{
		{name: "nil secret", secret: nil, spec: ok, wantErr: "secret"},
		{name: "short secret", secret: []byte(strings.Repeat("s", auth.MinSecretLength-1)), spec: ok, wantErr: "secret"},
		{name: "missing subject", secret: testSecret, spec: auth.TokenSpec{TTL: time.Hour}, wantErr: "missing sub"},
		{name: "subject too long", secret: testSecret, spec: auth.TokenSpec{Subject: strings.Repeat("x", 129), TTL: time.Hour}, wantErr: "sub longer"},
		{name: "zero TTL", secret: testSecret, spec: auth.TokenSpec{Subject: "u"}, wantErr: "TTL"},
		{name: "negative TTL", secret: testSecret, spec: auth.TokenSpec{Subject: "u", TTL: -time.Second}, wantErr: "TTL"},
		{name: "scope with space", secret: testSecret, spec: auth.TokenSpec{Subject: "u", TTL: time.Hour, Scopes: []string{"a b"}}, wantErr: "scope"},
		{name: "empty scope", secret: testSecret, spec: auth.TokenSpec{Subject: "u", TTL: time.Hour, Scopes: []string{""}}, wantErr: "scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.SignHS256(tt.secret, tt.spec, testNow)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("SignHS256() = %q, %v; want error containing %q", got, err, tt.wantErr)
			}
		})
	}
}
