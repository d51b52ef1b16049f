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
