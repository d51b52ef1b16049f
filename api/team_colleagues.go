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

// Colleagues (DOMAIN.md section 3): invited by email as admin or member,
// their roles changed, removed.

func (s *Server) colleagueRoutes(v1 *gin.RouterGroup) {
	v1.POST("/organizations/:org/member-invitations", s.command(s.inviteMember))
	s.get(v1, "/organizations/:org/member-invitations", reads{member: domain.ActionMembersManage, live: []string{"team_invitations"}}, s.memberInvitations)
	v1.POST("/member-invitations/:id/accept", s.command(s.acceptTeamInvitation(domain.TeamInvitationMember)))
	v1.POST("/member-invitations/:id/revoke", s.command(s.revokeTeamInvitation(domain.TeamInvitationMember)))
	s.query(v1, http.MethodPost, "/member-invitations/preview", reads{}, s.previewTeamInvitation(domain.TeamInvitationMember))
	v1.PATCH("/organizations/:org/members/:user_id", s.command(s.changeMemberRole))
	v1.DELETE("/organizations/:org/members/:user_id", s.command(s.removeMember))
}

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

func (s *Server) memberInvitations(c *gin.Context) (any, error) {
	status := c.Query("status")
	switch status {
	case "", domain.StatusSent.String(), domain.StatusAccepted.String(), domain.StatusRevoked.String(), domain.StatusExpired.String():
	default:
		return nil, domain.Invalid("status", "must be one of sent, accepted, revoked, expired")
	}
	return readPage(s, c, 2, nil, func(ctx context.Context, r projections.Reader, now time.Time, p projections.Page) ([]projections.TeamInvitationView, string, error) {
		return r.MemberInvitations(ctx, orgOf(c), status, now, p)
	})
}

type changeRoleRequest struct {
	Role *string `json:"role"`
}

func (s *Server) changeMemberRole(c *gin.Context, body []byte) (answer, error) {
	org, userID, err := pathMember(c, "member")
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

var (
	colleagueComponents = schema{
		"TeamInvitationRow": obj([]string{"id", "email", "role", "status", "invited_by", "sent_at", "expires_at", "answered_at", "accepted_by"}, schema{
			"id": str("uuid"), "email": str(""), "role": enum("admin", "member"), "status": enum("sent", "accepted", "revoked", "expired"),
			"invited_by": str(""), "sent_at": str("date-time"), "expires_at": str("date-time"),
			"answered_at": nullable(str("date-time")), "accepted_by": nullable(str("")),
		}),
	}
	colleagueEndpoints = []endpoint{
		{method: "POST", path: "/v1/organizations/{org}/member-invitations", problems: []domain.Code{domain.CodeAlreadyMember, domain.CodeDuplicatePending}, summary: "Invite a colleague by email as admin or member (owners invite admins)", command: true,
			request: obj([]string{"email", "role"}, schema{"email": emailIn, "role": enum("admin", "member"), "locale": localeProp}),
			status:  201, response: ref("TeamInvitationSent")},
		{method: "GET", path: "/v1/organizations/{org}/member-invitations", summary: "Colleague invitations, pending and answered", status: 200,
			response: listOfSchema(ref("TeamInvitationRow")), query: []string{"member_invitation_status", "limit", "cursor"}},
		{method: "POST", path: "/v1/member-invitations/{id}/accept", problems: slices.Concat(closedCodes, []domain.Code{domain.CodeInvalidToken, domain.CodeAlreadyMember}), summary: "Join as the invited colleague: with the link's token from any account, or without it with the invited verified email",
			command: true, request: tokenBody, status: 200, response: ref("TeamInvitationAccepted")},
		{method: "POST", path: "/v1/member-invitations/{id}/revoke", problems: closedCodes, summary: "Withdraw a colleague invitation", command: true, status: 200, response: ref("TeamInvitation")},
		{method: "POST", path: "/v1/member-invitations/preview", problems: []domain.Code{domain.CodeNotFound}, summary: "What a colleague invitation's link shows on its landing page (no authentication; a query: the token in the body keeps it out of URLs)",
			public: true, status: 200, request: previewBody, response: ref("LinkPreview")},
		{method: "PATCH", path: "/v1/organizations/{org}/members/{user_id}", problems: []domain.Code{domain.CodeLastOwner, domain.CodeNotTeamMember}, summary: "Change a colleague's role (owners change any role; admins members only; the last owner stays); their pending invitations the new role may not grant are revoked",
			command: true, request: obj([]string{"role"}, schema{"role": enum("owner", "admin", "member")}), status: 200, response: ref("TeamMember")},
		{method: "DELETE", path: "/v1/organizations/{org}/members/{user_id}", problems: []domain.Code{domain.CodeLastOwner, domain.CodeNotTeamMember}, summary: "Remove a colleague (not the last owner); their pending invitations are revoked", command: true, status: 204},
	}
)
