package projections

import (
	"time"

	"partners/eventstore"

	"github.com/jackc/pgx/v5"
)

// Projection is one read model.
type Projection interface {
	// Name is stable: checkpoints and the admin API use it.
	Name() string
	// Tables lists the tables the read model owns; rebuilds and as-of
	// answers make copies of them.
	Tables() []string
	// EventTypes lists every event type Apply reads: rebuilds and as-of
	// answers read only those (and PersonForgotten for read models holding
	// personal data). A test checks it against Apply's source.
	EventTypes() []string
	// Apply queues the statements that apply one event. Unqualified table
	// names: the driver decides which copy they land in.
	Apply(w *Writer, ev *eventstore.Event)
}

// Writer queues statements for one batch.
type Writer struct {
	batch *pgx.Batch
	// clocks is each read model's log time (valid_at), carried over from
	// batch to batch by the driver that owns the map.
	clocks Clocks
	// want is the partners.valid_at the next statement needs (zero: a
	// rewrite); queued is the one last queued in this batch, if any.
	want   time.Time
	queued *time.Time
}

// Clocks holds each read model's log time: the greatest recorded_at of
// the events it applied so far, in the log's order. It stamps valid_from
// and valid_to (migration 011).
type Clocks map[string]time.Time

// NewWriter starts an empty batch whose read models start their log time
// afresh.
func NewWriter() *Writer { return NewWriterWith(Clocks{}) }

// NewWriterWith starts an empty batch that advances these log times.
func NewWriterWith(c Clocks) *Writer { return &Writer{batch: &pgx.Batch{}, clocks: c} }

// Apply queues a read model's statements for one event, stamped with the
// read model's log time, and its scrub of a forgotten person's data.
func (w *Writer) Apply(pr Projection, ev *eventstore.Event) { applyEvent(pr, w, ev) }

// Exec queues a statement, after the partners.valid_at it needs when that
// is not the one already queued.
func (w *Writer) Exec(sql string, args ...any) {
	if w.queued == nil || !w.queued.Equal(w.want) {
		at := w.want
		if at.IsZero() {
			w.batch.Queue(`SELECT set_config('partners.valid_at', '', true)`)
		} else {
			w.batch.Queue(`SELECT set_config('partners.valid_at', $1, true)`, pgInstant(at))
		}
		w.queued = &at
	}
	w.batch.Queue(sql, args...)
}

// validAt moves a read model's log time to the event's recorded_at (it
// never goes back) and makes it the instant of the statements that follow.
func (w *Writer) validAt(pr Projection, ev *eventstore.Event) {
	at := w.clocks[pr.Name()]
	if ev.RecordedAt.After(at) {
		at = ev.RecordedAt
	}
	w.clocks[pr.Name()] = at
	w.want = at
}

// rewriting makes the statements that follow change rows in place: they
// keep their valid_from and leave nothing in history.
func (w *Writer) rewriting() { w.want = time.Time{} }

// pgInstant writes an instant as PostgreSQL reads it back to the
// microsecond, truncated as pgx truncates a time.Time parameter (the text
// form would be rounded instead).
func pgInstant(t time.Time) string {
	return t.Truncate(time.Microsecond).UTC().Format(time.RFC3339Nano)
}

// Len is the number of statements queued.
func (w *Writer) Len() int { return w.batch.Len() }

// Batch hands over the queued statements.
func (w *Writer) Batch() *pgx.Batch { return w.batch }
