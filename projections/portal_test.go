package projections_test

import (
	"context"
	"reflect"
	"sort"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/domain"
	"partners/eventstore"
	"partners/internal/pgtest"
	"partners/projections"
)

// portalHistory appends a small portal history for a fresh organization
// and returns it in the log's order, with the portal users' ids.
func portalHistory(t *testing.T, store *eventstore.Store) (uuid.UUID, map[string]uuid.UUID, []eventstore.Event) {
	t.Helper()
	ctx := context.Background()
	orgID := uuid.New()
	ids := map[string]uuid.UUID{}
	users := map[string]*domain.PortalUser{}
	var streams []string
	appendTo := func(stream, typ string, evs ...domain.Event) {
		t.Helper()
		var news []eventstore.NewEvent
		for _, e := range evs {
			news = append(news, eventstore.NewEvent{ID: uuid.New(), Data: e})
		}
		if _, err := store.Append(ctx, eventstore.Batch{Streams: []eventstore.StreamAppend{{
			StreamID: stream, StreamType: typ, Expected: eventstore.Any, Events: news}}}); err != nil {
			t.Fatal(err)
		}
		streams = append(streams, stream)
	}
	for _, u := range []struct{ key, email, name, company string }{
		{"anna", "anna@client.fr", "Anna Klein", "Acme SA"},
		{"bruno", "bruno@client.fr", "Bruno Roy", " ACME  sa"},
		{"emma", "emma@client.fr", "Emma Petit", "Acme SA"},
		{"carla", "carla@beta.fr", "Carla Diaz", "Beta SARL"},
	} {
		id := uuid.New()
		ids[u.key] = id
		e := domain.PortalUserCreated{PortalUserID: id, OrganizationID: orgID, Email: store.Keys().Personal(u.email, u.email),
			EmailRef: store.Keys().Ref(u.email), Name: store.Keys().Personal(u.email, u.name), Company: u.company}
		users[u.key] = &domain.PortalUser{}
		users[u.key].Apply(e)
		appendTo(domain.PortalUserStream(id), domain.PortalUserStreamType, e)
	}
	carla := users["carla"]
	appendTo(domain.PortalUserStream(carla.ID), domain.PortalUserStreamType,
		domain.PortalUserRenamed{PortalUserID: carla.ID, OrganizationID: orgID, Name: domain.PersonalOf(carla.EmailRef, "Carla D.")},
		domain.PortalUserCompanyChanged{PortalUserID: carla.ID, OrganizationID: orgID, Company: "acme sa", PreviousCompany: "Beta SARL"})

	rcp := func(k string) domain.PortalRecipient { return users[k].Recipient() }
	c1, c2, c3 := domain.MustParseContractID("C-1"), domain.MustParseContractID("C-2"), domain.MustParseContractID("C-3")
	share := func(c domain.ContractID, evs ...domain.Event) {
		appendTo(domain.ContractShareStream(orgID, c), domain.ContractShareStreamType, evs...)
	}
	share(c1, domain.ContractShown{OrganizationID: orgID, OrganizationName: "Acme Travaux", ContractID: c1, Title: "Maintenance",
		Requester: rcp("anna"), Watchers: []domain.PortalRecipient{rcp("bruno"), rcp("emma")}, Locale: "fr"})
	share(c1, domain.WatcherRemoved{OrganizationID: orgID, ContractID: c1, PortalUserID: ids["bruno"]})
	share(c1, domain.WatcherAdded{OrganizationID: orgID, ContractID: c1, Title: "Maintenance", Watcher: rcp("bruno")})
	share(c1, domain.ContractRetitled{OrganizationID: orgID, ContractID: c1, Title: "Maintenance 2026", PreviousTitle: "Maintenance"},
		domain.AttachmentsVisibilityChanged{OrganizationID: orgID, ContractID: c1, AttachmentsVisible: true})
	share(c1, domain.WatcherAccessWithdrawn{OrganizationID: orgID, ContractID: c1, PortalUserID: ids["emma"], Reason: "company_mismatch"})
	share(c2, domain.ContractShown{OrganizationID: orgID, ContractID: c2, Title: "Withdrawn", Requester: rcp("anna"), Watchers: []domain.PortalRecipient{}})
	share(c2, domain.ContractWithdrawn{OrganizationID: orgID, ContractID: c2})
	share(c3, domain.ContractShown{OrganizationID: orgID, ContractID: c3, Title: "Toiture", Requester: rcp("bruno"),
		Watchers: []domain.PortalRecipient{rcp("anna")}, AttachmentsVisible: false})
	share(c3, domain.RequesterChanged{OrganizationID: orgID, ContractID: c3, Title: "Toiture", Requester: rcp("emma"), PreviousRequesterID: ids["bruno"]})

	seen := map[string]bool{}
	var all []eventstore.Event
	for _, s := range streams {
		if seen[s] {
			continue
		}
		seen[s] = true
		evs, _, err := store.ReadStream(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, evs...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Position < all[j].Position })
	return orgID, ids, all
}

func applyPortal(t *testing.T, pool *pgxpool.Pool, evs ...eventstore.Event) {
	t.Helper()
	w := projections.NewWriter()
	for _, pr := range projections.All() {
		if pr.Name() != "portal_users" && pr.Name() != "portal_access" {
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

// portalSnapshot is every portal row of an organization, as text, their
// history included.
func portalSnapshot(t *testing.T, pool *pgxpool.Pool, orgID uuid.UUID) string {
	t.Helper()
	var s string
	if err := pool.QueryRow(context.Background(), `SELECT
		coalesce((SELECT json_agg(u ORDER BY u.id)::text FROM rm_portal_users u WHERE organization_id = $1), '') ||
		coalesce((SELECT json_agg(c ORDER BY c.contract_id)::text FROM rm_portal_contracts c WHERE organization_id = $1), '') ||
		coalesce((SELECT json_agg(a ORDER BY a.contract_id, a.portal_user_id)::text FROM rm_portal_access a WHERE organization_id = $1), '') ||
		coalesce((SELECT json_agg(u ORDER BY u.id, u.valid_to)::text FROM rm_portal_users_history u WHERE organization_id = $1), '') ||
		coalesce((SELECT json_agg(c ORDER BY c.contract_id, c.valid_to)::text FROM rm_portal_contracts_history c WHERE organization_id = $1), '') ||
		coalesce((SELECT json_agg(a ORDER BY a.contract_id, a.portal_user_id, a.valid_to)::text FROM rm_portal_access_history a WHERE organization_id = $1), '')`,
		orgID).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// The portal read models answer what the events say, and an event applied
// again, twice in a row or long after, changes nothing.
func TestPortalReadModels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := newStore(t, pool)
	orgID, ids, evs := portalHistory(t, store)
	applyPortal(t, pool, evs...)
	want := portalSnapshot(t, pool, orgID)
	r := projections.Reader{Q: pool}

	t.Run("ContractPortal", func(t *testing.T) {
		got, ok, err := r.ContractPortal(ctx, orgID, "C-1")
		if err != nil || !ok {
			t.Fatalf("C-1: ok %v, err %v", ok, err)
		}
		if got.Title != "Maintenance 2026" || !got.AttachmentsVisible || got.Requester.ID != ids["anna"] || got.Requester.Name != "Anna Klein" ||
			got.Requester.Email != "anna@client.fr" || got.Requester.Company != "Acme SA" || got.SharedAt.IsZero() {
			t.Fatalf("C-1 = %+v", got)
		}
		if len(got.Watchers) != 1 || got.Watchers[0].ID != ids["bruno"] {
			t.Fatalf("C-1 watchers = %+v; want Bruno only (Emma withdrawn)", got.Watchers)
		}
		if _, ok, _ := r.ContractPortal(ctx, orgID, "C-2"); ok {
			t.Fatalf("withdrawn C-2 still shown")
		}
		c3, _, _ := r.ContractPortal(ctx, orgID, "C-3")
		if c3.Requester.ID != ids["emma"] || len(c3.Watchers) != 1 || c3.Watchers[0].ID != ids["anna"] {
			t.Fatalf("C-3 = %+v; want requester Emma, watcher Anna", c3)
		}
		if _, ok, _ := r.ContractPortal(ctx, uuid.New(), "C-1"); ok {
			t.Fatalf("another organization sees C-1")
		}
	})
	t.Run("ContractsPage", func(t *testing.T) {
		for _, tc := range []struct {
			who  string
			want []projections.PortalContractView
		}{
			{"anna", []projections.PortalContractView{{ContractID: "C-1", Title: "Maintenance 2026", As: "requester", AttachmentsVisible: true}, {ContractID: "C-3", Title: "Toiture", As: "watcher"}}},
			{"bruno", []projections.PortalContractView{{ContractID: "C-1", Title: "Maintenance 2026", As: "watcher", AttachmentsVisible: true}}},
			{"emma", []projections.PortalContractView{{ContractID: "C-3", Title: "Toiture", As: "requester"}}},
			{"carla", []projections.PortalContractView{}},
		} {
			got, next, err := r.PortalUserContracts(ctx, orgID, ids[tc.who], projections.Page{Limit: 50})
			if err != nil || next != "" || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s's Contracts page = %+v, next %q, err %v; want %+v", tc.who, got, next, err, tc.want)
			}
		}
		page1, next, err := r.PortalUserContracts(ctx, orgID, ids["anna"], projections.Page{Limit: 1})
		if err != nil || len(page1) != 1 || next == "" {
			t.Fatalf("page 1 = %+v, next %q, err %v", page1, next, err)
		}
		after, _ := projections.DecodeCursor(next, 1)
		page2, next2, err := r.PortalUserContracts(ctx, orgID, ids["anna"], projections.Page{Limit: 1, After: after})
		if err != nil || len(page2) != 1 || page2[0].ContractID != "C-3" || next2 != "" {
			t.Fatalf("page 2 = %+v, next %q, err %v; want C-3 and the end", page2, next2, err)
		}
	})
	t.Run("PortalUsersByCompany", func(t *testing.T) {
		got, _, err := r.PortalUsers(ctx, orgID, "  acme SA ", projections.Page{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range got {
			names = append(names, u.Name)
		}
		if want := []string{"Anna Klein", "Bruno Roy", "Emma Petit", "Carla D."}; !reflect.DeepEqual(names, want) {
			t.Fatalf("portal users of Acme SA = %v; want %v", names, want)
		}
		if got, _, _ := r.PortalUsers(ctx, orgID, "Beta SARL", projections.Page{Limit: 50}); len(got) != 0 {
			t.Fatalf("portal users of Beta SARL = %+v; want none (Carla moved)", got)
		}
	})
	t.Run("AppliedTwice", func(t *testing.T) {
		applyPortal(t, pool, evs...)
		if got := portalSnapshot(t, pool, orgID); got != want {
			t.Fatalf("after applying the history again:\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("EachEventTwiceInARow", func(t *testing.T) {
		org2, _, evs2 := portalHistory(t, store)
		once := func() string {
			applyPortal(t, pool, evs2...)
			return portalSnapshot(t, pool, org2)
		}
		wantOnce := once()
		for _, tbl := range []string{"rm_portal_users", "rm_portal_contracts", "rm_portal_access",
			"rm_portal_users_history", "rm_portal_contracts_history", "rm_portal_access_history"} {
			if _, err := pool.Exec(ctx, `DELETE FROM `+tbl+` WHERE organization_id = $1`, org2); err != nil {
				t.Fatal(err)
			}
		}
		for i := range evs2 {
			applyPortal(t, pool, evs2[i], evs2[i])
		}
		if got := portalSnapshot(t, pool, org2); got != wantOnce {
			t.Fatalf("each event applied twice:\n%s\nwant\n%s", got, wantOnce)
		}
	})
	t.Run("OlderEventLate", func(t *testing.T) {
		// Emma's original access (in ContractShown) and Bruno's first removal
		// come again after everything: neither may come back to life.
		var late []eventstore.Event
		for _, e := range evs {
			switch e.Data.(type) {
			case domain.ContractShown, domain.WatcherRemoved, domain.WatcherAdded:
				late = append(late, e)
			}
		}
		applyPortal(t, pool, late...)
		if got := portalSnapshot(t, pool, orgID); got != want {
			t.Fatalf("after older events came late:\n%s\nwant\n%s", got, want)
		}
	})
}

// Forgetting a portal user scrubs their email and name from the read
// model; their company and access stay.
func TestPortalUserForgotten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, pool := pgtest.Fresh(t)
	store := newStore(t, pool)
	orgID, ids, _ := portalHistory(t, store)
	ref := store.Keys().Ref("anna@client.fr")
	forgot, err := store.Append(ctx, eventstore.Batch{Streams: []eventstore.StreamAppend{{StreamID: domain.PersonStream(ref),
		StreamType: domain.PersonStreamType, Expected: eventstore.Any,
		Events: []eventstore.NewEvent{{ID: uuid.New(), Data: domain.PersonForgotten{PersonRef: ref}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	p := projections.NewProjector(store, quiet, projections.All()...)
	if err := projections.EnsureCheckpoints(ctx, pool, p.Projections()); err != nil {
		t.Fatal(err)
	}
	drainUntil(t, p, forgot.Position)
	r := projections.Reader{Q: pool}
	anna, ok, err := r.PortalUser(ctx, orgID, ids["anna"])
	if err != nil || !ok || anna.Email != domain.Forgotten || anna.Name != domain.Forgotten || anna.Company != "Acme SA" {
		t.Fatalf("forgotten Anna = %+v (ok %v, err %v); want email and name forgotten, company kept", anna, ok, err)
	}
	if bruno, _, _ := r.PortalUser(ctx, orgID, ids["bruno"]); bruno.Name != "Bruno Roy" {
		t.Fatalf("Bruno = %+v; want untouched", bruno)
	}
	if c, _, _ := r.PortalUserContracts(ctx, orgID, ids["anna"], projections.Page{Limit: 10}); len(c) != 2 {
		t.Fatalf("Anna's Contracts page = %+v; want her two contracts still", c)
	}
}
