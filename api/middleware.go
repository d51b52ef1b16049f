package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"partners/app"
	"partners/projections"
)

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

const (
	keyRequestID = "request_id"
	keyPrincipal = "principal"
)

// requestContext gives every request an id (the caller's, when sane) and a
// correlation id, echoed in the answer and carried into event metadata.
func (s *Server) requestContext(c *gin.Context) {
	rid := c.GetHeader("X-Request-Id")
	if !requestIDPattern.MatchString(rid) {
		rid = uuid.NewString()
	}
	cid := c.GetHeader("X-Correlation-Id")
	if !requestIDPattern.MatchString(cid) {
		cid = rid
	}
	c.Set(keyRequestID, rid)
	c.Header("X-Request-Id", rid)
	c.Header("X-Correlation-Id", cid)
	c.Request = c.Request.WithContext(app.WithRequestInfo(c.Request.Context(), app.RequestInfo{RequestID: rid, CorrelationID: cid}))
	c.Next()
}

// logRequests writes one structured line per request: the route template,
// never the raw path or query (which may hold tokens or emails).
func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	elapsed := time.Since(start)
	s.metrics.observe(c.Request.Method, route, status, elapsed)
	attrs := []any{
		"method", c.Request.Method, "route", route, "status", status,
		"duration_ms", float64(elapsed.Microseconds()) / 1000, "request_id", c.GetString(keyRequestID),
		"client_ip", c.ClientIP(),
	}
	if p, ok := principalOf(c); ok {
		attrs = append(attrs, "user_id", p.Subject)
	}
	if len(c.Errors) > 0 {
		attrs = append(attrs, "err", c.Errors.String())
	}
	// A 503 is the database's condition, already reported by whoever saw
	// it first: one warning per request is plenty. Other 5xx are our bugs.
	level := slog.LevelInfo
	switch {
	case status == http.StatusServiceUnavailable:
		level = slog.LevelWarn
	case status >= 500:
		level = slog.LevelError
	}
	s.cfg.Log.Log(c.Request.Context(), level, "request", attrs...)
}

// recovery turns a panic into a logged 500 problem: a bug of ours, never the
// client's input.
func (s *Server) recovery(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			s.cfg.Log.Error("panic serving request", "panic", fmt.Sprint(r), "route", c.FullPath(), "request_id", c.GetString(keyRequestID))
			writeProblem(c, errors.New("panic"))
		}
	}()
	c.Next()
}

// limitBody bounds request bodies; decoding reports 413 beyond.
func (s *Server) limitBody(c *gin.Context) {
	if c.Request.ContentLength > s.cfg.MaxBodyBytes {
		writeProblem(c, edge(codeBodyTooLarge, fmt.Sprintf("The request body is larger than %d bytes.", s.cfg.MaxBodyBytes)))
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBodyBytes)
	c.Next()
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partners_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "partners_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (m *httpMetrics) observe(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}

// projectionCollector exports each read model's position and lag.
type projectionCollector struct {
	p                   *projections.Projector
	position, lag, secs *prometheus.Desc
}

func newProjectionCollector(p *projections.Projector) *projectionCollector {
	return &projectionCollector{p: p,
		position: prometheus.NewDesc("partners_projection_position", "Global position of the last event applied.", []string{"projection"}, nil),
		lag:      prometheus.NewDesc("partners_projection_lag_events", "Events in the outbox not yet applied.", []string{"projection"}, nil),
		secs:     prometheus.NewDesc("partners_projection_lag_seconds", "Age of the oldest event not yet applied.", []string{"projection"}, nil),
	}
}

func (pc *projectionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pc.position
	ch <- pc.lag
	ch <- pc.secs
}

func (pc *projectionCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	sts, err := pc.p.Statuses(ctx)
	if err != nil {
		return
	}
	for _, st := range sts {
		ch <- prometheus.MustNewConstMetric(pc.position, prometheus.GaugeValue, float64(st.Position), st.Name)
		ch <- prometheus.MustNewConstMetric(pc.lag, prometheus.GaugeValue, float64(st.LagEvents), st.Name)
		ch <- prometheus.MustNewConstMetric(pc.secs, prometheus.GaugeValue, st.LagSeconds, st.Name)
	}
}
