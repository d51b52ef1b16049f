package eventstore

import (
	"context"
	"fmt"
	"strconv"
)

// PruneOutbox deletes the outbox rows that every consumer (each read
// model's checkpoint, each Watermill consumer group's offset and the NATS
// forwarder's checkpoint while it is on) has passed. The events table, not the outbox, feeds rebuilds and replays, so
// nothing is lost. It deletes in slices to keep locks short, and reports
// how many rows went.
func (s *Store) PruneOutbox(ctx context.Context) (int64, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT transaction_id::text AS txid, outbox_offset FROM projection_checkpoints
		UNION ALL
		SELECT last_processed_transaction_id::text AS txid, coalesce(offset_acked, 0) FROM watermill_offsets_events
		UNION ALL
		SELECT transaction_id::text AS txid, outbox_offset FROM forwarder_checkpoints`)
	if err != nil {
		return 0, err
	}
	var horizon *Cursor
	for rows.Next() {
		var tx string
		var c Cursor
		if err := rows.Scan(&tx, &c.Offset); err != nil {
			rows.Close()
			return 0, err
		}
		if c.TxID, err = strconv.ParseUint(tx, 10, 64); err != nil {
			rows.Close()
			return 0, err
		}
		if horizon == nil || c.Less(*horizon) {
			c := c
			horizon = &c
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || horizon == nil {
		return 0, err // no consumer yet: keep everything
	}
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, `DELETE FROM watermill_events WHERE ctid IN (
			SELECT ctid FROM watermill_events WHERE (transaction_id, "offset") <= ($1::text::xid8, $2) LIMIT 5000)`,
			strconv.FormatUint(horizon.TxID, 10), horizon.Offset)
		if err != nil {
			return total, fmt.Errorf("prune outbox: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < 5000 || ctx.Err() != nil {
			return total, nil
		}
	}
}

// PruneExpired deletes what outlives its use: idempotency records past
// their 24 hours, rate-limit windows past, emails sent or dropped more than
// 30 days ago, and secrets whose email never left within 30 days.
func (s *Store) PruneExpired(ctx context.Context) (int64, error) {
	var total int64
	for _, q := range []string{
		`DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'`,
		`DELETE FROM rate_limits WHERE window_end < now() - interval '1 minute'`,
		`DELETE FROM mail_queue WHERE coalesce(sent_at, dropped_at) < now() - interval '30 days'`,
		`DELETE FROM pending_secrets WHERE created_at < now() - interval '30 days'`,
	} {
		tag, err := s.pool.Exec(ctx, q)
		if err != nil {
			return total, fmt.Errorf("prune: %w", err)
		}
		total += tag.RowsAffected()
	}
	return total, nil
}
