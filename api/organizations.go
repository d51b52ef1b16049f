package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"partners/domain"
	"partners/projections"
)

func (s *Server) organizationRoutes(v1 *gin.RouterGroup) {
	v1.POST("/organizations", s.command(s.createOrganization))
	v1.GET("/organizations/:org", s.consistent("organizations", "members"), s.getOrganization)
	v1.GET("/me/organizations", s.consistent("organizations", "members"), s.myOrganizations)
	v1.GET("/organizations/:org/members", s.consistent("members"), s.listMembers)
}

type createOrganizationRequest struct {
	Name  *string `json:"name"`
	Side  *string `json:"side"`
	Siret *string `json:"siret"`
}

func (s *Server) createOrganization(c *gin.Context, body []byte) (answer, error) {
	var req createOrganizationRequest
	if err := decodeBody(body, &req); err != nil {
		return answer{}, err
	}
	var v domain.Validation
	name := domain.ParseField(&v, "name", deref(req.Name), domain.ParseOrganizationName)
	side := domain.ParseField(&v, "side", deref(req.Side), domain.ParseSide)
	var siret domain.Siret
	if req.Siret != nil && *req.Siret != "" {
		siret = domain.ParseField(&v, "siret", *req.Siret, domain.ParseSiret)
	}
	if err := v.Err(); err != nil {
		return answer{}, err
	}
	actor := s.actor(c)
	id, res, err := s.cfg.App.CreateOrganization(c.Request.Context(), actor, name, side, siret)
	if err != nil {
		return answer{}, err
	}
	view := projections.OrganizationView{ID: id, Name: name, Side: side.String(), CreatedAt: res.RecordedAt.Truncate(time.Microsecond)}
	if !siret.IsZero() {
		st := siret.String()
		view.Siret = &st
	}
	return answer{status: http.StatusCreated, position: res.Position, body: view}, nil
}

// member checks that the caller belongs to the organization and may do the
// action. Outsiders learn nothing: the organization is "not found".
func (s *Server) member(c *gin.Context, action domain.Action) (uuid.UUID, domain.Grant, error) {
	org, err := pathUUID(c, "org", "organization")
	if err != nil {
		return uuid.Nil, domain.Grant{}, err
	}
	p, _ := principalOf(c)
	g, err := s.reader().Grant(c.Request.Context(), org, p.Subject)
	if err != nil {
		return uuid.Nil, g, err
	}
	if g.Role == "" {
		return uuid.Nil, g, domain.ErrOrganizationNotFound()
	}
	if d := domain.Authorize(g, action); !d.Allowed {
		return uuid.Nil, g, (&domain.Error{Code: domain.CodeNotAllowed,
			Message: "Your role in this organization does not allow this (" + d.Reason + ")."}).With("action", string(action))
	}
	return org, g, nil
}

func (s *Server) reader() projections.Reader { return projections.Reader{Q: s.cfg.Pool} }

func (s *Server) getOrganization(c *gin.Context) {
	org, _, err := s.member(c, domain.ActionMembersRead)
	if err != nil {
		writeProblem(c, err)
		return
	}
	view, ok, err := s.reader().Organization(c.Request.Context(), org)
	if err == nil && !ok {
		err = domain.ErrOrganizationNotFound()
	}
	if err != nil {
		writeProblem(c, err)
		return
	}
	c.JSON(http.StatusOK, view)
}

func (s *Server) myOrganizations(c *gin.Context) {
	page, err := pageOf(c, 2)
	if err != nil {
		writeProblem(c, err)
		return
	}
	p, _ := principalOf(c)
	items, next, err := s.reader().MyOrganizations(c.Request.Context(), p.Subject, page)
	writeList(c, items, next, err)
}

func (s *Server) listMembers(c *gin.Context) {
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
	var items []projections.MemberView
	var next string
	err = s.read(c, org, []string{"members"}, nil, func(ctx context.Context, r projections.Reader, _ time.Time) error {
		items, next, err = r.Members(ctx, org, page)
		return err
	})
	writeList(c, items, next, err)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
