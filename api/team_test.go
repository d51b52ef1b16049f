package api_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"partners/domain"
	"partners/internal/apitest"
	"partners/internal/pgtest"
	"partners/notify/mail"
	"partners/notify/mail/mailtest"
)

// call sends a command or query as u.
func call(t *testing.T, s *apitest.Server, u apitest.User, method, path string, body any) apitest.Response {
	t.Helper()
	return s.Do(t, apitest.Request{Method: method, Path: path, Token: u.Token, Body: body})
}

// orgPath is an organization's path, with more segments.
func orgPath(org string, rest ...string) string {
	return "/v1/organizations/" + org + strings.Join(rest, "")
}

// memberRoles reads the members list as user id → role.
func memberRoles(t *testing.T, s *apitest.Server, u apitest.User, org string, after int64) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range list(t, s, u, orgPath(org, "/members"), after) {
		out[m["user_id"].(string)] = m["role"].(string)
	}
	return out
}

// authorized asks GET /authorize, as asker, about user and action.
func authorized(t *testing.T, s *apitest.Server, asker apitest.User, org, user, action string, after int64) map[string]any {
	t.Helper()
	r := s.Get(t, asker, orgPath(org, "/authorize?user_id="+url.QueryEscape(user)+"&action="+action), after)
	apitest.Expect(t, r, http.StatusOK)
	return r.JSON(t)
}

// inviteColleague invites email as role and returns the invitation id and
// token.
func inviteColleague(t *testing.T, s *apitest.Server, by apitest.User, org, email, role string) (string, string) {
	t.Helper()
	r := call(t, s, by, "POST", orgPath(org, "/member-invitations"), map[string]any{"email": email, "role": role})
	apitest.Expect(t, r, http.StatusCreated)
	m := r.JSON(t)
	if m["status"] != "sent" || m["role"] != role || !strings.HasPrefix(m["invitation_url"].(string), apitest.PublicURL+"/member-invitations/") ||
		!strings.HasSuffix(m["invitation_url"].(string), m["token"].(string)) {
		t.Fatalf("invitation answer = %s", r.Body)
	}
	return m["id"].(string), m["token"].(string)
}

// newSiret makes a SIRET no other test uses (one organization per SIRET,
// and the package shares its database): 13 random digits, not La Poste's,
// and the Luhn key.
func newSiret() string {
	var b []byte
	for _, c := range []byte(strings.ReplaceAll(uuid.NewString(), "-", ""))[:13] {
		b = append(b, '0'+c%10)
	}
	b[0] = '4'
	for k := byte('0'); k <= '9'; k++ {
		if s, err := domain.ParseSiret(string(append(b, k))); err == nil {
			return s.String()
		}
	}
	panic("no Luhn key")
}

// A team of owner, admin and member built through the API, then every rule
// of section 5 on it.
func TestTeamThroughTheAPI(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	owner, admin, member, other := apitest.NewUser(t, "Olivia"), apitest.NewUser(t, "Adam"), apitest.NewUser(t, "Mia"), apitest.NewUser(t, "Oscar")
	org, _ := s.CreateOrganization(t, owner, "Acme Travaux", "client")

	// The owner invites an admin, who accepts with the invited email and no token.
	adminInv, _ := inviteColleague(t, s, owner, org, strings.ToUpper(admin.Email), "admin")
	acc := call(t, s, admin, "POST", "/v1/member-invitations/"+adminInv+"/accept", map[string]any{})
	apitest.Expect(t, acc, http.StatusOK)
	if m := acc.JSON(t)["membership"].(map[string]any); m["role"] != "admin" || m["user_id"] != admin.Sub || m["organization_id"] != org {
		t.Fatalf("accept answer = %s", acc.Body)
	}
	// The admin may invite members only.
	apitest.Expect(t, call(t, s, admin, "POST", orgPath(org, "/member-invitations"), map[string]any{"email": "x@example.com", "role": "admin"}),
		http.StatusForbidden, "not_allowed")
	apitest.Expect(t, call(t, s, admin, "POST", orgPath(org, "/member-invitations"), map[string]any{"email": "x@example.com", "role": "owner"}),
		http.StatusUnprocessableEntity, "validation_failed")
	memberInv, token := inviteColleague(t, s, admin, org, "mia.pro@example.org", "member")
	// Mia signed up with another email: without the token she cannot, with it she can.
	apitest.Expect(t, call(t, s, member, "POST", "/v1/member-invitations/"+memberInv+"/accept", nil), http.StatusNotFound, "invalid_token")
	apitest.Expect(t, call(t, s, member, "POST", "/v1/member-invitations/"+memberInv+"/accept", map[string]any{"token": token + "x"}),
		http.StatusNotFound, "invalid_token")
	acc = call(t, s, member, "POST", "/v1/member-invitations/"+memberInv+"/accept", map[string]any{"token": token})
	apitest.Expect(t, acc, http.StatusOK)
	apitest.Expect(t, call(t, s, other, "POST", "/v1/member-invitations/"+memberInv+"/accept", map[string]any{"token": token}),
		http.StatusConflict, "invitation_answered")

	want := map[string]string{owner.Sub: "owner", admin.Sub: "admin", member.Sub: "member"}
	if got := memberRoles(t, s, member, org, acc.Position); !reflect.DeepEqual(got, want) {
		t.Fatalf("members = %v; want %v", got, want)
	}
	// A colleague who is already in is refused a second invitation.
	apitest.Expect(t, call(t, s, owner, "POST", orgPath(org, "/member-invitations"), map[string]any{"email": member.Email, "role": "member"}),
		http.StatusConflict, "already_member")

	// Only owners make owners or admins; admins change and remove members only.
	apitest.Expect(t, call(t, s, admin, "PATCH", orgPath(org, "/members/", member.Sub), map[string]any{"role": "admin"}), http.StatusForbidden, "not_allowed")
	apitest.Expect(t, call(t, s, admin, "PATCH", orgPath(org, "/members/", owner.Sub), map[string]any{"role": "member"}), http.StatusForbidden, "not_allowed")
	apitest.Expect(t, call(t, s, member, "PATCH", orgPath(org, "/members/", member.Sub), map[string]any{"role": "admin"}), http.StatusForbidden, "not_allowed")
	apitest.Expect(t, call(t, s, owner, "PATCH", orgPath(org, "/members/", member.Sub), map[string]any{"role": "accountant"}),
		http.StatusUnprocessableEntity, "validation_failed")
	apitest.Expect(t, call(t, s, owner, "PATCH", orgPath(org, "/members/nobody"), map[string]any{"role": "admin"}), http.StatusNotFound, "not_found")

	// The last owner can be neither demoted nor removed.
	apitest.Expect(t, call(t, s, owner, "PATCH", orgPath(org, "/members/", owner.Sub), map[string]any{"role": "admin"}), http.StatusConflict, "last_owner")
	apitest.Expect(t, call(t, s, owner, "DELETE", orgPath(org, "/members/", owner.Sub), nil), http.StatusConflict, "last_owner")

	// The owner makes the admin an owner, then steps down.
	r := call(t, s, owner, "PATCH", orgPath(org, "/members/", admin.Sub), map[string]any{"role": "owner"})
	apitest.Expect(t, r, http.StatusOK)
	if m := r.JSON(t); m["role"] != "owner" || m["since"] == nil {
		t.Fatalf("role change answer = %s", r.Body)
	}
	same := call(t, s, owner, "PATCH", orgPath(org, "/members/", admin.Sub), map[string]any{"role": "owner"})
	apitest.Expect(t, same, http.StatusOK)
	if same.Position != r.Position {
		t.Fatalf("a change to the same role answered position %d; want %d (nothing appended)", same.Position, r.Position)
	}
	r = call(t, s, owner, "PATCH", orgPath(org, "/members/", owner.Sub), map[string]any{"role": "member"})
	apitest.Expect(t, r, http.StatusOK)
	want = map[string]string{owner.Sub: "member", admin.Sub: "owner", member.Sub: "member"}
	if got := memberRoles(t, s, member, org, r.Position); !reflect.DeepEqual(got, want) {
		t.Fatalf("members = %v; want %v", got, want)
	}
	if a := authorized(t, s, member, org, owner.Sub, "members.manage", r.Position); a["allowed"] != false || a["role"] != "member" {
		t.Fatalf("authorize after stepping down = %v", a)
	}
	// The new owner removes a member: gone from the list, from /authorize,
	// and from the organization itself.
	r = call(t, s, admin, "DELETE", orgPath(org, "/members/", owner.Sub), nil)
	apitest.Expect(t, r, http.StatusNoContent)
	if r.Position == 0 {
		t.Fatalf("DELETE answered no X-Event-Position")
	}
	if a := authorized(t, s, member, org, owner.Sub, "partners.read", r.Position); a["allowed"] != false || a["role"] != nil {
		t.Fatalf("authorize after the removal = %v; want not allowed, no role", a)
	}
	apitest.Expect(t, s.Get(t, owner, orgPath(org), r.Position), http.StatusNotFound, "not_found")

	// Invitations list and revocation.
	revoked, revokedToken := inviteColleague(t, s, admin, org, "later@example.com", "member")
	rv := call(t, s, admin, "POST", "/v1/member-invitations/"+revoked+"/revoke", nil)
	apitest.Expect(t, rv, http.StatusOK)
	if rv.JSON(t)["status"] != "revoked" {
		t.Fatalf("revoke answer = %s", rv.Body)
	}
	apitest.Expect(t, call(t, s, other, "POST", "/v1/member-invitations/"+revoked+"/accept", map[string]any{"token": revokedToken}),
		http.StatusConflict, "invitation_revoked")
	all := list(t, s, admin, orgPath(org, "/member-invitations"), rv.Position)
	statuses := map[string]string{}
	for _, it := range all {
		statuses[it["id"].(string)] = it["status"].(string)
	}
	if want := map[string]string{adminInv: "accepted", memberInv: "accepted", revoked: "revoked"}; !reflect.DeepEqual(statuses, want) {
		t.Fatalf("member invitations = %v; want %v", statuses, want)
	}
	if got := list(t, s, admin, orgPath(org, "/member-invitations?status=revoked"), rv.Position); len(got) != 1 {
		t.Fatalf("revoked invitations = %v", got)
	}
	apitest.Expect(t, s.Get(t, member, orgPath(org, "/member-invitations"), 0), http.StatusForbidden, "not_allowed")

	// An Idempotency-Key replay does not repeat the token.
	h := map[string]string{"Idempotency-Key": "invite-1"}
	body := map[string]any{"email": "twice@example.com", "role": "member"}
	first := s.Do(t, apitest.Request{Method: "POST", Path: orgPath(org, "/member-invitations"), Token: admin.Token, Body: body, Header: h})
	again := s.Do(t, apitest.Request{Method: "POST", Path: orgPath(org, "/member-invitations"), Token: admin.Token, Body: body, Header: h})
	apitest.Expect(t, first, http.StatusCreated)
	apitest.Expect(t, again, http.StatusCreated)
	if m := again.JSON(t); m["token"] != nil || m["invitation_url"] != nil || m["id"] != first.JSON(t)["id"] {
		t.Fatalf("replay = %s; want the same invitation without its token", again.Body)
	}
}

// Two owners demote each other (or themselves) at the same moment: one
// wins, the other is refused, and the organization keeps an owner.
func TestTwoOwnersAtOnce(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	for round := 0; round < 6; round++ {
		a, b := apitest.NewUser(t, "Anne"), apitest.NewUser(t, "Bruno")
		org, _ := s.CreateOrganization(t, a, "Duo", "client")
		id, token := inviteColleague(t, s, a, org, b.Email, "member")
		apitest.Expect(t, call(t, s, b, "POST", "/v1/member-invitations/"+id+"/accept", map[string]any{"token": token}), http.StatusOK)
		apitest.Expect(t, call(t, s, a, "PATCH", orgPath(org, "/members/", b.Sub), map[string]any{"role": "owner"}), http.StatusOK)

		// Even rounds: each demotes the other; odd rounds: each demotes itself.
		targets := [2]string{b.Sub, a.Sub}
		if round%2 == 1 {
			targets = [2]string{a.Sub, b.Sub}
		}
		var wg sync.WaitGroup
		got := make([]apitest.Response, 2)
		for i, u := range []apitest.User{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i] = call(t, s, u, "PATCH", orgPath(org, "/members/", targets[i]), map[string]any{"role": "member"})
			}()
		}
		wg.Wait()
		ok, refused := 0, 0
		var last int64
		for _, r := range got {
			switch {
			case r.Status == http.StatusOK:
				ok++
				last = max(last, r.Position)
			case r.Status == http.StatusConflict && strings.Contains(string(r.Body), `"last_owner"`),
				r.Status == http.StatusForbidden && strings.Contains(string(r.Body), `"not_allowed"`):
				refused++
			default:
				t.Fatalf("round %d: unexpected answer %d %s", round, r.Status, r.Body)
			}
		}
		if ok != 1 || refused != 1 {
			t.Fatalf("round %d: %d changed, %d refused; want 1 and 1", round, ok, refused)
		}
		owners := 0
		for _, role := range memberRoles(t, s, a, org, last) {
			if role == "owner" {
				owners++
			}
		}
		if owners != 1 {
			t.Fatalf("round %d: %d owners left; want 1", round, owners)
		}
	}
}

// Seed 002: "Always clean" gives its accountant access to all its data but
// not its settings; the accountant, signed up with her own account, lists
// the organizations she serves; the access is revoked at once.
func TestSeed002AccountantAccess(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	client, accountant, colleague := apitest.NewUser(t, "Ludovic"), apitest.NewUser(t, "Comptable"), apitest.NewUser(t, "Marc")
	org, _ := s.CreateOrganization(t, client, "Always Clean", "client")
	other, _ := s.CreateOrganization(t, colleague, "Autre Client", "subcontractor")

	r := call(t, s, client, "POST", orgPath(org, "/accountants"), map[string]any{"email": "cabinet@compta.example", "message": "Voici l'accès comptable."})
	apitest.Expect(t, r, http.StatusCreated)
	inv := r.JSON(t)
	if inv["status"] != "sent" || inv["role"] != "accountant" || !strings.HasPrefix(inv["invitation_url"].(string), apitest.PublicURL+"/accountant-invitations/") {
		t.Fatalf("grant answer = %s", r.Body)
	}
	id, token := inv["id"].(string), inv["token"].(string)
	apitest.Expect(t, call(t, s, client, "POST", orgPath(org, "/accountants"), map[string]any{"email": "cabinet@compta.example"}),
		http.StatusConflict, "duplicate_pending_invitation")
	pending := list(t, s, client, orgPath(org, "/accountants"), r.Position)
	if len(pending) != 1 || pending[0]["status"] != "pending" || pending[0]["invitation_id"] != id || pending[0]["email"] != "cabinet@compta.example" {
		t.Fatalf("accountants before acceptance = %v", pending)
	}

	// The accountant accepts from her own account (another email), with the link.
	apitest.Expect(t, call(t, s, accountant, "POST", "/v1/accountant-invitations/"+id+"/accept", nil), http.StatusNotFound, "invalid_token")
	// Under another kind's path the id is unknown, which reads as not hers (issue 14).
	apitest.Expect(t, call(t, s, accountant, "POST", "/v1/member-invitations/"+id+"/accept", map[string]any{"token": token}), http.StatusNotFound, "invalid_token")
	acc := call(t, s, accountant, "POST", "/v1/accountant-invitations/"+id+"/accept", map[string]any{"token": token})
	apitest.Expect(t, acc, http.StatusOK)
	if m := acc.JSON(t)["membership"].(map[string]any); m["role"] != "accountant" {
		t.Fatalf("accept answer = %s", acc.Body)
	}
	// She serves a second organization.
	r = call(t, s, colleague, "POST", orgPath(other, "/accountants"), map[string]any{"email": accountant.Email})
	apitest.Expect(t, r, http.StatusCreated)
	acc2 := call(t, s, accountant, "POST", "/v1/accountant-invitations/"+r.JSON(t)["id"].(string)+"/accept", nil)
	apitest.Expect(t, acc2, http.StatusOK)
	clients := list(t, s, accountant, "/v1/me/accountant-clients", acc2.Position)
	var names []string
	for _, c := range clients {
		names = append(names, c["name"].(string))
	}
	if want := []string{"Always Clean", "Autre Client"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("accountant's clients = %v; want %v", names, want)
	}
	granted := list(t, s, client, orgPath(org, "/accountants"), acc.Position)
	if len(granted) != 1 || granted[0]["status"] != "granted" || granted[0]["user_id"] != accountant.Sub || granted[0]["invitation_id"] != id {
		t.Fatalf("accountants after acceptance = %v", granted)
	}

	// All the data, none of the settings.
	for action, want := range map[string]bool{"documents.read_all": true, "reports.read": true, "exports.create": true, "audit.read": true,
		"orders.read_all": true, "settings.read": false, "settings.write": false, "members.manage": false, "partners.invite": false} {
		if a := authorized(t, s, client, org, accountant.Sub, action, acc.Position); a["allowed"] != want || a["role"] != "accountant" || a["reason"] == "" {
			t.Errorf("accountant %s = %v; want allowed %v", action, a, want)
		}
	}
	apitest.Expect(t, s.Get(t, accountant, orgPath(org, "/audit"), acc.Position), http.StatusOK)
	apitest.Expect(t, call(t, s, accountant, "POST", orgPath(org, "/invitations"), map[string]any{"email": "x@example.com"}), http.StatusForbidden, "not_allowed")
	apitest.Expect(t, call(t, s, accountant, "POST", orgPath(org, "/accountants"), map[string]any{"email": "x@example.com"}), http.StatusForbidden, "not_allowed")
	// The accountant is no colleague: her role is managed here, not as a member.
	apitest.Expect(t, call(t, s, client, "PATCH", orgPath(org, "/members/", accountant.Sub), map[string]any{"role": "admin"}),
		http.StatusConflict, "not_team_member")

	// Revoked: the very next check made with the revocation's position says no.
	apitest.Expect(t, call(t, s, client, "DELETE", orgPath(org, "/accountants/", colleague.Sub), nil), http.StatusNotFound, "not_found")
	rev := call(t, s, client, "DELETE", orgPath(org, "/accountants/", accountant.Sub), nil)
	apitest.Expect(t, rev, http.StatusNoContent)
	if a := authorized(t, s, client, org, accountant.Sub, "documents.read_all", rev.Position); a["allowed"] != false || a["role"] != nil {
		t.Fatalf("authorize after the revocation = %v; want refused", a)
	}
	apitest.Expect(t, s.Get(t, accountant, orgPath(org, "/audit"), rev.Position), http.StatusNotFound, "not_found")
	if got := list(t, s, accountant, "/v1/me/accountant-clients", rev.Position); len(got) != 1 || got[0]["name"] != "Autre Client" {
		t.Fatalf("clients after the revocation = %v", got)
	}
	apitest.Expect(t, call(t, s, client, "DELETE", orgPath(org, "/accountants/", accountant.Sub), nil), http.StatusNotFound, "not_found")

	// A pending accountant invitation can be withdrawn.
	r = call(t, s, client, "POST", orgPath(org, "/accountants"), map[string]any{"email": "autre@compta.example"})
	apitest.Expect(t, r, http.StatusCreated)
	wd := call(t, s, client, "POST", "/v1/accountant-invitations/"+r.JSON(t)["id"].(string)+"/revoke", nil)
	apitest.Expect(t, wd, http.StatusOK)
	if got := list(t, s, client, orgPath(org, "/accountants"), wd.Position); len(got) != 0 {
		t.Fatalf("accountants after revoking and withdrawing = %v; want none", got)
	}
}

// Seed 003, option 1: the owner creates the collaborator's account; the
// person activates it with the emailed link; permissions change and the
// collaborator is removed.
func TestSeed003CollaboratorCreatedByOwner(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	owner, karim, outsider := apitest.NewUser(t, "Olivier"), apitest.NewUser(t, "Karim"), apitest.NewUser(t, "Eve")
	org, _ := s.CreateOrganization(t, owner, "EMS Client", "client")

	bad := call(t, s, owner, "POST", orgPath(org, "/collaborators"), map[string]any{"first_name": "", "last_name": "Benali",
		"email": "karim@", "phone": "12", "can_purchase": true})
	apitest.Expect(t, bad, http.StatusUnprocessableEntity, "validation_failed")
	_, fields, _ := problemOf(t, bad)
	sort.Strings(fields)
	if want := []string{"email", "first_name", "phone"}; !reflect.DeepEqual(fields, want) {
		t.Fatalf("fields at fault = %v; want %v", fields, want)
	}
	r := call(t, s, owner, "POST", orgPath(org, "/collaborators"), map[string]any{"first_name": "Karim", "last_name": "Benali",
		"email": "karim.pro@example.org", "phone": "06 12 34 56 78", "can_purchase": true, "can_see_all_orders": false})
	apitest.Expect(t, r, http.StatusCreated)
	created := r.JSON(t)
	if created["status"] != "invited" || created["phone"] != "+33612345678" || created["can_purchase"] != true ||
		created["activation_url"] != apitest.PublicURL+"/collaborators/activate/"+created["token"].(string) {
		t.Fatalf("create answer = %s", r.Body)
	}
	e164 := call(t, s, owner, "POST", orgPath(org, "/collaborators"), map[string]any{"first_name": "Lena", "last_name": "Vogel",
		"email": "lena@example.de", "phone": "+49 30 901820"})
	apitest.Expect(t, e164, http.StatusCreated)

	apitest.Expect(t, call(t, s, karim, "POST", "/v1/collaborators/activate", map[string]any{"token": "nope"}), http.StatusNotFound, "invalid_token")
	apitest.Expect(t, call(t, s, karim, "POST", "/v1/collaborators/activate", map[string]any{}), http.StatusUnprocessableEntity, "validation_failed")
	act := call(t, s, karim, "POST", "/v1/collaborators/activate", map[string]any{"token": created["token"]})
	apitest.Expect(t, act, http.StatusOK)
	if m := act.JSON(t); m["role"] != "collaborator" || m["organization_id"] != org || m["can_purchase"] != true || m["can_see_all_orders"] != false {
		t.Fatalf("activation answer = %s", act.Body)
	}
	apitest.Expect(t, call(t, s, outsider, "POST", "/v1/collaborators/activate", map[string]any{"token": created["token"]}), http.StatusNotFound, "invalid_token")

	cs := list(t, s, owner, orgPath(org, "/collaborators"), act.Position)
	if len(cs) != 1 || cs[0]["user_id"] != karim.Sub || cs[0]["first_name"] != "Karim" || cs[0]["last_name"] != "Benali" ||
		cs[0]["phone"] != "+33612345678" || cs[0]["can_purchase"] != true || cs[0]["can_see_all_orders"] != false {
		t.Fatalf("collaborators = %v", cs)
	}
	members := list(t, s, karim, orgPath(org, "/members"), act.Position)
	found := false
	for _, m := range members {
		if m["user_id"] == karim.Sub {
			found = m["role"] == "collaborator" && m["can_purchase"] == true && m["can_see_all_orders"] == false
		}
	}
	if !found {
		t.Fatalf("members = %v; want Karim as a collaborator with his flags", members)
	}
	check := func(after int64, purchase, all bool) {
		t.Helper()
		if a := authorized(t, s, owner, org, karim.Sub, "orders.create", after); a["allowed"] != purchase {
			t.Fatalf("orders.create = %v; want %v", a, purchase)
		}
		if a := authorized(t, s, karim, org, karim.Sub, "orders.read_all", after); a["allowed"] != all {
			t.Fatalf("orders.read_all = %v; want %v", a, all)
		}
	}
	check(act.Position, true, false)

	apitest.Expect(t, call(t, s, karim, "PATCH", orgPath(org, "/collaborators/", karim.Sub), map[string]any{"can_see_all_orders": true}),
		http.StatusForbidden, "not_allowed")
	apitest.Expect(t, call(t, s, owner, "PATCH", orgPath(org, "/collaborators/", karim.Sub), map[string]any{}), http.StatusUnprocessableEntity, "validation_failed")
	apitest.Expect(t, call(t, s, owner, "PATCH", orgPath(org, "/collaborators/", owner.Sub), map[string]any{"can_purchase": true}), http.StatusNotFound, "not_found")
	ch := call(t, s, owner, "PATCH", orgPath(org, "/collaborators/", karim.Sub), map[string]any{"can_purchase": false, "can_see_all_orders": true})
	apitest.Expect(t, ch, http.StatusOK)
	check(ch.Position, false, true)
	apitest.Expect(t, call(t, s, owner, "DELETE", orgPath(org, "/members/", karim.Sub), nil), http.StatusConflict, "not_team_member")
	beforeRemoval := time.Now().UTC()
	time.Sleep(5 * time.Millisecond)
	rm := call(t, s, owner, "DELETE", orgPath(org, "/collaborators/", karim.Sub), nil)
	apitest.Expect(t, rm, http.StatusNoContent)
	if a := authorized(t, s, owner, org, karim.Sub, "orders.read_own", rm.Position); a["allowed"] != false {
		t.Fatalf("authorize after the removal = %v", a)
	}
	if cs := list(t, s, owner, orgPath(org, "/collaborators"), rm.Position); len(cs) != 0 {
		t.Fatalf("collaborators after the removal = %v", cs)
	}
	// As of just before the removal, Karim was there with his new permissions.
	past := s.Get(t, owner, orgPath(org, "/collaborators?as_of=")+url.QueryEscape(beforeRemoval.Format(time.RFC3339Nano)), 0)
	apitest.Expect(t, past, http.StatusOK)
	var was listed
	past.Decode(t, &was)
	if len(was.Items) != 1 || was.Items[0]["user_id"] != karim.Sub || was.Items[0]["first_name"] != "Karim" || was.Items[0]["can_see_all_orders"] != true {
		t.Fatalf("collaborators as of before the removal = %s", past.Body)
	}
}

// Seed 003, option 2: users ask to be attached by SIRET or by the owner's
// email. The answer reveals nothing; the owner sees the requests (and the
// badge), approves one with permissions and rejects the other.
func TestSeed003CollaborationRequests(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	owner, admin, yann, rita, member := apitest.NewUser(t, "Olivier"), apitest.NewUser(t, "Adam"), apitest.NewUser(t, "Yann"), apitest.NewUser(t, "Rita"), apitest.NewUser(t, "Mia")
	siret := newSiret()
	r := call(t, s, owner, "POST", "/v1/organizations", map[string]any{"name": "EMS Proto", "side": "subcontractor", "siret": siret})
	apitest.Expect(t, r, http.StatusCreated)
	org := r.JSON(t)["id"].(string)
	id, token := inviteColleague(t, s, owner, org, admin.Email, "admin")
	apitest.Expect(t, call(t, s, admin, "POST", "/v1/member-invitations/"+id+"/accept", map[string]any{"token": token}), http.StatusOK)
	id, token = inviteColleague(t, s, owner, org, member.Email, "member")
	apitest.Expect(t, call(t, s, member, "POST", "/v1/member-invitations/"+id+"/accept", map[string]any{"token": token}), http.StatusOK)

	// The same answer whether the target exists or not.
	shape := func(r apitest.Response) string {
		t.Helper()
		apitest.Expect(t, r, http.StatusAccepted)
		var keys []string
		for k, v := range r.JSON(t) {
			if k == "status" {
				keys = append(keys, k+"="+v.(string))
			} else {
				keys = append(keys, k)
			}
		}
		for k := range r.Header {
			if k != "Date" && k != "Content-Length" && k != "X-Request-Id" {
				keys = append(keys, "header:"+k)
			}
		}
		sort.Strings(keys)
		return strings.Join(keys, ",")
	}
	bySiret := call(t, s, yann, "POST", "/v1/collaboration-requests", map[string]any{"target": siret[:3] + " " + siret[3:9] + " " + siret[9:]})
	byEmail := call(t, s, rita, "POST", "/v1/collaboration-requests", map[string]any{"target": strings.ToUpper(owner.Email)})
	nowhere := call(t, s, rita, "POST", "/v1/collaboration-requests", map[string]any{"target": "35600000000048"})
	nobody := call(t, s, yann, "POST", "/v1/collaboration-requests", map[string]any{"target": "nobody@example.com"})
	for _, r := range []apitest.Response{byEmail, nowhere, nobody} {
		if got, want := shape(r), shape(bySiret); got != want {
			t.Fatalf("answers differ: %s vs %s", got, want)
		}
	}
	apitest.Expect(t, call(t, s, yann, "POST", "/v1/collaboration-requests", map[string]any{"target": "12"}), http.StatusUnprocessableEntity, "validation_failed")
	twice := call(t, s, yann, "POST", "/v1/collaboration-requests", map[string]any{"target": siret})
	if twice.JSON(t)["id"] != bySiret.JSON(t)["id"] {
		t.Fatalf("asking twice made a second request: %s", twice.Body)
	}
	// Asking to be attached to an admin's email reaches nothing.
	call(t, s, yann, "POST", "/v1/collaboration-requests", map[string]any{"target": admin.Email})

	last := max(bySiret.Position, byEmail.Position, nowhere.Position, nobody.Position)
	pending := list(t, s, admin, orgPath(org, "/collaboration-requests"), last)
	by := map[string]map[string]any{}
	for _, p := range pending {
		by[p["requester"].(map[string]any)["user_id"].(string)] = p
	}
	if len(pending) != 2 || by[yann.Sub]["matched_by"] != "siret" || by[rita.Sub]["matched_by"] != "email" ||
		by[rita.Sub]["requester"].(map[string]any)["email"] != rita.Email {
		t.Fatalf("pending requests = %v; want Yann's by SIRET and Rita's by email", pending)
	}
	if b := s.Get(t, owner, orgPath(org, "/badges"), last).JSON(t); b["pending_collaboration_requests"] != float64(2) {
		t.Fatalf("badges = %v; want 2 pending collaboration requests", b)
	}
	apitest.Expect(t, s.Get(t, member, orgPath(org, "/collaboration-requests"), 0), http.StatusForbidden, "not_allowed")
	if b := s.Get(t, member, orgPath(org, "/badges"), last).JSON(t); b["pending_collaboration_requests"] != float64(0) {
		t.Fatalf("a member's badges = %v; want no collaboration requests (not theirs to answer)", b)
	}

	yannReq, ritaReq := by[yann.Sub]["id"].(string), by[rita.Sub]["id"].(string)
	apitest.Expect(t, call(t, s, member, "POST", orgPath(org, "/collaboration-requests/", yannReq, "/approve"), map[string]any{"can_purchase": true}),
		http.StatusForbidden, "not_allowed")
	apitest.Expect(t, call(t, s, owner, "POST", orgPath(org, "/collaboration-requests/", nowhere.JSON(t)["id"].(string), "/approve"), map[string]any{}),
		http.StatusNotFound, "not_found")
	ap := call(t, s, admin, "POST", orgPath(org, "/collaboration-requests/", yannReq, "/approve"), map[string]any{"can_purchase": false, "can_see_all_orders": true})
	apitest.Expect(t, ap, http.StatusOK)
	if m := ap.JSON(t); m["request"].(map[string]any)["status"] != "approved" || m["membership"].(map[string]any)["role"] != "collaborator" ||
		m["membership"].(map[string]any)["can_see_all_orders"] != true {
		t.Fatalf("approve answer = %s", ap.Body)
	}
	apitest.Expect(t, call(t, s, admin, "POST", orgPath(org, "/collaboration-requests/", yannReq, "/approve"), map[string]any{}),
		http.StatusConflict, "collaboration_request_answered")
	rj := call(t, s, owner, "POST", orgPath(org, "/collaboration-requests/", ritaReq, "/reject"), nil)
	apitest.Expect(t, rj, http.StatusOK)
	if rj.JSON(t)["status"] != "rejected" {
		t.Fatalf("reject answer = %s", rj.Body)
	}
	after := max(ap.Position, rj.Position)
	if b := s.Get(t, owner, orgPath(org, "/badges"), after).JSON(t); b["pending_collaboration_requests"] != float64(0) {
		t.Fatalf("badges after answering = %v; want 0", b)
	}
	if got := list(t, s, owner, orgPath(org, "/collaboration-requests?status=approved"), after); len(got) != 1 || got[0]["id"] != yannReq {
		t.Fatalf("approved = %v", got)
	}
	if got := list(t, s, owner, orgPath(org, "/collaboration-requests?status=rejected"), after); len(got) != 1 || got[0]["id"] != ritaReq {
		t.Fatalf("rejected = %v", got)
	}
	cs := list(t, s, owner, orgPath(org, "/collaborators"), after)
	if len(cs) != 1 || cs[0]["user_id"] != yann.Sub || cs[0]["via"] != "collaboration_request" || cs[0]["first_name"] != nil {
		t.Fatalf("collaborators = %v", cs)
	}
	if a := authorized(t, s, yann, org, yann.Sub, "orders.read_all", after); a["allowed"] != true || a["role"] != "collaborator" {
		t.Fatalf("Yann may read all orders: %v", a)
	}
	// Rita asks again after the rejection: a new request, pending again.
	again := call(t, s, rita, "POST", "/v1/collaboration-requests", map[string]any{"target": owner.Email})
	if again.JSON(t)["id"] == ritaReq {
		t.Fatalf("a rejected request was answered again instead of a new one")
	}
	if b := s.Get(t, owner, orgPath(org, "/badges"), again.Position).JSON(t); b["pending_collaboration_requests"] != float64(1) {
		t.Fatalf("badges after asking again = %v; want 1", b)
	}
}

// The authorization answer: asked by members only, about anyone.
func TestAuthorize(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	owner, outsider := apitest.NewUser(t, "Olivia"), apitest.NewUser(t, "Eve")
	org, pos := s.CreateOrganization(t, owner, "Acme", "client")
	if a := authorized(t, s, owner, org, owner.Sub, "settings.write", pos); a["allowed"] != true || a["role"] != "owner" || a["reason"] == "" {
		t.Fatalf("owner settings.write = %v", a)
	}
	if a := authorized(t, s, owner, org, outsider.Sub, "partners.read", pos); a["allowed"] != false || a["role"] != nil {
		t.Fatalf("non-member = %v; want not allowed, no role", a)
	}
	self := s.Get(t, owner, orgPath(org, "/authorize?action=members.manage"), pos)
	apitest.Expect(t, self, http.StatusOK)
	if self.JSON(t)["allowed"] != true {
		t.Fatalf("without user_id (the caller) = %s", self.Body)
	}
	apitest.Expect(t, s.Get(t, outsider, orgPath(org, "/authorize?user_id="+owner.Sub+"&action=partners.read"), pos), http.StatusNotFound, "not_found")
	apitest.Expect(t, s.Get(t, owner, orgPath(org, "/authorize?user_id=x&action=fly"), pos), http.StatusUnprocessableEntity, "validation_failed")
	apitest.Expect(t, s.Get(t, owner, orgPath(org, "/authorize?user_id=x"), pos), http.StatusUnprocessableEntity, "validation_failed")
	apitest.Expect(t, s.Get(t, owner, orgPath(org, "/authorize?user_id=&action=partners.read"), pos), http.StatusUnprocessableEntity, "validation_failed")
}

// A token without an email (the claim is optional) still works: its name
// has nobody to be keyed to and is left out, rather than refused.
func TestTokenWithoutEmail(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	owner := apitest.NewUser(t, "Olivia")
	anon := apitest.User{Sub: "no-email-" + uuid.NewString()[:8], Name: "Nameless"}
	anon.Token = apitest.Token(t, anon.Sub, "", anon.Name)
	org, _ := s.CreateOrganization(t, owner, "Acme", "client")
	id, token := inviteColleague(t, s, owner, org, "someone@example.com", "member")
	acc := call(t, s, anon, "POST", "/v1/member-invitations/"+id+"/accept", map[string]any{"token": token})
	apitest.Expect(t, acc, http.StatusOK)
	if m := acc.JSON(t)["membership"].(map[string]any); m["user_id"] != anon.Sub || m["email"] != "" || m["name"] != "" {
		t.Fatalf("membership = %v", m)
	}
	apitest.Expect(t, call(t, s, anon, "POST", "/v1/organizations", map[string]any{"name": "Mine", "side": "client"}), http.StatusCreated)
	apitest.Expect(t, call(t, s, anon, "POST", "/v1/collaboration-requests", map[string]any{"target": owner.Email}), http.StatusAccepted)
}

// The colleague's and the accountant's invitations and the collaborator's
// activation go out by email, each with its link and in its language, on
// the partner invitations' mail path.
func TestTeamEmails(t *testing.T) {
	smtp := mailtest.NewServer(t)
	sender, err := mail.NewSMTPSender(smtp.URL, "partners@example.com", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{Mail: sender})
	owner := apitest.NewUser(t, "Olivia")
	owner.Name = "Olivia Martin"
	owner.Token = apitest.Token(t, owner.Sub, owner.Email, owner.Name)
	org, _ := s.CreateOrganization(t, owner, "Acme Travaux", "client")

	r := call(t, s, owner, "POST", orgPath(org, "/member-invitations"), map[string]any{"email": "colleague@example.com", "role": "admin", "locale": "fr"})
	apitest.Expect(t, r, http.StatusCreated)
	memberLink := r.JSON(t)["invitation_url"].(string)
	r = call(t, s, owner, "POST", orgPath(org, "/accountants"), map[string]any{"email": "accountant@example.com", "message": "Guten Tag", "locale": "de"})
	apitest.Expect(t, r, http.StatusCreated)
	accountantLink := r.JSON(t)["invitation_url"].(string)
	r = s.Do(t, apitest.Request{Method: "POST", Path: orgPath(org, "/collaborators"), Token: owner.Token,
		Header: map[string]string{"Accept-Language": "it-IT, en;q=0.5"},
		Body:   map[string]any{"first_name": "Karim", "last_name": "Benali", "email": "karim@example.com", "phone": "0612345678", "can_purchase": true}})
	apitest.Expect(t, r, http.StatusCreated)
	activationLink := r.JSON(t)["activation_url"].(string)

	smtp.WaitFor(t, 3, 20*time.Second)
	time.Sleep(300 * time.Millisecond) // nothing more may arrive
	got := map[string]mailtest.Received{}
	for _, m := range smtp.Messages() {
		if _, dup := got[m.To[0]]; dup {
			t.Fatalf("%s received two emails", m.To[0])
		}
		got[m.To[0]] = m
	}
	for _, tc := range []struct {
		to, lang, link string
		shows          []string
	}{
		{"colleague@example.com", "fr", memberLink, []string{"Acme Travaux", "Olivia Martin"}},
		{"accountant@example.com", "de", accountantLink, []string{"Acme Travaux", "Olivia Martin", "Guten Tag"}},
		{"karim@example.com", "en", activationLink, []string{"Acme Travaux", "Karim"}},
	} {
		m, ok := got[tc.to]
		if !ok {
			t.Fatalf("no email to %s (got %d emails)", tc.to, len(got))
		}
		if m.ContentLanguage != tc.lang || !strings.Contains(m.Text, tc.link) {
			t.Errorf("email to %s: language %q, want %q; link %q in:\n%s", tc.to, m.ContentLanguage, tc.lang, tc.link, m.Text)
		}
		for _, want := range tc.shows {
			if !strings.Contains(m.Text, want) {
				t.Errorf("email to %s lacks %q:\n%s", tc.to, want, m.Text)
			}
		}
	}
	var secrets int
	if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pending_secrets`).Scan(&secrets); err != nil || secrets != 0 {
		t.Fatalf("pending secrets left = %d, %v; want 0", secrets, err)
	}
}
