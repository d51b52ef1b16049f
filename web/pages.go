package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"partners/domain"
	"partners/projections"
)

func (w *Web) routes(g *gin.RouterGroup) {
	g.GET("", w.home)
	g.GET("signin", w.signInPage)
	g.POST("signin/dev", w.devSignIn)
	g.GET("signin/oidc", w.oidcStart)
	g.GET("signin/callback", w.oidcCallback)
	g.POST("signout", w.signOutHandler(false))
	g.POST("signout/everywhere", w.signOutHandler(true))
	g.GET("welcome", w.signedIn(w.welcome))
	g.POST("organizations", w.signedIn(w.createOrganization))
	g.GET("switch", w.signedIn(w.switchOrganization))
	g.POST("answers/:id", w.signedIn(w.answer))

	for kind, prefix := range linkPrefixes {
		g.GET(prefix+":token", w.keepLink(kind))
	}
	g.GET("link", w.landing)
	g.POST("link/partner", w.signedIn(w.answerPartnerLink))
	g.POST("link/join", w.signedIn(w.joinByLink))

	o := g.Group("o/:org")
	o.GET("partners", w.inOrg(domain.ActionPartnersRead, w.panel))
	o.GET("sent", w.inOrg(domain.ActionInvitationsRead, w.sentTab))
	o.GET("received", w.inOrg(domain.ActionInvitationsRead, w.receivedTab))
	o.GET("invite", w.inOrg(domain.ActionPartnersInvite, w.inviteForm))
	o.POST("invite", w.inOrg(domain.ActionPartnersInvite, w.invite))
	o.POST("sent/:id/resend", w.inOrg(domain.ActionPartnersInvite, w.resend))
	o.POST("sent/:id/revoke", w.inOrg(domain.ActionPartnersInvite, w.revoke))
	w.portalRoutes(o)
	w.teamRoutes(g, o)
	w.historyRoutes(o)
	w.consoleRoutes(g)
}

// signedIn sends anyone not signed in to the sign-in page.
func (w *Web) signedIn(h gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !sessionOf(c).signedIn() {
			w.redirect(c, "/signin")
			return
		}
		h(c)
	}
}

func (w *Web) memberships(c *gin.Context) ([]projections.MembershipView, error) {
	orgs, _, err := w.reader().MyOrganizations(c.Request.Context(), sessionOf(c).UserID, projections.Page{Limit: 200})
	return orgs, err
}

func (w *Web) home(c *gin.Context) {
	s := sessionOf(c)
	if !s.signedIn() {
		w.render(c, http.StatusOK, "home", &view{Title: translate(langOf(c), "home.title")})
		return
	}
	if s.LinkToken != "" {
		w.redirect(c, "/link")
		return
	}
	if err := w.caughtUp(c); err != nil {
		w.fail(c, err)
		return
	}
	orgs, err := w.memberships(c)
	if err != nil {
		w.fail(c, err)
		return
	}
	if len(orgs) == 0 {
		w.redirect(c, "/welcome")
		return
	}
	target := orgs[0].OrganizationID
	for _, o := range orgs {
		if o.OrganizationID == s.Org {
			target = o.OrganizationID
		}
	}
	w.redirect(c, "/o/"+target.String()+"/partners")
}

// welcome is the window at sign-up: the pending invitations addressed to
// the person's verified email, their organizations, and the form to
// create one.
func (w *Web) welcome(c *gin.Context) {
	s := sessionOf(c)
	if err := w.caughtUp(c); err != nil {
		w.fail(c, err)
		return
	}
	orgs, err := w.memberships(c)
	if err != nil {
		w.fail(c, err)
		return
	}
	var pending []projections.MyInvitationView
	if me := w.actor(s); me.EmailVerified && me.EmailRef != "" {
		if pending, _, err = w.reader().MyInvitations(c.Request.Context(), string(me.EmailRef), w.now(), projections.Page{Limit: 50}); err != nil {
			w.fail(c, err)
			return
		}
	}
	side := "subcontractor"
	if len(pending) > 0 {
		side = pending[0].InviteeSide
	}
	w.render(c, http.StatusOK, "welcome", &view{Title: translate(langOf(c), "welcome.title"), Orgs: orgs,
		Data: map[string]any{"Pending": pending, "Answerers": answerers(orgs), "Side": side}})
}

// answerers are the memberships that may answer invitations, by side.
func answerers(orgs []projections.MembershipView) map[string][]projections.MembershipView {
	out := map[string][]projections.MembershipView{}
	for _, o := range orgs {
		if o.Role == "owner" || o.Role == "admin" {
			out[o.Side] = append(out[o.Side], o)
		}
	}
	return out
}

func (w *Web) createOrganization(c *gin.Context) {
	s := sessionOf(c)
	back := "/welcome"
	if c.PostForm("next") == "link" {
		back = "/link"
	}
	var v domain.Validation
	side := domain.ParseField(&v, "side", c.PostForm("side"), domain.ParseSide)
	var siret domain.Siret
	if raw := strings.TrimSpace(c.PostForm("siret")); raw != "" {
		siret = domain.ParseField(&v, "siret", raw, domain.ParseSiret)
	}
	if err := v.Err(); err != nil {
		w.afterCommand(c, err, 0, back, back, "", "")
		return
	}
	spend, ok := w.admit(c, "create", uuid.Nil, 0)
	if !ok {
		return
	}
	id, res, err := w.cfg.App.CreateOrganization(c.Request.Context(), w.actor(s), strings.TrimSpace(c.PostForm("name")), side, siret)
	spend(err)
	next := back
	if err == nil {
		s.Org = id
		if back == "/welcome" {
			next = "/"
		}
	}
	w.afterCommand(c, err, res.Position, back, next, "flash.created", "")
}

func (w *Web) switchOrganization(c *gin.Context) {
	id, err := uuid.Parse(c.Query("org"))
	if err != nil {
		w.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	s := sessionOf(c)
	s.Org, s.dirty = id, true
	w.redirect(c, "/o/"+id.String()+"/partners")
}

// answer accepts or declines a partner invitation from a list (the window
// at sign-up, My invitations), as the chosen organization.
func (w *Web) answer(c *gin.Context) {
	s := sessionOf(c)
	back := c.PostForm("back")
	if back != "/welcome" && !strings.HasPrefix(back, "/o/") || strings.Contains(back, "//") {
		back = "/"
	}
	id, err1 := uuid.Parse(c.Param("id"))
	org, err2 := uuid.Parse(c.PostForm("organization"))
	if err1 != nil || err2 != nil {
		w.afterCommand(c, domain.Invalid("organization", "choose one of your organizations"), 0, back, back, "", "")
		return
	}
	ctx := c.Request.Context()
	if c.PostForm("answer") == "decline" {
		_, res, err := w.cfg.App.DeclineInvitation(ctx, w.actor(s), id, org, "")
		w.afterCommand(c, err, res.Position, back, back, "flash.declined", "")
		return
	}
	acc, err := w.cfg.App.AcceptInvitation(ctx, w.actor(s), id, org)
	name := ""
	if err == nil {
		name = acc.Invitation.InviterName
		s.Org = org
	}
	w.afterCommand(c, err, acc.Result.Position, back, "/o/"+org.String()+"/partners", "flash.accepted", name)
}

// The landing pages: each link kind's URL prefix.
var linkPrefixes = map[string]string{
	"partner":      "invitations/",
	"member":       "member-invitations/",
	"accountant":   "accountant-invitations/",
	"collaborator": "collaborators/activate/",
}

// keepLink takes the token out of the URL into the session and redirects
// to /link: the token never stays in the address bar, the history, a
// bookmark or a Referer.
func (w *Web) keepLink(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		s := sessionOf(c)
		s.LinkKind, s.LinkToken, s.dirty = kind, c.Param("token"), true
		w.redirect(c, "/link")
	}
}

// linkView is what a landing page shows of its link.
type linkView struct {
	Kind        string
	Valid       bool
	Open        bool
	Status      string
	Inviter     string
	InviterSide string
	InviteeSide string
	OrgName     string
	Role        string
	ExpiresAt   string
	Message     string
	Answerers   []projections.MembershipView
}

func (w *Web) landing(c *gin.Context) {
	s := sessionOf(c)
	if s.LinkToken == "" {
		w.redirect(c, "/")
		return
	}
	lang := langOf(c)
	v := &view{Title: translate(lang, "app.name")}
	lv := w.linkPreview(c, s)
	if !lv.Valid || !lv.Open {
		// Nothing left to answer: the page says why, once, and the link
		// leaves the session, so "/" no longer sends here.
		s.LinkKind, s.LinkToken, s.dirty = "", "", true
	}
	if !s.signedIn() {
		// The inviter's own words are for the invited person, not for
		// whoever holds the link: like the API's preview, the landing page
		// shows them only after sign-in.
		lv.Message = ""
	}
	if lv.Valid && s.signedIn() {
		if err := w.caughtUp(c); err != nil {
			w.fail(c, err)
			return
		}
		orgs, err := w.memberships(c)
		if err != nil {
			w.fail(c, err)
			return
		}
		v.Orgs = orgs
		lv.Answerers = answerers(orgs)[lv.InviteeSide]
	}
	v.Data = lv
	w.render(c, http.StatusOK, "landing", v)
}

// linkPreview reads what the session's link opens, through app's
// preview functions, as the API's previews do.
func (w *Web) linkPreview(c *gin.Context, s *session) linkView {
	ctx := c.Request.Context()
	lv := linkView{Kind: s.LinkKind}
	now := w.now()
	switch s.LinkKind {
	case "partner":
		inv, _, err := w.cfg.App.InvitationByToken(ctx, s.LinkToken)
		if err != nil {
			return lv
		}
		st := inv.StatusAt(now)
		lv.Valid, lv.Open, lv.Status = true, inv.IsPending(now), st.String()
		lv.Inviter, lv.InviterSide, lv.InviteeSide = inv.InviterName, inv.InviterSide.String(), inv.InviteeSide.String()
		lv.ExpiresAt, lv.Message = inv.ExpiresAt.UTC().Format("2006-01-02"), inv.Message.Value
	case "member", "accountant":
		inv, err := w.cfg.App.TeamInvitationByToken(ctx, domain.TeamInvitationKind(s.LinkKind), s.LinkToken)
		if err != nil {
			return lv
		}
		lv.Valid, lv.Open, lv.Status = true, inv.IsPending(now), inv.StatusAt(now).String()
		lv.Inviter, lv.OrgName, lv.Role = inv.InviterName.Value, inv.OrganizationName, string(inv.Role.String())
		lv.ExpiresAt = inv.ExpiresAt.UTC().Format("2006-01-02")
	case "collaborator":
		inv, err := w.cfg.App.CollaboratorInvitationByToken(ctx, s.LinkToken)
		if err != nil {
			return lv
		}
		lv.Valid, lv.Open, lv.Status = true, inv.IsPending(now), inv.StatusAt(now).String()
		lv.Inviter, lv.OrgName = inv.InviterName.Value, inv.OrganizationName
		lv.ExpiresAt = inv.ExpiresAt.UTC().Format("2006-01-02")
	}
	return lv
}

// answerPartnerLink answers a partner invitation from its landing page, as
// the chosen organization: "claim" attaches it (it then waits in My
// invitations, with the red badge); "accept" claims it first when the
// organization is not its email addressee, then accepts; "decline".
func (w *Web) answerPartnerLink(c *gin.Context) {
	s := sessionOf(c)
	if s.LinkKind != "partner" || s.LinkToken == "" {
		w.redirect(c, "/")
		return
	}
	org, err := uuid.Parse(c.PostForm("organization"))
	if err != nil {
		w.afterCommand(c, domain.Invalid("organization", "choose one of your organizations"), 0, "/link", "/link", "", "")
		return
	}
	ctx, actor, token := c.Request.Context(), w.actor(s), s.LinkToken
	inv, _, err := w.cfg.App.InvitationByToken(ctx, token)
	if err != nil {
		w.afterCommand(c, err, 0, "/link", "/link", "", "")
		return
	}
	orgPage := "/o/" + org.String()
	switch c.PostForm("answer") {
	case "claim":
		_, res, err := w.cfg.App.ClaimInvitation(ctx, actor, token, org)
		if err == nil {
			s.LinkKind, s.LinkToken, s.Org = "", "", org
		}
		w.afterCommand(c, err, res.Position, "/link", orgPage+"/received", "flash.claimed", "")
	case "decline":
		_, res, err := w.cfg.App.DeclineInvitation(ctx, actor, inv.ID, org, "")
		if err == nil {
			s.LinkKind, s.LinkToken = "", ""
		}
		w.afterCommand(c, err, res.Position, "/link", "/", "flash.declined", "")
	default:
		o, err := w.cfg.App.LoadOrganization(ctx, org)
		if err != nil {
			w.afterCommand(c, err, 0, "/link", "/link", "", "")
			return
		}
		if addressed, _ := inv.AddressedTo(o); !addressed {
			if _, _, err := w.cfg.App.ClaimInvitation(ctx, actor, token, org); err != nil {
				w.afterCommand(c, err, 0, "/link", "/link", "", "")
				return
			}
		}
		acc, err := w.cfg.App.AcceptInvitation(ctx, actor, inv.ID, org)
		if err == nil {
			s.LinkKind, s.LinkToken, s.Org = "", "", org
		}
		w.afterCommand(c, err, acc.Result.Position, "/link", orgPage+"/partners", "flash.accepted", inv.InviterName)
	}
}

// joinByLink accepts a colleague's or an accountant's invitation, or
// activates a collaborator account, with the session's link.
func (w *Web) joinByLink(c *gin.Context) {
	s := sessionOf(c)
	ctx, actor, token := c.Request.Context(), w.actor(s), s.LinkToken
	var org uuid.UUID
	var name string
	var position int64
	var err error
	switch s.LinkKind {
	case "member", "accountant":
		kind := domain.TeamInvitationKind(s.LinkKind)
		inv, e := w.cfg.App.TeamInvitationByToken(ctx, kind, token)
		if err = e; err == nil {
			joined, e := w.cfg.App.AcceptTeamInvitation(ctx, actor, kind, inv.ID, token)
			org, name, position, err = inv.OrganizationID, inv.OrganizationName, joined.Result.Position, e
		}
	case "collaborator":
		inv, e := w.cfg.App.CollaboratorInvitationByToken(ctx, token)
		if err = e; err == nil {
			joined, e := w.cfg.App.ActivateCollaborator(ctx, actor, token)
			org, name, position, err = joined.OrganizationID, inv.OrganizationName, joined.Result.Position, e
		}
	default:
		w.redirect(c, "/")
		return
	}
	if err == nil {
		s.LinkKind, s.LinkToken, s.Org = "", "", org
	}
	w.afterCommand(c, err, position, "/link", "/", "flash.joined", name)
}

// orgContext is an organization page's frame: the caller's membership
// checked from the organization's events (app.Enter), as the API does.
type orgContext struct {
	view *view
	org  uuid.UUID
	side string
}

// inOrg runs an organization's page for a signed-in member allowed the
// action; anyone else learns nothing (not found).
func (w *Web) inOrg(action domain.Action, h func(c *gin.Context, oc orgContext)) gin.HandlerFunc {
	return w.signedIn(func(c *gin.Context) {
		s := sessionOf(c)
		org, err := uuid.Parse(c.Param("org"))
		if err != nil {
			w.errorPage(c, http.StatusNotFound, "error.notfound")
			return
		}
		ctx := c.Request.Context()
		grant, err := w.cfg.App.Enter(ctx, w.actor(s), org)
		if err != nil {
			if _, ok := refused(err); ok {
				w.errorPage(c, http.StatusNotFound, "error.notfound")
				return
			}
			w.fail(c, err)
			return
		}
		if grant.Role == "" {
			w.errorPage(c, http.StatusNotFound, "error.notfound")
			return
		}
		if !domain.Authorize(grant, action).Allowed {
			w.errorPage(c, http.StatusForbidden, "error.forbidden")
			return
		}
		if c.Request.Method == http.MethodPost {
			h(c, orgContext{org: org})
			return
		}
		if err := w.caughtUp(c); err != nil {
			w.fail(c, err)
			return
		}
		o, ok, err := w.reader().Organization(ctx, org)
		if err == nil && !ok {
			err = domain.ErrOrganizationNotFound()
		}
		if err != nil {
			w.fail(c, err)
			return
		}
		orgs, err := w.memberships(c)
		if err != nil {
			w.fail(c, err)
			return
		}
		badge, err := w.reader().PendingInvitations(ctx, org, o.Side, w.now())
		if err != nil {
			w.fail(c, err)
			return
		}
		if s.Org != org {
			s.Org, s.dirty = org, true
		}
		may := func(a domain.Action) bool { return domain.Authorize(grant, a).Allowed }
		ov := &orgView{ID: org, Name: o.Name, Side: o.Side, Role: grant.Role, Badge: badge,
			CanInvite: may(domain.ActionPartnersInvite), CanSettings: may(domain.ActionSettingsRead),
			CanManage: may(domain.ActionMembersManage), CanPortal: may(domain.ActionPortalRead), CanAudit: may(domain.ActionAuditRead)}
		if ov.CanManage {
			if ov.Requests, err = w.reader().PendingCollaborationRequests(ctx, org); err != nil {
				w.fail(c, err)
				return
			}
		}
		h(c, orgContext{view: &view{Orgs: orgs, Org: ov}, org: org, side: o.Side})
	})
}

func pageArg(c *gin.Context, parts int) projections.Page {
	p := projections.Page{Limit: 20}
	if after, err := projections.DecodeCursor(c.Query("cursor"), parts); err == nil && len(c.Query("cursor")) <= projections.MaxCursorLength {
		p.After = after
	}
	return p
}

// panel is "Sous-traitants" (a client's) or "Clients" (a subcontractor's):
// search, paging, and the details pane of ?partner=.
func (w *Web) panel(c *gin.Context, oc orgContext) {
	ctx := c.Request.Context()
	q := c.Query("q")
	if len(q) > 200 {
		q = q[:200]
	}
	items, next, err := w.reader().Partners(ctx, oc.org, q, pageArg(c, 2))
	if err != nil {
		w.fail(c, err)
		return
	}
	data := map[string]any{"Items": items, "Q": q, "Next": nextLink(c, next), "First": c.Query("cursor") != ""}
	if id, err := uuid.Parse(c.Query("partner")); err == nil {
		if d, ok, err := w.reader().PartnerDetails(ctx, oc.org, id); err != nil {
			w.fail(c, err)
			return
		} else if ok {
			data["Details"] = d
		}
	}
	oc.view.Title, oc.view.Data = translate(langOf(c), "panel."+oc.side), data
	w.render(c, http.StatusOK, "panel", oc.view)
}

// nextLink is the page's URL with the next cursor ("" when last).
func nextLink(c *gin.Context, cursor string) string {
	if cursor == "" {
		return ""
	}
	q := c.Request.URL.Query()
	q.Set("cursor", cursor)
	q.Del("partner")
	return c.Request.URL.Path + "?" + q.Encode()
}

func (w *Web) sentTab(c *gin.Context, oc orgContext) {
	items, next, err := w.reader().SentInvitations(c.Request.Context(), oc.org, "", w.now(), pageArg(c, 2))
	if err != nil {
		w.fail(c, err)
		return
	}
	oc.view.Title = translate(langOf(c), "tab.sent")
	oc.view.Data = map[string]any{"Items": items, "Next": nextLink(c, next), "First": c.Query("cursor") != ""}
	w.render(c, http.StatusOK, "sent", oc.view)
}

func (w *Web) receivedTab(c *gin.Context, oc orgContext) {
	items, next, err := w.reader().ReceivedInvitations(c.Request.Context(), oc.org, oc.side, "sent", w.now(), pageArg(c, 2))
	if err != nil {
		w.fail(c, err)
		return
	}
	oc.view.Title = translate(langOf(c), "tab.received")
	oc.view.Data = map[string]any{"Items": items, "Next": nextLink(c, next), "First": c.Query("cursor") != ""}
	w.render(c, http.StatusOK, "received", oc.view)
}

func (w *Web) inviteForm(c *gin.Context, oc orgContext) {
	oc.view.Title = translate(langOf(c), "invite."+oc.side)
	w.render(c, http.StatusOK, "invite", oc.view)
}

// invite is the invite form's POST: the partner's email, contact details
// and personal message; the flash shows the link to pass on.
func (w *Web) invite(c *gin.Context, oc orgContext) {
	back := "/o/" + oc.org.String() + "/invite"
	var v domain.Validation
	email := domain.ParseField(&v, "email", c.PostForm("email"), domain.ParseEmail)
	message := c.PostForm("message")
	v.Check(len([]rune(message)) > 2000, "message", "must be at most 2000 characters")
	contact, cerr := domain.ParsePartnerContact(c.PostForm("name"), c.PostForm("company"), c.PostForm("phone"))
	if err := v.Err(); err != nil || cerr != nil {
		if err == nil {
			err = cerr
		}
		w.afterCommand(c, err, 0, back, back, "", "")
		return
	}
	spend, ok := w.admit(c, "invite", oc.org, 1)
	if !ok {
		return
	}
	sent, err := w.cfg.App.SendInvitation(c.Request.Context(), w.actor(sessionOf(c)), oc.org, email, message, contact, langOf(c))
	spend(err)
	w.afterCommand(c, err, sent.Result.Position, back, "/o/"+oc.org.String()+"/sent", "flash.sent", w.link(sent.Token))
}

func (w *Web) link(token string) string {
	if token == "" {
		return ""
	}
	return strings.TrimRight(w.cfg.PublicURL, "/") + "/invitations/" + url.PathEscape(token)
}

// resend sends the path's invitation again; app checks that it is the
// organization's own.
func (w *Web) resend(c *gin.Context, oc orgContext) {
	back := "/o/" + oc.org.String() + "/sent"
	id, ok := w.pathID(c)
	if !ok {
		return
	}
	spend, ok := w.admit(c, "invite", oc.org, 1)
	if !ok {
		return
	}
	sent, err := w.cfg.App.ResendInvitation(c.Request.Context(), w.actor(sessionOf(c)), id, langOf(c))
	spend(err)
	w.afterCommand(c, err, sent.Result.Position, back, back, "flash.resent", w.link(sent.Token))
}

func (w *Web) revoke(c *gin.Context, oc orgContext) {
	back := "/o/" + oc.org.String() + "/sent"
	id, ok := w.pathID(c)
	if !ok {
		return
	}
	_, res, err := w.cfg.App.RevokeInvitation(c.Request.Context(), w.actor(sessionOf(c)), id)
	w.afterCommand(c, err, res.Position, back, back, "flash.revoked", "")
}
