package notify

import (
	"time"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
	"partners/notify/mail"
)

func init() {
	Register("InvitationSent", func(ev *eventstore.Event, base string) []Mail {
		e := ev.Data.(domain.InvitationSent)
		return []Mail{partnerInvitation(base, e.Email, e.InviterName, e.InviterSide, e.InviteeSide, e.Message, e.Contact, e.Locale, e.ExpiresAt)}
	})
	Register("InvitationResent", func(ev *eventstore.Event, base string) []Mail {
		e := ev.Data.(domain.InvitationResent)
		return []Mail{partnerInvitation(base, e.Email, e.InviterName, e.InviterSide, e.InviteeSide, e.Message, e.Contact, e.Locale, e.ExpiresAt)}
	})
	Register("InvitationClaimNoticeSent", func(ev *eventstore.Event, base string) []Mail {
		e := ev.Data.(domain.InvitationClaimNoticeSent)
		return []Mail{{Recipient: "sender", To: e.SenderEmail, Kind: mail.KindInvitationClaimed, Locale: LocaleOf(e.Locale),
			Data: mail.Data{OrganizationName: e.OrganizationName, Email: shown(e.Email), Link: SentInvitationsLink(base, e.InviterOrganizationID)}}}
	})
	// The answer's notice, like the claim's, goes to the sender alone:
	// the answering organization is never given their address.
	Register("InvitationAnswerNoticeSent", func(ev *eventstore.Event, base string) []Mail {
		e := ev.Data.(domain.InvitationAnswerNoticeSent)
		kind, link := mail.KindInvitationDeclined, SentInvitationsLink(base, e.InviterOrganizationID)
		if e.Answer == domain.StatusAccepted {
			kind, link = mail.KindInvitationAccepted, PartnerLink(base, e.InviterOrganizationID, e.OrganizationID)
		}
		return []Mail{{Recipient: "sender", To: e.SenderEmail, Kind: kind, Locale: LocaleOf(e.Locale),
			Data: mail.Data{OrganizationName: e.OrganizationName, Email: shown(e.Email), Link: link}}}
	})
}

// PartnerLink is the partner's details pane in the organization's panel.
func PartnerLink(base string, org, partner uuid.UUID) string {
	return base + "/organizations/" + org.String() + "/partners/" + partner.String()
}

// SentInvitationsLink is where the inviter revokes an invitation: their
// organization's "Invitations sent".
func SentInvitationsLink(base string, org uuid.UUID) string {
	return base + "/organizations/" + org.String() + "/invitations/sent"
}

// partnerInvitation is the invitee's email: the inviter's name and personal
// message, the link holding the (new) token, and the contact's name in the
// greeting when the inviter gave one.
func partnerInvitation(base string, to domain.Personal, inviter string, inviterSide, inviteeSide domain.Side,
	message domain.Personal, contact *domain.InvitationContact, locale string, expires time.Time) Mail {
	greeted := ""
	if contact != nil {
		greeted = shown(contact.Name)
	}
	return Mail{
		Recipient: "invitee",
		To:        to,
		Kind:      mail.KindPartnerInvitation,
		Locale:    LocaleOf(locale),
		Data: mail.Data{
			InviterName: inviter, InviterSide: inviterSide.String(), InviteeSide: inviteeSide.String(),
			Message: shown(message), RecipientName: greeted, Link: base + "/invitations/" + SecretPlaceholder, ExpiresAt: expires,
		},
	}
}
