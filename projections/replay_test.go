package projections_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"partners/internal/apitest"
	"partners/internal/pgtest"
	"partners/projections"
)

// history drives a small partner network through the API: organizations,
// invitations claimed, accepted, declined, revoked, resent, a person
// forgotten.
func history(t *testing.T, s *apitest.Server, n int) int64 {
	t.Helper()
	admin := apitest.Token(t, "ops", "ops@partners.example", "Ops", "partners:admin")
	var last int64
	for i := 0; i < n; i++ {
		client, sub := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Samir")
		acme, _ := s.CreateOrganization(t, client, "Acme "+client.Sub, "client")
		plomb, _ := s.CreateOrganization(t, sub, "Plomberie "+sub.Sub, "subcontractor")
		r := s.Do(t, apitest.Request{Method: "POST", Path: "/v1/organizations/" + acme + "/invitations", Token: client.Token,
			Body: map[string]any{"email": "other." + sub.Email, "message": "hello"}})
		apitest.Expect(t, r, http.StatusCreated)
		inv, token := r.JSON(t)["id"].(string), r.JSON(t)["token"].(string)
		apitest.Expect(t, s.Do(t, apitest.Request{Method: "POST", Path: "/v1/invitations/claim", Token: sub.Token,
			Body: map[string]any{"token": token, "organization_id": plomb}}), http.StatusOK)
		r = s.Do(t, apitest.Request{Method: "POST", Path: "/v1/invitations/" + inv + "/accept", Token: sub.Token, Body: map[string]any{"organization_id": plomb}})
		apitest.Expect(t, r, http.StatusOK)
		r = s.Do(t, apitest.Request{Method: "POST", Path: "/v1/organizations/" + acme + "/invitations", Token: client.Token,
			Body: map[string]any{"email": "declines." + sub.Email}})
		apitest.Expect(t, r, http.StatusCreated)
		r = s.Do(t, apitest.Request{Method: "POST", Path: "/v1/invitations/" + r.JSON(t)["id"].(string) + "/revoke", Token: client.Token})
		apitest.Expect(t, r, http.StatusOK)
		teamAndPortal(t, s, client, acme, i)
		if i%2 == 0 {
			r = s.Do(t, apitest.Request{Method: "POST", Path: "/v1/admin/people/forget", Token: admin, Body: map[string]any{"email": sub.Email}})
			apitest.Expect(t, r, http.StatusOK)
		}
		last = r.Position
	}
	return last
}

// teamAndPortal gives an organization a team (an admin who is then made a
// member, an accountant granted then revoked, a collaborator who activates,
// a collaboration request approved) and a portal (users, a contract shared,
// a watcher added then removed, a company change that withdraws one).
func teamAndPortal(t *testing.T, s *apitest.Server, owner apitest.User, org string, i int) {
	t.Helper()
	do := func(method, path string, u apitest.User, body any, status int) map[string]any {
		t.Helper()
		r := s.Do(t, apitest.Request{Method: method, Path: path, Token: u.Token, Body: body})
		apitest.Expect(t, r, status)
		if len(r.Body) == 0 {
			return nil
		}
		return r.JSON(t)
	}
	o := "/v1/organizations/" + org
	colleague, accountant, collab, asker := apitest.NewUser(t, "Cole"), apitest.NewUser(t, "Acc"), apitest.NewUser(t, "Hugo"), apitest.NewUser(t, "Eva")
	m := do("POST", o+"/member-invitations", owner, map[string]any{"email": colleague.Email, "role": "admin"}, 201)
	do("POST", "/v1/member-invitations/"+m["id"].(string)+"/accept", colleague, map[string]any{"token": m["token"]}, 200)
	do("PATCH", o+"/members/"+colleague.Sub, owner, map[string]any{"role": "member"}, 200)
	a := do("POST", o+"/accountants", owner, map[string]any{"email": accountant.Email}, 201)
	do("POST", "/v1/accountant-invitations/"+a["id"].(string)+"/accept", accountant, map[string]any{"token": a["token"]}, 200)
	do("DELETE", o+"/accountants/"+accountant.Sub, owner, nil, 204)
	c := do("POST", o+"/collaborators", owner, map[string]any{"first_name": "Hugo", "last_name": "Moreau", "email": collab.Email,
		"phone": "+33612345678", "can_purchase": true, "can_see_all_orders": false}, 201)
	do("POST", "/v1/collaborators/activate", collab, map[string]any{"token": c["token"]}, 200)
	do("PATCH", o+"/collaborators/"+collab.Sub, owner, map[string]any{"can_see_all_orders": true}, 200)
	do("POST", "/v1/collaboration-requests", asker, map[string]any{"target": owner.Email}, 202)

	pu := func(name, company string) string {
		return do("POST", o+"/portal-users", owner, map[string]any{"email": strings.ToLower(name) + "." + owner.Sub + "@client.example", "name": name, "company": company}, 201)["id"].(string)
	}
	jean, lea, paul := pu("Jean", "Client SA"), pu("Lea", "client sa"), pu("Paul", "Client SA")
	contract := "CTR-" + strconv.Itoa(i)
	do("PUT", o+"/contracts/"+contract+"/portal", owner, map[string]any{"title": "Toiture", "requester_id": jean, "watcher_ids": []string{lea}, "attachments_visible": true}, 201)
	do("POST", o+"/contracts/"+contract+"/watchers", owner, map[string]any{"portal_user_id": paul}, 200)
	do("DELETE", o+"/contracts/"+contract+"/watchers/"+paul, owner, nil, 204)
	do("PATCH", o+"/contracts/"+contract+"/portal", owner, map[string]any{"attachments_visible": false}, 200)
	do("PATCH", o+"/portal-users/"+lea, owner, map[string]any{"company": "Other Ltd"}, 200)
}

func waitAll(t *testing.T, s *apitest.Server, pos int64) {
	t.Helper()
	var names []string
	for _, p := range s.Projector.Projections() {
		names = append(names, p.Name())
	}
	if err := s.Projector.WaitApplied(context.Background(), names, pos, 30*time.Second); err != nil {
		t.Fatalf("read models did not reach %d: %v", pos, err)
	}
}

// Every read model built live through the projector equals a fresh replay
// of the events; and verify does notice a difference.
func TestVerifyLiveEqualsReplay(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{})
	waitAll(t, s, history(t, s, 6))
	// Every read model has something to compare.
	for _, p := range s.Projector.Projections() {
		rows := 0
		for _, tbl := range p.Tables() {
			var n int
			if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM `+tbl).Scan(&n); err != nil {
				t.Fatal(err)
			}
			rows += n
		}
		if rows == 0 {
			t.Errorf("read model %s is empty: the history does not exercise it", p.Name())
		}
	}
	diffs, err := s.Projector.Verify(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("difference: %s", d)
	}
	// Damage a live read model: verify must say so.
	if _, err := s.Pool.Exec(context.Background(), `UPDATE rm_partners SET name = 'tampered' WHERE ctid = (SELECT ctid FROM rm_partners LIMIT 1)`); err != nil {
		t.Fatal(err)
	}
	diffs, err = s.Projector.Verify(context.Background(), []string{"partners"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 2 || !strings.Contains(diffs[0].Row+diffs[1].Row, "tampered") {
		t.Fatalf("verify after tampering found %v; want the tampered row and its replayed original", diffs)
	}
}

// Rebuilds started together share one pass over the events, while
// commands keep coming, and each swaps in tables equal to a replay.
func TestRebuildsStartedTogetherShareOnePass(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{})
	history(t, s, 3)
	ctx := context.Background()
	names := []string{"partners", "organizations", "portal_access"}
	var mu sync.Mutex
	totals := map[string]int64{}
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, name := range names {
		if err := s.Projector.StartRebuild(ctx, name); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Projector.RunRebuild(ctx, name, func(pg projections.Progress) {
				mu.Lock()
				totals[name] = pg.Total
				mu.Unlock()
			})
		}()
	}
	last := history(t, s, 2)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("rebuild %s: %v", names[i], err)
		}
	}
	// One pass reads the union of their event types: every member of the
	// group reports the same total.
	if totals["partners"] == 0 || totals["partners"] != totals["organizations"] || totals["partners"] != totals["portal_access"] {
		t.Fatalf("totals %v: the rebuilds did not share one pass", totals)
	}
	var own int64
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE event_type = ANY($1)`,
		append(projections.Partners{}.EventTypes(), "PersonForgotten")).Scan(&own); err != nil {
		t.Fatal(err)
	}
	if totals["partners"] <= own {
		t.Fatalf("the partners rebuild read %d events, no more than its own types hold now (%d): it ran alone", totals["partners"], own)
	}
	for _, name := range names {
		st, err := s.Projector.RebuildStatusOf(ctx, name)
		if err != nil || st == nil || st.State != "done" {
			t.Fatalf("status of %s: %+v %v", name, st, err)
		}
	}
	waitAll(t, s, last)
	diffs, err := s.Projector.Verify(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("difference after rebuild: %s", d)
	}
}

// A rebuild while commands keep coming loses nothing and counts nothing
// twice, and swaps in tables equal to a replay.
func TestRebuildUnderConcurrentWrites(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{})
	history(t, s, 3)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var last int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			last = history(t, s, 1)
		}
	}()
	for _, p := range s.Projector.Projections() {
		if err := s.Projector.StartRebuild(context.Background(), p.Name()); err != nil {
			t.Fatal(err)
		}
		if err := s.Projector.RunRebuild(context.Background(), p.Name(), nil); err != nil {
			t.Fatalf("rebuild %s: %v", p.Name(), err)
		}
	}
	close(stop)
	wg.Wait()
	waitAll(t, s, last)
	diffs, err := s.Projector.Verify(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("difference after rebuild: %s", d)
	}
	var events, rows int
	if err := s.Pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM events WHERE event_type = 'InvitationSent'), (SELECT count(*) FROM rm_invitations_sent)`).Scan(&events, &rows); err != nil {
		t.Fatal(err)
	}
	if events != rows {
		t.Fatalf("rm_invitations_sent has %d rows for %d InvitationSent events", rows, events)
	}
	admin := apitest.Token(t, "ops", "ops@partners.example", "Ops", "partners:admin")
	st := s.Do(t, apitest.Request{Method: "GET", Path: "/v1/admin/projections", Token: admin})
	apitest.Expect(t, st, http.StatusOK)
	if !strings.Contains(string(st.Body), `"state":"done"`) {
		t.Fatalf("projection statuses = %s; want the rebuilds reported done", st.Body)
	}
}

// as_of answers from a replay up to the instant, at each instant of a
// scripted history.
func TestAsOf(t *testing.T) {
	t.Parallel()
	clock := apitest.NewClock()
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{Now: clock.Now})
	client, sub := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Samir")
	// step returns the instant of what was just done, then moves the clock
	// on, so each action is recorded at its own instant.
	step := func() time.Time { at := clock.Now(); clock.Advance(time.Minute); return at }
	acme, _ := s.CreateOrganization(t, client, "Acme", "client")
	plomb, _ := s.CreateOrganization(t, sub, "Plomberie", "subcontractor")
	t0 := step()
	r := s.Do(t, apitest.Request{Method: "POST", Path: "/v1/organizations/" + acme + "/invitations", Token: client.Token, Body: map[string]any{"email": "pro." + sub.Email}})
	apitest.Expect(t, r, http.StatusCreated)
	inv, token := r.JSON(t)["id"].(string), r.JSON(t)["token"].(string)
	t1 := step()
	apitest.Expect(t, s.Do(t, apitest.Request{Method: "POST", Path: "/v1/invitations/claim", Token: sub.Token, Body: map[string]any{"token": token, "organization_id": plomb}}), http.StatusOK)
	t2 := step()
	r = s.Do(t, apitest.Request{Method: "POST", Path: "/v1/invitations/" + inv + "/accept", Token: sub.Token, Body: map[string]any{"organization_id": plomb}})
	apitest.Expect(t, r, http.StatusOK)
	t3 := step()
	waitAll(t, s, r.Position)

	count := func(u apitest.User, path string, at time.Time) (int, string) {
		t.Helper()
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		resp := s.Do(t, apitest.Request{Method: "GET", Path: path + sep + "as_of=" + at.Format(time.RFC3339Nano), Token: u.Token})
		apitest.Expect(t, resp, http.StatusOK)
		items := resp.JSON(t)["items"].([]any)
		if len(items) == 0 {
			return 0, ""
		}
		st, _ := items[0].(map[string]any)["status"].(string)
		return len(items), st
	}
	for _, tc := range []struct {
		name       string
		at         time.Time
		sent       int
		sentStatus string
		received   int
		partners   int
	}{
		{"BeforeTheInvitation", t0, 0, "", 0, 0},
		{"Invited", t1, 1, "sent", 0, 0},
		{"Claimed", t2, 1, "sent", 1, 0},
		{"Accepted", t3, 1, "accepted", 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if n, st := count(client, "/v1/organizations/"+acme+"/invitations/sent", tc.at); n != tc.sent || st != tc.sentStatus {
				t.Errorf("sent = %d %q; want %d %q", n, st, tc.sent, tc.sentStatus)
			}
			if n, _ := count(sub, "/v1/organizations/"+plomb+"/invitations/received", tc.at); n != tc.received {
				t.Errorf("pending received = %d; want %d", n, tc.received)
			}
			if n, _ := count(client, "/v1/organizations/"+acme+"/partners", tc.at); n != tc.partners {
				t.Errorf("partners = %d; want %d", n, tc.partners)
			}
			if n, _ := count(client, "/v1/organizations/"+acme+"/members", tc.at); n != 1 {
				t.Errorf("members = %d; want 1", n)
			}
		})
	}
	// Then the accountant and the portal, at each instant.
	do := func(method, path string, u apitest.User, body any, status int) apitest.Response {
		t.Helper()
		r := s.Do(t, apitest.Request{Method: method, Path: path, Token: u.Token, Body: body})
		apitest.Expect(t, r, status)
		return r
	}
	o := "/v1/organizations/" + acme
	acc := apitest.NewUser(t, "Ludo")
	g := do("POST", o+"/accountants", client, map[string]any{"email": acc.Email}, 201).JSON(t)
	do("POST", "/v1/accountant-invitations/"+g["id"].(string)+"/accept", acc, map[string]any{"token": g["token"]}, 200)
	t4 := step()
	jean := do("POST", o+"/portal-users", client, map[string]any{"email": "jean@client.example", "name": "Jean", "company": "Client SA"}, 201).JSON(t)["id"].(string)
	lea := do("POST", o+"/portal-users", client, map[string]any{"email": "lea@client.example", "name": "Lea", "company": "Client SA"}, 201).JSON(t)["id"].(string)
	paul := do("POST", o+"/portal-users", client, map[string]any{"email": "paul@client.example", "name": "Paul", "company": "Client SA"}, 201).JSON(t)["id"].(string)
	do("PUT", o+"/contracts/C-1/portal", client, map[string]any{"title": "Toiture", "requester_id": jean, "watcher_ids": []string{lea}, "attachments_visible": true}, 201)
	t5 := step()
	do("POST", o+"/contracts/C-1/watchers", client, map[string]any{"portal_user_id": paul}, 200)
	t6 := step()
	do("DELETE", o+"/contracts/C-1/watchers/"+paul, client, nil, 204)
	t7 := step()
	r = do("DELETE", o+"/accountants/"+acc.Sub, client, nil, 204)
	t8 := step()
	waitAll(t, s, r.Position)
	at := func(path string, when time.Time) apitest.Response {
		t.Helper()
		return s.Do(t, apitest.Request{Method: "GET", Path: path + "?as_of=" + when.Format(time.RFC3339Nano), Token: client.Token})
	}
	for _, tc := range []struct {
		name     string
		at       time.Time
		members  int
		watchers int // -1: not shown in the portal yet
	}{
		{"AccountantGranted", t4, 2, -1},
		{"Shared", t5, 2, 1},
		{"WatcherAdded", t6, 2, 2},
		{"WatcherRemoved", t7, 2, 1},
		{"AccountantRevoked", t8, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := at(o+"/members", tc.at)
			apitest.Expect(t, m, http.StatusOK)
			if n := len(m.JSON(t)["items"].([]any)); n != tc.members {
				t.Errorf("members = %d; want %d", n, tc.members)
			}
			c := at(o+"/contracts/C-1/portal", tc.at)
			if tc.watchers < 0 {
				apitest.Expect(t, c, http.StatusNotFound)
				return
			}
			apitest.Expect(t, c, http.StatusOK)
			if n := len(c.JSON(t)["watchers"].([]any)); n != tc.watchers {
				t.Errorf("watchers = %d; want %d", n, tc.watchers)
			}
			pc := at(o+"/portal-users/"+paul+"/contracts", tc.at)
			apitest.Expect(t, pc, http.StatusOK)
			if n, want := len(pc.JSON(t)["items"].([]any)), map[bool]int{true: 1, false: 0}[tc.watchers == 2]; n != want {
				t.Errorf("Paul's Contracts page = %d; want %d", n, want)
			}
		})
	}

	future := s.Do(t, apitest.Request{Method: "GET", Path: "/v1/organizations/" + acme + "/partners?as_of=" + clock.Now().Add(time.Hour).Format(time.RFC3339), Token: client.Token})
	apitest.Expect(t, future, http.StatusUnprocessableEntity, "validation_failed")
}

// The audit log lists every event that touched the organization, in order,
// by page and as a streamed export.
func TestAuditLog(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{})
	client := apitest.NewUser(t, "Claire")
	acme, _ := s.CreateOrganization(t, client, "Acme", "client")
	var pos int64
	for i := 0; i < 7; i++ {
		r := s.Do(t, apitest.Request{Method: "POST", Path: "/v1/organizations/" + acme + "/invitations", Token: client.Token,
			Body: map[string]any{"email": "p" + string(rune('a'+i)) + "@example.com"}})
		apitest.Expect(t, r, http.StatusCreated)
		pos = r.Position
	}
	var seen []float64
	path := "/v1/organizations/" + acme + "/audit?limit=4&min_position=" + strconv.FormatInt(pos, 10)
	for pages := 0; pages < 5; pages++ {
		r := s.Do(t, apitest.Request{Method: "GET", Path: path, Token: client.Token})
		apitest.Expect(t, r, http.StatusOK)
		m := r.JSON(t)
		for _, it := range m["items"].([]any) {
			e := it.(map[string]any)
			seen = append(seen, e["position"].(float64))
			if e["actor"].(map[string]any)["email"] != client.Email {
				t.Fatalf("audit item actor = %v", e["actor"])
			}
		}
		next, _ := m["next_cursor"].(string)
		if next == "" {
			break
		}
		path = "/v1/organizations/" + acme + "/audit?limit=4&cursor=" + next
	}
	if len(seen) != 9 { // created, owner joined, 7 invitations
		t.Fatalf("audit pages listed %d events; want 9", len(seen))
	}
	for _, f := range []string{"jsonl", "csv"} {
		r := s.Do(t, apitest.Request{Method: "GET", Path: "/v1/organizations/" + acme + "/audit?format=" + f, Token: client.Token})
		apitest.Expect(t, r, http.StatusOK)
		lines := strings.Split(strings.TrimSpace(string(r.Body)), "\n")
		want := 9
		if f == "csv" {
			want = 10 // header
		}
		if len(lines) != want || !strings.Contains(string(r.Body), "InvitationSent") {
			t.Fatalf("%s export has %d lines; want %d\n%s", f, len(lines), want, r.Body)
		}
	}
	outsider := apitest.NewUser(t, "Eve")
	apitest.Expect(t, s.Do(t, apitest.Request{Method: "GET", Path: "/v1/organizations/" + acme + "/audit", Token: outsider.Token}), http.StatusNotFound, "not_found")
}
