package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"partners/domain"
)

// decodeJSON reads a JSON object body into v: malformed JSON is 400, a value
// of the wrong type is 422 naming the field, too large is 413.
func decodeJSON(c *gin.Context, v any) error {
	body, err := io.ReadAll(c.Request.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return edge(codeBodyTooLarge, fmt.Sprintf("The request body is larger than %d bytes.", tooLarge.Limit))
	}
	if err != nil {
		return edge(codeMalformed, "The request body could not be read.")
	}
	return decodeBody(body, v)
}

// decodeBody is decodeJSON's pure part (fuzzed).
func decodeBody(body []byte, v any) error {
	trimmed := strings.TrimSpace(string(body))
	if trimmed == "" {
		trimmed = "{}"
	}
	if trimmed[0] != '{' {
		return edge(codeMalformed, "The request body must be a JSON object.")
	}
	dec := json.NewDecoder(strings.NewReader(trimmed))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := te.Field
			if field == "" {
				field = "body"
			}
			return domain.Invalid(field, "must be a "+jsonKind(te.Type.Kind().String()))
		}
		var de *domain.Error
		if errors.As(err, &de) {
			return de
		}
		return edge(codeMalformed, "The request body is not valid JSON.")
	}
	if dec.More() {
		return edge(codeMalformed, "The request body must hold one JSON object.")
	}
	return nil
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "list"
	case "map", "struct":
		return "object"
	default:
		return "number"
	}
}

// pathUUID reads a path parameter that must be a UUID; anything else names
// nothing, so it is "not found".
func pathUUID(c *gin.Context, name string, what string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param(name))
	if err != nil || id == uuid.Nil {
		return uuid.Nil, domain.Errorf(domain.CodeNotFound, "No such %s.", what)
	}
	return id, nil
}

// parseTime reads an RFC 3339 instant.
func parseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, domain.Invalid(field, "must be an RFC 3339 time such as 2026-03-01T12:00:00Z")
	}
	return t.UTC(), nil
}
