package app

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
)

// The team (DOMAIN.md sections 3 and 5): colleagues invited as admin or
// member, the accountant's access, role changes and removals. Everything
// that touches memberships appends to the organization's stream at the
// version it was decided on, so "at least one owner" and "one membership
// per user" hold however many commands run at once.

// OrganizationState is an organization as a team command leaves it: the
// aggregate, when each member joined, and the position of its stream's
// last event (what an answer that appended nothing reflects).
type OrganizationState struct {
	Org      *domain.Organization
	Since    map[string]time.Time
	Position int64
}

// loadOrganizationState rebuilds an organization with its members' join
// instants and its last position.
func (a *App) loadOrganizationState(ctx context.Context, id uuid.UUID) (OrganizationState, error) {
	st, _, err := organizationFold.load(ctx, a, domain.OrganizationStream(id))
	if err != nil {
		return OrganizationState{}, err
	}
	return *st, nil
}

var organizationFold = foldSpec[*OrganizationState]{
	kind: "organization",
	empty: func() *OrganizationState {
		return &OrganizationState{Org: &domain.Organization{}, Since: map[string]time.Time{}}
	},
	apply: func(st *OrganizationState, e eventstore.Event) {
		st.Org.Apply(e.Data)
		if j, ok := e.Data.(domain.MemberJoined); ok {
			st.Since[j.UserID] = e.RecordedAt.UTC()
		}
		st.Position = e.Position
	},
	clone: func(st *OrganizationState) *OrganizationState {
		return &OrganizationState{Org: st.Org.Clone(), Since: maps.Clone(st.Since), Position: st.Position}
	},
}

// applied records events just appended into the state.
func (st *OrganizationState) applied(evs []domain.Event, res eventstore.Result) {
	for _, e := range evs {
		st.Org.Apply(e)
		if j, ok := e.(domain.MemberJoined); ok {
			st.Since[j.UserID] = res.RecordedAt.UTC()
		}
	}
	if len(evs) > 0 {
		st.Position = res.Position
	}
}

func organizationAppend(o *domain.Organization, evs []eventstore.NewEvent) eventstore.StreamAppend {
	return eventstore.StreamAppend{StreamID: domain.OrganizationStream(o.ID), StreamType: domain.OrganizationStreamType,
		Expected: eventstore.Exactly(o.Version), Events: evs}
}

// changeOrganization runs a decision that touches only the organization's
// stream. A decision with nothing to change appends nothing and answers the
// stream's current position.
func (a *App) changeOrganization(ctx context.Context, actor domain.Actor, org uuid.UUID, command string,
	decide func(o *domain.Organization) ([]domain.Event, error)) (OrganizationState, eventstore.Result, error) {
	var st OrganizationState
	res, err := a.retry(ctx, func() (eventstore.Result, error) {
		var err error
		if st, err = a.loadOrganizationState(ctx, org); err != nil {
			return eventstore.Result{}, err
		}
		evs, err := decide(st.Org)
		if err != nil {
			return eventstore.Result{}, err
		}
		if len(evs) == 0 {
			return eventstore.Result{Position: st.Position}, nil
		}
		res, err := a.Store.Append(ctx, eventstore.Batch{Meta: a.metadata(ctx, actor, command),
			Streams: []eventstore.StreamAppend{organizationAppend(st.Org, a.newEvents(evs))}})
		if err == nil {
			st.applied(evs, res)
		}
		return res, err
	})
	return st, res, err
}

// MemberChange is a membership as a command leaves it.
type MemberChange struct {
	Member domain.Member
	Since  time.Time
	Result eventstore.Result
}

func memberChange(st OrganizationState, userID string, res eventstore.Result) MemberChange {
	return MemberChange{Member: st.Org.Members[userID], Since: st.Since[userID], Result: res}
}

// ChangeMemberRole gives a colleague another team role.
func (a *App) ChangeMemberRole(ctx context.Context, actor domain.Actor, org uuid.UUID, userID string, role domain.Role) (MemberChange, error) {
	st, res, err := a.changeOrganization(ctx, actor, org, "ChangeMemberRole", func(o *domain.Organization) ([]domain.Event, error) {
		return domain.DecideChangeMemberRole(o, domain.ChangeMemberRole{UserID: userID, Role: role, Actor: actor})
	})
	if err != nil {
		return MemberChange{}, err
	}
	return memberChange(st, userID, res), nil
}

// RemoveMember removes a colleague from the team.
func (a *App) RemoveMember(ctx context.Context, actor domain.Actor, org uuid.UUID, userID string) (eventstore.Result, error) {
	_, res, err := a.changeOrganization(ctx, actor, org, "RemoveMember", func(o *domain.Organization) ([]domain.Event, error) {
		return domain.DecideRemoveMember(o, userID, actor)
	})
	return res, err
}

// RevokeAccountantAccess withdraws an accountant's access; every decision
// and every authorization answer from the returned position on is made
// without it.
func (a *App) RevokeAccountantAccess(ctx context.Context, actor domain.Actor, org uuid.UUID, userID string) (eventstore.Result, error) {
	_, res, err := a.changeOrganization(ctx, actor, org, "RevokeAccountantAccess", func(o *domain.Organization) ([]domain.Event, error) {
		return domain.DecideRevokeAccountantAccess(o, userID, actor)
	})
	return res, err
}

// =============================================================================
// Colleague and accountant invitations

// teamPendingKey reserves one pending invitation per organization, kind
// and email.
func teamPendingKey(kind domain.TeamInvitationKind, org uuid.UUID, ref domain.PersonRef) string {
	return "pending-" + string(kind) + "-invitation:" + org.String() + ":" + string(ref)
}

// LoadTeamInvitation rebuilds a colleague's or accountant's invitation.
func (a *App) LoadTeamInvitation(ctx context.Context, kind domain.TeamInvitationKind, id uuid.UUID) (*domain.TeamInvitation, error) {
	evs, _, err := a.Store.ReadStream(ctx, kind.Stream(id))
	if err != nil {
		return nil, err
	}
	inv := &domain.TeamInvitation{}
	for _, e := range evs {
		inv.Apply(e.Data)
	}
	return inv, nil
}

func teamInvitationAppend(inv *domain.TeamInvitation, evs []eventstore.NewEvent) eventstore.StreamAppend {
	return eventstore.StreamAppend{StreamID: inv.Kind.Stream(inv.ID), StreamType: inv.Kind.StreamType(),
		Expected: eventstore.Exactly(inv.Version), Events: evs}
}

// teamReleases frees the pending slot and the token of a closed invitation.
func teamReleases(inv *domain.TeamInvitation) []eventstore.Release {
	return []eventstore.Release{
		{Key: teamPendingKey(inv.Kind, inv.OrganizationID, inv.EmailRef), Holder: inv.ID.String()},
		{Key: TokenKey(inv.TokenHash), Holder: inv.ID.String()},
	}
}

// TeamSent is the outcome of a colleague's or accountant's invitation: the
// invitation and the one copy of its token.
type TeamSent struct {
	Invitation *domain.TeamInvitation
	Token      string
	Result     eventstore.Result
}

// InviteMember invites a colleague by email as admin or member.
func (a *App) InviteMember(ctx context.Context, actor domain.Actor, org uuid.UUID, email domain.Email, role domain.Role, locale string) (TeamSent, error) {
	return a.sendTeamInvitation(ctx, actor, org, "InviteMember",
		domain.SendTeamInvitation{Kind: domain.TeamInvitationMember, Email: email, Role: role, Locale: locale})
}

// GrantAccountantAccess invites the organization's accountant by email.
func (a *App) GrantAccountantAccess(ctx context.Context, actor domain.Actor, org uuid.UUID, email domain.Email, message, locale string) (TeamSent, error) {
	return a.sendTeamInvitation(ctx, actor, org, "GrantAccountantAccess",
		domain.SendTeamInvitation{Kind: domain.TeamInvitationAccountant, Email: email, Message: message, Locale: locale})
}

// sendTeamInvitation records an invitation, with its email's token as the
// event's pending secret. One pending invitation per organization, kind and
// email: the reservation guards it under concurrency.
func (a *App) sendTeamInvitation(ctx context.Context, actor domain.Actor, org uuid.UUID, command string, c domain.SendTeamInvitation) (TeamSent, error) {
	c.EmailRef = a.Store.Keys().Ref(c.Email.String())
	key := teamPendingKey(c.Kind, org, c.EmailRef)
	var out TeamSent
	res, err := a.retry(ctx, func() (eventstore.Result, error) {
		o, err := a.LoadOrganization(ctx, org)
		if err != nil {
			return eventstore.Result{}, err
		}
		cmd := c
		cmd.InvitationID, cmd.Actor, cmd.Now, cmd.TTL = a.NewID(), actor, a.Now(), a.ttl()
		var replace string
		if id, ok, err := a.holderID(ctx, key); err != nil {
			return eventstore.Result{}, err
		} else if ok {
			if cmd.Pending, err = a.LoadTeamInvitation(ctx, c.Kind, id); err != nil {
				return eventstore.Result{}, err
			}
			replace = id.String() // taken over once it is no longer pending
		}
		token, hash := NewToken()
		cmd.TokenHash = hash
		evs, err := domain.DecideSendTeamInvitation(o, cmd)
		if err != nil {
			return eventstore.Result{}, err
		}
		news := a.newEvents(evs)
		inv := &domain.TeamInvitation{}
		for _, e := range evs {
			inv.Apply(e)
		}
		res, err := a.Store.Append(ctx, eventstore.Batch{
			Meta: a.metadata(ctx, actor, command),
			Streams: []eventstore.StreamAppend{{StreamID: inv.Kind.Stream(inv.ID), StreamType: inv.Kind.StreamType(),
				Expected: eventstore.NoStream, Events: news}},
			Reserve: []eventstore.Reservation{
				{Key: key, Holder: inv.ID.String(), Replace: replace},
				{Key: TokenKey(hash), Holder: inv.ID.String()},
			},
			Secrets: []eventstore.Secret{{EventID: news[0].ID, Value: []byte(token)}},
		})
		var taken *eventstore.ReservationError
		if errors.As(err, &taken) {
			// Another invitation to the same email won the race: decide again.
			return res, concurrencyConflict()
		}
		out = TeamSent{Invitation: inv, Token: token}
		return res, err
	})
	out.Result = res
	return out, err
}

// TeamJoined is the outcome of an accepted invitation: the invitation and
// the new membership.
type TeamJoined struct {
	Invitation *domain.TeamInvitation
	Member     domain.Member
	Since      time.Time
	Result     eventstore.Result
}

// AcceptTeamInvitation lets the invitee join: with the link's token from
// any account, or without it when the caller's verified email is the
// invited one. The invitation's answer and the membership are appended
// together, each at the version it was decided on.
func (a *App) AcceptTeamInvitation(ctx context.Context, actor domain.Actor, kind domain.TeamInvitationKind, id uuid.UUID, token string) (TeamJoined, error) {
	var out TeamJoined
	res, err := a.retry(ctx, func() (eventstore.Result, error) {
		inv, err := a.LoadTeamInvitation(ctx, kind, id)
		if err != nil {
			return eventstore.Result{}, err
		}
		if !inv.Exists() {
			return eventstore.Result{}, domain.ErrTeamInvitationNotFound()
		}
		st, err := a.loadOrganizationState(ctx, inv.OrganizationID)
		if err != nil {
			return eventstore.Result{}, err
		}
		cmd := domain.AcceptTeamInvitation{Actor: actor, TokenGiven: token != "", Now: a.Now()}
		cmd.TokenValid = cmd.TokenGiven && ValidTokenShape(token) && TokenMatches(token, inv.TokenHash)
		invEvs, orgEvs, err := domain.DecideAcceptTeamInvitation(inv, st.Org, cmd)
		if err != nil {
			return eventstore.Result{}, err
		}
		res, err := a.Store.Append(ctx, eventstore.Batch{
			Meta: a.metadata(ctx, actor, acceptCommand(kind)),
			Streams: []eventstore.StreamAppend{
				teamInvitationAppend(inv, a.newEvents(invEvs)),
				organizationAppend(st.Org, a.newEvents(orgEvs)),
			},
			Release: teamReleases(inv),
		})
		if err == nil {
			for _, e := range invEvs {
				inv.Apply(e)
			}
			st.applied(orgEvs, res)
			out = TeamJoined{Invitation: inv, Member: st.Org.Members[actor.UserID], Since: st.Since[actor.UserID]}
		}
		return res, err
	})
	out.Result = res
	return out, err
}

func acceptCommand(kind domain.TeamInvitationKind) string {
	if kind == domain.TeamInvitationAccountant {
		return "AcceptAccountantInvitation"
	}
	return "AcceptMemberInvitation"
}

// RevokeTeamInvitation withdraws a colleague's or accountant's invitation
// that was not accepted; its link stops working at once.
func (a *App) RevokeTeamInvitation(ctx context.Context, actor domain.Actor, kind domain.TeamInvitationKind, id uuid.UUID) (*domain.TeamInvitation, eventstore.Result, error) {
	var inv *domain.TeamInvitation
	command := "RevokeMemberInvitation"
	if kind == domain.TeamInvitationAccountant {
		command = "RevokeAccountantInvitation"
	}
	res, err := a.retry(ctx, func() (eventstore.Result, error) {
		var err error
		if inv, err = a.LoadTeamInvitation(ctx, kind, id); err != nil {
			return eventstore.Result{}, err
		}
		if !inv.Exists() {
			return eventstore.Result{}, domain.ErrTeamInvitationNotFound()
		}
		o, err := a.LoadOrganization(ctx, inv.OrganizationID)
		if err != nil {
			return eventstore.Result{}, err
		}
		evs, err := domain.DecideRevokeTeamInvitation(inv, o, actor)
		if err != nil {
			return eventstore.Result{}, err
		}
		res, err := a.Store.Append(ctx, eventstore.Batch{Meta: a.metadata(ctx, actor, command),
			Streams: []eventstore.StreamAppend{teamInvitationAppend(inv, a.newEvents(evs))}, Release: teamReleases(inv)})
		if err == nil {
			for _, e := range evs {
				inv.Apply(e)
			}
		}
		return res, err
	})
	return inv, res, err
}
