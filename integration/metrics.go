package integration

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector reports the forwarder on /metrics: its position and lag (read
// at scrape time, as the read models' are) and the messages it published.
type Collector struct {
	f                             *Forwarder
	position, lag, secs, messages *prometheus.Desc
}

// NewCollector builds the forwarder's metrics.
func NewCollector(f *Forwarder) *Collector {
	return &Collector{f: f,
		position: prometheus.NewDesc("partners_forwarder_position", "Global position of the last event forwarded to NATS.", nil, nil),
		lag:      prometheus.NewDesc("partners_forwarder_lag_events", "Events not yet forwarded to NATS.", nil, nil),
		secs:     prometheus.NewDesc("partners_forwarder_lag_seconds", "Age of the oldest event not yet forwarded to NATS.", nil, nil),
		messages: prometheus.NewDesc("partners_forwarder_messages_total", "Messages this process published to NATS (re-sends included).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.position
	ch <- c.lag
	ch <- c.secs
	ch <- c.messages
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.messages, prometheus.CounterValue, float64(c.f.Published()))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.f.Status(ctx)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.position, prometheus.GaugeValue, float64(st.Position))
	ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(st.LagEvents))
	ch <- prometheus.MustNewConstMetric(c.secs, prometheus.GaugeValue, st.LagSeconds)
}
