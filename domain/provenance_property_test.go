package domain_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"partners/domain"
)

// For random histories and random instants, the provenance answers agree
// with the permission answer as of that instant, which folds the
// organization (Organization.GrantOf, what /authorize answers from) and the
// share (ContractShare, what the portal's as-of replay shows) on their own:
//   - Explain's decision is Authorize's on the folded grant, and the events
//     it names suffice: folded alone, they give the same decision;
//   - a person's grant intervals hold the instant exactly when they are a
//     member then, with the folded grant;
//   - who could see the contract at the instant is the share's requester
//     and watchers and the members whose role reads the portal, while it is
//     shown.
func TestProvenanceAgreesWithAuthorizeAsOf(t *testing.T) {
	users := []string{"ann", "bob", "eva", "yann", "zoe"}
	for seed := uint64(1); seed <= 200; seed++ {
		rng := rand.New(rand.NewPCG(seed, 21))
		evs := randomHistory(rng, users, 10+rng.IntN(60))
		org, share := split(evs)
		access := domain.ContractAccess(org, share)
		hists := domain.GrantHistories(org)
		end := evs[len(evs)-1].OccurredAt
		for range 25 {
			var t0 time.Time
			if rng.IntN(2) == 0 {
				t0 = evs[rng.IntN(len(evs))].OccurredAt // an event's own instant: the ties
			} else {
				t0 = provT0.Add(time.Duration(rng.Int64N(int64(end.Sub(provT0)+2*time.Minute))) - time.Minute)
			}
			until := domain.RecordedUntil(org, t0)
			fold := foldOrganization(until)
			for _, u := range users {
				g := fold.GrantOf(u)
				for range 4 {
					a := domain.Actions()[rng.IntN(len(domain.Actions()))]
					ex := domain.Explain(until, u, a)
					want := domain.Authorize(g, a)
					if ex.Decision != want || ex.Grant != g {
						t.Fatalf("seed %d, %s may %s as of %s: explained %+v (%+v); authorize says %+v (%+v)", seed, u, a, t0, ex.Decision, ex.Grant, want, g)
					}
					var causes []domain.Event
					for _, c := range ex.Because {
						if c.OccurredAt.After(t0) {
							t.Fatalf("seed %d: a cause after the instant: %+v", seed, c)
						}
						causes = append(causes, c.Event)
					}
					if got := domain.Authorize(foldOrganization(recorded(append([]domain.Event{provCreated()}, causes...)...)).GrantOf(u), a); got != want {
						t.Fatalf("seed %d, %s may %s as of %s: the causes alone say %+v; want %+v", seed, u, a, t0, got, want)
					}
				}
				var in []domain.GrantInterval
				for _, h := range hists[u] {
					if h.Contains(t0) {
						in = append(in, h)
					}
				}
				switch {
				case g.Role == "" && len(in) != 0, g.Role != "" && (len(in) != 1 || in[0].Grant != g):
					t.Fatalf("seed %d, %s as of %s: intervals %+v; authorize's grant %+v", seed, u, t0, in, g)
				}
			}
			if got, want := seenAt(access, t0), expectedSeers(fold, domain.RecordedUntil(share, t0), users); !slices.Equal(got, want) {
				t.Fatalf("seed %d, as of %s: access history says %v; the folds say %v", seed, t0, got, want)
			}
		}
	}
}

func foldOrganization(evs []domain.Recorded) *domain.Organization {
	o := &domain.Organization{}
	for _, e := range evs {
		o.Apply(e.Event)
	}
	return o
}

func seenAt(access []domain.AccessInterval, t time.Time) []string {
	out := []string{}
	for _, a := range access {
		if a.Contains(t) {
			out = append(out, a.Who.ID+" as "+a.As)
		}
	}
	slices.Sort(out)
	return out
}

func expectedSeers(org *domain.Organization, share []domain.Recorded, users []string) []string {
	s := &domain.ContractShare{}
	for _, e := range share {
		s.Apply(e.Event)
	}
	out := []string{}
	if !s.Shown {
		return out
	}
	out = append(out, s.RequesterID.String()+" as requester")
	for _, w := range s.Watchers {
		out = append(out, w.String()+" as watcher")
	}
	for _, u := range users {
		if g := org.GrantOf(u); domain.Authorize(g, domain.ActionPortalRead).Allowed {
			out = append(out, u+" as "+g.Role)
		}
	}
	slices.Sort(out)
	return out
}

// randomHistory is a valid history of an organization (ann owns it, the
// others come and go in every role) and of one contract share (shown,
// requesters and watchers changing, withdrawn for a company change,
// withdrawn and shown again), interleaved, recorded 0 to 2 minutes apart
// (so that some events share an instant).
func randomHistory(rng *rand.Rand, users []string, n int) []domain.Recorded {
	org := &domain.Organization{}
	share := &domain.ContractShare{}
	portal := []uuid.UUID{}
	for i := range 4 {
		portal = append(portal, uuid.NewSHA1(provOrg, []byte(fmt.Sprint("portal", i))))
	}
	contract := contractID("CTR-P")
	recipient := func(id uuid.UUID) domain.PortalRecipient {
		return domain.PortalRecipient{PortalUserID: id, Name: domain.PersonalOf("ref", id.String()[:4])}
	}
	roles := []domain.Role{domain.RoleOwner, domain.RoleAdmin, domain.RoleMember, domain.RoleAccountant, domain.RoleCollaborator}
	var evs []domain.Event
	add := func(e domain.Event) {
		evs = append(evs, e)
		switch e.(type) {
		case domain.ContractShown, domain.RequesterChanged, domain.WatcherAdded, domain.WatcherRemoved,
			domain.WatcherAccessWithdrawn, domain.ContractWithdrawn:
			share.Apply(e)
		default:
			org.Apply(e)
		}
	}
	add(provCreated())
	add(provJoined("ann", domain.RoleOwner))
	for len(evs) < n {
		u := users[1+rng.IntN(len(users)-1)]
		m, member := org.Members[u]
		switch rng.IntN(4) {
		case 0: // the team
			switch {
			case !member:
				r := roles[rng.IntN(len(roles))]
				add(provJoined(u, r, rng.IntN(2) == 0, rng.IntN(2) == 0))
			case m.Role == domain.RoleAccountant:
				add(revoked(u))
			case m.Role == domain.RoleCollaborator && rng.IntN(3) == 0:
				add(domain.CollaboratorRemoved{OrganizationID: provOrg, UserID: u})
			case m.Role == domain.RoleCollaborator:
				add(permissionsChanged(u, rng.IntN(2) == 0, rng.IntN(2) == 0))
			case rng.IntN(3) == 0:
				add(domain.MemberRemoved{OrganizationID: provOrg, UserID: u, Role: m.Role})
			case rng.IntN(3) == 0:
				add(domain.MemberEmailChanged{OrganizationID: provOrg, UserID: u, Role: m.Role})
			default:
				r := roles[rng.IntN(3)]
				if r != m.Role {
					add(domain.MemberRoleChanged{OrganizationID: provOrg, UserID: u, Role: r, PreviousRole: m.Role})
				}
			}
		default: // the contract
			p := portal[rng.IntN(len(portal))]
			switch {
			case !share.Shown:
				var ws []domain.PortalRecipient
				for _, w := range portal {
					if w != p && rng.IntN(2) == 0 {
						ws = append(ws, recipient(w))
					}
				}
				add(domain.ContractShown{OrganizationID: provOrg, ContractID: contract, Requester: recipient(p), Watchers: ws})
			case rng.IntN(8) == 0:
				add(domain.ContractWithdrawn{OrganizationID: provOrg, ContractID: contract})
			case p == share.RequesterID:
			case share.IsWatcher(p) && rng.IntN(3) == 0:
				add(domain.WatcherAccessWithdrawn{OrganizationID: provOrg, ContractID: contract, PortalUserID: p, Reason: domain.WithdrawalReasonCompanyMismatch})
			case share.IsWatcher(p) && rng.IntN(2) == 0:
				add(domain.WatcherRemoved{OrganizationID: provOrg, ContractID: contract, PortalUserID: p})
			case share.IsWatcher(p):
				// the watcher becomes the requester, as DecideShowContract does it
				add(domain.WatcherRemoved{OrganizationID: provOrg, ContractID: contract, PortalUserID: p})
				add(domain.RequesterChanged{OrganizationID: provOrg, ContractID: contract, Requester: recipient(p), PreviousRequesterID: share.RequesterID})
			case rng.IntN(3) == 0:
				add(domain.RequesterChanged{OrganizationID: provOrg, ContractID: contract, Requester: recipient(p), PreviousRequesterID: share.RequesterID})
			default:
				add(domain.WatcherAdded{OrganizationID: provOrg, ContractID: contract, Watcher: recipient(p)})
			}
		}
	}
	out := recorded(evs...)
	when := provT0
	for i := range out {
		when = when.Add(time.Duration(rng.IntN(3)) * time.Minute)
		out[i].OccurredAt = when
	}
	return out
}
