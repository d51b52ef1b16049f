package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"partners/api/auth"
	"partners/domain"
	"partners/eventstore"
	"partners/notify/mail"
)

// Config is everything the service reads from its environment.
type Config struct {
	DatabaseURL    string
	HTTPAddr       string
	MetricsAddr    string // "" when off
	PublicURL      string
	Env            string // development or production
	JWTSecret      string
	JWKSURL        string
	JWTIssuer      string
	JWTAudience    string
	DevSecret      bool
	TrustedProxies []string
	SMTPURL        string
	SMTPFrom       string
	MailDir        string
	InvitationTTL  time.Duration
	DataKey        string
	DevDataKey     bool
	LogLevel       string
	DBMaxConns     int32
	// DBHeavyConns sizes the pool of long reads (exports, as-of answers,
	// min_position waits), apart from the commands' and queries' pool.
	DBHeavyConns   int32
	RateLimitsOff  bool
	ProjectorBatch int
	ProjectorPoll  time.Duration
	MailLease      time.Duration
	// NATSURL turns the forwarder of partner events to NATS JetStream on
	// ("" when off).
	NATSURL string
	// Warnings are what serve says loudly at start: settings that are
	// allowed but not safe beyond one machine.
	Warnings []string

	// The web app's OpenID provider (PARTNERS_OIDC_*); unset: no OpenID
	// sign-in (development has its own form).
	OIDCIssuer, OIDCClientID, OIDCClientSecret string

	// AdminEmails open the web app's operator console to these verified
	// emails (PARTNERS_ADMIN_EMAILS, comma-separated), besides the
	// partners:admin scope.
	AdminEmails []domain.Email

	// AssumeEmailVerified: PARTNERS_JWT_EMAIL_VERIFIED=assume, for an
	// identity provider that omits the claim (see auth.Config).
	AssumeEmailVerified bool
}

// Production reports whether the service runs with PARTNERS_ENV=production.
func (c Config) Production() bool { return c.Env == envProduction }

const (
	envDevelopment = "development"
	envProduction  = "production"
	metricsOff     = "off"
)

// LoadConfig reads PARTNERS_* variables, applying the documented defaults,
// and fails closed: see checkEnv, checkProduction and checkDevelopment. It
// is a pure function of getenv. No error it returns contains a password.
func LoadConfig(getenv func(string) string) (Config, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		DatabaseURL:      get("PARTNERS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/partners?sslmode=disable"),
		PublicURL:        strings.TrimRight(get("PARTNERS_PUBLIC_URL", "http://localhost:8080"), "/"),
		Env:              get("PARTNERS_ENV", ""),
		JWTSecret:        getenv("PARTNERS_JWT_SECRET"),
		JWKSURL:          get("PARTNERS_JWKS_URL", ""),
		JWTIssuer:        get("PARTNERS_JWT_ISSUER", ""),
		JWTAudience:      get("PARTNERS_JWT_AUDIENCE", ""),
		SMTPURL:          get("PARTNERS_SMTP_URL", ""),
		NATSURL:          get("PARTNERS_NATS_URL", ""),
		SMTPFrom:         get("PARTNERS_SMTP_FROM", "partners@localhost"),
		MailDir:          get("PARTNERS_MAIL_DIR", "./mail"),
		DataKey:          getenv("PARTNERS_DATA_KEY"),
		LogLevel:         get("PARTNERS_LOG_LEVEL", "info"),
		HTTPAddr:         get("PARTNERS_HTTP_ADDR", ""),
		MetricsAddr:      get("PARTNERS_METRICS_ADDR", "127.0.0.1:9464"),
		OIDCIssuer:       strings.TrimRight(get("PARTNERS_OIDC_ISSUER", ""), "/"),
		OIDCClientID:     get("PARTNERS_OIDC_CLIENT_ID", ""),
		OIDCClientSecret: getenv("PARTNERS_OIDC_CLIENT_SECRET"),
		DBMaxConns:       16,
	}
	switch get("PARTNERS_RATE_LIMITS", "on") {
	case "on":
	case "off":
		c.RateLimitsOff = true
		c.Warnings = append(c.Warnings, "rate limits are off (PARTNERS_RATE_LIMITS=off)")
	default:
		return c, errors.New("PARTNERS_RATE_LIMITS must be on or off")
	}
	switch get("PARTNERS_JWT_EMAIL_VERIFIED", "require") {
	case "require":
	case "assume":
		c.AssumeEmailVerified = true
	default:
		return c, errors.New("PARTNERS_JWT_EMAIL_VERIFIED must be require or assume")
	}
	if v := get("PARTNERS_PROJECTOR_BATCH", "1000"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100000 {
			return c, errors.New("PARTNERS_PROJECTOR_BATCH must be a whole number from 1 to 100000")
		}
		c.ProjectorBatch = n
	}
	poll, err := time.ParseDuration(get("PARTNERS_PROJECTOR_POLL", "10ms"))
	if err != nil || poll <= 0 {
		return c, errors.New("PARTNERS_PROJECTOR_POLL must be a positive duration such as 10ms")
	}
	c.ProjectorPoll = poll
	lease, err := time.ParseDuration(get("PARTNERS_MAIL_LEASE", "1m"))
	if err != nil || lease < 40*time.Second {
		return c, errors.New("PARTNERS_MAIL_LEASE must be a duration of at least 40s (an SMTP call may take 30s)")
	}
	c.MailLease = lease
	if n, err := strconv.Atoi(get("PARTNERS_DB_MAX_CONNS", "16")); err != nil || n < 4 || n > 1000 {
		return c, errors.New("PARTNERS_DB_MAX_CONNS must be a whole number from 4 to 1000")
	} else {
		c.DBMaxConns = int32(n)
	}
	if n, err := strconv.Atoi(get("PARTNERS_DB_HEAVY_CONNS", "4")); err != nil || n < 2 || n > 1000 {
		return c, errors.New("PARTNERS_DB_HEAVY_CONNS must be a whole number from 2 to 1000")
	} else {
		c.DBHeavyConns = int32(n)
	}
	ttl, err := time.ParseDuration(get("PARTNERS_INVITATION_TTL", "720h"))
	if err != nil || ttl <= 0 {
		return c, errors.New("PARTNERS_INVITATION_TTL must be a positive duration such as 720h")
	}
	c.InvitationTTL = ttl
	if p := get("PARTNERS_TRUSTED_PROXIES", ""); p != "" {
		for _, s := range strings.Split(p, ",") {
			s = strings.TrimSpace(s)
			if _, _, err := net.ParseCIDR(s); err != nil && net.ParseIP(s) == nil {
				return c, fmt.Errorf("PARTNERS_TRUSTED_PROXIES: %q is neither an IP address nor a CIDR range", s)
			}
			c.TrustedProxies = append(c.TrustedProxies, s)
		}
	}
	if err := checkDatabaseURL(c.DatabaseURL); err != nil {
		return c, err
	}
	if c.HTTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
			return c, fmt.Errorf("PARTNERS_HTTP_ADDR must be host:port, such as 127.0.0.1:8080 or :8080, not %q", c.HTTPAddr)
		}
	}
	if c.MetricsAddr == metricsOff {
		c.MetricsAddr = ""
	} else if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
		return c, fmt.Errorf("PARTNERS_METRICS_ADDR must be host:port, such as 127.0.0.1:9464, or off, not %q", c.MetricsAddr)
	}
	if c.SMTPURL != "" {
		if _, _, err := mail.SMTPTransport(c.SMTPURL); err != nil {
			return c, fmt.Errorf("PARTNERS_SMTP_URL: %w", err)
		}
	}
	for _, raw := range strings.Split(get("PARTNERS_ADMIN_EMAILS", ""), ",") {
		if raw = strings.TrimSpace(raw); raw == "" {
			continue
		}
		e, err := domain.ParseEmail(raw)
		if err != nil {
			return c, fmt.Errorf("PARTNERS_ADMIN_EMAILS: %q is not an email address", raw)
		}
		c.AdminEmails = append(c.AdminEmails, e)
	}
	if err := checkNATSURL(c.NATSURL); err != nil {
		return c, err
	}

	if err := checkOIDC(c); err != nil {
		return c, err
	}
	if err := checkEnv(&c); err != nil {
		return c, err
	}
	if c.Production() {
		if err := checkProduction(&c); err != nil {
			return c, err
		}
	}
	if c.JWTSecret == "" && c.JWKSURL == "" {
		c.JWTSecret = auth.DevelopmentSecret
	}
	if c.DataKey == "" {
		c.DataKey = eventstore.DevelopmentDataKey
	}
	// By value, not by absence: the published values typed in by hand are
	// just as public.
	c.DevSecret = c.JWTSecret == auth.DevelopmentSecret
	c.DevDataKey = c.DataKey == eventstore.DevelopmentDataKey
	return c, checkDevelopment(&c)
}

// checkEnv refuses a configuration that looks meant for a real deployment
// (a secret, a key, a mail server, a listener beyond this machine) but does
// not say which environment it is: the operator forgot PARTNERS_ENV, and
// guessing development would serve published keys.
func checkEnv(c *Config) error {
	switch c.Env {
	case envDevelopment, envProduction:
		return nil
	case "":
	default:
		return fmt.Errorf("PARTNERS_ENV must be development or production, not %q", c.Env)
	}
	var set []string
	for _, s := range []struct {
		name string
		set  bool
	}{
		{"PARTNERS_JWT_SECRET", c.JWTSecret != ""},
		{"PARTNERS_JWKS_URL", c.JWKSURL != ""},
		{"PARTNERS_DATA_KEY", c.DataKey != ""},
		{"PARTNERS_SMTP_URL", c.SMTPURL != ""},
		{"PARTNERS_OIDC_CLIENT_SECRET", c.OIDCClientSecret != ""},
		{"PARTNERS_HTTP_ADDR (not a loopback address)", c.HTTPAddr != "" && !loopbackAddr(c.HTTPAddr)},
		{"PARTNERS_METRICS_ADDR (not a loopback address)", c.MetricsAddr != "" && !loopbackAddr(c.MetricsAddr)},
		{"PARTNERS_NATS_URL (not a loopback host)", natsBeyondLoopback(c.NATSURL)},
	} {
		if s.set {
			set = append(set, s.name)
		}
	}
	if len(set) > 0 {
		return fmt.Errorf("%s set but PARTNERS_ENV is not: set PARTNERS_ENV=production for a deployment "+
			"(or PARTNERS_ENV=development to run with these settings on this machine)", strings.Join(set, ", "))
	}
	c.Env = envDevelopment
	c.Warnings = append(c.Warnings, "DEVELOPMENT MODE (PARTNERS_ENV is unset): loopback only, published development secret and data key. "+
		"Set PARTNERS_ENV=production and its settings for anything else.")
	return nil
}

// checkOIDC wants the OpenID settings whole: an issuer with its client id
// and secret, or none of them (a half-configured sign-in fails at the
// first person, not at start).
func checkOIDC(c Config) error {
	set := c.OIDCIssuer != "" || c.OIDCClientID != "" || c.OIDCClientSecret != ""
	if set && (c.OIDCIssuer == "" || c.OIDCClientID == "" || c.OIDCClientSecret == "") {
		return errors.New("PARTNERS_OIDC_ISSUER, PARTNERS_OIDC_CLIENT_ID and PARTNERS_OIDC_CLIENT_SECRET go together: set all three, or none")
	}
	if u, err := url.Parse(c.OIDCIssuer); set && (err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http")) {
		return errors.New("PARTNERS_OIDC_ISSUER must be the provider's http(s):// URL")
	}
	return nil
}

// checkProduction lists everything production refuses, all at once, so that
// an operator fixes the deployment in one pass.
func checkProduction(c *Config) error {
	var problems []string
	refuse := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	switch {
	case c.JWTSecret == "" && c.JWKSURL == "":
		refuse("production needs PARTNERS_JWT_SECRET or PARTNERS_JWKS_URL")
	case c.JWTSecret == auth.DevelopmentSecret:
		refuse("PARTNERS_JWT_SECRET is the published development secret: anyone can sign tokens with it")
	}
	if c.JWKSURL != "" && (c.JWTIssuer == "" || c.JWTAudience == "") {
		refuse("PARTNERS_JWKS_URL needs PARTNERS_JWT_ISSUER and PARTNERS_JWT_AUDIENCE: " +
			"without them a token your identity provider issued for another application is accepted")
	}
	switch {
	case c.DataKey == "":
		refuse("production needs PARTNERS_DATA_KEY (the key that wraps personal-data keys)")
	case c.DataKey == eventstore.DevelopmentDataKey:
		refuse("PARTNERS_DATA_KEY is the published development data key: personal data sealed under it is readable by anyone")
	}
	if u, err := url.Parse(c.PublicURL); err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname()))) {
		refuse("PARTNERS_PUBLIC_URL must be an https:// URL (http:// only for localhost): invitation links carry secret tokens")
	}
	if c.OIDCIssuer != "" && !strings.HasPrefix(c.OIDCIssuer, "https://") {
		refuse("PARTNERS_OIDC_ISSUER must be an https:// URL: the sign-in's code and tokens travel to it")
	}
	if c.SMTPURL == "" {
		refuse("production needs PARTNERS_SMTP_URL")
	} else if encrypted, verified, err := mail.SMTPTransport(c.SMTPURL); err == nil {
		if !encrypted {
			refuse("PARTNERS_SMTP_URL must use TLS (smtps://, or smtp:// with ?starttls=required): emails carry invitation tokens")
		} else if !verified {
			c.Warnings = append(c.Warnings, "PARTNERS_SMTP_URL has insecure_skip_verify=true: the mail server's certificate is not checked")
		}
	}
	if len(problems) > 0 {
		return errors.New("PARTNERS_ENV=production refuses to start:\n  - " + strings.Join(problems, "\n  - "))
	}
	return nil
}

// checkDevelopment keeps the published secret and data key on this
// machine: with either, the API only ever listens on a loopback address.
func checkDevelopment(c *Config) error {
	published := c.DevSecret || c.DevDataKey
	switch {
	case c.HTTPAddr == "" && published:
		c.HTTPAddr = "127.0.0.1:8080"
	case c.HTTPAddr == "":
		c.HTTPAddr = ":8080"
	case published && !loopbackAddr(c.HTTPAddr):
		return fmt.Errorf("PARTNERS_HTTP_ADDR %q is not a loopback address, but the published development %s in use: "+
			"listen on 127.0.0.1, or set PARTNERS_JWT_SECRET (or PARTNERS_JWKS_URL) and PARTNERS_DATA_KEY", c.HTTPAddr, publishedNames(c))
	}
	if c.DevSecret {
		c.Warnings = append(c.Warnings, "DEVELOPMENT MODE: tokens are signed with the published development secret; listening on loopback only. "+
			"Set PARTNERS_JWT_SECRET or PARTNERS_JWKS_URL for anything else.")
	}
	if c.DevDataKey {
		c.Warnings = append(c.Warnings, "DEVELOPMENT MODE: personal data is sealed under the published development data key. "+
			"Set PARTNERS_DATA_KEY for anything else.")
	}
	return nil
}

func publishedNames(c *Config) string {
	switch {
	case c.DevSecret && c.DevDataKey:
		return "secret and data key are"
	case c.DevSecret:
		return "secret is"
	default:
		return "data key is"
	}
}

// checkDatabaseURL accepts a postgres:// URL or libpq key=value settings
// naming a database. Its error never repeats the value, nor pgx's parse
// error: both may hold the password, and pgx only masks it on a best-effort
// basis.
func checkDatabaseURL(s string) error {
	const forms = "a postgres://user:password@host:5432/dbname URL or key=value settings such as host=127.0.0.1 dbname=partners user=postgres"
	cfg, err := pgconn.ParseConfig(s)
	if err != nil {
		return errors.New("PARTNERS_DATABASE_URL cannot be read: it must be " + forms + " (the value is not repeated here, since it may hold a password)")
	}
	if cfg.Database == "" {
		return errors.New("PARTNERS_DATABASE_URL names no database: it must be " + forms)
	}
	return nil
}

// loopbackAddr reports whether host:port listens on this machine only.
// ":8080" listens on every interface.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && isLoopbackHost(host)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkNATSURL accepts NATS client URLs, comma-separated (a cluster's
// seeds), without repeating them: one may hold a password.
func checkNATSURL(s string) error {
	if s == "" {
		return nil
	}
	for _, part := range strings.Split(s, ",") {
		u, err := url.Parse(strings.TrimSpace(part))
		if err != nil || u.Host == "" || (u.Scheme != "nats" && u.Scheme != "tls" && u.Scheme != "ws" && u.Scheme != "wss") {
			return errors.New("PARTNERS_NATS_URL must be nats://host:port (or tls://, ws://, wss://), several separated by commas")
		}
	}
	return nil
}

// natsBeyondLoopback reports whether one of the NATS URLs (already
// checked) names a server beyond this machine.
func natsBeyondLoopback(s string) bool {
	for _, part := range strings.Split(s, ",") {
		if u, err := url.Parse(strings.TrimSpace(part)); s != "" && (err != nil || !isLoopbackHost(u.Hostname())) {
			return true
		}
	}
	return false
}
