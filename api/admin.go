package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"partners/api/auth"
	"partners/domain"
	"partners/eventstore"
)

func (s *Server) adminRoutes(v1 *gin.RouterGroup) {
	admin := v1.Group("/admin", s.requireAdmin)
	admin.POST("/people/forget", s.command(s.forgetPerson))
	s.get(admin, "/people/disclosures", reads{}, s.disclosures)
	s.get(admin, "/projections", reads{}, s.projectionStatuses)
	s.get(admin, "/streams/:stream/events", reads{}, s.streamEvents)
	s.adminHistoryRoutes(admin)
}

// requireAdmin opens /v1/admin to tokens with the partners:admin scope.
func (s *Server) requireAdmin(c *gin.Context) {
	p, ok := principalOf(c)
	if !ok || !p.HasScope(auth.ScopeAdmin) {
		writeProblem(c, domain.Errorf(domain.CodeNotAllowed, "This needs the partners:admin scope."))
		return
	}
	c.Next()
}

type forgetRequest struct {
	Email *string `json:"email"`
}

type forgottenView struct {
	PersonRef     string `json:"person_ref"`
	KeysDestroyed int    `json:"keys_destroyed"`
	MailFiles     int    `json:"mail_files_deleted"`
	Forgotten     bool   `json:"forgotten"`
}

// forgetPerson erases a person's data everywhere, keeping the history.
func (s *Server) forgetPerson(c *gin.Context, body []byte) (answer, error) {
	var req forgetRequest
	if err := decodeBody(body, &req); err != nil {
		return answer{}, err
	}
	var v domain.Validation
	email := domain.ParseField(&v, "email", deref(req.Email), domain.ParseEmail)
	if err := v.Err(); err != nil {
		return answer{}, err
	}
	f, err := s.cfg.App.ForgetPerson(c.Request.Context(), s.actor(c), email)
	if err != nil {
		return answer{}, err
	}
	view := forgottenView{PersonRef: string(f.Ref), KeysDestroyed: f.KeysDestroyed, Forgotten: true}
	if s.cfg.ForgetMail != nil {
		n, err := s.cfg.ForgetMail(c.Request.Context(), f.Ref)
		if err != nil {
			s.cfg.Log.Error("forgotten person's mail files not all deleted", "person_ref", f.Ref, "err", err)
		}
		view.MailFiles = n
	}
	return answer{status: http.StatusOK, position: f.Result.Position, body: view}, nil
}

func (s *Server) disclosures(c *gin.Context) (any, error) {
	email, err := domain.ParseEmail(c.Query("email"))
	if err != nil {
		return nil, domain.Invalid("email", "must be an email address")
	}
	ref, ds, err := s.cfg.App.Disclosures(c.Request.Context(), email, s.reader().OrganizationNames)
	if err != nil {
		return nil, err
	}
	return gin.H{"person_ref": ref, "organizations": nonNil(ds)}, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Server) projectionStatuses(c *gin.Context) (any, error) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 5*time.Second)
	defer cancel()
	sts, err := s.cfg.Projector.Statuses(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(sts))
	for _, st := range sts {
		out = append(out, s.withRebuild(st))
	}
	if s.cfg.Forwarder != nil {
		st, err := s.cfg.Forwarder.Status(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, projectionView{Status: st})
	}
	return gin.H{"items": out}, nil
}

// EventView is a stored event as people read it.
type EventView struct {
	Position      int64           `json:"position"`
	OccurredAt    time.Time       `json:"occurred_at"`
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schema_version"`
	Actor         ActorView       `json:"actor"`
	Stream        string          `json:"stream"`
	StreamVersion int             `json:"stream_version"`
	Data          json.RawMessage `json:"data"`
	RequestID     string          `json:"request_id,omitempty"`
	CorrelationID string          `json:"correlation_id,omitempty"`
	Command       string          `json:"command,omitempty"`
}

// ActorView is who caused an event.
type ActorView struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
}

func viewEvent(e eventstore.Event) (EventView, error) {
	data, err := eventstore.Plain(e.OpenData)
	if err != nil {
		return EventView{}, err
	}
	return EventView{Position: e.Position, OccurredAt: e.RecordedAt.UTC(), Type: e.Type, SchemaVersion: e.SchemaVersion,
		Actor: ActorView{UserID: e.Meta.Actor.UserID, Email: e.Meta.Actor.Email.Value}, Stream: e.StreamID,
		StreamVersion: e.StreamVersion, Data: data, RequestID: e.Meta.RequestID, CorrelationID: e.Meta.CorrelationID,
		Command: e.Meta.Command}, nil
}

// streamEvents is one stream's events, in order (admin only).
func (s *Server) streamEvents(c *gin.Context) (any, error) {
	stream := c.Param("stream")
	if stream == "" || len(stream) > 300 {
		return nil, domain.Invalid("stream", "must be a stream id such as organization-<uuid>")
	}
	evs, _, err := s.cfg.App.Store.ReadStream(c.Request.Context(), stream)
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 {
		return nil, domain.Errorf(domain.CodeNotFound, "No such stream.")
	}
	out := make([]EventView, 0, len(evs))
	for _, e := range evs {
		v, err := viewEvent(e)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return gin.H{"items": out, "next_cursor": nil}, nil
}

var (
	adminComponents = schema{
		"Event": obj([]string{"position", "occurred_at", "type", "schema_version", "actor", "stream", "stream_version", "data"}, schema{
			"position": integer, "occurred_at": str("date-time"), "type": str(""), "schema_version": integer,
			"actor":  obj([]string{"user_id", "email"}, schema{"user_id": str(""), "email": str("")}),
			"stream": str(""), "stream_version": integer, "data": schema{"type": "object"},
			"request_id": str(""), "correlation_id": str(""), "command": str(""),
		}),
		"ProjectionStatus": obj([]string{"name", "position", "lag_events", "lag_seconds", "state"}, schema{
			"name": str(""), "position": integer, "lag_events": integer, "lag_seconds": schema{"type": "number"}, "state": str(""),
			"rebuild": schema{"type": "object", "nullable": true},
		}),
	}
	adminEndpoints = []endpoint{
		{method: "POST", path: "/v1/admin/people/forget", summary: "Forget a person: destroy their keys, keep the history (admin scope)", command: true,
			request: obj([]string{"email"}, schema{"email": emailIn}), status: 200,
			response: obj([]string{"person_ref", "keys_destroyed", "forgotten"}, schema{"person_ref": str(""), "keys_destroyed": integer, "mail_files_deleted": integer, "forgotten": boolean})},
		{method: "GET", path: "/v1/admin/people/disclosures", summary: "Where a person's data was shown or shared (GDPR article 15; admin scope)", status: 200, query: []string{"email"},
			response: obj([]string{"person_ref", "organizations"}, schema{"person_ref": str(""), "organizations": arr(schema{"type": "object"})})},
		{method: "GET", path: "/v1/admin/projections", summary: "Each read model's position, lag and state, and the NATS forwarder's when it is on (admin scope)", status: 200,
			response: obj([]string{"items"}, schema{"items": arr(ref("ProjectionStatus"))})},
		{method: "GET", path: "/v1/admin/streams/{stream}/events", summary: "One stream's events, in order (admin scope)", status: 200,
			response: listOfSchema(ref("Event"))},
	}
)
