package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"partners/eventstore"
	"partners/projections"
)

// The operator console (the partners:admin scope, or an email in
// PARTNERS_ADMIN_EMAILS): each read model's position, lag and state, a
// rebuild followed live (the page reloads itself while one runs), verify
// with its differences, and the stream browser. The same projector calls
// as the admin API's.

func (w *Web) consoleRoutes(g *gin.RouterGroup) {
	g.GET("console", w.operatorOnly(w.console))
	g.POST("console/rebuild", w.operatorOnly(w.rebuild))
	g.POST("console/verify", w.operatorOnly(w.verify))
	g.GET("console/streams", w.operatorOnly(w.streamPage))
}

// operatorOnly: anyone else learns nothing (not found).
func (w *Web) operatorOnly(h gin.HandlerFunc) gin.HandlerFunc {
	return w.signedIn(func(c *gin.Context) {
		if !w.operator(sessionOf(c)) || w.cfg.Projector == nil {
			w.errorPage(c, http.StatusNotFound, "error.notfound")
			return
		}
		h(c)
	})
}

// readModelRow is one read model on the console.
type readModelRow struct {
	projections.Status
	Rebuild *projections.RebuildStatus
}

func (w *Web) readModelRows(ctx context.Context) ([]readModelRow, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	sts, err := w.cfg.Projector.Statuses(ctx)
	if err != nil {
		return nil, false, err
	}
	rows := make([]readModelRow, len(sts))
	running := false
	for i, st := range sts {
		rb, err := w.cfg.Projector.RebuildStatusOf(ctx, st.Name)
		if err != nil {
			return nil, false, err
		}
		rows[i] = readModelRow{Status: st, Rebuild: rb}
		running = running || rb != nil && rb.State == "running"
	}
	return rows, running, nil
}

// console lists the read models. While a rebuild runs, the page reloads
// itself at once to ?wait=1, which the server answers a second later: the
// pace is the server's, and a delayed meta refresh (which axe-core and
// WCAG 2.2.1 refuse) is not needed.
func (w *Web) console(c *gin.Context) {
	if c.Query("wait") != "" {
		select {
		case <-c.Request.Context().Done():
			return
		case <-time.After(time.Second):
		}
	}
	w.renderConsole(c, nil, false)
}

func (w *Web) renderConsole(c *gin.Context, diffs []projections.Difference, verified bool) {
	rows, running, err := w.readModelRows(c.Request.Context())
	if err != nil {
		w.fail(c, err)
		return
	}
	v := &view{Title: translate(langOf(c), "console.title"),
		Data: map[string]any{"Rows": rows, "Running": running, "Diffs": diffs, "Verified": verified, "Verify": c.PostForm("name")}}
	if running {
		v.Refresh = "/console?wait=1"
	}
	w.render(c, http.StatusOK, "console", v)
}

// rebuild starts rebuilding a read model beside the live one, as the admin
// API does: it outlives the request, and the console follows its progress.
func (w *Web) rebuild(c *gin.Context) {
	s := sessionOf(c)
	name := c.PostForm("name")
	err := w.cfg.Projector.StartRebuild(c.Request.Context(), name)
	switch {
	case errors.Is(err, projections.ErrUnknownProjection):
		s.Error, s.dirty = translate(langOf(c), "console.unknown"), true
	case errors.Is(err, projections.ErrRebuildRunning):
		s.Error, s.dirty = translate(langOf(c), "console.running"), true
	case err != nil:
		w.fail(c, err)
		return
	default:
		ctx := context.WithoutCancel(c.Request.Context())
		go func() {
			if err := w.cfg.Projector.RunRebuild(ctx, name, nil); err != nil {
				w.cfg.Log.Error("web: rebuild failed", "projection", name, "err", err)
			}
		}()
		s.Flash, s.FlashArg, s.dirty = "flash.rebuild", name, true
	}
	w.redirect(c, "/console")
}

// verify replays one read model (or all) into scratch tables and shows
// every difference with the live one. It answers the POST itself: the
// differences are not kept anywhere to redirect to.
func (w *Web) verify(c *gin.Context) {
	var names []string
	if n := c.PostForm("name"); n != "" {
		names = []string{n}
	}
	diffs, err := w.cfg.Projector.Verify(c.Request.Context(), names, nil)
	if errors.Is(err, projections.ErrUnknownProjection) {
		w.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	if err != nil {
		w.fail(c, err)
		return
	}
	w.renderConsole(c, diffs, true)
}

// streamEvent is a stored event as the stream browser shows it.
type streamEvent struct {
	Version    int
	Position   int64
	OccurredAt time.Time
	Type       string
	Actor      string
	Data       string
}

// streamPage is the stream browser: a stream id typed in, its events.
func (w *Web) streamPage(c *gin.Context) {
	id := strings.TrimSpace(c.Query("id"))
	data := map[string]any{"ID": id}
	if id != "" && len(id) <= 300 {
		evs, _, err := w.cfg.App.Store.ReadStream(c.Request.Context(), id)
		if err != nil {
			w.fail(c, err)
			return
		}
		items := make([]streamEvent, 0, len(evs))
		for _, e := range evs {
			raw, err := eventstore.Plain(e.OpenData)
			if err != nil {
				w.fail(c, err)
				return
			}
			who := e.Meta.Actor.Email.Value
			if who == "" {
				who = e.Meta.Actor.UserID
			}
			items = append(items, streamEvent{Version: e.StreamVersion, Position: e.Position, OccurredAt: e.RecordedAt.UTC(), Type: e.Type, Actor: who, Data: string(raw)})
		}
		data["Items"], data["Searched"] = items, true
	}
	w.render(c, http.StatusOK, "console_stream", &view{Title: translate(langOf(c), "console.streams"), Data: data})
}
