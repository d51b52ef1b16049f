package domain_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"partners/domain"
)

// The provenance answers, given an organization's history: each table row
// is a history (given), a question (when) and the answer with the events it
// rests on (then). Events are named by their index in the history.

var (
	provOrg = uuid.MustParse("00000000-0000-0000-0000-0000000000a1")
	provT0  = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
)

// recorded records evs as the log would: positions 1, 2…, one minute
// apart, caused by ann. An event may be a domain.Recorded already (another
// stream's, placed by the caller).
func recorded(evs ...domain.Event) []domain.Recorded {
	out := make([]domain.Recorded, len(evs))
	for i, e := range evs {
		out[i] = domain.Recorded{EventID: uuid.NewSHA1(provOrg, []byte(fmt.Sprint(i))), Type: e.EventType(), Position: int64(i + 1),
			OccurredAt: at(i), Actor: domain.RecordedActor{UserID: "ann"}, Event: e}
	}
	return out
}

func contractID(s string) domain.ContractID {
	c, err := domain.ParseContractID(s)
	if err != nil {
		panic(err)
	}
	return c
}

// at is when the i-th event of a history was recorded.
func at(i int) time.Time { return provT0.Add(time.Duration(i) * time.Minute) }

func provCreated() domain.Event {
	return domain.OrganizationCreated{OrganizationID: provOrg, Name: "Martin SA", Side: domain.SideClient}
}

func provJoined(user string, role domain.Role, flags ...bool) domain.Event {
	j := domain.MemberJoined{OrganizationID: provOrg, UserID: user, Role: role, Via: domain.ViaMemberInvitation,
		Name: domain.PersonalOf(domain.PersonRef("ref-"+user), strings.ToUpper(user[:1])+user[1:])}
	if len(flags) == 2 {
		j.CanPurchase, j.CanSeeAllOrders = flags[0], flags[1]
	}
	return j
}

func permissionsChanged(user string, purchase, all bool) domain.Event {
	return domain.CollaboratorPermissionsChanged{OrganizationID: provOrg, UserID: user, CanPurchase: purchase, CanSeeAllOrders: all, ChangedBy: "ann"}
}

func revoked(user string) domain.Event {
	return domain.AccountantAccessRevoked{OrganizationID: provOrg, UserID: user, RevokedBy: "ann"}
}

// positions are the positions of causes.
func positions(cs []domain.Cause) []int64 {
	out := []int64{}
	for _, c := range cs {
		out = append(out, c.Position)
	}
	return out
}

func TestExplain(t *testing.T) {
	owner := provJoined("ann", domain.RoleOwner)
	for _, tc := range []struct {
		name    string
		given   []domain.Event
		asOf    int // answer as of the asOf-th event's instant; -1: now
		user    string
		action  domain.Action
		allowed bool
		role    string
		because []int64
	}{
		{name: "never a member", given: []domain.Event{provCreated(), owner}, asOf: -1, user: "bob", action: domain.ActionMembersRead, because: []int64{}},
		{name: "granted", given: []domain.Event{provCreated(), owner, provJoined("eva", domain.RoleAccountant)}, asOf: -1,
			user: "eva", action: domain.ActionOrdersReadAll, allowed: true, role: "accountant", because: []int64{3}},
		{name: "the creator", given: []domain.Event{provCreated(), owner}, asOf: -1,
			user: "ann", action: domain.ActionSettingsWrite, allowed: true, role: "owner", because: []int64{2}},
		{name: "changed: the join and the role it rests on", asOf: -1, user: "bob", action: domain.ActionSettingsRead, allowed: true, role: "admin",
			given:   []domain.Event{provCreated(), owner, provJoined("bob", domain.RoleMember), roleChanged("bob", domain.RoleMember, domain.RoleAdmin, domain.Actor{UserID: "ann"})},
			because: []int64{3, 4}},
		{name: "changed, then back: the role since it holds", asOf: -1, user: "bob", action: domain.ActionSettingsRead, role: "member",
			given: []domain.Event{provCreated(), owner, provJoined("bob", domain.RoleMember),
				roleChanged("bob", domain.RoleMember, domain.RoleAdmin, domain.Actor{UserID: "ann"}),
				roleChanged("bob", domain.RoleAdmin, domain.RoleMember, domain.Actor{UserID: "ann"})},
			because: []int64{3, 5}},
		{name: "the flag change that opened orders.read_all, not a later change of the other flag", asOf: -1, user: "yann",
			action: domain.ActionOrdersReadAll, allowed: true, role: "collaborator",
			given: []domain.Event{provCreated(), owner, provJoined("yann", domain.RoleCollaborator, false, false),
				permissionsChanged("yann", false, true), permissionsChanged("yann", true, true)},
			because: []int64{3, 4}},
		{name: "the flag change that closed orders.read_all", asOf: -1, user: "yann", action: domain.ActionOrdersReadAll, role: "collaborator",
			given:   []domain.Event{provCreated(), owner, provJoined("yann", domain.RoleCollaborator, false, true), permissionsChanged("yann", false, false)},
			because: []int64{3, 4}},
		{name: "a flag the action does not turn on is no cause", asOf: -1, user: "yann", action: domain.ActionProjectsCreate, allowed: true, role: "collaborator",
			given:   []domain.Event{provCreated(), owner, provJoined("yann", domain.RoleCollaborator, false, false), permissionsChanged("yann", true, true)},
			because: []int64{3}},
		{name: "revoked: the revocation that ended it", asOf: -1, user: "eva", action: domain.ActionOrdersReadAll,
			given:   []domain.Event{provCreated(), owner, provJoined("eva", domain.RoleAccountant), revoked("eva")},
			because: []int64{4}},
		{name: "revoked, asked before the revocation", asOf: 2, user: "eva", action: domain.ActionOrdersReadAll, allowed: true, role: "accountant",
			given:   []domain.Event{provCreated(), owner, provJoined("eva", domain.RoleAccountant), revoked("eva")},
			because: []int64{3}},
		{name: "re-granted: the new membership alone", asOf: -1, user: "eva", action: domain.ActionExportsCreate, allowed: true, role: "accountant",
			given:   []domain.Event{provCreated(), owner, provJoined("eva", domain.RoleAccountant), revoked("eva"), provJoined("eva", domain.RoleAccountant)},
			because: []int64{5}},
		{name: "an email change is no cause", asOf: -1, user: "bob", action: domain.ActionMembersRead, allowed: true, role: "member",
			given: []domain.Event{provCreated(), owner, provJoined("bob", domain.RoleMember),
				domain.MemberEmailChanged{OrganizationID: provOrg, UserID: "bob", Role: domain.RoleMember}},
			because: []int64{3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs := recorded(tc.given...)
			if tc.asOf >= 0 {
				evs = domain.RecordedUntil(evs, at(tc.asOf))
			}
			got := domain.Explain(evs, tc.user, tc.action)
			if got.Decision.Allowed != tc.allowed || got.Grant.Role != tc.role || !reflect.DeepEqual(positions(got.Because), tc.because) {
				t.Fatalf("got allowed %v, role %q, because %v; want %v, %q, %v", got.Decision.Allowed, got.Grant.Role,
					positions(got.Because), tc.allowed, tc.role, tc.because)
			}
			for _, c := range got.Because {
				if c.Summary == "" || c.Type != c.Event.EventType() {
					t.Fatalf("cause %+v: want a summary and its type", c)
				}
			}
		})
	}
}

// interval is a grant interval in a table's words: the role and flags, and
// the positions of the events that opened and closed it (0: still open).
type interval struct {
	grant          domain.Grant
	opened, closed int64
}

func intervalsOf(hist []domain.GrantInterval) []interval {
	out := []interval{}
	for _, h := range hist {
		iv := interval{grant: h.Grant, opened: h.OpenedBy.Position}
		if h.ClosedBy != nil {
			iv.closed = h.ClosedBy.Position
			if !h.To.Equal(h.ClosedBy.OccurredAt) {
				panic("an interval ends when the event that closes it happened")
			}
		}
		out = append(out, iv)
	}
	return out
}

func TestMemberHistory(t *testing.T) {
	owner := provJoined("ann", domain.RoleOwner)
	acc := domain.Grant{Role: "accountant"}
	for _, tc := range []struct {
		name  string
		given []domain.Event
		user  string
		then  []interval
	}{
		{name: "never a member", given: []domain.Event{provCreated(), owner}, user: "bob", then: []interval{}},
		{name: "granted", given: []domain.Event{provCreated(), owner, provJoined("eva", domain.RoleAccountant)}, user: "eva",
			then: []interval{{grant: acc, opened: 3}}},
		{name: "changed", user: "bob",
			given: []domain.Event{provCreated(), owner, provJoined("bob", domain.RoleMember), roleChanged("bob", domain.RoleMember, domain.RoleOwner, domain.Actor{UserID: "ann"})},
			then:  []interval{{grant: domain.Grant{Role: "member"}, opened: 3, closed: 4}, {grant: domain.Grant{Role: "owner"}, opened: 4}}},
		{name: "flags changed", user: "yann",
			given: []domain.Event{provCreated(), owner, provJoined("yann", domain.RoleCollaborator, true, false), permissionsChanged("yann", true, true)},
			then: []interval{{grant: domain.Grant{Role: "collaborator", CanPurchase: true}, opened: 3, closed: 4},
				{grant: domain.Grant{Role: "collaborator", CanPurchase: true, CanSeeAllOrders: true}, opened: 4}}},
		{name: "revoked", given: []domain.Event{provCreated(), owner, provJoined("eva", domain.RoleAccountant), revoked("eva")}, user: "eva",
			then: []interval{{grant: acc, opened: 3, closed: 4}}},
		{name: "re-granted", user: "eva",
			given: []domain.Event{provCreated(), owner, provJoined("eva", domain.RoleAccountant), revoked("eva"), provJoined("eva", domain.RoleAccountant)},
			then:  []interval{{grant: acc, opened: 3, closed: 4}, {grant: acc, opened: 5}}},
		{name: "removed collaborator", user: "yann",
			given: []domain.Event{provCreated(), owner, provJoined("yann", domain.RoleCollaborator, false, false),
				domain.CollaboratorRemoved{OrganizationID: provOrg, UserID: "yann", RemovedBy: "ann"}},
			then: []interval{{grant: domain.Grant{Role: "collaborator"}, opened: 3, closed: 4}}},
		{name: "others' events leave the person alone", user: "bob",
			given: []domain.Event{provCreated(), owner, provJoined("bob", domain.RoleMember), provJoined("eva", domain.RoleAccountant), revoked("eva")},
			then:  []interval{{grant: domain.Grant{Role: "member"}, opened: 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := intervalsOf(domain.MemberHistory(recorded(tc.given...), tc.user))
			if !reflect.DeepEqual(got, tc.then) {
				t.Fatalf("got %+v; want %+v", got, tc.then)
			}
		})
	}
}

// access is an access interval in a table's words.
type access struct {
	who, as        string
	opened, closed int64
}

func TestContractAccess(t *testing.T) {
	jean, lea := uuid.MustParse("00000000-0000-0000-0000-00000000000a"), uuid.MustParse("00000000-0000-0000-0000-00000000000b")
	contract := contractID("CTR-1")
	recipient := func(id uuid.UUID, name string) domain.PortalRecipient {
		return domain.PortalRecipient{PortalUserID: id, Name: domain.PersonalOf("ref-"+domain.PersonRef(name), name), Company: "Client SA"}
	}
	shown := domain.ContractShown{OrganizationID: provOrg, ContractID: contract, Title: "Toiture",
		Requester: recipient(jean, "Jean"), Watchers: []domain.PortalRecipient{recipient(lea, "Léa")}}
	watcherRemoved := domain.WatcherRemoved{OrganizationID: provOrg, ContractID: contract, PortalUserID: lea}
	watcherAdded := domain.WatcherAdded{OrganizationID: provOrg, ContractID: contract, Watcher: recipient(lea, "Léa")}
	mismatch := domain.WatcherAccessWithdrawn{OrganizationID: provOrg, ContractID: contract, PortalUserID: lea,
		Reason: domain.WithdrawalReasonCompanyMismatch, WatcherCompany: "Other Ltd", RequesterID: jean, RequesterCompany: "Client SA"}
	withdrawn := domain.ContractWithdrawn{OrganizationID: provOrg, ContractID: contract}
	for _, tc := range []struct {
		name  string
		given []domain.Event // the organization's events and the share's, in the log's order
		then  []access
	}{
		{name: "never shown: nobody, not even the owner", given: []domain.Event{provCreated(), provJoined("ann", domain.RoleOwner)}, then: []access{}},
		{name: "shown: requester, watcher, and the members who read the portal since it was shown",
			given: []domain.Event{provCreated(), provJoined("ann", domain.RoleOwner), provJoined("yann", domain.RoleCollaborator, true, true), shown},
			then:  []access{{"ann", "owner", 4, 0}, {jean.String(), "requester", 4, 0}, {lea.String(), "watcher", 4, 0}}},
		{name: "a watcher removed and added again, then withdrawn for a company change",
			given: []domain.Event{provCreated(), provJoined("ann", domain.RoleOwner), shown, watcherRemoved, watcherAdded, mismatch},
			then: []access{{"ann", "owner", 3, 0}, {jean.String(), "requester", 3, 0}, {lea.String(), "watcher", 3, 4},
				{lea.String(), "watcher", 5, 6}}},
		{name: "a member's role changes and an accountant comes and goes while shown",
			given: []domain.Event{provCreated(), provJoined("ann", domain.RoleOwner), provJoined("bob", domain.RoleMember), shown,
				roleChanged("bob", domain.RoleMember, domain.RoleAdmin, domain.Actor{UserID: "ann"}),
				provJoined("eva", domain.RoleAccountant), revoked("eva")},
			then: []access{{"ann", "owner", 4, 0}, {"bob", "member", 4, 5}, {jean.String(), "requester", 4, 0}, {lea.String(), "watcher", 4, 0},
				{"bob", "admin", 5, 0}, {"eva", "accountant", 6, 7}}},
		{name: "the contract withdrawn closes everyone's, shown again opens new ones",
			given: []domain.Event{provCreated(), provJoined("ann", domain.RoleOwner), shown, withdrawn, shown},
			then: []access{{"ann", "owner", 3, 4}, {jean.String(), "requester", 3, 4}, {lea.String(), "watcher", 3, 4},
				{"ann", "owner", 5, 0}, {jean.String(), "requester", 5, 0}, {lea.String(), "watcher", 5, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			org, share := split(recorded(tc.given...))
			got := []access{}
			for _, a := range domain.ContractAccess(org, share) {
				c := int64(0)
				if a.ClosedBy != nil {
					c = a.ClosedBy.Position
				}
				got = append(got, access{a.Who.ID, a.As, a.OpenedBy.Position, c})
			}
			if !reflect.DeepEqual(got, tc.then) {
				t.Fatalf("got %+v; want %+v", got, tc.then)
			}
		})
	}
}

// split separates a history into the organization's stream and the share's.
func split(evs []domain.Recorded) (org, share []domain.Recorded) {
	for _, e := range evs {
		if strings.HasPrefix(e.Type, "Organization") || strings.HasPrefix(e.Type, "Member") || strings.HasPrefix(e.Type, "Accountant") ||
			strings.HasPrefix(e.Type, "Collaborator") {
			org = append(org, e)
		} else {
			share = append(share, e)
		}
	}
	return org, share
}

// A forgotten person reads as forgotten: their name in who could see a
// contract, the email of the events they caused.
func TestProvenanceOfAForgottenPerson(t *testing.T) {
	forgotten := provJoined("bob", domain.RoleAdmin).(domain.MemberJoined)
	forgotten.Name = domain.ForgottenOf("ref-bob")
	evs := recorded(provCreated(), provJoined("ann", domain.RoleOwner), forgotten,
		domain.ContractShown{OrganizationID: provOrg, ContractID: contractID("C"), Requester: domain.PortalRecipient{
			PortalUserID: uuid.New(), Name: domain.ForgottenOf("ref-jean")}})
	evs[2].Actor.Email = domain.ForgottenOf("ref-bob")
	org, share := split(evs)
	for _, a := range domain.ContractAccess(org, share) {
		if a.Who.ID != "ann" && (a.Who.Name.Value != domain.Forgotten || !a.Who.Name.IsForgotten()) {
			t.Fatalf("%s reads %q; want %q", a.Who.ID, a.Who.Name.Value, domain.Forgotten)
		}
	}
	if h := domain.MemberHistory(org, "bob"); len(h) != 1 || h[0].OpenedBy.Actor.Email.Value != domain.Forgotten {
		t.Fatalf("history = %+v; want the join, its actor's email forgotten", h)
	}
}
