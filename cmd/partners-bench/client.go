package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"partners/api/auth"
	partners "partners/client"
)

// user is someone the harness acts as: a token for a unique subject and
// verified email.
type user struct {
	Sub, Email, Name string
	Token            string
}

// minter signs tokens the way `partners token` does (HS256, the configured
// secret).
type minter struct {
	secret []byte
	run    string // makes subjects and emails unique across runs
	seq    atomic.Int64
}

func (m *minter) newUser(kind string) (*user, error) {
	n := m.seq.Add(1)
	sub := fmt.Sprintf("bench-%s-%s-%d", m.run, kind, n)
	u := &user{Sub: sub, Email: sub + "@bench.example", Name: "Bench " + kind + " " + strconv.FormatInt(n, 10)}
	return u, m.sign(u, false)
}

func (m *minter) sign(u *user, admin bool) error {
	verified := true
	spec := auth.TokenSpec{Subject: u.Sub, Email: u.Email, EmailVerified: &verified, Name: u.Name, TTL: 6 * time.Hour}
	if admin {
		spec.Scopes = []string{auth.ScopeAdmin}
	}
	t, err := auth.SignHS256(m.secret, spec, time.Now())
	u.Token = t
	return err
}

// errSkip marks a scenario whose endpoint the service does not have yet
// (404 route_not_found or 405): the harness stops running it and says so.
type errSkip struct{ endpoint string }

func (e *errSkip) Error() string { return "not available: " + e.endpoint }

// errStatus is an answer the scenario did not expect.
type errStatus struct {
	endpoint string
	status   int
	code     string
}

func (e *errStatus) Error() string {
	return fmt.Sprintf("%s answered %d %s", e.endpoint, e.status, e.code)
}

// client is one simulated client: its own connection, measurements and
// random source. Clients share nothing on the hot path.
type client struct {
	id   int
	base string
	http *http.Client
	rec  *recorder
	rng  *rand.Rand
	m    *minter
	// onCommit is told of every command's position and the instant its
	// answer arrived (projection lag tracking).
	onCommit func(pos int64, at time.Time)
	// reads turns the query steps of scenarios on (off: commands only).
	reads bool

	lastPos int64
	world   *world
}

// response is what a call returns to a scenario.
type response struct {
	status   int
	position int64
	body     []byte
}

func (r *response) decode(v any) error { return json.Unmarshal(r.body, v) }

// request builds one request with the generated client (partners.NewX
// Request) against the service at server: the harness sends what the
// document describes.
type request func(server string) (*http.Request, error)

// call sends one request, records its latency under endpoint (method and
// route template), and checks the status against want (any 2xx when want is
// empty). The latency is the exchange's alone: the request is built first.
func (c *client) call(ctx context.Context, endpoint string, u *user, build request, want ...int) (*response, error) {
	req, err := build(c.base)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", endpoint, err)
	}
	req = req.WithContext(ctx)
	if u != nil {
		req.Header.Set("Authorization", "Bearer "+u.Token)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c.rec.add(endpoint, 0, start, time.Since(start))
		return nil, fmt.Errorf("%s: %w", endpoint, err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	elapsed := time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c.rec.add(endpoint, 0, start, elapsed)
		return nil, fmt.Errorf("%s: %w", endpoint, err)
	}
	out := &response{status: resp.StatusCode, body: raw, position: partners.Position(resp)}
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
		var prob struct {
			Code string `json:"code"`
		}
		_ = json.Unmarshal(raw, &prob)
		if prob.Code == "route_not_found" || prob.Code == "method_not_allowed" {
			return out, &errSkip{endpoint: endpoint}
		}
	}
	c.rec.add(endpoint, resp.StatusCode, start, elapsed)
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if len(want) > 0 {
		ok = false
		for _, w := range want {
			ok = ok || w == resp.StatusCode
		}
	}
	if !ok {
		var prob struct {
			Code string `json:"code"`
		}
		_ = json.Unmarshal(raw, &prob)
		return out, &errStatus{endpoint: endpoint, status: resp.StatusCode, code: prob.Code}
	}
	if isCommand(endpoint) && out.position > 0 && resp.StatusCode < 300 {
		c.lastPos = max(c.lastPos, out.position)
		if c.onCommit != nil {
			c.onCommit(out.position, time.Now())
		}
	}
	return out, nil
}

// get is a query; min_position (when minPos > 0) makes it wait for the
// caller's own write.
func (c *client) get(ctx context.Context, endpoint string, u *user, minPos int64, build func(minPosition *int) request) (*response, error) {
	var mp *int
	if minPos > 0 {
		n := int(minPos)
		mp = &n
	}
	return c.call(ctx, endpoint, u, build(mp), http.StatusOK)
}

// id reads an id the service answered; a broken one names nothing (404).
func id(s string) uuid.UUID {
	u, _ := uuid.Parse(s)
	return u
}

// newHTTPClient keeps one idle connection per client and never follows a
// redirect off the service.
func newHTTPClient(clients int) *http.Client {
	tr := &http.Transport{
		MaxIdleConns:        2 * clients,
		MaxIdleConnsPerHost: 2 * clients,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return errors.New("no redirects") }}
}
