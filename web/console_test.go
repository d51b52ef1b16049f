package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"partners/domain"
	"partners/web"
)

// The operator console through its forms: only for the operator claim or
// a listed verified email; the read models with position, lag and state;
// a rebuild followed on the self-reloading page to its end; verify; the
// stream browser.
func TestConsole(t *testing.T) {
	s := startService(t, func(c *web.Config) { c.AdminEmails = []domain.Email{domain.MustParseEmail("sre@ops.test")} })
	owner := newBrowser(t, s.URL).signIn("Olga Owner", "olga@org.test")
	createOrg(owner, "Org SA", "client")
	org := owner.org()
	owner.get("/console").must(http.StatusNotFound)
	if strings.Contains(owner.body, "nav-console") {
		t.Fatal("a non-operator sees the console link")
	}
	owner.post("/console/rebuild", url.Values{"name": {"members"}}).must(http.StatusNotFound)

	// The development form's "operator" box makes the claim.
	op := newBrowser(t, s.URL)
	op.get("/signin").must(http.StatusOK, `name="operator"`).
		post("/signin/dev", url.Values{"name": {"Otto"}, "email": {"otto@ops.test"}, "operator": {"on"}})
	op.get("/console").must(http.StatusOK, `id="nav-console"`, `id="read-models"`, `id="model-members"`, "<td>live</td>")
	if strings.Contains(op.body, `http-equiv="refresh"`) {
		t.Fatal("the page reloads itself with no rebuild running")
	}

	// A listed email opens it too.
	newBrowser(t, s.URL).signIn("Sre", "sre@ops.test").get("/console").must(http.StatusOK, `id="read-models"`)

	// A rebuild, followed until done.
	op.post("/console/rebuild", url.Values{"name": {"members"}}).must(http.StatusOK, "Reconstruction de members lancée")
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(op.body, `data-state="done"`) {
		if time.Now().After(deadline) {
			t.Fatalf("the rebuild did not end:\n%s", op.body)
		}
		if !strings.Contains(op.body, `data-state="running"`) || !strings.Contains(op.body, `http-equiv="refresh" content="0; url=/console?wait=1"`) {
			t.Fatalf("a running rebuild without its live page:\n%s", op.body)
		}
		time.Sleep(200 * time.Millisecond) // what the page's refresh does, a little faster
		op.get("/console")
	}
	op.post("/console/rebuild", url.Values{"name": {"nope"}}).must(http.StatusOK, "Ce modèle de lecture n&#39;existe pas.")

	// Verify: the live read model equals a replay.
	op.get("/console").post("/console/verify", url.Values{"name": {"members"}}).must(http.StatusOK, `id="verify-same"`)

	// The stream browser.
	op.get("/console/streams?id="+url.QueryEscape("organization-"+org)).must(http.StatusOK, `id="stream-events"`, "OrganizationCreated", "olga@org.test")
	op.get("/console/streams?id=nothing-here").must(http.StatusOK, `id="stream-none"`)
}
