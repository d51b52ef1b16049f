package api

import (
	"github.com/gin-gonic/gin"

	"partners/api/auth"
	"partners/domain"
)

// authenticate requires a valid bearer token on every /v1 route (the
// invitation preview excepted, see publicPaths).
func (s *Server) authenticate(c *gin.Context) {
	if publicPaths[c.Request.Method+" "+c.FullPath()] {
		c.Next()
		return
	}
	raw, ok := auth.BearerToken(c.GetHeader("Authorization"))
	if !ok {
		c.Header("WWW-Authenticate", `Bearer realm="partners"`)
		writeProblem(c, edge(codeUnauthorized, "A bearer token is required."))
		return
	}
	p, err := s.cfg.Verifier.Verify(raw)
	if err != nil {
		c.Header("WWW-Authenticate", `Bearer realm="partners", error="invalid_token"`)
		writeProblem(c, edge(codeUnauthorized, "The bearer token is not valid."))
		return
	}
	c.Set(keyPrincipal, p)
	c.Next()
}

// publicPaths are the /v1 routes (method and path) that need no token.
var publicPaths = map[string]bool{
	"POST /v1/invitations/preview": true,
	// The team's link previews (issue 16, point 5).
	"POST /v1/member-invitations/preview":     true,
	"POST /v1/accountant-invitations/preview": true,
	"POST /v1/collaborators/preview":          true,
}

func principalOf(c *gin.Context) (auth.Principal, bool) {
	v, ok := c.Get(keyPrincipal)
	if !ok {
		return auth.Principal{}, false
	}
	p, ok := v.(auth.Principal)
	return p, ok
}

// enterOrganization records, for a command on an organization's path that
// answered without running (see Server.refuse), the caller's new verified
// email if they are a member whose recorded one is another (queries do it
// in their membership check, commands that run in their own append). The
// command itself decides who may do what.
func (s *Server) enterOrganization(c *gin.Context) error {
	if c.Param("org") == "" {
		return nil
	}
	org, err := orgParam(c)
	if err != nil {
		return nil // the command answers its own path
	}
	_, err = s.cfg.App.Enter(c.Request.Context(), s.actor(c), org)
	return err
}

// actor is the caller as the domain sees it. An email the token does not
// vouch for addresses nothing.
func (s *Server) actor(c *gin.Context) domain.Actor {
	p, _ := principalOf(c)
	email, err := domain.ParseEmail(p.Email)
	if err != nil {
		email = domain.Email{}
	}
	act := s.cfg.App.ActorFor(p.Subject, email, p.EmailVerified && !email.IsZero(), displayName(p.Name))
	act.TokenIssuedAt = p.IssuedAt
	return act
}

// displayName: the API and the web app keep the same names.
func displayName(name string) string { return auth.DisplayName(name) }
