package auth

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// MaxSubjectLength is the maximum length of the "sub" claim, in characters
// (runes, not bytes): the one length rule for user ids, wherever one is
// read (tokens, paths, query parameters).
const MaxSubjectLength = 128

// tokenClaims is the JSON shape of the claims this package reads and writes.
type tokenClaims struct {
	jwt.RegisteredClaims
	Email         string `json:"email,omitempty"`
	Name          string `json:"name,omitempty"`
	Scope         string `json:"scope,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
}

// checkSubject enforces the contract on "sub": non-empty, at most
// MaxSubjectLength characters, valid UTF-8 without control characters (a
// NUL cannot be stored in PostgreSQL text). The reason never echoes the
// value.
func checkSubject(sub string) error {
	switch {
	case sub == "":
		return fmt.Errorf("missing sub")
	case utf8.RuneCountInString(sub) > MaxSubjectLength:
		return fmt.Errorf("sub longer than %d characters", MaxSubjectLength)
	case !utf8.ValidString(sub) || strings.IndexFunc(sub, unicode.IsControl) >= 0:
		return fmt.Errorf("sub with control characters or invalid UTF-8")
	}
	return nil
}

// ValidSubject says whether s may be a user id (a token's "sub"): the rule
// every path segment and parameter naming a user is read with, so that any
// user a token admits can be named, and removed.
func ValidSubject(s string) bool { return checkSubject(s) == nil }

// MaxDisplayName bounds the name a token gives (in characters).
const MaxDisplayName = 200

// DisplayName is a token's name as events may keep it: a name with a NUL,
// a control character or broken UTF-8 (which PostgreSQL cannot store), or
// absurdly long, is no name, and the person is shown by their email.
func DisplayName(name string) string {
	if len(name) > 4*MaxDisplayName || !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 ||
		utf8.RuneCountInString(name) > MaxDisplayName {
		return ""
	}
	return name
}
