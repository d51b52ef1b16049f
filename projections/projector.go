package projections

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/eventstore"
)

// Projector is the live driver: one reader of the outbox feeding every read
// model, a thousand events per transaction, each read model's writes and
// checkpoint committed together. Replicas take turns through an advisory
// lock, so each event is applied once whichever replica runs.
type Projector struct {
	store       *eventstore.Store
	pool        *pgxpool.Pool
	projections []Projection
	log         *slog.Logger

	BatchSize    int
	PollInterval time.Duration

	mu      sync.Mutex
	changed chan struct{} // closed and replaced after each applied batch
	wake    chan struct{}
	state   map[string]string
	// gathering is the rebuild group still taking members.
	rebuildMu sync.Mutex
	gathering *rebuildGroup

	// applied is where every read model of this projector stood at least,
	// after the last batch this process committed; another replica's
	// batches move the checkpoints further without this knowing.
	applied checkpoint
}

// NewProjector builds the live driver of the given read models.
func NewProjector(store *eventstore.Store, log *slog.Logger, ps ...Projection) *Projector {
	return &Projector{
		store: store, pool: store.Pool(), projections: ps, log: log,
		BatchSize: 1000, PollInterval: 10 * time.Millisecond,
		changed: make(chan struct{}), wake: make(chan struct{}, 1),
		state: map[string]string{},
	}
}

// Projections lists the read models it feeds.
func (p *Projector) Projections() []Projection { return p.projections }

// Wake asks the projector to look for new events now (an append on this
// replica just committed).
func (p *Projector) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Changed returns a channel closed at the next applied batch.
func (p *Projector) Changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changed
}

func (p *Projector) broadcast() {
	p.mu.Lock()
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

// State is "live", "failing" or "" (not started) for a projection.
func (p *Projector) State(name string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state[name]
}

func (p *Projector) setState(s string) {
	p.mu.Lock()
	for _, pr := range p.projections {
		p.state[pr.Name()] = s
	}
	p.mu.Unlock()
}

// lockKey is the advisory lock that elects the replica that projects.
func lockKey(names string) int64 {
	h := fnv.New64a()
	h.Write([]byte("partners projector " + names))
	return int64(h.Sum64())
}

// EnsureCheckpoints creates the checkpoint rows of the read models.
func EnsureCheckpoints(ctx context.Context, pool *pgxpool.Pool, ps []Projection) error {
	for _, pr := range ps {
		if _, err := pool.Exec(ctx, `INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING`, pr.Name()); err != nil {
			return fmt.Errorf("checkpoint %s: %w", pr.Name(), err)
		}
	}
	return nil
}

// Prepare creates the checkpoints of read models seen for the first time.
// A read model added after the outbox was pruned cannot start from the
// outbox: it is filled from the events table up to where the others stand,
// then joins them.
func (p *Projector) Prepare(ctx context.Context) error {
	var fresh []Projection
	for _, pr := range p.projections {
		tag, err := p.pool.Exec(ctx, `INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING`, pr.Name())
		if err != nil {
			return fmt.Errorf("checkpoint %s: %w", pr.Name(), err)
		}
		if tag.RowsAffected() == 1 {
			fresh = append(fresh, pr)
		}
	}
	if len(fresh) == 0 || len(fresh) == len(p.projections) {
		return nil
	}
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, p.lockKey()); err != nil {
		return err
	}
	var names []string
	for _, pr := range fresh {
		names = append(names, pr.Name())
	}
	// The least advanced of the others, in both the outbox's and the events
	// table's terms.
	var tx8 string
	var offset, position int64
	err = tx.QueryRow(ctx, `SELECT transaction_id::text AS txid, outbox_offset, position FROM projection_checkpoints
		WHERE name <> ALL($1) ORDER BY transaction_id, outbox_offset LIMIT 1`, names).Scan(&tx8, &offset, &position)
	if err != nil {
		return err
	}
	txid, err := strconv.ParseUint(tx8, 10, 64)
	if err != nil {
		return err
	}
	target := eventstore.Cursor{TxID: txid, Offset: position}
	for _, pr := range fresh {
		var cursor eventstore.Cursor
		for {
			n, next, err := applyRangeTx(ctx, p.store, tx, "public", pr, cursor, target, replayBatch)
			if err != nil {
				return fmt.Errorf("backfill %s: %w", pr.Name(), err)
			}
			if n == 0 {
				break
			}
			cursor = next
		}
		// Filled from the first event: its history is whole.
		if _, err := tx.Exec(ctx, `UPDATE projection_checkpoints SET transaction_id = $2::text::xid8, outbox_offset = $3, position = $4,
			history_since = '-infinity' WHERE name = $1`, pr.Name(), tx8, offset, position); err != nil {
			return err
		}
	}
	if err := useSchemas(ctx, tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Run feeds the read models until ctx ends.
func (p *Projector) Run(ctx context.Context) error {
	if err := p.Prepare(ctx); err != nil {
		return err
	}
	return eventstore.Follower{Step: p.Step, Poll: p.PollInterval, Wake: p.wake, State: p.setState,
		Failed: func(_ int, err error) { p.log.Error("projector batch failed", "err", err) }}.Follow(ctx)
}

type checkpoint struct {
	cursor   eventstore.Cursor
	position int64
}

// Step applies at most one batch and reports how many events it read.
func (p *Projector) Step(ctx context.Context) (int, error) {
	names := make([]string, len(p.projections))
	for i, pr := range p.projections {
		names[i] = pr.Name()
	}
	// One round trip: begin, the projecting replica's lock, the checkpoints,
	// and the outbox after the least advanced of them (read in vain when
	// another replica holds the lock).
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	b.Queue(`SELECT pg_try_advisory_xact_lock($1)`, lockKey(fmt.Sprint(names)))
	b.Queue(checkpointsSQL, names)
	b.Queue(eventstore.OutboxAfter(`(SELECT transaction_id, outbox_offset FROM projection_checkpoints
		WHERE name = ANY($1) ORDER BY transaction_id, outbox_offset LIMIT 1)`, `$2`), names, p.BatchSize)
	br := p.pool.SendBatch(ctx, b)
	tx := br.Tx()
	defer tx.Rollback(context.Background()) //nolint:errcheck
	locked, cps, envs, err := readStepStart(br, names)
	if cerr := br.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil || !locked || len(envs) == 0 {
		return 0, err // !locked: another replica is projecting
	}
	evs, err := p.store.Decode(ctx, tx, envs)
	if err != nil {
		return 0, err
	}
	w := NewWriter()
	for _, pr := range p.projections {
		cp := cps[pr.Name()]
		types := eventTypes(pr)
		var last *eventstore.Event
		for i := range evs {
			if !cp.cursor.Less(evs[i].Cursor) {
				continue // this read model already has it
			}
			last = &evs[i]
			// Only the types a rebuild reads.
			if _, ok := slices.BinarySearch(types, evs[i].Type); ok {
				applyEvent(pr, w, &evs[i])
			}
		}
		if last != nil {
			w.Exec(`UPDATE projection_checkpoints SET transaction_id = $2::text::xid8, outbox_offset = $3,
				position = $4, last_recorded_at = $5, updated_at = now() WHERE name = $1`,
				pr.Name(), strconv.FormatUint(last.Cursor.TxID, 10), last.Cursor.Offset, last.Position, last.RecordedAt)
		}
	}
	if err := tx.SendBatch(ctx, w.Batch()).Close(); err != nil {
		return 0, fmt.Errorf("apply batch: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	// Every read model now stands at or after the batch's last event: those
	// behind it applied it, the others were already further.
	last := evs[len(evs)-1]
	p.mu.Lock()
	if p.applied.cursor.Less(last.Cursor) {
		p.applied = checkpoint{cursor: last.Cursor, position: last.Position}
	}
	p.mu.Unlock()
	p.broadcast()
	return len(envs), nil
}

// appliedHere reports whether this process saw every read model apply the
// event at position in transaction txid.
func (p *Projector) appliedHere(txid uint64, position int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.applied
	return a.cursor.TxID > txid || (a.cursor.TxID == txid && a.position >= position)
}

// checkpointsSQL reads the checkpoints of the named read models.
const checkpointsSQL = `SELECT name, transaction_id::text AS txid, outbox_offset, position FROM projection_checkpoints WHERE name = ANY($1)`

func readCheckpoints(ctx context.Context, q eventstore.Queryer, names []string) (map[string]checkpoint, error) {
	rows, err := q.Query(ctx, checkpointsSQL, names)
	if err != nil {
		return nil, err
	}
	return scanCheckpoints(rows, names)
}

// readStepStart reads the answers of Step's first round trip.
func readStepStart(br pgx.BatchResults, names []string) (locked bool, cps map[string]checkpoint, envs []eventstore.Envelope, err error) {
	if _, err = br.Exec(); err != nil { // begin
		return false, nil, nil, err
	}
	if err = br.QueryRow().Scan(&locked); err != nil {
		return false, nil, nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return false, nil, nil, err
	}
	if cps, err = scanCheckpoints(rows, names); err != nil {
		return false, nil, nil, err
	}
	rows, err = br.Query()
	if err != nil {
		return false, nil, nil, err
	}
	envs, err = eventstore.ScanOutbox(rows)
	return locked, cps, envs, err
}

func scanCheckpoints(rows pgx.Rows, names []string) (map[string]checkpoint, error) {
	defer rows.Close()
	out := map[string]checkpoint{}
	for rows.Next() {
		var name, tx string
		var cp checkpoint
		if err := rows.Scan(&name, &tx, &cp.cursor.Offset, &cp.position); err != nil {
			return nil, err
		}
		var err error
		if cp.cursor.TxID, err = strconv.ParseUint(tx, 10, 64); err != nil {
			return nil, err
		}
		out[name] = cp
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("projection %s has no checkpoint row", n)
		}
	}
	return out, nil
}

// ErrBehind is returned when a read model did not reach a position in time.
var ErrBehind = errors.New("projection behind")

// WaitApplied waits until every named read model has applied the event at
// position and everything the log orders before it. Positions are compared
// in the readers' order: (transaction id, position).
func (p *Projector) WaitApplied(ctx context.Context, names []string, position int64, timeout time.Duration) error {
	return p.WaitAppliedOn(ctx, p.pool, names, position, timeout)
}

// WaitAppliedOn is WaitApplied polling the checkpoints through q: the API
// polls on its own small pool, so that many waits cannot take the
// connections commands and the projector need.
func (p *Projector) WaitAppliedOn(ctx context.Context, q eventstore.Queryer, names []string, position int64, timeout time.Duration) error {
	if position <= 0 {
		return nil
	}
	deadline := time.Now().Add(timeout)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var txid uint64
	for {
		changed := p.Changed()
		if txid == 0 {
			t, ok, err := p.store.LogOrderOf(ctx, position)
			if err != nil && ctx.Err() == nil {
				return err
			}
			if ok {
				txid = t
			}
		}
		if txid != 0 && p.appliedHere(txid, position) {
			return nil
		}
		if txid != 0 {
			cps, err := readCheckpoints(ctx, q, names)
			if err != nil && ctx.Err() == nil {
				return err
			}
			done := err == nil
			for _, cp := range cps {
				if cp.cursor.TxID < txid || (cp.cursor.TxID == txid && cp.position < position) {
					done = false
				}
			}
			if done {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ErrBehind
		case <-changed:
		case <-time.After(10 * time.Millisecond): // another replica may be projecting
		}
	}
}

// Status is what the admin API reports of one read model.
type Status struct {
	Name       string  `json:"name"`
	Position   int64   `json:"position"`
	LagEvents  int64   `json:"lag_events"`
	LagSeconds float64 `json:"lag_seconds"`
	State      string  `json:"state"`
}

// Statuses reports each read model's position and lag.
func (p *Projector) Statuses(ctx context.Context) ([]Status, error) {
	var out []Status
	for _, pr := range p.projections {
		var s Status
		s.Name = pr.Name()
		var tx string
		var off int64
		if err := p.pool.QueryRow(ctx, `SELECT transaction_id::text, outbox_offset, position FROM projection_checkpoints WHERE name = $1`, pr.Name()).
			Scan(&tx, &off, &s.Position); err != nil {
			return nil, err
		}
		if err := p.pool.QueryRow(ctx, `SELECT count(*), coalesce(extract(epoch FROM (localtimestamp - min(created_at))), 0)::float8
			FROM watermill_events WHERE (transaction_id, "offset") > ($1::text::xid8, $2)`, tx, off).
			Scan(&s.LagEvents, &s.LagSeconds); err != nil {
			return nil, err
		}
		s.LagSeconds = max(s.LagSeconds, 0)
		s.State = p.State(pr.Name())
		if s.State == "" {
			s.State = "stopped"
		}
		out = append(out, s)
	}
	return out, nil
}
