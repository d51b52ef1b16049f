package projections_test

import (
	"context"
	"testing"

	"partners/internal/apitest"
	"partners/internal/pgtest"
)

// Outbox rows every consumer has passed are pruned; a read model that
// appears after that is filled from the events table, not the outbox.
func TestPruneThenNewReadModel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{})
	waitAll(t, s, history(t, s, 3))
	var before int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM watermill_events`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	n, err := s.Store.PruneOutbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var after int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM watermill_events`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if n == 0 || int(n) != before-after || after != 0 {
		t.Fatalf("pruned %d of %d outbox rows, %d left; want all (every consumer passed them)", n, before, after)
	}
	// The partners read model is new to this database: no checkpoint, no rows.
	if _, err := s.Pool.Exec(ctx, `DELETE FROM projection_checkpoints WHERE name = 'partners'; TRUNCATE rm_partners`); err != nil {
		t.Fatal(err)
	}
	if err := s.Projector.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	diffs, err := s.Projector.Verify(ctx, []string{"partners"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var rows int
	_ = s.Pool.QueryRow(ctx, `SELECT count(*) FROM rm_partners`).Scan(&rows)
	if len(diffs) != 0 || rows != 6 {
		t.Fatalf("backfilled partners: %d rows, differences %v; want 6 rows and none", rows, diffs)
	}
	// Unconsumed rows stay: a consumer group that has read nothing holds them.
	waitAll(t, s, history(t, s, 1))
	if _, err := s.Pool.Exec(ctx, `INSERT INTO watermill_offsets_events (consumer_group, offset_acked, last_processed_transaction_id) VALUES ('slow', 0, '0')`); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Store.PruneOutbox(ctx); err != nil || n != 0 {
		t.Fatalf("pruned %d, %v with a consumer at the start; want 0", n, err)
	}
}
