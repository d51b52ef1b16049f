package projections_test

import (
	"context"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"

	"partners/app"
	"partners/domain"
	"partners/eventstore"
	"partners/internal/pgtest"
	"partners/projections"
)

// Seed 003 (DOMAIN.md 4.4 and 4.5), as the read models keep it: the
// collaborator accounts an organization created, by status, and the
// collaboration requests as their requester follows them.
func TestPendingAccountsAndOwnRequests(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := newStore(t, pool)
	a := app.New(store)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	suffix := uuid.NewString()[:8]
	user := func(name string) domain.Actor {
		return a.ActorFor(name+"-"+suffix, domain.MustParseEmail(name+"."+suffix+"@example.com"), true, name)
	}
	owner, other, lena, yann := user("olivia"), user("otto"), user("lena"), user("yann")
	siret := uniqueSiret()
	org, _, err := a.CreateOrganization(ctx, owner, "EMS Proto", domain.SideClient, domain.MustParseSiret(siret))
	must(err)
	elsewhere, _, err := a.CreateOrganization(ctx, other, "Elsewhere", domain.SideClient, domain.Siret{})
	must(err)
	create := func(first string, email domain.Email) app.CollaboratorSent {
		t.Helper()
		c, err := a.CreateCollaborator(ctx, owner, org, app.NewCollaborator{FirstName: first, LastName: "Benali", Email: email,
			Phone: domain.MustParsePhone("06 12 34 56 78"), CanSeeAllOrders: true, Locale: "fr"})
		must(err)
		return c
	}
	typo := create("Karim", domain.MustParseEmail("karim."+suffix+"@exmple.org"))
	resent := create("Lena", lena.Email)
	waiting := create("Nina", domain.MustParseEmail("nina."+suffix+"@example.org"))
	_, _, err = a.RevokeCollaboratorInvitation(ctx, owner, typo.Invitation.ID)
	must(err)
	again, err := a.ResendCollaboratorInvitation(ctx, owner, resent.Invitation.ID, "")
	must(err)
	_, err = a.ActivateCollaborator(ctx, lena, again.Token)
	must(err)

	byEmail, err := a.RequestCollaboration(ctx, yann, domain.Siret{}, owner.Email)
	must(err)
	bySiret, err := a.RequestCollaboration(ctx, yann, domain.MustParseSiret(siret), domain.Email{})
	must(err)
	nobody, err := a.RequestCollaboration(ctx, yann, domain.Siret{}, domain.MustParseEmail("nobody."+suffix+"@example.com"))
	must(err)
	toOther, err := a.RequestCollaboration(ctx, yann, domain.Siret{}, other.Email)
	must(err)
	_, err = a.ApproveCollaborationRequest(ctx, owner, org, byEmail.RequestID, false, false)
	must(err)
	_, err = a.RejectCollaborationRequest(ctx, other, elsewhere, toOther.RequestID)
	must(err)

	var evs []eventstore.Event
	for _, s := range []string{domain.OrganizationStream(org), domain.OrganizationStream(elsewhere),
		domain.CollaboratorInvitationStream(typo.Invitation.ID), domain.CollaboratorInvitationStream(resent.Invitation.ID),
		domain.CollaboratorInvitationStream(waiting.Invitation.ID), domain.CollaborationRequestStream(byEmail.RequestID),
		domain.CollaborationRequestStream(bySiret.RequestID), domain.CollaborationRequestStream(nobody.RequestID),
		domain.CollaborationRequestStream(toOther.RequestID)} {
		got, _, err := store.ReadStream(ctx, s)
		must(err)
		evs = append(evs, got...)
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].Position < evs[j].Position })
	applyTeam(t, pool, evs...)
	r := projections.Reader{Q: pool}
	now := time.Now()

	t.Run("AccountsByStatus", func(t *testing.T) {
		for status, want := range map[string][]uuid.UUID{
			// The last sent first: Lena's resend is newer than Nina's creation.
			"":          {resent.Invitation.ID, waiting.Invitation.ID, typo.Invitation.ID},
			"invited":   {waiting.Invitation.ID},
			"activated": {resent.Invitation.ID},
			"revoked":   {typo.Invitation.ID},
			"expired":   nil,
		} {
			got, _, err := r.CollaboratorInvitations(ctx, org, status, now, projections.Page{Limit: 50})
			must(err)
			var ids []uuid.UUID
			for _, v := range got {
				ids = append(ids, v.ID)
			}
			if !slices.Equal(ids, want) {
				t.Errorf("status %q: %v; want %v", status, ids, want)
			}
		}
		later, _, err := r.CollaboratorInvitations(ctx, org, "expired", now.Add(31*24*time.Hour), projections.Page{Limit: 50})
		must(err)
		if len(later) != 1 || later[0].ID != waiting.Invitation.ID || later[0].Status != "expired" {
			t.Fatalf("expired a month later = %+v; want Nina's", later)
		}
		got, _, err := r.CollaboratorInvitations(ctx, org, "invited", now, projections.Page{Limit: 50})
		must(err)
		if v := got[0]; v.FirstName != "Nina" || v.LastName != "Benali" || v.Phone != "+33612345678" || v.CanPurchase || !v.CanSeeAllOrders ||
			v.Email != "nina."+suffix+"@example.org" {
			t.Fatalf("Nina's account = %+v", v)
		}
		page1, next, err := r.CollaboratorInvitations(ctx, org, "", now, projections.Page{Limit: 2})
		must(err)
		after, _ := projections.DecodeCursor(next, 2)
		page2, next2, err := r.CollaboratorInvitations(ctx, org, "", now, projections.Page{Limit: 2, After: after})
		must(err)
		if len(page1) != 2 || len(page2) != 1 || next2 != "" || page2[0].ID != typo.Invitation.ID {
			t.Fatalf("pages = %+v / %+v", page1, page2)
		}
		if none, _, _ := r.CollaboratorInvitations(ctx, elsewhere, "", now, projections.Page{Limit: 50}); len(none) != 0 {
			t.Fatalf("another organization's accounts = %+v", none)
		}
	})
	t.Run("ResendAppliedLate", func(t *testing.T) {
		// The resend comes again after the activation: nothing changes.
		before, _, _ := r.CollaboratorInvitations(ctx, org, "activated", now, projections.Page{Limit: 50})
		for _, e := range evs {
			if _, ok := e.Data.(domain.CollaboratorInvitationResent); ok {
				applyTeam(t, pool, e, e)
			}
		}
		after, _, _ := r.CollaboratorInvitations(ctx, org, "activated", now, projections.Page{Limit: 50})
		if len(after) != 1 || after[0] != before[0] {
			t.Fatalf("after the resend applied late: %+v; want %+v", after, before)
		}
	})
	t.Run("OwnRequests", func(t *testing.T) {
		got, _, err := r.OwnCollaborationRequests(ctx, yann.UserID, projections.Page{Limit: 50})
		must(err)
		by := map[uuid.UUID]projections.OwnCollaborationRequestView{}
		for _, v := range got {
			by[v.ID] = v
		}
		if len(got) != 4 || got[0].ID != toOther.RequestID {
			t.Fatalf("Yann's requests = %+v; want four, newest first", got)
		}
		if v := by[byEmail.RequestID]; v.Status != "approved" || v.Organization == nil || v.Organization.ID != org ||
			v.Organization.Name != "EMS Proto" || v.AnsweredAt == nil || !v.ByEmail {
			t.Fatalf("approved = %+v", v)
		}
		if v := by[toOther.RequestID]; v.Status != "rejected" || v.Organization != nil || v.AnsweredAt == nil {
			t.Fatalf("rejected = %+v; want no organization", v)
		}
		// Matched and unanswered, or matched by nobody: the same row.
		s, n := by[bySiret.RequestID], by[nobody.RequestID]
		if s.Status != "pending" || n.Status != "pending" || s.Organization != nil || n.Organization != nil || s.AnsweredAt != nil ||
			n.AnsweredAt != nil || s.TargetSiret == nil || *s.TargetSiret != siret || n.TargetSiret != nil || !n.ByEmail {
			t.Fatalf("pending = %+v and %+v", s, n)
		}
		if none, _, _ := r.OwnCollaborationRequests(ctx, owner.UserID, projections.Page{Limit: 50}); len(none) != 0 {
			t.Fatalf("the owner's own requests = %+v; want none", none)
		}
	})
}
