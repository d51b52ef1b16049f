// Command partners-consume is an example consumer of the partner events on
// NATS JetStream, written as another service would: it knows only the
// public contract (package integration's message and data types, or the
// AsyncAPI document at /asyncapi.json), and keeps a small projection of
// partnerships from the stream through a durable consumer, printing each
// new one. It must never read the service's database.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"partners/integration"
)

const established = "partners.partnership.established.v1"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	url := flag.String("nats", "nats://127.0.0.1:4222", "NATS URL")
	durable := flag.String("durable", "partners-consume", "durable consumer name: a restart resumes where it stopped")
	org := flag.String("organization", "", "follow one organization (default: every one)")
	flag.Parse()
	// partners.*.partnership.established.v1: every organization's.
	subject := strings.Replace(integration.ChannelAddress(established), "{organization}", "*", 1)
	if *org != "" {
		id, err := uuid.Parse(*org)
		if err != nil {
			fmt.Fprintln(os.Stderr, "partners-consume: -organization must be a UUID")
			os.Exit(2)
		}
		subject = integration.Subject(id, established)
	}
	if err := run(ctx, *url, *durable, subject, NewPartnerships(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "partners-consume:", err)
		os.Exit(1)
	}
}

// Partnership is one link as the consumer keeps it.
type Partnership struct {
	ClientID        uuid.UUID `json:"client_id"`
	SubcontractorID uuid.UUID `json:"subcontractor_id"`
	Since           time.Time `json:"since"`
}

// Partnerships is the consumer's projection. Apply is idempotent: the
// stream delivers at least once, and a partnership comes once per
// organization it links.
type Partnerships struct {
	mu    sync.Mutex
	pairs map[[2]uuid.UUID]Partnership
}

// NewPartnerships is an empty projection.
func NewPartnerships() *Partnerships {
	return &Partnerships{pairs: map[[2]uuid.UUID]Partnership{}}
}

// Apply reads one message; added is false when it told nothing new.
func (p *Partnerships) Apply(m integration.Message) (got Partnership, added bool, err error) {
	if m.Type != established {
		return got, false, nil // a later version or another event: not ours
	}
	var d integration.PartnershipEstablishedV1
	if err := json.Unmarshal(m.Data, &d); err != nil {
		return got, false, fmt.Errorf("message %s: %w", m.ID, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	key := [2]uuid.UUID{d.ClientID, d.SubcontractorID}
	if _, ok := p.pairs[key]; ok {
		return got, false, nil
	}
	got = Partnership{ClientID: d.ClientID, SubcontractorID: d.SubcontractorID, Since: m.OccurredAt}
	p.pairs[key] = got
	return got, true, nil
}

// Len is how many partnerships it knows.
func (p *Partnerships) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pairs)
}

// List is every partnership, oldest first.
func (p *Partnerships) List() []Partnership {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Partnership, 0, len(p.pairs))
	for _, v := range p.pairs {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Since.Before(out[j].Since) })
	return out
}

// run feeds the projection from a durable JetStream consumer through
// watermill-nats until ctx ends, acknowledging each message once applied.
func run(ctx context.Context, url, durable, subject string, p *Partnerships, out io.Writer) error {
	sub, err := wmnats.NewSubscriber(wmnats.SubscriberConfig{
		URL:              url,
		QueueGroupPrefix: durable,
		SubscribersCount: 1,
		CloseTimeout:     5 * time.Second,
		AckWaitTimeout:   30 * time.Second,
		Unmarshaler:      &wmnats.NATSMarshaler{},
		NatsOptions:      []nats.Option{nats.MaxReconnects(-1), nats.Name("partners-consume")},
		JetStream: wmnats.JetStreamConfig{
			DurablePrefix:    durable,
			SubscribeOptions: []nats.SubOpt{nats.DeliverAll(), nats.AckExplicit()},
		},
	}, watermill.NopLogger{})
	if err != nil {
		return err
	}
	defer sub.Close()
	msgs, err := sub.Subscribe(ctx, subject)
	if err != nil {
		return err
	}
	for msg := range msgs {
		var m integration.Message
		if err := json.Unmarshal(msg.Payload, &m); err != nil {
			msg.Nack()
			return fmt.Errorf("payload: %w", err)
		}
		got, added, err := p.Apply(m)
		if err != nil {
			msg.Nack()
			return err
		}
		if added {
			fmt.Fprintf(out, "partnership since %s: client %s, subcontractor %s (%d known)\n",
				got.Since.Format(time.RFC3339), got.ClientID, got.SubcontractorID, p.Len())
		}
		msg.Ack()
	}
	return nil
}
