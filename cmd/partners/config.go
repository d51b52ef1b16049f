package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"partners/api/auth"
	"partners/eventstore"
)

// Config is everything the service reads from its environment.
type Config struct {
	DatabaseURL    string
	HTTPAddr       string
	PublicURL      string
	Env            string
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
	RateLimitsOff  bool
	ProjectorBatch int
	ProjectorPoll  time.Duration
	MailLease      time.Duration

	// AssumeEmailVerified: PARTNERS_JWT_EMAIL_VERIFIED=assume, for an
	// identity provider that omits the claim (see auth.Config).
	AssumeEmailVerified bool
}

// LoadConfig reads PARTNERS_* variables, applying the documented defaults.
func LoadConfig(getenv func(string) string) (Config, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		DatabaseURL: get("PARTNERS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/partners?sslmode=disable"),
		PublicURL:   strings.TrimRight(get("PARTNERS_PUBLIC_URL", "http://localhost:8080"), "/"),
		Env:         get("PARTNERS_ENV", "development"),
		JWTSecret:   getenv("PARTNERS_JWT_SECRET"),
		JWKSURL:     get("PARTNERS_JWKS_URL", ""),
		JWTIssuer:   get("PARTNERS_JWT_ISSUER", ""),
		JWTAudience: get("PARTNERS_JWT_AUDIENCE", ""),
		SMTPURL:     get("PARTNERS_SMTP_URL", ""),
		SMTPFrom:    get("PARTNERS_SMTP_FROM", "partners@localhost"),
		MailDir:     get("PARTNERS_MAIL_DIR", "./mail"),
		DataKey:     getenv("PARTNERS_DATA_KEY"),
		LogLevel:    get("PARTNERS_LOG_LEVEL", "info"),
		DBMaxConns:  16,
	}
	switch get("PARTNERS_RATE_LIMITS", "on") {
	case "on":
	case "off":
		c.RateLimitsOff = true
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
	if c.Env != "development" && c.Env != "production" {
		return c, fmt.Errorf("PARTNERS_ENV must be development or production, not %q", c.Env)
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
	if c.Env == "production" {
		if c.JWTSecret == "" && c.JWKSURL == "" {
			return c, errors.New("production needs PARTNERS_JWT_SECRET or PARTNERS_JWKS_URL")
		}
		if c.SMTPURL == "" {
			return c, errors.New("production needs PARTNERS_SMTP_URL")
		}
		if c.DataKey == "" {
			return c, errors.New("production needs PARTNERS_DATA_KEY (the key that wraps personal-data keys)")
		}
	}
	if c.JWTSecret == "" && c.JWKSURL == "" {
		c.JWTSecret, c.DevSecret = auth.DevelopmentSecret, true
	}
	if c.DataKey == "" {
		c.DataKey, c.DevDataKey = eventstore.DevelopmentDataKey, true
	}
	c.HTTPAddr = get("PARTNERS_HTTP_ADDR", ":8080")
	if c.DevSecret {
		// Anyone can mint tokens for the development secret: never listen
		// beyond this machine with it.
		host, port, err := net.SplitHostPort(c.HTTPAddr)
		if err != nil {
			return c, fmt.Errorf("PARTNERS_HTTP_ADDR: %w", err)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			c.HTTPAddr = net.JoinHostPort("127.0.0.1", port)
		}
	}
	return c, nil
}
