package projections_test

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/app"
	"partners/domain"
	"partners/eventstore"
	"partners/internal/pgtest"
	"partners/projections"
)

// teamModels are the read models a team history feeds.
var teamModels = map[string]bool{"organizations": true, "members": true, "team_invitations": true, "collaborator_invitations": true, "collaboration_requests": true}

// teamWorld is a team history made through the real commands.
type teamWorld struct {
	org      uuid.UUID
	siret    string
	users    map[string]domain.Actor
	invites  map[string]uuid.UUID // member and accountant invitations, by invitee
	requests map[string]uuid.UUID // collaboration requests, by requester
	events   []eventstore.Event
}

func teamHistory(t *testing.T, store *eventstore.Store, siret string) teamWorld {
	t.Helper()
	ctx := context.Background()
	a := app.New(store)
	w := teamWorld{siret: siret, users: map[string]domain.Actor{}, invites: map[string]uuid.UUID{}, requests: map[string]uuid.UUID{}}
	suffix := uuid.NewString()[:8]
	user := func(name string) domain.Actor {
		email := domain.MustParseEmail(name + "." + suffix + "@example.com")
		u := a.ActorFor(name+"-"+suffix, email, true, name)
		w.users[name] = u
		return u
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	owner, admin, member, gone := user("olivia"), user("adam"), user("mia"), user("gaston")
	accountant, exAccountant, pending := user("chloe"), user("xavier"), user("paula")
	collab, asker, rejected := user("karim"), user("yann"), user("rita")
	id, _, err := a.CreateOrganization(ctx, owner, "Acme", domain.SideClient, domain.MustParseSiret(siret))
	must(err)
	w.org = id

	join := func(who domain.Actor, kind domain.TeamInvitationKind, role domain.Role) {
		t.Helper()
		var sent app.TeamSent
		var err error
		if kind == domain.TeamInvitationAccountant {
			sent, err = a.GrantAccountantAccess(ctx, admin, id, who.Email, "Bonjour", "fr")
		} else {
			sent, err = a.InviteMember(ctx, owner, id, who.Email, role, "fr")
		}
		must(err)
		w.invites[who.UserID] = sent.Invitation.ID
		_, err = a.AcceptTeamInvitation(ctx, who, kind, sent.Invitation.ID, sent.Token)
		must(err)
	}
	join(admin, domain.TeamInvitationMember, domain.RoleMember)
	_, err = a.ChangeMemberRole(ctx, owner, id, admin.UserID, domain.RoleAdmin)
	must(err)
	join(member, domain.TeamInvitationMember, domain.RoleMember)
	join(gone, domain.TeamInvitationMember, domain.RoleMember)
	_, err = a.RemoveMember(ctx, admin, id, gone.UserID)
	must(err)
	join(accountant, domain.TeamInvitationAccountant, domain.Role{})
	join(exAccountant, domain.TeamInvitationAccountant, domain.Role{})
	_, err = a.RevokeAccountantAccess(ctx, owner, id, exAccountant.UserID)
	must(err)
	p, err := a.GrantAccountantAccess(ctx, owner, id, pending.Email, "", "en")
	must(err)
	w.invites[pending.UserID] = p.Invitation.ID
	revoked, err := a.InviteMember(ctx, owner, id, domain.MustParseEmail("revoked."+suffix+"@example.com"), domain.RoleMember, "en")
	must(err)
	_, _, err = a.RevokeTeamInvitation(ctx, owner, domain.TeamInvitationMember, revoked.Invitation.ID)
	must(err)
	w.invites["revoked"] = revoked.Invitation.ID

	c, err := a.CreateCollaborator(ctx, admin, id, app.NewCollaborator{FirstName: "Karim", LastName: "Benali", Email: collab.Email,
		Phone: domain.MustParsePhone("06 12 34 56 78"), CanPurchase: true, Locale: "fr"})
	must(err)
	_, err = a.ActivateCollaborator(ctx, collab, c.Token)
	must(err)
	yes := true
	_, err = a.ChangeCollaboratorPermissions(ctx, owner, id, collab.UserID, nil, &yes)
	must(err)
	r, err := a.RequestCollaboration(ctx, asker, domain.MustParseSiret(siret), domain.Email{})
	must(err)
	w.requests["yann"] = r.RequestID
	_, err = a.ApproveCollaborationRequest(ctx, admin, id, r.RequestID, false, true)
	must(err)
	r, err = a.RequestCollaboration(ctx, rejected, domain.Siret{}, owner.Email)
	must(err)
	w.requests["rita"] = r.RequestID
	_, err = a.RejectCollaborationRequest(ctx, owner, id, r.RequestID)
	must(err)
	// Still pending: one by SIRET, asked twice (recorded once), one to
	// nobody's email.
	r, err = a.RequestCollaboration(ctx, user("pierre"), domain.MustParseSiret(siret), domain.Email{})
	must(err)
	w.requests["pierre"] = r.RequestID
	again, err := a.RequestCollaboration(ctx, w.users["pierre"], domain.MustParseSiret(siret), domain.Email{})
	must(err)
	if again.RequestID != r.RequestID {
		t.Fatalf("asking twice recorded a second request")
	}
	_, err = a.RequestCollaboration(ctx, user("nobody"), domain.Siret{}, domain.MustParseEmail("nobody."+suffix+"@example.com"))
	must(err)

	// The history, in the log's order: every stream the commands wrote.
	rows, err := store.Pool().Query(ctx, `SELECT DISTINCT stream_id FROM events
		WHERE $1 = ANY(organization_ids) OR stream_type = 'collaboration_request'`, id)
	must(err)
	var streams []string
	for rows.Next() {
		var s string
		must(rows.Scan(&s))
		streams = append(streams, s)
	}
	must(rows.Err())
	for _, s := range streams {
		evs, _, err := store.ReadStream(ctx, s)
		must(err)
		w.events = append(w.events, evs...)
	}
	sort.Slice(w.events, func(i, j int) bool { return w.events[i].Position < w.events[j].Position })
	return w
}

// uniqueSiret makes a SIRET no other test uses (one organization per
// SIRET, and the package shares its database): 13 random digits, not La
// Poste's, and the Luhn key.
func uniqueSiret() string {
	var b []byte
	for _, c := range []byte(strings.ReplaceAll(uuid.NewString(), "-", ""))[:13] {
		b = append(b, '0'+c%10)
	}
	b[0] = '4'
	for k := byte('0'); k <= '9'; k++ {
		if s, err := domain.ParseSiret(string(append(b, k))); err == nil {
			return s.String()
		}
	}
	panic("no Luhn key")
}

func applyTeam(t *testing.T, pool *pgxpool.Pool, evs ...eventstore.Event) {
	t.Helper()
	w := projections.NewWriter()
	for _, pr := range projections.All() {
		if !teamModels[pr.Name()] {
			continue
		}
		for i := range evs {
			w.Apply(pr, &evs[i])
		}
	}
	if w.Len() == 0 {
		return
	}
	if err := pool.SendBatch(context.Background(), w.Batch()).Close(); err != nil {
		t.Fatal(err)
	}
}

// teamSnapshot is every team row of an organization, as text, their
// history included. A
// collaboration request belongs to no organization, so the snapshot holds
// every request of the database: TestTeamReadModels, parallel on the shared
// package database, must stay the only test there that requests one.
func teamSnapshot(t *testing.T, pool *pgxpool.Pool, org uuid.UUID) string {
	t.Helper()
	var s string
	if err := pool.QueryRow(context.Background(), `SELECT
		coalesce((SELECT json_agg(m ORDER BY m.user_id)::text FROM rm_members m WHERE organization_id = $1), '') ||
		coalesce((SELECT json_agg(v)::text FROM rm_member_streams v WHERE organization_id = $1), '') ||
		coalesce((SELECT json_agg(i ORDER BY i.id)::text FROM rm_team_invitations i WHERE organization_id = $1), '') ||
		coalesce((SELECT json_agg(c ORDER BY c.id)::text FROM rm_collaborator_invitations c WHERE organization_id = $1), '') ||
		coalesce((SELECT json_agg(a ORDER BY a.request_id)::text FROM rm_collaboration_answers a WHERE organization_id = $1), '') ||
		coalesce((SELECT json_agg(m ORDER BY m.user_id)::text FROM rm_collaboration_members m WHERE organization_id = $1), '') ||
		coalesce((SELECT json_agg(r ORDER BY r.id)::text FROM rm_collaboration_requests r), '') ||
		coalesce((SELECT json_agg(m ORDER BY m.user_id, m.valid_to)::text FROM rm_members_history m WHERE organization_id = $1), '') ||
		coalesce((SELECT json_agg(i ORDER BY i.id, i.valid_to)::text FROM rm_team_invitations_history i WHERE organization_id = $1), '') ||
		coalesce((SELECT json_agg(c ORDER BY c.id, c.valid_to)::text FROM rm_collaborator_invitations_history c WHERE organization_id = $1), '') ||
		coalesce((SELECT json_agg(a ORDER BY a.request_id, a.valid_to)::text FROM rm_collaboration_answers_history a WHERE organization_id = $1), '') ||
		coalesce((SELECT json_agg(m ORDER BY m.user_id, m.valid_to)::text FROM rm_collaboration_members_history m WHERE organization_id = $1), '') ||
		coalesce((SELECT json_agg(r ORDER BY r.id, r.valid_to)::text FROM rm_collaboration_requests_history r), '')`,
		org).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func clearTeam(t *testing.T, pool *pgxpool.Pool, org uuid.UUID) {
	t.Helper()
	for _, tbl := range []string{"rm_members", "rm_member_streams", "rm_team_invitations", "rm_collaborator_invitations",
		"rm_collaboration_answers", "rm_collaboration_members", "rm_collaboration_organizations",
		"rm_members_history", "rm_team_invitations_history", "rm_collaborator_invitations_history",
		"rm_collaboration_answers_history", "rm_collaboration_members_history", "rm_collaboration_organizations_history"} {
		if _, err := pool.Exec(context.Background(), `DELETE FROM `+tbl+` WHERE organization_id = $1`, org); err != nil {
			t.Fatal(err)
		}
	}
}

// The team read models answer what the events say, and an event applied
// again, twice in a row or long after, changes nothing: a removed member
// does not come back.
func TestTeamReadModels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := newStore(t, pool)
	w := teamHistory(t, store, uniqueSiret())
	applyTeam(t, pool, w.events...)
	want := teamSnapshot(t, pool, w.org)
	r := projections.Reader{Q: pool}
	now := time.Now()
	u := func(name string) string { return w.users[name].UserID }

	t.Run("Members", func(t *testing.T) {
		got, _, err := r.Members(ctx, w.org, projections.Page{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		roles := map[string]string{}
		for _, m := range got {
			roles[m.UserID] = m.Role
		}
		wantRoles := map[string]string{u("olivia"): "owner", u("adam"): "admin", u("mia"): "member", u("chloe"): "accountant",
			u("karim"): "collaborator", u("yann"): "collaborator"}
		if !reflect.DeepEqual(roles, wantRoles) {
			t.Fatalf("members = %v; want %v (gaston removed, xavier revoked)", roles, wantRoles)
		}
		g, err := r.Grant(ctx, w.org, u("xavier"))
		if err != nil || g.Role != "" {
			t.Fatalf("revoked accountant's grant = %+v, %v; want none", g, err)
		}
	})
	t.Run("Collaborators", func(t *testing.T) {
		got, _, err := r.Collaborators(ctx, w.org, projections.Page{Limit: 50})
		if err != nil || len(got) != 2 {
			t.Fatalf("collaborators = %+v, %v; want Karim and Yann", got, err)
		}
		byID := map[string]projections.CollaboratorView{got[0].UserID: got[0], got[1].UserID: got[1]}
		k := byID[u("karim")]
		if k.FirstName == nil || *k.FirstName != "Karim" || *k.LastName != "Benali" || *k.Phone != "+33612345678" ||
			!k.CanPurchase || !k.CanSeeAllOrders || k.Via != domain.ViaCollaboratorInvite {
			t.Fatalf("Karim = %+v; want his profile, both permissions, via activation", k)
		}
		y := byID[u("yann")]
		if y.FirstName != nil || y.CanPurchase || !y.CanSeeAllOrders || y.Via != domain.ViaCollaborationRequest || y.Email != w.users["yann"].Email.String() {
			t.Fatalf("Yann = %+v; want no profile, can_see_all_orders only, via request", y)
		}
	})
	t.Run("MemberInvitations", func(t *testing.T) {
		all, _, err := r.MemberInvitations(ctx, w.org, "", now, projections.Page{Limit: 50})
		if err != nil || len(all) != 4 {
			t.Fatalf("member invitations = %+v, %v; want 4", all, err)
		}
		revoked, _, _ := r.MemberInvitations(ctx, w.org, "revoked", now, projections.Page{Limit: 50})
		if len(revoked) != 1 || revoked[0].ID != w.invites["revoked"] {
			t.Fatalf("revoked = %+v", revoked)
		}
		accepted, _, _ := r.MemberInvitations(ctx, w.org, "accepted", now, projections.Page{Limit: 50})
		if len(accepted) != 3 || accepted[0].AcceptedBy == nil || accepted[0].AnsweredAt == nil {
			t.Fatalf("accepted = %+v; want 3 with who and when", accepted)
		}
		page1, next, err := r.MemberInvitations(ctx, w.org, "", now, projections.Page{Limit: 3})
		if err != nil || len(page1) != 3 || next == "" {
			t.Fatalf("page 1 = %d items, next %q, err %v", len(page1), next, err)
		}
		after, _ := projections.DecodeCursor(next, 2)
		page2, next2, err := r.MemberInvitations(ctx, w.org, "", now, projections.Page{Limit: 3, After: after})
		if err != nil || len(page2) != 1 || next2 != "" || page2[0].ID == page1[2].ID {
			t.Fatalf("page 2 = %+v, next %q, err %v", page2, next2, err)
		}
		if _, _, err := r.MemberInvitations(ctx, w.org, "", now, projections.Page{Limit: 3, After: []any{"yesterday", "x"}}); domain.ErrorCode(err) != domain.CodeValidationFailed {
			t.Fatalf("a forged cursor: %v; want validation_failed", err)
		}
	})
	t.Run("Accountants", func(t *testing.T) {
		got, _, err := r.Accountants(ctx, w.org, now, projections.Page{Limit: 50})
		if err != nil || len(got) != 2 {
			t.Fatalf("accountants = %+v, %v; want Chloe granted and Paula pending", got, err)
		}
		if got[0].Status != "granted" || *got[0].UserID != u("chloe") || *got[0].InvitationID != w.invites[u("chloe")] || got[0].Since == nil {
			t.Fatalf("granted = %+v", got[0])
		}
		if got[1].Status != "pending" || got[1].UserID != nil || *got[1].InvitationID != w.invites[u("paula")] || got[1].ExpiresAt == nil {
			t.Fatalf("pending = %+v", got[1])
		}
		page1, next, _ := r.Accountants(ctx, w.org, now, projections.Page{Limit: 1})
		after, _ := projections.DecodeCursor(next, 3)
		page2, next2, err := r.Accountants(ctx, w.org, now, projections.Page{Limit: 1, After: after})
		if err != nil || len(page1) != 1 || len(page2) != 1 || page2[0].Status != "pending" || next2 != "" {
			t.Fatalf("pages = %+v / %+v, %v", page1, page2, err)
		}
		later, _, _ := r.Accountants(ctx, w.org, now.Add(31*24*time.Hour), projections.Page{Limit: 50})
		if len(later) != 1 {
			t.Fatalf("after the pending invitation expired = %+v; want the granted one only", later)
		}
		clients, _, err := r.AccountantClients(ctx, u("chloe"), projections.Page{Limit: 50})
		if err != nil || len(clients) != 1 || clients[0].OrganizationID != w.org || clients[0].Name != "Acme" {
			t.Fatalf("Chloe's clients = %+v, %v", clients, err)
		}
		if none, _, _ := r.AccountantClients(ctx, u("xavier"), projections.Page{Limit: 50}); len(none) != 0 {
			t.Fatalf("revoked accountant still serves %+v", none)
		}
	})
	t.Run("CollaborationRequests", func(t *testing.T) {
		pending, _, err := r.CollaborationRequests(ctx, w.org, "pending", projections.Page{Limit: 50})
		if err != nil || len(pending) != 1 || pending[0].ID != w.requests["pierre"] || pending[0].MatchedBy != "siret" {
			t.Fatalf("pending = %+v, %v; want Pierre's by SIRET only", pending, err)
		}
		approved, _, _ := r.CollaborationRequests(ctx, w.org, "approved", projections.Page{Limit: 50})
		if len(approved) != 1 || approved[0].ID != w.requests["yann"] || approved[0].CanPurchase == nil || *approved[0].CanPurchase || !*approved[0].CanSeeAllOrders {
			t.Fatalf("approved = %+v", approved)
		}
		rej, _, _ := r.CollaborationRequests(ctx, w.org, "rejected", projections.Page{Limit: 50})
		if len(rej) != 1 || rej[0].ID != w.requests["rita"] || rej[0].MatchedBy != "email" || rej[0].CanPurchase != nil {
			t.Fatalf("rejected = %+v", rej)
		}
		if n, err := r.PendingCollaborationRequests(ctx, w.org); err != nil || n != 1 {
			t.Fatalf("badge = %d, %v; want 1", n, err)
		}
	})
	t.Run("AppliedTwice", func(t *testing.T) {
		applyTeam(t, pool, w.events...)
		if got := teamSnapshot(t, pool, w.org); got != want {
			t.Fatalf("after applying the history again:\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("EachEventTwiceInARow", func(t *testing.T) {
		clearTeam(t, pool, w.org)
		for i := range w.events {
			applyTeam(t, pool, w.events[i], w.events[i])
		}
		if got := teamSnapshot(t, pool, w.org); got != want {
			t.Fatalf("each event applied twice:\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("OlderEventLate", func(t *testing.T) {
		// The joins of the removed member and of the revoked accountant, and
		// a role change, come again after everything: nothing may change.
		var late []eventstore.Event
		for _, e := range w.events {
			switch e.Data.(type) {
			case domain.MemberJoined, domain.MemberRoleChanged:
				late = append(late, e)
			}
		}
		applyTeam(t, pool, late...)
		if got := teamSnapshot(t, pool, w.org); got != want {
			t.Fatalf("after older events came late:\n%s\nwant\n%s", got, want)
		}
	})
}
