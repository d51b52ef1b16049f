package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/golang-jwt/jwt/v5"
)

// TokenSpec describes a token minted by [SignHS256].
type TokenSpec struct {
	Subject  string
	Email    string // written as given; the verifier normalizes it
	Name     string
	Scopes   []string
	TTL      time.Duration // must be positive; exp = now + TTL
	Issuer   string        // omitted when ""
	Audience string        // omitted when ""
	// EmailVerified is omitted when nil, which verifiers read as unverified
	// unless configured to assume otherwise.
	EmailVerified *bool
}

// SignHS256 mints an HS256 token for spec, issued at now. It is used by the
// `partners token` command and by tests. The secret must be at least
// [MinSecretLength] bytes, the subject must satisfy the same rules the
// verifier enforces, and no scope may be empty or contain whitespace.
func SignHS256(secret []byte, spec TokenSpec, now time.Time) (string, error) {
	if err := checkSecret(secret); err != nil {
		return "", err
	}
	if err := checkSubject(spec.Subject); err != nil {
		return "", fmt.Errorf("auth: sign: %w", err)
	}
	if spec.TTL <= 0 {
		return "", errors.New("auth: sign: TTL must be positive")
	}
	for _, s := range spec.Scopes {
		if s == "" || strings.ContainsFunc(s, unicode.IsSpace) {
			return "", fmt.Errorf("auth: sign: invalid scope %q", s)
		}
	}
	c := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   spec.Subject,
			Issuer:    spec.Issuer,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(spec.TTL)),
		},
		Email:         spec.Email,
		Name:          spec.Name,
		Scope:         strings.Join(spec.Scopes, " "),
		EmailVerified: spec.EmailVerified,
	}
	if spec.Audience != "" {
		c.Audience = jwt.ClaimStrings{spec.Audience}
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign: %w", err)
	}
	return tok, nil
}
