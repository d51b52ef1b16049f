package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"partners/internal/apitest"
	"partners/internal/pgtest"
)

// The configuration as an operator meets it: the real binary, started with
// an environment, judged by its exit code, its stderr and its listeners
// (issue 14 points 1 and 10).
func TestBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "partners")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	b := binary{path: bin, dbURL: pgtest.URL(t)}

	t.Run("RefusesWithoutEnv", b.refusesWithoutEnv)
	t.Run("ProductionRefusals", b.productionRefusals)
	t.Run("DatabasePasswordNeverPrinted", b.databasePasswordNeverPrinted)
	t.Run("DatabaseSettingsInKeyValueForm", b.databaseSettingsInKeyValueForm)
	t.Run("ProductionServesMetricsApart", b.productionServesMetricsApart)
	t.Run("ProductionMetricsPortTaken", b.productionMetricsPortTaken)
	t.Run("DevelopmentRunsTwice", b.developmentRunsTwice)
	t.Run("APIPortTaken", b.apiPortTaken)
}

type binary struct {
	path, dbURL string
}

// exited is how a process that was meant to refuse ended.
type exited struct {
	code           int
	stdout, stderr string
}

// command is the binary with exactly env as its PARTNERS_* variables.
func (b binary) command(ctx context.Context, env map[string]string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, b.path, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARTNERS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// run runs the binary to its end (a minute at most).
func (b binary) run(t *testing.T, env map[string]string, args ...string) exited {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := b.command(ctx, env, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return exited{0, stdout.String(), stderr.String()}
	case errors.As(err, &exit) && ctx.Err() == nil:
		return exited{exit.ExitCode(), stdout.String(), stderr.String()}
	default:
		t.Fatalf("partners %v: %v\n%s", args, err, stderr.String())
		return exited{}
	}
}

// refuses runs serve and expects it to exit 1 at once, saying each of want,
// and never the password.
func (b binary) refuses(t *testing.T, env map[string]string, want ...string) {
	t.Helper()
	got := b.run(t, env, "serve")
	if got.code != 1 {
		t.Fatalf("exit code %d; want 1\n%s", got.code, got.stderr)
	}
	for _, w := range want {
		if !strings.Contains(got.stderr, w) {
			t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
		}
	}
	if strings.Contains(got.stderr+got.stdout, password) {
		t.Errorf("the output prints the password:\n%s", got.stderr)
	}
}

func (b binary) refusesWithoutEnv(t *testing.T) {
	for name, kv := range map[string][]string{
		"secret":      {"PARTNERS_JWT_SECRET", realSecret},
		"JWKS":        {"PARTNERS_JWKS_URL", "https://id.example.com/jwks"},
		"data key":    {"PARTNERS_DATA_KEY", realKey},
		"SMTP":        {"PARTNERS_SMTP_URL", "smtps://mail.example.com"},
		"public HTTP": {"PARTNERS_HTTP_ADDR", ":8080"},
	} {
		t.Run(name, func(t *testing.T) {
			b.refuses(t, with(nil, "PARTNERS_DATABASE_URL", b.dbURL, kv[0], kv[1]), kv[0], "set PARTNERS_ENV")
		})
	}
}

func (b binary) productionRefusals(t *testing.T) {
	env := with(production, "PARTNERS_DATABASE_URL", b.dbURL, "PARTNERS_JWT_SECRET", "partners-development-secret-do-not-use-in-production",
		"PARTNERS_DATA_KEY", "partners-development-data-key-do-not-use-in-production",
		"PARTNERS_PUBLIC_URL", "http://partners.example.com", "PARTNERS_SMTP_URL", "smtp://mail.example.com?starttls=opportunistic")
	b.refuses(t, env, "published development secret", "published development data key", "https:// URL", "must use TLS")
	b.refuses(t, with(production, "PARTNERS_DATABASE_URL", b.dbURL, "PARTNERS_JWT_SECRET", "", "PARTNERS_JWKS_URL", "https://id.example.com/jwks"),
		"PARTNERS_JWT_ISSUER and PARTNERS_JWT_AUDIENCE")
}

func (b binary) databasePasswordNeverPrinted(t *testing.T) {
	for _, tc := range []struct{ name, url, want string }{
		{"URL with a bad port", "postgres://postgres:" + password + "@127.0.0.1:notaport/partners", "PARTNERS_DATABASE_URL cannot be read"},
		{"settings with a bad port", "host=127.0.0.1 port=abc password=" + password + " dbname=partners", "PARTNERS_DATABASE_URL cannot be read"},
		{"settings pgx cannot mask", "host=127.0.0.1 " + password, "PARTNERS_DATABASE_URL cannot be read"},
		{"settings naming no database", "host=127.0.0.1 user=postgres password=" + password, "PARTNERS_DATABASE_URL names no database"},
		// These parse, and fail to connect: the driver's error is printed.
		{"URL, nobody listening", "postgres://postgres:" + password + "@127.0.0.1:1/partners?connect_timeout=5", "failed to connect"},
		{"settings, nobody listening", "host=127.0.0.1 port=1 user=postgres password='" + password + "' dbname=partners connect_timeout=5", "failed to connect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b.refuses(t, map[string]string{"PARTNERS_DATABASE_URL": tc.url}, tc.want)
		})
	}
}

// keyValue is the package database's URL as libpq settings, naming db, with
// a password trust authentication ignores.
func keyValue(t *testing.T, dbURL, db string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("host=%s port=%s user=%s password='%s' dbname=%s sslmode=disable", u.Hostname(), u.Port(), u.User.Username(), password, db)
}

func (b binary) databaseSettingsInKeyValueForm(t *testing.T) {
	// A database of its own: migrate creates it.
	db := strings.TrimPrefix(must(url.Parse(b.dbURL)).Path, "/") + "_kv"
	t.Cleanup(func() { dropDatabase(t, b.dbURL, db) })
	got := b.run(t, map[string]string{"PARTNERS_DATABASE_URL": keyValue(t, b.dbURL, db)}, "migrate")
	if got.code != 0 || !strings.Contains(got.stdout, "database is at the newest schema") {
		t.Fatalf("migrate with key=value settings: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	if strings.Contains(got.stdout+got.stderr, password) {
		t.Errorf("migrate prints the password:\n%s%s", got.stdout, got.stderr)
	}
}

func (b binary) productionServesMetricsApart(t *testing.T) {
	api, metrics := freeAddr(t), freeAddr(t)
	db := strings.TrimPrefix(must(url.Parse(b.dbURL)).Path, "/")
	s := b.start(t, with(production, "PARTNERS_DATABASE_URL", keyValue(t, b.dbURL, db),
		"PARTNERS_HTTP_ADDR", api, "PARTNERS_METRICS_ADDR", metrics, "PARTNERS_MAIL_DIR", t.TempDir()), api)
	if code, _ := get(t, "http://"+api+"/metrics"); code != http.StatusNotFound {
		t.Errorf("GET /metrics on the API: %d; want 404", code)
	}
	code, body := get(t, "http://"+metrics+"/metrics")
	if code != http.StatusOK || !strings.Contains(body, "partners_") {
		t.Errorf("GET /metrics on PARTNERS_METRICS_ADDR: %d; want 200 with the service's metrics\n%.500s", code, body)
	}
	if code, _ := get(t, "http://"+metrics+"/readyz"); code != http.StatusNotFound {
		t.Errorf("GET /readyz on the metrics listener: %d; want 404 (it serves /metrics only)", code)
	}
	s.stop(t)
	if strings.Contains(s.stderr.String(), password) {
		t.Errorf("the log prints the password:\n%s", s.stderr.String())
	}
}

func (b binary) productionMetricsPortTaken(t *testing.T) {
	taken := listen(t)
	b.refuses(t, with(production, "PARTNERS_DATABASE_URL", b.dbURL, "PARTNERS_HTTP_ADDR", freeAddr(t),
		"PARTNERS_METRICS_ADDR", taken, "PARTNERS_MAIL_DIR", t.TempDir()), "PARTNERS_METRICS_ADDR", "address already in use")
}

// A taken API port stops the service before anything else runs, in either
// environment.
func (b binary) apiPortTaken(t *testing.T) {
	b.refuses(t, map[string]string{"PARTNERS_DATABASE_URL": b.dbURL, "PARTNERS_HTTP_ADDR": listen(t), "PARTNERS_METRICS_ADDR": "off"},
		"address already in use")
}

// The README's one command, twice on one machine (each on its own API
// port): the second one's metrics port is taken, and it says so and serves.
func (b binary) developmentRunsTwice(t *testing.T) {
	metrics := freeAddr(t)
	first, second := freeAddr(t), freeAddr(t)
	env := map[string]string{"PARTNERS_DATABASE_URL": b.dbURL, "PARTNERS_METRICS_ADDR": metrics, "PARTNERS_MAIL_DIR": t.TempDir()}
	one := b.start(t, with(env, "PARTNERS_HTTP_ADDR", first), first)
	two := b.start(t, with(env, "PARTNERS_HTTP_ADDR", second), second)
	if code, _ := get(t, "http://"+metrics+"/metrics"); code != http.StatusOK {
		t.Errorf("the first one's metrics: %d; want 200", code)
	}
	two.stop(t)
	one.stop(t)
	if log := two.stderr.String(); !strings.Contains(log, "metrics are not served") || !strings.Contains(log, "DEVELOPMENT MODE") {
		t.Errorf("the second one's log does not warn:\n%s", log)
	}
}

// running is a `partners serve` child.
type running struct {
	cmd    *exec.Cmd
	stderr *apitest.SafeBuffer
	done   chan error
}

// start runs serve and waits until addr answers /readyz.
func (b binary) start(t *testing.T, env map[string]string, addr string) *running {
	t.Helper()
	r := &running{stderr: &apitest.SafeBuffer{}, done: make(chan error, 1)}
	r.cmd = b.command(context.Background(), maps.Clone(env), "serve")
	r.cmd.Stdout, r.cmd.Stderr = io.Discard, r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() { _ = r.cmd.Process.Kill() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _ := get(t, "http://"+addr+"/readyz"); code == http.StatusOK {
			return r
		}
		select {
		case err := <-r.done:
			t.Fatalf("serve exited: %v\n%s", err, r.stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 30s\n%s", r.stderr.String())
		}
	}
}

// stop sends SIGTERM and expects a clean exit.
func (r *running) stop(t *testing.T) {
	t.Helper()
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("serve ended with %v\n%s", err, r.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Errorf("serve did not stop within 30s\n%s", r.stderr.String())
	}
}

// get answers status and body, or 0 when nothing answers.
func get(t *testing.T, u string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// listen holds a loopback port for the test's duration.
func listen(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

func dropDatabase(t *testing.T, serverURL, db string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		t.Log(err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Log(err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
