package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/domain"
	"partners/eventstore"
)

// The SQL ceiling: what this PostgreSQL does, with the same client count,
// when each command is only the SQL of its read and its append, sent by
// plain pgx: read one stream, then the event store's own insert statement
// (with its constraints, indexes, trigger, organization index and outbox
// row) in one pipelined round trip, as the event store sends it. It runs in a
// scratch database of the same schema on the same server, so it pollutes
// nothing, and it is interleaved with the service's rounds so both see the
// same machine.

// readStreamSQL is the event store's read of a whole stream.
const readStreamSQL = `SELECT ` + eventstore.EnvelopeColumns + ` FROM events WHERE stream_id = $1 ORDER BY stream_version`

// ceilingDB is the scratch database of the ceiling, seeded once.
type ceilingDB struct {
	db      *scratchDB
	pool    *pgxpool.Pool
	streams []string // organization streams to read
	orgs    []uuid.UUID
	data    string // a real sealed InvitationSent payload
	meta    string // and its sealed metadata
	people  string // its person refs, as a text[] literal
}

func newCeilingDB(ctx context.Context, serverURL string, clients, orgs int) (*ceilingDB, error) {
	db, err := createScratch(ctx, serverURL, "ceiling")
	if err != nil {
		return nil, err
	}
	pool, err := openPool(ctx, db.URL, int32(clients+2))
	if err != nil {
		db.Drop()
		return nil, err
	}
	c := &ceilingDB{db: db, pool: pool}
	if err := c.seed(ctx, orgs); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *ceilingDB) Close() {
	if c.pool != nil {
		c.pool.Close()
	}
	c.db.Drop()
}

// seed writes organizations with the real event store (so the rows and
// their sealed payloads have production shapes) and keeps one real
// InvitationSent payload to insert.
func (c *ceilingDB) seed(ctx context.Context, orgs int) error {
	keys, err := eventstore.NewKeyring(eventstore.DevelopmentDataKey)
	if err != nil {
		return err
	}
	store := eventstore.New(c.pool, keys, nil)
	g := newGen(keys, 1, time.Now().Add(-time.Hour))
	var first *orgState
	for i := 0; i < orgs; i++ {
		s, o := g.newOrg(domain.SideClient)
		if _, err := store.Append(ctx, s.batch); err != nil {
			return fmt.Errorf("ceiling seed: %w", err)
		}
		c.streams = append(c.streams, domain.OrganizationStream(o.id))
		c.orgs = append(c.orgs, o.id)
		if first == nil {
			first = o
		}
	}
	inv := g.invitation(first, g.newPerson())
	if _, err := store.Append(ctx, inv.batch); err != nil {
		return fmt.Errorf("ceiling seed: %w", err)
	}
	return c.pool.QueryRow(ctx, `SELECT data::text, metadata::text, person_refs::text FROM events WHERE event_type = 'InvitationSent' LIMIT 1`).
		Scan(&c.data, &c.meta, &c.people)
}

// CeilingRun is the raw outcome of one ceiling run.
type ceilingRun struct {
	window time.Duration
	tx     []time.Duration
	errors int
	first  error
}

// run runs clients connections for warmup+duration, each committing the
// command-equivalent transaction in a loop.
func (c *ceilingDB) run(ctx context.Context, clients int, warmup, duration time.Duration) (*ceilingRun, error) {
	out := timed(ctx, clients, warmup, duration, func(ctx context.Context, i int) (func(context.Context) error, func(), error) {
		conn, err := c.pool.Acquire(ctx)
		if err != nil {
			return nil, nil, err
		}
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))
		return func(ctx context.Context) error { return c.command(ctx, conn.Conn(), rng) }, conn.Release, nil
	})
	return out, ctx.Err()
}

// timed runs one loop per worker for warmup+duration, and keeps the latency
// of every operation that started inside the measured window and succeeded
// (the others are counted as errors). start readies worker i: its
// operation, and what to release when it stops. Every ceiling, and the
// query phase's HTTP side, are measured by it, so their windows agree.
func timed(ctx context.Context, workers int, warmup, duration time.Duration,
	start func(ctx context.Context, i int) (op func(context.Context) error, release func(), err error)) *ceilingRun {
	var win window
	var stop atomic.Bool
	var wg sync.WaitGroup
	var mu sync.Mutex
	out := &ceilingRun{}
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			op, release, err := start(ctx, i)
			if err != nil {
				mu.Lock()
				out.errors++
				out.first = errors.Join(out.first, err)
				mu.Unlock()
				return
			}
			if release != nil {
				defer release()
			}
			var mine []time.Duration
			var errs int
			var first error
			for !stop.Load() && ctx.Err() == nil {
				began := time.Now()
				err := op(ctx)
				if !win.in(began) {
					continue
				}
				if err != nil {
					if ctx.Err() == nil {
						errs++
						if first == nil {
							first = err
						}
					}
					continue
				}
				mine = append(mine, time.Since(began))
			}
			mu.Lock()
			out.tx = append(out.tx, mine...)
			out.errors += errs
			if first != nil && out.first == nil {
				out.first = first
			}
			mu.Unlock()
		}()
	}
	sleep(ctx, warmup)
	began := time.Now()
	win.start.Store(began.UnixNano())
	sleep(ctx, duration)
	end := time.Now()
	win.end.Store(end.UnixNano())
	out.window = end.Sub(began)
	stop.Store(true)
	wg.Wait()
	return out
}

// command is one command's SQL: read a stream, then append one event to a
// new stream (expected version: none) with its outbox row, in one batch
// (one implicit transaction), as eventstore.Store.Append sends it.
func (c *ceilingDB) command(ctx context.Context, conn *pgx.Conn, rng *rand.Rand) error {
	k := rng.IntN(len(c.streams))
	rows, err := conn.Query(ctx, readStreamSQL, c.streams[k])
	if err != nil {
		return err
	}
	if _, err := eventstore.ScanEnvelopes(rows); err != nil {
		return err
	}
	id := uuid.New()
	stream := "invitation-" + uuid.NewString()
	org := c.orgs[k]
	at := time.Now().UTC()
	b := &pgx.Batch{}
	b.Queue(eventstore.InsertEventsSQL, stream, domain.InvitationStreamType, c.meta, at,
		[]uuid.UUID{id}, []string{"InvitationSent"}, []int32{2}, []string{c.data},
		[]string{"{" + org.String() + "}"}, 0, []string{c.people})
	var pos int64
	var ver int
	var got uuid.UUID
	var txid string
	br := conn.SendBatch(ctx, b)
	err = br.QueryRow().Scan(&pos, &ver, &got, &txid)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}
