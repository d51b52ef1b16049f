package api_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"partners/api"
	"partners/internal/apitest"
	"partners/internal/pgtest"
)

// previewAt asks a link preview route what the landing page shows, without
// signing in.
func previewAt(t *testing.T, s *apitest.Server, path, token string) apitest.Response {
	t.Helper()
	return s.Do(t, apitest.Request{Method: "POST", Path: path, Body: map[string]any{"token": token}})
}

const (
	memberPreview       = "/v1/member-invitations/preview"
	accountantPreview   = "/v1/accountant-invitations/preview"
	collaboratorPreview = "/v1/collaborators/preview"
)

// Issue 16, point 5: colleague, accountant and collaborator links have a
// preview like the partner invitation's: a query under POST, without
// signing in, that says who invites to what and whether the link still
// works, and answers the invitation's id. A token that opens nothing of
// that kind answers the partner preview's 404, byte for byte.
func TestTeamLinkPreviews(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	owner := apitest.NewUser(t, "Olivia")
	owner.Name = "Olivia Martin"
	owner.Token = apitest.Token(t, owner.Sub, owner.Email, owner.Name)
	org, _ := s.CreateOrganization(t, owner, "Acme Travaux", "client")
	created := func(path string, body map[string]any) map[string]any {
		r := call(t, s, owner, "POST", orgPath(org, path), body)
		apitest.Expect(t, r, http.StatusCreated)
		return r.JSON(t)
	}
	member := created("/member-invitations", map[string]any{"email": "colleague@example.com", "role": "admin"})
	accountant := created("/accountants", map[string]any{"email": "accountant@example.com"})
	collaborator := created("/collaborators", map[string]any{"first_name": "Karim", "last_name": "Benali", "email": "karim@example.com",
		"phone": "0612345678", "can_purchase": false, "can_see_all_orders": true})

	for _, tc := range []struct {
		path, token, id, role, status string
	}{
		{memberPreview, member["token"].(string), member["id"].(string), "admin", "sent"},
		{accountantPreview, accountant["token"].(string), accountant["id"].(string), "accountant", "sent"},
		{collaboratorPreview, collaborator["token"].(string), collaborator["id"].(string), "collaborator", "invited"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := previewAt(t, s, tc.path, tc.token)
			apitest.Expect(t, r, http.StatusOK)
			m := r.JSON(t)
			inviter, _ := m["inviter"].(map[string]any)
			target, _ := m["organization"].(map[string]any)
			if m["id"] != tc.id || m["role"] != tc.role || m["status"] != tc.status || m["inviter_name"] != "Olivia Martin" ||
				inviter["id"] != org || inviter["name"] != "Acme Travaux" || target["id"] != org || target["name"] != "Acme Travaux" ||
				m["expires_at"] == nil {
				t.Fatalf("preview = %s", r.Body)
			}
			if strings.Contains(string(r.Body), "@example.com") {
				t.Fatalf("the preview shows the invited email to whoever holds the link: %s", r.Body)
			}
			if r.Header.Get("X-Event-Position") != "" {
				t.Fatalf("a preview is a query; it answered X-Event-Position %q", r.Header.Get("X-Event-Position"))
			}
			keyed := s.Do(t, apitest.Request{Method: "POST", Path: tc.path, Body: map[string]any{"token": tc.token},
				Header: map[string]string{"Idempotency-Key": "k-" + tc.role}})
			apitest.Expect(t, keyed, http.StatusOK)
			if keyed.Header.Get("Idempotency-Replayed") != "" || keyed.Header.Get("X-Event-Position") != "" {
				t.Fatalf("the preview went through the command frame: %v", keyed.Header)
			}
			apitest.Expect(t, s.Do(t, apitest.Request{Method: "POST", Path: tc.path, Body: `{"token":`}), http.StatusBadRequest)
		})
	}
	if m := previewAt(t, s, collaboratorPreview, collaborator["token"].(string)).JSON(t); m["can_purchase"] != false || m["can_see_all_orders"] != true {
		t.Fatalf("the collaborator preview does not say the permissions: %v", m)
	}

	// What opens nothing answers as the partner preview does.
	unknown := previewOf(t, s, strings.Repeat("Q", 43))
	apitest.Expect(t, unknown, http.StatusNotFound, "not_found")
	for _, tc := range []struct{ name, path, token string }{
		{"member: unknown", memberPreview, strings.Repeat("Q", 43)},
		{"member: an accountant's token", memberPreview, accountant["token"].(string)},
		{"accountant: a colleague's token", accountantPreview, member["token"].(string)},
		{"collaborator: a colleague's token", collaboratorPreview, member["token"].(string)},
		{"collaborator: not a token at all", collaboratorPreview, "nope"},
		{"collaborator: empty", collaboratorPreview, ""},
		{"partner: a collaborator's token", "/v1/invitations/preview", collaborator["token"].(string)},
	} {
		r := previewAt(t, s, tc.path, tc.token)
		if r.Status != unknown.Status || !bytes.Equal(r.Body, unknown.Body) {
			t.Errorf("%s answered\n%d %s\nwant the partner preview's\n%d %s", tc.name, r.Status, r.Body, unknown.Status, unknown.Body)
		}
	}

	// A revoked colleague invitation's link opens nothing any more; a
	// withdrawn collaborator account's link says it was withdrawn.
	apitest.Expect(t, call(t, s, owner, "POST", "/v1/member-invitations/"+member["id"].(string)+"/revoke", nil), http.StatusOK)
	apitest.Expect(t, previewAt(t, s, memberPreview, member["token"].(string)), http.StatusNotFound, "not_found")
	apitest.Expect(t, call(t, s, owner, "POST", "/v1/collaborator-invitations/"+collaborator["id"].(string)+"/revoke", nil), http.StatusOK)
	if m := previewAt(t, s, collaboratorPreview, collaborator["token"].(string)).JSON(t); m["status"] != "revoked" {
		t.Fatalf("preview of a withdrawn account = %v; want status revoked", m)
	}
}

// Past their expiry, the links preview as expired.
func TestTeamLinkPreviewsExpire(t *testing.T) {
	clock := apitest.NewClock()
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{Now: clock.Now})
	owner := apitest.NewUser(t, "Olivia")
	org, _ := s.CreateOrganization(t, owner, "Acme", "client")
	m := call(t, s, owner, "POST", orgPath(org, "/accountants"), map[string]any{"email": "acc@example.com"}).JSON(t)
	c := call(t, s, owner, "POST", orgPath(org, "/collaborators"), map[string]any{"first_name": "Karim", "last_name": "Benali",
		"email": "karim@example.com", "phone": "0612345678"}).JSON(t)
	clock.Advance(31 * 24 * time.Hour)
	if p := previewAt(t, s, accountantPreview, m["token"].(string)).JSON(t); p["status"] != "expired" {
		t.Fatalf("accountant preview = %v; want expired", p)
	}
	if p := previewAt(t, s, collaboratorPreview, c["token"].(string)).JSON(t); p["status"] != "expired" {
		t.Fatalf("collaborator preview = %v; want expired", p)
	}
}

// Previews are limited as "token" routes: tokens that open nothing count
// against the address, whichever kind of link they were tried on.
func TestTeamLinkPreviewsCountFailedTokens(t *testing.T) {
	limits := &api.Limits{Invite: api.Limit{PerUser: 100, PerIP: 100}, Token: api.Limit{PerUser: 100, PerIP: 100},
		FailedToken: api.Limit{PerUser: 100, PerIP: 3}, Request: api.Limit{PerUser: 100, PerIP: 100}}
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{Limits: limits})
	for _, path := range []string{memberPreview, accountantPreview, collaboratorPreview} {
		apitest.Expect(t, previewAt(t, s, path, strings.Repeat("z", 43)), http.StatusNotFound, "not_found")
	}
	apitest.Expect(t, previewAt(t, s, collaboratorPreview, strings.Repeat("w", 43)), http.StatusTooManyRequests, "rate_limited")
	apitest.Expect(t, previewOf(t, s, strings.Repeat("w", 43)), http.StatusTooManyRequests, "rate_limited")
}
