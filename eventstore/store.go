package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/domain"
)

// OutboxTopic is the Watermill topic of the outbox: its table is
// watermill_events, in watermill-sql's default PostgreSQL schema. The append
// writes its rows itself (InsertEventsSQL), in that schema's columns.
const OutboxTopic = "events"

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
	// Read asserts what the decision read and does not append to: each
	// stream must still be at the version read, or the append is refused
	// as a concurrency conflict (streams appended to are checked by their
	// expected version).
	Read []StreamVersion
	// KeysOpen are the data keys the states the decision read were opened
	// with: when one of them is destroyed (a person forgotten since), the
	// append is refused with ErrStateStale.
	KeysOpen []uuid.UUID
	// Echo asks for Result.Events: the appended events as a read of the
	// stream would return them.
	Echo bool
}

// StreamVersion is a stream at a version.
type StreamVersion struct {
	StreamID string
	Version  int
}

// ErrStateStale refuses an append whose decision read state opened with a
// data key destroyed since (Batch.KeysOpen): that state holds a forgotten
// person's data and must be rebuilt from its stream's start.
var ErrStateStale = errors.New("state read by the decision holds a forgotten person's data")

// IsStale reports whether err is ErrStateStale.
func IsStale(err error) bool { return errors.Is(err, ErrStateStale) }

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
	// Events are the appended events as ReadStream returns them (full
	// envelopes, decoded data, clear metadata), when the batch asked for
	// them (Batch.Echo); none for a duplicate.
	Events []Event
	// Keys are the data keys the append sealed personal values with.
	Keys []uuid.UUID
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
	clear    []byte // data before sealing
	meta     []byte // the metadata as stored (sealed)
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
			e := &encoded{stream: st, ev: ev, eventTyp: spec.Type, schema: spec.Version, data: data, clear: data, people: refStrings(metaRefs, r)}
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

// appendOnce is one append in one round trip: the releases, the
// reservations, every stream's events with their organization index and
// outbox rows, and the pending secrets go out as one pipelined batch, which
// PostgreSQL runs as one implicit transaction (committed at the batch's
// Sync). A refusal is an error raised by its statement (see migration 011),
// so nothing after it runs and nothing of the batch is committed. Only a
// person seen for the first time by this replica costs a round trip before
// it, to fetch or create their data key.
func (s *Store) appendOnce(ctx context.Context, b Batch, meta []byte, refs []domain.PersonRef, encs []*encoded) (Result, map[domain.PersonRef]activeKey, error) {
	keys, err := s.keys.activeKeys(ctx, s.pool, refs)
	if err != nil {
		return Result{}, nil, err
	}
	batch, prelude, inserts, recordedAt, err := s.queueAppend(b, meta, keys, encs)
	if err != nil {
		return Result{}, nil, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, nil, err
	}
	// Once sent, the batch is read to its end even if the caller went away:
	// a cancelled commit leaves its outcome unknown.
	res, err := readAppend(s.pool.SendBatch(context.WithoutCancel(ctx), batch), prelude, b, inserts, recordedAt)
	if err == nil {
		err = echo(&res, b, meta, keys, encs)
	}
	return res, keys, err
}

// echo completes a stored append's result with the keys it sealed with
// and, when asked, its events as a read returns them.
func echo(res *Result, b Batch, meta []byte, keys map[domain.PersonRef]activeKey, encs []*encoded) error {
	for _, k := range keys {
		if !slices.Contains(res.Keys, k.id) {
			res.Keys = append(res.Keys, k.id)
		}
	}
	if !b.Echo {
		return nil
	}
	var m Metadata
	if err := json.Unmarshal(meta, &m); err != nil {
		return fmt.Errorf("echo metadata: %w", err)
	}
	res.Events = make([]Event, 0, len(encs))
	for _, e := range encs {
		ev, err := domain.DecodeEvent(e.eventTyp, e.schema, e.clear)
		if err != nil {
			return fmt.Errorf("echo event %d: %w", e.position, err)
		}
		res.Events = append(res.Events, Event{
			Envelope: Envelope{Position: e.position, EventID: e.ev.ID, StreamID: e.stream.StreamID, StreamType: e.stream.StreamType,
				StreamVersion: e.version, Type: e.eventTyp, SchemaVersion: e.schema, Data: e.data, Metadata: e.meta,
				OrganizationIDs: e.orgs, RecordedAt: res.RecordedAt, Cursor: Cursor{TxID: e.txid, Offset: e.position}},
			Data: ev, Meta: m, OpenData: e.clear,
		})
	}
	return nil
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
	keys, err := s.keys.activeKeys(ctx, tx, refs)
	if err != nil {
		return Result{}, err
	}
	batch, prelude, inserts, recordedAt, err := s.queueAppend(b, meta, keys, encs)
	if err != nil {
		return Result{}, err
	}
	res, err := readAppend(tx.SendBatch(ctx, batch), prelude, b, inserts, recordedAt)
	if err == nil {
		err = echo(&res, b, meta, keys, encs)
	}
	return res, err
}

// The SQLSTATEs migrations 011 and 013's functions raise.
const (
	sqlstateVersionConflict  = "PA001"
	sqlstateReservationTaken = "PA002"
	sqlstateStateStale       = "PA004"
)

// refusal is the typed error of a statement's refusal (migrations 011 and
// 013), or err as it is.
func refusal(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.Code {
	case sqlstateReservationTaken:
		return &ReservationError{Key: pgErr.Hint, Holder: pgErr.Detail}
	case sqlstateVersionConflict:
		return concurrencyError(pgErr.Detail)
	case sqlstateStateStale:
		return ErrStateStale
	}
	return err
}

// queueAppend seals the batch and queues its statements: releases,
// reservations, each stream's insert (events, organization index, outbox
// rows), pending secrets.
func (s *Store) queueAppend(b Batch, meta []byte, keys map[domain.PersonRef]activeKey, encs []*encoded) (batch *pgx.Batch, prelude int, inserts []streamInsert, at time.Time, err error) {
	sealedMeta, err := seal(meta, keys)
	if err != nil {
		return nil, 0, nil, time.Time{}, err
	}
	// The database keeps microseconds: the instant answered is the one stored.
	recordedAt := s.now().UTC().Truncate(time.Microsecond)
	batch = &pgx.Batch{}
	// Appends to one stream "at any version" take turns: each then reads
	// the version the previous one left, instead of racing for it.
	for _, st := range b.Streams {
		if st.Expected.kind == expectAny && len(st.Events) > 0 {
			batch.Queue(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, st.StreamID)
		}
	}
	// What the decision read, checked before anything is written
	// (migration 013).
	for _, r := range b.Read {
		batch.Queue(`SELECT partners_stream_at($1, $2)`, r.StreamID, r.Version)
	}
	if len(b.KeysOpen) > 0 {
		batch.Queue(`SELECT partners_keys_alive($1)`, b.KeysOpen)
	}
	queueReservations(batch, b)
	// Each statement so far answers nothing but its refusal.
	prelude = batch.Len()
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
			return nil, 0, nil, time.Time{}, err
		}
		inserts = append(inserts, streamInsert{st, mine})
	}
	for _, sec := range b.Secrets {
		batch.Queue(`INSERT INTO pending_secrets (event_id, sealed) VALUES ($1, $2)`, sec.EventID, s.keys.SealSecret(sec.Value))
	}
	return batch, prelude, inserts, recordedAt, nil
}

// readAppend reads queueAppend's answers in order and closes br. The first
// error is the answer: the statements after it did not run.
func readAppend(br pgx.BatchResults, prelude int, b Batch, inserts []streamInsert, recordedAt time.Time) (Result, error) {
	var err error
	for i := 0; i < prelude && err == nil; i++ {
		_, err = br.Exec()
	}
	for _, in := range inserts {
		if err != nil {
			break
		}
		err = readInsert(br, in.stream, in.events)
	}
	for range b.Secrets {
		if err != nil {
			break
		}
		if _, err = br.Exec(); err != nil {
			err = fmt.Errorf("pending secret: %w", err)
		}
	}
	if cerr := br.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("append: %w", cerr)
	}
	if err != nil {
		return Result{}, refusal(err)
	}
	last := inserts[0].events[0]
	for _, in := range inserts {
		for _, e := range in.events {
			if e.position > last.position {
				last = e
			}
		}
	}
	return Result{Position: last.position, RecordedAt: recordedAt, TxID: last.txid}, nil
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

// queueReservations queues the batch's releases, then its reservations; a
// reservation someone else holds raises PA002 (migration 011).
func queueReservations(batch *pgx.Batch, b Batch) {
	for _, r := range b.Release {
		batch.Queue(`DELETE FROM reservations WHERE key = $1 AND holder = $2`, r.Key, r.Holder)
	}
	for _, r := range b.Reserve {
		batch.Queue(`SELECT partners_reserve($1, $2, $3)`, r.Key, r.Holder, r.Replace)
	}
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
		e.data, e.meta = sealed, meta
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
// or -1 for any), indexes them by organization and writes their outbox rows,
// in one statement. A stream at another version raises PA001 (migration
// 011). The outbox envelope is built from the inserted rows (see Envelope's
// JSON names; TestOutboxEnvelopeIsTheStoredEvent holds the two together),
// in position order. It is exported for the benchmark's SQL ceiling, which
// must run the very same statement.
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
		 WHERE CASE WHEN $10::int < 0 OR current.v = $10::int THEN true
		            ELSE partners_version_conflict($1, current.v, $10::int) END
		 ORDER BY u.ord
		RETURNING position, stream_version, event_id, transaction_id, organization_ids,
		          event_type, schema_version, data, metadata, recorded_at),
		indexed AS (
			INSERT INTO event_organizations (organization_id, transaction_id, position)
			SELECT o, transaction_id, position FROM inserted, unnest(organization_ids) AS o),
		streams AS (
			INSERT INTO organization_streams (organization_id, stream_id)
			SELECT DISTINCT o, $1 FROM inserted, unnest(organization_ids) AS o
			ON CONFLICT DO NOTHING),
		outbox AS (
			INSERT INTO watermill_events (uuid, payload, metadata, transaction_id)
			SELECT event_id::text,
			       json_build_object('position', position, 'event_id', event_id, 'stream_id', $1::text,
			           'stream_type', $2::text, 'stream_version', stream_version, 'type', event_type,
			           'schema_version', schema_version, 'data', data, 'metadata', metadata,
			           'organization_ids', organization_ids, 'recorded_at', recorded_at),
			       json_build_object('event_type', event_type, 'position', position::text),
			       transaction_id
			  FROM inserted ORDER BY position)
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
