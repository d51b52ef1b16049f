package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"partners/internal/apitest"
	"partners/internal/pgtest"
)

// Seed 003: collaborators work on the projects whatever their flags; the
// parent account pays. The authorize query answers the four actions for
// every role as DOMAIN.md section 5 says (transcribed here by hand), and
// the OpenAPI document offers them.
func TestProjectsAndPaymentsAuthorize(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	f := newPermFixture(t, s)
	allowed := map[string][]string{
		"projects.read":   {"owner", "admin", "member", "accountant", "collaborator", "collaborator+can_purchase+can_see_all_orders"},
		"projects.create": {"owner", "admin", "member", "collaborator", "collaborator+can_purchase+can_see_all_orders"},
		"projects.update": {"owner", "admin", "member", "collaborator", "collaborator+can_purchase+can_see_all_orders"},
		"payments.make":   {"owner", "admin"},
	}
	for action, who := range allowed {
		for _, r := range permissionRoles {
			u := f.users[r.name]
			a := authorized(t, s, f.owner, f.org, u.Sub, action, 0)
			if want := slices.Contains(who, r.name); a["allowed"] != want {
				t.Errorf("%s for %s = %v; want allowed=%v", action, r.name, a, want)
			}
		}
	}
	// A collaborator asks about themself: the answer is theirs to read.
	self := s.Get(t, f.users["collaborator"], "/v1/organizations/"+f.org+"/authorize?action="+url.QueryEscape("projects.create"), 0)
	apitest.Expect(t, self, http.StatusOK)
	if self.JSON(t)["allowed"] != true {
		t.Fatalf("a collaborator without can_purchase may not create projects: %s", self.Body)
	}

	doc, err := openapi3.NewLoader().LoadFromData(s.Do(t, apitest.Request{Method: "GET", Path: "/openapi.json"}).Body)
	if err != nil {
		t.Fatal(err)
	}
	op := doc.Paths.Find("/v1/organizations/{org}/authorize").Get
	var enum []any
	for _, p := range op.Parameters {
		if p.Value.Name == "action" {
			enum = p.Value.Schema.Value.Enum
		}
	}
	for action := range allowed {
		if !slices.Contains(enum, any(action)) {
			t.Errorf("the OpenAPI action enum lacks %s: %v", action, enum)
		}
	}
}
