package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"partners/api"
	"partners/api/auth"
	"partners/app"
	"partners/eventstore"
	"partners/projections"
)

// inProcess runs the service inside the harness (the packages serve wires:
// event store, app, projector, HTTP edge on a loopback port; no Watermill
// reactions, so no emails) instead of building and starting ./cmd/partners.
// The tests use it, and -in-process with -cpuprofile profiles the service
// and the harness together; its RSS is then the harness's too.
func inProcess(ctx context.Context, dbURL string, env map[string]string) (*service, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 16
	if n, err := strconv.Atoi(env["PARTNERS_DB_MAX_CONNS"]); err == nil {
		cfg.MaxConns = int32(n)
	}
	eventstore.ConfigurePool(cfg)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	keys, err := eventstore.NewKeyring(eventstore.DevelopmentDataKey)
	if err != nil {
		pool.Close()
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := eventstore.New(pool, keys, app.Clock)
	a := app.New(store)
	proj := projections.NewProjector(store, log, projections.All()...)
	if n, err := strconv.Atoi(env["PARTNERS_PROJECTOR_BATCH"]); err == nil {
		proj.BatchSize = n
	}
	if d, err := time.ParseDuration(env["PARTNERS_PROJECTOR_POLL"]); err == nil {
		proj.PollInterval = d
	}
	a.Appended = proj.Wake
	a.Erasers = []app.Eraser{api.ForgetIdempotencyRecords}
	verifier, err := auth.NewVerifier(ctx, auth.Config{Secret: []byte(auth.DevelopmentSecret)})
	if err != nil {
		pool.Close()
		return nil, err
	}
	srv, err := api.New(api.Config{App: a, Pool: pool, Projector: proj, Verifier: verifier, Log: log, Limits: api.Limits{Off: true}})
	if err != nil {
		pool.Close()
		return nil, err
	}
	ts := httptest.NewServer(srv.Handler())
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = proj.Run(runCtx)
	}()
	return &service{URL: ts.URL, DBURL: dbURL, PID: os.Getpid(), Env: env, stop: func() (int64, error) {
		ts.Close()
		cancel()
		wg.Wait()
		pool.Close()
		return 0, nil
	}}, nil
}
