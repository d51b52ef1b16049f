package api_test

import (
	"net/http"
	"testing"

	"partners/internal/apitest"
	"partners/internal/pgtest"
)

// Operators' metrics are served on their own listener (cmd/partners): the
// API's answers 404, signed in or not.
func TestNoMetricsOnTheAPI(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	u := apitest.NewUser(t, "Olga")
	for _, tok := range []string{"", u.Token} {
		r := s.Do(t, apitest.Request{Method: "GET", Path: "/metrics", Token: tok})
		apitest.Expect(t, r, http.StatusNotFound, "route_not_found")
	}
}
