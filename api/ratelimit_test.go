package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"partners/api"
	"partners/internal/apitest"
	"partners/internal/pgtest"
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
