// Package projections owns the read models: tables built from the events,
// disposable and rebuildable, and the drivers that feed them (the live
// projector reading the outbox, rebuilds and as-of replays reading the event
// store). Every read model is one implementation with several drivers.
//
// Handlers only queue SQL statements: they never read in Go, so a batch of a
// thousand events travels to PostgreSQL in one round trip, and the same code
// can write into live tables, shadow tables of a rebuild, or temporary
// tables of an as-of answer. They must be idempotent: applying an event
// twice leaves the read model as applying it once.
//
// It must never append events nor decide business rules.
package projections
