package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"partners/internal/pgtest"
)

// TestSmoke runs the -smoke path end to end against the service in-process:
// every phase, tiny, and checks that each produced figures (no thresholds:
// speed is for BENCHMARKS.md, not for CI).
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("the smoke run takes seconds")
	}
	out := filepath.Join(t.TempDir(), "smoke")
	// The -smoke sizes, trimmed further: the race detector slows the
	// in-process service several times.
	cfg, err := parseFlags([]string{"-smoke", "-database-url", pgtest.ServerURL(), "-out", out,
		"-duration", "1s", "-warmup", "300ms", "-write-only", "500ms", "-knob-duration", "500ms",
		"-events", "800", "-asof-events", "100", "-asof-runs", "2"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.start = inProcess
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var log strings.Builder
	began := time.Now()
	rep, err := run(ctx, cfg, io.Discard, &log)
	t.Logf("smoke run took %s\n%s", time.Since(began), log.String())
	if err != nil {
		t.Fatalf("smoke run: %v\n%s", err, log.String())
	}
	if err := writeReport(cfg, rep, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}

	if rep.Mix == nil || rep.Mix.Commands.Count == 0 || rep.Mix.Queries.Count == 0 {
		t.Fatalf("the mix measured no commands or no queries: %+v\n%s", rep.Mix, log.String())
	}
	for story, n := range rep.Mix.Stories {
		if n.Errors > 0 {
			t.Errorf("story %s: %d of %d runs failed: %v", story, n.Errors, n.Runs, rep.Mix.Errors)
		}
	}
	if rep.Ceiling == nil || rep.Ceiling.Tx.Count == 0 || rep.Ceiling.Errors > 0 {
		t.Errorf("ceiling: got %+v, want transactions and no errors (%v)", rep.Ceiling, rep.Notes)
	}
	if rep.Mix.Lag == nil || rep.Mix.Lag.Samples == 0 {
		t.Errorf("no projection lag measured: %+v", rep.Mix.Lag)
	}
	if rep.WriteOnly == nil || rep.WriteOnly.Queries.Count != 0 || rep.WriteOnly.Commands.Count == 0 {
		t.Errorf("commands-only mix: got %+v, want commands and no queries", rep.WriteOnly)
	}
	if q := rep.Queries; q == nil || len(q.Endpoints) != len(queryEndpoints) {
		t.Errorf("query phase: got %+v, want the %d endpoints", q, len(queryEndpoints))
	} else {
		for _, e := range q.Endpoints {
			if e.HTTP.Count == 0 || e.SQL.Count == 0 || e.SQLAuth.Count == 0 {
				t.Errorf("%s: HTTP %d, SQL %d, SQL + authorization %d answers; want some of each", e.Endpoint, e.HTTP.Count, e.SQL.Count, e.SQLAuth.Count)
			}
			if e.HTTPErrors+e.SQLErrors+e.SQLAuthErrors > 0 {
				t.Errorf("%s: errors HTTP %d, SQL %d, SQL + authorization %d; want none (%v)", e.Endpoint, e.HTTPErrors, e.SQLErrors, e.SQLAuthErrors, rep.Notes)
			}
			// Empty lists would make the ceiling a measure of nothing.
			if e.Rows < 1 || e.Mismatch != "" {
				t.Errorf("%s: %.1f rows per answer (mismatch %q); want the seeded rows, the same over HTTP and SQL", e.Endpoint, e.Rows, e.Mismatch)
			}
		}
		var found int
		for _, tg := range rep.Targets {
			if strings.HasPrefix(tg.Name, "query throughput vs query ceiling") && tg.Status != "not measured" {
				found++
			}
		}
		if found != len(queryEndpoints) {
			t.Errorf("targets: %d query rows measured, want %d: %+v", found, len(queryEndpoints), rep.Targets)
		}
	}
	if len(rep.Knobs) != 2 || rep.Knobs[0].Batch != 100 || rep.Knobs[1].Service != "in-process, no Watermill reactions" {
		t.Errorf("knobs: got %+v, want two runs at batch 100, the second in-process", rep.Knobs)
	}
	rp := rep.Replay
	if rp == nil {
		t.Fatal("no replay figures")
	}
	if rp.HubEvents != cfg.events || rp.AsOfEvents != cfg.asOfEvents {
		t.Errorf("history: hub log %d, as-of log %d; want %d and %d", rp.HubEvents, rp.AsOfEvents, cfg.events, cfg.asOfEvents)
	}
	for name, r := range map[string]Rate{"scan": rp.Scan, "scan+decode": rp.ScanDecode, "upsert": rp.Upsert, "projector": rp.Projector} {
		if r.Events != rp.StoredEvents {
			t.Errorf("%s covered %d events, want the %d stored", name, r.Events, rp.StoredEvents)
		}
	}
	if rp.Export == nil || rp.Export.Rows != int64(cfg.events) || !rp.Export.Complete {
		t.Errorf("export: got %+v, want %d rows (%v)", rp.Export, cfg.events, rp.Notes)
	}
	if len(rp.AsOf) == 0 {
		t.Errorf("no as-of figures (%v)", rp.Notes)
	}
	if rp.LiveProjector == nil || !rp.LiveProjectorDone || rp.LiveProjector.Rate.Events != rp.StoredEvents {
		t.Errorf("live projector: got %+v (finished %v), want all %d events", rp.LiveProjector, rp.LiveProjectorDone, rp.StoredEvents)
	}
	if rp.Rebuild == nil || len(rp.Rebuild.Failed) > 0 || !rp.Rebuild.Finished {
		t.Errorf("service rebuild: got %+v (%v)", rp.Rebuild, rp.Notes)
	}
	md, err := os.ReadFile(out + ".md")
	if err != nil || !strings.Contains(string(md), "### Targets") {
		t.Errorf("markdown report missing or without targets: %v", err)
	}
}

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		ok   bool
	}{
		{"Defaults", nil, true},
		{"RemoteService", []string{"-url", "http://10.0.0.1:8080"}, false},
		{"RemoteDatabase", []string{"-database-url", "postgres://postgres@db.example:5432/postgres"}, false},
		{"LoopbackService", []string{"-url", "http://127.0.0.1:8080/"}, true},
		{"SmokeAndAll", []string{"-smoke", "-all"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseFlags(tc.args, io.Discard)
			if (err == nil) != tc.ok {
				t.Errorf("parseFlags(%v): err = %v, want ok = %v", tc.args, err, tc.ok)
			}
		})
	}
	for _, k := range []string{"1000/10ms", "100/5ms/in-process"} {
		if _, _, _, err := parseKnob(k); err != nil {
			t.Errorf("parseKnob(%q): %v", k, err)
		}
	}
	for _, k := range []string{"1000", "x/10ms", "10/10ms/child", "0/1ms"} {
		if _, _, _, err := parseKnob(k); err == nil {
			t.Errorf("parseKnob(%q) accepted", k)
		}
	}
	cfg, _ := parseFlags([]string{"-all"}, io.Discard)
	if cfg.events != 1000000 || !cfg.has("replay") || !cfg.has("knobs") || !cfg.has("queries") || cfg.clients != 16 {
		t.Errorf("-all: got events %d, phases %q, clients %d", cfg.events, cfg.phases, cfg.clients)
	}
}

func TestPercentiles(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	l := summarize(ds, 10*time.Second)
	if l.Count != 100 || l.P50 != 50 || l.P95 != 95 || l.P99 != 99 || l.Max != 100 || l.Rate != 10 {
		t.Errorf("summarize(1..100 ms over 10 s) = %+v", l)
	}
}
