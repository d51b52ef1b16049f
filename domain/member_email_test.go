package domain_test

import (
	"testing"
	"time"

	"partners/domain"
)

func recordEmail(a domain.Actor) func(*teamState) ([]domain.Event, error) {
	return func(s *teamState) ([]domain.Event, error) {
		return domain.DecideRecordMemberEmail(&s.org, domain.RecordMemberEmail{Actor: a})
	}
}

// withEmail is a as their token says after an address change.
func withEmail(a domain.Actor, email string, verified bool) domain.Actor {
	b := actor(a.UserID, email)
	b.EmailVerified = verified
	return b
}

// issued is a with a token issued at second s of t0.
func issued(a domain.Actor, s int) domain.Actor {
	a.TokenIssuedAt = t0.Add(time.Duration(s) * time.Second)
	return a
}

func emailChanged(a domain.Actor, role domain.Role) domain.Event {
	return domain.MemberEmailChanged{OrganizationID: orgA, UserID: a.UserID, Email: a.EmailPersonal(), EmailRef: a.EmailRef,
		Name: a.NamePersonal(), Role: role, TokenIssuedAt: a.TokenIssuedAt}
}

// A member's email is the one of their latest verified token: recorded
// once when it changes, never from an unverified one.
func TestRecordMemberEmail(t *testing.T) {
	moved := withEmail(admin, "adam@acme-group.fr", true)
	unverifiedOwner := owner
	unverifiedOwner.EmailVerified = false
	run(t, applyTeam, []scenario[teamState]{
		{name: "OK a changed verified email is recorded", given: team(), when: recordEmail(moved),
			then: []domain.Event{emailChanged(moved, domain.RoleAdmin)}},
		{name: "OK the role travels with it (accountant)", given: team(), when: recordEmail(withEmail(accountant, "chloe@new.fr", true)),
			then: []domain.Event{emailChanged(withEmail(accountant, "chloe@new.fr", true), domain.RoleAccountant)}},
		{name: "OK once: recorded, the same email changes nothing", given: with(emailChanged(moved, domain.RoleAdmin)),
			when: recordEmail(moved), then: nil},
		{name: "OK the same verified email changes nothing", given: team(), when: recordEmail(admin), then: nil},
		{name: "OK an unverified changed email changes nothing", given: team(),
			when: recordEmail(withEmail(admin, "adam@evil.fr", false)), then: nil},
		{name: "OK a token without email changes nothing", given: team(),
			when: recordEmail(domain.Actor{UserID: admin.UserID, Name: "Adam"}), then: nil},
		{name: "OK an email recorded unverified is recorded once verified", given: []domain.Event{
			domain.OrganizationCreated{OrganizationID: orgA, Name: "Acme", Side: domain.SideClient},
			joined(orgA, unverifiedOwner, domain.RoleOwner)},
			when: recordEmail(owner), then: []domain.Event{emailChanged(owner, domain.RoleOwner)}},
		{name: "OK an outsider records nothing", given: team(), when: recordEmail(outsider), then: nil},
		{name: "OK a newer token's email is recorded", given: with(emailChanged(issued(moved, 10), domain.RoleAdmin)),
			when: recordEmail(issued(withEmail(admin, "adam@acme-holding.fr", true), 11)),
			then: []domain.Event{emailChanged(issued(withEmail(admin, "adam@acme-holding.fr", true), 11), domain.RoleAdmin)}},
		{name: "OK an older token still in use does not change it back", given: with(emailChanged(issued(moved, 10), domain.RoleAdmin)),
			when: recordEmail(issued(admin, 9)), then: nil},
		{name: "OK a token issued the same second does not either", given: with(emailChanged(issued(moved, 10), domain.RoleAdmin)),
			when: recordEmail(issued(admin, 10)), then: nil},
		{name: "OK once changed, a token without iat changes nothing", given: with(emailChanged(issued(moved, 10), domain.RoleAdmin)),
			when: recordEmail(admin), then: nil},
		{name: "OK a removed member records nothing", given: with(domain.MemberRemoved{OrganizationID: orgA, UserID: "adam", Role: domain.RoleAdmin}),
			when: recordEmail(moved), then: nil},
	})
}

// The organization's state follows the change: the member is found by the
// new email, no longer by the old one, and keeps their role.
func TestMemberEmailChangedApply(t *testing.T) {
	var s teamState
	for _, e := range with(emailChanged(withEmail(admin, "adam@acme-group.fr", true), domain.RoleAdmin)) {
		applyTeam(&s, e)
	}
	if _, ok := s.org.MemberByRef(admin.EmailRef); ok {
		t.Fatal("found by the old email")
	}
	m, ok := s.org.MemberByRef(domain.PersonRef("ref:adam@acme-group.fr"))
	if !ok || m.UserID != "adam" || m.Role != domain.RoleAdmin || !m.EmailVerified || m.Email.Value != "adam@acme-group.fr" {
		t.Fatalf("member by the new email = %+v, %v", m, ok)
	}
}
