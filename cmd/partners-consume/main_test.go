package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
	"partners/integration"
	"partners/internal/natstest"
)

// syncBuffer is what run writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The consumer keeps the partnerships from the stream as the forwarder
// publishes them: once per organization, other events in between; started
// again, it goes on with its durable consumer and prints only what is new.
func TestConsumerKeepsPartnerships(t *testing.T) {
	srv := natstest.Start(t)
	nc, err := integration.Connect(srv.URL(), "consume-test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := integration.EnsureStream(nc); err != nil {
		t.Fatal(err)
	}
	pub, err := integration.NewPublisher(nc, nil)
	if err != nil {
		t.Fatal(err)
	}
	position := int64(0)
	publish := func(ev domain.Event, orgs ...uuid.UUID) {
		t.Helper()
		position++
		stored := &eventstore.Event{Envelope: eventstore.Envelope{EventID: uuid.New(), Position: position, RecordedAt: time.Now()}, Data: ev}
		msgs, err := integration.Messages(stored, orgs)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			payload, _ := json.Marshal(m)
			if err := pub.Publish(m.Subject(), message.NewMessage(m.ID, payload)); err != nil {
				t.Fatal(err)
			}
		}
	}
	client, sub1, sub2 := uuid.New(), uuid.New(), uuid.New()
	publish(domain.OrganizationCreated{OrganizationID: client, Side: domain.SideClient}, client)
	publish(domain.PartnershipEstablished{ClientID: client, SubcontractorID: sub1, InvitationID: uuid.New()}, client, sub1)

	p := NewPartnerships()
	consume := func(want int) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		var out syncBuffer
		done := make(chan error, 1)
		subject := strings.Replace(integration.ChannelAddress(established), "{organization}", "*", 1)
		go func() { done <- run(ctx, srv.URL(), "example", subject, p, &out) }()
		deadline := time.Now().Add(20 * time.Second)
		for p.Len() < want && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // a duplicate would land meanwhile
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if p.Len() != want {
			t.Fatalf("%d partnerships, want %d; printed:\n%s", p.Len(), want, out.String())
		}
		if got := strings.Count(out.String(), "partnership since"); got != 1 {
			t.Fatalf("printed %d new partnerships, want 1:\n%s", got, out.String())
		}
	}
	consume(1)
	publish(domain.PartnershipEstablished{ClientID: client, SubcontractorID: sub2, InvitationID: uuid.New()}, client, sub2)
	consume(2) // resumes after the first: prints only the new one
	got := p.List()
	if got[0].SubcontractorID != sub1 || got[1].SubcontractorID != sub2 || got[1].ClientID != client {
		t.Fatalf("partnerships %+v", got)
	}
}
