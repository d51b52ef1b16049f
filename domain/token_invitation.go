package domain

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// This file holds what every invitation opened with an emailed link shares
// (a partner's, a colleague's, an accountant's, a collaborator's): the
// link's single-use token, of which only the hash is kept; an expiry
// derived from ExpiresAt, never stored as an event; the statuses, in each
// kind's own words; and the refusals of an invitation that can no longer
// be answered.

// =============================================================================
// Statuses

// InvitationStatus is where a partner, colleague or accountant invitation
// stands. The set is closed; expired is derived from the expiry.
type InvitationStatus struct{ s string }

// The statuses of partner, colleague and accountant invitations (colleague
// and accountant invitations are never declined).
var (
	StatusSent     = InvitationStatus{"sent"}
	StatusAccepted = InvitationStatus{"accepted"}
	StatusDeclined = InvitationStatus{"declined"}
	StatusRevoked  = InvitationStatus{"revoked"}
	StatusExpired  = InvitationStatus{"expired"}
)

// InvitationStatuses lists every invitation status.
func InvitationStatuses() []InvitationStatus {
	return []InvitationStatus{StatusSent, StatusAccepted, StatusDeclined, StatusRevoked, StatusExpired}
}

// ParseInvitationStatus accepts exactly one of InvitationStatuses' words.
func ParseInvitationStatus(s string) (InvitationStatus, error) {
	return parseStatus(s, InvitationStatuses())
}

// String returns the status's word, or "" when absent.
func (s InvitationStatus) String() string { return s.s }

// IsZero reports whether the status is absent.
func (s InvitationStatus) IsZero() bool { return s.s == "" }

// MarshalJSON writes the status as a JSON string (null when absent).
func (s InvitationStatus) MarshalJSON() ([]byte, error) { return marshalValue(s.s) }

// UnmarshalJSON reads a JSON string and validates it.
func (s *InvitationStatus) UnmarshalJSON(b []byte) error {
	return unmarshalValue(b, s, "status", ParseInvitationStatus)
}

func (s InvitationStatus) waiting() bool           { return s == StatusSent }
func (s InvitationStatus) withdrawn() bool         { return s == StatusRevoked }
func (InvitationStatus) expired() InvitationStatus { return StatusExpired }

// CollaboratorStatus is where a collaborator account's invitation stands.
// The set is closed; expired is derived from the expiry.
type CollaboratorStatus struct{ s string }

// The statuses of collaborator invitations.
var (
	StatusInvited   = CollaboratorStatus{"invited"}
	StatusActivated = CollaboratorStatus{"activated"}
	// StatusCollaboratorRevoked: withdrawn before its activation.
	StatusCollaboratorRevoked = CollaboratorStatus{"revoked"}
	// StatusActivationExpired: the activation link expired unused.
	StatusActivationExpired = CollaboratorStatus{"expired"}
)

// CollaboratorStatuses lists every collaborator invitation status.
func CollaboratorStatuses() []CollaboratorStatus {
	return []CollaboratorStatus{StatusInvited, StatusActivated, StatusCollaboratorRevoked, StatusActivationExpired}
}

// ParseCollaboratorStatus accepts exactly one of CollaboratorStatuses' words.
func ParseCollaboratorStatus(s string) (CollaboratorStatus, error) {
	return parseStatus(s, CollaboratorStatuses())
}

// String returns the status's word, or "" when absent.
func (s CollaboratorStatus) String() string { return s.s }

// IsZero reports whether the status is absent.
func (s CollaboratorStatus) IsZero() bool { return s.s == "" }

// MarshalJSON writes the status as a JSON string (null when absent).
func (s CollaboratorStatus) MarshalJSON() ([]byte, error) { return marshalValue(s.s) }

// UnmarshalJSON reads a JSON string and validates it.
func (s *CollaboratorStatus) UnmarshalJSON(b []byte) error {
	return unmarshalValue(b, s, "status", ParseCollaboratorStatus)
}

func (s CollaboratorStatus) waiting() bool             { return s == StatusInvited }
func (s CollaboratorStatus) withdrawn() bool           { return s == StatusCollaboratorRevoked }
func (CollaboratorStatus) expired() CollaboratorStatus { return StatusActivationExpired }

// invitationStatus is what the core needs of a kind's statuses: which one
// waits for an answer, which one is a withdrawal, and the kind's word for
// a waiting invitation past its expiry.
type invitationStatus[S any] interface {
	comparable
	fmt.Stringer
	waiting() bool
	withdrawn() bool
	expired() S
}

// parseStatus accepts exactly one of the words of all.
func parseStatus[S invitationStatus[S]](s string, all []S) (S, error) {
	var zero S
	if s == "" {
		return zero, Invalid("status", msgRequired)
	}
	words := ""
	for i, st := range all {
		if st.String() == s {
			return st, nil
		}
		if i > 0 {
			words += ", "
		}
		words += `"` + st.String() + `"`
	}
	return zero, Invalid("status", "must be one of "+words)
}

// =============================================================================
// The core

// InvitationCore is what every token invitation holds, whatever its kind;
// S is the kind's statuses.
type InvitationCore[S invitationStatus[S]] struct {
	ID        uuid.UUID
	Email     Personal
	EmailRef  PersonRef
	TokenHash string
	ExpiresAt time.Time
	// Status is the stored status; expiry is derived (StatusAt).
	Status  S
	Version int
}

// opened is the core of an invitation just sent, waiting with its token.
func opened[S invitationStatus[S]](id uuid.UUID, email Personal, ref PersonRef, tokenHash string, expires time.Time,
	waiting S, version int) InvitationCore[S] {
	return InvitationCore[S]{ID: id, Email: email, EmailRef: ref, TokenHash: tokenHash, ExpiresAt: expires,
		Status: waiting, Version: version}
}

// Exists reports whether the invitation was sent.
func (c *InvitationCore[S]) Exists() bool { return c.ID != uuid.Nil }

// StatusAt is the status as everyone sees it at an instant: a waiting
// invitation past its expiry is expired, without any event.
func (c *InvitationCore[S]) StatusAt(now time.Time) S {
	if c.Status.waiting() && !now.Before(c.ExpiresAt) {
		return c.Status.expired()
	}
	return c.Status
}

// Link is what the invitation's link opens, alike for every kind: the
// invitation (uuid.Nil when it was never sent) and its current token's hash.
func (c *InvitationCore[S]) Link() (id uuid.UUID, tokenHash string) { return c.ID, c.TokenHash }

// IsPending reports whether the invitation still waits for an answer.
func (c *InvitationCore[S]) IsPending(now time.Time) bool { return c.StatusAt(now).waiting() }

// ErrInvitationNotFound is what anyone who may not see an invitation learns.
func ErrInvitationNotFound() *Error { return Errorf(CodeNotFound, "No such invitation.") }

// requireOn checks the actor on the organization that sent an invitation.
// Someone who is not its member learns what an id never sent answers (not
// "no such organization"), so a known id reads as an unknown one.
func requireOn(o *Organization, actor Actor, a Action) error {
	err := o.Require(actor, a)
	if ErrorCode(err) == CodeNotFound {
		return ErrInvitationNotFound()
	}
	return err
}

// refusals are what a kind of invitation says to an answer it can no
// longer take. answered is a format of the status's word.
type refusals struct {
	answered, withdrawn, expired string
	// pending refuses a second pending invitation to the same email.
	pending string
}

// refuse refuses an invitation in status st, in the kind's words; a
// waiting invitation passes.
func (c *InvitationCore[S]) refuse(st S, say refusals) error {
	switch {
	case st.waiting():
		return nil
	case st == c.Status.expired():
		return (&Error{Code: CodeInvitationExpired, Message: say.expired}).
			With("expired_at", c.ExpiresAt.UTC().Format(time.RFC3339))
	case st.withdrawn():
		return &Error{Code: CodeInvitationRevoked, Message: say.withdrawn}
	}
	return (&Error{Code: CodeInvitationAnswered, Message: fmt.Sprintf(say.answered, st)}).With("status", st.String())
}

// answerable refuses an invitation that can no longer be answered at now.
func (c *InvitationCore[S]) answerable(now time.Time, say refusals) error {
	return c.refuse(c.StatusAt(now), say)
}

// open refuses an invitation that was answered or withdrawn; an expired
// one may still be withdrawn or resent.
func (c *InvitationCore[S]) open(say refusals) error { return c.refuse(c.Status, say) }

// duplicate refuses a second invitation of the same kind to the same email
// while this one is pending.
func (c *InvitationCore[S]) duplicate(say refusals) *Error {
	return (&Error{Code: CodeDuplicatePending, Message: say.pending}).With("pending_invitation_id", c.ID.String())
}

// =============================================================================
// Sending

// TokenSend is what every decision to send an invitation with a link's
// token is given, whatever its kind: who is invited, the new invitation's id
// and token hash, who sends it, when, and for how long it stays open. The
// application's one send-with-token path fills it; each kind's command
// embeds it and adds its own (a message, a role, a profile).
type TokenSend struct {
	InvitationID uuid.UUID
	Email        Email
	EmailRef     PersonRef
	TokenHash    string
	Locale       string
	Actor        Actor
	Now          time.Time
	TTL          time.Duration
}

// own is a text about the invited person (their email, a message to them,
// their profile) as their personal data.
func (s TokenSend) own(text string) Personal { return PersonalOf(s.EmailRef, text) }

// email is the invited email as the invited person's personal data.
func (s TokenSend) email() Personal { return s.own(s.Email.String()) }

// expiresAt is when the invitation sent now stops opening.
func (s TokenSend) expiresAt() time.Time { return s.Now.Add(s.TTL).UTC() }
