package domain_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"partners/domain"
)

// valuesCheckInvalid fails unless err is a *domain.Error with code
// validation_failed whose first field is field.
func valuesCheckInvalid(t *testing.T, err error, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want validation_failed on %q", field)
	}
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("got error %T %v, want *domain.Error", err, err)
	}
	if de.Code != domain.CodeValidationFailed {
		t.Errorf("got code %q, want %q", de.Code, domain.CodeValidationFailed)
	}
	if len(de.Fields) == 0 || de.Fields[0].Field != field {
		t.Errorf("got fields %+v, want first field %q", de.Fields, field)
	}
	if len(de.Fields) > 0 && de.Fields[0].Message == "" {
		t.Errorf("got an empty field message, want a readable one")
	}
}

// valuesLuhnKey returns the digit that completes digits into a Luhn-valid
// number: an implementation independent of the domain's.
func valuesLuhnKey(digits string) string {
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-i)%2 == 1 { // doubled once the key is appended
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return strconv.Itoa((10 - sum%10) % 10)
}

// ---------------------------------------------------------------- Email

func TestParseEmail(t *testing.T) {
	t.Parallel()
	local64 := strings.Repeat("a", 64)
	// A 189-byte domain: with a 64-byte local part and '@', 254 bytes.
	domain189 := strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 58) + ".fr"
	if got := len(local64 + "@" + domain189); got != 254 {
		t.Fatalf("test setup: got length %d, want 254", got)
	}

	valid := []struct {
		name, in, want, domain string
	}{
		{"simple", "bob@example.fr", "bob@example.fr", "example.fr"},
		{"trimmed and lower-cased", "  Bob.Martin@Example.FR \t", "bob.martin@example.fr", "example.fr"},
		{"plus and subdomain", "a+tag@mail.example.co.uk", "a+tag@mail.example.co.uk", "mail.example.co.uk"},
		{"hyphen inside label", "x@my-company.fr", "x@my-company.fr", "my-company.fr"},
		{"digits", "42@123.fr", "42@123.fr", "123.fr"},
		{"international domain, kept in its ASCII form", "Elodie@Société.FR", "elodie@xn--socit-esab.fr", "xn--socit-esab.fr"},
		{"A-label domain", "elodie@XN--SOCIT-ESAB.fr", "elodie@xn--socit-esab.fr", "xn--socit-esab.fr"},
		{"local part of 64", local64 + "@x.fr", local64 + "@x.fr", "x.fr"},
		{"label of 63", "a@" + strings.Repeat("b", 63) + ".fr", "a@" + strings.Repeat("b", 63) + ".fr", strings.Repeat("b", 63) + ".fr"},
		{"total of 254", local64 + "@" + domain189, local64 + "@" + domain189, domain189},
	}
	for _, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.ParseEmail(tc.in)
			if err != nil {
				t.Fatalf("ParseEmail(%q): got error %v, want %q", tc.in, err, tc.want)
			}
			if got.String() != tc.want {
				t.Errorf("ParseEmail(%q): got %q, want %q", tc.in, got, tc.want)
			}
			if got.Domain() != tc.domain {
				t.Errorf("Domain(): got %q, want %q", got.Domain(), tc.domain)
			}
			if got.IsZero() {
				t.Errorf("IsZero(): got true, want false")
			}
		})
	}

	invalid := []struct {
		name, in string
	}{
		{"empty", ""},
		{"blank", "   "},
		{"no at", "bob.example.fr"},
		{"two ats", "bob@bob@example.fr"},
		{"empty local part", "@example.fr"},
		{"local part of 65", strings.Repeat("a", 65) + "@x.fr"},
		{"total of 255", local64 + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 59) + ".fr"},
		{"empty domain", "bob@"},
		{"domain without dot", "bob@localhost"},
		{"leading dot in domain", "bob@.example.fr"},
		{"trailing dot in domain", "bob@example.fr."},
		{"empty label", "bob@example..fr"},
		{"label of 64", "a@" + strings.Repeat("b", 64) + ".fr"},
		{"label starting with hyphen", "bob@-example.fr"},
		{"label ending with hyphen", "bob@example-.fr"},
		{"underscore in domain", "bob@ex_ample.fr"},
		{"space inside", "bob martin@example.fr"},
		{"tab inside", "bob\t@example.fr"},
		{"control character", "bob\x00@example.fr"},
		{"DEL character", "bob\x7f@example.fr"},
		{"invalid UTF-8", "bob\xff@example.fr"},
		{"display name", "Bob <bob@example.fr>"},
		{"angle brackets only", "<bob@example.fr>"},
		{"comment", "bob@example.fr(work)"},
		{"quoted local part", `"bob"@example.fr`},
		{"leading dot in local part", ".bob@example.fr"},
		{"trailing dot in local part", "bob.@example.fr"},
		{"double dot in local part", "bob..martin@example.fr"},
		{"domain literal", "bob@[192.168.0.1]"},
		{"comma", "bob,alice@example.fr"},
		{"international local part", "élodie@société.fr"},
		{"A-label that does not decode", "bob@xn--zz.fr"},
		{"long Unicode domain, too long once in ASCII", "a@" + strings.Repeat(strings.Repeat("é", 30)+".", 8) + "fr"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.ParseEmail(tc.in)
			valuesCheckInvalid(t, err, "email")
			if !got.IsZero() {
				t.Errorf("ParseEmail(%q): got %q with the error, want the zero Email", tc.in, got)
			}
		})
	}
}

func TestEmailEquality(t *testing.T) {
	t.Parallel()
	a := domain.MustParseEmail("  Bob@Example.FR ")
	b := domain.MustParseEmail("bob@example.fr")
	if a != b {
		t.Errorf("got %q != %q, want equal", a, b)
	}
	if c := domain.MustParseEmail("bob@example.com"); a == c {
		t.Errorf("got %q == %q, want different", a, c)
	}
}

// The Unicode case mappings and compatibility forms that make two different
// strings look, or lower-case, alike. In the local part every one is refused
// (mail servers compare it byte for byte: "\u212Aate" is not "kate"); in the
// domain each is read as DNS reads it, so it is either the very domain its
// ASCII twin is, or a distinct one, never a third person's.
func TestEmailLookAlikes(t *testing.T) {
	traps := []struct {
		name, r string
	}{
		{"Kelvin sign U+212A", "\u212A"},
		{"dotted capital I U+0130", "\u0130"},
		{"long s U+017F", "\u017F"},
		{"full-width k U+FF4B", "\uFF4B"},
		{"full-width capital K U+FF2B", "\uFF2B"},
		{"Cyrillic a U+0430", "\u0430"},
	}
	for _, tc := range traps {
		t.Run("local part/"+tc.name, func(t *testing.T) {
			in := tc.r + "ate@acme.com"
			got, err := domain.ParseEmail(in)
			valuesCheckInvalid(t, err, "email")
			if !got.IsZero() {
				t.Errorf("ParseEmail(%q) = %q; want refused", in, got)
			}
		})
	}

	// In the domain: the ASCII form DNS resolves, never an ASCII twin that
	// DNS does not.
	domains := []struct {
		name, in, want string
	}{
		{"Kelvin sign is K for DNS", "kate@\u212Acme.com", "kate@kcme.com"},
		{"long s is s for DNS", "kate@\u017Fony.com", "kate@sony.com"},
		{"full-width letters are ASCII for DNS", "kate@\uFF41\uFF43\uFF4D\uFF45.com", "kate@acme.com"},
		{"full-width dot", "kate@acme\uFF0Ecom", "kate@acme.com"},
		{"dotted capital I is not i", "kate@\u0130bm.com", "kate@xn--ibm-8dc.com"},
		{"Cyrillic a is not a", "kate@\u0430cme.com", "kate@xn--cme-5cd.com"},
		{"sharp s is not ss", "kate@fa\u00DF.de", "kate@xn--fa-hia.de"},
	}
	for _, tc := range domains {
		t.Run("domain/"+tc.name, func(t *testing.T) {
			got, err := domain.ParseEmail(tc.in)
			if err != nil {
				t.Fatalf("ParseEmail(%q): %v; want %q", tc.in, err, tc.want)
			}
			if got.String() != tc.want {
				t.Errorf("ParseEmail(%q) = %q; want %q", tc.in, got, tc.want)
			}
		})
	}

	// The pairs the issue names: never the same address.
	kate := domain.MustParseEmail("kate@acme.com")
	for _, in := range []string{"\u212Aate@acme.com", "\uFF4Bate@acme.com", "kate@\u0430cme.com", "\u017Fate@acme.com"} {
		if got, err := domain.ParseEmail(in); err == nil && got == kate {
			t.Errorf("ParseEmail(%q) = %q, the same as kate@acme.com", in, got)
		}
	}
	iBM := domain.MustParseEmail("bob@ibm.com")
	if got := domain.MustParseEmail("bob@\u0130BM.com"); got == iBM {
		t.Errorf("bob@\u0130BM.com = %q, the same as bob@ibm.com", got)
	}
}

// ---------------------------------------------------------------- Siret

func TestParseSiret(t *testing.T) {
	t.Parallel()
	// Build Luhn-valid numbers with an independent implementation, and check
	// it against a known public vector first.
	if got := valuesLuhnKey("7328293200007"); got != "4" {
		t.Fatalf("test helper: got Luhn key %s for 7328293200007, want 4", got)
	}
	computed := "1234567890123" + valuesLuhnKey("1234567890123")
	computedBad := computed[:13] + strconv.Itoa((int(computed[13]-'0')+1)%10)

	valid := []struct {
		name, in, want, siren string
	}{
		{"public Luhn-valid", "73282932000074", "73282932000074", "732829320"},
		{"another public Luhn-valid", "44306184100047", "44306184100047", "443061841"},
		{"computed Luhn key", computed, computed, "123456789"},
		{"spaces removed", " 732 829 320 00074 ", "73282932000074", "732829320"},
		{"no-break spaces removed", "732\u00a0829\u00a0320\u202f00074", "73282932000074", "732829320"},
		// 3+5+6+1 = 15; the Luhn sum would be 15 as well: not Luhn-valid.
		{"La Poste sum multiple of 5, not Luhn", "35600000000001", "35600000000001", "356000000"},
		// 3+5+6+2+4 = 20; the Luhn sum is 22.
		{"La Poste other establishment", "35600000000024", "35600000000024", "356000000"},
		// The head office keeps a Luhn key (its digits sum to 26).
		{"La Poste head office", "35600000000048", "35600000000048", "356000000"},
	}
	for _, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.ParseSiret(tc.in)
			if err != nil {
				t.Fatalf("ParseSiret(%q): got error %v, want %q", tc.in, err, tc.want)
			}
			if got.String() != tc.want {
				t.Errorf("ParseSiret(%q): got %q, want %q", tc.in, got, tc.want)
			}
			if got.Siren() != tc.siren {
				t.Errorf("Siren(): got %q, want %q", got.Siren(), tc.siren)
			}
		})
	}

	invalid := []struct {
		name, in string
	}{
		{"empty", ""},
		{"only spaces", "   "},
		{"13 digits", "7328293200007"},
		{"15 digits", "732829320000740"},
		{"letter", "7328293200007A"},
		{"letters only", "abcdefghijklmn"},
		{"hyphens", "732-829-320-00074"},
		{"bad Luhn key", "73282932000075"},
		{"computed bad Luhn key", computedBad},
		{"sequence", "12345678901234"},
		{"all zeros", "00000000000000"},
		{"full-width digits", "７３２８２９３２０００７４"},
		// Luhn-valid (4 + 1*2 + 3 + 5 + 6 = 20) but 3+5+6+1+4 = 19.
		{"La Poste Luhn-valid but sum not multiple of 5", "35600000000014"},
		// 3+5+6+1+9 = 24.
		{"La Poste sum not multiple of 5", "35600000000019"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.ParseSiret(tc.in)
			valuesCheckInvalid(t, err, "siret")
			if !got.IsZero() {
				t.Errorf("ParseSiret(%q): got %q with the error, want the zero Siret", tc.in, got)
			}
		})
	}
}

// TestSiretVectors re-checks the hand-computed facts the Siret tables rely
// on, so a wrong vector fails loudly rather than silently testing nothing.
func TestSiretVectors(t *testing.T) {
	t.Parallel()
	digitSum := func(s string) int {
		n := 0
		for _, c := range s {
			n += int(c - '0')
		}
		return n
	}
	luhn := func(s string) bool { return valuesLuhnKey(s[:len(s)-1]) == s[len(s)-1:] }
	tests := []struct {
		in       string
		wantSum  int
		wantLuhn bool
	}{
		{"73282932000074", 47, true},
		{"35600000000001", 15, false},
		{"35600000000024", 20, false},
		{"35600000000048", 26, true},
		{"35600000000014", 19, true},
		{"35600000000019", 24, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := digitSum(tc.in); got != tc.wantSum {
				t.Errorf("digit sum: got %d, want %d", got, tc.wantSum)
			}
			if got := luhn(tc.in); got != tc.wantLuhn {
				t.Errorf("Luhn-valid: got %v, want %v", got, tc.wantLuhn)
			}
		})
	}
}

// ---------------------------------------------------------------- Phone

func TestParsePhone(t *testing.T) {
	t.Parallel()
	valid := []struct {
		name, in, want string
	}{
		{"E.164 French mobile", "+33612345678", "+33612345678"},
		{"E.164 German mobile", "+4915123456789", "+4915123456789"},
		{"E.164 with spaces", "+33 6 12 34 56 78", "+33612345678"},
		{"E.164 US with punctuation", "+1 (650) 253-0000", "+16502530000"},
		{"French mobile with spaces", "06 12 34 56 78", "+33612345678"},
		{"French landline with dots", "01.23.45.67.89", "+33123456789"},
		{"French mobile compact", "0612345678", "+33612345678"},
		{"French with hyphens", "06-12-34-56-78", "+33612345678"},
		{"French international prefix", "0033612345678", "+33612345678"},
		{"trimmed", "  0612345678 ", "+33612345678"},
		{"32 characters", "0" + strings.Repeat(" ", 22) + "612345678", "+33612345678"},
		{"32 characters after trimming", "  0" + strings.Repeat(" ", 22) + "612345678  ", "+33612345678"},
	}
	for _, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.ParsePhone(tc.in)
			if err != nil {
				t.Fatalf("ParsePhone(%q): got error %v, want %q", tc.in, err, tc.want)
			}
			if got.String() != tc.want {
				t.Errorf("ParsePhone(%q): got %q, want %q", tc.in, got, tc.want)
			}
		})
	}

	invalid := []struct {
		name, in string
	}{
		{"empty", ""},
		{"blank", "  "},
		{"garbage", "hello"},
		{"letters inside", "06 12 34 AB 78"},
		{"vanity letters", "+1 800 FLOWERS"},
		{"extension", "01 23 45 67 89 ext. 12"},
		{"plus inside", "06+12345678"},
		{"punctuation only", "+ ( ) - ."},
		{"too short", "06 12 34"},
		{"one digit missing", "+33 6 12 34 56 7"},
		{"one digit too many", "06 12 34 56 78 9"},
		{"unassigned French range", "+33 0 12 34 56 78"},
		{"unknown country code", "+999 12345678"},
		{"33 characters", "0" + strings.Repeat(" ", 23) + "612345678"},
		{"very long", strings.Repeat("0", 300)},
		{"tel URI", "tel:+33612345678"},
		{"control character", "06\x0012345678"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.ParsePhone(tc.in)
			valuesCheckInvalid(t, err, "phone")
			if !got.IsZero() {
				t.Errorf("ParsePhone(%q): got %q with the error, want the zero Phone", tc.in, got)
			}
		})
	}
}

// ---------------------------------------------------------------- Side

func TestParseSide(t *testing.T) {
	t.Parallel()
	valid := []struct {
		in       string
		want     domain.Side
		opposite domain.Side
	}{
		{"client", domain.SideClient, domain.SideSubcontractor},
		{"subcontractor", domain.SideSubcontractor, domain.SideClient},
	}
	for _, tc := range valid {
		t.Run(tc.in, func(t *testing.T) {
			got, err := domain.ParseSide(tc.in)
			if err != nil {
				t.Fatalf("ParseSide(%q): got error %v, want %v", tc.in, err, tc.want)
			}
			if got != tc.want || got.String() != tc.in {
				t.Errorf("ParseSide(%q): got %q, want %q", tc.in, got, tc.want)
			}
			if o := got.Opposite(); o != tc.opposite {
				t.Errorf("Opposite(): got %q, want %q", o, tc.opposite)
			}
			if o := got.Opposite().Opposite(); o != got {
				t.Errorf("Opposite().Opposite(): got %q, want %q", o, got)
			}
		})
	}
	for _, in := range []string{"", "Client", "CLIENT", " client", "client ", "supplier", "sub-contractor", "both"} {
		t.Run("invalid "+strconv.Quote(in), func(t *testing.T) {
			got, err := domain.ParseSide(in)
			valuesCheckInvalid(t, err, "side")
			if !got.IsZero() {
				t.Errorf("ParseSide(%q): got %q with the error, want the zero Side", in, got)
			}
		})
	}
	t.Run("zero opposite", func(t *testing.T) {
		if got := (domain.Side{}).Opposite(); !got.IsZero() {
			t.Errorf("got %q, want the zero Side", got)
		}
	})
}

// ---------------------------------------------------------------- Role

func TestParseRole(t *testing.T) {
	t.Parallel()
	valid := []struct {
		in   string
		want domain.Role
	}{
		{"owner", domain.RoleOwner},
		{"admin", domain.RoleAdmin},
		{"member", domain.RoleMember},
		{"accountant", domain.RoleAccountant},
		{"collaborator", domain.RoleCollaborator},
	}
	seen := map[domain.Role]bool{}
	for _, tc := range valid {
		t.Run(tc.in, func(t *testing.T) {
			got, err := domain.ParseRole(tc.in)
			if err != nil {
				t.Fatalf("ParseRole(%q): got error %v, want %v", tc.in, err, tc.want)
			}
			if got != tc.want || got.String() != tc.in {
				t.Errorf("ParseRole(%q): got %q, want %q", tc.in, got, tc.want)
			}
			if seen[got] {
				t.Errorf("ParseRole(%q): got %q twice, want distinct roles", tc.in, got)
			}
			seen[got] = true
		})
	}
	for _, in := range []string{"", "Owner", "ADMIN", " member", "accountant ", "viewer", "superadmin"} {
		t.Run("invalid "+strconv.Quote(in), func(t *testing.T) {
			got, err := domain.ParseRole(in)
			valuesCheckInvalid(t, err, "role")
			if !got.IsZero() {
				t.Errorf("ParseRole(%q): got %q with the error, want the zero Role", in, got)
			}
		})
	}
}

// ---------------------------------------------------------------- ContractID

func TestParseContractID(t *testing.T) {
	t.Parallel()
	valid := []struct {
		name, in string
	}{
		{"one character", "A"},
		{"every allowed kind", "AZaz09._:-"},
		{"typical", "CTR-2024:0042_v1.2"},
		{"128 characters", strings.Repeat("x", 128)},
	}
	for _, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.ParseContractID(tc.in)
			if err != nil {
				t.Fatalf("ParseContractID(%q): got error %v, want %q", tc.in, err, tc.in)
			}
			if got.String() != tc.in {
				t.Errorf("ParseContractID(%q): got %q, want %q", tc.in, got, tc.in)
			}
		})
	}
	invalid := []struct {
		name, in string
	}{
		{"empty", ""},
		{"129 characters", strings.Repeat("x", 129)},
		{"space", "CTR 1"},
		{"leading space", " CTR1"},
		{"slash", "CTR/1"},
		{"at", "CTR@1"},
		{"accented letter", "contrat-é"},
		{"newline", "CTR1\n"},
		{"NUL", "CTR\x001"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.ParseContractID(tc.in)
			valuesCheckInvalid(t, err, "contract_id")
			if !got.IsZero() {
				t.Errorf("ParseContractID(%q): got %q with the error, want the zero ContractID", tc.in, got)
			}
		})
	}
}

// ---------------------------------------------------------------- Organization name

func TestParseOrganizationName(t *testing.T) {
	t.Parallel()
	valid := []struct {
		name, in, want string
	}{
		{"simple", "Acme SAS", "Acme SAS"},
		{"trimmed", "  Acme SAS \t\n", "Acme SAS"},
		{"one character", "A", "A"},
		{"200 multi-byte characters", strings.Repeat("é", 200), strings.Repeat("é", 200)},
		{"accents and punctuation", "Société Générale d'Études & Cie", "Société Générale d'Études & Cie"},
	}
	for _, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.ParseOrganizationName(tc.in)
			if err != nil {
				t.Fatalf("ParseOrganizationName(%q): got error %v, want %q", tc.in, err, tc.want)
			}
			if got != tc.want {
				t.Errorf("ParseOrganizationName(%q): got %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	invalid := []struct {
		name, in string
	}{
		{"empty", ""},
		{"blank", " \t "},
		{"201 characters", strings.Repeat("é", 201)},
		{"newline inside", "Acme\nSAS"},
		{"tab inside", "Acme\tSAS"},
		{"NUL", "Acme\x00"},
		{"DEL", "Acme\x7f SAS"},
		{"C1 control", "Acme\u0085SAS"},
		{"invalid UTF-8", "Acme\xff"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.ParseOrganizationName(tc.in)
			valuesCheckInvalid(t, err, "name")
			if got != "" {
				t.Errorf("ParseOrganizationName(%q): got %q with the error, want \"\"", tc.in, got)
			}
		})
	}
}

func TestNormalizeCompany(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"already normal", "acme", "acme"},
		{"lower-cased", "ACME SAS", "acme sas"},
		{"trimmed", "  Acme SAS  ", "acme sas"},
		{"inner runs collapsed", "Acme \t  SAS\n\nFrance", "acme sas france"},
		{"accents lower-cased", "SOCIÉTÉ Générale", "société générale"},
		{"empty", "", ""},
		{"blank", " \t\n ", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := domain.NormalizeCompany(tc.in); got != tc.want {
				t.Errorf("NormalizeCompany(%q): got %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	if a, b := domain.NormalizeCompany(" ACME  sas"), domain.NormalizeCompany("acme SAS "); a != b {
		t.Errorf("got %q and %q, want the same company", a, b)
	}
}

// ---------------------------------------------------------------- ParseField

func TestParseField(t *testing.T) {
	t.Parallel()
	t.Run("collects every field error under the request's names", func(t *testing.T) {
		var v domain.Validation
		email := domain.ParseField(&v, "contact_email", "not an email", domain.ParseEmail)
		siret := domain.ParseField(&v, "company_siret", "123", domain.ParseSiret)
		side := domain.ParseField(&v, "side", "client", domain.ParseSide)
		name := domain.ParseField(&v, "company_name", "", domain.ParseOrganizationName)
		if !email.IsZero() || !siret.IsZero() || name != "" {
			t.Errorf("got %q, %q, %q, want zero values", email, siret, name)
		}
		if side != domain.SideClient {
			t.Errorf("got side %q, want %q", side, domain.SideClient)
		}
		err := v.Err()
		var de *domain.Error
		if !errors.As(err, &de) {
			t.Fatalf("got %v, want a *domain.Error", err)
		}
		if de.Code != domain.CodeValidationFailed {
			t.Errorf("got code %q, want %q", de.Code, domain.CodeValidationFailed)
		}
		want := []domain.FieldError{
			{Field: "contact_email", Message: "must be a valid email address, such as name@example.com"},
			{Field: "company_siret", Message: "must be 14 digits with a valid checksum (SIRET)"},
			{Field: "company_name", Message: "is required"},
		}
		if len(de.Fields) != len(want) {
			t.Fatalf("got fields %+v, want %+v", de.Fields, want)
		}
		for i := range want {
			if de.Fields[i] != want[i] {
				t.Errorf("field %d: got %+v, want %+v", i, de.Fields[i], want[i])
			}
		}
	})
	t.Run("no error when every field is valid", func(t *testing.T) {
		var v domain.Validation
		p := domain.ParseField(&v, "phone", "06 12 34 56 78", domain.ParsePhone)
		r := domain.ParseField(&v, "role", "admin", domain.ParseRole)
		if err := v.Err(); err != nil {
			t.Fatalf("got %v, want nil", err)
		}
		if p.String() != "+33612345678" || r != domain.RoleAdmin {
			t.Errorf("got %q, %q, want +33612345678, admin", p, r)
		}
	})
	t.Run("error without fields uses its message", func(t *testing.T) {
		var v domain.Validation
		parse := func(string) (int, error) {
			return 0, domain.Errorf(domain.CodeValidationFailed, "must be even")
		}
		got := domain.ParseField(&v, "count", "3", parse)
		var de *domain.Error
		if !errors.As(v.Err(), &de) || len(de.Fields) != 1 {
			t.Fatalf("got %v, want one field error", v.Err())
		}
		if got != 0 || de.Fields[0] != (domain.FieldError{Field: "count", Message: "must be even"}) {
			t.Errorf("got %d, %+v, want 0, {count must be even}", got, de.Fields[0])
		}
	})
	t.Run("foreign error", func(t *testing.T) {
		var v domain.Validation
		parse := func(string) (int, error) { return 7, errors.New("strconv: internal detail") }
		got := domain.ParseField(&v, "count", "x", parse)
		var de *domain.Error
		if !errors.As(v.Err(), &de) || len(de.Fields) != 1 {
			t.Fatalf("got %v, want one field error", v.Err())
		}
		if got != 0 || de.Fields[0] != (domain.FieldError{Field: "count", Message: "is invalid"}) {
			t.Errorf("got %d, %+v, want 0, {count is invalid}", got, de.Fields[0])
		}
	})
}

// ---------------------------------------------------------------- JSON

type valuesDoc struct {
	Email      domain.Email      `json:"email"`
	Siret      domain.Siret      `json:"siret"`
	Phone      domain.Phone      `json:"phone"`
	Side       domain.Side       `json:"side"`
	Role       domain.Role       `json:"role"`
	ContractID domain.ContractID `json:"contract_id"`
}

func TestValuesJSONRoundTrip(t *testing.T) {
	t.Parallel()
	in := valuesDoc{
		Email:      domain.MustParseEmail("Bob@Example.fr"),
		Siret:      domain.MustParseSiret("732 829 320 00074"),
		Phone:      domain.MustParsePhone("06 12 34 56 78"),
		Side:       domain.SideSubcontractor,
		Role:       domain.RoleAccountant,
		ContractID: domain.MustParseContractID("CTR-1"),
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("Marshal: got error %v", err)
	}
	want := `{"email":"bob@example.fr","siret":"73282932000074","phone":"+33612345678","side":"subcontractor","role":"accountant","contract_id":"CTR-1"}`
	if string(b) != want {
		t.Errorf("Marshal: got %s, want %s", b, want)
	}
	var out valuesDoc
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("Unmarshal(%s): got error %v", b, err)
	}
	if out != in {
		t.Errorf("round trip: got %+v, want %+v", out, in)
	}
}

func TestValuesJSONZero(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(valuesDoc{})
	if err != nil {
		t.Fatalf("Marshal: got error %v", err)
	}
	want := `{"email":null,"siret":null,"phone":null,"side":null,"role":null,"contract_id":null}`
	if string(b) != want {
		t.Errorf("Marshal zero: got %s, want %s", b, want)
	}
	var out valuesDoc
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("Unmarshal(%s): got error %v", b, err)
	}
	if out != (valuesDoc{}) {
		t.Errorf("round trip of zero: got %+v, want zero", out)
	}
	type omitted struct {
		Email domain.Email `json:"email,omitzero"`
		Side  domain.Side  `json:"side,omitzero"`
	}
	if b, _ := json.Marshal(omitted{}); string(b) != `{}` {
		t.Errorf("omitzero: got %s, want {}", b)
	}
}

func TestValuesJSONNormalizes(t *testing.T) {
	t.Parallel()
	var d valuesDoc
	in := `{"email":"  Bob@EXAMPLE.fr ","siret":"732 829 320 00074","phone":"01.23.45.67.89"}`
	if err := json.Unmarshal([]byte(in), &d); err != nil {
		t.Fatalf("Unmarshal(%s): got error %v", in, err)
	}
	if d.Email.String() != "bob@example.fr" || d.Siret.String() != "73282932000074" || d.Phone.String() != "+33123456789" {
		t.Errorf("got %q, %q, %q, want bob@example.fr, 73282932000074, +33123456789", d.Email, d.Siret, d.Phone)
	}
}

func TestValuesJSONRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, field string
	}{
		{"invalid email", `{"email":"Bob <bob@example.fr>"}`, "email"},
		{"empty email", `{"email":""}`, "email"},
		{"email not a string", `{"email":42}`, "email"},
		{"invalid siret", `{"siret":"73282932000075"}`, "siret"},
		{"siret as a number", `{"siret":73282932000074}`, "siret"},
		{"invalid phone", `{"phone":"hello"}`, "phone"},
		{"invalid side", `{"side":"Client"}`, "side"},
		{"side as an object", `{"side":{"s":"client"}}`, "side"},
		{"invalid role", `{"role":"viewer"}`, "role"},
		{"empty role", `{"role":""}`, "role"},
		{"invalid contract id", `{"contract_id":"a b"}`, "contract_id"},
		{"contract id as boolean", `{"contract_id":true}`, "contract_id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d valuesDoc
			err := json.Unmarshal([]byte(tc.in), &d)
			valuesCheckInvalid(t, err, tc.field)
			if !errors.Is(err, &domain.Error{Code: domain.CodeValidationFailed}) {
				t.Errorf("errors.Is validation_failed: got false for %v, want true", err)
			}
		})
	}
}

// ---------------------------------------------------------------- zero values and Must

func TestValuesZero(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		isZero bool
		str    string
	}{
		{"Email", domain.Email{}.IsZero(), domain.Email{}.String() + domain.Email{}.Domain()},
		{"Siret", domain.Siret{}.IsZero(), domain.Siret{}.String() + domain.Siret{}.Siren()},
		{"Phone", domain.Phone{}.IsZero(), domain.Phone{}.String()},
		{"Side", domain.Side{}.IsZero(), domain.Side{}.String()},
		{"Role", domain.Role{}.IsZero(), domain.Role{}.String()},
		{"ContractID", domain.ContractID{}.IsZero(), domain.ContractID{}.String()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.isZero || tc.str != "" {
				t.Errorf("zero %s: got IsZero %v and %q, want true and \"\"", tc.name, tc.isZero, tc.str)
			}
		})
	}
}

func TestMustParsePanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fn   func()
	}{
		{"MustParseEmail", func() { domain.MustParseEmail("nope") }},
		{"MustParseSiret", func() { domain.MustParseSiret("123") }},
		{"MustParsePhone", func() { domain.MustParsePhone("nope") }},
		{"MustParseSide", func() { domain.MustParseSide("nope") }},
		{"MustParseRole", func() { domain.MustParseRole("nope") }},
		{"MustParseContractID", func() { domain.MustParseContractID("") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s: got no panic, want one", tc.name)
				}
			}()
			tc.fn()
		})
	}
}
