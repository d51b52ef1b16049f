package eventstore_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"partners/eventstore"
	"partners/internal/pgtest"
)

// Readers order by transaction id as a number: 999 comes before 1000 (a
// sort on the id's text would put "1000" first and skip 999 for good).
func TestLogOrderIsNumeric(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, pool := pgtest.Fresh(t)
	store := newStore(t, pool)
	for _, tx := range []string{"1000", "999"} {
		id := uuid.New()
		if _, err := pool.Exec(ctx, `INSERT INTO watermill_events (uuid, payload, metadata, transaction_id) VALUES ($1, $2, '{}', $3::xid8)`,
			id.String(), `{"position":1,"type":"x"}`, tx); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO events (transaction_id, event_id, stream_id, stream_type, stream_version, event_type, schema_version, data, metadata, recorded_at)
			VALUES ($1::xid8, $2, $3, 't', 1, 'OrganizationCreated', 1, '{}', '{}', now())`, tx, id, "s-"+tx); err != nil {
			t.Fatal(err)
		}
	}
	out, err := eventstore.ReadOutbox(ctx, pool, eventstore.Cursor{}, 1)
	if err != nil || len(out) != 1 || out[0].Cursor.TxID != 999 {
		t.Fatalf("first outbox row = %+v, %v; want transaction 999", out, err)
	}
	log, err := store.ReadLog(ctx, nil, eventstore.Cursor{}, 1)
	if err != nil || len(log) != 1 || log[0].Cursor.TxID != 999 {
		t.Fatalf("first event = %+v, %v; want transaction 999", log, err)
	}
}
