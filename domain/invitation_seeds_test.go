package domain_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"partners/domain"
)

// The invite form's contact details (issue 16, seed 004): optional, sealed
// with the invited person's key, repeated by a resend for its greeting.
func TestInvitationContact(t *testing.T) {
	w := newWorld()
	contact, err := domain.ParsePartnerContact("  Samir Haddad ", "Plomberie Haddad", "06 12 34 56 78")
	if err != nil {
		t.Fatal(err)
	}
	sealed := &domain.InvitationContact{Name: domain.PersonalOf(samir.EmailRef, "Samir Haddad"),
		Company: domain.PersonalOf(samir.EmailRef, "Plomberie Haddad"), Phone: domain.PersonalOf(samir.EmailRef, "+33612345678")}
	withContact := sentEv
	withContact.Contact = sealed
	send := func(c domain.PartnerContact) func(*domain.Invitation) ([]domain.Event, error) {
		return func(*domain.Invitation) ([]domain.Event, error) {
			return domain.DecideSendInvitation(&w.acme, domain.SendInvitation{TokenSend: domain.TokenSend{InvitationID: invID, Email: samir.Email,
				EmailRef: samir.EmailRef, TokenHash: "h1", Locale: "fr", Actor: claire, Now: t0, TTL: ttl}, Message: "hello", Contact: c})
		}
	}
	run(t, applyInv, []scenario[domain.Invitation]{
		{name: "OK with contact details, owned by the invited person", when: send(contact), then: []domain.Event{withContact}},
		{name: "OK without any: no contact at all", when: send(domain.PartnerContact{}), then: []domain.Event{sentEv}},
		{name: "OK a resend repeats the contact", given: []domain.Event{withContact}, when: func(i *domain.Invitation) ([]domain.Event, error) {
			return domain.DecideResendInvitation(i, &w.acme, domain.ResendInvitation{TokenHash: "h2", Actor: claire, Now: t0, TTL: ttl})
		}, then: []domain.Event{domain.InvitationResent{InvitationID: invID, InviterOrganizationID: orgA, InviterName: "Acme",
			InviterSide: domain.SideClient, InviteeSide: domain.SideSubcontractor, Email: samir.EmailPersonal(),
			Message: domain.PersonalOf(samir.EmailRef, "hello"), Contact: sealed, TokenHash: "h2", ExpiresAt: t0.Add(ttl), Locale: "fr"}}},
	})

	long := strings.Repeat("x", 201)
	for _, tc := range []struct {
		case_, name, company, phone string
		field                       string
	}{
		{"OK", "Samir", "", "", ""},
		{"OK an international phone", "", "", "+49 30 901820", ""},
		{"ErrPhone", "", "", "12", "contact.phone"},
		{"ErrPhoneLetters", "", "", "06 12 AB 56 78", "contact.phone"},
		{"ErrNameControl", "Samir\nBcc", "", "", "contact.name"},
		{"ErrNameTooLong", long, "", "", "contact.name"},
		{"ErrCompanyTooLong", "", long, "", "contact.company"},
	} {
		t.Run("Parse/"+tc.case_, func(t *testing.T) {
			_, err := domain.ParsePartnerContact(tc.name, tc.company, tc.phone)
			var fields []string
			var de *domain.Error
			if errors.As(err, &de) {
				for _, f := range de.Fields {
					fields = append(fields, f.Field)
				}
			}
			if tc.field == "" && err != nil || tc.field != "" && !reflect.DeepEqual(fields, []string{tc.field}) {
				t.Fatalf("err = %v (fields %v); want field %q", err, fields, tc.field)
			}
		})
	}
	if c, _ := domain.ParsePartnerContact(" ", "", " "); !c.IsZero() {
		t.Fatalf("blank contact = %+v; want none", c)
	}
}

// An InvitationSent stored before contacts existed still reads, without a
// contact; one with a contact reads it back.
func TestInvitationSentWithoutContactStillReads(t *testing.T) {
	old := `{"invitation_id":"` + invID.String() + `","inviter_organization_id":"` + orgA.String() + `","inviter_name":"Acme",
		"inviter_side":"client","invitee_side":"subcontractor","email":{"pd":"ref:s","v":"s@x.fr"},"email_ref":"ref:s",
		"message":{"pd":"ref:s","v":""},"token_hash":"h","expires_at":"2026-03-31T09:00:00Z","locale":"fr"}`
	ev, err := domain.DecodeEvent("InvitationSent", 2, json.RawMessage(old))
	if err != nil {
		t.Fatal(err)
	}
	if e := ev.(domain.InvitationSent); e.Contact != nil || e.InviterName != "Acme" {
		t.Fatalf("old event = %+v; want no contact", e)
	}
	withContact := sentEv
	withContact.Contact = &domain.InvitationContact{Name: domain.PersonalOf(samir.EmailRef, "Samir"), Company: domain.PersonalOf(samir.EmailRef, ""),
		Phone: domain.PersonalOf(samir.EmailRef, "+33612345678")}
	b, err := json.Marshal(withContact)
	if err != nil {
		t.Fatal(err)
	}
	back, err := domain.DecodeEvent("InvitationSent", 2, b)
	if err != nil || !reflect.DeepEqual(back, withContact) {
		t.Fatalf("round trip = %+v, %v; want %+v", back, err, withContact)
	}
	var i domain.Invitation
	i.Apply(back)
	if i.Contact == nil || i.Contact.Phone.Value != "+33612345678" {
		t.Fatalf("state's contact = %+v", i.Contact)
	}
}

// The inviter hears back (issue 16): whoever last sent the invitation, and
// only them, is told of an accept or a decline, in the invitation's
// language; a sender unknown or forgotten is told nothing.
func TestInviterHearsBack(t *testing.T) {
	w := newWorld()
	sentByClaire := func(i *domain.Invitation, e domain.Event) { i.ApplyRecorded(e, claire.UserID, claire.EmailPersonal()) }
	accepted := domain.InvitationAccepted{InvitationID: invID, InviterOrganizationID: orgA, OrganizationID: orgB,
		OrganizationName: "Plomberie", AcceptedBy: "samir", ClientID: orgA, SubcontractorID: orgB, Via: "email"}
	declined := domain.InvitationDeclined{InvitationID: invID, InviterOrganizationID: orgA, OrganizationID: orgB,
		DeclinedBy: "samir", Reason: domain.PersonalOf(samir.EmailRef, "")}
	notice := func(answer domain.InvitationStatus, sender domain.Actor, locale string) domain.InvitationAnswerNoticeSent {
		return domain.InvitationAnswerNoticeSent{InvitationID: invID, InviterOrganizationID: orgA, OrganizationID: orgB, OrganizationName: "Plomberie",
			Answer: answer, SenderID: sender.UserID, SenderEmail: sender.EmailPersonal(), Email: samir.EmailPersonal(), Locale: locale}
	}
	accept := func(i *domain.Invitation) ([]domain.Event, error) {
		return domain.DecideAcceptInvitation(i, &w.plomberie, domain.AcceptInvitation{Actor: samir, Now: t0})
	}
	decline := func(i *domain.Invitation) ([]domain.Event, error) {
		return domain.DecideDeclineInvitation(i, &w.plomberie, domain.DeclineInvitation{Actor: samir, Now: t0})
	}
	resentByMarc := domain.InvitationResent{InvitationID: invID, InviterOrganizationID: orgA, TokenHash: "h2", ExpiresAt: t0.Add(ttl), Locale: "de"}
	run(t, sentByClaire, []scenario[domain.Invitation]{
		{name: "OK accepted: the sender is told", given: []domain.Event{sentEv}, when: accept,
			then: []domain.Event{accepted, notice(domain.StatusAccepted, claire, "fr")}},
		{name: "OK declined: the sender is told", given: []domain.Event{sentEv}, when: decline,
			then: []domain.Event{declined, notice(domain.StatusDeclined, claire, "fr")}},
		{name: "OK after a resend, whoever resent it is told, in its language", given: []domain.Event{sentEv},
			when: func(i *domain.Invitation) ([]domain.Event, error) {
				i.ApplyRecorded(resentByMarc, marc.UserID, marc.EmailPersonal())
				return accept(i)
			}, then: []domain.Event{accepted, notice(domain.StatusAccepted, marc, "de")}},
	})
	// Events replayed without their actors (Apply alone) know no sender.
	run(t, applyInv, []scenario[domain.Invitation]{
		{name: "OK no sender known: the answer alone", given: []domain.Event{sentEv}, when: accept, then: []domain.Event{accepted}},
	})
	var forgotten domain.Invitation
	forgotten.ApplyRecorded(sentEv, "claire", domain.ForgottenOf(claire.EmailRef))
	if evs, err := decline(&forgotten); err != nil || len(evs) != 1 {
		t.Fatalf("decline with a forgotten sender = %+v, %v; want the decline alone", evs, err)
	}
	// The notice touches the inviter alone: the answering organization's
	// history never holds the sender's email.
	if got := notice(domain.StatusAccepted, claire, "fr").OrganizationIDs(); !reflect.DeepEqual(got, []uuid.UUID{orgA}) {
		t.Fatalf("notice touches %v; want only the inviter", got)
	}
}
