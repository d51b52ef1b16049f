package integration

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The schemas are built from the data types' fields, so that what is
// published and what is documented are one thing: a field's JSON name, its
// Go type, and its enum and desc tags. Every field is required (a pointer is
// required and may be null) and nothing else is allowed: adding a field is
// a new version.

type schema = map[string]any

// SchemaDialect is the JSON Schema dialect of the schemas (AsyncAPI 3's
// default schema format is a superset of it).
const SchemaDialect = "http://json-schema.org/draft-07/schema#"

// SchemaID is the $id of a public event's schema.
func SchemaID(name string) string { return "urn:partners:schema:" + name }

// Schema is the JSON Schema of a public event's message, envelope and data.
func (e PublicEvent) Schema() map[string]any {
	s := obj(schema{
		"id":              schema{"type": "string", "description": "<event_id>:<organization_id>, also the Nats-Msg-Id header"},
		"event_id":        uuidSchema(),
		"type":            schema{"type": "string", "enum": []string{e.Name}},
		"organization_id": schema{"type": "string", "format": "uuid", "description": "the organization this message is for (the subject's)"},
		"occurred_at":     schema{"type": "string", "format": "date-time"},
		"position":        schema{"type": "integer", "minimum": 1, "description": "the event's position in the service's log"},
		"data":            typeSchema(reflect.TypeOf(e.data)),
	})
	s["$schema"] = SchemaDialect
	s["$id"] = SchemaID(e.Name)
	s["title"] = e.Name
	s["description"] = e.Summary + "."
	return s
}

func obj(props schema) schema {
	req := make([]string, 0, len(props))
	for k := range props {
		req = append(req, k)
	}
	slices.Sort(req)
	return schema{"type": "object", "properties": props, "required": req, "additionalProperties": false}
}

func uuidSchema() schema { return schema{"type": "string", "format": "uuid"} }

var (
	uuidType = reflect.TypeOf(uuid.UUID{})
	timeType = reflect.TypeOf(time.Time{})
)

func typeSchema(t reflect.Type) schema {
	switch {
	case t == uuidType:
		return uuidSchema()
	case t == timeType:
		return schema{"type": "string", "format": "date-time"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := typeSchema(t.Elem())
		s["type"] = []any{s["type"], "null"}
		if e, ok := s["enum"].([]string); ok {
			s["enum"] = append(toAny(e), nil)
		}
		return s
	case reflect.String:
		return schema{"type": "string"}
	case reflect.Bool:
		return schema{"type": "boolean"}
	case reflect.Slice:
		return schema{"type": "array", "items": typeSchema(t.Elem())}
	case reflect.Struct:
		props := schema{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			s := typeSchema(f.Type)
			if enum := f.Tag.Get("enum"); enum != "" {
				values := strings.Split(enum, ",")
				if f.Type.Kind() == reflect.Pointer {
					s["enum"] = append(toAny(values), nil)
				} else {
					s["enum"] = values
				}
			}
			if d := f.Tag.Get("desc"); d != "" {
				s["description"] = d
			}
			props[name] = s
		}
		return obj(props)
	}
	panic("integration: no schema for " + t.String())
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// SchemaJSON is a public event's schema as a JSON document.
func (e PublicEvent) SchemaJSON() []byte {
	b, err := json.MarshalIndent(e.Schema(), "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}
