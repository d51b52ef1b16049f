package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/domain"
	"partners/eventstore"
	"partners/projections"
)

// CheckpointName is the forwarder's row in forwarder_checkpoints, and its
// name in the operator endpoints.
const CheckpointName = "nats-forwarder"

// Forwarder publishes the public events to JetStream, reading the outbox in
// the log's order. It publishes a batch's messages one by one, each waiting
// for the stream's acknowledgement, and then records how far it got: a
// message is never published before the one the log orders ahead of it, a
// crash re-sends at most the unrecorded tail of one batch (the stream drops
// it by message id), and a NATS outage stops it where it was. Replicas take
// turns through an advisory lock, as the projector's do.
type Forwarder struct {
	store *eventstore.Store
	pool  *pgxpool.Pool
	pub   message.Publisher
	log   *slog.Logger

	BatchSize    int
	PollInterval time.Duration
	// Ensure, when set, is called after a failed batch (it makes sure the
	// stream exists: a NATS server whose store was lost has none).
	Ensure func() error

	wake      chan struct{}
	mu        sync.Mutex
	state     string
	published atomic.Int64
}

// NewForwarder builds the forwarder; pub is a JetStream publisher that sets
// each message's Nats-Msg-Id from its UUID (see NewPublisher).
func NewForwarder(store *eventstore.Store, pub message.Publisher, log *slog.Logger) *Forwarder {
	return &Forwarder{store: store, pool: store.Pool(), pub: pub, log: log,
		BatchSize: 500, PollInterval: 10 * time.Millisecond, wake: make(chan struct{}, 1)}
}

// Wake asks the forwarder to look for new events now.
func (f *Forwarder) Wake() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Published counts the messages this process published (re-sends included).
func (f *Forwarder) Published() int64 { return f.published.Load() }

func (f *Forwarder) setState(s string) {
	f.mu.Lock()
	f.state = s
	f.mu.Unlock()
}

// forwarderLock elects the replica that forwards.
var forwarderLock = func() int64 {
	h := fnv.New64a()
	h.Write([]byte("partners nats forwarder"))
	return int64(h.Sum64())
}()

// TurnOff drops the forwarder's checkpoint: the outbox is pruned without
// waiting for it, and turning it on again backfills from the events table.
func TurnOff(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := pool.Exec(ctx, `DELETE FROM forwarder_checkpoints WHERE name = $1`, CheckpointName)
	return err
}

// Prepare creates the checkpoint the first time the forwarder is on. The
// outbox may have been pruned already: the forwarder then starts where the
// least advanced read model stands (the outbox holds everything after it),
// and first forwards what lies before it from the events table.
func (f *Forwarder) Prepare(ctx context.Context) error {
	tx, err := f.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // after commit it is a no-op
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, forwarderLock); err != nil {
		return err
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM forwarder_checkpoints WHERE name = $1)`, CheckpointName).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	// FOR SHARE keeps that checkpoint from moving until this one exists, so
	// the janitor cannot prune past it meanwhile. No read model yet: the
	// service never ran its projector, and the outbox holds everything.
	var txid string
	var offset, position int64
	err = tx.QueryRow(ctx, `SELECT transaction_id::text, outbox_offset, position FROM projection_checkpoints
		ORDER BY transaction_id, outbox_offset LIMIT 1 FOR SHARE`).Scan(&txid, &offset, &position)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		txid, offset, position = "0", 0, 0
	case err != nil:
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO forwarder_checkpoints (name, transaction_id, outbox_offset, position, backfill_transaction_id, backfill_position)
		VALUES ($1, $2::text::xid8, $3, $4, '0', 0)`, CheckpointName, txid, offset, position); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Run forwards until ctx ends.
func (f *Forwarder) Run(ctx context.Context) error {
	backoff := f.PollInterval
	for {
		err := f.Prepare(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		f.setState("failing")
		f.log.Error("forwarder checkpoint", "err", err)
		backoff = min(max(2*backoff, 100*time.Millisecond), 5*time.Second)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
	}
	return eventstore.Follower{Step: f.Step, Poll: f.PollInterval, Wake: f.wake, State: f.setState,
		Failed: func(n int, err error) {
			f.log.Error("forwarder batch failed", "forwarded", n, "err", err)
			if f.Ensure != nil {
				if err := f.Ensure(); err != nil {
					f.log.Warn("forwarder: stream not ready", "err", err)
				}
			}
		}}.Follow(ctx)
}

// checkpoint is the forwarder's row: where it follows the outbox from, and,
// while it backfills, where it stands in the events table.
type checkpoint struct {
	outbox   eventstore.Cursor
	position int64
	backfill *eventstore.Cursor
}

func readCheckpoint(ctx context.Context, q pgx.Tx) (checkpoint, bool, error) {
	var cp checkpoint
	var tx string
	var btx *string
	var bpos *int64
	err := q.QueryRow(ctx, `SELECT transaction_id::text, outbox_offset, position, backfill_transaction_id::text, backfill_position
		FROM forwarder_checkpoints WHERE name = $1`, CheckpointName).Scan(&tx, &cp.outbox.Offset, &cp.position, &btx, &bpos)
	if errors.Is(err, pgx.ErrNoRows) {
		return cp, false, nil
	}
	if err != nil {
		return cp, false, err
	}
	if cp.outbox.TxID, err = strconv.ParseUint(tx, 10, 64); err != nil {
		return cp, false, err
	}
	if btx != nil && bpos != nil {
		b := eventstore.Cursor{Offset: *bpos}
		if b.TxID, err = strconv.ParseUint(*btx, 10, 64); err != nil {
			return cp, false, err
		}
		cp.backfill = &b
	}
	return cp, true, nil
}

// ErrNoCheckpoint is Step's error before Prepare.
var ErrNoCheckpoint = errors.New("forwarder: no checkpoint (Prepare first)")

// Step forwards at most one batch and reports how many events it passed
// (forwarded or internal-only). On a publish failure it records what was
// acknowledged before it and returns the error.
func (f *Forwarder) Step(ctx context.Context) (int, error) {
	// The transaction holds the advisory lock and reads; it takes a
	// transaction id only at the checkpoint's update, just before it
	// commits, so waiting on NATS never holds back the log's readers.
	tx, err := f.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // after commit it is a no-op
	var locked bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, forwarderLock).Scan(&locked); err != nil {
		return 0, err
	}
	if !locked {
		return 0, nil // another replica forwards
	}
	cp, ok, err := readCheckpoint(ctx, tx)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, ErrNoCheckpoint
	}
	var envs []eventstore.Envelope
	if cp.backfill != nil {
		target := eventstore.Cursor{TxID: cp.outbox.TxID, Offset: cp.position}
		all, err := f.store.ReadLog(ctx, tx, *cp.backfill, f.BatchSize)
		if err != nil {
			return 0, err
		}
		for _, e := range all {
			if target.Less(e.Cursor) {
				break
			}
			envs = append(envs, e)
		}
		if len(envs) == 0 { // backfilled: the outbox from here on
			if _, err := tx.Exec(ctx, `UPDATE forwarder_checkpoints SET backfill_transaction_id = NULL, backfill_position = NULL, updated_at = now()
				WHERE name = $1`, CheckpointName); err != nil {
				return 0, err
			}
			return 0, tx.Commit(ctx)
		}
	} else if envs, err = eventstore.ReadOutbox(ctx, tx, cp.outbox, f.BatchSize); err != nil || len(envs) == 0 {
		return 0, err
	}
	evs, err := f.store.Decode(ctx, tx, envs)
	if err != nil {
		return 0, err
	}
	done, pubErr := f.publish(ctx, tx, evs)
	if done > 0 {
		last := &evs[done-1]
		txid := strconv.FormatUint(last.Cursor.TxID, 10)
		if cp.backfill != nil {
			_, err = tx.Exec(ctx, `UPDATE forwarder_checkpoints SET backfill_transaction_id = $2::text::xid8, backfill_position = $3,
				last_recorded_at = $4, updated_at = now() WHERE name = $1`, CheckpointName, txid, last.Cursor.Offset, last.RecordedAt)
		} else {
			_, err = tx.Exec(ctx, `UPDATE forwarder_checkpoints SET transaction_id = $2::text::xid8, outbox_offset = $3, position = $4,
				last_recorded_at = $5, updated_at = now() WHERE name = $1`, CheckpointName, txid, last.Cursor.Offset, last.Position, last.RecordedAt)
		}
		if err != nil {
			return 0, err
		}
		if err := tx.Commit(ctx); err != nil {
			return 0, err
		}
	}
	return done, pubErr
}

// publish publishes the events' messages in order and reports how many
// events were wholly acknowledged.
func (f *Forwarder) publish(ctx context.Context, tx pgx.Tx, evs []eventstore.Event) (int, error) {
	for i := range evs {
		ev := &evs[i]
		orgs := ev.OrganizationIDs
		if pf, ok := ev.Data.(domain.PersonForgotten); ok {
			var err error
			if orgs, err = organizationsNaming(ctx, tx, pf.PersonRef, ev.Position); err != nil {
				return i, err
			}
		}
		msgs, err := Messages(ev, orgs)
		if err != nil {
			return i, err
		}
		for _, m := range msgs {
			payload, err := json.Marshal(m)
			if err != nil {
				return i, err
			}
			wm := message.NewMessage(m.ID, payload)
			wm.Metadata.Set("Partners-Event", m.Type)
			if err := f.pub.Publish(m.Subject(), wm); err != nil {
				return i, fmt.Errorf("publish %s: %w", m.ID, err)
			}
			f.published.Add(1)
		}
	}
	return len(evs), nil
}

// organizationsNaming lists the organizations whose events before position
// named the person (their data or their actor's), for PersonForgotten,
// which names no organization itself. Events are immutable, so a re-send
// finds the same list.
func organizationsNaming(ctx context.Context, tx pgx.Tx, ref domain.PersonRef, before int64) ([]uuid.UUID, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT o FROM events, unnest(organization_ids) AS o
		WHERE person_refs @> ARRAY[$1]::text[] AND person_refs <> '{}'::text[] AND position < $2 ORDER BY o`, string(ref), before)
	if err != nil {
		return nil, fmt.Errorf("organizations naming a person: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
}

// Status reports the forwarder's position and lag as the operator
// endpoints show read models': the events not yet forwarded, and the age of
// the oldest of them.
func (f *Forwarder) Status(ctx context.Context) (projections.Status, error) {
	st := projections.Status{Name: CheckpointName}
	var tx string
	var off int64
	var btx *string
	var bpos *int64
	err := f.pool.QueryRow(ctx, `SELECT transaction_id::text, outbox_offset, position, backfill_transaction_id::text, backfill_position
		FROM forwarder_checkpoints WHERE name = $1`, CheckpointName).Scan(&tx, &off, &st.Position, &btx, &bpos)
	if errors.Is(err, pgx.ErrNoRows) {
		st.State = "stopped"
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := f.pool.QueryRow(ctx, `SELECT count(*), coalesce(extract(epoch FROM (localtimestamp - min(created_at))), 0)::float8
		FROM watermill_events WHERE (transaction_id, "offset") > ($1::text::xid8, $2)`, tx, off).
		Scan(&st.LagEvents, &st.LagSeconds); err != nil {
		return st, err
	}
	if btx != nil && bpos != nil {
		var n int64
		var age float64
		if err := f.pool.QueryRow(ctx, `SELECT count(*), coalesce(extract(epoch FROM (now() - min(recorded_at))), 0)::float8 FROM events
			WHERE (transaction_id, position) > ($1::text::xid8, $2) AND (transaction_id, position) <= ($3::text::xid8, $4)`,
			*btx, *bpos, tx, st.Position).Scan(&n, &age); err != nil {
			return st, err
		}
		st.LagEvents += n
		st.LagSeconds = max(st.LagSeconds, age)
	}
	st.LagSeconds = max(st.LagSeconds, 0)
	f.mu.Lock()
	st.State = f.state
	f.mu.Unlock()
	switch {
	case st.State == "":
		st.State = "stopped"
	case btx != nil && st.State == "live":
		st.State = "backfilling"
	}
	return st, nil
}
