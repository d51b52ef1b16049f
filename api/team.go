package api

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"partners/api/auth"
	"partners/app"
	"partners/domain"
	"partners/eventstore"
)

// The team (DOMAIN.md sections 3 to 5, seeds 002 and 003): colleagues,
// accountant access, collaborators, and the authorization answer, each in
// its file (team_*.go). Here: what they share.

func (s *Server) teamRoutes(v1 *gin.RouterGroup) {
	s.colleagueRoutes(v1)
	s.authorizeRoutes(v1)
	s.accountantRoutes(v1)
	s.collaboratorRoutes(v1)
}

// link builds a web-app link holding a token.
func (s *Server) link(path, token string) *string {
	l := s.cfg.PublicURL + path + url.PathEscape(token)
	return &l
}

// pathUserID reads a user id from the path (the token's sub, by its one
// rule: auth.ValidSubject); anything else names nobody.
func pathUserID(c *gin.Context, what string) (string, error) {
	id := c.Param("user_id")
	if !auth.ValidSubject(id) {
		return "", domain.Errorf(domain.CodeNotFound, "No such %s in this organization.", what)
	}
	return id, nil
}

// pathMember reads the organization and the user id of a membership's path.
func pathMember(c *gin.Context, what string) (uuid.UUID, string, error) {
	org, err := orgParam(c)
	if err != nil {
		return uuid.Nil, "", err
	}
	userID, err := pathUserID(c, what)
	return org, userID, err
}

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
// Invitations by token (colleagues and accountants) and removals

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

// =============================================================================
// Link previews (colleagues, accountants, collaborators)

// orgRefView names an organization.
type orgRefView struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

// linkPreviewView is what a team invitation's link shows on its landing
// page before anyone signs in: who invites (the organization, and the
// person by name), to which organization, with which role, whether the
// link still works and until when. Never the invited email: whoever
// holds the link may not be its addressee.
type linkPreviewView struct {
	ID      uuid.UUID  `json:"id"`
	Inviter orgRefView `json:"inviter"`
	// InviterName is the person who invites, or the organization when
	// their name is unknown or forgotten (as the email says).
	InviterName  string     `json:"inviter_name"`
	Organization orgRefView `json:"organization"`
	Role         string     `json:"role"`
	Status       string     `json:"status"`
	ExpiresAt    time.Time  `json:"expires_at"`
}

func linkPreviewOf(id, org uuid.UUID, orgName string, inviter domain.Personal, role domain.Role, status string, expires time.Time) linkPreviewView {
	name := inviter.Value
	if name == "" || inviter.IsForgotten() {
		name = orgName
	}
	o := orgRefView{ID: org, Name: orgName}
	return linkPreviewView{ID: id, Inviter: o, InviterName: name, Organization: o, Role: role.String(), Status: status, ExpiresAt: expires.UTC()}
}

// previewToken reads a preview's body: the token, which stays out of URLs.
func previewToken(c *gin.Context) (string, error) {
	var req tokenRequest
	if err := decodeJSON(c, &req); err != nil {
		return "", err
	}
	return deref(req.Token), nil
}

// previewTeamInvitation answers a colleague's or accountant's link.
func (s *Server) previewTeamInvitation(kind domain.TeamInvitationKind) queryFunc {
	return func(c *gin.Context) (any, error) {
		token, err := previewToken(c)
		if err != nil {
			return nil, err
		}
		inv, err := s.cfg.App.TeamInvitationByToken(c.Request.Context(), kind, token)
		if err != nil {
			return nil, err
		}
		return linkPreviewOf(inv.ID, inv.OrganizationID, inv.OrganizationName, inv.InviterName, inv.Role,
			inv.StatusAt(s.cfg.App.Now()).String(), inv.ExpiresAt), nil
	}
}

// removal runs a DELETE of a membership: 204 with the position.
func (s *Server) removal(c *gin.Context, body []byte, what string,
	run func(ctx context.Context, actor domain.Actor, org uuid.UUID, userID string) (eventstore.Result, error)) (answer, error) {
	org, userID, err := pathMember(c, what)
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

// =============================================================================
// OpenAPI

// The team's link previews, in the OpenAPI document.
var (
	previewBody = obj([]string{"token"}, schema{"token": str("")})
	orgRef      = obj([]string{"id", "name"}, schema{"id": str("uuid"), "name": str("")})
	// linkPreviewProps are the properties every team link's preview holds.
	linkPreviewProps = schema{
		"id": str("uuid"), "inviter": orgRef, "inviter_name": str(""), "organization": orgRef,
		"role": enum("admin", "member", "accountant", "collaborator"), "status": enum("sent", "accepted", "revoked", "expired"),
		"expires_at": str("date-time"),
	}
	linkPreviewRequired = []string{"id", "inviter", "inviter_name", "organization", "role", "status", "expires_at"}
)

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
		"LinkPreview":            obj(linkPreviewRequired, linkPreviewProps),
		"TeamInvitationAccepted": obj([]string{"invitation", "membership"}, schema{"invitation": ref("TeamInvitation"), "membership": ref("TeamMember")}),
	}
)
