package notify

import (
	"reflect"
	"testing"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
	"partners/notify/mail"
)

// A claim's notice goes to whoever sent the invitation, in the invitation's
// language, with the way to revoke it; the invited email shows only while
// it is not forgotten.
func TestClaimNoticeRule(t *testing.T) {
	const base = "https://app.partners.test"
	acme := uuid.New()
	claire := domain.PersonalOf("ref:claire", "claire@acme.fr")
	ev := domain.InvitationClaimNoticeSent{InvitationID: uuid.New(), InviterOrganizationID: acme, OrganizationID: uuid.New(),
		OrganizationName: "Mallory SARL", SenderID: "claire", SenderEmail: claire,
		Email: domain.PersonalOf("ref:samir", "samir@plomberie.fr"), Locale: "fr"}
	want := Mail{Recipient: "sender", To: claire, Kind: mail.KindInvitationClaimed, Locale: mail.LocaleFR,
		Data: mail.Data{OrganizationName: "Mallory SARL", Email: "samir@plomberie.fr", Link: base + "/organizations/" + acme.String() + "/invitations/sent"}}
	if got := ruleFor("InvitationClaimNoticeSent")(&eventstore.Event{Data: ev}, base); !reflect.DeepEqual(got, []Mail{want}) {
		t.Fatalf("mails =\n%+v\nwant\n%+v", got, []Mail{want})
	}
	ev.Email, ev.Locale = domain.ForgottenOf("ref:samir"), "xx"
	want.Data.Email, want.Locale = "", mail.LocaleEN
	if got := ruleFor("InvitationClaimNoticeSent")(&eventstore.Event{Data: ev}, base); !reflect.DeepEqual(got, []Mail{want}) {
		t.Fatalf("with the invited email forgotten: mails =\n%+v\nwant\n%+v", got, []Mail{want})
	}
	if ruleFor("InvitationClaimed") != nil {
		t.Fatal("InvitationClaimed asks for an email: it touches the claimer, who must not be named the sender")
	}
}

// The answer's notice (issue 16) goes to whoever sent the invitation, in
// its language: an accept links to the new partner, a decline to the
// sender's "Invitations sent".
func TestAnswerNoticeRule(t *testing.T) {
	const base = "https://app.partners.test"
	acme, plomb := uuid.New(), uuid.New()
	claire := domain.PersonalOf("ref:claire", "claire@acme.fr")
	ev := domain.InvitationAnswerNoticeSent{InvitationID: uuid.New(), InviterOrganizationID: acme, OrganizationID: plomb,
		OrganizationName: "Samir Plomberie", Answer: domain.StatusAccepted, SenderID: "claire", SenderEmail: claire,
		Email: domain.PersonalOf("ref:samir", "samir@plomberie.fr"), Locale: "de"}
	want := Mail{Recipient: "sender", To: claire, Kind: mail.KindInvitationAccepted, Locale: mail.LocaleDE,
		Data: mail.Data{OrganizationName: "Samir Plomberie", Email: "samir@plomberie.fr", Link: base + "/organizations/" + acme.String() + "/partners/" + plomb.String()}}
	if got := ruleFor("InvitationAnswerNoticeSent")(&eventstore.Event{Data: ev}, base); !reflect.DeepEqual(got, []Mail{want}) {
		t.Fatalf("accepted: mails =\n%+v\nwant\n%+v", got, []Mail{want})
	}
	ev.Answer, ev.Email = domain.StatusDeclined, domain.ForgottenOf("ref:samir")
	want.Kind, want.Data.Email, want.Data.Link = mail.KindInvitationDeclined, "", base+"/organizations/"+acme.String()+"/invitations/sent"
	if got := ruleFor("InvitationAnswerNoticeSent")(&eventstore.Event{Data: ev}, base); !reflect.DeepEqual(got, []Mail{want}) {
		t.Fatalf("declined, the invited email forgotten: mails =\n%+v\nwant\n%+v", got, []Mail{want})
	}
	for _, answer := range []string{"InvitationAccepted", "InvitationDeclined"} {
		if ruleFor(answer) != nil {
			t.Fatalf("%s asks for an email: it touches the answering organization, who must not be named the sender", answer)
		}
	}
}

// The invitation greets the contact the inviter named (seed 004), on the
// first email and on a resend; a forgotten name greets nobody.
func TestPartnerInvitationGreetsTheContact(t *testing.T) {
	const base = "https://app.partners.test"
	ref := domain.PersonRef("ref:samir")
	contact := &domain.InvitationContact{Name: domain.PersonalOf(ref, "Samir Haddad"), Company: domain.PersonalOf(ref, ""), Phone: domain.PersonalOf(ref, "")}
	sent := domain.InvitationSent{InvitationID: uuid.New(), InviterName: "Acme", InviterSide: domain.SideClient, InviteeSide: domain.SideSubcontractor,
		Email: domain.PersonalOf(ref, "samir@plomberie.fr"), Message: domain.PersonalOf(ref, "Bonjour"), Locale: "fr", Contact: contact}
	resent := domain.InvitationResent{InvitationID: sent.InvitationID, InviterName: "Acme", InviterSide: domain.SideClient,
		InviteeSide: domain.SideSubcontractor, Email: sent.Email, Message: sent.Message, Locale: "fr", Contact: contact}
	for _, ev := range []domain.Event{sent, resent} {
		got := ruleFor(ev.EventType())(&eventstore.Event{Data: ev}, base)
		if len(got) != 1 || got[0].Data.RecipientName != "Samir Haddad" || got[0].Data.Message != "Bonjour" {
			t.Fatalf("%s: mails = %+v; want Samir Haddad greeted", ev.EventType(), got)
		}
	}
	sent.Contact = &domain.InvitationContact{Name: domain.ForgottenOf(ref)}
	if got := ruleFor("InvitationSent")(&eventstore.Event{Data: sent}, base); got[0].Data.RecipientName != "" {
		t.Fatalf("a forgotten contact is greeted: %+v", got[0].Data)
	}
	sent.Contact = nil
	if got := ruleFor("InvitationSent")(&eventstore.Event{Data: sent}, base); got[0].Data.RecipientName != "" {
		t.Fatalf("no contact, yet someone is greeted: %+v", got[0].Data)
	}
}
