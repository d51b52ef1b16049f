package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"partners/domain"
)

// The OpenAPI document is built from this table so that it stays next to
// the routes; a test checks both hold the same endpoints.

type schema = map[string]any

func obj(required []string, props schema) schema {
	s := schema{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func str(format string) schema {
	if format == "" {
		return schema{"type": "string"}
	}
	return schema{"type": "string", "format": format}
}

func nullable(s schema) schema {
	c := schema{}
	for k, v := range s {
		c[k] = v
	}
	if t, ok := c["type"].(string); ok {
		c["type"] = []string{t, "null"}
	}
	return c
}

func enum(values ...string) schema { return schema{"type": "string", "enum": values} }
func ref(name string) schema       { return schema{"$ref": "#/components/schemas/" + name} }
func arr(items schema) schema      { return schema{"type": "array", "items": items} }
func listOfSchema(item schema) schema {
	return obj([]string{"items", "next_cursor"}, schema{"items": arr(item), "next_cursor": nullable(str(""))})
}

var (
	boolean = schema{"type": "boolean"}
	integer = schema{"type": "integer"}
)

type endpoint struct {
	method, path, summary string
	public                bool
	command               bool
	request               schema
	status                int
	response              schema
	query                 []string
}

var coreComponents = schema{
	"Problem": obj([]string{"type", "title", "status", "detail", "code"}, schema{
		"type": str("uri"), "title": str(""), "status": integer, "detail": str(""), "code": str(""),
		"errors":  arr(obj([]string{"field", "message"}, schema{"field": str(""), "message": str("")})),
		"details": schema{"type": "object"},
	}),
	"Organization": obj([]string{"id", "name", "side", "siret", "created_at"}, schema{
		"id": str("uuid"), "name": str(""), "side": enum("client", "subcontractor"), "siret": nullable(str("")), "created_at": str("date-time"),
	}),
	"Membership": obj([]string{"organization_id", "name", "side", "role"}, schema{
		"organization_id": str("uuid"), "name": str(""), "side": enum("client", "subcontractor"), "role": str(""),
	}),
	"Member": obj([]string{"user_id", "email", "name", "role", "can_purchase", "can_see_all_orders", "since"}, schema{
		"user_id": str(""), "email": str(""), "name": str(""), "role": enum("owner", "admin", "member", "accountant", "collaborator"),
		"can_purchase": boolean, "can_see_all_orders": boolean, "since": str("date-time"),
	}),
}

// components and endpoints gather every feature's part of the document.
var (
	components = merge(coreComponents, invitationComponents, portalComponents, teamComponents, colleagueComponents,
		authorizeComponents, accountantComponents, collaboratorComponents, adminComponents, historyComponents)
	endpoints = concat(coreEndpoints, invitationEndpoints, portalEndpoints, colleagueEndpoints, authorizeEndpoints,
		accountantEndpoints, collaboratorEndpoints, adminEndpoints, historyEndpoints)
)

func merge(parts ...schema) schema {
	out := schema{}
	for _, p := range parts {
		for k, v := range p {
			if _, dup := out[k]; dup {
				panic("openapi: component defined twice: " + k)
			}
			out[k] = v
		}
	}
	return out
}

func concat(parts ...[]endpoint) []endpoint {
	var out []endpoint
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// coreEndpoints are the operational routes and organizations.
var coreEndpoints = []endpoint{
	{method: "GET", path: "/healthz", summary: "Liveness", public: true, status: 200, response: obj(nil, schema{"status": str("")})},
	{method: "GET", path: "/readyz", summary: "Readiness: database and read models", public: true, status: 200, response: obj(nil, schema{"status": str("")})},
	{method: "GET", path: "/openapi.json", summary: "This document", public: true, status: 200, response: schema{"type": "object"}},
	{method: "POST", path: "/v1/organizations", summary: "Create an organization; the caller becomes its owner", command: true,
		request: obj([]string{"name", "side"}, schema{"name": str(""), "side": enum("client", "subcontractor"), "siret": nullable(str(""))}),
		status:  201, response: ref("Organization")},
	{method: "GET", path: "/v1/organizations/{org}", summary: "An organization, for its members", status: 200, response: ref("Organization")},
	{method: "GET", path: "/v1/me/organizations", summary: "The caller's memberships", status: 200, response: listOfSchema(ref("Membership")), query: []string{"limit", "cursor"}},
	{method: "GET", path: "/v1/organizations/{org}/members", summary: "Members of an organization", status: 200, response: listOfSchema(ref("Member")), query: []string{"limit", "cursor", "as_of"}},
}

var queryParams = map[string]schema{
	"limit":  {"name": "limit", "in": "query", "schema": schema{"type": "integer", "minimum": 1, "maximum": MaxLimit, "default": 50}},
	"cursor": {"name": "cursor", "in": "query", "schema": str("")},
	"as_of":  {"name": "as_of", "in": "query", "description": "answer as of this instant, replayed from the events", "schema": str("date-time")},
	"status": {"name": "status", "in": "query", "schema": enum("sent", "accepted", "declined", "revoked", "expired")},
	"q":      {"name": "q", "in": "query", "description": "part of the partner's name", "schema": str("")},
	"format": {"name": "format", "in": "query", "schema": enum("json", "csv", "jsonl")},
	"email":  {"name": "email", "in": "query", "required": true, "schema": str("email")},
	"company": {"name": "company", "in": "query",
		"description": "only the portal users of this company, compared trimmed and case-insensitively", "schema": str("")},
	"user_id": {"name": "user_id", "in": "query", "description": "the user asked about (default: the caller)", "schema": str("")},
	"action": {"name": "action", "in": "query", "required": true,
		"description": "an action of the permission table", "schema": enum(actionNames()...)},
	"member_invitation_status": {"name": "status", "in": "query", "schema": enum("sent", "accepted", "revoked", "expired")},
	"collaborator_invitation_status": {"name": "status", "in": "query",
		"schema": enum(statusWords(domain.CollaboratorStatuses())...)},
	"request_status": {"name": "status", "in": "query", "description": "default pending",
		"schema": enum(domain.StatusPending, domain.StatusApproved, domain.StatusRejected)},
	"min_position": {"name": "min_position", "in": "query", "description": "wait (at most 5 s) until the read model has applied the event at this position", "schema": schema{"type": "integer", "minimum": 0}},
}

var (
	openAPIOnce sync.Once
	openAPIDoc  []byte
)

func openAPIDocument() []byte {
	openAPIOnce.Do(func() {
		paths := schema{}
		problem := schema{"description": "problem", "content": schema{"application/problem+json": schema{"schema": ref("Problem")}}}
		for _, e := range endpoints {
			op := schema{"summary": e.summary, "operationId": operationID(e)}
			var params []any
			for _, seg := range strings.Split(e.path, "/") {
				if strings.HasPrefix(seg, "{") {
					params = append(params, schema{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": str("")})
				}
			}
			for _, q := range e.query {
				params = append(params, queryParams[q])
			}
			if e.method == "GET" && strings.HasPrefix(e.path, "/v1/") {
				params = append(params, queryParams["min_position"])
			}
			if e.command {
				params = append(params, schema{"name": "Idempotency-Key", "in": "header", "schema": str("")})
			}
			if len(params) > 0 {
				op["parameters"] = params
			}
			if e.request != nil {
				op["requestBody"] = schema{"required": true, "content": schema{"application/json": schema{"schema": e.request}}}
			}
			ok := schema{"description": http.StatusText(e.status)}
			if e.response != nil && e.status != http.StatusNoContent {
				ok["content"] = schema{"application/json": schema{"schema": e.response}}
			}
			if e.command {
				ok["headers"] = schema{"X-Event-Position": schema{"description": "global position of the last event appended", "schema": integer}}
			}
			responses := schema{itoa(e.status): ok, "default": problem}
			op["responses"] = responses
			if !e.public {
				op["security"] = []any{schema{"bearer": []any{}}}
			}
			item, _ := paths[e.path].(schema)
			if item == nil {
				item = schema{}
				paths[e.path] = item
			}
			item[strings.ToLower(e.method)] = op
		}
		doc := schema{
			"openapi": "3.1.0",
			"info":    schema{"title": "partners", "version": "1", "description": "Partner network, invitations and access sharing."},
			"paths":   paths,
			"components": schema{
				"schemas":         components,
				"securitySchemes": schema{"bearer": schema{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
			},
		}
		openAPIDoc, _ = json.MarshalIndent(doc, "", "  ")
	})
	return openAPIDoc
}

func operationID(e endpoint) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(e.method))
	for _, seg := range strings.Split(e.path, "/") {
		seg = strings.Trim(seg, "{}.")
		for _, part := range strings.FieldsFunc(seg, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			if part == "" {
				continue
			}
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func serveOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json; charset=utf-8", openAPIDocument())
}

// statusWords are a closed status type's words, for an enum.
func statusWords[S fmt.Stringer](all []S) []string {
	out := make([]string, len(all))
	for i, st := range all {
		out[i] = st.String()
	}
	return out
}
