package domain_test

import (
	"testing"
	"time"

	"partners/domain"
)

// Seed 003, accounts created and not yet activated (DOMAIN.md 4.4): the
// owner or an admin resends the activation (a new link, the old one dies)
// or withdraws it; a withdrawn account's link is refused as withdrawn.

func applyPending(s *teamState, e domain.Event) {
	if _, ok := e.(domain.CollaboratorInvitationResent); ok {
		s.collab.Apply(e)
		return
	}
	applyTeam(s, e)
}

func resentBy(a domain.Actor, hash string, now time.Time, locale string) domain.CollaboratorInvitationResent {
	return domain.CollaboratorInvitationResent{InvitationID: invID, OrganizationID: orgA, OrganizationName: "Acme", ResentBy: a.UserID,
		FirstName: collabInv.FirstName, Email: collabInv.Email, EmailRef: collabInv.EmailRef, CanPurchase: true,
		TokenHash: hash, ExpiresAt: now.Add(ttl), Locale: locale}
}

func TestResendCollaboratorInvitation(t *testing.T) {
	resend := func(a domain.Actor, now time.Time, locale string) func(*teamState) ([]domain.Event, error) {
		return func(s *teamState) ([]domain.Event, error) {
			return domain.DecideResendCollaboratorInvitation(&s.collab, &s.org, domain.ResendCollaboratorInvitation{TokenHash: "h2",
				Locale: locale, Actor: a, Now: now, TTL: ttl})
		}
	}
	later := t0.Add(2 * ttl)
	run(t, applyPending, []scenario[teamState]{
		{name: "OK pending, in the invitation's language", given: with(collabInv), when: resend(admin, t0, ""),
			then: []domain.Event{resentBy(admin, "h2", t0, "fr")}},
		{name: "OK expired, in another language", given: with(collabInv), when: resend(owner, later, "de"),
			then: []domain.Event{resentBy(owner, "h2", later, "de")}},
		{name: "OK resent twice keeps the last language", given: with(collabInv, resentBy(admin, "h2", t0, "en")), when: resend(admin, t0, ""),
			then: []domain.Event{resentBy(admin, "h2", t0, "en")}},
		{name: "ErrActivated", given: with(collabInv, domain.CollaboratorActivated{InvitationID: invID, OrganizationID: orgA, UserID: "nina"}),
			when: resend(owner, t0, ""), err: domain.CodeInvitationAnswered},
		{name: "ErrRevoked", given: with(collabInv, domain.CollaboratorInvitationRevoked{InvitationID: invID, OrganizationID: orgA}),
			when: resend(owner, t0, ""), err: domain.CodeInvitationRevoked},
		{name: "ErrMemberMayNot", given: with(collabInv), when: resend(plain, t0, ""), err: domain.CodeNotAllowed},
		{name: "ErrCollaboratorMayNot", given: with(collabInv), when: resend(collab, t0, ""), err: domain.CodeNotAllowed},
		{name: "ErrOutsider reads as unknown", given: with(collabInv), when: resend(outsider, t0, ""), err: domain.CodeNotFound},
		{name: "ErrUnknown", given: team(), when: resend(owner, t0, ""), err: domain.CodeNotFound},
		{name: "ErrAuthorLostRight: expired, its author since demoted", given: with(collabInv,
			roleChanged("olivia", domain.RoleOwner, domain.RoleMember, owner2)), when: resend(admin, later, ""), err: domain.CodeInvitationRevoked},
		{name: "ErrAlreadyMember: the email joined meanwhile", given: with(collabInv, joined(orgA, newbie, domain.RoleMember)),
			when: resend(owner, t0, ""), err: domain.CodeAlreadyMember},
	})
}

func TestRevokeCollaboratorInvitation(t *testing.T) {
	revoke := func(a domain.Actor) func(*teamState) ([]domain.Event, error) {
		return func(s *teamState) ([]domain.Event, error) {
			return domain.DecideRevokeCollaboratorInvitation(&s.collab, &s.org, domain.RevokeCollaboratorInvitation{Actor: a})
		}
	}
	activate := func(a domain.Actor) func(*teamState) ([]domain.Event, error) {
		return func(s *teamState) ([]domain.Event, error) {
			return both(domain.DecideActivateCollaborator(&s.collab, &s.org, domain.ActivateCollaborator{Actor: a, Now: t0}))
		}
	}
	revoked := domain.CollaboratorInvitationRevoked{InvitationID: invID, OrganizationID: orgA, RevokedBy: "adam"}
	run(t, applyPending, []scenario[teamState]{
		{name: "OK pending, no reason", given: with(collabInv), when: revoke(admin), then: []domain.Event{revoked}},
		{name: "OK resent", given: with(collabInv, resentBy(owner, "h2", t0, "fr")), when: revoke(admin), then: []domain.Event{revoked}},
		{name: "ErrActivated", given: with(collabInv, domain.CollaboratorActivated{InvitationID: invID, OrganizationID: orgA, UserID: "nina"}),
			when: revoke(admin), err: domain.CodeInvitationAnswered},
		{name: "ErrRevokedTwice", given: with(collabInv, revoked), when: revoke(admin), err: domain.CodeInvitationRevoked},
		{name: "ErrMemberMayNot", given: with(collabInv), when: revoke(plain), err: domain.CodeNotAllowed},
		{name: "ErrOutsider reads as unknown", given: with(collabInv), when: revoke(outsider), err: domain.CodeNotFound},
		{name: "ErrActivateRevoked", given: with(collabInv, revoked), when: activate(newbie), err: domain.CodeInvitationRevoked},
	})
}

// A resend gives the invitation its new token and expiry; the link's
// preview reads who invites to what from the invitation.
func TestPendingInvitationsHoldWhatThePreviewShows(t *testing.T) {
	var c domain.CollaboratorInvitation
	c.Apply(collabInv)
	c.Apply(resentBy(admin, "h2", t0.Add(time.Hour), "de"))
	if _, hash := c.Link(); hash != "h2" || !c.ExpiresAt.Equal(t0.Add(time.Hour+ttl)) || c.Locale != "de" || c.InvitedBy != "olivia" {
		t.Fatalf("after a resend: hash %q, expires %v, locale %q, author %q; want h2, an hour later, de, olivia (the author stays)",
			hash, c.ExpiresAt, c.Locale, c.InvitedBy)
	}
	if c.OrganizationName != "Acme" || c.InviterName.Value != "olivia" || c.StatusAt(t0) != domain.StatusInvited {
		t.Fatalf("collaborator invitation = %+v", c)
	}
	var i domain.TeamInvitation
	i.Apply(accountantInv)
	if i.OrganizationName != "Acme" || i.InviterName.Value != "adam" || i.Role != domain.RoleAccountant {
		t.Fatalf("accountant invitation = %+v", i)
	}
}

// The requester follows their request by the address they typed: it is
// kept as the target's personal data, beside its keyed hash.
func TestCollaborationRequestKeepsTheTypedEmail(t *testing.T) {
	asker := actor("yann", "yann@freelance.example")
	evs, err := domain.DecideRequestCollaboration(&domain.CollaborationRequest{}, domain.RequestCollaboration{RequestID: reqID,
		TargetRef: owner.EmailRef, TargetEmail: owner.Email, Actor: asker})
	if err != nil {
		t.Fatal(err)
	}
	e := evs[0].(domain.CollaborationRequested)
	if e.TargetEmail != domain.PersonalOf(owner.EmailRef, "olivia@acme.fr") || e.TargetRef != owner.EmailRef {
		t.Fatalf("target = %+v, %q; want the address owned by its ref", e.TargetEmail, e.TargetRef)
	}
}
