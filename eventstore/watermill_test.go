package eventstore_test

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
	"partners/internal/pgtest"
)

// A reaction writes through the subscriber's own transaction: what it wrote
// commits with the acknowledgement, and a reaction that fails after writing
// leaves nothing behind when the event comes again. Stopping the router
// while a reaction runs must not race on that transaction (database/sql's
// Tx waits for the reaction's statement before the subscriber's commit).
func TestReactionWritesCommitWithTheAck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, pool := pgtest.Fresh(t)
	store := newStore(t, pool)
	if _, err := pool.Exec(ctx, `CREATE TABLE test_reacted (event_id uuid PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	rs, err := eventstore.NewReactions(store, pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	var failures atomic.Int32
	failures.Store(1)
	var slow atomic.Value // the event whose reaction is still running when the router stops
	slow.Store(uuid.Nil)
	slowStarted := make(chan struct{})
	if err := rs.Add("test", func(ctx context.Context, tx *sql.Tx, ev *eventstore.Event) error {
		if ev.EventID == slow.Load().(uuid.UUID) {
			close(slowStarted)
			_, err := tx.ExecContext(context.WithoutCancel(ctx), `SELECT pg_sleep(0.3)`)
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO test_reacted (event_id) VALUES ($1)`, ev.EventID); err != nil {
			return err
		}
		if failures.Add(-1) >= 0 {
			return errors.New("made to fail after writing, before the acknowledgement")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = rs.Run(runCtx) }()
	defer func() { stop(); <-done }()
	<-rs.Running()

	const n = 3
	for i := 0; i < n; i++ {
		id := uuid.New()
		if _, err := store.Append(ctx, appendTo(domain.OrganizationStream(id), eventstore.NoStream, orgCreated(id, "A"))); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var rows int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM test_reacted`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows == n && failures.Load() < 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events reacted to (failures left %d); want %d and the failed delivery retried", rows, failures.Load(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The router stops while a reaction's statement runs in the subscriber's
	// transaction: the subscriber gives up on the message and ends that
	// transaction, which must wait for the statement, not race with it.
	id := uuid.New()
	ev := orgCreated(id, "Slow")
	slow.Store(ev.ID)
	if _, err := store.Append(ctx, appendTo(domain.OrganizationStream(id), eventstore.NoStream, ev)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-slowStarted:
	case <-time.After(30 * time.Second):
		t.Fatal("the last event never reached its reaction")
	}
	stop()
	<-done
}
