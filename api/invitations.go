package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"partners/app"
	"partners/domain"
	"partners/notify/mail"
	"partners/projections"
)

func (s *Server) invitationRoutes(v1 *gin.RouterGroup) {
	v1.POST("/organizations/:org/invitations", s.command(s.sendInvitation))
	s.get(v1, "/organizations/:org/invitations/sent", reads{member: domain.ActionInvitationsRead, replayed: []string{"invitations_sent"}}, s.sentInvitations)
	s.get(v1, "/organizations/:org/invitations/received", reads{member: domain.ActionInvitationsRead, live: []string{"organizations"},
		replayed: []string{"invitations_received"}}, s.receivedInvitations)
	s.get(v1, "/organizations/:org/badges", reads{member: domain.ActionInvitationsRead,
		live: []string{"organizations", "invitations_received", "collaboration_requests"}}, s.badges)
	s.get(v1, "/organizations/:org/partners", reads{member: domain.ActionPartnersRead, replayed: []string{"partners"}}, s.partners)
	s.get(v1, "/organizations/:org/partners/:partner_id", reads{member: domain.ActionPartnersRead, replayed: []string{"partners", "members"}},
		s.partnerDetails)
	s.get(v1, "/me/invitations", reads{live: []string{"invitations_received"}}, s.myInvitations)
	s.query(v1, http.MethodPost, "/invitations/preview", reads{}, s.previewInvitation)
	v1.POST("/invitations/claim", s.command(s.claimInvitation))
	v1.POST("/invitations/:id/accept", s.command(s.acceptInvitation))
	v1.POST("/invitations/:id/decline", s.command(s.declineInvitation))
	v1.POST("/invitations/:id/revoke", s.command(s.revokeInvitation))
	v1.POST("/invitations/:id/resend", s.command(s.resendInvitation))
}

// invitationView is a partner invitation as a command answers it. Email
// is only ever shown to the inviter: an organization answering (the
// addressee knows its email; a claimer must never learn it) sees none.
type invitationView struct {
	ID          uuid.UUID  `json:"id"`
	Status      string     `json:"status"`
	Email       *string    `json:"email,omitempty"`
	ExpiresAt   time.Time  `json:"expires_at"`
	Inviter     inviterRef `json:"inviter"`
	InviteeSide string     `json:"invitee_side"`
	ClaimedBy   *uuid.UUID `json:"claimed_by"`
}

type inviterRef struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
	Side string    `json:"side"`
}

// inviterView is the invitation as its inviter sees it: with the email and
// whoever claimed it.
func (s *Server) inviterView(inv *domain.Invitation) invitationView {
	v := s.answererView(inv, inv.ClaimedBy)
	email := inv.Email.Value
	v.Email = &email
	return v
}

// answererView is the invitation as the organization org, answering it,
// sees it: without the email, and with a claim only when org made it.
func (s *Server) answererView(inv *domain.Invitation, org uuid.UUID) invitationView {
	v := invitationView{ID: inv.ID, Status: inv.StatusAt(s.cfg.App.Now()).String(), ExpiresAt: inv.ExpiresAt.UTC(),
		Inviter: inviterRef{ID: inv.InviterOrg, Name: inv.InviterName, Side: inv.InviterSide.String()}, InviteeSide: inv.InviteeSide.String()}
	if inv.ClaimedBy != uuid.Nil && inv.ClaimedBy == org {
		c := inv.ClaimedBy
		v.ClaimedBy = &c
	}
	return v
}

// sentView is the answer to an invitation or a resend: it holds the one copy
// of the link's token (null in an Idempotency-Key replay).
type sentView struct {
	ID            uuid.UUID `json:"id"`
	Status        string    `json:"status"`
	Email         string    `json:"email"`
	ExpiresAt     time.Time `json:"expires_at"`
	InvitationURL *string   `json:"invitation_url"`
	Token         *string   `json:"token"`
	// Contact is the partner's contact details, null when none were given.
	Contact *projections.ContactView `json:"contact"`
}

// contactView is an invitation's contact as its inviter is shown it.
func contactView(c *domain.InvitationContact) *projections.ContactView {
	if c == nil {
		return nil
	}
	part := func(p domain.Personal) *string {
		if p.Value == "" {
			return nil
		}
		v := p.Value
		return &v
	}
	return &projections.ContactView{Name: part(c.Name), Company: part(c.Company), Phone: part(c.Phone)}
}

func (s *Server) sentAnswer(status int, sent app.Sent) answer {
	link := s.cfg.PublicURL + "/invitations/" + url.PathEscape(sent.Token)
	token := sent.Token
	return answer{status: status, position: sent.Result.Position, secrets: []string{"token", "invitation_url"},
		people: []domain.PersonRef{sent.Invitation.EmailRef},
		body: sentView{ID: sent.Invitation.ID, Status: sent.Invitation.StatusAt(s.cfg.App.Now()).String(), Email: sent.Invitation.Email.Value,
			ExpiresAt: sent.Invitation.ExpiresAt.UTC(), InvitationURL: &link, Token: &token, Contact: contactView(sent.Invitation.Contact)}}
}

// locale picks the emails' language: an explicit supported locale, else
// Accept-Language, else English.
func locale(c *gin.Context, explicit *string, v *domain.Validation) string {
	if explicit != nil && *explicit != "" {
		if _, ok := mail.SupportedLocale(*explicit); !ok {
			v.Add("locale", "must be one of fr, en, de")
		}
		return string(mail.ParseLocale(*explicit, ""))
	}
	return string(mail.ParseLocale("", c.GetHeader("Accept-Language")))
}

type sendInvitationRequest struct {
	Email   *string `json:"email"`
	Message *string `json:"message"`
	Locale  *string `json:"locale"`
}

// emailInvitation is the input of every invitation by email (partner,
// accountant): the path's organization, the email, an optional personal
// message and the emails' language.
type emailInvitation struct {
	Org     uuid.UUID
	Email   domain.Email
	Message string
	Locale  string
}

func emailInvitationInput(c *gin.Context, body []byte) (emailInvitation, error) {
	org, err := orgParam(c)
	if err != nil {
		return emailInvitation{}, err
	}
	var req sendInvitationRequest
	if err := decodeBody(body, &req); err != nil {
		return emailInvitation{}, err
	}
	var v domain.Validation
	in := emailInvitation{Org: org, Message: deref(req.Message)}
	in.Email = domain.ParseField(&v, "email", deref(req.Email), domain.ParseEmail)
	v.Check(len([]rune(in.Message)) > 2000, "message", "must be at most 2000 characters")
	in.Locale = locale(c, req.Locale, &v)
	return in, v.Err()
}

// contactRequest is the partner's contact details on the invite form
// (seed 004), all optional.
type contactRequest struct {
	Contact *struct {
		Name    *string `json:"name"`
		Company *string `json:"company"`
		Phone   *string `json:"phone"`
	} `json:"contact"`
}

func contactInput(body []byte) (domain.PartnerContact, error) {
	var req contactRequest
	if err := decodeBody(body, &req); err != nil || req.Contact == nil {
		return domain.PartnerContact{}, err
	}
	return domain.ParsePartnerContact(deref(req.Contact.Name), deref(req.Contact.Company), deref(req.Contact.Phone))
}

// bothInvalid reports every invalid field of two inputs at once; any other
// error wins.
func bothInvalid(a, b error) error {
	var ea, eb *domain.Error
	if errors.As(a, &ea) && errors.As(b, &eb) && ea.Code == domain.CodeValidationFailed && eb.Code == domain.CodeValidationFailed {
		return &domain.Error{Code: ea.Code, Message: ea.Message, Fields: append(slices.Clone(ea.Fields), eb.Fields...)}
	}
	if a != nil {
		return a
	}
	return b
}

func (s *Server) sendInvitation(c *gin.Context, body []byte) (answer, error) {
	in, err := emailInvitationInput(c, body)
	contact, cerr := contactInput(body)
	if err := bothInvalid(err, cerr); err != nil {
		return answer{}, err
	}
	sent, err := s.cfg.App.SendInvitation(c.Request.Context(), s.actor(c), in.Org, in.Email, in.Message, contact, in.Locale)
	if err != nil {
		return answer{}, err
	}
	return s.sentAnswer(http.StatusCreated, sent), nil
}

var invitationStatuses = map[string]bool{"sent": true, "accepted": true, "declined": true, "revoked": true, "expired": true}

func statusParam(c *gin.Context, def string) (string, error) {
	st := c.DefaultQuery("status", def)
	if st != "" && !invitationStatuses[st] {
		return "", domain.Invalid("status", "must be one of sent, accepted, declined, revoked, expired")
	}
	return st, nil
}

func (s *Server) sentInvitations(c *gin.Context) (any, error) {
	status, err := statusParam(c, "")
	if err != nil {
		return nil, err
	}
	return readPage(s, c, 2, nil, func(ctx context.Context, r projections.Reader, now time.Time, p projections.Page) ([]projections.SentInvitationView, string, error) {
		return r.SentInvitations(ctx, orgOf(c), status, now, p)
	})
}

func (s *Server) receivedInvitations(c *gin.Context) (any, error) {
	status, err := statusParam(c, "sent")
	if err != nil {
		return nil, err
	}
	o, err := s.organization(c)
	if err != nil {
		return nil, err
	}
	var refs []string
	if c.Query("as_of") != "" {
		// Invitations addressed by email touch no organization until
		// answered: replay those carrying any of this organization's people.
		if refs, err = s.cfg.App.Store.PersonRefsIn(c.Request.Context(), domain.OrganizationStream(orgOf(c))); err != nil {
			return nil, err
		}
	}
	return readPage(s, c, 2, refs, func(ctx context.Context, r projections.Reader, now time.Time, p projections.Page) ([]projections.ReceivedInvitationView, string, error) {
		return r.ReceivedInvitations(ctx, orgOf(c), o.Side, status, now, p)
	})
}

type badgesView struct {
	PendingInvitations           int `json:"pending_invitations"`
	PendingCollaborationRequests int `json:"pending_collaboration_requests"`
}

// badges counts what waits for the caller's answer; collaboration requests
// only for those who may answer them.
func (s *Server) badges(c *gin.Context) (any, error) {
	o, err := s.organization(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Request.Context()
	var b badgesView
	if b.PendingInvitations, err = s.reader().PendingInvitations(ctx, orgOf(c), o.Side, s.cfg.Now()); err != nil {
		return nil, err
	}
	if domain.Authorize(scopeOf(c).grant, domain.ActionMembersManage).Allowed {
		if b.PendingCollaborationRequests, err = s.reader().PendingCollaborationRequests(ctx, orgOf(c)); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (s *Server) partners(c *gin.Context) (any, error) {
	q := c.Query("q")
	if len(q) > 200 {
		return nil, domain.Invalid("q", "must be at most 200 characters")
	}
	return readPage(s, c, 2, nil, func(ctx context.Context, r projections.Reader, _ time.Time, p projections.Page) ([]projections.PartnerView, string, error) {
		return r.Partners(ctx, orgOf(c), q, p)
	})
}

// partnerDetails is the partner's details pane: only for the two partners;
// any other id answers as an unknown one. An ?as_of= answer replays the
// partnership and the partner's members up to that instant.
func (s *Server) partnerDetails(c *gin.Context) (any, error) {
	notFound := domain.Errorf(domain.CodeNotFound, "No such partner.")
	partner, err := pathUUID(c, "partner_id", "partner")
	if err != nil {
		return nil, notFound
	}
	at, err := s.asOf(c)
	if err != nil {
		return nil, err
	}
	var v projections.PartnerDetailsView
	var ok bool
	read := func(ctx context.Context, r projections.Reader) (err error) {
		v, ok, err = r.PartnerDetails(ctx, orgOf(c), partner)
		return err
	}
	if at.IsZero() {
		err = read(c.Request.Context(), s.reader())
	} else {
		err = s.replayPartner(c, partner, at, read)
	}
	if err == nil && !ok {
		err = notFound
	}
	return v, err
}

// replayPartner answers as of an instant from a replay of the events of
// the caller's organization and of the partner's (its members).
func (s *Server) replayPartner(c *gin.Context, partner uuid.UUID, at time.Time, fn func(context.Context, projections.Reader) error) error {
	sc := scopeOf(c)
	ps, err := projections.ByName(sc.replayed...)
	if err != nil {
		return err
	}
	return projections.AsOf(c.Request.Context(), s.cfg.App.Store, ps,
		projections.Filter{Organization: sc.org, Organizations: []uuid.UUID{partner}, Until: at}, fn)
}

// myInvitations is the window at sign-up: the pending partner invitations
// sent to the caller's verified email, organization or not. An email the
// token does not vouch for addresses nothing.
func (s *Server) myInvitations(c *gin.Context) (any, error) {
	me := s.actor(c)
	return readPage(s, c, 2, nil, func(ctx context.Context, r projections.Reader, now time.Time, p projections.Page) ([]projections.MyInvitationView, string, error) {
		if !me.EmailVerified || me.EmailRef == "" {
			return []projections.MyInvitationView{}, "", nil
		}
		return r.MyInvitations(ctx, string(me.EmailRef), now, p)
	})
}

type previewView struct {
	ID      uuid.UUID `json:"id"`
	Inviter struct {
		Name string `json:"name"`
		Side string `json:"side"`
	} `json:"inviter"`
	InviteeSide string    `json:"invitee_side"`
	Status      string    `json:"status"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// previewInvitation is what the link's landing page shows, without
// authentication: only the inviter's name and side, never the email, and
// the id to answer it with. The token comes in the body, never in the URL,
// so that it stays out of proxies' and servers' logs.
func (s *Server) previewInvitation(c *gin.Context) (any, error) {
	var req tokenRequest
	if err := decodeJSON(c, &req); err != nil {
		return nil, err
	}
	inv, _, err := s.cfg.App.InvitationByToken(c.Request.Context(), deref(req.Token))
	if err != nil {
		return nil, err
	}
	v := previewView{ID: inv.ID, InviteeSide: inv.InviteeSide.String(), Status: inv.StatusAt(s.cfg.App.Now()).String(), ExpiresAt: inv.ExpiresAt.UTC()}
	v.Inviter.Name, v.Inviter.Side = inv.InviterName, inv.InviterSide.String()
	return v, nil
}

type claimRequest struct {
	Token          *string `json:"token"`
	OrganizationID *string `json:"organization_id"`
}

func parseOrgField(v *domain.Validation, raw *string) uuid.UUID {
	id, err := uuid.Parse(deref(raw))
	if err != nil || id == uuid.Nil {
		v.Add("organization_id", "must be the id of one of your organizations")
	}
	return id
}

func (s *Server) claimInvitation(c *gin.Context, body []byte) (answer, error) {
	var req claimRequest
	if err := decodeBody(body, &req); err != nil {
		return answer{}, err
	}
	var v domain.Validation
	v.Check(deref(req.Token) == "", "token", "is required")
	org := parseOrgField(&v, req.OrganizationID)
	if err := v.Err(); err != nil {
		return answer{}, err
	}
	inv, res, err := s.cfg.App.ClaimInvitation(c.Request.Context(), s.actor(c), *req.Token, org)
	if err != nil {
		return answer{}, err
	}
	return answer{status: http.StatusOK, position: res.Position, body: s.answererView(inv, org), people: []domain.PersonRef{inv.EmailRef}}, nil
}

type answerRequest struct {
	OrganizationID *string `json:"organization_id"`
	Reason         *string `json:"reason"`
}

type partnershipView struct {
	ClientID        uuid.UUID `json:"client_id"`
	SubcontractorID uuid.UUID `json:"subcontractor_id"`
	Since           time.Time `json:"since"`
}

func (s *Server) answerInput(c *gin.Context, body []byte) (uuid.UUID, uuid.UUID, string, error) {
	id, err := pathUUID(c, "id", "invitation")
	if err != nil {
		return uuid.Nil, uuid.Nil, "", err
	}
	var req answerRequest
	if err := decodeBody(body, &req); err != nil {
		return uuid.Nil, uuid.Nil, "", err
	}
	var v domain.Validation
	org := parseOrgField(&v, req.OrganizationID)
	v.Check(len([]rune(deref(req.Reason))) > 1000, "reason", "must be at most 1000 characters")
	return id, org, deref(req.Reason), v.Err()
}

func (s *Server) acceptInvitation(c *gin.Context, body []byte) (answer, error) {
	id, org, _, err := s.answerInput(c, body)
	if err != nil {
		return answer{}, err
	}
	acc, err := s.cfg.App.AcceptInvitation(c.Request.Context(), s.actor(c), id, org)
	if err != nil {
		return answer{}, err
	}
	return answer{status: http.StatusOK, position: acc.Result.Position, people: []domain.PersonRef{acc.Invitation.EmailRef},
		body: gin.H{"invitation": s.answererView(acc.Invitation, org), "partnership": partnershipView{
			ClientID: acc.Partnership.ClientID, SubcontractorID: acc.Partnership.SubcontractorID, Since: acc.Result.RecordedAt.UTC()}}}, nil
}

func (s *Server) declineInvitation(c *gin.Context, body []byte) (answer, error) {
	id, org, reason, err := s.answerInput(c, body)
	if err != nil {
		return answer{}, err
	}
	inv, res, err := s.cfg.App.DeclineInvitation(c.Request.Context(), s.actor(c), id, org, reason)
	if err != nil {
		return answer{}, err
	}
	return answer{status: http.StatusOK, position: res.Position, body: s.answererView(inv, org), people: []domain.PersonRef{inv.EmailRef}}, nil
}

func (s *Server) revokeInvitation(c *gin.Context, body []byte) (answer, error) {
	id, err := pathUUID(c, "id", "invitation")
	if err != nil {
		return answer{}, err
	}
	if err := decodeBody(body, &struct{}{}); err != nil {
		return answer{}, err
	}
	inv, res, err := s.cfg.App.RevokeInvitation(c.Request.Context(), s.actor(c), id)
	if err != nil {
		return answer{}, err
	}
	return answer{status: http.StatusOK, position: res.Position, body: s.inviterView(inv), people: []domain.PersonRef{inv.EmailRef}}, nil
}

func (s *Server) resendInvitation(c *gin.Context, body []byte) (answer, error) {
	id, err := pathUUID(c, "id", "invitation")
	if err != nil {
		return answer{}, err
	}
	var req struct {
		Locale *string `json:"locale"`
	}
	if err := decodeBody(body, &req); err != nil {
		return answer{}, err
	}
	var v domain.Validation
	loc := ""
	if req.Locale != nil || c.GetHeader("Accept-Language") != "" {
		loc = locale(c, req.Locale, &v)
	}
	if err := v.Err(); err != nil {
		return answer{}, err
	}
	sent, err := s.cfg.App.ResendInvitation(c.Request.Context(), s.actor(c), id, loc)
	if err != nil {
		return answer{}, err
	}
	return s.sentAnswer(http.StatusOK, sent), nil
}

var (
	invitationComponents = schema{
		"Invitation": obj([]string{"id", "status", "expires_at", "inviter", "invitee_side", "claimed_by"}, schema{
			"id": str("uuid"), "status": enum("sent", "accepted", "declined", "revoked", "expired"),
			"email":      schema{"type": "string", "format": "email", "description": "only in the inviter's answers (revoke): an answering organization is never shown it"},
			"expires_at": str("date-time"), "inviter": ref("Inviter"), "invitee_side": enum("client", "subcontractor"),
			"claimed_by": nullable(str("uuid")),
		}),
		"Inviter": obj([]string{"id", "name", "side"}, schema{"id": str("uuid"), "name": str(""), "side": enum("client", "subcontractor")}),
		"SentInvitation": obj([]string{"id", "status", "email", "expires_at", "invitation_url", "token", "contact"}, schema{
			"id": str("uuid"), "status": enum("sent", "expired"), "email": emailStr(), "expires_at": str("date-time"),
			"invitation_url": nullable(str("uri")), "token": nullable(str("")), "contact": contactOrNull,
		}),
		"SentInvitationRow": obj([]string{"id", "email", "status", "message", "sent_at", "expires_at", "answered_at", "partner", "claimed_by", "contact"}, schema{
			"id": str("uuid"), "email": emailStr(), "status": enum("sent", "accepted", "declined", "revoked", "expired"),
			"message": str(""), "sent_at": str("date-time"), "expires_at": str("date-time"), "answered_at": nullable(str("date-time")),
			"partner": orgRefOrNull, "claimed_by": orgRefOrNull, "contact": contactOrNull,
		}),
		"Contact": obj([]string{"name", "company", "phone"}, schema{
			"name": nullable(str("")), "company": nullable(str("")),
			"phone": nullable(schema{"type": "string", "description": "E.164, such as +33612345678"}),
		}),
		"MyInvitation": obj([]string{"id", "inviter", "invitee_side", "message", "sent_at", "expires_at"}, schema{
			"id": str("uuid"), "inviter": ref("Inviter"), "invitee_side": enum("client", "subcontractor"), "message": str(""),
			"sent_at": str("date-time"), "expires_at": str("date-time"),
		}),
		"PartnerDetails": obj([]string{"organization_id", "name", "side", "siret", "since", "invitation_id", "contacts"}, schema{
			"organization_id": str("uuid"), "name": str(""), "side": enum("client", "subcontractor"), "siret": nullable(str("")),
			"since": str("date-time"), "invitation_id": str("uuid"),
			"contacts": arr(obj([]string{"name", "email", "role"}, schema{"name": str(""), "email": emailStr(), "role": enum("owner", "admin")})),
		}),
		"ReceivedInvitationRow": obj([]string{"id", "status", "message", "sent_at", "expires_at", "inviter"}, schema{
			"id": str("uuid"), "status": enum("sent", "accepted", "declined", "revoked", "expired"), "message": str(""),
			"sent_at": str("date-time"), "expires_at": str("date-time"), "inviter": ref("Inviter"),
		}),
		"Partner": obj([]string{"organization_id", "name", "side", "siret", "since", "invitation_id"}, schema{
			"organization_id": str("uuid"), "name": str(""), "side": enum("client", "subcontractor"), "siret": nullable(str("")),
			"since": str("date-time"), "invitation_id": str("uuid"),
		}),
	}
	orgRefOrNull  = nullable(obj([]string{"id", "name"}, schema{"id": str("uuid"), "name": str("")}))
	contactOrNull = nullable(ref("Contact"))
	answerBody    = obj([]string{"organization_id"}, schema{"organization_id": str("uuid"), "reason": str("")})
	statusQ       = []string{"status", "limit", "cursor", "as_of"}

	invitationEndpoints = []endpoint{
		{method: "POST", path: "/v1/organizations/{org}/invitations", problems: []domain.Code{domain.CodeAlreadyPartners, domain.CodeDuplicatePending}, summary: "Invite a partner by email (InviteSubcontractor from a client, InviteClient from a subcontractor)", command: true,
			request: obj([]string{"email"}, schema{"email": emailIn, "message": str(""), "locale": enum("fr", "en", "de"),
				"contact": obj(nil, schema{"name": str(""), "company": str(""), "phone": schema{"type": "string", "description": "normalised to E.164; a French national number is read as French"}})}),
			status: 201, response: ref("SentInvitation")},
		{method: "GET", path: "/v1/organizations/{org}/invitations/sent", summary: "Invitations sent, every status unless filtered", status: 200, response: listOfSchema(ref("SentInvitationRow")), query: statusQ},
		{method: "GET", path: "/v1/organizations/{org}/invitations/received", summary: "My invitations (default status=sent: pending)", status: 200, response: listOfSchema(ref("ReceivedInvitationRow")), query: statusQ},
		{method: "GET", path: "/v1/organizations/{org}/badges", summary: "Badge counts", status: 200,
			response: obj([]string{"pending_invitations", "pending_collaboration_requests"}, schema{"pending_invitations": integer, "pending_collaboration_requests": integer})},
		{method: "GET", path: "/v1/organizations/{org}/partners", summary: "The partner panel", status: 200, response: listOfSchema(ref("Partner")), query: []string{"q", "limit", "cursor", "as_of"}},
		{method: "GET", path: "/v1/organizations/{org}/partners/{partner_id}", summary: "The partner's details pane, with its owners and admins as contacts (only for the two partners)",
			status: 200, response: ref("PartnerDetails"), query: []string{"as_of"}},
		{method: "GET", path: "/v1/me/invitations", summary: "The window at sign-up: pending partner invitations to the caller's verified email, organization or not",
			status: 200, response: listOfSchema(ref("MyInvitation")), query: []string{"limit", "cursor"}},
		{method: "POST", path: "/v1/invitations/preview", problems: []domain.Code{domain.CodeNotFound}, summary: "What the invitation link's landing page shows (no authentication; a query: the token in the body keeps it out of URLs)",
			public: true, status: 200, request: obj([]string{"token"}, schema{"token": str("")}),
			response: obj([]string{"id", "inviter", "invitee_side", "status", "expires_at"}, schema{"id": str("uuid"), "inviter": obj([]string{"name", "side"}, schema{"name": str(""), "side": enum("client", "subcontractor")}),
				"invitee_side": enum("client", "subcontractor"), "status": enum("sent", "accepted", "declined", "revoked", "expired"), "expires_at": str("date-time")})},
		{method: "POST", path: "/v1/invitations/claim", problems: slices.Concat(closedCodes, []domain.Code{domain.CodeNotFound, domain.CodeOwnInvitation, domain.CodeAlreadyClaimed, domain.CodeSameSide, domain.CodeAlreadyPartners}), summary: "Attach an invitation to one of your organizations with the link's token", command: true,
			request: obj([]string{"token", "organization_id"}, schema{"token": str(""), "organization_id": str("uuid")}), status: 200, response: ref("Invitation")},
		{method: "POST", path: "/v1/invitations/{id}/accept", problems: slices.Concat(closedCodes, []domain.Code{domain.CodeOwnInvitation, domain.CodeAlreadyClaimed, domain.CodeSameSide, domain.CodeAlreadyPartners}), summary: "AcceptInvitation: the partnership is established", command: true, request: answerBody, status: 200,
			response: obj([]string{"invitation", "partnership"}, schema{"invitation": ref("Invitation"), "partnership": obj([]string{"client_id", "subcontractor_id", "since"},
				schema{"client_id": str("uuid"), "subcontractor_id": str("uuid"), "since": str("date-time")})})},
		{method: "POST", path: "/v1/invitations/{id}/decline", problems: slices.Concat(closedCodes, []domain.Code{domain.CodeOwnInvitation, domain.CodeSameSide}), summary: "Decline an invitation", command: true, request: answerBody, status: 200, response: ref("Invitation")},
		{method: "POST", path: "/v1/invitations/{id}/revoke", problems: closedCodes, summary: "Withdraw an invitation (by the inviter)", command: true, status: 200, response: ref("Invitation")},
		{method: "POST", path: "/v1/invitations/{id}/resend", problems: closedCodes, summary: "New token, new expiry, new email (by the inviter)", command: true,
			request: obj(nil, schema{"locale": enum("fr", "en", "de")}), status: 200, response: ref("SentInvitation")},
	}
)
