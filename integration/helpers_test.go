package integration_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"partners/domain"
	"partners/eventstore"
	"partners/integration"
	"partners/internal/natstest"
	"partners/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newStore(t testing.TB, pool *pgxpool.Pool) *eventstore.Store {
	t.Helper()
	keys, err := eventstore.NewKeyring("test-data-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.New(pool, keys, time.Now)
}

// rig is a fresh database, a private NATS server and a forwarder between
// them.
type rig struct {
	pool  *pgxpool.Pool
	store *eventstore.Store
	nats  *natstest.Server
	nc    *nats.Conn
	fwd   *integration.Forwarder
}

func newRig(t testing.TB) *rig {
	t.Helper()
	_, pool := pgtest.Fresh(t)
	r := &rig{pool: pool, store: newStore(t, pool), nats: natstest.Start(t)}
	nc, err := integration.Connect(r.nats.URL(), "forwarder-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if err := integration.EnsureStream(nc); err != nil {
		t.Fatal(err)
	}
	pub, err := integration.NewPublisher(nc, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.nc = nc
	r.fwd = integration.NewForwarder(r.store, pub, quiet)
	r.fwd.Ensure = func() error { return integration.EnsureStream(nc) }
	return r
}

// organizationCreated appends one organization's creation.
func organizationCreated(t *testing.T, s *eventstore.Store, org uuid.UUID) {
	t.Helper()
	appendOne(t, s, domain.OrganizationStream(org), domain.OrganizationStreamType,
		domain.OrganizationCreated{OrganizationID: org, Name: "Org " + org.String()[:8], Side: domain.SideClient})
}

// partnership appends a partnership: one event, two organizations.
func partnership(t *testing.T, s *eventstore.Store, client, sub uuid.UUID) {
	t.Helper()
	appendOne(t, s, "partnership-test-"+uuid.NewString(), domain.PartnershipStreamType,
		domain.PartnershipEstablished{ClientID: client, SubcontractorID: sub, InvitationID: uuid.New(), ClientName: "C", SubcontractorName: "S"})
}

func appendOne(t *testing.T, s *eventstore.Store, stream, typ string, ev domain.Event) {
	t.Helper()
	_, err := s.Append(context.Background(), eventstore.Batch{Streams: []eventstore.StreamAppend{{
		StreamID: stream, StreamType: typ, Expected: eventstore.Any, Events: []eventstore.NewEvent{{ID: uuid.New(), Data: ev}}}}})
	if err != nil {
		t.Error(err)
	}
}

// expected lists, per organization, the message ids the forwarder must
// publish, in the log's order (the events table read as readers read it).
func expected(t *testing.T, pool *pgxpool.Pool) (map[uuid.UUID][]string, int) {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT event_id, event_type, organization_ids FROM events ORDER BY transaction_id, position`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[uuid.UUID][]string{}
	n := 0
	for rows.Next() {
		var id uuid.UUID
		var typ string
		var orgs []uuid.UUID
		if err := rows.Scan(&id, &typ, &orgs); err != nil {
			t.Fatal(err)
		}
		if typ != "OrganizationCreated" && typ != "PartnershipEstablished" {
			t.Fatalf("expected() knows only the test's own events, not %s", typ)
		}
		for _, o := range orgs {
			out[o] = append(out[o], integration.MessageID(id, o))
			n++
		}
	}
	return out, n
}

// received is one message as a durable consumer got it.
type received struct {
	subject   string
	msgID     string
	delivered uint64
	msg       integration.Message
	raw       []byte
	headers   nats.Header
}

// consumeAll reads the stream through a durable consumer, acknowledging
// each message, until want messages came and then nothing more for a
// while (so a duplicate would be seen), or the deadline.
func consumeAll(t *testing.T, nc *nats.Conn, durable string, want int) []received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, integration.StreamName, jetstream.ConsumerConfig{
		Durable: durable, AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		t.Fatal(err)
	}
	var out []received
	quietFetches := 0
	for ctx.Err() == nil {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(300*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			meta, err := m.Metadata()
			if err != nil {
				t.Fatal(err)
			}
			var pm integration.Message
			if err := json.Unmarshal(m.Data(), &pm); err != nil {
				t.Fatalf("payload: %v", err)
			}
			out = append(out, received{subject: m.Subject(), msgID: m.Headers().Get(nats.MsgIdHdr), delivered: meta.NumDelivered,
				msg: pm, raw: append([]byte(nil), m.Data()...), headers: m.Headers()})
			if err := m.Ack(); err != nil {
				t.Fatal(err)
			}
		}
		if got == 0 && len(out) >= want {
			if quietFetches++; quietFetches >= 3 {
				break
			}
		}
	}
	return out
}

// checkDelivery checks every expected message came exactly once, to its
// subject, in the log's order for each organization.
func checkDelivery(t *testing.T, got []received, want map[uuid.UUID][]string, total int) {
	t.Helper()
	seen := map[string]int{}
	byOrg := map[uuid.UUID][]string{}
	for _, r := range got {
		seen[r.msgID]++
		if r.msgID != r.msg.ID {
			t.Errorf("Nats-Msg-Id %s, payload id %s", r.msgID, r.msg.ID)
		}
		if r.subject != r.msg.Subject() {
			t.Errorf("subject %s, want %s", r.subject, r.msg.Subject())
		}
		byOrg[r.msg.OrganizationID] = append(byOrg[r.msg.OrganizationID], r.msgID)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("message %s delivered %d times", id, n)
		}
	}
	if len(got) != total {
		t.Errorf("got %d messages, want %d", len(got), total)
	}
	for org, ids := range want {
		if g := byOrg[org]; !equal(g, ids) {
			t.Errorf("organization %s: got %d messages in this order, want %d in the log's:\n got %v\nwant %v", org, len(g), len(ids), head(g), head(ids))
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func head(s []string) []string {
	if len(s) > 6 {
		return append(s[:6:6], "… "+strconv.Itoa(len(s)-6)+" more")
	}
	return s
}

// drain steps the forwarder until the stream holds n messages.
func (r *rig) drain(t testing.TB, n uint64) {
	t.Helper()
	ctx := context.Background()
	if err := r.fwd.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for r.streamMsgs(t) < n {
		if time.Now().After(deadline) {
			t.Fatalf("stream holds %d messages, want %d", r.streamMsgs(t), n)
		}
		if k, err := r.fwd.Step(ctx); err != nil {
			t.Fatal(err)
		} else if k == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func (r *rig) streamMsgs(t testing.TB) uint64 {
	t.Helper()
	js, err := r.nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	info, err := js.StreamInfo(integration.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// validator compiles every public event's schema.
func validator(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, e := range integration.Events {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(e.SchemaJSON()))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource(integration.SchemaID(e.Name), doc); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, e := range integration.Events {
		s, err := c.Compile(integration.SchemaID(e.Name))
		if err != nil {
			t.Fatalf("schema %s: %v", e.Name, err)
		}
		out[e.Name] = s
	}
	return out
}

// validate checks a payload against its event's schema.
func validate(t *testing.T, schemas map[string]*jsonschema.Schema, raw []byte) {
	t.Helper()
	var m integration.Message
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	s, ok := schemas[m.Type]
	if !ok {
		t.Fatalf("no schema for %q", m.Type)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(doc); err != nil {
		t.Errorf("%s does not match its schema: %v\n%s", m.Type, err, raw)
	}
}
