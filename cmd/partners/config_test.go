package main

import (
	"maps"
	"strings"
	"testing"

	"partners/api/auth"
	"partners/eventstore"
)

// password is in every database URL of the table below: no error may print it.
const password = "hunter2-do-not-print"

var (
	realSecret = strings.Repeat("s", 40)
	realKey    = strings.Repeat("k", 32)
	// production is a complete production configuration; rows change it.
	production = map[string]string{
		"PARTNERS_ENV":        "production",
		"PARTNERS_JWT_SECRET": realSecret,
		"PARTNERS_DATA_KEY":   realKey,
		"PARTNERS_SMTP_URL":   "smtps://mailer:" + password + "@mail.example.com",
		"PARTNERS_PUBLIC_URL": "https://partners.example.com",
	}
)

// with is base with the changes of kv ("" deletes a variable).
func with(base map[string]string, kv ...string) map[string]string {
	m := maps.Clone(base)
	if m == nil {
		m = map[string]string{}
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(m, kv[i])
		} else {
			m[kv[i]] = kv[i+1]
		}
	}
	return m
}

// Issue 14 point 1: the configuration fails closed.
func TestConfigFailsClosed(t *testing.T) {
	dbURL := "postgres://postgres:" + password + "@127.0.0.1:5432/partners?sslmode=disable"
	refused := []struct {
		name string
		env  map[string]string
		want []string // in the error
	}{
		// Deployment settings without PARTNERS_ENV.
		{"secret without env", with(nil, "PARTNERS_JWT_SECRET", realSecret), []string{"PARTNERS_JWT_SECRET", "set PARTNERS_ENV"}},
		{"JWKS without env", with(nil, "PARTNERS_JWKS_URL", "https://id.example.com/jwks"), []string{"PARTNERS_JWKS_URL", "set PARTNERS_ENV"}},
		{"data key without env", with(nil, "PARTNERS_DATA_KEY", realKey), []string{"PARTNERS_DATA_KEY", "set PARTNERS_ENV"}},
		{"SMTP without env", with(nil, "PARTNERS_SMTP_URL", "smtps://mail.example.com"), []string{"PARTNERS_SMTP_URL", "set PARTNERS_ENV"}},
		{"every interface without env", with(nil, "PARTNERS_HTTP_ADDR", ":8080"), []string{"PARTNERS_HTTP_ADDR", "set PARTNERS_ENV"}},
		{"0.0.0.0 without env", with(nil, "PARTNERS_HTTP_ADDR", "0.0.0.0:8080"), []string{"PARTNERS_HTTP_ADDR", "set PARTNERS_ENV"}},
		{"remote NATS without env", with(nil, "PARTNERS_NATS_URL", "nats://127.0.0.1:4222,tls://nats.example.com:4222"), []string{"PARTNERS_NATS_URL", "set PARTNERS_ENV"}},
		{"IPv6 any without env", with(nil, "PARTNERS_HTTP_ADDR", "[::]:8080"), []string{"PARTNERS_HTTP_ADDR", "set PARTNERS_ENV"}},
		{"LAN address without env", with(nil, "PARTNERS_HTTP_ADDR", "192.168.1.10:8080"), []string{"PARTNERS_HTTP_ADDR", "set PARTNERS_ENV"}},
		{"host name without env", with(nil, "PARTNERS_HTTP_ADDR", "partners.example.com:8080"), []string{"PARTNERS_HTTP_ADDR", "set PARTNERS_ENV"}},
		{"public metrics without env", with(nil, "PARTNERS_METRICS_ADDR", ":9464"), []string{"PARTNERS_METRICS_ADDR", "set PARTNERS_ENV"}},
		{"all of them named at once", with(nil, "PARTNERS_JWT_SECRET", realSecret, "PARTNERS_DATA_KEY", realKey),
			[]string{"PARTNERS_JWT_SECRET, PARTNERS_DATA_KEY", "set PARTNERS_ENV"}},
		{"unknown env", with(nil, "PARTNERS_ENV", "staging"), []string{"PARTNERS_ENV must be development or production"}},

		// Development: the published secret and data key stay on loopback.
		{"development, published secret, every interface", with(nil, "PARTNERS_ENV", "development", "PARTNERS_HTTP_ADDR", ":9000"),
			[]string{"not a loopback address", "secret and data key are"}},
		{"development, published data key, every interface",
			with(nil, "PARTNERS_ENV", "development", "PARTNERS_JWT_SECRET", realSecret, "PARTNERS_HTTP_ADDR", ":9000"),
			[]string{"not a loopback address", "data key is"}},
		{"development, published secret typed in, every interface",
			with(nil, "PARTNERS_ENV", "development", "PARTNERS_JWT_SECRET", auth.DevelopmentSecret, "PARTNERS_DATA_KEY", realKey, "PARTNERS_HTTP_ADDR", ":9000"),
			[]string{"not a loopback address", "secret is"}},

		// Production.
		{"production, no secret", with(production, "PARTNERS_JWT_SECRET", ""), []string{"needs PARTNERS_JWT_SECRET or PARTNERS_JWKS_URL"}},
		{"production, published secret", with(production, "PARTNERS_JWT_SECRET", auth.DevelopmentSecret), []string{"published development secret"}},
		{"production, no data key", with(production, "PARTNERS_DATA_KEY", ""), []string{"needs PARTNERS_DATA_KEY"}},
		{"production, published data key", with(production, "PARTNERS_DATA_KEY", eventstore.DevelopmentDataKey), []string{"published development data key"}},
		{"production, JWKS without issuer", with(production, "PARTNERS_JWT_SECRET", "", "PARTNERS_JWKS_URL", "https://id.example.com/jwks", "PARTNERS_JWT_AUDIENCE", "partners"),
			[]string{"PARTNERS_JWT_ISSUER and PARTNERS_JWT_AUDIENCE"}},
		{"production, JWKS without audience", with(production, "PARTNERS_JWKS_URL", "https://id.example.com/jwks", "PARTNERS_JWT_ISSUER", "https://id.example.com"),
			[]string{"PARTNERS_JWT_ISSUER and PARTNERS_JWT_AUDIENCE"}},
		{"production, http public URL", with(production, "PARTNERS_PUBLIC_URL", "http://partners.example.com"), []string{"PARTNERS_PUBLIC_URL must be an https:// URL"}},
		{"production, public URL without host", with(production, "PARTNERS_PUBLIC_URL", "https://"), []string{"PARTNERS_PUBLIC_URL must be an https:// URL"}},
		{"production, public URL not a URL", with(production, "PARTNERS_PUBLIC_URL", "partners.example.com"), []string{"PARTNERS_PUBLIC_URL must be an https:// URL"}},
		{"production, no SMTP", with(production, "PARTNERS_SMTP_URL", ""), []string{"needs PARTNERS_SMTP_URL"}},
		{"production, SMTP with opportunistic STARTTLS", with(production, "PARTNERS_SMTP_URL", "smtp://mail.example.com"), []string{"PARTNERS_SMTP_URL must use TLS"}},
		{"production, SMTP opportunistic said", with(production, "PARTNERS_SMTP_URL", "smtp://mail.example.com:587?starttls=opportunistic"), []string{"PARTNERS_SMTP_URL must use TLS"}},
		{"production, plain-text SMTP", with(production, "PARTNERS_SMTP_URL", "smtp://127.0.0.1:25?starttls=none"), []string{"PARTNERS_SMTP_URL must use TLS"}},
		{"production, plain-text SMTP with a password", with(production, "PARTNERS_SMTP_URL", "smtp://mailer:"+password+"@mail.example.com?starttls=none"),
			[]string{"PARTNERS_SMTP_URL", "without TLS"}},
		{"production, every problem at once",
			with(production, "PARTNERS_JWT_SECRET", auth.DevelopmentSecret, "PARTNERS_PUBLIC_URL", "http://partners.example.com", "PARTNERS_SMTP_URL", "smtp://mail.example.com"),
			[]string{"published development secret", "https:// URL", "must use TLS"}},

		// The database URL: read in either form, never repeated.
		{"database URL with a bad port", with(nil, "PARTNERS_DATABASE_URL", "postgres://postgres:"+password+"@127.0.0.1:notaport/partners"),
			[]string{"PARTNERS_DATABASE_URL cannot be read"}},
		{"database settings with a bad port", with(nil, "PARTNERS_DATABASE_URL", "host=127.0.0.1 port=abc password="+password+" dbname=partners"),
			[]string{"PARTNERS_DATABASE_URL cannot be read"}},
		{"database settings pgx cannot mask", with(nil, "PARTNERS_DATABASE_URL", "host=127.0.0.1 "+password),
			[]string{"PARTNERS_DATABASE_URL cannot be read"}},
		{"database settings with a quoted password, unterminated", with(nil, "PARTNERS_DATABASE_URL", "host=127.0.0.1 dbname=partners password='"+password),
			[]string{"PARTNERS_DATABASE_URL cannot be read"}},
		{"database URL with no database", with(nil, "PARTNERS_DATABASE_URL", "host=127.0.0.1 user=postgres password="+password),
			[]string{"PARTNERS_DATABASE_URL names no database"}},

		{"metrics address without a port", with(nil, "PARTNERS_METRICS_ADDR", "9464"), []string{"PARTNERS_METRICS_ADDR must be host:port"}},
		{"HTTP address without a port", with(nil, "PARTNERS_HTTP_ADDR", "127.0.0.1"), []string{"PARTNERS_HTTP_ADDR must be host:port"}},
	}
	for _, tc := range refused {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			env := with(tc.env)
			if _, ok := env["PARTNERS_DATABASE_URL"]; !ok {
				env["PARTNERS_DATABASE_URL"] = dbURL
			}
			_, err := LoadConfig(func(k string) string { return env[k] })
			if err == nil {
				t.Fatalf("accepted; want an error with %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q; want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("error prints the password: %q", err)
			}
		})
	}

	accepted := []struct {
		name  string
		env   map[string]string
		check func(c Config) bool
	}{
		{"zero configuration: development on loopback, loudly", nil, func(c Config) bool {
			return c.Env == "development" && c.DevSecret && c.DevDataKey && c.HTTPAddr == "127.0.0.1:8080" &&
				c.MetricsAddr == "127.0.0.1:9464" && strings.Contains(strings.Join(c.Warnings, " "), "DEVELOPMENT MODE (PARTNERS_ENV is unset)")
		}},
		{"loopback address without env", with(nil, "PARTNERS_HTTP_ADDR", "127.0.0.1:9000"), func(c Config) bool { return c.HTTPAddr == "127.0.0.1:9000" }},
		{"IPv6 loopback without env", with(nil, "PARTNERS_HTTP_ADDR", "[::1]:9000"), func(c Config) bool { return c.HTTPAddr == "[::1]:9000" }},
		{"localhost without env", with(nil, "PARTNERS_HTTP_ADDR", "localhost:9000"), func(c Config) bool { return c.HTTPAddr == "localhost:9000" }},
		{"metrics off", with(nil, "PARTNERS_METRICS_ADDR", "off"), func(c Config) bool { return c.MetricsAddr == "" }},
		{"metrics elsewhere on loopback", with(nil, "PARTNERS_METRICS_ADDR", "127.0.0.1:19464"), func(c Config) bool { return c.MetricsAddr == "127.0.0.1:19464" }},
		{"database settings in key=value form", with(nil, "PARTNERS_DATABASE_URL", "host=127.0.0.1 port=5432 user=postgres password='a b "+password+"' dbname=partners sslmode=disable"),
			func(c Config) bool { return strings.HasPrefix(c.DatabaseURL, "host=") }},
		{"development said, real keys, every interface",
			with(nil, "PARTNERS_ENV", "development", "PARTNERS_JWT_SECRET", realSecret, "PARTNERS_DATA_KEY", realKey, "PARTNERS_HTTP_ADDR", ":9000"),
			func(c Config) bool { return c.HTTPAddr == ":9000" && !c.DevSecret && !c.DevDataKey }},
		{"development said, published keys", with(nil, "PARTNERS_ENV", "development"), func(c Config) bool {
			return c.HTTPAddr == "127.0.0.1:8080" && c.DevSecret && c.DevDataKey
		}},
		{"development said, plain-text SMTP", with(nil, "PARTNERS_ENV", "development", "PARTNERS_SMTP_URL", "smtp://127.0.0.1:2525?starttls=none"),
			func(c Config) bool { return c.SMTPURL != "" }},
		{"production", production, func(c Config) bool {
			return c.Production() && c.HTTPAddr == ":8080" && !c.DevSecret && !c.DevDataKey && c.MetricsAddr == "127.0.0.1:9464" && len(c.Warnings) == 0
		}},
		{"production, STARTTLS required", with(production, "PARTNERS_SMTP_URL", "smtp://mail.example.com?starttls=required"), func(c Config) bool { return c.Production() }},
		{"production, public URL on localhost", with(production, "PARTNERS_PUBLIC_URL", "http://localhost:8080"), func(c Config) bool { return c.Production() }},
		{"production, public URL on 127.0.0.1", with(production, "PARTNERS_PUBLIC_URL", "http://127.0.0.1:8080"), func(c Config) bool { return c.Production() }},
		{"production, JWKS with issuer and audience",
			with(production, "PARTNERS_JWT_SECRET", "", "PARTNERS_JWKS_URL", "https://id.example.com/jwks", "PARTNERS_JWT_ISSUER", "https://id.example.com", "PARTNERS_JWT_AUDIENCE", "partners"),
			func(c Config) bool { return c.JWTSecret == "" && !c.DevSecret }},
		{"production, unverified SMTP certificate is a warning", with(production, "PARTNERS_SMTP_URL", "smtps://mail.example.com?insecure_skip_verify=true"),
			func(c Config) bool { return strings.Contains(strings.Join(c.Warnings, " "), "insecure_skip_verify") }},
		{"production, metrics on every interface", with(production, "PARTNERS_METRICS_ADDR", ":9464"), func(c Config) bool { return c.MetricsAddr == ":9464" }},
	}
	for _, tc := range accepted {
		t.Run("accepted/"+tc.name, func(t *testing.T) {
			env := with(tc.env)
			c, err := LoadConfig(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("config = %+v", c)
			}
		})
	}
}

// PARTNERS_NATS_URL turns the forwarder on; a malformed one is refused
// without being repeated (it may hold a password).
func TestConfigNATSURL(t *testing.T) {
	getenv := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, ok := range []string{"", "nats://127.0.0.1:4222", "nats://a:4222, tls://b:4222"} {
		c, err := LoadConfig(getenv(with(nil, "PARTNERS_ENV", "development", "PARTNERS_NATS_URL", ok)))
		if err != nil || c.NATSURL != strings.TrimSpace(ok) {
			t.Errorf("PARTNERS_NATS_URL=%q: %q, %v", ok, c.NATSURL, err)
		}
	}
	if _, err := LoadConfig(getenv(with(nil, "PARTNERS_NATS_URL", "nats://localhost:4222"))); err != nil {
		t.Errorf("a loopback NATS without PARTNERS_ENV: %v", err)
	}
	for _, bad := range []string{"127.0.0.1:4222", "http://x:" + password + "@h:4222", "nats://"} {
		_, err := LoadConfig(getenv(with(nil, "PARTNERS_NATS_URL", bad)))
		if err == nil || !strings.Contains(err.Error(), "PARTNERS_NATS_URL") || strings.Contains(err.Error(), password) {
			t.Errorf("PARTNERS_NATS_URL=%q: %v", bad, err)
		}
	}
}
