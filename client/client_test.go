package client_test

import (
	"bytes"
	"os"
	"testing"

	"partners/api"
)

// The client is generated from the document the server serves: a change to
// the endpoint tables needs `go generate ./client/` (which .ci/run checks
// too, for client.gen.go).
func TestGeneratedFromTheServedDocument(t *testing.T) {
	b, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, api.OpenAPI()) {
		t.Fatal("client/openapi.json is not the served document: run go generate ./client/")
	}
}
