package app

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
)

// The command path against the real store: a lost race is decided again on
// the new state, up to the limit; a cancelled request is not; a taken
// reservation is either the handler's refusal or a lost race.
func TestRunRetriesLostRaces(t *testing.T) {
	ann := domain.Actor{UserID: "ann"}
	conflict := domain.ErrConcurrencyConflict("")
	for _, tc := range []struct {
		name string
		// races is how many attempts another command beats to the stream.
		races int
		// cancel cancels the request during the first attempt, which then
		// loses its race.
		cancel    bool
		wantTries int
		wantErr   *domain.Error
	}{
		{name: "OK at once", races: 0, wantTries: 1},
		{name: "OK after a lost race", races: 1, wantTries: 2},
		{name: "OK at the last attempt", races: maxAttempts - 1, wantTries: maxAttempts},
		{name: "ErrConcurrencyConflict past the limit", races: maxAttempts, wantTries: maxAttempts, wantErr: conflict},
		{name: "ErrConcurrencyConflict cancelled is not retried", races: 1, cancel: true, wantTries: 1, wantErr: conflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			a := newTestApp(t)
			appended := 0
			a.Appended = func() { appended++ }
			org, _, err := a.CreateOrganization(ctx, ann, "Martin SA", domain.SideClient, domain.Siret{})
			if err != nil {
				t.Fatal(err)
			}
			appended = 0
			tries := 0
			st, res, err := update(ctx, a, ann, "Test", organizationFold, organizationStream(org),
				func(_ *attempt, st *OrganizationState) ([]domain.Event, error) {
					tries++
					if tries <= tc.races {
						race(t, a, org, fmt.Sprintf("racer-%d", tries))
					}
					if tc.cancel {
						cancel()
						return nil, conflict
					}
					return []domain.Event{joined(org, "cmd")}, nil
				})
			if tries != tc.wantTries {
				t.Errorf("decided %d times; want %d", tries, tc.wantTries)
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || appended != 0 {
					t.Fatalf("got %v (appended %d); want %v and nothing appended", err, appended, tc.wantErr)
				}
				return
			}
			if err != nil || appended != 1 {
				t.Fatalf("got %v (appended %d); want success, appended once", err, appended)
			}
			// The answer is the state the events were decided on, with them.
			fresh, ferr := a.loadOrganizationState(context.Background(), org)
			if ferr != nil {
				t.Fatal(ferr)
			}
			if _, ok := st.Org.Members["cmd"]; !ok || st.Position != res.Position || st.Org.Version != fresh.Org.Version ||
				len(st.Org.Members) != len(fresh.Org.Members) {
				t.Fatalf("answered state %+v at %d; want the stored one %+v at %d", st.Org, st.Position, fresh.Org, res.Position)
			}
		})
	}
}

// A decision that changes nothing appends nothing and answers where the
// stream stands.
func TestRunWithNothingToAppendAnswersThePosition(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	ann := domain.Actor{UserID: "ann"}
	org, created, err := a.CreateOrganization(ctx, ann, "Martin SA", domain.SideClient, domain.Siret{})
	if err != nil {
		t.Fatal(err)
	}
	_, res, err := update(ctx, a, ann, "Test", organizationFold, organizationStream(org),
		func(*attempt, *OrganizationState) ([]domain.Event, error) { return nil, nil })
	if err != nil || res.Position != created.Position {
		t.Fatalf("got %+v %v; want position %d", res, err, created.Position)
	}
}

func TestRunReservations(t *testing.T) {
	ann := domain.Actor{UserID: "ann"}
	refused := domain.ErrPortalUserExists("holder")
	for _, tc := range []struct {
		name string
		// taken is the handler's answer to a reservation held by another.
		taken     func(*eventstore.ReservationError) error
		wantTries int
		wantErr   *domain.Error
		// wantHolder is who holds the key afterwards.
		wantHolder string
	}{
		{name: "ErrPortalUserExists answered as the handler says", taken: func(e *eventstore.ReservationError) error {
			return domain.ErrPortalUserExists(e.Holder)
		}, wantTries: 1, wantErr: refused, wantHolder: "first"},
		{name: "OK a lost race is decided again", wantTries: 2, wantHolder: "second"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			a := newTestApp(t)
			org, _, err := a.CreateOrganization(ctx, ann, "Martin SA", domain.SideClient, domain.Siret{})
			if err != nil {
				t.Fatal(err)
			}
			key := "test:" + org.String()
			if _, err := a.Store.Append(ctx, eventstore.Batch{
				Streams: []eventstore.StreamAppend{{StreamID: domain.OrganizationStream(org), StreamType: domain.OrganizationStreamType,
					Expected: eventstore.Any, Events: a.newEvents([]domain.Event{joined(org, "first")})}},
				Reserve: []eventstore.Reservation{{Key: key, Holder: "first"}},
			}); err != nil {
				t.Fatal(err)
			}
			tries := 0
			_, err = a.run(ctx, ann, "Test", func(at *attempt) error {
				tries++
				l, err := organizationFold.load(ctx, a, organizationStream(org))
				if err != nil {
					return err
				}
				l.append(at, []domain.Event{joined(org, "second")})
				at.taken = tc.taken
				// The first attempt believes the key free; the next one
				// reads its holder and takes it over.
				r := eventstore.Reservation{Key: key, Holder: "second"}
				if tries > 1 {
					holder, _, err := a.Store.Holder(ctx, key)
					if err != nil {
						return err
					}
					r.Replace = holder
				}
				at.batch.Reserve = []eventstore.Reservation{r}
				return nil
			})
			if tries != tc.wantTries {
				t.Errorf("decided %d times; want %d", tries, tc.wantTries)
			}
			if tc.wantErr != nil {
				var de *domain.Error
				if !errors.As(err, &de) || de.Code != tc.wantErr.Code || de.Details["portal_user_id"] != "first" {
					t.Fatalf("got %v; want %v naming the holder", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("got %v; want success", err)
			}
			if holder, _, err := a.Store.Holder(ctx, key); err != nil || holder != tc.wantHolder {
				t.Fatalf("holder %q %v; want %q", holder, err, tc.wantHolder)
			}
		})
	}
}

// Two invitations of any kind to the same email: the second is refused
// while the first is pending, and takes the slot over once it is not.
func TestSendWithTokenKeepsOnePendingInvitation(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	ann := a.ActorFor("ann", email(t, "ann@example.fr"), true, "Ann Martin")
	org, _, err := a.CreateOrganization(ctx, ann, "Martin SA", domain.SideClient, domain.Siret{})
	if err != nil {
		t.Fatal(err)
	}
	bob := email(t, "bob@example.fr")
	for _, tc := range []struct {
		name   string
		send   func() (uuid.UUID, string, error)
		revoke func(id uuid.UUID) error
		opens  func(token string) (uuid.UUID, error)
	}{
		{name: "partner", send: func() (uuid.UUID, string, error) {
			s, err := a.SendInvitation(ctx, ann, org, bob, "", domain.PartnerContact{}, "fr")
			return idOf(s.Invitation, err), s.Token, err
		}, revoke: func(id uuid.UUID) error {
			_, _, err := a.RevokeInvitation(ctx, ann, id)
			return err
		}, opens: func(token string) (uuid.UUID, error) {
			inv, _, err := a.InvitationByToken(ctx, token)
			return idOf(inv, err), err
		}},
		{name: "colleague", send: func() (uuid.UUID, string, error) {
			s, err := a.InviteMember(ctx, ann, org, bob, domain.RoleMember, "fr")
			return idOf(s.Invitation, err), s.Token, err
		}, revoke: func(id uuid.UUID) error {
			_, _, err := a.RevokeTeamInvitation(ctx, ann, domain.TeamInvitationMember, id)
			return err
		}},
		{name: "collaborator", send: func() (uuid.UUID, string, error) {
			s, err := a.CreateCollaborator(ctx, ann, org, NewCollaborator{FirstName: "Bob", LastName: "Durand", Email: bob,
				Phone: domain.MustParsePhone("+33612345678"), Locale: "fr"})
			return idOf(s.Invitation, err), s.Token, err
		}, opens: func(token string) (uuid.UUID, error) {
			l, err := byToken(ctx, a, collaborators, token, domain.ErrActivationLinkInvalid())
			return idOf(l.state, err), err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first, token, err := tc.send()
			if err != nil || token == "" {
				t.Fatalf("first: %v", err)
			}
			if _, _, err := tc.send(); domain.ErrorCode(err) != domain.CodeDuplicatePending {
				t.Fatalf("second while pending: %v; want %s", err, domain.CodeDuplicatePending)
			}
			if tc.opens != nil {
				if got, err := tc.opens(token); err != nil || got != first {
					t.Fatalf("the token opens %s %v; want %s", got, err, first)
				}
				if _, err := tc.opens(token[1:] + "A"); domain.ErrorCode(err) == "" {
					t.Fatal("another token opens an invitation")
				}
			}
			if tc.revoke == nil {
				return
			}
			if err := tc.revoke(first); err != nil {
				t.Fatal(err)
			}
			if second, _, err := tc.send(); err != nil || second == first {
				t.Fatalf("after the revocation: %s %v; want a new invitation", second, err)
			}
		})
	}
}

// race appends a member as another command would, between a load and its
// append.
func race(t *testing.T, a *App, org uuid.UUID, user string) {
	t.Helper()
	if _, err := a.Store.Append(context.Background(), eventstore.Batch{Streams: []eventstore.StreamAppend{{
		StreamID: domain.OrganizationStream(org), StreamType: domain.OrganizationStreamType, Expected: eventstore.Any,
		Events: a.newEvents([]domain.Event{joined(org, user)})}}}); err != nil {
		t.Fatal(err)
	}
}

func joined(org uuid.UUID, user string) domain.MemberJoined {
	return domain.MemberJoined{OrganizationID: org, UserID: user, Role: domain.RoleMember, Via: domain.ViaMemberInvitation}
}

func idOf[P interface{ Link() (uuid.UUID, string) }](p P, err error) uuid.UUID {
	if err != nil {
		return uuid.Nil
	}
	id, _ := p.Link()
	return id
}
