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
		return []Mail{partnerInvitation(base, e.Email, e.InviterName, e.InviterSide, e.InviteeSide, e.Message, e.Locale, e.ExpiresAt)}
	})
	Register("InvitationResent", func(ev *eventstore.Event, base string) []Mail {
		e := ev.Data.(domain.InvitationResent)
		return []Mail{partnerInvitation(base, e.Email, e.InviterName, e.InviterSide, e.InviteeSide, e.Message, e.Locale, e.ExpiresAt)}
	})
	Register("InvitationClaimNoticeSent", func(ev *eventstore.Event, base string) []Mail {
		e := ev.Data.(domain.InvitationClaimNoticeSent)
		return []Mail{{Recipient: "sender", To: e.SenderEmail, Kind: mail.KindInvitationClaimed, Locale: LocaleOf(e.Locale),
			Data: mail.Data{OrganizationName: e.OrganizationName, Email: shown(e.Email), Link: SentInvitationsLink(base, e.InviterOrganizationID)}}}
	})
}

// SentInvitationsLink is where the inviter revokes an invitation: their
// organization's "Invitations sent".
func SentInvitationsLink(base string, org uuid.UUID) string {
	return base + "/organizations/" + org.String() + "/invitations/sent"
}

// partnerInvitation is the invitee's email: the inviter's name and personal
// message, and the link holding the (new) token.
func partnerInvitation(base string, to domain.Personal, inviter string, inviterSide, inviteeSide domain.Side,
	message domain.Personal, locale string, expires time.Time) Mail {
	msg := message.Value
	if message.IsForgotten() {
		msg = ""
	}
	return Mail{
		Recipient: "invitee",
		To:        to,
		Kind:      mail.KindPartnerInvitation,
		Locale:    LocaleOf(locale),
		Data: mail.Data{
			InviterName: inviter, InviterSide: inviterSide.String(), InviteeSide: inviteeSide.String(),
			Message: msg, Link: base + "/invitations/" + SecretPlaceholder, ExpiresAt: expires,
		},
	}
}
