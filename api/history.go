package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
	"partners/projections"
)

func (s *Server) historyRoutes(v1 *gin.RouterGroup) {
	s.get(v1, "/organizations/:org/audit", reads{member: domain.ActionAuditRead}, s.audit)
}

// adminHistoryRoutes are the rebuild endpoints.
func (s *Server) adminHistoryRoutes(admin *gin.RouterGroup) {
	admin.POST("/projections/:name/rebuild", s.rebuild)
}

type projectionView struct {
	projections.Status
	Rebuild *projections.RebuildStatus `json:"rebuild"`
}

// withRebuild adds the last rebuild's progress to a projection's status.
func (s *Server) withRebuild(st projections.Status) any {
	v := projectionView{Status: st}
	if rb, err := s.cfg.Projector.RebuildStatusOf(context.Background(), st.Name); err == nil {
		v.Rebuild = rb
	}
	return v
}

// rebuild starts rebuilding a read model beside the live one; it answers at
// once (202) and reports progress in GET /v1/admin/projections.
func (s *Server) rebuild(c *gin.Context) {
	name := c.Param("name")
	err := s.cfg.Projector.StartRebuild(c.Request.Context(), name)
	switch {
	case errors.Is(err, projections.ErrUnknownProjection):
		writeProblem(c, domain.Errorf(domain.CodeNotFound, "No such read model."))
		return
	case errors.Is(err, projections.ErrRebuildRunning):
		writeProblem(c, domain.ErrConcurrencyConflict("A rebuild of this read model is already running."))
		return
	case err != nil:
		writeProblem(c, err)
		return
	}
	// The rebuild outlives the request; gin reuses c once the handler
	// returns, so nothing of c is read inside the goroutine.
	ctx := context.WithoutCancel(c.Request.Context())
	go func() {
		if err := s.cfg.Projector.RunRebuild(ctx, name, nil); err != nil {
			s.cfg.Log.Error("rebuild failed", "projection", name, "err", err)
			return
		}
		s.cfg.Log.Info("rebuild done", "projection", name)
	}()
	c.JSON(http.StatusAccepted, gin.H{"name": name, "state": "running"})
}

// auditItem is one event of an organization's audit log.
type auditItem struct {
	Position   int64           `json:"position"`
	OccurredAt time.Time       `json:"occurred_at"`
	Type       string          `json:"type"`
	Actor      ActorView       `json:"actor"`
	Stream     string          `json:"stream"`
	Data       json.RawMessage `json:"data"`
}

func auditOf(e eventstore.Event) (auditItem, error) {
	data, err := eventstore.Plain(e.OpenData)
	if err != nil {
		return auditItem{}, err
	}
	return auditItem{Position: e.Position, OccurredAt: e.RecordedAt.UTC(), Type: e.Type,
		Actor: ActorView{UserID: e.Meta.Actor.UserID, Email: e.Meta.Actor.Email.Value}, Stream: e.StreamID, Data: data}, nil
}

// audit is an organization's audit log: every event that touched it, in the
// log's order. json is a page; csv and jsonl stream everything from the
// cursor on, in constant memory.
func (s *Server) audit(c *gin.Context) (any, error) {
	org := orgOf(c)
	var v domain.Validation
	format := c.DefaultQuery("format", "json")
	v.Check(format != "json" && format != "csv" && format != "jsonl", "format", "must be json, csv or jsonl")
	limit := 50
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		v.Check(err != nil || n < 1 || n > MaxLimit, "limit", "must be a whole number from 1 to 200")
		limit = n
	}
	var after eventstore.Cursor
	if raw := c.Query("cursor"); raw != "" {
		key, err := projections.DecodeCursor(raw, 2)
		var txErr, posErr error
		if err == nil {
			after.TxID, txErr = strconv.ParseUint(keyString(key[0]), 10, 64)
			after.Offset, posErr = strconv.ParseInt(keyString(key[1]), 10, 64)
		}
		v.Check(err != nil || txErr != nil || posErr != nil, "cursor", "is not a cursor this service returned")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if format != "json" {
		done, err := s.heavyRead(c, org)
		if err != nil {
			return nil, err
		}
		defer done()
		s.exportAudit(c, org, after, format)
		return streamed{}, nil
	}
	evs, err := s.cfg.App.Store.OrganizationLog(c.Request.Context(), org, after, limit+1)
	if err != nil {
		return nil, err
	}
	var next string
	if len(evs) > limit {
		evs = evs[:limit]
		last := evs[limit-1].Cursor
		next = projections.EncodeCursor(strconv.FormatUint(last.TxID, 10), strconv.FormatInt(last.Offset, 10))
	}
	items := make([]auditItem, 0, len(evs))
	for _, e := range evs {
		it, err := auditOf(e)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return listOf(items, next), nil
}

func keyString(v any) string {
	s, _ := v.(string)
	return s
}

// exportWriteGrace is how long an export may wait on a client that does not
// read.
const exportWriteGrace = 60 * time.Second

func (s *Server) exportAudit(c *gin.Context, org uuid.UUID, after eventstore.Cursor, format string) {
	if err := WriteAuditExport(c.Request.Context(), c.Writer, s.heavy.store, org, after, format); err != nil {
		// The status is already sent: cut the export short and say so in the
		// log; a client sees a truncated file, never a silent success.
		s.cfg.Log.Error("audit export interrupted", "organization_id", org, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// WriteAuditExport streams an organization's audit log from after on as a
// csv or jsonl (JSON Lines) attachment, in constant memory: the API's
// export and the web app's download links are this one writer. An error
// comes after the status was sent: the caller cuts the answer short.
func WriteAuditExport(ctx context.Context, w gin.ResponseWriter, store *eventstore.Store, org uuid.UUID, after eventstore.Cursor, format string) error {
	name := "audit-" + org.String() + "." + format
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson")
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	if format == "csv" {
		_ = cw.Write([]string{"position", "occurred_at", "type", "actor_user_id", "actor_email", "stream", "data"})
	}
	enc := json.NewEncoder(w)
	// The server's write timeout bounds a whole answer; an export of a long
	// history takes longer than that, so each batch moves the deadline on:
	// a client that stops reading is still cut after exportWriteGrace.
	rc := http.NewResponseController(w)
	err := store.StreamOrganizationLog(ctx, org, after, func(evs []eventstore.Event) error {
		if err := rc.SetWriteDeadline(time.Now().Add(exportWriteGrace)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		for _, e := range evs {
			it, err := auditOf(e)
			if err != nil {
				return err
			}
			if format == "csv" {
				if err := cw.Write([]string{strconv.FormatInt(it.Position, 10), it.OccurredAt.Format(time.RFC3339Nano), it.Type,
					it.Actor.UserID, it.Actor.Email, it.Stream, string(it.Data)}); err != nil {
					return err
				}
			} else if err := enc.Encode(it); err != nil {
				return err
			}
		}
		cw.Flush()
		w.Flush()
		return cw.Error()
	})
	cw.Flush()
	return err
}

var (
	historyEndpoints = []endpoint{
		{method: "GET", path: "/v1/organizations/{org}/audit", summary: "Every event that touched the organization, in the log's order; csv and jsonl stream everything from the cursor on",
			status: 200, query: []string{"limit", "cursor", "format"}, response: listOfSchema(ref("AuditEvent")), media: map[string]schema{
				"text/csv":             {"type": "string", "description": "format=csv: a header row, then one row per event"},
				"application/x-ndjson": {"type": "string", "description": "format=jsonl: one AuditEvent per line (JSON Lines)"},
			}},
		{method: "POST", path: "/v1/admin/projections/{name}/rebuild", problems: []domain.Code{domain.CodeConcurrencyConflict}, summary: "Rebuild a read model beside the live one and swap when caught up (admin scope)", status: 202,
			response: obj([]string{"name", "state"}, schema{"name": str(""), "state": str("")})},
	}
	historyComponents = schema{
		"AuditEvent": obj([]string{"position", "occurred_at", "type", "actor", "stream", "data"}, schema{
			"position": integer, "occurred_at": str("date-time"), "type": str(""),
			"actor":  obj([]string{"user_id", "email"}, schema{"user_id": str(""), "email": str("")}),
			"stream": str(""), "data": schema{"type": "object"},
		}),
	}
)
