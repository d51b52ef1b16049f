package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/api"
	"partners/api/auth"
	"partners/app"
	"partners/domain"
	"partners/eventstore"
	"partners/migrations"
	"partners/notify"
	"partners/notify/mail"
	"partners/projections"
)

// mailSender sends through SMTP when configured, else writes .eml files.
func mailSender(cfg Config, log *slog.Logger) (mail.Sender, error) {
	if cfg.SMTPURL != "" {
		s, err := mail.NewSMTPSender(cfg.SMTPURL, cfg.SMTPFrom, log)
		if err != nil {
			return nil, fmt.Errorf("PARTNERS_SMTP_URL: %w", err)
		}
		return s, nil
	}
	log.Info("no SMTP configured: emails are written as .eml files", "dir", cfg.MailDir)
	return mail.NewFileSender(cfg.MailDir, cfg.SMTPFrom, log), nil
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

func migrate(ctx context.Context, cfg Config, stdout io.Writer) error {
	if err := migrations.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	if err := migrations.Migrate(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "database is at the newest schema")
	return nil
}

// services is the wired service, shared by serve and the operator commands.
type services struct {
	pool      *pgxpool.Pool
	store     *eventstore.Store
	app       *app.App
	projector *projections.Projector
	log       *slog.Logger
}

func open(ctx context.Context, cfg Config, log *slog.Logger) (*services, error) {
	if err := migrations.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	if err := migrations.Migrate(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	pcfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("PARTNERS_DATABASE_URL: %w", err)
	}
	boundStatements(pcfg, cfg.DBMaxConns)
	eventstore.ConfigurePool(pcfg)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, err
	}
	keys, err := eventstore.NewKeyring(cfg.DataKey)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("PARTNERS_DATA_KEY: %w", err)
	}
	store := eventstore.New(pool, keys, app.Clock)
	a := app.New(store)
	a.InvitationTTL = cfg.InvitationTTL
	proj := projections.NewProjector(store, log, projections.All()...)
	proj.BatchSize, proj.PollInterval = cfg.ProjectorBatch, cfg.ProjectorPoll
	a.Appended = proj.Wake
	a.Erasers = []app.Eraser{api.ForgetIdempotencyRecords}
	return &services{pool: pool, store: store, app: a, projector: proj, log: log}, nil
}

func serve(ctx context.Context, cfg Config, stderr io.Writer) error {
	log := newLogger(cfg, stderr)
	if cfg.DevSecret {
		log.Warn("DEVELOPMENT MODE: tokens are signed with the public development secret; listening on loopback only. Set PARTNERS_JWT_SECRET or PARTNERS_JWKS_URL for anything else.")
	}
	if cfg.DevDataKey {
		log.Warn("DEVELOPMENT MODE: personal data is sealed under the public development data key. Set PARTNERS_DATA_KEY for anything else.")
	}
	svc, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer svc.pool.Close()

	var secret []byte
	if cfg.JWTSecret != "" {
		secret = []byte(cfg.JWTSecret)
	}
	verifier, err := auth.NewVerifier(ctx, auth.Config{Secret: secret, JWKSURL: cfg.JWKSURL, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience})
	if err != nil {
		return err
	}
	sender, err := mailSender(cfg, log)
	if err != nil {
		return err
	}
	pipeline := notify.NewPipeline(svc.store, sender, cfg.PublicURL, log)
	pipeline.Lease = cfg.MailLease
	heavy, err := openHeavyPool(ctx, svc.pool)
	if err != nil {
		return err
	}
	defer heavy.Close()
	apiCfg := api.Config{
		App: svc.app, Pool: svc.pool, HeavyPool: heavy, Projector: svc.projector, Verifier: verifier, Log: log,
		TrustedProxies: cfg.TrustedProxies, PublicURL: cfg.PublicURL,
	}
	if cfg.RateLimitsOff {
		apiCfg.Limits = api.Limits{Off: true}
		log.Warn("rate limits are off (PARTNERS_RATE_LIMITS=off)")
	}
	if cfg.SMTPURL == "" {
		apiCfg.ForgetMail = func(ctx context.Context, ref domain.PersonRef) (int, error) {
			return pipeline.ForgetFiles(ctx, cfg.MailDir, ref)
		}
	}
	srv, err := api.New(apiCfg)
	if err != nil {
		return err
	}
	reactions, err := eventstore.NewReactions(svc.store, svc.pool, watermill.NewSlogLogger(log.With("component", "watermill")))
	if err != nil {
		return err
	}
	if err := reactions.Add(notify.ConsumerGroup, pipeline.Queue); err != nil {
		return err
	}
	for group, react := range svc.app.Reactions() {
		if err := reactions.Add(group, react); err != nil {
			return err
		}
	}

	workers, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := svc.projector.Run(workers); err != nil {
			log.Error("projector stopped", "err", err)
		}
	}()
	wg.Add(3)
	go func() {
		defer wg.Done()
		janitor(workers, svc.store, log)
	}()
	go func() {
		defer wg.Done()
		if err := reactions.Run(workers); err != nil {
			log.Error("watermill router stopped", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		_ = pipeline.Run(workers)
	}()

	httpSrv := newHTTPServer(cfg.HTTPAddr, srv.Handler(), context.WithoutCancel(ctx))
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		stopWorkers()
		wg.Wait()
		return err
	}
	log.Info("serving", "addr", ln.Addr().String(), "public_url", cfg.PublicURL)
	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()

	select {
	case err = <-errc:
	case <-ctx.Done():
		log.Info("shutting down: finishing requests in flight")
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = httpSrv.Shutdown(sctx)
		cancel()
	}
	stopWorkers()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	log.Info("stopped")
	return err
}

func notifyFiles(ctx context.Context, svc *services, cfg Config, ref domain.PersonRef) (int, error) {
	return notify.NewPipeline(svc.store, nil, cfg.PublicURL, svc.log).ForgetFiles(ctx, cfg.MailDir, ref)
}

// janitor prunes, every minute, what every consumer has passed or what has
// expired, so that nothing grows without bound.
func janitor(ctx context.Context, store *eventstore.Store, log *slog.Logger) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		if n, err := store.PruneOutbox(ctx); err != nil && ctx.Err() == nil {
			log.Warn("prune outbox", "err", err)
		} else if n > 0 {
			log.Info("outbox pruned", "rows", n)
		}
		if n, err := store.PruneExpired(ctx); err != nil && ctx.Err() == nil {
			log.Warn("prune expired", "err", err)
		} else if n > 0 {
			log.Debug("expired rows pruned", "rows", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// openHeavyPool opens the small second pool that audit exports, as-of
// replays and min_position waits run on (PARTNERS_DB_HEAVY_CONNS
// connections, default 4), with the main pool's settings otherwise.
func openHeavyPool(ctx context.Context, main *pgxpool.Pool) (*pgxpool.Pool, error) {
	conns := int64(4)
	if raw := os.Getenv("PARTNERS_DB_HEAVY_CONNS"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 32)
		if err != nil || n < 2 || n > 1000 {
			return nil, fmt.Errorf("PARTNERS_DB_HEAVY_CONNS must be a whole number from 2 to 1000")
		}
		conns = n
	}
	pcfg := main.Config().Copy()
	pcfg.MaxConns = int32(conns)
	pcfg.MinConns = 0
	return pgxpool.NewWithConfig(ctx, pcfg)
}

// boundStatements sizes the pool and bounds every statement: a query that
// hangs must not hold a request or the projector forever.
func boundStatements(pcfg *pgxpool.Config, maxConns int32) {
	pcfg.MaxConns = maxConns
	pcfg.ConnConfig.RuntimeParams["statement_timeout"] = "30000"
	pcfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = "60000"
	pcfg.ConnConfig.ConnectTimeout = 5 * time.Second
}

// newHTTPServer bounds every phase of a connection: slow or idle clients
// cannot hold the server.
func newHTTPServer(addr string, h http.Handler, base context.Context) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
}
