package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"partners/domain"
	"partners/projections"
)

func (s *Server) organizationRoutes(v1 *gin.RouterGroup) {
	v1.POST("/organizations", s.command(s.createOrganization))
	s.get(v1, "/organizations/:org", reads{member: domain.ActionMembersRead, live: []string{"organizations"}}, s.getOrganization)
	s.get(v1, "/me/organizations", reads{live: []string{"organizations", "members"}}, s.myOrganizations)
	s.get(v1, "/organizations/:org/members", reads{member: domain.ActionMembersRead, replayed: []string{"members"}}, s.listMembers)
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

func (s *Server) getOrganization(c *gin.Context) (any, error) { return s.organization(c) }

func (s *Server) myOrganizations(c *gin.Context) (any, error) {
	p, _ := principalOf(c)
	return readPage(s, c, 2, nil, func(ctx context.Context, r projections.Reader, _ time.Time, page projections.Page) ([]projections.MembershipView, string, error) {
		return r.MyOrganizations(ctx, p.Subject, page)
	})
}

func (s *Server) listMembers(c *gin.Context) (any, error) {
	return readPage(s, c, 1, nil, func(ctx context.Context, r projections.Reader, _ time.Time, page projections.Page) ([]projections.MemberView, string, error) {
		return r.Members(ctx, orgOf(c), page)
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
