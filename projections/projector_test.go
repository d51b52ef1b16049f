package projections_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/domain"
	"partners/eventstore"
	"partners/internal/pgtest"
	"partners/projections"
)

// Tests run in parallel: those on the shared package database read and
// write only their own organizations' rows; the ones that run a projector,
// count rows or prune take a database of their own (pgtest.Fresh).
func TestMain(m *testing.M) { pgtest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newStore(t *testing.T, pool *pgxpool.Pool) *eventstore.Store {
	t.Helper()
	keys, err := eventstore.NewKeyring("test-data-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.New(pool, keys, time.Now)
}

// appliedOrder records the order in which events reach a read model.
type appliedOrder struct{}

func (appliedOrder) Name() string         { return "test_applied_order" }
func (appliedOrder) Tables() []string     { return []string{"test_applied"} }
func (appliedOrder) EventTypes() []string { return domain.EventTypes() }
func (appliedOrder) Apply(w *projections.Writer, ev *eventstore.Event) {
	w.Exec(`INSERT INTO test_applied (position) VALUES ($1)`, ev.Position)
}

func createApplied(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), `CREATE TABLE test_applied (seq bigserial PRIMARY KEY, position bigint NOT NULL)`); err != nil {
		t.Fatal(err)
	}
}

func appliedPositions(t *testing.T, pool *pgxpool.Pool) []int64 {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT position FROM test_applied ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var p int64
		if err := rows.Scan(&p); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func org(id uuid.UUID, name string) eventstore.Batch {
	return eventstore.Batch{Streams: []eventstore.StreamAppend{{
		StreamID: domain.OrganizationStream(id), StreamType: domain.OrganizationStreamType, Expected: eventstore.Any,
		Events: []eventstore.NewEvent{{ID: uuid.New(), Data: domain.OrganizationCreated{OrganizationID: id, Name: name, Side: domain.SideClient}}},
	}}}
}

// drainUntil steps the projector until every read model has applied the
// event at pos. Stepping until a step reads nothing is not enough: a
// transaction open anywhere on the server (another test package's) holds
// back what readers may see, so a step can read nothing while events wait.
func drainUntil(t *testing.T, p *projections.Projector, pos int64) {
	t.Helper()
	var names []string
	for _, pr := range p.Projections() {
		names = append(names, pr.Name())
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := p.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := p.WaitApplied(context.Background(), names, pos, 20*time.Millisecond); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("read models did not reach position %d", pos)
		}
	}
}

func drain(t *testing.T, p *projections.Projector) int {
	t.Helper()
	total := 0
	for {
		n, err := p.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

// Transaction A appends first but commits after B: the reader must apply
// both, A before B (the log's order), and skip neither.
func TestOutOfOrderCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, pool := pgtest.Fresh(t)
	store := newStore(t, pool)
	createApplied(t, pool)
	p := projections.NewProjector(store, quiet, appliedOrder{})
	if err := projections.EnsureCheckpoints(ctx, pool, p.Projections()); err != nil {
		t.Fatal(err)
	}

	txA, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer txA.Rollback(ctx) //nolint:errcheck
	resA, err := store.AppendTx(ctx, txA, org(uuid.New(), "A"))
	if err != nil {
		t.Fatal(err)
	}
	resB, err := store.Append(ctx, org(uuid.New(), "B"))
	if err != nil {
		t.Fatal(err)
	}
	if resB.Position <= resA.Position {
		t.Fatalf("B's position %d is not after A's %d", resB.Position, resA.Position)
	}
	// B committed, A has not: a reader must not move past A.
	if n := drain(t, p); n != 0 {
		t.Fatalf("applied %d events while an earlier transaction was open; want 0", n)
	}
	if err := txA.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	drainUntil(t, p, resB.Position)
	got := appliedPositions(t, pool)
	if len(got) != 2 || got[0] != resA.Position || got[1] != resB.Position {
		t.Fatalf("applied %v; want [%d %d]", got, resA.Position, resB.Position)
	}
}

// A redelivered event leaves every read model as it was.
func TestRedeliveryChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := newStore(t, pool)
	id := uuid.New()
	b := org(id, "Redelivered")
	b.Streams[0].Events = append(b.Streams[0].Events, eventstore.NewEvent{ID: uuid.New(), Data: domain.MemberJoined{
		OrganizationID: id, UserID: "u1", Email: store.Keys().Personal("a@example.com", "a@example.com"),
		Name: store.Keys().Personal("a@example.com", "A"), Role: domain.RoleOwner, Via: "creation"}})
	if _, err := store.Append(ctx, b); err != nil {
		t.Fatal(err)
	}
	// A role change later, so that the members read model keeps history.
	if _, err := store.Append(ctx, eventstore.Batch{Streams: []eventstore.StreamAppend{{
		StreamID: domain.OrganizationStream(id), StreamType: domain.OrganizationStreamType, Expected: eventstore.Any,
		Events: []eventstore.NewEvent{{ID: uuid.New(), Data: domain.MemberRoleChanged{OrganizationID: id, UserID: "u1", Role: domain.RoleAdmin}}},
	}}}); err != nil {
		t.Fatal(err)
	}
	evs, _, err := store.ReadStream(ctx, domain.OrganizationStream(id))
	if err != nil {
		t.Fatal(err)
	}
	apply := func() {
		for _, pr := range projections.All() {
			w := projections.NewWriter()
			for i := range evs {
				w.Apply(pr, &evs[i])
			}
			if err := pool.SendBatch(ctx, w.Batch()).Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	snapshot := func() string {
		var s string
		if err := pool.QueryRow(ctx, `SELECT (SELECT json_agg(o)::text FROM rm_organizations o WHERE id = $1) || (SELECT json_agg(m)::text FROM rm_members m WHERE organization_id = $1)
			|| coalesce((SELECT json_agg(m ORDER BY valid_to)::text FROM rm_members_history m WHERE organization_id = $1), 'no history')`, id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	apply()
	first := snapshot()
	if strings.HasSuffix(first, "no history") {
		t.Fatalf("the role change left no history: %s", first)
	}
	apply()
	if again := snapshot(); again != first {
		t.Fatalf("after redelivery:\n%s\nwant unchanged:\n%s", again, first)
	}
}

// A backlog of 100,000 events drains into the read models while a live
// writer keeps appending: nothing missed, nothing doubled.
func TestBacklogDrainsAndCatchesUp(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("backlog test skipped in -short mode")
	}
	ctx := context.Background()
	_, pool := pgtest.Fresh(t)
	store := newStore(t, pool)
	const backlog = 100_000
	// Fill the backlog quickly: 500 appends of 200 events each.
	for i := 0; i < backlog/200; i++ {
		var st []eventstore.StreamAppend
		for j := 0; j < 200; j++ {
			st = append(st, org(uuid.New(), "Backlog").Streams[0])
		}
		if _, err := store.Append(ctx, eventstore.Batch{Streams: st}); err != nil {
			t.Fatal(err)
		}
	}
	p := projections.NewProjector(store, quiet, projections.All()...)
	began := time.Now()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(runCtx) }()

	const live = 300
	for i := 0; i < live; i++ {
		if _, err := store.Append(ctx, org(uuid.New(), "Live")); err != nil {
			t.Fatal(err)
		}
	}
	last, err := store.Append(ctx, org(uuid.New(), "Last"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitApplied(ctx, []string{"organizations", "members"}, last.Position, 2*time.Minute); err != nil {
		t.Fatalf("read models did not catch up: %v", err)
	}
	t.Logf("%d events drained into %d read models in %v (%.0f events/s, with a live writer)",
		backlog+live+1, len(p.Projections()), time.Since(began).Round(time.Millisecond), float64(backlog+live+1)/time.Since(began).Seconds())
	stop()
	<-done
	var rows, distinct int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT id) FROM rm_organizations`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if want := backlog + live + 1; rows != want || distinct != want {
		var missing int
		var first, lastMissing *int64
		_ = pool.QueryRow(ctx, `SELECT count(*), min(position), max(position) FROM events e
			WHERE NOT EXISTS (SELECT 1 FROM rm_organizations o WHERE o.id = (e.data->>'organization_id')::uuid)`).Scan(&missing, &first, &lastMissing)
		t.Fatalf("read model has %d rows (%d distinct); want %d (%d events missing, positions %v..%v)", rows, distinct, want, missing, first, lastMissing)
	}
}
