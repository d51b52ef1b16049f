// Package integration owns the public event contract other services read
// from NATS JetStream, and the forwarder that carries it there from the
// outbox.
//
// The contract (contract.go) is apart from the internal events on purpose:
// each public event has a stable versioned name, its own JSON Schema, and
// carries ids, sides, roles, flags and person refs, never clear personal
// data, so that forgetting a person asks nothing of any consumer. The
// AsyncAPI document (asyncapi.go) is built from the same table, so the
// document, the schemas and what is published cannot drift apart.
//
// The forwarder (forwarder.go) publishes one message per organization an
// event touches, in the log's order, at least once, with its own checkpoint;
// JetStream's de-duplication by message id turns a re-send into nothing.
//
// It must never decide business rules nor write to the events, the outbox
// or a read model: it only reads them, and writes its own checkpoint.
package integration
