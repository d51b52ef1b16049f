package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"partners/app"
	"partners/domain"
	"partners/projections"
)

// The client portal (seed 001): portal users, and the contracts shown to
// them with a requester, watchers and the attachments switch.

// portalAccess reads a portal user's or a contract's portal access.
var portalAccess = reads{member: domain.ActionPortalRead, replayed: []string{"portal_users", "portal_access"}}

func (s *Server) portalRoutes(v1 *gin.RouterGroup) {
	v1.POST("/organizations/:org/portal-users", s.command(s.createPortalUser))
	s.get(v1, "/organizations/:org/portal-users", reads{member: domain.ActionPortalRead, live: []string{"portal_users"}}, s.listPortalUsers)
	v1.PATCH("/organizations/:org/portal-users/:id", s.command(s.updatePortalUser))
	s.get(v1, "/organizations/:org/portal-users/:id/contracts", portalAccess, s.portalUserContracts)
	v1.PUT("/organizations/:org/contracts/:contract_id/portal", s.command(s.showContract))
	v1.PATCH("/organizations/:org/contracts/:contract_id/portal", s.command(s.setAttachmentsVisible))
	v1.DELETE("/organizations/:org/contracts/:contract_id/portal", s.command(s.withdrawContract))
	s.get(v1, "/organizations/:org/contracts/:contract_id/portal", portalAccess, s.contractPortal)
	v1.POST("/organizations/:org/contracts/:contract_id/watchers", s.command(s.shareContractWithWatcher))
	v1.DELETE("/organizations/:org/contracts/:contract_id/watchers/:portal_user_id", s.command(s.removeWatcher))
}

// =============================================================================
// Portal users

type createPortalUserRequest struct {
	Email   *string `json:"email"`
	Name    *string `json:"name"`
	Company *string `json:"company"`
}

func portalUserView(ch app.PortalUserChange) projections.PortalUserView {
	p := ch.PortalUser
	return projections.PortalUserView{ID: p.ID, Email: p.Email.Value, Name: p.Name.Value, Company: p.Company, CreatedAt: ch.CreatedAt}
}

func (s *Server) createPortalUser(c *gin.Context, body []byte) (answer, error) {
	org, err := orgParam(c)
	if err != nil {
		return answer{}, err
	}
	var req createPortalUserRequest
	if err := decodeBody(body, &req); err != nil {
		return answer{}, err
	}
	var v domain.Validation
	email := domain.ParseField(&v, "email", deref(req.Email), domain.ParseEmail)
	name := domain.ParseField(&v, "name", deref(req.Name), domain.ParsePortalUserName)
	company := domain.ParseField(&v, "company", deref(req.Company), domain.ParseCompany)
	if err := v.Err(); err != nil {
		return answer{}, err
	}
	ch, err := s.cfg.App.CreatePortalUser(c.Request.Context(), s.actor(c), org, email, name, company)
	if err != nil {
		return answer{}, err
	}
	return answer{status: http.StatusCreated, position: ch.Result.Position, body: portalUserView(ch),
		people: []domain.PersonRef{ch.PortalUser.EmailRef}}, nil
}

type updatePortalUserRequest struct {
	Name    *string `json:"name"`
	Company *string `json:"company"`
}

func (s *Server) updatePortalUser(c *gin.Context, body []byte) (answer, error) {
	org, err := orgParam(c)
	if err != nil {
		return answer{}, err
	}
	id, err := pathUUID(c, "id", "portal user")
	if err != nil {
		return answer{}, err
	}
	var req updatePortalUserRequest
	if err := decodeBody(body, &req); err != nil {
		return answer{}, err
	}
	var v domain.Validation
	if req.Name != nil {
		domain.ParseField(&v, "name", *req.Name, domain.ParsePortalUserName)
	}
	if req.Company != nil {
		domain.ParseField(&v, "company", *req.Company, domain.ParseCompany)
	}
	if err := v.Err(); err != nil {
		return answer{}, err
	}
	ch, err := s.cfg.App.UpdatePortalUser(c.Request.Context(), s.actor(c), org, id, req.Name, req.Company)
	if err != nil {
		return answer{}, err
	}
	return answer{status: http.StatusOK, position: ch.Result.Position, body: portalUserView(ch),
		people: []domain.PersonRef{ch.PortalUser.EmailRef}}, nil
}

func (s *Server) listPortalUsers(c *gin.Context) (any, error) {
	company := c.Query("company")
	if _, err := domain.ParseCompany(company); err != nil {
		return nil, err
	}
	return readPage(s, c, 2, nil, func(ctx context.Context, r projections.Reader, _ time.Time, p projections.Page) ([]projections.PortalUserView, string, error) {
		return r.PortalUsers(ctx, orgOf(c), company, p)
	})
}

// portalUserContracts is a portal user's Contracts page.
func (s *Server) portalUserContracts(c *gin.Context) (any, error) {
	id, err := pathUUID(c, "id", "portal user")
	if err != nil {
		return nil, err
	}
	org := orgOf(c)
	return readPage(s, c, 1, nil, func(ctx context.Context, r projections.Reader, _ time.Time, p projections.Page) ([]projections.PortalContractView, string, error) {
		// Another organization's portal user is as unknown as no portal user.
		if _, ok, err := r.PortalUser(ctx, org, id); err != nil || !ok {
			if err == nil {
				err = domain.ErrPortalUserNotFound()
			}
			return nil, "", err
		}
		return r.PortalUserContracts(ctx, org, id, p)
	})
}

// =============================================================================
// Contracts in the portal

// pathContract reads the organization and the caller's contract id from the
// path. A contract id is input the caller chose: a malformed one is a 422
// naming contract_id, not a 404.
func pathContract(c *gin.Context) (uuid.UUID, domain.ContractID, error) {
	org, err := orgParam(c)
	if err != nil {
		return uuid.Nil, domain.ContractID{}, err
	}
	contract, err := domain.ParseContractID(c.Param("contract_id"))
	return org, contract, err
}

// contractPortalView is a contract's portal access as a command leaves it,
// in the shape the query answers.
func contractPortalView(sc app.SharedContract) (projections.ContractPortalView, []domain.PersonRef) {
	var refs []domain.PersonRef
	person := func(id uuid.UUID) projections.PortalPersonView {
		p := sc.PortalUsers[id]
		if p == nil {
			return projections.PortalPersonView{ID: id}
		}
		refs = append(refs, p.EmailRef)
		return projections.PortalPersonView{ID: id, Name: p.Name.Value, Email: p.Email.Value, Company: p.Company}
	}
	v := projections.ContractPortalView{ContractID: sc.Share.ContractID.String(), Title: sc.Share.Title,
		Requester: person(sc.Share.RequesterID), Watchers: []projections.PortalPersonView{},
		AttachmentsVisible: sc.Share.AttachmentsVisible, SharedAt: sc.SharedAt}
	for _, w := range sc.Share.Watchers {
		v.Watchers = append(v.Watchers, person(w))
	}
	return v, refs
}

func shareAnswer(status int, sc app.SharedContract) answer {
	if status == http.StatusNoContent {
		return answer{status: status, position: sc.Result.Position}
	}
	v, refs := contractPortalView(sc)
	return answer{status: status, position: sc.Result.Position, body: v, people: refs}
}

// portalUserID parses a portal user id given in a body: anything but the id
// of one of the organization's portal users is refused naming field.
func portalUserID(v *domain.Validation, field string, raw *string) uuid.UUID {
	if raw == nil || *raw == "" {
		v.Add(field, "is required")
		return uuid.Nil
	}
	id, err := uuid.Parse(*raw)
	if err != nil || id == uuid.Nil {
		v.Add(field, "must be the id of a portal user of this organization")
		return uuid.Nil
	}
	return id
}

type showContractRequest struct {
	Title              *string   `json:"title"`
	RequesterID        *string   `json:"requester_id"`
	WatcherIDs         []*string `json:"watcher_ids"`
	AttachmentsVisible *bool     `json:"attachments_visible"`
	Locale             *string   `json:"locale"`
}

func (s *Server) showContract(c *gin.Context, body []byte) (answer, error) {
	org, contract, err := pathContract(c)
	if err != nil {
		return answer{}, err
	}
	var req showContractRequest
	if err := decodeBody(body, &req); err != nil {
		return answer{}, err
	}
	var v domain.Validation
	in := app.ShowContractInput{ContractID: contract, AttachmentsVisible: req.AttachmentsVisible != nil && *req.AttachmentsVisible}
	in.Title = domain.ParseField(&v, "title", deref(req.Title), domain.ParseContractTitle)
	in.RequesterID = portalUserID(&v, "requester_id", req.RequesterID)
	// Bound the list before parsing it: each id costs a stream read.
	if len(req.WatcherIDs) > 2*domain.MaxWatchers {
		v.Add("watcher_ids", fmt.Sprintf("must name at most %d portal users", domain.MaxWatchers))
	} else {
		in.WatcherIDs = make([]uuid.UUID, len(req.WatcherIDs))
		for i, raw := range req.WatcherIDs {
			in.WatcherIDs[i] = portalUserID(&v, fmt.Sprintf("watcher_ids[%d]", i), raw)
		}
	}
	in.Locale = locale(c, req.Locale, &v)
	if err := v.Err(); err != nil {
		return answer{}, err
	}
	sc, err := s.cfg.App.ShowContract(c.Request.Context(), s.actor(c), org, in)
	if err != nil {
		return answer{}, err
	}
	status := http.StatusOK
	if sc.Created {
		status = http.StatusCreated
	}
	return shareAnswer(status, sc), nil
}

func (s *Server) setAttachmentsVisible(c *gin.Context, body []byte) (answer, error) {
	org, contract, err := pathContract(c)
	if err != nil {
		return answer{}, err
	}
	var req struct {
		AttachmentsVisible *bool `json:"attachments_visible"`
	}
	if err := decodeBody(body, &req); err != nil {
		return answer{}, err
	}
	if req.AttachmentsVisible == nil {
		return answer{}, domain.Invalid("attachments_visible", "is required (true or false)")
	}
	sc, err := s.cfg.App.SetAttachmentsVisible(c.Request.Context(), s.actor(c), org, contract, *req.AttachmentsVisible)
	if err != nil {
		return answer{}, err
	}
	return shareAnswer(http.StatusOK, sc), nil
}

func (s *Server) withdrawContract(c *gin.Context, body []byte) (answer, error) {
	org, contract, err := pathContract(c)
	if err != nil {
		return answer{}, err
	}
	if err := decodeBody(body, &struct{}{}); err != nil {
		return answer{}, err
	}
	sc, err := s.cfg.App.WithdrawContract(c.Request.Context(), s.actor(c), org, contract)
	if err != nil {
		return answer{}, err
	}
	return shareAnswer(http.StatusNoContent, sc), nil
}

func (s *Server) shareContractWithWatcher(c *gin.Context, body []byte) (answer, error) {
	org, contract, err := pathContract(c)
	if err != nil {
		return answer{}, err
	}
	var req struct {
		PortalUserID *string `json:"portal_user_id"`
		Locale       *string `json:"locale"`
	}
	if err := decodeBody(body, &req); err != nil {
		return answer{}, err
	}
	var v domain.Validation
	watcher := portalUserID(&v, "portal_user_id", req.PortalUserID)
	loc := locale(c, req.Locale, &v)
	if err := v.Err(); err != nil {
		return answer{}, err
	}
	sc, err := s.cfg.App.ShareContractWithWatcher(c.Request.Context(), s.actor(c), org, contract, watcher, loc)
	if err != nil {
		return answer{}, err
	}
	return shareAnswer(http.StatusOK, sc), nil
}

func (s *Server) removeWatcher(c *gin.Context, body []byte) (answer, error) {
	org, contract, err := pathContract(c)
	if err != nil {
		return answer{}, err
	}
	watcher, err := pathUUID(c, "portal_user_id", "portal user")
	if err != nil {
		return answer{}, err
	}
	if err := decodeBody(body, &struct{}{}); err != nil {
		return answer{}, err
	}
	sc, err := s.cfg.App.RemoveWatcher(c.Request.Context(), s.actor(c), org, contract, watcher)
	if err != nil {
		return answer{}, err
	}
	return shareAnswer(http.StatusNoContent, sc), nil
}

// contractPortal is a contract's portal access.
func (s *Server) contractPortal(c *gin.Context) (any, error) {
	contract, err := domain.ParseContractID(c.Param("contract_id"))
	if err != nil {
		return nil, err
	}
	return readOne(s, c, func(ctx context.Context, r projections.Reader) (projections.ContractPortalView, error) {
		v, ok, err := r.ContractPortal(ctx, orgOf(c), contract.String())
		if err == nil && !ok {
			err = domain.ErrContractNotShown()
		}
		return v, err
	})
}

var (
	portalComponents = schema{
		"PortalUser": obj([]string{"id", "email", "name", "company", "created_at"}, schema{
			"id": str("uuid"), "email": emailStr(), "name": str(""), "company": str(""), "created_at": str("date-time"),
		}),
		"PortalPerson": obj([]string{"id", "name", "email", "company"}, schema{
			"id": str("uuid"), "name": str(""), "email": emailStr(), "company": str(""),
		}),
		"ContractPortal": obj([]string{"contract_id", "title", "requester", "watchers", "attachments_visible", "shared_at"}, schema{
			"contract_id": str(""), "title": str(""), "requester": ref("PortalPerson"), "watchers": arr(ref("PortalPerson")),
			"attachments_visible": boolean, "shared_at": str("date-time"),
		}),
		"PortalContract": obj([]string{"contract_id", "title", "as", "attachments_visible"}, schema{
			"contract_id": str(""), "title": str(""), "as": enum("requester", "watcher"), "attachments_visible": boolean,
		}),
	}
	portalEndpoints = []endpoint{
		{method: "POST", path: "/v1/organizations/{org}/portal-users", problems: []domain.Code{domain.CodePortalUserExists}, summary: "Add a portal user (a client contact); company may be empty", command: true,
			request: obj([]string{"email", "name"}, schema{"email": emailIn, "name": str(""), "company": str("")}),
			status:  201, response: ref("PortalUser")},
		{method: "GET", path: "/v1/organizations/{org}/portal-users", summary: "Portal users, in the order they were added, optionally of one company",
			status: 200, response: listOfSchema(ref("PortalUser")), query: []string{"company", "limit", "cursor"}},
		{method: "PATCH", path: "/v1/organizations/{org}/portal-users/{id}", summary: "Change a portal user's name or company; watchers who no longer match their requester's company lose access", command: true,
			request: obj(nil, schema{"name": str(""), "company": str("")}), status: 200, response: ref("PortalUser")},
		{method: "GET", path: "/v1/organizations/{org}/portal-users/{id}/contracts", summary: "A portal user's Contracts page: the contracts they see, as requester or watcher",
			status: 200, response: listOfSchema(ref("PortalContract")), query: []string{"limit", "cursor", "as_of"}},
		{method: "PUT", path: "/v1/organizations/{org}/contracts/{contract_id}/portal", problems: []domain.Code{domain.CodeCompanyMismatch}, summary: "Show a contract in the portal (201), or replace its requester, watchers and switch (200); the requester when new and each new watcher get an email", command: true,
			request: obj([]string{"title", "requester_id"}, schema{"title": str(""), "requester_id": str("uuid"), "watcher_ids": arr(str("uuid")),
				"attachments_visible": boolean, "locale": enum("fr", "en", "de")}),
			status: 200, also: []int{201}, response: ref("ContractPortal")},
		{method: "PATCH", path: "/v1/organizations/{org}/contracts/{contract_id}/portal", summary: "Turn the attachments switch on or off", command: true,
			request: obj([]string{"attachments_visible"}, schema{"attachments_visible": boolean}), status: 200, response: ref("ContractPortal")},
		{method: "DELETE", path: "/v1/organizations/{org}/contracts/{contract_id}/portal", summary: "Withdraw a contract from the portal", command: true, status: 204},
		{method: "GET", path: "/v1/organizations/{org}/contracts/{contract_id}/portal", summary: "A contract's portal access: requester, watchers, attachments switch",
			status: 200, response: ref("ContractPortal"), query: []string{"as_of"}},
		{method: "POST", path: "/v1/organizations/{org}/contracts/{contract_id}/watchers", problems: []domain.Code{domain.CodeCompanyMismatch}, summary: "ShareContractWithWatcher: a portal user of the requester's company may see the contract; they get an email", command: true,
			request: obj([]string{"portal_user_id"}, schema{"portal_user_id": str("uuid"), "locale": enum("fr", "en", "de")}), status: 200, response: ref("ContractPortal")},
		{method: "DELETE", path: "/v1/organizations/{org}/contracts/{contract_id}/watchers/{portal_user_id}", summary: "Remove a watcher", command: true, status: 204},
	}
)
