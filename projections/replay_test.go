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
		if i%2 == 0 {
			r = s.Do(t, apitest.Request{Method: "POST", Path: "/v1/admin/people/forget", Token: admin, Body: map[string]any{"email": sub.Email}})
			apitest.Expect(t, r, http.StatusOK)
		}
		last = r.Position
	}
	return last
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
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{})
	waitAll(t, s, history(t, s, 6))
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

// A rebuild while commands keep coming loses nothing and counts nothing
// twice, and swaps in tables equal to a replay.
func TestRebuildUnderConcurrentWrites(t *testing.T) {
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
	future := s.Do(t, apitest.Request{Method: "GET", Path: "/v1/organizations/" + acme + "/partners?as_of=" + clock.Now().Add(time.Hour).Format(time.RFC3339), Token: client.Token})
	apitest.Expect(t, future, http.StatusUnprocessableEntity, "validation_failed")
}

// The audit log lists every event that touched the organization, in order,
// by page and as a streamed export.
func TestAuditLog(t *testing.T) {
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
