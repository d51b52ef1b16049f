package app

import (
	"context"
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
	l, err := organizationFold.load(ctx, a, organizationStream(id))
	if err != nil {
		return OrganizationState{}, err
	}
	return *l.state, nil
}

func organizationStream(id uuid.UUID) stream {
	return stream{domain.OrganizationStream(id), domain.OrganizationStreamType}
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

// changeOrganization runs a decision that touches only the organization's
// stream. A decision with nothing to change appends nothing and answers the
// stream's current position.
func changeOrganization[C any](ctx context.Context, a *App, actor domain.Actor, org uuid.UUID, command string,
	decide func(*domain.Organization, C) ([]domain.Event, error), c C) (*OrganizationState, eventstore.Result, error) {
	return updateOrganization(ctx, a, actor, org, command,
		func(_ *attempt, st *OrganizationState) ([]domain.Event, error) { return decide(st.Org, c) })
}

// updateOrganization is update for a decision on an organization, loaded
// by the attempt (which records the actor's newer email with it).
func updateOrganization(ctx context.Context, a *App, actor domain.Actor, org uuid.UUID, command string,
	decide func(t *attempt, st *OrganizationState) ([]domain.Event, error)) (*OrganizationState, eventstore.Result, error) {
	return updateLoaded(ctx, a, actor, command, func(t *attempt) (loaded[*OrganizationState], error) { return t.organization(ctx, org) }, decide)
}

// MemberChange is a membership as a command leaves it.
type MemberChange struct {
	Member domain.Member
	Since  time.Time
	Result eventstore.Result
}

// memberChange is the outcome of a command on one member.
func memberChange(st *OrganizationState, userID string, res eventstore.Result, err error) (MemberChange, error) {
	if err != nil {
		return MemberChange{}, err
	}
	return MemberChange{Member: st.Org.Members[userID], Since: st.Since[userID], Result: res}, nil
}

// ChangeMemberRole gives a colleague another team role; the invitations
// they sent that the new role may not grant are revoked with it.
func (a *App) ChangeMemberRole(ctx context.Context, actor domain.Actor, org uuid.UUID, userID string, role domain.Role) (MemberChange, error) {
	st, res, err := changeTeam(ctx, a, actor, org, userID, "ChangeMemberRole", domain.DecideChangeMemberRole,
		domain.ChangeMemberRole{UserID: userID, Role: role, Actor: actor})
	return memberChange(st, userID, res, err)
}

// RemoveMember removes a colleague from the team, and revokes with it the
// invitations they sent that are still pending.
func (a *App) RemoveMember(ctx context.Context, actor domain.Actor, org uuid.UUID, userID string) (eventstore.Result, error) {
	_, res, err := changeTeam(ctx, a, actor, org, userID, "RemoveMember", domain.DecideRemoveMember,
		domain.RemoveMember{UserID: userID, Actor: actor})
	return res, err
}

// =============================================================================
// Invitations die with their author's right (domain/team_authors.go)

// changeTeam runs a change to the team that may take from userID the
// right to grant invitations. The pending invitations userID sent that
// the change leaves them unable to grant are revoked in the same batch,
// each invitation's stream at the version it was decided on: an
// acceptance that races the change loses, or wins and is not revoked.
// An invitation sent while the change was being decided escapes the
// list; its acceptance is refused by the domain all the same.
func changeTeam[C any](ctx context.Context, a *App, actor domain.Actor, org uuid.UUID, userID, command string,
	decide func(*domain.Organization, C) ([]domain.Event, error), c C) (*OrganizationState, eventstore.Result, error) {
	return updateOrganization(ctx, a, actor, org, command,
		func(t *attempt, st *OrganizationState) ([]domain.Event, error) {
			evs, err := decide(st.Org, c)
			if err != nil || len(evs) == 0 {
				return evs, err
			}
			sent, err := a.sentBy(ctx, org, userID)
			if err != nil {
				return nil, err
			}
			invs := make([]domain.AuthoredInvitation, len(sent))
			for i, s := range sent {
				invs[i] = s.inv
			}
			for i, ended := range domain.DecideAuthorsInvitations(st.Org, invs, domain.AuthorsChange{Events: evs, Actor: actor, Now: a.Now()}) {
				if len(ended) > 0 {
					sent[i].end(t, ended)
				}
			}
			return evs, nil
		})
}

// sentInvitation is an invitation a member sent, as a team change loaded
// it: what the rule reads, and how its revocation is appended.
type sentInvitation struct {
	inv domain.AuthoredInvitation
	end func(t *attempt, evs []domain.Event)
}

// sentBy loads every colleague, accountant and collaborator invitation
// userID sent in org, whatever its status (the domain tells the pending
// ones).
func (a *App) sentBy(ctx context.Context, org uuid.UUID, userID string) ([]sentInvitation, error) {
	refs, err := a.Store.StreamsStartedWith(ctx, org, []string{domain.MemberInvitationSent{}.EventType(),
		domain.AccountantInvitationSent{}.EventType(), domain.CollaboratorInvited{}.EventType()}, map[string]string{"invited_by": userID})
	if err != nil {
		return nil, err
	}
	out := make([]sentInvitation, 0, len(refs))
	for _, r := range refs {
		var si sentInvitation
		s := stream{r.ID, r.Type}
		if r.Type == domain.CollaboratorInvitationStreamType {
			si, err = sentIn(ctx, a, collaborators, s, func(i *domain.CollaboratorInvitation) string {
				return collaborators.pendingKey(i.OrganizationID, i.EmailRef)
			})
		} else if kind, ok := teamKinds[r.Type]; ok {
			k := teamInvitations(kind)
			si, err = sentIn(ctx, a, k, s, func(i *domain.TeamInvitation) string { return k.pendingKey(i.OrganizationID, i.EmailRef) })
		} else {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, si)
	}
	return out, nil
}

var teamKinds = map[string]domain.TeamInvitationKind{
	domain.TeamInvitationMember.StreamType():     domain.TeamInvitationMember,
	domain.TeamInvitationAccountant.StreamType(): domain.TeamInvitationAccountant,
}

// sentIn loads one invitation of kind k. Its revocation frees the pending
// slot (slot names it), so the email may be invited again, but keeps the
// token's reservation: the link still finds the invitation, and answers
// that it was revoked rather than that it is unknown.
func sentIn[P interface {
	tokenInvitation
	domain.AuthoredInvitation
}](ctx context.Context, a *App, k tokenKind[P], s stream, slot func(P) string) (sentInvitation, error) {
	l, err := k.fold.load(ctx, a, s)
	if err != nil {
		return sentInvitation{}, err
	}
	return sentInvitation{inv: l.state, end: func(t *attempt, evs []domain.Event) {
		id, _ := l.state.Link()
		l.append(t, evs)
		t.batch.Release = append(t.batch.Release, eventstore.Release{Key: slot(l.state), Holder: id.String()})
	}}, nil
}

// RevokeAccountantAccess withdraws an accountant's access; every decision
// and every authorization answer from the returned position on is made
// without it.
func (a *App) RevokeAccountantAccess(ctx context.Context, actor domain.Actor, org uuid.UUID, userID string) (eventstore.Result, error) {
	_, res, err := changeOrganization(ctx, a, actor, org, "RevokeAccountantAccess", domain.DecideRevokeAccountantAccess,
		domain.RevokeAccountantAccess{UserID: userID, Actor: actor})
	return res, err
}

// =============================================================================
// Colleague and accountant invitations

// teamInvitations is where the invitations of a kind are stored.
func teamInvitations(kind domain.TeamInvitationKind) tokenKind[*domain.TeamInvitation] {
	return newTokenKind[domain.TeamInvitation]("team-invitation", kind.Stream, kind.StreamType(), "pending-"+string(kind)+"-invitation")
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
	return a.sendTeamInvitation(ctx, org, "InviteMember", domain.SendTeamInvitation{Kind: domain.TeamInvitationMember, Role: role,
		TokenSend: domain.TokenSend{Email: email, Locale: locale, Actor: actor}})
}

// GrantAccountantAccess invites the organization's accountant by email.
func (a *App) GrantAccountantAccess(ctx context.Context, actor domain.Actor, org uuid.UUID, email domain.Email, message, locale string) (TeamSent, error) {
	return a.sendTeamInvitation(ctx, org, "GrantAccountantAccess", domain.SendTeamInvitation{Kind: domain.TeamInvitationAccountant,
		Message: message, TokenSend: domain.TokenSend{Email: email, Locale: locale, Actor: actor}})
}

// sendTeamInvitation records an invitation; one pending invitation per
// organization, kind and email.
func (a *App) sendTeamInvitation(ctx context.Context, org uuid.UUID, command string, c domain.SendTeamInvitation) (TeamSent, error) {
	inv, token, res, err := sendWithToken(ctx, a, org, command, teamInvitations(c.Kind), c.TokenSend,
		func(_ *attempt, o *domain.Organization, s domain.TokenSend, pending *domain.TeamInvitation) ([]domain.Event, error) {
			c.TokenSend, c.Pending = s, pending
			return domain.DecideSendTeamInvitation(o, c)
		})
	return TeamSent{Invitation: inv, Token: token, Result: res}, err
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
	k := teamInvitations(kind)
	var inv *domain.TeamInvitation
	var st *OrganizationState
	res, err := a.run(ctx, actor, acceptCommand(kind), func(t *attempt) error {
		li, err := k.fold.load(ctx, a, k.stream(id))
		if err != nil {
			return err
		}
		// An id never sent is decided like one not addressed to the
		// caller, so that the two answer alike.
		inv = li.state
		lo, err := t.organization(ctx, inv.OrganizationID)
		if err != nil {
			return err
		}
		st = lo.state
		cmd := domain.AcceptTeamInvitation{Actor: actor, TokenGiven: token != "", Now: a.Now()}
		cmd.TokenValid = cmd.TokenGiven && ValidTokenShape(token) && TokenMatches(token, inv.TokenHash)
		invEvs, orgEvs, err := domain.DecideAcceptTeamInvitation(inv, st.Org, cmd)
		if err != nil {
			return err
		}
		li.append(t, invEvs)
		lo.append(t, orgEvs)
		closing(t, k.pendingKey(inv.OrganizationID, inv.EmailRef), inv)
		return nil
	})
	if err != nil {
		return TeamJoined{Result: res}, err
	}
	return TeamJoined{Invitation: inv, Member: st.Org.Members[actor.UserID], Since: st.Since[actor.UserID], Result: res}, nil
}

// TeamInvitationByToken is what a colleague's or accountant's invitation
// link opens, for its landing page. A token of another kind opens nothing.
func (a *App) TeamInvitationByToken(ctx context.Context, kind domain.TeamInvitationKind, token string) (*domain.TeamInvitation, error) {
	return linkPreview(ctx, a, teamInvitations(kind), token)
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
	command := "RevokeMemberInvitation"
	if kind == domain.TeamInvitationAccountant {
		command = "RevokeAccountantInvitation"
	}
	k := teamInvitations(kind)
	return update(ctx, a, actor, command, k.fold, k.stream(id), func(t *attempt, inv *domain.TeamInvitation) ([]domain.Event, error) {
		if !inv.Exists() {
			return nil, domain.ErrInvitationNotFound()
		}
		o, err := t.org(ctx, inv.OrganizationID)
		if err != nil {
			return nil, err
		}
		closing(t, k.pendingKey(inv.OrganizationID, inv.EmailRef), inv)
		return domain.DecideRevokeTeamInvitation(inv, o, domain.RevokeTeamInvitation{Actor: actor})
	})
}
