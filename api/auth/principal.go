package auth

import (
	"slices"
	"time"
)

// ScopeAdmin is the scope that opens the admin endpoints.
const ScopeAdmin = "partners:admin"

// Principal is the authenticated caller, as established by a verified token.
type Principal struct {
	// Subject is the user id (the "sub" claim): non-empty, at most 128 characters.
	Subject string
	// Email is the "email" claim, trimmed and lower-cased; it may be "".
	Email string
	// EmailVerified is true only when the token carries "email_verified":
	// true (or omits it and the verifier assumes verified emails); when
	// false, Email must not be treated as addressing anyone.
	EmailVerified bool
	// Name is the optional "name" claim.
	Name string
	// Scopes are the space-separated entries of the "scope" claim.
	Scopes []string
	// IssuedAt is the "iat" claim (UTC); zero when the token does not say.
	IssuedAt time.Time
}

// HasScope reports whether the principal was granted scope s.
func (p Principal) HasScope(s string) bool {
	return s != "" && slices.Contains(p.Scopes, s)
}
