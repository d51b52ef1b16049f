package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	wmsql "github.com/ThreeDotsLabs/watermill-sql/v3/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/domain"
)

// OutboxTopic is the Watermill topic of the outbox: its table is
// watermill_events, in watermill-sql's default PostgreSQL schema.
const OutboxTopic = "events"

// OutboxSchema is the watermill-sql schema adapter of the outbox; the append
// path uses its InsertQuery inside the append's own pgx transaction.
var OutboxSchema = wmsql.DefaultPostgreSQLSchema{}

// Store appends to and reads the event store.
type Store struct {
	pool *pgxpool.Pool
	keys *Keyring
	now  func() time.Time

	// logOrder remembers the transaction id of the events this process
	// appended, by position: "has my write reached the read model?" then
	// needs no query to place the position in the readers' order.
	logOrderMu sync.Mutex
	logOrder   map[int64]uint64
}

// New builds a store. now is the clock that stamps recorded_at.
func New(pool *pgxpool.Pool, keys *Keyring, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{pool: pool, keys: keys, now: now}
}

// Pool exposes the connection pool to the packages that share it.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Keys exposes the keyring.
func (s *Store) Keys() *Keyring { return s.keys }

// Actor is who caused an event. The email is personal data.
type Actor struct {
	UserID string          `json:"user_id"`
	Email  domain.Personal `json:"email"`
}

// Metadata travels with every event: who, which request, which command.
type Metadata struct {
	Actor         Actor  `json:"actor"`
	RequestID     string `json:"request_id,omitempty"`
	CorrelationID string `json:"correlation_id,omitempty"`
	CausationID   string `json:"causation_id,omitempty"`
	Command       string `json:"command,omitempty"`
}

// Expected is the version a stream must be at for an append to go through.
type Expected struct {
	kind    int
	version int
}

const (
	expectExact = iota
	expectAny
)

// Any appends whatever the stream's version.
var Any = Expected{kind: expectAny}

// NoStream appends only to a stream that has no events yet.
var NoStream = Expected{kind: expectExact, version: 0}

// Exactly appends only when the stream is at version v.
func Exactly(v int) Expected { return Expected{kind: expectExact, version: v} }

// NewEvent is an event to append, with its id (chosen by the caller so that
// a retried append can be recognized).
type NewEvent struct {
	ID   uuid.UUID
	Data domain.Event
}

// StreamAppend is the part of a batch that goes to one stream.
type StreamAppend struct {
	StreamID   string
	StreamType string
	Expected   Expected
	Events     []NewEvent
}

// Reservation takes a unique key for a holder within the append's
// transaction. When Replace is set the key may be taken over from that
// holder (for example a pending invitation that has expired).
type Reservation struct {
	Key     string
	Holder  string
	Replace string
}

// Release frees a key, only if held by Holder.
type Release struct {
	Key    string
	Holder string
}

// Secret is a short-lived secret an email must carry, keyed by the event
// that asks for the email. It is sealed with the KEK.
type Secret struct {
	EventID uuid.UUID
	Value   []byte
}

// Batch is everything one command appends, atomically.
type Batch struct {
	Meta    Metadata
	Streams []StreamAppend
	Reserve []Reservation
	Release []Release
	Secrets []Secret
}

// Result tells where the append landed.
type Result struct {
	// Position is the global position of the last event appended (or, for a
	// duplicate, of the last event already stored).
	Position int64
	// Duplicate is true when the events were already stored: nothing was
	// appended.
	Duplicate bool
	// RecordedAt is the instant the events were recorded at.
	RecordedAt time.Time
	// TxID is the appending transaction's id: with Position, where the
	// events stand in the readers' order (zero for a duplicate).
	TxID uint64
}

// ErrReservationTaken is wrapped by the error of an append whose reservation
// is held by someone else; ReservationError says by whom.
var ErrReservationTaken = errors.New("reservation taken")

// ReservationError names the key and its current holder.
type ReservationError struct {
	Key    string
	Holder string
}

func (e *ReservationError) Error() string {
	return fmt.Sprintf("%s: %s held by %s", ErrReservationTaken, e.Key, e.Holder)
}

func (e *ReservationError) Unwrap() error { return ErrReservationTaken }

// ErrConcurrency is the typed error of a failed expected-version check.
func concurrencyError(stream string) error {
	return domain.ErrConcurrencyConflict("").With("stream", stream)
}

// IsConcurrencyConflict reports whether err is an expected-version failure.
func IsConcurrencyConflict(err error) bool {
	return domain.ErrorCode(err) == domain.CodeConcurrencyConflict
}

type encoded struct {
	stream   *StreamAppend
	ev       NewEvent
	eventTyp string
	schema   int
	data     []byte
	orgs     []uuid.UUID
	people   []string
	version  int
	position int64
	txid     uint64
}

// Append writes the batch in one transaction: events, their outbox rows,
// reservations and secrets. Appending zero events does nothing.
func (s *Store) Append(ctx context.Context, b Batch) (Result, error) {
	var n int
	for _, st := range b.Streams {
		n += len(st.Events)
	}
	if n == 0 {
		return Result{}, nil
	}
	meta, refs, encs, err := s.encode(b)
	if err != nil {
		return Result{}, err
	}
	ids := make([]uuid.UUID, len(encs))
	for i, e := range encs {
		ids[i] = e.ev.ID
	}
	// Two appends with "any" can race for the same next version; the loser
	// simply goes again.
	for attempt := 0; ; attempt++ {
		res, keys, err := s.appendOnce(ctx, b, meta, refs, encs)
		if err == nil {
			s.keys.remember(keys)
			s.rememberLogOrder(res)
			return res, nil
		}
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName != "reservations_pkey" {
			if dup, pos, derr := s.alreadyStored(ctx, ids); derr != nil {
				return Result{}, derr
			} else if dup {
				return Result{Position: pos, Duplicate: true}, nil
			}
			if pgErr.ConstraintName == "events_stream_version_unique" {
				if hasAny(b) && attempt < 5 {
					continue
				}
				return Result{}, concurrencyError(streamOf(b, pgErr))
			}
		}
		return Result{}, err
	}
}

// encode turns the batch's events and metadata into JSON (still clear) and
// lists the persons whose data they hold.
func (s *Store) encode(b Batch) ([]byte, []domain.PersonRef, []*encoded, error) {
	meta, err := json.Marshal(b.Meta)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("encode metadata: %w", err)
	}
	metaRefs, err := personRefs(meta)
	if err != nil {
		return nil, nil, nil, err
	}
	refs := append([]domain.PersonRef(nil), metaRefs...)
	var encs []*encoded
	for i := range b.Streams {
		st := &b.Streams[i]
		for _, ev := range st.Events {
			spec, ok := domain.LookupEvent(ev.Data.EventType())
			if !ok {
				return nil, nil, nil, fmt.Errorf("append: unregistered event type %q", ev.Data.EventType())
			}
			data, err := json.Marshal(ev.Data)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("encode %s: %w", spec.Type, err)
			}
			r, err := personRefs(data)
			if err != nil {
				return nil, nil, nil, err
			}
			refs = append(refs, r...)
			e := &encoded{stream: st, ev: ev, eventTyp: spec.Type, schema: spec.Version, data: data, people: refStrings(metaRefs, r)}
			if o, ok := ev.Data.(domain.Organizational); ok {
				e.orgs = o.OrganizationIDs()
			}
			if e.orgs == nil {
				e.orgs = []uuid.UUID{}
			}
			encs = append(encs, e)
		}
	}
	return meta, refs, encs, nil
}

func refStrings(parts ...[]domain.PersonRef) []string {
	out := []string{}
	seen := map[domain.PersonRef]bool{}
	for _, p := range parts {
		for _, r := range p {
			if !seen[r] {
				seen[r] = true
				out = append(out, string(r))
			}
		}
	}
	return out
}

func hasAny(b Batch) bool {
	for _, st := range b.Streams {
		if st.Expected.kind == expectAny {
			return true
		}
	}
	return false
}

func streamOf(b Batch, _ *pgconn.PgError) string {
	if len(b.Streams) == 1 {
		return b.Streams[0].StreamID
	}
	return ""
}

func (s *Store) alreadyStored(ctx context.Context, ids []uuid.UUID) (bool, int64, error) {
	var count int
	var last int64
	err := s.pool.QueryRow(ctx, `SELECT count(*), coalesce(max(position), 0) FROM events WHERE event_id = ANY($1)`, ids).Scan(&count, &last)
	if err != nil {
		return false, 0, fmt.Errorf("look for stored events: %w", err)
	}
	return count == len(ids), last, nil
}

func (s *Store) appendOnce(ctx context.Context, b Batch, meta []byte, refs []domain.PersonRef, encs []*encoded) (Result, map[domain.PersonRef]activeKey, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Result{}, nil, fmt.Errorf("append: begin: %w", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // after commit it is a no-op
	res, keys, err := s.appendInTx(ctx, tx, b, meta, refs, encs)
	if err != nil {
		return Result{}, nil, err
	}
	// Once everything is written, commit even if the caller went away: a
	// cancelled commit leaves its outcome unknown.
	if err := tx.Commit(context.WithoutCancel(ctx)); err != nil {
		return Result{}, nil, fmt.Errorf("append: commit: %w", err)
	}
	return res, keys, nil
}

// AppendTx appends the batch inside the caller's transaction, for the rare
// command that must change something else atomically with its events
// (forgetting a person destroys their key in the same transaction). The
// caller commits; errors are not retried.
func (s *Store) AppendTx(ctx context.Context, tx pgx.Tx, b Batch) (Result, error) {
	meta, refs, encs, err := s.encode(b)
	if err != nil || len(encs) == 0 {
		return Result{}, err
	}
	res, _, err := s.appendInTx(ctx, tx, b, meta, refs, encs)
	return res, err
}

func (s *Store) appendInTx(ctx context.Context, tx pgx.Tx, b Batch, meta []byte, refs []domain.PersonRef, encs []*encoded) (Result, map[domain.PersonRef]activeKey, error) {
	var keys map[domain.PersonRef]activeKey
	var err error
	if len(refs) > 0 {
		if keys, err = s.keys.activeKeys(ctx, tx, refs); err != nil {
			return Result{}, nil, err
		}
	}
	sealedMeta, err := seal(meta, keys)
	if err != nil {
		return Result{}, nil, err
	}
	// Releases, reservations and every stream's insert go in one round
	// trip; their answers are read in order, and any refusal rolls the
	// whole transaction back.
	recordedAt := s.now().UTC()
	batch := &pgx.Batch{}
	queueReservations(batch, b)
	var inserts []streamInsert
	for i := range b.Streams {
		st := &b.Streams[i]
		if len(st.Events) == 0 {
			continue
		}
		var mine []*encoded
		for _, e := range encs {
			if e.stream == st {
				mine = append(mine, e)
			}
		}
		if err := queueInsert(batch, st, mine, sealedMeta, keys, recordedAt); err != nil {
			return Result{}, nil, err
		}
		inserts = append(inserts, streamInsert{st, mine})
	}
	br := tx.SendBatch(ctx, batch)
	taken, err := readReservations(br, b)
	for _, in := range inserts {
		if err != nil {
			break
		}
		err = readInsert(br, in.stream, in.events)
	}
	if cerr := br.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("append: %w", cerr)
	}
	if taken != "" {
		// A refused reservation is the answer, even when an insert of the
		// same round trip failed too; that failure aborted the transaction,
		// so the holder is read outside it.
		return Result{}, nil, s.reservationTaken(ctx, taken)
	}
	if err != nil {
		return Result{}, nil, err
	}

	sort.Slice(encs, func(i, j int) bool { return encs[i].position < encs[j].position })
	if err := s.insertOutboxAndSecrets(ctx, tx, encs, sealedMeta, recordedAt, b.Secrets); err != nil {
		return Result{}, nil, err
	}
	return Result{Position: encs[len(encs)-1].position, RecordedAt: recordedAt, TxID: encs[len(encs)-1].txid}, keys, nil
}

// insertOutboxAndSecrets writes the outbox rows of the appended events and
// the batch's pending secrets, in the append's transaction and in one round
// trip. It must follow the events' insert: an outbox envelope carries the
// position and version that insert gave its event. encs is in position order,
// which is the order the outbox rows are inserted in.
func (s *Store) insertOutboxAndSecrets(ctx context.Context, tx pgx.Tx, encs []*encoded, sealedMeta []byte, recordedAt time.Time, secrets []Secret) error {
	msgs, err := outboxMessages(encs, sealedMeta, recordedAt)
	if err != nil {
		return err
	}
	q, err := OutboxSchema.InsertQuery(OutboxTopic, msgs)
	if err != nil {
		return fmt.Errorf("outbox query: %w", err)
	}
	batch := &pgx.Batch{}
	batch.Queue(q.Query, q.Args...)
	for _, sec := range secrets {
		batch.Queue(`INSERT INTO pending_secrets (event_id, sealed) VALUES ($1, $2)`, sec.EventID, s.keys.SealSecret(sec.Value))
	}
	br := tx.SendBatch(ctx, batch)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return fmt.Errorf("outbox insert: %w", err)
	}
	for range secrets {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return fmt.Errorf("pending secret: %w", err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("outbox insert: %w", err)
	}
	return nil
}

// outboxMessages wraps each sealed event in the envelope the outbox's
// subscribers read.
func outboxMessages(encs []*encoded, sealedMeta []byte, recordedAt time.Time) (message.Messages, error) {
	msgs := make(message.Messages, 0, len(encs))
	for _, e := range encs {
		env := Envelope{
			Position: e.position, EventID: e.ev.ID, StreamID: e.stream.StreamID, StreamType: e.stream.StreamType,
			StreamVersion: e.version, Type: e.eventTyp, SchemaVersion: e.schema, Data: e.data,
			Metadata: sealedMeta, OrganizationIDs: e.orgs, RecordedAt: recordedAt,
		}
		payload, err := json.Marshal(env)
		if err != nil {
			return nil, err
		}
		m := message.NewMessage(e.ev.ID.String(), payload)
		m.Metadata.Set("event_type", e.eventTyp)
		m.Metadata.Set("position", strconv.FormatInt(e.position, 10))
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// logOrderLimit bounds the remembered positions; past it the memory starts
// again empty (a forgotten position costs one query).
const logOrderLimit = 100_000

func (s *Store) rememberLogOrder(res Result) {
	if res.TxID == 0 {
		return
	}
	s.logOrderMu.Lock()
	defer s.logOrderMu.Unlock()
	if s.logOrder == nil || len(s.logOrder) >= logOrderLimit {
		s.logOrder = make(map[int64]uint64)
	}
	s.logOrder[res.Position] = res.TxID
}

type streamInsert struct {
	stream *StreamAppend
	events []*encoded
}

const reserveSQL = `
	INSERT INTO reservations (key, holder) VALUES ($1, $2)
	ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, taken_at = now()
	 WHERE reservations.holder = excluded.holder OR reservations.holder = $3
	RETURNING holder`

// queueReservations queues the batch's releases, then its reservations.
func queueReservations(batch *pgx.Batch, b Batch) {
	for _, r := range b.Release {
		batch.Queue(`DELETE FROM reservations WHERE key = $1 AND holder = $2`, r.Key, r.Holder)
	}
	for _, r := range b.Reserve {
		batch.Queue(reserveSQL, r.Key, r.Holder, r.Replace)
	}
}

// readReservations reads the answers of queueReservations; taken is the
// first key someone else holds.
func readReservations(br pgx.BatchResults, b Batch) (taken string, err error) {
	for _, r := range b.Release {
		if _, err := br.Exec(); err != nil {
			return "", fmt.Errorf("release %s: %w", r.Key, err)
		}
	}
	for _, r := range b.Reserve {
		var holder string
		err := br.QueryRow().Scan(&holder)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if taken == "" {
				taken = r.Key
			}
		case err != nil:
			return "", fmt.Errorf("reservation %s: %w", r.Key, err)
		}
	}
	return taken, nil
}

// reservationTaken says who holds key.
func (s *Store) reservationTaken(ctx context.Context, key string) error {
	holder, _, err := s.Holder(ctx, key)
	if err != nil {
		return err
	}
	return &ReservationError{Key: key, Holder: holder}
}

// queueInsert seals one stream's events and queues their insert.
func queueInsert(batch *pgx.Batch, st *StreamAppend, evs []*encoded, meta []byte, keys map[domain.PersonRef]activeKey, at time.Time) error {
	n := len(evs)
	eventIDs := make([]uuid.UUID, n)
	types := make([]string, n)
	schemas := make([]int32, n)
	datas := make([]string, n)
	orgs := make([]string, n)
	people := make([]string, n)
	for i, e := range evs {
		sealed, err := seal(e.data, keys)
		if err != nil {
			return err
		}
		e.data = sealed
		eventIDs[i], types[i], schemas[i], datas[i] = e.ev.ID, e.eventTyp, int32(e.schema), string(sealed)
		orgs[i] = uuidArrayLiteral(e.orgs)
		people[i] = textArrayLiteral(e.people)
	}
	expected := -1
	if st.Expected.kind == expectExact {
		expected = st.Expected.version
	}
	batch.Queue(InsertEventsSQL, st.StreamID, st.StreamType, string(meta), at, eventIDs, types, schemas, datas, orgs, expected, people)
	return nil
}

// readInsert reads where queueInsert's events landed; none inserted means
// the stream was not at the expected version.
func readInsert(br pgx.BatchResults, st *StreamAppend, evs []*encoded) error {
	rows, err := br.Query()
	if err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	byID := make(map[uuid.UUID]*encoded, len(evs))
	for _, e := range evs {
		e.version, e.position = 0, 0
		byID[e.ev.ID] = e
	}
	got := 0
	for rows.Next() {
		var pos int64
		var ver int
		var id uuid.UUID
		var tx string
		if err := rows.Scan(&pos, &ver, &id, &tx); err != nil {
			rows.Close()
			return err
		}
		txid, err := strconv.ParseUint(tx, 10, 64)
		if err != nil {
			rows.Close()
			return fmt.Errorf("insert events: transaction id %q: %w", tx, err)
		}
		if e := byID[id]; e != nil {
			e.version, e.position, e.txid = ver, pos, txid
		}
		got++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	if got == 0 {
		return concurrencyError(st.StreamID)
	}
	return nil
}

// InsertEventsSQL appends one stream's events at its expected version ($10,
// or -1 for any) and indexes them by organization, in one statement. It is
// exported for the benchmark's SQL ceiling, which must run the very same
// statement.
const InsertEventsSQL = `
		WITH current AS (
			SELECT coalesce(max(stream_version), 0) AS v FROM events WHERE stream_id = $1),
		inserted AS (
		INSERT INTO events (event_id, stream_id, stream_type, stream_version, event_type,
		                    schema_version, data, metadata, organization_ids, person_refs, recorded_at)
		SELECT u.event_id, $1, $2, current.v + u.ord, u.event_type, u.schema_version,
		       u.data::jsonb, $3::jsonb, u.orgs::uuid[], u.people::text[], $4
		  FROM current,
		       unnest($5::uuid[], $6::text[], $7::int[], $8::text[], $9::text[], $11::text[])
		         WITH ORDINALITY AS u(event_id, event_type, schema_version, data, orgs, people, ord)
		 WHERE $10::int < 0 OR current.v = $10::int
		 ORDER BY u.ord
		RETURNING position, stream_version, event_id, transaction_id, organization_ids),
		indexed AS (
			INSERT INTO event_organizations (organization_id, transaction_id, position)
			SELECT o, transaction_id, position FROM inserted, unnest(organization_ids) AS o),
		streams AS (
			INSERT INTO organization_streams (organization_id, stream_id)
			SELECT DISTINCT o, $1 FROM inserted, unnest(organization_ids) AS o
			ON CONFLICT DO NOTHING)
		SELECT position, stream_version, event_id, transaction_id::text AS txid FROM inserted`

func textArrayLiteral(items []string) string {
	b := []byte{'{'}
	for i, s := range items {
		if i > 0 {
			b = append(b, ',')
		}
		// person refs are base64url with a prefix: no quoting needed, but
		// quote anyway so the literal never depends on it.
		b = append(b, '"')
		b = append(b, s...)
		b = append(b, '"')
	}
	return string(append(b, '}'))
}

func uuidArrayLiteral(ids []uuid.UUID) string {
	b := []byte{'{'}
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, id.String()...)
	}
	return string(append(b, '}'))
}

// Holder returns who holds a reservation; ok is false when nobody does.
func (s *Store) Holder(ctx context.Context, key string) (string, bool, error) {
	var holder string
	err := s.pool.QueryRow(ctx, `SELECT holder FROM reservations WHERE key = $1`, key).Scan(&holder)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reservation %s: %w", key, err)
	}
	return holder, true, nil
}
