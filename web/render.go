package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"partners/domain"
	"partners/projections"
)

// view is what every page's template gets: the frame (language, session,
// organization switcher, badge, flash) and the page's own Data.
type view struct {
	Lang  string
	Path  string
	Title string
	CSRF  string
	User  *sessionData
	Orgs  []projections.MembershipView
	Org   *orgView
	Flash string
	Error string
	Data  any
	// Operator shows the console's link; Refresh is a URL the page
	// reloads itself to (a rebuild's progress, without JavaScript).
	Operator bool
	Refresh  string
}

// orgView is the organization a page is about, with the caller's role and
// the red badge.
type orgView struct {
	ID        uuid.UUID
	Name      string
	Side      string
	Role      string
	Badge     int
	CanInvite bool
	// The settings links shown: absent, not just refused, for whom the
	// role does not allow them (an accountant sees no settings at all).
	CanSettings bool
	CanManage   bool
	CanPortal   bool
	// CanAudit shows History and the "why?" links.
	CanAudit bool
	// Requests is the red badge of "Mes collaborateurs": collaboration
	// requests waiting for an answer.
	Requests int
}

// T translates key into the page's language.
func (v *view) T(key string, args ...any) string { return translate(v.Lang, key, args...) }

// Status is an invitation status as the seeds name it.
func (v *view) Status(s string) string { return v.T("status." + s) }

// Date is a day in the page's language's usual form.
func (v *view) Date(t time.Time) string {
	if v.Lang == "en" {
		return t.UTC().Format("2006-01-02")
	}
	return t.UTC().Format("02.01.2006")
}

// Instant is a moment in the page's language's usual form, in UTC (the
// as-of pages' banner says which instant they show).
func (v *view) Instant(t time.Time) string {
	if v.Lang == "en" {
		return t.UTC().Format("2 January 2006, 15:04") + " UTC"
	}
	return t.UTC().Format("02.01.2006 15:04") + " UTC"
}

// Langs are the switcher's choices.
func (v *view) Langs() []string { return []string{"fr", "en", "de"} }

var funcs = template.FuncMap{
	"deref": func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	},
	// orgform hands the organization form its page, where to go next and
	// the side to preselect.
	"orgform": func(v *view, next, side string) map[string]any {
		return map[string]any{"V": v, "Next": next, "Side": side}
	},
	// whyargs, causeargs and accessargs hand the history's shared pieces
	// (layout.html) their page and rows.
	"whyargs": func(v *view, user, label string) map[string]any {
		return map[string]any{"V": v, "User": user, "Label": label}
	},
	"causeargs": func(v *view, c any) map[string]any { return map[string]any{"V": v, "C": c} },
	"accessargs": func(v *view, rows any, id string) map[string]any {
		return map[string]any{"V": v, "Rows": rows, "ID": id}
	},
}

func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", n)
		if err != nil {
			return nil, err
		}
		pages[strings.TrimSuffix(base, ".html")] = t
	}
	return pages, nil
}

// render writes a page (after saving the session: headers go first).
func (w *Web) render(c *gin.Context, status int, page string, v *view) {
	s := sessionOf(c)
	v.Lang, v.Path, v.CSRF = langOf(c), c.Request.URL.Path, s.CSRF
	if s.signedIn() {
		v.User = &s.sessionData
		v.Operator = w.operator(s)
	}
	if v.Flash == "" && s.Flash != "" {
		if s.FlashArg != "" {
			v.Flash = translate(v.Lang, s.Flash, s.FlashArg)
		} else {
			v.Flash = translate(v.Lang, s.Flash)
		}
		s.Flash, s.FlashArg, s.dirty = "", "", true
	}
	if v.Error == "" && s.Error != "" {
		v.Error, s.Error, s.dirty = s.Error, "", true
	}
	var buf bytes.Buffer
	if err := w.pages[page].ExecuteTemplate(&buf, "layout", v); err != nil {
		w.cfg.Log.Error("web: template", "page", page, "err", err)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	if err := w.save(c, s); err != nil {
		w.fail(c, err)
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// redirect ends a POST (or a landing page) with 303 to a GET.
func (w *Web) redirect(c *gin.Context, to string) {
	if err := w.save(c, sessionOf(c)); err != nil {
		w.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, to)
}

func (w *Web) errorPage(c *gin.Context, status int, key string) {
	lang := langOf(c)
	w.render(c, status, "error", &view{Title: translate(lang, "error.title"), Error: translate(lang, key)})
}

// fail answers an error nobody sent: logged, never shown.
func (w *Web) fail(c *gin.Context, err error) {
	w.cfg.Log.Error("web: request failed", "path", c.Request.URL.Path, "err", err)
	lang := langOf(c)
	var buf bytes.Buffer
	_ = w.pages["error"].ExecuteTemplate(&buf, "layout", &view{Lang: lang, Title: translate(lang, "error.title"), Error: translate(lang, "error.internal")})
	c.Data(http.StatusInternalServerError, "text/html; charset=utf-8", buf.Bytes())
}

// refused tells whether err is a rule's refusal (shown to the person, then
// back to the page) rather than a failure.
func refused(err error) (*domain.Error, bool) {
	var de *domain.Error
	return de, errors.As(err, &de)
}

// afterCommand ends a command: a refusal goes back to back with its
// message; a success remembers its position (the next page waits for it)
// and goes to next with a flash.
func (w *Web) afterCommand(c *gin.Context, err error, position int64, back, next, flash, arg string) {
	s := sessionOf(c)
	if err != nil {
		de, ok := refused(err)
		if !ok {
			w.fail(c, err)
			return
		}
		s.Error, s.dirty = refusal(de), true
		w.redirect(c, back)
		return
	}
	if position > s.Position {
		s.Position = position
	}
	s.Flash, s.FlashArg, s.dirty = flash, arg, true
	w.redirect(c, next)
}

// caughtUp makes a page wait until the read models show the session's
// last command: read-your-writes by position, never by sleeping.
func (w *Web) caughtUp(c *gin.Context) error {
	s := sessionOf(c)
	if s.Position == 0 || w.cfg.Projector == nil {
		return nil
	}
	if err := w.cfg.Projector.WaitApplied(c.Request.Context(), w.readModels, s.Position, w.cfg.ConsistencyTimeout); err != nil {
		return fmt.Errorf("waiting for read models at %d: %w", s.Position, err)
	}
	return nil
}

// refusal is a refusal's message with its fields at fault.
func refusal(de *domain.Error) string {
	msg := de.Message
	for _, f := range de.Fields {
		msg += " " + f.Field + ": " + f.Message + "."
	}
	return msg
}
