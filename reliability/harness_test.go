//go:build reliability

// Package reliability_test does the damage for real: it builds the real
// `partners` binary, runs it as child processes against real PostgreSQL
// databases and a real SMTP server, drives it with concurrent clients, and
// then kills it, stops its database, or runs two replicas of it, before
// checking what the store, the read models and the mailbox say. These tests
// are slow and use signals and processes: they only build with the
// `reliability` tag and must run serially (-p 1). See RELIABILITY.md.
package reliability_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/api/auth"
	partners "partners/client"
	"partners/notify/mail/mailtest"
)

// The service under test is configured with these, never with the
// development defaults.
const (
	jwtSecret = "reliability-jwt-secret-0123456789-abcdefghijklmnop"
	dataKey   = "reliability-data-key-0123456789-abcdefghijklmnop"
	publicURL = "https://app.reliability.test"
)

// partnersBin is the binary built once by TestMain.
var partnersBin string

func TestMain(m *testing.M) {
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "partners-reliability-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		os.Exit(1)
	}
	partnersBin = filepath.Join(dir, "partners")
	start := time.Now()
	build := exec.Command("go", "build", "-o", partnersBin, "./cmd/partners")
	build.Dir = root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "reliability: go build ./cmd/partners:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "reliability: built %s in %s\n", partnersBin, time.Since(start).Round(time.Millisecond))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// moduleRoot walks up from the working directory to the go.mod of module
// partners.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("module partners")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of module partners above the working directory")
		}
		dir = parent
	}
}

// freePort finds a loopback port nobody listens on right now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// serviceEnv is the environment of a child `partners` process: the parent's
// environment without any PARTNERS_* variable, plus the test's. It is
// development, said explicitly (real keys, but a plain-text SMTP server on
// loopback, which production refuses), and each replica serves its metrics
// on its own address.
func serviceEnv(dbURL, addr, metricsAddr, smtpURL string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARTNERS_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"PARTNERS_ENV=development",
		"PARTNERS_DATABASE_URL="+dbURL,
		"PARTNERS_HTTP_ADDR="+addr,
		"PARTNERS_METRICS_ADDR="+metricsAddr,
		"PARTNERS_SMTP_URL="+smtpURL,
		"PARTNERS_JWT_SECRET="+jwtSecret,
		"PARTNERS_DATA_KEY="+dataKey,
		"PARTNERS_PUBLIC_URL="+publicURL,
		"PARTNERS_LOG_LEVEL=warn",
		// The shortest lease the service accepts: an email whose sender was
		// killed waits this long before another sender takes it over.
		"PARTNERS_MAIL_LEASE=40s",
		// The driver speaks from one address far faster than a person: the
		// limits would turn most of the load into 429s.
		"PARTNERS_RATE_LIMITS=off",
	)
}

// service is one `partners serve` child process, restartable on the same
// address. Its stderr (JSON logs) is appended to one file across restarts.
type service struct {
	name string
	env  []string
	Addr string
	URL  string
	// MetricsURL is its own metrics listener's /metrics.
	MetricsURL string
	logPath    string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

func newService(t *testing.T, name, dbURL, smtpURL string) *service {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	metricsAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	// The log outlives a failed test, for the post-mortem.
	dir, err := os.MkdirTemp("", "partners-reliability-log-")
	if err != nil {
		t.Fatal(err)
	}
	s := &service{name: name, env: serviceEnv(dbURL, addr, metricsAddr, smtpURL), Addr: addr, URL: "http://" + addr,
		MetricsURL: "http://" + metricsAddr + "/metrics",
		logPath:    filepath.Join(dir, name+".log")}
	t.Cleanup(func() {
		if t.Failed() {
			s.quit() // its goroutines' stacks go to the log
		}
		s.kill()
		if t.Failed() {
			t.Logf("%s: log kept in %s; last lines:\n%s", s.name, s.logPath, tail(s.logPath, 15))
			return
		}
		if os.Getenv("PARTNERS_RELIABILITY_KEEP_LOGS") != "" {
			t.Logf("%s: log kept in %s", s.name, s.logPath)
			return
		}
		_ = os.RemoveAll(dir)
	})
	return s
}

// Start starts the process (it must not be running).
func (s *service) Start(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		t.Fatalf("%s is already running", s.name)
	}
	f, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fmt.Fprintf(f, "=== start %d at %s\n", s.starts+1, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(partnersBin, "serve")
	cmd.Env, cmd.Stdout, cmd.Stderr = s.env, f, f
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", s.name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	s.starts++
}

// WaitReady polls /readyz until it answers 200 and reports how long it took.
func (s *service) WaitReady(t testing.TB, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	c, err := partners.NewClient(s.URL, partners.WithHTTPClient(&http.Client{Timeout: time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	for {
		s.mu.Lock()
		exited := s.exited
		s.mu.Unlock()
		select {
		case <-exited:
			t.Fatalf("%s exited before it was ready:\n%s", s.name, tail(s.logPath, 30))
		default:
		}
		if r, err := c.GetReadyz(context.Background()); err == nil {
			_, _ = io.Copy(io.Discard, r.Body)
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return time.Since(start)
			}
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s not ready after %s:\n%s", s.name, timeout, tail(s.logPath, 30))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (s *service) Kill(t testing.TB) {
	t.Helper()
	if !s.kill() {
		t.Fatalf("%s was not running", s.name)
	}
}

func (s *service) kill() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signal(syscall.SIGKILL, 0)
}

// quit sends SIGQUIT, on which the Go runtime writes every goroutine's
// stack to stderr (the log) and exits; it waits up to 10 s.
func (s *service) quit() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signal(syscall.SIGQUIT, 10*time.Second)
}

// Stop asks the process to shut down (SIGTERM) and waits for it.
func (s *service) Stop(t testing.TB) {
	t.Helper()
	if t.Failed() {
		s.quit() // keep the evidence: the stacks, not a clean exit
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil && !s.signal(syscall.SIGTERM, 30*time.Second) {
		t.Errorf("%s did not stop within 30 s of SIGTERM; killing it", s.name)
		s.signal(syscall.SIGKILL, 0)
	}
}

// signal sends sig to a running process and waits for it to exit, at most
// wait (0: as long as it takes); it reports whether a process was running
// and exited. The caller holds s.mu.
func (s *service) signal(sig syscall.Signal, wait time.Duration) bool {
	if s.cmd == nil {
		return false
	}
	_ = s.cmd.Process.Signal(sig)
	var timeout <-chan time.Time
	if wait > 0 {
		timeout = time.After(wait)
	}
	select {
	case <-s.exited:
		s.cmd, s.exited = nil, nil
		return true
	case <-timeout:
		return false
	}
}

// LogLines counts the log lines at a level ("ERROR", "WARN") and returns
// the most frequent messages (message and error, addresses and ids cut) with
// their counts.
func (s *service) LogLines(level string) (int, []string) {
	f, err := os.Open(s.logPath)
	if err != nil {
		return 0, nil
	}
	defer f.Close()
	n := 0
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l struct {
			Level, Msg, Err string
			Error           string `json:"error"` // watermill's key
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Level != level {
			continue
		}
		n++
		key := l.Msg + ": " + l.Err + l.Error
		if i := strings.Index(key, "127.0.0.1:"); i > 0 {
			key = key[:i] + "…"
		}
		if len(key) > 160 {
			key = key[:160] + "…"
		}
		counts[key]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return counts[keys[i]] > counts[keys[j]] })
	var msgs []string
	for _, k := range keys[:min(6, len(keys))] {
		msgs = append(msgs, fmt.Sprintf("%d× %s", counts[k], k))
	}
	return n, msgs
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// runVerify runs `partners verify` against the database and returns its
// output and error (non-nil on a non-zero exit).
func runVerify(t testing.TB, env []string) (string, time.Duration, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, partnersBin, "verify")
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	return out.String(), time.Since(start), err
}

// openPool opens a pool on the test database for the checks.
func openPool(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// ---- callers and the HTTP client ----

type user struct {
	Sub, Email, Name, Token string
}

func newUser(t testing.TB, name string, scopes ...string) user {
	t.Helper()
	id := uuid.NewString()[:12]
	u := user{Sub: "rel-" + id, Email: strings.ToLower(name) + "." + id + "@example.com", Name: name}
	verified := true
	tok, err := auth.SignHS256([]byte(jwtSecret), auth.TokenSpec{Subject: u.Sub, Email: u.Email, EmailVerified: &verified, Name: u.Name,
		Scopes: scopes, TTL: 2 * time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	u.Token = tok
	return u
}

// answer is one HTTP exchange: Err is set when no answer came (refused,
// reset, timeout): the command's outcome is then unknown to the caller.
type answer struct {
	Status int
	Header http.Header
	Body   []byte
	Pos    int64
	Err    error
}

func (a answer) ok() bool { return a.Err == nil && a.Status >= 200 && a.Status < 300 }

// code is the problem code of an error answer.
func (a answer) code() string {
	var p struct{ Code string }
	_ = json.Unmarshal(a.Body, &p)
	return p.Code
}

func (a answer) problem() bool {
	return strings.HasPrefix(a.Header.Get("Content-Type"), "application/problem+json")
}

func (a answer) field(k string) string {
	var m map[string]any
	_ = json.Unmarshal(a.Body, &m)
	s, _ := m[k].(string)
	return s
}

func (a answer) String() string {
	if a.Err != nil {
		return "no answer: " + a.Err.Error()
	}
	b := string(a.Body)
	if len(b) > 300 {
		b = b[:300] + "…"
	}
	return fmt.Sprintf("%d %s", a.Status, b)
}

var httpClient = &http.Client{
	Timeout:   15 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second},
}

// apis are the generated clients, one per service address: the tests call
// the API as the document describes it.
var apis sync.Map

func api(base string) *partners.Client {
	if c, ok := apis.Load(base); ok {
		return c.(*partners.Client)
	}
	c, err := partners.NewClient(base, partners.WithHTTPClient(httpClient))
	if err != nil {
		panic(err) // only a malformed base URL, which the harness builds
	}
	c2, _ := apis.LoadOrStore(base, c)
	return c2.(*partners.Client)
}

// send is one request made with the generated client.
type send func(ctx context.Context, c *partners.Client) (*http.Response, error)

// call sends one request to the service at base and reads its answer whole.
func call(base string, req send) answer {
	resp, err := req(context.Background(), api(base))
	if err != nil {
		return answer{Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		// The headers came but not the whole body: not an acknowledgement.
		return answer{Err: fmt.Errorf("reading the answer: %w", err)}
	}
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: raw, Pos: partners.Position(resp)}
}

// id reads an id from an answer; a broken one names nothing (404).
func id(s string) uuid.UUID {
	u, _ := uuid.Parse(s)
	return u
}

func createOrg(token, name, side string) send {
	return func(ctx context.Context, c *partners.Client) (*http.Response, error) {
		return c.PostV1Organizations(ctx, nil, partners.PostV1OrganizationsJSONRequestBody{Name: name, Side: partners.PostV1OrganizationsJSONBodySide(side)},
			partners.Bearer(token))
	}
}

func createOrgWithSiret(token, name, siret string) send {
	return func(ctx context.Context, c *partners.Client) (*http.Response, error) {
		return c.PostV1Organizations(ctx, nil, partners.PostV1OrganizationsJSONRequestBody{Name: name, Side: partners.PostV1OrganizationsJSONBodySideClient, Siret: &siret},
			partners.Bearer(token))
	}
}

func invite(token, org string, body partners.PostV1OrganizationsOrgInvitationsJSONRequestBody) send {
	return func(ctx context.Context, c *partners.Client) (*http.Response, error) {
		return c.PostV1OrganizationsOrgInvitations(ctx, id(org), nil, body, partners.Bearer(token))
	}
}

func acceptInvitation(token, inv, org string) send {
	return func(ctx context.Context, c *partners.Client) (*http.Response, error) {
		return c.PostV1InvitationsIdAccept(ctx, id(inv), nil, partners.PostV1InvitationsIdAcceptJSONRequestBody{OrganizationId: id(org)}, partners.Bearer(token))
	}
}

func claimInvitation(token, invitationToken, org string) send {
	return func(ctx context.Context, c *partners.Client) (*http.Response, error) {
		return c.PostV1InvitationsClaim(ctx, nil, partners.PostV1InvitationsClaimJSONRequestBody{Token: invitationToken, OrganizationId: id(org)}, partners.Bearer(token))
	}
}

func getReadyz(ctx context.Context, c *partners.Client) (*http.Response, error) {
	return c.GetReadyz(ctx)
}
func getHealthz(ctx context.Context, c *partners.Client) (*http.Response, error) {
	return c.GetHealthz(ctx)
}

// ---- the load driver ----

// ack is a command that got a 2xx answer: its events must be in the store.
type ack struct {
	Kind string // org, invite, resend, claim, accept, decline, revoke
	ID   string // the organization or invitation
	Pos  int64  // X-Event-Position
}

// driver runs partner-invitation stories against one or more replicas and
// records every answer. Each story uses fresh users and organizations; a
// story stops at the first answer that is not a 2xx (its outcome may be
// unknown), and the next one starts.
type driver struct {
	t       testing.TB
	targets []string
	next    atomic.Uint64 // round robin over targets

	mu         sync.Mutex
	acks       []ack
	counts     map[string]int // "kind status" and "kind no-answer"
	unexpected []string       // answers no fault explains
	wrongReads []string       // reads that contradict an acknowledged write
	stories    int
	finished   int
	// allowed lists the non-2xx problem codes the fault may cause, alone
	// ("unavailable") or for one kind of call ("read projection_behind").
	allowed map[string]bool
}

func newDriver(t testing.TB, targets ...string) *driver {
	return &driver{t: t, targets: targets, counts: map[string]int{}, allowed: map[string]bool{}}
}

func (d *driver) target() string {
	return d.targets[int(d.next.Add(1))%len(d.targets)]
}

// Run runs workers until ctx ends or maxStories stories have started.
func (d *driver) Run(ctx context.Context, workers, maxStories int) {
	var wg sync.WaitGroup
	var started atomic.Int64
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := started.Add(1)
				if int(i) > maxStories {
					return
				}
				if d.story(ctx, int(i)) {
					d.mu.Lock()
					d.finished++
					d.mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	d.mu.Lock()
	d.stories = int(min(started.Load(), int64(maxStories)))
	d.mu.Unlock()
}

// do sends one command or query and records its answer; it reports whether
// the story may go on.
//
// ctx only says when to stop sending: a request already sent runs to its
// end (a client that hangs up mid-command is another fault, not this one).
func (d *driver) do(ctx context.Context, kind string, req send) (answer, bool) {
	if ctx.Err() != nil {
		return answer{Err: ctx.Err()}, false
	}
	a := call(d.target(), req)
	return a, d.record(kind, a)
}

// record counts an answer, keeps it when no fault explains it, and reports
// whether the story may go on.
func (d *driver) record(kind string, a answer) bool {
	if a.Err != nil || a.Status >= 500 {
		time.Sleep(20 * time.Millisecond) // the service or its database is down: do not spin
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case a.Err != nil:
		d.counts[kind+" no-answer"]++
	case a.ok():
		d.counts[kind+" "+strconv.Itoa(a.Status)]++
	default:
		d.counts[kind+" "+strconv.Itoa(a.Status)+" "+a.code()]++
		allowed := d.allowed[a.code()] || d.allowed[kind+" "+a.code()]
		if !(allowed && a.problem()) && len(d.unexpected) < 50 {
			d.unexpected = append(d.unexpected, kind+": "+a.String())
		}
	}
	return a.ok()
}

func (d *driver) acked(kind, id string, a answer) {
	d.mu.Lock()
	d.acks = append(d.acks, ack{Kind: kind, ID: id, Pos: a.Pos})
	d.mu.Unlock()
}

// story is one invitation's life between a client and a subcontractor, in
// one of five shapes. It reports whether it ran to its end.
func (d *driver) story(ctx context.Context, i int) bool {
	client, sub := newUser(d.t, "Client"), newUser(d.t, "Sous")
	a, ok := d.do(ctx, "org", createOrg(client.Token, fmt.Sprintf("Client %d", i), "client"))
	if !ok {
		return false
	}
	clientOrg := a.field("id")
	d.acked("org", clientOrg, a)
	a, ok = d.do(ctx, "org", createOrg(sub.Token, fmt.Sprintf("Sous-traitant %d", i), "subcontractor"))
	if !ok {
		return false
	}
	subOrg := a.field("id")
	d.acked("org", subOrg, a)

	shape := i % 5
	email := sub.Email
	if shape == 1 || shape == 4 {
		email = "autre." + sub.Sub + "@example.org" // signed up with another email
	}
	message, locale := fmt.Sprintf("Bonjour %d", i), partners.PostV1OrganizationsOrgInvitationsJSONBodyLocale([]string{"fr", "en", "de"}[i%3])
	a, ok = d.do(ctx, "invite", invite(client.Token, clientOrg,
		partners.PostV1OrganizationsOrgInvitationsJSONRequestBody{Email: email, Message: &message, Locale: &locale}))
	if !ok {
		return false
	}
	inv, token := a.field("id"), a.field("token")
	d.acked("invite", inv, a)
	switch shape {
	case 0, 1, 2:
		if shape == 2 {
			if a, ok = d.do(ctx, "resend", func(ctx context.Context, c *partners.Client) (*http.Response, error) {
				return c.PostV1InvitationsIdResend(ctx, id(inv), nil, partners.PostV1InvitationsIdResendJSONRequestBody{}, partners.Bearer(client.Token))
			}); !ok {
				return false
			}
			d.acked("resend", inv, a)
		}
		if shape == 1 {
			if a, ok = d.do(ctx, "claim", claimInvitation(sub.Token, token, subOrg)); !ok {
				return false
			}
			d.acked("claim", inv, a)
		}
		if a, ok = d.do(ctx, "accept", acceptInvitation(sub.Token, inv, subOrg)); !ok {
			return false
		}
		d.acked("accept", inv, a)
		// Read your write, possibly through the other replica: the client's
		// panel must show the subcontractor.
		// A read model may lag past the 5 s a read waits; the answer then
		// is 503 projection_behind with Retry-After, and a client tries
		// again: three tries (15 s) before it counts as unexpected.
		minPos := int(a.Pos)
		read := func(ctx context.Context, c *partners.Client) (*http.Response, error) {
			return c.GetV1OrganizationsOrgPartners(ctx, id(clientOrg), &partners.GetV1OrganizationsOrgPartnersParams{MinPosition: &minPos}, partners.Bearer(client.Token))
		}
		var r answer
		for try := 1; ; try++ {
			r = call(d.target(), read)
			if try == 3 || r.Err != nil || r.Status != 503 || r.code() != "projection_behind" || ctx.Err() != nil {
				break
			}
			d.mu.Lock()
			d.counts["read 503 projection_behind (tried again)"]++
			d.mu.Unlock()
			time.Sleep(time.Second)
		}
		if !d.record("read", r) {
			return false
		}
		var panel struct {
			Items []struct {
				OrganizationID string `json:"organization_id"`
				InvitationID   string `json:"invitation_id"`
			}
		}
		_ = json.Unmarshal(r.Body, &panel)
		if len(panel.Items) != 1 || panel.Items[0].OrganizationID != subOrg || panel.Items[0].InvitationID != inv {
			d.mu.Lock()
			d.wrongReads = append(d.wrongReads, fmt.Sprintf("panel of %s after accept at %d: %s", clientOrg, a.Pos, r.Body))
			d.mu.Unlock()
		}
	case 3:
		if a, ok = d.do(ctx, "decline", func(ctx context.Context, c *partners.Client) (*http.Response, error) {
			return c.PostV1InvitationsIdDecline(ctx, id(inv), nil, partners.PostV1InvitationsIdDeclineJSONRequestBody{OrganizationId: id(subOrg)}, partners.Bearer(sub.Token))
		}); !ok {
			return false
		}
		d.acked("decline", inv, a)
	case 4:
		if a, ok = d.do(ctx, "revoke", func(ctx context.Context, c *partners.Client) (*http.Response, error) {
			return c.PostV1InvitationsIdRevoke(ctx, id(inv), nil, partners.PostV1InvitationsIdRevokeJSONRequestBody{}, partners.Bearer(client.Token))
		}); !ok {
			return false
		}
		d.acked("revoke", inv, a)
	}
	return true
}

// Summary is the driver's figures, for the log and RELIABILITY.md.
func (d *driver) Summary() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	keys := make([]string, 0, len(d.counts))
	for k := range d.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "stories started %d, finished %d; commands acknowledged %d; answers:", d.stories, d.finished, len(d.acks))
	for _, k := range keys {
		fmt.Fprintf(&b, " [%s]=%d", k, d.counts[k])
	}
	return b.String()
}

func (d *driver) Acks() []ack {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]ack(nil), d.acks...)
}

// Check fails the test on answers and reads no fault explains.
func (d *driver) Check(t testing.TB) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, u := range d.unexpected {
		t.Errorf("unexpected answer: %s", u)
	}
	for _, w := range d.wrongReads {
		t.Errorf("read contradicts an acknowledged write: %s", w)
	}
}

// ---- what the store says ----

// storeFacts is the events table, summarized.
type storeFacts struct {
	Events    int
	ByType    map[string]int
	streams   map[string]map[string]int // stream -> event type -> count
	positions map[int64]string          // position -> stream
}

func loadStore(t testing.TB, pool *pgxpool.Pool) storeFacts {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT position, stream_id, event_type FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	f := storeFacts{ByType: map[string]int{}, streams: map[string]map[string]int{}, positions: map[int64]string{}}
	for rows.Next() {
		var pos int64
		var stream, typ string
		if err := rows.Scan(&pos, &stream, &typ); err != nil {
			t.Fatal(err)
		}
		f.Events++
		f.ByType[typ]++
		if f.streams[stream] == nil {
			f.streams[stream] = map[string]int{}
		}
		f.streams[stream][typ]++
		f.positions[pos] = stream
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return f
}

var ackEvent = map[string]string{
	"org": "OrganizationCreated", "invite": "InvitationSent", "resend": "InvitationResent", "claim": "InvitationClaimed",
	"accept": "InvitationAccepted", "decline": "InvitationDeclined", "revoke": "InvitationRevoked",
}

// checkAcked fails the test for each acknowledged command whose events are
// not in the store: the event its kind appends must be on its stream (as
// many times as it was acknowledged), and the answer's X-Event-Position
// must be an event of that stream (or, for an accept, of the partnership).
func checkAcked(t testing.TB, acks []ack, f storeFacts) {
	t.Helper()
	want := map[[2]string]int{}
	missing := 0
	for _, a := range acks {
		stream := "invitation-" + a.ID
		if a.Kind == "org" {
			stream = "organization-" + a.ID
		}
		want[[2]string{stream, ackEvent[a.Kind]}]++
		at, ok := f.positions[a.Pos]
		if !ok || (at != stream && !(a.Kind == "accept" && strings.HasPrefix(at, "partnership-"))) {
			missing++
			if missing <= 20 {
				t.Errorf("acknowledged %s of %s answered X-Event-Position %d, but the store has %q there", a.Kind, a.ID, a.Pos, at)
			}
		}
	}
	for k, n := range want {
		if got := f.streams[k[0]][k[1]]; got < n {
			missing++
			if missing <= 40 {
				t.Errorf("%s has %d %s event(s); %d command(s) were acknowledged", k[0], got, k[1], n)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d acknowledged command(s) have no events in the store", missing)
	}
}

// ---- what the mailbox says ----

type mailFacts struct {
	Due        int // events that ask for one email each: invitations, resends, the sender's notices
	Queued     int // mail_queue rows
	Sent       int // rows marked sent
	Dropped    int
	Unsent     int
	Received   int // messages the SMTP server accepted
	Distinct   int // distinct Message-IDs among them
	Duplicates int // Received - Distinct
	Attempts   int // sum of attempts over the queue
	Retried    int // emails that took more than one attempt
	// LeaseWait is how long the wait saw nothing left but leased emails:
	// the leases of killed senders running out.
	LeaseWait time.Duration
	Stuck     []string // unsent emails, with their queue state
	Missing   []string // queued Message-IDs never received
	Strangers []string // received Message-IDs not in the queue
	Waited    time.Duration
}

func (m mailFacts) String() string {
	return fmt.Sprintf("emails due %d, queued %d, marked sent %d, dropped %d, unsent %d; SMTP received %d (distinct Message-IDs %d, duplicates %d); send attempts %d (emails retried %d); waited %s (of which %s for expired leases)",
		m.Due, m.Queued, m.Sent, m.Dropped, m.Unsent, m.Received, m.Distinct, m.Duplicates, m.Attempts, m.Retried,
		m.Waited.Round(time.Millisecond), m.LeaseWait.Round(time.Millisecond))
}

// waitMail waits until every due email is queued and sent or dropped, and
// the SMTP server holds each of them. An email leased by a sender that was
// killed waits for its lease to run out, so the deadline is extended to the
// latest running lease (plus margin) when that is later. It returns the
// figures.
func waitMail(t testing.TB, pool *pgxpool.Pool, srv *mailtest.Server, timeout time.Duration) mailFacts {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	deadline := start.Add(timeout)
	var stalled time.Duration
	for {
		var m mailFacts
		var leasedUnsent int
		var maxLease *time.Time
		err := pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM events WHERE event_type IN ('InvitationSent', 'InvitationResent', 'InvitationClaimNoticeSent', 'InvitationAnswerNoticeSent')),
			count(*), count(sent_at), count(dropped_at), count(*) FILTER (WHERE sent_at IS NULL AND dropped_at IS NULL),
			coalesce(sum(attempts), 0), count(*) FILTER (WHERE attempts > 1),
			count(*) FILTER (WHERE sent_at IS NULL AND dropped_at IS NULL AND leased_until > now()),
			max(leased_until) FILTER (WHERE sent_at IS NULL AND dropped_at IS NULL AND leased_until > now())
			FROM mail_queue`).Scan(&m.Due, &m.Queued, &m.Sent, &m.Dropped, &m.Unsent, &m.Attempts, &m.Retried, &leasedUnsent, &maxLease)
		if err != nil {
			t.Fatal(err)
		}
		if maxLease != nil {
			if d := time.Until(*maxLease) + 30*time.Second; time.Now().Add(d).After(deadline) {
				deadline = time.Now().Add(d)
			}
		}
		msgs := srv.Messages()
		ids := map[string]int{}
		for _, msg := range msgs {
			ids[msg.MessageID]++
		}
		m.Received, m.Distinct = len(msgs), len(ids)
		m.Duplicates = m.Received - m.Distinct
		done := m.Queued == m.Due && m.Unsent == 0 && m.Distinct >= m.Sent
		if done || time.Now().After(deadline) {
			rows, err := pool.Query(ctx, `SELECT message_id FROM mail_queue WHERE sent_at IS NOT NULL`)
			if err != nil {
				t.Fatal(err)
			}
			queued := map[string]bool{}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				queued[id] = true
				if ids[id] == 0 {
					m.Missing = append(m.Missing, id)
				}
			}
			rows.Close()
			for id := range ids {
				if !queued[id] {
					m.Strangers = append(m.Strangers, id)
				}
			}
			if m.Unsent > 0 {
				m.Stuck = stuckMail(t, pool)
			}
			m.Waited, m.LeaseWait = time.Since(start), stalled
			return m
		}
		const poll = 100 * time.Millisecond
		if m.Unsent > 0 && m.Unsent == leasedUnsent {
			stalled += poll // everything left is leased: waiting on leases
		}
		time.Sleep(poll)
	}
}

// stuckMail describes up to 10 unsent emails.
func stuckMail(t testing.TB, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT message_id, attempts, coalesce(leased_until::text, '-'),
		next_attempt_at::text, coalesce(last_error, ''), now()::text FROM mail_queue
		WHERE sent_at IS NULL AND dropped_at IS NULL ORDER BY queued_at LIMIT 10`)
	if err != nil {
		return []string{err.Error()}
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, leased, next, lastErr, now string
		var attempts int
		if err := rows.Scan(&id, &attempts, &leased, &next, &lastErr, &now); err != nil {
			return append(out, err.Error())
		}
		out = append(out, fmt.Sprintf("%s attempts %d leased until %s next attempt %s (now %s) last error %q", id, attempts, leased, next, now, lastErr))
	}
	return out
}

// checkMail fails the test unless every due email was queued, sent and
// received, with at most maxDuplicates duplicates.
func checkMail(t testing.TB, m mailFacts, maxDuplicates int) {
	t.Helper()
	if m.Queued != m.Due {
		t.Errorf("mail_queue holds %d emails; %d events ask for one", m.Queued, m.Due)
	}
	if m.Unsent != 0 || m.Dropped != 0 {
		t.Errorf("%d email(s) still unsent and %d dropped; want all sent; unsent: %s", m.Unsent, m.Dropped, strings.Join(m.Stuck, "; "))
	}
	if m.Distinct != m.Due {
		t.Errorf("SMTP received %d distinct Message-IDs; %d emails were due", m.Distinct, m.Due)
	}
	if len(m.Missing) > 0 {
		t.Errorf("%d email(s) marked sent never reached SMTP, e.g. %v", len(m.Missing), m.Missing[:min(5, len(m.Missing))])
	}
	if len(m.Strangers) > 0 {
		t.Errorf("SMTP received %d Message-ID(s) the queue does not know, e.g. %v", len(m.Strangers), m.Strangers[:min(5, len(m.Strangers))])
	}
	if m.Duplicates > maxDuplicates {
		t.Errorf("%d duplicate email(s); at most %d allowed", m.Duplicates, maxDuplicates)
	}
}

// waitCaughtUp waits until every read model has applied everything (the
// admin API's lag is 0) and reports how long it took.
func waitCaughtUp(t testing.TB, base string, timeout time.Duration) time.Duration {
	t.Helper()
	admin := newUser(t, "Ops", "partners:admin")
	start := time.Now()
	var last answer
	for time.Since(start) < timeout {
		last = call(base, func(ctx context.Context, c *partners.Client) (*http.Response, error) {
			return c.GetV1AdminProjections(ctx, nil, partners.Bearer(admin.Token))
		})
		if last.ok() {
			var l struct {
				Items []struct {
					Name      string
					LagEvents int64 `json:"lag_events"`
					State     string
				}
			}
			_ = json.Unmarshal(last.Body, &l)
			behind := false
			for _, it := range l.Items {
				if it.LagEvents != 0 || it.State != "live" {
					behind = true
				}
			}
			if !behind && len(l.Items) > 0 {
				return time.Since(start)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("read models not caught up after %s: %s", timeout, last)
	return 0
}

// jitter is d ± 25 %.
func jitter(d time.Duration) time.Duration {
	return d*3/4 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// diagnose logs what explains a difference between the read models and a
// replay: where each read model's checkpoint stands, and the events table's
// order by transaction id and by position.
func diagnose(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	// Events without their outbox row, and where each event stands in the
	// outbox: a reader that skipped one shows here.
	if rows, err := pool.Query(ctx, `SELECT e.position, e.transaction_id::text, e.event_type, e.recorded_at,
			coalesce(w."offset", -1), coalesce(w.transaction_id::text, '-')
		  FROM events e LEFT JOIN watermill_events w ON w.uuid = e.event_id::text
		 WHERE w."offset" IS NULL OR e.event_type IN ('InvitationDeclined', 'InvitationAccepted')
		 ORDER BY e.transaction_id, e.position LIMIT 60`); err == nil {
		for rows.Next() {
			var pos, off int64
			var tx, typ, wtx string
			var at time.Time
			if rows.Scan(&pos, &tx, &typ, &at, &off, &wtx) == nil {
				t.Logf("event %d tx %s %s at %s: outbox offset %d tx %s", pos, tx, typ, at.Format("15:04:05.000000"), off, wtx)
			}
		}
		rows.Close()
	}
	rows, err := pool.Query(ctx, `SELECT name, transaction_id::text, outbox_offset, position FROM projection_checkpoints ORDER BY name`)
	if err == nil {
		for rows.Next() {
			var name, tx string
			var off, pos int64
			if rows.Scan(&name, &tx, &off, &pos) == nil {
				t.Logf("checkpoint %s: transaction %s, outbox offset %d, position %d", name, tx, off, pos)
			}
		}
		rows.Close()
	}
	var n int64
	var minTx, maxTx string
	var minPos, maxPos int64
	if err := pool.QueryRow(ctx, `SELECT count(*), min(e.transaction_id)::text, max(e.transaction_id)::text, min(e.position), max(e.position)
		FROM events e`).Scan(&n, &minTx, &maxTx, &minPos, &maxPos); err == nil {
		t.Logf("events: %d, transactions %s..%s, positions %d..%d", n, minTx, maxTx, minPos, maxPos)
	} else {
		t.Logf("diagnose: %v", err)
	}
	if len(minTx) != len(maxTx) {
		t.Logf("hint: the events' transaction ids run from %s to %s, across a power of ten: a query that selects "+
			"transaction_id::text and says ORDER BY transaction_id sorts by the text (PostgreSQL resolves a bare ORDER BY name "+
			"to the output column first), so a LIMITed batch skips the events whose ids sort after it as text", minTx, maxTx)
	}
	// Ordered by the xid8 column itself (a bare "transaction_id" in ORDER
	// BY would name the text output column and sort as text).
	rows, err = pool.Query(ctx, `SELECT e.transaction_id::text AS tx, min(e.position), max(e.position), count(*), min(e.recorded_at)
		FROM events e GROUP BY e.transaction_id ORDER BY e.transaction_id LIMIT 5`)
	if err == nil {
		for rows.Next() {
			var tx string
			var lo, hi, c int64
			var at time.Time
			if rows.Scan(&tx, &lo, &hi, &c, &at) == nil {
				t.Logf("first transactions in log order: %s positions %d..%d (%d events) at %s", tx, lo, hi, c, at.Format(time.RFC3339Nano))
			}
		}
		rows.Close()
	}
}

// verify runs `partners verify` against the service's database (the
// service may be running: verify takes the live projector's lock to
// compare) and fails the test on any difference.
func verify(t testing.TB, svc *service, pool *pgxpool.Pool) {
	t.Helper()
	out, took, err := runVerify(t, svc.env)
	if err != nil {
		if len(out) > 6000 {
			out = out[:6000] + "\n…"
		}
		t.Errorf("partners verify: %v\n%s", err, out)
		diagnose(t, pool)
		return
	}
	t.Logf("partners verify: exit 0 in %s", took.Round(time.Millisecond))
}
