package main

import (
	"io"
	"strings"
	"testing"
)

// The web app's OpenID settings fail closed like the others: all three or
// none, the secret only with PARTNERS_ENV, an https:// issuer in
// production, and the development form never in production.
func TestOIDCSettings(t *testing.T) {
	oidc := []string{"PARTNERS_OIDC_ISSUER", "https://id.example.com", "PARTNERS_OIDC_CLIENT_ID", "partners-web",
		"PARTNERS_OIDC_CLIENT_SECRET", "s3cret-value"}
	refused := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"issuer alone", with(nil, "PARTNERS_ENV", "development", "PARTNERS_OIDC_ISSUER", "https://id.example.com"), "go together"},
		{"no secret", with(nil, "PARTNERS_ENV", "development", "PARTNERS_OIDC_ISSUER", "https://id.example.com", "PARTNERS_OIDC_CLIENT_ID", "x"), "go together"},
		{"secret without env", with(nil, oidc...), "PARTNERS_OIDC_CLIENT_SECRET"},
		{"not a URL", with(nil, "PARTNERS_ENV", "development", "PARTNERS_OIDC_ISSUER", "id.example.com", "PARTNERS_OIDC_CLIENT_ID", "x",
			"PARTNERS_OIDC_CLIENT_SECRET", "y"), "http(s)://"},
		{"production, http issuer", with(with(production, oidc...), "PARTNERS_OIDC_ISSUER", "http://id.example.com"), "PARTNERS_OIDC_ISSUER must be an https://"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(getenv(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret-value") {
				t.Fatalf("the error repeats the client secret: %v", err)
			}
		})
	}
	t.Run("ProductionWithProvider", func(t *testing.T) {
		c, err := LoadConfig(getenv(with(production, oidc...)))
		if err != nil {
			t.Fatal(err)
		}
		if c.OIDCIssuer != "https://id.example.com" || c.OIDCClientID != "partners-web" {
			t.Fatalf("got %q %q", c.OIDCIssuer, c.OIDCClientID)
		}
		if webConfig(c, &services{}, newLogger(c, io.Discard)).DevSignIn {
			t.Fatal("the development sign-in form is served in production")
		}
	})
	t.Run("DevelopmentHasItsForm", func(t *testing.T) {
		c, err := LoadConfig(getenv(nil))
		if err != nil {
			t.Fatal(err)
		}
		if !webConfig(c, &services{}, newLogger(c, io.Discard)).DevSignIn {
			t.Fatal("zero configuration gives no development sign-in")
		}
	})
	// The form is for a machine where anyone may sign tokens anyway: not
	// with a secret of one's own, nor behind a proxy.
	for name, env := range map[string]map[string]string{
		"OwnSecret":      {"PARTNERS_ENV": "development", "PARTNERS_JWT_SECRET": strings.Repeat("k", 40), "PARTNERS_HTTP_ADDR": "127.0.0.1:8080"},
		"TrustedProxies": {"PARTNERS_TRUSTED_PROXIES": "127.0.0.1"},
	} {
		t.Run("NoFormWith"+name, func(t *testing.T) {
			c, err := LoadConfig(getenv(env))
			if err != nil {
				t.Fatal(err)
			}
			if webConfig(c, &services{}, newLogger(c, io.Discard)).DevSignIn {
				t.Fatal("the development sign-in form is served")
			}
		})
	}
}

func getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// PARTNERS_ADMIN_EMAILS opens the web app's operator console to verified
// emails: each one parsed as an email, passed on to web; a bad one refused.
func TestConfigAdminEmails(t *testing.T) {
	c, err := LoadConfig(getenv(with(nil, "PARTNERS_ADMIN_EMAILS", " Ops@Example.com, ,sre@example.com")))
	if err != nil || len(c.AdminEmails) != 2 || c.AdminEmails[0].String() != "ops@example.com" || c.AdminEmails[1].String() != "sre@example.com" {
		t.Fatalf("got %v, %v", c.AdminEmails, err)
	}
	if got := webConfig(c, &services{}, newLogger(c, io.Discard)).AdminEmails; len(got) != 2 {
		t.Fatalf("web gets %v", got)
	}
	if _, err := LoadConfig(getenv(with(nil, "PARTNERS_ADMIN_EMAILS", "ops@example.com,not-an-email"))); err == nil ||
		!strings.Contains(err.Error(), "PARTNERS_ADMIN_EMAILS") {
		t.Fatalf("a bad email: %v", err)
	}
}
