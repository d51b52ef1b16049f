package eventstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/domain"
	"partners/eventstore"
	"partners/internal/pgtest"
)

// The tests that share the package database write only streams, keys and
// reservations of their own (fresh ids), so they run in parallel.
func TestMain(m *testing.M) { pgtest.Main(m) }

func newStore(t *testing.T, pool *pgxpool.Pool) *eventstore.Store {
	t.Helper()
	keys, err := eventstore.NewKeyring("test-data-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.New(pool, keys, time.Now)
}

func orgCreated(id uuid.UUID, name string) eventstore.NewEvent {
	return eventstore.NewEvent{ID: uuid.New(), Data: domain.OrganizationCreated{OrganizationID: id, Name: name, Side: domain.SideClient}}
}

func memberJoined(keys *eventstore.Keyring, org uuid.UUID, user, email string) eventstore.NewEvent {
	return eventstore.NewEvent{ID: uuid.New(), Data: domain.MemberJoined{OrganizationID: org, UserID: user,
		Email: keys.Personal(email, email), Name: keys.Personal(email, "Alice Martin"), Role: domain.RoleOwner, Via: "creation"}}
}

func appendTo(stream string, exp eventstore.Expected, evs ...eventstore.NewEvent) eventstore.Batch {
	return eventstore.Batch{Streams: []eventstore.StreamAppend{{StreamID: stream, StreamType: "test", Expected: exp, Events: evs}}}
}

func TestAppend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newStore(t, pgtest.Pool(t))

	t.Run("OK", func(t *testing.T) {
		id := uuid.New()
		stream := domain.OrganizationStream(id)
		res, err := store.Append(ctx, appendTo(stream, eventstore.NoStream, orgCreated(id, "Acme"), memberJoined(store.Keys(), id, "u1", "alice@example.com")))
		if err != nil {
			t.Fatal(err)
		}
		evs, version, err := store.ReadStream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		if version != 2 || len(evs) != 2 {
			t.Fatalf("version, events = %d, %d; want 2, 2", version, len(evs))
		}
		if evs[1].Position != res.Position {
			t.Errorf("result position = %d; want last event's %d", res.Position, evs[1].Position)
		}
		mj, ok := evs[1].Data.(domain.MemberJoined)
		if !ok || mj.Email.Value != "alice@example.com" || mj.Name.Value != "Alice Martin" {
			t.Errorf("decoded member = %+v; want clear email and name", evs[1].Data)
		}
		if _, err := store.Append(ctx, appendTo(stream, eventstore.Exactly(2), memberJoined(store.Keys(), id, "u2", "bob@example.com"))); err != nil {
			t.Fatal(err)
		}
		var streams []string
		if err := queryStrings(ctx, store, `SELECT stream_id FROM organization_streams WHERE organization_id = $1`, id, &streams); err != nil {
			t.Fatal(err)
		}
		if len(streams) != 1 || streams[0] != stream {
			t.Errorf("organization_streams = %v; want the one stream %s", streams, stream)
		}
	})

	t.Run("ZeroEventsDoNothing", func(t *testing.T) {
		res, err := store.Append(ctx, appendTo("empty-"+uuid.NewString(), eventstore.NoStream))
		if err != nil || res.Position != 0 {
			t.Fatalf("got %+v, %v; want zero result, nil", res, err)
		}
	})

	t.Run("ErrConflictOnNoStream", func(t *testing.T) {
		id := uuid.New()
		stream := domain.OrganizationStream(id)
		if _, err := store.Append(ctx, appendTo(stream, eventstore.NoStream, orgCreated(id, "A"))); err != nil {
			t.Fatal(err)
		}
		_, err := store.Append(ctx, appendTo(stream, eventstore.NoStream, orgCreated(id, "B")))
		if !eventstore.IsConcurrencyConflict(err) {
			t.Fatalf("err = %v; want concurrency conflict", err)
		}
	})

	t.Run("ErrConflictWhenExpectingMoreThanThere", func(t *testing.T) {
		id := uuid.New()
		stream := domain.OrganizationStream(id)
		_, err := store.Append(ctx, appendTo(stream, eventstore.Exactly(3), orgCreated(id, "A")))
		if !eventstore.IsConcurrencyConflict(err) {
			t.Fatalf("err = %v; want concurrency conflict (no gap may be created)", err)
		}
	})

	t.Run("AnyAppendsAtTheEnd", func(t *testing.T) {
		id := uuid.New()
		stream := domain.OrganizationStream(id)
		for i := 0; i < 3; i++ {
			if _, err := store.Append(ctx, appendTo(stream, eventstore.Any, orgCreated(id, "A"))); err != nil {
				t.Fatal(err)
			}
		}
		_, v, _ := store.ReadStream(ctx, stream)
		if v != 3 {
			t.Fatalf("version = %d; want 3", v)
		}
	})

	t.Run("DuplicateEventIDIsANoOp", func(t *testing.T) {
		id := uuid.New()
		stream := domain.OrganizationStream(id)
		ev := orgCreated(id, "A")
		first, err := store.Append(ctx, appendTo(stream, eventstore.Any, ev))
		if err != nil {
			t.Fatal(err)
		}
		again, err := store.Append(ctx, appendTo(stream, eventstore.Any, ev))
		if err != nil {
			t.Fatal(err)
		}
		if !again.Duplicate || again.Position != first.Position {
			t.Fatalf("second append = %+v; want duplicate at %d", again, first.Position)
		}
		_, v, _ := store.ReadStream(ctx, stream)
		if v != 1 {
			t.Fatalf("version = %d; want 1", v)
		}
	})

	t.Run("ReservationTaken", func(t *testing.T) {
		key := "siret:" + uuid.NewString()
		a, b := uuid.New(), uuid.New()
		ba := appendTo(domain.OrganizationStream(a), eventstore.NoStream, orgCreated(a, "A"))
		ba.Reserve = []eventstore.Reservation{{Key: key, Holder: a.String()}}
		if _, err := store.Append(ctx, ba); err != nil {
			t.Fatal(err)
		}
		bb := appendTo(domain.OrganizationStream(b), eventstore.NoStream, orgCreated(b, "B"))
		bb.Reserve = []eventstore.Reservation{{Key: key, Holder: b.String()}}
		_, err := store.Append(ctx, bb)
		var re *eventstore.ReservationError
		if !errors.As(err, &re) || re.Holder != a.String() {
			t.Fatalf("err = %v; want reservation held by %s", err, a)
		}
		if _, v, _ := store.ReadStream(ctx, domain.OrganizationStream(b)); v != 0 {
			t.Fatalf("refused append left %d events", v)
		}
		// The refusal is the answer even when the same append's insert also
		// fails (here: the stream is not at the expected version).
		bc := appendTo(domain.OrganizationStream(a), eventstore.Exactly(7), orgCreated(a, "A again"))
		bc.Reserve = []eventstore.Reservation{{Key: key, Holder: b.String()}}
		_, err = store.Append(ctx, bc)
		if !errors.As(err, &re) || re.Holder != a.String() {
			t.Fatalf("err = %v; want reservation held by %s", err, a)
		}
	})
}

// Two writers at the same expected version: exactly one wins.
func TestConcurrentWritersOneWins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newStore(t, pgtest.Pool(t))
	for round := 0; round < 20; round++ {
		id := uuid.New()
		stream := domain.OrganizationStream(id)
		if _, err := store.Append(ctx, appendTo(stream, eventstore.NoStream, orgCreated(id, "A"))); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		start := make(chan struct{})
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = store.Append(ctx, appendTo(stream, eventstore.Exactly(1), orgCreated(id, "B")))
			}()
		}
		close(start)
		wg.Wait()
		wins, conflicts := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case eventstore.IsConcurrencyConflict(err):
				conflicts++
			default:
				t.Fatalf("unexpected error: %v", err)
			}
		}
		if wins != 1 || conflicts != 1 {
			t.Fatalf("round %d: wins, conflicts = %d, %d; want 1, 1", round, wins, conflicts)
		}
	}
}

// Not parallel: TRUNCATE waits for the table's exclusive lock before its
// trigger refuses it, and would stall every other test's appends meanwhile.
func TestEventsAreImmutable(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := newStore(t, pool)
	id := uuid.New()
	if _, err := store.Append(ctx, appendTo(domain.OrganizationStream(id), eventstore.NoStream, orgCreated(id, "A"))); err != nil {
		t.Fatal(err)
	}
	for name, sql := range map[string]string{
		"Update":   `UPDATE events SET event_type = 'x' WHERE stream_id = $1`,
		"Delete":   `DELETE FROM events WHERE stream_id = $1`,
		"Truncate": `TRUNCATE events`,
	} {
		t.Run(name, func(t *testing.T) {
			var err error
			if name == "Truncate" {
				_, err = pool.Exec(ctx, sql)
			} else {
				_, err = pool.Exec(ctx, sql, domain.OrganizationStream(id))
			}
			if err == nil {
				t.Fatalf("%s succeeded; want the trigger to refuse it", name)
			}
		})
	}
	if _, v, _ := store.ReadStream(ctx, domain.OrganizationStream(id)); v != 1 {
		t.Fatalf("stream version = %d after refused changes; want 1", v)
	}
}

func TestPersonalDataIsSealedAndForgettable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := newStore(t, pool)
	id := uuid.New()
	email := "zoe." + uuid.NewString()[:8] + "@example.com"
	stream := domain.OrganizationStream(id)
	if _, err := store.Append(ctx, appendTo(stream, eventstore.NoStream, orgCreated(id, "A"), memberJoined(store.Keys(), id, "u", email))); err != nil {
		t.Fatal(err)
	}
	var clear int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM events WHERE data::text LIKE '%' || $1 || '%')
		+ (SELECT count(*) FROM watermill_events WHERE payload::text LIKE '%' || $1 || '%')`, email).Scan(&clear); err != nil {
		t.Fatal(err)
	}
	if clear != 0 {
		t.Fatalf("%d rows hold the email in clear text; want 0", clear)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n, err := store.Keys().Forget(ctx, tx, store.Keys().Ref(email))
	if err != nil || n != 1 {
		t.Fatalf("forget = %d, %v; want 1 key destroyed", n, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	evs, _, err := store.ReadStream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	mj := evs[1].Data.(domain.MemberJoined)
	if !mj.Email.IsForgotten() || mj.Email.Value != domain.Forgotten || mj.UserID != "u" {
		t.Fatalf("after forget: %+v; want forgotten email, other fields intact", mj)
	}
}

func queryStrings(ctx context.Context, store *eventstore.Store, q string, arg any, into *[]string) error {
	rows, err := store.Pool().Query(ctx, q, arg)
	if err != nil {
		return err
	}
	*into, err = pgx.CollectRows(rows, pgx.RowTo[string])
	return err
}
