package domain_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"partners/domain"
)

// world is the organizations an invitation scenario involves.
type world struct {
	acme, plomberie, otherClient domain.Organization
}

var (
	claire = actor("claire", "claire@acme.fr")    // owner of Acme (client)
	samir  = actor("samir", "samir@plomberie.fr") // owner of Plomberie (subcontractor)
	marc   = actor("marc", "marc@acme.fr")        // member of Acme
	olga   = actor("olga", "olga@other.fr")       // owner of another client
	ttl    = 30 * 24 * time.Hour
	sentEv = domain.InvitationSent{InvitationID: invID, InviterOrganizationID: orgA, InviterName: "Acme",
		InviterSide: domain.SideClient, InviteeSide: domain.SideSubcontractor,
		Email: samir.EmailPersonal(), EmailRef: samir.EmailRef, Message: domain.PersonalOf(samir.EmailRef, "hello"),
		TokenHash: "h1", ExpiresAt: t0.Add(ttl), Locale: "fr"}
)

func newWorld() world {
	var w world
	for _, e := range []domain.Event{created(orgA, "Acme", domain.SideClient), joined(orgA, claire, domain.RoleOwner), joined(orgA, marc, domain.RoleMember)} {
		w.acme.Apply(e)
	}
	for _, e := range []domain.Event{created(orgB, "Plomberie", domain.SideSubcontractor), joined(orgB, samir, domain.RoleOwner)} {
		w.plomberie.Apply(e)
	}
	for _, e := range []domain.Event{created(orgC, "Other", domain.SideClient), joined(orgC, olga, domain.RoleOwner)} {
		w.otherClient.Apply(e)
	}
	return w
}

func applyInv(i *domain.Invitation, e domain.Event) { i.Apply(e) }

func TestSendInvitation(t *testing.T) {
	t.Parallel()
	w := newWorld()
	pending := &domain.Invitation{}
	pending.Apply(sentEv)
	expired := &domain.Invitation{}
	expired.Apply(domain.InvitationSent{InvitationID: inv2ID, ExpiresAt: t0.Add(-time.Hour)})
	cmd := func(a domain.Actor, p *domain.Invitation) domain.SendInvitation {
		return domain.SendInvitation{TokenSend: domain.TokenSend{InvitationID: invID, Email: samir.Email, EmailRef: samir.EmailRef,
			TokenHash: "h1", Locale: "fr", Actor: a, Now: t0, TTL: ttl}, Message: "hello", Pending: p}
	}
	run(t, applyInv, []scenario[domain.Invitation]{
		{name: "OK InviteSubcontractor", when: func(*domain.Invitation) ([]domain.Event, error) {
			return domain.DecideSendInvitation(&w.acme, cmd(claire, nil))
		}, then: []domain.Event{sentEv}},
		{name: "OK InviteClient from a subcontractor", when: func(*domain.Invitation) ([]domain.Event, error) {
			evs, err := domain.DecideSendInvitation(&w.plomberie, cmd(samir, nil))
			if err == nil {
				e := evs[0].(domain.InvitationSent)
				if e.InviteeSide != domain.SideClient || e.InviterSide != domain.SideSubcontractor {
					t.Errorf("sides = %v -> %v; want subcontractor -> client", e.InviterSide, e.InviteeSide)
				}
			}
			return nil, err
		}},
		{name: "OK a pending invitation that expired does not block", when: func(*domain.Invitation) ([]domain.Event, error) {
			return domain.DecideSendInvitation(&w.acme, cmd(claire, expired))
		}, then: []domain.Event{sentEv}},
		{name: "ErrDuplicatePending", when: func(*domain.Invitation) ([]domain.Event, error) {
			return domain.DecideSendInvitation(&w.acme, cmd(claire, pending))
		}, err: domain.CodeDuplicatePending},
		{name: "ErrMemberMayNotInvite", when: func(*domain.Invitation) ([]domain.Event, error) {
			return domain.DecideSendInvitation(&w.acme, cmd(marc, nil))
		}, err: domain.CodeNotAllowed},
		{name: "ErrOutsiderSeesNothing", when: func(*domain.Invitation) ([]domain.Event, error) {
			return domain.DecideSendInvitation(&w.acme, cmd(samir, nil))
		}, err: domain.CodeNotFound},
	})
}

func TestClaimInvitation(t *testing.T) {
	t.Parallel()
	w := newWorld()
	claimed := domain.InvitationClaimed{InvitationID: invID, InviterOrganizationID: orgA, OrganizationID: orgB,
		OrganizationName: "Plomberie", ClaimedBy: "samir", ClaimedByEmail: samir.EmailPersonal()}
	run(t, applyInv, []scenario[domain.Invitation]{
		{name: "OK", given: []domain.Event{sentEv}, when: func(i *domain.Invitation) ([]domain.Event, error) {
			return domain.DecideClaimInvitation(i, &w.plomberie, domain.ClaimInvitation{Actor: samir, Now: t0})
		}, then: []domain.Event{claimed}},
		{name: "OK claiming twice changes nothing", given: []domain.Event{sentEv, claimed}, when: func(i *domain.Invitation) ([]domain.Event, error) {
			return domain.DecideClaimInvitation(i, &w.plomberie, domain.ClaimInvitation{Actor: samir, Now: t0})
		}, then: nil},
		{name: "ErrAlreadyClaimed", given: []domain.Event{sentEv, domain.InvitationClaimed{InvitationID: invID, OrganizationID: uuid.New()}},
			when: func(i *domain.Invitation) ([]domain.Event, error) {
				return domain.DecideClaimInvitation(i, &w.plomberie, domain.ClaimInvitation{Actor: samir, Now: t0})
			}, err: domain.CodeAlreadyClaimed},
		{name: "ErrSameSide", given: []domain.Event{sentEv}, when: func(i *domain.Invitation) ([]domain.Event, error) {
			return domain.DecideClaimInvitation(i, &w.otherClient, domain.ClaimInvitation{Actor: olga, Now: t0})
		}, err: domain.CodeSameSide},
		{name: "ErrOwnInvitation", given: []domain.Event{sentEv}, when: func(i *domain.Invitation) ([]domain.Event, error) {
			return domain.DecideClaimInvitation(i, &w.acme, domain.ClaimInvitation{Actor: claire, Now: t0})
		}, err: domain.CodeOwnInvitation},
		{name: "ErrExpired", given: []domain.Event{sentEv}, when: func(i *domain.Invitation) ([]domain.Event, error) {
			return domain.DecideClaimInvitation(i, &w.plomberie, domain.ClaimInvitation{Actor: samir, Now: t0.Add(ttl)})
		}, err: domain.CodeInvitationExpired},
		{name: "ErrRevoked", given: []domain.Event{sentEv, domain.InvitationRevoked{InvitationID: invID}}, when: func(i *domain.Invitation) ([]domain.Event, error) {
			return domain.DecideClaimInvitation(i, &w.plomberie, domain.ClaimInvitation{Actor: samir, Now: t0})
		}, err: domain.CodeInvitationRevoked},
	})
}

func TestAcceptInvitation(t *testing.T) {
	t.Parallel()
	w := newWorld()
	accepted := domain.InvitationAccepted{InvitationID: invID, InviterOrganizationID: orgA, OrganizationID: orgB,
		OrganizationName: "Plomberie", AcceptedBy: "samir", ClientID: orgA, SubcontractorID: orgB, Via: "email"}
	unverified := w.plomberie
	unverified.Members = map[string]domain.Member{"samir": {UserID: "samir", Email: samir.EmailPersonal(), Role: domain.RoleOwner}}
	accept := func(o *domain.Organization, a domain.Actor, partners bool, now time.Time) func(i *domain.Invitation) ([]domain.Event, error) {
		return func(i *domain.Invitation) ([]domain.Event, error) {
			return domain.DecideAcceptInvitation(i, o, domain.AcceptInvitation{AlreadyPartners: partners, Actor: a, Now: now})
		}
	}
	claimedByB := domain.InvitationClaimed{InvitationID: invID, OrganizationID: orgB}
	viaClaim := accepted
	viaClaim.Via = "claim"
	run(t, applyInv, []scenario[domain.Invitation]{
		{name: "OK addressed by the owner's verified email", given: []domain.Event{sentEv}, when: accept(&w.plomberie, samir, false, t0), then: []domain.Event{accepted}},
		{name: "OK addressed by a claim", given: []domain.Event{sentEv, claimedByB}, when: accept(&w.plomberie, samir, false, t0), then: []domain.Event{viaClaim}},
		{name: "ErrNotAddressed: unverified email", given: []domain.Event{sentEv}, when: accept(&unverified, samir, false, t0), err: domain.CodeNotFound},
		{name: "OK addressed by email though another organization claimed it", given: []domain.Event{sentEv, domain.InvitationClaimed{InvitationID: invID, OrganizationID: orgC}},
			when: accept(&w.plomberie, samir, false, t0), then: []domain.Event{accepted}},
		{name: "ErrOwnInvitation", given: []domain.Event{sentEv}, when: accept(&w.acme, claire, false, t0), err: domain.CodeOwnInvitation},
		{name: "ErrExpired", given: []domain.Event{sentEv}, when: accept(&w.plomberie, samir, false, t0.Add(ttl+time.Second)), err: domain.CodeInvitationExpired},
		{name: "ErrRevoked", given: []domain.Event{sentEv, domain.InvitationRevoked{InvitationID: invID}}, when: accept(&w.plomberie, samir, false, t0), err: domain.CodeInvitationRevoked},
		{name: "ErrAnswered", given: []domain.Event{sentEv, accepted}, when: accept(&w.plomberie, samir, false, t0), err: domain.CodeInvitationAnswered},
		{name: "ErrDeclinedIsAnswered", given: []domain.Event{sentEv, domain.InvitationDeclined{InvitationID: invID}}, when: accept(&w.plomberie, samir, false, t0), err: domain.CodeInvitationAnswered},
		{name: "ErrAlreadyPartners", given: []domain.Event{sentEv}, when: accept(&w.plomberie, samir, true, t0), err: domain.CodeAlreadyPartners},
		{name: "ErrSameSide: a client claimed nothing but its owner has the email", given: []domain.Event{
			domain.InvitationSent{InvitationID: invID, InviterOrganizationID: orgA, InviterSide: domain.SideClient, InviteeSide: domain.SideSubcontractor,
				EmailRef: olga.EmailRef, ExpiresAt: t0.Add(ttl)}},
			when: accept(&w.otherClient, olga, false, t0), err: domain.CodeSameSide},
	})
}

func TestDeclineRevokeResend(t *testing.T) {
	t.Parallel()
	w := newWorld()
	run(t, applyInv, []scenario[domain.Invitation]{
		{name: "OK decline", given: []domain.Event{sentEv}, when: func(i *domain.Invitation) ([]domain.Event, error) {
			return domain.DecideDeclineInvitation(i, &w.plomberie, domain.DeclineInvitation{Reason: "not now", Actor: samir, Now: t0})
		}, then: []domain.Event{domain.InvitationDeclined{InvitationID: invID, InviterOrganizationID: orgA, OrganizationID: orgB,
			DeclinedBy: "samir", Reason: domain.PersonalOf(samir.EmailRef, "not now")}}},
		{name: "ErrDeclineOwn", given: []domain.Event{sentEv}, when: func(i *domain.Invitation) ([]domain.Event, error) {
			return domain.DecideDeclineInvitation(i, &w.acme, domain.DeclineInvitation{Reason: "", Actor: claire, Now: t0})
		}, err: domain.CodeOwnInvitation},
		{name: "OK revoke", given: []domain.Event{sentEv}, when: func(i *domain.Invitation) ([]domain.Event, error) {
			return domain.DecideRevokeInvitation(i, &w.acme, domain.RevokeInvitation{Actor: claire})
		}, then: []domain.Event{domain.InvitationRevoked{InvitationID: invID, InviterOrganizationID: orgA, RevokedBy: "claire"}}},
		{name: "ErrRevokeByInvitee", given: []domain.Event{sentEv}, when: func(i *domain.Invitation) ([]domain.Event, error) {
			return domain.DecideRevokeInvitation(i, &w.plomberie, domain.RevokeInvitation{Actor: samir})
		}, err: domain.CodeNotFound},
		{name: "ErrRevokeByMember", given: []domain.Event{sentEv}, when: func(i *domain.Invitation) ([]domain.Event, error) {
			return domain.DecideRevokeInvitation(i, &w.acme, domain.RevokeInvitation{Actor: marc})
		}, err: domain.CodeNotAllowed},
		{name: "ErrRevokeAnswered", given: []domain.Event{sentEv, domain.InvitationAccepted{InvitationID: invID}}, when: func(i *domain.Invitation) ([]domain.Event, error) {
			return domain.DecideRevokeInvitation(i, &w.acme, domain.RevokeInvitation{Actor: claire})
		}, err: domain.CodeInvitationAnswered},
		{name: "OK resend an expired invitation", given: []domain.Event{sentEv}, when: func(i *domain.Invitation) ([]domain.Event, error) {
			return domain.DecideResendInvitation(i, &w.acme, domain.ResendInvitation{TokenHash: "h2", Locale: "", Actor: claire, Now: t0.Add(ttl + time.Hour), TTL: ttl})
		}, then: []domain.Event{domain.InvitationResent{InvitationID: invID, InviterOrganizationID: orgA, InviterName: "Acme",
			InviterSide: domain.SideClient, InviteeSide: domain.SideSubcontractor, Email: samir.EmailPersonal(),
			Message: domain.PersonalOf(samir.EmailRef, "hello"), TokenHash: "h2", ExpiresAt: t0.Add(2*ttl + time.Hour), Locale: "fr"}}},
		{name: "ErrResendRevoked", given: []domain.Event{sentEv, domain.InvitationRevoked{InvitationID: invID}}, when: func(i *domain.Invitation) ([]domain.Event, error) {
			return domain.DecideResendInvitation(i, &w.acme, domain.ResendInvitation{TokenHash: "h2", Locale: "", Actor: claire, Now: t0, TTL: ttl})
		}, err: domain.CodeInvitationRevoked},
		{name: "ErrResendAccepted", given: []domain.Event{sentEv, domain.InvitationAccepted{InvitationID: invID}}, when: func(i *domain.Invitation) ([]domain.Event, error) {
			return domain.DecideResendInvitation(i, &w.acme, domain.ResendInvitation{TokenHash: "h2", Locale: "", Actor: claire, Now: t0, TTL: ttl})
		}, err: domain.CodeInvitationAnswered},
	})
	// After a resend the new expiry counts.
	var i domain.Invitation
	i.Apply(sentEv)
	i.Apply(domain.InvitationResent{InvitationID: invID, TokenHash: "h2", ExpiresAt: t0.Add(2 * ttl)})
	if got := i.StatusAt(t0.Add(ttl + time.Hour)); got != domain.StatusSent || i.TokenHash != "h2" {
		t.Fatalf("after resend: status %q token %q; want sent with the new token", got, i.TokenHash)
	}
}

// A claim never locks out the invited address (issue 14): the person who
// sent the invitation is told of it; the email's addressee may still
// answer, and the first answer wins; the claimer's decline only drops its
// claim.
func TestClaimNeverLocksOutTheEmail(t *testing.T) {
	w := newWorld()
	// Yann owns a subcontractor that signed up with another email: the
	// claimer.
	yann := actor("yann", "yann@ydb.fr")
	var ydb domain.Organization
	for _, e := range []domain.Event{created(orgD, "YDB", domain.SideSubcontractor), joined(orgD, yann, domain.RoleOwner)} {
		ydb.Apply(e)
	}
	// The invitation as its stream's fold sees it: Claire sent it.
	sentByClaire := func(i *domain.Invitation, e domain.Event) { i.ApplyRecorded(e, claire.UserID, claire.EmailPersonal()) }
	claimed := domain.InvitationClaimed{InvitationID: invID, InviterOrganizationID: orgA, OrganizationID: orgD,
		OrganizationName: "YDB", ClaimedBy: "yann", ClaimedByEmail: yann.EmailPersonal()}
	notice := domain.InvitationClaimNoticeSent{InvitationID: invID, InviterOrganizationID: orgA, OrganizationID: orgD,
		OrganizationName: "YDB", SenderID: "claire", SenderEmail: claire.EmailPersonal(), Email: samir.EmailPersonal(), Locale: "fr"}
	resentByMarc := domain.InvitationResent{InvitationID: invID, InviterOrganizationID: orgA, TokenHash: "h2", ExpiresAt: t0.Add(ttl), Locale: "de"}
	claim := func(o *domain.Organization, a domain.Actor) func(i *domain.Invitation) ([]domain.Event, error) {
		return func(i *domain.Invitation) ([]domain.Event, error) {
			return domain.DecideClaimInvitation(i, o, domain.ClaimInvitation{Actor: a, Now: t0})
		}
	}
	accept := func(o *domain.Organization, a domain.Actor) func(i *domain.Invitation) ([]domain.Event, error) {
		return func(i *domain.Invitation) ([]domain.Event, error) {
			return domain.DecideAcceptInvitation(i, o, domain.AcceptInvitation{Actor: a, Now: t0})
		}
	}
	decline := func(o *domain.Organization, a domain.Actor) func(i *domain.Invitation) ([]domain.Event, error) {
		return func(i *domain.Invitation) ([]domain.Event, error) {
			return domain.DecideDeclineInvitation(i, o, domain.DeclineInvitation{Reason: "pas nous", Actor: a, Now: t0})
		}
	}
	byEmail := domain.InvitationAccepted{InvitationID: invID, InviterOrganizationID: orgA, OrganizationID: orgB,
		OrganizationName: "Plomberie", AcceptedBy: "samir", ClientID: orgA, SubcontractorID: orgB, Via: "email"}
	byClaim := domain.InvitationAccepted{InvitationID: invID, InviterOrganizationID: orgA, OrganizationID: orgD,
		OrganizationName: "YDB", AcceptedBy: "yann", ClientID: orgA, SubcontractorID: orgD, Via: "claim"}
	dropped := domain.InvitationClaimDropped{InvitationID: invID, InviterOrganizationID: orgA, OrganizationID: orgD,
		DroppedBy: "yann", Reason: domain.PersonalOf(yann.EmailRef, "pas nous")}
	declinedByEmail := domain.InvitationDeclined{InvitationID: invID, InviterOrganizationID: orgA, OrganizationID: orgB,
		DeclinedBy: "samir", Reason: domain.PersonalOf(samir.EmailRef, "pas nous")}
	// Issue 16: the sender hears back of every answer, not of a dropped claim.
	told := func(org uuid.UUID, name string, answer domain.InvitationStatus) domain.Event {
		return domain.InvitationAnswerNoticeSent{InvitationID: invID, InviterOrganizationID: orgA, OrganizationID: org, OrganizationName: name,
			Answer: answer, SenderID: "claire", SenderEmail: claire.EmailPersonal(), Email: samir.EmailPersonal(), Locale: "fr"}
	}
	run(t, sentByClaire, []scenario[domain.Invitation]{
		{name: "OK claim: the sender is told, in the invitation's language", given: []domain.Event{sentEv},
			when: claim(&ydb, yann), then: []domain.Event{claimed, notice}},
		{name: "OK claim after a resend: whoever resent it is told", given: []domain.Event{sentEv},
			when: func(i *domain.Invitation) ([]domain.Event, error) {
				i.ApplyRecorded(resentByMarc, marc.UserID, marc.EmailPersonal())
				return claim(&ydb, yann)(i)
			},
			then: []domain.Event{claimed, domain.InvitationClaimNoticeSent{InvitationID: invID, InviterOrganizationID: orgA, OrganizationID: orgD,
				OrganizationName: "YDB", SenderID: "marc", SenderEmail: marc.EmailPersonal(), Email: samir.EmailPersonal(), Locale: "de"}}},
		{name: "OK the addressee accepts after a claim", given: []domain.Event{sentEv, claimed, notice},
			when: accept(&w.plomberie, samir), then: []domain.Event{byEmail, told(orgB, "Plomberie", domain.StatusAccepted)}},
		{name: "OK the claimer accepts", given: []domain.Event{sentEv, claimed, notice},
			when: accept(&ydb, yann), then: []domain.Event{byClaim, told(orgD, "YDB", domain.StatusAccepted)}},
		{name: "ErrFirstAnswerWins: the claimer after the addressee", given: []domain.Event{sentEv, claimed, byEmail},
			when: accept(&ydb, yann), err: domain.CodeInvitationAnswered},
		{name: "ErrFirstAnswerWins: the addressee after the claimer", given: []domain.Event{sentEv, claimed, byClaim},
			when: accept(&w.plomberie, samir), err: domain.CodeInvitationAnswered},
		{name: "OK the claimer's decline drops its claim only", given: []domain.Event{sentEv, claimed, notice},
			when: decline(&ydb, yann), then: []domain.Event{dropped}},
		{name: "OK the addressee's decline closes it, claimed or not", given: []domain.Event{sentEv, claimed, notice},
			when: decline(&w.plomberie, samir), then: []domain.Event{declinedByEmail, told(orgB, "Plomberie", domain.StatusDeclined)}},
		{name: "OK after a dropped claim the addressee still accepts", given: []domain.Event{sentEv, claimed, dropped},
			when: accept(&w.plomberie, samir), then: []domain.Event{byEmail, told(orgB, "Plomberie", domain.StatusAccepted)}},
		{name: "ErrNotAddressed: a dropped claim gives the claimer nothing", given: []domain.Event{sentEv, claimed, dropped},
			when: accept(&ydb, yann), err: domain.CodeNotFound},
		{name: "OK after a dropped claim another organization may claim", given: []domain.Event{sentEv, claimed, dropped},
			when: claim(&ydb, yann), then: []domain.Event{claimed, notice}},
		{name: "ErrAnswered: after the addressee declined, the claimer may not claim", given: []domain.Event{sentEv, claimed, declinedByEmail},
			when: claim(&ydb, yann), err: domain.CodeInvitationAnswered},
	})
	// The state behind the inviter's "Invitations sent": a dropped claim
	// leaves the invitation sent to its email, claimed by nobody.
	var i domain.Invitation
	for _, e := range []domain.Event{sentEv, claimed, dropped} {
		sentByClaire(&i, e)
	}
	if i.Status != domain.StatusSent || i.ClaimedBy != uuid.Nil || i.TokenHash != "h1" {
		t.Fatalf("after a dropped claim: status %v, claimed by %v, token %q; want sent, nobody, the same token", i.Status, i.ClaimedBy, i.TokenHash)
	}
	// A sender forgotten meanwhile is told nothing.
	var forgotten domain.Invitation
	forgotten.ApplyRecorded(sentEv, "claire", domain.ForgottenOf(claire.EmailRef))
	if evs, err := domain.DecideClaimInvitation(&forgotten, &ydb, domain.ClaimInvitation{Actor: yann, Now: t0}); err != nil || len(evs) != 1 {
		t.Fatalf("claim with a forgotten sender = %+v, %v; want the claim alone", evs, err)
	}
}
