package domain_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"partners/domain"
)

// authorsState is an organization and the invitations its members sent,
// in the order they were sent.
type authorsState struct {
	org   domain.Organization
	order []uuid.UUID
	team  map[uuid.UUID]*domain.TeamInvitation
	coll  map[uuid.UUID]*domain.CollaboratorInvitation
}

func applyAuthors(s *authorsState, e domain.Event) {
	if s.team == nil {
		s.team, s.coll = map[uuid.UUID]*domain.TeamInvitation{}, map[uuid.UUID]*domain.CollaboratorInvitation{}
	}
	var id uuid.UUID
	switch e := e.(type) {
	case domain.MemberInvitationSent:
		id = e.InvitationID
	case domain.AccountantInvitationSent:
		id = e.InvitationID
	case domain.CollaboratorInvited:
		id = e.InvitationID
	case domain.MemberInvitationAccepted:
		s.team[e.InvitationID].Apply(e)
		return
	case domain.MemberInvitationRevoked:
		s.team[e.InvitationID].Apply(e)
		return
	case domain.CollaboratorInvitationRevoked:
		s.coll[e.InvitationID].Apply(e)
		return
	default:
		s.org.Apply(e)
		return
	}
	s.order = append(s.order, id)
	if c, ok := e.(domain.CollaboratorInvited); ok {
		s.coll[id] = &domain.CollaboratorInvitation{}
		s.coll[id].Apply(c)
		return
	}
	s.team[id] = &domain.TeamInvitation{}
	s.team[id].Apply(e)
}

// sent is every invitation of the state, whoever sent it: the rule must
// leave the others' alone by itself.
func (s *authorsState) sent() []domain.AuthoredInvitation {
	var out []domain.AuthoredInvitation
	for _, id := range s.order {
		if inv, ok := s.team[id]; ok {
			out = append(out, inv)
		} else {
			out = append(out, s.coll[id])
		}
	}
	return out
}

// inv makes invitation ids that say who sent what: n-th of the scenario.
func invN(n int) uuid.UUID {
	return uuid.MustParse(fmt.Sprintf("00000000-0000-4000-8000-0000000001%02d", n))
}

func colleagueInv(n int, by domain.Actor, r domain.Role, expires time.Time) domain.Event {
	return domain.MemberInvitationSent{InvitationID: invN(n), OrganizationID: orgA, InvitedBy: by.UserID, Role: r,
		Email: newbie.EmailPersonal(), EmailRef: newbie.EmailRef, TokenHash: "h", ExpiresAt: expires}
}

func accountantInvBy(n int, by domain.Actor) domain.Event {
	return domain.AccountantInvitationSent{InvitationID: invN(n), OrganizationID: orgA, InvitedBy: by.UserID,
		Email: newbie.EmailPersonal(), EmailRef: newbie.EmailRef, TokenHash: "h", ExpiresAt: t0.Add(ttl)}
}

func collaboratorInvBy(n int, by domain.Actor) domain.Event {
	return domain.CollaboratorInvited{InvitationID: invN(n), OrganizationID: orgA, InvitedBy: by.UserID,
		Email: newbie.EmailPersonal(), EmailRef: newbie.EmailRef, TokenHash: "h", ExpiresAt: t0.Add(ttl)}
}

func lostRight(n int, kind string, by domain.Actor) domain.Event {
	switch kind {
	case "accountant":
		return domain.AccountantInvitationRevoked{InvitationID: invN(n), OrganizationID: orgA, RevokedBy: by.UserID, Reason: domain.ReasonAuthorLostRight}
	case "collaborator":
		return domain.CollaboratorInvitationRevoked{InvitationID: invN(n), OrganizationID: orgA, RevokedBy: by.UserID, Reason: domain.ReasonAuthorLostRight}
	}
	return domain.MemberInvitationRevoked{InvitationID: invN(n), OrganizationID: orgA, RevokedBy: by.UserID, Reason: domain.ReasonAuthorLostRight}
}

// withAuthors decides a team change as the app does: the change, then
// the invitations it ends; the events in the order they are appended.
func withAuthors(decide func(*domain.Organization) ([]domain.Event, error), a domain.Actor) func(*authorsState) ([]domain.Event, error) {
	return func(s *authorsState) ([]domain.Event, error) {
		evs, err := decide(&s.org)
		if err != nil {
			return nil, err
		}
		out := evs
		for _, ended := range domain.DecideAuthorsInvitations(&s.org, s.sent(), domain.AuthorsChange{Events: evs, Actor: a, Now: t0}) {
			out = append(out, ended...)
		}
		return out, nil
	}
}

func TestInvitationsDieWithTheirAuthorsRight(t *testing.T) {
	removeBy := func(a domain.Actor, user string) func(*authorsState) ([]domain.Event, error) {
		return withAuthors(func(o *domain.Organization) ([]domain.Event, error) {
			return domain.DecideRemoveMember(o, domain.RemoveMember{UserID: user, Actor: a})
		}, a)
	}
	roleBy := func(a domain.Actor, user string, r domain.Role) func(*authorsState) ([]domain.Event, error) {
		return withAuthors(func(o *domain.Organization) ([]domain.Event, error) {
			return domain.DecideChangeMemberRole(o, domain.ChangeMemberRole{UserID: user, Role: r, Actor: a})
		}, a)
	}
	removed := func(user string, r domain.Role, by domain.Actor) domain.Event {
		return domain.MemberRemoved{OrganizationID: orgA, UserID: user, Role: r, RemovedBy: by.UserID}
	}
	live := t0.Add(ttl)
	// Adam (admin) sent one of each kind; Olivia (owner) an admin's and a
	// member's invitation; one of Adam's was accepted, one withdrawn, one
	// expired.
	sent := with(
		joined(orgA, owner2, domain.RoleOwner),
		colleagueInv(1, admin, domain.RoleMember, live),
		accountantInvBy(2, admin),
		collaboratorInvBy(3, admin),
		colleagueInv(4, owner, domain.RoleAdmin, live),
		colleagueInv(5, owner, domain.RoleMember, live),
		colleagueInv(6, admin, domain.RoleMember, live),
		domain.MemberInvitationAccepted{InvitationID: invN(6), OrganizationID: orgA, UserID: "someone"},
		colleagueInv(7, admin, domain.RoleMember, live),
		domain.MemberInvitationRevoked{InvitationID: invN(7), OrganizationID: orgA, RevokedBy: "olivia"},
		colleagueInv(8, admin, domain.RoleMember, t0),
		accountantInvBy(9, owner),
		collaboratorInvBy(10, owner2),
	)
	run(t, applyAuthors, []scenario[authorsState]{
		{name: "removed admin: their pending colleague, accountant and collaborator invitations are revoked, nobody else's",
			given: sent, when: removeBy(owner, "adam"), then: []domain.Event{removed("adam", domain.RoleAdmin, owner),
				lostRight(1, "member", owner), lostRight(2, "accountant", owner), lostRight(3, "collaborator", owner)}},
		{name: "owner demoted to admin: their admin invitations are revoked, member and accountant invitations kept",
			given: sent, when: roleBy(owner2, "olivia", domain.RoleAdmin), then: []domain.Event{
				roleChanged("olivia", domain.RoleOwner, domain.RoleAdmin, owner2), lostRight(4, "member", owner2)}},
		{name: "owner demoted to member: every invitation they sent is revoked",
			given: sent, when: roleBy(owner2, "olivia", domain.RoleMember), then: []domain.Event{
				roleChanged("olivia", domain.RoleOwner, domain.RoleMember, owner2), lostRight(4, "member", owner2),
				lostRight(5, "member", owner2), lostRight(9, "accountant", owner2)}},
		{name: "admin demoted to member: members may invite nobody, all revoked",
			given: sent, when: roleBy(owner, "adam", domain.RoleMember), then: []domain.Event{
				roleChanged("adam", domain.RoleAdmin, domain.RoleMember, owner),
				lostRight(1, "member", owner), lostRight(2, "accountant", owner), lostRight(3, "collaborator", owner)}},
		{name: "admin made owner: nothing revoked", given: sent, when: roleBy(owner, "adam", domain.RoleOwner),
			then: []domain.Event{roleChanged("adam", domain.RoleAdmin, domain.RoleOwner, owner)}},
		{name: "removed owner: the collaborator invitation of another owner is untouched",
			given: sent, when: removeBy(owner2, "olivia"), then: []domain.Event{removed("olivia", domain.RoleOwner, owner2),
				lostRight(4, "member", owner2), lostRight(5, "member", owner2), lostRight(9, "accountant", owner2)}},
		{name: "removing a member who sent nothing revokes nothing", given: sent, when: removeBy(admin, "mia"),
			then: []domain.Event{removed("mia", domain.RoleMember, admin)}},
		{name: "a refused change revokes nothing", given: sent, when: removeBy(admin, "olivia"), err: domain.CodeNotAllowed},
		{name: "the same role changes nothing and revokes nothing", given: sent, when: roleBy(owner, "adam", domain.RoleAdmin), then: nil},
	})
}

// An invitation that died with its author's right answers invitation_revoked
// to its link; so does one whose author lost the right while it was being
// sent (no revocation event names it).
func TestAcceptAfterTheAuthorLostTheRight(t *testing.T) {
	accept := func(a domain.Actor) func(*teamState) ([]domain.Event, error) {
		return func(s *teamState) ([]domain.Event, error) {
			return both(domain.DecideAcceptTeamInvitation(&s.inv, &s.org, domain.AcceptTeamInvitation{Actor: a, TokenGiven: true, TokenValid: true, Now: t0}))
		}
	}
	activate := func(a domain.Actor) func(*teamState) ([]domain.Event, error) {
		return func(s *teamState) ([]domain.Event, error) {
			return both(domain.DecideActivateCollaborator(&s.collab, &s.org, domain.ActivateCollaborator{Actor: a, Now: t0}))
		}
	}
	byAdam := memberInv
	byAdam.InvitedBy, byAdam.Role = "adam", domain.RoleMember
	adminByOlivia := memberInv // Olivia (owner) invites an admin
	collabByAdam := collabInv
	collabByAdam.InvitedBy = "adam"
	adamRemoved := domain.MemberRemoved{OrganizationID: orgA, UserID: "adam", Role: domain.RoleAdmin, RemovedBy: "olivia"}
	id := invID
	run(t, applyTeam, []scenario[teamState]{
		{name: "ErrRevokedForTheAuthorsRight", given: with(byAdam, adamRemoved,
			domain.MemberInvitationRevoked{InvitationID: invID, OrganizationID: orgA, RevokedBy: "olivia", Reason: domain.ReasonAuthorLostRight}),
			when: accept(newbie), err: domain.CodeInvitationRevoked},
		{name: "ErrAuthorRemovedWhileItWasSent", given: with(byAdam, adamRemoved), when: accept(newbie), err: domain.CodeInvitationRevoked},
		{name: "ErrAuthorDemotedWhileItWasSent", given: with(joined(orgA, owner2, domain.RoleOwner), adminByOlivia,
			roleChanged("olivia", domain.RoleOwner, domain.RoleAdmin, owner2)), when: accept(newbie), err: domain.CodeInvitationRevoked},
		{name: "ErrCollaboratorAuthorRemoved", given: with(collabByAdam, adamRemoved), when: activate(newbie), err: domain.CodeInvitationRevoked},
		{name: "ErrCollaboratorRevokedForTheAuthorsRight", given: with(collabByAdam, adamRemoved,
			domain.CollaboratorInvitationRevoked{InvitationID: invID, OrganizationID: orgA, RevokedBy: "olivia", Reason: domain.ReasonAuthorLostRight}),
			when: activate(newbie), err: domain.CodeInvitationRevoked},
		{name: "OK a member invitation outlives its author's demotion from owner to admin", given: with(joined(orgA, owner2, domain.RoleOwner),
			colleagueInv(1, owner, domain.RoleMember, t0.Add(ttl)), roleChanged("olivia", domain.RoleOwner, domain.RoleAdmin, owner2)),
			when: func(s *teamState) ([]domain.Event, error) {
				return both(domain.DecideAcceptTeamInvitation(&s.inv, &s.org, domain.AcceptTeamInvitation{Actor: newbie, Now: t0}))
			}, then: []domain.Event{
				domain.MemberInvitationAccepted{InvitationID: invN(1), OrganizationID: orgA, UserID: "nina", Via: "email"},
				domain.MemberJoined{OrganizationID: orgA, UserID: "nina", Email: newbie.EmailPersonal(), Name: newbie.NamePersonal(),
					EmailVerified: true, Role: domain.RoleMember, Via: domain.ViaMemberInvitation, InvitationID: ptr(invN(1))}}},
		{name: "OK a collaborator invitation outlives its author's promotion", given: with(collabByAdam, roleChanged("adam", domain.RoleAdmin, domain.RoleOwner, owner)),
			when: activate(newbie), then: []domain.Event{
				domain.CollaboratorActivated{InvitationID: invID, OrganizationID: orgA, UserID: "nina"},
				domain.MemberJoined{OrganizationID: orgA, UserID: "nina", Email: newbie.EmailPersonal(), Name: newbie.NamePersonal(), EmailVerified: true,
					Role: domain.RoleCollaborator, CanPurchase: true, Via: domain.ViaCollaboratorInvite, InvitationID: &id}}},
	})
}

func ptr[T any](v T) *T { return &v }

// MayGrant is the permission table's members.manage, and "only owners
// invite admins".
func TestMayGrant(t *testing.T) {
	var o domain.Organization
	for _, e := range team() {
		o.Apply(e)
	}
	roles := []domain.Role{domain.RoleAdmin, domain.RoleMember, domain.RoleAccountant, domain.RoleCollaborator}
	for user, want := range map[string][]bool{
		"olivia": {true, true, true, true}, "adam": {false, true, true, true}, "mia": {false, false, false, false},
		"chloe": {false, false, false, false}, "karim": {false, false, false, false}, "eve": {false, false, false, false},
	} {
		for i, r := range roles {
			if got := o.MayGrant(user, r); got != want[i] {
				t.Errorf("MayGrant(%s, %s) = %v; want %v", user, r, got, want[i])
			}
		}
	}
}

// The refusal says why, so the landing page can tell the invitee to ask
// again rather than blame the link.
func TestAuthorLostRightSaysWhy(t *testing.T) {
	byAdam := memberInv
	byAdam.InvitedBy, byAdam.Role = "adam", domain.RoleMember
	for name, given := range map[string][]domain.Event{
		"revoked for it": with(byAdam, domain.MemberRemoved{OrganizationID: orgA, UserID: "adam", Role: domain.RoleAdmin},
			domain.MemberInvitationRevoked{InvitationID: invID, OrganizationID: orgA, Reason: domain.ReasonAuthorLostRight}),
		"author removed meanwhile": with(byAdam, domain.MemberRemoved{OrganizationID: orgA, UserID: "adam", Role: domain.RoleAdmin}),
	} {
		var s teamState
		for _, e := range given {
			applyTeam(&s, e)
		}
		_, _, err := domain.DecideAcceptTeamInvitation(&s.inv, &s.org, domain.AcceptTeamInvitation{Actor: newbie, Now: t0})
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeInvitationRevoked || de.Details["reason"] != domain.ReasonAuthorLostRight {
			t.Errorf("%s: err = %#v; want invitation_revoked with reason %s", name, err, domain.ReasonAuthorLostRight)
		}
	}
	// An owner's or admin's withdrawal keeps its own words.
	var s teamState
	for _, e := range with(byAdam, domain.MemberInvitationRevoked{InvitationID: invID, OrganizationID: orgA, RevokedBy: "olivia"}) {
		applyTeam(&s, e)
	}
	_, _, err := domain.DecideAcceptTeamInvitation(&s.inv, &s.org, domain.AcceptTeamInvitation{Actor: newbie, Now: t0})
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.CodeInvitationRevoked || de.Details["reason"] != nil {
		t.Errorf("withdrawn by the owner: err = %#v; want invitation_revoked without a reason", err)
	}
}

// Revocations stored before the reason existed read as they did: withdrawn
// by the organization, for no stated reason.
func TestRevocationsOfThePastStillRead(t *testing.T) {
	for _, typ := range []string{"MemberInvitationRevoked", "AccountantInvitationRevoked"} {
		e, err := domain.DecodeEvent(typ, 1, []byte(`{"invitation_id":"`+invID.String()+`","organization_id":"`+orgA.String()+`","revoked_by":"olivia"}`))
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		var inv domain.TeamInvitation
		inv.Apply(memberInv)
		inv.Apply(e)
		if inv.Status != domain.StatusRevoked || inv.RevokedFor != "" {
			t.Fatalf("%s: status %s, reason %q; want revoked for no stated reason", typ, inv.Status, inv.RevokedFor)
		}
	}
}
