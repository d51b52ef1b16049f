package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"partners/api/auth"
)

// PARTNERS_JWT_EMAIL_VERIFIED: require by default, assume on request,
// anything else refuses to start.
func TestConfigEmailVerified(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, tc := range []struct {
		value  string
		assume bool
	}{{"", false}, {"require", false}, {"assume", true}} {
		c, err := LoadConfig(env(map[string]string{"PARTNERS_JWT_EMAIL_VERIFIED": tc.value}))
		if err != nil || c.AssumeEmailVerified != tc.assume {
			t.Errorf("PARTNERS_JWT_EMAIL_VERIFIED=%q: AssumeEmailVerified = %v, %v; want %v", tc.value, c.AssumeEmailVerified, err, tc.assume)
		}
	}
	for _, bad := range []string{"yes", "true", "Assume", "off"} {
		t.Run(bad, func(t *testing.T) {
			t.Setenv("PARTNERS_JWT_EMAIL_VERIFIED", bad)
			// Cancelled: were the value accepted, serve would stop at once
			// instead of serving.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			err := run(ctx, []string{"serve"}, &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), "PARTNERS_JWT_EMAIL_VERIFIED") {
				t.Fatalf("serve with PARTNERS_JWT_EMAIL_VERIFIED=%q = %v; want a refusal naming it", bad, err)
			}
		})
	}
}

// `partners token` mints a verified email: the service addresses no one
// by an email its token does not vouch for.
func TestTokenMintsVerifiedEmail(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"token", "--sub", "u1", "--email", "u1@example.com"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	raw := strings.TrimSpace(out.String())
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(raw, claims); err != nil {
		t.Fatal(err)
	}
	if claims["email_verified"] != true {
		t.Fatalf("email_verified = %#v; want true", claims["email_verified"])
	}
	v, err := auth.NewVerifier(context.Background(), auth.Config{Secret: []byte(auth.DevelopmentSecret)})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := v.Verify(raw); err != nil || !p.EmailVerified || p.Email != "u1@example.com" {
		t.Fatalf("Verify = %+v, %v; want a verified u1@example.com", p, err)
	}
}
