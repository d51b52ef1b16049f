package app

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
)

// InvitationTTL is how long a partner invitation stays open by default.
const InvitationTTL = 30 * 24 * time.Hour

func pendingKey(org uuid.UUID, ref domain.PersonRef) string {
	return "pending-invitation:" + org.String() + ":" + string(ref)
}

// LoadInvitation rebuilds a partner invitation from its stream.
func (a *App) LoadInvitation(ctx context.Context, id uuid.UUID) (*domain.Invitation, int64, error) {
	evs, _, err := a.Store.ReadStream(ctx, domain.InvitationStream(id))
	if err != nil {
		return nil, 0, err
	}
	inv := &domain.Invitation{}
	var last int64
	for _, e := range evs {
		inv.Apply(e.Data)
		last = e.Position
	}
	return inv, last, nil
}

func (a *App) ttl() time.Duration {
	if a.InvitationTTL > 0 {
		return a.InvitationTTL
	}
	return InvitationTTL
}

func invitationAppend(inv *domain.Invitation, evs []eventstore.NewEvent) eventstore.StreamAppend {
	return eventstore.StreamAppend{StreamID: domain.InvitationStream(inv.ID), StreamType: domain.InvitationStreamType,
		Expected: eventstore.Exactly(inv.Version), Events: evs}
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
// email: the reservation guards it under concurrency.
func (a *App) SendInvitation(ctx context.Context, actor domain.Actor, org uuid.UUID, email domain.Email, message, locale string) (Sent, error) {
	ref := a.Store.Keys().Ref(email.String())
	var out Sent
	res, err := a.retry(ctx, func() (eventstore.Result, error) {
		inviter, err := a.LoadOrganization(ctx, org)
		if err != nil {
			return eventstore.Result{}, err
		}
		cmd := domain.SendInvitation{InvitationID: a.NewID(), Email: email, EmailRef: ref, Message: message,
			Locale: locale, Actor: actor, Now: a.Now(), TTL: a.ttl()}
		var replace string
		if id, ok, err := a.holderID(ctx, pendingKey(org, ref)); err != nil {
			return eventstore.Result{}, err
		} else if ok {
			if cmd.Pending, _, err = a.LoadInvitation(ctx, id); err != nil {
				return eventstore.Result{}, err
			}
			replace = id.String() // taken over when it is no longer pending
		}
		token, hash := NewToken()
		cmd.TokenHash = hash
		evs, err := domain.DecideSendInvitation(inviter, cmd)
		if err != nil {
			return eventstore.Result{}, err
		}
		news := a.newEvents(evs)
		inv := &domain.Invitation{}
		for _, e := range evs {
			inv.Apply(e)
		}
		b := eventstore.Batch{
			Meta: a.metadata(ctx, actor, commandName(inviter.Side)),
			Streams: []eventstore.StreamAppend{{StreamID: domain.InvitationStream(inv.ID), StreamType: domain.InvitationStreamType,
				Expected: eventstore.NoStream, Events: news}},
			Reserve: []eventstore.Reservation{
				{Key: pendingKey(org, ref), Holder: inv.ID.String(), Replace: replace},
				{Key: TokenKey(hash), Holder: inv.ID.String()},
			},
			Secrets: []eventstore.Secret{{EventID: news[0].ID, Value: []byte(token)}},
		}
		res, err := a.Store.Append(ctx, b)
		var taken *eventstore.ReservationError
		if errors.As(err, &taken) {
			// Another invitation to the same email won the race: decide again.
			return res, concurrencyConflict()
		}
		out = Sent{Invitation: inv, Token: token}
		return res, err
	})
	out.Result = res
	return out, err
}

func commandName(side domain.Side) string {
	if side == domain.SideSubcontractor {
		return "InviteClient"
	}
	return "InviteSubcontractor"
}

func concurrencyConflict() error {
	return domain.Errorf(domain.CodeConcurrencyConflict, "Someone else changed this at the same moment. Reload and try again.")
}

// InvitationByToken finds the invitation a link's token opens. A token that
// opens nothing (unknown, or replaced by a resend) is "not found".
func (a *App) InvitationByToken(ctx context.Context, token string) (*domain.Invitation, int64, error) {
	notFound := domain.Errorf(domain.CodeNotFound, "This invitation link is not valid. Ask the sender for a new one.")
	if !ValidTokenShape(token) {
		return nil, 0, notFound
	}
	id, ok, err := a.holderID(ctx, TokenKey(HashToken(token)))
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		return nil, 0, notFound
	}
	inv, pos, err := a.LoadInvitation(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	if !inv.Exists() || !TokenMatches(token, inv.TokenHash) {
		return nil, 0, notFound
	}
	return inv, pos, nil
}

// ClaimInvitation attaches the invitation a token opens to the caller's
// organization (its users signed up with another email).
func (a *App) ClaimInvitation(ctx context.Context, actor domain.Actor, token string, org uuid.UUID) (*domain.Invitation, eventstore.Result, error) {
	var inv *domain.Invitation
	var last int64
	res, err := a.retry(ctx, func() (eventstore.Result, error) {
		var err error
		if inv, last, err = a.InvitationByToken(ctx, token); err != nil {
			return eventstore.Result{}, err
		}
		claimer, err := a.LoadOrganization(ctx, org)
		if err != nil {
			return eventstore.Result{}, err
		}
		evs, err := domain.DecideClaimInvitation(inv, claimer, actor, a.Now())
		if err != nil || len(evs) == 0 {
			return eventstore.Result{Position: last}, err
		}
		res, err := a.Store.Append(ctx, eventstore.Batch{Meta: a.metadata(ctx, actor, "ClaimInvitation"),
			Streams: []eventstore.StreamAppend{invitationAppend(inv, a.newEvents(evs))}})
		if err == nil {
			for _, e := range evs {
				inv.Apply(e)
			}
		}
		return res, err
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
	res, err := a.retry(ctx, func() (eventstore.Result, error) {
		inv, _, err := a.LoadInvitation(ctx, id)
		if err != nil {
			return eventstore.Result{}, err
		}
		if !inv.Exists() {
			return eventstore.Result{}, domain.ErrInvitationNotFound()
		}
		accepter, err := a.LoadOrganization(ctx, org)
		if err != nil {
			return eventstore.Result{}, err
		}
		client, sub := inv.InviterOrg, org
		if inv.InviterSide == domain.SideSubcontractor {
			client, sub = org, inv.InviterOrg
		}
		_, partnershipVersion, err := a.Store.ReadStream(ctx, domain.PartnershipStream(client, sub))
		if err != nil {
			return eventstore.Result{}, err
		}
		if partnershipVersion > 0 {
			// The partnership may come from this very invitation, accepted
			// since it was read: read it again so the answer says so.
			if inv, _, err = a.LoadInvitation(ctx, id); err != nil {
				return eventstore.Result{}, err
			}
		}
		evs, err := domain.DecideAcceptInvitation(inv, accepter, partnershipVersion > 0, actor, a.Now())
		if err != nil {
			return eventstore.Result{}, err
		}
		inviter, err := a.LoadOrganization(ctx, inv.InviterOrg)
		if err != nil {
			return eventstore.Result{}, err
		}
		partnership := domain.Partnership(inv, inviter, accepter)
		b := eventstore.Batch{
			Meta: a.metadata(ctx, actor, "AcceptInvitation"),
			Streams: []eventstore.StreamAppend{
				invitationAppend(inv, a.newEvents(evs)),
				{StreamID: domain.PartnershipStream(client, sub), StreamType: domain.PartnershipStreamType,
					Expected: eventstore.NoStream, Events: a.newEvents([]domain.Event{partnership})},
			},
			Release: releases(inv),
		}
		res, err := a.Store.Append(ctx, b)
		if err == nil {
			for _, e := range evs {
				inv.Apply(e)
			}
			out = Accepted{Invitation: inv, Partnership: partnership}
		}
		return res, err
	})
	out.Result = res
	return out, err
}

// releases frees the pending slot and the token of a closed invitation.
func releases(inv *domain.Invitation) []eventstore.Release {
	return []eventstore.Release{
		{Key: pendingKey(inv.InviterOrg, inv.EmailRef), Holder: inv.ID.String()},
		{Key: TokenKey(inv.TokenHash), Holder: inv.ID.String()},
	}
}

// DeclineInvitation closes the invitation with no partnership.
func (a *App) DeclineInvitation(ctx context.Context, actor domain.Actor, id, org uuid.UUID, reason string) (*domain.Invitation, eventstore.Result, error) {
	return a.closeInvitation(ctx, actor, id, "DeclineInvitation", func(inv *domain.Invitation) ([]domain.Event, error) {
		decliner, err := a.LoadOrganization(ctx, org)
		if err != nil {
			return nil, err
		}
		return domain.DecideDeclineInvitation(inv, decliner, reason, actor, a.Now())
	})
}

// RevokeInvitation withdraws an invitation, by its inviter.
func (a *App) RevokeInvitation(ctx context.Context, actor domain.Actor, id uuid.UUID) (*domain.Invitation, eventstore.Result, error) {
	return a.closeInvitation(ctx, actor, id, "RevokeInvitation", func(inv *domain.Invitation) ([]domain.Event, error) {
		inviter, err := a.LoadOrganization(ctx, inv.InviterOrg)
		if err != nil {
			return nil, err
		}
		return domain.DecideRevokeInvitation(inv, inviter, actor)
	})
}

func (a *App) closeInvitation(ctx context.Context, actor domain.Actor, id uuid.UUID, command string,
	decide func(*domain.Invitation) ([]domain.Event, error)) (*domain.Invitation, eventstore.Result, error) {
	var inv *domain.Invitation
	res, err := a.retry(ctx, func() (eventstore.Result, error) {
		var err error
		if inv, _, err = a.LoadInvitation(ctx, id); err != nil {
			return eventstore.Result{}, err
		}
		if !inv.Exists() {
			return eventstore.Result{}, domain.ErrInvitationNotFound()
		}
		evs, err := decide(inv)
		if err != nil {
			return eventstore.Result{}, err
		}
		res, err := a.Store.Append(ctx, eventstore.Batch{Meta: a.metadata(ctx, actor, command),
			Streams: []eventstore.StreamAppend{invitationAppend(inv, a.newEvents(evs))}, Release: releases(inv)})
		if err == nil {
			for _, e := range evs {
				inv.Apply(e)
			}
		}
		return res, err
	})
	return inv, res, err
}

// ResendInvitation gives the invitation a new token, a new expiry and a new
// email; the previous token stops working at once.
func (a *App) ResendInvitation(ctx context.Context, actor domain.Actor, id uuid.UUID, locale string) (Sent, error) {
	var out Sent
	res, err := a.retry(ctx, func() (eventstore.Result, error) {
		inv, _, err := a.LoadInvitation(ctx, id)
		if err != nil {
			return eventstore.Result{}, err
		}
		if !inv.Exists() {
			return eventstore.Result{}, domain.ErrInvitationNotFound()
		}
		inviter, err := a.LoadOrganization(ctx, inv.InviterOrg)
		if err != nil {
			return eventstore.Result{}, err
		}
		token, hash := NewToken()
		evs, err := domain.DecideResendInvitation(inv, inviter, hash, locale, actor, a.Now(), a.ttl())
		if err != nil {
			return eventstore.Result{}, err
		}
		news := a.newEvents(evs)
		oldToken := TokenKey(inv.TokenHash)
		b := eventstore.Batch{Meta: a.metadata(ctx, actor, "ResendInvitation"),
			Streams: []eventstore.StreamAppend{invitationAppend(inv, news)},
			Release: []eventstore.Release{{Key: oldToken, Holder: inv.ID.String()}},
			// An expired invitation may have lost its pending slot to nobody;
			// take it again (or keep it).
			Reserve: []eventstore.Reservation{
				{Key: TokenKey(hash), Holder: inv.ID.String()},
				{Key: pendingKey(inv.InviterOrg, inv.EmailRef), Holder: inv.ID.String()},
			},
			Secrets: []eventstore.Secret{{EventID: news[0].ID, Value: []byte(token)}},
		}
		res, err := a.Store.Append(ctx, b)
		var taken *eventstore.ReservationError
		if errors.As(err, &taken) {
			return res, (&domain.Error{Code: domain.CodeDuplicatePending,
				Message: "Another invitation to this email is pending; this one cannot be resent."}).With("pending_invitation_id", taken.Holder)
		}
		if err == nil {
			for _, e := range evs {
				inv.Apply(e)
			}
			out = Sent{Invitation: inv, Token: token}
		}
		return res, err
	})
	out.Result = res
	return out, err
}
