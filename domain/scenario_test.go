package domain_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"partners/domain"
)

// scenario is a given-events / when-command / then-events-or-error case.
type scenario[S any] struct {
	name  string
	given []domain.Event
	when  func(state *S) ([]domain.Event, error)
	then  []domain.Event
	err   domain.Code
}

// run replays the given events into a fresh state, runs the command and
// compares the outcome.
func run[S any](t *testing.T, apply func(*S, domain.Event), cases []scenario[S]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s S
			for _, e := range tc.given {
				apply(&s, e)
			}
			got, err := tc.when(&s)
			if tc.err != "" {
				var de *domain.Error
				if !errors.As(err, &de) || de.Code != tc.err {
					t.Fatalf("err = %v; want code %s", err, tc.err)
				}
				if len(got) != 0 {
					t.Fatalf("events = %+v alongside an error; want none", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v; want events %+v", err, tc.then)
			}
			if !reflect.DeepEqual(got, tc.then) {
				t.Fatalf("events =\n%+v\nwant\n%+v", got, tc.then)
			}
		})
	}
}

var (
	t0     = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	orgA   = uuid.MustParse("00000000-0000-4000-8000-00000000000a")
	orgB   = uuid.MustParse("00000000-0000-4000-8000-00000000000b")
	orgC   = uuid.MustParse("00000000-0000-4000-8000-00000000000c")
	orgD   = uuid.MustParse("00000000-0000-4000-8000-00000000000d")
	invID  = uuid.MustParse("00000000-0000-4000-8000-0000000000e1")
	inv2ID = uuid.MustParse("00000000-0000-4000-8000-0000000000e2")
)

func actor(user, email string) domain.Actor {
	e := domain.MustParseEmail(email)
	return domain.Actor{UserID: user, Email: e, EmailRef: domain.PersonRef("ref:" + e.String()), EmailVerified: true, Name: user}
}

func applyOrg(o *domain.Organization, e domain.Event) { o.Apply(e) }

func created(id uuid.UUID, name string, side domain.Side) domain.Event {
	return domain.OrganizationCreated{OrganizationID: id, Name: name, Side: side}
}

func joined(org uuid.UUID, a domain.Actor, role domain.Role) domain.Event {
	return domain.MemberJoined{OrganizationID: org, UserID: a.UserID, Email: a.EmailPersonal(), Name: a.NamePersonal(),
		EmailVerified: a.EmailVerified, Role: role, Via: "creation"}
}

func TestCreateOrganization(t *testing.T) {
	t.Parallel()
	alice := actor("alice", "alice@acme.fr")
	siret := domain.MustParseSiret("73282932000074")
	run(t, applyOrg, []scenario[domain.Organization]{
		{
			name: "OK: the creator becomes owner",
			when: func(o *domain.Organization) ([]domain.Event, error) {
				return domain.DecideCreateOrganization(o, domain.CreateOrganization{OrganizationID: orgA, Name: "Acme", Side: domain.SideClient, Siret: siret, Actor: alice})
			},
			then: []domain.Event{
				domain.OrganizationCreated{OrganizationID: orgA, Name: "Acme", Side: domain.SideClient, Siret: "73282932000074"},
				domain.MemberJoined{OrganizationID: orgA, UserID: "alice", Email: alice.EmailPersonal(), Name: alice.NamePersonal(),
					EmailVerified: true, Role: domain.RoleOwner, Via: "creation"},
			},
		},
		{
			name:  "ErrAlreadyExists",
			given: []domain.Event{created(orgA, "Acme", domain.SideClient)},
			when: func(o *domain.Organization) ([]domain.Event, error) {
				return domain.DecideCreateOrganization(o, domain.CreateOrganization{OrganizationID: orgA, Name: "Acme", Side: domain.SideClient, Actor: alice})
			},
			err: domain.CodeConcurrencyConflict,
		},
	})
}

func TestOrganizationRequire(t *testing.T) {
	t.Parallel()
	alice, bob := actor("alice", "alice@acme.fr"), actor("bob", "bob@acme.fr")
	var o domain.Organization
	o.Apply(created(orgA, "Acme", domain.SideClient))
	o.Apply(joined(orgA, alice, domain.RoleOwner))
	o.Apply(joined(orgA, bob, domain.RoleMember))
	for _, tc := range []struct {
		name   string
		actor  domain.Actor
		action domain.Action
		code   domain.Code
	}{
		{"OwnerMayInvite", alice, domain.ActionPartnersInvite, ""},
		{"MemberMayNotInvite", bob, domain.ActionPartnersInvite, domain.CodeNotAllowed},
		{"MemberMayRead", bob, domain.ActionPartnersRead, ""},
		{"OutsiderSeesNothing", actor("eve", "eve@evil.fr"), domain.ActionPartnersRead, domain.CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := o.Require(tc.actor, tc.action)
			if got := domain.ErrorCode(err); got != tc.code {
				t.Fatalf("code = %q; want %q (err %v)", got, tc.code, err)
			}
		})
	}
}
