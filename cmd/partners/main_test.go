package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"partners/api"
	"partners/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestConfig(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	c, err := LoadConfig(env(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.DevSecret || c.HTTPAddr != "127.0.0.1:8080" || c.InvitationTTL != 720*time.Hour || c.SMTPFrom != "partners@localhost" {
		t.Fatalf("defaults = %+v", c)
	}
	// Issue 14 point 1: a secret without PARTNERS_ENV is refused, and the
	// published data key keeps the listener on loopback too.
	c, err = LoadConfig(env(map[string]string{"PARTNERS_ENV": "development", "PARTNERS_JWT_SECRET": strings.Repeat("s", 40),
		"PARTNERS_DATA_KEY": strings.Repeat("k", 32), "PARTNERS_HTTP_ADDR": ":9000"}))
	if err != nil || c.HTTPAddr != ":9000" {
		t.Fatalf("with a real secret the address is kept: %+v, %v", c.HTTPAddr, err)
	}
	for name, bad := range map[string]map[string]string{
		"ProductionWithoutSecret": {"PARTNERS_ENV": "production", "PARTNERS_SMTP_URL": "smtp://x", "PARTNERS_DATA_KEY": strings.Repeat("k", 32)},
		"ProductionWithoutSMTP":   {"PARTNERS_ENV": "production", "PARTNERS_JWT_SECRET": strings.Repeat("s", 40), "PARTNERS_DATA_KEY": strings.Repeat("k", 32)},
		"BadTTL":                  {"PARTNERS_INVITATION_TTL": "soon"},
		"BadProxy":                {"PARTNERS_TRUSTED_PROXIES": "example.com"},
		"BadEnv":                  {"PARTNERS_ENV": "staging"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadConfig(env(bad)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// Every statement and every connection phase is bounded.
func TestTimeouts(t *testing.T) {
	srv := newHTTPServer(":0", http.NotFoundHandler(), context.Background())
	if srv.ReadHeaderTimeout == 0 || srv.ReadTimeout == 0 || srv.WriteTimeout == 0 || srv.IdleTimeout == 0 || srv.MaxHeaderBytes == 0 {
		t.Fatalf("HTTP server has an unbounded phase: %+v", srv)
	}
	pcfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	boundStatements(pcfg, 4)
	pool, err := pgxpool.NewWithConfig(context.Background(), pcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var st string
	if err := pool.QueryRow(context.Background(), `SHOW statement_timeout`).Scan(&st); err != nil || st != "30s" {
		t.Fatalf("statement_timeout = %q, %v; want 30s", st, err)
	}
}

// serve migrates, serves, and on shutdown stops within its bound.
func TestServeAndShutdown(t *testing.T) {
	addr := freeAddr(t)
	t.Setenv("PARTNERS_DATABASE_URL", pgtest.URL(t))
	t.Setenv("PARTNERS_HTTP_ADDR", addr)
	t.Setenv("PARTNERS_MAIL_DIR", t.TempDir())
	t.Setenv("PARTNERS_LOG_LEVEL", "warn")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stderr bytes.Buffer
	go func() { done <- run(ctx, []string{"serve"}, &bytes.Buffer{}, &stderr) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("not ready: %v\n%s", err, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"token", "--sub", "u1", "--email", "u1@example.com"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/v1/me/organizations", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(out.String()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET with a `partners token` token: %v %v", resp, err)
	}
	resp.Body.Close()
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("shutdown did not finish within its bound")
	}
	if d := time.Since(start); d > 22*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
}

// `partners openapi` prints the served document, whatever the configuration
// says (the client generator and the linter run it without one).
func TestOpenAPICommand(t *testing.T) {
	t.Setenv("PARTNERS_ENV", "no-such-environment")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"openapi"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), api.OpenAPI()) {
		t.Fatalf("partners openapi printed %d bytes, not the served document (%d bytes)", out.Len(), len(api.OpenAPI()))
	}
}
