package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	partners "partners/client"
)

// scenario is one user story the load generator repeats: a few commands and
// the queries (with min_position) a front end would send around them. Each
// is a small function registered in the table below; a scenario whose
// endpoint the service does not have yet is skipped with a note, and runs
// as soon as the endpoint lands.
type scenario struct {
	name   string
	weight int
	about  string
	run    func(ctx context.Context, c *client) error
	// readOnly stories are left out of the commands-only mix.
	readOnly bool
}

// scenarios is the realistic mix. Weights are relative frequencies of
// stories, not of requests.
var scenarios = []scenario{
	{"organizations", 8, "a company signs up: create, read it back, list my organizations", scenarioOrganizations, false},
	{"invite_accept", 16, "seed 000 story 1: invite by email, the invitee signs up with it, sees it, accepts; panels read back", scenarioInviteAccept, false},
	{"invite_claim", 8, "seed 000 story 2: invitee signed up with another email, claims with the link's token, accepts", scenarioInviteClaim, false},
	{"invite_decline", 10, "invite a known organization's owner, who reads My invitations and declines", scenarioInviteDecline, false},
	{"invite_resend_revoke", 8, "invite, resend (new token), revoke; Invitations sent read back", scenarioResendRevoke, false},
	{"queries", 20, "panels and lists with min_position of the client's last write", scenarioQueries, true},
	{"portal_share", 8, "two portal users, a contract shown with a requester and a watcher, both views read back", scenarioPortalShare, false},
	{"watcher_change", 10, "add a watcher to a shown contract, read it back, remove the watcher", scenarioWatcherChange, false},
	{"accountant_grant", 6, "grant accountant access, the accountant accepts, lists read back, access revoked", scenarioAccountant, false},
	{"collaborator_change", 6, "invite a collaborator, activation, flags changed, list read back, removed", scenarioCollaborator, false},
}

func scenarioNames() []string {
	out := make([]string, len(scenarios))
	for i, s := range scenarios {
		out[i] = s.name
	}
	return out
}

// world is what one client keeps between stories: its home organizations
// (a client and a subcontractor) and the contracts it showed in the portal.
type world struct {
	owner    *user
	home     string // a client organization
	subOwner *user
	sub      string // a subcontractor organization
	company  string
	shares   []share
}

type share struct {
	contract  string
	requester string
	spare     []string // portal users of the same company, not watching
}

func ptr[T any](v T) *T { return &v }

// decode reads an answer into one of the document's types.
func decode[T any](r *response, what string) (T, error) {
	var v T
	if err := r.decode(&v); err != nil {
		return v, fmt.Errorf("%s: %w in %q", what, err, r.body)
	}
	return v, nil
}

// setup creates the client's home organizations.
func setup(ctx context.Context, c *client) error {
	w := &world{company: fmt.Sprintf("Maitre d'ouvrage %d", c.id)}
	var err error
	if w.owner, err = c.m.newUser("owner"); err != nil {
		return err
	}
	if w.home, err = createOrg(ctx, c, w.owner, "client"); err != nil {
		return err
	}
	if w.subOwner, err = c.m.newUser("subowner"); err != nil {
		return err
	}
	if w.sub, err = createOrg(ctx, c, w.subOwner, "subcontractor"); err != nil {
		return err
	}
	c.world = w
	return nil
}

func createOrg(ctx context.Context, c *client, u *user, side string) (string, error) {
	body := partners.PostV1OrganizationsJSONRequestBody{Name: "Bench " + side + " " + u.Sub[len(u.Sub)-8:], Side: partners.PostV1OrganizationsJSONBodySide(side)}
	r, err := c.call(ctx, "POST /v1/organizations", u, func(server string) (*http.Request, error) {
		return partners.NewPostV1OrganizationsRequest(server, nil, body)
	}, http.StatusCreated)
	if err != nil {
		return "", err
	}
	o, err := decode[partners.Organization](r, "create organization")
	return o.Id.String(), err
}

func scenarioOrganizations(ctx context.Context, c *client) error {
	u, err := c.m.newUser("signup")
	if err != nil {
		return err
	}
	side := "client"
	if c.rng.IntN(2) == 0 {
		side = "subcontractor"
	}
	org, err := createOrg(ctx, c, u, side)
	if err != nil || !c.reads {
		return err
	}
	if _, err := c.get(ctx, "GET /v1/organizations/{org}", u, c.lastPos, func(mp *int) request {
		return func(server string) (*http.Request, error) {
			return partners.NewGetV1OrganizationsOrgRequest(server, id(org), &partners.GetV1OrganizationsOrgParams{MinPosition: mp})
		}
	}); err != nil {
		return err
	}
	_, err = c.get(ctx, "GET /v1/me/organizations", u, c.lastPos, myOrganizations)
	return err
}

func myOrganizations(mp *int) request {
	return func(server string) (*http.Request, error) {
		return partners.NewGetV1MeOrganizationsRequest(server, &partners.GetV1MeOrganizationsParams{MinPosition: mp})
	}
}

// invite sends a partner invitation from the client's home organization.
func invite(ctx context.Context, c *client, email string) (invID, token string, err error) {
	w := c.world
	body := partners.PostV1OrganizationsOrgInvitationsJSONRequestBody{Email: email, Message: ptr("Bonjour, rejoignez notre panel de sous-traitants."),
		Locale: ptr(partners.PostV1OrganizationsOrgInvitationsJSONBodyLocaleFr)}
	r, err := c.call(ctx, "POST /v1/organizations/{org}/invitations", w.owner, func(server string) (*http.Request, error) {
		return partners.NewPostV1OrganizationsOrgInvitationsRequest(server, id(w.home), nil, body)
	}, http.StatusCreated)
	if err != nil {
		return "", "", err
	}
	inv, err := decode[partners.SentInvitation](r, "invitation")
	if err != nil || inv.Token == nil {
		return "", "", fmt.Errorf("invitation: no id or token in %q", r.body)
	}
	return inv.Id.String(), *inv.Token, nil
}

func accept(ctx context.Context, c *client, u *user, invID, org string) error {
	_, err := c.call(ctx, "POST /v1/invitations/{id}/accept", u, func(server string) (*http.Request, error) {
		return partners.NewPostV1InvitationsIdAcceptRequest(server, id(invID), nil, partners.PostV1InvitationsIdAcceptJSONRequestBody{OrganizationId: id(org)})
	}, http.StatusOK)
	return err
}

func received(org string, limit *int) func(mp *int) request {
	return func(mp *int) request {
		return func(server string) (*http.Request, error) {
			return partners.NewGetV1OrganizationsOrgInvitationsReceivedRequest(server, id(org),
				&partners.GetV1OrganizationsOrgInvitationsReceivedParams{Limit: limit, MinPosition: mp})
		}
	}
}

func sent(org string, status *partners.GetV1OrganizationsOrgInvitationsSentParamsStatus) func(mp *int) request {
	return func(mp *int) request {
		return func(server string) (*http.Request, error) {
			return partners.NewGetV1OrganizationsOrgInvitationsSentRequest(server, id(org),
				&partners.GetV1OrganizationsOrgInvitationsSentParams{Status: status, MinPosition: mp})
		}
	}
}

func panel(org string) func(mp *int) request {
	return func(mp *int) request {
		return func(server string) (*http.Request, error) {
			return partners.NewGetV1OrganizationsOrgPartnersRequest(server, id(org), &partners.GetV1OrganizationsOrgPartnersParams{MinPosition: mp})
		}
	}
}

func badges(org string) func(mp *int) request {
	return func(mp *int) request {
		return func(server string) (*http.Request, error) {
			return partners.NewGetV1OrganizationsOrgBadgesRequest(server, id(org), &partners.GetV1OrganizationsOrgBadgesParams{MinPosition: mp})
		}
	}
}

func members(org string) func(mp *int) request {
	return func(mp *int) request {
		return func(server string) (*http.Request, error) {
			return partners.NewGetV1OrganizationsOrgMembersRequest(server, id(org), &partners.GetV1OrganizationsOrgMembersParams{MinPosition: mp})
		}
	}
}

func scenarioInviteAccept(ctx context.Context, c *client) error {
	w := c.world
	s, err := c.m.newUser("invitee")
	if err != nil {
		return err
	}
	invID, _, err := invite(ctx, c, s.Email)
	if err != nil {
		return err
	}
	org, err := createOrg(ctx, c, s, "subcontractor")
	if err != nil {
		return err
	}
	if c.reads {
		if _, err := c.get(ctx, "GET /v1/organizations/{org}/invitations/received", s, c.lastPos, received(org, nil)); err != nil {
			return err
		}
		if _, err := c.get(ctx, "GET /v1/organizations/{org}/badges", s, c.lastPos, badges(org)); err != nil {
			return err
		}
	}
	if err := accept(ctx, c, s, invID, org); err != nil {
		return err
	}
	if !c.reads {
		return nil
	}
	if _, err := c.get(ctx, "GET /v1/organizations/{org}/partners", w.owner, c.lastPos, panel(w.home)); err != nil {
		return err
	}
	_, err = c.get(ctx, "GET /v1/organizations/{org}/invitations/sent", w.owner, c.lastPos, sent(w.home, nil))
	return err
}

func scenarioInviteClaim(ctx context.Context, c *client) error {
	s, err := c.m.newUser("claimer")
	if err != nil {
		return err
	}
	// Addressed to an email nobody signed up with.
	invID, token, err := invite(ctx, c, "other-"+s.Email)
	if err != nil {
		return err
	}
	org, err := createOrg(ctx, c, s, "subcontractor")
	if err != nil {
		return err
	}
	if c.reads {
		if _, err := c.call(ctx, "POST /v1/invitations/preview", nil, func(server string) (*http.Request, error) {
			return partners.NewPostV1InvitationsPreviewRequest(server, partners.PostV1InvitationsPreviewJSONRequestBody{Token: token})
		}, http.StatusOK); err != nil {
			return err
		}
	}
	if _, err := c.call(ctx, "POST /v1/invitations/claim", s, func(server string) (*http.Request, error) {
		return partners.NewPostV1InvitationsClaimRequest(server, nil, partners.PostV1InvitationsClaimJSONRequestBody{Token: token, OrganizationId: id(org)})
	}, http.StatusOK); err != nil {
		return err
	}
	if err := accept(ctx, c, s, invID, org); err != nil {
		return err
	}
	if !c.reads {
		return nil
	}
	_, err = c.get(ctx, "GET /v1/organizations/{org}/partners", s, c.lastPos, panel(org))
	return err
}

func scenarioInviteDecline(ctx context.Context, c *client) error {
	w := c.world
	invID, _, err := invite(ctx, c, w.subOwner.Email)
	var st *errStatus
	if errors.As(err, &st) && st.status == http.StatusConflict {
		// A pending one is left over from an interrupted story: decline it.
		invID, err = pendingFromTo(ctx, c)
	}
	if err != nil {
		return err
	}
	if c.reads {
		if _, err := c.get(ctx, "GET /v1/organizations/{org}/invitations/received", w.subOwner, c.lastPos, received(w.sub, nil)); err != nil {
			return err
		}
	}
	body := partners.PostV1InvitationsIdDeclineJSONRequestBody{OrganizationId: id(w.sub), Reason: ptr("Carnet de commandes complet ce trimestre.")}
	_, err = c.call(ctx, "POST /v1/invitations/{id}/decline", w.subOwner, func(server string) (*http.Request, error) {
		return partners.NewPostV1InvitationsIdDeclineRequest(server, id(invID), nil, body)
	}, http.StatusOK)
	return err
}

// pendingFromTo finds the pending invitation from the home client to the
// home subcontractor.
func pendingFromTo(ctx context.Context, c *client) (string, error) {
	w := c.world
	r, err := c.get(ctx, "GET /v1/organizations/{org}/invitations/received", w.subOwner, c.lastPos, received(w.sub, ptr(200)))
	if err != nil {
		return "", err
	}
	list, err := decode[struct {
		Items []partners.ReceivedInvitationRow `json:"items"`
	}](r, "invitations received")
	if err != nil {
		return "", err
	}
	for _, it := range list.Items {
		if it.Inviter.Id.String() == w.home {
			return it.Id.String(), nil
		}
	}
	return "", errors.New("duplicate pending invitation not found")
}

func scenarioResendRevoke(ctx context.Context, c *client) error {
	w := c.world
	u, err := c.m.newUser("resent")
	if err != nil {
		return err
	}
	invID, _, err := invite(ctx, c, u.Email)
	if err != nil {
		return err
	}
	if _, err := c.call(ctx, "POST /v1/invitations/{id}/resend", w.owner, func(server string) (*http.Request, error) {
		return partners.NewPostV1InvitationsIdResendRequest(server, id(invID), nil, partners.PostV1InvitationsIdResendJSONRequestBody{})
	}, http.StatusOK); err != nil {
		return err
	}
	if _, err := c.call(ctx, "POST /v1/invitations/{id}/revoke", w.owner, func(server string) (*http.Request, error) {
		return partners.NewPostV1InvitationsIdRevokeRequest(server, id(invID), nil, partners.PostV1InvitationsIdRevokeJSONRequestBody{})
	}, http.StatusOK); err != nil {
		return err
	}
	if !c.reads {
		return nil
	}
	_, err = c.get(ctx, "GET /v1/organizations/{org}/invitations/sent", w.owner, c.lastPos, sent(w.home, ptr(partners.GetV1OrganizationsOrgInvitationsSentParamsStatusRevoked)))
	return err
}

func scenarioQueries(ctx context.Context, c *client) error {
	if !c.reads {
		return nil
	}
	w := c.world
	p := c.lastPos
	steps := []struct {
		endpoint string
		u        *user
		query    func(mp *int) request
	}{
		{"GET /v1/me/organizations", w.owner, myOrganizations},
		{"GET /v1/organizations/{org}/members", w.owner, members(w.home)},
		{"GET /v1/organizations/{org}/invitations/sent", w.owner, sent(w.home, nil)},
		{"GET /v1/organizations/{org}/partners", w.owner, panel(w.home)},
		{"GET /v1/organizations/{org}/invitations/received", w.subOwner, received(w.sub, nil)},
		{"GET /v1/organizations/{org}/badges", w.subOwner, badges(w.sub)},
	}
	for _, s := range steps {
		if _, err := c.get(ctx, s.endpoint, s.u, p, s.query); err != nil {
			return err
		}
	}
	return nil
}

func createPortalUser(ctx context.Context, c *client) (string, error) {
	w := c.world
	u, err := c.m.newUser("portal")
	if err != nil {
		return "", err
	}
	body := partners.PostV1OrganizationsOrgPortalUsersJSONRequestBody{Email: u.Email, Name: u.Name, Company: &w.company}
	r, err := c.call(ctx, "POST /v1/organizations/{org}/portal-users", w.owner, func(server string) (*http.Request, error) {
		return partners.NewPostV1OrganizationsOrgPortalUsersRequest(server, id(w.home), nil, body)
	}, http.StatusCreated)
	if err != nil {
		return "", err
	}
	pu, err := decode[partners.PortalUser](r, "portal user")
	return pu.Id.String(), err
}

func contractPortal(org, contract string) func(mp *int) request {
	return func(mp *int) request {
		return func(server string) (*http.Request, error) {
			return partners.NewGetV1OrganizationsOrgContractsContractIdPortalRequest(server, id(org), contract,
				&partners.GetV1OrganizationsOrgContractsContractIdPortalParams{MinPosition: mp})
		}
	}
}

func scenarioPortalShare(ctx context.Context, c *client) error {
	w := c.world
	requester, err := createPortalUser(ctx, c)
	if err != nil {
		return err
	}
	watcher, err := createPortalUser(ctx, c)
	if err != nil {
		return err
	}
	contract := fmt.Sprintf("CTR-%d-%d", c.id, c.rng.Int64N(1<<40))
	body := partners.PutV1OrganizationsOrgContractsContractIdPortalJSONRequestBody{Title: "Rénovation lot " + contract, RequesterId: id(requester),
		WatcherIds: &[]uuid.UUID{id(watcher)}, AttachmentsVisible: ptr(true)}
	if _, err := c.call(ctx, "PUT /v1/organizations/{org}/contracts/{contract_id}/portal", w.owner, func(server string) (*http.Request, error) {
		return partners.NewPutV1OrganizationsOrgContractsContractIdPortalRequest(server, id(w.home), contract, nil, body)
	}, http.StatusOK, http.StatusCreated); err != nil {
		return err
	}
	sh := share{contract: contract, requester: requester}
	if len(w.shares) < 32 {
		w.shares = append(w.shares, sh)
	} else {
		w.shares[c.rng.IntN(len(w.shares))] = sh
	}
	if !c.reads {
		return nil
	}
	if _, err := c.get(ctx, "GET /v1/organizations/{org}/contracts/{contract_id}/portal", w.owner, c.lastPos, contractPortal(w.home, contract)); err != nil {
		return err
	}
	_, err = c.get(ctx, "GET /v1/organizations/{org}/portal-users/{id}/contracts", w.owner, c.lastPos, func(mp *int) request {
		return func(server string) (*http.Request, error) {
			return partners.NewGetV1OrganizationsOrgPortalUsersIdContractsRequest(server, id(w.home), id(watcher),
				&partners.GetV1OrganizationsOrgPortalUsersIdContractsParams{MinPosition: mp})
		}
	})
	return err
}

func scenarioWatcherChange(ctx context.Context, c *client) error {
	w := c.world
	if len(w.shares) == 0 {
		return scenarioPortalShare(ctx, c)
	}
	sh := &w.shares[c.rng.IntN(len(w.shares))]
	var watcher string
	if n := len(sh.spare); n > 0 {
		watcher, sh.spare = sh.spare[n-1], sh.spare[:n-1]
	} else {
		var err error
		if watcher, err = createPortalUser(ctx, c); err != nil {
			return err
		}
	}
	if _, err := c.call(ctx, "POST /v1/organizations/{org}/contracts/{contract_id}/watchers", w.owner, func(server string) (*http.Request, error) {
		return partners.NewPostV1OrganizationsOrgContractsContractIdWatchersRequest(server, id(w.home), sh.contract, nil,
			partners.PostV1OrganizationsOrgContractsContractIdWatchersJSONRequestBody{PortalUserId: id(watcher)})
	}, http.StatusOK, http.StatusCreated); err != nil {
		return err
	}
	if c.reads {
		if _, err := c.get(ctx, "GET /v1/organizations/{org}/contracts/{contract_id}/portal", w.owner, c.lastPos, contractPortal(w.home, sh.contract)); err != nil {
			return err
		}
	}
	if _, err := c.call(ctx, "DELETE /v1/organizations/{org}/contracts/{contract_id}/watchers/{portal_user_id}", w.owner, func(server string) (*http.Request, error) {
		return partners.NewDeleteV1OrganizationsOrgContractsContractIdWatchersPortalUserIdRequest(server, id(w.home), sh.contract, id(watcher), nil)
	}, http.StatusNoContent, http.StatusOK); err != nil {
		return err
	}
	sh.spare = append(sh.spare, watcher)
	return nil
}

func scenarioAccountant(ctx context.Context, c *client) error {
	w := c.world
	a, err := c.m.newUser("accountant")
	if err != nil {
		return err
	}
	grant := partners.PostV1OrganizationsOrgAccountantsJSONRequestBody{Email: a.Email, Message: ptr("Accès comptable pour la clôture.")}
	r, err := c.call(ctx, "POST /v1/organizations/{org}/accountants", w.owner, func(server string) (*http.Request, error) {
		return partners.NewPostV1OrganizationsOrgAccountantsRequest(server, id(w.home), nil, grant)
	}, http.StatusCreated)
	if err != nil {
		return err
	}
	inv, err := decode[partners.TeamInvitationSent](r, "accountant access")
	if err != nil {
		return err
	}
	if _, err := c.call(ctx, "POST /v1/accountant-invitations/{id}/accept", a, func(server string) (*http.Request, error) {
		return partners.NewPostV1AccountantInvitationsIdAcceptRequest(server, inv.Id, nil, partners.PostV1AccountantInvitationsIdAcceptJSONRequestBody{Token: inv.Token})
	}, http.StatusOK); err != nil {
		return err
	}
	if c.reads {
		if _, err := c.get(ctx, "GET /v1/organizations/{org}/accountants", w.owner, c.lastPos, func(mp *int) request {
			return func(server string) (*http.Request, error) {
				return partners.NewGetV1OrganizationsOrgAccountantsRequest(server, id(w.home), &partners.GetV1OrganizationsOrgAccountantsParams{MinPosition: mp})
			}
		}); err != nil {
			return err
		}
		if _, err := c.get(ctx, "GET /v1/me/accountant-clients", a, c.lastPos, func(mp *int) request {
			return func(server string) (*http.Request, error) {
				return partners.NewGetV1MeAccountantClientsRequest(server, &partners.GetV1MeAccountantClientsParams{MinPosition: mp})
			}
		}); err != nil {
			return err
		}
	}
	_, err = c.call(ctx, "DELETE /v1/organizations/{org}/accountants/{user_id}", w.owner, func(server string) (*http.Request, error) {
		return partners.NewDeleteV1OrganizationsOrgAccountantsUserIdRequest(server, id(w.home), a.Sub, nil)
	}, http.StatusNoContent, http.StatusOK)
	return err
}

func scenarioCollaborator(ctx context.Context, c *client) error {
	w := c.world
	k, err := addCollaborator(ctx, c)
	if err != nil {
		return err
	}
	if _, err := c.call(ctx, "PATCH /v1/organizations/{org}/collaborators/{user_id}", w.owner, func(server string) (*http.Request, error) {
		return partners.NewPatchV1OrganizationsOrgCollaboratorsUserIdRequest(server, id(w.home), k.Sub, nil,
			partners.PatchV1OrganizationsOrgCollaboratorsUserIdJSONRequestBody{CanPurchase: ptr(true)})
	}, http.StatusOK); err != nil {
		return err
	}
	if c.reads {
		if _, err := c.get(ctx, "GET /v1/organizations/{org}/collaborators", w.owner, c.lastPos, func(mp *int) request {
			return func(server string) (*http.Request, error) {
				return partners.NewGetV1OrganizationsOrgCollaboratorsRequest(server, id(w.home), &partners.GetV1OrganizationsOrgCollaboratorsParams{MinPosition: mp})
			}
		}); err != nil {
			return err
		}
	}
	_, err = c.call(ctx, "DELETE /v1/organizations/{org}/collaborators/{user_id}", w.owner, func(server string) (*http.Request, error) {
		return partners.NewDeleteV1OrganizationsOrgCollaboratorsUserIdRequest(server, id(w.home), k.Sub, nil)
	}, http.StatusNoContent, http.StatusOK)
	return err
}

// addCollaborator invites a collaborator to the home organization, who
// activates the invitation: a member from then on.
func addCollaborator(ctx context.Context, c *client) (*user, error) {
	w := c.world
	k, err := c.m.newUser("collab")
	if err != nil {
		return nil, err
	}
	first, last, _ := strings.Cut(k.Name, " ")
	create := partners.PostV1OrganizationsOrgCollaboratorsJSONRequestBody{FirstName: first, LastName: last, Email: k.Email, Phone: "+33612345678",
		CanPurchase: ptr(false), CanSeeAllOrders: ptr(false)}
	r, err := c.call(ctx, "POST /v1/organizations/{org}/collaborators", w.owner, func(server string) (*http.Request, error) {
		return partners.NewPostV1OrganizationsOrgCollaboratorsRequest(server, id(w.home), nil, create)
	}, http.StatusCreated)
	if err != nil {
		return nil, err
	}
	inv, err := decode[partners.CollaboratorInvited](r, "collaborator")
	if err != nil || inv.Token == nil {
		return nil, fmt.Errorf("collaborator: no token in %q", r.body)
	}
	if _, err := c.call(ctx, "POST /v1/collaborators/activate", k, func(server string) (*http.Request, error) {
		return partners.NewPostV1CollaboratorsActivateRequest(server, nil, partners.PostV1CollaboratorsActivateJSONRequestBody{Token: *inv.Token})
	}, http.StatusOK, http.StatusCreated); err != nil {
		return nil, err
	}
	return k, nil
}
