// Package eventstore owns the events table, the outbox rows that travel with
// each append, and the keys that seal personal data inside them.
//
// Appends are atomic (events, outbox rows, reservations and sealed secrets
// commit together, sent as one pipelined round trip), guarded by expected
// version, and never rewrite a stored event. Readers get the log in
// (transaction id, position) order and only below the oldest running
// transaction, so a late commit is never skipped.
//
// It must never decide business rules (that is domain's) nor serve HTTP.
package eventstore
