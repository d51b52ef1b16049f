package projections

import (
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
}

// NewWriter starts an empty batch.
func NewWriter() *Writer { return &Writer{batch: &pgx.Batch{}} }

// Exec queues a statement.
func (w *Writer) Exec(sql string, args ...any) { w.batch.Queue(sql, args...) }

// Len is the number of statements queued.
func (w *Writer) Len() int { return w.batch.Len() }

// Batch hands over the queued statements.
func (w *Writer) Batch() *pgx.Batch { return w.batch }
