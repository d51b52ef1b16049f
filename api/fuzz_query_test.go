package api_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"partners/internal/apitest"
	"partners/internal/pgtest"
)

// The query layer, driven through the real router with a valid token: any
// query string, on any query route, with any value in any path segment, is
// answered below 500. The seeds run in every plain `go test`.
func FuzzQueryRouter(f *testing.F) {
	for _, seed := range []struct {
		route uint8
		seg   string
		query string
	}{
		{0, "", "q=%00"}, {1, "", "limit=99999999999999999999"}, {2, "\x00", ""}, {3, "\xff\xfe", "cursor=%FF"},
		{4, "", "as_of=0001-01-01T00:00:00Z"}, {5, "", "as_of=9999-12-31T23:59:59Z&min_position=1"},
		{6, "", "min_position=9007199254740993"}, {7, "", "format=csv&cursor=WyJ4IiwieSJd"}, {8, strings.Repeat("é", 300), ""},
		{9, "", "user_id=" + strings.Repeat("%C3%A9", 129) + "&action=members.read"}, {10, "", "status=%00&company=%1B"},
		{11, "", "%00=%00&limit=1&limit=2"}, {12, "..", "q=%25%5F%5C"}, {13, "%2F", "email=a%40b.fr%00"}, {14, "", "token=" + strings.Repeat("x", 2000)},
		{15, "", "cursor=" + strings.Repeat("A", 511)}, {16, "", "as_of=2026-02-30T00:00:00Z"}, {17, "", "min_position=-1"},
	} {
		f.Add(seed.route, seed.seg, seed.query)
	}
	s := apitest.Start(f, pgtest.Pool(f), apitest.Options{})
	alice := apitest.NewUser(f, "Alice")
	org, _ := s.CreateOrganization(f, alice, "Acme", "client")
	admin := apitest.Token(f, alice.Sub, alice.Email, alice.Name, "partners:admin")
	var routes []string
	for _, rt := range s.API.Routes() {
		if rt.Method == "GET" && strings.HasPrefix(rt.Path, "/v1/") {
			routes = append(routes, rt.Path)
		}
	}
	sort.Strings(routes)
	f.Fuzz(func(t *testing.T, route uint8, seg, query string) {
		path := routes[int(route)%len(routes)]
		target := fill(path, org)
		if seg != "" && strings.Contains(path, "/:") {
			// The route's first parameter gets the fuzzed segment.
			i := strings.Index(path, "/:")
			j := strings.Index(path[i+1:], "/")
			rest := ""
			if j >= 0 {
				rest = fill(path[i+1+j:], org)
			}
			target = fill(path[:i], org) + "/" + url.PathEscape(seg) + rest
		}
		req, err := http.NewRequest("GET", "http://partners.test"+target, nil)
		if err != nil {
			return // not a request any client could send
		}
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "Bearer "+admin)
		w := httptest.NewRecorder()
		s.API.Handler().ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("GET %s?%s answered %d: %s", target, query, w.Code, w.Body)
		}
	})
}
