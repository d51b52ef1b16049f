package integration_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"partners/domain"
	"partners/eventstore"
)

// BenchmarkForwarder measures the forwarder (BENCHMARKS.md, "Events to
// NATS"): end-to-end lag, from an append's commit to a durable consumer's
// receipt of its first message, while writers append at a steady rate (the
// realistic mix's 437 events/s, and 5× it), then the throughput of draining
// a backlog. One event in four is a partnership (two messages).
//
//	go test -run '^$' -bench Forwarder -benchtime 1x ./integration/
func BenchmarkForwarder(b *testing.B) {
	for _, rate := range []int{437, 5 * 437} {
		b.Run(fmt.Sprintf("lag-at-%d-events-per-s", rate), func(b *testing.B) { benchLag(b, rate, 15*time.Second) })
	}
	b.Run("drain-20000-events", func(b *testing.B) { benchDrain(b, 20000) })
}

func benchLag(b *testing.B, rate int, d time.Duration) {
	r := newRig(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = r.fwd.Run(ctx) }()

	var mu sync.Mutex
	committed := map[uuid.UUID]time.Time{}
	var lags []time.Duration
	js, err := jetstream.New(r.nc)
	if err != nil {
		b.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, "PARTNERS", jetstream.ConsumerConfig{Durable: "bench", AckPolicy: jetstream.AckNonePolicy})
	if err != nil {
		b.Fatal(err)
	}
	received := map[uuid.UUID]time.Time{}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		at := time.Now()
		id, _, _ := strings.Cut(m.Headers().Get("Nats-Msg-Id"), ":")
		ev, err := uuid.Parse(id)
		if err != nil {
			return
		}
		mu.Lock()
		if _, ok := received[ev]; !ok {
			received[ev] = at
		}
		mu.Unlock()
	})
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Stop()

	orgs := make([]uuid.UUID, 50)
	for i := range orgs {
		orgs[i] = uuid.New()
	}
	const writers = 16
	var wg sync.WaitGroup
	start := time.Now()
	appended := 0
	var amu sync.Mutex
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(time.Second * writers / time.Duration(rate))
			defer tick.Stop()
			for i := 0; time.Since(start) < d; i++ {
				<-tick.C
				id := uuid.New()
				a, c := orgs[(w*7+i)%len(orgs)], orgs[(w*7+i+1)%len(orgs)]
				var ev domain.Event = domain.OrganizationCreated{OrganizationID: a, Name: "x", Side: domain.SideClient}
				stream := domain.OrganizationStream(a)
				if i%4 == 3 {
					ev, stream = domain.PartnershipEstablished{ClientID: a, SubcontractorID: c, InvitationID: uuid.New()}, "partnership-bench-"+id.String()
				}
				if _, err := r.store.Append(context.Background(), eventstore.Batch{Streams: []eventstore.StreamAppend{{
					StreamID: stream, StreamType: "bench", Expected: eventstore.Any, Events: []eventstore.NewEvent{{ID: id, Data: ev}}}}}); err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				committed[id] = time.Now()
				mu.Unlock()
				r.fwd.Wake() // as serve wires it: an append on this replica wakes the forwarder
				amu.Lock()
				appended++
				amu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(received)
		mu.Unlock()
		if n >= appended || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	// A message may arrive before its writer notes the commit (the append
	// returned, the goroutine not yet run): that lag counts as zero.
	for id, c := range committed {
		if at, ok := received[id]; ok {
			lags = append(lags, max(at.Sub(c), 0))
		}
	}
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	pct := func(p float64) float64 {
		if len(lags) == 0 {
			return 0
		}
		return float64(lags[min(len(lags)-1, int(p*float64(len(lags))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(appended)/elapsed.Seconds(), "events/s")
	b.ReportMetric(pct(0.50), "lag-p50-ms")
	b.ReportMetric(pct(0.95), "lag-p95-ms")
	b.ReportMetric(pct(0.99), "lag-p99-ms")
	b.ReportMetric(float64(len(lags)), "received")
	if len(lags) != appended {
		b.Errorf("consumer got %d of %d events", len(lags), appended)
	}
}

func benchDrain(b *testing.B, n int) {
	r := newRig(b)
	ctx := context.Background()
	orgs := make([]uuid.UUID, 50)
	for i := range orgs {
		orgs[i] = uuid.New()
	}
	// The backlog goes in 100 events per append, so that writing it is quick.
	msgs := 0
	for i := 0; i < n; i += 100 {
		var evs []eventstore.NewEvent
		for j := i; j < i+100 && j < n; j++ {
			a, c := orgs[j%len(orgs)], orgs[(j+1)%len(orgs)]
			var ev domain.Event = domain.OrganizationCreated{OrganizationID: a, Name: "x", Side: domain.SideClient}
			msgs++
			if j%4 == 3 {
				ev = domain.PartnershipEstablished{ClientID: a, SubcontractorID: c, InvitationID: uuid.New()}
				msgs++
			}
			evs = append(evs, eventstore.NewEvent{ID: uuid.New(), Data: ev})
		}
		if _, err := r.store.Append(ctx, eventstore.Batch{Streams: []eventstore.StreamAppend{{
			StreamID: "bench-" + uuid.NewString(), StreamType: "bench", Expected: eventstore.Any, Events: evs}}}); err != nil {
			b.Fatal(err)
		}
	}
	if err := r.fwd.Prepare(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	r.drain(b, uint64(msgs))
	elapsed := time.Since(start)
	b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(msgs)/elapsed.Seconds(), "messages/s")
}
