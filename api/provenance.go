package api

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"partners/domain"
	"partners/projections"
)

// Provenance (issue 21): why a person may do something, in which intervals
// they held which role, and who could see a contract when, each with the
// events that made it so. An auditor's questions, so audit.read; answered
// from the organization's own streams (app.OrganizationRecord), folded by
// the domain as /authorize folds them, never from a read model.

func (s *Server) provenanceRoutes(v1 *gin.RouterGroup) {
	audit := reads{member: domain.ActionAuditRead}
	s.get(v1, "/organizations/:org/members/:user_id/history", audit, s.memberHistory)
	s.get(v1, "/organizations/:org/contracts/:contract_id/access", audit, s.contractAccess)
}

// causeView is an event an answer rests on.
type causeView struct {
	EventID    uuid.UUID `json:"event_id"`
	Type       string    `json:"type"`
	Position   int64     `json:"position"`
	OccurredAt time.Time `json:"occurred_at"`
	Actor      ActorView `json:"actor"`
	Summary    string    `json:"summary"`
}

func viewCause(c domain.Cause) causeView {
	return causeView{EventID: c.EventID, Type: c.Type, Position: c.Position, OccurredAt: c.OccurredAt.UTC(),
		Actor: ActorView{UserID: c.Actor.UserID, Email: c.Actor.Email.Value}, Summary: c.Summary}
}

func viewCauses(cs []domain.Cause) []causeView {
	out := make([]causeView, len(cs))
	for i, c := range cs {
		out[i] = viewCause(c)
	}
	return out
}

func viewClosing(c *domain.Cause) *causeView {
	if c == nil {
		return nil
	}
	v := viewCause(*c)
	return &v
}

func utcOrNil(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// =============================================================================
// Explain an answer of /authorize

// explainedAuthorization answers /authorize from the organization's events
// up to at (all of them when zero), with the events the answer rests on when
// explain is set. Explaining shows who did what when: audit.read.
func (s *Server) explainedAuthorization(c *gin.Context, userID string, action domain.Action, at time.Time, explain bool) (any, error) {
	if d := domain.Authorize(scopeOf(c).grant, domain.ActionAuditRead); explain && !d.Allowed {
		return nil, (&domain.Error{Code: domain.CodeNotAllowed,
			Message: "Explaining an answer shows who did what and when: your role does not allow this (" + d.Reason + ")."}).
			With("action", string(domain.ActionAuditRead))
	}
	evs, err := s.cfg.App.OrganizationRecord(c.Request.Context(), orgOf(c))
	if err != nil {
		return nil, err
	}
	if !at.IsZero() {
		evs = domain.RecordedUntil(evs, at)
	}
	ex := domain.Explain(evs, userID, action)
	view := authorizationView{Allowed: ex.Decision.Allowed, Reason: ex.Decision.Reason}
	if ex.Grant.Role != "" {
		view.Role = &ex.Grant.Role
	}
	if explain {
		because := viewCauses(ex.Because)
		view.Because = &because
	}
	return view, nil
}

// explainParam reads ?explain= (true or false).
func explainParam(c *gin.Context) (bool, error) {
	raw := c.Query("explain")
	if raw == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(raw)
	if err != nil {
		return false, domain.Invalid("explain", "must be true or false")
	}
	return b, nil
}

// =============================================================================
// A person's access history

type grantIntervalView struct {
	Role            string     `json:"role"`
	CanPurchase     bool       `json:"can_purchase"`
	CanSeeAllOrders bool       `json:"can_see_all_orders"`
	From            time.Time  `json:"from"`
	To              *time.Time `json:"to"`
	OpenedBy        causeView  `json:"opened_by"`
	ClosedBy        *causeView `json:"closed_by"`
}

func (s *Server) memberHistory(c *gin.Context) (any, error) {
	userID, err := pathUserID(c, "member")
	if err != nil {
		return nil, err
	}
	evs, err := s.cfg.App.OrganizationRecord(c.Request.Context(), orgOf(c))
	if err != nil {
		return nil, err
	}
	var rows []grantIntervalView
	for _, h := range domain.MemberHistory(evs, userID) {
		rows = append(rows, grantIntervalView{Role: h.Grant.Role, CanPurchase: h.Grant.CanPurchase, CanSeeAllOrders: h.Grant.CanSeeAllOrders,
			From: h.From.UTC(), To: utcOrNil(h.To), OpenedBy: viewCause(h.OpenedBy), ClosedBy: viewClosing(h.ClosedBy)})
	}
	// The file is named after the organization: a user id is any string,
	// quotes included, and stays out of the header.
	return provenancePage(c, "member-history-"+orgOf(c).String(), rows, provenanceTable[grantIntervalView]{
		parts: 1,
		key:   func(r grantIntervalView) []string { return []string{strconv.FormatInt(r.OpenedBy.Position, 10)} },
		header: append([]string{"role", "can_purchase", "can_see_all_orders", "from", "to"},
			append(causeColumns("opened_by"), causeColumns("closed_by")...)...),
		row: func(r grantIntervalView) []string {
			return append([]string{r.Role, strconv.FormatBool(r.CanPurchase), strconv.FormatBool(r.CanSeeAllOrders), timeCell(&r.From), timeCell(r.To)},
				append(causeCells(&r.OpenedBy), causeCells(r.ClosedBy)...)...)
		},
	})
}

// =============================================================================
// Who could see a contract

type viewerView struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

type accessIntervalView struct {
	Who      viewerView `json:"who"`
	As       string     `json:"as"`
	From     time.Time  `json:"from"`
	To       *time.Time `json:"to"`
	OpenedBy causeView  `json:"opened_by"`
	ClosedBy *causeView `json:"closed_by"`
}

// contractAccess lists every interval in which someone could see the
// contract at some instant of [from, to] (either bound may be left out).
func (s *Server) contractAccess(c *gin.Context) (any, error) {
	_, contract, err := pathContract(c)
	if err != nil {
		return nil, err
	}
	var v domain.Validation
	from := timeParam(c, &v, "from")
	to := timeParam(c, &v, "to")
	v.Check(!from.IsZero() && !to.IsZero() && to.Before(from), "to", "must not be before from")
	if err := v.Err(); err != nil {
		return nil, err
	}
	ctx := c.Request.Context()
	orgEvs, err := s.cfg.App.OrganizationRecord(ctx, orgOf(c))
	if err != nil {
		return nil, err
	}
	shareEvs, err := s.cfg.App.ContractShareRecord(ctx, orgOf(c), contract)
	if err != nil {
		return nil, err
	}
	var rows []accessIntervalView
	for _, a := range domain.ContractAccess(orgEvs, shareEvs) {
		if a.Overlaps(from, to) {
			rows = append(rows, accessIntervalView{Who: viewerView{Kind: a.Who.Kind, ID: a.Who.ID, Name: a.Who.Name.Value}, As: a.As,
				From: a.From.UTC(), To: utcOrNil(a.To), OpenedBy: viewCause(a.OpenedBy), ClosedBy: viewClosing(a.ClosedBy)})
		}
	}
	return provenancePage(c, "contract-access-"+contract.String(), rows, provenanceTable[accessIntervalView]{
		parts: 3,
		key: func(r accessIntervalView) []string {
			return []string{strconv.FormatInt(r.OpenedBy.Position, 10), r.Who.Kind, r.Who.ID}
		},
		header: append([]string{"who_kind", "who_id", "who_name", "as", "from", "to"},
			append(causeColumns("opened_by"), causeColumns("closed_by")...)...),
		row: func(r accessIntervalView) []string {
			return append([]string{r.Who.Kind, r.Who.ID, r.Who.Name, r.As, timeCell(&r.From), timeCell(r.To)},
				append(causeCells(&r.OpenedBy), causeCells(r.ClosedBy)...)...)
		},
	})
}

// timeParam reads an optional RFC 3339 query parameter; zero when absent.
func timeParam(c *gin.Context, v *domain.Validation, name string) time.Time {
	raw := c.Query(name)
	if raw == "" {
		return time.Time{}
	}
	if len(raw) > 64 {
		v.Add(name, "must be an RFC 3339 time such as 2026-03-01T12:00:00Z")
		return time.Time{}
	}
	t, err := parseTime(name, raw)
	if err != nil {
		v.Add(name, "must be an RFC 3339 time such as 2026-03-01T12:00:00Z")
	}
	return t
}

// =============================================================================
// Pages and CSV

// provenanceTable says how a provenance answer's rows are paged (their key,
// in the order the domain lists them: the opening event's position first)
// and written as CSV.
type provenanceTable[T any] struct {
	parts  int // of the key
	key    func(T) []string
	header []string
	row    func(T) []string
}

// provenancePage answers rows after ?cursor=: a page of ?limit= as JSON, or
// every row as CSV (?format=csv), as the audit log does.
func provenancePage[T any](c *gin.Context, name string, rows []T, tbl provenanceTable[T]) (any, error) {
	var v domain.Validation
	format := c.DefaultQuery("format", "json")
	v.Check(format != "json" && format != "csv", "format", "must be json or csv")
	p, err := pageOf(c, tbl.parts)
	if err != nil {
		return nil, err
	}
	if p.After != nil {
		_, perr := strconv.ParseInt(keyString(p.After[0]), 10, 64)
		v.Check(perr != nil, "cursor", "is not a cursor this service returned")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	start := 0
	if p.After != nil {
		for start < len(rows) && !keyAfter(tbl.key(rows[start]), p.After) {
			start++
		}
	}
	rows = rows[start:]
	if format == "csv" {
		w := c.Writer
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		w.WriteHeader(http.StatusOK)
		cw := csv.NewWriter(w)
		_ = cw.Write(tbl.header)
		for _, r := range rows {
			_ = cw.Write(tbl.row(r))
		}
		cw.Flush()
		return streamed{}, nil
	}
	var next string
	if len(rows) > p.Limit {
		rows = rows[:p.Limit]
		key := tbl.key(rows[p.Limit-1])
		parts := make([]any, len(key))
		for i, k := range key {
			parts[i] = k
		}
		next = projections.EncodeCursor(parts...)
	}
	if rows == nil {
		rows = []T{}
	}
	return listOf(rows, next), nil
}

// keyAfter reports whether a row's key (an event position, then strings)
// comes after a cursor's.
func keyAfter(key []string, after []any) bool {
	pos, _ := strconv.ParseInt(key[0], 10, 64)
	if apos, _ := strconv.ParseInt(keyString(after[0]), 10, 64); pos != apos {
		return pos > apos
	}
	for i := 1; i < len(key); i++ {
		if a := keyString(after[i]); key[i] != a {
			return key[i] > a
		}
	}
	return false
}

// causeColumns are the CSV columns of an event an answer rests on.
func causeColumns(prefix string) []string {
	out := []string{}
	for _, c := range []string{"event_id", "type", "position", "occurred_at", "actor_user_id", "actor_email", "summary"} {
		out = append(out, prefix+"_"+c)
	}
	return out
}

func causeCells(c *causeView) []string {
	if c == nil {
		return make([]string, 7)
	}
	return []string{c.EventID.String(), c.Type, strconv.FormatInt(c.Position, 10), timeCell(&c.OccurredAt),
		c.Actor.UserID, c.Actor.Email, c.Summary}
}

func timeCell(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// =============================================================================
// OpenAPI

var (
	causeSchema = obj([]string{"event_id", "type", "position", "occurred_at", "actor", "summary"}, schema{
		"event_id": str("uuid"), "type": str(""), "position": integer, "occurred_at": str("date-time"),
		"actor":   obj([]string{"user_id", "email"}, schema{"user_id": str(""), "email": emailStr()}),
		"summary": str(""),
	})
	provenanceComponents = schema{
		"Cause": causeSchema,
		"GrantInterval": obj([]string{"role", "can_purchase", "can_see_all_orders", "from", "to", "opened_by", "closed_by"}, schema{
			"role": roleEnum, "can_purchase": boolean, "can_see_all_orders": boolean, "from": str("date-time"), "to": nullable(str("date-time")),
			"opened_by": ref("Cause"), "closed_by": nullable(ref("Cause")),
		}),
		"ContractAccess": obj([]string{"who", "as", "from", "to", "opened_by", "closed_by"}, schema{
			"who": obj([]string{"kind", "id", "name"}, schema{"kind": enum(domain.AccessKindPortalUser, domain.AccessKindMember), "id": str(""),
				"name": schema{"type": "string", "description": "the name, or " + domain.Forgotten + " once its person is forgotten"}}),
			// Plain strings with a pattern, not enums: the generated client names
			// an enum's values after them, and these would collide with the
			// portal's and the audit log's (Requester, Csv…).
			"as": schema{"type": "string", "pattern": "^(requester|watcher|owner|admin|member|accountant)$",
				"description": "requester or watcher (a portal user), or the member's role (owner, admin, member, accountant)"},
			"from": str("date-time"), "to": nullable(str("date-time")),
			"opened_by": ref("Cause"), "closed_by": nullable(ref("Cause")),
		}),
	}
	provenanceCSV = func(what string) map[string]schema {
		return map[string]schema{"text/csv": {"type": "string", "description": "format=csv: a header row, then one row per " + what}}
	}
	provenanceEndpoints = []endpoint{
		{method: "GET", path: "/v1/organizations/{org}/members/{user_id}/history",
			summary: "Every interval in which the person held a role or flags here, with the events that opened and closed it (audit.read)",
			status:  200, response: listOfSchema(ref("GrantInterval")), media: provenanceCSV("interval"),
			query: []string{"limit", "cursor", "provenance_format"}},
		{method: "GET", path: "/v1/organizations/{org}/contracts/{contract_id}/access",
			summary: "Every interval in which someone could see the contract at some instant of [from, to]: its requester and watchers, and the members whose role reads the portal while it was shown (audit.read)",
			status:  200, response: listOfSchema(ref("ContractAccess")), media: provenanceCSV("interval"),
			query: []string{"from", "to", "limit", "cursor", "provenance_format"}},
	}
)
