package domain_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"partners/domain"
)

// teamState is what the team's decisions read: the organization, and the
// one invitation or request a scenario is about. Given events go to
// whichever of them they belong to.
type teamState struct {
	org    domain.Organization
	inv    domain.TeamInvitation
	collab domain.CollaboratorInvitation
	req    domain.CollaborationRequest
}

func applyTeam(s *teamState, e domain.Event) {
	switch e.(type) {
	case domain.MemberInvitationSent, domain.MemberInvitationAccepted, domain.MemberInvitationRevoked,
		domain.AccountantInvitationSent, domain.AccountantInvitationAccepted, domain.AccountantInvitationRevoked:
		s.inv.Apply(e)
	case domain.CollaboratorInvited, domain.CollaboratorActivated, domain.CollaboratorInvitationRevoked:
		s.collab.Apply(e)
	case domain.CollaborationRequested, domain.CollaborationRequestApproved, domain.CollaborationRequestRejected:
		s.req.Apply(e)
	default:
		s.org.Apply(e)
	}
}

// both joins the events a decision appends to two streams, in the order
// they are appended.
func both(a, b []domain.Event, err error) ([]domain.Event, error) {
	if err != nil {
		return nil, err
	}
	return append(a, b...), nil
}

var (
	owner      = actor("olivia", "olivia@acme.fr")
	owner2     = actor("oscar", "oscar@acme.fr")
	admin      = actor("adam", "adam@acme.fr")
	plain      = actor("mia", "mia@acme.fr")
	accountant = actor("chloe", "chloe@cabinet.fr")
	collab     = actor("karim", "karim@acme.fr")
	outsider   = actor("eve", "eve@elsewhere.fr")
	siretAcme  = "73282932000074"
	reqID      = uuid.MustParse("00000000-0000-4000-8000-0000000000f1")
)

// team is Acme with one of each kind of member.
func team() []domain.Event {
	return []domain.Event{
		domain.OrganizationCreated{OrganizationID: orgA, Name: "Acme", Side: domain.SideClient, Siret: siretAcme},
		joined(orgA, owner, domain.RoleOwner),
		joined(orgA, admin, domain.RoleAdmin),
		joined(orgA, plain, domain.RoleMember),
		joined(orgA, accountant, domain.RoleAccountant),
		domain.MemberJoined{OrganizationID: orgA, UserID: collab.UserID, Email: collab.EmailPersonal(), Name: collab.NamePersonal(),
			EmailVerified: true, Role: domain.RoleCollaborator, CanPurchase: true, Via: "creation"},
	}
}

func with(evs ...domain.Event) []domain.Event { return append(team(), evs...) }

func changeRole(a domain.Actor, user string, r domain.Role) func(*teamState) ([]domain.Event, error) {
	return func(s *teamState) ([]domain.Event, error) {
		return domain.DecideChangeMemberRole(&s.org, domain.ChangeMemberRole{UserID: user, Role: r, Actor: a})
	}
}

func roleChanged(user string, from, to domain.Role, by domain.Actor) domain.Event {
	who := map[string]domain.Actor{"olivia": owner, "oscar": owner2, "adam": admin, "mia": plain}[user]
	return domain.MemberRoleChanged{OrganizationID: orgA, UserID: user, EmailRef: who.EmailRef, EmailVerified: who.EmailVerified,
		Role: to, PreviousRole: from, ChangedBy: by.UserID}
}

func TestChangeMemberRole(t *testing.T) {
	t.Parallel()
	run(t, applyTeam, []scenario[teamState]{
		{name: "OK owner makes a member admin", given: team(), when: changeRole(owner, "mia", domain.RoleAdmin),
			then: []domain.Event{roleChanged("mia", domain.RoleMember, domain.RoleAdmin, owner)}},
		{name: "OK owner makes an admin owner", given: team(), when: changeRole(owner, "adam", domain.RoleOwner),
			then: []domain.Event{roleChanged("adam", domain.RoleAdmin, domain.RoleOwner, owner)}},
		{name: "OK an owner steps down when another owner remains", given: with(joined(orgA, owner2, domain.RoleOwner)),
			when: changeRole(owner, "olivia", domain.RoleMember), then: []domain.Event{roleChanged("olivia", domain.RoleOwner, domain.RoleMember, owner)}},
		{name: "OK the same role changes nothing", given: team(), when: changeRole(owner, "mia", domain.RoleMember), then: nil},
		{name: "OK admin gives a member the member role (nothing to do)", given: team(), when: changeRole(admin, "mia", domain.RoleMember), then: nil},
		{name: "ErrLastOwner demoting the only owner", given: team(), when: changeRole(owner, "olivia", domain.RoleAdmin), err: domain.CodeLastOwner},
		{name: "ErrAdminMakesAdmin", given: team(), when: changeRole(admin, "mia", domain.RoleAdmin), err: domain.CodeNotAllowed},
		{name: "ErrAdminMakesOwner", given: team(), when: changeRole(admin, "mia", domain.RoleOwner), err: domain.CodeNotAllowed},
		{name: "ErrAdminDemotesOwner", given: team(), when: changeRole(admin, "olivia", domain.RoleMember), err: domain.CodeNotAllowed},
		{name: "ErrAdminDemotesItself", given: team(), when: changeRole(admin, "adam", domain.RoleMember), err: domain.CodeNotAllowed},
		{name: "ErrMemberMayNot", given: team(), when: changeRole(plain, "mia", domain.RoleAdmin), err: domain.CodeNotAllowed},
		{name: "ErrAccountantMayNot", given: team(), when: changeRole(accountant, "mia", domain.RoleAdmin), err: domain.CodeNotAllowed},
		{name: "ErrCollaboratorMayNot", given: team(), when: changeRole(collab, "mia", domain.RoleAdmin), err: domain.CodeNotAllowed},
		{name: "ErrOutsiderSeesNothing", given: team(), when: changeRole(outsider, "mia", domain.RoleAdmin), err: domain.CodeNotFound},
		{name: "ErrUnknownMember", given: team(), when: changeRole(owner, "nobody", domain.RoleAdmin), err: domain.CodeNotFound},
		{name: "ErrAccountantIsNotATeamMember", given: team(), when: changeRole(owner, "chloe", domain.RoleAdmin), err: domain.CodeNotTeamMember},
		{name: "ErrCollaboratorIsNotATeamMember", given: team(), when: changeRole(owner, "karim", domain.RoleMember), err: domain.CodeNotTeamMember},
		{name: "ErrRoleCollaborator", given: team(), when: changeRole(owner, "mia", domain.RoleCollaborator), err: domain.CodeValidationFailed},
		{name: "ErrRemovedMember", given: with(domain.MemberRemoved{OrganizationID: orgA, UserID: "mia", Role: domain.RoleMember}),
			when: changeRole(owner, "mia", domain.RoleAdmin), err: domain.CodeNotFound},
	})
}

// Two owners demote each other, or themselves, at the same moment: both
// decide on the same state; the store lets one append, and the other
// decides again on the new state, where it is refused.
func TestTwoOwnersAtOnce(t *testing.T) {
	t.Parallel()
	// given is the team with two owners, then what the first one did.
	given := func(first domain.Event) []domain.Event { return with(joined(orgA, owner2, domain.RoleOwner), first) }
	run(t, applyTeam, []scenario[teamState]{
		{name: "each demotes the other: the second is no longer an owner",
			given: given(roleChanged("oscar", domain.RoleOwner, domain.RoleAdmin, owner)),
			when:  changeRole(owner2, "olivia", domain.RoleAdmin), err: domain.CodeNotAllowed},
		{name: "each demotes itself: the second is the last owner",
			given: given(roleChanged("oscar", domain.RoleOwner, domain.RoleMember, owner2)),
			when:  changeRole(owner, "olivia", domain.RoleMember), err: domain.CodeLastOwner},
		{name: "each removes the other: the second is gone",
			given: given(domain.MemberRemoved{OrganizationID: orgA, UserID: "oscar", Role: domain.RoleOwner, RemovedBy: "olivia"}),
			when: func(s *teamState) ([]domain.Event, error) {
				return domain.DecideRemoveMember(&s.org, domain.RemoveMember{UserID: "olivia", Actor: owner2})
			}, err: domain.CodeNotFound},
		{name: "one removes itself, the other demotes itself: last owner",
			given: given(domain.MemberRemoved{OrganizationID: orgA, UserID: "oscar", Role: domain.RoleOwner, RemovedBy: "oscar"}),
			when:  changeRole(owner, "olivia", domain.RoleAdmin), err: domain.CodeLastOwner},
	})
}

func TestRemoveMember(t *testing.T) {
	t.Parallel()
	remove := func(a domain.Actor, user string) func(*teamState) ([]domain.Event, error) {
		return func(s *teamState) ([]domain.Event, error) {
			return domain.DecideRemoveMember(&s.org, domain.RemoveMember{UserID: user, Actor: a})
		}
	}
	removed := func(user string, r domain.Role, by domain.Actor) domain.Event {
		return domain.MemberRemoved{OrganizationID: orgA, UserID: user, Role: r, RemovedBy: by.UserID}
	}
	run(t, applyTeam, []scenario[teamState]{
		{name: "OK owner removes an admin", given: team(), when: remove(owner, "adam"), then: []domain.Event{removed("adam", domain.RoleAdmin, owner)}},
		{name: "OK admin removes a member", given: team(), when: remove(admin, "mia"), then: []domain.Event{removed("mia", domain.RoleMember, admin)}},
		{name: "OK owner removes another owner", given: with(joined(orgA, owner2, domain.RoleOwner)), when: remove(owner, "oscar"),
			then: []domain.Event{removed("oscar", domain.RoleOwner, owner)}},
		{name: "ErrLastOwner", given: team(), when: remove(owner, "olivia"), err: domain.CodeLastOwner},
		{name: "ErrAdminRemovesAdmin", given: with(joined(orgA, owner2, domain.RoleAdmin)), when: remove(admin, "oscar"), err: domain.CodeNotAllowed},
		{name: "ErrAdminRemovesOwner", given: team(), when: remove(admin, "olivia"), err: domain.CodeNotAllowed},
		{name: "ErrMemberMayNot", given: team(), when: remove(plain, "mia"), err: domain.CodeNotAllowed},
		{name: "ErrOutsider", given: team(), when: remove(outsider, "mia"), err: domain.CodeNotFound},
		{name: "ErrAccountant", given: team(), when: remove(owner, "chloe"), err: domain.CodeNotTeamMember},
		{name: "ErrUnknown", given: team(), when: remove(owner, "nobody"), err: domain.CodeNotFound},
	})
}

func TestAccountantAccessRevoked(t *testing.T) {
	t.Parallel()
	revoke := func(a domain.Actor, user string) func(*teamState) ([]domain.Event, error) {
		return func(s *teamState) ([]domain.Event, error) {
			return domain.DecideRevokeAccountantAccess(&s.org, domain.RevokeAccountantAccess{UserID: user, Actor: a})
		}
	}
	revoked := domain.AccountantAccessRevoked{OrganizationID: orgA, UserID: "chloe", RevokedBy: "adam"}
	run(t, applyTeam, []scenario[teamState]{
		{name: "OK admin revokes", given: team(), when: revoke(admin, "chloe"), then: []domain.Event{revoked}},
		{name: "ErrNotAnAccountant", given: team(), when: revoke(owner, "mia"), err: domain.CodeNotFound},
		{name: "ErrAlreadyRevoked", given: with(revoked), when: revoke(owner, "chloe"), err: domain.CodeNotFound},
		{name: "ErrMemberMayNot", given: team(), when: revoke(plain, "chloe"), err: domain.CodeNotAllowed},
		{name: "ErrAccountantRevokesItself", given: team(), when: revoke(accountant, "chloe"), err: domain.CodeNotAllowed},
		{name: "ErrOutsider", given: team(), when: revoke(outsider, "chloe"), err: domain.CodeNotFound},
	})
	// Every decision after the revocation is made without the access.
	var o domain.Organization
	for _, e := range with(revoked) {
		o.Apply(e)
	}
	if err := o.Require(accountant, domain.ActionDocumentsReadAll); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("after the revocation: %v; want not_found (no access left)", err)
	}
	if g := o.GrantOf("chloe"); g != (domain.Grant{}) {
		t.Fatalf("grant after the revocation = %+v; want none", g)
	}
}

func TestCollaboratorPermissions(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	change := func(a domain.Actor, user string, purchase, all *bool) func(*teamState) ([]domain.Event, error) {
		return func(s *teamState) ([]domain.Event, error) {
			return domain.DecideChangeCollaboratorPermissions(&s.org, domain.ChangeCollaboratorPermissions{UserID: user,
				CanPurchase: purchase, CanSeeAllOrders: all, Actor: a})
		}
	}
	run(t, applyTeam, []scenario[teamState]{
		{name: "OK both", given: team(), when: change(owner, "karim", &no, &yes), then: []domain.Event{
			domain.CollaboratorPermissionsChanged{OrganizationID: orgA, UserID: "karim", CanPurchase: false, CanSeeAllOrders: true, ChangedBy: "olivia"}}},
		{name: "OK one, the other kept", given: team(), when: change(admin, "karim", nil, &yes), then: []domain.Event{
			domain.CollaboratorPermissionsChanged{OrganizationID: orgA, UserID: "karim", CanPurchase: true, CanSeeAllOrders: true, ChangedBy: "adam"}}},
		{name: "OK unchanged changes nothing", given: team(), when: change(owner, "karim", &yes, &no), then: nil},
		{name: "OK nothing given changes nothing", given: team(), when: change(owner, "karim", nil, nil), then: nil},
		{name: "ErrNotACollaborator", given: team(), when: change(owner, "mia", &yes, nil), err: domain.CodeNotFound},
		{name: "ErrMemberMayNot", given: team(), when: change(plain, "karim", &yes, nil), err: domain.CodeNotAllowed},
		{name: "ErrCollaboratorChangesItself", given: team(), when: change(collab, "karim", &yes, &yes), err: domain.CodeNotAllowed},
		{name: "OK remove", given: team(), when: func(s *teamState) ([]domain.Event, error) {
			return domain.DecideRemoveCollaborator(&s.org, domain.RemoveCollaborator{UserID: "karim", Actor: admin})
		}, then: []domain.Event{domain.CollaboratorRemoved{OrganizationID: orgA, UserID: "karim", RemovedBy: "adam"}}},
		{name: "ErrRemoveNotACollaborator", given: team(), when: func(s *teamState) ([]domain.Event, error) {
			return domain.DecideRemoveCollaborator(&s.org, domain.RemoveCollaborator{UserID: "chloe", Actor: owner})
		}, err: domain.CodeNotFound},
	})
	var o domain.Organization
	for _, e := range with(domain.CollaboratorPermissionsChanged{OrganizationID: orgA, UserID: "karim", CanPurchase: false, CanSeeAllOrders: true}) {
		o.Apply(e)
	}
	if g := o.GrantOf("karim"); g != (domain.Grant{Role: "collaborator", CanSeeAllOrders: true}) {
		t.Fatalf("grant after the change = %+v; want the new permissions", g)
	}
}

var (
	newbie    = actor("nina", "nina@acme.fr")
	memberInv = domain.MemberInvitationSent{InvitationID: invID, OrganizationID: orgA, OrganizationName: "Acme", InvitedBy: "olivia",
		InviterName: owner.NamePersonal(), Email: newbie.EmailPersonal(), EmailRef: newbie.EmailRef, Role: domain.RoleAdmin,
		TokenHash: "h1", ExpiresAt: t0.Add(ttl), Locale: "fr"}
	accountantInv = domain.AccountantInvitationSent{InvitationID: invID, OrganizationID: orgA, OrganizationName: "Acme", InvitedBy: "adam",
		InviterName: admin.NamePersonal(), Email: newbie.EmailPersonal(), EmailRef: newbie.EmailRef,
		Message: domain.PersonalOf(newbie.EmailRef, "Bonjour"), TokenHash: "h1", ExpiresAt: t0.Add(ttl), Locale: "en"}
)

func TestSendTeamInvitation(t *testing.T) {
	t.Parallel()
	pending := &domain.TeamInvitation{}
	pending.Apply(domain.MemberInvitationSent{InvitationID: inv2ID, ExpiresAt: t0.Add(time.Hour)})
	expired := &domain.TeamInvitation{}
	expired.Apply(domain.MemberInvitationSent{InvitationID: inv2ID, ExpiresAt: t0})
	send := func(a domain.Actor, kind domain.TeamInvitationKind, who domain.Actor, r domain.Role, p *domain.TeamInvitation) func(*teamState) ([]domain.Event, error) {
		return func(s *teamState) ([]domain.Event, error) {
			msg, locale := "", "fr"
			if kind == domain.TeamInvitationAccountant {
				msg, locale = "Bonjour", "en"
			}
			return domain.DecideSendTeamInvitation(&s.org, domain.SendTeamInvitation{TokenSend: domain.TokenSend{InvitationID: invID,
				Email: who.Email, EmailRef: who.EmailRef, TokenHash: "h1", Locale: locale, Actor: a, Now: t0, TTL: ttl},
				Kind: kind, Role: r, Message: msg, Pending: p})
		}
	}
	member := domain.TeamInvitationMember
	run(t, applyTeam, []scenario[teamState]{
		{name: "OK owner invites an admin", given: team(), when: send(owner, member, newbie, domain.RoleAdmin, nil), then: []domain.Event{memberInv}},
		{name: "OK an expired pending invitation does not block", given: team(), when: send(owner, member, newbie, domain.RoleAdmin, expired),
			then: []domain.Event{memberInv}},
		{name: "OK GrantAccountantAccess by an admin", given: team(), when: send(admin, domain.TeamInvitationAccountant, newbie, domain.Role{}, nil),
			then: []domain.Event{accountantInv}},
		{name: "ErrAdminInvitesAdmin", given: team(), when: send(admin, member, newbie, domain.RoleAdmin, nil), err: domain.CodeNotAllowed},
		{name: "ErrInviteOwner", given: team(), when: send(owner, member, newbie, domain.RoleOwner, nil), err: domain.CodeValidationFailed},
		{name: "ErrMemberMayNot", given: team(), when: send(plain, member, newbie, domain.RoleMember, nil), err: domain.CodeNotAllowed},
		{name: "ErrAccountantMayNotGrant", given: team(), when: send(accountant, domain.TeamInvitationAccountant, newbie, domain.Role{}, nil), err: domain.CodeNotAllowed},
		{name: "ErrOutsider", given: team(), when: send(outsider, member, newbie, domain.RoleMember, nil), err: domain.CodeNotFound},
		{name: "ErrAlreadyMember", given: team(), when: send(owner, member, plain, domain.RoleMember, nil), err: domain.CodeAlreadyMember},
		{name: "ErrAccountantAlreadyThere", given: team(), when: send(owner, domain.TeamInvitationAccountant, accountant, domain.Role{}, nil), err: domain.CodeAlreadyMember},
		{name: "ErrDuplicatePending", given: team(), when: send(owner, member, newbie, domain.RoleMember, pending), err: domain.CodeDuplicatePending},
	})
}

func TestAcceptTeamInvitation(t *testing.T) {
	t.Parallel()
	accept := func(a domain.Actor, given, valid bool, now time.Time) func(*teamState) ([]domain.Event, error) {
		return func(s *teamState) ([]domain.Event, error) {
			return both(domain.DecideAcceptTeamInvitation(&s.inv, &s.org, domain.AcceptTeamInvitation{Actor: a, TokenGiven: given, TokenValid: valid, Now: now}))
		}
	}
	id := invID
	joinedAs := func(a domain.Actor, r domain.Role, via string) domain.Event {
		return domain.MemberJoined{OrganizationID: orgA, UserID: a.UserID, Email: a.EmailPersonal(), Name: a.NamePersonal(),
			EmailVerified: a.EmailVerified, Role: r, Via: via, InvitationID: &id}
	}
	other := actor("nina-pro", "nina.pro@other.fr")
	unverified := newbie
	unverified.EmailVerified = false
	run(t, applyTeam, []scenario[teamState]{
		{name: "OK with the invited verified email, no token", given: with(memberInv), when: accept(newbie, false, false, t0),
			then: []domain.Event{domain.MemberInvitationAccepted{InvitationID: invID, OrganizationID: orgA, UserID: "nina", Via: "email"},
				joinedAs(newbie, domain.RoleAdmin, domain.ViaMemberInvitation)}},
		{name: "OK with the token from any account", given: with(memberInv), when: accept(other, true, true, t0),
			then: []domain.Event{domain.MemberInvitationAccepted{InvitationID: invID, OrganizationID: orgA, UserID: "nina-pro", Via: "token"},
				joinedAs(other, domain.RoleAdmin, domain.ViaMemberInvitation)}},
		{name: "OK the accountant accepts with the link from another account", given: with(accountantInv), when: accept(other, true, true, t0),
			then: []domain.Event{domain.AccountantInvitationAccepted{InvitationID: invID, OrganizationID: orgA, UserID: "nina-pro", Via: "token"},
				joinedAs(other, domain.RoleAccountant, domain.ViaAccountantInvitation)}},
		{name: "ErrNoTokenAnotherEmail", given: with(memberInv), when: accept(other, false, false, t0), err: domain.CodeInvalidToken},
		{name: "ErrNoTokenUnverifiedEmail", given: with(memberInv), when: accept(unverified, false, false, t0), err: domain.CodeInvalidToken},
		{name: "ErrWrongTokenEvenWithTheEmail", given: with(memberInv), when: accept(newbie, true, false, t0), err: domain.CodeInvalidToken},
		{name: "ErrExpired", given: with(memberInv), when: accept(newbie, true, true, t0.Add(ttl)), err: domain.CodeInvitationExpired},
		{name: "ErrRevoked", given: with(memberInv, domain.MemberInvitationRevoked{InvitationID: invID}), when: accept(newbie, true, true, t0),
			err: domain.CodeInvitationRevoked},
		{name: "ErrAccepted", given: with(memberInv, domain.MemberInvitationAccepted{InvitationID: invID, UserID: "x"}), when: accept(newbie, true, true, t0),
			err: domain.CodeInvitationAnswered},
		{name: "ErrAlreadyMember", given: with(memberInv), when: accept(plain, true, true, t0), err: domain.CodeAlreadyMember},
		{name: "ErrUnknownReadsAsNotYours", given: team(), when: accept(newbie, true, true, t0), err: domain.CodeInvalidToken},
	})
}

func TestRevokeTeamInvitation(t *testing.T) {
	t.Parallel()
	revoke := func(a domain.Actor) func(*teamState) ([]domain.Event, error) {
		return func(s *teamState) ([]domain.Event, error) {
			return domain.DecideRevokeTeamInvitation(&s.inv, &s.org, domain.RevokeTeamInvitation{Actor: a})
		}
	}
	run(t, applyTeam, []scenario[teamState]{
		{name: "OK member invitation", given: with(memberInv), when: revoke(admin),
			then: []domain.Event{domain.MemberInvitationRevoked{InvitationID: invID, OrganizationID: orgA, RevokedBy: "adam"}}},
		{name: "OK accountant invitation", given: with(accountantInv), when: func(s *teamState) ([]domain.Event, error) {
			return domain.DecideRevokeTeamInvitation(&s.inv, &s.org, domain.RevokeTeamInvitation{Actor: owner})
		}, then: []domain.Event{domain.AccountantInvitationRevoked{InvitationID: invID, OrganizationID: orgA, RevokedBy: "olivia"}}},
		{name: "ErrAnswered", given: with(memberInv, domain.MemberInvitationAccepted{InvitationID: invID}), when: revoke(owner), err: domain.CodeInvitationAnswered},
		{name: "ErrRevoked", given: with(memberInv, domain.MemberInvitationRevoked{InvitationID: invID}), when: revoke(owner), err: domain.CodeInvitationRevoked},
		{name: "ErrMemberMayNot", given: with(memberInv), when: revoke(plain), err: domain.CodeNotAllowed},
		{name: "ErrOutsider", given: with(memberInv), when: revoke(outsider), err: domain.CodeNotFound},
	})
}

var collabInv = domain.CollaboratorInvited{InvitationID: invID, OrganizationID: orgA, OrganizationName: "Acme", InvitedBy: "olivia",
	InviterName: owner.NamePersonal(), FirstName: domain.PersonalOf(newbie.EmailRef, "Nina"), LastName: domain.PersonalOf(newbie.EmailRef, "Durand"),
	Email: newbie.EmailPersonal(), EmailRef: newbie.EmailRef, Phone: domain.PersonalOf(newbie.EmailRef, "+33612345678"),
	CanPurchase: true, CanSeeAllOrders: false, TokenHash: "h1", ExpiresAt: t0.Add(ttl), Locale: "fr"}

func TestCollaboratorAccount(t *testing.T) {
	t.Parallel()
	invite := func(a domain.Actor, who domain.Actor, first string, p *domain.CollaboratorInvitation) func(*teamState) ([]domain.Event, error) {
		return func(s *teamState) ([]domain.Event, error) {
			return domain.DecideInviteCollaborator(&s.org, domain.InviteCollaborator{TokenSend: domain.TokenSend{InvitationID: invID,
				Email: who.Email, EmailRef: who.EmailRef, TokenHash: "h1", Locale: "fr", Actor: a, Now: t0, TTL: ttl},
				FirstName: first, LastName: " Durand ", Phone: domain.MustParsePhone("06 12 34 56 78"), CanPurchase: true, Pending: p})
		}
	}
	activate := func(a domain.Actor, now time.Time) func(*teamState) ([]domain.Event, error) {
		return func(s *teamState) ([]domain.Event, error) {
			return both(domain.DecideActivateCollaborator(&s.collab, &s.org, domain.ActivateCollaborator{Actor: a, Now: now}))
		}
	}
	pending := &domain.CollaboratorInvitation{}
	pending.Apply(collabInv)
	id := invID
	other := actor("nina-2", "nina.perso@gmail.example")
	run(t, applyTeam, []scenario[teamState]{
		{name: "OK owner creates a collaborator", given: team(), when: invite(owner, newbie, "Nina", nil), then: []domain.Event{collabInv}},
		{name: "ErrNames", given: team(), when: invite(owner, newbie, "  ", nil), err: domain.CodeValidationFailed},
		{name: "ErrMemberMayNot", given: team(), when: invite(plain, newbie, "Nina", nil), err: domain.CodeNotAllowed},
		{name: "ErrAlreadyMember", given: team(), when: invite(owner, plain, "Mia", nil), err: domain.CodeAlreadyMember},
		{name: "ErrDuplicatePending", given: team(), when: invite(admin, newbie, "Nina", pending), err: domain.CodeDuplicatePending},
		{name: "OK activated from any account", given: with(collabInv), when: activate(other, t0), then: []domain.Event{
			domain.CollaboratorActivated{InvitationID: invID, OrganizationID: orgA, UserID: "nina-2"},
			domain.MemberJoined{OrganizationID: orgA, UserID: "nina-2", Email: other.EmailPersonal(), Name: other.NamePersonal(), EmailVerified: true,
				Role: domain.RoleCollaborator, CanPurchase: true, Via: domain.ViaCollaboratorInvite, InvitationID: &id}}},
		{name: "ErrActivatedTwice", given: with(collabInv, domain.CollaboratorActivated{InvitationID: invID, UserID: "nina"}), when: activate(newbie, t0),
			err: domain.CodeInvitationAnswered},
		{name: "ErrExpired", given: with(collabInv), when: activate(newbie, t0.Add(ttl)), err: domain.CodeInvitationExpired},
		{name: "ErrAlreadyMember", given: with(collabInv), when: activate(plain, t0), err: domain.CodeAlreadyMember},
		{name: "ErrUnknown", given: team(), when: activate(newbie, t0), err: domain.CodeInvalidToken},
	})
}

func TestCollaborationRequest(t *testing.T) {
	t.Parallel()
	asker := actor("yann", "yann@freelance.example")
	bySiret := domain.CollaborationRequested{RequestID: reqID, RequesterID: "yann", RequesterEmail: asker.EmailPersonal(),
		RequesterName: asker.NamePersonal(), RequesterEmailVerified: true, TargetSiret: siretAcme}
	byEmail := bySiret
	byEmail.TargetSiret, byEmail.TargetRef = "", owner.EmailRef
	toAdmin := bySiret
	toAdmin.TargetSiret, toAdmin.TargetRef = "", admin.EmailRef
	elsewhere := bySiret
	elsewhere.TargetSiret = "35600000000048"
	approve := func(a domain.Actor, purchase, all bool) func(*teamState) ([]domain.Event, error) {
		return func(s *teamState) ([]domain.Event, error) {
			return both(domain.DecideApproveCollaborationRequest(&s.req, &s.org, domain.ApproveCollaborationRequest{CanPurchase: purchase, CanSeeAllOrders: all, Actor: a}))
		}
	}
	reject := func(a domain.Actor) func(*teamState) ([]domain.Event, error) {
		return func(s *teamState) ([]domain.Event, error) {
			return domain.DecideRejectCollaborationRequest(&s.req, &s.org, domain.RejectCollaborationRequest{Actor: a})
		}
	}
	id := reqID
	approved := []domain.Event{
		domain.CollaborationRequestApproved{RequestID: reqID, OrganizationID: orgA, RequesterID: "yann", CanSeeAllOrders: true, ApprovedBy: "adam"},
		domain.MemberJoined{OrganizationID: orgA, UserID: "yann", Email: asker.EmailPersonal(), Name: asker.NamePersonal(), EmailVerified: true,
			Role: domain.RoleCollaborator, CanSeeAllOrders: true, Via: domain.ViaCollaborationRequest, InvitationID: &id},
	}
	run(t, applyTeam, []scenario[teamState]{
		{name: "OK recorded whatever the target", when: func(s *teamState) ([]domain.Event, error) {
			return domain.DecideRequestCollaboration(&s.req, domain.RequestCollaboration{RequestID: reqID,
				TargetSiret: domain.MustParseSiret("356 000 000 00048"), Actor: asker})
		}, then: []domain.Event{elsewhere}},
		{name: "OK approve a request by SIRET", given: with(bySiret), when: approve(admin, false, true), then: approved},
		{name: "OK approve a request by the owner's email", given: with(byEmail), when: approve(admin, false, true), then: approved},
		{name: "OK reject", given: with(bySiret), when: reject(owner), then: []domain.Event{
			domain.CollaborationRequestRejected{RequestID: reqID, OrganizationID: orgA, RequesterID: "yann", RejectedBy: "olivia"}}},
		{name: "ErrNotReached: another SIRET", given: with(elsewhere), when: approve(owner, true, true), err: domain.CodeNotFound},
		{name: "ErrNotReached: an admin's email is not the owner's", given: with(toAdmin), when: approve(owner, true, true), err: domain.CodeNotFound},
		{name: "ErrUnknown", given: team(), when: reject(owner), err: domain.CodeNotFound},
		{name: "ErrAnsweredTwice", given: with(bySiret, domain.CollaborationRequestRejected{RequestID: reqID, OrganizationID: orgA}),
			when: approve(owner, true, true), err: domain.CodeCollaborationRequestAnswered},
		{name: "ErrMemberMayNot", given: with(bySiret), when: approve(plain, true, true), err: domain.CodeNotAllowed},
		{name: "ErrOutsider", given: with(bySiret), when: reject(outsider), err: domain.CodeNotFound},
		{name: "ErrAlreadyMember", given: with(domain.CollaborationRequested{RequestID: reqID, RequesterID: "mia", TargetSiret: siretAcme}),
			when: approve(owner, true, true), err: domain.CodeAlreadyMember},
	})
	// An answer by one organization leaves the others' pending.
	var r domain.CollaborationRequest
	r.Apply(byEmail)
	r.Apply(domain.CollaborationRequestRejected{RequestID: reqID, OrganizationID: orgB})
	if r.StatusFor(orgA) != domain.StatusPending || r.StatusFor(orgB) != domain.StatusRejected {
		t.Fatalf("statuses = %q, %q; want pending for A, rejected for B", r.StatusFor(orgA), r.StatusFor(orgB))
	}
}

func TestParseCollaborationTarget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in           string
		siret, email string
		bad          bool
	}{
		{in: "732 829 320 00074", siret: "73282932000074"},
		{in: " Owner@Acme.FR ", email: "owner@acme.fr"},
		{in: "73282932000075", bad: true},
		{in: "1234", bad: true},
		{in: "acme", bad: true},
		{in: "a@b", bad: true},
		{in: "", bad: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			s, e, err := domain.ParseCollaborationTarget(tc.in)
			if tc.bad {
				if domain.ErrorCode(err) != domain.CodeValidationFailed {
					t.Fatalf("err = %v; want validation_failed", err)
				}
				return
			}
			if err != nil || s.String() != tc.siret || e.String() != tc.email {
				t.Fatalf("got %q, %q, %v; want %q, %q", s, e, err, tc.siret, tc.email)
			}
		})
	}
}

func TestParseTeamRoles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in              string
		team, invitable bool
	}{
		{"owner", true, false}, {"admin", true, true}, {"member", true, true},
		{"accountant", false, false}, {"collaborator", false, false}, {"", false, false}, {"Owner", false, false},
	} {
		if _, err := domain.ParseTeamRole(tc.in); (err == nil) != tc.team {
			t.Errorf("ParseTeamRole(%q) err = %v; want accepted %v", tc.in, err, tc.team)
		}
		if _, err := domain.ParseInvitedRole(tc.in); (err == nil) != tc.invitable {
			t.Errorf("ParseInvitedRole(%q) err = %v; want accepted %v", tc.in, err, tc.invitable)
		}
	}
}
