package eventstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/domain"
	"partners/eventstore"
	"partners/internal/pgtest"
)

// The outbox row is built by the append's statement from the inserted event
// row: its envelope must be the stored event, field for field, and the
// outbox's order must be the positions' order, across the streams of one
// batch.
func TestOutboxEnvelopeIsTheStoredEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := newStore(t, pool)
	a, b := uuid.New(), uuid.New()
	batch := eventstore.Batch{
		Meta: eventstore.Metadata{Actor: eventstore.Actor{UserID: "u1", Email: store.Keys().Personal("alice@example.com", "alice@example.com")}, RequestID: "r1", Command: "Test"},
		Streams: []eventstore.StreamAppend{
			{StreamID: domain.OrganizationStream(a), StreamType: domain.OrganizationStreamType, Expected: eventstore.NoStream,
				Events: []eventstore.NewEvent{orgCreated(a, "A"), memberJoined(store.Keys(), a, "u1", "alice@example.com")}},
			{StreamID: domain.OrganizationStream(b), StreamType: domain.OrganizationStreamType, Expected: eventstore.NoStream,
				Events: []eventstore.NewEvent{orgCreated(b, "B")}},
		},
	}
	res, err := store.Append(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[uuid.UUID]eventstore.Envelope{}
	for _, s := range []uuid.UUID{a, b} {
		rows, err := pool.Query(ctx, `SELECT `+eventstore.EnvelopeColumns+` FROM events WHERE stream_id = $1`, domain.OrganizationStream(s))
		if err != nil {
			t.Fatal(err)
		}
		envs, err := eventstore.ScanEnvelopes(rows)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range envs {
			stored[e.EventID] = e
		}
	}
	if len(stored) != 3 {
		t.Fatalf("stored %d events; want 3", len(stored))
	}
	rows, err := pool.Query(ctx, `SELECT "offset", transaction_id::text, payload::text, metadata::text FROM watermill_events
		WHERE uuid = ANY($1) ORDER BY "offset"`, keysOf(stored))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var last int64
	var mine []eventstore.Envelope
	n := 0
	for rows.Next() {
		var off int64
		var txid, payload, meta string
		if err := rows.Scan(&off, &txid, &payload, &meta); err != nil {
			t.Fatal(err)
		}
		env, err := eventstore.OutboxEnvelope([]byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		mine = append(mine, env)
		want, ok := stored[env.EventID]
		if !ok {
			t.Fatalf("outbox row %d carries unknown event %s", off, env.EventID)
		}
		if env.Position <= last {
			t.Errorf("outbox order: position %d after %d; want positions in offset order", env.Position, last)
		}
		last = env.Position
		if !env.RecordedAt.Equal(want.RecordedAt) || !res.RecordedAt.Equal(want.RecordedAt) {
			t.Errorf("recorded_at: outbox %v, stored %v, answered %v; want one instant", env.RecordedAt, want.RecordedAt, res.RecordedAt)
		}
		env.RecordedAt, want.RecordedAt = want.RecordedAt, env.RecordedAt
		if txid != uintString(want.Cursor.TxID) {
			t.Errorf("outbox transaction %s; want the event's %d", txid, want.Cursor.TxID)
		}
		want.Cursor = eventstore.Cursor{}
		if !sameEnvelope(env, want) {
			t.Errorf("outbox envelope\n %+v\nwant the stored event\n %+v", env, want)
		}
		var m map[string]string
		if err := json.Unmarshal([]byte(meta), &m); err != nil || m["event_type"] != want.Type || m["position"] != uintString(uint64(want.Position)) {
			t.Errorf("outbox metadata %s (%v); want event_type %s and position %d", meta, err, want.Type, want.Position)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 3 || last != res.Position {
		t.Fatalf("outbox rows %d, last position %d; want 3 ending at the answered %d", n, last, res.Position)
	}
	// Readers decode the outbox's envelopes as they decode the events table's
	// (ReadOutbox and the reactions go through OutboxEnvelope).
	evs, err := store.Decode(ctx, pool, mine)
	if err != nil || len(evs) != 3 {
		t.Fatalf("decoded %d outbox events, %v; want 3", len(evs), err)
	}
	if mj, ok := evs[1].Data.(domain.MemberJoined); !ok || mj.Email.Value != "alice@example.com" || evs[1].Meta.Actor.Email.Value != "alice@example.com" {
		t.Errorf("decoded from the outbox: %+v, meta %+v; want the member's clear email", evs[1].Data, evs[1].Meta)
	}
}

func sameEnvelope(a, b eventstore.Envelope) bool {
	ja, _ := json.Marshal(struct {
		eventstore.Envelope
		Data, Metadata any
	}{a, compact(a.Data), compact(a.Metadata)})
	jb, _ := json.Marshal(struct {
		eventstore.Envelope
		Data, Metadata any
	}{b, compact(b.Data), compact(b.Metadata)})
	return string(ja) == string(jb)
}

func compact(raw json.RawMessage) any {
	var v any
	_ = json.Unmarshal(raw, &v)
	return v
}

func keysOf(m map[uuid.UUID]eventstore.Envelope) []string {
	var out []string
	for id := range m {
		out = append(out, id.String())
	}
	return out
}

func uintString(v uint64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A refused append leaves nothing behind: the releases, reservations, the
// other streams' events, their outbox rows and the pending secrets of the
// same batch go out in one round trip and are rolled back with it.
func TestRefusedAppendLeavesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := newStore(t, pool)
	held, released := "siret:"+uuid.NewString(), "email:"+uuid.NewString()
	a := uuid.New()
	first := appendTo(domain.OrganizationStream(a), eventstore.NoStream, orgCreated(a, "A"))
	first.Reserve = []eventstore.Reservation{{Key: held, Holder: a.String()}, {Key: released, Holder: a.String()}}
	if _, err := store.Append(ctx, first); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		fresh uuid.UUID
		make  func(fresh uuid.UUID, ev eventstore.NewEvent) eventstore.Batch
		check func(t *testing.T, err error)
	}{
		{name: "VersionConflict", fresh: uuid.New(), make: func(fresh uuid.UUID, ev eventstore.NewEvent) eventstore.Batch {
			b := eventstore.Batch{Streams: []eventstore.StreamAppend{
				{StreamID: domain.OrganizationStream(fresh), StreamType: "test", Expected: eventstore.NoStream, Events: []eventstore.NewEvent{ev}},
				{StreamID: domain.OrganizationStream(a), StreamType: "test", Expected: eventstore.Exactly(5), Events: []eventstore.NewEvent{orgCreated(a, "again")}},
			}}
			b.Release = []eventstore.Release{{Key: released, Holder: a.String()}}
			b.Reserve = []eventstore.Reservation{{Key: "fresh:" + fresh.String(), Holder: fresh.String()}}
			b.Secrets = []eventstore.Secret{{EventID: ev.ID, Value: []byte("token")}}
			return b
		}, check: func(t *testing.T, err error) {
			if !eventstore.IsConcurrencyConflict(err) {
				t.Fatalf("err = %v; want a concurrency conflict", err)
			}
		}},
		{name: "ReservationTaken", fresh: uuid.New(), make: func(fresh uuid.UUID, ev eventstore.NewEvent) eventstore.Batch {
			b := appendTo(domain.OrganizationStream(fresh), eventstore.NoStream, ev)
			b.Release = []eventstore.Release{{Key: released, Holder: a.String()}}
			b.Reserve = []eventstore.Reservation{{Key: "fresh:" + fresh.String(), Holder: fresh.String()}, {Key: held, Holder: fresh.String()}}
			b.Secrets = []eventstore.Secret{{EventID: ev.ID, Value: []byte("token")}}
			return b
		}, check: func(t *testing.T, err error) {
			var re *eventstore.ReservationError
			if !errors.As(err, &re) || re.Holder != a.String() || re.Key != held {
				t.Fatalf("err = %v; want %s held by %s", err, held, a)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := orgCreated(tc.fresh, "fresh")
			_, err := store.Append(ctx, tc.make(tc.fresh, ev))
			tc.check(t, err)
			var events, outbox, secrets, reservations int
			if err := pool.QueryRow(ctx, `SELECT
				(SELECT count(*) FROM events WHERE stream_id = $1),
				(SELECT count(*) FROM watermill_events WHERE uuid = $2),
				(SELECT count(*) FROM pending_secrets WHERE event_id = $3),
				(SELECT count(*) FROM reservations WHERE key = ANY($4))`,
				domain.OrganizationStream(tc.fresh), ev.ID.String(), ev.ID, []string{"fresh:" + tc.fresh.String(), released}).
				Scan(&events, &outbox, &secrets, &reservations); err != nil {
				t.Fatal(err)
			}
			if events != 0 || outbox != 0 || secrets != 0 || reservations != 1 {
				t.Fatalf("after the refusal: %d events, %d outbox rows, %d secrets, %d of the reservations; want 0, 0, 0 and only the released one still held",
					events, outbox, secrets, reservations)
			}
		})
	}
}

// roundTrips counts what a pool sends to the server: each query and each
// batch is one round trip (a batch's statements are pipelined).
type roundTrips struct{ queries, batches atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.queries.Add(1)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.batches.Add(1)
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// An append is one round trip: events, organization index, outbox rows,
// reservations and secrets in one pipelined batch, with no BEGIN or COMMIT
// of their own. A person this replica has not seen yet costs one query for
// their data key first.
func TestAppendIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	trips := &roundTrips{}
	cfg.ConnConfig.Tracer = trips
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	store := newStore(t, pool)
	count := func(name string, b eventstore.Batch, queries, batches int64) {
		t.Helper()
		q0, b0 := trips.queries.Load(), trips.batches.Load()
		if _, err := store.Append(ctx, b); err != nil {
			t.Fatal(err)
		}
		if q, bt := trips.queries.Load()-q0, trips.batches.Load()-b0; q != queries || bt != batches {
			t.Errorf("%s: %d queries and %d batches; want %d and %d", name, q, bt, queries, batches)
		}
	}
	id := uuid.New()
	stream := domain.OrganizationStream(id)
	first := appendTo(stream, eventstore.NoStream, orgCreated(id, "A"), memberJoined(store.Keys(), id, "u1", "alice@example.com"))
	first.Reserve = []eventstore.Reservation{{Key: "siret:" + id.String(), Holder: id.String()}}
	first.Secrets = []eventstore.Secret{{EventID: first.Streams[0].Events[0].ID, Value: []byte("token")}}
	count("a new person", first, 1, 1)
	next := appendTo(stream, eventstore.Exactly(2), memberJoined(store.Keys(), id, "u2", "alice@example.com"))
	next.Secrets = []eventstore.Secret{{EventID: next.Streams[0].Events[0].ID, Value: []byte("token")}}
	count("a known person", next, 0, 1)
}
