package eventstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"partners/domain"
)

// Envelope is a stored event as it travels: sealed data and metadata, and
// where it stands in the log. It is the outbox row's payload.
type Envelope struct {
	Position        int64           `json:"position"`
	EventID         uuid.UUID       `json:"event_id"`
	StreamID        string          `json:"stream_id"`
	StreamType      string          `json:"stream_type"`
	StreamVersion   int             `json:"stream_version"`
	Type            string          `json:"type"`
	SchemaVersion   int             `json:"schema_version"`
	Data            json.RawMessage `json:"data"`
	Metadata        json.RawMessage `json:"metadata"`
	OrganizationIDs []uuid.UUID     `json:"organization_ids"`
	RecordedAt      time.Time       `json:"recorded_at"`

	// Cursor is where the envelope stands in its reader's order (not part
	// of the payload).
	Cursor Cursor `json:"-"`
}

// Event is a stored event, opened and decoded.
type Event struct {
	Envelope
	Data domain.Event
	Meta Metadata
	// OpenData is the opened payload as JSON (personal fields clear or
	// forgotten), for the audit log.
	OpenData json.RawMessage
}

// Cursor is a place in the readers' order: a transaction id, then an offset
// (the outbox's "offset", or the event's position when reading the events
// table). The zero Cursor is before everything.
type Cursor struct {
	TxID   uint64
	Offset int64
}

// Less orders cursors as readers apply the log.
func (c Cursor) Less(o Cursor) bool {
	return c.TxID < o.TxID || (c.TxID == o.TxID && c.Offset < o.Offset)
}

// String renders a cursor as "txid:offset".
func (c Cursor) String() string {
	return strconv.FormatUint(c.TxID, 10) + ":" + strconv.FormatInt(c.Offset, 10)
}

// ParseCursor reads the String form.
func ParseCursor(s string) (Cursor, error) {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			tx, err1 := strconv.ParseUint(s[:i], 10, 64)
			off, err2 := strconv.ParseInt(s[i+1:], 10, 64)
			if err1 != nil || err2 != nil || off < 0 {
				break
			}
			return Cursor{TxID: tx, Offset: off}, nil
		}
	}
	return Cursor{}, errors.New("malformed cursor")
}

// Queryer is what a pool, a connection and a transaction all offer.
type Queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Decode opens and decodes envelopes, loading the keys they need in one
// query. A forgotten person's fields read as domain.Forgotten.
func (s *Store) Decode(ctx context.Context, q Queryer, envs []Envelope) ([]Event, error) {
	evs, _, err := s.decode(ctx, q, envs)
	return evs, err
}

// decode is Decode that also answers the keys it opened with.
func (s *Store) decode(ctx context.Context, q Queryer, envs []Envelope) ([]Event, *Opener, error) {
	if q == nil {
		q = s.pool
	}
	docs := make([][]byte, 0, 2*len(envs))
	for _, e := range envs {
		docs = append(docs, e.Data, e.Metadata)
	}
	opener, err := s.keys.loadOpener(ctx, q, docs...)
	if err != nil {
		return nil, nil, err
	}
	out := make([]Event, len(envs))
	var lastMeta json.RawMessage // the events of one append share their metadata
	var meta Metadata
	for i, env := range envs {
		data, err := opener.Open(env.Data)
		if err != nil {
			return nil, nil, fmt.Errorf("open event %d: %w", env.Position, err)
		}
		ev, err := domain.DecodeEvent(env.Type, env.SchemaVersion, data)
		if err != nil {
			return nil, nil, fmt.Errorf("event %d: %w", env.Position, err)
		}
		if i == 0 || !bytes.Equal(env.Metadata, lastMeta) {
			opened, err := opener.Open(env.Metadata)
			if err != nil {
				return nil, nil, fmt.Errorf("open metadata %d: %w", env.Position, err)
			}
			meta = Metadata{}
			if err := json.Unmarshal(opened, &meta); err != nil {
				return nil, nil, fmt.Errorf("metadata %d: %w", env.Position, err)
			}
			lastMeta = env.Metadata
		}
		out[i] = Event{Envelope: env, Data: ev, OpenData: data, Meta: meta}
	}
	return out, opener, nil
}

// EnvelopeColumns selects an events row as ScanEnvelopes reads it.
const EnvelopeColumns = `position, transaction_id::text AS txid, event_id, stream_id, stream_type, stream_version,
	event_type, schema_version, data::text, metadata::text, organization_ids, recorded_at`

// ScanEnvelopes reads rows of the events table selected with the envelope
// columns (position, transaction_id::text AS txid, event_id, stream_id, stream_type,
// stream_version, event_type, schema_version, data::text, metadata::text,
// organization_ids, recorded_at).
func ScanEnvelopes(rows pgx.Rows) ([]Envelope, error) {
	defer rows.Close()
	var out []Envelope
	for rows.Next() {
		e, err := scanEnvelope(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func scanEnvelope(rows pgx.Rows) (Envelope, error) {
	var e Envelope
	var tx, data, meta string
	if err := rows.Scan(&e.Position, &tx, &e.EventID, &e.StreamID, &e.StreamType, &e.StreamVersion,
		&e.Type, &e.SchemaVersion, &data, &meta, &e.OrganizationIDs, &e.RecordedAt); err != nil {
		return e, err
	}
	e.Data, e.Metadata = json.RawMessage(data), json.RawMessage(meta)
	txid, err := strconv.ParseUint(tx, 10, 64)
	if err != nil {
		return e, fmt.Errorf("transaction id %q: %w", tx, err)
	}
	e.Cursor = Cursor{TxID: txid, Offset: e.Position}
	e.RecordedAt = e.RecordedAt.UTC()
	return e, nil
}

// ReadStream returns one stream's events in order, and its version.
func (s *Store) ReadStream(ctx context.Context, streamID string) ([]Event, int, error) {
	tail, err := s.ReadStreamAfter(ctx, streamID, 0, nil)
	if err != nil {
		return nil, 0, err
	}
	return tail.Events, tail.Version, nil
}

// StreamTail is what a stream holds after a version the caller already
// knows.
type StreamTail struct {
	Events []Event
	// Version is the stream's version: the last event's, or the known
	// version when nothing follows it.
	Version int
	// Keys are the data keys that opened the tail's personal values.
	Keys []uuid.UUID
	// Stale reports that a person whose data the caller's state holds was
	// forgotten since (one of the known keys is destroyed): that state must
	// be dropped and rebuilt from the stream's start.
	Stale bool
}

// ReadStreamAfter returns the events of a stream after version after, and
// checks in the same round trip that none of the known data keys (those of
// the events up to after) was destroyed. It lets a caller keep state built
// from a stream and read only what was appended since.
func (s *Store) ReadStreamAfter(ctx context.Context, streamID string, after int, known []uuid.UUID) (StreamTail, error) {
	var b pgx.Batch
	b.Queue(`SELECT `+EnvelopeColumns+` FROM events WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version`, streamID, after)
	if len(known) > 0 {
		b.Queue(`SELECT EXISTS (SELECT 1 FROM person_keys WHERE key_id = ANY($1) AND wrapped_key IS NULL)`, known)
	}
	res := s.pool.SendBatch(ctx, &b)
	rows, err := res.Query()
	if err != nil {
		res.Close()
		return StreamTail{}, fmt.Errorf("read stream: %w", err)
	}
	envs, err := ScanEnvelopes(rows)
	if err != nil {
		res.Close()
		return StreamTail{}, fmt.Errorf("read stream: %w", err)
	}
	tail := StreamTail{Version: after}
	if len(known) > 0 {
		if err := res.QueryRow().Scan(&tail.Stale); err != nil {
			res.Close()
			return StreamTail{}, fmt.Errorf("read stream: key check: %w", err)
		}
	}
	if err := res.Close(); err != nil {
		return StreamTail{}, fmt.Errorf("read stream: %w", err)
	}
	if tail.Stale {
		return tail, nil
	}
	var opener *Opener
	if tail.Events, opener, err = s.decode(ctx, nil, envs); err != nil {
		return StreamTail{}, err
	}
	if n := len(envs); n > 0 {
		tail.Version = envs[n-1].StreamVersion
	}
	// Only keys that opened something: a value sealed with a key already
	// destroyed reads as forgotten, and stays so.
	for id, aead := range opener.keys {
		if aead != nil {
			tail.Keys = append(tail.Keys, id)
		}
	}
	return tail, nil
}

// ReadLog returns up to limit events of the events table after the cursor,
// in the readers' order, stopping below the oldest running transaction so
// that a transaction still in flight is read later, never skipped. Rebuilds
// and replays read it; live projections read the outbox.
func (s *Store) ReadLog(ctx context.Context, q Queryer, after Cursor, limit int) ([]Envelope, error) {
	if q == nil {
		q = s.pool
	}
	rows, err := q.Query(ctx, `SELECT `+EnvelopeColumns+` FROM events
		WHERE (transaction_id, position) > ($1::text::xid8, $2)
		  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
		ORDER BY transaction_id, position LIMIT $3`, strconv.FormatUint(after.TxID, 10), after.Offset, limit)
	if err != nil {
		return nil, fmt.Errorf("read log: %w", err)
	}
	return ScanEnvelopes(rows)
}

// ReadOutbox returns up to limit outbox rows after the cursor, in the
// readers' order and below the oldest running transaction. The filter is a
// row comparison so the primary key index serves it at any backlog size.
func ReadOutbox(ctx context.Context, q Queryer, after Cursor, limit int) ([]Envelope, error) {
	rows, err := q.Query(ctx, OutboxAfter(`($1::text::xid8, $2)`, `$3`), strconv.FormatUint(after.TxID, 10), after.Offset, limit)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return ScanOutbox(rows)
}

// OutboxAfter is ReadOutbox's statement with the cursor given as a row
// expression (parameters, or a subquery such as a reader's checkpoint) and
// the limit as a parameter, for a reader that sends it in a batch.
func OutboxAfter(cursor, limit string) string {
	return `SELECT "offset", transaction_id::text AS txid, payload::text FROM watermill_events
		WHERE (transaction_id, "offset") > ` + cursor + `
		  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
		ORDER BY transaction_id, "offset" LIMIT ` + limit
}

// ScanOutbox reads the rows of OutboxAfter's statement and closes them.
func ScanOutbox(rows pgx.Rows) ([]Envelope, error) {
	defer rows.Close()
	var out []Envelope
	for rows.Next() {
		var off int64
		var tx, payload string
		if err := rows.Scan(&off, &tx, &payload); err != nil {
			return nil, err
		}
		e, err := OutboxEnvelope([]byte(payload))
		if err != nil {
			return nil, fmt.Errorf("outbox row %d: %w", off, err)
		}
		txid, err := strconv.ParseUint(tx, 10, 64)
		if err != nil {
			return nil, err
		}
		e.Cursor = Cursor{TxID: txid, Offset: off}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return out, nil
}

// OutboxEnvelope decodes an outbox row's payload (see InsertEventsSQL).
func OutboxEnvelope(payload []byte) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(payload, &e); err != nil {
		return Envelope{}, err
	}
	e.RecordedAt = e.RecordedAt.UTC() // the database writes it with its session's offset
	return e, nil
}

// LogOrderOf returns the transaction id of the event at a position, for
// read-your-writes checks; ok is false when no event is stored there.
func (s *Store) LogOrderOf(ctx context.Context, position int64) (txid uint64, ok bool, err error) {
	s.logOrderMu.Lock()
	txid, ok = s.logOrder[position]
	s.logOrderMu.Unlock()
	if ok {
		return txid, true, nil
	}
	var tx string
	err = s.pool.QueryRow(ctx, `SELECT transaction_id::text FROM events WHERE position = $1`, position).Scan(&tx)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	txid, err = strconv.ParseUint(tx, 10, 64)
	return txid, err == nil, err
}

// HighestPosition is the highest position of a committed event (0 when
// none): a position above it was never given to anyone, so a
// read-your-writes wait for it would wait for nothing. The primary key's
// index answers it at once.
func (s *Store) HighestPosition(ctx context.Context) (int64, error) {
	var hi int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM events`).Scan(&hi)
	return hi, err
}

// ReadEvent returns one stored event by id; ok is false when there is none.
func (s *Store) ReadEvent(ctx context.Context, id uuid.UUID) (Event, bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+EnvelopeColumns+` FROM events WHERE event_id = $1`, id)
	if err != nil {
		return Event{}, false, fmt.Errorf("read event: %w", err)
	}
	envs, err := ScanEnvelopes(rows)
	if err != nil || len(envs) == 0 {
		return Event{}, false, err
	}
	evs, err := s.Decode(ctx, nil, envs)
	if err != nil {
		return Event{}, false, err
	}
	return evs[0], true, nil
}

// orgLogQuery selects an organization's events after a cursor, in the log's
// order, below the oldest running transaction (so paging never skips a late
// commit).
const orgLogQuery = `SELECT ` + EnvelopeColumnsE + ` FROM event_organizations eo JOIN events e ON e.position = eo.position
	WHERE eo.organization_id = $1 AND (eo.transaction_id, eo.position) > ($2::text::xid8, $3)
	  AND eo.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
	ORDER BY eo.transaction_id, eo.position`

const EnvelopeColumnsE = `e.position, e.transaction_id::text AS txid, e.event_id, e.stream_id, e.stream_type, e.stream_version,
	e.event_type, e.schema_version, e.data::text, e.metadata::text, e.organization_ids, e.recorded_at`

// OrganizationLog returns up to limit events that touched an organization,
// after the cursor, decoded.
func (s *Store) OrganizationLog(ctx context.Context, org uuid.UUID, after Cursor, limit int) ([]Event, error) {
	rows, err := s.pool.Query(ctx, orgLogQuery+` LIMIT $4`, org, strconv.FormatUint(after.TxID, 10), after.Offset, limit)
	if err != nil {
		return nil, fmt.Errorf("organization log: %w", err)
	}
	envs, err := ScanEnvelopes(rows)
	if err != nil {
		return nil, err
	}
	return s.Decode(ctx, nil, envs)
}

// StreamOrganizationLog hands every event that touched an organization,
// after the cursor, to fn in chunks, reading them with one query as they
// come: memory stays flat whatever the size of the history.
func (s *Store) StreamOrganizationLog(ctx context.Context, org uuid.UUID, after Cursor, fn func([]Event) error) error {
	// One read-only transaction for the whole export, without the pool's
	// statement timeout: a million events take longer than 30 s to stream.
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, orgLogQuery, org, strconv.FormatUint(after.TxID, 10), after.Offset)
	if err != nil {
		return fmt.Errorf("organization log: %w", err)
	}
	defer rows.Close()
	const chunk = 500
	buf := make([]Envelope, 0, chunk)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		evs, err := s.Decode(ctx, nil, buf)
		if err != nil {
			return err
		}
		buf = buf[:0]
		return fn(evs)
	}
	for rows.Next() {
		e, err := scanEnvelope(rows)
		if err != nil {
			return err
		}
		buf = append(buf, e)
		if len(buf) == chunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return flush()
}

// StreamRef names a stream and its type.
type StreamRef struct{ ID, Type string }

// StreamsStartedWith lists the organization's streams whose first event is
// of one of the types and whose payload holds match (clear, non-personal
// fields compared as JSON containment), oldest first. The app finds with
// it the invitations a member sent.
func (s *Store) StreamsStartedWith(ctx context.Context, org uuid.UUID, eventTypes []string, match map[string]string) ([]StreamRef, error) {
	doc, err := json.Marshal(match)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `
		SELECT e.stream_id, e.stream_type FROM organization_streams os
		  JOIN events e ON e.stream_id = os.stream_id AND e.stream_version = 1
		 WHERE os.organization_id = $1 AND e.event_type = ANY($2) AND e.data @> $3::jsonb
		 ORDER BY e.position`, org, eventTypes, string(doc))
	if err != nil {
		return nil, fmt.Errorf("streams started with: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[StreamRef])
	if err != nil {
		return nil, fmt.Errorf("streams started with: %w", err)
	}
	return out, nil
}
