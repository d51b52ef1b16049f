package api_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"partners/api"
	"partners/internal/apitest"
	"partners/internal/pgtest"
	"partners/notify/mail"
)

func TestRateLimits(t *testing.T) {
	pool := pgtest.Fresh2(t)
	limits := &api.Limits{Invite: api.Limit{PerUser: 2, PerIP: 100}, Token: api.Limit{PerUser: 100, PerIP: 100},
		FailedToken: api.Limit{PerUser: 100, PerIP: 3}, Request: api.Limit{PerUser: 1, PerIP: 100}}
	s := apitest.Start(t, pool, apitest.Options{Limits: limits})
	replica := apitest.Start(t, pool, apitest.Options{Limits: limits})
	client := apitest.NewUser(t, "Claire")
	acme, _ := s.CreateOrganization(t, client, "Acme", "client")

	t.Run("PerUserAcrossReplicas", func(t *testing.T) {
		invite(t, s, client, acme, "a@example.com")
		invite(t, replica, client, acme, "b@example.com")
		r := post(t, s, client, "/v1/organizations/"+acme+"/invitations", map[string]any{"email": "c@example.com"})
		apitest.Expect(t, r, http.StatusTooManyRequests, "rate_limited")
		if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs < 1 || secs > 60 {
			t.Fatalf("Retry-After = %q; want 1 to 60 seconds", r.Header.Get("Retry-After"))
		}
		other := apitest.NewUser(t, "Olga")
		org, _ := s.CreateOrganization(t, other, "Other", "client")
		invite(t, s, other, org, "d@example.com") // another user is not held back
	})

	t.Run("FailedTokensPerIP", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			r := previewOf(t, s, strings.Repeat("x", 42)+strconv.Itoa(i))
			apitest.Expect(t, r, http.StatusNotFound, "not_found")
		}
		r := previewOf(t, replica, strings.Repeat("y", 43))
		apitest.Expect(t, r, http.StatusTooManyRequests, "rate_limited")
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	})
}

// expectLimited fails unless the answer is a 429 with a Retry-After within
// the window.
func expectLimited(t *testing.T, r apitest.Response, window int) {
	t.Helper()
	apitest.Expect(t, r, http.StatusTooManyRequests, "rate_limited")
	if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs < 1 || secs > window {
		t.Fatalf("Retry-After = %q; want 1 to %d seconds", r.Header.Get("Retry-After"), window)
	}
}

// Every command that sends email or creates something is limited per
// organization: once an organization reached its limit the next is 429 with
// Retry-After, while another organization (of the same user) is not held
// back, and refused commands of outsiders spend nothing of it.
func TestRateLimitsPerOrganization(t *testing.T) {
	pool := pgtest.Fresh2(t)
	lim := api.Limit{PerUser: 1000, PerOrg: 2, PerIP: 1000}
	s := apitest.Start(t, pool, apitest.Options{Limits: &api.Limits{Invite: lim, Create: lim, Share: lim}})
	claire, mallory := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Mallory")
	n := 0
	unique := func() string { n++; return "p" + strconv.Itoa(n) + "." + claire.Sub + "@example.com" }
	portalUser := func(org string) apitest.Response {
		return post(t, s, claire, "/v1/organizations/"+org+"/portal-users", map[string]any{"email": unique(), "name": "P", "company": "Dupont"})
	}
	commands := map[string]func(org string) apitest.Response{
		"partner invitations": func(org string) apitest.Response {
			return post(t, s, claire, "/v1/organizations/"+org+"/invitations", map[string]any{"email": unique()})
		},
		"colleague invitations": func(org string) apitest.Response {
			return post(t, s, claire, "/v1/organizations/"+org+"/member-invitations", map[string]any{"email": unique(), "role": "member"})
		},
		"accountant invitations": func(org string) apitest.Response {
			return post(t, s, claire, "/v1/organizations/"+org+"/accountants", map[string]any{"email": unique()})
		},
		"collaborators": func(org string) apitest.Response {
			return post(t, s, claire, "/v1/organizations/"+org+"/collaborators", map[string]any{"first_name": "A", "last_name": "B",
				"email": unique(), "phone": "+33612345678"})
		},
		"portal users": portalUser,
	}
	for name, command := range commands {
		t.Run(name, func(t *testing.T) {
			org, _ := s.CreateOrganization(t, claire, "Acme", "client")
			other, _ := s.CreateOrganization(t, claire, "Other", "client")
			for i := 0; i < 3; i++ { // refused outsiders spend nothing
				apitest.Expect(t, s.Do(t, apitest.Request{Method: "POST", Path: "/v1/organizations/" + org + "/invitations",
					Token: mallory.Token, Body: map[string]any{"email": unique()}}), http.StatusNotFound)
			}
			apitest.Expect(t, command(org), http.StatusCreated)
			apitest.Expect(t, command(org), http.StatusCreated)
			expectLimited(t, command(org), 60)
			apitest.Expect(t, command(other), http.StatusCreated)
		})
	}
	t.Run("contract sharing", func(t *testing.T) {
		// Each share creates a portal user first (class create): its own
		// limit is raised so that only sharing's is reached.
		s := apitest.Start(t, pool, apitest.Options{Limits: &api.Limits{Share: lim, Create: api.Limit{PerOrg: 100}}})
		share := func(org string) apitest.Response {
			r := post(t, s, claire, "/v1/organizations/"+org+"/portal-users", map[string]any{"email": unique(), "name": "P", "company": "Dupont"})
			apitest.Expect(t, r, http.StatusCreated)
			return s.Do(t, apitest.Request{Method: "PUT", Path: "/v1/organizations/" + org + "/contracts/c-" + strconv.Itoa(n) + "/portal", Token: claire.Token,
				Body: map[string]any{"title": "T", "requester_id": r.JSON(t)["id"]}})
		}
		org, _ := s.CreateOrganization(t, claire, "Acme", "client")
		other, _ := s.CreateOrganization(t, claire, "Other", "client")
		apitest.Expect(t, share(org), http.StatusCreated)
		apitest.Expect(t, share(org), http.StatusCreated)
		expectLimited(t, share(org), 60)
		apitest.Expect(t, share(other), http.StatusCreated)
	})
	t.Run("partner invitation resends", func(t *testing.T) {
		org, _ := s.CreateOrganization(t, claire, "Acme", "client")
		id, _, _ := invite(t, s, claire, org, unique())
		apitest.Expect(t, post(t, s, claire, "/v1/invitations/"+id+"/resend", nil), http.StatusOK)
		expectLimited(t, post(t, s, claire, "/v1/invitations/"+id+"/resend", nil), 60)
	})
}

// Organizations are limited per user, and collaboration requests per user:
// another user is not held back.
func TestRateLimitsPerUser(t *testing.T) {
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{Limits: &api.Limits{Create: api.Limit{PerUser: 2}, Request: api.Limit{PerUser: 2}}})
	claire, olga := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Olga")
	s.CreateOrganization(t, claire, "One", "client")
	s.CreateOrganization(t, claire, "Two", "client")
	expectLimited(t, post(t, s, claire, "/v1/organizations", map[string]any{"name": "Three", "side": "client"}), 60)
	s.CreateOrganization(t, olga, "Olga's", "client")
	for i := 0; i < 2; i++ {
		apitest.Expect(t, post(t, s, claire, "/v1/collaboration-requests", map[string]any{"target": "nobody" + strconv.Itoa(i) + "@example.com"}), http.StatusAccepted)
	}
	expectLimited(t, post(t, s, claire, "/v1/collaboration-requests", map[string]any{"target": "x@example.com"}), 60)
	apitest.Expect(t, post(t, s, olga, "/v1/collaboration-requests", map[string]any{"target": "x@example.com"}), http.StatusAccepted)
}

// Anonymous calls count against their address, and IPv6 addresses against
// their /64: two addresses of one /64 share a counter, another /64 does not.
func TestRateLimitsByAddress(t *testing.T) {
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{TrustedProxies: []string{"127.0.0.1", "::1"},
		Limits: &api.Limits{Token: api.Limit{PerIP: 1000}, FailedToken: api.Limit{PerIP: 2}}})
	preview := func(from string) apitest.Response {
		return s.Do(t, apitest.Request{Method: "POST", Path: "/v1/invitations/preview", Body: map[string]any{"token": strings.Repeat("z", 43)},
			Header: map[string]string{"X-Forwarded-For": from}})
	}
	apitest.Expect(t, preview("2001:db8:1:2::1"), http.StatusNotFound)
	apitest.Expect(t, preview("2001:db8:1:2:ffff::9"), http.StatusNotFound)
	expectLimited(t, preview("2001:db8:1:2::abcd"), 60)
	apitest.Expect(t, preview("2001:db8:1:3::1"), http.StatusNotFound)
	apitest.Expect(t, preview("192.0.2.1"), http.StatusNotFound)
	apitest.Expect(t, preview("192.0.2.1"), http.StatusNotFound)
	expectLimited(t, preview("192.0.2.1"), 60)
	apitest.Expect(t, preview("192.0.2.2"), http.StatusNotFound)
}

// outbox records what the pipeline sends.
type outbox struct {
	mu   sync.Mutex
	sent map[string]bool
}

func (o *outbox) Send(_ context.Context, m mail.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.sent == nil {
		o.sent = map[string]bool{}
	}
	o.sent[m.ID] = true
	return nil
}

func (o *outbox) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.sent)
}

// An organization's commands may cause at most its hourly email budget:
// beyond it the command is refused before it runs (429, Retry-After within
// the hour), whatever kind of email it sends; another organization is not
// held back; commands of others that concern the organization are never
// refused for its budget; and every email of an accepted command is sent.
func TestEmailBudgetPerOrganization(t *testing.T) {
	box := &outbox{}
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{Mail: box, Limits: &api.Limits{MailPerOrgHour: 4}})
	claire, samir := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Samir")
	acme, _ := s.CreateOrganization(t, claire, "Acme", "client")
	plomb, _ := s.CreateOrganization(t, samir, "Plomberie", "subcontractor")

	id, _, _ := invite(t, s, claire, acme, "one@example.com")          // 1
	resent := post(t, s, claire, "/v1/invitations/"+id+"/resend", nil) // 2
	apitest.Expect(t, resent, http.StatusOK)
	token := resent.JSON(t)["token"].(string)
	apitest.Expect(t, post(t, s, claire, "/v1/organizations/"+acme+"/member-invitations",
		map[string]any{"email": "two@example.com", "role": "member"}), http.StatusCreated) // 3
	r := post(t, s, claire, "/v1/organizations/"+acme+"/portal-users", map[string]any{"email": "p@example.com", "name": "P", "company": "Dupont"})
	apitest.Expect(t, r, http.StatusCreated) // no email
	portalUser := r.JSON(t)["id"]
	// A contract shown to a requester and a watcher would send 2: beyond.
	r2 := post(t, s, claire, "/v1/organizations/"+acme+"/portal-users", map[string]any{"email": "w@example.com", "name": "W", "company": "Dupont"})
	apitest.Expect(t, r2, http.StatusCreated)
	r = s.Do(t, apitest.Request{Method: "PUT", Path: "/v1/organizations/" + acme + "/contracts/c-1/portal", Token: claire.Token,
		Body: map[string]any{"title": "T", "requester_id": portalUser, "watcher_ids": []any{r2.JSON(t)["id"]}}})
	expectLimited(t, r, 3600)
	r = s.Do(t, apitest.Request{Method: "PUT", Path: "/v1/organizations/" + acme + "/contracts/c-1/portal", Token: claire.Token,
		Body: map[string]any{"title": "T", "requester_id": portalUser}})
	apitest.Expect(t, r, http.StatusCreated) // 4
	for _, refused := range []apitest.Response{
		post(t, s, claire, "/v1/organizations/"+acme+"/invitations", map[string]any{"email": "three@example.com"}),
		post(t, s, claire, "/v1/invitations/"+id+"/resend", nil),
		post(t, s, claire, "/v1/organizations/"+acme+"/accountants", map[string]any{"email": "cpa@example.com"}),
		post(t, s, claire, "/v1/organizations/"+acme+"/collaborators", map[string]any{"first_name": "A", "last_name": "B", "email": "c@example.com", "phone": "+33612345678"}),
	} {
		expectLimited(t, refused, 3600)
	}
	// Another organization sends; the invited one answers Acme's invitation.
	invite(t, s, samir, plomb, "five@example.com")
	apitest.Expect(t, post(t, s, samir, "/v1/invitations/claim", map[string]any{"token": token, "organization_id": plomb}), http.StatusOK)
	apitest.Expect(t, post(t, s, samir, "/v1/invitations/"+id+"/accept", map[string]any{"organization_id": plomb}), http.StatusOK)

	// Every accepted email goes out: Acme's 4, Plomberie's 1, and the claim
	// and acceptance notices to Acme's sender, which Plomberie caused: a
	// notice caused by others is never refused, even past Acme's budget.
	const want = 7
	for i := 0; box.count() < want && i < 600; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if got := box.count(); got != want {
		t.Fatalf("%d emails sent; want %d (every accepted command's, and the notice)", got, want)
	}
}
