package notify

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
	"partners/notify/mail"
)

func TestTeamRules(t *testing.T) {
	t.Parallel()
	const base = "https://app.partners.test"
	org := uuid.New()
	expires := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	ref := domain.PersonRef("ref:nina@example.com")
	inviterRef := domain.PersonRef("ref:olivia@acme.fr")
	email := domain.PersonalOf(ref, "nina@example.com")
	olivia := domain.PersonalOf(inviterRef, "Olivia Martin")
	for _, tc := range []struct {
		name  string
		event domain.Event
		want  Mail
		shows []string
	}{
		{"MemberInvitationSent: the colleague, in the invitation's language",
			domain.MemberInvitationSent{InvitationID: uuid.New(), OrganizationID: org, OrganizationName: "Acme Travaux", InviterName: olivia,
				Email: email, EmailRef: ref, Role: domain.RoleAdmin, TokenHash: "h", ExpiresAt: expires, Locale: "fr"},
			Mail{Recipient: "invitee", To: email, Kind: mail.KindMemberInvitation, Locale: mail.LocaleFR,
				Data: mail.Data{OrganizationName: "Acme Travaux", InviterName: "Olivia Martin", Role: "admin",
					Link: base + "/member-invitations/" + SecretPlaceholder, ExpiresAt: expires}},
			[]string{"Acme Travaux", "Olivia Martin"}},
		{"MemberInvitationSent: an inviter without a name is the organization",
			domain.MemberInvitationSent{OrganizationID: org, OrganizationName: "Acme Travaux", Email: email, EmailRef: ref,
				Role: domain.RoleMember, ExpiresAt: expires, Locale: "it"},
			Mail{Recipient: "invitee", To: email, Kind: mail.KindMemberInvitation, Locale: mail.LocaleEN,
				Data: mail.Data{OrganizationName: "Acme Travaux", InviterName: "Acme Travaux", Role: "member",
					Link: base + "/member-invitations/" + SecretPlaceholder, ExpiresAt: expires}},
			[]string{"Acme Travaux"}},
		{"AccountantInvitationSent: the accountant, with the personal message",
			domain.AccountantInvitationSent{OrganizationID: org, OrganizationName: "Always Clean", InviterName: olivia, Email: email, EmailRef: ref,
				Message: domain.PersonalOf(ref, "Bonjour,\nvoici l'accès <comptable>."), ExpiresAt: expires, Locale: "de"},
			Mail{Recipient: "accountant", To: email, Kind: mail.KindAccountantInvitation, Locale: mail.LocaleDE,
				Data: mail.Data{OrganizationName: "Always Clean", InviterName: "Olivia Martin", Message: "Bonjour,\nvoici l'accès <comptable>.",
					Link: base + "/accountant-invitations/" + SecretPlaceholder, ExpiresAt: expires}},
			[]string{"Always Clean", "Olivia Martin", "voici l'accès <comptable>."}},
		{"AccountantInvitationSent: a forgotten inviter and message show nothing of them",
			domain.AccountantInvitationSent{OrganizationID: org, OrganizationName: "Always Clean", InviterName: domain.ForgottenOf(inviterRef),
				Email: email, EmailRef: ref, Message: domain.ForgottenOf(ref), ExpiresAt: expires, Locale: "en"},
			Mail{Recipient: "accountant", To: email, Kind: mail.KindAccountantInvitation, Locale: mail.LocaleEN,
				Data: mail.Data{OrganizationName: "Always Clean", InviterName: "Always Clean",
					Link: base + "/accountant-invitations/" + SecretPlaceholder, ExpiresAt: expires}},
			[]string{"Always Clean"}},
		{"CollaboratorInvited: the activation, with the permissions",
			domain.CollaboratorInvited{OrganizationID: org, OrganizationName: "EMS Proto", FirstName: domain.PersonalOf(ref, "Nina"),
				LastName: domain.PersonalOf(ref, "Durand"), Email: email, EmailRef: ref, Phone: domain.PersonalOf(ref, "+33612345678"),
				CanPurchase: true, ExpiresAt: expires, Locale: "fr"},
			Mail{Recipient: "collaborator", To: email, Kind: mail.KindCollaboratorActivation, Locale: mail.LocaleFR,
				Data: mail.Data{OrganizationName: "EMS Proto", FirstName: "Nina", Link: base + "/collaborators/activate/" + SecretPlaceholder,
					ExpiresAt: expires, CanPurchase: true}},
			[]string{"EMS Proto", "Nina"}},
		{"CollaboratorInvitationResent: the activation again, with the new expiry, in the language it was resent in",
			domain.CollaboratorInvitationResent{OrganizationID: org, OrganizationName: "EMS Proto", FirstName: domain.PersonalOf(ref, "Nina"),
				Email: email, EmailRef: ref, CanSeeAllOrders: true, TokenHash: "h2", ExpiresAt: expires.Add(time.Hour), Locale: "de"},
			Mail{Recipient: "collaborator", To: email, Kind: mail.KindCollaboratorActivation, Locale: mail.LocaleDE,
				Data: mail.Data{OrganizationName: "EMS Proto", FirstName: "Nina", Link: base + "/collaborators/activate/" + SecretPlaceholder,
					ExpiresAt: expires.Add(time.Hour), CanSeeAllOrders: true}},
			[]string{"EMS Proto", "Nina"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rule := ruleFor(tc.event.EventType())
			if rule == nil {
				t.Fatalf("no rule for %s", tc.event.EventType())
			}
			got := rule(&eventstore.Event{Data: tc.event}, base)
			if !reflect.DeepEqual(got, []Mail{tc.want}) {
				t.Fatalf("mails =\n%+v\nwant\n%+v", got, []Mail{tc.want})
			}
			// The sender puts the token in place of the placeholder; every
			// language renders, and shows what the event says.
			m := got[0]
			m.Data.Link = strings.ReplaceAll(m.Data.Link, SecretPlaceholder, "tok3n")
			for _, loc := range mail.Locales() {
				c, err := mail.Render(m.Kind, loc, m.Data)
				if err != nil {
					t.Fatalf("render in %s: %v", loc, err)
				}
				for _, want := range append(tc.shows, strings.ReplaceAll(tc.want.Data.Link, SecretPlaceholder, "tok3n")) {
					if !strings.Contains(c.Text, want) {
						t.Errorf("the %s email lacks %q:\n%s", loc, want, c.Text)
					}
				}
			}
		})
	}
}
