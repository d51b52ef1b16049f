package app

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"partners/domain"
)

// An admin's removal races, on two replicas, the acceptance of an
// invitation the admin sent, and the sending of another one. Whatever the
// order the store lets them in, nobody joins through the removed admin
// after the removal: an invitation accepted first stays accepted (and is
// not revoked), any other is revoked or refused, and its link answers
// invitation_revoked.
func TestRemovalRacesTheAuthorsInvitations(t *testing.T) {
	ctx := context.Background()
	a, b := newTestApp(t), newTestApp(t)
	b.Store = a.Store // two replicas of one store, each with its folds
	for round := 0; round < 8; round++ {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			ann := a.ActorFor("ann", email(t, "ann@example.fr"), true, "Ann")
			bob := a.ActorFor(fmt.Sprintf("bob-%d", round), email(t, fmt.Sprintf("bob.%d@example.fr", round)), true, "Bob")
			carol := a.ActorFor(fmt.Sprintf("carol-%d", round), email(t, fmt.Sprintf("carol.%d@example.fr", round)), true, "Carol")
			dan := a.ActorFor(fmt.Sprintf("dan-%d", round), email(t, fmt.Sprintf("dan.%d@example.fr", round)), true, "Dan")
			org, _, err := a.CreateOrganization(ctx, ann, "Martin SA", domain.SideClient, domain.Siret{})
			if err != nil {
				t.Fatal(err)
			}
			in, err := a.InviteMember(ctx, ann, org, bob.Email, domain.RoleAdmin, "fr")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.AcceptTeamInvitation(ctx, bob, domain.TeamInvitationMember, in.Invitation.ID, in.Token); err != nil {
				t.Fatal(err)
			}
			toCarol, err := a.InviteMember(ctx, bob, org, carol.Email, domain.RoleMember, "fr")
			if err != nil {
				t.Fatal(err)
			}

			var wg sync.WaitGroup
			var removeErr, acceptErr, sendErr error
			var toDan TeamSent
			wg.Add(3)
			go func() {
				defer wg.Done()
				_, removeErr = a.RemoveMember(ctx, ann, org, bob.UserID)
			}()
			go func() {
				defer wg.Done()
				_, acceptErr = b.AcceptTeamInvitation(ctx, carol, domain.TeamInvitationMember, toCarol.Invitation.ID, toCarol.Token)
			}()
			go func() {
				defer wg.Done()
				toDan, sendErr = b.InviteMember(ctx, bob, org, dan.Email, domain.RoleMember, "fr")
			}()
			wg.Wait()
			if removeErr != nil {
				t.Fatalf("removal: %v", removeErr)
			}

			carols := loadTeamInvitation(t, a, toCarol.Invitation.ID)
			o, err := a.LoadOrganization(ctx, org)
			if err != nil {
				t.Fatal(err)
			}
			_, carolIn := o.Members[carol.UserID]
			switch {
			case acceptErr == nil:
				if carols.Status != domain.StatusAccepted || !carolIn {
					t.Fatalf("accepted, yet the invitation is %s and Carol a member: %v", carols.Status, carolIn)
				}
			case domain.ErrorCode(acceptErr) == domain.CodeInvitationRevoked:
				if carols.Status != domain.StatusRevoked || carols.RevokedFor != domain.ReasonAuthorLostRight || carolIn {
					t.Fatalf("refused, yet the invitation is %s (%q) and Carol a member: %v", carols.Status, carols.RevokedFor, carolIn)
				}
			default:
				t.Fatalf("acceptance: %v; want success or invitation_revoked", acceptErr)
			}

			// Dan's invitation: refused (Bob was gone), or revoked with the
			// removal, or it escaped the removal's list; either way its
			// link lets nobody in.
			if sendErr != nil {
				if code := domain.ErrorCode(sendErr); code != domain.CodeNotFound {
					t.Fatalf("sending: %v; want success or not_found (no longer a member)", sendErr)
				}
				return
			}
			_, err = a.AcceptTeamInvitation(ctx, dan, domain.TeamInvitationMember, toDan.Invitation.ID, toDan.Token)
			if domain.ErrorCode(err) != domain.CodeInvitationRevoked {
				t.Fatalf("Dan's acceptance after Bob's removal: %v; want invitation_revoked", err)
			}
		})
	}
}

func loadTeamInvitation(t *testing.T, a *App, id uuid.UUID) *domain.TeamInvitation {
	t.Helper()
	k := teamInvitations(domain.TeamInvitationMember)
	l, err := k.fold.load(context.Background(), a, k.stream(id))
	if err != nil {
		t.Fatal(err)
	}
	return l.state
}
