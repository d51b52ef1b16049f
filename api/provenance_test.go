package api_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"partners/domain"
	"partners/internal/apitest"
	"partners/internal/pgtest"
)

// The provenance answers through the router (issue 21): every exchange is
// checked against the OpenAPI document by apitest.

// provenancePage is a page of a provenance answer.
type provenancePage struct {
	Items      []map[string]any `json:"items"`
	NextCursor *string          `json:"next_cursor"`
}

// stamp is an instant as a query parameter.
func stamp(t time.Time) string { return url.QueryEscape(t.UTC().Format(time.RFC3339Nano)) }

// types are the type of each cause.
func causeTypes(v any) []string {
	out := []string{}
	for _, c := range v.([]any) {
		out = append(out, c.(map[string]any)["type"].(string))
	}
	return out
}

// forget forgets a person by email, as an operator.
func forget(t *testing.T, s *apitest.Server, email string) int64 {
	t.Helper()
	admin := apitest.Token(t, "ops-prov", "ops.prov@partners.example", "Ops", "partners:admin")
	f := s.Do(t, apitest.Request{Method: "POST", Path: "/v1/admin/people/forget", Token: admin, Body: map[string]any{"email": email}})
	apitest.Expect(t, f, http.StatusOK)
	return f.Position
}

// accountantFor grants an accountant access to org and returns the
// position of her acceptance.
func accountantFor(t *testing.T, s *apitest.Server, owner, accountant apitest.User, org string) int64 {
	t.Helper()
	r := call(t, s, owner, "POST", orgPath(org, "/accountants"), map[string]any{"email": accountant.Email})
	apitest.Expect(t, r, http.StatusCreated)
	acc := call(t, s, accountant, "POST", "/v1/accountant-invitations/"+r.JSON(t)["id"].(string)+"/accept", nil)
	apitest.Expect(t, acc, http.StatusOK)
	return acc.Position
}

func TestAuthorizeExplained(t *testing.T) {
	clock := apitest.NewClock()
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{Now: clock.Now})
	owner, eva, marc := apitest.NewUser(t, "Ludovic"), apitest.NewUser(t, "Eva"), apitest.NewUser(t, "Marc")
	org, _ := s.CreateOrganization(t, owner, "Always Clean", "client")
	clock.Advance(time.Minute)
	accountantFor(t, s, owner, eva, org)
	granted := clock.Now()
	clock.Advance(time.Minute)
	id, token := inviteColleague(t, s, owner, org, marc.Email, "member")
	apitest.Expect(t, call(t, s, marc, "POST", "/v1/member-invitations/"+id+"/accept", map[string]any{"token": token}), http.StatusOK)
	clock.Advance(time.Minute)
	rev := call(t, s, owner, "DELETE", orgPath(org, "/accountants/"+eva.Sub), nil)
	apitest.Expect(t, rev, http.StatusNoContent)
	clock.Advance(time.Minute)

	ask := func(asker apitest.User, query string) apitest.Response {
		return s.Get(t, asker, orgPath(org, "/authorize?user_id="+url.QueryEscape(eva.Sub)+"&action=documents.read_all"+query), rev.Position)
	}
	// Now: refused, because of the revocation.
	r := ask(owner, "&explain=true")
	apitest.Expect(t, r, http.StatusOK)
	a := r.JSON(t)
	if a["allowed"] != false || a["role"] != nil || !reflect.DeepEqual(causeTypes(a["because"]), []string{"AccountantAccessRevoked"}) {
		t.Fatalf("explained now = %s; want refused because of the revocation", r.Body)
	}
	cause := a["because"].([]any)[0].(map[string]any)
	if cause["actor"].(map[string]any)["user_id"] != owner.Sub || cause["position"] != float64(rev.Position) || cause["summary"] == "" {
		t.Fatalf("the revocation's cause = %v; want by the owner, at the revocation's position, with a summary", cause)
	}
	// As of the grant: allowed, because of her joining.
	r = ask(owner, "&explain=true&as_of="+stamp(granted))
	apitest.Expect(t, r, http.StatusOK)
	if a := r.JSON(t); a["allowed"] != true || a["role"] != "accountant" || !reflect.DeepEqual(causeTypes(a["because"]), []string{"MemberJoined"}) {
		t.Fatalf("explained as of the grant = %s", r.Body)
	}
	// as_of alone answers the past, without explaining it.
	r = ask(marc, "&as_of="+stamp(granted))
	apitest.Expect(t, r, http.StatusOK)
	if a := r.JSON(t); a["allowed"] != true || a["because"] != nil {
		t.Fatalf("as of the grant, asked by a member = %s", r.Body)
	}
	// Explaining shows who did what: audit.read, which a plain member has not.
	apitest.Expect(t, ask(marc, "&explain=true"), http.StatusForbidden, "not_allowed")
	apitest.Expect(t, ask(owner, "&explain=maybe"), http.StatusUnprocessableEntity, "validation_failed")
	apitest.Expect(t, ask(owner, "&as_of="+stamp(clock.Now().Add(time.Hour))), http.StatusUnprocessableEntity, "validation_failed")
	// Without explain nor as_of, the answer is as before.
	if a := authorized(t, s, owner, org, eva.Sub, "documents.read_all", rev.Position); a["allowed"] != false || a["because"] != nil {
		t.Fatalf("plain authorize = %v", a)
	}
}

func TestMemberHistory(t *testing.T) {
	clock := apitest.NewClock()
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{Now: clock.Now})
	owner, eva, marc := apitest.NewUser(t, "Ludovic"), apitest.NewUser(t, "Eva"), apitest.NewUser(t, "Marc")
	org, _ := s.CreateOrganization(t, owner, "Always Clean", "client")
	clock.Advance(time.Minute)
	accountantFor(t, s, owner, eva, org)
	clock.Advance(time.Minute)
	apitest.Expect(t, call(t, s, owner, "DELETE", orgPath(org, "/accountants/"+eva.Sub), nil), http.StatusNoContent)
	clock.Advance(time.Minute)
	pos := accountantFor(t, s, owner, eva, org) // re-granted
	id, token := inviteColleague(t, s, owner, org, marc.Email, "member")
	apitest.Expect(t, call(t, s, marc, "POST", "/v1/member-invitations/"+id+"/accept", map[string]any{"token": token}), http.StatusOK)

	path := orgPath(org, "/members/"+url.PathEscape(eva.Sub)+"/history")
	rows := list(t, s, owner, path, pos)
	if len(rows) != 2 {
		t.Fatalf("Eva's history = %v; want granted and revoked, then granted again", rows)
	}
	first, second := rows[0], rows[1]
	if first["role"] != "accountant" || first["to"] == nil || first["closed_by"].(map[string]any)["type"] != "AccountantAccessRevoked" ||
		first["opened_by"].(map[string]any)["type"] != "MemberJoined" || second["to"] != nil || second["closed_by"] != nil {
		t.Fatalf("Eva's history = %v", rows)
	}
	// Paged like the other lists.
	r := s.Get(t, owner, path+"?limit=1", 0)
	apitest.Expect(t, r, http.StatusOK)
	var page provenancePage
	r.Decode(t, &page)
	if len(page.Items) != 1 || page.NextCursor == nil || page.Items[0]["from"] != first["from"] {
		t.Fatalf("first page = %s", r.Body)
	}
	r = s.Get(t, owner, path+"?limit=1&cursor="+*page.NextCursor, 0)
	apitest.Expect(t, r, http.StatusOK)
	r.Decode(t, &page)
	if len(page.Items) != 1 || page.NextCursor != nil || page.Items[0]["from"] != second["from"] {
		t.Fatalf("second page = %s", r.Body)
	}
	apitest.Expect(t, s.Get(t, owner, path+"?cursor=WyJ4Il0", 0), http.StatusUnprocessableEntity, "validation_failed")
	// Exported as CSV, like the audit log.
	r = s.Get(t, owner, path+"?format=csv", 0)
	apitest.Expect(t, r, http.StatusOK)
	recs, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][0] != "role" || recs[1][0] != "accountant" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV = %q (%v)", r.Body, err)
	}
	// audit.read: a plain member may not; an outsider learns nothing.
	apitest.Expect(t, s.Get(t, marc, path, 0), http.StatusForbidden, "not_allowed")
	apitest.Expect(t, s.Get(t, apitest.NewUser(t, "Outsider"), path, 0), http.StatusNotFound, "not_found")
	// Someone never a member has no history.
	if none := list(t, s, owner, orgPath(org, "/members/nobody/history"), 0); len(none) != 0 {
		t.Fatalf("history of nobody = %v", none)
	}
	// Forgotten, she is still there, as forgotten: the events she caused
	// (her acceptances) name her user id, and her email reads forgotten.
	after := forget(t, s, eva.Email)
	rows = list(t, s, owner, path, after)
	if actor := rows[1]["opened_by"].(map[string]any)["actor"].(map[string]any); len(rows) != 2 || actor["user_id"] != eva.Sub || actor["email"] != domain.Forgotten {
		t.Fatalf("history once forgotten = %v", rows)
	}
}

func TestContractAccess(t *testing.T) {
	clock := apitest.NewClock()
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{Now: clock.Now})
	p := newPortal(t, s, "BTP Conseil")
	jean := p.user(t, "jean@client.example", "Jean Martin", "Client SA")
	lea := p.user(t, "lea@client.example", "Léa Petit", "Client SA")
	clock.Advance(time.Minute)
	apitest.Expect(t, p.share(t, "CTR-1", "Toiture", jean, []string{lea}, true), http.StatusCreated)
	shown := clock.Now()
	clock.Advance(time.Minute)
	apitest.Expect(t, p.do(t, p.owner, "DELETE", contractPath("CTR-1")+"/watchers/"+lea, nil), http.StatusNoContent)
	clock.Advance(time.Minute)
	afterRemoval := clock.Now()
	clock.Advance(time.Minute)
	w := p.do(t, p.owner, "DELETE", contractPath("CTR-1")+"/portal", nil)
	apitest.Expect(t, w, http.StatusNoContent)

	type row struct{ kind, id, name, as, opened, closed string }
	rowsOf := func(items []map[string]any) []row {
		out := []row{}
		for _, it := range items {
			who := it["who"].(map[string]any)
			r := row{kind: who["kind"].(string), id: who["id"].(string), name: who["name"].(string), as: it["as"].(string),
				opened: it["opened_by"].(map[string]any)["type"].(string)}
			if c, ok := it["closed_by"].(map[string]any); ok {
				r.closed = c["type"].(string)
			}
			out = append(out, r)
		}
		return out
	}
	path := orgPath(p.org, contractPath("CTR-1")+"/access")
	owner := row{"member", p.owner.Sub, p.owner.Name, "owner", "ContractShown", "ContractWithdrawn"}
	want := []row{owner,
		{"portal_user", jean, "Jean Martin", "requester", "ContractShown", "ContractWithdrawn"},
		{"portal_user", lea, "Léa Petit", "watcher", "ContractShown", "WatcherRemoved"}}
	// Portal users sort by id within an event.
	if lea < jean {
		want[1], want[2] = want[2], want[1]
	}
	if got := rowsOf(list(t, s, p.owner, path, w.Position)); !reflect.DeepEqual(got, want) {
		t.Fatalf("who could see CTR-1 = %+v; want %+v", got, want)
	}
	// From after Léa's removal: she could not see it any more.
	got := rowsOf(list(t, s, p.owner, path+"?from="+stamp(afterRemoval), 0))
	if len(got) != 2 || got[0].as == "watcher" || got[1].as == "watcher" {
		t.Fatalf("who could see CTR-1 after Léa's removal = %+v", got)
	}
	// Up to before it was shown: nobody.
	if got := list(t, s, p.owner, path+"?to="+stamp(shown.Add(-time.Second)), 0); len(got) != 0 {
		t.Fatalf("who could see CTR-1 before it was shown = %v", got)
	}
	apitest.Expect(t, s.Get(t, p.owner, path+"?from="+stamp(shown)+"&to="+stamp(shown.Add(-time.Second)), 0),
		http.StatusUnprocessableEntity, "validation_failed")
	apitest.Expect(t, s.Get(t, p.owner, path+"?from=yesterday", 0), http.StatusUnprocessableEntity, "validation_failed")
	// Paged, and exported as CSV.
	r := s.Get(t, p.owner, path+"?limit=2", 0)
	apitest.Expect(t, r, http.StatusOK)
	var page provenancePage
	r.Decode(t, &page)
	if len(page.Items) != 2 || page.NextCursor == nil {
		t.Fatalf("first page = %s", r.Body)
	}
	r = s.Get(t, p.owner, path+"?limit=2&cursor="+*page.NextCursor, 0)
	apitest.Expect(t, r, http.StatusOK)
	r.Decode(t, &page)
	if got := rowsOf(page.Items); !reflect.DeepEqual(got, want[2:]) || page.NextCursor != nil {
		t.Fatalf("second page = %s", r.Body)
	}
	r = s.Get(t, p.owner, path+"?format=csv", 0)
	apitest.Expect(t, r, http.StatusOK)
	if recs, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll(); err != nil || len(recs) != 4 || recs[0][0] != "who_kind" {
		t.Fatalf("CSV = %q (%v)", r.Body, err)
	}
	// Forgotten, Léa is still in the history, as forgotten.
	after := forget(t, s, "lea@client.example")
	for _, it := range rowsOf(list(t, s, p.owner, path, after)) {
		if it.id == lea && it.name != domain.Forgotten {
			t.Fatalf("Léa once forgotten reads %q; want %q", it.name, domain.Forgotten)
		}
	}
	// A contract never shown: nobody.
	if got := list(t, s, p.owner, orgPath(p.org, contractPath("NEVER")+"/access"), 0); len(got) != 0 {
		t.Fatalf("who could see a contract never shown = %v", got)
	}
	apitest.Expect(t, s.Get(t, p.owner, orgPath(p.org, "/contracts/"+url.PathEscape("a b")+"/access"), 0), http.StatusUnprocessableEntity, "validation_failed")
}
