package projections

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"partners/eventstore"
)

// AsOf answers a query as of an instant from the valid-time read models
// (migration 014): in a read-only transaction whose search_path puts the
// views of schema asof before the live tables, the unchanged Reader query
// reads the rows true at that instant, by the same indexes (the
// organization first) as a live answer. No table is made, no event
// replayed.
//
// It answers with AsOfReplay instead when the history does not reach the
// instant: a read model kept rows from before migration 014 and was not
// rebuilt since, or has not applied yet an event recorded at or before
// the instant (it lags behind the log).
//
// Both answer with the events recorded at or before the instant applied in
// the log's order, as long as recorded_at grows with the log's order (rows
// are stamped with the recorded_at of the event that wrote them). Where it
// does not (appends racing across the instant, by the few milliseconds
// between taking the clock and committing; or a replica's clock ahead), the
// replay applies exactly the events recorded at or before the instant,
// which the read model may never have been in, where a row here keeps the
// version of the latest event the log applied to it and never goes back in
// time (an event recorded before the version it changes rewrites it in
// place); and an event recorded at or before the instant that commits after
// the read model passed it is missed. Rows come from every event of a read
// model's types, where the replay reads only those of the filter's
// streams: the Reader queries served as of an instant read only rows
// those streams write (TestAsOfEqualsReplay compares both on random
// histories).
func AsOf(ctx context.Context, store *eventstore.Store, ps []Projection, f Filter, query func(context.Context, Reader) error) error {
	ok, err := AsOfValidTime(ctx, store, ps, f.Until, query)
	if err != nil || ok {
		return err
	}
	return AsOfReplay(ctx, store, ps, f, query)
}

// AsOfValidTime is AsOf without its fallback: ok is false, and query was
// not called, when the read models' history does not reach the instant.
func AsOfValidTime(ctx context.Context, store *eventstore.Store, ps []Projection, at time.Time, query func(context.Context, Reader) error) (ok bool, err error) {
	conn, err := store.Pool().Acquire(ctx)
	if err != nil {
		return false, err
	}
	// A connection left in the transaction (the rollback failed) is
	// closed, not reused, when released.
	defer conn.Release()
	names := make([]string, len(ps))
	for i, pr := range ps {
		names[i] = pr.Name()
	}
	// One round trip opens the transaction, asks whether the histories
	// reach the instant, and sets what the asof views read. The lag check
	// is a scalar subquery ordered by the log's index, so that it reads
	// only the events after the least advanced checkpoint.
	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`)
	b.Queue(`
		SELECT coalesce((SELECT count(*) FROM projection_checkpoints WHERE name = ANY($1) AND history_since <= $2::timestamptz) = cardinality($1)
		   AND (SELECT e.position FROM events e
		         WHERE (e.transaction_id, e.position) > (l.transaction_id, l.position)
		           AND e.recorded_at <= $2::timestamptz AND e.event_type = ANY($3)
		         ORDER BY e.transaction_id, e.position LIMIT 1) IS NULL
		   AND set_config('partners.as_of', $4, true) IS NOT NULL
		   AND set_config('search_path', 'asof, public', true) IS NOT NULL, false)
		  FROM (SELECT transaction_id, position FROM projection_checkpoints WHERE name = ANY($1)
		         ORDER BY transaction_id, position LIMIT 1) l`,
		names, at, eventTypes(ps...), pgInstant(at))
	br := conn.SendBatch(ctx, b)
	_, err = br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(&ok)
		if errors.Is(err, pgx.ErrNoRows) { // no checkpoint at all
			ok, err = false, nil
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	defer conn.Exec(context.WithoutCancel(ctx), `ROLLBACK`) //nolint:errcheck
	if err != nil || !ok {
		return false, err
	}
	return true, query(ctx, Reader{Q: conn})
}
