// Package web is the web app people use: server-rendered pages (every flow
// works with plain forms and POST-redirect-GET, without JavaScript) on the
// API's Gin engine, in fr, en and de. Its pages are the landing page of
// every emailed link, the window at sign-up, the partner panels and the
// invitation tabs, the settings, the history and the operator console;
// sign-in is OpenID Connect (or, in development on a
// loopback listener only, a form that makes the same claims).
//
// It owns one table, web_sessions (session.go), and its SQL touches no
// other. It must never decide a business rule nor fold the events itself:
// commands go to app, as the API's do, reads to projections' Reader (and
// projections.AsOf for the past), history to the same event store reads
// and app provenance records as the API's, and authorization comes from
// app.Enter, as the API's does.
package web

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/api"
	"partners/app"
	"partners/domain"
	"partners/projections"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// Config wires the web app to the service.
type Config struct {
	App       *app.App
	Pool      *pgxpool.Pool
	Projector *projections.Projector
	Log       *slog.Logger
	// PublicURL is the app's base, as in the emails' links. Cookies are
	// Secure unless it is a loopback http:// URL.
	PublicURL string
	// OIDC is the identity provider; zero: no OpenID sign-in.
	OIDC OIDCConfig
	// DevSignIn serves the development sign-in form. It is only ever
	// answered on a loopback listener, whatever this says.
	DevSignIn bool
	// AdminEmails are the verified emails that open the operator console
	// (PARTNERS_ADMIN_EMAILS), besides the partners:admin scope.
	AdminEmails []domain.Email
	// AssumeEmailVerified trusts an ID token's email without the
	// email_verified claim (PARTNERS_JWT_EMAIL_VERIFIED=assume).
	AssumeEmailVerified bool
	// SessionTTL bounds a signed-in session (default 8 hours);
	// AnonymousTTL one before sign-in (default 1 hour).
	SessionTTL, AnonymousTTL time.Duration
	// ConsistencyTimeout bounds the wait for a read model to show the
	// last command (default 5 s).
	ConsistencyTimeout time.Duration
	// Limiter is the API's (api.Server.Limiter): the forms that send
	// email or create, and the long reads, count against its limits. Nil:
	// no limits.
	Limiter *api.Limiter
	// Now is the clock (sessions' expiry).
	Now func() time.Time
}

// Web is the mounted web app.
type Web struct {
	cfg        Config
	pages      map[string]*template.Template
	secure     bool
	cookieName string
	oidc       *oidcClient
	readModels []string
}

// Mount registers the web app's pages on the API's engine.
func Mount(e *gin.Engine, cfg Config) (*Web, error) {
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	if cfg.AnonymousTTL == 0 {
		cfg.AnonymousTTL = time.Hour
	}
	if cfg.ConsistencyTimeout == 0 {
		cfg.ConsistencyTimeout = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || u.Host == "" {
		return nil, errors.New("web: the public URL must be an absolute URL")
	}
	w := &Web{cfg: cfg, secure: !(u.Scheme == "http" && loopbackHost(u.Hostname())), cookieName: "partners_session"}
	if w.secure {
		// __Host-: only ever set by this origin, over https, for every path.
		w.cookieName = "__Host-partners_session"
	}
	if w.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if cfg.OIDC.Issuer != "" {
		w.oidc = newOIDCClient(cfg.OIDC, strings.TrimRight(cfg.PublicURL, "/")+"/signin/callback")
	}
	if cfg.Projector != nil {
		for _, p := range cfg.Projector.Projections() {
			w.readModels = append(w.readModels, p.Name())
		}
	}
	assets, _ := fs.Sub(assetFiles, "assets")
	e.GET("/assets/*file", securityHeaders, func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=3600")
		c.FileFromFS(c.Param("file"), http.FS(assets))
	})
	g := e.Group("/", securityHeaders, w.switchLang, w.loadSession, checkInput(w), w.checkCSRF)
	w.routes(g)
	return w, nil
}

// securityHeaders: a strict CSP (no script at all, styles from this
// origin), no Referer ever (a landing page's URL held a token until it
// redirected), no framing, no sniffing.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "+
		"frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// onLoopback reports whether the request came in on a loopback listener:
// the development sign-in form is answered nowhere else.
func onLoopback(r *http.Request) bool {
	addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	host, _, err := net.SplitHostPort(addr.String())
	return err == nil && loopbackHost(host)
}

func (w *Web) now() time.Time { return w.cfg.Now().UTC() }

func (w *Web) reader() projections.Reader { return projections.Reader{Q: w.cfg.Pool} }

// operator reports whether the session opens the operator console: the
// partners:admin scope, or an email the provider explicitly verified that
// the configuration lists.
func (w *Web) operator(s *session) bool {
	if !s.signedIn() {
		return false
	}
	if s.Operator {
		return true
	}
	email, err := domain.ParseEmail(s.Email)
	return err == nil && s.EmailVerified && s.VerifiedExplicitly && slices.Contains(w.cfg.AdminEmails, email)
}

// actor is the signed-in person as the commands know them.
func (w *Web) actor(s *session) domain.Actor {
	email, _ := domain.ParseEmail(s.Email)
	act := w.cfg.App.ActorFor(s.UserID, email, s.EmailVerified && !email.IsZero(), s.Name)
	act.TokenIssuedAt = s.TokenIssuedAt
	return act
}

// checkInput holds the pages' path segments and query values to the API's
// rule (api.SaneValue): a NUL, broken UTF-8 or an absurd length is the
// visitor's 422, never a query PostgreSQL refuses and a 500.
func checkInput(w *Web) gin.HandlerFunc {
	return func(c *gin.Context) {
		ok := true
		for _, p := range c.Params {
			ok = ok && api.SaneValue(p.Value, 512)
		}
		for key, values := range c.Request.URL.Query() {
			ok = ok && api.SaneValue(key, 64)
			for _, v := range values {
				ok = ok && api.SaneValue(v, 1024)
			}
		}
		if !ok {
			w.errorPage(c, http.StatusUnprocessableEntity, "error.input")
			c.Abort()
			return
		}
		c.Next()
	}
}
