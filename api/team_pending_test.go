package api_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"partners/internal/apitest"
	"partners/internal/pgtest"
	"partners/notify/mail"
	"partners/notify/mail/mailtest"
)

// createCollaborator creates a collaborator account not yet activated and
// returns the creation's answer.
func createCollaborator(t *testing.T, s *apitest.Server, by apitest.User, org, first, email string) map[string]any {
	t.Helper()
	r := call(t, s, by, "POST", orgPath(org, "/collaborators"), map[string]any{"first_name": first, "last_name": "Benali",
		"email": email, "phone": "06 12 34 56 78", "can_purchase": true})
	apitest.Expect(t, r, http.StatusCreated)
	m := r.JSON(t)
	m["position"] = r.Position
	return m
}

// sameInstant compares two RFC 3339 times of answers to the microsecond:
// a read model keeps what PostgreSQL keeps, a command's answer what Go
// computed.
func sameInstant(t *testing.T, a, b any) bool {
	t.Helper()
	ta, errA := time.Parse(time.RFC3339Nano, a.(string))
	tb, errB := time.Parse(time.RFC3339Nano, b.(string))
	if errA != nil || errB != nil {
		t.Fatalf("not times: %v, %v", a, b)
	}
	return ta.Truncate(time.Microsecond).Equal(tb.Truncate(time.Microsecond))
}

// accounts lists the collaborator accounts created, of a status, by id.
func accounts(t *testing.T, s *apitest.Server, u apitest.User, org, status string, after int64) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, it := range list(t, s, u, orgPath(org, "/collaborator-invitations?status="+status), after) {
		out[it["id"].(string)] = it
	}
	return out
}

// Seed 003 (DOMAIN.md 4.4): an account created with a typo in its email
// is seen among the accounts not yet activated, and withdrawn; its link is
// then refused. Another one is resent: a new link, the old one dies.
func TestSeed003PendingCollaboratorAccounts(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	owner, mia, karim, lena, outsider := apitest.NewUser(t, "Olivier"), apitest.NewUser(t, "Mia"), apitest.NewUser(t, "Karim"),
		apitest.NewUser(t, "Lena"), apitest.NewUser(t, "Eve")
	org, _ := s.CreateOrganization(t, owner, "EMS Client", "client")
	id, token := inviteColleague(t, s, owner, org, mia.Email, "member")
	apitest.Expect(t, call(t, s, mia, "POST", "/v1/member-invitations/"+id+"/accept", map[string]any{"token": token}), http.StatusOK)

	typo := createCollaborator(t, s, owner, org, "Karim", "karim@exmple.org")
	first := createCollaborator(t, s, owner, org, "Lena", "lena@example.org")
	typoID, lenaID := typo["id"].(string), first["id"].(string)

	// Listed with what was typed, for owners and admins only.
	invited := accounts(t, s, owner, org, "invited", first["position"].(int64))
	if row := invited[typoID]; len(invited) != 2 || row["email"] != "karim@exmple.org" || row["first_name"] != "Karim" ||
		row["last_name"] != "Benali" || row["phone"] != "+33612345678" || row["can_purchase"] != true || row["can_see_all_orders"] != false ||
		row["status"] != "invited" || row["sent_at"] == nil || !sameInstant(t, row["expires_at"], typo["expires_at"]) {
		t.Fatalf("accounts not yet activated = %v", invited)
	}
	apitest.Expect(t, s.Get(t, mia, orgPath(org, "/collaborator-invitations"), 0), http.StatusForbidden, "not_allowed")
	apitest.Expect(t, s.Get(t, outsider, orgPath(org, "/collaborator-invitations"), 0), http.StatusNotFound, "not_found")
	apitest.Expect(t, s.Get(t, owner, orgPath(org, "/collaborator-invitations?status=sent"), 0), http.StatusUnprocessableEntity, "validation_failed")

	// The typo is withdrawn: its link is refused as withdrawn.
	apitest.Expect(t, call(t, s, mia, "POST", "/v1/collaborator-invitations/"+typoID+"/revoke", nil), http.StatusForbidden, "not_allowed")
	apitest.Expect(t, call(t, s, outsider, "POST", "/v1/collaborator-invitations/"+typoID+"/revoke", nil), http.StatusNotFound, "not_found")
	rv := call(t, s, owner, "POST", "/v1/collaborator-invitations/"+typoID+"/revoke", nil)
	apitest.Expect(t, rv, http.StatusOK)
	if m := rv.JSON(t); m["id"] != typoID || m["status"] != "revoked" || m["token"] != nil || rv.Position == 0 {
		t.Fatalf("revoke answer = %s (position %d)", rv.Body, rv.Position)
	}
	apitest.Expect(t, call(t, s, karim, "POST", "/v1/collaborators/activate", map[string]any{"token": typo["token"]}), http.StatusConflict, "invitation_revoked")
	apitest.Expect(t, call(t, s, owner, "POST", "/v1/collaborator-invitations/"+typoID+"/revoke", nil), http.StatusConflict, "invitation_revoked")
	apitest.Expect(t, call(t, s, owner, "POST", "/v1/collaborator-invitations/"+typoID+"/resend", nil), http.StatusConflict, "invitation_revoked")
	if revoked := accounts(t, s, owner, org, "revoked", rv.Position); len(revoked) != 1 || revoked[typoID] == nil {
		t.Fatalf("revoked accounts = %v", revoked)
	}
	if invited := accounts(t, s, owner, org, "invited", rv.Position); len(invited) != 1 || invited[lenaID] == nil {
		t.Fatalf("accounts still waiting = %v", invited)
	}
	// The email's slot is free: the account is created again, right.
	createCollaborator(t, s, owner, org, "Karim", "karim@exmple.org")

	// Lena's is resent: a new link that works, the old one dies.
	apitest.Expect(t, call(t, s, mia, "POST", "/v1/collaborator-invitations/"+lenaID+"/resend", nil), http.StatusForbidden, "not_allowed")
	rs := call(t, s, owner, "POST", "/v1/collaborator-invitations/"+lenaID+"/resend", map[string]any{"locale": "de"})
	apitest.Expect(t, rs, http.StatusOK)
	again := rs.JSON(t)
	if again["id"] != lenaID || again["status"] != "invited" || again["token"] == first["token"] || again["email"] != "lena@example.org" ||
		again["activation_url"] != apitest.PublicURL+"/collaborators/activate/"+again["token"].(string) {
		t.Fatalf("resend answer = %s", rs.Body)
	}
	apitest.Expect(t, call(t, s, lena, "POST", "/v1/collaborators/activate", map[string]any{"token": first["token"]}), http.StatusNotFound, "invalid_token")
	apitest.Expect(t, previewAt(t, s, collaboratorPreview, first["token"].(string)), http.StatusNotFound, "not_found")
	if row := accounts(t, s, owner, org, "invited", rs.Position)[lenaID]; !sameInstant(t, row["expires_at"], again["expires_at"]) || row["sent_at"] == invited[lenaID]["sent_at"] {
		t.Fatalf("after the resend, the row = %v; want the new expiry %v and a new sent_at", row, again["expires_at"])
	}
	act := call(t, s, lena, "POST", "/v1/collaborators/activate", map[string]any{"token": again["token"]})
	apitest.Expect(t, act, http.StatusOK)
	if activated := accounts(t, s, owner, org, "activated", act.Position); activated[lenaID] == nil {
		t.Fatalf("activated accounts = %v", activated)
	}
	apitest.Expect(t, call(t, s, owner, "POST", "/v1/collaborator-invitations/"+lenaID+"/resend", nil), http.StatusConflict, "invitation_answered")
	apitest.Expect(t, call(t, s, owner, "POST", "/v1/collaborator-invitations/"+lenaID+"/revoke", nil), http.StatusConflict, "invitation_answered")
}

// An expired account is listed as expired, and resent.
func TestExpiredCollaboratorAccountResent(t *testing.T) {
	clock := apitest.NewClock()
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{Now: clock.Now})
	owner, karim := apitest.NewUser(t, "Olivier"), apitest.NewUser(t, "Karim")
	org, _ := s.CreateOrganization(t, owner, "EMS Client", "client")
	c := createCollaborator(t, s, owner, org, "Karim", "karim@example.org")
	clock.Advance(31 * 24 * time.Hour)
	pos := c["position"].(int64)
	if expired := accounts(t, s, owner, org, "expired", pos); expired[c["id"].(string)] == nil || len(accounts(t, s, owner, org, "invited", pos)) != 0 {
		t.Fatalf("expired accounts = %v", expired)
	}
	apitest.Expect(t, call(t, s, karim, "POST", "/v1/collaborators/activate", map[string]any{"token": c["token"]}), http.StatusGone, "invitation_expired")
	rs := call(t, s, owner, "POST", "/v1/collaborator-invitations/"+c["id"].(string)+"/resend", nil)
	apitest.Expect(t, rs, http.StatusOK)
	apitest.Expect(t, call(t, s, karim, "POST", "/v1/collaborators/activate", map[string]any{"token": rs.JSON(t)["token"]}), http.StatusOK)

	// An expired account whose email was given a new one meanwhile is not
	// resent: one pending account per email, and the answer names it.
	old := createCollaborator(t, s, owner, org, "Lena", "lena@example.org")
	clock.Advance(31 * 24 * time.Hour)
	fresh := createCollaborator(t, s, owner, org, "Lena", "lena@example.org")
	dup := call(t, s, owner, "POST", "/v1/collaborator-invitations/"+old["id"].(string)+"/resend", nil)
	apitest.Expect(t, dup, http.StatusConflict, "duplicate_pending_invitation")
	if _, _, details := problemOf(t, dup); details["pending_invitation_id"] != fresh["id"] {
		t.Fatalf("the refusal names %v; want the pending account %v", details, fresh["id"])
	}
}

// The resend sends the activation email again, with the new link, in the
// language asked for.
func TestCollaboratorResendEmail(t *testing.T) {
	smtp := mailtest.NewServer(t)
	sender, err := mail.NewSMTPSender(smtp.URL, "partners@example.com", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{Mail: sender})
	owner := apitest.NewUser(t, "Olivia")
	org, _ := s.CreateOrganization(t, owner, "Acme Travaux", "client")
	c := createCollaborator(t, s, owner, org, "Karim", "karim@example.com")
	smtp.WaitFor(t, 1, 20*time.Second)
	rs := call(t, s, owner, "POST", "/v1/collaborator-invitations/"+c["id"].(string)+"/resend", map[string]any{"locale": "de"})
	apitest.Expect(t, rs, http.StatusOK)
	link := rs.JSON(t)["activation_url"].(string)
	smtp.WaitFor(t, 2, 20*time.Second)
	msgs := smtp.Messages()
	if len(msgs) != 2 {
		t.Fatalf("got %d emails; want the activation and its resend", len(msgs))
	}
	first, second := msgs[0], msgs[1]
	if !strings.Contains(first.Text, c["activation_url"].(string)) {
		first, second = second, first
	}
	if second.To[0] != "karim@example.com" || second.ContentLanguage != "de" || !strings.Contains(second.Text, link) ||
		!strings.Contains(second.Text, "Acme Travaux") || !strings.Contains(second.Text, "Karim") || strings.Contains(second.Text, c["token"].(string)) {
		t.Fatalf("the resent email (to %v, %s) lacks the new link %s or shows the old one:\n%s", second.To, second.ContentLanguage, link, second.Text)
	}
	if first.MessageID == second.MessageID {
		t.Fatalf("the resend reused the first email's Message-ID %s", first.MessageID)
	}
}

// An outsider cannot tell a collaborator account of another organization
// from an id never created: resend and revoke answer both alike, byte for
// byte (as every invitation kind does, claims_test.go).
func TestCollaboratorAccountUnknownAndNotYoursAlike(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	alice, bob := apitest.NewUser(t, "Alice"), apitest.NewUser(t, "Bob")
	alpha, _ := s.CreateOrganization(t, alice, "Alpha", "client")
	s.CreateOrganization(t, bob, "Beta", "client")
	known := createCollaborator(t, s, alice, alpha, "Karim", "karim@example.com")["id"].(string)
	unknown := "00000000-0000-4000-8000-000000000000"
	for _, action := range []string{"resend", "revoke"} {
		k := call(t, s, bob, "POST", "/v1/collaborator-invitations/"+known+"/"+action, nil)
		u := call(t, s, bob, "POST", "/v1/collaborator-invitations/"+unknown+"/"+action, nil)
		apitest.Expect(t, k, http.StatusNotFound, "not_found")
		if k.Status != u.Status || !bytes.Equal(k.Body, u.Body) {
			t.Fatalf("%s: a known account answers\n%d %s\nbut an unknown one\n%d %s", action, k.Status, k.Body, u.Status, u.Body)
		}
	}
	apitest.Expect(t, call(t, s, bob, "POST", "/v1/collaborator-invitations/not-an-id/revoke", nil), http.StatusNotFound, "not_found")
}
