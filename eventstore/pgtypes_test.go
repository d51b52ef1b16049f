package eventstore_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"partners/internal/pgtest"
)

// Ids go to PostgreSQL as uuids, alone, behind pointers and in arrays.
func TestUUIDArguments(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	id := uuid.New()
	var none *uuid.UUID
	var text, null, list string
	err := pool.QueryRow(context.Background(), `SELECT $1::uuid::text, coalesce($2::uuid::text, 'null'), $3::uuid[]::text`,
		id, none, []uuid.UUID{id, uuid.Nil}).Scan(&text, &null, &list)
	if err != nil {
		t.Fatal(err)
	}
	if text != id.String() || null != "null" || list != "{"+id.String()+",00000000-0000-0000-0000-000000000000}" {
		t.Fatalf("got %s %s %s", text, null, list)
	}
	var back uuid.UUID
	if err := pool.QueryRow(context.Background(), `SELECT $1::uuid`, id).Scan(&back); err != nil || back != id {
		t.Fatalf("round trip: %v %v", back, err)
	}
}
