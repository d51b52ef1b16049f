package pgtest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/eventstore"
)

// Trace records what a pool sends to the server, for tests that count
// round trips or look for a statement: each query and each batch is one
// round trip (a batch's statements are pipelined). It also keeps the
// SQLSTATEs the server answered with.
type Trace struct {
	mu      sync.Mutex
	queries int
	batches int
	sent    []Sent
	failed  []string
}

// Sent is one statement a traced pool sent.
type Sent struct {
	SQL     string
	Args    []any
	Batched bool
}

// Recorded is what a Trace saw since its last Reset.
type Recorded struct {
	Queries, Batches int
	Sent             []Sent
	Failed           []string // SQLSTATEs
}

// Trips is the round trips: queries and batches.
func (r Recorded) Trips() int { return r.Queries + r.Batches }

// Count is how many statements sent match.
func (r Recorded) Count(match func(Sent) bool) int {
	n := 0
	for _, s := range r.Sent {
		if match(s) {
			n++
		}
	}
	return n
}

// Reset answers what the trace saw and starts it again empty.
func (t *Trace) Reset() Recorded {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := Recorded{Queries: t.queries, Batches: t.batches, Sent: t.sent, Failed: t.failed}
	t.queries, t.batches, t.sent, t.failed = 0, 0, nil, nil
	return r
}

// Seen answers what the trace saw since its last Reset, keeping it.
func (t *Trace) Seen() Recorded {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Recorded{Queries: t.queries, Batches: t.batches, Sent: append([]Sent(nil), t.sent...), Failed: append([]string(nil), t.failed...)}
}

func (t *Trace) record(s Sent, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.SQL != "" {
		t.sent = append(t.sent, s)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		t.failed = append(t.failed, pgErr.Code)
	}
}

func (t *Trace) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	t.mu.Lock()
	t.queries++
	t.mu.Unlock()
	t.record(Sent{SQL: d.SQL, Args: d.Args}, nil)
	return ctx
}

func (t *Trace) TraceQueryEnd(_ context.Context, _ *pgx.Conn, d pgx.TraceQueryEndData) {
	t.record(Sent{}, d.Err)
}

func (t *Trace) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	t.mu.Lock()
	t.batches++
	t.mu.Unlock()
	return ctx
}

func (t *Trace) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	t.record(Sent{SQL: d.SQL, Args: d.Args, Batched: true}, d.Err)
}

func (t *Trace) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// TracedPool is a pool of its own on the package database, configured as
// the service's (eventstore.ConfigurePool), with everything it sends traced.
func TracedPool(t testing.TB) (*pgxpool.Pool, *Trace) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(URL(t))
	if err != nil {
		t.Fatal(err)
	}
	eventstore.ConfigurePool(cfg)
	trace := &Trace{}
	cfg.ConnConfig.Tracer = trace
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, trace
}
