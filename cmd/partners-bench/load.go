package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// loadOpts is one load run against a running service.
type loadOpts struct {
	clients   int
	warmup    time.Duration
	duration  time.Duration
	scenarios []scenario
	reads     bool // run the query steps (false: commands only)
	minter    *minter
	log       io.Writer
	// lagPoll is how often projection checkpoints are read for lag (0: no
	// lag tracking).
	lagPoll time.Duration
}

// skips remembers scenarios turned off because their endpoint is missing,
// across runs (a missing route stays missing).
type skips struct {
	mu    sync.Mutex
	notes map[string]string
}

func (s *skips) off(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.notes[name]
	return ok
}

func (s *skips) add(name, endpoint string, log io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.notes == nil {
		s.notes = map[string]string{}
	}
	if _, ok := s.notes[name]; !ok {
		s.notes[name] = endpoint
		fmt.Fprintf(log, "SKIP scenario %s: the service answers route_not_found for %s (it runs once the endpoint lands)\n", name, endpoint)
	}
}

func (s *skips) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n, e := range s.notes {
		out = append(out, n+" (no "+e+")")
	}
	sort.Strings(out)
	return out
}

// loadRun is the raw outcome of one load run, mergeable across rounds.
type loadRun struct {
	window  time.Duration
	rec     *recorder
	stories map[string]*storyCount
	errs    map[string]int
	lag     *lagTracker
	counts  *logCounts
	mem     *Memory
}

type storyCount struct {
	Runs   int `json:"runs"`
	Errors int `json:"errors"`
}

// window is the measured interval: samples of requests that started in it
// count, the rest (warm-up, stragglers) do not.
type window struct {
	start, end atomic.Int64 // unix nanoseconds; 0 = not yet
}

func (w *window) in(t time.Time) bool {
	s, e := w.start.Load(), w.end.Load()
	n := t.UnixNano()
	return s != 0 && n >= s && (e == 0 || n < e)
}

// runLoad drives the service with opts.clients clients: a warm-up whose
// figures are dropped, then the measured window.
func runLoad(ctx context.Context, svc *service, db *pgxpool.Pool, sk *skips, opts loadOpts) (*loadRun, error) {
	if !opts.reads {
		// Stories made only of queries have nothing left to run.
		var kept []scenario
		for _, s := range opts.scenarios {
			if !s.readOnly {
				kept = append(kept, s)
			}
		}
		opts.scenarios = kept
	}
	hc := newHTTPClient(opts.clients)
	defer hc.CloseIdleConnections()
	var win window
	run := &loadRun{rec: newRecorder(), stories: map[string]*storyCount{}, errs: map[string]int{}}
	if db != nil && opts.lagPoll > 0 {
		run.lag = newLagTracker(db, opts.lagPoll)
	}
	clients := make([]*client, opts.clients)
	for i := range clients {
		rec := newRecorder()
		rec.win = &win
		c := &client{id: i, base: svc.URL, http: hc, rec: rec, m: opts.minter, reads: opts.reads,
			rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))}
		if run.lag != nil {
			c.onCommit = func(pos int64, at time.Time) {
				if win.in(at) {
					run.lag.add(pos, at)
				}
			}
		}
		clients[i] = c
	}
	// Home organizations first, in parallel (not measured).
	var wg sync.WaitGroup
	setupErr := make([]error, len(clients))
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			setupErr[i] = setup(ctx, c)
		}()
	}
	wg.Wait()
	if err := errors.Join(setupErr...); err != nil {
		return nil, fmt.Errorf("client setup: %w", err)
	}
	var stop atomic.Bool
	storyMu := sync.Mutex{}
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() && ctx.Err() == nil {
				sc, ok := pick(c.rng, opts.scenarios, sk)
				if !ok {
					return
				}
				started := time.Now()
				err := sc.run(ctx, c)
				var skip *errSkip
				if errors.As(err, &skip) {
					sk.add(sc.name, skip.endpoint, opts.log)
					continue
				}
				if !win.in(started) {
					continue
				}
				storyMu.Lock()
				st := run.stories[sc.name]
				if st == nil {
					st = &storyCount{}
					run.stories[sc.name] = st
				}
				st.Runs++
				if err != nil && ctx.Err() == nil {
					st.Errors++
					run.errs[sc.name+": "+err.Error()]++
				}
				storyMu.Unlock()
			}
		}()
	}
	lagCtx, stopLag := context.WithCancel(ctx)
	lagDone := make(chan struct{})
	if run.lag != nil {
		go func() { defer close(lagDone); run.lag.run(lagCtx) }()
	} else {
		close(lagDone)
	}

	sleep(ctx, opts.warmup)
	var counts *logCounts
	if db != nil {
		counts = startCounts(ctx, db)
	}
	mem := watchMemory(svc.PID)
	start := time.Now()
	win.start.Store(start.UnixNano())
	sleep(ctx, opts.duration)
	end := time.Now()
	win.end.Store(end.UnixNano())
	run.window = end.Sub(start)
	run.mem = mem.Stop()
	if counts != nil {
		counts.finish(ctx, db, run.window)
		run.counts = counts
	}
	stop.Store(true)
	wg.Wait()
	stopLag()
	<-lagDone
	for _, c := range clients {
		run.rec.merge(c.rec)
	}
	return run, ctx.Err()
}

func pick(rng *rand.Rand, all []scenario, sk *skips) (scenario, bool) {
	total := 0
	for _, s := range all {
		if !sk.off(s.name) {
			total += s.weight
		}
	}
	if total == 0 {
		return scenario{}, false
	}
	n := rng.IntN(total)
	for _, s := range all {
		if sk.off(s.name) {
			continue
		}
		if n < s.weight {
			return s, true
		}
		n -= s.weight
	}
	return scenario{}, false
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// logCounts measures, over the window, how many events were appended and
// how many the projector applied, and how large its backlog grew: the
// projections keep up when applied/s matches appended/s and the backlog
// stays flat.
type logCounts struct {
	startEvents, startApplied int64
	Appended                  int64   `json:"events_appended"`
	Applied                   int64   `json:"events_applied"`
	AppendedPerSecond         float64 `json:"appended_per_second"`
	AppliedPerSecond          float64 `json:"applied_per_second"`
	BacklogMax                int64   `json:"backlog_max"`
	BacklogEnd                int64   `json:"backlog_end"`
	Backlog                   []int64 `json:"backlog_per_second"`

	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
}

// minCheckpoint is the least advanced read model, in the readers' order.
const minCheckpoint = `(SELECT transaction_id, outbox_offset, position FROM projection_checkpoints
	ORDER BY transaction_id, position LIMIT 1)`

func countEvents(ctx context.Context, db *pgxpool.Pool) (events, applied int64, err error) {
	err = db.QueryRow(ctx, `SELECT (SELECT count(*) FROM events),
		(SELECT count(*) FROM events e, `+minCheckpoint+` cp WHERE (e.transaction_id, e.position) <= (cp.transaction_id, cp.position))`).
		Scan(&events, &applied)
	return
}

func backlog(ctx context.Context, db *pgxpool.Pool) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, `SELECT count(*) FROM watermill_events w, `+minCheckpoint+` cp
		WHERE (w.transaction_id, w."offset") > (cp.transaction_id, cp.outbox_offset)`).Scan(&n)
	return n, err
}

func startCounts(ctx context.Context, db *pgxpool.Pool) *logCounts {
	lc := &logCounts{stop: make(chan struct{}), done: make(chan struct{})}
	lc.startEvents, lc.startApplied, _ = countEvents(ctx, db)
	go func() {
		defer close(lc.done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-lc.stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if n, err := backlog(ctx, db); err == nil {
					lc.mu.Lock()
					lc.Backlog = append(lc.Backlog, n)
					lc.BacklogMax = max(lc.BacklogMax, n)
					lc.mu.Unlock()
				}
			}
		}
	}()
	return lc
}

func (lc *logCounts) finish(ctx context.Context, db *pgxpool.Pool, window time.Duration) {
	close(lc.stop)
	<-lc.done
	ev, ap, err := countEvents(ctx, db)
	if err != nil {
		return
	}
	lc.Appended, lc.Applied = ev-lc.startEvents, ap-lc.startApplied
	lc.AppendedPerSecond = float64(lc.Appended) / window.Seconds()
	lc.AppliedPerSecond = float64(lc.Applied) / window.Seconds()
	lc.BacklogEnd, _ = backlog(ctx, db)
}

// lagTracker measures projection lag: for each command answered inside the
// window it notes the instant the answer (with X-Event-Position) arrived,
// then polls the projector's checkpoints and records, per read model, when
// the checkpoint passed that event in the readers' order (transaction id,
// then position: the rule of projections.Projector.WaitApplied).
type lagTracker struct {
	db   *pgxpool.Pool
	poll time.Duration
	in   chan lagSample

	mu       sync.Mutex
	byModel  map[string][]time.Duration
	all      []time.Duration // until every read model applied it
	samples  int
	dropped  int
	unseen   int
	maxQuery time.Duration
}

type lagSample struct {
	pos  int64
	at   time.Time
	txid uint64
	done map[string]bool
}

func newLagTracker(db *pgxpool.Pool, poll time.Duration) *lagTracker {
	return &lagTracker{db: db, poll: poll, in: make(chan lagSample, 1<<16), byModel: map[string][]time.Duration{}}
}

func (l *lagTracker) add(pos int64, at time.Time) {
	select {
	case l.in <- lagSample{pos: pos, at: at}:
	default:
		l.mu.Lock()
		l.dropped++
		l.mu.Unlock()
	}
}

type cpRow struct {
	name string
	tx   uint64
	pos  int64
}

func (l *lagTracker) run(ctx context.Context) {
	var pending []*lagSample
	var drainUntil time.Time
	t := time.NewTicker(l.poll)
	defer t.Stop()
	bg := context.WithoutCancel(ctx)
	for {
		stopping := ctx.Err() != nil
		if stopping && drainUntil.IsZero() {
			drainUntil = time.Now().Add(10 * time.Second)
		}
	drain:
		for {
			select {
			case s := <-l.in:
				s.done = map[string]bool{}
				pending = append(pending, &s)
			default:
				break drain
			}
		}
		if len(pending) > 0 {
			qstart := time.Now()
			if err := l.resolve(bg, pending); err == nil {
				cps, err := l.checkpoints(bg)
				now := time.Now()
				if err == nil {
					pending = l.apply(pending, cps, now)
				}
			}
			l.mu.Lock()
			l.maxQuery = max(l.maxQuery, time.Since(qstart))
			l.mu.Unlock()
		}
		if stopping && (len(pending) == 0 || time.Now().After(drainUntil)) {
			l.mu.Lock()
			l.unseen += len(pending)
			l.mu.Unlock()
			return
		}
		<-t.C
	}
}

func (l *lagTracker) resolve(ctx context.Context, pending []*lagSample) error {
	var want []int64
	for _, s := range pending {
		if s.txid == 0 {
			want = append(want, s.pos)
		}
	}
	if len(want) == 0 {
		return nil
	}
	rows, err := l.db.Query(ctx, `SELECT position, transaction_id::text FROM events WHERE position = ANY($1)`, want)
	if err != nil {
		return err
	}
	defer rows.Close()
	found := map[int64]uint64{}
	for rows.Next() {
		var pos int64
		var tx string
		if err := rows.Scan(&pos, &tx); err != nil {
			return err
		}
		found[pos], _ = strconv.ParseUint(tx, 10, 64)
	}
	for _, s := range pending {
		if s.txid == 0 {
			s.txid = found[s.pos]
		}
	}
	return rows.Err()
}

func (l *lagTracker) checkpoints(ctx context.Context) ([]cpRow, error) {
	rows, err := l.db.Query(ctx, `SELECT name, transaction_id::text, position FROM projection_checkpoints`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []cpRow
	for rows.Next() {
		var r cpRow
		var tx string
		if err := rows.Scan(&r.name, &tx, &r.pos); err != nil {
			return nil, err
		}
		r.tx, _ = strconv.ParseUint(tx, 10, 64)
		out = append(out, r)
	}
	return out, rows.Err()
}

func (l *lagTracker) apply(pending []*lagSample, cps []cpRow, now time.Time) []*lagSample {
	l.mu.Lock()
	defer l.mu.Unlock()
	keep := pending[:0]
	for _, s := range pending {
		if s.txid == 0 {
			keep = append(keep, s)
			continue
		}
		for _, cp := range cps {
			if s.done[cp.name] {
				continue
			}
			if cp.tx > s.txid || (cp.tx == s.txid && cp.pos >= s.pos) {
				s.done[cp.name] = true
				l.byModel[cp.name] = append(l.byModel[cp.name], now.Sub(s.at))
			}
		}
		if len(s.done) == len(cps) {
			l.all = append(l.all, now.Sub(s.at))
			l.samples++
			continue
		}
		keep = append(keep, s)
	}
	return keep
}

// LagReport is projection lag from a command's answer to its effect.
type LagReport struct {
	Samples int `json:"samples"`
	// All is until every read model applied the event (the projector
	// commits them together, so each model's figure is nearly the same).
	All      Latency            `json:"all_read_models"`
	PerModel map[string]Latency `json:"per_read_model"`
	PollMS   float64            `json:"poll_ms"`
	Dropped  int                `json:"dropped"`
	// NotApplied counts commands whose effect was not seen within 10 s of
	// the end of the window.
	NotApplied int     `json:"not_applied"`
	MaxQueryMS float64 `json:"max_poll_query_ms"`
}

func (l *lagTracker) report() *LagReport {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := &LagReport{Samples: l.samples, All: summarize(l.all, 0), PerModel: map[string]Latency{},
		PollMS: ms(l.poll), Dropped: l.dropped, NotApplied: l.unseen, MaxQueryMS: ms(l.maxQuery)}
	for n, ds := range l.byModel {
		r.PerModel[n] = summarize(ds, 0)
	}
	return r
}

func mergeLag(a, b *lagTracker) *lagTracker {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	a.mu.Lock()
	b.mu.Lock()
	defer a.mu.Unlock()
	defer b.mu.Unlock()
	out := &lagTracker{poll: a.poll, byModel: map[string][]time.Duration{}}
	for _, x := range []*lagTracker{a, b} {
		for n, ds := range x.byModel {
			out.byModel[n] = append(out.byModel[n], ds...)
		}
		out.all = append(out.all, x.all...)
		out.samples += x.samples
		out.dropped += x.dropped
		out.unseen += x.unseen
		out.maxQuery = max(out.maxQuery, x.maxQuery)
	}
	return out
}
