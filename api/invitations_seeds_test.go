package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"partners/api/auth"
	"partners/internal/apitest"
	"partners/internal/pgtest"
	"partners/notify/mail"
	"partners/notify/mail/mailtest"
)

// keysOf lists a JSON object's keys, sorted.
func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// The window at sign-up (issue 16, seed 000): before Samir has any
// organization he sees the pending partner invitations sent to his
// verified email, with who invites and on which side he would be; a claim
// by someone else does not hide one; answered, revoked and expired ones
// are gone; an unverified email sees nothing.
func TestSignUpWindow(t *testing.T) {
	clock := apitest.NewClock()
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{Now: clock.Now})
	claire, nadia, samir, mallory, bob := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Nadia"), apitest.NewUser(t, "Samir"),
		apitest.NewUser(t, "Mallory"), apitest.NewUser(t, "Bob")
	acme, _ := s.CreateOrganization(t, claire, "Acme Travaux", "client")
	nord, _ := s.CreateOrganization(t, nadia, "Sous-traitance Nord", "subcontractor")
	fromAcme, token, _ := invite(t, s, claire, acme, strings.ToUpper(samir.Email), map[string]any{"message": "Bonjour Samir"})
	clock.Advance(time.Second)
	fromNord, _, pos := invite(t, s, nadia, nord, samir.Email, map[string]any{"message": "Hallo"})

	window := list(t, s, samir, "/v1/me/invitations", pos)
	if len(window) != 2 || window[0]["id"] != fromNord || window[1]["id"] != fromAcme {
		t.Fatalf("Samir's window = %v; want Nord's invitation, then Acme's", window)
	}
	if got, want := keysOf(window[1]), []string{"expires_at", "id", "invitee_side", "inviter", "message", "sent_at"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("a row's fields = %v; want %v", got, want)
	}
	if in := window[1]["inviter"].(map[string]any); in["id"] != acme || in["name"] != "Acme Travaux" || in["side"] != "client" ||
		window[1]["invitee_side"] != "subcontractor" || window[1]["message"] != "Bonjour Samir" {
		t.Fatalf("Acme's row = %v; want Acme Travaux (client) inviting a subcontractor, with its message", window[1])
	}
	if window[0]["invitee_side"] != "client" {
		t.Fatalf("Nord's row = %v; want Samir invited as a client", window[0])
	}

	// Paged like every list.
	page := s.Get(t, samir, "/v1/me/invitations?limit=1", 0).JSON(t)
	next, _ := page["next_cursor"].(string)
	if items := page["items"].([]any); len(items) != 1 || next == "" {
		t.Fatalf("first page = %v; want one row and a cursor", page)
	}
	page = s.Get(t, samir, "/v1/me/invitations?limit=1&cursor="+url.QueryEscape(next), 0).JSON(t)
	if items := page["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != fromAcme || page["next_cursor"] != nil {
		t.Fatalf("second page = %v; want Acme's row, the last", page)
	}
	apitest.Expect(t, s.Get(t, samir, "/v1/me/invitations?cursor=nope", 0), http.StatusUnprocessableEntity, "validation_failed")

	// An email the token does not vouch for addresses nothing; others see nothing.
	unverified := samir
	unverified.Token = apitest.TokenOf(t, auth.TokenSpec{Subject: samir.Sub, Email: samir.Email, Name: samir.Name})
	if got := list(t, s, unverified, "/v1/me/invitations", pos); len(got) != 0 {
		t.Fatalf("with an unverified email, the window = %v; want none", got)
	}
	if got := list(t, s, bob, "/v1/me/invitations", pos); len(got) != 0 {
		t.Fatalf("Bob's window = %v; want none", got)
	}

	// A claim does not take it from its email (DOMAIN 1.3); a revoked one is gone.
	evil, _ := s.CreateOrganization(t, mallory, "Mallory SARL", "subcontractor")
	claim := post(t, s, mallory, "/v1/invitations/claim", map[string]any{"token": token, "organization_id": evil})
	apitest.Expect(t, claim, http.StatusOK)
	if got := list(t, s, samir, "/v1/me/invitations", claim.Position); len(got) != 2 {
		t.Fatalf("after Mallory's claim, Samir's window = %v; want both", got)
	}
	if got := list(t, s, mallory, "/v1/me/invitations", claim.Position); len(got) != 0 {
		t.Fatalf("the claimer's window = %v; want none (it is not their email)", got)
	}
	rev := post(t, s, nadia, "/v1/invitations/"+fromNord+"/revoke", nil)
	apitest.Expect(t, rev, http.StatusOK)
	if got := list(t, s, samir, "/v1/me/invitations", rev.Position); len(got) != 1 || got[0]["id"] != fromAcme {
		t.Fatalf("after the revocation, the window = %v; want Acme's alone", got)
	}

	// He creates his organization on the invitee's side and accepts.
	plomb, _ := s.CreateOrganization(t, samir, "Samir Plomberie", "subcontractor")
	acc := post(t, s, samir, "/v1/invitations/"+fromAcme+"/accept", map[string]any{"organization_id": plomb})
	apitest.Expect(t, acc, http.StatusOK)
	if got := list(t, s, samir, "/v1/me/invitations", acc.Position); len(got) != 0 {
		t.Fatalf("after accepting, the window = %v; want none", got)
	}

	// Expired: gone without any event.
	late, _, pos := invite(t, s, claire, acme, bob.Email)
	if got := list(t, s, bob, "/v1/me/invitations", pos); len(got) != 1 || got[0]["id"] != late {
		t.Fatalf("Bob's window = %v; want the new invitation", got)
	}
	clock.Advance(31 * 24 * time.Hour)
	if got := list(t, s, bob, "/v1/me/invitations", pos); len(got) != 0 {
		t.Fatalf("after the expiry, Bob's window = %v; want none", got)
	}
}

// The invite form's contact details (issue 16, seed 004): optional,
// the phone normalised to E.164, shown in "Invitations sent" and nowhere
// an answering organization reads.
func TestInvitationContactDetails(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	claire, samir, mallory := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Samir"), apitest.NewUser(t, "Mallory")
	acme, _ := s.CreateOrganization(t, claire, "Acme Travaux", "client")
	path := "/v1/organizations/" + acme + "/invitations"

	r := post(t, s, claire, path, map[string]any{"email": samir.Email,
		"contact": map[string]any{"name": " Samir Haddad ", "company": "Plomberie Haddad", "phone": "06 12 34 56 78"}})
	apitest.Expect(t, r, http.StatusCreated)
	want := map[string]any{"name": "Samir Haddad", "company": "Plomberie Haddad", "phone": "+33612345678"}
	if got := r.JSON(t)["contact"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("the invitation's contact = %v; want %v", got, want)
	}
	id, token := r.JSON(t)["id"].(string), r.JSON(t)["token"].(string)
	phoneOnly := post(t, s, claire, path, map[string]any{"email": "office@example.org", "contact": map[string]any{"phone": "+49 30 901820"}})
	apitest.Expect(t, phoneOnly, http.StatusCreated)
	bare := post(t, s, claire, path, map[string]any{"email": "nobody@example.org", "contact": map[string]any{}})
	apitest.Expect(t, bare, http.StatusCreated)

	// Refused, naming each field at fault.
	bad := post(t, s, claire, path, map[string]any{"email": "not an email", "contact": map[string]any{"phone": "12"}})
	apitest.Expect(t, bad, http.StatusUnprocessableEntity, "validation_failed")
	for _, f := range []string{`"field":"email"`, `"field":"contact.phone"`} {
		if !strings.Contains(string(bad.Body), f) {
			t.Fatalf("refusal = %s; want %s", bad.Body, f)
		}
	}
	apitest.Expect(t, post(t, s, claire, path, map[string]any{"email": "x@example.org", "contact": map[string]any{"name": "A\nB"}}),
		http.StatusUnprocessableEntity, "validation_failed")
	if r := post(t, s, claire, path, map[string]any{"email": "x@example.org", "contact": "Samir"}); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(r.Body), `"field":"contact"`) {
		t.Fatalf("contact as a string answered %d %s; want 422 on contact", r.Status, r.Body)
	}

	// "Invitations sent" shows them; a part not given is null, no contact is null.
	pos := bare.Position
	if got := sentRow(t, s, claire, acme, id, pos)["contact"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("sent row's contact = %v; want %v", got, want)
	}
	if got := sentRow(t, s, claire, acme, phoneOnly.JSON(t)["id"].(string), pos)["contact"]; !reflect.DeepEqual(got,
		map[string]any{"name": nil, "company": nil, "phone": "+4930901820"}) {
		t.Fatalf("phone-only contact = %v", got)
	}
	if row := sentRow(t, s, claire, acme, bare.JSON(t)["id"].(string), pos); row["contact"] != nil {
		t.Fatalf("an empty contact = %v; want null", row["contact"])
	}
	if v, ok := sentRow(t, s, claire, acme, id, pos)["contact"]; !ok || v == nil {
		t.Fatal("the row lacks its contact")
	}

	// What others read of the invitation holds none of it.
	evil, _ := s.CreateOrganization(t, mallory, "Mallory SARL", "subcontractor")
	claim := post(t, s, mallory, "/v1/invitations/claim", map[string]any{"token": token, "organization_id": evil})
	apitest.Expect(t, claim, http.StatusOK)
	for what, r := range map[string]apitest.Response{
		"the preview":            previewOf(t, s, token),
		"the claim":              claim,
		"the claimer's list":     s.Get(t, mallory, "/v1/organizations/"+evil+"/invitations/received", claim.Position),
		"the addressee's window": s.Get(t, samir, "/v1/me/invitations", claim.Position),
	} {
		apitest.Expect(t, r, http.StatusOK)
		if bytes.Contains(r.Body, []byte("Haddad")) || bytes.Contains(r.Body, []byte("+33612345678")) {
			t.Fatalf("%s shows the contact details: %s", what, r.Body)
		}
	}
	// A resend keeps them.
	res := post(t, s, claire, "/v1/invitations/"+id+"/resend", nil)
	apitest.Expect(t, res, http.StatusOK)
	if got := res.JSON(t)["contact"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("resend's contact = %v; want %v", got, want)
	}
}

// The partner's details pane (issue 16, seed 004): each partner sees the
// other's name, side, SIRET, since when, and its owners and admins as
// contacts; anyone else gets what an unknown id gets; as of an instant, it
// is what was true then.
func TestPartnerDetailsPane(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	claire, dana, marc, samir, olga := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Dana"), apitest.NewUser(t, "Marc"),
		apitest.NewUser(t, "Samir"), apitest.NewUser(t, "Olga")
	acme, _ := s.CreateOrganization(t, claire, "Acme Travaux", "client")
	join := func(u apitest.User, role string) int64 {
		r := post(t, s, claire, "/v1/organizations/"+acme+"/member-invitations", map[string]any{"email": u.Email, "role": role})
		apitest.Expect(t, r, http.StatusCreated)
		r = post(t, s, u, "/v1/member-invitations/"+r.JSON(t)["id"].(string)+"/accept", map[string]any{"token": r.JSON(t)["token"]})
		apitest.Expect(t, r, http.StatusOK)
		return r.Position
	}
	join(marc, "member")
	r := post(t, s, samir, "/v1/organizations", map[string]any{"name": "Samir Plomberie", "side": "subcontractor", "siret": "44203918700012"})
	apitest.Expect(t, r, http.StatusCreated)
	plomb := r.JSON(t)["id"].(string)
	other, _ := s.CreateOrganization(t, olga, "Olga Bâtiment", "client")
	inv, _, _ := invite(t, s, claire, acme, samir.Email)

	before := time.Now().UTC()
	time.Sleep(20 * time.Millisecond)
	acc := post(t, s, samir, "/v1/invitations/"+inv+"/accept", map[string]any{"organization_id": plomb})
	apitest.Expect(t, acc, http.StatusOK)
	time.Sleep(20 * time.Millisecond)
	between := time.Now().UTC()
	time.Sleep(20 * time.Millisecond)
	pos := join(dana, "admin")

	pane := s.Get(t, samir, "/v1/organizations/"+plomb+"/partners/"+acme, pos)
	apitest.Expect(t, pane, http.StatusOK)
	var v struct {
		OrganizationID string              `json:"organization_id"`
		Name           string              `json:"name"`
		Siret          *string             `json:"siret"`
		Since          time.Time           `json:"since"`
		InvitationID   string              `json:"invitation_id"`
		Contacts       []map[string]string `json:"contacts"`
	}
	pane.Decode(t, &v)
	if v.OrganizationID != acme || v.Name != "Acme Travaux" || v.Siret != nil || v.InvitationID != inv || v.Since.IsZero() {
		t.Fatalf("Acme's pane = %s", pane.Body)
	}
	wantContacts := []map[string]string{{"name": "Claire", "email": claire.Email, "role": "owner"}, {"name": "Dana", "email": dana.Email, "role": "admin"}}
	if !reflect.DeepEqual(v.Contacts, wantContacts) {
		t.Fatalf("Acme's contacts = %v; want its owner, then its admin (not Marc, a member)", v.Contacts)
	}
	if m := pane.JSON(t); m["side"] != "client" {
		t.Fatalf("Acme's side = %v", m["side"])
	}
	// The other way round, for any member of the partner.
	back := s.Get(t, marc, "/v1/organizations/"+acme+"/partners/"+plomb, pos).JSON(t)
	if back["name"] != "Samir Plomberie" || back["siret"] != "44203918700012" || back["side"] != "subcontractor" ||
		!reflect.DeepEqual(back["contacts"], []any{map[string]any{"name": "Samir", "email": samir.Email, "role": "owner"}}) {
		t.Fatalf("Samir Plomberie's pane = %v", back)
	}

	// Nobody else: a non-partner, an unknown id and a malformed one answer alike.
	notPartner := s.Get(t, olga, "/v1/organizations/"+other+"/partners/"+acme, pos)
	unknown := s.Get(t, olga, "/v1/organizations/"+other+"/partners/"+uuid.NewString(), pos)
	malformed := s.Get(t, olga, "/v1/organizations/"+other+"/partners/nope", pos)
	apitest.Expect(t, notPartner, http.StatusNotFound, "not_found")
	for _, r := range []apitest.Response{unknown, malformed} {
		if r.Status != notPartner.Status || !bytes.Equal(r.Body, notPartner.Body) {
			t.Fatalf("a non-partner answers %d %s but %d %s", notPartner.Status, notPartner.Body, r.Status, r.Body)
		}
	}
	apitest.Expect(t, s.Get(t, samir, "/v1/organizations/"+plomb+"/partners/"+plomb, pos), http.StatusNotFound, "not_found")
	apitest.Expect(t, s.Get(t, olga, "/v1/organizations/"+acme+"/partners/"+plomb, pos), http.StatusNotFound, "not_found")

	// As of an instant: before the partnership nothing; between the
	// acceptance and Dana's arrival, Claire alone.
	asOf := func(at time.Time) apitest.Response {
		return s.Get(t, samir, "/v1/organizations/"+plomb+"/partners/"+acme+"?as_of="+at.Format(time.RFC3339Nano), 0)
	}
	apitest.Expect(t, asOf(before), http.StatusNotFound, "not_found")
	then := asOf(between)
	apitest.Expect(t, then, http.StatusOK)
	var w struct {
		Contacts []map[string]string `json:"contacts"`
		Name     string              `json:"name"`
	}
	then.Decode(t, &w)
	if w.Name != "Acme Travaux" || !reflect.DeepEqual(w.Contacts, wantContacts[:1]) {
		t.Fatalf("Acme's pane as of %s = %s; want Claire alone", between, then.Body)
	}
	now := asOf(time.Now().UTC())
	apitest.Expect(t, now, http.StatusOK)
	now.Decode(t, &w)
	if !reflect.DeepEqual(w.Contacts, wantContacts) {
		t.Fatalf("as of now = %s; want what the live pane says", now.Body)
	}
	apitest.Expect(t, s.Get(t, samir, "/v1/organizations/"+plomb+"/partners/"+acme+"?as_of=yesterday", 0), http.StatusUnprocessableEntity, "validation_failed")
}

// The inviter hears back (issue 16): whoever sent the invitation, and only
// them, is told by email of an accept or a decline, in the invitation's
// language; the contact named on the form is greeted in the invitation;
// the answering organization never reads the sender's email.
func TestInviterHearsBack(t *testing.T) {
	smtp := mailtest.NewServer(t)
	sender, err := mail.NewSMTPSender(smtp.URL, "partners@example.com", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{Mail: sender})
	claire, dana, samir, yann := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Dana"), apitest.NewUser(t, "Samir"), apitest.NewUser(t, "Yann")
	acme, _ := s.CreateOrganization(t, claire, "Acme Travaux", "client")
	r := post(t, s, claire, "/v1/organizations/"+acme+"/member-invitations", map[string]any{"email": dana.Email, "role": "admin"})
	apitest.Expect(t, r, http.StatusCreated)
	apitest.Expect(t, post(t, s, dana, "/v1/member-invitations/"+r.JSON(t)["id"].(string)+"/accept", map[string]any{"token": r.JSON(t)["token"]}), http.StatusOK)
	plomb, _ := s.CreateOrganization(t, samir, "Samir Plomberie", "subcontractor")
	ydb, _ := s.CreateOrganization(t, yann, "YDB", "subcontractor")

	toSamir, _, _ := invite(t, s, claire, acme, samir.Email, map[string]any{"locale": "fr", "contact": map[string]any{"name": "Samir Haddad"}})
	toYann, _, _ := invite(t, s, dana, acme, yann.Email, map[string]any{"locale": "de"})
	acc := post(t, s, samir, "/v1/invitations/"+toSamir+"/accept", map[string]any{"organization_id": plomb})
	apitest.Expect(t, acc, http.StatusOK)
	dec := post(t, s, yann, "/v1/invitations/"+toYann+"/decline", map[string]any{"organization_id": ydb, "reason": "pas maintenant"})
	apitest.Expect(t, dec, http.StatusOK)

	// Dana's own invitation to the team, two partner invitations, two notices.
	smtp.WaitFor(t, 5, 20*time.Second)
	time.Sleep(500 * time.Millisecond) // nothing more may arrive
	byTo := map[string][]mailtest.Received{}
	for _, m := range smtp.Messages() {
		byTo[m.To[0]] = append(byTo[m.To[0]], m)
	}
	if len(byTo) != 4 || len(byTo[claire.Email]) != 1 || len(byTo[dana.Email]) != 2 || len(byTo[samir.Email]) != 1 || len(byTo[yann.Email]) != 1 {
		t.Fatalf("emails by recipient = %v; want one to each invitee, the notices to Claire and Dana (besides Dana's team invitation)", keysOfMail(byTo))
	}
	if inv := byTo[samir.Email][0]; !strings.Contains(inv.Text, "Bonjour Samir Haddad,") {
		t.Fatalf("the invitation does not greet its contact:\n%s", inv.Text)
	}
	yes := byTo[claire.Email][0]
	if yes.ContentLanguage != "fr" || !strings.Contains(yes.Text, "Samir Plomberie a accepté votre invitation de partenaire envoyée à "+samir.Email) ||
		!strings.Contains(yes.Text, apitest.PublicURL+"/organizations/"+acme+"/partners/"+plomb) {
		t.Fatalf("Claire's notice (%s):\n%s", yes.ContentLanguage, yes.Text)
	}
	no := byTo[dana.Email][1]
	if strings.Contains(byTo[dana.Email][0].Subject, "YDB") {
		no = byTo[dana.Email][0]
	}
	if no.ContentLanguage != "de" || !strings.Contains(no.Text, "YDB hat Ihre Partnereinladung an "+yann.Email+" abgelehnt") ||
		!strings.Contains(no.Text, apitest.PublicURL+"/organizations/"+acme+"/invitations/sent") {
		t.Fatalf("Dana's notice (%s):\n%s", no.ContentLanguage, no.Text)
	}
	var ev string
	if err := s.Pool.QueryRow(context.Background(), `SELECT event_id::text FROM events WHERE event_type = 'InvitationAnswerNoticeSent'
		AND data->>'invitation_id' = $1`, toSamir).Scan(&ev); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(yes.MessageID, ev+".sender@") {
		t.Fatalf("Message-ID = %s; want the notice event's (%s), stable", yes.MessageID, ev)
	}
	// The answering organizations never read who sent it.
	for _, c := range []struct {
		u         apitest.User
		org, from string
		r         apitest.Response
	}{{samir, plomb, claire.Email, acc}, {yann, ydb, dana.Email, dec}} {
		audit := s.Get(t, c.u, "/v1/organizations/"+c.org+"/audit", c.r.Position)
		apitest.Expect(t, audit, http.StatusOK)
		if bytes.Contains(audit.Body, []byte(c.from)) || bytes.Contains(c.r.Body, []byte(c.from)) || bytes.Contains(audit.Body, []byte("InvitationAnswerNoticeSent")) {
			t.Fatalf("%s reads the sender's email or the notice: %s", c.org, audit.Body)
		}
	}
	// The inviter's own audit log records the notice.
	if audit := s.Get(t, claire, "/v1/organizations/"+acme+"/audit", dec.Position); !bytes.Contains(audit.Body, []byte("InvitationAnswerNoticeSent")) {
		t.Fatalf("the inviter's audit log lacks the notice: %s", audit.Body)
	}
}

func keysOfMail(m map[string][]mailtest.Received) []string {
	var ks []string
	for k, v := range m {
		ks = append(ks, k+"×"+string(rune('0'+len(v))))
	}
	slices.Sort(ks)
	return ks
}
