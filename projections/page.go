package projections

import (
	"encoding/base64"
	"encoding/json"
	"errors"
)

// Page asks for one page of a list: at most Limit items after the cursor.
type Page struct {
	Limit int
	After []any // the sort key of the last item of the previous page
}

// ErrBadCursor is returned for a cursor this service did not make.
var ErrBadCursor = errors.New("malformed cursor")

// MaxCursorLength bounds what a client may send as a cursor.
const MaxCursorLength = 512

// DecodeCursor reads an opaque cursor: base64url of a JSON array holding the
// last sort key. want is the number of key parts the list sorts by.
func DecodeCursor(s string, want int) ([]any, error) {
	if s == "" {
		return nil, nil
	}
	if len(s) > MaxCursorLength {
		return nil, ErrBadCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrBadCursor
	}
	var key []any
	if err := json.Unmarshal(raw, &key); err != nil || len(key) != want {
		return nil, ErrBadCursor
	}
	for _, k := range key {
		switch k.(type) {
		case string, float64:
		default:
			return nil, ErrBadCursor
		}
	}
	return key, nil
}

// EncodeCursor makes the cursor that follows an item with that sort key.
func EncodeCursor(key ...any) string {
	b, _ := json.Marshal(key)
	return base64.RawURLEncoding.EncodeToString(b)
}

// str reads a string part of a decoded key.
func str(key []any, i int) string {
	if key == nil {
		return ""
	}
	s, _ := key[i].(string)
	return s
}
