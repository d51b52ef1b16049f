package eventstore_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/domain"
	"partners/eventstore"
	"partners/internal/pgtest"
)

// outboxHas polls ReadOutbox from the start until every id is there (in
// the order given) or the deadline passes; it answers what it saw of them.
func outboxHas(t *testing.T, pool *pgxpool.Pool, wait time.Duration, ids ...uuid.UUID) []uuid.UUID {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		envs, err := eventstore.ReadOutbox(context.Background(), pool, eventstore.Cursor{}, 100000)
		if err != nil {
			t.Fatal(err)
		}
		var seen []uuid.UUID
		for _, e := range envs {
			if slices.Contains(ids, e.EventID) {
				seen = append(seen, e.EventID)
			}
		}
		if slices.Equal(seen, ids) || time.Now().After(deadline) {
			return seen
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A transaction that holds a transaction id but does not append (a
// reaction's, the projector's own) no longer holds readers back.
func TestReadersPassTransactionsThatDoNotAppend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := newStore(t, pool)
	bystander, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer bystander.Rollback(ctx)                                                 //nolint:errcheck
	if _, err := bystander.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil { // it now holds an id
		t.Fatal(err)
	}
	id := uuid.New()
	ev := orgCreated(id, "A")
	if _, err := store.Append(ctx, appendTo(domain.OrganizationStream(id), eventstore.NoStream, ev)); err != nil {
		t.Fatal(err)
	}
	if seen := outboxHas(t, pool, 5*time.Second, ev.ID); len(seen) != 1 {
		t.Fatalf("an append committed after a running bystander took its id was not read in 5 s; want it read at once")
	}
}

// A transaction that appends holds readers back until it ends, even when
// a later append commits first: that one is read after it, never before.
func TestReadersWaitForAppendsInFlight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := newStore(t, pool)
	early, err := store.BeginAppendTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer early.Rollback(ctx) //nolint:errcheck
	a, b := uuid.New(), uuid.New()
	evA, evB := orgCreated(a, "early"), orgCreated(b, "late")
	if _, err := store.AppendTx(ctx, early, appendTo(domain.OrganizationStream(a), eventstore.NoStream, evA)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, appendTo(domain.OrganizationStream(b), eventstore.NoStream, evB)); err != nil {
		t.Fatal(err)
	}
	if seen := outboxHas(t, pool, 200*time.Millisecond, evB.ID); len(seen) != 0 {
		t.Fatalf("the later append was read while an earlier one was in flight: a reader would pass the earlier one for good")
	}
	if err := early.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if seen := outboxHas(t, pool, 5*time.Second, evA.ID, evB.ID); !slices.Equal(seen, []uuid.UUID{evA.ID, evB.ID}) {
		t.Fatalf("read %v; want the early append, then the late one", seen)
	}
}

// Appending must be declared before the transaction writes anything, and
// events or outbox rows written without it are refused.
func TestAppendsMustSaySoFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := newStore(t, pool)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	_, err = store.AppendTx(ctx, tx, appendTo(domain.OrganizationStream(id), eventstore.NoStream, orgCreated(id, "A")))
	if code(err) != "PA003" {
		t.Fatalf("append in a transaction that wrote first: %v; want PA003", err)
	}
	for _, sql := range []string{
		`INSERT INTO watermill_events (uuid, payload, metadata, transaction_id) VALUES ('x', '{}', '{}', pg_current_xact_id())`,
		`INSERT INTO events (event_id, stream_id, stream_type, stream_version, event_type, schema_version, data, metadata, recorded_at)
			VALUES (gen_random_uuid(), 'direct', 't', 1, 'OrganizationCreated', 1, '{}', '{}', now())`,
	} {
		if _, err := pool.Exec(ctx, sql); code(err) != "PA003" {
			t.Errorf("%s: %v; want PA003", sql[:30], err)
		}
	}
}

func code(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}
