// Package apitest runs the whole service (event store, projector, HTTP
// edge) against a real PostgreSQL database for tests, and gives them a
// small client. It must never be imported by non-test code.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/api"
	"partners/api/auth"
	"partners/app"
	"partners/eventstore"
	"partners/notify"
	"partners/notify/mail"
	"partners/projections"
)

// Secret is the HS256 secret test servers accept.
const Secret = "apitest-secret-0123456789-0123456789-abcdef"

// Server is a running service.
type Server struct {
	URL       string
	Pool      *pgxpool.Pool
	Store     *eventstore.Store
	App       *app.App
	Projector *projections.Projector
	API       *api.Server
	Logs      *SafeBuffer
	Pipeline  *notify.Pipeline
	t         testing.TB
}

// Options adjust a test server.
type Options struct {
	// Auth overrides the verifier configuration (default: HS256 with Secret).
	Auth *auth.Config
	// Now overrides the clock.
	Now func() time.Time
	// NoProjector leaves the read models unfed.
	NoProjector bool
	// Mail, when set, runs the email pipeline (Watermill reaction and
	// sender) with this sender.
	Mail mail.Sender
	// InvitationTTL overrides the invitations' lifetime.
	InvitationTTL time.Duration
	// Reactions are extra Watermill reactions to run, by consumer group.
	Reactions map[string]eventstore.Reaction
	// WrapQueue wraps the email pipeline's reaction (to make it fail).
	WrapQueue func(eventstore.Reaction) eventstore.Reaction
	// Limits overrides the rate limits (default: off, so tests are not
	// throttled by accident).
	Limits *api.Limits
	// HeavyConns sizes the small pool exports, as-of replays and waits run
	// on (default 4), as PARTNERS_DB_HEAVY_CONNS does.
	HeavyConns int32
	// SlowNetwork gives the server's sockets a small send buffer, so that a
	// client that stops reading blocks the server's writes after a few KiB
	// (as a stalled mobile client does), instead of after megabytes.
	SlowNetwork bool
	// TrustedProxies are believed for X-Forwarded-For (tests of limits by
	// address send it from 127.0.0.1).
	TrustedProxies []string
	// Mount adds routes (the web app) to the engine before it serves; the
	// Server it gets has its URL already.
	Mount func(s *Server)
}

// Clock is a settable clock for tests.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at now.
func NewClock() *Clock { return &Clock{t: time.Now().UTC()} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// PublicURL is the web app base test servers put in links.
const PublicURL = "https://app.partners.test"

// SafeBuffer is a bytes.Buffer safe for concurrent writes (the logs).
type SafeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SafeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SafeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Start wires and starts the service on the database behind pool.
func Start(t testing.TB, pool *pgxpool.Pool, opts Options) *Server {
	t.Helper()
	logs := &SafeBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	keys, err := eventstore.NewKeyring("apitest-data-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	store := eventstore.New(pool, keys, now)
	a := app.New(store)
	a.Now = now
	a.InvitationTTL = opts.InvitationTTL
	proj := projections.NewProjector(store, log, projections.All()...)
	a.Appended = proj.Wake
	a.Erasers = []app.Eraser{api.ForgetIdempotencyRecords}
	cfg := auth.Config{Secret: []byte(Secret)}
	if opts.Auth != nil {
		cfg = *opts.Auth
	}
	ctx, cancel := context.WithCancel(context.Background())
	verifier, err := auth.NewVerifier(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	limits := api.Limits{Off: true}
	if opts.Limits != nil {
		limits = *opts.Limits
	}
	heavy, err := heavyPool(pool, opts.HeavyConns)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(heavy.Close)
	srv, err := api.New(api.Config{App: a, Pool: pool, HeavyPool: heavy, Projector: proj, Verifier: verifier, Log: log, Now: now,
		PublicURL: PublicURL, Limits: limits, TrustedProxies: opts.TrustedProxies})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	if opts.NoProjector {
		close(done)
	} else {
		if err := projections.EnsureCheckpoints(ctx, pool, proj.Projections()); err != nil {
			cancel()
			t.Fatal(err)
		}
		go func() { defer close(done); _ = proj.Run(ctx) }()
	}
	reactions := map[string]eventstore.Reaction{}
	for k, v := range opts.Reactions {
		reactions[k] = v
	}
	var pipeline *notify.Pipeline
	if opts.Mail != nil {
		pipeline = notify.NewPipeline(store, opts.Mail, PublicURL, log)
		pipeline.PollInterval = 20 * time.Millisecond
		var queue eventstore.Reaction = pipeline.Queue
		if opts.WrapQueue != nil {
			queue = opts.WrapQueue(queue)
		}
		reactions[notify.ConsumerGroup] = queue
	}
	var workers sync.WaitGroup
	if len(reactions) > 0 {
		rs, err := eventstore.NewReactions(store, pool, nil)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		for group, r := range reactions {
			if err := rs.Add(group, r); err != nil {
				cancel()
				t.Fatal(err)
			}
		}
		workers.Add(1)
		go func() { defer workers.Done(); _ = rs.Run(ctx) }()
		<-rs.Running()
	}
	if pipeline != nil {
		workers.Add(1)
		go func() { defer workers.Done(); _ = pipeline.Run(ctx) }()
	}
	hs := httptest.NewUnstartedServer(srv.Handler())
	if opts.SlowNetwork {
		hs.Listener = smallSendBuffers{hs.Listener}
	}
	if opts.Mount != nil {
		opts.Mount(&Server{URL: "http://" + hs.Listener.Addr().String(), Pool: pool, Store: store, App: a, Projector: proj, API: srv,
			Logs: logs, Pipeline: pipeline, t: t})
	}
	hs.Start()
	t.Cleanup(func() {
		hs.Close()
		cancel()
		<-done
		workers.Wait()
	})
	return &Server{URL: hs.URL, Pool: pool, Store: store, App: a, Projector: proj, API: srv, Logs: logs, Pipeline: pipeline, t: t}
}

// heavyPool opens the second, small pool on pool's database, as serve
// does.
func heavyPool(pool *pgxpool.Pool, conns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(pool.Config().ConnString())
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 4
	if conns > 0 {
		cfg.MaxConns = conns
	}
	eventstore.ConfigurePool(cfg)
	return pgxpool.NewWithConfig(context.Background(), cfg)
}

// smallSendBuffers shrinks the send buffer of every accepted connection.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

// User is a caller with a token.
type User struct {
	Sub, Email, Name string
	Token            string
}

// NewUser makes a user with a unique id and email and a valid token.
func NewUser(t testing.TB, name string) User {
	t.Helper()
	id := uuid.NewString()[:8]
	// An email's local part is ASCII (domain.ParseEmail): "Zoé" is zo.….
	local := strings.Map(func(r rune) rune {
		if r >= utf8.RuneSelf {
			return -1
		}
		return unicode.ToLower(r)
	}, name)
	u := User{Sub: "user-" + id, Email: local + "." + id + "@example.com", Name: name}
	u.Token = Token(t, u.Sub, u.Email, u.Name)
	return u
}

// Token signs a token with the test secret; its email is verified.
func Token(t testing.TB, sub, email, name string, scopes ...string) string {
	t.Helper()
	verified := true
	return TokenOf(t, auth.TokenSpec{Subject: sub, Email: email, EmailVerified: &verified, Name: name, Scopes: scopes})
}

// TokenOf signs spec with the test secret (an hour when spec has no TTL),
// for tokens that say something else of their email.
func TokenOf(t testing.TB, spec auth.TokenSpec) string {
	t.Helper()
	if spec.TTL == 0 {
		spec.TTL = time.Hour
	}
	tok, err := auth.SignHS256([]byte(Secret), spec, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Response is an answer, read whole.
type Response struct {
	Status   int
	Header   http.Header
	Body     []byte
	Position int64
}

// JSON decodes the body into a generic map.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// Decode decodes the body into v.
func (r Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode answer: %v\n%s", err, r.Body)
	}
}

// Request describes one call.
type Request struct {
	Method, Path string
	Token        string
	Body         any // marshaled to JSON unless []byte or string
	Header       map[string]string
}

// Do sends a request and reads the answer.
func (s *Server) Do(t testing.TB, r Request) Response {
	t.Helper()
	var sent []byte
	switch b := r.Body.(type) {
	case nil:
	case []byte:
		sent = b
	case string:
		sent = []byte(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		sent = raw
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(sent)
	}
	req, err := http.NewRequest(r.Method, s.URL+r.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := loadContract(); err != nil {
		t.Fatal(err)
	} else if err := c.check(req, sent, resp, raw); err != nil {
		t.Errorf("contract violation: %s %s: %v\n%s", r.Method, r.Path, err, raw)
	}
	out := Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	if p := resp.Header.Get("X-Event-Position"); p != "" {
		out.Position, _ = strconv.ParseInt(p, 10, 64)
	}
	return out
}

// Expect fails the test unless the answer has the status (and, for a
// problem, the code).
func Expect(t testing.TB, r Response, status int, code ...string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d; want %d\n%s", r.Status, status, r.Body)
	}
	if len(code) > 0 {
		var p struct{ Code string }
		_ = json.Unmarshal(r.Body, &p)
		if p.Code != code[0] {
			t.Fatalf("problem code = %q; want %q\n%s", p.Code, code[0], r.Body)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			t.Fatalf("Content-Type = %q; want application/problem+json", ct)
		}
	}
}

// CreateOrganization creates an organization owned by u and returns its id
// and the answer's position.
func (s *Server) CreateOrganization(t testing.TB, u User, name, side string) (string, int64) {
	t.Helper()
	r := s.Do(t, Request{Method: "POST", Path: "/v1/organizations", Token: u.Token, Body: map[string]any{"name": name, "side": side}})
	Expect(t, r, http.StatusCreated)
	return r.JSON(t)["id"].(string), r.Position
}

// Get reads a query endpoint after position (read-your-writes).
func (s *Server) Get(t testing.TB, u User, path string, after int64) Response {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	if after > 0 {
		path += sep + "min_position=" + strconv.FormatInt(after, 10)
	}
	return s.Do(t, Request{Method: "GET", Path: path, Token: u.Token})
}
