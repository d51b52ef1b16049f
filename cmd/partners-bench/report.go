package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Report is everything one run measured; the markdown table of
// BENCHMARKS.md is rendered from it.
type Report struct {
	Command  string    `json:"command"`
	Started  time.Time `json:"started_at"`
	Finished time.Time `json:"finished_at"`
	Machine  Machine   `json:"machine"`
	Settings Settings  `json:"settings"`

	Mix       *LoadReport    `json:"mix,omitempty"`
	WriteOnly *LoadReport    `json:"write_only,omitempty"`
	Ceiling   *CeilingReport `json:"ceiling,omitempty"`
	Rounds    []Round        `json:"rounds,omitempty"`
	Queries   *QueryReport   `json:"queries,omitempty"`
	Knobs     []KnobReport   `json:"knobs,omitempty"`
	Replay    *ReplayReport  `json:"replay,omitempty"`
	// ServiceLifetimeMaxRSSMB is getrusage's peak of the load-phase service
	// over its whole life.
	ServiceLifetimeMaxRSSMB float64  `json:"service_lifetime_max_rss_mb,omitempty"`
	Targets                 []Target `json:"targets"`
	Notes                   []string `json:"notes,omitempty"`
}

// Settings are the run's knobs.
type Settings struct {
	Clients        int      `json:"clients"`
	Warmup         string   `json:"warmup"`
	Duration       string   `json:"duration"`
	Rounds         int      `json:"rounds"`
	Scenarios      []string `json:"scenarios"`
	ProjectorBatch int      `json:"projector_batch"`
	ProjectorPoll  string   `json:"projector_poll"`
	LagPoll        string   `json:"lag_poll"`
	Events         int      `json:"hub_events"`
	AsOfEvents     int      `json:"asof_events"`
	External       bool     `json:"external_service"`
}

// Machine describes where the figures come from.
type Machine struct {
	Cores      int      `json:"cores"`
	CPU        string   `json:"cpu"`
	MemoryGB   float64  `json:"memory_gb"`
	Kernel     string   `json:"kernel"`
	Go         string   `json:"go"`
	PostgreSQL string   `json:"postgresql"`
	PGSettings []string `json:"pg_settings"`
}

// LoadReport is one mix's figures, merged over its rounds.
type LoadReport struct {
	Clients   int                    `json:"clients"`
	Seconds   float64                `json:"seconds"`
	Commands  Latency                `json:"commands"`
	Queries   Latency                `json:"queries"`
	Endpoints []Endpoint             `json:"endpoints"`
	Stories   map[string]*storyCount `json:"stories"`
	Errors    map[string]int         `json:"errors,omitempty"`
	Lag       *LagReport             `json:"projection_lag,omitempty"`
	Log       *logCounts             `json:"log,omitempty"`
	Memory    *Memory                `json:"service_memory,omitempty"`
	Skipped   []string               `json:"skipped,omitempty"`
}

// CeilingReport is the SQL ceiling's figures, merged over its rounds.
type CeilingReport struct {
	Clients int     `json:"clients"`
	Seconds float64 `json:"seconds"`
	Tx      Latency `json:"transactions"`
	Errors  int     `json:"errors"`
	What    string  `json:"what"`
}

// Round pairs one service window with the ceiling window right after it.
type Round struct {
	ServiceCommandsPerSecond float64 `json:"service_commands_per_second"`
	CeilingPerSecond         float64 `json:"ceiling_per_second"`
	Ratio                    float64 `json:"ratio"`
	ServiceP99               float64 `json:"service_command_p99_ms"`
	CeilingP99               float64 `json:"ceiling_p99_ms"`
}

// KnobReport is a short load run with other projector settings.
type KnobReport struct {
	Batch             int     `json:"batch"`
	Poll              string  `json:"poll"`
	Service           string  `json:"service"`
	CommandsPerSecond float64 `json:"commands_per_second"`
	CommandP99        float64 `json:"command_p99_ms"`
	Lag               Latency `json:"lag"`
	AppendedPerSecond float64 `json:"appended_per_second"`
	AppliedPerSecond  float64 `json:"applied_per_second"`
	BacklogMax        int64   `json:"backlog_max"`
	PeakRSSMB         float64 `json:"peak_rss_mb"`
	QueryP99          float64 `json:"query_p99_ms"`
}

// Target is one of the targets and where this run stands.
type Target struct {
	Name     string `json:"name"`
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Status   string `json:"status"` // met, missed, not measured
}

func machine(ctx context.Context, dbURL string) Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var kb float64
			if _, err := fmt.Sscanf(sc.Text(), "MemTotal: %f kB", &kb); err == nil {
				m.MemoryGB = round2(kb / 1024 / 1024)
				break
			}
		}
		f.Close()
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return m
	}
	defer conn.Close(context.Background())
	_ = conn.QueryRow(ctx, `SHOW server_version`).Scan(&m.PostgreSQL)
	rows, err := conn.Query(ctx, `SELECT name, setting, coalesce(unit, '') FROM pg_settings
		WHERE source NOT IN ('default', 'override', 'client', 'session') ORDER BY name`)
	if err != nil {
		return m
	}
	defer rows.Close()
	for rows.Next() {
		var n, s, u string
		if rows.Scan(&n, &s, &u) == nil {
			if strings.Contains(n, "file") || strings.HasPrefix(n, "lc_") || strings.Contains(n, "directories") {
				continue // paths and locales say nothing about speed
			}
			m.PGSettings = append(m.PGSettings, n+"="+s+u)
		}
	}
	return m
}

// evaluate states each target of the issue against the figures.
func (r *Report) evaluate(batch int) {
	add := func(name, target, measured string, met *bool) {
		st := "not measured"
		if met != nil {
			st = "missed"
			if *met {
				st = "met"
			}
		}
		r.Targets = append(r.Targets, Target{Name: name, Target: target, Measured: measured, Status: st})
	}
	b := func(v bool) *bool { return &v }
	if r.Mix != nil && r.Ceiling != nil && r.Ceiling.Tx.Rate > 0 {
		ratio := r.Mix.Commands.Rate / r.Ceiling.Tx.Rate
		add("command throughput vs SQL ceiling (mix)", "≥ 50%",
			fmt.Sprintf("%.0f commands/s vs %.0f tx/s = %.1f%%", r.Mix.Commands.Rate, r.Ceiling.Tx.Rate, 100*ratio), b(ratio >= 0.5))
		if r.WriteOnly != nil {
			wr := r.WriteOnly.Commands.Rate / r.Ceiling.Tx.Rate
			add("command throughput vs SQL ceiling (commands only)", "≥ 80%",
				fmt.Sprintf("%.0f commands/s vs %.0f tx/s = %.1f%%", r.WriteOnly.Commands.Rate, r.Ceiling.Tx.Rate, 100*wr), b(wr >= 0.8))
		}
		if r.Ceiling.Tx.P99 > 0 {
			x := r.Mix.Commands.P99 / r.Ceiling.Tx.P99
			add("command p99 vs ceiling p99", "≤ 10×",
				fmt.Sprintf("%.1f ms vs %.1f ms = %.1f×", r.Mix.Commands.P99, r.Ceiling.Tx.P99, x), b(x <= 10))
		}
	} else {
		add("command throughput vs SQL ceiling", "≥ 50%", "", nil)
	}
	if q := r.Queries; q != nil {
		for _, e := range q.Endpoints {
			name := "query throughput vs query ceiling: " + shortQuery(e.Endpoint)
			if e.SQL.Rate <= 0 || e.SQLAuth.Rate <= 0 {
				add(name, "≥ 50%", "", nil)
				continue
			}
			add(name, "≥ 50%", fmt.Sprintf("%.0f requests/s vs %.0f read-model SQL/s = %.1f%% (vs %.0f/s with the authorization read = %.1f%%)",
				e.HTTP.Rate, e.SQL.Rate, 100*e.Ratio, e.SQLAuth.Rate, 100*e.RatioAuth), b(e.Ratio >= 0.5))
		}
	}
	if r.Mix != nil && r.Mix.Lag != nil && r.Mix.Lag.Samples > 0 {
		add("projection lag p99", "< 30 ms", fmt.Sprintf("p50 %.1f / p95 %.1f / p99 %.1f ms over %d commands",
			r.Mix.Lag.All.P50, r.Mix.Lag.All.P95, r.Mix.Lag.All.P99, r.Mix.Lag.Samples), b(r.Mix.Lag.All.P99 < 30))
	} else {
		add("projection lag p99", "< 30 ms", "", nil)
	}
	for _, m := range []struct {
		name string
		l    *LoadReport
	}{{"mix", r.Mix}, {"commands only", r.WriteOnly}} {
		if m.l == nil || m.l.Log == nil {
			continue
		}
		l := m.l.Log
		add("projections keep up ("+m.name+")", "applied/s ≥ appended/s, no growing backlog",
			fmt.Sprintf("appended %.0f/s, applied %.0f/s, backlog max %d, at end %d", l.AppendedPerSecond, l.AppliedPerSecond, l.BacklogMax, l.BacklogEnd),
			b(l.BacklogEnd <= int64(batch) && l.AppliedPerSecond >= 0.95*l.AppendedPerSecond))
		if m.l != r.Mix && m.l.Lag != nil && m.l.Lag.Samples > 0 {
			add("projection lag p99 ("+m.name+")", "< 30 ms", fmt.Sprintf("p50 %.1f / p95 %.1f / p99 %.1f ms over %d commands",
				m.l.Lag.All.P50, m.l.Lag.All.P95, m.l.Lag.All.P99, m.l.Lag.Samples), b(m.l.Lag.All.P99 < 30))
		}
	}
	if rp := r.Replay; rp != nil && rp.Upsert.PerSecond > 0 {
		x := rp.Projector.PerSecond / rp.Upsert.PerSecond
		add("rebuild of all read models (one pass) vs one-table upsert", "≥ 50%",
			fmt.Sprintf("%.0f vs %.0f events/s = %.1f%%", rp.Projector.PerSecond, rp.Upsert.PerSecond, 100*x), b(x >= 0.5))
		if lp := rp.LiveProjector; lp != nil {
			y := lp.Rate.PerSecond / rp.Upsert.PerSecond
			add("live projector (Step over the outbox) from empty vs one-table upsert", "≥ 50%",
				fmt.Sprintf("%.0f vs %.0f events/s = %.1f%%", lp.Rate.PerSecond, rp.Upsert.PerSecond, 100*y), b(y >= 0.5))
		}
		if rp.Rebuild != nil && len(rp.Rebuild.Failed) == 0 {
			y := rp.Rebuild.Wall.PerSecond / rp.Upsert.PerSecond
			est := ""
			if rp.Rebuild.Estimated {
				est = " (estimated: did not finish in its time limit)"
			}
			add("service rebuild of every read model vs one-table upsert", "≥ 50%",
				fmt.Sprintf("%.0f vs %.0f events/s = %.1f%%%s", rp.Rebuild.Wall.PerSecond, rp.Upsert.PerSecond, 100*y, est), b(y >= 0.5))
		} else {
			add("service rebuild of every read model vs one-table upsert", "≥ 50%", "", nil)
		}
		if len(rp.AsOf) > 0 {
			worst := rp.AsOf[0]
			for _, a := range rp.AsOf {
				if a.Latency.P95 > worst.Latency.P95 {
					worst = a
				}
			}
			add("as-of on 10,000 events p95", "< 20 ms", fmt.Sprintf("%.1f ms (%s, %d events)", worst.Latency.P95, worst.Query, worst.Replayed),
				b(worst.Latency.P95 < 20))
		} else {
			add("as-of on 10,000 events p95", "< 20 ms", "", nil)
		}
		if e := rp.Export; e != nil && e.Memory != nil {
			growth := e.Memory.PeakMB - e.Memory.StartMB
			flat := len(e.RSSAtQuarters) < 2 || e.RSSAtQuarters[len(e.RSSAtQuarters)-1]-e.RSSAtQuarters[0] < 16
			cut := ""
			if !e.Complete {
				cut = " — INCOMPLETE, cut by the service"
			}
			add("audit export in constant memory", "flat RSS",
				fmt.Sprintf("%d rows%s, RSS %.0f → peak %.0f MB (+%.0f), at quarters %v MB", e.Rows, cut, e.Memory.StartMB, e.Memory.PeakMB, growth, e.RSSAtQuarters),
				b(growth < 64 && flat && e.Complete))
		} else {
			add("audit export in constant memory", "flat RSS", "", nil)
		}
	}
	if r.Mix != nil && r.Mix.Memory != nil {
		add("service RSS under load", "< 150 MB", fmt.Sprintf("peak %.0f MB (mean %.0f)", r.Mix.Memory.PeakMB, r.Mix.Memory.MeanMB),
			b(r.Mix.Memory.PeakMB < 150))
	} else {
		add("service RSS under load", "< 150 MB", "", nil)
	}
	if rp := r.Replay; rp != nil && rp.Rebuild != nil && rp.Rebuild.Memory != nil {
		add("service RSS during rebuild", "(reported)", fmt.Sprintf("peak %.0f MB", rp.Rebuild.Memory.PeakMB), nil)
		r.Targets[len(r.Targets)-1].Status = "reported"
	}
}

// markdown renders the report as the tables of BENCHMARKS.md.
func (r *Report) markdown(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## Run of %s\n\n", r.Started.UTC().Format("2006-01-02 15:04 MST"))
	p("`%s` — %.0f s\n\n", r.Command, r.Finished.Sub(r.Started).Seconds())
	m := r.Machine
	p("Machine: %d cores (%s), %.1f GB, Linux %s, %s, PostgreSQL %s\n\n", m.Cores, m.CPU, m.MemoryGB, m.Kernel, m.Go, m.PostgreSQL)
	p("PostgreSQL settings not at their defaults: `%s`\n\n", strings.Join(m.PGSettings, "`, `"))
	s := r.Settings
	p("Settings: %d clients, warm-up %s, measured %s in %d round(s), projector batch %d, poll %s, lag poll %s\n\n",
		s.Clients, s.Warmup, s.Duration, s.Rounds, s.ProjectorBatch, s.ProjectorPoll, s.LagPoll)

	p("### Targets\n\n| target | goal | measured | status |\n|---|---|---|---|\n")
	for _, t := range r.Targets {
		p("| %s | %s | %s | **%s** |\n", t.Name, t.Target, dash(t.Measured), t.Status)
	}
	p("\n")

	if r.Mix != nil {
		p("### Service under the realistic mix (%d clients, %.0f s)\n\n", r.Mix.Clients, r.Mix.Seconds)
		loadTable(w, r.Mix)
	}
	if r.Ceiling != nil {
		c := r.Ceiling
		p("### SQL ceiling, same server, same run, %d clients\n\n%s\n\n", c.Clients, c.What)
		p("| | per second | p50 ms | p95 ms | p99 ms | max ms | errors |\n|---|---|---|---|---|---|---|\n")
		p("| ceiling transactions | %.0f | %.2f | %.2f | %.2f | %.2f | %d |\n", c.Tx.Rate, c.Tx.P50, c.Tx.P95, c.Tx.P99, c.Tx.Max, c.Errors)
		if r.Mix != nil {
			p("| service commands (mix) | %.0f | %.2f | %.2f | %.2f | %.2f | |\n", r.Mix.Commands.Rate, r.Mix.Commands.P50, r.Mix.Commands.P95, r.Mix.Commands.P99, r.Mix.Commands.Max)
		}
		if r.WriteOnly != nil {
			p("| service commands (commands only) | %.0f | %.2f | %.2f | %.2f | %.2f | |\n", r.WriteOnly.Commands.Rate, r.WriteOnly.Commands.P50, r.WriteOnly.Commands.P95, r.WriteOnly.Commands.P99, r.WriteOnly.Commands.Max)
		}
		p("\n")
		if len(r.Rounds) > 0 {
			p("Rounds (service window, then the ceiling's right after):\n\n| round | service commands/s | ceiling tx/s | ratio | service p99 ms | ceiling p99 ms |\n|---|---|---|---|---|---|\n")
			for i, rd := range r.Rounds {
				p("| %d | %.0f | %.0f | %.1f%% | %.1f | %.1f |\n", i+1, rd.ServiceCommandsPerSecond, rd.CeilingPerSecond, 100*rd.Ratio, rd.ServiceP99, rd.CeilingP99)
			}
			p("\n")
		}
	}
	if r.WriteOnly != nil {
		p("### Service, commands only (the same stories without their queries)\n\n")
		loadTable(w, r.WriteOnly)
	}
	if q := r.Queries; q != nil {
		p("### Queries alone vs the query ceiling, %d clients, %.0f s per endpoint and side in %d round(s)\n\n%s\n\nSeed: %s.\n\n", q.Clients, q.Seconds, q.Rounds, q.What, q.Seed)
		p("| endpoint | rows | HTTP/s | p50 ms | p99 ms | SQL/s | p50 ms | p99 ms | HTTP ÷ SQL | SQL + authorization/s | p50 ms | p99 ms | HTTP ÷ (SQL + authorization) | errors |\n")
		p("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, e := range q.Endpoints {
			bad := ""
			if n := e.HTTPErrors + e.SQLErrors + e.SQLAuthErrors; n > 0 {
				bad = fmt.Sprintf("%d / %d / %d", e.HTTPErrors, e.SQLErrors, e.SQLAuthErrors)
			}
			p("| `%s` | %.1f | %.0f | %.2f | %.2f | %.0f | %.2f | %.2f | %.1f%% | %.0f | %.2f | %.2f | %.1f%% | %s |\n", e.Endpoint, e.Rows,
				e.HTTP.Rate, e.HTTP.P50, e.HTTP.P99, e.SQL.Rate, e.SQL.P50, e.SQL.P99, 100*e.Ratio,
				e.SQLAuth.Rate, e.SQLAuth.P50, e.SQLAuth.P99, 100*e.RatioAuth, bad)
		}
		p("\n")
		if q.Rounds > 1 {
			p("Rounds (per second: HTTP / SQL / SQL + authorization, windows back to back):\n\n| endpoint |")
			for i := range q.Rounds {
				p(" round %d |", i+1)
			}
			p("\n|---|%s\n", strings.Repeat("---|", q.Rounds))
			for _, e := range q.Endpoints {
				p("| `%s` |", e.Endpoint)
				for _, rd := range e.PerRound {
					p(" %.0f / %.0f / %.0f |", rd.HTTPPerSecond, rd.SQLPerSecond, rd.SQLAuthPerSecond)
				}
				p("\n")
			}
			p("\n")
		}
	}
	if len(r.Knobs) > 0 {
		p("### Projector settings under the mix\n\n| batch | poll | service | commands/s | command p99 ms | query p99 ms | lag p50 ms | lag p95 ms | lag p99 ms | appended/s | applied/s | backlog max | peak RSS MB |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, k := range r.Knobs {
			p("| %d | %s | %s | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f | %.0f | %d | %.0f |\n", k.Batch, k.Poll, k.Service, k.CommandsPerSecond, k.CommandP99, k.QueryP99,
				k.Lag.P50, k.Lag.P95, k.Lag.P99, k.AppendedPerSecond, k.AppliedPerSecond, k.BacklogMax, k.PeakRSSMB)
		}
		p("\n")
	}
	if rp := r.Replay; rp != nil {
		p("### History: %d stored events (hub log %d, as-of log %d)\n\n", rp.StoredEvents, rp.HubEvents, rp.AsOfEvents)
		p("| what | events | seconds | events/s | vs one-table upsert |\n|---|---|---|---|---|\n")
		row := func(name string, x Rate) {
			vs := ""
			if rp.Upsert.PerSecond > 0 {
				vs = fmt.Sprintf("%.0f%%", 100*x.PerSecond/rp.Upsert.PerSecond)
			}
			p("| %s | %d | %.1f | %.0f | %s |\n", name, x.Events, x.Seconds, x.PerSecond, vs)
		}
		row("load (event store appends, 16 stories per transaction)", rp.Load)
		row("plain SQL scan in log order", rp.Scan)
		row("scan + open sealed data + decode", rp.ScanDecode)
		row("one table, one batched upsert per 1,000 events", rp.Upsert)
		for _, sp := range rp.Sweep {
			row(fmt.Sprintf("every read model in one pass (service decoder and handlers), batch %d (%d transactions)", sp.Batch, sp.Transactions), sp.Rate)
		}
		if lp := rp.LiveProjector; lp != nil {
			note := "finished"
			if !rp.LiveProjectorDone {
				note = "stopped at its time limit"
			}
			row(fmt.Sprintf("live projector's own Step over the outbox, batch %d, from empty (%s)", lp.Batch, note), lp.Rate)
		}
		if rb := rp.Rebuild; rb != nil {
			what := "wall"
			if rb.Estimated {
				what = "estimated from progress at the time limit"
			}
			row(fmt.Sprintf("service rebuild, %d read models started together, one shared pass (%s)", rb.Models, what), rb.Wall)
			names := make([]string, 0, len(rb.PerModel))
			for n := range rb.PerModel {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				row("rebuild "+n+" (its progress in the shared pass)", rb.PerModel[n])
			}
		}
		p("\n")
		if len(rp.AsOf) > 0 {
			p("| as-of query | events replayed | p50 ms | p95 ms | max ms | live p50 ms |\n|---|---|---|---|---|---|\n")
			for _, a := range rp.AsOf {
				p("| %s | %d | %.1f | %.1f | %.1f | %.1f |\n", a.Query, a.Replayed, a.Latency.P50, a.Latency.P95, a.Latency.Max, a.LiveP50)
			}
			p("\n")
		}
		if e := rp.Export; e != nil {
			p("| audit export | rows | MB | seconds | rows/s | service RSS start → peak MB | RSS at 25/50/75/100%% |\n|---|---|---|---|---|---|---|\n")
			start, peak := 0.0, 0.0
			if e.Memory != nil {
				start, peak = e.Memory.StartMB, e.Memory.PeakMB
			}
			format := e.Format
			if !e.Complete {
				format += " (cut short)"
			}
			p("| %s | %d | %.1f | %.1f | %.0f | %.0f → %.0f | %v |\n\n", format, e.Rows, float64(e.Bytes)/1e6, e.Rate.Seconds, e.Rate.PerSecond, start, peak, e.RSSAtQuarters)
		}
		if rb := rp.Rebuild; rb != nil && rb.Memory != nil {
			p("Service RSS during the rebuild: %.0f → peak %.0f MB (mean %.0f).\n\n", rb.Memory.StartMB, rb.Memory.PeakMB, rb.Memory.MeanMB)
		}
		for _, n := range rp.Notes {
			p("- %s\n", n)
		}
		if len(rp.Notes) > 0 {
			p("\n")
		}
	}
	if r.ServiceLifetimeMaxRSSMB > 0 {
		p("Load-phase service, peak RSS over its whole life (getrusage): %.0f MB.\n\n", r.ServiceLifetimeMaxRSSMB)
	}
	if len(r.Notes) > 0 {
		p("Notes:\n\n")
		for _, n := range r.Notes {
			p("- %s\n", n)
		}
		p("\n")
	}
}

func loadTable(w io.Writer, l *LoadReport) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("| endpoint | count | per second | p50 ms | p95 ms | p99 ms | max ms | errors |\n|---|---|---|---|---|---|---|---|\n")
	for _, e := range l.Endpoints {
		p("| `%s` | %d | %.1f | %.2f | %.2f | %.2f | %.2f | %s |\n", e.Name, e.Count, e.Rate, e.P50, e.P95, e.P99, e.Max, errs(e.Errors))
	}
	p("| **all commands** | %d | %.1f | %.2f | %.2f | %.2f | %.2f | |\n", l.Commands.Count, l.Commands.Rate, l.Commands.P50, l.Commands.P95, l.Commands.P99, l.Commands.Max)
	p("| **all queries** | %d | %.1f | %.2f | %.2f | %.2f | %.2f | |\n\n", l.Queries.Count, l.Queries.Rate, l.Queries.P50, l.Queries.P95, l.Queries.P99, l.Queries.Max)
	if len(l.Stories) > 0 {
		names := make([]string, 0, len(l.Stories))
		for n := range l.Stories {
			names = append(names, n)
		}
		sort.Strings(names)
		p("Stories run (errors): ")
		for i, n := range names {
			if i > 0 {
				p(", ")
			}
			p("%s %d (%d)", n, l.Stories[n].Runs, l.Stories[n].Errors)
		}
		p(".\n\n")
	}
	if len(l.Skipped) > 0 {
		p("Skipped (endpoint not in the service yet): %s.\n\n", strings.Join(l.Skipped, ", "))
	}
	if lag := l.Lag; lag != nil && lag.Samples > 0 {
		p("Projection lag, command answer → read model applied (%d commands, checkpoints polled every %.0f ms): p50 %.1f, p95 %.1f, p99 %.1f, max %.1f ms",
			lag.Samples, lag.PollMS, lag.All.P50, lag.All.P95, lag.All.P99, lag.All.Max)
		if lag.NotApplied > 0 || lag.Dropped > 0 {
			p(" (%d not applied within 10 s, %d not tracked)", lag.NotApplied, lag.Dropped)
		}
		p(".\n\n")
		names := make([]string, 0, len(lag.PerModel))
		for n := range lag.PerModel {
			names = append(names, n)
		}
		sort.Strings(names)
		p("| read model | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|\n")
		for _, n := range names {
			x := lag.PerModel[n]
			p("| %s | %.1f | %.1f | %.1f |\n", n, x.P50, x.P95, x.P99)
		}
		p("\n")
	}
	if lc := l.Log; lc != nil {
		p("Log: %d events appended (%.0f/s), %d applied by the projector (%.0f/s); backlog max %d, at the end %d.\n\n",
			lc.Appended, lc.AppendedPerSecond, lc.Applied, lc.AppliedPerSecond, lc.BacklogMax, lc.BacklogEnd)
	}
	if m := l.Memory; m != nil {
		kind := "largest 100 ms sample"
		if m.Exact {
			kind = "kernel high-water mark, reset at the window's start"
		}
		p("Service RSS over the window: start %.0f MB, mean %.0f, peak %.0f (%s).\n\n", m.StartMB, m.MeanMB, m.PeakMB, kind)
	}
	if len(l.Errors) > 0 {
		type kv struct {
			k string
			v int
		}
		var list []kv
		for k, v := range l.Errors {
			list = append(list, kv{k, v})
		}
		sort.Slice(list, func(i, j int) bool { return list[i].v > list[j].v })
		p("Story errors:\n\n")
		for i, e := range list {
			if i == 10 {
				break
			}
			p("- %d × %s\n", e.v, e.k)
		}
		p("\n")
	}
}

// shortQuery names a query endpoint by what follows its organization.
func shortQuery(endpoint string) string {
	if _, rest, ok := strings.Cut(endpoint, "/{org}/"); ok {
		return rest
	}
	return endpoint
}

func errs(m map[int]int) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d×%d", m[k], k))
	}
	return strings.Join(parts, " ")
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
