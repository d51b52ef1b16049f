package eventstore_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
	"partners/internal/pgtest"
)

// A batch's read assertions: a stream read at a version it has moved past
// refuses the append as a lost race, a destroyed key as stale state, and
// either leaves nothing; an echoed append is what a read returns.
func TestReadAssertions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := newStore(t, pool)
	read, written := domain.OrganizationStream(uuid.New()), domain.OrganizationStream(uuid.New())
	email := "assert." + uuid.NewString()[:8] + "@example.com"
	org := uuid.New()
	if _, err := store.Append(ctx, appendTo(read, eventstore.NoStream, orgCreated(org, "R"), memberJoined(store.Keys(), org, "u", email))); err != nil {
		t.Fatal(err)
	}
	_, readVersion, err := store.ReadStream(ctx, read)
	if err != nil {
		t.Fatal(err)
	}
	tail, err := store.ReadStreamAfter(ctx, read, 0, nil)
	if err != nil || len(tail.Keys) == 0 {
		t.Fatalf("keys of the read stream: %v %v", tail.Keys, err)
	}
	with := func(r []eventstore.StreamVersion, keys []uuid.UUID) eventstore.Batch {
		b := appendTo(written, eventstore.Any, orgCreated(uuid.New(), "W"))
		b.Read, b.KeysOpen = r, keys
		return b
	}
	count := func() int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE stream_id = $1`, written).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Still at the version read, keys alive: stored, and echoed as read.
	b := with([]eventstore.StreamVersion{{StreamID: read, Version: readVersion}}, tail.Keys)
	b.Echo = true
	b.Streams[0].Events = append(b.Streams[0].Events, memberJoined(store.Keys(), org, "v", "v."+email))
	res, err := store.Append(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	stored, _, err := store.ReadStream(ctx, written)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 2 || len(stored) != 2 || len(res.Keys) == 0 {
		t.Fatalf("echoed %d events, %d keys; stored %d", len(res.Events), len(res.Keys), len(stored))
	}
	for i := range stored {
		got, want := res.Events[i], stored[i]
		got.Envelope.Data, got.Envelope.Metadata, got.OpenData = nil, nil, nil
		want.Envelope.Data, want.Envelope.Metadata, want.OpenData = nil, nil, nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("echoed event %d:\n%#v\nstored:\n%#v", i, got, want)
		}
	}

	// The read stream moves on: refused as a lost race.
	if _, err := store.Append(ctx, appendTo(read, eventstore.Any, orgCreated(org, "R2"))); err != nil {
		t.Fatal(err)
	}
	before := count()
	if _, err := store.Append(ctx, with([]eventstore.StreamVersion{{StreamID: read, Version: readVersion}}, nil)); !eventstore.IsConcurrencyConflict(err) {
		t.Fatalf("append after a read stream moved: %v; want a concurrency conflict", err)
	}
	// The person whose data the read state holds is forgotten: stale.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Keys().Forget(ctx, tx, store.Keys().Ref(email)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, with([]eventstore.StreamVersion{{StreamID: read, Version: readVersion + 1}}, tail.Keys)); !eventstore.IsStale(err) {
		t.Fatalf("append on state opened with a destroyed key: %v; want ErrStateStale", err)
	}
	if n := count(); n != before {
		t.Fatalf("refused appends stored %d events", n-before)
	}
}
