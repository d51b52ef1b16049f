package api_test

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"partners/eventstore"
	"partners/internal/apitest"
	"partners/internal/pgtest"
	"partners/notify/mail"
	"partners/notify/mail/mailtest"
)

func invite(t *testing.T, s *apitest.Server, u apitest.User, org, email string, extra ...map[string]any) (id, token string, pos int64) {
	t.Helper()
	body := map[string]any{"email": email, "message": "Bonjour, travaillons ensemble"}
	for _, e := range extra {
		for k, v := range e {
			body[k] = v
		}
	}
	r := s.Do(t, apitest.Request{Method: "POST", Path: "/v1/organizations/" + org + "/invitations", Token: u.Token, Body: body})
	apitest.Expect(t, r, http.StatusCreated)
	m := r.JSON(t)
	if m["status"] != "sent" || m["email"] != strings.ToLower(email) || !strings.HasPrefix(m["invitation_url"].(string), apitest.PublicURL+"/invitations/") {
		t.Fatalf("invitation answer = %s", r.Body)
	}
	return m["id"].(string), m["token"].(string), r.Position
}

// previewOf asks what a link's landing page shows, without signing in.
func previewOf(t *testing.T, s *apitest.Server, token string) apitest.Response {
	t.Helper()
	return s.Do(t, apitest.Request{Method: "POST", Path: "/v1/invitations/preview", Body: map[string]any{"token": token}})
}

func post(t *testing.T, s *apitest.Server, u apitest.User, path string, body any) apitest.Response {
	t.Helper()
	return s.Do(t, apitest.Request{Method: "POST", Path: path, Token: u.Token, Body: body})
}

type listed struct {
	Items []map[string]any `json:"items"`
}

func list(t *testing.T, s *apitest.Server, u apitest.User, path string, after int64) []map[string]any {
	t.Helper()
	r := s.Get(t, u, path, after)
	apitest.Expect(t, r, http.StatusOK)
	var l listed
	r.Decode(t, &l)
	return l.Items
}

func statusOf(t *testing.T, items []map[string]any, id string) string {
	t.Helper()
	for _, it := range items {
		if it["id"] == id {
			return it["status"].(string)
		}
	}
	return "(absent)"
}

// Seed 000, first story: the subcontractor signs up with the invited email,
// sees the invitation in "My invitations" and accepts it.
func TestSeed000SignedUpWithInvitedEmail(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	client, sub := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Samir")
	acme, _ := s.CreateOrganization(t, client, "Acme Travaux", "client")
	id, _, pos := invite(t, s, client, acme, strings.ToUpper(sub.Email))

	if got := statusOf(t, list(t, s, client, "/v1/organizations/"+acme+"/invitations/sent", pos), id); got != "sent" {
		t.Fatalf("inviter sees %q; want sent (Envoyée)", got)
	}
	plomberie, pos := s.CreateOrganization(t, sub, "Samir Plomberie", "subcontractor")
	received := list(t, s, sub, "/v1/organizations/"+plomberie+"/invitations/received", pos)
	if len(received) != 1 || received[0]["id"] != id || received[0]["inviter"].(map[string]any)["name"] != "Acme Travaux" {
		t.Fatalf("My invitations = %v; want the invitation from Acme Travaux", received)
	}
	badges := s.Get(t, sub, "/v1/organizations/"+plomberie+"/badges", pos).JSON(t)
	if badges["pending_invitations"] != float64(1) {
		t.Fatalf("badges = %v; want 1 pending invitation", badges)
	}

	r := post(t, s, sub, "/v1/invitations/"+id+"/accept", map[string]any{"organization_id": plomberie})
	apitest.Expect(t, r, http.StatusOK)
	acc := r.JSON(t)
	if acc["invitation"].(map[string]any)["status"] != "accepted" || acc["partnership"].(map[string]any)["client_id"] != acme {
		t.Fatalf("accept answer = %s", r.Body)
	}
	panel := list(t, s, client, "/v1/organizations/"+acme+"/partners", r.Position)
	if len(panel) != 1 || panel[0]["organization_id"] != plomberie || panel[0]["side"] != "subcontractor" {
		t.Fatalf("client's Subcontractors panel = %v; want Samir Plomberie", panel)
	}
	clients := list(t, s, sub, "/v1/organizations/"+plomberie+"/partners", r.Position)
	if len(clients) != 1 || clients[0]["organization_id"] != acme {
		t.Fatalf("subcontractor's Clients list = %v; want Acme Travaux", clients)
	}
	sent := list(t, s, client, "/v1/organizations/"+acme+"/invitations/sent", r.Position)
	if statusOf(t, sent, id) != "accepted" || sent[0]["partner"].(map[string]any)["name"] != "Samir Plomberie" {
		t.Fatalf("Invitations sent = %v; want accepted (Validé) with the partner", sent)
	}
	if b := s.Get(t, sub, "/v1/organizations/"+plomberie+"/badges", r.Position).JSON(t); b["pending_invitations"] != float64(0) {
		t.Fatalf("badges after accepting = %v; want 0", b)
	}
	if q := list(t, s, client, "/v1/organizations/"+acme+"/partners?q=plomb", r.Position); len(q) != 1 {
		t.Fatalf("panel search 'plomb' = %v; want 1", q)
	}
	if q := list(t, s, client, "/v1/organizations/"+acme+"/partners?q=zzz", r.Position); len(q) != 0 {
		t.Fatalf("panel search 'zzz' = %v; want none", q)
	}
}

// Seed 000, second story: the subcontractor signed up with another email;
// the inviter keeps seeing "sent" until it claims and accepts.
func TestSeed000SignedUpWithAnotherEmail(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	client, sub := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Samir")
	acme, _ := s.CreateOrganization(t, client, "Acme Travaux", "client")
	id, token, _ := invite(t, s, client, acme, "samir.perso@example.org")
	plomberie, pos := s.CreateOrganization(t, sub, "Samir Plomberie", "subcontractor")

	if got := list(t, s, sub, "/v1/organizations/"+plomberie+"/invitations/received", pos); len(got) != 0 {
		t.Fatalf("My invitations before the claim = %v; want none (another email)", got)
	}
	apitest.Expect(t, post(t, s, sub, "/v1/invitations/"+id+"/accept", map[string]any{"organization_id": plomberie}), http.StatusNotFound, "not_found")

	preview := previewOf(t, s, token)
	apitest.Expect(t, preview, http.StatusOK)
	if p := preview.JSON(t); p["inviter"].(map[string]any)["name"] != "Acme Travaux" || p["invitee_side"] != "subcontractor" || p["status"] != "sent" {
		t.Fatalf("preview = %s", preview.Body)
	}
	if strings.Contains(string(preview.Body), "samir.perso") {
		t.Fatalf("preview reveals the invited email: %s", preview.Body)
	}

	claim := post(t, s, sub, "/v1/invitations/claim", map[string]any{"token": token, "organization_id": plomberie})
	apitest.Expect(t, claim, http.StatusOK)
	if got := list(t, s, sub, "/v1/organizations/"+plomberie+"/invitations/received", claim.Position); len(got) != 1 {
		t.Fatalf("My invitations after the claim = %v; want the claimed one (red badge)", got)
	}
	if got := statusOf(t, list(t, s, client, "/v1/organizations/"+acme+"/invitations/sent", claim.Position), id); got != "sent" {
		t.Fatalf("inviter sees %q after the claim; want still sent", got)
	}
	again := post(t, s, sub, "/v1/invitations/claim", map[string]any{"token": token, "organization_id": plomberie})
	apitest.Expect(t, again, http.StatusOK)

	// Another subcontractor cannot take it over.
	other := apitest.NewUser(t, "Olga")
	otherOrg, _ := s.CreateOrganization(t, other, "Olga Elec", "subcontractor")
	apitest.Expect(t, post(t, s, other, "/v1/invitations/claim", map[string]any{"token": token, "organization_id": otherOrg}), http.StatusConflict, "already_claimed")

	acc := post(t, s, sub, "/v1/invitations/"+id+"/accept", map[string]any{"organization_id": plomberie})
	apitest.Expect(t, acc, http.StatusOK)
	if got := statusOf(t, list(t, s, client, "/v1/organizations/"+acme+"/invitations/sent", acc.Position), id); got != "accepted" {
		t.Fatalf("inviter sees %q; want accepted", got)
	}
	if panel := list(t, s, client, "/v1/organizations/"+acme+"/partners", acc.Position); len(panel) != 1 {
		t.Fatalf("panel = %v; want the subcontractor", panel)
	}
	// The token was single use.
	apitest.Expect(t, previewOf(t, s, token), http.StatusNotFound, "not_found")
}

// Seed 004: the same from either side, customer (Kunde) or provider (Anbieter).
func TestSeed004FromEitherSide(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	provider, customer := apitest.NewUser(t, "Anbieter"), apitest.NewUser(t, "Kunde")
	prov, _ := s.CreateOrganization(t, provider, "Personal GmbH", "subcontractor")
	cust, _ := s.CreateOrganization(t, customer, "Besteller AG", "client")
	id, _, _ := invite(t, s, provider, prov, customer.Email, map[string]any{"locale": "de"})
	r := post(t, s, customer, "/v1/invitations/"+id+"/accept", map[string]any{"organization_id": cust})
	apitest.Expect(t, r, http.StatusOK)
	if p := r.JSON(t)["partnership"].(map[string]any); p["client_id"] != cust || p["subcontractor_id"] != prov {
		t.Fatalf("partnership = %v; want client %s, subcontractor %s", p, cust, prov)
	}
	if panel := list(t, s, provider, "/v1/organizations/"+prov+"/partners", r.Position); len(panel) != 1 || panel[0]["side"] != "client" {
		t.Fatalf("provider's Kunden = %v", panel)
	}
	// A partnership is never ended: there is no way to delete it.
	del := s.Do(t, apitest.Request{Method: "DELETE", Path: "/v1/organizations/" + prov + "/partners/" + cust, Token: provider.Token})
	if del.Status != http.StatusNotFound && del.Status != http.StatusMethodNotAllowed {
		t.Fatalf("deleting a partnership answered %d; want no such endpoint", del.Status)
	}
}

func TestInvitationRefusals(t *testing.T) {
	clock := apitest.NewClock()
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{Now: clock.Now, InvitationTTL: 72 * time.Hour})
	client, sub, other := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Samir"), apitest.NewUser(t, "Cid")
	acme, _ := s.CreateOrganization(t, client, "Acme", "client")
	plomberie, _ := s.CreateOrganization(t, sub, "Plomberie", "subcontractor")
	otherClient, _ := s.CreateOrganization(t, other, "Other Client", "client")

	t.Run("ErrSameSide", func(t *testing.T) {
		_, token, _ := invite(t, s, client, acme, "someone."+other.Sub+"@example.com")
		apitest.Expect(t, post(t, s, other, "/v1/invitations/claim", map[string]any{"token": token, "organization_id": otherClient}), http.StatusUnprocessableEntity, "same_side")
	})
	t.Run("ErrOwnInvitation", func(t *testing.T) {
		id, token, _ := invite(t, s, client, acme, "own."+client.Sub+"@example.com")
		apitest.Expect(t, post(t, s, client, "/v1/invitations/claim", map[string]any{"token": token, "organization_id": acme}), http.StatusUnprocessableEntity, "own_invitation")
		apitest.Expect(t, post(t, s, client, "/v1/invitations/"+id+"/accept", map[string]any{"organization_id": acme}), http.StatusUnprocessableEntity, "own_invitation")
	})
	t.Run("ErrDuplicatePending", func(t *testing.T) {
		email := "dup." + sub.Sub + "@example.com"
		id, _, _ := invite(t, s, client, acme, email)
		r := post(t, s, client, "/v1/organizations/"+acme+"/invitations", map[string]any{"email": "  " + strings.ToUpper(email) + " "})
		apitest.Expect(t, r, http.StatusConflict, "duplicate_pending_invitation")
		if !strings.Contains(string(r.Body), id) {
			t.Fatalf("duplicate answer %s does not name the pending invitation %s", r.Body, id)
		}
	})
	t.Run("ErrRevokedThenReinvite", func(t *testing.T) {
		email := "rev." + sub.Sub + "@example.com"
		id, token, _ := invite(t, s, client, acme, email)
		r := post(t, s, client, "/v1/invitations/"+id+"/revoke", nil)
		apitest.Expect(t, r, http.StatusOK)
		if st := r.JSON(t)["status"]; st != "revoked" {
			t.Fatalf("revoke answer status = %v", st)
		}
		apitest.Expect(t, post(t, s, sub, "/v1/invitations/claim", map[string]any{"token": token, "organization_id": plomberie}), http.StatusNotFound, "not_found")
		apitest.Expect(t, post(t, s, client, "/v1/invitations/"+id+"/revoke", nil), http.StatusConflict, "invitation_revoked")
		apitest.Expect(t, post(t, s, client, "/v1/invitations/"+id+"/resend", nil), http.StatusConflict, "invitation_revoked")
		invite(t, s, client, acme, email) // the inviter may invite again
	})
	t.Run("ErrAnsweredAndAlreadyPartners", func(t *testing.T) {
		id, _, _ := invite(t, s, client, acme, sub.Email)
		apitest.Expect(t, post(t, s, sub, "/v1/invitations/"+id+"/accept", map[string]any{"organization_id": plomberie}), http.StatusOK)
		apitest.Expect(t, post(t, s, sub, "/v1/invitations/"+id+"/accept", map[string]any{"organization_id": plomberie}), http.StatusConflict, "invitation_answered")
		apitest.Expect(t, post(t, s, sub, "/v1/invitations/"+id+"/decline", map[string]any{"organization_id": plomberie}), http.StatusConflict, "invitation_answered")
		// A second invitation between the same two cannot be accepted.
		id2, _, _ := invite(t, s, sub, plomberie, client.Email)
		apitest.Expect(t, post(t, s, client, "/v1/invitations/"+id2+"/accept", map[string]any{"organization_id": acme}), http.StatusConflict, "already_partners")
	})
	t.Run("DeclineThenInviteAgain", func(t *testing.T) {
		third := apitest.NewUser(t, "Tess")
		tOrg, _ := s.CreateOrganization(t, third, "Tess Peinture", "subcontractor")
		id, _, _ := invite(t, s, client, acme, third.Email)
		r := post(t, s, third, "/v1/invitations/"+id+"/decline", map[string]any{"organization_id": tOrg, "reason": "pas maintenant"})
		apitest.Expect(t, r, http.StatusOK)
		if got := statusOf(t, list(t, s, client, "/v1/organizations/"+acme+"/invitations/sent?status=declined", r.Position), id); got != "declined" {
			t.Fatalf("declined invitation shows %q", got)
		}
		if panel := list(t, s, third, "/v1/organizations/"+tOrg+"/partners", r.Position); len(panel) != 0 {
			t.Fatalf("declining made partners: %v", panel)
		}
		invite(t, s, client, acme, third.Email)
	})
	t.Run("ErrExpiredThenResent", func(t *testing.T) {
		fourth := apitest.NewUser(t, "Fanny")
		fOrg, _ := s.CreateOrganization(t, fourth, "Fanny Toiture", "subcontractor")
		id, oldToken, sentAt := invite(t, s, client, acme, fourth.Email)
		clock.Advance(73 * time.Hour)
		defer clock.Advance(0)
		r := post(t, s, fourth, "/v1/invitations/"+id+"/accept", map[string]any{"organization_id": fOrg})
		apitest.Expect(t, r, http.StatusGone, "invitation_expired")
		if got := statusOf(t, list(t, s, client, "/v1/organizations/"+acme+"/invitations/sent?status=expired", sentAt), id); got != "expired" {
			t.Fatalf("sent list shows %q; want expired", got)
		}
		res := post(t, s, client, "/v1/invitations/"+id+"/resend", nil)
		apitest.Expect(t, res, http.StatusOK)
		newToken := res.JSON(t)["token"].(string)
		if newToken == oldToken || res.JSON(t)["status"] != "sent" {
			t.Fatalf("resend answer = %s; want a new token and status sent", res.Body)
		}
		apitest.Expect(t, previewOf(t, s, oldToken), http.StatusNotFound)
		apitest.Expect(t, previewOf(t, s, newToken), http.StatusOK)
		apitest.Expect(t, post(t, s, fourth, "/v1/invitations/"+id+"/accept", map[string]any{"organization_id": fOrg}), http.StatusOK)
	})
	t.Run("ErrMemberMayNotInvite", func(t *testing.T) {
		apitest.Expect(t, post(t, s, sub, "/v1/organizations/"+acme+"/invitations", map[string]any{"email": "x@example.com"}), http.StatusNotFound, "not_found")
	})
	t.Run("ErrValidation", func(t *testing.T) {
		apitest.Expect(t, post(t, s, client, "/v1/organizations/"+acme+"/invitations", map[string]any{"email": "not-an-email"}), http.StatusUnprocessableEntity, "validation_failed")
		apitest.Expect(t, post(t, s, client, "/v1/organizations/"+acme+"/invitations", map[string]any{"email": "a@example.com", "locale": "it"}), http.StatusUnprocessableEntity, "validation_failed")
		apitest.Expect(t, post(t, s, client, "/v1/invitations/claim", map[string]any{"token": "short", "organization_id": acme}), http.StatusNotFound, "not_found")
		apitest.Expect(t, previewOf(t, s, strings.Repeat("A", 43)), http.StatusNotFound, "not_found")
		apitest.Expect(t, s.Get(t, client, "/v1/organizations/"+acme+"/invitations/sent?status=lost", 0), http.StatusUnprocessableEntity, "validation_failed")
	})
}

// Ten simultaneous accepts of one invitation: one success, nine 409s, one
// panel row.
func TestConcurrentAccepts(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	client, sub := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Samir")
	acme, _ := s.CreateOrganization(t, client, "Acme", "client")
	plomberie, _ := s.CreateOrganization(t, sub, "Plomberie", "subcontractor")
	id, _, _ := invite(t, s, client, acme, sub.Email)
	var wg sync.WaitGroup
	statuses := make([]int, 10)
	codes := make([]string, 10)
	positions := make([]int64, 10)
	start := make(chan struct{})
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := post(t, s, sub, "/v1/invitations/"+id+"/accept", map[string]any{"organization_id": plomberie})
			statuses[i], positions[i] = r.Status, r.Position
			if r.Status != 200 {
				codes[i], _ = r.JSON(t)["code"].(string)
			}
		}()
	}
	close(start)
	wg.Wait()
	ok, conflicts := 0, 0
	var pos int64
	for i, st := range statuses {
		switch {
		case st == 200:
			ok++
			pos = positions[i]
		case st == 409 && (codes[i] == "invitation_answered" || codes[i] == "concurrency_conflict"):
			conflicts++
		default:
			t.Errorf("answer %d: %d %s", i, st, codes[i])
		}
	}
	if ok != 1 || conflicts != 9 {
		t.Fatalf("successes, conflicts = %d, %d; want 1, 9 (statuses %v)", ok, conflicts, statuses)
	}
	if panel := list(t, s, client, "/v1/organizations/"+acme+"/partners", pos); len(panel) != 1 {
		t.Fatalf("panel rows = %d; want 1", len(panel))
	}
	var events int
	if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE event_type = 'PartnershipEstablished' AND data->>'invitation_id' = $1`, id).Scan(&events); err != nil || events != 1 {
		t.Fatalf("PartnershipEstablished events = %d, %v; want 1", events, err)
	}
}

// Concurrent invitations of the same email by the same organization: one
// pending invitation, the others name it.
func TestConcurrentInvitesOnePending(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	client := apitest.NewUser(t, "Claire")
	acme, _ := s.CreateOrganization(t, client, "Acme", "client")
	var wg sync.WaitGroup
	var created, dup atomic.Int32
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := post(t, s, client, "/v1/organizations/"+acme+"/invitations", map[string]any{"email": "race@example.com"})
			switch {
			case r.Status == 201:
				created.Add(1)
			case r.Status == 409:
				dup.Add(1)
			default:
				t.Errorf("unexpected %d %s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	if created.Load() != 1 || dup.Load() != 7 {
		t.Fatalf("created, refused = %d, %d; want 1, 7", created.Load(), dup.Load())
	}
}

// The invitee receives exactly one email per invitation and per resend,
// with the link and in the invitation's language, also when the handler
// that queues emails fails once and the event is redelivered, and when the
// SMTP server refuses once.
func TestInvitationEmails(t *testing.T) {
	smtp := mailtest.NewServer(t)
	sender, err := mail.NewSMTPSender(smtp.URL, "partners@example.com", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	var failures atomic.Int32
	failures.Store(1)
	wrap := func(next eventstore.Reaction) eventstore.Reaction {
		return func(ctx context.Context, tx *sql.Tx, ev *eventstore.Event) error {
			if ev.Type == "InvitationSent" && failures.Add(-1) >= 0 {
				return errors.New("made to fail once")
			}
			return next(ctx, tx, ev)
		}
	}
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{Mail: sender, WrapQueue: wrap})
	client := apitest.NewUser(t, "Claire")
	acme, _ := s.CreateOrganization(t, client, "Acme Travaux", "client")

	smtp.FailNext(1)
	id, token, _ := invite(t, s, client, acme, "fr.invitee@example.com", map[string]any{"locale": "fr", "message": "Au plaisir <b>!</b>"})
	_, deToken, _ := invite(t, s, client, acme, "de.invitee@example.com", map[string]any{"locale": "de"})
	_ = s.Do(t, apitest.Request{Method: "POST", Path: "/v1/organizations/" + acme + "/invitations", Token: client.Token,
		Body: map[string]any{"email": "en.invitee@example.com"}, Header: map[string]string{"Accept-Language": "it-IT, en;q=0.5"}})
	res := post(t, s, client, "/v1/invitations/"+id+"/resend", nil)
	apitest.Expect(t, res, http.StatusOK)
	resentToken := res.JSON(t)["token"].(string)

	got := smtp.WaitFor(t, 4, 20*time.Second)
	time.Sleep(500 * time.Millisecond) // nothing more may arrive
	got = smtp.Messages()
	if len(got) != 4 {
		t.Fatalf("received %d emails; want 4 (3 invitations, 1 resend)", len(got))
	}
	ids := map[string]bool{}
	byTo := map[string][]mailtest.Received{}
	for _, m := range got {
		if ids[m.MessageID] {
			t.Fatalf("Message-ID %s received twice", m.MessageID)
		}
		ids[m.MessageID] = true
		byTo[m.To[0]] = append(byTo[m.To[0]], m)
	}
	fr := byTo["fr.invitee@example.com"]
	if len(fr) != 2 || fr[0].ContentLanguage != "fr" {
		t.Fatalf("French invitee got %d emails (language %q); want 2 in fr", len(fr), fr[0].ContentLanguage)
	}
	links := fr[0].Text + fr[1].Text
	if !strings.Contains(links, apitest.PublicURL+"/invitations/"+token) || !strings.Contains(links, apitest.PublicURL+"/invitations/"+resentToken) {
		t.Fatalf("French emails lack the invitation and resend links:\n%s", links)
	}
	if !strings.Contains(fr[0].Text, "Acme Travaux") || !strings.Contains(fr[0].HTML, "Au plaisir &lt;b&gt;!&lt;/b&gt;") {
		t.Fatalf("French email lacks the inviter's name or the escaped personal message:\n%s\n%s", fr[0].Text, fr[0].HTML)
	}
	if de := byTo["de.invitee@example.com"]; len(de) != 1 || de[0].ContentLanguage != "de" || !strings.Contains(de[0].Text, deToken) {
		t.Fatalf("German invitee: %+v", de)
	}
	if en := byTo["en.invitee@example.com"]; len(en) != 1 || en[0].ContentLanguage != "en" {
		t.Fatalf("Accept-Language fallback: %+v; want one email in en", en)
	}
	// Tokens never stay in the database once their email is out.
	var secrets int
	if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pending_secrets`).Scan(&secrets); err != nil || secrets != 0 {
		t.Fatalf("pending secrets left = %d, %v; want 0", secrets, err)
	}
}

// "My invitations" follows the team: an admin's verified email addresses
// invitations to the organization, a member's does not.
func TestReceivedFollowsRoles(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	client, samir, bob := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Samir"), apitest.NewUser(t, "Bob")
	acme, _ := s.CreateOrganization(t, client, "Acme", "client")
	plomb, _ := s.CreateOrganization(t, samir, "Plomberie", "subcontractor")
	inv, _, _ := invite(t, s, client, acme, bob.Email)

	r := post(t, s, samir, "/v1/organizations/"+plomb+"/member-invitations", map[string]any{"email": bob.Email, "role": "admin"})
	apitest.Expect(t, r, http.StatusCreated)
	r = post(t, s, bob, "/v1/member-invitations/"+r.JSON(t)["id"].(string)+"/accept", map[string]any{"token": r.JSON(t)["token"]})
	apitest.Expect(t, r, http.StatusOK)
	if got := list(t, s, samir, "/v1/organizations/"+plomb+"/invitations/received", r.Position); len(got) != 1 || got[0]["id"] != inv {
		t.Fatalf("with Bob as admin, My invitations = %v; want the invitation to his email", got)
	}
	r = s.Do(t, apitest.Request{Method: "PATCH", Path: "/v1/organizations/" + plomb + "/members/" + bob.Sub, Token: samir.Token, Body: map[string]any{"role": "member"}})
	apitest.Expect(t, r, http.StatusOK)
	if got := list(t, s, samir, "/v1/organizations/"+plomb+"/invitations/received", r.Position); len(got) != 0 {
		t.Fatalf("with Bob demoted to member, My invitations = %v; want none", got)
	}
	apitest.Expect(t, post(t, s, bob, "/v1/invitations/"+inv+"/accept", map[string]any{"organization_id": plomb}), http.StatusForbidden, "not_allowed")
	apitest.Expect(t, post(t, s, samir, "/v1/invitations/"+inv+"/accept", map[string]any{"organization_id": plomb}), http.StatusNotFound, "not_found")
}
