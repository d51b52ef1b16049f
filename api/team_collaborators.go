package api

import (
	"context"
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
	v1.POST("/collaboration-requests", s.command(s.requestCollaboration))
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
