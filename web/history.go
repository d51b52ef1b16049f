package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"partners/api"
	"partners/domain"
	"partners/eventstore"
	"partners/projections"
)

// History (audit.read): the organization's audit timeline and its exports,
// the panel, the invitation lists, the members and a contract's access as
// of an instant picked on the page, and the "why?" pages (a member's access
// history, who could see a contract). The same reads as the API's: the
// event store's organization log, app's provenance records with domain's
// folds, and projections.AsOf for the past.

func (w *Web) historyRoutes(o *gin.RouterGroup) {
	o.GET("history", w.inOrg(domain.ActionAuditRead, w.timeline))
	o.GET("history/export", w.inOrg(domain.ActionAuditRead, w.exportTimeline))
	o.GET("history/asof", w.inOrg(domain.ActionAuditRead, w.asOfPage))
	o.GET("history/member", w.inOrg(domain.ActionAuditRead, w.memberHistory))
	o.GET("history/contract", w.inOrg(domain.ActionAuditRead, w.contractAccess))
}

// auditKinds are the timeline's filter: an event's kind is the type of the
// stream it belongs to, whose id starts with the type in dashes.
var auditKinds = []string{domain.OrganizationStreamType, domain.InvitationStreamType, domain.PartnershipStreamType,
	domain.PortalUserStreamType, domain.ContractShareStreamType, domain.CollaboratorInvitationStreamType,
	domain.CollaborationRequestStreamType}

func streamKind(stream string) string {
	for _, k := range auditKinds {
		if strings.HasPrefix(stream, strings.ReplaceAll(k, "_", "-")+"-") {
			return k
		}
	}
	return ""
}

// auditRow is one event of the timeline.
type auditRow struct {
	Position   int64
	OccurredAt time.Time
	Type       string
	Kind       string
	Actor      string
	Stream     string
	Data       json.RawMessage
}

func auditRowOf(e eventstore.Event) (auditRow, error) {
	data, err := eventstore.Plain(e.OpenData)
	if err != nil {
		return auditRow{}, err
	}
	who := e.Meta.Actor.Email.Value
	if who == "" {
		who = e.Meta.Actor.UserID
	}
	return auditRow{Position: e.Position, OccurredAt: e.RecordedAt.UTC(), Type: e.Type, Kind: streamKind(e.StreamID),
		Actor: who, Stream: e.StreamID, Data: data}, nil
}

// timelineScan bounds how many events one page of a filtered timeline
// reads before it stops and offers "next" from where it got.
const timelineScan = 2000

// timeline is the audit log, newest last (the log's order), filtered by
// kind, a page at a time.
func (w *Web) timeline(c *gin.Context, oc orgContext) {
	ctx := c.Request.Context()
	kind := c.Query("kind")
	valid := kind == ""
	for _, k := range auditKinds {
		valid = valid || k == kind
	}
	if !valid {
		kind = ""
	}
	after := timelineCursor(c.Query("cursor"))
	const limit = 50
	var rows []auditRow
	next, scanned := "", 0
	for len(rows) < limit && scanned < timelineScan {
		evs, err := w.cfg.App.Store.OrganizationLog(ctx, oc.org, after, 200)
		if err != nil {
			w.fail(c, err)
			return
		}
		for _, e := range evs {
			scanned++
			after = e.Cursor
			if kind != "" && streamKind(e.StreamID) != kind {
				continue
			}
			r, err := auditRowOf(e)
			if err != nil {
				w.fail(c, err)
				return
			}
			if rows = append(rows, r); len(rows) == limit {
				break
			}
		}
		if len(evs) < 200 && len(rows) < limit {
			after = eventstore.Cursor{}
			break
		}
	}
	if after != (eventstore.Cursor{}) {
		q := c.Request.URL.Query()
		q.Set("cursor", projections.EncodeCursor(strconv.FormatUint(after.TxID, 10), strconv.FormatInt(after.Offset, 10)))
		next = c.Request.URL.Path + "?" + q.Encode()
	}
	oc.view.Title = translate(langOf(c), "history.title")
	oc.view.Data = map[string]any{"Items": rows, "Kind": kind, "Kinds": auditKinds, "Next": next, "First": c.Query("cursor") != ""}
	w.render(c, http.StatusOK, "history", oc.view)
}

// timelineCursor reads a cursor this page wrote; anything else starts over.
func timelineCursor(raw string) eventstore.Cursor {
	var after eventstore.Cursor
	key, err := projections.DecodeCursor(raw, 2)
	if raw == "" || err != nil || len(raw) > projections.MaxCursorLength {
		return after
	}
	tx, _ := key[0].(string)
	off, _ := key[1].(string)
	after.TxID, _ = strconv.ParseUint(tx, 10, 64)
	after.Offset, _ = strconv.ParseInt(off, 10, 64)
	return after
}

// exportTimeline streams the whole audit log as CSV or JSON Lines, with the
// API's columns and fields.
func (w *Web) exportTimeline(c *gin.Context, oc orgContext) {
	format := c.Query("format")
	if format != "csv" && format != "jsonl" {
		w.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	store, done, ok := w.heavy(c, oc.org)
	if !ok {
		return
	}
	defer done()
	if err := api.WriteAuditExport(c.Request.Context(), c.Writer, store, oc.org, eventstore.Cursor{}, format); err != nil {
		// The status is sent: cut the file short, never a silent success.
		w.cfg.Log.Error("web: audit export interrupted", "organization_id", oc.org, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// instantLayouts are the date/time input's values (read as UTC), to the
// minute or, with its step of a second, to the second; RFC 3339 also
// passes, as in the API's links.
var instantLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339}

// instantArg reads ?at= from the page's date/time input: zero and no
// error when absent; a future instant is refused, as the API's as_of is.
func (w *Web) instantArg(c *gin.Context) (time.Time, string) {
	raw := strings.TrimSpace(c.Query("at"))
	if raw == "" {
		return time.Time{}, ""
	}
	var t time.Time
	err := errors.New("no layout")
	for _, l := range instantLayouts {
		if t, err = time.Parse(l, raw); err == nil {
			break
		}
	}
	if err != nil || len(raw) > 64 {
		return time.Time{}, "history.at.invalid"
	}
	if t.After(w.now()) {
		return time.Time{}, "history.at.future"
	}
	return t.UTC(), ""
}

// asOfPage answers the panel, the invitation lists and the members as of
// the instant picked, from the read models' history, or a replay of the
// organization's events up to it where the history does not reach
// (projections.AsOf, as the API's ?as_of=), and a contract's access then.
// The page says plainly that it shows the past.
func (w *Web) asOfPage(c *gin.Context, oc orgContext) {
	ctx := c.Request.Context()
	at, bad := w.instantArg(c)
	contract := strings.TrimSpace(c.Query("contract"))
	data := map[string]any{"At": at, "Input": c.Query("at"), "Contract": contract}
	if bad != "" {
		oc.view.Error = translate(langOf(c), bad)
	}
	if !at.IsZero() {
		refs, err := w.cfg.App.Store.PersonRefsIn(ctx, domain.OrganizationStream(oc.org))
		if err != nil {
			w.fail(c, err)
			return
		}
		ps, err := projections.ByName("partners", "invitations_sent", "invitations_received", "members")
		if err != nil {
			w.fail(c, err)
			return
		}
		store, done, ok := w.heavy(c, oc.org)
		if !ok {
			return
		}
		defer done()
		all := projections.Page{Limit: 200}
		err = projections.AsOf(ctx, store, ps, projections.Filter{Organization: oc.org, PersonRefs: refs, Until: at},
			func(ctx context.Context, r projections.Reader) error {
				var err error
				if data["Partners"], _, err = r.Partners(ctx, oc.org, "", all); err != nil {
					return err
				}
				if data["Sent"], _, err = r.SentInvitations(ctx, oc.org, "", at, all); err != nil {
					return err
				}
				if data["Received"], _, err = r.ReceivedInvitations(ctx, oc.org, oc.side, "", at, all); err != nil {
					return err
				}
				data["Members"], _, err = r.Members(ctx, oc.org, all)
				return err
			})
		if err != nil {
			w.fail(c, err)
			return
		}
		if contract != "" {
			rows, ok, err := w.access(ctx, oc.org, contract)
			if err != nil {
				w.fail(c, err)
				return
			}
			var then []domain.AccessInterval
			for _, a := range rows {
				if a.Contains(at) {
					then = append(then, a)
				}
			}
			data["Access"], data["ContractValid"] = then, ok
		}
	}
	oc.view.Title = translate(langOf(c), "history.asof")
	oc.view.Data = data
	w.render(c, http.StatusOK, "history_asof", oc.view)
}

// access is every interval in which someone could see the contract; ok is
// false for an id that is not a contract id.
func (w *Web) access(ctx context.Context, org uuid.UUID, raw string) ([]domain.AccessInterval, bool, error) {
	contract, err := domain.ParseContractID(raw)
	if err != nil {
		return nil, false, nil
	}
	orgEvs, err := w.cfg.App.OrganizationRecord(ctx, org)
	if err != nil {
		return nil, true, err
	}
	shareEvs, err := w.cfg.App.ContractShareRecord(ctx, org, contract)
	if err != nil {
		return nil, true, err
	}
	return domain.ContractAccess(orgEvs, shareEvs), true, nil
}

// memberHistory is a member's "why?": every interval in which they held a
// role or flags here, with the events that opened and closed it.
func (w *Web) memberHistory(c *gin.Context, oc orgContext) {
	user := c.Query("user")
	if user == "" || len(user) > 300 {
		w.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	evs, err := w.cfg.App.OrganizationRecord(c.Request.Context(), oc.org)
	if err != nil {
		w.fail(c, err)
		return
	}
	oc.view.Title = translate(langOf(c), "history.member")
	oc.view.Data = map[string]any{"User": user, "Items": domain.MemberHistory(evs, user)}
	w.render(c, http.StatusOK, "history_member", oc.view)
}

// contractAccess is a watcher's "why?": who could see the contract, as
// what, from when to when, and which events opened and closed it.
func (w *Web) contractAccess(c *gin.Context, oc orgContext) {
	id := strings.TrimSpace(c.Query("id"))
	rows, ok, err := w.access(c.Request.Context(), oc.org, id)
	if err != nil {
		w.fail(c, err)
		return
	}
	if !ok {
		w.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	oc.view.Title = translate(langOf(c), "history.contract", id)
	oc.view.Data = map[string]any{"Contract": id, "Items": rows}
	w.render(c, http.StatusOK, "history_contract", oc.view)
}
