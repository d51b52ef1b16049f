package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
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

type idBody struct {
	ID    string  `json:"id"`
	Token *string `json:"token"`
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
	r, err := c.call(ctx, "POST /v1/organizations", u, "/v1/organizations",
		map[string]any{"name": "Bench " + side + " " + u.Sub[len(u.Sub)-8:], "side": side}, http.StatusCreated)
	if err != nil {
		return "", err
	}
	var b idBody
	if err := r.decode(&b); err != nil || b.ID == "" {
		return "", fmt.Errorf("create organization: no id in %q", r.body)
	}
	return b.ID, nil
}

func orgPath(org, rest string) string { return "/v1/organizations/" + url.PathEscape(org) + rest }

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
	if _, err := c.get(ctx, "GET /v1/organizations/{org}", u, orgPath(org, ""), c.lastPos); err != nil {
		return err
	}
	_, err = c.get(ctx, "GET /v1/me/organizations", u, "/v1/me/organizations", c.lastPos)
	return err
}

// invite sends a partner invitation from the client's home organization.
func invite(ctx context.Context, c *client, email string) (id, token string, err error) {
	w := c.world
	r, err := c.call(ctx, "POST /v1/organizations/{org}/invitations", w.owner, orgPath(w.home, "/invitations"),
		map[string]any{"email": email, "message": "Bonjour, rejoignez notre panel de sous-traitants.", "locale": "fr"},
		http.StatusCreated)
	if err != nil {
		return "", "", err
	}
	var b idBody
	if err := r.decode(&b); err != nil || b.ID == "" || b.Token == nil {
		return "", "", fmt.Errorf("invitation: no id or token in %q", r.body)
	}
	return b.ID, *b.Token, nil
}

func invPath(id, verb string) string { return "/v1/invitations/" + url.PathEscape(id) + "/" + verb }

func scenarioInviteAccept(ctx context.Context, c *client) error {
	w := c.world
	s, err := c.m.newUser("invitee")
	if err != nil {
		return err
	}
	id, _, err := invite(ctx, c, s.Email)
	if err != nil {
		return err
	}
	org, err := createOrg(ctx, c, s, "subcontractor")
	if err != nil {
		return err
	}
	if c.reads {
		if _, err := c.get(ctx, "GET /v1/organizations/{org}/invitations/received", s, orgPath(org, "/invitations/received"), c.lastPos); err != nil {
			return err
		}
		if _, err := c.get(ctx, "GET /v1/organizations/{org}/badges", s, orgPath(org, "/badges"), c.lastPos); err != nil {
			return err
		}
	}
	if _, err := c.call(ctx, "POST /v1/invitations/{id}/accept", s, invPath(id, "accept"),
		map[string]any{"organization_id": org}, http.StatusOK); err != nil {
		return err
	}
	if !c.reads {
		return nil
	}
	if _, err := c.get(ctx, "GET /v1/organizations/{org}/partners", w.owner, orgPath(w.home, "/partners"), c.lastPos); err != nil {
		return err
	}
	_, err = c.get(ctx, "GET /v1/organizations/{org}/invitations/sent", w.owner, orgPath(w.home, "/invitations/sent"), c.lastPos)
	return err
}

func scenarioInviteClaim(ctx context.Context, c *client) error {
	s, err := c.m.newUser("claimer")
	if err != nil {
		return err
	}
	// Addressed to an email nobody signed up with.
	id, token, err := invite(ctx, c, "other-"+s.Email)
	if err != nil {
		return err
	}
	org, err := createOrg(ctx, c, s, "subcontractor")
	if err != nil {
		return err
	}
	if c.reads {
		if _, err := c.call(ctx, "POST /v1/invitations/preview", nil, "/v1/invitations/preview", map[string]any{"token": token}, http.StatusOK); err != nil {
			return err
		}
	}
	if _, err := c.call(ctx, "POST /v1/invitations/claim", s, "/v1/invitations/claim",
		map[string]any{"token": token, "organization_id": org}, http.StatusOK); err != nil {
		return err
	}
	if _, err := c.call(ctx, "POST /v1/invitations/{id}/accept", s, invPath(id, "accept"),
		map[string]any{"organization_id": org}, http.StatusOK); err != nil {
		return err
	}
	if !c.reads {
		return nil
	}
	_, err = c.get(ctx, "GET /v1/organizations/{org}/partners", s, orgPath(org, "/partners"), c.lastPos)
	return err
}

func scenarioInviteDecline(ctx context.Context, c *client) error {
	w := c.world
	id, _, err := invite(ctx, c, w.subOwner.Email)
	var st *errStatus
	if errors.As(err, &st) && st.status == http.StatusConflict {
		// A pending one is left over from an interrupted story: decline it.
		id, err = pendingFromTo(ctx, c)
	}
	if err != nil {
		return err
	}
	if c.reads {
		if _, err := c.get(ctx, "GET /v1/organizations/{org}/invitations/received", w.subOwner, orgPath(w.sub, "/invitations/received"), c.lastPos); err != nil {
			return err
		}
	}
	_, err = c.call(ctx, "POST /v1/invitations/{id}/decline", w.subOwner, invPath(id, "decline"),
		map[string]any{"organization_id": w.sub, "reason": "Carnet de commandes complet ce trimestre."}, http.StatusOK)
	return err
}

// pendingFromTo finds the pending invitation from the home client to the
// home subcontractor.
func pendingFromTo(ctx context.Context, c *client) (string, error) {
	w := c.world
	r, err := c.get(ctx, "GET /v1/organizations/{org}/invitations/received", w.subOwner, orgPath(w.sub, "/invitations/received?limit=200"), c.lastPos)
	if err != nil {
		return "", err
	}
	var list struct {
		Items []struct {
			ID      string `json:"id"`
			Inviter struct {
				ID string `json:"id"`
			} `json:"inviter"`
		} `json:"items"`
	}
	if err := r.decode(&list); err != nil {
		return "", err
	}
	for _, it := range list.Items {
		if it.Inviter.ID == w.home {
			return it.ID, nil
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
	id, _, err := invite(ctx, c, u.Email)
	if err != nil {
		return err
	}
	if _, err := c.call(ctx, "POST /v1/invitations/{id}/resend", w.owner, invPath(id, "resend"), map[string]any{}, http.StatusOK); err != nil {
		return err
	}
	if _, err := c.call(ctx, "POST /v1/invitations/{id}/revoke", w.owner, invPath(id, "revoke"), map[string]any{}, http.StatusOK); err != nil {
		return err
	}
	if !c.reads {
		return nil
	}
	_, err = c.get(ctx, "GET /v1/organizations/{org}/invitations/sent", w.owner, orgPath(w.home, "/invitations/sent?status=revoked"), c.lastPos)
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
		path     string
	}{
		{"GET /v1/me/organizations", w.owner, "/v1/me/organizations"},
		{"GET /v1/organizations/{org}/members", w.owner, orgPath(w.home, "/members")},
		{"GET /v1/organizations/{org}/invitations/sent", w.owner, orgPath(w.home, "/invitations/sent")},
		{"GET /v1/organizations/{org}/partners", w.owner, orgPath(w.home, "/partners")},
		{"GET /v1/organizations/{org}/invitations/received", w.subOwner, orgPath(w.sub, "/invitations/received")},
		{"GET /v1/organizations/{org}/badges", w.subOwner, orgPath(w.sub, "/badges")},
	}
	for _, s := range steps {
		if _, err := c.get(ctx, s.endpoint, s.u, s.path, p); err != nil {
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
	r, err := c.call(ctx, "POST /v1/organizations/{org}/portal-users", w.owner, orgPath(w.home, "/portal-users"),
		map[string]any{"email": u.Email, "name": u.Name, "company": w.company}, http.StatusCreated)
	if err != nil {
		return "", err
	}
	var b idBody
	if err := r.decode(&b); err != nil || b.ID == "" {
		return "", fmt.Errorf("portal user: no id in %q", r.body)
	}
	return b.ID, nil
}

func contractPath(org, contract, rest string) string {
	return orgPath(org, "/contracts/"+url.PathEscape(contract)+rest)
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
	if _, err := c.call(ctx, "PUT /v1/organizations/{org}/contracts/{contract_id}/portal", w.owner, contractPath(w.home, contract, "/portal"),
		map[string]any{"title": "Rénovation lot " + contract, "requester_id": requester, "watcher_ids": []string{watcher}, "attachments_visible": true},
		http.StatusOK, http.StatusCreated); err != nil {
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
	if _, err := c.get(ctx, "GET /v1/organizations/{org}/contracts/{contract_id}/portal", w.owner, contractPath(w.home, contract, "/portal"), c.lastPos); err != nil {
		return err
	}
	_, err = c.get(ctx, "GET /v1/organizations/{org}/portal-users/{id}/contracts", w.owner, orgPath(w.home, "/portal-users/"+url.PathEscape(watcher)+"/contracts"), c.lastPos)
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
	if _, err := c.call(ctx, "POST /v1/organizations/{org}/contracts/{contract_id}/watchers", w.owner, contractPath(w.home, sh.contract, "/watchers"),
		map[string]any{"portal_user_id": watcher}, http.StatusOK, http.StatusCreated); err != nil {
		return err
	}
	if c.reads {
		if _, err := c.get(ctx, "GET /v1/organizations/{org}/contracts/{contract_id}/portal", w.owner, contractPath(w.home, sh.contract, "/portal"), c.lastPos); err != nil {
			return err
		}
	}
	if _, err := c.call(ctx, "DELETE /v1/organizations/{org}/contracts/{contract_id}/watchers/{portal_user_id}", w.owner,
		contractPath(w.home, sh.contract, "/watchers/"+url.PathEscape(watcher)), nil, http.StatusNoContent, http.StatusOK); err != nil {
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
	r, err := c.call(ctx, "POST /v1/organizations/{org}/accountants", w.owner, orgPath(w.home, "/accountants"),
		map[string]any{"email": a.Email, "message": "Accès comptable pour la clôture."}, http.StatusCreated)
	if err != nil {
		return err
	}
	var b idBody
	if err := r.decode(&b); err != nil || b.ID == "" {
		return fmt.Errorf("accountant access: no id in %q", r.body)
	}
	body := map[string]any{}
	if b.Token != nil {
		body["token"] = *b.Token
	}
	if _, err := c.call(ctx, "POST /v1/accountant-invitations/{id}/accept", a, "/v1/accountant-invitations/"+url.PathEscape(b.ID)+"/accept",
		body, http.StatusOK); err != nil {
		return err
	}
	if c.reads {
		if _, err := c.get(ctx, "GET /v1/organizations/{org}/accountants", w.owner, orgPath(w.home, "/accountants"), c.lastPos); err != nil {
			return err
		}
		if _, err := c.get(ctx, "GET /v1/me/accountant-clients", a, "/v1/me/accountant-clients", c.lastPos); err != nil {
			return err
		}
	}
	_, err = c.call(ctx, "DELETE /v1/organizations/{org}/accountants/{user_id}", w.owner, orgPath(w.home, "/accountants/"+url.PathEscape(a.Sub)),
		nil, http.StatusNoContent, http.StatusOK)
	return err
}

func scenarioCollaborator(ctx context.Context, c *client) error {
	w := c.world
	k, err := c.m.newUser("collab")
	if err != nil {
		return err
	}
	first, last, _ := strings.Cut(k.Name, " ")
	r, err := c.call(ctx, "POST /v1/organizations/{org}/collaborators", w.owner, orgPath(w.home, "/collaborators"),
		map[string]any{"first_name": first, "last_name": last, "email": k.Email, "phone": "+33612345678",
			"can_purchase": false, "can_see_all_orders": false}, http.StatusCreated)
	if err != nil {
		return err
	}
	var b idBody
	if err := r.decode(&b); err != nil || b.Token == nil {
		return fmt.Errorf("collaborator: no token in %q", r.body)
	}
	if _, err := c.call(ctx, "POST /v1/collaborators/activate", k, "/v1/collaborators/activate",
		map[string]any{"token": *b.Token}, http.StatusOK, http.StatusCreated); err != nil {
		return err
	}
	if _, err := c.call(ctx, "PATCH /v1/organizations/{org}/collaborators/{user_id}", w.owner, orgPath(w.home, "/collaborators/"+url.PathEscape(k.Sub)),
		map[string]any{"can_purchase": true}, http.StatusOK); err != nil {
		return err
	}
	if c.reads {
		if _, err := c.get(ctx, "GET /v1/organizations/{org}/collaborators", w.owner, orgPath(w.home, "/collaborators"), c.lastPos); err != nil {
			return err
		}
	}
	_, err = c.call(ctx, "DELETE /v1/organizations/{org}/collaborators/{user_id}", w.owner, orgPath(w.home, "/collaborators/"+url.PathEscape(k.Sub)),
		nil, http.StatusNoContent, http.StatusOK)
	return err
}
