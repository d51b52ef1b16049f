package notify

import (
	"partners/domain"
	"partners/eventstore"
	"partners/notify/mail"
)

// The team's emails: a colleague's invitation, the accountant's invitation
// (GrantAccountantAccess) and a collaborator account's activation (sent
// again by a resend). Each
// goes to the invited email, with the link holding the token the command
// left as the event's pending secret.

func init() {
	Register("MemberInvitationSent", func(ev *eventstore.Event, base string) []Mail {
		e := ev.Data.(domain.MemberInvitationSent)
		return []Mail{{Recipient: "invitee", To: e.Email, Kind: mail.KindMemberInvitation, Locale: LocaleOf(e.Locale),
			Data: mail.Data{OrganizationName: e.OrganizationName, InviterName: nameOrOrganization(e.InviterName, e.OrganizationName),
				Role: e.Role.String(), Link: base + "/member-invitations/" + SecretPlaceholder, ExpiresAt: e.ExpiresAt}}}
	})
	Register("AccountantInvitationSent", func(ev *eventstore.Event, base string) []Mail {
		e := ev.Data.(domain.AccountantInvitationSent)
		return []Mail{{Recipient: "accountant", To: e.Email, Kind: mail.KindAccountantInvitation, Locale: LocaleOf(e.Locale),
			Data: mail.Data{OrganizationName: e.OrganizationName, InviterName: nameOrOrganization(e.InviterName, e.OrganizationName),
				Message: shown(e.Message), Link: base + "/accountant-invitations/" + SecretPlaceholder, ExpiresAt: e.ExpiresAt}}}
	})
	Register("CollaboratorInvited", func(ev *eventstore.Event, base string) []Mail {
		e := ev.Data.(domain.CollaboratorInvited)
		return activation(base, domain.CollaboratorInvitationResent{OrganizationName: e.OrganizationName, FirstName: e.FirstName,
			Email: e.Email, CanPurchase: e.CanPurchase, CanSeeAllOrders: e.CanSeeAllOrders, ExpiresAt: e.ExpiresAt, Locale: e.Locale})
	})
	// A resend is the same email with the new link: the previous one
	// opens nothing any more.
	Register("CollaboratorInvitationResent", func(ev *eventstore.Event, base string) []Mail {
		return activation(base, ev.Data.(domain.CollaboratorInvitationResent))
	})
}

// activation is a collaborator account's activation email, with what a
// creation and a resend both hold.
func activation(base string, e domain.CollaboratorInvitationResent) []Mail {
	return []Mail{{Recipient: "collaborator", To: e.Email, Kind: mail.KindCollaboratorActivation, Locale: LocaleOf(e.Locale),
		Data: mail.Data{OrganizationName: e.OrganizationName, FirstName: shown(e.FirstName),
			Link: base + "/collaborators/activate/" + SecretPlaceholder, ExpiresAt: e.ExpiresAt,
			CanPurchase: e.CanPurchase, CanSeeAllOrders: e.CanSeeAllOrders}}}
}

// shown is a personal value as an email may show it: nothing once its
// owner is forgotten.
func shown(p domain.Personal) string {
	if p.IsForgotten() {
		return ""
	}
	return p.Value
}

// nameOrOrganization is who the email says invites: the inviter's name,
// or the organization when the inviter's name is unknown or forgotten.
func nameOrOrganization(inviter domain.Personal, organization string) string {
	if n := shown(inviter); n != "" {
		return n
	}
	return organization
}
