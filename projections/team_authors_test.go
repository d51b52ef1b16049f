package projections_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"partners/app"
	"partners/domain"
	"partners/eventstore"
	"partners/internal/pgtest"
	"partners/projections"
)

// An admin's removal revokes the invitations they sent: the read models
// say revoked, and applying the history again changes nothing.
func TestRevokedWithTheirAuthor(t *testing.T) {
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
	owner := a.ActorFor("olivia-rw", domain.MustParseEmail("olivia.rw@example.com"), true, "Olivia")
	admin := a.ActorFor("adam-rw", domain.MustParseEmail("adam.rw@example.com"), true, "Adam")
	org, _, err := a.CreateOrganization(ctx, owner, "Acme", domain.SideClient, domain.MustParseSiret(uniqueSiret()))
	must(err)
	in, err := a.InviteMember(ctx, owner, org, admin.Email, domain.RoleAdmin, "fr")
	must(err)
	_, err = a.AcceptTeamInvitation(ctx, admin, domain.TeamInvitationMember, in.Invitation.ID, in.Token)
	must(err)
	colleague, err := a.InviteMember(ctx, admin, org, domain.MustParseEmail("nina.rw@example.com"), domain.RoleMember, "fr")
	must(err)
	acct, err := a.GrantAccountantAccess(ctx, admin, org, domain.MustParseEmail("cabinet.rw@example.com"), "", "fr")
	must(err)
	collab, err := a.CreateCollaborator(ctx, admin, org, app.NewCollaborator{FirstName: "Karim", LastName: "Benali",
		Email: domain.MustParseEmail("karim.rw@example.com"), Phone: domain.MustParsePhone("06 12 34 56 78"), Locale: "fr"})
	must(err)
	_, err = a.RemoveMember(ctx, owner, org, admin.UserID)
	must(err)

	// The history, read stream by stream (the log stops below the oldest
	// transaction still running, which other tests may hold back).
	rows, err := pool.Query(ctx, `SELECT DISTINCT stream_id FROM events WHERE $1 = ANY(organization_ids)`, org)
	must(err)
	streams, err := pgx.CollectRows(rows, pgx.RowTo[string])
	must(err)
	var evs []eventstore.Event
	for _, s := range streams {
		got, _, err := store.ReadStream(ctx, s)
		must(err)
		evs = append(evs, got...)
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].Position < evs[j].Position })
	if len(evs) != 12 {
		t.Fatalf("history of %d events; want 12", len(evs))
	}
	applyTeam(t, pool, evs...)
	once := teamSnapshot(t, pool, org)
	applyTeam(t, pool, evs...)
	if again := teamSnapshot(t, pool, org); again != once {
		t.Fatalf("applied twice:\n%s\nwant\n%s", again, once)
	}
	r := projections.Reader{Q: pool}
	revoked, _, err := r.MemberInvitations(ctx, org, "revoked", time.Now(), projections.Page{Limit: 10})
	if err != nil || len(revoked) != 1 || revoked[0].ID != colleague.Invitation.ID {
		t.Fatalf("revoked colleague invitations = %+v, %v; want the admin's", revoked, err)
	}
	if accountants, _, err := r.Accountants(ctx, org, time.Now(), projections.Page{Limit: 10}); err != nil || len(accountants) != 0 {
		t.Fatalf("accountants = %+v, %v; want %s no longer pending", accountants, err, acct.Invitation.ID)
	}
	var status string
	must(pool.QueryRow(ctx, `SELECT status FROM rm_collaborator_invitations WHERE id = $1`, collab.Invitation.ID).Scan(&status))
	if status != "revoked" {
		t.Fatalf("collaborator invitation is %q; want revoked", status)
	}
}
