package api_test

import (
	"net/http"
	"strings"
	"testing"

	"partners/internal/apitest"
	"partners/internal/pgtest"
)

func TestCreateOrganization(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	alice := apitest.NewUser(t, "Alice")

	t.Run("OK", func(t *testing.T) {
		r := s.Do(t, apitest.Request{Method: "POST", Path: "/v1/organizations", Token: alice.Token,
			Body: map[string]any{"name": "  Acme Travaux ", "side": "client", "siret": "732 829 320 00074"}})
		apitest.Expect(t, r, http.StatusCreated)
		got := r.JSON(t)
		if got["name"] != "Acme Travaux" || got["side"] != "client" || got["siret"] != "73282932000074" || got["id"] == "" {
			t.Fatalf("created = %v; want trimmed name, side client, normalized siret", got)
		}
		if r.Position <= 0 {
			t.Fatalf("X-Event-Position = %d; want > 0", r.Position)
		}
		g := s.Get(t, alice, "/v1/organizations/"+got["id"].(string), r.Position)
		apitest.Expect(t, g, http.StatusOK)
		if g.JSON(t)["name"] != "Acme Travaux" {
			t.Fatalf("read back %s", g.Body)
		}
		m := s.Get(t, alice, "/v1/organizations/"+got["id"].(string)+"/members", r.Position)
		apitest.Expect(t, m, http.StatusOK)
		items := m.JSON(t)["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["role"] != "owner" || items[0].(map[string]any)["email"] != alice.Email {
			t.Fatalf("members = %s; want the creator as owner", m.Body)
		}
		mine := s.Get(t, alice, "/v1/me/organizations", r.Position)
		if !strings.Contains(string(mine.Body), got["id"].(string)) {
			t.Fatalf("my organizations = %s; want the new one", mine.Body)
		}
	})

	t.Run("ErrSiretTaken", func(t *testing.T) {
		body := map[string]any{"name": "First", "side": "subcontractor", "siret": "44306184100047"}
		apitest.Expect(t, s.Do(t, apitest.Request{Method: "POST", Path: "/v1/organizations", Token: alice.Token, Body: body}), http.StatusCreated)
		body["name"] = "Second"
		apitest.Expect(t, s.Do(t, apitest.Request{Method: "POST", Path: "/v1/organizations", Token: alice.Token, Body: body}), http.StatusConflict, "siret_taken")
	})

	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"ErrMalformedJSON", `{"name": "x",`, 400, "malformed_request", ""},
		{"ErrNotAnObject", `[1,2]`, 400, "malformed_request", ""},
		{"ErrNameRequired", map[string]any{"side": "client"}, 422, "validation_failed", "name"},
		{"ErrInvalidSide", map[string]any{"name": "X", "side": "supplier"}, 422, "validation_failed", "side"},
		{"ErrInvalidSiret", map[string]any{"name": "X", "side": "client", "siret": "73282932000075"}, 422, "validation_failed", "siret"},
		{"ErrSideWrongType", map[string]any{"name": "X", "side": 3}, 422, "validation_failed", "side"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(t, apitest.Request{Method: "POST", Path: "/v1/organizations", Token: alice.Token, Body: tc.body})
			apitest.Expect(t, r, tc.status, tc.code)
			if tc.field != "" && !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) {
				t.Fatalf("problem %s does not name field %q", r.Body, tc.field)
			}
		})
	}

	t.Run("ErrBodyTooLarge", func(t *testing.T) {
		big := `{"name":"` + strings.Repeat("x", 2<<20) + `","side":"client"}`
		apitest.Expect(t, s.Do(t, apitest.Request{Method: "POST", Path: "/v1/organizations", Token: alice.Token, Body: big}), http.StatusRequestEntityTooLarge, "body_too_large")
	})
}

func TestOutsiderLearnsNothing(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	alice, mallory := apitest.NewUser(t, "Alice"), apitest.NewUser(t, "Mallory")
	org, pos := s.CreateOrganization(t, alice, "Secret Co", "client")
	for _, path := range []string{"/v1/organizations/" + org, "/v1/organizations/" + org + "/members"} {
		outsider := s.Get(t, mallory, path, pos)
		unknown := s.Get(t, mallory, strings.Replace(path, org, "6f1c0c5e-0000-4000-8000-000000000000", 1), pos)
		apitest.Expect(t, outsider, http.StatusNotFound, "not_found")
		apitest.Expect(t, unknown, http.StatusNotFound, "not_found")
		if outsider.JSON(t)["detail"] != unknown.JSON(t)["detail"] {
			t.Fatalf("outsider %s and unknown %s answers differ", outsider.Body, unknown.Body)
		}
	}
	apitest.Expect(t, s.Get(t, mallory, "/v1/organizations/not-a-uuid", 0), http.StatusNotFound, "not_found")
}

func TestIdempotencyKey(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	alice := apitest.NewUser(t, "Alice")
	req := apitest.Request{Method: "POST", Path: "/v1/organizations", Token: alice.Token,
		Body: map[string]any{"name": "Once", "side": "client"}, Header: map[string]string{"Idempotency-Key": "create-once-1"}}
	first := s.Do(t, req)
	apitest.Expect(t, first, http.StatusCreated)
	again := s.Do(t, req)
	apitest.Expect(t, again, http.StatusCreated)
	if string(again.Body) != string(first.Body) || again.Position != first.Position {
		t.Fatalf("replay = %s @%d; want %s @%d", again.Body, again.Position, first.Body, first.Position)
	}
	if again.Header.Get("Idempotency-Replayed") != "true" {
		t.Errorf("replay lacks Idempotency-Replayed: true")
	}
	var n int
	if err := s.Pool.QueryRow(t.Context(), `SELECT count(*) FROM events WHERE event_type = 'OrganizationCreated' AND stream_id = 'organization-' || $1`, first.JSON(t)["id"]).Scan(&n); err != nil || n != 1 {
		t.Fatalf("organization events = %d, %v; want 1", n, err)
	}
	other := req
	other.Body = map[string]any{"name": "Twice", "side": "client"}
	apitest.Expect(t, s.Do(t, other), http.StatusUnprocessableEntity, "idempotency_key_reused")
	// Another user's identical key is theirs alone.
	bob := apitest.NewUser(t, "Bob")
	bobs := req
	bobs.Token = bob.Token
	r := s.Do(t, bobs)
	apitest.Expect(t, r, http.StatusCreated)
	if r.JSON(t)["id"] == first.JSON(t)["id"] {
		t.Fatal("another user's request was answered from alice's record")
	}
}

func TestMinPositionReadYourWrites(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	alice := apitest.NewUser(t, "Alice")
	for i := 0; i < 20; i++ {
		org, pos := s.CreateOrganization(t, alice, "Fresh", "subcontractor")
		apitest.Expect(t, s.Get(t, alice, "/v1/organizations/"+org, pos), http.StatusOK)
	}
	apitest.Expect(t, s.Get(t, alice, "/v1/me/organizations?min_position=abc", 0), http.StatusUnprocessableEntity, "validation_failed")
}

func TestMinPositionBehind(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{NoProjector: true})
	alice := apitest.NewUser(t, "Alice")
	_, pos := s.CreateOrganization(t, alice, "Never projected", "client")
	// A position that was assigned but is not applied: the wait ends in 503.
	// (One never assigned is 422 at once: TestMinPositionNeverAssigned.)
	r := s.Get(t, alice, "/v1/me/organizations", pos)
	apitest.Expect(t, r, http.StatusServiceUnavailable, "projection_behind")
	if r.Header.Get("Retry-After") == "" {
		t.Error("projection_behind answer lacks Retry-After")
	}
}

// A min_position above the highest position ever assigned is refused at
// once, naming it, instead of holding the request for the whole wait: even
// when the read models are behind, and on every route that waits.
func TestMinPositionNeverAssigned(t *testing.T) {
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{NoProjector: true})
	alice := apitest.NewUser(t, "Alice")
	org, pos := s.CreateOrganization(t, alice, "Never projected", "client")
	for _, path := range []string{"/v1/me/organizations", "/v1/organizations/" + org + "/members", "/v1/organizations/" + org + "/partners"} {
		r := s.Get(t, alice, path, pos+1)
		apitest.Expect(t, r, http.StatusUnprocessableEntity, "validation_failed")
		if !strings.Contains(string(r.Body), `"field":"min_position"`) {
			t.Fatalf("the refusal does not name min_position: %s", r.Body)
		}
	}
}

func TestPagination(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	alice := apitest.NewUser(t, "Alice")
	var pos int64
	for i := 0; i < 5; i++ {
		_, pos = s.CreateOrganization(t, alice, "Org "+string(rune('A'+i)), "client")
	}
	seen := map[string]bool{}
	path := "/v1/me/organizations?limit=2"
	for pages := 0; ; pages++ {
		r := s.Get(t, alice, path, pos)
		apitest.Expect(t, r, http.StatusOK)
		var page struct {
			Items      []map[string]any `json:"items"`
			NextCursor *string          `json:"next_cursor"`
		}
		r.Decode(t, &page)
		for _, it := range page.Items {
			seen[it["organization_id"].(string)] = true
		}
		if page.NextCursor == nil {
			break
		}
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		path = "/v1/me/organizations?limit=2&cursor=" + *page.NextCursor
	}
	if len(seen) != 5 {
		t.Fatalf("paged through %d organizations; want 5", len(seen))
	}
	for _, bad := range []string{"limit=0", "limit=201", "limit=x", "cursor=!!!", "cursor=bm90LWpzb24"} {
		apitest.Expect(t, s.Get(t, alice, "/v1/me/organizations?"+bad, 0), http.StatusUnprocessableEntity, "validation_failed")
	}
}
