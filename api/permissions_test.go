package api_test

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
	"partners/internal/apitest"
	"partners/internal/pgtest"
)

// The permission test: every command endpoint of the API, tried by every
// role of an organization (collaborators with both values of their flags)
// and by an outsider, against a fresh organization each time. Each answer
// must be allowed or refused exactly as the permission table says: a
// member whose role lacks the permission gets 403 not_allowed, an outsider
// 404 not_found (the organization's existence is not revealed), and an
// allowed caller gets the command's success.
//
// The table below must list exactly the router's command routes: a new
// command endpoint makes this test fail until its row is added.

// permissionRole is a caller's standing in the organization under test.
type permissionRole struct {
	name     string
	role     domain.Role // zero for the outsider
	purchase bool
	all      bool
}

var permissionRoles = []permissionRole{
	{name: "owner", role: domain.RoleOwner},
	{name: "admin", role: domain.RoleAdmin},
	{name: "member", role: domain.RoleMember},
	{name: "accountant", role: domain.RoleAccountant},
	{name: "collaborator", role: domain.RoleCollaborator},
	{name: "collaborator+can_purchase+can_see_all_orders", role: domain.RoleCollaborator, purchase: true, all: true},
	{name: "outsider"},
}

func (r permissionRole) grant() domain.Grant {
	return domain.Grant{Role: r.role.String(), CanPurchase: r.purchase, CanSeeAllOrders: r.all}
}

// permFixture is a client organization with one user per role, and the
// people some commands act on: a plain member (Tess), a collaborator (Kim)
// and a second accountant (Alex).
type permFixture struct {
	s               *apitest.Server
	org             string
	owner           apitest.User
	users           map[string]apitest.User
	tess, kim, alex apitest.User
}

func newPermFixture(t *testing.T, s *apitest.Server) *permFixture {
	t.Helper()
	f := &permFixture{s: s, owner: apitest.NewUser(t, "Owner"), users: map[string]apitest.User{}}
	f.org, _ = s.CreateOrganization(t, f.owner, "Permissions", "client")
	f.users["owner"] = f.owner
	f.tess, f.kim, f.alex = apitest.NewUser(t, "Tess"), apitest.NewUser(t, "Kim"), apitest.NewUser(t, "Alex")
	id := uuid.MustParse(f.org)
	var joins []eventstore.NewEvent
	join := func(u apitest.User, role domain.Role, purchase, all bool) {
		ref := s.Store.Keys().Ref(u.Email)
		joins = append(joins, eventstore.NewEvent{ID: uuid.New(), Data: domain.MemberJoined{OrganizationID: id, UserID: u.Sub,
			Email: domain.PersonalOf(ref, u.Email), Name: domain.PersonalOf(ref, u.Name), EmailVerified: true, Role: role,
			CanPurchase: purchase, CanSeeAllOrders: all, Via: "test"}})
	}
	for _, r := range permissionRoles {
		if r.role.IsZero() {
			f.users[r.name] = apitest.NewUser(t, "Outsider")
			continue
		}
		if r.role == domain.RoleOwner {
			continue
		}
		u := apitest.NewUser(t, strings.SplitN(r.name, "+", 2)[0])
		f.users[r.name] = u
		join(u, r.role, r.purchase, r.all)
	}
	join(f.tess, domain.RoleMember, false, false)
	join(f.kim, domain.RoleCollaborator, false, false)
	join(f.alex, domain.RoleAccountant, false, false)
	res, err := s.Store.Append(context.Background(), eventstore.Batch{Streams: []eventstore.StreamAppend{{
		StreamID: domain.OrganizationStream(id), StreamType: domain.OrganizationStreamType, Expected: eventstore.Any, Events: joins}}})
	if err != nil {
		t.Fatal(err)
	}
	s.Projector.Wake()
	if err := s.Projector.WaitApplied(context.Background(), []string{"members"}, res.Position, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return f
}

// as sends a request as u and expects success.
func (f *permFixture) as(t *testing.T, u apitest.User, method, path string, body any) map[string]any {
	t.Helper()
	r := f.s.Do(t, apitest.Request{Method: method, Path: path, Token: u.Token, Body: body})
	if r.Status >= 300 {
		t.Fatalf("setup %s %s answered %d: %s", method, path, r.Status, r.Body)
	}
	if len(r.Body) == 0 {
		return nil
	}
	return r.JSON(t)
}

func (f *permFixture) path(rest string) string { return "/v1/organizations/" + f.org + rest }

func randomEmail() string { return "someone-" + uuid.NewString()[:8] + "@example.com" }

// portalUser adds a portal user of company Acme SA.
func (f *permFixture) portalUser(t *testing.T) string {
	t.Helper()
	return f.as(t, f.owner, "POST", f.path("/portal-users"), map[string]any{"email": randomEmail(), "name": "Anna", "company": "Acme SA"})["id"].(string)
}

// contract shows contract C-1 with a requester and the given watchers.
func (f *permFixture) contract(t *testing.T, watchers ...string) {
	t.Helper()
	if watchers == nil {
		watchers = []string{}
	}
	f.as(t, f.owner, "PUT", f.path("/contracts/C-1/portal"), map[string]any{"title": "Maintenance", "requester_id": f.portalUser(t),
		"watcher_ids": watchers, "attachments_visible": false})
}

// collaboratorAccount creates a collaborator account not yet activated.
func (f *permFixture) collaboratorAccount(t *testing.T) string {
	t.Helper()
	return f.as(t, f.owner, "POST", f.path("/collaborators"), map[string]any{"first_name": "Lina", "last_name": "Roy",
		"email": randomEmail(), "phone": "0612345678"})["id"].(string)
}

// subcontractorInvites has another (subcontractor) organization invite an
// email; it returns the invitation id and token.
func (f *permFixture) subcontractorInvites(t *testing.T, email string) (string, string) {
	t.Helper()
	sub := apitest.NewUser(t, "Samir")
	org, _ := f.s.CreateOrganization(t, sub, "Plomberie", "subcontractor")
	m := f.as(t, sub, "POST", "/v1/organizations/"+org+"/invitations", map[string]any{"email": email})
	return m["id"].(string), m["token"].(string)
}

// permCase is one command route and how to try it.
type permCase struct {
	method, route string
	// action is the permission the command needs in the fixture's
	// organization. Empty for open and admin routes.
	action domain.Action
	// open routes are for any signed-in user; want says what each caller
	// gets (being a member already is a rule, not a permission).
	open func(r permissionRole) (int, string)
	// admin routes need the partners:admin scope, which no role gives.
	admin bool
	// setup prepares what the command acts on and returns its path and body.
	setup func(t *testing.T, f *permFixture) (string, any)
}

// anyone answers an open route's status for every caller.
func anyone(status int) func(permissionRole) (int, string) {
	return func(permissionRole) (int, string) { return status, "" }
}

// newcomersOnly: an invitation or activation link works for someone who
// is not yet a member; members are refused by the rule, not the table.
func newcomersOnly(r permissionRole) (int, string) {
	if r.role.IsZero() {
		return http.StatusOK, ""
	}
	return http.StatusConflict, string(domain.CodeAlreadyMember)
}

func permissionTable() []permCase {
	fixed := func(path string, body any) func(*testing.T, *permFixture) (string, any) {
		return func(_ *testing.T, f *permFixture) (string, any) { return f.path(path), body }
	}
	return []permCase{
		// Organizations.
		{method: "POST", route: "/v1/organizations", open: anyone(http.StatusCreated),
			setup: func(*testing.T, *permFixture) (string, any) {
				return "/v1/organizations", map[string]any{"name": "Another", "side": "subcontractor"}
			}},

		// Partner invitations.
		{method: "POST", route: "/v1/organizations/:org/invitations", action: domain.ActionPartnersInvite,
			setup: func(_ *testing.T, f *permFixture) (string, any) {
				return f.path("/invitations"), map[string]any{"email": randomEmail()}
			}},
		{method: "POST", route: "/v1/invitations/claim", action: domain.ActionInvitationsAnswer,
			setup: func(t *testing.T, f *permFixture) (string, any) {
				_, token := f.subcontractorInvites(t, randomEmail())
				return "/v1/invitations/claim", map[string]any{"token": token, "organization_id": f.org}
			}},
		{method: "POST", route: "/v1/invitations/:id/accept", action: domain.ActionInvitationsAnswer,
			setup: func(t *testing.T, f *permFixture) (string, any) {
				id, _ := f.subcontractorInvites(t, f.owner.Email)
				return "/v1/invitations/" + id + "/accept", map[string]any{"organization_id": f.org}
			}},
		{method: "POST", route: "/v1/invitations/:id/decline", action: domain.ActionInvitationsAnswer,
			setup: func(t *testing.T, f *permFixture) (string, any) {
				id, _ := f.subcontractorInvites(t, f.owner.Email)
				return "/v1/invitations/" + id + "/decline", map[string]any{"organization_id": f.org}
			}},
		{method: "POST", route: "/v1/invitations/:id/revoke", action: domain.ActionPartnersInvite,
			setup: func(t *testing.T, f *permFixture) (string, any) {
				id := f.as(t, f.owner, "POST", f.path("/invitations"), map[string]any{"email": randomEmail()})["id"].(string)
				return "/v1/invitations/" + id + "/revoke", nil
			}},
		{method: "POST", route: "/v1/invitations/:id/resend", action: domain.ActionPartnersInvite,
			setup: func(t *testing.T, f *permFixture) (string, any) {
				id := f.as(t, f.owner, "POST", f.path("/invitations"), map[string]any{"email": randomEmail()})["id"].(string)
				return "/v1/invitations/" + id + "/resend", nil
			}},

		// Client portal.
		{method: "POST", route: "/v1/organizations/:org/portal-users", action: domain.ActionPortalManage,
			setup: func(_ *testing.T, f *permFixture) (string, any) {
				return f.path("/portal-users"), map[string]any{"email": randomEmail(), "name": "Bruno", "company": "Acme SA"}
			}},
		{method: "PATCH", route: "/v1/organizations/:org/portal-users/:id", action: domain.ActionPortalManage,
			setup: func(t *testing.T, f *permFixture) (string, any) {
				return f.path("/portal-users/" + f.portalUser(t)), map[string]any{"name": "Anna K."}
			}},
		{method: "PUT", route: "/v1/organizations/:org/contracts/:contract_id/portal", action: domain.ActionPortalManage,
			setup: func(t *testing.T, f *permFixture) (string, any) {
				return f.path("/contracts/C-1/portal"), map[string]any{"title": "Maintenance", "requester_id": f.portalUser(t),
					"watcher_ids": []string{}, "attachments_visible": true}
			}},
		{method: "PATCH", route: "/v1/organizations/:org/contracts/:contract_id/portal", action: domain.ActionPortalManage,
			setup: func(t *testing.T, f *permFixture) (string, any) {
				f.contract(t)
				return f.path("/contracts/C-1/portal"), map[string]any{"attachments_visible": true}
			}},
		{method: "DELETE", route: "/v1/organizations/:org/contracts/:contract_id/portal", action: domain.ActionPortalManage,
			setup: func(t *testing.T, f *permFixture) (string, any) {
				f.contract(t)
				return f.path("/contracts/C-1/portal"), nil
			}},
		{method: "POST", route: "/v1/organizations/:org/contracts/:contract_id/watchers", action: domain.ActionPortalManage,
			setup: func(t *testing.T, f *permFixture) (string, any) {
				f.contract(t)
				return f.path("/contracts/C-1/watchers"), map[string]any{"portal_user_id": f.portalUser(t)}
			}},
		{method: "DELETE", route: "/v1/organizations/:org/contracts/:contract_id/watchers/:portal_user_id", action: domain.ActionPortalManage,
			setup: func(t *testing.T, f *permFixture) (string, any) {
				w := f.portalUser(t)
				f.contract(t, w)
				return f.path("/contracts/C-1/watchers/" + w), nil
			}},

		// Colleagues.
		{method: "POST", route: "/v1/organizations/:org/member-invitations", action: domain.ActionMembersManage,
			setup: func(_ *testing.T, f *permFixture) (string, any) {
				return f.path("/member-invitations"), map[string]any{"email": randomEmail(), "role": "member"}
			}},
		{method: "POST", route: "/v1/member-invitations/:id/revoke", action: domain.ActionMembersManage,
			setup: func(t *testing.T, f *permFixture) (string, any) {
				id := f.as(t, f.owner, "POST", f.path("/member-invitations"), map[string]any{"email": randomEmail(), "role": "member"})["id"].(string)
				return "/v1/member-invitations/" + id + "/revoke", nil
			}},
		{method: "POST", route: "/v1/member-invitations/:id/accept", open: newcomersOnly,
			setup: func(t *testing.T, f *permFixture) (string, any) {
				m := f.as(t, f.owner, "POST", f.path("/member-invitations"), map[string]any{"email": randomEmail(), "role": "member"})
				return "/v1/member-invitations/" + m["id"].(string) + "/accept", map[string]any{"token": m["token"]}
			}},
		{method: "PATCH", route: "/v1/organizations/:org/members/:user_id", action: domain.ActionMembersManage,
			setup: func(_ *testing.T, f *permFixture) (string, any) {
				return f.path("/members/" + f.tess.Sub), map[string]any{"role": "member"}
			}},
		{method: "DELETE", route: "/v1/organizations/:org/members/:user_id", action: domain.ActionMembersManage,
			setup: func(_ *testing.T, f *permFixture) (string, any) { return f.path("/members/" + f.tess.Sub), nil }},

		// Accountant access.
		{method: "POST", route: "/v1/organizations/:org/accountants", action: domain.ActionMembersManage,
			setup: func(_ *testing.T, f *permFixture) (string, any) {
				return f.path("/accountants"), map[string]any{"email": randomEmail()}
			}},
		{method: "POST", route: "/v1/accountant-invitations/:id/revoke", action: domain.ActionMembersManage,
			setup: func(t *testing.T, f *permFixture) (string, any) {
				id := f.as(t, f.owner, "POST", f.path("/accountants"), map[string]any{"email": randomEmail()})["id"].(string)
				return "/v1/accountant-invitations/" + id + "/revoke", nil
			}},
		{method: "POST", route: "/v1/accountant-invitations/:id/accept", open: newcomersOnly,
			setup: func(t *testing.T, f *permFixture) (string, any) {
				m := f.as(t, f.owner, "POST", f.path("/accountants"), map[string]any{"email": randomEmail()})
				return "/v1/accountant-invitations/" + m["id"].(string) + "/accept", map[string]any{"token": m["token"]}
			}},
		{method: "DELETE", route: "/v1/organizations/:org/accountants/:user_id", action: domain.ActionMembersManage,
			setup: func(_ *testing.T, f *permFixture) (string, any) { return f.path("/accountants/" + f.alex.Sub), nil }},

		// Collaborators.
		{method: "POST", route: "/v1/organizations/:org/collaborators", action: domain.ActionMembersManage,
			setup: fixed("/collaborators", map[string]any{"first_name": "Karim", "last_name": "Benali", "email": "karim@example.com",
				"phone": "+33612345678", "can_purchase": true})},
		{method: "POST", route: "/v1/collaborators/activate", open: newcomersOnly,
			setup: func(t *testing.T, f *permFixture) (string, any) {
				m := f.as(t, f.owner, "POST", f.path("/collaborators"), map[string]any{"first_name": "Karim", "last_name": "Benali",
					"email": randomEmail(), "phone": "0612345678"})
				return "/v1/collaborators/activate", map[string]any{"token": m["token"]}
			}},
		{method: "PATCH", route: "/v1/organizations/:org/collaborators/:user_id", action: domain.ActionMembersManage,
			setup: func(_ *testing.T, f *permFixture) (string, any) {
				return f.path("/collaborators/" + f.kim.Sub), map[string]any{"can_purchase": true}
			}},
		{method: "DELETE", route: "/v1/organizations/:org/collaborators/:user_id", action: domain.ActionMembersManage,
			setup: func(_ *testing.T, f *permFixture) (string, any) { return f.path("/collaborators/" + f.kim.Sub), nil }},
		{method: "POST", route: "/v1/collaborator-invitations/:id/resend", action: domain.ActionMembersManage,
			setup: func(t *testing.T, f *permFixture) (string, any) {
				return "/v1/collaborator-invitations/" + f.collaboratorAccount(t) + "/resend", nil
			}},
		{method: "POST", route: "/v1/collaborator-invitations/:id/revoke", action: domain.ActionMembersManage,
			setup: func(t *testing.T, f *permFixture) (string, any) {
				return "/v1/collaborator-invitations/" + f.collaboratorAccount(t) + "/revoke", nil
			}},
		{method: "POST", route: "/v1/collaboration-requests", open: anyone(http.StatusAccepted),
			setup: func(_ *testing.T, f *permFixture) (string, any) {
				return "/v1/collaboration-requests", map[string]any{"target": f.owner.Email}
			}},
		{method: "POST", route: "/v1/organizations/:org/collaboration-requests/:id/approve", action: domain.ActionMembersManage,
			setup: func(t *testing.T, f *permFixture) (string, any) {
				id := f.as(t, apitest.NewUser(t, "Yann"), "POST", "/v1/collaboration-requests", map[string]any{"target": f.owner.Email})["id"].(string)
				return f.path("/collaboration-requests/" + id + "/approve"), map[string]any{"can_purchase": true}
			}},
		{method: "POST", route: "/v1/organizations/:org/collaboration-requests/:id/reject", action: domain.ActionMembersManage,
			setup: func(t *testing.T, f *permFixture) (string, any) {
				id := f.as(t, apitest.NewUser(t, "Rita"), "POST", "/v1/collaboration-requests", map[string]any{"target": f.owner.Email})["id"].(string)
				return f.path("/collaboration-requests/" + id + "/reject"), nil
			}},

		// Operations: the partners:admin scope, which no organization role gives.
		{method: "POST", route: "/v1/admin/people/forget", admin: true,
			setup: func(_ *testing.T, f *permFixture) (string, any) {
				return "/v1/admin/people/forget", map[string]any{"email": f.owner.Email}
			}},
		{method: "POST", route: "/v1/admin/projections/:name/rebuild", admin: true,
			setup: func(*testing.T, *permFixture) (string, any) { return "/v1/admin/projections/members/rebuild", nil }},
	}
}

// previews are the queries routed under POST, each a link's preview.
var previews = map[string]bool{
	"/v1/invitations/preview":            true,
	"/v1/member-invitations/preview":     true,
	"/v1/accountant-invitations/preview": true,
	"/v1/collaborators/preview":          true,
}

func isCommand(method string) bool {
	return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE"
}

func TestEveryCommandEveryRole(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	table := permissionTable()

	listed := map[string]bool{}
	for _, c := range table {
		listed[c.method+" "+c.route] = true
	}
	routed := map[string]bool{}
	for _, rt := range s.API.Routes() {
		// Previews are queries under POST: their tokens stay out of URLs.
		if isCommand(rt.Method) && !previews[rt.Path] {
			routed[rt.Method+" "+rt.Path] = true
		}
	}
	var missing, stale []string
	for r := range routed {
		if !listed[r] {
			missing = append(missing, r)
		}
	}
	for r := range listed {
		if !routed[r] {
			stale = append(stale, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 || len(stale) > 0 {
		t.Fatalf("the permission table must list exactly the router's command routes\nnot in the table (add a row): %v\nin the table but not routed: %v", missing, stale)
	}

	for _, c := range table {
		t.Run(c.method+" "+c.route, func(t *testing.T) {
			t.Parallel()
			for _, role := range permissionRoles {
				t.Run(role.name, func(t *testing.T) {
					f := newPermFixture(t, s)
					path, body := c.setup(t, f)
					got := s.Do(t, apitest.Request{Method: c.method, Path: path, Token: f.users[role.name].Token, Body: body})
					var code string
					if got.Status >= 400 {
						code, _ = got.JSON(t)["code"].(string)
					}
					wantStatus, wantCode, why := expectedAnswer(c, role)
					switch {
					case wantStatus == 0: // any success
						if got.Status < 200 || got.Status >= 300 {
							t.Fatalf("got %d %s; want success (%s)\n%s", got.Status, code, why, got.Body)
						}
					case got.Status != wantStatus || code != wantCode:
						t.Fatalf("got %d %q; want %d %q (%s)\n%s", got.Status, code, wantStatus, wantCode, why, got.Body)
					}
					if got.Status < 300 && got.Header.Get("X-Event-Position") == "" {
						t.Fatalf("a successful command answered no X-Event-Position")
					}
				})
			}
		})
	}
}

// documented is the permission table of DOMAIN.md section 5 for the
// actions commands need, transcribed by hand: a wrong table in the domain
// fails here too, not only in the domain's own test. (None of these
// depends on a collaborator flag.)
var documented = map[domain.Action]map[string]bool{
	domain.ActionPartnersInvite:    {"owner": true, "admin": true},
	domain.ActionInvitationsAnswer: {"owner": true, "admin": true},
	domain.ActionPortalManage:      {"owner": true, "admin": true, "member": true},
	domain.ActionMembersManage:     {"owner": true, "admin": true},
}

// expectedAnswer is what the table says a role gets: a status and code, or
// 0 for "the command's success"; why explains it in failures.
func expectedAnswer(c permCase, r permissionRole) (int, string, string) {
	switch {
	case c.admin:
		return http.StatusForbidden, string(domain.CodeNotAllowed), "needs the partners:admin scope"
	case c.open != nil:
		st, code := c.open(r)
		if st < 300 {
			return 0, "", "open to every signed-in user"
		}
		return st, code, "open to every signed-in user, refused by its rule"
	case r.role.IsZero():
		return http.StatusNotFound, string(domain.CodeNotFound), "an outsider learns nothing of the organization"
	}
	roles, ok := documented[c.action]
	if !ok {
		return -1, "", "add " + string(c.action) + " to the documented table"
	}
	d := domain.Authorize(r.grant(), c.action)
	if roles[r.role.String()] {
		return 0, "", "DOMAIN.md allows " + r.role.String() + " to " + string(c.action) + "; the domain says: " + d.Reason
	}
	return http.StatusForbidden, string(domain.CodeNotAllowed), "DOMAIN.md refuses " + string(c.action) + " to " + r.role.String() + "; the domain says: " + d.Reason
}
