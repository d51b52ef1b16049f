package web

import (
	"errors"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"partners/api"
	"partners/eventstore"
)

// admit checks a form's command against the API's limits (Config.Limiter):
// the same per-user and per-organization counters and hourly email budget
// as the API's command, so the web is no way around them. Beyond them it
// answers (429 with Retry-After) and ok is false; spend counts the command
// once it ran, as the API's does.
func (w *Web) admit(c *gin.Context, class string, org uuid.UUID, mails int) (spend func(error), ok bool) {
	if w.cfg.Limiter == nil {
		return func(error) {}, true
	}
	run, err := w.cfg.Limiter.Admit(c.Request.Context(), class, sessionOf(c).UserID, c.ClientIP(), org, mails)
	if err != nil {
		w.limitRefused(c, err)
		return nil, false
	}
	return func(err error) {
		if err == nil {
			run()
		}
	}, true
}

// heavy admits an audit export or an as-of replay within the API's bounds
// of long reads, on its small pool (store); beyond them it answers (429 or
// 503 busy, with Retry-After) and ok is false. done must follow the read.
func (w *Web) heavy(c *gin.Context, org uuid.UUID) (store *eventstore.Store, done func(), ok bool) {
	if w.cfg.Limiter == nil {
		return w.cfg.App.Store, func() {}, true
	}
	store, done, err := w.cfg.Limiter.Heavy(c.Request.Context(), sessionOf(c).UserID, org)
	if err != nil {
		w.limitRefused(c, err)
		return nil, nil, false
	}
	return store, done, true
}

// limitRefused shows a limit's refusal on the error page with its status
// and Retry-After; any other error is a failure.
func (w *Web) limitRefused(c *gin.Context, err error) {
	var r *api.Refusal
	if !errors.As(err, &r) {
		w.fail(c, err)
		return
	}
	c.Header("Retry-After", strconv.Itoa(max(1, int(r.RetryAfter.Seconds()+0.999))))
	lang := langOf(c)
	w.render(c, r.Status, "error", &view{Title: translate(lang, "error.title"), Error: r.Detail})
}
