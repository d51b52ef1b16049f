package domain

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"

	"github.com/google/uuid"
)

// Event is a fact that happened. Its type name is stable and never derived
// from a Go package path; renaming a Go type must not change it.
type Event interface {
	EventType() string
}

// Organizational is implemented by events that touch organizations: the
// audit log of each organization named lists the event.
type Organizational interface {
	OrganizationIDs() []uuid.UUID
}

// EventSpec describes one event type: how to make an empty value to decode
// into, its current schema version, and the upcasters that turn the payload
// of each older version into the next one.
type EventSpec struct {
	// Type is the value's EventType, filled in by register: the name is
	// spelled once, in the event's EventType method.
	Type    string
	Version int
	New     func() Event
	// Upcast[v] turns a version-v payload into a version v+1 payload. It
	// works on the stored JSON, so it must not need sealed personal fields'
	// contents (it may move them around whole).
	Upcast map[int]func(json.RawMessage) (json.RawMessage, error)
}

var registry = map[string]EventSpec{}

// register records an event type; called from the aggregates' init.
func register(spec EventSpec) {
	spec.Type = spec.New().EventType()
	if spec.Version == 0 {
		spec.Version = 1
	}
	if _, dup := registry[spec.Type]; dup {
		panic("domain: event type registered twice: " + spec.Type)
	}
	for v := 1; v < spec.Version; v++ {
		if spec.Upcast[v] == nil {
			panic(fmt.Sprintf("domain: event %s v%d has no upcaster to v%d", spec.Type, v, v+1))
		}
	}
	registry[spec.Type] = spec
}

// LookupEvent returns the spec of a registered event type.
func LookupEvent(eventType string) (EventSpec, bool) {
	s, ok := registry[eventType]
	return s, ok
}

// EventTypes lists every registered event type, sorted.
func EventTypes() []string {
	out := make([]string, 0, len(registry))
	for t := range registry {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// DecodeEvent turns a stored payload of the given schema version into the
// current Go value, upcasting first.
func DecodeEvent(eventType string, version int, payload json.RawMessage) (Event, error) {
	spec, ok := registry[eventType]
	if !ok {
		return nil, fmt.Errorf("unknown event type %q", eventType)
	}
	if version > spec.Version {
		return nil, fmt.Errorf("event %s has schema version %d, newer than this build's %d", eventType, version, spec.Version)
	}
	for v := version; v < spec.Version; v++ {
		var err error
		if payload, err = spec.Upcast[v](payload); err != nil {
			return nil, fmt.Errorf("upcast %s v%d: %w", eventType, v, err)
		}
	}
	ptr := spec.New()
	if err := json.Unmarshal(payload, ptr); err != nil {
		return nil, fmt.Errorf("decode %s: %w", eventType, err)
	}
	// Specs hand out pointers to decode into; aggregates switch on values.
	if v := reflect.ValueOf(ptr); v.Kind() == reflect.Pointer {
		if e, ok := v.Elem().Interface().(Event); ok {
			return e, nil
		}
	}
	return ptr, nil
}
