package api

import (
	"context"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"partners/app"
	"partners/domain"
	"partners/eventstore"
	"partners/projections"
)

// The team (DOMAIN.md sections 3 to 5, seeds 002 and 003): colleagues,
// accountant access, collaborators, and the authorization answer.

func init() {
	queryParams["user_id"] = schema{"name": "user_id", "in": "query",
		"description": "the user asked about (default: the caller)", "schema": str("")}
	queryParams["action"] = schema{"name": "action", "in": "query", "required": true,
		"description": "an action of the permission table", "schema": enum(actionNames()...)}
	queryParams["member_invitation_status"] = schema{"name": "status", "in": "query", "schema": enum("sent", "accepted", "revoked", "expired")}
	queryParams["request_status"] = schema{"name": "status", "in": "query", "description": "default pending",
		"schema": enum(domain.StatusPending, domain.StatusApproved, domain.StatusRejected)}
	// The badge of pending collaboration requests (GET …/badges).
	countPendingCollaborationRequests = func(s *Server, c *gin.Context, org uuid.UUID) (int, error) {
		return s.reader().PendingCollaborationRequests(c.Request.Context(), org)
	}
}

func actionNames() []string {
	var out []string
	for _, a := range domain.Actions() {
		out = append(out, string(a))
	}
	return out
}

func (s *Server) teamRoutes(v1 *gin.RouterGroup) {
	v1.POST("/organizations/:org/member-invitations", s.command(s.inviteMember))
	v1.GET("/organizations/:org/member-invitations", s.consistent("members", "team_invitations"), s.memberInvitations)
	v1.POST("/member-invitations/:id/accept", s.command(s.acceptTeamInvitation(domain.TeamInvitationMember)))
	v1.POST("/member-invitations/:id/revoke", s.command(s.revokeTeamInvitation(domain.TeamInvitationMember)))
	v1.PATCH("/organizations/:org/members/:user_id", s.command(s.changeMemberRole))
	v1.DELETE("/organizations/:org/members/:user_id", s.command(s.removeMember))
	v1.GET("/organizations/:org/authorize", s.consistent("members"), s.authorize)

	v1.POST("/organizations/:org/accountants", s.command(s.grantAccountantAccess))
	v1.GET("/organizations/:org/accountants", s.consistent("members", "team_invitations"), s.accountants)
	v1.DELETE("/organizations/:org/accountants/:user_id", s.command(s.revokeAccountantAccess))
	v1.POST("/accountant-invitations/:id/accept", s.command(s.acceptTeamInvitation(domain.TeamInvitationAccountant)))
	v1.POST("/accountant-invitations/:id/revoke", s.command(s.revokeTeamInvitation(domain.TeamInvitationAccountant)))
	v1.GET("/me/accountant-clients", s.consistent("members", "organizations"), s.accountantClients)

	v1.POST("/organizations/:org/collaborators", s.command(s.createCollaborator))
	v1.GET("/organizations/:org/collaborators", s.consistent("members", "collaborator_invitations"), s.collaborators)
	v1.PATCH("/organizations/:org/collaborators/:user_id", s.command(s.changeCollaboratorPermissions))
	v1.DELETE("/organizations/:org/collaborators/:user_id", s.command(s.removeCollaborator))
	v1.POST("/collaborators/activate", s.command(s.activateCollaborator))
	v1.POST("/collaboration-requests", s.command(s.requestCollaboration))
	v1.GET("/organizations/:org/collaboration-requests", s.consistent("members", "collaboration_requests"), s.collaborationRequests)
	v1.POST("/organizations/:org/collaboration-requests/:id/approve", s.command(s.approveCollaborationRequest))
	v1.POST("/organizations/:org/collaboration-requests/:id/reject", s.command(s.rejectCollaborationRequest))
}

// link builds a web-app link holding a token.
func (s *Server) link(path, token string) *string {
	l := s.cfg.PublicURL + path + url.PathEscape(token)
	return &l
}

// pathUserID reads a user id from the path (the token's sub: 1 to 128
// characters); anything else names nobody.
func pathUserID(c *gin.Context, what string) (string, error) {
	id := c.Param("user_id")
	if id == "" || len(id) > 128 || !utf8.ValidString(id) {
		return "", domain.Errorf(domain.CodeNotFound, "No such %s in this organization.", what)
	}
	return id, nil
}

// orgParam reads the organization of an org-scoped command.
func orgParam(c *gin.Context) (uuid.UUID, error) { return pathUUID(c, "org", "organization") }

// noBody accepts an empty body or a JSON object (whose fields are ignored).
func noBody(body []byte) error { return decodeBody(body, &struct{}{}) }

// =============================================================================
// Views

// memberView is a membership as a command leaves it.
type memberView struct {
	OrganizationID  uuid.UUID `json:"organization_id"`
	UserID          string    `json:"user_id"`
	Email           string    `json:"email"`
	Name            string    `json:"name"`
	Role            string    `json:"role"`
	CanPurchase     bool      `json:"can_purchase"`
	CanSeeAllOrders bool      `json:"can_see_all_orders"`
	Since           time.Time `json:"since"`
}

func viewMember(org uuid.UUID, m domain.Member, since time.Time) memberView {
	return memberView{OrganizationID: org, UserID: m.UserID, Email: m.Email.Value, Name: m.Name.Value, Role: m.Role.String(),
		CanPurchase: m.CanPurchase, CanSeeAllOrders: m.CanSeeAllOrders, Since: since.UTC()}
}

// teamInvitationView is a colleague's or accountant's invitation.
type teamInvitationView struct {
	ID             uuid.UUID `json:"id"`
	OrganizationID uuid.UUID `json:"organization_id"`
	Status         string    `json:"status"`
	Email          string    `json:"email"`
	Role           string    `json:"role"`
	ExpiresAt      time.Time `json:"expires_at"`
}

func (s *Server) viewTeamInvitation(inv *domain.TeamInvitation) teamInvitationView {
	return teamInvitationView{ID: inv.ID, OrganizationID: inv.OrganizationID, Status: inv.StatusAt(s.cfg.App.Now()).String(),
		Email: inv.Email.Value, Role: inv.Role.String(), ExpiresAt: inv.ExpiresAt.UTC()}
}

// teamSentView answers an invitation: it holds the one copy of the link's
// token (null in an Idempotency-Key replay).
type teamSentView struct {
	teamInvitationView
	InvitationURL *string `json:"invitation_url"`
	Token         *string `json:"token"`
}

// =============================================================================
// Colleagues

type inviteMemberRequest struct {
	Email  *string `json:"email"`
	Role   *string `json:"role"`
	Locale *string `json:"locale"`
}

func (s *Server) inviteMember(c *gin.Context, body []byte) (answer, error) {
	org, err := orgParam(c)
	if err != nil {
		return answer{}, err
	}
	var req inviteMemberRequest
	if err := decodeBody(body, &req); err != nil {
		return answer{}, err
	}
	var v domain.Validation
	email := domain.ParseField(&v, "email", deref(req.Email), domain.ParseEmail)
	role := domain.ParseField(&v, "role", deref(req.Role), domain.ParseInvitedRole)
	loc := locale(c, req.Locale, &v)
	if err := v.Err(); err != nil {
		return answer{}, err
	}
	sent, err := s.cfg.App.InviteMember(c.Request.Context(), s.actor(c), org, email, role, loc)
	if err != nil {
		return answer{}, err
	}
	return s.teamSentAnswer(sent, "/member-invitations/"), nil
}

func (s *Server) teamSentAnswer(sent app.TeamSent, linkPath string) answer {
	token := sent.Token
	return answer{status: http.StatusCreated, position: sent.Result.Position, secrets: []string{"token", "invitation_url"},
		people: []domain.PersonRef{sent.Invitation.EmailRef},
		body:   teamSentView{teamInvitationView: s.viewTeamInvitation(sent.Invitation), InvitationURL: s.link(linkPath, token), Token: &token}}
}

type tokenRequest struct {
	Token *string `json:"token"`
}

func (s *Server) acceptTeamInvitation(kind domain.TeamInvitationKind) commandFunc {
	return func(c *gin.Context, body []byte) (answer, error) {
		id, err := pathUUID(c, "id", "invitation")
		if err != nil {
			return answer{}, err
		}
		var req tokenRequest
		if err := decodeBody(body, &req); err != nil {
			return answer{}, err
		}
		if len(deref(req.Token)) > 256 {
			return answer{}, domain.Invalid("token", "is not a token this service gave")
		}
		actor := s.actor(c)
		j, err := s.cfg.App.AcceptTeamInvitation(c.Request.Context(), actor, kind, id, deref(req.Token))
		if err != nil {
			return answer{}, err
		}
		return answer{status: http.StatusOK, position: j.Result.Position, people: []domain.PersonRef{j.Invitation.EmailRef},
			body: gin.H{"invitation": s.viewTeamInvitation(j.Invitation), "membership": viewMember(j.Invitation.OrganizationID, j.Member, j.Since)}}, nil
	}
}

func (s *Server) revokeTeamInvitation(kind domain.TeamInvitationKind) commandFunc {
	return func(c *gin.Context, body []byte) (answer, error) {
		id, err := pathUUID(c, "id", "invitation")
		if err != nil {
			return answer{}, err
		}
		if err := noBody(body); err != nil {
			return answer{}, err
		}
		inv, res, err := s.cfg.App.RevokeTeamInvitation(c.Request.Context(), s.actor(c), kind, id)
		if err != nil {
			return answer{}, err
		}
		return answer{status: http.StatusOK, position: res.Position, body: s.viewTeamInvitation(inv), people: []domain.PersonRef{inv.EmailRef}}, nil
	}
}

func (s *Server) memberInvitations(c *gin.Context) {
	org, _, err := s.member(c, domain.ActionMembersManage)
	if err != nil {
		writeProblem(c, err)
		return
	}
	status := c.Query("status")
	switch status {
	case "", domain.StatusSent.String(), domain.StatusAccepted.String(), domain.StatusRevoked.String(), domain.StatusExpired.String():
	default:
		writeProblem(c, domain.Invalid("status", "must be one of sent, accepted, revoked, expired"))
		return
	}
	page, err := pageOf(c, 2)
	if err != nil {
		writeProblem(c, err)
		return
	}
	items, next, err := s.reader().MemberInvitations(c.Request.Context(), org, status, s.cfg.Now(), page)
	writeList(c, items, next, err)
}

type changeRoleRequest struct {
	Role *string `json:"role"`
}

func (s *Server) changeMemberRole(c *gin.Context, body []byte) (answer, error) {
	org, err := orgParam(c)
	if err != nil {
		return answer{}, err
	}
	userID, err := pathUserID(c, "member")
	if err != nil {
		return answer{}, err
	}
	var req changeRoleRequest
	if err := decodeBody(body, &req); err != nil {
		return answer{}, err
	}
	var v domain.Validation
	role := domain.ParseField(&v, "role", deref(req.Role), domain.ParseTeamRole)
	if err := v.Err(); err != nil {
		return answer{}, err
	}
	ch, err := s.cfg.App.ChangeMemberRole(c.Request.Context(), s.actor(c), org, userID, role)
	if err != nil {
		return answer{}, err
	}
	return answer{status: http.StatusOK, position: ch.Result.Position, body: viewMember(org, ch.Member, ch.Since),
		people: []domain.PersonRef{ch.Member.Email.Owner}}, nil
}

func (s *Server) removeMember(c *gin.Context, body []byte) (answer, error) {
	return s.removal(c, body, "member", s.cfg.App.RemoveMember)
}

// removal runs a DELETE of a membership: 204 with the position.
func (s *Server) removal(c *gin.Context, body []byte, what string,
	run func(ctx context.Context, actor domain.Actor, org uuid.UUID, userID string) (eventstore.Result, error)) (answer, error) {
	org, err := orgParam(c)
	if err != nil {
		return answer{}, err
	}
	userID, err := pathUserID(c, what)
	if err != nil {
		return answer{}, err
	}
	if err := noBody(body); err != nil {
		return answer{}, err
	}
	res, err := run(c.Request.Context(), s.actor(c), org, userID)
	if err != nil {
		return answer{}, err
	}
	return answer{status: http.StatusNoContent, position: res.Position}, nil
}

// authorizationView answers "may user U do action A here?".
type authorizationView struct {
	Allowed bool    `json:"allowed"`
	Role    *string `json:"role"`
	Reason  string  `json:"reason"`
}

// authorize answers from the members read model (so ?min_position= with a
// revocation's or a removal's position answers without it), for a member
// of the organization asking.
func (s *Server) authorize(c *gin.Context) {
	org, _, err := s.member(c, domain.ActionMembersRead)
	if err != nil {
		writeProblem(c, err)
		return
	}
	var v domain.Validation
	action := domain.ParseField(&v, "action", c.Query("action"), domain.ParseAction)
	userID, asked := c.GetQuery("user_id")
	if !asked {
		p, _ := principalOf(c)
		userID = p.Subject
	}
	v.Check(userID == "" || len(userID) > 128 || !utf8.ValidString(userID), "user_id", "must be a user id (1 to 128 characters)")
	if err := v.Err(); err != nil {
		writeProblem(c, err)
		return
	}
	g, err := s.reader().Grant(c.Request.Context(), org, userID)
	if err != nil {
		writeProblem(c, err)
		return
	}
	d := domain.Authorize(g, action)
	view := authorizationView{Allowed: d.Allowed, Reason: d.Reason}
	if g.Role != "" {
		view.Role = &g.Role
	}
	c.JSON(http.StatusOK, view)
}

// =============================================================================
// Accountant access

func (s *Server) grantAccountantAccess(c *gin.Context, body []byte) (answer, error) {
	in, err := emailInvitationInput(c, body)
	if err != nil {
		return answer{}, err
	}
	sent, err := s.cfg.App.GrantAccountantAccess(c.Request.Context(), s.actor(c), in.Org, in.Email, in.Message, in.Locale)
	if err != nil {
		return answer{}, err
	}
	return s.teamSentAnswer(sent, "/accountant-invitations/"), nil
}

func (s *Server) accountants(c *gin.Context) {
	org, _, err := s.member(c, domain.ActionMembersManage)
	if err != nil {
		writeProblem(c, err)
		return
	}
	page, err := pageOf(c, 3)
	if err != nil {
		writeProblem(c, err)
		return
	}
	items, next, err := s.reader().Accountants(c.Request.Context(), org, s.cfg.Now(), page)
	writeList(c, items, next, err)
}

func (s *Server) revokeAccountantAccess(c *gin.Context, body []byte) (answer, error) {
	return s.removal(c, body, "accountant", s.cfg.App.RevokeAccountantAccess)
}

func (s *Server) accountantClients(c *gin.Context) {
	page, err := pageOf(c, 2)
	if err != nil {
		writeProblem(c, err)
		return
	}
	p, _ := principalOf(c)
	items, next, err := s.reader().AccountantClients(c.Request.Context(), p.Subject, page)
	writeList(c, items, next, err)
}

// =============================================================================
// Collaborators

type createCollaboratorRequest struct {
	FirstName       *string `json:"first_name"`
	LastName        *string `json:"last_name"`
	Email           *string `json:"email"`
	Phone           *string `json:"phone"`
	CanPurchase     *bool   `json:"can_purchase"`
	CanSeeAllOrders *bool   `json:"can_see_all_orders"`
	Locale          *string `json:"locale"`
}

// collaboratorInvitedView answers the creation of a collaborator account:
// it holds the one copy of the activation link's token.
type collaboratorInvitedView struct {
	ID              uuid.UUID `json:"id"`
	OrganizationID  uuid.UUID `json:"organization_id"`
	Status          string    `json:"status"`
	FirstName       string    `json:"first_name"`
	LastName        string    `json:"last_name"`
	Email           string    `json:"email"`
	Phone           string    `json:"phone"`
	CanPurchase     bool      `json:"can_purchase"`
	CanSeeAllOrders bool      `json:"can_see_all_orders"`
	ExpiresAt       time.Time `json:"expires_at"`
	ActivationURL   *string   `json:"activation_url"`
	Token           *string   `json:"token"`
}

func (s *Server) createCollaborator(c *gin.Context, body []byte) (answer, error) {
	org, err := orgParam(c)
	if err != nil {
		return answer{}, err
	}
	var req createCollaboratorRequest
	if err := decodeBody(body, &req); err != nil {
		return answer{}, err
	}
	var v domain.Validation
	n := app.NewCollaborator{
		FirstName:       domain.ParseField(&v, "first_name", deref(req.FirstName), domain.ParseFirstName),
		LastName:        domain.ParseField(&v, "last_name", deref(req.LastName), domain.ParseLastName),
		Email:           domain.ParseField(&v, "email", deref(req.Email), domain.ParseEmail),
		Phone:           domain.ParseField(&v, "phone", deref(req.Phone), domain.ParsePhone),
		CanPurchase:     req.CanPurchase != nil && *req.CanPurchase,
		CanSeeAllOrders: req.CanSeeAllOrders != nil && *req.CanSeeAllOrders,
		Locale:          locale(c, req.Locale, &v),
	}
	if err := v.Err(); err != nil {
		return answer{}, err
	}
	sent, err := s.cfg.App.CreateCollaborator(c.Request.Context(), s.actor(c), org, n)
	if err != nil {
		return answer{}, err
	}
	inv, token := sent.Invitation, sent.Token
	return answer{status: http.StatusCreated, position: sent.Result.Position, secrets: []string{"token", "activation_url"},
		people: []domain.PersonRef{inv.EmailRef},
		body: collaboratorInvitedView{ID: inv.ID, OrganizationID: inv.OrganizationID, Status: inv.StatusAt(s.cfg.App.Now()).String(),
			FirstName: inv.FirstName.Value, LastName: inv.LastName.Value, Email: inv.Email.Value, Phone: inv.Phone.Value,
			CanPurchase: inv.CanPurchase, CanSeeAllOrders: inv.CanSeeAllOrders, ExpiresAt: inv.ExpiresAt.UTC(),
			ActivationURL: s.link("/collaborators/activate/", token), Token: &token}}, nil
}

func (s *Server) activateCollaborator(c *gin.Context, body []byte) (answer, error) {
	var req tokenRequest
	if err := decodeBody(body, &req); err != nil {
		return answer{}, err
	}
	var v domain.Validation
	v.Check(deref(req.Token) == "", "token", "is required: it is in the activation link")
	v.Check(len(deref(req.Token)) > 256, "token", "is not a token this service gave")
	if err := v.Err(); err != nil {
		return answer{}, err
	}
	j, err := s.cfg.App.ActivateCollaborator(c.Request.Context(), s.actor(c), *req.Token)
	if err != nil {
		return answer{}, err
	}
	return answer{status: http.StatusOK, position: j.Result.Position, body: viewMember(j.OrganizationID, j.Member, j.Since),
		people: []domain.PersonRef{j.Member.Email.Owner}}, nil
}

type permissionsRequest struct {
	CanPurchase     *bool `json:"can_purchase"`
	CanSeeAllOrders *bool `json:"can_see_all_orders"`
}

func (s *Server) changeCollaboratorPermissions(c *gin.Context, body []byte) (answer, error) {
	org, err := orgParam(c)
	if err != nil {
		return answer{}, err
	}
	userID, err := pathUserID(c, "collaborator")
	if err != nil {
		return answer{}, err
	}
	var req permissionsRequest
	if err := decodeBody(body, &req); err != nil {
		return answer{}, err
	}
	if req.CanPurchase == nil && req.CanSeeAllOrders == nil {
		return answer{}, domain.Invalid("can_purchase", "give can_purchase, can_see_all_orders or both (true or false)")
	}
	ch, err := s.cfg.App.ChangeCollaboratorPermissions(c.Request.Context(), s.actor(c), org, userID, req.CanPurchase, req.CanSeeAllOrders)
	if err != nil {
		return answer{}, err
	}
	return answer{status: http.StatusOK, position: ch.Result.Position, body: viewMember(org, ch.Member, ch.Since),
		people: []domain.PersonRef{ch.Member.Email.Owner}}, nil
}

func (s *Server) removeCollaborator(c *gin.Context, body []byte) (answer, error) {
	return s.removal(c, body, "collaborator", s.cfg.App.RemoveCollaborator)
}

func (s *Server) collaborators(c *gin.Context) {
	org, _, err := s.member(c, domain.ActionMembersRead)
	if err != nil {
		writeProblem(c, err)
		return
	}
	page, err := pageOf(c, 1)
	if err != nil {
		writeProblem(c, err)
		return
	}
	var items []projections.CollaboratorView
	var next string
	err = s.read(c, org, []string{"members", "collaborator_invitations"}, nil, func(ctx context.Context, r projections.Reader, _ time.Time) error {
		items, next, err = r.Collaborators(ctx, org, page)
		return err
	})
	writeList(c, items, next, err)
}

// =============================================================================
// Collaboration requests

type collaborationRequestRequest struct {
	Target *string `json:"target"`
}

// requestedView is the answer to a collaboration request: the same shape,
// status and headers whether or not the target exists.
type requestedView struct {
	ID     uuid.UUID `json:"id"`
	Status string    `json:"status"`
}

func (s *Server) requestCollaboration(c *gin.Context, body []byte) (answer, error) {
	var req collaborationRequestRequest
	if err := decodeBody(body, &req); err != nil {
		return answer{}, err
	}
	siret, email, err := domain.ParseCollaborationTarget(deref(req.Target))
	if err != nil {
		return answer{}, err
	}
	r, err := s.cfg.App.RequestCollaboration(c.Request.Context(), s.actor(c), siret, email)
	if err != nil {
		return answer{}, err
	}
	return answer{status: http.StatusAccepted, position: r.Result.Position, body: requestedView{ID: r.RequestID, Status: domain.StatusPending}}, nil
}

func (s *Server) collaborationRequests(c *gin.Context) {
	org, _, err := s.member(c, domain.ActionMembersManage)
	if err != nil {
		writeProblem(c, err)
		return
	}
	status := c.DefaultQuery("status", domain.StatusPending)
	switch status {
	case domain.StatusPending, domain.StatusApproved, domain.StatusRejected:
	default:
		writeProblem(c, domain.Invalid("status", "must be one of pending, approved, rejected"))
		return
	}
	page, err := pageOf(c, 2)
	if err != nil {
		writeProblem(c, err)
		return
	}
	items, next, err := s.reader().CollaborationRequests(c.Request.Context(), org, status, page)
	writeList(c, items, next, err)
}

type approveRequest struct {
	CanPurchase     *bool `json:"can_purchase"`
	CanSeeAllOrders *bool `json:"can_see_all_orders"`
}

func (s *Server) requestInput(c *gin.Context) (uuid.UUID, uuid.UUID, error) {
	org, err := orgParam(c)
	if err != nil {
		return uuid.Nil, uuid.Nil, err
	}
	id, err := pathUUID(c, "id", "collaboration request")
	return org, id, err
}

func (s *Server) approveCollaborationRequest(c *gin.Context, body []byte) (answer, error) {
	org, id, err := s.requestInput(c)
	if err != nil {
		return answer{}, err
	}
	var req approveRequest
	if err := decodeBody(body, &req); err != nil {
		return answer{}, err
	}
	out, err := s.cfg.App.ApproveCollaborationRequest(c.Request.Context(), s.actor(c), org, id,
		req.CanPurchase != nil && *req.CanPurchase, req.CanSeeAllOrders != nil && *req.CanSeeAllOrders)
	if err != nil {
		return answer{}, err
	}
	j := out.Joined
	return answer{status: http.StatusOK, position: out.Result.Position, people: []domain.PersonRef{j.Member.Email.Owner},
		body: gin.H{"request": requestedView{ID: id, Status: out.Request.StatusFor(org)}, "membership": viewMember(org, j.Member, j.Since)}}, nil
}

func (s *Server) rejectCollaborationRequest(c *gin.Context, body []byte) (answer, error) {
	org, id, err := s.requestInput(c)
	if err != nil {
		return answer{}, err
	}
	if err := noBody(body); err != nil {
		return answer{}, err
	}
	out, err := s.cfg.App.RejectCollaborationRequest(c.Request.Context(), s.actor(c), org, id)
	if err != nil {
		return answer{}, err
	}
	return answer{status: http.StatusOK, position: out.Result.Position, body: requestedView{ID: id, Status: out.Request.StatusFor(org)}}, nil
}

// =============================================================================
// OpenAPI

var (
	roleEnum   = enum("owner", "admin", "member", "accountant", "collaborator")
	tokenBody  = obj(nil, schema{"token": str("")})
	localeProp = enum("fr", "en", "de")

	teamComponents = schema{
		"TeamMember": obj([]string{"organization_id", "user_id", "email", "name", "role", "can_purchase", "can_see_all_orders", "since"}, schema{
			"organization_id": str("uuid"), "user_id": str(""), "email": str(""), "name": str(""), "role": roleEnum,
			"can_purchase": boolean, "can_see_all_orders": boolean, "since": str("date-time"),
		}),
		"TeamInvitation": obj([]string{"id", "organization_id", "status", "email", "role", "expires_at"}, schema{
			"id": str("uuid"), "organization_id": str("uuid"), "status": enum("sent", "accepted", "revoked", "expired"),
			"email": str(""), "role": enum("admin", "member", "accountant"), "expires_at": str("date-time"),
		}),
		"TeamInvitationSent": obj([]string{"id", "organization_id", "status", "email", "role", "expires_at", "invitation_url", "token"}, schema{
			"id": str("uuid"), "organization_id": str("uuid"), "status": enum("sent"), "email": str(""),
			"role": enum("admin", "member", "accountant"), "expires_at": str("date-time"),
			"invitation_url": nullable(str("uri")), "token": nullable(str("")),
		}),
		"TeamInvitationAccepted": obj([]string{"invitation", "membership"}, schema{"invitation": ref("TeamInvitation"), "membership": ref("TeamMember")}),
		"TeamInvitationRow": obj([]string{"id", "email", "role", "status", "invited_by", "sent_at", "expires_at", "answered_at", "accepted_by"}, schema{
			"id": str("uuid"), "email": str(""), "role": enum("admin", "member"), "status": enum("sent", "accepted", "revoked", "expired"),
			"invited_by": str(""), "sent_at": str("date-time"), "expires_at": str("date-time"),
			"answered_at": nullable(str("date-time")), "accepted_by": nullable(str("")),
		}),
		"Authorization": obj([]string{"allowed", "role", "reason"}, schema{"allowed": boolean, "role": nullable(roleEnum), "reason": str("")}),
		"Accountant": obj([]string{"status", "user_id", "email", "name", "invitation_id", "since", "sent_at", "expires_at"}, schema{
			"status": enum("granted", "pending"), "user_id": nullable(str("")), "email": str(""), "name": nullable(str("")),
			"invitation_id": nullable(str("uuid")), "since": nullable(str("date-time")), "sent_at": nullable(str("date-time")),
			"expires_at": nullable(str("date-time")),
		}),
		"AccountantClient": obj([]string{"organization_id", "name", "side", "siret", "since"}, schema{
			"organization_id": str("uuid"), "name": str(""), "side": enum("client", "subcontractor"), "siret": nullable(str("")), "since": str("date-time"),
		}),
		"CollaboratorInvited": obj([]string{"id", "organization_id", "status", "first_name", "last_name", "email", "phone", "can_purchase",
			"can_see_all_orders", "expires_at", "activation_url", "token"}, schema{
			"id": str("uuid"), "organization_id": str("uuid"), "status": enum("invited"), "first_name": str(""), "last_name": str(""),
			"email": str(""), "phone": str(""), "can_purchase": boolean, "can_see_all_orders": boolean, "expires_at": str("date-time"),
			"activation_url": nullable(str("uri")), "token": nullable(str("")),
		}),
		"Collaborator": obj([]string{"user_id", "email", "name", "first_name", "last_name", "phone", "can_purchase", "can_see_all_orders", "via", "since"}, schema{
			"user_id": str(""), "email": str(""), "name": str(""), "first_name": nullable(str("")), "last_name": nullable(str("")),
			"phone": nullable(str("")), "can_purchase": boolean, "can_see_all_orders": boolean,
			"via": enum(domain.ViaCollaboratorInvite, domain.ViaCollaborationRequest), "since": str("date-time"),
		}),
		"CollaborationRequested": obj([]string{"id", "status"}, schema{"id": str("uuid"), "status": enum("pending", "approved", "rejected")}),
		"CollaborationRequest": obj([]string{"id", "requester", "matched_by", "status", "requested_at", "answered_at", "can_purchase", "can_see_all_orders"}, schema{
			"id":         str("uuid"),
			"requester":  obj([]string{"user_id", "email", "name"}, schema{"user_id": str(""), "email": str(""), "name": str("")}),
			"matched_by": enum("siret", "email"), "status": enum("pending", "approved", "rejected"), "requested_at": str("date-time"),
			"answered_at": nullable(str("date-time")), "can_purchase": nullable(boolean), "can_see_all_orders": nullable(boolean),
		}),
	}

	permissionsBody = obj(nil, schema{"can_purchase": boolean, "can_see_all_orders": boolean})

	teamEndpoints = []endpoint{
		{method: "POST", path: "/v1/organizations/{org}/member-invitations", summary: "Invite a colleague by email as admin or member (owners invite admins)", command: true,
			request: obj([]string{"email", "role"}, schema{"email": str("email"), "role": enum("admin", "member"), "locale": localeProp}),
			status:  201, response: ref("TeamInvitationSent")},
		{method: "GET", path: "/v1/organizations/{org}/member-invitations", summary: "Colleague invitations, pending and answered", status: 200,
			response: listOfSchema(ref("TeamInvitationRow")), query: []string{"member_invitation_status", "limit", "cursor"}},
		{method: "POST", path: "/v1/member-invitations/{id}/accept", summary: "Join as the invited colleague: with the link's token from any account, or without it with the invited verified email",
			command: true, request: tokenBody, status: 200, response: ref("TeamInvitationAccepted")},
		{method: "POST", path: "/v1/member-invitations/{id}/revoke", summary: "Withdraw a colleague invitation", command: true, status: 200, response: ref("TeamInvitation")},
		{method: "PATCH", path: "/v1/organizations/{org}/members/{user_id}", summary: "Change a colleague's role (owners change any role; admins members only; the last owner stays)",
			command: true, request: obj([]string{"role"}, schema{"role": enum("owner", "admin", "member")}), status: 200, response: ref("TeamMember")},
		{method: "DELETE", path: "/v1/organizations/{org}/members/{user_id}", summary: "Remove a colleague (not the last owner)", command: true, status: 204},
		{method: "GET", path: "/v1/organizations/{org}/authorize", summary: "May this user do this action here? From the permission table and the current memberships",
			status: 200, response: ref("Authorization"), query: []string{"user_id", "action"}},
		{method: "POST", path: "/v1/organizations/{org}/accountants", summary: "GrantAccountantAccess: invite the accountant by email", command: true,
			request: obj([]string{"email"}, schema{"email": str("email"), "message": str(""), "locale": localeProp}), status: 201, response: ref("TeamInvitationSent")},
		{method: "GET", path: "/v1/organizations/{org}/accountants", summary: "Accountant access, granted and pending, with invitation ids", status: 200,
			response: listOfSchema(ref("Accountant")), query: []string{"limit", "cursor"}},
		{method: "DELETE", path: "/v1/organizations/{org}/accountants/{user_id}", summary: "Revoke an accountant's access", command: true, status: 204},
		{method: "POST", path: "/v1/accountant-invitations/{id}/accept", summary: "Accept accountant access: with the link's token from any account, or without it with the invited verified email",
			command: true, request: tokenBody, status: 200, response: ref("TeamInvitationAccepted")},
		{method: "POST", path: "/v1/accountant-invitations/{id}/revoke", summary: "Withdraw an accountant invitation before it is accepted", command: true, status: 200, response: ref("TeamInvitation")},
		{method: "GET", path: "/v1/me/accountant-clients", summary: "The organizations the caller serves as accountant", status: 200,
			response: listOfSchema(ref("AccountantClient")), query: []string{"limit", "cursor"}},
		{method: "POST", path: "/v1/organizations/{org}/collaborators", summary: "Create a collaborator account; the person activates it from the emailed link", command: true,
			request: obj([]string{"first_name", "last_name", "email", "phone"}, schema{"first_name": str(""), "last_name": str(""), "email": str("email"),
				"phone": str(""), "can_purchase": boolean, "can_see_all_orders": boolean, "locale": localeProp}),
			status: 201, response: ref("CollaboratorInvited")},
		{method: "GET", path: "/v1/organizations/{org}/collaborators", summary: "Collaborators and their permissions", status: 200,
			response: listOfSchema(ref("Collaborator")), query: []string{"limit", "cursor", "as_of"}},
		{method: "PATCH", path: "/v1/organizations/{org}/collaborators/{user_id}", summary: "Change a collaborator's permissions", command: true,
			request: permissionsBody, status: 200, response: ref("TeamMember")},
		{method: "DELETE", path: "/v1/organizations/{org}/collaborators/{user_id}", summary: "Remove a collaborator", command: true, status: 204},
		{method: "POST", path: "/v1/collaborators/activate", summary: "Activate a collaborator account with the emailed token (signed in with any account)", command: true,
			request: obj([]string{"token"}, schema{"token": str("")}), status: 200, response: ref("TeamMember")},
		{method: "POST", path: "/v1/collaboration-requests", summary: "Ask to be attached to an account by its SIRET or its owner's email; the answer is the same whether or not it exists",
			command: true, request: obj([]string{"target"}, schema{"target": str("")}), status: 202, response: ref("CollaborationRequested")},
		{method: "GET", path: "/v1/organizations/{org}/collaboration-requests", summary: "Collaboration requests received (default: pending)", status: 200,
			response: listOfSchema(ref("CollaborationRequest")), query: []string{"request_status", "limit", "cursor"}},
		{method: "POST", path: "/v1/organizations/{org}/collaboration-requests/{id}/approve", summary: "Attach the requester as a collaborator with two permissions", command: true,
			request: permissionsBody, status: 200, response: obj([]string{"request", "membership"}, schema{"request": ref("CollaborationRequested"), "membership": ref("TeamMember")})},
		{method: "POST", path: "/v1/organizations/{org}/collaboration-requests/{id}/reject", summary: "Reject a collaboration request", command: true,
			status: 200, response: ref("CollaborationRequested")},
	}
)
