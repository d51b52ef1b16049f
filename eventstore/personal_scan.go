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

// personalWire is every member a personal object can hold.
type personalWire struct {
	Ref       *string `json:"pd"`
	Value     *string `json:"v"`
	KeyID     string  `json:"sk"`
	Sealed    string  `json:"sv"`
	Forgotten bool    `json:"forgotten"`
}

var refMember = []byte(`"pd"`)

// eachPersonal calls fn with every personal object of doc (a flat object
// with a string "pd" member), in document order. fn returns the object's
// replacement, or nil to keep it. The result is doc itself when nothing
// was replaced.
func eachPersonal(doc []byte, fn func(p personalWire) ([]byte, error)) ([]byte, error) {
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
			var p personalWire
			if err := json.Unmarshal(obj, &p); err != nil || p.Ref == nil {
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

// personalObject is the JSON of a personal value in one of its three forms.
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
