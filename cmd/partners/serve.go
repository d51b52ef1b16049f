package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"partners/api"
	"partners/api/auth"
	"partners/app"
	"partners/domain"
	"partners/eventstore"
	"partners/migrations"
	"partners/notify"
	"partners/notify/mail"
	"partners/projections"
	"partners/web"
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
	if err != nil { // LoadConfig read it already; pgx's error may hold the password
		return nil, errors.New("PARTNERS_DATABASE_URL cannot be read")
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
	a.Erasers = []app.Eraser{api.ForgetIdempotencyRecords, web.ForgetSessions}
	return &services{pool: pool, store: store, app: a, projector: proj, log: log}, nil
}

// shutdownBound is how long requests in flight may take to finish once the
// service is told to stop.
const shutdownBound = 20 * time.Second

// serve runs the API and metrics listeners and the background loops. The
// listeners are opened first: a taken port stops the service before any
// loop starts. On a signal the listeners drain their requests in flight,
// then the loops stop: a request may wait for its projection until its end.
func serve(ctx context.Context, cfg Config, stderr io.Writer) error {
	log := newLogger(cfg, stderr)
	for _, w := range cfg.Warnings {
		log.Warn(w)
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
	verifier, err := auth.NewVerifier(ctx, auth.Config{Secret: secret, JWKSURL: cfg.JWKSURL, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience,
		AssumeEmailVerified: cfg.AssumeEmailVerified})
	if err != nil {
		return err
	}
	sender, err := mailSender(cfg, log)
	if err != nil {
		return err
	}
	pipeline := notify.NewPipeline(svc.store, sender, cfg.PublicURL, log)
	pipeline.Lease = cfg.MailLease
	heavy, err := openHeavyPool(ctx, svc.pool, cfg.DBHeavyConns)
	if err != nil {
		return err
	}
	defer heavy.Close()
	registry := prometheus.NewRegistry()
	apiCfg := api.Config{
		App: svc.app, Pool: svc.pool, HeavyPool: heavy, Projector: svc.projector, Verifier: verifier, Log: log, Metrics: registry,
		TrustedProxies: cfg.TrustedProxies, PublicURL: cfg.PublicURL,
	}
	if cfg.RateLimitsOff {
		apiCfg.Limits = api.Limits{Off: true}
	}
	if cfg.SMTPURL == "" {
		apiCfg.ForgetMail = func(ctx context.Context, ref domain.PersonRef) (int, error) {
			return pipeline.ForgetFiles(ctx, cfg.MailDir, ref)
		}
	}
	fwd, closeNATS, err := natsForwarder(ctx, cfg, svc, registry, log)
	if err != nil {
		return err
	}
	defer closeNATS()
	if fwd != nil {
		apiCfg.Forwarder = fwd
	}
	srv, err := api.New(apiCfg)
	if err != nil {
		return err
	}
	webCfg := webConfig(cfg, svc, log)
	// The forms and long reads count against the API's own limits.
	webCfg.Limiter = srv.Limiter()
	if _, err := web.Mount(srv.Engine(), webCfg); err != nil {
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

	base := context.WithoutCancel(ctx)
	apiLn, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return err
	}
	listeners := []*listener{{name: "api", ln: apiLn, srv: newHTTPServer(cfg.HTTPAddr, srv.Handler(), base)}}
	if ln, err := listenMetrics(cfg, log); err != nil {
		apiLn.Close()
		return err
	} else if ln != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
		listeners = append(listeners, &listener{name: "metrics", ln: ln, srv: newHTTPServer(cfg.MetricsAddr, mux, base)})
	}

	// The loops outlive the listeners (see above), so they are not in the
	// listeners' group, and they only log their failures, as a read model
	// that stops must not take the API down with it.
	workers, stopWorkers := context.WithCancel(base)
	defer stopWorkers()
	var loops errgroup.Group
	loops.Go(func() error {
		if err := svc.projector.Run(workers); err != nil {
			log.Error("projector stopped", "err", err)
		}
		return nil
	})
	loops.Go(func() error { janitor(workers, svc.store, log); return nil })
	loops.Go(func() error {
		if err := reactions.Run(workers); err != nil {
			log.Error("watermill router stopped", "err", err)
		}
		return nil
	})
	loops.Go(func() error { _ = pipeline.Run(workers); return nil })
	if fwd != nil {
		loops.Go(func() error { _ = fwd.Run(workers); return nil })
	}

	// One listener failing stops the other, and the service.
	served, stopping := errgroup.WithContext(ctx)
	for _, l := range listeners {
		log.Info("serving", "listener", l.name, "addr", l.ln.Addr().String(), "public_url", cfg.PublicURL)
		served.Go(func() error {
			if err := l.srv.Serve(l.ln); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("%s listener: %w", l.name, err)
			}
			return nil
		})
		served.Go(func() error {
			<-stopping.Done()
			if l.name == "api" {
				log.Info("shutting down: finishing requests in flight")
			}
			sctx, cancel := context.WithTimeout(context.Background(), shutdownBound)
			defer cancel()
			return l.srv.Shutdown(sctx)
		})
	}
	err = served.Wait()
	stopWorkers()
	_ = loops.Wait()
	log.Info("stopped")
	return err
}

// listener is one HTTP server and the socket it serves.
type listener struct {
	name string
	ln   net.Listener
	srv  *http.Server
}

// listenMetrics opens the operators' listener, nil when it is off. A taken
// port refuses to start in production (monitoring would silently scrape
// nothing, or another process), and is only a warning in development, so
// that the README's command runs twice on one machine.
func listenMetrics(cfg Config, log *slog.Logger) (net.Listener, error) {
	if cfg.MetricsAddr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	switch {
	case err == nil:
		return ln, nil
	case cfg.Production():
		return nil, fmt.Errorf("PARTNERS_METRICS_ADDR: %w (set another address, or off)", err)
	default:
		log.Warn("metrics are not served: their address is taken (set PARTNERS_METRICS_ADDR to another address, or off)",
			"addr", cfg.MetricsAddr, "err", err)
		return nil, nil
	}
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
func openHeavyPool(ctx context.Context, main *pgxpool.Pool, conns int32) (*pgxpool.Pool, error) {
	pcfg := main.Config().Copy()
	pcfg.MaxConns = conns
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

// webConfig wires the web app: the development sign-in form only in
// development, with the published secret (anyone may sign in as anyone
// anyway), no proxy in front, on a loopback listener (web checks the
// listener and proxy headers again).
func webConfig(cfg Config, svc *services, log *slog.Logger) web.Config {
	return web.Config{App: svc.app, Pool: svc.pool, Projector: svc.projector, Log: log.With("component", "web"), PublicURL: cfg.PublicURL,
		OIDC:      web.OIDCConfig{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret},
		DevSignIn: devSignIn(cfg), AssumeEmailVerified: cfg.AssumeEmailVerified, AdminEmails: cfg.AdminEmails}
}

func devSignIn(cfg Config) bool {
	return !cfg.Production() && cfg.DevSecret && len(cfg.TrustedProxies) == 0 && loopbackAddr(cfg.HTTPAddr)
}
