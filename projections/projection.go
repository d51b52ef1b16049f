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
	// want is the partners.valid_at the next statement needs (zero: a
	// rewrite); queued is the one last queued in this batch, if any.
	want   time.Time
	queued *time.Time
}

// NewWriter starts an empty batch.
func NewWriter() *Writer { return &Writer{batch: &pgx.Batch{}} }

// Apply queues a read model's statements for one event, stamped with the
// event's recorded_at (migration 014), and its scrub of a forgotten
// person's data.
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

// validAt makes the event's recorded_at the instant of the statements
// that follow: the valid_from of the rows they write, the valid_to of the
// versions they replace.
func (w *Writer) validAt(ev *eventstore.Event) { w.want = ev.RecordedAt }

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
