package auth_test

import (
	"context"
	"testing"
	"time"

	"partners/api/auth"
	"partners/domain"
)

// The email claim reaches domain.ParseEmail as the token wrote it, ASCII
// case aside: a Unicode case mapping here would turn "\u212Aate" (Kelvin
// sign) into "kate" before the parser could refuse it.
func TestEmailClaimLookAlikesReachTheParser(t *testing.T) {
	v, err := auth.NewVerifier(context.Background(), auth.Config{Secret: testSecret, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ claim, principal, parsed string }{
		{"  Kate@ACME.com ", "kate@acme.com", "kate@acme.com"},
		{"\u212Aate@acme.com", "\u212Aate@acme.com", ""},
		{"\u0130rene@acme.com", "\u0130rene@acme.com", ""},
		{"\u017Fam@acme.com", "\u017Fam@acme.com", ""},
		{"\uFF4Bate@acme.com", "\uFF4Bate@acme.com", ""},
		{"kate@\uFF41cme.com", "kate@\uFF41cme.com", "kate@acme.com"},
	} {
		t.Run(tc.claim, func(t *testing.T) {
			tok, err := auth.SignHS256(testSecret, auth.TokenSpec{Subject: "u1", Email: tc.claim, TTL: time.Hour}, testNow)
			if err != nil {
				t.Fatal(err)
			}
			p, err := v.Verify(tok)
			if err != nil {
				t.Fatal(err)
			}
			if p.Email != tc.principal {
				t.Errorf("Principal.Email = %q; want %q", p.Email, tc.principal)
			}
			e, err := domain.ParseEmail(p.Email)
			if got := e.String(); got != tc.parsed || (err == nil) != (tc.parsed != "") {
				t.Errorf("ParseEmail(%q) = %q, %v; want %q", p.Email, got, err, tc.parsed)
			}
		})
	}
}
