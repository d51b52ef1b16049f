package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"partners/web"
)

// The OpenID Connect sign-in against a real provider started here: the
// authorization code flow with PKCE, then a wrong state, a replayed code
// and an expired session, each refused.
func TestOIDCSignIn(t *testing.T) {
	op, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = op.Shutdown() })
	oc := op.Config()
	s := startService(t, func(c *web.Config) {
		c.DevSignIn = false
		c.OIDC = web.OIDCConfig{Issuer: oc.Issuer, ClientID: oc.ClientID, ClientSecret: oc.ClientSecret}
	})
	user := func(sub, email string) {
		op.QueueUser(&mockoidc.MockUser{Subject: sub, Email: email, EmailVerified: true, PreferredUsername: sub})
	}

	t.Run("OK", func(t *testing.T) {
		user("oidc-jane", "jane@oidc.test")
		b := newBrowser(t, s.URL)
		b.get("/signin").must(http.StatusOK, `id="signin-oidc"`)
		if strings.Contains(b.body, "/signin/dev") {
			t.Fatal("the development form is shown with development sign-in off")
		}
		b.get("/signin/oidc").must(http.StatusOK, "jane@oidc.test")
		if !strings.HasSuffix(b.url, "/welcome") {
			t.Fatalf("signed in at %s, want /welcome", b.url)
		}
	})

	// callbackURL runs the flow up to the provider's redirect back, without
	// following it.
	callbackURL := func(b *browser) *url.URL {
		t.Helper()
		client := *b.c
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		res, err := client.Get(s.URL + "/signin/oidc")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		res, err = client.Get(res.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		u, err := url.Parse(res.Header.Get("Location"))
		if err != nil || u.Query().Get("code") == "" {
			t.Fatalf("the provider did not redirect back with a code: %q", res.Header.Get("Location"))
		}
		return u
	}

	t.Run("WrongState", func(t *testing.T) {
		user("oidc-mallory", "mallory@oidc.test")
		b := newBrowser(t, s.URL)
		u := callbackURL(b)
		q := u.Query()
		q.Set("state", q.Get("state")+"x")
		u.RawQuery = q.Encode()
		b.get(u.String()).must(http.StatusBadRequest)
		b.get("/welcome").must(http.StatusOK, `id="signin-oidc"`)
	})

	t.Run("ReplayedCode", func(t *testing.T) {
		user("oidc-bob", "bob@oidc.test")
		b := newBrowser(t, s.URL)
		u := callbackURL(b)
		b.get(u.String()).must(http.StatusOK, "bob@oidc.test")
		// The same code again, in another browser's fresh flow (its own
		// state): the provider refuses a code already granted.
		user("oidc-bob", "bob@oidc.test")
		other := newBrowser(t, s.URL)
		fresh := callbackURL(other)
		q := fresh.Query()
		q.Set("code", u.Query().Get("code"))
		fresh.RawQuery = q.Encode()
		other.get(fresh.String()).must(http.StatusBadRequest)
		other.get("/welcome").must(http.StatusOK, `id="signin-oidc"`)
		// And in the first browser, its state is spent.
		b.get(u.String()).must(http.StatusBadRequest)
	})

	t.Run("ExpiredSession", func(t *testing.T) {
		user("oidc-old", "old@oidc.test")
		b := newBrowser(t, s.URL)
		b.get("/signin/oidc").must(http.StatusOK, "old@oidc.test")
		s.Clock.Advance(9 * time.Hour)
		b.get("/welcome").must(http.StatusOK, `id="signin-oidc"`)
		if strings.Contains(b.body, "old@oidc.test") {
			t.Fatal("an expired session still shows who signed in")
		}
	})
}
