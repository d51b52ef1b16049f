package api

import (
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"partners/domain"
)

// What a query parameter or a path segment may hold at most, in bytes.
// Every legitimate value is far shorter: a cursor is at most 512
// characters, a search 200 characters, a user id 128 characters (up to 512
// bytes); anything longer is refused before a handler reads it.
const (
	maxQueryValueBytes = 1024
	maxPathValueBytes  = 512
)

// checkInput refuses, naming it, any query parameter or path segment that
// holds broken UTF-8, a NUL or another control character, or is absurdly
// long: PostgreSQL refuses NUL and broken UTF-8 in text, so such a value
// must be the caller's 422, never reach a query and come back as our 500.
// Handlers still check what each value means.
func (s *Server) checkInput(c *gin.Context) {
	var v domain.Validation
	for _, p := range c.Params {
		if !SaneValue(p.Value, maxPathValueBytes) {
			v.Add(p.Key, "must be at most 512 bytes of valid UTF-8 without control characters")
		}
	}
	query := c.Request.URL.Query()
	for _, key := range slices.Sorted(maps.Keys(query)) {
		values := query[key]
		name := key
		if !SaneValue(key, 64) {
			name = "query"
		}
		for _, val := range values {
			if name == "query" || !SaneValue(val, maxQueryValueBytes) {
				v.Add(name, "must be at most 1024 bytes of valid UTF-8 without control characters")
				break
			}
		}
	}
	if err := v.Err(); err != nil {
		writeProblem(c, err)
		return
	}
	c.Next()
}

// SaneValue is text a query may carry: valid UTF-8, no control character,
// at most max bytes. The web's pages hold their parameters to it too.
func SaneValue(s string, max int) bool {
	return len(s) <= max && utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0
}
