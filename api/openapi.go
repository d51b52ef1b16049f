package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"partners/domain"
	"partners/integration"
)

// The OpenAPI document is built from the endpoint tables that sit next to
// each feature's routes; a test checks the tables and the router hold the
// same endpoints, and every test's requests and answers are validated
// against the document (internal/apitest). It is OpenAPI 3.0.3, which
// kin-openapi and oapi-codegen (client/) read fully.

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

// emailStr is an email address as the service answers it. No `format:
// email`: a forgotten person's address reads domain.Forgotten, and inputs
// are trimmed and their domain IDNA-encoded before they are checked.
func emailStr() schema {
	return schema{"type": "string", "description": "an email address, or " + domain.Forgotten + " once its person is forgotten"}
}

// emailIn is an email address a caller sends.
var emailIn = schema{"type": "string", "maxLength": 320,
	"description": "an email address (surrounding spaces are trimmed; the local part is ASCII, the domain may be Unicode)"}

func nullable(s schema) schema {
	if _, isRef := s["$ref"]; isRef { // OpenAPI 3.0 ignores a $ref's siblings
		// nullable needs a type beside it; every referenced schema that may
		// be null is an object
		return schema{"type": "object", "allOf": []any{s}, "nullable": true}
	}
	c := schema{}
	for k, v := range s {
		c[k] = v
	}
	c["nullable"] = true
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

// endpoint is one operation of the document. Each feature's file lists its
// own in a table; a new route needs a row there (the routes test fails
// otherwise).
type endpoint struct {
	method, path, summary string
	// public operations need no token (`security: []`).
	public bool
	// command: Idempotency-Key in, X-Event-Position out, and the command
	// frame's problems (see problemsOf). A command without a request
	// schema accepts an optional JSON object whose fields it ignores.
	command bool
	// request is the JSON body; it is required when the schema requires a
	// field.
	request schema
	// status and response are the success answer; also lists other
	// success statuses with the same body (PUT …/portal: 201 when new).
	status   int
	response schema
	also     []int
	// media are other media types of the success answer, by name.
	media map[string]schema
	// query names the query parameters (queryParams).
	query []string
	// problems are the problem codes the operation answers besides those
	// every operation of its kind answers (problemsOf); their statuses come
	// from statusOf.
	problems []domain.Code
}

// closedCodes answer a token invitation that is no longer open.
var closedCodes = []domain.Code{domain.CodeInvitationAnswered, domain.CodeInvitationRevoked, domain.CodeInvitationExpired}

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
		authorizeComponents, accountantComponents, collaboratorComponents, adminComponents, historyComponents, provenanceComponents)
	endpoints = concat(coreEndpoints, invitationEndpoints, portalEndpoints, colleagueEndpoints, authorizeEndpoints,
		accountantEndpoints, collaboratorEndpoints, adminEndpoints, historyEndpoints, provenanceEndpoints)
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
	{method: "GET", path: "/asyncapi.json", summary: "The AsyncAPI 3 document of the partner events published to NATS JetStream", public: true, status: 200, response: schema{"type": "object"}},
	{method: "POST", path: "/v1/organizations", problems: []domain.Code{domain.CodeSiretTaken}, summary: "Create an organization; the caller becomes its owner", command: true,
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
	"email":  {"name": "email", "in": "query", "required": true, "schema": emailIn},
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
	"explain": {"name": "explain", "in": "query", "description": "name the events the answer rests on (audit.read)", "schema": boolean},
	"from":    {"name": "from", "in": "query", "description": "from this instant (default: the beginning)", "schema": str("date-time")},
	"to":      {"name": "to", "in": "query", "description": "up to this instant (default: now)", "schema": str("date-time")},
	"provenance_format": {"name": "format", "in": "query", "description": "json (a page) or csv (every row from the cursor on)",
		"schema": schema{"type": "string", "pattern": "^(json|csv)$", "default": "json"}},
	"min_position": {"name": "min_position", "in": "query", "description": "wait (at most 5 s) until the read model has applied the event at this position (above the highest position ever assigned: 422 at once)",
		"schema": schema{"type": "integer", "minimum": 0, "maximum": 1 << 53}},
}

// pathParams are the path parameters' schemas, by name.
var pathParams = map[string]schema{
	"org":            str("uuid"),
	"id":             str("uuid"),
	"portal_user_id": str("uuid"),
	"partner_id":     str("uuid"),
	"user_id":        schema{"type": "string", "minLength": 1, "maxLength": 128, "description": "a user id: the token's sub"},
	"contract_id": schema{"type": "string", "minLength": 1, "maxLength": 128, "pattern": `^[A-Za-z0-9._:-]+$`,
		"description": "the caller's own contract id"},
	"stream": str(""),
	"name":   str(""),
}

// problemsOf lists the problem codes e can answer: those of its kind (the
// frame, the authentication, the path's ids) and its own.
func problemsOf(e endpoint) []string {
	var codes []string
	add := func(cs ...string) {
		for _, c := range cs {
			if !slices.Contains(codes, c) {
				codes = append(codes, c)
			}
		}
	}
	switch {
	case e.path == "/readyz":
		add(codeUnavailable)
	case strings.HasPrefix(e.path, "/v1/"):
		add(codeRateLimited, codeUnavailable)
		if !e.public {
			add(codeUnauthorized)
		}
		if e.command || e.request != nil {
			add(codeMalformed, codeBodyTooLarge, string(domain.CodeValidationFailed))
		}
		if e.command {
			add(string(domain.CodeIdempotencyKeyReused), codeRequestInProgress, string(domain.CodeConcurrencyConflict))
		}
		if e.method == http.MethodGet {
			// min_position waits, as-of answers and exports run on the
			// pool of long reads (heavy.go).
			add(string(domain.CodeValidationFailed), codeProjectionBehind, codeBusy)
		}
		if strings.Contains(e.path, "{") {
			// a path segment that is no value (input.go) is named in a 422
			add(string(domain.CodeNotFound), string(domain.CodeValidationFailed))
		}
		if strings.Contains(e.path, "/{org}") || strings.HasPrefix(e.path, "/v1/admin/") || (e.command && !e.public) {
			add(string(domain.CodeNotAllowed))
		}
	}
	for _, c := range e.problems {
		add(string(c))
	}
	return codes
}

// problemResponses are e's problem answers, one per status, each naming
// its codes in the description and in x-problem-codes (which the tests
// check every problem against).
func problemResponses(e endpoint) schema {
	byStatus := map[int][]string{}
	for _, c := range problemsOf(e) {
		st := statusOf[c]
		if st == 0 {
			panic("openapi: problem code without a status: " + c)
		}
		byStatus[st] = append(byStatus[st], c)
	}
	out := schema{}
	for st, codes := range byStatus {
		slices.Sort(codes)
		r := schema{
			"description":     title(st) + ": `" + strings.Join(codes, "`, `") + "`",
			"content":         schema{"application/problem+json": schema{"schema": ref("Problem")}},
			"x-problem-codes": codes,
		}
		switch st {
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			r["headers"] = schema{"Retry-After": schema{"description": "seconds to wait before trying again", "schema": integer}}
		case http.StatusUnauthorized:
			r["headers"] = schema{"WWW-Authenticate": schema{"description": "the bearer challenge", "schema": str("")}}
		}
		out[itoa(st)] = r
	}
	return out
}

func (e endpoint) operation() schema {
	op := schema{"summary": e.summary, "operationId": operationID(e)}
	var params []any
	for _, seg := range strings.Split(e.path, "/") {
		if strings.HasPrefix(seg, "{") {
			name := strings.Trim(seg, "{}")
			ps, ok := pathParams[name]
			if !ok {
				panic("openapi: path parameter without a schema: " + name)
			}
			params = append(params, schema{"name": name, "in": "path", "required": true, "schema": ps})
		}
	}
	for _, q := range e.query {
		qp, ok := queryParams[q]
		if !ok {
			panic("openapi: unknown query parameter: " + q)
		}
		params = append(params, qp)
	}
	if e.method == http.MethodGet && strings.HasPrefix(e.path, "/v1/") {
		params = append(params, queryParams["min_position"])
	}
	if e.command {
		params = append(params, schema{"name": "Idempotency-Key", "in": "header",
			"description": "the same key with the same body answers the first answer again (24 hours)",
			"schema":      schema{"type": "string", "minLength": 1, "maxLength": 255, "pattern": `^[\x21-\x7e]+$`}})
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	switch {
	case e.request != nil:
		req, _ := e.request["required"].([]string)
		op["requestBody"] = schema{"required": len(req) > 0, "content": schema{"application/json": schema{"schema": e.request}}}
	case e.command && e.method != http.MethodDelete:
		op["requestBody"] = schema{"required": false, "description": "nothing, or a JSON object (its fields are ignored)",
			"content": schema{"application/json": schema{"schema": schema{"type": "object"}}}}
	}
	responses := problemResponses(e)
	for _, st := range append([]int{e.status}, e.also...) {
		ok := schema{"description": http.StatusText(st)}
		if e.response != nil && st != http.StatusNoContent {
			content := schema{"application/json": schema{"schema": e.response}}
			for mt, ms := range e.media {
				content[mt] = schema{"schema": ms}
			}
			ok["content"] = content
		}
		if e.command {
			ok["headers"] = schema{
				"X-Event-Position":     schema{"description": "global position of the last event appended (or that the answer reflects)", "required": true, "schema": integer},
				"Idempotency-Replayed": schema{"description": "true when this is the first answer to the same Idempotency-Key, replayed", "schema": enum("true")},
			}
		}
		responses[itoa(st)] = ok
	}
	op["responses"] = responses
	if e.public {
		op["security"] = []any{}
	} else {
		op["security"] = []any{schema{"bearer": []any{}}}
	}
	return op
}

var (
	openAPIOnce sync.Once
	openAPIDoc  []byte
)

func openAPIDocument() []byte {
	openAPIOnce.Do(func() {
		paths := schema{}
		for _, e := range endpoints {
			item, _ := paths[e.path].(schema)
			if item == nil {
				item = schema{}
				paths[e.path] = item
			}
			item[strings.ToLower(e.method)] = e.operation()
		}
		doc := schema{
			"openapi": "3.0.3",
			"info": schema{"title": "partners", "version": "1.1",
				"description": "Partner network, invitations and access sharing. Errors are RFC 9457 problems " +
					"(application/problem+json) with a stable `code`; each operation lists the codes it answers. " +
					"A 500 is a bug on our side, never a judgement of the request.",
				"license": schema{"name": "Proprietary: all rights reserved"}},
			"servers": []any{schema{"url": "http://localhost:8080", "description": "partners serve, in development"}},
			"paths":   paths,
			"components": schema{
				"schemas":         components,
				"securitySchemes": schema{"bearer": schema{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
			},
		}
		openAPIDoc, _ = json.MarshalIndent(doc, "", "  ")
		openAPIDoc = append(openAPIDoc, '\n')
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

// OpenAPI is the document the server serves at /openapi.json, for tools
// (the client generator, the linter) that read it without a server.
func OpenAPI() []byte { return openAPIDocument() }

func serveOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json; charset=utf-8", openAPIDocument())
}

func serveAsyncAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json; charset=utf-8", integration.AsyncAPI())
}

// statusWords are a closed status type's words, for an enum.
func statusWords[S fmt.Stringer](all []S) []string {
	out := make([]string, len(all))
	for i, st := range all {
		out[i] = st.String()
	}
	return out
}
