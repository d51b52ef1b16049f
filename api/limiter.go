package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"

	"partners/eventstore"
)

// Limiter is the API's rate limits, email budgets and heavy-read gate for
// the commands and reads that do not come through its routes (the web's
// forms): they count against the same counters, so neither door adds to
// the other's allowance.
type Limiter struct{ s *Server }

// Limiter is the server's limiter.
func (s *Server) Limiter() *Limiter { return &Limiter{s: s} }

// Refusal is a limit reached: Status is 429 (a limit) or 503 (busy), and
// RetryAfter says when to try again.
type Refusal struct {
	Status     int
	RetryAfter time.Duration
	Detail     string
}

func (r *Refusal) Error() string { return r.Detail }

// Admit checks a command of class ("invite", "create", "share") of user
// (or, anonymous, of the address ip) acting for org and sending mails
// emails, as the API's rate limit and command frame do: it counts the
// caller's request and reads the organization's counters; spend counts the
// command against them once it ran. A *Refusal when beyond a limit.
func (l *Limiter) Admit(ctx context.Context, class, user, ip string, org uuid.UUID, mails int) (spend func(), err error) {
	s := l.s
	if s.cfg.Limits.Off {
		return func() {}, nil
	}
	addr := ""
	if user == "" {
		addr = addressKey(ip)
	}
	over, retry, err := s.overLimit(ctx, class, user, addr, uuid.Nil, s.cfg.Limits.of(class), true)
	if err != nil {
		return nil, err
	}
	if over {
		return nil, &Refusal{Status: http.StatusTooManyRequests, RetryAfter: retry, Detail: "Too many requests of this kind. Wait a minute and try again."}
	}
	if org == uuid.Nil {
		return func() {}, nil
	}
	a, retry, detail, err := s.admitOrg(ctx, class, org, mails)
	if err != nil {
		return nil, err
	}
	if detail != "" {
		return nil, &Refusal{Status: http.StatusTooManyRequests, RetryAfter: retry, Detail: detail}
	}
	return func() { s.spend(ctx, a) }, nil
}

// Heavy admits a long read (an audit export, an as-of replay) of user on
// org, as the API's: within the user's and the organization's bounds, on
// a connection of the heavy pool, whose store the read must use. done must
// be called when the read ends. A *Refusal when beyond a bound (429) or
// when no connection frees up in time (503).
func (l *Limiter) Heavy(ctx context.Context, user string, org uuid.UUID) (store *eventstore.Store, done func(), err error) {
	done, err = l.s.enterHeavy(ctx, user, org)
	var ee *edgeError
	switch {
	case errors.Is(err, errAtOnce):
		return nil, nil, &Refusal{Status: http.StatusTooManyRequests, RetryAfter: time.Second,
			Detail: "Too many exports or replays of yours or your organization's are running. Wait for one to end and try again."}
	case errors.As(err, &ee) && ee.code == codeBusy:
		return nil, nil, &Refusal{Status: http.StatusServiceUnavailable, RetryAfter: busyRetryAfter * time.Second, Detail: ee.detail}
	case err != nil:
		return nil, nil, err
	}
	return l.s.heavy.store, done, nil
}
