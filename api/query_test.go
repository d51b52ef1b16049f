package api_test

import (
	"net/http"
	"testing"
	"time"

	"partners/internal/apitest"
	"partners/internal/pgtest"
)

// The query frame: ?as_of= is read only by the routes that replay, and
// ?min_position= only by the routes that read read models.
func TestQueryFrame(t *testing.T) {
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{})
	claire := apitest.NewUser(t, "Claire")
	acme, pos := s.CreateOrganization(t, claire, "Acme", "client")
	future := "?as_of=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339)

	// Replayed: a future instant is refused.
	apitest.Expect(t, s.Get(t, claire, "/v1/organizations/"+acme+"/members"+future, pos), http.StatusUnprocessableEntity, "validation_failed")
	// Read live: ?as_of= is not theirs to read.
	apitest.Expect(t, s.Get(t, claire, "/v1/organizations/"+acme+"/member-invitations"+future, pos), http.StatusOK)
	apitest.Expect(t, s.Get(t, claire, "/v1/organizations/"+acme+future, pos), http.StatusOK)
	// No read model: ?min_position= is not theirs to read either.
	apitest.Expect(t, s.Do(t, apitest.Request{Method: "POST", Path: "/v1/invitations/preview?min_position=oops", Token: claire.Token,
		Body: map[string]any{"token": "x"}}), http.StatusNotFound)
	// Scoped to an organization: outsiders learn nothing.
	apitest.Expect(t, s.Get(t, apitest.NewUser(t, "Mallory"), "/v1/organizations/"+acme+"/members", pos), http.StatusNotFound, "not_found")
}

// Disclosures name the organizations from their read model.
func TestDisclosuresNameOrganizations(t *testing.T) {
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{})
	claire, zoe := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Zoe")
	admin := apitest.Token(t, "ops-1", "ops@partners.example", "Ops", "partners:admin")
	acme, _ := s.CreateOrganization(t, claire, "Acme", "client")
	_, _, pos := invite(t, s, claire, acme, zoe.Email)
	apitest.Expect(t, s.Get(t, claire, "/v1/organizations/"+acme, pos), http.StatusOK)

	r := s.Do(t, apitest.Request{Method: "GET", Path: "/v1/admin/people/disclosures?email=" + zoe.Email, Token: admin})
	apitest.Expect(t, r, http.StatusOK)
	var got struct {
		Organizations []struct {
			ID     string `json:"organization_id"`
			Name   string `json:"organization_name"`
			Events []any  `json:"events"`
		} `json:"organizations"`
	}
	r.Decode(t, &got)
	if len(got.Organizations) != 1 || got.Organizations[0].ID != acme || got.Organizations[0].Name != "Acme" || len(got.Organizations[0].Events) != 1 {
		t.Fatalf("disclosures = %s; want Acme, named, with the invitation", r.Body)
	}
}
