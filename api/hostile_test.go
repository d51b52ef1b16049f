package api_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"partners/internal/apitest"
	"partners/internal/pgtest"
)

// No input makes the service answer 500: every refusal is a problem with a
// code.
func TestHostileInputNever500(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	alice := apitest.NewUser(t, "Alice")
	org, _ := s.CreateOrganization(t, alice, "Acme", "client")
	long := strings.Repeat("x", 5000)
	cases := []apitest.Request{
		{Method: "GET", Path: "/v1/organizations/" + org + "/members?limit=999999999999999999999"},
		{Method: "GET", Path: "/v1/organizations/" + org + "/members?limit=-1"},
		{Method: "GET", Path: "/v1/organizations/" + org + "/members?cursor=" + long},
		{Method: "GET", Path: "/v1/organizations/" + org + "/members?as_of=" + long},
		{Method: "GET", Path: "/v1/organizations/" + org + "/members?as_of=0001-01-01T00:00:00Z"},
		{Method: "GET", Path: "/v1/organizations/" + org + "/members?as_of=9999-12-31T23:59:59Z"},
		{Method: "GET", Path: "/v1/organizations/" + org + "/members?min_position=99999999999999999999"},
		{Method: "GET", Path: "/v1/organizations/" + org + "/members?min_position=-5"},
		{Method: "GET", Path: "/v1/organizations/" + org + "/audit?format=xml"},
		{Method: "GET", Path: "/v1/organizations/" + org + "/audit?cursor=WyJ4IiwieSJd"},
		{Method: "GET", Path: "/v1/organizations/" + org + "/partners?q=%25%5F%5C" + long[:300]},
		{Method: "GET", Path: "/v1/organizations/" + org + "/partners?q=%00"},
		{Method: "GET", Path: "/v1/organizations/" + org + "/partners?q=%FF%FE"},
		{Method: "GET", Path: "/v1/organizations/" + org + "/authorize?action=members.read&user_id=a%00b"},
		{Method: "GET", Path: "/v1/organizations/" + org + "/portal-users?company=%00"},
		{Method: "GET", Path: "/v1/organizations/" + org + "/members?min_position=" + strings.Repeat("9", 5000)},
		{Method: "GET", Path: "/v1/admin/streams/%00/events"},
		{Method: "GET", Path: "/v1/admin/streams/%FF%FE/events"},
		{Method: "GET", Path: "/v1/organizations/" + org + "/members?%00=1"},
		{Method: "DELETE", Path: "/v1/organizations/" + org + "/members/a%00b"},
		{Method: "POST", Path: "/v1/organizations", Body: `{"name":"x","side":"client"}`, Header: map[string]string{"Accept-Language": string([]byte{0xff, 0xfe}) + long}},
		{Method: "POST", Path: "/v1/organizations", Body: `{"name":"x","side":"client"}`, Header: map[string]string{"X-Request-Id": "\xff" + long, "X-Correlation-Id": "\xfe" + long}},
		{Method: "GET", Path: "/v1/organizations/%00/members"},
		{Method: "GET", Path: "/v1/organizations/" + long + "/members"},
		{Method: "POST", Path: "/v1/invitations/preview", Body: `{"token":"` + long + `"}`},
		{Method: "POST", Path: "/v1/invitations/preview"},
		{Method: "POST", Path: "/v1/invitations/preview", Body: `{"token":["x"]}`},
		{Method: "GET", Path: "/v1/invitations/preview?token=" + long},
		{Method: "POST", Path: "/v1/organizations", Body: `{"name":"` + string([]byte{0xff, 0xfe, 0xfd}) + `","side":"client"}`},
		{Method: "POST", Path: "/v1/organizations", Body: strings.Repeat("[", 100000)},
		{Method: "POST", Path: "/v1/organizations", Body: `{"name":"x","side":"client","siret":12345678901234}`},
		{Method: "POST", Path: "/v1/organizations", Body: `{"name":"x","side":"client"}`, Header: map[string]string{"Idempotency-Key": long}},
		{Method: "POST", Path: "/v1/organizations", Body: `{"name":"x","side":"client"}`, Header: map[string]string{"Idempotency-Key": "é"}},
		{Method: "POST", Path: "/v1/organizations/" + org + "/invitations", Body: `{"email":["a@b.fr"]}`},
		{Method: "POST", Path: "/v1/organizations/" + org + "/invitations", Body: `{"email":"a@b.fr","message":"` + strings.Repeat("é", 3000) + `"}`},
		{Method: "POST", Path: "/v1/invitations/claim", Body: `{"token":"` + long + `","organization_id":"` + org + `"}`},
		{Method: "POST", Path: "/v1/invitations/not-a-uuid/accept", Body: `{"organization_id":"` + org + `"}`},
		{Method: "POST", Path: "/v1/invitations/" + uuid.NewString() + "/accept", Body: `{"organization_id":"nope"}`},
		{Method: "DELETE", Path: "/v1/organizations/" + org},
		{Method: "PATCH", Path: "/v1/organizations", Body: `{}`},
		{Method: "GET", Path: "/v1/admin/projections"},
		{Method: "POST", Path: "/v1/admin/projections/nope/rebuild"},
		{Method: "GET", Path: "/nowhere"},
	}
	for _, r := range cases {
		r.Token = alice.Token
		name := r.Method + " " + r.Path
		if len(name) > 80 {
			name = name[:80]
		}
		t.Run(name, func(t *testing.T) {
			resp := s.Do(t, r)
			if resp.Status >= 500 {
				t.Fatalf("answered %d: %s", resp.Status, resp.Body)
			}
			if resp.Status >= 400 {
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
					t.Fatalf("answered %d with %q; want a problem", resp.Status, ct)
				}
				if code, _ := resp.JSON(t)["code"].(string); code == "" {
					t.Fatalf("problem without a code: %s", resp.Body)
				}
			}
		})
	}
}

// hostileValues are what a hostile caller puts in a parameter: a NUL,
// broken UTF-8, a control character, an absurd length.
var hostileValues = map[string]string{
	"nul":       "a\x00b",
	"bad utf-8": "\xff\xfe",
	"control":   "a\x1bb",
	"overlong":  strings.Repeat("é", 1000),
}

// Every query parameter and every path segment the API documents, given a
// NUL, broken UTF-8, a control character or an absurd length, is refused
// with a 4xx problem naming it: never a 500, never a query run with it.
func TestHostileParametersAreNamed(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	alice := apitest.NewUser(t, "Alice")
	org, _ := s.CreateOrganization(t, alice, "Acme", "client")
	admin := apitest.Token(t, alice.Sub, alice.Email, "Alice", "partners:admin")

	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct{ Name, In string } `json:"parameters"`
		} `json:"paths"`
	}
	s.Do(t, apitest.Request{Method: "GET", Path: "/openapi.json"}).Decode(t, &doc)
	checked := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			method = strings.ToUpper(method)
			route := regexp.MustCompile(`\{([a-z_]+)\}`).ReplaceAllString(path, ":$1")
			for _, p := range op.Parameters {
				if p.In != "query" && p.In != "path" {
					continue
				}
				for what, v := range hostileValues {
					target := fill(route, org)
					if p.In == "path" {
						target = strings.Replace(fill(strings.Replace(route, ":"+p.Name, "\x00HOSTILE", 1), org), "\x00HOSTILE", url.PathEscape(v), 1)
					} else {
						target += "?" + p.Name + "=" + url.QueryEscape(v)
					}
					checked++
					t.Run(method+" "+path+" "+p.Name+" "+what, func(t *testing.T) {
						r := s.Do(t, apitest.Request{Method: method, Path: target, Token: admin, Body: map[string]any{}})
						if r.Status != http.StatusBadRequest && r.Status != http.StatusUnprocessableEntity {
							t.Fatalf("answered %d; want 400 or 422 naming %s\n%s", r.Status, p.Name, r.Body)
						}
						var prob struct {
							Errors []struct{ Field string } `json:"errors"`
						}
						r.Decode(t, &prob)
						if len(prob.Errors) == 0 || prob.Errors[0].Field != p.Name {
							t.Fatalf("the problem does not name %s: %s", p.Name, r.Body)
						}
					})
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d cases: the OpenAPI document was not read", checked)
	}
}

// One length rule for user ids: any user a token admits (up to 128
// characters, whatever their bytes) can be named in a path and removed.
func TestLongUserIDCanBeRemoved(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	owner := apitest.NewUser(t, "Owner")
	org, _ := s.CreateOrganization(t, owner, "Acme", "client")
	long := apitest.User{Sub: strings.Repeat("é", 100), Email: "long." + uuid.NewString()[:8] + "@example.com", Name: "Long"}
	long.Token = apitest.Token(t, long.Sub, long.Email, long.Name)
	r := s.Do(t, apitest.Request{Method: "POST", Path: "/v1/organizations/" + org + "/member-invitations", Token: owner.Token,
		Body: map[string]any{"email": long.Email, "role": "member"}})
	apitest.Expect(t, r, http.StatusCreated)
	inv := r.JSON(t)
	r = s.Do(t, apitest.Request{Method: "POST", Path: "/v1/member-invitations/" + inv["id"].(string) + "/accept", Token: long.Token,
		Body: map[string]any{"token": inv["token"]}})
	apitest.Expect(t, r, http.StatusOK)
	r = s.Get(t, owner, "/v1/organizations/"+org+"/authorize?action=members.read&user_id="+url.QueryEscape(long.Sub), r.Position)
	apitest.Expect(t, r, http.StatusOK)
	r = s.Do(t, apitest.Request{Method: "DELETE", Path: "/v1/organizations/" + org + "/members/" + url.PathEscape(long.Sub), Token: owner.Token})
	apitest.Expect(t, r, http.StatusNoContent)
}

// A token whose claims hold what PostgreSQL cannot store (a NUL in the
// name or the subject) is refused or its name ignored: never a 500.
func TestHostileClaims(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	for name, claims := range map[string]map[string]any{
		"nul in name":    {"sub": "user-" + uuid.NewString(), "name": "a\x00b", "email": "n@example.com"},
		"control in sub": {"sub": "user-\x00-" + uuid.NewString(), "name": "N"},
		"long name":      {"sub": "user-" + uuid.NewString(), "name": strings.Repeat("x", 100000)},
	} {
		t.Run(name, func(t *testing.T) {
			claims["exp"] = time.Now().Add(time.Hour).Unix()
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims)).SignedString([]byte(apitest.Secret))
			if err != nil {
				t.Fatal(err)
			}
			r := s.Do(t, apitest.Request{Method: "POST", Path: "/v1/organizations", Token: tok, Body: map[string]any{"name": "X", "side": "client"}})
			if r.Status >= 500 {
				t.Fatalf("answered %d: %s", r.Status, r.Body)
			}
		})
	}
}

// fill turns a route template into a path for organization org.
func fill(route, org string) string {
	var out []string
	for _, seg := range strings.Split(route, "/") {
		switch {
		case seg == ":org":
			seg = org
		case seg == ":contract_id":
			seg = "contract-1"
		case seg == ":name":
			seg = "partners"
		case seg == ":stream":
			seg = "organization-" + org
		case strings.HasPrefix(seg, ":"):
			seg = uuid.NewString()
		}
		out = append(out, seg)
	}
	return strings.Join(out, "/")
}

// A member of organization B can neither read nor change anything of
// organization A, and A's existence is not revealed: every endpoint answers
// A's ids exactly as it answers unknown ones.
func TestIsolationEveryEndpoint(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	alice, bob := apitest.NewUser(t, "Alice"), apitest.NewUser(t, "Bob")
	orgA, _ := s.CreateOrganization(t, alice, "Alpha", "client")
	_, pos := s.CreateOrganization(t, bob, "Beta", "subcontractor")
	inv, _, pos := invite(t, s, alice, orgA, "x@example.com")
	unknown := uuid.NewString()
	for _, rt := range s.API.Routes() {
		if !strings.Contains(rt.Path, ":org") {
			continue
		}
		t.Run(rt.Method+" "+rt.Path, func(t *testing.T) {
			req := func(org string) apitest.Response {
				path := fill(rt.Path, org)
				if rt.Method == "GET" {
					return s.Get(t, bob, path, pos)
				}
				return s.Do(t, apitest.Request{Method: rt.Method, Path: path, Token: bob.Token, Body: map[string]any{}})
			}
			a, u := req(orgA), req(unknown)
			codeA, _ := a.JSON(t)["code"].(string)
			codeU, _ := u.JSON(t)["code"].(string)
			if a.Status < 400 || a.Status == http.StatusForbidden {
				t.Fatalf("outsider got %d on A: %s", a.Status, a.Body)
			}
			if a.Status != u.Status || codeA != codeU {
				t.Fatalf("A's id answered %d %s but an unknown id %d %s: A's existence leaks", a.Status, codeA, u.Status, codeU)
			}
		})
	}
	for _, action := range []string{"revoke", "resend", "accept", "decline"} {
		t.Run("invitation "+action, func(t *testing.T) {
			body := map[string]any{"organization_id": orgA}
			a := s.Do(t, apitest.Request{Method: "POST", Path: "/v1/invitations/" + inv + "/" + action, Token: bob.Token, Body: body})
			u := s.Do(t, apitest.Request{Method: "POST", Path: "/v1/invitations/" + unknown + "/" + action, Token: bob.Token, Body: body})
			apitest.Expect(t, a, http.StatusNotFound, "not_found")
			apitest.Expect(t, u, http.StatusNotFound, "not_found")
		})
	}
}

var (
	emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
	jwtPattern   = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.`)
)

// Tokens, secrets and full email addresses never reach the logs, through a
// whole scenario with its errors.
func TestLogsHoldNoSecrets(t *testing.T) {
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{})
	claire, samir := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Samir")
	admin := apitest.Token(t, "ops", "ops@partners.example", "Ops", "partners:admin")
	acme, _ := s.CreateOrganization(t, claire, "Acme", "client")
	plomb, _ := s.CreateOrganization(t, samir, "Plomberie", "subcontractor")
	id, token, _ := invite(t, s, claire, acme, "samir.pro@example.org")
	previewOf(t, s, token)
	previewOf(t, s, token+"x")
	post(t, s, samir, "/v1/invitations/claim", map[string]any{"token": token, "organization_id": plomb})
	post(t, s, samir, "/v1/invitations/claim", map[string]any{"token": "wrong-" + token[6:], "organization_id": plomb})
	res := post(t, s, claire, "/v1/invitations/"+id+"/resend", nil)
	post(t, s, samir, "/v1/invitations/"+id+"/accept", map[string]any{"organization_id": plomb})
	post(t, s, claire, "/v1/organizations/"+acme+"/invitations", map[string]any{"email": "bad@@example.org"})
	s.Do(t, apitest.Request{Method: "GET", Path: "/v1/admin/people/disclosures?email=" + samir.Email, Token: admin})
	s.Do(t, apitest.Request{Method: "POST", Path: "/v1/admin/people/forget", Token: admin, Body: map[string]any{"email": samir.Email}})
	s.Do(t, apitest.Request{Method: "GET", Path: "/v1/me/organizations", Token: claire.Token + "tampered"})

	logs := s.Logs.String()
	if !strings.Contains(logs, `"route":"/v1/invitations/claim"`) {
		t.Fatal("the logs do not hold the scenario: the test reads the wrong logs")
	}
	for _, secret := range []string{token, res.JSON(t)["token"].(string), claire.Token, samir.Token, admin, apitest.Secret} {
		if strings.Contains(logs, secret) {
			t.Errorf("a secret (%.8s…) is in the logs", secret)
		}
	}
	if m := jwtPattern.FindString(logs); m != "" {
		t.Errorf("a JWT is in the logs: %.20s…", m)
	}
	for _, m := range emailPattern.FindAllString(logs, -1) {
		if !strings.Contains(m, "***@") {
			t.Errorf("a full email address is in the logs: %s", m)
		}
	}
}
