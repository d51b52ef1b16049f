// Package api is the HTTP edge: Gin routes, bearer authentication, request
// decoding and validation, problem+json errors (mapped from error codes in
// one table), idempotency keys, rate limits, read-your-writes waits and the
// OpenAPI document. Commands run in one frame (command.go), queries in
// another (query.go).
//
// It owns two tables, and its SQL touches no other: idempotency_keys
// (idempotency.go; ForgetIdempotencyRecords is wired into app's forgetting)
// and rate_limits (ratelimit.go). eventstore.PruneExpired deletes their
// expired rows. It must never decide business rules: commands go to app,
// queries to projections.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"partners/api/auth"
	"partners/app"
	"partners/domain"
	"partners/eventstore"
	"partners/projections"
)

// Config wires the edge to the rest of the service.
type Config struct {
	App       *app.App
	Pool      *pgxpool.Pool
	Projector *projections.Projector
	Verifier  *auth.Verifier
	Log       *slog.Logger
	// Metrics is where the edge records its metrics. It is never served on
	// the API's listener: cmd/partners serves it on its own.
	Metrics *prometheus.Registry

	// TrustedProxies lists the proxies whose X-Forwarded-For is believed;
	// empty means the client address is the TCP peer's.
	TrustedProxies []string
	// MaxBodyBytes bounds request bodies (413 beyond).
	MaxBodyBytes int64
	// HeavyPool is the small pool audit exports, as-of replays and
	// min_position waits run on (nil: Pool), so that they cannot take the
	// connections of everyone's queries and commands.
	HeavyPool *pgxpool.Pool
	// HeavyWait bounds the wait for a connection of HeavyPool (503 busy
	// beyond; default 2 s).
	HeavyWait time.Duration
	// ConsistencyTimeout bounds a min_position wait (503 beyond).
	ConsistencyTimeout time.Duration
	// Now is the clock (as-of validation, idempotency expiry).
	Now func() time.Time
	// PublicURL is the web app's base for the links in answers.
	PublicURL string
	// Limits are the rate limits (zero value: DefaultLimits).
	Limits Limits
	// ForgetMail deletes a forgotten person's mail files, when emails are
	// written to a folder.
	ForgetMail func(ctx context.Context, ref domain.PersonRef) (int, error)
	// Forwarder is the NATS forwarder, listed with the read models in
	// /v1/admin/projections; nil when it is off.
	Forwarder interface {
		Status(ctx context.Context) (projections.Status, error)
	}
}

// Server is the HTTP edge.
type Server struct {
	cfg     Config
	engine  *gin.Engine
	metrics *httpMetrics
	heavy   *heavyGate
	// highest is the highest event position seen committed: a min_position
	// at or below it was assigned.
	highest atomic.Int64
}

// New builds the router.
func New(cfg Config) (*Server, error) {
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.HeavyPool == nil {
		cfg.HeavyPool = cfg.Pool
	}
	if cfg.HeavyWait == 0 {
		cfg.HeavyWait = 2 * time.Second
	}
	if cfg.ConsistencyTimeout == 0 {
		cfg.ConsistencyTimeout = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://localhost:8080"
	}
	if cfg.Metrics == nil {
		cfg.Metrics = prometheus.NewRegistry()
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	e.UseRawPath = true
	e.UnescapePathValues = true
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, engine: e, metrics: newHTTPMetrics(cfg.Metrics)}
	if cfg.HeavyPool != nil && cfg.App != nil {
		s.heavy = newHeavyGate(cfg.HeavyPool, eventstore.New(cfg.HeavyPool, cfg.App.Store.Keys(), cfg.Now), cfg.HeavyWait)
	}
	if cfg.Projector != nil {
		cfg.Metrics.MustRegister(newProjectionCollector(cfg.Projector))
	}
	e.Use(s.recovery, s.requestContext, s.logRequests, s.limitBody)
	e.NoRoute(func(c *gin.Context) { writeProblem(c, edge(codeRouteNotFound, "No such endpoint.")) })
	e.NoMethod(func(c *gin.Context) {
		writeProblem(c, edge(codeMethodNotAllowed, "This endpoint does not accept that method."))
	})

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/openapi.json", serveOpenAPI)
	e.GET("/asyncapi.json", serveAsyncAPI)

	v1 := e.Group("/v1", s.authenticate, s.checkInput, s.rateLimit)
	s.organizationRoutes(v1)
	s.invitationRoutes(v1)
	s.portalRoutes(v1)
	s.teamRoutes(v1)
	s.historyRoutes(v1)
	s.provenanceRoutes(v1)
	s.adminRoutes(v1)
	return s, nil
}

// Handler is the http.Handler to serve.
func (s *Server) Handler() http.Handler { return s.engine }

// Engine is the router, for the web app to mount its pages on beside /v1.
func (s *Server) Engine() *gin.Engine { return s.engine }

// Routes lists method and path of every route, for the OpenAPI check.
func (s *Server) Routes() gin.RoutesInfo { return s.engine.Routes() }
