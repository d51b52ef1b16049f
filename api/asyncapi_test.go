package api_test

import (
	"bytes"
	"net/http"
	"testing"

	"partners/integration"
	"partners/internal/apitest"
	"partners/internal/pgtest"
)

// /asyncapi.json serves the contract's AsyncAPI document, without a token.
func TestAsyncAPIServed(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{NoProjector: true})
	r := s.Do(t, apitest.Request{Method: "GET", Path: "/asyncapi.json"})
	apitest.Expect(t, r, http.StatusOK)
	if !bytes.Equal(r.Body, integration.AsyncAPI()) {
		t.Fatal("the served document is not integration.AsyncAPI()")
	}
}
