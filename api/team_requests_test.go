package api_test

import (
	"net/http"
	"strings"
	"testing"

	"partners/internal/apitest"
	"partners/internal/pgtest"
)

// ownRequests lists the caller's own collaboration requests, by id.
func ownRequests(t *testing.T, s *apitest.Server, u apitest.User, after int64) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, it := range list(t, s, u, "/v1/me/collaboration-requests", after) {
		out[it["id"].(string)] = it
	}
	return out
}

// Seed 003 (DOMAIN.md 4.5): whoever asked to be attached follows their
// requests: pending, approved with the organization's name, rejected. A
// request whose target matched nobody reads exactly like one nobody
// answered yet.
func TestSeed003RequesterFollowsTheirRequests(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	owner, yann, rita := apitest.NewUser(t, "Olivier"), apitest.NewUser(t, "Yann"), apitest.NewUser(t, "Rita")
	siret := newSiret()
	r := call(t, s, owner, "POST", "/v1/organizations", map[string]any{"name": "EMS Proto", "side": "subcontractor", "siret": siret})
	apitest.Expect(t, r, http.StatusCreated)
	org := r.JSON(t)["id"].(string)

	request := func(u apitest.User, target string) (string, int64) {
		t.Helper()
		r := call(t, s, u, "POST", "/v1/collaboration-requests", map[string]any{"target": target})
		apitest.Expect(t, r, http.StatusAccepted)
		return r.JSON(t)["id"].(string), r.Position
	}
	byEmail, _ := request(yann, strings.ToUpper(owner.Email))
	bySiret, _ := request(yann, siret[:3]+" "+siret[3:])
	nobody, _ := request(yann, "nobody@example.com")
	nowhere, last := request(yann, "35600000000048")
	ritas, _ := request(rita, siret)

	mine := ownRequests(t, s, yann, last)
	if len(mine) != 4 || mine[ritas] != nil {
		t.Fatalf("Yann's requests = %v; want his four, not Rita's", mine)
	}
	for id, target := range map[string]string{byEmail: owner.Email, bySiret: siret, nobody: "nobody@example.com", nowhere: "35600000000048"} {
		if m := mine[id]; m["target"] != target {
			t.Errorf("request %s: target = %v; want %q as typed (normalized)", id, m["target"], target)
		}
	}
	// Matched or not, unanswered reads the same.
	shape := func(m map[string]any) string {
		return m["status"].(string) + "|" + strings.Join([]string{presence(m["answered_at"]), presence(m["organization"])}, "|")
	}
	for _, id := range []string{bySiret, nobody, nowhere} {
		if shape(mine[id]) != shape(mine[byEmail]) || mine[id]["status"] != "pending" || mine[id]["organization"] != nil {
			t.Fatalf("request %s = %v; want pending with no answer and no organization, like %v", id, mine[id], mine[byEmail])
		}
	}

	ap := call(t, s, owner, "POST", orgPath(org, "/collaboration-requests/", byEmail, "/approve"), map[string]any{"can_purchase": true})
	apitest.Expect(t, ap, http.StatusOK)
	rj := call(t, s, owner, "POST", orgPath(org, "/collaboration-requests/", ritas, "/reject"), nil)
	apitest.Expect(t, rj, http.StatusOK)

	mine = ownRequests(t, s, yann, ap.Position)
	approved, _ := mine[byEmail]["organization"].(map[string]any)
	if mine[byEmail]["status"] != "approved" || mine[byEmail]["answered_at"] == nil || approved["id"] != org || approved["name"] != "EMS Proto" {
		t.Fatalf("the approved request = %v; want approved by EMS Proto", mine[byEmail])
	}
	if mine[nobody]["status"] != "pending" || mine[nowhere]["status"] != "pending" {
		t.Fatalf("unmatched requests = %v, %v; want still pending", mine[nobody], mine[nowhere])
	}
	theirs := ownRequests(t, s, rita, rj.Position)
	if m := theirs[ritas]; m["status"] != "rejected" || m["answered_at"] == nil || m["organization"] != nil {
		t.Fatalf("Rita's rejected request = %v; want rejected, without the organization", m)
	}

	// Paged, newest first.
	p := s.Get(t, yann, "/v1/me/collaboration-requests?limit=3", ap.Position)
	apitest.Expect(t, p, http.StatusOK)
	var page struct {
		Items      []map[string]any `json:"items"`
		NextCursor *string          `json:"next_cursor"`
	}
	p.Decode(t, &page)
	if len(page.Items) != 3 || page.NextCursor == nil || page.Items[0]["id"] != nowhere {
		t.Fatalf("first page = %s", p.Body)
	}
	rest := list(t, s, yann, "/v1/me/collaboration-requests?limit=3&cursor="+*page.NextCursor, ap.Position)
	if len(rest) != 1 || rest[0]["id"] != byEmail {
		t.Fatalf("second page = %v; want the oldest request", rest)
	}
	apitest.Expect(t, s.Get(t, yann, "/v1/me/collaboration-requests?cursor=nope", 0), http.StatusUnprocessableEntity, "validation_failed")
}

func presence(v any) string {
	if v == nil {
		return "null"
	}
	if s, ok := v.(string); ok {
		return s
	}
	return "set"
}
