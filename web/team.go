package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"partners/app"
	"partners/domain"
	"partners/eventstore"
	"partners/projections"
)

// Settings of the team: colleagues, accountant access (seed 002) and
// "Mes collaborateurs" (seed 003); and the pages of whoever they serve:
// the accountant's organizations, the collaboration requests one sent.

func (w *Web) teamRoutes(g, o *gin.RouterGroup) {
	o.GET("settings/team", w.inOrg(domain.ActionSettingsRead, w.teamPage))
	o.POST("settings/team/invite", w.inOrg(domain.ActionMembersManage, w.inviteColleague))
	o.POST("settings/team/role", w.inOrg(domain.ActionMembersManage, w.changeRole))
	o.POST("settings/team/remove", w.inOrg(domain.ActionMembersManage, w.removal("/settings/team", w.cfg.App.RemoveMember)))
	o.POST("settings/team/invitations/:id/revoke", w.inOrg(domain.ActionMembersManage, w.revokeTeamInvitation(domain.TeamInvitationMember, "/settings/team")))

	o.GET("settings/accountants", w.inOrg(domain.ActionMembersManage, w.accountantsPage))
	o.POST("settings/accountants", w.inOrg(domain.ActionMembersManage, w.grantAccountant))
	o.POST("settings/accountants/revoke", w.inOrg(domain.ActionMembersManage, w.removal("/settings/accountants", w.cfg.App.RevokeAccountantAccess)))
	o.POST("settings/accountants/invitations/:id/revoke", w.inOrg(domain.ActionMembersManage, w.revokeTeamInvitation(domain.TeamInvitationAccountant, "/settings/accountants")))
	g.GET("accounting", w.signedIn(w.accountantClients))

	o.GET("collaborators", w.inOrg(domain.ActionMembersManage, w.collaboratorsPage))
	o.GET("collaborators/new", w.inOrg(domain.ActionMembersManage, w.collaboratorForm))
	o.POST("collaborators", w.inOrg(domain.ActionMembersManage, w.createCollaborator))
	o.POST("collaborators/permissions", w.inOrg(domain.ActionMembersManage, w.changePermissions))
	o.POST("collaborators/remove", w.inOrg(domain.ActionMembersManage, w.removal("/collaborators", w.cfg.App.RemoveCollaborator)))
	o.POST("collaborators/invitations/:id/resend", w.inOrg(domain.ActionMembersManage, w.resendCollaborator))
	o.POST("collaborators/invitations/:id/revoke", w.inOrg(domain.ActionMembersManage, w.revokeCollaborator))
	o.POST("collaborators/requests/:id/approve", w.inOrg(domain.ActionMembersManage, w.answerRequest(true)))
	o.POST("collaborators/requests/:id/reject", w.inOrg(domain.ActionMembersManage, w.answerRequest(false)))
	g.GET("collaboration-requests", w.signedIn(w.ownRequests))
	g.POST("collaboration-requests", w.signedIn(w.requestCollaboration))
}

func yes(c *gin.Context, field string) bool { return c.PostForm(field) == "on" }

// pathID reads a path's uuid; app checks it is the organization's own.
// pathID is the id the path names; an id that is none answers the not
// found page (ok false).
func (w *Web) pathID(c *gin.Context) (uuid.UUID, bool) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		w.errorPage(c, http.StatusNotFound, "error.notfound")
		return uuid.UUID{}, false
	}
	return id, true
}

// removal ends a membership named by the form's user field.
func (w *Web) removal(page string, run func(ctx context.Context, actor domain.Actor, org uuid.UUID, userID string) (eventstore.Result, error)) func(*gin.Context, orgContext) {
	return func(c *gin.Context, oc orgContext) {
		back := orgPath(oc.org, page)
		res, err := run(c.Request.Context(), w.actor(sessionOf(c)), oc.org, c.PostForm("user"))
		w.afterCommand(c, err, res.Position, back, back, "flash.removed", "")
	}
}

func (w *Web) revokeTeamInvitation(kind domain.TeamInvitationKind, page string) func(*gin.Context, orgContext) {
	return func(c *gin.Context, oc orgContext) {
		back := orgPath(oc.org, page)
		id, ok := w.pathID(c)
		if !ok {
			return
		}
		_, res, err := w.cfg.App.RevokeTeamInvitation(c.Request.Context(), w.actor(sessionOf(c)), kind, id)
		w.afterCommand(c, err, res.Position, back, back, "flash.revoked", "")
	}
}

// teamLink is an emailed link's URL on this app.
func (w *Web) teamLink(prefix, token string) string {
	if token == "" {
		return ""
	}
	return strings.TrimRight(w.cfg.PublicURL, "/") + "/" + prefix + token
}

// =============================================================================
// Colleagues

// teamPage lists the colleagues with their roles, the invitations sent,
// and the invite form. The last owner has no remove button and no role
// choice, and the page says why.
func (w *Web) teamPage(c *gin.Context, oc orgContext) {
	ctx := c.Request.Context()
	members, _, err := w.reader().Members(ctx, oc.org, projections.Page{Limit: 200})
	if err != nil {
		w.fail(c, err)
		return
	}
	var team []projections.MemberView
	owners := 0
	for _, m := range members {
		switch m.Role {
		case domain.RoleOwner.String(), domain.RoleAdmin.String(), domain.RoleMember.String():
			team = append(team, m)
		}
		if m.Role == domain.RoleOwner.String() {
			owners++
		}
	}
	invs, _, err := w.reader().MemberInvitations(ctx, oc.org, "sent", w.now(), projections.Page{Limit: 100})
	if err != nil {
		w.fail(c, err)
		return
	}
	oc.view.Title = translate(langOf(c), "team.title")
	oc.view.Data = map[string]any{"Members": team, "LastOwner": owners == 1, "Invitations": invs, "Roles": assignable(oc.view.Org.Role)}
	w.render(c, http.StatusOK, "team", oc.view)
}

// assignable are the roles a role may give in the picker: owners any,
// admins members and admins (app has the last word).
func assignable(role string) []string {
	if role == domain.RoleOwner.String() {
		return []string{"owner", "admin", "member"}
	}
	return []string{"admin", "member"}
}

func (w *Web) inviteColleague(c *gin.Context, oc orgContext) {
	back := orgPath(oc.org, "/settings/team")
	var v domain.Validation
	email := domain.ParseField(&v, "email", c.PostForm("email"), domain.ParseEmail)
	role := domain.ParseField(&v, "role", c.PostForm("role"), domain.ParseInvitedRole)
	if err := v.Err(); err != nil {
		w.afterCommand(c, err, 0, back, back, "", "")
		return
	}
	spend, ok := w.admit(c, "invite", oc.org, 1)
	if !ok {
		return
	}
	sent, err := w.cfg.App.InviteMember(c.Request.Context(), w.actor(sessionOf(c)), oc.org, email, role, langOf(c))
	spend(err)
	w.afterCommand(c, err, sent.Result.Position, back, back, "flash.sent", w.teamLink("member-invitations/", sent.Token))
}

func (w *Web) changeRole(c *gin.Context, oc orgContext) {
	back := orgPath(oc.org, "/settings/team")
	role, err := domain.ParseTeamRole(c.PostForm("role"))
	if err != nil {
		w.afterCommand(c, domain.Invalid("role", err.Error()), 0, back, back, "", "")
		return
	}
	ch, err := w.cfg.App.ChangeMemberRole(c.Request.Context(), w.actor(sessionOf(c)), oc.org, c.PostForm("user"), role)
	w.afterCommand(c, err, ch.Result.Position, back, back, "flash.saved", "")
}

// =============================================================================
// Accountant access (seed 002)

func (w *Web) accountantsPage(c *gin.Context, oc orgContext) {
	items, next, err := w.reader().Accountants(c.Request.Context(), oc.org, w.now(), pageArg(c, 3))
	if err != nil {
		w.fail(c, err)
		return
	}
	oc.view.Title = translate(langOf(c), "accountants.title")
	oc.view.Data = map[string]any{"Items": items, "Next": nextLink(c, next), "First": c.Query("cursor") != ""}
	w.render(c, http.StatusOK, "accountants", oc.view)
}

func (w *Web) grantAccountant(c *gin.Context, oc orgContext) {
	back := orgPath(oc.org, "/settings/accountants")
	var v domain.Validation
	email := domain.ParseField(&v, "email", c.PostForm("email"), domain.ParseEmail)
	message := c.PostForm("message")
	v.Check(len([]rune(message)) > 2000, "message", "must be at most 2000 characters")
	if err := v.Err(); err != nil {
		w.afterCommand(c, err, 0, back, back, "", "")
		return
	}
	spend, ok := w.admit(c, "invite", oc.org, 1)
	if !ok {
		return
	}
	sent, err := w.cfg.App.GrantAccountantAccess(c.Request.Context(), w.actor(sessionOf(c)), oc.org, email, message, langOf(c))
	spend(err)
	w.afterCommand(c, err, sent.Result.Position, back, back, "flash.sent", w.teamLink("accountant-invitations/", sent.Token))
}

// accountantClients is the accountant's own page: the organizations they
// serve, each opening on its data (no settings there: the links are absent).
func (w *Web) accountantClients(c *gin.Context) {
	if err := w.caughtUp(c); err != nil {
		w.fail(c, err)
		return
	}
	orgs, err := w.memberships(c)
	if err != nil {
		w.fail(c, err)
		return
	}
	items, next, err := w.reader().AccountantClients(c.Request.Context(), sessionOf(c).UserID, pageArg(c, 2))
	if err != nil {
		w.fail(c, err)
		return
	}
	w.render(c, http.StatusOK, "accounting", &view{Title: translate(langOf(c), "accounting.title"), Orgs: orgs,
		Data: map[string]any{"Items": items, "Next": nextLink(c, next), "First": c.Query("cursor") != ""}})
}

// =============================================================================
// Mes collaborateurs (seed 003)

func (w *Web) collaboratorsPage(c *gin.Context, oc orgContext) {
	ctx := c.Request.Context()
	collabs, _, err := w.reader().Collaborators(ctx, oc.org, projections.Page{Limit: 200})
	if err != nil {
		w.fail(c, err)
		return
	}
	pending, _, err := w.reader().CollaboratorInvitations(ctx, oc.org, "invited", w.now(), projections.Page{Limit: 100})
	if err != nil {
		w.fail(c, err)
		return
	}
	requests, _, err := w.reader().CollaborationRequests(ctx, oc.org, domain.StatusPending, projections.Page{Limit: 100})
	if err != nil {
		w.fail(c, err)
		return
	}
	oc.view.Title = translate(langOf(c), "collab.title")
	oc.view.Data = map[string]any{"Collaborators": collabs, "Pending": pending, "Requests": requests}
	w.render(c, http.StatusOK, "collaborators", oc.view)
}

func (w *Web) collaboratorForm(c *gin.Context, oc orgContext) {
	oc.view.Title = translate(langOf(c), "collab.create.title")
	w.render(c, http.StatusOK, "collaborator_new", oc.view)
}

func (w *Web) createCollaborator(c *gin.Context, oc orgContext) {
	form, page := orgPath(oc.org, "/collaborators/new"), orgPath(oc.org, "/collaborators")
	var v domain.Validation
	n := app.NewCollaborator{
		FirstName:       domain.ParseField(&v, "first_name", c.PostForm("first_name"), domain.ParseFirstName),
		LastName:        domain.ParseField(&v, "last_name", c.PostForm("last_name"), domain.ParseLastName),
		Email:           domain.ParseField(&v, "email", c.PostForm("email"), domain.ParseEmail),
		Phone:           domain.ParseField(&v, "phone", c.PostForm("phone"), domain.ParsePhone),
		CanPurchase:     yes(c, "can_purchase"),
		CanSeeAllOrders: yes(c, "can_see_all_orders"),
		Locale:          langOf(c),
	}
	if err := v.Err(); err != nil {
		w.afterCommand(c, err, 0, form, form, "", "")
		return
	}
	spend, ok := w.admit(c, "invite", oc.org, 1)
	if !ok {
		return
	}
	sent, err := w.cfg.App.CreateCollaborator(c.Request.Context(), w.actor(sessionOf(c)), oc.org, n)
	spend(err)
	w.afterCommand(c, err, sent.Result.Position, form, page, "flash.collab.created", w.teamLink("collaborators/activate/", sent.Token))
}

func (w *Web) changePermissions(c *gin.Context, oc orgContext) {
	page := orgPath(oc.org, "/collaborators")
	buy, all := yes(c, "can_purchase"), yes(c, "can_see_all_orders")
	ch, err := w.cfg.App.ChangeCollaboratorPermissions(c.Request.Context(), w.actor(sessionOf(c)), oc.org, c.PostForm("user"), &buy, &all)
	w.afterCommand(c, err, ch.Result.Position, page, page, "flash.saved", "")
}

func (w *Web) resendCollaborator(c *gin.Context, oc orgContext) {
	page := orgPath(oc.org, "/collaborators")
	id, ok := w.pathID(c)
	if !ok {
		return
	}
	spend, ok := w.admit(c, "invite", oc.org, 1)
	if !ok {
		return
	}
	sent, err := w.cfg.App.ResendCollaboratorInvitation(c.Request.Context(), w.actor(sessionOf(c)), id, langOf(c))
	spend(err)
	w.afterCommand(c, err, sent.Result.Position, page, page, "flash.resent", w.teamLink("collaborators/activate/", sent.Token))
}

func (w *Web) revokeCollaborator(c *gin.Context, oc orgContext) {
	page := orgPath(oc.org, "/collaborators")
	id, ok := w.pathID(c)
	if !ok {
		return
	}
	_, res, err := w.cfg.App.RevokeCollaboratorInvitation(c.Request.Context(), w.actor(sessionOf(c)), id)
	w.afterCommand(c, err, res.Position, page, page, "flash.revoked", "")
}

// answerRequest approves a collaboration request with the two permissions
// chosen, or rejects it.
func (w *Web) answerRequest(approve bool) func(*gin.Context, orgContext) {
	return func(c *gin.Context, oc orgContext) {
		page := orgPath(oc.org, "/collaborators")
		id, ok := w.pathID(c)
		if !ok {
			return
		}
		ctx, actor := c.Request.Context(), w.actor(sessionOf(c))
		if !approve {
			out, err := w.cfg.App.RejectCollaborationRequest(ctx, actor, oc.org, id)
			w.afterCommand(c, err, out.Result.Position, page, page, "flash.rejected", "")
			return
		}
		out, err := w.cfg.App.ApproveCollaborationRequest(ctx, actor, oc.org, id, yes(c, "can_purchase"), yes(c, "can_see_all_orders"))
		w.afterCommand(c, err, out.Result.Position, page, page, "flash.approved", "")
	}
}

// ownRequest is one of the signed-in person's collaboration requests, with
// the target as they typed it.
type ownRequest struct {
	projections.OwnCollaborationRequestView
	Target string
}

// ownRequests is "Faire une demande de collaboration" and "my requests".
// Whether a target matched anyone shows nowhere: unanswered is pending.
func (w *Web) ownRequests(c *gin.Context) {
	if err := w.caughtUp(c); err != nil {
		w.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	orgs, err := w.memberships(c)
	if err != nil {
		w.fail(c, err)
		return
	}
	rows, next, err := w.reader().OwnCollaborationRequests(ctx, sessionOf(c).UserID, pageArg(c, 2))
	if err != nil {
		w.fail(c, err)
		return
	}
	items := make([]ownRequest, len(rows))
	for i, r := range rows {
		items[i] = ownRequest{OwnCollaborationRequestView: r}
		if r.TargetSiret != nil {
			items[i].Target = *r.TargetSiret
		}
		if r.ByEmail {
			email, err := w.cfg.App.RequestedEmail(ctx, r.ID)
			if err != nil {
				w.fail(c, err)
				return
			}
			items[i].Target = email.Value
		}
	}
	w.render(c, http.StatusOK, "requests", &view{Title: translate(langOf(c), "requests.title"), Orgs: orgs,
		Data: map[string]any{"Items": items, "Next": nextLink(c, next), "First": c.Query("cursor") != ""}})
}

func (w *Web) requestCollaboration(c *gin.Context) {
	page := "/collaboration-requests"
	siret, email, err := domain.ParseCollaborationTarget(c.PostForm("target"))
	if err != nil {
		w.afterCommand(c, err, 0, page, page, "", "")
		return
	}
	r, err := w.cfg.App.RequestCollaboration(c.Request.Context(), w.actor(sessionOf(c)), siret, email)
	w.afterCommand(c, err, r.Result.Position, page, page, "flash.requested", "")
}
