package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"

	"github.com/google/uuid"
)

// NewToken makes a link secret: 256 bits from crypto/rand, base64url. Only
// its hash is ever stored with the invitation.
func NewToken() (token, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is the stored form of a token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte("partners token v1:" + token))
	return hex.EncodeToString(sum[:])
}

// TokenMatches compares a presented token with a stored hash in constant
// time.
func TokenMatches(token, storedHash string) bool {
	got := HashToken(token)
	return subtle.ConstantTimeCompare([]byte(got), []byte(storedHash)) == 1
}

// ValidTokenShape rejects, before any lookup, what cannot be a token.
func ValidTokenShape(token string) bool {
	if len(token) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil
}

// TokenKey is the reservation key under which a token's hash points at the
// invitation it opens (for lookups by token, and so a resend frees it).
func TokenKey(hash string) string { return "token:" + hash }

// holderID returns the id holding a reservation (a pending invitation's
// slot, a token); ok is false when nobody holds it.
func (a *App) holderID(ctx context.Context, key string) (uuid.UUID, bool, error) {
	holder, ok, err := a.Store.Holder(ctx, key)
	if err != nil || !ok {
		return uuid.Nil, false, err
	}
	id, err := uuid.Parse(holder)
	return id, err == nil, nil
}
