package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"partners/eventstore"
)

// The replay drivers: the same handlers as the live projector, fed from the
// event store (the only source of truth) into other copies of the tables.

// Filter selects the events an as-of answer replays.
type Filter struct {
	// Organization selects the events that touched it.
	Organization uuid.UUID
	// Organizations selects the events that touched these too (a partner's,
	// for its details pane).
	Organizations []uuid.UUID
	// PersonRefs also selects the events carrying these persons' data (an
	// invitation addressed by email touches no organization yet).
	PersonRefs []string
	// Until is the instant of the answer: events recorded after it are left
	// out.
	Until time.Time
}

// replayBatch is how many events each pipelined round trip applies.
const replayBatch = 1000

// AsOfReplay answers a query as of an instant from the event store alone:
// in one transaction it creates temporary copies of the read models'
// tables (which shadow the live ones for this session), replays the
// selected events into them with the live handlers, runs query against
// them, and throws everything away. It is the reference the valid-time
// answer (AsOf) is tested against, and AsOf's fallback where the history
// does not reach.
func AsOfReplay(ctx context.Context, store *eventstore.Store, ps []Projection, f Filter, query func(context.Context, Reader) error) error {
	tx, err := store.Pool().Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck
	for _, pr := range ps {
		// The history copies take the scrub of a forgotten person's data,
		// which would otherwise lock the live history's rows.
		tables, err := withHistories(ctx, tx, pr.Tables())
		if err != nil {
			return err
		}
		for _, t := range tables {
			id := pgx.Identifier{t}.Sanitize()
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE `+id+` (LIKE public.`+id+` INCLUDING ALL) ON COMMIT DROP`); err != nil {
				return fmt.Errorf("as-of copy of %s: %w", t, err)
			}
		}
	}
	refs := f.PersonRefs
	if refs == nil {
		refs = []string{}
	}
	// Whole streams: an aggregate that touched the organization at some point
	// is replayed from its start (an invitation claimed later was sent
	// earlier, to nobody yet).
	// The streams come from two indexed selections joined by UNION (an OR
	// would scan the whole table), and each stream's events from the stream
	// index: LATERAL with OFFSET 0 keeps the planner from hashing the whole
	// events table instead, which costs seconds on a long history. JIT
	// costs more than it saves here; the few thousand rows sort in memory.
	if _, err := tx.Exec(ctx, `SET LOCAL jit = off; SET LOCAL work_mem = '32MB'`); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT e.* FROM (
			SELECT stream_id FROM organization_streams WHERE organization_id = ANY($1)
			UNION
			SELECT stream_id FROM events WHERE person_refs && $2::text[] AND person_refs <> '{}'::text[]) s
		CROSS JOIN LATERAL (
			SELECT `+eventstore.EnvelopeColumns+` FROM events
			 WHERE stream_id = s.stream_id AND recorded_at <= $3 AND event_type = ANY($4)
			OFFSET 0) e
		ORDER BY e.txid::xid8, e.position`, append([]uuid.UUID{f.Organization}, f.Organizations...), refs, f.Until, eventTypes(ps...))
	if err != nil {
		return fmt.Errorf("as-of events: %w", err)
	}
	envs, err := eventstore.ScanEnvelopes(rows)
	if err != nil {
		return err
	}
	for start := 0; start < len(envs); start += replayBatch {
		chunk := envs[start:min(start+replayBatch, len(envs))]
		if err := applyChunk(ctx, store, tx, ps, chunk); err != nil {
			return err
		}
	}
	return query(ctx, Reader{Q: tx})
}

// withHistories lists tables, each followed by its history table when it
// keeps one (migration 014; a test's read model may not).
func withHistories(ctx context.Context, q eventstore.Queryer, tables []string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT t FROM unnest($1::text[]) t WHERE to_regclass('public.' || quote_ident(t || '_history')) IS NOT NULL`, tables)
	if err != nil {
		return nil, err
	}
	kept, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range tables {
		out = append(out, t)
		if slices.Contains(kept, t) {
			out = append(out, historyOf(t))
		}
	}
	return out, nil
}

// applyChunk decodes envelopes and applies them to every projection in one
// pipelined round trip, inside tx.
func applyChunk(ctx context.Context, store *eventstore.Store, tx pgx.Tx, ps []Projection, envs []eventstore.Envelope) error {
	if len(envs) == 0 {
		return nil
	}
	evs, err := store.Decode(ctx, tx, envs)
	if err != nil {
		return err
	}
	return applyDecoded(ctx, tx, ps, evs)
}

// applyDecoded applies events to every projection in one pipelined round
// trip, inside tx.
func applyDecoded(ctx context.Context, tx pgx.Tx, ps []Projection, evs []eventstore.Event) error {
	w := NewWriter()
	for _, pr := range ps {
		for i := range evs {
			applyEvent(pr, w, &evs[i])
		}
	}
	if w.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, w.Batch()).Close(); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	return nil
}

// Progress is how far a rebuild or a verification is.
type Progress struct {
	Applied int64
	Total   int64
	Rate    float64 // events per second
}

// ETA is the time left at the current rate.
func (p Progress) ETA() time.Duration {
	if p.Rate <= 0 || p.Total <= p.Applied {
		return 0
	}
	return time.Duration(float64(p.Total-p.Applied) / p.Rate * float64(time.Second))
}

func (p *Projector) projection(name string) (Projection, error) {
	for _, pr := range p.projections {
		if pr.Name() == name {
			return pr, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownProjection, name)
}

// ErrUnknownProjection names a read model that does not exist.
var ErrUnknownProjection = errors.New("no such read model")

// liveTarget is where the least advanced of the live read models stands.
func liveTarget(ctx context.Context, q eventstore.Queryer, ps []Projection) (eventstore.Cursor, error) {
	var target eventstore.Cursor
	for i, pr := range ps {
		cp, err := liveCheckpoint(ctx, q, pr.Name())
		if err != nil {
			return target, err
		}
		if i == 0 || cp.Less(target) {
			target = cp
		}
	}
	return target, nil
}

// liveCheckpoint is where the live read model stands, in the events
// table's terms: (transaction id, position).
func liveCheckpoint(ctx context.Context, q eventstore.Queryer, name string) (eventstore.Cursor, error) {
	cps, err := readCheckpoints(ctx, q, []string{name})
	if err != nil {
		return eventstore.Cursor{}, err
	}
	cp := cps[name]
	return eventstore.Cursor{TxID: cp.cursor.TxID, Offset: cp.position}, nil
}

// shadows makes empty copies of the named read models' tables, each in a
// schema of its own (prefix + name). It answers the schemas it made, also
// when it stops on an error.
func (p *Projector) shadows(ctx context.Context, prefix string, names []string) ([]Projection, []string, error) {
	var ps []Projection
	var schemas []string
	for _, name := range names {
		pr, err := p.projection(name)
		if err != nil {
			return nil, schemas, err
		}
		schema := prefix + name
		schemas = append(schemas, schema)
		if err := p.shadow(ctx, schema, pr); err != nil {
			return nil, schemas, err
		}
		ps = append(ps, pr)
	}
	return ps, schemas, nil
}

// shadow makes empty copies of a read model's tables in their own schema,
// with their history tables and the triggers that keep them.
func (p *Projector) shadow(ctx context.Context, schema string, pr Projection) error {
	s := pgx.Identifier{schema}.Sanitize()
	stmts := []string{`DROP SCHEMA IF EXISTS ` + s + ` CASCADE`, `CREATE SCHEMA ` + s}
	tables, err := withHistories(ctx, p.pool, pr.Tables())
	if err != nil {
		return err
	}
	for _, t := range tables {
		id := pgx.Identifier{t}.Sanitize()
		stmts = append(stmts, `CREATE TABLE `+s+`.`+id+` (LIKE public.`+id+` INCLUDING ALL)`)
		if slices.Contains(tables, historyOf(t)) {
			stmts = append(stmts, `SELECT rm_keep_history(`+quoteLiteral(schema)+`, `+quoteLiteral(t)+`)`)
		}
	}
	for _, q := range stmts {
		if _, err := p.pool.Exec(ctx, q); err != nil {
			return fmt.Errorf("shadow %s: %w", schema, err)
		}
	}
	return nil
}

// fill replays the events table into the shadow schema, batch by batch,
// until it reaches the live read model's checkpoint of the moment. It
// returns where it stopped.
//
// Reading and decoding (Go's work) run one batch ahead of applying
// (PostgreSQL's), so the two cores work at the same time: a reader
// goroutine hands decoded batches over a channel of one.
//
// Several read models fill in one pass (each into its own schema: their
// tables have distinct names, so one search_path serves them all), up to
// the least advanced of their live checkpoints.
func (p *Projector) fill(ctx context.Context, schemas []string, ps []Projection, report func(Progress)) (eventstore.Cursor, error) {
	types := eventTypes(ps...)
	var total int64
	if err := p.pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE event_type = ANY($1)`, types).Scan(&total); err != nil {
		return eventstore.Cursor{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type decoded struct {
		evs []eventstore.Event
		err error
	}
	batches := make(chan decoded, 1)
	go func() {
		defer close(batches)
		var cursor eventstore.Cursor
		for {
			target, err := liveTarget(ctx, p.pool, ps)
			var evs []eventstore.Event
			if err == nil {
				var envs []eventstore.Envelope
				if envs, err = readRange(ctx, p.pool, cursor, target, replayBatch, types); err == nil && len(envs) > 0 {
					evs, err = p.store.Decode(ctx, nil, envs)
					cursor = envs[len(envs)-1].Cursor
				}
			}
			if err == nil && len(evs) == 0 {
				return
			}
			select {
			case batches <- decoded{evs, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var cursor eventstore.Cursor
	var applied int64
	start := time.Now()
	lastReport := time.Time{}
	progress := func() Progress {
		return Progress{Applied: applied, Total: max(total, applied), Rate: float64(applied) / max(time.Since(start).Seconds(), 0.001)}
	}
	for b := range batches {
		if b.err != nil {
			return cursor, b.err
		}
		if err := p.applyBatch(ctx, schemas, ps, b.evs); err != nil {
			return cursor, err
		}
		cursor = b.evs[len(b.evs)-1].Cursor
		applied += int64(len(b.evs))
		if report != nil && time.Since(lastReport) > 200*time.Millisecond {
			lastReport = time.Now()
			report(progress())
		}
	}
	if err := ctx.Err(); err != nil {
		return cursor, err
	}
	if report != nil {
		report(progress())
	}
	return cursor, nil
}

// applyBatch applies decoded events into schema in a transaction of their
// own.
func (p *Projector) applyBatch(ctx context.Context, schemas []string, ps []Projection, evs []eventstore.Event) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck
	if err := useSchemas(ctx, tx, schemas...); err != nil {
		return err
	}
	if err := applyDecoded(ctx, tx, ps, evs); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// useSchemas points the transaction's unqualified table names at the given
// schemas first, then public (no schema: back to the live tables).
func useSchemas(ctx context.Context, tx pgx.Tx, schemas ...string) error {
	path := ""
	for _, sc := range schemas {
		path += pgx.Identifier{sc}.Sanitize() + ", "
	}
	_, err := tx.Exec(ctx, `SELECT set_config('search_path', $1, true)`, path+"public")
	return err
}

// readRange reads up to limit events of the given types after cursor and
// at or before until, in the readers' order. Events at or before a live
// checkpoint are all committed, so no snapshot rule is needed.
func readRange(ctx context.Context, q eventstore.Queryer, cursor, until eventstore.Cursor, limit int, types []string) ([]eventstore.Envelope, error) {
	rows, err := q.Query(ctx, `SELECT `+eventstore.EnvelopeColumns+` FROM events
		WHERE (transaction_id, position) > ($1::text::xid8, $2) AND (transaction_id, position) <= ($3::text::xid8, $4)
		  AND event_type = ANY($6)
		ORDER BY transaction_id, position LIMIT $5`,
		strconv.FormatUint(cursor.TxID, 10), cursor.Offset, strconv.FormatUint(until.TxID, 10), until.Offset, limit, types)
	if err != nil {
		return nil, err
	}
	return eventstore.ScanEnvelopes(rows)
}

// applyRangeTx applies up to limit events after cursor and at or before
// until (both in (transaction id, position) order) into schema, inside tx.
func applyRangeTx(ctx context.Context, store *eventstore.Store, tx pgx.Tx, schema string, pr Projection, cursor, until eventstore.Cursor, limit int) (int, eventstore.Cursor, error) {
	if err := useSchemas(ctx, tx, schema); err != nil {
		return 0, cursor, err
	}
	envs, err := readRange(ctx, tx, cursor, until, limit, eventTypes(pr))
	if err != nil || len(envs) == 0 {
		return 0, cursor, err
	}
	if err := applyChunk(ctx, store, tx, []Projection{pr}, envs); err != nil {
		return 0, cursor, err
	}
	return len(envs), envs[len(envs)-1].Cursor, nil
}

// finish takes the live projector's lock, so the live read model stops
// moving, and applies to the shadow copy whatever the live one applied
// meanwhile; then it hands the transaction (lock held) to then.
func (p *Projector) finish(ctx context.Context, schema string, pr Projection, cursor eventstore.Cursor, then func(pgx.Tx) error) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, p.lockKey()); err != nil {
		return err
	}
	target, err := liveCheckpoint(ctx, tx, pr.Name())
	if err != nil {
		return err
	}
	for {
		n, next, err := applyRangeTx(ctx, p.store, tx, schema, pr, cursor, target, replayBatch)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		cursor = next
	}
	if err := useSchemas(ctx, tx); err != nil {
		return err
	}
	if err := then(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (p *Projector) lockKey() int64 {
	names := make([]string, len(p.projections))
	for i, pr := range p.projections {
		names[i] = pr.Name()
	}
	return lockKey(fmt.Sprint(names))
}

// Rebuild rebuilds read models from the event store into new tables
// beside the live ones while the service keeps serving and writing: one
// pass over the events fills them all, then each is caught up with its live
// read model and swapped in atomically, one after the other. It answers
// which were swapped in. An interrupted rebuild leaves the live tables of
// the others untouched; starting again starts over.
func (p *Projector) Rebuild(ctx context.Context, names []string, report func(Progress)) ([]string, error) {
	ps, shadows, err := p.shadows(ctx, "rebuild_", names)
	if err != nil {
		return nil, err
	}
	cursor, err := p.fill(ctx, shadows, ps, report)
	if err != nil {
		return nil, err
	}
	var swapped []string
	for i, pr := range ps {
		if err := p.swapIn(ctx, shadows[i], pr, cursor); err != nil {
			return swapped, err
		}
		swapped = append(swapped, pr.Name())
		p.broadcast()
	}
	return swapped, nil
}

// swapIn catches a filled shadow copy up with the live read model and
// swaps the tables, their histories included: the read model's history is
// then whole, from the first event.
func (p *Projector) swapIn(ctx context.Context, shadow string, pr Projection, cursor eventstore.Cursor) error {
	name := pr.Name()
	retired := "retired_" + name
	return p.finish(ctx, shadow, pr, cursor, func(tx pgx.Tx) error {
		tables, err := withHistories(ctx, tx, pr.Tables())
		if err != nil {
			return err
		}
		r := pgx.Identifier{retired}.Sanitize()
		stmts := []string{`DROP SCHEMA IF EXISTS ` + r + ` CASCADE`, `CREATE SCHEMA ` + r}
		for _, t := range tables {
			id := pgx.Identifier{t}.Sanitize()
			stmts = append(stmts, `ALTER TABLE public.`+id+` SET SCHEMA `+r,
				`ALTER TABLE `+pgx.Identifier{shadow, t}.Sanitize()+` SET SCHEMA public`)
		}
		// The asof views bound to the retired tables go with them: made
		// again on the new ones.
		stmts = append(stmts, `DROP SCHEMA `+pgx.Identifier{shadow}.Sanitize(), `DROP SCHEMA `+r+` CASCADE`)
		for _, t := range tables {
			if slices.Contains(tables, historyOf(t)) {
				stmts = append(stmts, `SELECT rm_asof_view(`+quoteLiteral(t)+`)`)
			}
		}
		for _, q := range stmts {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("swap %s: %w", name, err)
			}
		}
		_, err = tx.Exec(ctx, `UPDATE projection_checkpoints SET history_since = '-infinity' WHERE name = $1`, name)
		return err
	})
}

// quoteLiteral is s as an SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Difference is a row that a live read model and a fresh replay disagree on.
type Difference struct {
	Projection string `json:"projection"`
	Table      string `json:"table"`
	// Side is "live_only" (the live table has a row the replay has not) or
	// "replay_only".
	Side string `json:"side"`
	Row  string `json:"row"`
}

func (d Difference) String() string {
	return d.Projection + " " + d.Table + " " + strings.ReplaceAll(d.Side, "_", " ") + ": " + d.Row
}

// Verify replays the events into scratch tables and compares them with the
// live read models at the same position, reporting every difference (at
// most 100 per table).
func (p *Projector) Verify(ctx context.Context, names []string, report func(Progress)) ([]Difference, error) {
	if len(names) == 0 {
		for _, pr := range p.projections {
			names = append(names, pr.Name())
		}
	}
	ps, scratches, err := p.shadows(ctx, "verify_", names)
	defer func() {
		for _, sc := range scratches {
			_, _ = p.pool.Exec(context.WithoutCancel(ctx), `DROP SCHEMA IF EXISTS `+pgx.Identifier{sc}.Sanitize()+` CASCADE`)
		}
	}()
	if err != nil {
		return nil, err
	}
	// One pass fills every scratch copy; each is then caught up and
	// compared under the projector's lock.
	cursor, err := p.fill(ctx, scratches, ps, report)
	if err != nil {
		return nil, err
	}
	var diffs []Difference
	for i, pr := range ps {
		name, scratch := names[i], scratches[i]
		err := p.finish(ctx, scratch, pr, cursor, func(tx pgx.Tx) error {
			// A read model whose history is whole is compared with it,
			// instants included; one that kept rows from before migration
			// 014 has no past to compare, and rows of unknown valid_from.
			var whole bool
			if err := tx.QueryRow(ctx, `SELECT history_since = '-infinity' FROM projection_checkpoints WHERE name = $1`, name).Scan(&whole); err != nil {
				return err
			}
			tables := pr.Tables()
			if whole {
				var err error
				if tables, err = withHistories(ctx, tx, tables); err != nil {
					return err
				}
			}
			for _, t := range tables {
				live, replay := `public.`+pgx.Identifier{t}.Sanitize(), pgx.Identifier{scratch, t}.Sanitize()
				cols := "*"
				if !whole {
					var err error
					if cols, err = columnsBut(ctx, tx, t, "valid_from"); err != nil {
						return err
					}
				}
				rows, err := tx.Query(ctx, `
					(SELECT 'live_only', row_to_json(x)::text FROM (SELECT `+cols+` FROM `+live+` EXCEPT ALL SELECT `+cols+` FROM `+replay+`) x LIMIT 100)
					UNION ALL
					(SELECT 'replay_only', row_to_json(x)::text FROM (SELECT `+cols+` FROM `+replay+` EXCEPT ALL SELECT `+cols+` FROM `+live+`) x LIMIT 100)`)
				if err != nil {
					return fmt.Errorf("compare %s: %w", t, err)
				}
				for rows.Next() {
					d := Difference{Projection: name, Table: t}
					if err := rows.Scan(&d.Side, &d.Row); err != nil {
						rows.Close()
						return err
					}
					diffs = append(diffs, d)
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return diffs, nil
}

// columnsBut lists a live table's columns but one, for a select list.
func columnsBut(ctx context.Context, q eventstore.Queryer, table, but string) (string, error) {
	rows, err := q.Query(ctx, `SELECT quote_ident(attname) FROM pg_attribute
		WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attname <> $2 ORDER BY attnum`,
		pgx.Identifier{"public", table}.Sanitize(), but)
	if err != nil {
		return "", err
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return strings.Join(cols, ", "), err
}

// ByName returns the read models of the given names, in the order given.
func ByName(names ...string) ([]Projection, error) {
	all := All()
	out := make([]Projection, 0, len(names))
	for _, n := range names {
		found := false
		for _, pr := range all {
			if pr.Name() == n {
				out = append(out, pr)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("%w: %q", ErrUnknownProjection, n)
		}
	}
	return out, nil
}

// RebuildStatus is a rebuild's progress as the admin API shows it.
type RebuildStatus struct {
	State      string     `json:"state"`
	Applied    int64      `json:"applied"`
	Total      int64      `json:"total"`
	Rate       float64    `json:"events_per_second"`
	ETASeconds float64    `json:"eta_seconds"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Error      string     `json:"error,omitempty"`
}

// ErrRebuildRunning refuses a second rebuild of the same read model.
var ErrRebuildRunning = errors.New("a rebuild of this read model is already running")

// StartRebuild records a rebuild as running, refusing when one is already
// running (and alive: its progress moved in the last minute).
func (p *Projector) StartRebuild(ctx context.Context, name string) error {
	if _, err := p.projection(name); err != nil {
		return err
	}
	tag, err := p.pool.Exec(ctx, `
		INSERT INTO projection_rebuilds (name, state) VALUES ($1, 'running')
		ON CONFLICT (name) DO UPDATE SET state = 'running', applied = 0, total = 0, rate = 0, started_at = now(),
			updated_at = now(), finished_at = NULL, error = NULL
		 WHERE projection_rebuilds.state <> 'running' OR projection_rebuilds.updated_at < now() - interval '1 minute'`, name)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return ErrRebuildRunning
	}
	return nil
}

// rebuildGather is how long a rebuild waits for others to join it: read
// models whose rebuilds start together (an operator rebuilding all of them
// after a release) are filled in one pass over the events.
const rebuildGather = 250 * time.Millisecond

// rebuildGroup is the rebuilds that run as one pass.
type rebuildGroup struct {
	ctx     context.Context
	names   []string
	reports []func(Progress)
	done    chan struct{}
	err     error
}

// RunRebuild runs a started rebuild, recording its progress and outcome for
// the admin API. Rebuilds run within rebuildGather of each other share one
// pass, which outlives any one caller; each caller returns when the pass is
// done or when its own ctx ends.
func (p *Projector) RunRebuild(ctx context.Context, name string, report func(Progress)) error {
	if _, err := p.projection(name); err != nil {
		return err
	}
	p.rebuildMu.Lock()
	g := p.gathering
	if g == nil {
		g = &rebuildGroup{ctx: context.WithoutCancel(ctx), done: make(chan struct{})}
		p.gathering = g
		go p.runRebuildGroup(g)
	}
	if !slices.Contains(g.names, name) {
		g.names = append(g.names, name)
	}
	if report != nil {
		g.reports = append(g.reports, report)
	}
	p.rebuildMu.Unlock()
	select {
	case <-g.done:
		return g.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Projector) runRebuildGroup(g *rebuildGroup) {
	defer close(g.done)
	time.Sleep(rebuildGather)
	p.rebuildMu.Lock()
	p.gathering = nil
	p.rebuildMu.Unlock()
	g.err = p.RunRebuilds(g.ctx, g.names, func(pg Progress) {
		for _, r := range g.reports {
			r(pg)
		}
	})
}

// RunRebuilds runs started rebuilds of several read models in one pass,
// recording their progress and each one's outcome for the admin API.
func (p *Projector) RunRebuilds(ctx context.Context, names []string, report func(Progress)) error {
	bg := context.WithoutCancel(ctx)
	swapped, err := p.Rebuild(ctx, names, func(pg Progress) {
		_, _ = p.pool.Exec(bg, `UPDATE projection_rebuilds SET applied = $2, total = $3, rate = $4, updated_at = now() WHERE name = ANY($1)`,
			names, pg.Applied, pg.Total, pg.Rate)
		if report != nil {
			report(pg)
		}
	})
	finished := func(names []string, state, msg string) {
		_, _ = p.pool.Exec(bg, `UPDATE projection_rebuilds SET state = $2, error = nullif($3, ''), finished_at = now(), updated_at = now()
			WHERE name = ANY($1)`, names, state, msg)
	}
	finished(swapped, "done", "")
	if err != nil {
		var failed []string
		for _, n := range names {
			if !slices.Contains(swapped, n) {
				failed = append(failed, n)
			}
		}
		finished(failed, "failed", err.Error())
	}
	return err
}

// RebuildStatusOf returns the last rebuild of a read model, if any.
func (p *Projector) RebuildStatusOf(ctx context.Context, name string) (*RebuildStatus, error) {
	var st RebuildStatus
	var errText *string
	err := p.pool.QueryRow(ctx, `SELECT state, applied, total, rate, started_at, finished_at, error FROM projection_rebuilds WHERE name = $1`, name).
		Scan(&st.State, &st.Applied, &st.Total, &st.Rate, &st.StartedAt, &st.FinishedAt, &errText)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if errText != nil {
		st.Error = *errText
	}
	st.ETASeconds = Progress{Applied: st.Applied, Total: st.Total, Rate: st.Rate}.ETA().Seconds()
	st.StartedAt = st.StartedAt.UTC()
	return &st, nil
}
