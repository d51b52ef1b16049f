package main

import (
	"context"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/prometheus/client_golang/prometheus"

	"partners/integration"
)

// natsForwarder wires the forwarder of partner events when PARTNERS_NATS_URL
// is set. When it is not, the forwarder's checkpoint is dropped, so that it
// never holds back the outbox's pruning (turned on again, it backfills).
// NATS being down at start is no failure: the forwarder waits for it.
func natsForwarder(ctx context.Context, cfg Config, svc *services, registry *prometheus.Registry, log *slog.Logger) (*integration.Forwarder, func(), error) {
	if cfg.NATSURL == "" {
		if err := integration.TurnOff(ctx, svc.pool); err != nil {
			return nil, nil, err
		}
		return nil, func() {}, nil
	}
	nc, err := integration.Connect(cfg.NATSURL, "partners")
	if err != nil {
		return nil, nil, err
	}
	if err := integration.EnsureStream(nc); err != nil {
		log.Warn("NATS stream not ready yet: the forwarder will retry", "err", err)
	}
	pub, err := integration.NewPublisher(nc, watermill.NewSlogLogger(log.With("component", "nats")))
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	fwd := integration.NewForwarder(svc.store, pub, log.With("component", "forwarder"))
	fwd.Ensure = func() error { return integration.EnsureStream(nc) }
	registry.MustRegister(integration.NewCollector(fwd))
	appended := svc.app.Appended
	svc.app.Appended = func() { appended(); fwd.Wake() }
	return fwd, nc.Close, nil
}
