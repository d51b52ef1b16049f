package api_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"partners/internal/apitest"
	"partners/internal/pgtest"
	"partners/notify/mail"
	"partners/notify/mail/mailtest"
)

// sentRow is the row of "Invitations sent" with this id.
func sentRow(t *testing.T, s *apitest.Server, u apitest.User, org, id string, after int64) map[string]any {
	t.Helper()
	for _, it := range list(t, s, u, "/v1/organizations/"+org+"/invitations/sent", after) {
		if it["id"] == id {
			return it
		}
	}
	t.Fatalf("invitation %s is not in the sent list", id)
	return nil
}

// hides fails when an answer shown to the claiming organization holds the
// invited email.
func hides(t *testing.T, what string, r apitest.Response, email string) {
	t.Helper()
	if bytes.Contains(bytes.ToLower(r.Body), []byte(strings.ToLower(email))) {
		t.Fatalf("%s shows the claimer the invited email: %s", what, r.Body)
	}
}

// A forwarded link cannot take an invitation away from its email (issue
// 14, point 2): Mallory, holding the link, claims it; Samir, the invited
// address, still sees it and may answer; Mallory never learns his email;
// Claire sees who claimed it, and the first answer wins.
func TestClaimNeverLocksOutTheEmail(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	claire, samir, mallory := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Samir"), apitest.NewUser(t, "Mallory")
	acme, _ := s.CreateOrganization(t, claire, "Acme Travaux", "client")
	plomb, _ := s.CreateOrganization(t, samir, "Samir Plomberie", "subcontractor")
	evil, _ := s.CreateOrganization(t, mallory, "Mallory SARL", "subcontractor")
	id, token, _ := invite(t, s, claire, acme, samir.Email)

	claim := post(t, s, mallory, "/v1/invitations/claim", map[string]any{"token": token, "organization_id": evil})
	apitest.Expect(t, claim, http.StatusOK)
	hides(t, "the claim's answer", claim, samir.Email)
	if m := claim.JSON(t); m["claimed_by"] != evil || m["id"] != id {
		t.Fatalf("claim answer = %s; want the invitation claimed by Mallory SARL", claim.Body)
	}
	replay := s.Do(t, apitest.Request{Method: "POST", Path: "/v1/invitations/claim", Token: mallory.Token,
		Body: map[string]any{"token": token, "organization_id": evil}, Header: map[string]string{"Idempotency-Key": "claim-1"}})
	apitest.Expect(t, replay, http.StatusOK)
	hides(t, "the claim's answer under an Idempotency-Key", replay, samir.Email)
	pv := previewOf(t, s, token)
	apitest.Expect(t, pv, http.StatusOK)
	hides(t, "the preview after the claim", pv, samir.Email)
	mine := s.Get(t, mallory, "/v1/organizations/"+evil+"/invitations/received", claim.Position)
	apitest.Expect(t, mine, http.StatusOK)
	hides(t, "the claimer's My invitations", mine, samir.Email)
	if !strings.Contains(string(mine.Body), id) {
		t.Fatalf("the claimer's My invitations = %s; want the claimed invitation", mine.Body)
	}

	// The invited address still sees it, badge included.
	if got := list(t, s, samir, "/v1/organizations/"+plomb+"/invitations/received", claim.Position); len(got) != 1 || got[0]["id"] != id {
		t.Fatalf("Samir's My invitations after Mallory's claim = %v; want the invitation", got)
	}
	if b := s.Get(t, samir, "/v1/organizations/"+plomb+"/badges", claim.Position).JSON(t); b["pending_invitations"] != float64(1) {
		t.Fatalf("Samir's badges = %v; want 1", b)
	}
	// Claire sees who claimed it.
	row := sentRow(t, s, claire, acme, id, claim.Position)
	if c, _ := row["claimed_by"].(map[string]any); row["status"] != "sent" || c["id"] != evil || c["name"] != "Mallory SARL" {
		t.Fatalf("Claire's row = %v; want sent, claimed by Mallory SARL", row)
	}

	// Mallory's decline only drops its claim.
	decl := post(t, s, mallory, "/v1/invitations/"+id+"/decline", map[string]any{"organization_id": evil, "reason": "oops"})
	apitest.Expect(t, decl, http.StatusOK)
	hides(t, "the decline's answer", decl, samir.Email)
	if m := decl.JSON(t); m["status"] != "sent" || m["claimed_by"] != nil {
		t.Fatalf("decline by the claimer = %s; want still sent, claimed by nobody", decl.Body)
	}
	row = sentRow(t, s, claire, acme, id, decl.Position)
	if row["status"] != "sent" || row["claimed_by"] != nil {
		t.Fatalf("Claire's row after the claimer declined = %v; want sent, claimed_by null", row)
	}
	if got := list(t, s, mallory, "/v1/organizations/"+evil+"/invitations/received", decl.Position); len(got) != 0 {
		t.Fatalf("Mallory's My invitations after declining = %v; want none", got)
	}
	apitest.Expect(t, post(t, s, mallory, "/v1/invitations/"+id+"/accept", map[string]any{"organization_id": evil}), http.StatusNotFound, "not_found")
	apitest.Expect(t, previewOf(t, s, token), http.StatusOK) // the link still works, for its email

	// Claimed again; the first answer wins, and here it is Samir's.
	again := post(t, s, mallory, "/v1/invitations/claim", map[string]any{"token": token, "organization_id": evil})
	apitest.Expect(t, again, http.StatusOK)
	acc := post(t, s, samir, "/v1/invitations/"+id+"/accept", map[string]any{"organization_id": plomb})
	apitest.Expect(t, acc, http.StatusOK)
	if inv := acc.JSON(t)["invitation"].(map[string]any); inv["status"] != "accepted" || inv["claimed_by"] != nil {
		t.Fatalf("Samir's accept = %s; want accepted, no claim of his shown", acc.Body)
	}
	late := post(t, s, mallory, "/v1/invitations/"+id+"/accept", map[string]any{"organization_id": evil})
	apitest.Expect(t, late, http.StatusConflict, "invitation_answered")
	hides(t, "the claimer's late accept", late, samir.Email)
	row = sentRow(t, s, claire, acme, id, acc.Position)
	if p, _ := row["partner"].(map[string]any); row["status"] != "accepted" || p["id"] != plomb {
		t.Fatalf("Claire's row = %v; want accepted by Samir Plomberie", row)
	}
	if panel := list(t, s, mallory, "/v1/organizations/"+evil+"/partners", acc.Position); len(panel) != 0 {
		t.Fatalf("Mallory's panel = %v; want nothing", panel)
	}

	// Nothing Mallory's organization can read holds the invited email.
	audit := s.Get(t, mallory, "/v1/organizations/"+evil+"/audit", acc.Position)
	apitest.Expect(t, audit, http.StatusOK)
	hides(t, "the claimer's audit log", audit, samir.Email)
	if bytes.Contains(audit.Body, []byte(claire.Email)) {
		t.Fatalf("the claimer's audit log shows who sent the invitation: %s", audit.Body)
	}
}

// The claimer may also win: its accept answers without the invited email.
func TestClaimerAcceptsWithoutSeeingTheEmail(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	claire, samir := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Samir")
	acme, _ := s.CreateOrganization(t, claire, "Acme Travaux", "client")
	plomb, _ := s.CreateOrganization(t, samir, "Samir Plomberie", "subcontractor")
	const invited = "samir.perso@example.org"
	id, token, _ := invite(t, s, claire, acme, invited)
	apitest.Expect(t, post(t, s, samir, "/v1/invitations/claim", map[string]any{"token": token, "organization_id": plomb}), http.StatusOK)
	acc := post(t, s, samir, "/v1/invitations/"+id+"/accept", map[string]any{"organization_id": plomb})
	apitest.Expect(t, acc, http.StatusOK)
	hides(t, "the claimer's accept", acc, invited)
	if inv := acc.JSON(t)["invitation"].(map[string]any); inv["status"] != "accepted" || inv["claimed_by"] != plomb {
		t.Fatalf("accept answer = %s", acc.Body)
	}
	all := s.Get(t, samir, "/v1/organizations/"+plomb+"/invitations/received?status=accepted", acc.Position)
	apitest.Expect(t, all, http.StatusOK)
	hides(t, "the claimer's accepted invitations", all, invited)
	// The inviter's own answers keep the email.
	id2, _, _ := invite(t, s, claire, acme, "other@example.org")
	rev := post(t, s, claire, "/v1/invitations/"+id2+"/revoke", nil)
	apitest.Expect(t, rev, http.StatusOK)
	if rev.JSON(t)["email"] != "other@example.org" {
		t.Fatalf("revoke answer = %s; want the email, to its inviter", rev.Body)
	}
}

// Whoever sent the invitation (and only them) is told by email, in the
// invitation's language, when it is claimed: the claiming organization and
// the way to revoke; one email however often the event is delivered.
func TestClaimNoticeEmail(t *testing.T) {
	smtp := mailtest.NewServer(t)
	sender, err := mail.NewSMTPSender(smtp.URL, "partners@example.com", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{Mail: sender})
	claire, mallory := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Mallory")
	acme, _ := s.CreateOrganization(t, claire, "Acme Travaux", "client")
	evil, _ := s.CreateOrganization(t, mallory, "Mallory SARL", "subcontractor")
	const invited = "samir.pro@example.org"
	_, token, _ := invite(t, s, claire, acme, invited, map[string]any{"locale": "de"})
	apitest.Expect(t, post(t, s, mallory, "/v1/invitations/claim", map[string]any{"token": token, "organization_id": evil}), http.StatusOK)
	apitest.Expect(t, post(t, s, mallory, "/v1/invitations/claim", map[string]any{"token": token, "organization_id": evil}), http.StatusOK)

	smtp.WaitFor(t, 2, 20*time.Second)
	time.Sleep(500 * time.Millisecond) // nothing more may arrive
	got := smtp.Messages()
	if len(got) != 2 {
		t.Fatalf("received %d emails; want 2 (the invitation, one claim notice)", len(got))
	}
	var notice *mailtest.Received
	for i, m := range got {
		switch m.To[0] {
		case claire.Email:
			notice = &got[i]
		case invited:
		default:
			t.Fatalf("an email went to %s; want only the invitee and the sender", m.To[0])
		}
	}
	if notice == nil {
		t.Fatal("the sender was not told of the claim")
	}
	if notice.ContentLanguage != "de" || !strings.Contains(notice.Text, "Mallory SARL") || !strings.Contains(notice.Text, invited) ||
		!strings.Contains(notice.Text, "widerrufen") || !strings.Contains(notice.Text, apitest.PublicURL+"/organizations/"+acme+"/invitations/sent") {
		t.Fatalf("claim notice (%s):\n%s", notice.ContentLanguage, notice.Text)
	}
	var ev string
	if err := s.Pool.QueryRow(context.Background(), `SELECT event_id::text FROM events WHERE event_type = 'InvitationClaimNoticeSent'`).Scan(&ev); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(notice.MessageID, ev+".sender@") {
		t.Fatalf("Message-ID = %s; want the notice event's (%s), stable", notice.MessageID, ev)
	}
}

// An outsider cannot tell an invitation it may not see from one that was
// never sent (issue 14, point 12): status, code and detail are the same,
// byte for byte, on every invitation kind.
func TestUnknownAndNotYoursAnswerAlike(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	alice, bob := apitest.NewUser(t, "Alice"), apitest.NewUser(t, "Bob")
	alpha, _ := s.CreateOrganization(t, alice, "Alpha", "client")
	beta, _ := s.CreateOrganization(t, bob, "Beta", "subcontractor")
	partnerInv, partnerToken, _ := invite(t, s, alice, alpha, "x@example.com")
	sent := func(path string, body map[string]any) (string, string) {
		r := post(t, s, alice, "/v1/organizations/"+alpha+path, body)
		apitest.Expect(t, r, http.StatusCreated)
		return r.JSON(t)["id"].(string), r.JSON(t)["token"].(string)
	}
	memberInv, memberToken := sent("/member-invitations", map[string]any{"email": "m@example.com", "role": "member"})
	accountantInv, _ := sent("/accountants", map[string]any{"email": "a@example.com"})
	_, collabToken := sent("/collaborators", map[string]any{"first_name": "Karim", "last_name": "Benali", "email": "k@example.com",
		"phone": "06 12 34 56 78"})
	unknown := uuid.NewString()
	unknownToken := strings.Repeat("Q", 43)
	wrongToken := memberToken[:42] + "A"
	if wrongToken == memberToken {
		wrongToken = memberToken[:42] + "B"
	}

	for _, tc := range []struct {
		name           string
		known, unknown apitest.Request
	}{
		{"partner accept, for the caller's organization", postAs(bob, "/v1/invitations/"+partnerInv+"/accept", map[string]any{"organization_id": beta}),
			postAs(bob, "/v1/invitations/"+unknown+"/accept", map[string]any{"organization_id": beta})},
		{"partner accept, for the inviter's organization", postAs(bob, "/v1/invitations/"+partnerInv+"/accept", map[string]any{"organization_id": alpha}),
			postAs(bob, "/v1/invitations/"+unknown+"/accept", map[string]any{"organization_id": alpha})},
		{"partner decline, for the caller's organization", postAs(bob, "/v1/invitations/"+partnerInv+"/decline", map[string]any{"organization_id": beta}),
			postAs(bob, "/v1/invitations/"+unknown+"/decline", map[string]any{"organization_id": beta})},
		{"partner decline, for the inviter's organization", postAs(bob, "/v1/invitations/"+partnerInv+"/decline", map[string]any{"organization_id": alpha}),
			postAs(bob, "/v1/invitations/"+unknown+"/decline", map[string]any{"organization_id": alpha})},
		{"partner revoke", postAs(bob, "/v1/invitations/"+partnerInv+"/revoke", nil), postAs(bob, "/v1/invitations/"+unknown+"/revoke", nil)},
		{"partner resend", postAs(bob, "/v1/invitations/"+partnerInv+"/resend", nil), postAs(bob, "/v1/invitations/"+unknown+"/resend", nil)},
		{"partner preview: a token of another kind", previewRequest(memberToken), previewRequest(unknownToken)},
		{"member accept without a token", postAs(bob, "/v1/member-invitations/"+memberInv+"/accept", nil),
			postAs(bob, "/v1/member-invitations/"+unknown+"/accept", nil)},
		{"member accept with a wrong token", postAs(bob, "/v1/member-invitations/"+memberInv+"/accept", map[string]any{"token": wrongToken}),
			postAs(bob, "/v1/member-invitations/"+unknown+"/accept", map[string]any{"token": wrongToken})},
		{"member revoke", postAs(bob, "/v1/member-invitations/"+memberInv+"/revoke", nil), postAs(bob, "/v1/member-invitations/"+unknown+"/revoke", nil)},
		{"accountant accept without a token", postAs(bob, "/v1/accountant-invitations/"+accountantInv+"/accept", nil),
			postAs(bob, "/v1/accountant-invitations/"+unknown+"/accept", nil)},
		{"accountant accept with another invitation's token", postAs(bob, "/v1/accountant-invitations/"+accountantInv+"/accept", map[string]any{"token": memberToken}),
			postAs(bob, "/v1/accountant-invitations/"+unknown+"/accept", map[string]any{"token": memberToken})},
		{"accountant revoke", postAs(bob, "/v1/accountant-invitations/"+accountantInv+"/revoke", nil),
			postAs(bob, "/v1/accountant-invitations/"+unknown+"/revoke", nil)},
		{"collaborator activate: a token of another kind", postAs(bob, "/v1/collaborators/activate", map[string]any{"token": partnerToken}),
			postAs(bob, "/v1/collaborators/activate", map[string]any{"token": unknownToken})},
		{"collaborator activate: a token one character off", postAs(bob, "/v1/collaborators/activate", map[string]any{"token": collabToken[:42] + flip(collabToken[42])}),
			postAs(bob, "/v1/collaborators/activate", map[string]any{"token": unknownToken})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, u := s.Do(t, tc.known), s.Do(t, tc.unknown)
			if k.Status < 400 {
				t.Fatalf("the outsider's request on a known invitation answered %d: %s", k.Status, k.Body)
			}
			if k.Status != u.Status || !bytes.Equal(k.Body, u.Body) || k.Header.Get("Content-Type") != u.Header.Get("Content-Type") {
				t.Fatalf("a known invitation answers\n%d %s\nbut an unknown one\n%d %s", k.Status, k.Body, u.Status, u.Body)
			}
		})
	}
}

func postAs(u apitest.User, path string, body any) apitest.Request {
	return apitest.Request{Method: "POST", Path: path, Token: u.Token, Body: body}
}

func previewRequest(token string) apitest.Request {
	return apitest.Request{Method: "POST", Path: "/v1/invitations/preview", Body: map[string]any{"token": token}}
}

// flip is another base64url character than c.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// The preview is a query under POST: the token stays out of the URL, the
// answer names the invitation, and nothing of a command's frame applies.
func TestPreviewTakesTheTokenInTheBody(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	claire := apitest.NewUser(t, "Claire")
	acme, _ := s.CreateOrganization(t, claire, "Acme Travaux", "client")
	id, token, _ := invite(t, s, claire, acme, "samir@example.org")

	r := previewOf(t, s, token)
	apitest.Expect(t, r, http.StatusOK)
	if m := r.JSON(t); m["id"] != id || m["inviter"].(map[string]any)["name"] != "Acme Travaux" || m["status"] != "sent" {
		t.Fatalf("preview = %s; want the invitation's id, inviter and status", r.Body)
	}
	if r.Header.Get("X-Event-Position") != "" {
		t.Fatalf("the preview is a query; it answered X-Event-Position %q", r.Header.Get("X-Event-Position"))
	}
	// An Idempotency-Key means nothing to a query: each answer is read anew.
	keyed := s.Do(t, apitest.Request{Method: "POST", Path: "/v1/invitations/preview", Body: map[string]any{"token": token},
		Header: map[string]string{"Idempotency-Key": "k1"}})
	apitest.Expect(t, keyed, http.StatusOK)
	if keyed.Header.Get("Idempotency-Replayed") != "" || keyed.Header.Get("X-Event-Position") != "" {
		t.Fatalf("the preview went through the command frame: %v", keyed.Header)
	}
	// The query-string form is gone.
	old := s.Do(t, apitest.Request{Method: "GET", Path: "/v1/invitations/preview?token=" + token})
	if old.Status != http.StatusNotFound && old.Status != http.StatusMethodNotAllowed {
		t.Fatalf("GET /v1/invitations/preview?token= answered %d; want no such route", old.Status)
	}
	if strings.Contains(string(old.Body), "Acme") {
		t.Fatalf("the GET form still previews: %s", old.Body)
	}
	apitest.Expect(t, s.Do(t, apitest.Request{Method: "POST", Path: "/v1/invitations/preview", Body: `{"token":`}), http.StatusBadRequest)
}
