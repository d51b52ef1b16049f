package api

import (
	"github.com/gin-gonic/gin"

	"partners/api/auth"
	"partners/domain"
)

// The authorization answer (DOMAIN.md section 5): may this user do this
// action here?

func (s *Server) authorizeRoutes(v1 *gin.RouterGroup) {
	s.get(v1, "/organizations/:org/authorize", reads{member: domain.ActionMembersRead}, s.authorize)
}

// authorizationView answers "may user U do action A here?".
type authorizationView struct {
	Allowed bool    `json:"allowed"`
	Role    *string `json:"role"`
	Reason  string  `json:"reason"`
	// Because is set with ?explain=true (provenance.go).
	Because *[]causeView `json:"because,omitempty"`
}

// authorize answers from the organization's events (so an answer given
// after a revocation or a removal was acknowledged is without it, however
// far the read models are), for a member of the organization asking.
func (s *Server) authorize(c *gin.Context) (any, error) {
	var v domain.Validation
	action := domain.ParseField(&v, "action", c.Query("action"), domain.ParseAction)
	userID, asked := c.GetQuery("user_id")
	if !asked {
		p, _ := principalOf(c)
		userID = p.Subject
	}
	v.Check(!auth.ValidSubject(userID), "user_id", "must be a user id (1 to 128 characters)")
	if err := v.Err(); err != nil {
		return nil, err
	}
	explain, err := explainParam(c)
	if err != nil {
		return nil, err
	}
	at, err := s.asOf(c)
	if err != nil {
		return nil, err
	}
	if explain || !at.IsZero() {
		return s.explainedAuthorization(c, userID, action, at, explain)
	}
	g, err := s.cfg.App.GrantOf(c.Request.Context(), orgOf(c), userID)
	if err != nil {
		return nil, err
	}
	d := domain.Authorize(g, action)
	view := authorizationView{Allowed: d.Allowed, Reason: d.Reason}
	if g.Role != "" {
		view.Role = &g.Role
	}
	return view, nil
}

func actionNames() []string {
	var out []string
	for _, a := range domain.Actions() {
		out = append(out, string(a))
	}
	return out
}

var (
	authorizeComponents = schema{
		"Authorization": obj([]string{"allowed", "role", "reason"}, schema{"allowed": boolean, "role": nullable(roleEnum), "reason": str(""),
			"because": schema{"type": "array", "items": ref("Cause"), "description": "with explain=true: the events the answer rests on, in the log's order"}}),
	}
	authorizeEndpoints = []endpoint{
		{method: "GET", path: "/v1/organizations/{org}/authorize", summary: "May this user do this action here? From the permission table and the memberships (as of an instant; explain=true, with audit.read, names the events the answer rests on)",
			status: 200, response: ref("Authorization"), query: []string{"user_id", "action", "as_of", "explain"}},
	}
)
