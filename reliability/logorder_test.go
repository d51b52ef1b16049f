//go:build reliability

package reliability_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"partners/eventstore"
	"partners/internal/pgtest"
)

// The readers' order is (transaction id, position) compared as numbers. A
// query that selects transaction_id::text and says ORDER BY transaction_id
// sorts by the text column (PostgreSQL resolves a bare ORDER BY name to the
// output column first): across a power of ten ("999" > "1000") a LIMITed
// batch then skips events for good. The database-restart test meets this
// on a fresh cluster (RELIABILITY.md, 4.1); this test shows it directly on
// the two readers the event store exports, with transaction ids written on
// each side of a power of ten.
func TestLogOrderAcrossPowerOfTen(t *testing.T) {
	ctx := context.Background()
	url, drop, err := pgtest.Create(ctx, "reliability_logorder")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	pool := openPool(t, url)
	var xmin uint64
	if err := pool.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`).Scan(&xmin); err != nil {
		t.Fatal(err)
	}
	p := uint64(10)
	for p*10 < xmin {
		p *= 10
	}
	if p >= xmin {
		t.Skipf("the server's transaction ids (%d) have not reached a power of ten yet", xmin)
	}
	before, after := p-1, p // both committed long ago: below every snapshot's xmin
	for i, tx := range []uint64{before, after} {
		if _, err := pool.Exec(ctx, `INSERT INTO watermill_events (uuid, payload, metadata, transaction_id)
			VALUES ($1, '{}', '{}', $2::text::xid8)`, uuid.NewString(), strconv.FormatUint(tx, 10)); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO events (transaction_id, event_id, stream_id, stream_type, stream_version,
			event_type, schema_version, data, metadata, recorded_at)
			VALUES ($1::text::xid8, $2, 'test-order', 'test', $3, 'TestOrder', 1, '{}', '{}', now())`,
			strconv.FormatUint(tx, 10), uuid.New(), i+1); err != nil {
			t.Fatal(err)
		}
	}

	out, err := eventstore.ReadOutbox(ctx, pool, eventstore.Cursor{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Cursor.TxID != before {
		t.Errorf("ReadOutbox (the live projector's read), first row after the start: %+v; want transaction %d before %d", cursors(out), before, after)
	}

	keys, err := eventstore.NewKeyring(dataKey)
	if err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(pool, keys, time.Now)
	log, err := store.ReadLog(ctx, nil, eventstore.Cursor{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0].Cursor.TxID != before {
		t.Errorf("ReadLog, first event after the start: %+v; want transaction %d before %d", cursors(log), before, after)
	}
}

func cursors(envs []eventstore.Envelope) []string {
	var out []string
	for _, e := range envs {
		out = append(out, e.Cursor.String())
	}
	return out
}
