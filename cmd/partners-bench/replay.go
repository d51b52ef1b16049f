package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	partners "partners/client"
	"partners/domain"
	"partners/eventstore"
	"partners/notify"
	"partners/projections"
)

// replayOpts sizes the history phase (point 4 of the issue).
type replayOpts struct {
	serverURL      string
	hubEvents      int // the hub organization's log: what the audit export streams
	asOfEvents     int // the as-of organization's log
	writers        int
	storiesPerTx   int
	templateEvents int // hub events of the template the loader replicates
	projectorBatch int
	sweepBatches   []int // projector batch sizes to compare (knob costs)
	sweepEvents    int   // events each sweep setting applies
	asOfRuns       int
	decodeEvents   int           // events scan+decode covers (0: all)
	stepCap        time.Duration // live projector time limit (0: none, <0: skip)
	rebuildCap     time.Duration // service rebuild time limit
	start          starter       // nil: no service measurements
	minter         *minter
	log            io.Writer
	keep           bool
}

// Rate is a count over a duration.
type Rate struct {
	Events    int64   `json:"events"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
}

func rate(n int64, d time.Duration) Rate {
	return Rate{Events: n, Seconds: round2(d.Seconds()), PerSecond: math.Round(float64(n) / max(d.Seconds(), 1e-9))}
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// SweepPoint is the in-process projector's catch-up rate at one batch size.
type SweepPoint struct {
	Batch int  `json:"batch"`
	Rate  Rate `json:"rate"`
	// Transactions is how many projector transactions the catch-up took.
	Transactions int `json:"transactions"`
}

// RebuildReport is the service's own rebuild of every read model.
type RebuildReport struct {
	Mode     string            `json:"mode"`
	Models   int               `json:"read_models"`
	Wall     Rate              `json:"wall"` // stored events / wall time until every model is rebuilt
	PerModel map[string]Rate   `json:"per_model"`
	Memory   *Memory           `json:"memory"`
	Failed   map[string]string `json:"failed,omitempty"`
	// Finished is false when the time limit came first; Wall is then
	// estimated from the slowest model's progress.
	Finished  bool `json:"finished"`
	Estimated bool `json:"estimated"`
}

// AsOfReport is the latency of as-of answers on the as-of organization.
type AsOfReport struct {
	Query    string  `json:"query"`
	Replayed int     `json:"events_replayed"`
	Latency  Latency `json:"latency"`
	LiveP50  float64 `json:"live_p50_ms"`
}

// ExportReport is one audit export.
type ExportReport struct {
	Format string  `json:"format"`
	Rows   int64   `json:"rows"`
	Bytes  int64   `json:"bytes"`
	Rate   Rate    `json:"rate"`
	Memory *Memory `json:"memory"`
	// RSSAtQuarters is the service's RSS (MB) at 25, 50, 75 and 100% of the
	// rows: flat means constant memory.
	RSSAtQuarters []float64 `json:"rss_mb_at_quarters"`
	// Complete is false when the answer ended before the last row; Cut
	// then says how.
	Complete bool   `json:"complete"`
	Cut      string `json:"cut,omitempty"`
}

// ReplayReport is point 4 (and the rebuild half of point 5).
type ReplayReport struct {
	StoredEvents int64 `json:"stored_events"`
	// TemplateEvents were appended by the event store and replicated
	// Copies times by SQL (see loadHistory).
	TemplateEvents int64 `json:"template_events"`
	Copies         int   `json:"copies"`
	HubEvents      int   `json:"hub_log_events"`
	AsOfEvents     int   `json:"asof_log_events"`
	Load           Rate  `json:"load"`
	// Scan is a plain SQL read of the events table in the readers' order.
	Scan Rate `json:"sql_scan"`
	// ScanDecode also opens the sealed personal data and decodes each event
	// (what every replay pays before any read-model write).
	ScanDecode Rate `json:"scan_and_decode"`
	// Upsert applies the events to one table, one batched upsert per 1,000.
	Upsert Rate `json:"one_table_upsert"`
	// Projector is every read model together, one pass over the log, with
	// the service's decoder and handlers (applyAll).
	Projector Rate         `json:"projector_all_models"`
	Sweep     []SweepPoint `json:"projector_batch_sweep"`
	// LiveProjector is projections.Projector.Step itself from an empty
	// state over the outbox (capped in time).
	LiveProjector     *SweepPoint    `json:"live_projector,omitempty"`
	LiveProjectorDone bool           `json:"live_projector_finished"`
	Rebuild           *RebuildReport `json:"service_rebuild,omitempty"`
	AsOf              []AsOfReport   `json:"as_of,omitempty"`
	Export            *ExportReport  `json:"export,omitempty"`
	Notes             []string       `json:"notes,omitempty"`
}

// history is what the loader wrote.
type history struct {
	db      *scratchDB
	pool    *pgxpool.Pool
	store   *eventstore.Store
	hub     *orgState
	asOf    *orgState
	stored  int64
	hubN    int
	asOfN   int
	endedAt time.Time
}

func runReplay(ctx context.Context, o replayOpts) (*ReplayReport, error) {
	rep := &ReplayReport{}
	db, err := createScratch(ctx, o.serverURL, "replay")
	if err != nil {
		return rep, err
	}
	if !o.keep {
		defer db.Drop()
	} else {
		fmt.Fprintf(o.log, "keeping the history database %s\n", db.Name)
	}
	pool, err := openPool(ctx, db.URL, int32(o.writers+4))
	if err != nil {
		return rep, err
	}
	defer pool.Close()
	h, err := loadHistory(ctx, db, pool, o, rep)
	if err != nil {
		return rep, err
	}
	fmt.Fprintf(o.log, "history: %d events stored (hub log %d, as-of log %d) at %.0f events/s\n",
		h.stored, h.hubN, h.asOfN, rep.Load.PerSecond)

	if rep.Scan, err = scanEvents(ctx, pool); err != nil {
		return rep, fmt.Errorf("scan: %w", err)
	}
	fmt.Fprintf(o.log, "sql scan: %.0f events/s\n", rep.Scan.PerSecond)
	if rep.ScanDecode, err = scanDecode(ctx, h, int64(o.decodeEvents)); err != nil {
		return rep, fmt.Errorf("scan and decode: %w", err)
	}
	fmt.Fprintf(o.log, "scan + decode: %.0f events/s\n", rep.ScanDecode.PerSecond)
	if rep.Upsert, err = upsertOneTable(ctx, pool); err != nil {
		return rep, fmt.Errorf("one-table upsert: %w", err)
	}
	fmt.Fprintf(o.log, "one-table batched upsert: %.0f events/s\n", rep.Upsert.PerSecond)

	if o.stepCap >= 0 {
		live, done, err := projectLive(ctx, h, o.projectorBatch, 0, o.stepCap)
		if err != nil {
			return rep, fmt.Errorf("live projector: %w", err)
		}
		rep.LiveProjector, rep.LiveProjectorDone = &live, done
		fmt.Fprintf(o.log, "live projector (Step over the outbox), batch %d: %.0f events/s (finished: %v)\n", o.projectorBatch, live.Rate.PerSecond, done)
	}
	for _, b := range o.sweepBatches {
		if b == o.projectorBatch {
			continue
		}
		pt, err := applyAll(ctx, h, b, int64(o.sweepEvents))
		if err != nil {
			return rep, fmt.Errorf("projector batch %d: %w", b, err)
		}
		rep.Sweep = append(rep.Sweep, pt)
		fmt.Fprintf(o.log, "every read model, batch %d, first %d events: %.0f events/s\n", b, pt.Rate.Events, pt.Rate.PerSecond)
	}
	full, err := applyAll(ctx, h, o.projectorBatch, 0)
	if err != nil {
		return rep, fmt.Errorf("every read model: %w", err)
	}
	rep.Projector = full.Rate
	rep.Sweep = append(rep.Sweep, full)
	sort.Slice(rep.Sweep, func(i, j int) bool { return rep.Sweep[i].Batch < rep.Sweep[j].Batch })
	fmt.Fprintf(o.log, "every read model in one pass, batch %d: %.0f events/s\n", o.projectorBatch, rep.Projector.PerSecond)

	if o.start == nil {
		rep.Notes = append(rep.Notes, "service rebuild, as-of and export not measured: no service to start on the history database (-url mode)")
		return rep, nil
	}
	if err := handOver(ctx, pool); err != nil {
		return rep, err
	}
	svc, err := o.start(ctx, db.URL, nil)
	if err != nil {
		return rep, err
	}
	defer svc.Stop() //nolint:errcheck
	admin := &user{Sub: "bench-admin", Email: "ops@bench.example", Name: "Bench ops"}
	if err := o.minter.sign(admin, true); err != nil {
		return rep, err
	}
	hc := newHTTPClient(4)
	defer hc.CloseIdleConnections()

	if rep.AsOf, err = measureAsOf(ctx, hc, svc, o, h, &rep.Notes); err != nil {
		return rep, err
	}
	if rep.Export, err = measureExport(ctx, hc, svc, o, h, &rep.Notes); err != nil {
		return rep, err
	}
	if rep.Rebuild, err = measureRebuild(ctx, hc, svc, admin, h, o.rebuildCap, o.log, &rep.Notes); err != nil {
		return rep, err
	}
	return rep, nil
}

// loadHistory writes the synthetic history: a hub organization whose log
// gets exactly hubEvents events (a national client with a large partner
// network, its portal and its team), an as-of organization with exactly
// asOfEvents, and the partners they invite.
//
// Every story goes through the real event store (eventstore.Store.Append:
// sealed personal data, outbox rows, organization index). To reach a
// million events in a minute or two rather than many, a template of hub
// stories is appended for real, then replicated by SQL with fresh ids (the
// generator marks its ids so that a text replace renews them): rows,
// outbox payloads and index entries of each copy are those the event store
// would have written, the copies' personal data stays sealed under the
// template's persons' keys. The as-of organization's stories and the
// remainder are appended for real.
func loadHistory(ctx context.Context, db *scratchDB, pool *pgxpool.Pool, o replayOpts, rep *ReplayReport) (*history, error) {
	keys, err := eventstore.NewKeyring(eventstore.DevelopmentDataKey)
	if err != nil {
		return nil, err
	}
	// Recorded instants advance a second per append and each copy is
	// shifted past the previous one; all of it ends long before now, so an
	// as-of "now" sees every event.
	base := time.Now().Add(-90 * 24 * time.Hour).UTC().Truncate(time.Microsecond)
	var tick atomic.Int64
	clock := func() time.Time { return base.Add(time.Duration(tick.Add(1)) * time.Second) }
	store := eventstore.New(pool, keys, clock)
	g := newGen(keys, 42, base)
	h := &history{db: db, pool: pool, store: store}

	// The secondary indexes of the events table are built once at the end
	// instead of row by row (the GIN ones above all): the same schema,
	// bulk-loaded the way an operator would.
	rebuildIndexes, err := dropSecondaryIndexes(ctx, pool)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	hubStory, hub := g.newOrg(domain.SideClient)
	hub.name = "Bâtisseurs Nationaux"
	asStory, asOf := g.newOrg(domain.SideClient)
	h.hub, h.asOf = hub, asOf
	for _, s := range []*story{hubStory, asStory} {
		if _, err := store.Append(ctx, s.batch); err != nil {
			return nil, err
		}
	}
	h.hubN, h.asOfN = 2, 2
	w := newAppender(ctx, store, o.writers, o.storiesPerTx)
	defer w.close()
	progress := func(what string) {
		var n int64
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n)
		fmt.Fprintf(o.log, "  loading: %s, %d events (%.0f/s)\n", what, n, float64(n)/time.Since(start).Seconds())
	}

	// 1. The template: marked hub stories, appended for real.
	hubLeft := o.hubEvents - 2
	target := min(hubLeft, max(o.templateEvents, 1))
	var lo, hi int64
	if err := pool.QueryRow(ctx, `SELECT coalesce(max(position), 0) + 1 FROM events`).Scan(&lo); err != nil {
		return nil, err
	}
	g.template = true
	tplHub := 0
	tickBefore := tick.Load()
	for tplHub < target && ctx.Err() == nil {
		s := g.hubStory(hub, target-tplHub)
		tplHub += s.touched[hub.id]
		if err := w.add(s); err != nil {
			return nil, err
		}
	}
	g.template = false
	if err := w.wait(); err != nil {
		return nil, err
	}
	if err := pool.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM events`).Scan(&hi); err != nil {
		return nil, err
	}
	span := tick.Load() - tickBefore + 1
	copies := max(hubLeft/max(tplHub, 1), 1)
	progress(fmt.Sprintf("template of %d hub events", tplHub))

	asOfStories := func() error {
		asLeft := o.asOfEvents - 2
		for asLeft > 0 && ctx.Err() == nil {
			s := g.asOfStory(asOf, asLeft)
			asLeft -= s.touched[asOf.id]
			h.asOfN += s.touched[asOf.id]
			if err := w.add(s); err != nil {
				return err
			}
		}
		return w.wait()
	}
	// 2. Copies 1..copies-1 by SQL, the as-of organization's stories in
	// the middle of them.
	for k := 1; k < copies && ctx.Err() == nil; k++ {
		if k == copies/2 {
			if err := asOfStories(); err != nil {
				return nil, err
			}
		}
		if err := replicate(ctx, pool, lo, hi, k, time.Duration(int64(k)*span)*time.Second); err != nil {
			return nil, fmt.Errorf("copy %d of the template: %w", k, err)
		}
		if k%10 == 0 {
			progress(fmt.Sprintf("copy %d/%d", k, copies-1))
		}
	}
	if copies < 2 {
		if err := asOfStories(); err != nil {
			return nil, err
		}
	}
	h.hubN += copies * tplHub
	// 3. The remainder, for real, to land on the hub's target exactly.
	for rem := o.hubEvents - h.hubN; rem > 0 && ctx.Err() == nil; {
		s := g.hubStory(hub, rem)
		rem -= s.touched[hub.id]
		h.hubN += s.touched[hub.id]
		if err := w.add(s); err != nil {
			return nil, err
		}
	}
	if err := w.wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := rebuildIndexes(); err != nil {
		return nil, err
	}
	// autovacuum is off on this server: give the planner statistics and the
	// visibility map, as any operator would after a bulk load.
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return nil, err
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&h.stored); err != nil {
		return nil, err
	}
	rep.Load = rate(h.stored, time.Since(start))
	h.endedAt = clock().Add(time.Duration(int64(copies)*span) * time.Second)
	rep.StoredEvents, rep.HubEvents, rep.AsOfEvents = h.stored, h.hubN, h.asOfN
	rep.TemplateEvents, rep.Copies = hi-lo+1, copies
	return h, nil
}

// replicate appends copy k of the template rows (positions lo..hi): every
// marked id renewed, recorded instants shifted, with their organization
// index entries and outbox rows (the payload is the envelope the event
// store writes), in one transaction.
func replicate(ctx context.Context, pool *pgxpool.Pool, lo, hi int64, k int, shift time.Duration) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck
	// The copy's rows are sorted once in memory rather than on disk.
	if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '256MB'`); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `
		WITH src AS (
			SELECT * FROM events WHERE position BETWEEN $1 AND $2 AND strpos(stream_id, $3) > 0),
		ins AS (
			INSERT INTO events (event_id, stream_id, stream_type, stream_version, event_type, schema_version,
			                    data, metadata, organization_ids, person_refs, recorded_at)
			SELECT replace(event_id::text, $3, $4)::uuid, replace(stream_id, $3, $4), stream_type, stream_version,
			       event_type, schema_version, replace(data::text, $3, $4)::jsonb, metadata,
			       replace(organization_ids::text, $3, $4)::uuid[], person_refs, recorded_at + $5::interval
			  FROM src ORDER BY position
			RETURNING *),
		idx AS (
			INSERT INTO event_organizations (organization_id, transaction_id, position)
			SELECT o, transaction_id, position FROM ins, unnest(organization_ids) AS o),
		streams AS (
			INSERT INTO organization_streams (organization_id, stream_id)
			SELECT DISTINCT o, stream_id FROM ins, unnest(organization_ids) AS o
			ON CONFLICT DO NOTHING)
		INSERT INTO watermill_events (uuid, payload, metadata, transaction_id)
		SELECT event_id::text,
		       json_build_object('position', position, 'event_id', event_id, 'stream_id', stream_id, 'stream_type', stream_type,
		                         'stream_version', stream_version, 'type', event_type, 'schema_version', schema_version,
		                         'data', data, 'metadata', metadata, 'organization_ids', organization_ids, 'recorded_at', recorded_at),
		       json_build_object('event_type', event_type, 'position', position::text),
		       transaction_id
		  FROM ins ORDER BY position`,
		lo, hi, templatePrefix, copyPrefix(k), shift.String())
	if err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// appender appends stories with a few writers, several stories per
// transaction. Stories that append to an existing stream (a hub's member)
// go through one writer of their own, so writers never race on a version.
type appender struct {
	ctx      context.Context
	cancel   context.CancelFunc
	store    *eventstore.Store
	per      int
	parallel chan eventstore.Batch
	serial   chan eventstore.Batch
	pending  sync.WaitGroup
	workers  sync.WaitGroup
	mu       sync.Mutex
	err      error
	par, ser *eventstore.Batch
	parN     int
	serN     int
}

func newAppender(ctx context.Context, store *eventstore.Store, writers, per int) *appender {
	ctx, cancel := context.WithCancel(ctx)
	a := &appender{ctx: ctx, cancel: cancel, store: store, per: max(per, 1),
		parallel: make(chan eventstore.Batch, 2*writers), serial: make(chan eventstore.Batch, 2)}
	run := func(in <-chan eventstore.Batch) {
		defer a.workers.Done()
		for b := range in {
			if a.ctx.Err() == nil {
				if _, err := a.store.Append(a.ctx, b); err != nil {
					a.mu.Lock()
					a.err = errors.Join(a.err, err)
					a.mu.Unlock()
					a.cancel()
				}
			}
			a.pending.Done()
		}
	}
	for i := 0; i < max(writers, 1); i++ {
		a.workers.Add(1)
		go run(a.parallel)
	}
	a.workers.Add(1)
	go run(a.serial)
	return a
}

func (a *appender) failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	return a.ctx.Err()
}

func (a *appender) add(s *story) error {
	existing := false
	for _, st := range s.batch.Streams {
		existing = existing || st.Expected == eventstore.Any
	}
	target, n, out := &a.par, &a.parN, a.parallel
	if existing {
		target, n, out = &a.ser, &a.serN, a.serial
	}
	if *target == nil {
		b := s.batch
		*target = &b
	} else {
		(*target).Streams = append((*target).Streams, s.batch.Streams...)
	}
	*n++
	if *n >= a.per {
		return a.send(target, n, out)
	}
	return nil
}

func (a *appender) send(b **eventstore.Batch, n *int, out chan<- eventstore.Batch) error {
	if *b == nil {
		return nil
	}
	a.pending.Add(1)
	select {
	case out <- **b:
	case <-a.ctx.Done():
		a.pending.Done()
		return a.failed()
	}
	*b, *n = nil, 0
	return nil
}

// wait sends what is queued and waits until every batch is written.
func (a *appender) wait() error {
	if err := a.send(&a.par, &a.parN, a.parallel); err != nil {
		return err
	}
	if err := a.send(&a.ser, &a.serN, a.serial); err != nil {
		return err
	}
	a.pending.Wait()
	return a.failed()
}

func (a *appender) close() {
	close(a.parallel)
	close(a.serial)
	a.workers.Wait()
	a.cancel()
}

// dropSecondaryIndexes drops the events table's indexes that back no
// constraint and returns a function that creates them again, as they were.
func dropSecondaryIndexes(ctx context.Context, pool *pgxpool.Pool) (func() error, error) {
	rows, err := pool.Query(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
		FROM pg_index i
		WHERE i.indrelid = 'events'::regclass
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`)
	if err != nil {
		return nil, err
	}
	var names, defs []string
	for rows.Next() {
		var n, d string
		if err := rows.Scan(&n, &d); err != nil {
			rows.Close()
			return nil, err
		}
		names, defs = append(names, n), append(defs, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, err := pool.Exec(ctx, `DROP INDEX `+n); err != nil {
			return nil, err
		}
	}
	return func() error {
		for _, d := range defs {
			if _, err := pool.Exec(ctx, d); err != nil {
				return fmt.Errorf("recreate index: %w", err)
			}
		}
		return nil
	}, nil
}

const scanColumns = `position, transaction_id::text AS txid, event_id, stream_id, stream_type, stream_version,
	event_type, schema_version, data::text, metadata::text, organization_ids, recorded_at`

// scanEvents reads every event row in the readers' order with one query.
func scanEvents(ctx context.Context, pool *pgxpool.Pool) (Rate, error) {
	start := time.Now()
	rows, err := pool.Query(ctx, `SELECT `+scanColumns+` FROM events ORDER BY transaction_id, position`)
	if err != nil {
		return Rate{}, err
	}
	defer rows.Close()
	var n int64
	var pos int64
	var tx, stream, stype, etype, data, meta string
	var id uuid.UUID
	var ver, schema int
	var orgs []uuid.UUID
	var at time.Time
	for rows.Next() {
		if err := rows.Scan(&pos, &tx, &id, &stream, &stype, &ver, &etype, &schema, &data, &meta, &orgs, &at); err != nil {
			return Rate{}, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return Rate{}, err
	}
	return rate(n, time.Since(start)), nil
}

// pageSQL is the rebuild's read: the next 1,000 events in the readers'
// order after a cursor.
const pageSQL = `SELECT ` + scanColumns + ` FROM events
	WHERE (transaction_id, position) > ($1::text::xid8, $2) ORDER BY transaction_id, position LIMIT $3`

func scanDecode(ctx context.Context, h *history, limit int64) (Rate, error) {
	start := time.Now()
	var cur eventstore.Cursor
	var n int64
	for limit == 0 || n < limit {
		rows, err := h.pool.Query(ctx, pageSQL, strconv.FormatUint(cur.TxID, 10), cur.Offset, 1000)
		if err != nil {
			return Rate{}, err
		}
		envs, err := eventstore.ScanEnvelopes(rows)
		if err != nil {
			return Rate{}, err
		}
		if len(envs) == 0 {
			return rate(n, time.Since(start)), nil
		}
		if _, err := h.store.Decode(ctx, h.pool, envs); err != nil {
			return Rate{}, err
		}
		n += int64(len(envs))
		cur = envs[len(envs)-1].Cursor
	}
	return rate(n, time.Since(start)), nil
}

// upsertOneTable applies every event to one table (one row per stream:
// version, last type and position, event count) with one batched upsert per
// 1,000 events, each batch read and written in its own transaction: the
// floor of what applying a log costs on this server.
func upsertOneTable(ctx context.Context, pool *pgxpool.Pool) (Rate, error) {
	if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS bench_streams;
		CREATE TABLE bench_streams (stream_id text PRIMARY KEY, stream_type text NOT NULL, version integer NOT NULL,
			last_type text NOT NULL, last_position bigint NOT NULL, events integer NOT NULL, updated_at timestamptz NOT NULL)`); err != nil {
		return Rate{}, err
	}
	start := time.Now()
	var curTx string = "0"
	var curPos int64
	var n int64
	for {
		tx, err := pool.Begin(ctx)
		if err != nil {
			return Rate{}, err
		}
		rows, err := tx.Query(ctx, `SELECT transaction_id::text AS txid, position, stream_id, stream_type, stream_version, event_type, recorded_at
			FROM events WHERE (transaction_id, position) > ($1::text::xid8, $2) ORDER BY transaction_id, position LIMIT 1000`, curTx, curPos)
		if err != nil {
			_ = tx.Rollback(ctx)
			return Rate{}, err
		}
		type row struct {
			typ, last string
			ver       int32
			pos       int64
			count     int32
			at        time.Time
		}
		byStream := map[string]*row{}
		var order []string
		got := 0
		for rows.Next() {
			var stream, typ, etype string
			var ver int32
			var at time.Time
			if err := rows.Scan(&curTx, &curPos, &stream, &typ, &ver, &etype, &at); err != nil {
				rows.Close()
				_ = tx.Rollback(ctx)
				return Rate{}, err
			}
			got++
			r := byStream[stream]
			if r == nil {
				r = &row{typ: typ}
				byStream[stream] = r
				order = append(order, stream)
			}
			r.ver, r.last, r.pos, r.at = ver, etype, curPos, at
			r.count++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			_ = tx.Rollback(ctx)
			return Rate{}, err
		}
		if got == 0 {
			_ = tx.Rollback(ctx)
			return rate(n, time.Since(start)), nil
		}
		ids := make([]string, len(order))
		types, lasts := make([]string, len(order)), make([]string, len(order))
		vers, counts := make([]int32, len(order)), make([]int32, len(order))
		poss := make([]int64, len(order))
		ats := make([]time.Time, len(order))
		for i, s := range order {
			r := byStream[s]
			ids[i], types[i], lasts[i], vers[i], counts[i], poss[i], ats[i] = s, r.typ, r.last, r.ver, r.count, r.pos, r.at
		}
		if _, err := tx.Exec(ctx, `INSERT INTO bench_streams (stream_id, stream_type, version, last_type, last_position, events, updated_at)
			SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::bigint[], $6::int[], $7::timestamptz[])
			ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, last_type = excluded.last_type,
				last_position = excluded.last_position, events = bench_streams.events + excluded.events, updated_at = excluded.updated_at`,
			ids, types, vers, lasts, poss, counts, ats); err != nil {
			_ = tx.Rollback(ctx)
			return Rate{}, err
		}
		if err := tx.Commit(ctx); err != nil {
			return Rate{}, err
		}
		n += int64(got)
	}
}

// applyAll is the rebuild of every read model in one pass, measured with
// the service's own pieces: the events table read in the readers' order
// (the rebuild's source), eventstore.Store.Decode, every projection's Apply
// queued into one projections.Writer, the checkpoints updated, one
// pipelined round trip and one commit per batch, exactly as
// projections.Projector.Step does with the outbox. It reads with a correct
// index-order query, so it measures the read models' cost whatever the
// state of the outbox query (see BENCHMARKS.md).
func applyAll(ctx context.Context, h *history, batch int, limit int64) (SweepPoint, error) {
	all := projections.All()
	if err := resetReadModels(ctx, h.pool, all); err != nil {
		return SweepPoint{}, err
	}
	start := time.Now()
	var cur eventstore.Cursor
	var n int64
	steps := 0
	for limit == 0 || n < limit {
		k, next, err := applyBatch(ctx, h, all, cur, batch)
		if err != nil {
			return SweepPoint{}, err
		}
		if k == 0 {
			break
		}
		cur = next
		n += int64(k)
		steps++
	}
	return SweepPoint{Batch: batch, Rate: rate(n, time.Since(start)), Transactions: steps}, nil
}

func applyBatch(ctx context.Context, h *history, all []projections.Projection, cur eventstore.Cursor, batch int) (int, eventstore.Cursor, error) {
	tx, err := h.pool.Begin(ctx)
	if err != nil {
		return 0, cur, err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck
	rows, err := tx.Query(ctx, pageSQL, strconv.FormatUint(cur.TxID, 10), cur.Offset, batch)
	if err != nil {
		return 0, cur, err
	}
	envs, err := eventstore.ScanEnvelopes(rows)
	if err != nil || len(envs) == 0 {
		return 0, cur, err
	}
	evs, err := h.store.Decode(ctx, tx, envs)
	if err != nil {
		return 0, cur, err
	}
	w := projections.NewWriter()
	last := evs[len(evs)-1]
	for _, pr := range all {
		for i := range evs {
			w.Apply(pr, &evs[i]) // stamped: the as-of answers read the history it keeps
		}
		w.Exec(`UPDATE projection_checkpoints SET transaction_id = $2::text::xid8, position = $3, last_recorded_at = $4, updated_at = now()
			WHERE name = $1`, pr.Name(), strconv.FormatUint(last.Cursor.TxID, 10), last.Position, last.RecordedAt)
	}
	if err := tx.SendBatch(ctx, w.Batch()).Close(); err != nil {
		return 0, cur, err
	}
	return len(evs), last.Cursor, tx.Commit(ctx)
}

// resetReadModels empties every read model, its history included, and
// puts its checkpoint before the first event.
func resetReadModels(ctx context.Context, pool *pgxpool.Pool, all []projections.Projection) error {
	for _, pr := range all {
		for _, t := range pr.Tables() {
			if _, err := pool.Exec(ctx, `TRUNCATE `+pgx.Identifier{t}.Sanitize()); err != nil {
				return err
			}
			var kept bool
			if err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, pgx.Identifier{"public", t + "_history"}.Sanitize()).Scan(&kept); err != nil {
				return err
			}
			if !kept {
				continue
			}
			if _, err := pool.Exec(ctx, `TRUNCATE `+pgx.Identifier{t + "_history"}.Sanitize()); err != nil {
				return err
			}
		}
	}
	if err := projections.EnsureCheckpoints(ctx, pool, all); err != nil {
		return err
	}
	_, err := pool.Exec(ctx, `UPDATE projection_checkpoints SET transaction_id = '0', outbox_offset = 0, position = 0, last_recorded_at = NULL`)
	return err
}

// projectLive runs the live projector's own driver
// (projections.Projector.Step, reading the outbox) from an empty state,
// for at most limit events or until cap elapses.
func projectLive(ctx context.Context, h *history, batch int, limit int64, cap time.Duration) (SweepPoint, bool, error) {
	all := projections.All()
	if err := resetReadModels(ctx, h.pool, all); err != nil {
		return SweepPoint{}, false, err
	}
	p := projections.NewProjector(h.store, slog.New(slog.NewTextHandler(io.Discard, nil)), all...)
	p.BatchSize = batch
	start := time.Now()
	want := h.stored
	if limit > 0 {
		want = min(want, limit)
	}
	var n int64
	steps := 0
	var idleSince time.Time
	for n < want {
		if cap > 0 && time.Since(start) > cap {
			return SweepPoint{Batch: batch, Rate: rate(n, time.Since(start)), Transactions: steps}, false, nil
		}
		k, err := p.Step(ctx)
		if err != nil {
			return SweepPoint{}, false, err
		}
		if k == 0 {
			// A transaction open anywhere on the server (another test
			// package, another client) holds the reader's horizon back:
			// the history is all there, so wait for the horizon to pass.
			if idleSince.IsZero() {
				idleSince = time.Now()
			} else if time.Since(idleSince) > 30*time.Second {
				return SweepPoint{Batch: batch, Rate: rate(n, time.Since(start)), Transactions: steps}, false, nil
			}
			select {
			case <-ctx.Done():
				return SweepPoint{}, false, ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
			continue
		}
		idleSince = time.Time{}
		n += int64(k)
		steps++
	}
	return SweepPoint{Batch: batch, Rate: rate(n, time.Since(start)), Transactions: steps}, true, nil
}

// handOver prepares the history database for a service: every Watermill
// consumer group starts after the history (the loader's events must not
// send a million emails meanwhile) and the outbox, which every consumer has
// passed, is emptied (else the service's janitor would prune it during the
// measurements).
func handOver(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := pool.Exec(ctx, `
		INSERT INTO watermill_offsets_events (consumer_group, offset_acked, last_processed_transaction_id)
		SELECT $1, coalesce(max("offset"), 0), coalesce(max(transaction_id), '0') FROM watermill_events
		ON CONFLICT (consumer_group) DO UPDATE SET offset_acked = excluded.offset_acked,
			last_processed_transaction_id = excluded.last_processed_transaction_id`, notify.ConsumerGroup)
	if err != nil {
		return fmt.Errorf("consumer offsets: %w", err)
	}
	// The read models are complete (applyAll): their checkpoints go to the
	// end of the outbox, in its own terms.
	_, err = pool.Exec(ctx, `UPDATE projection_checkpoints SET (transaction_id, outbox_offset) =
		(SELECT transaction_id, "offset" FROM watermill_events ORDER BY transaction_id DESC, "offset" DESC LIMIT 1)
		WHERE EXISTS (SELECT 1 FROM watermill_events)`)
	if err != nil {
		return fmt.Errorf("checkpoints: %w", err)
	}
	_, err = pool.Exec(ctx, `TRUNCATE watermill_events`)
	return err
}

func ownerOf(o *orgState, m *minter) (*user, error) {
	u := &user{Sub: o.owner.sub, Email: o.owner.email, Name: o.owner.name}
	return u, m.sign(u, false)
}

func measureAsOf(ctx context.Context, hc *http.Client, svc *service, o replayOpts, h *history, notes *[]string) ([]AsOfReport, error) {
	owner, err := ownerOf(h.asOf, o.minter)
	if err != nil {
		return nil, err
	}
	c := &client{base: svc.URL, http: hc, rec: newRecorder()}
	asOf := h.endedAt.Add(time.Minute)
	org := h.asOf.id
	var out []AsOfReport
	for _, q := range []struct {
		name  string
		query func(asOf *time.Time) request
	}{
		{"partners", func(asOf *time.Time) request {
			return func(server string) (*http.Request, error) {
				return partners.NewGetV1OrganizationsOrgPartnersRequest(server, org, &partners.GetV1OrganizationsOrgPartnersParams{AsOf: asOf})
			}
		}},
		{"invitations/sent", func(asOf *time.Time) request {
			return func(server string) (*http.Request, error) {
				return partners.NewGetV1OrganizationsOrgInvitationsSentRequest(server, org, &partners.GetV1OrganizationsOrgInvitationsSentParams{AsOf: asOf})
			}
		}},
	} {
		endpoint := "GET /v1/organizations/{org}/" + q.name
		// The live answer, for scale.
		if _, err := c.call(ctx, endpoint, owner, q.query(nil), http.StatusOK); err != nil {
			*notes = append(*notes, fmt.Sprintf("as-of %s not measured: live query failed: %v", q.name, err))
			continue
		}
		var ds []time.Duration
		failed := false
		for i := 0; i < o.asOfRuns && ctx.Err() == nil; i++ {
			start := time.Now()
			r, err := c.call(ctx, endpoint, owner, q.query(&asOf), http.StatusOK)
			if err != nil {
				*notes = append(*notes, fmt.Sprintf("as-of %s not measured: %v", q.name, err))
				failed = true
				break
			}
			if i == 0 {
				var list struct {
					Items []json.RawMessage `json:"items"`
				}
				if json.Unmarshal(r.body, &list) != nil || len(list.Items) == 0 {
					*notes = append(*notes, fmt.Sprintf("as-of %s answered no items (as_of not supported yet?)", q.name))
				}
			}
			ds = append(ds, time.Since(start))
		}
		if failed || len(ds) == 0 {
			continue
		}
		live := summarize(c.rec.eps[endpoint].ok[:1], 0)
		out = append(out, AsOfReport{Query: q.name, Replayed: h.asOfN, Latency: summarize(ds, 0), LiveP50: live.P50})
		fmt.Fprintf(o.log, "as-of %s over %d events: p50 %.1f ms, p95 %.1f ms\n", q.name, h.asOfN, out[len(out)-1].Latency.P50, out[len(out)-1].Latency.P95)
	}
	return out, ctx.Err()
}

// exportLimit bounds the audit export's measurement.
const exportLimit = 10 * time.Minute

func measureExport(ctx context.Context, hc *http.Client, svc *service, o replayOpts, h *history, notes *[]string) (*ExportReport, error) {
	owner, err := ownerOf(h.hub, o.minter)
	if err != nil {
		return nil, err
	}
	// The client's 60 s limit is per request; an export of a long history
	// streams for longer, so it gets a limit of its own.
	ctx, cancel := context.WithTimeout(ctx, exportLimit)
	defer cancel()
	streaming := *hc
	streaming.Timeout = 0
	jsonl := partners.Jsonl
	req, err := partners.NewGetV1OrganizationsOrgAuditRequest(svc.URL, h.hub.id, &partners.GetV1OrganizationsOrgAuditParams{Format: &jsonl})
	if err != nil {
		return nil, err
	}
	req = req.WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+owner.Token)
	mem := watchMemory(svc.PID)
	start := time.Now()
	resp, err := streaming.Do(req)
	if err != nil {
		mem.Stop()
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		mem.Stop()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		*notes = append(*notes, fmt.Sprintf("audit export not measured: %d %s", resp.StatusCode, b))
		return nil, nil
	}
	rd := bufio.NewReaderSize(resp.Body, 1<<16)
	var rows, bytes int64
	quarter := int64(h.hubN / 4)
	var quarters []float64
	var cut error
	for {
		line, err := rd.ReadSlice('\n')
		bytes += int64(len(line))
		if len(line) > 0 && line[len(line)-1] == '\n' {
			rows++
			if quarter > 0 && rows%quarter == 0 && len(quarters) < 4 {
				rss, _, _ := procMem(svc.PID)
				quarters = append(quarters, mb(rss))
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			cut = err
			break
		}
	}
	rep := &ExportReport{Format: "jsonl", Rows: rows, Bytes: bytes, Rate: rate(rows, time.Since(start)), Memory: mem.Stop(),
		RSSAtQuarters: quarters, Complete: cut == nil && rows == int64(h.hubN)}
	if cut != nil {
		why := ""
		sleep(ctx, 200*time.Millisecond) // let the service write its log line
		if line := logged(svc.LogPath, "audit export interrupted"); line != "" {
			var l struct {
				Err string `json:"err"`
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.Err != "" {
				why = "; the service logged: " + l.Err
			}
		}
		rep.Cut = fmt.Sprintf("cut after %d of %d rows and %.1f s (%v%s)", rows, h.hubN, rep.Rate.Seconds, cut, why)
		*notes = append(*notes, "audit export "+rep.Cut)
	}
	if cut == nil && rows != int64(h.hubN) {
		*notes = append(*notes, fmt.Sprintf("audit export streamed %d rows, the hub's log has %d", rows, h.hubN))
	}
	fmt.Fprintf(o.log, "audit export: %d rows, %.1f MB in %.1f s (%.0f rows/s)\n", rows, float64(bytes)/1e6, rep.Rate.Seconds, rep.Rate.PerSecond)
	return rep, nil
}

type projectionStatus struct {
	Name    string `json:"name"`
	Rebuild *struct {
		State      string     `json:"state"`
		Applied    int64      `json:"applied"`
		StartedAt  time.Time  `json:"started_at"`
		FinishedAt *time.Time `json:"finished_at"`
		Error      string     `json:"error"`
	} `json:"rebuild"`
}

func projectionStatuses(ctx context.Context, c *client, admin *user) ([]projectionStatus, error) {
	r, err := c.get(ctx, "GET /v1/admin/projections", admin, 0, func(*int) request {
		return func(server string) (*http.Request, error) {
			return partners.NewGetV1AdminProjectionsRequest(server, nil)
		}
	})
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []projectionStatus `json:"items"`
	}
	return list.Items, r.decode(&list)
}

// measureRebuild asks the service to rebuild every read model at once
// through its admin API and waits until each is swapped in.
func measureRebuild(ctx context.Context, hc *http.Client, svc *service, admin *user, h *history, limit time.Duration, log io.Writer, notes *[]string) (*RebuildReport, error) {
	c := &client{base: svc.URL, http: hc, rec: newRecorder()}
	sts, err := projectionStatuses(ctx, c, admin)
	if err != nil {
		var skip *errSkip
		if errors.As(err, &skip) {
			*notes = append(*notes, "service rebuild not measured: no GET /v1/admin/projections")
			return nil, nil
		}
		return nil, err
	}
	rep := &RebuildReport{Mode: "every read model started together through POST /v1/admin/projections/{name}/rebuild",
		Models: len(sts), PerModel: map[string]Rate{}}
	mem := watchMemory(svc.PID)
	start := time.Now()
	for _, st := range sts {
		name := st.Name
		_, err := c.call(ctx, "POST /v1/admin/projections/{name}/rebuild", admin, func(server string) (*http.Request, error) {
			return partners.NewPostV1AdminProjectionsNameRebuildRequest(server, name)
		}, http.StatusAccepted)
		var skip *errSkip
		if errors.As(err, &skip) {
			mem.Stop()
			*notes = append(*notes, "service rebuild not measured: no POST /v1/admin/projections/{name}/rebuild")
			return nil, nil
		}
		if err != nil {
			mem.Stop()
			return nil, err
		}
	}
	fmt.Fprintf(log, "service rebuild of %d read models started (limit %s)\n", len(sts), limit)
	deadline := start.Add(limit)
	for {
		sleep(ctx, 250*time.Millisecond)
		if ctx.Err() != nil {
			mem.Stop()
			return nil, ctx.Err()
		}
		now, err := projectionStatuses(ctx, c, admin)
		if err != nil {
			if time.Now().After(deadline.Add(time.Minute)) {
				mem.Stop()
				return nil, fmt.Errorf("rebuild progress: %w", err)
			}
			continue // the service is busy; ask again
		}
		running := 0
		for _, st := range now {
			if st.Rebuild == nil || st.Rebuild.State == "running" {
				running++
			}
		}
		over := time.Now().After(deadline)
		if running > 0 && !over {
			continue
		}
		wall := time.Since(start)
		rep.Memory = mem.Stop()
		rep.Finished = running == 0
		slowest := wall
		for _, st := range now {
			if st.Rebuild == nil {
				continue
			}
			switch st.Rebuild.State {
			case "done":
				d := wall
				if st.Rebuild.FinishedAt != nil {
					d = st.Rebuild.FinishedAt.Sub(st.Rebuild.StartedAt)
				}
				rep.PerModel[st.Name] = rate(st.Rebuild.Applied, d)
			case "running":
				r := rate(st.Rebuild.Applied, time.Since(st.Rebuild.StartedAt))
				rep.PerModel[st.Name] = r
				if r.PerSecond > 0 {
					slowest = max(slowest, time.Duration(float64(h.stored)/r.PerSecond*float64(time.Second)))
				} else {
					slowest = max(slowest, 24*time.Hour)
				}
			default:
				if rep.Failed == nil {
					rep.Failed = map[string]string{}
				}
				rep.Failed[st.Name] = st.Rebuild.State + ": " + st.Rebuild.Error
			}
		}
		rep.Wall = rate(h.stored, slowest)
		if !rep.Finished {
			rep.Estimated = true
			*notes = append(*notes, fmt.Sprintf("service rebuild stopped at its %s limit with %d read models still running; "+
				"its rate is each model's progress (applied / elapsed) and the wall time an estimate (%.0f s)", limit, running, slowest.Seconds()))
		}
		fmt.Fprintf(log, "service rebuild: every read model in %.1f s%s (%.0f stored events/s)\n", slowest.Seconds(),
			map[bool]string{true: " (estimated)", false: ""}[rep.Estimated], rep.Wall.PerSecond)
		return rep, nil
	}
}
