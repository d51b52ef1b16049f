package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/internal/apitest"
	"partners/internal/pgtest"
)

// tablesHolding lists the tables of the database where any row's text holds
// needle (case-insensitive): events, outbox, read models, everything.
func tablesHolding(t *testing.T, pool *pgxpool.Pool, needle string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, tbl := range tables {
		var n int
		q := `SELECT count(*) FROM ` + pgx.Identifier{tbl}.Sanitize() + ` t WHERE t::text ILIKE '%' || $1 || '%'`
		if err := pool.QueryRow(ctx, q, needle).Scan(&n); err != nil {
			t.Fatalf("%s: %v", tbl, err)
		}
		if n > 0 {
			found = append(found, tbl)
		}
	}
	return found
}

func TestForgetPerson(t *testing.T) {
	pool := pgtest.Fresh2(t)
	s := apitest.Start(t, pool, apitest.Options{})
	claire := apitest.NewUser(t, "Claire")
	zoe := apitest.NewUser(t, "Zoé")
	zoe.Name = "Zoé Dupont-Laval"
	zoe.Token = apitest.Token(t, zoe.Sub, zoe.Email, zoe.Name)
	admin := apitest.Token(t, "ops-1", "ops@partners.example", "Ops", "partners:admin")

	acme, _ := s.CreateOrganization(t, claire, "Acme", "client")
	id, _, _ := invite(t, s, claire, acme, zoe.Email, map[string]any{"message": "Chère Zoé Dupont-Laval, bienvenue"})
	zorg, _ := s.CreateOrganization(t, zoe, "Zoé Peinture", "subcontractor")
	acc := post(t, s, zoe, "/v1/invitations/"+id+"/accept", map[string]any{"organization_id": zorg})
	apitest.Expect(t, acc, http.StatusOK)
	s.Get(t, claire, "/v1/organizations/"+acme+"/invitations/sent", acc.Position)
	if got := tablesHolding(t, pool, zoe.Email); len(got) == 0 {
		t.Fatal("the email is nowhere before forgetting: the test searches wrong")
	}

	disc := s.Do(t, apitest.Request{Method: "GET", Path: "/v1/admin/people/disclosures?email=" + zoe.Email, Token: admin})
	apitest.Expect(t, disc, http.StatusOK)
	if !strings.Contains(string(disc.Body), acme) || !strings.Contains(string(disc.Body), zorg) {
		t.Fatalf("disclosures = %s; want both organizations", disc.Body)
	}
	apitest.Expect(t, s.Do(t, apitest.Request{Method: "POST", Path: "/v1/admin/people/forget", Token: claire.Token,
		Body: map[string]any{"email": zoe.Email}}), http.StatusForbidden, "not_allowed")

	f := s.Do(t, apitest.Request{Method: "POST", Path: "/v1/admin/people/forget", Token: admin, Body: map[string]any{"email": strings.ToUpper(zoe.Email)}})
	apitest.Expect(t, f, http.StatusOK)
	if f.JSON(t)["keys_destroyed"] != float64(1) {
		t.Fatalf("forget answer = %s; want one key destroyed", f.Body)
	}
	// Wait for every read model to apply the PersonForgotten event.
	for _, path := range []string{"/v1/organizations/" + acme + "/invitations/sent", "/v1/organizations/" + zorg + "/members",
		"/v1/organizations/" + zorg + "/invitations/received?status=accepted", "/v1/organizations/" + acme + "/partners"} {
		owner := claire
		if strings.Contains(path, zorg) {
			owner = zoe
		}
		r := s.Get(t, owner, path, f.Position)
		apitest.Expect(t, r, http.StatusOK)
	}
	for _, needle := range []string{zoe.Email, "Dupont-Laval"} {
		if got := tablesHolding(t, pool, needle); len(got) != 0 {
			t.Errorf("after forgetting, %q is still in clear text in %v", needle, got)
		}
	}
	sent := list(t, s, claire, "/v1/organizations/"+acme+"/invitations/sent", f.Position)
	if len(sent) != 1 || sent[0]["email"] != "[forgotten]" || sent[0]["status"] != "accepted" {
		t.Fatalf("sent list after forgetting = %v; want the invitation, accepted, email [forgotten]", sent)
	}
	members := list(t, s, zoe, "/v1/organizations/"+zorg+"/members", f.Position)
	if len(members) != 1 || members[0]["email"] != "[forgotten]" || members[0]["name"] != "[forgotten]" || members[0]["role"] != "owner" {
		t.Fatalf("members after forgetting = %v", members)
	}
	ev := s.Do(t, apitest.Request{Method: "GET", Path: "/v1/admin/streams/invitation-" + id + "/events", Token: admin})
	apitest.Expect(t, ev, http.StatusOK)
	if strings.Contains(string(ev.Body), zoe.Email) || !strings.Contains(string(ev.Body), "[forgotten]") || !strings.Contains(string(ev.Body), "InvitationAccepted") {
		t.Fatalf("stream after forgetting = %s", ev.Body)
	}
	// The erasure is itself audited, and holds no personal data.
	var data string
	if err := pool.QueryRow(context.Background(), `SELECT data::text FROM events WHERE event_type = 'PersonForgotten'`).Scan(&data); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(data), "zo") && strings.Contains(data, "@") {
		t.Fatalf("PersonForgotten holds personal data: %s", data)
	}
}

// A person is invited, accepts, watches a contract, and is forgotten:
// afterwards no table holds their email or name in clear text, every read
// model and the audit log still answer, and rebuild and verify still pass.
func TestForgetScriptedHistory(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Fresh2(t)
	s := apitest.Start(t, pool, apitest.Options{})
	claire := apitest.NewUser(t, "Claire")
	zoe := apitest.NewUser(t, "Zoé")
	zoe.Name = "Zoé Vasquez-Lindqvist"
	zoe.Token = apitest.Token(t, zoe.Sub, zoe.Email, zoe.Name)
	admin := apitest.Token(t, "ops-1", "ops@partners.example", "Ops", "partners:admin")

	acme, _ := s.CreateOrganization(t, claire, "Acme", "client")
	r := s.Do(t, apitest.Request{Method: "POST", Path: "/v1/organizations/" + acme + "/invitations", Token: claire.Token,
		Body: map[string]any{"email": zoe.Email, "message": "Bonjour Zoé Vasquez-Lindqvist",
			"contact": map[string]any{"name": "Zoé Vasquez-Lindqvist", "company": "Peintures Okonkwo-Brandt", "phone": "06 98 76 54 32"}},
		Header: map[string]string{"Idempotency-Key": "invite-zoe"}})
	apitest.Expect(t, r, http.StatusCreated)
	inv := r.JSON(t)["id"].(string)
	zorg, _ := s.CreateOrganization(t, zoe, "Peinture Z", "subcontractor")
	apitest.Expect(t, post(t, s, zoe, "/v1/invitations/"+inv+"/accept", map[string]any{"organization_id": zorg}), http.StatusOK)

	// Acme shows a contract to its client's people; Zoé watches it.
	pu := func(email, name string) string {
		r := post(t, s, claire, "/v1/organizations/"+acme+"/portal-users", map[string]any{"email": email, "name": name, "company": "Client SA"})
		apitest.Expect(t, r, http.StatusCreated)
		return r.JSON(t)["id"].(string)
	}
	jean, zoePU := pu("jean@client.example", "Jean Martin"), pu(zoe.Email, zoe.Name)
	share := s.Do(t, apitest.Request{Method: "PUT", Path: "/v1/organizations/" + acme + "/contracts/CTR-1/portal", Token: claire.Token,
		Body: map[string]any{"title": "Toiture", "requester_id": jean, "watcher_ids": []string{zoePU}, "attachments_visible": true}})
	apitest.Expect(t, share, http.StatusCreated)
	view := s.Get(t, claire, "/v1/organizations/"+acme+"/contracts/CTR-1/portal", share.Position)
	if !strings.Contains(string(view.Body), zoe.Email) {
		t.Fatalf("before forgetting the watcher shows: %s", view.Body)
	}

	var kept int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM idempotency_keys WHERE key = 'invite-zoe'`).Scan(&kept); err != nil || kept != 1 {
		t.Fatalf("idempotency record before forgetting: %d, %v; want 1", kept, err)
	}
	// The invite form's contact details are hers too (issue 16): listed in
	// what was disclosed, and forgotten with her.
	disc := s.Do(t, apitest.Request{Method: "GET", Path: "/v1/admin/people/disclosures?email=" + zoe.Email, Token: admin})
	apitest.Expect(t, disc, http.StatusOK)
	if !strings.Contains(string(disc.Body), `"InvitationSent"`) || !strings.Contains(string(disc.Body), acme) {
		t.Fatalf("disclosures = %s; want the invitation that carried her contact details, to Acme", disc.Body)
	}
	if c, _ := sentRow(t, s, claire, acme, inv, share.Position)["contact"].(map[string]any); c["phone"] != "+33698765432" {
		t.Fatalf("before forgetting, the sent row's contact = %v", c)
	}
	if got := tablesHolding(t, pool, "Okonkwo-Brandt"); !slices.Contains(got, "rm_invitations_sent") {
		t.Fatalf("before forgetting the contact is in %v; want it in Invitations sent", got)
	}
	f := s.Do(t, apitest.Request{Method: "POST", Path: "/v1/admin/people/forget", Token: admin, Body: map[string]any{"email": zoe.Email}})
	apitest.Expect(t, f, http.StatusOK)
	var names []string
	for _, p := range s.Projector.Projections() {
		names = append(names, p.Name())
	}
	if err := s.Projector.WaitApplied(ctx, names, f.Position, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for _, needle := range []string{zoe.Email, "Vasquez-Lindqvist", "Okonkwo-Brandt", "+33698765432"} {
			if got := tablesHolding(t, pool, needle); len(got) != 0 {
				t.Errorf("%s: %q is in clear text in %v", when, needle, got)
			}
		}
	}
	check("after forgetting")

	view = s.Get(t, claire, "/v1/organizations/"+acme+"/contracts/CTR-1/portal", f.Position)
	apitest.Expect(t, view, http.StatusOK)
	var v struct {
		Watchers []map[string]any `json:"watchers"`
	}
	view.Decode(t, &v)
	if len(v.Watchers) != 1 || v.Watchers[0]["email"] != "[forgotten]" || v.Watchers[0]["name"] != "[forgotten]" {
		t.Fatalf("contract access after forgetting = %s; want the watcher, forgotten", view.Body)
	}
	for _, path := range []string{"/v1/organizations/" + acme + "/audit", "/v1/organizations/" + acme + "/invitations/sent",
		"/v1/organizations/" + acme + "/partners", "/v1/organizations/" + acme + "/portal-users",
		"/v1/organizations/" + acme + "/partners?as_of=" + time.Now().UTC().Format(time.RFC3339Nano)} {
		r := s.Get(t, claire, path, f.Position)
		apitest.Expect(t, r, http.StatusOK)
		if strings.Contains(string(r.Body), zoe.Email) {
			t.Errorf("%s still shows the email", path)
		}
	}
	audit := s.Get(t, claire, "/v1/organizations/"+acme+"/audit?format=jsonl", 0)
	if !strings.Contains(string(audit.Body), "[forgotten]") || !strings.Contains(string(audit.Body), "WatcherAdded") && !strings.Contains(string(audit.Body), "ContractShown") {
		t.Fatalf("audit export after forgetting lacks the history or the placeholder:\n%.2000s", audit.Body)
	}
	row := sentRow(t, s, claire, acme, inv, f.Position)
	if c, _ := row["contact"].(map[string]any); c["name"] != "[forgotten]" || c["company"] != "[forgotten]" || c["phone"] != "[forgotten]" {
		t.Fatalf("the sent row's contact after forgetting = %v; want each part [forgotten]", row["contact"])
	}
	var records int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM idempotency_keys WHERE key = 'invite-zoe'`).Scan(&records); err != nil || records != 0 {
		t.Fatalf("idempotency records repeating the forgotten person's data: %d, %v; want 0", records, err)
	}

	for _, n := range names {
		if err := s.Projector.StartRebuild(ctx, n); err != nil {
			t.Fatal(err)
		}
		if err := s.Projector.RunRebuild(ctx, n, nil); err != nil {
			t.Fatalf("rebuild %s: %v", n, err)
		}
	}
	diffs, err := s.Projector.Verify(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("verify after forgetting: %s", d)
	}
	check("after rebuilding")
}
