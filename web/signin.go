package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"golang.org/x/oauth2"

	"partners/api/auth"
	"partners/domain"
)

// OIDCConfig is the identity provider (PARTNERS_OIDC_*).
type OIDCConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
}

// oidcClient discovers the provider on first use, so that a provider down
// at start delays sign-in, not the whole service.
type oidcClient struct {
	cfg      OIDCConfig
	redirect string
	mu       sync.Mutex
	provider *oidc.Provider
}

func newOIDCClient(cfg OIDCConfig, redirect string) *oidcClient {
	return &oidcClient{cfg: cfg, redirect: redirect}
}

func (o *oidcClient) config(ctx context.Context) (*oidc.Provider, *oauth2.Config, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider == nil {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		p, err := oidc.NewProvider(ctx, o.cfg.Issuer)
		if err != nil {
			return nil, nil, err
		}
		o.provider = p
	}
	return o.provider, &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, RedirectURL: o.redirect,
		Endpoint: o.provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}, nil
}

// devSignInServed: the development form exists only when configured, only
// on a loopback listener, and never through a proxy: a reverse proxy on the
// same host reaches the loopback listener for anyone.
func (w *Web) devSignInServed(c *gin.Context) bool {
	return w.cfg.DevSignIn && onLoopback(c.Request) && !proxied(c.Request)
}

// proxied reports whether a proxy forwarded the request.
func proxied(r *http.Request) bool {
	for _, h := range []string{"X-Forwarded-For", "X-Real-IP", "Forwarded"} {
		if _, ok := r.Header[http.CanonicalHeaderKey(h)]; ok {
			return true
		}
	}
	return false
}

func (w *Web) signInPage(c *gin.Context) {
	w.render(c, http.StatusOK, "signin", &view{Title: translate(langOf(c), "signin.title"),
		Data: map[string]any{"OIDC": w.oidc != nil, "Dev": w.devSignInServed(c)}})
}

// claims are what a sign-in establishes, whichever way: the same as an
// API token's.
type claims struct {
	Subject       string
	Email         string
	EmailVerified bool
	// VerifiedExplicitly: email_verified was true, not assumed.
	VerifiedExplicitly bool
	Name               string
	IssuedAt           time.Time
	// Operator: the partners:admin scope was granted.
	Operator bool
}

// signIn rotates the session and records who signed in.
func (w *Web) signIn(c *gin.Context, cl claims) {
	s := sessionOf(c)
	if err := w.rotate(c, s); err != nil {
		w.fail(c, err)
		return
	}
	s.UserID, s.Email, s.EmailVerified, s.Name, s.Operator = cl.Subject, cl.Email, cl.EmailVerified, cl.Name, cl.Operator
	s.VerifiedExplicitly, s.TokenIssuedAt = cl.VerifiedExplicitly, cl.IssuedAt
	s.Org, s.Position = uuid.Nil, 0
	w.redirect(c, "/")
}

// devSignIn makes the claims a provider would, from a name and an email
// typed in: development only, loopback only.
func (w *Web) devSignIn(c *gin.Context) {
	if !w.devSignInServed(c) {
		w.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	email, err := domain.ParseEmail(c.PostForm("email"))
	name := strings.TrimSpace(c.PostForm("name"))
	if err != nil || name == "" || len(name) > 200 {
		s := sessionOf(c)
		s.Error, s.dirty = "Enter your name and a valid email.", true
		w.redirect(c, "/signin")
		return
	}
	// The subject is a reference, not the email: user ids travel where
	// personal data must not.
	w.signIn(c, claims{Subject: "dev|" + string(w.cfg.App.Store.Keys().Ref(email.String())), Email: email.String(),
		EmailVerified: true, VerifiedExplicitly: true, Name: auth.DisplayName(name), IssuedAt: w.now(), Operator: yes(c, "operator")})
}

// oidcStart begins the authorization code flow with PKCE: state, nonce and
// verifier stay in the session.
func (w *Web) oidcStart(c *gin.Context) {
	if w.oidc == nil {
		w.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	_, oc, err := w.oidc.config(c.Request.Context())
	if err != nil {
		w.cfg.Log.Warn("web: OpenID provider unreachable", "err", err)
		w.errorPage(c, http.StatusBadGateway, "error.signin")
		return
	}
	s := sessionOf(c)
	s.State, s.Nonce, s.Verifier, s.dirty = randomString(24), randomString(24), oauth2.GenerateVerifier(), true
	w.redirect(c, oc.AuthCodeURL(s.State, oidc.Nonce(s.Nonce), oauth2.S256ChallengeOption(s.Verifier)))
}

var errSignIn = errors.New("sign-in refused")

// oidcCallback ends the flow: the state must be the session's (once), the
// code is exchanged with the verifier, the ID token verified (issuer,
// audience, expiry, signature) and its nonce checked.
func (w *Web) oidcCallback(c *gin.Context) {
	s := sessionOf(c)
	if w.oidc == nil {
		w.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	state, verifier, nonce := s.State, s.Verifier, s.Nonce
	s.State, s.Verifier, s.Nonce, s.dirty = "", "", "", true
	got := c.Query("state")
	if state == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(state)) != 1 || c.Query("code") == "" {
		w.cfg.Log.Info("web: sign-in refused: state mismatch")
		w.errorPage(c, http.StatusBadRequest, "error.signin")
		return
	}
	cl, err := w.exchange(c.Request.Context(), c.Query("code"), verifier, nonce)
	if err != nil {
		w.cfg.Log.Info("web: sign-in refused", "err", err)
		w.errorPage(c, http.StatusBadRequest, "error.signin")
		return
	}
	w.signIn(c, cl)
}

func (w *Web) exchange(ctx context.Context, code, verifier, nonce string) (claims, error) {
	p, oc, err := w.oidc.config(ctx)
	if err != nil {
		return claims{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return claims{}, err
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return claims{}, errors.Join(errSignIn, errors.New("no id_token"))
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: w.cfg.OIDC.ClientID}).Verify(ctx, raw)
	if err != nil {
		return claims{}, err
	}
	if nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return claims{}, errors.Join(errSignIn, errors.New("nonce mismatch"))
	}
	var c struct {
		Email         string `json:"email"`
		EmailVerified *bool  `json:"email_verified"`
		Name          string `json:"name"`
		Scope         string `json:"scope"`
	}
	if err := idt.Claims(&c); err != nil {
		return claims{}, err
	}
	if !auth.ValidSubject(idt.Subject) {
		return claims{}, errors.Join(errSignIn, errors.New("bad sub"))
	}
	explicit := c.EmailVerified != nil && *c.EmailVerified
	verified := explicit || c.EmailVerified == nil && w.cfg.AssumeEmailVerified
	operator := slices.Contains(strings.Fields(c.Scope), auth.ScopeAdmin)
	return claims{Subject: idt.Subject, Email: c.Email, EmailVerified: verified, VerifiedExplicitly: explicit,
		Name: auth.DisplayName(c.Name), IssuedAt: idt.IssuedAt.UTC(), Operator: operator}, nil
}

func (w *Web) signOutHandler(everywhere bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := w.signOut(c, sessionOf(c), everywhere); err != nil {
			w.fail(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/")
	}
}
