package app

import (
	"context"
	"time"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
)

// InvitationTTL is how long a partner invitation stays open by default.
const InvitationTTL = 30 * 24 * time.Hour

// invitations are partner invitations. Their fold keeps who last sent each
// one, from the events' metadata, so a claim can tell them.
var invitations = tokenKindOf(foldSpec[*domain.Invitation]{
	kind:  "invitation",
	empty: func() *domain.Invitation { return &domain.Invitation{} },
	apply: func(i *domain.Invitation, e eventstore.Event) {
		i.ApplyRecorded(e.Data, e.Meta.Actor.UserID, e.Meta.Actor.Email)
	},
	clone: func(i *domain.Invitation) *domain.Invitation { c := *i; return &c },
}, domain.InvitationStream, domain.InvitationStreamType, "pending-invitation")

func (a *App) ttl() time.Duration {
	if a.InvitationTTL > 0 {
		return a.InvitationTTL
	}
	return InvitationTTL
}

// Sent is the outcome of an invitation or a resend: the invitation and the
// one copy of its new token.
type Sent struct {
	Invitation *domain.Invitation
	Token      string
	Result     eventstore.Result
}

// SendInvitation is InviteSubcontractor (from a client) and InviteClient
// (from a subcontractor). One pending invitation per organization and
// email: the reservation guards it under concurrency. contact is the
// partner's contact details from the invite form (zero: none).
func (a *App) SendInvitation(ctx context.Context, actor domain.Actor, org uuid.UUID, email domain.Email, message string,
	contact domain.PartnerContact, locale string) (Sent, error) {
	inv, token, res, err := sendWithToken(ctx, a, org, "", invitations, domain.TokenSend{Email: email, Locale: locale, Actor: actor},
		func(t *attempt, inviter *domain.Organization, s domain.TokenSend, pending *domain.Invitation) ([]domain.Event, error) {
			t.batch.Meta.Command = commandName(inviter.Side)
			return domain.DecideSendInvitation(inviter, domain.SendInvitation{TokenSend: s, Message: message, Contact: contact, Pending: pending})
		})
	return Sent{Invitation: inv, Token: token, Result: res}, err
}

func commandName(side domain.Side) string {
	if side == domain.SideSubcontractor {
		return "InviteClient"
	}
	return "InviteSubcontractor"
}

// errInvitationLinkInvalid answers a token that opens no partner invitation.
func errInvitationLinkInvalid() error {
	return domain.Errorf(domain.CodeNotFound, "This invitation link is not valid. Ask the sender for a new one.")
}

// InvitationByToken finds the invitation a link's token opens. A token that
// opens nothing (unknown, or replaced by a resend) is "not found".
func (a *App) InvitationByToken(ctx context.Context, token string) (*domain.Invitation, int64, error) {
	l, err := byToken(ctx, a, invitations, token, errInvitationLinkInvalid())
	return l.state, l.position, err
}

// ClaimInvitation attaches the invitation a token opens to the caller's
// organization (its users signed up with another email).
func (a *App) ClaimInvitation(ctx context.Context, actor domain.Actor, token string, org uuid.UUID) (*domain.Invitation, eventstore.Result, error) {
	var inv *domain.Invitation
	res, err := a.run(ctx, actor, "ClaimInvitation", func(t *attempt) error {
		l, err := byToken(ctx, a, invitations, token, errInvitationLinkInvalid())
		if err != nil {
			return err
		}
		inv = l.state
		claimer, err := t.org(ctx, org)
		if err != nil {
			return err
		}
		evs, err := domain.DecideClaimInvitation(inv, claimer, domain.ClaimInvitation{Actor: actor, Now: a.Now()})
		if err != nil {
			return err
		}
		l.append(t, evs)
		return nil
	})
	return inv, res, err
}

// Accepted is the outcome of AcceptInvitation.
type Accepted struct {
	Invitation  *domain.Invitation
	Partnership domain.PartnershipEstablished
	Result      eventstore.Result
}

// AcceptInvitation establishes the partnership at once. One answer per
// invitation (its version) and one partnership per pair (its stream) hold
// under concurrency: a lost race is decided again and refused by the rule.
func (a *App) AcceptInvitation(ctx context.Context, actor domain.Actor, id, org uuid.UUID) (Accepted, error) {
	var out Accepted
	res, err := a.run(ctx, actor, "AcceptInvitation", func(t *attempt) error {
		// An id never sent is decided like one not addressed to the caller,
		// so that the two answer alike.
		l, err := invitations.fold.load(ctx, a, invitations.stream(id))
		if err != nil {
			return err
		}
		accepter, err := t.org(ctx, org)
		if err != nil {
			return err
		}
		client, sub := l.state.InviterOrg, org
		if l.state.InviterSide == domain.SideSubcontractor {
			client, sub = org, l.state.InviterOrg
		}
		partnershipVersion := 0
		if l.state.Exists() {
			if _, partnershipVersion, err = a.Store.ReadStream(ctx, domain.PartnershipStream(client, sub)); err != nil {
				return err
			}
		}
		if partnershipVersion > 0 {
			// The partnership may come from this very invitation, accepted
			// since it was read: read it again so the answer says so.
			if l, err = invitations.fold.load(ctx, a, invitations.stream(id)); err != nil {
				return err
			}
		}
		inv := l.state
		evs, err := domain.DecideAcceptInvitation(inv, accepter,
			domain.AcceptInvitation{AlreadyPartners: partnershipVersion > 0, Actor: actor, Now: a.Now()})
		if err != nil {
			return err
		}
		inviter, err := t.org(ctx, inv.InviterOrg)
		if err != nil {
			return err
		}
		out = Accepted{Invitation: inv, Partnership: domain.Partnership(inv, inviter, accepter)}
		l.append(t, evs)
		t.add(stream{domain.PartnershipStream(client, sub), domain.PartnershipStreamType}, eventstore.NoStream,
			[]domain.Event{out.Partnership})
		closing(t, invitations.pendingKey(inv.InviterOrg, inv.EmailRef), inv)
		return nil
	})
	out.Result = res
	return out, err
}

// DeclineInvitation closes the invitation with no partnership, or, when
// the decliner only claimed it, drops the claim: the invitation, its token
// and its pending slot stay, for its email.
func (a *App) DeclineInvitation(ctx context.Context, actor domain.Actor, id, org uuid.UUID, reason string) (*domain.Invitation, eventstore.Result, error) {
	// An id never sent is decided like one not addressed to the caller.
	return update(ctx, a, actor, "DeclineInvitation", invitations.fold, invitations.stream(id),
		func(t *attempt, inv *domain.Invitation) ([]domain.Event, error) {
			decliner, err := t.org(ctx, org)
			if err != nil {
				return nil, err
			}
			evs, err := domain.DecideDeclineInvitation(inv, decliner, domain.DeclineInvitation{Reason: reason, Actor: actor, Now: a.Now()})
			if err == nil && len(evs) > 0 {
				if _, declined := evs[0].(domain.InvitationDeclined); declined {
					closing(t, invitations.pendingKey(inv.InviterOrg, inv.EmailRef), inv)
				}
			}
			return evs, err
		})
}

// RevokeInvitation withdraws an invitation, by its inviter.
func (a *App) RevokeInvitation(ctx context.Context, actor domain.Actor, id uuid.UUID) (*domain.Invitation, eventstore.Result, error) {
	return a.closeInvitation(ctx, actor, id, "RevokeInvitation", func(t *attempt, inv *domain.Invitation) ([]domain.Event, error) {
		inviter, err := t.org(ctx, inv.InviterOrg)
		if err != nil {
			return nil, err
		}
		return domain.DecideRevokeInvitation(inv, inviter, domain.RevokeInvitation{Actor: actor})
	})
}

// changeInvitation is update for a partner invitation that exists.
func (a *App) changeInvitation(ctx context.Context, actor domain.Actor, id uuid.UUID, command string,
	decide func(t *attempt, inv *domain.Invitation) ([]domain.Event, error)) (*domain.Invitation, eventstore.Result, error) {
	return update(ctx, a, actor, command, invitations.fold, invitations.stream(id),
		func(t *attempt, inv *domain.Invitation) ([]domain.Event, error) {
			if !inv.Exists() {
				return nil, domain.ErrInvitationNotFound()
			}
			return decide(t, inv)
		})
}

// closeInvitation answers or withdraws an invitation, freeing its slot and
// its token.
func (a *App) closeInvitation(ctx context.Context, actor domain.Actor, id uuid.UUID, command string,
	decide func(*attempt, *domain.Invitation) ([]domain.Event, error)) (*domain.Invitation, eventstore.Result, error) {
	return a.changeInvitation(ctx, actor, id, command, func(t *attempt, inv *domain.Invitation) ([]domain.Event, error) {
		closing(t, invitations.pendingKey(inv.InviterOrg, inv.EmailRef), inv)
		return decide(t, inv)
	})
}

// ResendInvitation gives the invitation a new token, a new expiry and a new
// email; the previous token stops working at once.
func (a *App) ResendInvitation(ctx context.Context, actor domain.Actor, id uuid.UUID, locale string) (Sent, error) {
	var token string
	inv, res, err := a.changeInvitation(ctx, actor, id, "ResendInvitation", func(t *attempt, inv *domain.Invitation) ([]domain.Event, error) {
		inviter, err := t.org(ctx, inv.InviterOrg)
		if err != nil {
			return nil, err
		}
		var hash string
		token, hash = NewToken()
		evs, err := domain.DecideResendInvitation(inv, inviter, domain.ResendInvitation{TokenHash: hash, Locale: locale,
			Actor: actor, Now: a.Now(), TTL: a.ttl()})
		if err != nil {
			return nil, err
		}
		holder := inv.ID.String()
		t.batch.Release = []eventstore.Release{{Key: TokenKey(inv.TokenHash), Holder: holder}}
		// An expired invitation may have lost its pending slot to nobody;
		// take it again (or keep it).
		t.batch.Reserve = []eventstore.Reservation{{Key: TokenKey(hash), Holder: holder},
			{Key: invitations.pendingKey(inv.InviterOrg, inv.EmailRef), Holder: holder}}
		t.secret = token
		t.taken = func(taken *eventstore.ReservationError) error {
			return (&domain.Error{Code: domain.CodeDuplicatePending,
				Message: "Another invitation to this email is pending; this one cannot be resent."}).With("pending_invitation_id", taken.Holder)
		}
		return evs, nil
	})
	return Sent{Invitation: inv, Token: token, Result: res}, err
}
