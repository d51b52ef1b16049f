package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"partners/domain"
	"partners/web"
)

// A reverse proxy on the same host reaches the loopback listener for
// anyone: a forwarded request gets no development form.
func TestDevSignInNotThroughProxy(t *testing.T) {
	s := startService(t, nil)
	for _, h := range []string{"X-Forwarded-For", "X-Real-IP", "Forwarded"} {
		b := newBrowser(t, s.URL)
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/signin", nil)
		req.Header.Set(h, "203.0.113.7")
		b.do(req).must(http.StatusOK)
		if strings.Contains(b.body, "/signin/dev") {
			t.Fatalf("the development form is shown with %s", h)
		}
		b.get("/signin").must(http.StatusOK, "/signin/dev")
		form := url.Values{"name": {"Eve"}, "email": {"eve@evil.test"}, "operator": {"on"}}
		if m := csrfField.FindStringSubmatch(b.body); m != nil {
			form.Set("csrf", m[1])
		}
		req, _ = http.NewRequest(http.MethodPost, s.URL+"/signin/dev", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(h, "203.0.113.7")
		b.do(req).must(http.StatusNotFound)
	}
}

// The development form's user id holds a reference, not the email.
func TestDevSubjectIsNoEmail(t *testing.T) {
	s := startService(t, nil)
	newBrowser(t, s.URL).signIn("Olga Owner", "olga@org.test")
	var ids []string
	rows, err := s.Pool.Query(t.Context(), `SELECT user_id FROM web_sessions WHERE user_id IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	if len(ids) != 1 || ids[0] != s.devUser("olga@org.test") || strings.Contains(ids[0], "olga") {
		t.Fatalf("user ids %q", ids)
	}
}

// An assumed email (no email_verified claim) is enough to act, not to
// open the operator console; a bad sub is refused, a bad name dropped.
func TestOIDCClaimsCleaned(t *testing.T) {
	op, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = op.Shutdown() })
	oc := op.Config()
	s := startService(t, func(c *web.Config) {
		c.DevSignIn, c.AssumeEmailVerified = false, true
		c.AdminEmails = []domain.Email{domain.MustParseEmail("root@oidc.test"), domain.MustParseEmail("sre@oidc.test")}
		c.OIDC = web.OIDCConfig{Issuer: oc.Issuer, ClientID: oc.ClientID, ClientSecret: oc.ClientSecret}
	})

	op.QueueUser(&mockoidc.MockUser{Subject: "oidc-root", Email: "root@oidc.test"})
	root := newBrowser(t, s.URL)
	root.get("/signin/oidc").must(http.StatusOK, "root@oidc.test")
	root.get("/console").must(http.StatusNotFound)

	op.QueueUser(&mockoidc.MockUser{Subject: "oidc-sre", Email: "sre@oidc.test", EmailVerified: true})
	sre := newBrowser(t, s.URL)
	sre.get("/signin/oidc").must(http.StatusOK)
	sre.get("/console").must(http.StatusOK, `id="read-models"`)

	op.QueueUser(&mockoidc.MockUser{Subject: "bad\x01sub", Email: "bad@oidc.test", EmailVerified: true})
	bad := newBrowser(t, s.URL)
	bad.get("/signin/oidc").must(http.StatusBadRequest)
	bad.get("/welcome").must(http.StatusOK, `id="signin-oidc"`)
}

// A session's row holds nothing readable: not the token of a link kept for
// later, nor the person's email or name (a dump must not open pending links).
func TestSessionRowsAreSealed(t *testing.T) {
	s := startService(t, nil)
	b := newBrowser(t, s.URL).signIn("Olga Owner", "olga.sealed@org.test")
	token := strings.Repeat("q", 43)
	b.get("/invitations/" + token)
	var rows []string
	r, err := s.Pool.Query(context.Background(), `SELECT data::text FROM web_sessions`)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var d string
		if err := r.Scan(&d); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, d)
	}
	if len(rows) == 0 {
		t.Fatal("no session row")
	}
	for _, d := range rows {
		for _, secret := range []string{"olga.sealed", "Olga Owner", "csrf", token} {
			if strings.Contains(d, secret) {
				t.Fatalf("a session row holds %q in clear: %s", secret, d)
			}
		}
	}
}
