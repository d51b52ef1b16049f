package domain

import (
	"errors"
	"fmt"
)

// Code is a stable, snake_case word that names why a command or a value was
// refused. Clients and support agents rely on it; never rename one.
type Code string

// The closed set of codes. The API maps each to an HTTP status in one table.
const (
	CodeValidationFailed     Code = "validation_failed"
	CodeNotFound             Code = "not_found"
	CodeNotAllowed           Code = "not_allowed"
	CodeConcurrencyConflict  Code = "concurrency_conflict"
	CodeSameSide             Code = "same_side"
	CodeOwnInvitation        Code = "own_invitation"
	CodeInvitationAnswered   Code = "invitation_answered"
	CodeInvitationRevoked    Code = "invitation_revoked"
	CodeInvitationExpired    Code = "invitation_expired"
	CodeAlreadyPartners      Code = "already_partners"
	CodeDuplicatePending     Code = "duplicate_pending_invitation"
	CodeAlreadyClaimed       Code = "already_claimed"
	CodeLastOwner            Code = "last_owner"
	CodeCompanyMismatch      Code = "company_mismatch"
	CodeSiretTaken           Code = "siret_taken"
	CodeAlreadyMember        Code = "already_member"
	CodeInvalidToken         Code = "invalid_token"
	CodeIdempotencyKeyReused Code = "idempotency_key_reused"
	// CodeNotTeamMember: a team endpoint (role change, removal) was asked
	// about an accountant or a collaborator, who have endpoints of their own.
	CodeNotTeamMember Code = "not_team_member"
	// CodeCollaborationRequestAnswered: the organization already approved
	// or rejected this collaboration request.
	CodeCollaborationRequestAnswered Code = "collaboration_request_answered"
	// CodePortalUserExists: the organization already has a portal user with
	// this email. Its details name the existing portal user.
	CodePortalUserExists Code = "portal_user_exists"
)

// Codes lists every code, so the edge can prove it maps each one.
func Codes() []Code {
	return []Code{CodeValidationFailed, CodeNotFound, CodeNotAllowed, CodeConcurrencyConflict, CodeSameSide,
		CodeOwnInvitation, CodeInvitationAnswered, CodeInvitationRevoked, CodeInvitationExpired, CodeAlreadyPartners,
		CodeDuplicatePending, CodeAlreadyClaimed, CodeLastOwner, CodeCompanyMismatch, CodeSiretTaken, CodeAlreadyMember,
		CodeInvalidToken, CodeIdempotencyKeyReused, CodeNotTeamMember, CodeCollaborationRequestAnswered, CodePortalUserExists}
}

// FieldError names one offending input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one error type of the domain: a stable code, a message a
// support agent could read to a customer, and optionally the fields at fault
// and facts that help the caller (such as the id of a pending invitation).
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	Details map[string]any
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		return fmt.Sprintf("%s: %s (%s: %s)", e.Code, e.Message, e.Fields[0].Field, e.Fields[0].Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Is makes errors.Is(err, &Error{Code: X}) match on the code alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Errorf builds an Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrConcurrencyConflict is the one error of a lost race: another command
// changed (or created) what this one decided on. The app decides again on
// it; the edge answers 409. message says what happened when the usual one
// ("" gives it) would not.
func ErrConcurrencyConflict(message string) *Error {
	if message == "" {
		message = "Someone else changed this at the same moment. Reload and try again."
	}
	return &Error{Code: CodeConcurrencyConflict, Message: message}
}

// Invalid builds a validation error naming one field.
func Invalid(field, message string) *Error {
	return &Error{
		Code:    CodeValidationFailed,
		Message: "The request has invalid fields.",
		Fields:  []FieldError{{Field: field, Message: message}},
	}
}

// With attaches a detail to the error and returns it.
func (e *Error) With(key string, value any) *Error {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details[key] = value
	return e
}

// ErrorCode returns the code of the first *Error in err's chain, or "" when
// there is none (the edge treats that as an internal error).
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Validation collects field errors so a request reports all of them at once.
type Validation struct{ fields []FieldError }

// Add records a field error.
func (v *Validation) Add(field, message string) {
	v.fields = append(v.fields, FieldError{field, message})
}

// Check records a field error when bad is true.
func (v *Validation) Check(bad bool, field, message string) {
	if bad {
		v.Add(field, message)
	}
}

// Err returns nil when no field was at fault.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Code: CodeValidationFailed, Message: "The request has invalid fields.", Fields: v.fields}
}
