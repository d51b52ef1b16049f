package api

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"partners/domain"
	"partners/projections"
)

// Accountant access (DOMAIN.md section 4): an organization invites its
// accountant by email; the accountant sees the organizations they serve.

func (s *Server) accountantRoutes(v1 *gin.RouterGroup) {
	v1.POST("/organizations/:org/accountants", s.command(s.grantAccountantAccess))
	s.get(v1, "/organizations/:org/accountants", reads{member: domain.ActionMembersManage, live: []string{"team_invitations"}}, s.accountants)
	v1.DELETE("/organizations/:org/accountants/:user_id", s.command(s.revokeAccountantAccess))
	v1.POST("/accountant-invitations/:id/accept", s.command(s.acceptTeamInvitation(domain.TeamInvitationAccountant)))
	v1.POST("/accountant-invitations/:id/revoke", s.command(s.revokeTeamInvitation(domain.TeamInvitationAccountant)))
	s.query(v1, http.MethodPost, "/accountant-invitations/preview", reads{}, s.previewTeamInvitation(domain.TeamInvitationAccountant))
	s.get(v1, "/me/accountant-clients", reads{live: []string{"members", "organizations"}}, s.accountantClients)
}

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

func (s *Server) accountants(c *gin.Context) (any, error) {
	return readPage(s, c, 3, nil, func(ctx context.Context, r projections.Reader, now time.Time, p projections.Page) ([]projections.AccountantView, string, error) {
		return r.Accountants(ctx, orgOf(c), now, p)
	})
}

func (s *Server) revokeAccountantAccess(c *gin.Context, body []byte) (answer, error) {
	return s.removal(c, body, "accountant", s.cfg.App.RevokeAccountantAccess)
}

func (s *Server) accountantClients(c *gin.Context) (any, error) {
	me, _ := principalOf(c)
	return readPage(s, c, 2, nil, func(ctx context.Context, r projections.Reader, _ time.Time, p projections.Page) ([]projections.AccountantClientView, string, error) {
		return r.AccountantClients(ctx, me.Subject, p)
	})
}

var (
	accountantComponents = schema{
		"Accountant": obj([]string{"status", "user_id", "email", "name", "invitation_id", "since", "sent_at", "expires_at"}, schema{
			"status": enum("granted", "pending"), "user_id": nullable(str("")), "email": str(""), "name": nullable(str("")),
			"invitation_id": nullable(str("uuid")), "since": nullable(str("date-time")), "sent_at": nullable(str("date-time")),
			"expires_at": nullable(str("date-time")),
		}),
		"AccountantClient": obj([]string{"organization_id", "name", "side", "siret", "since"}, schema{
			"organization_id": str("uuid"), "name": str(""), "side": enum("client", "subcontractor"), "siret": nullable(str("")), "since": str("date-time"),
		}),
	}
	accountantEndpoints = []endpoint{
		{method: "POST", path: "/v1/organizations/{org}/accountants", problems: []domain.Code{domain.CodeAlreadyMember, domain.CodeDuplicatePending}, summary: "GrantAccountantAccess: invite the accountant by email", command: true,
			request: obj([]string{"email"}, schema{"email": emailIn, "message": str(""), "locale": localeProp}), status: 201, response: ref("TeamInvitationSent")},
		{method: "GET", path: "/v1/organizations/{org}/accountants", summary: "Accountant access, granted and pending, with invitation ids", status: 200,
			response: listOfSchema(ref("Accountant")), query: []string{"limit", "cursor"}},
		{method: "DELETE", path: "/v1/organizations/{org}/accountants/{user_id}", summary: "Revoke an accountant's access", command: true, status: 204},
		{method: "POST", path: "/v1/accountant-invitations/{id}/accept", problems: slices.Concat(closedCodes, []domain.Code{domain.CodeInvalidToken, domain.CodeAlreadyMember}), summary: "Accept accountant access: with the link's token from any account, or without it with the invited verified email",
			command: true, request: tokenBody, status: 200, response: ref("TeamInvitationAccepted")},
		{method: "POST", path: "/v1/accountant-invitations/{id}/revoke", problems: closedCodes, summary: "Withdraw an accountant invitation before it is accepted", command: true, status: 200, response: ref("TeamInvitation")},
		{method: "POST", path: "/v1/accountant-invitations/preview", problems: []domain.Code{domain.CodeNotFound}, summary: "What an accountant invitation's link shows on its landing page (no authentication; a query: the token in the body keeps it out of URLs)",
			public: true, status: 200, request: previewBody, response: ref("LinkPreview")},
		{method: "GET", path: "/v1/me/accountant-clients", summary: "The organizations the caller serves as accountant", status: 200,
			response: listOfSchema(ref("AccountantClient")), query: []string{"limit", "cursor"}},
	}
)
