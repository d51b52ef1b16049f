package domain

// PersonStreamType is the stream type of persons (for erasure records).
const PersonStreamType = "person"

// PersonStream is the stream recording what happened to a person's data.
func PersonStream(ref PersonRef) string { return "person-" + string(ref) }

// PersonForgotten: a person's keys were destroyed at their request; every
// copy of their data reads as Forgotten from now on. It holds no personal
// data, only the keyed hash that names the person.
type PersonForgotten struct {
	PersonRef     PersonRef `json:"person_ref"`
	KeysDestroyed int       `json:"keys_destroyed"`
}

func (PersonForgotten) EventType() string { return "PersonForgotten" }

func init() {
	register(EventSpec{New: func() Event { return &PersonForgotten{} }})
}
