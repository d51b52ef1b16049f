package api

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"partners/app"
	"partners/domain"
	"partners/projections"
)

// Collaborators (DOMAIN.md section 4, seed 003): accounts an organization
// creates for its collaborators, and collaboration requests people send to
// be attached to one.

func (s *Server) collaboratorRoutes(v1 *gin.RouterGroup) {
	v1.POST("/organizations/:org/collaborators", s.command(s.createCollaborator))
	s.get(v1, "/organizations/:org/collaborators", reads{member: domain.ActionMembersRead, replayed: []string{"members", "collaborator_invitations"}}, s.collaborators)
	v1.PATCH("/organizations/:org/collaborators/:user_id", s.command(s.changeCollaboratorPermissions))
	v1.DELETE("/organizations/:org/collaborators/:user_id", s.command(s.removeCollaborator))
	v1.POST("/collaborators/activate", s.command(s.activateCollaborator))
	s.query(v1, http.MethodPost, "/collaborators/preview", reads{}, s.previewCollaboratorInvitation)
	s.get(v1, "/organizations/:org/collaborator-invitations", reads{member: domain.ActionMembersManage, live: []string{"collaborator_invitations"}},
		s.collaboratorInvitations)
	v1.POST("/collaborator-invitations/:id/resend", s.command(s.resendCollaboratorInvitation))
	v1.POST("/collaborator-invitations/:id/revoke", s.command(s.revokeCollaboratorInvitation))
	v1.POST("/collaboration-requests", s.command(s.requestCollaboration))
	s.get(v1, "/me/collaboration-requests", reads{live: []string{"collaboration_requests", "organizations"}}, s.ownCollaborationRequests)
	s.get(v1, "/organizations/:org/collaboration-requests", reads{member: domain.ActionMembersManage, live: []string{"collaboration_requests"}}, s.collaborationRequests)
	v1.POST("/organizations/:org/collaboration-requests/:id/approve", s.command(s.approveCollaborationRequest))
	v1.POST("/organizations/:org/collaboration-requests/:id/reject", s.command(s.rejectCollaborationRequest))
}

// =============================================================================
// Collaborator accounts

type createCollaboratorRequest struct {
	FirstName       *string `json:"first_name"`
	LastName        *string `json:"last_name"`
	Email           *string `json:"email"`
	Phone           *string `json:"phone"`
	CanPurchase     *bool   `json:"can_purchase"`
	CanSeeAllOrders *bool   `json:"can_see_all_orders"`
	Locale          *string `json:"locale"`
}

// collaboratorInvitationView is a collaborator account as a command on it
// leaves it.
type collaboratorInvitationView struct {
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
}

func (s *Server) viewCollaboratorInvitation(inv *domain.CollaboratorInvitation) collaboratorInvitationView {
	return collaboratorInvitationView{ID: inv.ID, OrganizationID: inv.OrganizationID, Status: inv.StatusAt(s.cfg.App.Now()).String(),
		FirstName: inv.FirstName.Value, LastName: inv.LastName.Value, Email: inv.Email.Value, Phone: inv.Phone.Value,
		CanPurchase: inv.CanPurchase, CanSeeAllOrders: inv.CanSeeAllOrders, ExpiresAt: inv.ExpiresAt.UTC()}
}

// collaboratorInvitedView answers the creation of a collaborator account
// and its resend: it holds the one copy of the activation link's token
// (null in an Idempotency-Key replay).
type collaboratorInvitedView struct {
	collaboratorInvitationView
	ActivationURL *string `json:"activation_url"`
	Token         *string `json:"token"`
}

func (s *Server) collaboratorSentAnswer(status int, sent app.CollaboratorSent) answer {
	token := sent.Token
	return answer{status: status, position: sent.Result.Position, secrets: []string{"token", "activation_url"},
		people: []domain.PersonRef{sent.Invitation.EmailRef},
		body: collaboratorInvitedView{collaboratorInvitationView: s.viewCollaboratorInvitation(sent.Invitation),
			ActivationURL: s.link("/collaborators/activate/", token), Token: &token}}
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
	return s.collaboratorSentAnswer(http.StatusCreated, sent), nil
}

// resendCollaboratorInvitation gives an account not yet activated a new
// activation link; the previous one opens nothing from then on.
func (s *Server) resendCollaboratorInvitation(c *gin.Context, body []byte) (answer, error) {
	id, err := pathUUID(c, "id", "invitation")
	if err != nil {
		return answer{}, err
	}
	loc, err := resendLocale(c, body)
	if err != nil {
		return answer{}, err
	}
	sent, err := s.cfg.App.ResendCollaboratorInvitation(c.Request.Context(), s.actor(c), id, loc)
	if err != nil {
		return answer{}, err
	}
	return s.collaboratorSentAnswer(http.StatusOK, sent), nil
}

// resendLocale reads a resend's body: the language of the new email, from
// the body or the caller's Accept-Language; none keeps the invitation's.
// (The partner invitation's resend reads the same body.)
func resendLocale(c *gin.Context, body []byte) (string, error) {
	var req struct {
		Locale *string `json:"locale"`
	}
	if err := decodeBody(body, &req); err != nil {
		return "", err
	}
	var v domain.Validation
	loc := ""
	if req.Locale != nil || c.GetHeader("Accept-Language") != "" {
		loc = locale(c, req.Locale, &v)
	}
	return loc, v.Err()
}

// revokeCollaboratorInvitation withdraws an account not yet activated:
// its link is refused as withdrawn from then on.
func (s *Server) revokeCollaboratorInvitation(c *gin.Context, body []byte) (answer, error) {
	id, err := pathUUID(c, "id", "invitation")
	if err != nil {
		return answer{}, err
	}
	if err := noBody(body); err != nil {
		return answer{}, err
	}
	inv, res, err := s.cfg.App.RevokeCollaboratorInvitation(c.Request.Context(), s.actor(c), id)
	if err != nil {
		return answer{}, err
	}
	return answer{status: http.StatusOK, position: res.Position, body: s.viewCollaboratorInvitation(inv), people: []domain.PersonRef{inv.EmailRef}}, nil
}

func (s *Server) collaboratorInvitations(c *gin.Context) (any, error) {
	status := c.Query("status")
	if status != "" {
		if _, err := domain.ParseCollaboratorStatus(status); err != nil {
			return nil, err
		}
	}
	return readPage(s, c, 2, nil, func(ctx context.Context, r projections.Reader, now time.Time, p projections.Page) ([]projections.CollaboratorInvitationView, string, error) {
		return r.CollaboratorInvitations(ctx, orgOf(c), status, now, p)
	})
}

// collaboratorPreviewView is what a collaborator account's activation link
// shows before anyone signs in: who creates the account, in which
// organization, with which permissions, and whether the link still works.
type collaboratorPreviewView struct {
	linkPreviewView
	CanPurchase     bool `json:"can_purchase"`
	CanSeeAllOrders bool `json:"can_see_all_orders"`
}

func (s *Server) previewCollaboratorInvitation(c *gin.Context) (any, error) {
	token, err := previewToken(c)
	if err != nil {
		return nil, err
	}
	inv, err := s.cfg.App.CollaboratorInvitationByToken(c.Request.Context(), token)
	if err != nil {
		return nil, err
	}
	return collaboratorPreviewView{
		linkPreviewView: linkPreviewOf(inv.ID, inv.OrganizationID, inv.OrganizationName, inv.InviterName, domain.RoleCollaborator,
			inv.StatusAt(s.cfg.App.Now()).String(), inv.ExpiresAt),
		CanPurchase: inv.CanPurchase, CanSeeAllOrders: inv.CanSeeAllOrders}, nil
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
	org, userID, err := pathMember(c, "collaborator")
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

func (s *Server) collaborators(c *gin.Context) (any, error) {
	return readPage(s, c, 1, nil, func(ctx context.Context, r projections.Reader, _ time.Time, p projections.Page) ([]projections.CollaboratorView, string, error) {
		return r.Collaborators(ctx, orgOf(c), p)
	})
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

func (s *Server) collaborationRequests(c *gin.Context) (any, error) {
	status := c.DefaultQuery("status", domain.StatusPending)
	switch status {
	case domain.StatusPending, domain.StatusApproved, domain.StatusRejected:
	default:
		return nil, domain.Invalid("status", "must be one of pending, approved, rejected")
	}
	return readPage(s, c, 2, nil, func(ctx context.Context, r projections.Reader, _ time.Time, p projections.Page) ([]projections.CollaborationRequestView, string, error) {
		return r.CollaborationRequests(ctx, orgOf(c), status, p)
	})
}

// ownRequestView is a collaboration request as its requester follows it:
// the target as they typed it (null for a request by email recorded before
// the address was kept).
type ownRequestView struct {
	ID     uuid.UUID `json:"id"`
	Target *string   `json:"target"`
	projections.OwnCollaborationRequestView
}

// ownCollaborationRequests lists the caller's own requests. Whether a
// target matched anybody changes nothing: a request nobody answered is
// pending, whatever it reached.
func (s *Server) ownCollaborationRequests(c *gin.Context) (any, error) {
	p, _ := principalOf(c)
	return readPage(s, c, 2, nil, func(ctx context.Context, r projections.Reader, _ time.Time, pg projections.Page) ([]ownRequestView, string, error) {
		rows, next, err := r.OwnCollaborationRequests(ctx, p.Subject, pg)
		if err != nil {
			return nil, "", err
		}
		out := make([]ownRequestView, len(rows))
		for i, row := range rows {
			out[i] = ownRequestView{ID: row.ID, Target: row.TargetSiret, OwnCollaborationRequestView: row}
			if row.ByEmail {
				email, err := s.cfg.App.RequestedEmail(ctx, row.ID)
				if err != nil {
					return nil, "", err
				}
				if email.Value != "" {
					out[i].Target = &email.Value
				}
			}
		}
		return out, next, nil
	})
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

var (
	permissionsBody = obj(nil, schema{"can_purchase": boolean, "can_see_all_orders": boolean})

	collaboratorComponents = schema{
		"CollaboratorLinkPreview": obj(slices.Concat(linkPreviewRequired, []string{"can_purchase", "can_see_all_orders"}),
			overriding(linkPreviewProps, schema{"role": enum("collaborator"), "status": enum("invited", "activated", "revoked", "expired"),
				"can_purchase": boolean, "can_see_all_orders": boolean})),
		"CollaboratorInvitation": obj(collaboratorInvitationRequired, collaboratorInvitationProps),
		"CollaboratorInvitationRow": obj([]string{"id", "first_name", "last_name", "email", "phone", "can_purchase", "can_see_all_orders",
			"status", "sent_at", "expires_at"}, schema{
			"id": str("uuid"), "first_name": str(""), "last_name": str(""), "email": str(""), "phone": str(""), "can_purchase": boolean,
			"can_see_all_orders": boolean, "status": enum("invited", "activated", "revoked", "expired"), "sent_at": str("date-time"),
			"expires_at": str("date-time"),
		}),
		"OwnCollaborationRequest": obj([]string{"id", "target", "status", "requested_at", "answered_at", "organization"}, schema{
			"id": str("uuid"), "target": nullable(str("")), "status": enum("pending", "approved", "rejected"), "requested_at": str("date-time"),
			"answered_at": nullable(str("date-time")), "organization": nullable(orgRef),
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
	collaboratorInvitationProps = schema{
		"id": str("uuid"), "organization_id": str("uuid"), "status": enum("invited", "activated", "revoked", "expired"), "first_name": str(""),
		"last_name": str(""), "email": str(""), "phone": str(""), "can_purchase": boolean, "can_see_all_orders": boolean, "expires_at": str("date-time"),
	}
	collaboratorInvitationRequired = []string{"id", "organization_id", "status", "first_name", "last_name", "email", "phone", "can_purchase",
		"can_see_all_orders", "expires_at"}

	collaboratorEndpoints = []endpoint{
		{method: "POST", path: "/v1/organizations/{org}/collaborators", problems: []domain.Code{domain.CodeAlreadyMember, domain.CodeDuplicatePending}, summary: "Create a collaborator account; the person activates it from the emailed link", command: true,
			request: obj([]string{"first_name", "last_name", "email", "phone"}, schema{"first_name": str(""), "last_name": str(""), "email": emailIn,
				"phone": str(""), "can_purchase": boolean, "can_see_all_orders": boolean, "locale": localeProp}),
			status: 201, response: ref("CollaboratorInvited")},
		{method: "GET", path: "/v1/organizations/{org}/collaborators", summary: "Collaborators and their permissions", status: 200,
			response: listOfSchema(ref("Collaborator")), query: []string{"limit", "cursor", "as_of"}},
		{method: "PATCH", path: "/v1/organizations/{org}/collaborators/{user_id}", summary: "Change a collaborator's permissions", command: true,
			request: permissionsBody, status: 200, response: ref("TeamMember")},
		{method: "DELETE", path: "/v1/organizations/{org}/collaborators/{user_id}", summary: "Remove a collaborator", command: true, status: 204},
		{method: "POST", path: "/v1/collaborators/activate", problems: slices.Concat(closedCodes, []domain.Code{domain.CodeInvalidToken, domain.CodeAlreadyMember}), summary: "Activate a collaborator account with the emailed token (signed in with any account)", command: true,
			request: obj([]string{"token"}, schema{"token": str("")}), status: 200, response: ref("TeamMember")},
		{method: "POST", path: "/v1/collaborators/preview", problems: []domain.Code{domain.CodeNotFound}, summary: "What a collaborator account's activation link shows on its landing page (no authentication; a query: the token in the body keeps it out of URLs)",
			public: true, status: 200, request: previewBody, response: ref("CollaboratorLinkPreview")},
		{method: "GET", path: "/v1/organizations/{org}/collaborator-invitations", summary: "Collaborator accounts created, activated or not, the last sent first", status: 200,
			response: listOfSchema(ref("CollaboratorInvitationRow")), query: []string{"collaborator_invitation_status", "limit", "cursor"}},
		{method: "POST", path: "/v1/collaborator-invitations/{id}/resend", problems: slices.Concat(closedCodes, []domain.Code{domain.CodeDuplicatePending}), summary: "Send the activation email again with a new link (the previous one dies) and a new expiry", command: true,
			request: obj(nil, schema{"locale": localeProp}), status: 200, response: ref("CollaboratorInvited")},
		{method: "POST", path: "/v1/collaborator-invitations/{id}/revoke", problems: closedCodes, summary: "Withdraw a collaborator account not yet activated; its link is then refused", command: true,
			status: 200, response: ref("CollaboratorInvitation")},
		{method: "GET", path: "/v1/me/collaboration-requests", summary: "The caller's own collaboration requests (one that matched nobody stays pending)", status: 200,
			response: listOfSchema(ref("OwnCollaborationRequest")), query: []string{"limit", "cursor"}},
		{method: "POST", path: "/v1/collaboration-requests", summary: "Ask to be attached to an account by its SIRET or its owner's email; the answer is the same whether or not it exists",
			command: true, request: obj([]string{"target"}, schema{"target": str("")}), status: 202, response: ref("CollaborationRequested")},
		{method: "GET", path: "/v1/organizations/{org}/collaboration-requests", summary: "Collaboration requests received (default: pending)", status: 200,
			response: listOfSchema(ref("CollaborationRequest")), query: []string{"request_status", "limit", "cursor"}},
		{method: "POST", path: "/v1/organizations/{org}/collaboration-requests/{id}/approve", problems: []domain.Code{domain.CodeCollaborationRequestAnswered, domain.CodeAlreadyMember}, summary: "Attach the requester as a collaborator with two permissions", command: true,
			request: permissionsBody, status: 200, response: obj([]string{"request", "membership"}, schema{"request": ref("CollaborationRequested"), "membership": ref("TeamMember")})},
		{method: "POST", path: "/v1/organizations/{org}/collaboration-requests/{id}/reject", problems: []domain.Code{domain.CodeCollaborationRequestAnswered}, summary: "Reject a collaboration request", command: true,
			status: 200, response: ref("CollaborationRequested")},
	}
)

// overriding is base with over's properties added or put in their place.
func overriding(base, over schema) schema {
	out := maps.Clone(base)
	maps.Copy(out, over)
	return out
}
