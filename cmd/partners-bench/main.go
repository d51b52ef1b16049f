// Command partners-bench measures the partners service against the ceiling
// of the same PostgreSQL, in the same run, so its figures survive a noisy
// machine: a load generator that drives the real HTTP API with a realistic
// mix, the SQL-only equivalent of a command at the same client count,
// each query alone against the same read-model SQL sent by pgx, projection
// lag, rebuild and replay rates over a large history, as-of and
// audit-export latency, and the service's memory.
//
// By default it builds ./cmd/partners, runs it as a child process on scratch
// databases of the local server, and drops them at the end; it only ever
// sends traffic to 127.0.0.1. It must never touch a database it did not
// create, except the one named with -database-url next to -url.
//
//	go run ./cmd/partners-bench -all     # the run behind BENCHMARKS.md (~13 min)
//	go run ./cmd/partners-bench -smoke   # everything, tiny, in seconds (CI)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"partners/api/auth"
)

type config struct {
	url         string
	databaseURL string
	servicePID  int
	serviceBin  string
	jwtSecret   string

	clients   int
	warmup    time.Duration
	duration  time.Duration
	rounds    int
	scenarios string
	writeOnly time.Duration
	lagPoll   time.Duration

	phases         string
	projectorBatch int
	projectorPoll  time.Duration
	dbMaxConns     int
	knobs          string
	knobDuration   time.Duration

	queryDuration time.Duration
	queryWarmup   time.Duration
	querySeed     int

	events         int
	asOfEvents     int
	asOfRuns       int
	sweepBatches   string
	sweepEvents    int
	loadWriters    int
	decodeEvents   int
	stepCap        time.Duration
	rebuildCap     time.Duration
	storiesPerTx   int
	templateEvents int
	ceilingStreams int

	out        string
	cpuProfile string
	smoke      bool
	all        bool
	keep       bool
	inProc     bool

	// start replaces the child process (tests run the service in-process).
	start starter
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("partners-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.url, "url", "", "drive an already running service at this loopback URL instead of starting one")
	fs.StringVar(&c.databaseURL, "database-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"PostgreSQL server for scratch databases (ceiling, history, the started service); with -url, that service's own database (lag and counts)")
	fs.IntVar(&c.servicePID, "service-pid", 0, "with -url: the service's process id, for its RSS")
	fs.StringVar(&c.serviceBin, "service-bin", "", "a built partners binary (default: go build ./cmd/partners)")
	fs.StringVar(&c.jwtSecret, "jwt-secret", "", "HS256 secret of the service (default: the development secret)")
	fs.IntVar(&c.clients, "clients", 16, "concurrent clients (the ceiling uses as many connections)")
	fs.DurationVar(&c.warmup, "warmup", 5*time.Second, "warm-up before each measured window (not counted)")
	fs.DurationVar(&c.duration, "duration", 30*time.Second, "measured time of the mix, split across rounds; the ceiling gets as much")
	fs.IntVar(&c.rounds, "rounds", 2, "alternate service and ceiling windows this many times")
	fs.StringVar(&c.scenarios, "scenarios", "all", "comma-separated scenarios of the mix: "+strings.Join(scenarioNames(), ","))
	fs.DurationVar(&c.writeOnly, "write-only", 0, "also run the mix without its queries (commands only) for this long, with a ceiling window of its own")
	fs.DurationVar(&c.lagPoll, "lag-poll", 2*time.Millisecond, "how often projection checkpoints are read to time lag")
	fs.StringVar(&c.phases, "phases", "load", "comma-separated: load (mix + ceiling + lag + memory), queries (each query alone vs its query ceiling), knobs, replay")
	fs.IntVar(&c.projectorBatch, "projector-batch", 1000, "PARTNERS_PROJECTOR_BATCH of the started service, and the in-process projector's batch")
	fs.DurationVar(&c.projectorPoll, "projector-poll", 10*time.Millisecond, "PARTNERS_PROJECTOR_POLL of the started service")
	fs.IntVar(&c.dbMaxConns, "db-max-conns", 0, "PARTNERS_DB_MAX_CONNS of the started service (0: its default)")
	fs.StringVar(&c.knobs, "knobs", "1000/10ms,100/10ms,5000/10ms,1000/100ms,1000/10ms/in-process",
		"projector batch/poll settings compared under the mix (knobs phase); /in-process runs the service without its Watermill reactions")
	fs.DurationVar(&c.knobDuration, "knob-duration", 15*time.Second, "measured time of each knobs setting")
	fs.DurationVar(&c.queryDuration, "query-duration", 10*time.Second, "queries: measured time of each endpoint on each side (HTTP, its SQL, SQL + authorization), split across rounds")
	fs.DurationVar(&c.queryWarmup, "query-warmup", time.Second, "queries: warm-up before each of those windows (not counted)")
	fs.IntVar(&c.querySeed, "query-seed", 40, "queries: partners each client's organization holds before the windows (pending invitations and collaborators follow from it)")
	fs.IntVar(&c.events, "events", 100000, "replay: events in the hub organization's log (audit export size); the history holds a little more")
	fs.IntVar(&c.asOfEvents, "asof-events", 10000, "replay: events in the as-of organization's log")
	fs.IntVar(&c.asOfRuns, "asof-runs", 20, "replay: as-of requests per query")
	fs.StringVar(&c.sweepBatches, "sweep-batches", "100,1000,5000", "replay: in-process projector batch sizes compared")
	fs.IntVar(&c.sweepEvents, "sweep-events", 200000, "replay: events each batch-size comparison applies")
	fs.IntVar(&c.decodeEvents, "decode-events", 200000, "replay: events the scan+decode figure covers (0: all)")
	fs.DurationVar(&c.stepCap, "live-projector-limit", 60*time.Second, "replay: time limit of the live projector's own catch-up (0: none, negative: skip)")
	fs.DurationVar(&c.rebuildCap, "rebuild-limit", 2*time.Minute, "replay: time limit of the service's rebuild (progress rates are reported when it is reached)")
	fs.IntVar(&c.loadWriters, "load-writers", 4, "replay: concurrent writers of the history")
	fs.IntVar(&c.templateEvents, "template-events", 20000, "replay: hub events appended for real, then replicated by SQL up to -events")
	fs.IntVar(&c.storiesPerTx, "stories-per-tx", 16, "replay: stories per append transaction while loading")
	fs.IntVar(&c.ceilingStreams, "ceiling-streams", 1000, "organization streams the ceiling reads from")
	fs.StringVar(&c.out, "out", "", "write the report to <out>.json and <out>.md (default bench/results/<time>)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write the harness's own CPU profile here (the in-process projector, loader and decoding run in it)")
	fs.BoolVar(&c.smoke, "smoke", false, "everything, tiny, in seconds, no thresholds (CI)")
	fs.BoolVar(&c.all, "all", false, "the full run behind BENCHMARKS.md: every phase, 1,000,000-event history")
	fs.BoolVar(&c.inProc, "in-process", false, "run the service inside the harness instead of as a child process (for -cpuprofile; RSS figures then include the harness)")
	fs.BoolVar(&c.keep, "keep", false, "keep the scratch databases and the service logs")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	def := func(name string, apply func()) {
		if !set[name] {
			apply()
		}
	}
	switch {
	case c.smoke && c.all:
		return c, errors.New("-smoke and -all exclude each other")
	case c.all:
		def("phases", func() { c.phases = "load,queries,knobs,replay" })
		def("duration", func() { c.duration = 40 * time.Second })
		def("write-only", func() { c.writeOnly = 15 * time.Second })
		def("knob-duration", func() { c.knobDuration = 10 * time.Second })
		def("events", func() { c.events = 1000000 })
		def("sweep-events", func() { c.sweepEvents = 100000 })
		def("live-projector-limit", func() { c.stepCap = 30 * time.Second })
		def("rebuild-limit", func() { c.rebuildCap = 2 * time.Minute })
		def("asof-runs", func() { c.asOfRuns = 10 })
	case c.smoke:
		def("phases", func() { c.phases = "load,queries,knobs,replay" })
		def("clients", func() { c.clients = 2 })
		def("warmup", func() { c.warmup = 500 * time.Millisecond })
		def("duration", func() { c.duration = 2 * time.Second })
		def("rounds", func() { c.rounds = 1 })
		def("write-only", func() { c.writeOnly = time.Second })
		def("lag-poll", func() { c.lagPoll = 5 * time.Millisecond })
		def("knobs", func() { c.knobs = "100/50ms,100/50ms/in-process" })
		def("knob-duration", func() { c.knobDuration = time.Second })
		def("query-duration", func() { c.queryDuration = 200 * time.Millisecond })
		def("query-warmup", func() { c.queryWarmup = 50 * time.Millisecond })
		def("query-seed", func() { c.querySeed = 2 })
		def("events", func() { c.events = 1500 })
		def("asof-events", func() { c.asOfEvents = 200 })
		def("asof-runs", func() { c.asOfRuns = 3 })
		def("sweep-batches", func() { c.sweepBatches = "100" })
		def("sweep-events", func() { c.sweepEvents = 500 })
		def("load-writers", func() { c.loadWriters = 2 })
		def("ceiling-streams", func() { c.ceilingStreams = 50 })
		def("template-events", func() { c.templateEvents = 500 })
	}
	if c.clients < 1 || c.rounds < 1 || c.duration <= 0 || c.events < 10 || c.asOfEvents < 2 || c.queryDuration <= 0 || c.querySeed < 1 {
		return c, errors.New("-clients, -rounds, -duration, -events, -asof-events, -query-duration and -query-seed must be positive")
	}
	if err := loopbackOnly("-database-url", c.databaseURL); err != nil {
		return c, err
	}
	if c.url != "" {
		if err := loopbackOnly("-url", c.url); err != nil {
			return c, err
		}
		c.url = strings.TrimRight(c.url, "/")
	}
	return c, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "partners-bench:", err)
		os.Exit(2)
	}
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	rep, err := run(ctx, cfg, os.Stdout, os.Stderr)
	if rep != nil {
		if werr := writeReport(cfg, rep, os.Stdout, os.Stderr); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "partners-bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func writeReport(cfg config, rep *Report, stdout, stderr io.Writer) error {
	out := cfg.out
	if out == "" {
		out = filepath.Join("bench", "results", rep.Started.UTC().Format("20060102-150405"))
		if cfg.smoke {
			out += "-smoke"
		}
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(out+".json", js, 0o644); err != nil {
		return err
	}
	f, err := os.Create(out + ".md")
	if err != nil {
		return err
	}
	rep.markdown(io.MultiWriter(f, stdout))
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "report: %s.md and %s.json\n", out, out)
	return nil
}

func (c config) has(phase string) bool {
	for _, p := range strings.Split(c.phases, ",") {
		if strings.TrimSpace(p) == phase {
			return true
		}
	}
	return false
}

func (c config) selected() ([]scenario, error) {
	if c.scenarios == "" || c.scenarios == "all" {
		return scenarios, nil
	}
	var out []scenario
	for _, n := range strings.Split(c.scenarios, ",") {
		n = strings.TrimSpace(n)
		found := false
		for _, s := range scenarios {
			if s.name == n {
				out = append(out, s)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("no scenario %q (have %s)", n, strings.Join(scenarioNames(), ", "))
		}
	}
	return out, nil
}

// run does the phases and returns the report (also when a phase failed,
// with what was measured until then).
func run(ctx context.Context, cfg config, stdout, log io.Writer) (*Report, error) {
	rep := &Report{Command: "partners-bench " + strings.Join(os.Args[1:], " "), Started: time.Now()}
	if cfg.smoke {
		rep.Command = "partners-bench -smoke"
	}
	sel, err := cfg.selected()
	if err != nil {
		return nil, err
	}
	secret := []byte(cfg.jwtSecret)
	if cfg.jwtSecret == "" {
		secret = []byte(auth.DevelopmentSecret)
	}
	mint := &minter{secret: secret, run: strconv.FormatInt(time.Now().UnixNano()%1e9, 36)}
	rep.Machine = machine(ctx, cfg.databaseURL)
	rep.Settings = Settings{Clients: cfg.clients, Warmup: cfg.warmup.String(), Duration: cfg.duration.String(), Rounds: cfg.rounds,
		Scenarios: names(sel), ProjectorBatch: cfg.projectorBatch, ProjectorPoll: cfg.projectorPoll.String(), LagPoll: cfg.lagPoll.String(),
		Events: cfg.events, AsOfEvents: cfg.asOfEvents, External: cfg.url != ""}
	serverURL := cfg.databaseURL

	tmp, err := os.MkdirTemp("", "partners-bench-")
	if err != nil {
		return nil, err
	}
	if cfg.keep {
		fmt.Fprintf(log, "keeping service logs in %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	start := cfg.start
	if start == nil && cfg.inProc && cfg.url == "" {
		start = inProcess
	}
	if start == nil && cfg.url == "" {
		cs := &childStarter{bin: cfg.serviceBin, dir: tmp, secret: cfg.jwtSecret, log: log}
		start = cs.start
	}
	projEnv := func(batch int, poll time.Duration) map[string]string {
		env := map[string]string{"PARTNERS_PROJECTOR_BATCH": strconv.Itoa(batch), "PARTNERS_PROJECTOR_POLL": poll.String()}
		if cfg.dbMaxConns > 0 {
			env["PARTNERS_DB_MAX_CONNS"] = strconv.Itoa(cfg.dbMaxConns)
		}
		return env
	}

	finish := func(err error) (*Report, error) {
		rep.Finished = time.Now()
		rep.evaluate(cfg.projectorBatch)
		return rep, err
	}

	if cfg.has("load") || cfg.has("queries") || cfg.has("knobs") {
		var svc *service
		var loadDB *scratchDB
		if cfg.url != "" {
			svc = &service{URL: cfg.url, DBURL: cfg.databaseURL, PID: cfg.servicePID}
		} else {
			if loadDB, err = createScratch(ctx, serverURL, "load"); err != nil {
				return finish(err)
			}
			if !cfg.keep {
				defer loadDB.Drop()
			}
			fmt.Fprintf(log, "load database: %s\n", loadDB.Name)
			if svc, err = start(ctx, loadDB.URL, projEnv(cfg.projectorBatch, cfg.projectorPoll)); err != nil {
				return finish(err)
			}
		}
		stopSvc := func() {
			if maxRSS, err := svc.Stop(); err == nil && maxRSS > 0 {
				rep.ServiceLifetimeMaxRSSMB = max(rep.ServiceLifetimeMaxRSSMB, mb(maxRSS))
			}
		}
		defer stopSvc()
		pool, err := openPool(ctx, svc.DBURL, 4)
		if err != nil {
			return finish(err)
		}
		defer pool.Close()
		sk := &skips{}
		if cfg.has("load") {
			began := time.Now()
			if err := loadPhase(ctx, cfg, rep, svc, pool, sk, sel, mint, log); err != nil {
				return finish(err)
			}
			fmt.Fprintf(log, "load phase: %.1f s\n", time.Since(began).Seconds())
		}
		if cfg.has("queries") {
			began := time.Now()
			if err := queryPhase(ctx, cfg, rep, svc, mint, log); err != nil {
				return finish(err)
			}
			fmt.Fprintf(log, "query phase: %.1f s\n", time.Since(began).Seconds())
		}
		if cfg.has("knobs") && cfg.url == "" {
			for _, k := range strings.Split(cfg.knobs, ",") {
				batch, poll, inproc, err := parseKnob(k)
				if err != nil {
					return finish(err)
				}
				stopSvc()
				with, what := start, "child process"
				if inproc {
					with, what = inProcess, "in-process, no Watermill reactions"
				}
				if svc, err = with(ctx, loadDB.URL, projEnv(batch, poll)); err != nil {
					return finish(err)
				}
				fmt.Fprintf(log, "knobs: batch %d, poll %s, %s\n", batch, poll, what)
				run, err := runLoad(ctx, svc, pool, sk, loadOpts{clients: cfg.clients, warmup: min(cfg.warmup, 3*time.Second),
					duration: cfg.knobDuration, scenarios: sel, reads: true, minter: mint, log: log, lagPoll: cfg.lagPoll})
				if err != nil {
					return finish(err)
				}
				lr := loadReport(cfg.clients, []*loadRun{run}, sk)
				kr := KnobReport{Batch: batch, Poll: poll.String(), Service: what, CommandsPerSecond: lr.Commands.Rate, CommandP99: lr.Commands.P99, QueryP99: lr.Queries.P99}
				if lr.Lag != nil {
					kr.Lag = lr.Lag.All
				}
				if lr.Log != nil {
					kr.AppendedPerSecond, kr.AppliedPerSecond, kr.BacklogMax = lr.Log.AppendedPerSecond, lr.Log.AppliedPerSecond, lr.Log.BacklogMax
				}
				if lr.Memory != nil {
					kr.PeakRSSMB = lr.Memory.PeakMB
				}
				rep.Knobs = append(rep.Knobs, kr)
			}
		} else if cfg.has("knobs") {
			rep.Notes = append(rep.Notes, "knobs phase skipped: it restarts the service, which -url does not allow")
		}
	}
	if cfg.has("replay") {
		ro := replayOpts{serverURL: serverURL, hubEvents: cfg.events, asOfEvents: cfg.asOfEvents, writers: cfg.loadWriters,
			storiesPerTx: cfg.storiesPerTx, projectorBatch: cfg.projectorBatch, sweepEvents: cfg.sweepEvents, asOfRuns: cfg.asOfRuns,
			decodeEvents: cfg.decodeEvents, templateEvents: cfg.templateEvents, stepCap: cfg.stepCap, rebuildCap: cfg.rebuildCap,
			minter: mint, log: log, keep: cfg.keep}
		for _, s := range strings.Split(cfg.sweepBatches, ",") {
			if s = strings.TrimSpace(s); s != "" {
				n, err := strconv.Atoi(s)
				if err != nil || n < 1 {
					return finish(fmt.Errorf("-sweep-batches: %q", s))
				}
				ro.sweepBatches = append(ro.sweepBatches, n)
			}
		}
		if start != nil {
			ro.start = func(ctx context.Context, dbURL string, _ map[string]string) (*service, error) {
				return start(ctx, dbURL, projEnv(cfg.projectorBatch, cfg.projectorPoll))
			}
		}
		began := time.Now()
		rp, err := runReplay(ctx, ro)
		fmt.Fprintf(log, "replay phase: %.1f s\n", time.Since(began).Seconds())
		rep.Replay = rp
		if err != nil {
			return finish(fmt.Errorf("replay: %w", err))
		}
	}
	return finish(ctx.Err())
}

func names(sel []scenario) []string {
	out := make([]string, len(sel))
	for i, s := range sel {
		out[i] = s.name
	}
	return out
}

// parseKnob reads batch/poll, or batch/poll/in-process: the service run
// inside the harness, without its Watermill reactions (mail queue, process
// managers), whose transactions hold back what the projector may read.
func parseKnob(s string) (int, time.Duration, bool, error) {
	parts := strings.Split(strings.TrimSpace(s), "/")
	if len(parts) < 2 || len(parts) > 3 || (len(parts) == 3 && parts[2] != "in-process") {
		return 0, 0, false, fmt.Errorf("-knobs: %q is not batch/poll[/in-process] such as 1000/10ms", s)
	}
	n, err := strconv.Atoi(parts[0])
	d, err2 := time.ParseDuration(parts[1])
	if err != nil || err2 != nil || n < 1 || d <= 0 {
		return 0, 0, false, fmt.Errorf("-knobs: %q is not batch/poll[/in-process] such as 1000/10ms", s)
	}
	return n, d, len(parts) == 3, nil
}

// loadPhase runs the mix and the ceiling in alternating rounds, then the
// commands-only mix with a ceiling window of its own.
func loadPhase(ctx context.Context, cfg config, rep *Report, svc *service, pool *pgxpool.Pool, sk *skips, sel []scenario, mint *minter, log io.Writer) error {
	ceil, err := newCeilingDB(ctx, cfg.databaseURL, cfg.clients, cfg.ceilingStreams)
	if err != nil {
		return fmt.Errorf("ceiling: %w", err)
	}
	defer ceil.Close()
	per := cfg.duration / time.Duration(cfg.rounds)
	var mixRuns []*loadRun
	var ceilRuns []*ceilingRun
	for r := 0; r < cfg.rounds; r++ {
		fmt.Fprintf(log, "round %d/%d: service, %d clients, %s\n", r+1, cfg.rounds, cfg.clients, per)
		run, err := runLoad(ctx, svc, pool, sk, loadOpts{clients: cfg.clients, warmup: cfg.warmup, duration: per,
			scenarios: sel, reads: true, minter: mint, log: log, lagPoll: cfg.lagPoll})
		if err != nil {
			return err
		}
		mixRuns = append(mixRuns, run)
		fmt.Fprintf(log, "round %d/%d: SQL ceiling, %d connections, %s\n", r+1, cfg.rounds, cfg.clients, per)
		cr, err := ceil.run(ctx, cfg.clients, min(cfg.warmup, 2*time.Second), per)
		if err != nil {
			return err
		}
		if cr.first != nil {
			rep.Notes = append(rep.Notes, "ceiling error: "+cr.first.Error())
		}
		ceilRuns = append(ceilRuns, cr)
		one := loadReport(cfg.clients, []*loadRun{run}, sk)
		c1 := summarize(cr.tx, cr.window)
		rd := Round{ServiceCommandsPerSecond: one.Commands.Rate, CeilingPerSecond: c1.Rate, ServiceP99: one.Commands.P99, CeilingP99: c1.P99}
		if c1.Rate > 0 {
			rd.Ratio = one.Commands.Rate / c1.Rate
		}
		rep.Rounds = append(rep.Rounds, rd)
		fmt.Fprintf(log, "  service %.0f commands/s (p99 %.1f ms), ceiling %.0f tx/s (p99 %.1f ms), lag p99 %.1f ms\n",
			rd.ServiceCommandsPerSecond, rd.ServiceP99, rd.CeilingPerSecond, rd.CeilingP99, lagP99(one))
	}
	rep.Mix = loadReport(cfg.clients, mixRuns, sk)
	if cfg.writeOnly > 0 {
		fmt.Fprintf(log, "commands only: service, %d clients, %s\n", cfg.clients, cfg.writeOnly)
		run, err := runLoad(ctx, svc, pool, sk, loadOpts{clients: cfg.clients, warmup: cfg.warmup, duration: cfg.writeOnly,
			scenarios: sel, reads: false, minter: mint, log: log, lagPoll: cfg.lagPoll})
		if err != nil {
			return err
		}
		rep.WriteOnly = loadReport(cfg.clients, []*loadRun{run}, sk)
		cr, err := ceil.run(ctx, cfg.clients, min(cfg.warmup, 2*time.Second), cfg.writeOnly)
		if err != nil {
			return err
		}
		ceilRuns = append(ceilRuns, cr)
		c1 := summarize(cr.tx, cr.window)
		rd := Round{ServiceCommandsPerSecond: rep.WriteOnly.Commands.Rate, CeilingPerSecond: c1.Rate, ServiceP99: rep.WriteOnly.Commands.P99, CeilingP99: c1.P99}
		if c1.Rate > 0 {
			rd.Ratio = rd.ServiceCommandsPerSecond / c1.Rate
		}
		fmt.Fprintf(log, "  commands only %.0f/s (p99 %.1f ms), ceiling %.0f tx/s (p99 %.1f ms)\n", rd.ServiceCommandsPerSecond, rd.ServiceP99, rd.CeilingPerSecond, rd.CeilingP99)
	}
	tx, window, errs := mergeRuns(ceilRuns)
	rep.Ceiling = &CeilingReport{Clients: cfg.clients, Seconds: round2(window.Seconds()), Tx: tx, Errors: errs,
		What: "Each command: read one organization stream (2 events), then one pipelined batch (one implicit transaction, as the event store " +
			"sends an append): the event store's own statement inserting one InvitationSent (a real sealed payload) " +
			"into a new stream (expected version, organization index, outbox row). " +
			"Plain pgx, one connection per client, a scratch database with the production schema on the same server."}
	return nil
}

func lagP99(l *LoadReport) float64 {
	if l.Lag == nil {
		return 0
	}
	return l.Lag.All.P99
}

// loadReport merges runs into one report.
func loadReport(clients int, runs []*loadRun, sk *skips) *LoadReport {
	rec := newRecorder()
	var window time.Duration
	var lag *lagTracker
	lr := &LoadReport{Clients: clients, Stories: map[string]*storyCount{}, Errors: map[string]int{}, Skipped: sk.list()}
	var counts *logCounts
	for _, r := range runs {
		rec.merge(r.rec)
		window += r.window
		lag = mergeLag(lag, r.lag)
		for n, s := range r.stories {
			if lr.Stories[n] == nil {
				lr.Stories[n] = &storyCount{}
			}
			lr.Stories[n].Runs += s.Runs
			lr.Stories[n].Errors += s.Errors
		}
		for k, v := range r.errs {
			lr.Errors[k] += v
		}
		if r.counts != nil {
			if counts == nil {
				counts = &logCounts{}
			}
			counts.Appended += r.counts.Appended
			counts.Applied += r.counts.Applied
			counts.BacklogMax = max(counts.BacklogMax, r.counts.BacklogMax)
			counts.BacklogEnd = r.counts.BacklogEnd
			counts.Backlog = append(counts.Backlog, r.counts.Backlog...)
		}
		if r.mem != nil {
			if lr.Memory == nil {
				m := *r.mem
				lr.Memory = &m
			} else {
				lr.Memory.PeakMB = max(lr.Memory.PeakMB, r.mem.PeakMB)
				lr.Memory.MeanMB = (lr.Memory.MeanMB + r.mem.MeanMB) / 2
				lr.Memory.EndMB = r.mem.EndMB
				lr.Memory.Exact = lr.Memory.Exact && r.mem.Exact
			}
		}
	}
	if counts != nil && window > 0 {
		counts.AppendedPerSecond = round2(float64(counts.Appended) / window.Seconds())
		counts.AppliedPerSecond = round2(float64(counts.Applied) / window.Seconds())
		lr.Log = counts
	}
	lr.Seconds = round2(window.Seconds())
	lr.Endpoints = rec.endpoints(window)
	lr.Commands = summarize(rec.where(isCommand), window)
	lr.Queries = summarize(rec.where(func(n string) bool { return !isCommand(n) }), window)
	lr.Lag = lag.report()
	return lr
}
