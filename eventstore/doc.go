// Package eventstore owns the events table, the outbox rows that travel with
// each append, and the keys that seal personal data inside them.
//
// Appends are atomic (events, outbox rows, reservations and sealed secrets
// commit together, sent as one pipelined round trip), guarded by expected
// version, and never rewrite a stored event. An append says it appends
// before its transaction has an id (partners_begin_append). Readers get the
// log in (transaction id, position) order and only below the oldest running
// transaction that appends (partners_log_horizon), so a late commit is never
// skipped and a transaction that does not append holds no reader back.
//
// It must never decide business rules (that is domain's) nor serve HTTP.
package eventstore
