package api_test

import (
	"bytes"
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"partners/api"
	"partners/internal/apitest"
	"partners/internal/pgtest"
)

// The document served at /openapi.json describes exactly the router's
// routes, and is a valid OpenAPI document.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{NoProjector: true})
	r := s.Do(t, apitest.Request{Method: "GET", Path: "/openapi.json"})
	apitest.Expect(t, r, http.StatusOK)
	// The tests validate every exchange against api.OpenAPI() (apitest), the
	// client is generated from it (client/): it must be what is served.
	if !bytes.Equal(r.Body, api.OpenAPI()) {
		t.Fatal("the served document is not api.OpenAPI()")
	}

	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(r.Body)
	if err != nil {
		t.Fatalf("load document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("document is not valid OpenAPI: %v", err)
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	var routed []string
	for _, rt := range s.API.Routes() {
		path := rt.Path
		var parts []string
		for _, seg := range strings.Split(path, "/") {
			if strings.HasPrefix(seg, ":") {
				seg = "{" + seg[1:] + "}"
			}
			parts = append(parts, seg)
		}
		routed = append(routed, rt.Method+" "+strings.Join(parts, "/"))
	}
	sort.Strings(documented)
	sort.Strings(routed)
	if strings.Join(documented, "\n") != strings.Join(routed, "\n") {
		t.Fatalf("documented:\n%s\n\nrouted:\n%s", strings.Join(documented, "\n"), strings.Join(routed, "\n"))
	}
}
