package eventstore

import (
	"bytes"
	"encoding/json"
)

// Personal values travel inside event documents as small flat objects named
// by their "pd" (person ref) member: {"pd", "v"} in clear, {"pd", "sk", "sv"}
// sealed, {"pd", "forgotten"} once the key is gone. Sealing, opening and
// listing them only ever touches those objects, so they are found by one
// pass over the bytes instead of decoding whole documents into maps: a
// quote that is not a delimiter is always escaped in JSON, so outside a
// string every brace is structure.

var refMember = []byte(`"pd"`)

// eachPersonal calls fn with every personal object of doc (a flat object
// with a string "pd" member), in document order. fn returns the object's
// replacement, or nil to keep it. The result is doc itself when nothing
// was replaced.
func eachPersonal(doc []byte, fn func(p personalObject) ([]byte, error)) ([]byte, error) {
	if !bytes.Contains(doc, refMember) {
		return doc, nil
	}
	var out []byte
	last := 0
	inString := false
	open := -1 // start of the innermost object while it holds no object or array
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{':
			open = i
		case '[':
			open = -1
		case '}':
			if open < 0 {
				continue
			}
			obj := doc[open : i+1]
			start := open
			open = -1
			if !bytes.Contains(obj, refMember) {
				continue
			}
			p, ok := parsePersonal(obj)
			if !ok {
				continue
			}
			repl, err := fn(p)
			if err != nil {
				return nil, err
			}
			if repl == nil {
				continue
			}
			if out == nil {
				out = make([]byte, 0, len(doc)+64)
			}
			out = append(out, doc[last:start]...)
			out = append(out, repl...)
			last = i + 1
		}
	}
	if out == nil {
		return doc, nil
	}
	return append(out, doc[last:]...), nil
}

// personalObject is a personal value in one of its three forms, as read by
// parsePersonal and written back as JSON.
type personalObject struct {
	Ref       string  `json:"pd"`
	Value     *string `json:"v,omitempty"`
	KeyID     string  `json:"sk,omitempty"`
	Sealed    string  `json:"sv,omitempty"`
	Forgotten bool    `json:"forgotten,omitempty"`
}

func (p personalObject) bytes() []byte {
	b, _ := json.Marshal(p) // strings and a bool: cannot fail
	return b
}

// parsePersonal reads a flat object's members into a personalObject; ok is
// false unless it holds a string "pd". Flat objects are what eachPersonal
// found between an unquoted '{' and '}', so only strings and literals
// appear as values.
func parsePersonal(obj []byte) (p personalObject, ok bool) {
	end := len(obj) - 1 // the closing brace
	i := 1
	hasRef := false
	for {
		i = skipSpace(obj, i)
		if i >= end {
			return p, hasRef
		}
		if obj[i] == ',' {
			i++
			continue
		}
		key, next, ok := readString(obj, i)
		if !ok {
			return p, false
		}
		i = skipSpace(obj, next)
		if i >= end || obj[i] != ':' {
			return p, false
		}
		i = skipSpace(obj, i+1)
		if i < end && obj[i] == '"' {
			val, next, ok := readString(obj, i)
			if !ok {
				return p, false
			}
			i = next
			switch key {
			case "pd":
				p.Ref, hasRef = val, true
			case "v":
				p.Value = &val
			case "sk":
				p.KeyID = val
			case "sv":
				p.Sealed = val
			}
			continue
		}
		j := i
		for j < end && obj[j] != ',' && !isSpace(obj[j]) {
			j++
		}
		if key == "forgotten" {
			p.Forgotten = string(obj[i:j]) == "true"
		} else if key == "pd" {
			return p, false // not a string: not a personal value
		}
		i = j
	}
}

// readString reads the JSON string starting at obj[i] (a quote) and
// returns it with the index after its closing quote.
func readString(obj []byte, i int) (string, int, bool) {
	if i >= len(obj) || obj[i] != '"' {
		return "", i, false
	}
	escaped := false
	for j := i + 1; j < len(obj); j++ {
		switch obj[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			if !escaped {
				return string(obj[i+1 : j]), j + 1, true
			}
			var s string
			if err := json.Unmarshal(obj[i:j+1], &s); err != nil {
				return "", j + 1, false
			}
			return s, j + 1, true
		}
	}
	return "", len(obj), false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(obj []byte, i int) int {
	for i < len(obj) && isSpace(obj[i]) {
		i++
	}
	return i
}
