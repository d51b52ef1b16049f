// Package domain holds the business rules of the partner network: the
// aggregates (Organization, Invitation, Partnership, ContractShare...), the
// commands they accept, the events they record and the errors they refuse
// with. Every decision is a pure function of the current state (rebuilt from
// events) and a command.
//
// It must never do I/O: no SQL, no HTTP, no clock, no randomness. Time and
// ids come in with the command; personal data comes in already keyed (see
// Personal).
package domain
