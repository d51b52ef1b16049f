package integration_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"partners/integration"
	"partners/projections"
)

// Eight writers append concurrently, so the log's order (transaction id,
// position) differs from the positions'; each organization's messages come
// in the log's order, once each, every payload valid against its schema.
func TestForwarderPublishesInLogOrderPerOrganization(t *testing.T) {
	r := newRig(t)
	orgs := make([]uuid.UUID, 5)
	for i := range orgs {
		orgs[i] = uuid.New()
	}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				a, b := orgs[(w+i)%len(orgs)], orgs[(w+2*i+1)%len(orgs)]
				if i%3 == 0 || a == b {
					organizationCreated(t, r.store, a)
				} else {
					partnership(t, r.store, a, b)
				}
			}
		}()
	}
	wg.Wait()
	want, total := expected(t, r.pool)
	r.drain(t, uint64(total))
	got := consumeAll(t, r.nc, "order", total)
	checkDelivery(t, got, want, total)
	schemas := validator(t)
	for _, m := range got {
		validate(t, schemas, m.raw)
	}
}

// A forced redelivery (the checkpoint set back, as after a crash between
// publishing and recording) publishes everything again; the stream keeps
// one copy of each message and a durable consumer gets each once.
func TestForwarderRedeliveryIsDeduplicated(t *testing.T) {
	r := newRig(t)
	a, b := uuid.New(), uuid.New()
	organizationCreated(t, r.store, a)
	organizationCreated(t, r.store, b)
	for i := 0; i < 10; i++ {
		partnership(t, r.store, a, b)
	}
	want, total := expected(t, r.pool)
	r.drain(t, uint64(total))
	before := r.fwd.Published()

	if _, err := r.pool.Exec(context.Background(), `UPDATE forwarder_checkpoints SET transaction_id = '0', outbox_offset = 0, position = 0`); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := r.fwd.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if again := r.fwd.Published() - before; again != int64(total) {
		t.Fatalf("re-sent %d messages, want %d", again, total)
	}
	if n := r.streamMsgs(t); n != uint64(total) {
		t.Fatalf("stream holds %d messages after the redelivery, want %d", n, total)
	}
	checkDelivery(t, consumeAll(t, r.nc, "dedup", total), want, total)
}

// The NATS server is killed and started again (same port, same store)
// while writers append and the forwarder runs: nothing is lost, nothing
// reordered, nothing doubled for a durable consumer that read before and
// after the outage.
func TestForwarderSurvivesNATSRestartDuringLoad(t *testing.T) {
	r := newRig(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); _ = r.fwd.Run(ctx) }()

	orgs := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				partnership(t, r.store, orgs[(w+i)%3], orgs[(w+i+1)%3])
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	time.Sleep(400 * time.Millisecond)
	r.nats.Stop()
	time.Sleep(700 * time.Millisecond) // events pile up in the outbox meanwhile
	r.nats.Restart()
	time.Sleep(400 * time.Millisecond)
	close(stop)
	wg.Wait()

	want, total := expected(t, r.pool)
	deadline := time.Now().Add(60 * time.Second)
	for r.streamMsgs(t) < uint64(total) {
		if time.Now().After(deadline) {
			t.Fatalf("stream holds %d messages, want %d", r.streamMsgs(t), total)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	checkDelivery(t, consumeAll(t, r.nc, "restart", total), want, total)
	if total < 100 {
		t.Fatalf("only %d messages: the load was too light to test anything", total)
	}
}

// First turned on after the outbox was pruned, the forwarder backfills
// from the events table, then follows the outbox; the janitor keeps what it
// has not forwarded while it is on, and prunes past it once it is off.
func TestForwarderBackfillsAndTurnsOff(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	a, b := uuid.New(), uuid.New()
	organizationCreated(t, r.store, a)
	organizationCreated(t, r.store, b)
	partnership(t, r.store, a, b)

	proj := projections.NewProjector(r.store, quiet, projections.All()...)
	if err := proj.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	drainProjector(t, r, proj)
	if n, err := r.store.PruneOutbox(ctx); err != nil || n == 0 {
		t.Fatalf("pruned %d, %v: the outbox should have been pruned behind the read models", n, err)
	}

	if err := r.fwd.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	partnership(t, r.store, b, a) // after the checkpoint: from the outbox
	want, total := expected(t, r.pool)
	r.drain(t, uint64(total))
	checkDelivery(t, consumeAll(t, r.nc, "backfill", total), want, total)
	st, err := r.fwd.Status(ctx)
	if err != nil || st.LagEvents != 0 || st.Name != integration.CheckpointName {
		t.Fatalf("status %+v, %v: want no lag", st, err)
	}

	// While on, the janitor keeps what the forwarder has not passed.
	organizationCreated(t, r.store, uuid.New())
	drainProjector(t, r, proj)
	if _, err := r.store.PruneOutbox(ctx); err != nil {
		t.Fatal(err)
	}
	if n := outboxRows(t, r); n != 1 {
		t.Fatalf("outbox holds %d rows, want the 1 not forwarded", n)
	}
	if err := integration.TurnOff(ctx, r.pool); err != nil {
		t.Fatal(err)
	}
	if _, err := r.store.PruneOutbox(ctx); err != nil {
		t.Fatal(err)
	}
	if n := outboxRows(t, r); n != 0 {
		t.Fatalf("outbox holds %d rows once the forwarder is off, want 0", n)
	}
	if st, err := r.fwd.Status(ctx); err != nil || st.State != "stopped" {
		t.Fatalf("status once off %+v, %v", st, err)
	}
}

func outboxRows(t *testing.T, r *rig) int {
	t.Helper()
	var n int
	if err := r.pool.QueryRow(context.Background(), `SELECT count(*) FROM watermill_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// drainProjector steps the read models until every one has passed every
// outbox row. A step may read nothing while rows wait: a transaction open
// anywhere on the server (another package's test) holds back what readers
// see.
func drainProjector(t *testing.T, r *rig, p *projections.Projector) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := p.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
		var left int
		if err := r.pool.QueryRow(context.Background(), `SELECT count(*) FROM watermill_events
			WHERE (transaction_id, "offset") > (SELECT transaction_id, outbox_offset FROM projection_checkpoints
				ORDER BY transaction_id, outbox_offset LIMIT 1)`).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("read models still %d outbox rows behind", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
