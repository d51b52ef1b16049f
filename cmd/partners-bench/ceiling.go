package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/domain"
	"partners/eventstore"
)

// The SQL ceiling: what this PostgreSQL does, with the same client count,
// when each transaction is only the SQL of one command's append, sent by
// plain pgx: read one stream, insert the event row (the event store's own
// statement, with its constraints, indexes, trigger and organization index)
// and its outbox row (watermill-sql's InsertQuery), commit. It runs in a
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

// command is one command's SQL: read a stream, append one event to a new
// stream (expected version: none), write its outbox row, commit.
func (c *ceilingDB) command(ctx context.Context, conn *pgx.Conn, rng *rand.Rand) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck
	k := rng.IntN(len(c.streams))
	rows, err := tx.Query(ctx, readStreamSQL, c.streams[k])
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
	var pos int64
	var ver int
	var got uuid.UUID
	var txid string
	err = tx.QueryRow(ctx, eventstore.InsertEventsSQL, stream, domain.InvitationStreamType, c.meta, at,
		[]uuid.UUID{id}, []string{"InvitationSent"}, []int32{2}, []string{c.data},
		[]string{"{" + org.String() + "}"}, 0, []string{c.people}).Scan(&pos, &ver, &got, &txid)
	if err != nil {
		return err
	}
	env := eventstore.Envelope{Position: pos, EventID: id, StreamID: stream, StreamType: domain.InvitationStreamType,
		StreamVersion: ver, Type: "InvitationSent", SchemaVersion: 2, Data: json.RawMessage(c.data),
		Metadata: json.RawMessage(c.meta), OrganizationIDs: []uuid.UUID{org}, RecordedAt: at}
	payload, err := json.Marshal(env)
	if err != nil {
		return err
	}
	m := message.NewMessage(id.String(), payload)
	m.Metadata.Set("event_type", "InvitationSent")
	m.Metadata.Set("position", strconv.FormatInt(pos, 10))
	q, err := eventstore.OutboxSchema.InsertQuery(eventstore.OutboxTopic, message.Messages{m})
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, q.Query, q.Args...); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
