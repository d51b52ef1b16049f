package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"partners/api/auth"
)

// The JWT parser never panics on any input, and refuses everything that is
// not a token it signed itself with ErrInvalidToken.
func FuzzVerify(f *testing.F) {
	secret := []byte("fuzz-secret-0123456789-0123456789-abcdef")
	good, err := auth.SignHS256(secret, auth.TokenSpec{Subject: "u1", Email: "u1@example.com", TTL: time.Hour}, time.Now())
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(good, ".")
	for _, seed := range []string{good, "", ".", "..", "a.b.c", parts[0] + "." + parts[1] + ".", parts[0] + ".." + parts[2],
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1MSJ9.", strings.Repeat("A", 9000), good + "x",
		"eyJhbGciOiJIUzI1NiJ9." + parts[1] + "." + parts[2]} {
		f.Add(seed)
	}
	v, err := auth.NewVerifier(context.Background(), auth.Config{Secret: secret})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := v.Verify(raw)
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("error %v does not wrap ErrInvalidToken", err)
			}
			if raw != "" && len(raw) > 20 && strings.Contains(err.Error(), raw) {
				t.Fatalf("error repeats the token")
			}
			return
		}
		if raw != good && p.Subject == "" {
			t.Fatalf("accepted a token without a subject: %q", raw)
		}
	})
}

func FuzzBearerToken(f *testing.F) {
	for _, seed := range []string{"Bearer abc", "bearer abc", "Basic abc", "", "Bearer", "Bearer  ", "Bearer a b"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tok, ok := auth.BearerToken(h)
		if ok && (tok == "" || strings.ContainsAny(tok, " \t")) {
			t.Fatalf("BearerToken(%q) = %q, true", h, tok)
		}
	})
}
