package domain

import (
	"encoding/json"
	"errors"
)

// PersonRef names a person for the purpose of forgetting them: a keyed hash
// of their normalized email, computed outside the domain. It is what lookups
// by email compare, so the clear address never has to.
type PersonRef string

// Forgotten is what a forgotten person's data reads as, everywhere.
const Forgotten = "[forgotten]"

// Personal is a piece of personal data (an email, a name, a phone number, a
// personal message) together with the person it belongs to. The event store
// seals it with that person's key; once the person is forgotten it reads as
// Forgotten and IsForgotten reports true.
type Personal struct {
	Owner     PersonRef
	Value     string
	forgotten bool
}

// PersonalOf builds a Personal value.
func PersonalOf(owner PersonRef, value string) Personal {
	return Personal{Owner: owner, Value: value}
}

// ForgottenOf is the value of a person's data once their key is gone.
func ForgottenOf(owner PersonRef) Personal {
	return Personal{Owner: owner, Value: Forgotten, forgotten: true}
}

// IsForgotten reports whether the owner's key was destroyed.
func (p Personal) IsForgotten() bool { return p.forgotten }

// String returns the value, or Forgotten.
func (p Personal) String() string { return p.Value }

// personalJSON is the clear form inside the process. The event store
// replaces it with a sealed form before anything is written anywhere.
type personalJSON struct {
	Owner     PersonRef `json:"pd"`
	Value     *string   `json:"v,omitempty"`
	Forgotten bool      `json:"forgotten,omitempty"`
}

// MarshalJSON writes the in-process clear form {"pd": owner, "v": value}.
func (p Personal) MarshalJSON() ([]byte, error) {
	if p.Owner == "" && p.Value == "" {
		return []byte("null"), nil
	}
	if p.Owner == "" {
		return nil, errors.New("personal data without an owner")
	}
	if p.forgotten {
		return json.Marshal(personalJSON{Owner: p.Owner, Forgotten: true})
	}
	v := p.Value
	return json.Marshal(personalJSON{Owner: p.Owner, Value: &v})
}

// UnmarshalJSON reads the clear or forgotten form.
func (p *Personal) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*p = Personal{}
		return nil
	}
	var j personalJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.Forgotten || j.Value == nil {
		*p = ForgottenOf(j.Owner)
		return nil
	}
	*p = Personal{Owner: j.Owner, Value: *j.Value}
	return nil
}

// withValue is another value owned by the same person.
func (p Personal) withValue(v string) Personal { return Personal{Owner: p.Owner, Value: v} }
