package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/uuid"

	"partners/api"
	"partners/internal/apitest"
)

// The forms that send email count against the API's hourly email budget:
// the same counter, whichever door the invitations went through.
func TestFormsShareTheAPIsLimits(t *testing.T) {
	s := startServiceWith(t, apitest.Options{Limits: &api.Limits{MailPerOrgHour: 2}}, nil)
	owner := newBrowser(t, s.URL).signIn("Olga Owner", "olga@org.test")
	createOrg(owner, "Org SA", "client")
	org := owner.org()
	invite(owner, "sam@sub.test", "Sam", "")

	// The dev sign-in's subject, on the API.
	token := apitest.Token(t, s.devUser("olga@org.test"), "olga@org.test", "Olga Owner")
	r := s.Do(t, apitest.Request{Method: "POST", Path: "/v1/organizations/" + org + "/invitations", Token: token,
		Body: map[string]any{"email": "tom@sub.test"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("API invitation: %d %s", r.Status, r.Body)
	}

	owner.get("/o/"+org+"/invite").must(http.StatusOK).
		post("/o/"+org+"/invite", url.Values{"email": {"una@sub.test"}, "name": {"Una"}, "company": {"ACME"}, "phone": {"06 12 34 56 78"}}).
		must(http.StatusTooManyRequests, "hourly email budget")
	team := "/o/" + org + "/settings/team"
	owner.get(team).post(team+"/invite", url.Values{"email": {"adam@org.test"}, "role": {"admin"}}).
		must(http.StatusTooManyRequests, "hourly email budget")
}

// The audit export and the as-of page are the API's long reads: within
// its per-user bound of them, on its small pool.
func TestLongReadsShareTheAPIsGate(t *testing.T) {
	s := startServiceWith(t, apitest.Options{Limits: &api.Limits{Heavy: api.Concurrent{PerUser: 1}}}, nil)
	owner := newBrowser(t, s.URL).signIn("Olga Owner", "olga@org.test")
	createOrg(owner, "Org SA", "client")
	org := owner.org()
	history := "/o/" + org + "/history"
	owner.get(history+"/export?format=csv").must(http.StatusOK, "OrganizationCreated")

	// One export of Olga's running holds her only place.
	_, done, err := s.API.Limiter().Heavy(context.Background(), s.devUser("olga@org.test"), uuid.MustParse(org))
	if err != nil {
		t.Fatal(err)
	}
	owner.get(history+"/export?format=csv").must(http.StatusTooManyRequests, "Wait for one to end")
	owner.get(history+"/asof?at=2020-01-01T00:00").must(http.StatusTooManyRequests, "Wait for one to end")
	done()
	owner.get(history+"/export?format=jsonl").must(http.StatusOK, `"type":"OrganizationCreated"`)
}
