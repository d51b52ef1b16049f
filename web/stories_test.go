package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// The seeds' stories through the pages' forms, without JavaScript (the
// browser tests click the same in Chromium).

// createOrg fills the organization form of the page the browser is on.
func createOrg(b *browser, name, side string) *browser {
	b.t.Helper()
	next := "welcome"
	if strings.Contains(b.url, "/link") {
		next = "link"
	}
	return b.post("/organizations", url.Values{"name": {name}, "side": {side}, "next": {next}}).must(http.StatusOK)
}

func invite(b *browser, email, name, message string) *browser {
	b.t.Helper()
	org := b.org()
	return b.get("/o/"+org+"/invite").must(http.StatusOK).
		post("/o/"+org+"/invite", url.Values{"email": {email}, "name": {name}, "company": {"ACME"}, "phone": {"06 12 34 56 78"}, "message": {message}}).
		must(http.StatusOK, "Invitation envoyée", "Envoyée")
}

var badge = regexp.MustCompile(`<span class="badge"[^>]*>(\d+)</span>`)

func badgeCount(b *browser) string {
	if m := badge.FindStringSubmatch(b.body); m != nil {
		return m[1]
	}
	return "0"
}

// Seed 000, first story: the subcontractor signs up with the invited email;
// the window at sign-up offers the invitation; accepted, each finds the
// other in its panel and the inviter sees "Validé".
func TestSeed000SameEmail(t *testing.T) {
	s := startService(t, nil)
	client := newBrowser(t, s.URL).signIn("Claire Client", "claire@client.test")
	createOrg(client, "Client SA", "client").must(http.StatusOK, "Sous-traitants")
	invite(client, "sam@sub.test", "Sam", "Bonjour Sam")

	sub := newBrowser(t, s.URL)
	sub.get(s.mailTo(t, "sam@sub.test", "/invitations/")).must(http.StatusOK, "Client SA", "Envoyée")
	if strings.Contains(sub.url, "/invitations/") {
		t.Fatalf("the landing page kept the token in its URL: %s", sub.url)
	}
	sub.get("/signin").post("/signin/dev", url.Values{"name": {"Sam"}, "email": {"sam@sub.test"}}).must(http.StatusOK)
	// The link is still in the session: back to it, with the form to
	// create the organization on the subcontractor's side.
	createOrg(sub, "Sous-Traitant SARL", "subcontractor").must(http.StatusOK, "Client SA")
	sub.get("/welcome").must(http.StatusOK, "Client SA", "Bonjour Sam")
	m := regexp.MustCompile(`action="/answers/([0-9a-f-]{36})"[\s\S]*?<option value="([0-9a-f-]{36})"`).FindStringSubmatch(sub.body)
	if m == nil {
		t.Fatalf("no answer form in the window at sign-up:\n%s", sub.body)
	}
	sub.post("/answers/"+m[1], url.Values{"organization": {m[2]}, "answer": {"accept"}, "back": {"/welcome"}}).
		must(http.StatusOK, "Vous êtes dorénavant en relation avec Client SA", "Client SA")

	client.get("/o/"+client.org()+"/partners").must(http.StatusOK, "Sous-Traitant SARL")
	client.get("/o/"+client.org()+"/sent").must(http.StatusOK, "Validé", "Sous-Traitant SARL")
}

// Seed 000, second story: the subcontractor signed up with another email.
// The inviter sees "Envoyée" until the subcontractor takes the link,
// answers from "Clients" where the red badge shows, and accepts.
func TestSeed000DifferentEmail(t *testing.T) {
	s := startService(t, nil)
	client := newBrowser(t, s.URL).signIn("Claire Client", "claire@client.test")
	createOrg(client, "Client SA", "client")
	invite(client, "contact@sub.test", "Sam", "")

	sub := newBrowser(t, s.URL).signIn("Sam", "sam.perso@other.test")
	sub.get("/welcome").must(http.StatusOK, "Aucune invitation")
	createOrg(sub, "Sous-Traitant SARL", "subcontractor")
	subOrg := sub.org()
	if badgeCount(sub) != "0" {
		t.Fatalf("badge before the claim: %s", badgeCount(sub))
	}
	sub.get(s.mailTo(t, "contact@sub.test", "/invitations/")).must(http.StatusOK, "Client SA")
	sub.post("/link/partner", url.Values{"organization": {subOrg}, "answer": {"claim"}}).
		must(http.StatusOK, "Mes invitations", "Client SA")
	if got := badgeCount(sub); got != "1" {
		t.Fatalf("badge after the claim: %s, want 1", got)
	}
	client.get("/o/"+client.org()+"/sent").must(http.StatusOK, "Envoyée", "Sous-Traitant SARL")

	id := regexp.MustCompile(`action="/answers/([0-9a-f-]{36})"`).FindStringSubmatch(sub.body)[1]
	sub.post("/answers/"+id, url.Values{"organization": {subOrg}, "answer": {"accept"}, "back": {"/o/" + subOrg + "/received"}}).
		must(http.StatusOK, "Client SA")
	if got := badgeCount(sub); got != "0" {
		t.Fatalf("badge after accepting: %s, want 0", got)
	}
	client.get("/o/"+client.org()+"/sent").must(http.StatusOK, "Validé")
	client.get("/o/"+client.org()+"/partners").must(http.StatusOK, "Sous-Traitant SARL")
}

// Seed 004: a provider invites a client with contact details and a
// message; the client accepts in "Meine Einladungen"; both see each other,
// with the details pane and its contacts.
func TestSeed004(t *testing.T) {
	s := startService(t, nil)
	prov := newBrowser(t, s.URL).signIn("Paul Provider", "paul@anbieter.test")
	createOrg(prov, "Anbieter GmbH", "subcontractor")
	provOrg := prov.org()
	invite(prov, "karl@kunde.test", "Karl", "Servus")
	prov.get("/o/"+provOrg+"/sent").must(http.StatusOK, "Karl", "ACME", "33612345678")

	kunde := newBrowser(t, s.URL).signIn("Karl", "karl@kunde.test")
	createOrg(kunde, "Kunde AG", "client")
	kOrg := kunde.org()
	kunde.get("/o/"+kOrg+"/received").must(http.StatusOK, "Anbieter GmbH", "Servus")
	id := regexp.MustCompile(`action="/answers/([0-9a-f-]{36})"`).FindStringSubmatch(kunde.body)[1]
	kunde.post("/answers/"+id, url.Values{"organization": {kOrg}, "answer": {"accept"}, "back": {"/o/" + kOrg + "/received"}}).
		must(http.StatusOK, "Anbieter GmbH")

	kunde.get("/o/"+kOrg+"/partners?q=anbieter").must(http.StatusOK, "Anbieter GmbH")
	kunde.get("/o/"+kOrg+"/partners?partner="+provOrg).must(http.StatusOK, `id="details"`, "paul@anbieter.test")
	prov.get("/o/"+provOrg+"/partners?partner="+kOrg).must(http.StatusOK, `id="details"`, "karl@kunde.test")
	prov.get("/o/"+provOrg+"/sent").must(http.StatusOK, "Validé")
	// No way to end the partnership: no form for it.
	if strings.Contains(prov.body, "/partners/"+kOrg+"/delete") {
		t.Fatal("a partnership can be ended")
	}
}

// A form without the session's token is refused; a landing page says no
// Referer; an outsider gets nothing of an organization.
func TestGuards(t *testing.T) {
	s := startService(t, nil)
	a := newBrowser(t, s.URL).signIn("Alice", "alice@a.test")
	createOrg(a, "A", "client")
	org := a.org()
	a.post("/o/"+org+"/invite", url.Values{"csrf": {"forged"}, "email": {"x@y.test"}}).must(http.StatusForbidden)

	other := newBrowser(t, s.URL).signIn("Eve", "eve@e.test")
	other.get("/o/" + org + "/partners").must(http.StatusNotFound)

	req, _ := http.NewRequest(http.MethodGet, s.URL+"/invitations/sometoken", nil)
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/link" || res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("landing: %d %q %q", res.StatusCode, res.Header.Get("Location"), res.Header.Get("Referrer-Policy"))
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script") {
		t.Fatalf("CSP: %q", csp)
	}
	newBrowser(t, s.URL).get("/invitations/unknown-token").must(http.StatusOK, "id=\"link-invalid\"")

	// Sign out everywhere ends the other session too.
	a2 := newBrowser(t, s.URL).signIn("Alice", "alice@a.test")
	a.get("/").post("/signout/everywhere", url.Values{})
	a2.get("/o/"+org+"/partners").must(http.StatusOK, "Connexion")
}
