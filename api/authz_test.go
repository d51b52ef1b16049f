package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"partners/api/auth"
	"partners/domain"
	"partners/internal/apitest"
	"partners/internal/pgtest"
)

// userWith is a user whose token says what verified does of its email:
// nil leaves "email_verified" out.
func userWith(t *testing.T, sub, email, name string, verified *bool) apitest.User {
	t.Helper()
	u := apitest.User{Sub: sub, Email: email, Name: name}
	u.Token = apitest.TokenOf(t, auth.TokenSpec{Subject: sub, Email: email, Name: name, EmailVerified: verified})
	return u
}

func boolPtr(b bool) *bool { return &b }

// Only "email_verified": true vouches for an email: a token without the
// claim (or with false) addresses nothing, neither a colleague's invitation
// nor a partner invitation, unless the operator assumes verified emails
// (PARTNERS_JWT_EMAIL_VERIFIED=assume); false is never assumed away.
func TestUnverifiedEmailAddressesNothing(t *testing.T) {
	pool := pgtest.Pool(t)
	for _, tc := range []struct {
		name      string
		assume    bool
		verified  *bool
		addressed bool
	}{
		{"ClaimAbsent", false, nil, false},
		{"ClaimFalse", false, boolPtr(false), false},
		{"ClaimTrue", false, boolPtr(true), true},
		{"AssumeClaimAbsent", true, nil, true},
		{"AssumeClaimFalse", true, boolPtr(false), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := apitest.Start(t, pool, apitest.Options{Auth: &auth.Config{Secret: []byte(apitest.Secret), AssumeEmailVerified: tc.assume}})
			owner := apitest.NewUser(t, "Olivia")
			acme, _ := s.CreateOrganization(t, owner, "Acme", "client")
			id := uuid.NewString()[:8]

			// A colleague's invitation, accepted without the link, by email.
			colleague := userWith(t, "colleague-"+id, "colleague."+id+"@example.com", "Colin", tc.verified)
			inv, _ := inviteColleague(t, s, owner, acme, colleague.Email, "member")
			acc := call(t, s, colleague, "POST", "/v1/member-invitations/"+inv+"/accept", nil)
			if got := acc.Status == http.StatusOK; got != tc.addressed {
				t.Fatalf("colleague accepts by email: %d %s; want addressed %v", acc.Status, acc.Body, tc.addressed)
			}
			if !tc.addressed {
				apitest.Expect(t, acc, http.StatusNotFound)
			}

			// A partner invitation, to the email of the owner of the
			// organization that answers.
			samir := userWith(t, "samir-"+id, "samir."+id+"@example.com", "Samir", tc.verified)
			plomberie, _ := s.CreateOrganization(t, samir, "Plomberie "+id, "subcontractor")
			pinv, _, pos := invite(t, s, owner, acme, samir.Email)
			received := list(t, s, samir, orgPath(plomberie, "/invitations/received"), pos)
			if got := len(received) == 1 && received[0]["id"] == pinv; got != tc.addressed {
				t.Fatalf("My invitations = %v; want addressed %v", received, tc.addressed)
			}
			r := post(t, s, samir, "/v1/invitations/"+pinv+"/accept", map[string]any{"organization_id": plomberie})
			if got := r.Status == http.StatusOK; got != tc.addressed {
				t.Fatalf("partner accepts by email: %d %s; want addressed %v", r.Status, r.Body, tc.addressed)
			}
			if !tc.addressed {
				apitest.Expect(t, r, http.StatusNotFound)
			}
		})
	}
}

// orgEvents counts the events of each type in an organization's stream,
// and gives the last one's position.
func orgEvents(t *testing.T, s *apitest.Server, org string) (map[string]int, int64) {
	t.Helper()
	evs, _, err := s.Store.ReadStream(context.Background(), domain.OrganizationStream(uuid.MustParse(org)))
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	var last int64
	for _, e := range evs {
		n[e.Data.EventType()]++
		last = e.Position
	}
	return n, last
}

func memberEmails(t *testing.T, s *apitest.Server, u apitest.User, org string, after int64) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range list(t, s, u, orgPath(org, "/members"), after) {
		out[m["user_id"].(string)] = m["email"].(string)
	}
	return out
}

// A member's email is the one of their latest verified token: the first
// request to the organization with another verified email records the
// change by one event, once; the members list shows the new email, and
// partner invitations reach the organization by it (no longer by the old
// one). An unverified new email records nothing.
func TestMemberEmailFollowsVerifiedToken(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	owner, admin := apitest.NewUser(t, "Olivia"), apitest.NewUser(t, "Adam")
	org, _ := s.CreateOrganization(t, owner, "Acme", "subcontractor")
	inv, token := inviteColleague(t, s, owner, org, admin.Email, "admin")
	acc := call(t, s, admin, "POST", "/v1/member-invitations/"+inv+"/accept", map[string]any{"token": token})
	apitest.Expect(t, acc, http.StatusOK)
	before, _ := orgEvents(t, s, org)

	moved := admin
	moved.Email = "adam." + uuid.NewString()[:8] + "@acme-group.example"
	moved.Token = apitest.Token(t, admin.Sub, moved.Email, admin.Name)
	for range 3 {
		apitest.Expect(t, s.Get(t, moved, orgPath(org), acc.Position), http.StatusOK)
	}
	apitest.Expect(t, s.Get(t, moved, orgPath(org, "/members"), acc.Position), http.StatusOK)
	after, pos := orgEvents(t, s, org)
	if after["MemberEmailChanged"] != 1 || len(after) != len(before)+1 {
		t.Fatalf("events after four requests with the new email = %v (before %v); want exactly one MemberEmailChanged", after, before)
	}
	if got := memberEmails(t, s, owner, org, pos); got[admin.Sub] != moved.Email || got[owner.Sub] != owner.Email {
		t.Fatalf("members = %v; want %s for the admin", got, moved.Email)
	}

	// Partner invitations reach the organization by the new email only.
	client := apitest.NewUser(t, "Claire")
	clientOrg, _ := s.CreateOrganization(t, client, "Client "+uuid.NewString()[:8], "client")
	toNew, _, _ := invite(t, s, client, clientOrg, moved.Email)
	toOld, _, p := invite(t, s, client, clientOrg, admin.Email)
	received := list(t, s, owner, orgPath(org, "/invitations/received"), p)
	if len(received) != 1 || received[0]["id"] != toNew {
		t.Fatalf("My invitations = %v; want only %s (to the new email)", received, toNew)
	}
	apitest.Expect(t, post(t, s, admin, "/v1/invitations/"+toOld+"/accept", map[string]any{"organization_id": org}), http.StatusNotFound)
	apitest.Expect(t, post(t, s, moved, "/v1/invitations/"+toNew+"/accept", map[string]any{"organization_id": org}), http.StatusOK)

	// A new email the token does not vouch for changes nothing.
	for _, verified := range []*bool{nil, boolPtr(false)} {
		liar := userWith(t, admin.Sub, "someone.else@example.com", admin.Name, verified)
		apitest.Expect(t, s.Get(t, liar, orgPath(org), acc.Position), http.StatusOK)
	}
	if again, _ := orgEvents(t, s, org); again["MemberEmailChanged"] != 1 {
		t.Fatalf("events after unverified emails = %v; want still one MemberEmailChanged", again)
	}
	if got := memberEmails(t, s, owner, org, pos); got[admin.Sub] != moved.Email {
		t.Fatalf("members = %v; want %s for the admin", got, moved.Email)
	}
}

// A command on the organization's path records the new email too, once.
func TestMemberEmailRecordedByACommand(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	owner := apitest.NewUser(t, "Olivia")
	org, _ := s.CreateOrganization(t, owner, "Acme", "client")
	moved := owner
	moved.Email = "olivia." + uuid.NewString()[:8] + "@acme-group.example"
	moved.Token = apitest.Token(t, owner.Sub, moved.Email, owner.Name)
	for i := range 2 {
		r := call(t, s, moved, "POST", orgPath(org, "/member-invitations"), map[string]any{"email": fmt.Sprintf("c%d.%s", i, moved.Email), "role": "member"})
		apitest.Expect(t, r, http.StatusCreated)
	}
	n, pos := orgEvents(t, s, org)
	if n["MemberEmailChanged"] != 1 {
		t.Fatalf("events = %v; want exactly one MemberEmailChanged", n)
	}
	// Read with the older token, still valid elsewhere: it does not
	// change the email back.
	if got := memberEmails(t, s, owner, org, pos); got[owner.Sub] != moved.Email {
		t.Fatalf("members = %v; want %s for the owner", got, moved.Email)
	}
	if n, _ := orgEvents(t, s, org); n["MemberEmailChanged"] != 1 {
		t.Fatalf("events after a request with the older token = %v; want still one MemberEmailChanged", n)
	}
}

// A command refused, by its rule or at the edge, records the caller's
// newer email all the same, once, and decides with it: the owner inviting
// their own new address is told they are a member already.
func TestMemberEmailRecordedByARefusedCommand(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	owner, adam, bea := apitest.NewUser(t, "Olivia"), apitest.NewUser(t, "Adam"), apitest.NewUser(t, "Bea")
	org, _ := s.CreateOrganization(t, owner, "Acme", "client")
	for _, u := range []apitest.User{adam, bea} {
		inv, token := inviteColleague(t, s, owner, org, u.Email, "member")
		apitest.Expect(t, call(t, s, u, "POST", "/v1/member-invitations/"+inv+"/accept", map[string]any{"token": token}), http.StatusOK)
	}
	moved := func(u apitest.User) apitest.User {
		u.Email = "moved." + uuid.NewString()[:8] + "." + u.Email
		u.Token = apitest.Token(t, u.Sub, u.Email, u.Name)
		return u
	}
	changes := func() map[string]string {
		evs, _, err := s.Store.ReadStream(context.Background(), domain.OrganizationStream(uuid.MustParse(org)))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, e := range evs {
			if c, ok := e.Data.(domain.MemberEmailChanged); ok {
				if _, twice := out[c.UserID]; twice {
					t.Fatalf("MemberEmailChanged twice for %s", c.UserID)
				}
				out[c.UserID] = c.Email.Value
			}
		}
		return out
	}

	// By the rule: the owner's new address is theirs already.
	o2 := moved(owner)
	for range 2 {
		apitest.Expect(t, call(t, s, o2, "POST", orgPath(org, "/member-invitations"), map[string]any{"email": o2.Email, "role": "member"}),
			http.StatusConflict, "already_member")
	}
	// By the permission table: a member manages no one.
	a2 := moved(adam)
	for range 2 {
		apitest.Expect(t, call(t, s, a2, "PATCH", orgPath(org, "/members/"+bea.Sub), map[string]any{"role": "admin"}), http.StatusForbidden)
	}
	// At the edge, before the command runs.
	b2 := moved(bea)
	for range 2 {
		r := s.Do(t, apitest.Request{Method: "PATCH", Path: orgPath(org, "/members/"+adam.Sub), Token: b2.Token, Body: "{"})
		apitest.Expect(t, r, http.StatusBadRequest)
	}
	got := changes()
	if len(got) != 3 || got[owner.Sub] != o2.Email || got[adam.Sub] != a2.Email || got[bea.Sub] != b2.Email {
		t.Fatalf("recorded emails = %v; want %s, %s and %s, once each", got, o2.Email, a2.Email, b2.Email)
	}
	if n, _ := orgEvents(t, s, org); n["MemberRoleChanged"] != 0 {
		t.Fatalf("events = %v; want no role changed", n)
	}
}

// Sensitive reads are authorized against the events: once a revocation is
// acknowledged, the revoked accountant reads nothing, however far behind
// the read models are. Here the projector is stopped right after the
// accountant joined: the members read model still lists them, yet the
// audit log, the members, the panel and the rest answer what an outsider
// gets.
func TestRevokedAccountantReadsNothingWhileProjectorStopped(t *testing.T) {
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{NoProjector: true})
	ctx := context.Background()
	// project feeds the read models by hand up to the last event (a step
	// may read nothing while a transaction anywhere is in flight).
	project := func() {
		t.Helper()
		if err := s.Projector.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if _, err := s.Projector.Step(ctx); err != nil {
				t.Fatal(err)
			}
			var behind bool
			if err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM projection_checkpoints
				WHERE position < (SELECT max(position) FROM events))`).Scan(&behind); err != nil {
				t.Fatal(err)
			}
			if !behind {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("the read models did not catch up")
			}
		}
	}
	owner, accountant, outsider := apitest.NewUser(t, "Olivia"), apitest.NewUser(t, "Chloe"), apitest.NewUser(t, "Eve")
	org, _ := s.CreateOrganization(t, owner, "Acme", "client")
	r := call(t, s, owner, "POST", orgPath(org, "/accountants"), map[string]any{"email": accountant.Email})
	apitest.Expect(t, r, http.StatusCreated)
	apitest.Expect(t, call(t, s, accountant, "POST", "/v1/accountant-invitations/"+r.JSON(t)["id"].(string)+"/accept",
		map[string]any{"token": r.JSON(t)["token"]}), http.StatusOK)
	project()
	joined := time.Now()

	reads := []string{
		orgPath(org, "/audit"),
		orgPath(org, "/members"),
		orgPath(org, "/partners"),
		orgPath(org),
		orgPath(org, "/invitations/sent"),
		orgPath(org, "/invitations/received"),
		orgPath(org, "/badges"),
		orgPath(org, "/portal-users"),
		orgPath(org, "/collaborators"),
		orgPath(org, "/authorize?action=audit.read"),
	}
	for _, path := range reads {
		if r := s.Get(t, accountant, path, 0); r.Status != http.StatusOK {
			t.Fatalf("GET %s as the accountant = %d %s; want 200", path, r.Status, r.Body)
		}
	}

	rev := call(t, s, owner, "DELETE", orgPath(org, "/accountants/", accountant.Sub), nil)
	apitest.Expect(t, rev, http.StatusNoContent)
	// The projector stays stopped: the read model still lists them.
	if roles := memberRoles(t, s, owner, org, 0); roles[accountant.Sub] != "accountant" {
		t.Fatalf("members read model = %v; want it still listing the accountant (the projector is stopped)", roles)
	}

	asOf := url.QueryEscape(joined.UTC().Format(time.RFC3339Nano))
	for _, path := range append(reads, orgPath(org, "/members?as_of="+asOf), orgPath(org, "/partners?as_of="+asOf)) {
		got, want := s.Get(t, accountant, path, 0), s.Get(t, outsider, path, 0)
		apitest.Expect(t, got, http.StatusNotFound, "not_found")
		if g, w := problemDetail(t, got), problemDetail(t, want); g != w {
			t.Errorf("GET %s as the revoked accountant = %q; want the outsider's answer %q", path, g, w)
		}
		// Asking to read after the revocation (the read models will not
		// get there while stopped) is answered at once, the same way.
		apitest.Expect(t, s.Get(t, accountant, path, rev.Position), http.StatusNotFound, "not_found")
	}
	// Asked about them, the authorization answer says the same.
	if a := authorized(t, s, owner, org, accountant.Sub, "audit.read", 0); a["allowed"] != false || a["role"] != nil {
		t.Fatalf("authorize the revoked accountant = %v; want not allowed, no role", a)
	}
}

// problemDetail is a problem's status, code and detail.
func problemDetail(t *testing.T, r apitest.Response) string {
	t.Helper()
	m := r.JSON(t)
	return http.StatusText(r.Status) + " " + m["code"].(string) + " " + m["detail"].(string)
}
