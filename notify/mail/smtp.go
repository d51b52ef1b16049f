package mail

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Defaults of the SMTP sender.
const (
	DefaultSMTPPort  = 587 // smtp:// (submission, STARTTLS)
	DefaultSMTPSPort = 465 // smtps:// (implicit TLS)
	// DefaultSMTPTimeout bounds one Send call: connection, TLS, AUTH and the
	// whole transaction. Override with ?timeout=.
	DefaultSMTPTimeout = 30 * time.Second
	maxSMTPTimeout     = 10 * time.Minute
)

type smtpConfig struct {
	host        string
	port        int
	implicitTLS bool
	policy      gomail.TLSPolicy
	user, pass  string
	auth        bool
	insecure    bool
	timeout     time.Duration
}

type smtpSender struct {
	sender
	cfg       smtpConfig
	tlsConfig *tls.Config
}

// NewSMTPSender returns a Sender that delivers through the SMTP server
// described by rawURL, with from as the From address:
//
//	smtp://[user[:password]@]host[:port][?options]   port 587, STARTTLS when offered
//	smtps://[user[:password]@]host[:port][?options]  port 465, implicit TLS
//
// Options:
//
//	starttls=opportunistic|required|none   smtp:// only; default opportunistic
//	insecure_skip_verify=true              do not verify the server certificate (tests only)
//	timeout=30s                            bound of one Send call (default 30s)
//
// User name and password are percent-decoded. When they are given, SMTP AUTH
// is performed with the best of SCRAM-SHA-256, SCRAM-SHA-1, PLAIN and LOGIN
// offered by the server; PLAIN and LOGIN are only used over TLS or to
// localhost. Credentials over starttls=none are refused unless the host is a
// loopback address. Errors never contain the URL or the credentials.
//
// Each Send opens its own connection, so the sender is safe for concurrent
// use and holds no connection between calls.
func NewSMTPSender(rawURL, from string, logger *slog.Logger) (Sender, error) {
	base, err := newSender(from, logger)
	if err != nil {
		return nil, err
	}
	cfg, err := parseSMTPURL(rawURL)
	if err != nil {
		return nil, err
	}
	s := &smtpSender{
		sender: base,
		cfg:    cfg,
		tlsConfig: &tls.Config{
			ServerName:         cfg.host,
			MinVersion:         tls.VersionTLS12,
			InsecureSkipVerify: cfg.insecure, //nolint:gosec // explicit opt-in, meant for tests
		},
	}
	mode := map[bool]string{true: "implicit TLS", false: cfg.policy.String()}[cfg.implicitTLS]
	s.logger.Debug("smtp sender configured",
		"server", net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port)),
		"tls", mode, "auth", cfg.auth, "insecure_skip_verify", cfg.insecure, "timeout", cfg.timeout)
	return s, nil
}

func urlError(format string, args ...any) error {
	return fmt.Errorf("mail: invalid SMTP URL: "+format, args...)
}

func parseSMTPURL(rawURL string) (smtpConfig, error) {
	cfg := smtpConfig{policy: gomail.TLSOpportunistic, timeout: DefaultSMTPTimeout}
	if strings.TrimSpace(rawURL) == "" {
		return cfg, urlError("empty")
	}
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		// url.Error repeats the whole URL, password included: don't wrap it.
		return cfg, urlError("cannot be parsed (expected smtp://[user[:password]@]host[:port])")
	}
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		cfg.port = DefaultSMTPPort
	case "smtps":
		cfg.port, cfg.implicitTLS = DefaultSMTPSPort, true
	case "":
		return cfg, urlError("missing scheme smtp:// or smtps://")
	default:
		return cfg, urlError("unsupported scheme %q (want smtp or smtps)", truncate(u.Scheme, 16))
	}
	if u.Opaque != "" {
		return cfg, urlError("expected smtp://host form")
	}
	if cfg.host = u.Hostname(); cfg.host == "" {
		return cfg, urlError("missing host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return cfg, urlError("invalid port")
		}
		cfg.port = n
	}
	if u.Path != "" && u.Path != "/" {
		return cfg, urlError("unexpected path")
	}
	if u.Fragment != "" {
		return cfg, urlError("unexpected fragment")
	}

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return cfg, urlError("malformed query")
	}
	for key, values := range q {
		if len(values) != 1 {
			return cfg, urlError("option %q given more than once", truncate(key, 32))
		}
		v := strings.ToLower(strings.TrimSpace(values[0]))
		switch key {
		case "starttls":
			if cfg.implicitTLS {
				return cfg, urlError("option starttls does not apply to smtps://")
			}
			switch v {
			case "opportunistic":
				cfg.policy = gomail.TLSOpportunistic
			case "required":
				cfg.policy = gomail.TLSMandatory
			case "none":
				cfg.policy = gomail.NoTLS
			default:
				return cfg, urlError("starttls must be required, opportunistic or none")
			}
		case "insecure_skip_verify":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return cfg, urlError("insecure_skip_verify must be true or false")
			}
			cfg.insecure = b
		case "timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 || d > maxSMTPTimeout {
				return cfg, urlError("timeout must be a duration between 0 and %s", maxSMTPTimeout)
			}
			cfg.timeout = d
		default:
			return cfg, urlError("unknown option %q", truncate(key, 32))
		}
	}

	if u.User != nil {
		cfg.user = u.User.Username()
		cfg.pass, _ = u.User.Password()
		if cfg.user == "" {
			return cfg, urlError("empty user name")
		}
		cfg.auth = true
		if cfg.policy == gomail.NoTLS && !cfg.implicitTLS && !isLoopback(cfg.host) {
			return cfg, urlError("refusing to send credentials without TLS (use starttls=required or smtps://)")
		}
	}
	return cfg, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send delivers m over a fresh connection. The call is bounded by both ctx
// and the configured timeout; cancelling ctx aborts the SMTP dialogue.
func (s *smtpSender) Send(ctx context.Context, m Message) error {
	msg, err := s.build(m, time.Now())
	if err != nil {
		return &SendError{MessageID: m.ID, reason: err.Error(), err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	defer cancel()

	var stopWatch func() bool
	defer func() {
		if stopWatch != nil {
			stopWatch()
		}
	}()
	dial := func(dialCtx context.Context, _, _ string) (net.Conn, error) {
		conn, err := s.dial(dialCtx)
		if err != nil {
			return nil, err
		}
		// go-mail only honours the context while dialling; closing the
		// connection when ctx ends aborts a stuck dialogue.
		stopWatch = context.AfterFunc(ctx, func() { _ = conn.Close() })
		return conn, nil
	}

	policy := s.cfg.policy
	if s.cfg.implicitTLS {
		policy = gomail.NoTLS // the connection is already TLS (see dial)
	}
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.port),
		gomail.WithTimeout(s.cfg.timeout),
		gomail.WithDialContextFunc(dial),
		gomail.WithTLSConfig(s.tlsConfig),
		gomail.WithTLSPolicy(policy),
	}
	if s.cfg.auth {
		opts = append(opts,
			gomail.WithUsername(s.cfg.user),
			gomail.WithPassword(s.cfg.pass),
			gomail.WithOpportunisticSMTPAuth(
				gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1,
				gomail.SMTPAuthPlain, gomail.SMTPAuthLogin,
			),
		)
	}
	client, err := gomail.NewClient(s.cfg.host, opts...)
	if err != nil {
		return &SendError{MessageID: m.ID, reason: "configuring SMTP client: " + redactAddresses(err.Error()), err: err}
	}

	start := time.Now()
	err = client.DialAndSendWithContext(ctx, msg)
	attrs := []any{
		"message_id", m.ID, "to", MaskEmail(m.To), "locale", string(m.Locale),
		"duration", time.Since(start).Round(time.Millisecond),
	}
	if err != nil && msg.IsDelivered() {
		// The server accepted the data; only the goodbye failed. Reporting
		// an error would make the caller send the message twice.
		s.logger.Warn("mail delivered, closing SMTP connection failed",
			append(attrs, "error", redactAddresses(err.Error()))...)
		err = nil
	}
	if err != nil {
		se := newSendError(m.ID, err, ctx.Err())
		s.logger.Warn("mail delivery failed",
			append(attrs, "temporary", se.Temporary, "smtp_code", se.Code, "error", se.reason)...)
		return se
	}
	s.logger.Info("mail sent", attrs...)
	return nil
}

func (s *smtpSender) dial(ctx context.Context) (net.Conn, error) {
	addr := net.JoinHostPort(s.cfg.host, strconv.Itoa(s.cfg.port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if !s.cfg.implicitTLS {
		return conn, nil
	}
	tc := tls.Client(conn, s.tlsConfig)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
	}
	return tc, nil
}
