package eventstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
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

// A transaction that appends holds readers back until it ends, even when
// a later append commits first: that one is read after it, never before.
// (The readers' horizon is the oldest running transaction: a narrower one,
// "the oldest running append", was tried and skipped events; see
// migration 015.)
func TestReadersWaitForAppendsInFlight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := newStore(t, pool)
	early, err := pool.Begin(ctx)
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
