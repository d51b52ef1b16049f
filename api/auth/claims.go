package auth

import (
	"fmt"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// MaxSubjectLength is the maximum length of the "sub" claim, in characters.
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
// MaxSubjectLength characters. The reason never echoes the value.
func checkSubject(sub string) error {
	switch {
	case sub == "":
		return fmt.Errorf("missing sub")
	case utf8.RuneCountInString(sub) > MaxSubjectLength:
		return fmt.Errorf("sub longer than %d characters", MaxSubjectLength)
	}
	return nil
}
