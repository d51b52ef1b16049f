package domain

import (
	"encoding/json"
	"errors"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/net/idna"
)

// This file holds the value types of the domain. Each one keeps its value in
// an unexported field, so a value obtained from its Parse function (or from
// JSON, which goes through Parse) is valid. The zero value means "absent":
// IsZero reports it, and it is written to JSON as null.
//
// Each ParseX takes only the input and names a default field in its error
// ("email", "siret"...). To name the field as the request does, and to
// collect every field error at once, use ParseField with a Validation.

// Messages shared by the value types. They are read by support agents and
// customers, so they are plain English.
const (
	msgRequired = "is required"
)

// ParseField parses s with parse. On failure it records the error on v under
// field, using the first field message of a *Error (or its message), and
// returns the zero T. Use it to validate a whole request at once:
//
//	var v domain.Validation
//	email := domain.ParseField(&v, "contact_email", req.Email, domain.ParseEmail)
//	siret := domain.ParseField(&v, "siret", req.Siret, domain.ParseSiret)
//	if err := v.Err(); err != nil { ... }
func ParseField[T any](v *Validation, field string, s string, parse func(string) (T, error)) T {
	t, err := parse(s)
	if err == nil {
		return t
	}
	msg := "is invalid"
	var de *Error
	if errors.As(err, &de) {
		switch {
		case len(de.Fields) > 0:
			msg = de.Fields[0].Message
		case de.Message != "":
			msg = de.Message
		}
	}
	v.Add(field, msg)
	var zero T
	return zero
}

// marshalValue writes a value as a JSON string, or null when absent.
func marshalValue(s string) ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return json.Marshal(s)
}

// unmarshalValue reads a JSON string through parse. null leaves dst as it is
// (the encoding/json convention); anything but a string is refused as field.
func unmarshalValue[T any](b []byte, dst *T, field string, parse func(string) (T, error)) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return Invalid(field, "must be a string")
	}
	v, err := parse(s)
	if err != nil {
		return err
	}
	*dst = v
	return nil
}

// hasSpaceOrControl reports whether s holds a white space or control
// character, or is not valid UTF-8.
func hasSpaceOrControl(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0
}

// =============================================================================
// Email

const (
	emailMaxLength      = 254 // RFC 5321, whole address, in bytes
	emailMaxLocalLength = 64  // RFC 5321, local part, in bytes
	emailMaxLabelLength = 63  // RFC 1035, one domain label, in bytes
	msgEmail            = "must be a valid email address, such as name@example.com"
	msgEmailTooLong     = "is too long for an email address (at most 254 characters)"
)

// Email is an email address in its one ASCII form: a lower-cased ASCII
// local part and the domain's IDNA ASCII form. Two Email values are the same
// address exactly when they are ==, and only then: no Unicode look-alike of
// an address (a Kelvin sign for a K, a full-width letter...) ever compares
// equal to it unless DNS would deliver to the very same domain.
type Email struct{ address string }

// ParseEmail accepts a bare address (no display name, no comment): at most
// 254 bytes in its ASCII form, one '@', a local part of 1 to 64 ASCII
// characters and a domain of at least two dot-separated labels.
//
// The local part must be ASCII: mail servers compare it byte for byte, so
// folding a Unicode one (strings.ToLower turns the Kelvin sign into "k")
// would hand one person's invitations to another. The domain may be written
// in Unicode: it is mapped and converted to its IDNA ASCII form (UTS 46,
// what resolvers do), so its spellings that DNS resolves to one domain are
// one domain, and every other one stays distinct.
func ParseEmail(s string) (Email, error) {
	if !utf8.ValidString(s) {
		return Email{}, Invalid("email", msgEmail)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return Email{}, Invalid("email", msgRequired)
	}
	// Bounds the work below; the real limit applies to the ASCII form.
	if len(s) > 4*emailMaxLength {
		return Email{}, Invalid("email", msgEmailTooLong)
	}
	if hasSpaceOrControl(s) || strings.Count(s, "@") != 1 {
		return Email{}, Invalid("email", msgEmail)
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" {
		return Email{}, Invalid("email", msgEmail)
	}
	if !isASCII(local) {
		return Email{}, Invalid("email", "must have only ASCII letters, digits and punctuation before the @")
	}
	if len(local) > emailMaxLocalLength {
		return Email{}, Invalid("email", "has too long a part before the @ (at most 64 characters)")
	}
	domain, ok := emailDomainASCII(domain)
	if !ok {
		return Email{}, Invalid("email", msgEmail)
	}
	s = asciiLower(local) + "@" + domain
	if len(s) > emailMaxLength {
		return Email{}, Invalid("email", msgEmailTooLong)
	}
	// net/mail checks the local part's syntax. It also accepts forms such as
	// "Bob <b@x.fr>" or "<b@x.fr>": only an address it reads back unchanged
	// and without a name is a bare address.
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return Email{}, Invalid("email", msgEmail)
	}
	return Email{address: s}, nil
}

// emailDomainASCII returns d's IDNA ASCII form (lower-case, A-labels for
// Unicode labels) when d is a valid domain of at least two labels, each 1 to
// 63 letters, digits or hyphens, not starting or ending with a hyphen.
func emailDomainASCII(d string) (string, bool) {
	// Lookup applies the UTS 46 mapping (case, full-width forms, compatibility
	// characters) and the STD3 rules (letters, digits and hyphens only), and
	// refuses A-labels that do not decode to a valid label.
	a, err := idna.Lookup.ToASCII(d)
	if err != nil {
		return "", false
	}
	labels := strings.Split(a, ".")
	if len(labels) < 2 {
		return "", false
	}
	for _, l := range labels {
		if l == "" || len(l) > emailMaxLabelLength || l[0] == '-' || l[len(l)-1] == '-' {
			return "", false
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; c != '-' && (c < 'a' || c > 'z') && (c < '0' || c > '9') {
				return "", false
			}
		}
	}
	return a, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// asciiLower lower-cases A to Z only: the Unicode case mappings are the
// look-alike traps ParseEmail refuses.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// MustParseEmail is ParseEmail for tests and constants; it panics on error.
func MustParseEmail(s string) Email {
	e, err := ParseEmail(s)
	if err != nil {
		panic(err)
	}
	return e
}

// String returns the address, or "" when absent.
func (e Email) String() string { return e.address }

// IsZero reports whether the email is absent.
func (e Email) IsZero() bool { return e.address == "" }

// Domain returns the part after the '@' in its IDNA ASCII form, or "" when
// absent.
func (e Email) Domain() string {
	_, d, _ := strings.Cut(e.address, "@")
	return d
}

// MarshalJSON writes the address as a JSON string (null when absent).
func (e Email) MarshalJSON() ([]byte, error) { return marshalValue(e.address) }

// UnmarshalJSON reads a JSON string and validates it with ParseEmail.
func (e *Email) UnmarshalJSON(b []byte) error { return unmarshalValue(b, e, "email", ParseEmail) }

// =============================================================================
// Siret

const (
	siretLength = 14
	// La Poste has more establishments than the Luhn key allows: theirs
	// (SIREN 356000000) have digits summing to a multiple of 5 instead. Its
	// head office keeps a Luhn key.
	siretLaPosteSiren      = "356000000"
	siretLaPosteHeadOffice = "35600000000048"
	msgSiret               = "must be 14 digits with a valid checksum (SIRET)"
)

// Siret is the 14-digit number of a French establishment (SIREN + NIC).
type Siret struct{ number string }

// ParseSiret accepts 14 digits, spaces allowed and removed, whose Luhn key
// is valid; for La Poste's establishments (SIREN 356000000, except the head
// office 35600000000048) the digits must sum to a multiple of 5 instead.
// 00000000000000 is refused.
func ParseSiret(s string) (Siret, error) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return Siret{}, Invalid("siret", msgRequired)
	}
	if len(s) != siretLength || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return Siret{}, Invalid("siret", msgSiret)
	}
	if s == strings.Repeat("0", siretLength) || !siretChecksumOK(s) {
		return Siret{}, Invalid("siret", msgSiret)
	}
	return Siret{number: s}, nil
}

// siretChecksumOK applies the key rule to 14 ASCII digits.
func siretChecksumOK(s string) bool {
	if strings.HasPrefix(s, siretLaPosteSiren) && s != siretLaPosteHeadOffice {
		sum := 0
		for i := 0; i < len(s); i++ {
			sum += int(s[i] - '0')
		}
		return sum%5 == 0
	}
	return luhnOK(s)
}

// luhnOK reports whether a string of ASCII digits has a valid Luhn key.
func luhnOK(s string) bool {
	sum := 0
	for i := 0; i < len(s); i++ {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// MustParseSiret is ParseSiret for tests and constants; it panics on error.
func MustParseSiret(s string) Siret {
	v, err := ParseSiret(s)
	if err != nil {
		panic(err)
	}
	return v
}

// String returns the 14 digits, or "" when absent.
func (s Siret) String() string { return s.number }

// IsZero reports whether the SIRET is absent.
func (s Siret) IsZero() bool { return s.number == "" }

// Siren returns the first 9 digits (the company), or "" when absent.
func (s Siret) Siren() string {
	if s.number == "" {
		return ""
	}
	return s.number[:9]
}

// MarshalJSON writes the 14 digits as a JSON string (null when absent).
func (s Siret) MarshalJSON() ([]byte, error) { return marshalValue(s.number) }

// UnmarshalJSON reads a JSON string and validates it with ParseSiret.
func (s *Siret) UnmarshalJSON(b []byte) error { return unmarshalValue(b, s, "siret", ParseSiret) }

// =============================================================================
// Phone

const (
	phoneMaxInput = 32
	phoneRegion   = "FR"
	msgPhone      = "must be a valid phone number, such as +33612345678 or 06 12 34 56 78"
)

// Phone is a valid phone number, kept in E.164 form (+33612345678).
type Phone struct{ e164 string }

// ParsePhone accepts an international number (+33612345678) or a French
// national one (06 12 34 56 78, 01.23.45.67.89), with spaces, dots, hyphens,
// slashes or parentheses between digits, at most 32 characters. The number
// must be valid for its country.
func ParsePhone(s string) (Phone, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Phone{}, Invalid("phone", msgRequired)
	}
	if len(s) > phoneMaxInput {
		return Phone{}, Invalid("phone", "is too long for a phone number (at most 32 characters)")
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == ' ' || r == '.' || r == '-' || r == '/' || r == '(' || r == ')':
		default:
			return Phone{}, Invalid("phone", msgPhone)
		}
	}
	if digits == 0 {
		return Phone{}, Invalid("phone", msgPhone)
	}
	n, err := phonenumbers.Parse(s, phoneRegion)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return Phone{}, Invalid("phone", msgPhone)
	}
	return Phone{e164: phonenumbers.Format(n, phonenumbers.E164)}, nil
}

// MustParsePhone is ParsePhone for tests and constants; it panics on error.
func MustParsePhone(s string) Phone {
	p, err := ParsePhone(s)
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the E.164 form, or "" when absent.
func (p Phone) String() string { return p.e164 }

// IsZero reports whether the phone is absent.
func (p Phone) IsZero() bool { return p.e164 == "" }

// MarshalJSON writes the E.164 form as a JSON string (null when absent).
func (p Phone) MarshalJSON() ([]byte, error) { return marshalValue(p.e164) }

// UnmarshalJSON reads a JSON string and validates it with ParsePhone.
func (p *Phone) UnmarshalJSON(b []byte) error { return unmarshalValue(b, p, "phone", ParsePhone) }

// =============================================================================
// Side

// Side is the side of the network an organization is on. The set is closed:
// SideClient and SideSubcontractor.
type Side struct{ s string }

// The sides.
var (
	SideClient        = Side{"client"}
	SideSubcontractor = Side{"subcontractor"}
)

// ParseSide accepts exactly "client" or "subcontractor".
func ParseSide(s string) (Side, error) {
	switch s {
	case SideClient.s:
		return SideClient, nil
	case SideSubcontractor.s:
		return SideSubcontractor, nil
	case "":
		return Side{}, Invalid("side", msgRequired)
	}
	return Side{}, Invalid("side", `must be "client" or "subcontractor"`)
}

// MustParseSide is ParseSide for tests and constants; it panics on error.
func MustParseSide(s string) Side {
	v, err := ParseSide(s)
	if err != nil {
		panic(err)
	}
	return v
}

// Opposite returns the other side; the absent side stays absent.
func (s Side) Opposite() Side {
	switch s {
	case SideClient:
		return SideSubcontractor
	case SideSubcontractor:
		return SideClient
	}
	return Side{}
}

// String returns "client", "subcontractor", or "" when absent.
func (s Side) String() string { return s.s }

// IsZero reports whether the side is absent.
func (s Side) IsZero() bool { return s.s == "" }

// MarshalJSON writes the side as a JSON string (null when absent).
func (s Side) MarshalJSON() ([]byte, error) { return marshalValue(s.s) }

// UnmarshalJSON reads a JSON string and validates it with ParseSide.
func (s *Side) UnmarshalJSON(b []byte) error { return unmarshalValue(b, s, "side", ParseSide) }

// =============================================================================
// Role

// Role is a member's role in an organization. The set is closed.
type Role struct{ s string }

// The roles.
var (
	RoleOwner        = Role{"owner"}
	RoleAdmin        = Role{"admin"}
	RoleMember       = Role{"member"}
	RoleAccountant   = Role{"accountant"}
	RoleCollaborator = Role{"collaborator"}
)

// ParseRole accepts exactly "owner", "admin", "member", "accountant" or
// "collaborator".
func ParseRole(s string) (Role, error) {
	switch s {
	case RoleOwner.s:
		return RoleOwner, nil
	case RoleAdmin.s:
		return RoleAdmin, nil
	case RoleMember.s:
		return RoleMember, nil
	case RoleAccountant.s:
		return RoleAccountant, nil
	case RoleCollaborator.s:
		return RoleCollaborator, nil
	case "":
		return Role{}, Invalid("role", msgRequired)
	}
	return Role{}, Invalid("role", `must be one of "owner", "admin", "member", "accountant" or "collaborator"`)
}

// MustParseRole is ParseRole for tests and constants; it panics on error.
func MustParseRole(s string) Role {
	v, err := ParseRole(s)
	if err != nil {
		panic(err)
	}
	return v
}

// String returns the role's name, or "" when absent.
func (r Role) String() string { return r.s }

// IsZero reports whether the role is absent.
func (r Role) IsZero() bool { return r.s == "" }

// MarshalJSON writes the role as a JSON string (null when absent).
func (r Role) MarshalJSON() ([]byte, error) { return marshalValue(r.s) }

// UnmarshalJSON reads a JSON string and validates it with ParseRole.
func (r *Role) UnmarshalJSON(b []byte) error { return unmarshalValue(b, r, "role", ParseRole) }

// =============================================================================
// ContractID

const (
	contractIDMaxLength = 128
	msgContractID       = "must be 1 to 128 characters among letters, digits and . _ : -"
)

// ContractID is the identifier of a contract in the client's own system.
type ContractID struct{ id string }

// ParseContractID accepts 1 to 128 characters among A-Z, a-z, 0-9 and
// . _ : - (nothing is trimmed).
func ParseContractID(s string) (ContractID, error) {
	if s == "" {
		return ContractID{}, Invalid("contract_id", msgRequired)
	}
	if len(s) > contractIDMaxLength {
		return ContractID{}, Invalid("contract_id", msgContractID)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == ':' || c == '-'
		if !ok {
			return ContractID{}, Invalid("contract_id", msgContractID)
		}
	}
	return ContractID{id: s}, nil
}

// MustParseContractID is ParseContractID for tests and constants; it panics
// on error.
func MustParseContractID(s string) ContractID {
	v, err := ParseContractID(s)
	if err != nil {
		panic(err)
	}
	return v
}

// String returns the identifier, or "" when absent.
func (c ContractID) String() string { return c.id }

// IsZero reports whether the identifier is absent.
func (c ContractID) IsZero() bool { return c.id == "" }

// MarshalJSON writes the identifier as a JSON string (null when absent).
func (c ContractID) MarshalJSON() ([]byte, error) { return marshalValue(c.id) }

// UnmarshalJSON reads a JSON string and validates it with ParseContractID.
func (c *ContractID) UnmarshalJSON(b []byte) error {
	return unmarshalValue(b, c, "contract_id", ParseContractID)
}

// =============================================================================
// Organization name and company

const organizationNameMaxRunes = 200

// ParseOrganizationName trims s and accepts 1 to 200 characters without
// control characters.
func ParseOrganizationName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Invalid("name", msgRequired)
	}
	if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", Invalid("name", "must not contain control characters (such as line breaks or tabs)")
	}
	if utf8.RuneCountInString(s) > organizationNameMaxRunes {
		return "", Invalid("name", "is too long (at most 200 characters)")
	}
	return s, nil
}

// NormalizeCompany is the form in which portal users' companies are compared:
// trimmed, runs of white space collapsed to one space, lower-cased.
func NormalizeCompany(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}
