//go:build browser

package web_test

// Seeds 001, 002 and 003 clicked through in Chromium: the owner, the
// accountant, the collaborator and the person asking to collaborate each
// in their own browser, axe-core and a screenshot on every page.

import (
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func (p *person) fill(sel, text string) {
	p.t.Helper()
	p.run(chromedp.SendKeys(sel, text, chromedp.ByQuery))
}

func TestBrowserSettingsStories(t *testing.T) {
	s, axe, out := browserEnv(t)
	n := 100

	owner := newPerson(t, "owner", s.URL, axe, out, &n)
	owner.signIn("Olga Owner", "olga@bureau.test", "s-owner")
	owner.run(chromedp.SendKeys("#org-siret", "73282932000074", chromedp.ByQuery))
	owner.createOrg("Bureau SA", "client", "s-owner-panel")

	// Seed 001: Settings → Client portal → Manage clients; three portal
	// users; a watcher of another company refused with the link back to
	// Manage clients; shared with a watcher of the requester's company.
	owner.run(navigate("#tab-settings", "#members"), navigate("#settings-portal", "#add-portal-user"))
	owner.page("s001-manage-clients-empty")
	for _, u := range [][3]string{{"anna@acme.test", "Anna", "ACME"}, {"emma@acme.test", "Emma", "ACME"}, {"carla@other.test", "Carla", "Other"}} {
		owner.fill("#pu-email", u[0])
		owner.fill("#pu-name", u[1])
		owner.fill("#pu-company", u[2])
		owner.run(navigate("#add-portal-user button[type=submit]", "#portal-users"))
	}
	owner.page("s001-manage-clients")
	owner.run(navigate("#tab-portal", "#show"))
	owner.page("s001-show-in-portal-form")
	owner.fill("#ct-id", "C-1")
	owner.fill("#ct-title", "Maintenance 2024")
	owner.run(chromedp.Click(`//label[contains(., "Emma")]`, chromedp.BySearch), chromedp.Click(`//label[contains(., "Carla")]`, chromedp.BySearch),
		chromedp.Click("#ct-attachments", chromedp.ByQuery), navigate("#show button[type=submit]", "#mismatch"))
	owner.page("s001-company-mismatch")
	owner.sees("#mismatch", "même entreprise")
	owner.run(navigate("#manage-clients", "#portal-users"))
	owner.run(navigate("#tab-portal", "#show"))
	owner.fill("#ct-id", "C-1")
	owner.fill("#ct-title", "Maintenance 2024")
	owner.run(chromedp.Click(`//label[contains(., "Emma")]`, chromedp.BySearch), chromedp.Click("#ct-attachments", chromedp.ByQuery),
		navigate("#show button[type=submit]", "#shown"))
	owner.page("s001-contract-shown")
	owner.sees("#shown", "Emma")
	owner.sees("#shown", "visibles")
	owner.run(chromedp.Navigate(s.URL+"/o/"+orgOf(t, owner)+"/portal/clients"), chromedp.WaitVisible("#portal-users", chromedp.ByQuery),
		navigate(`#portal-users tbody tr:nth-child(2) td:last-child a`, "#user-contracts"))
	owner.page("s001-watcher-contracts-page")
	owner.sees("#user-contracts", "observateur")

	// Seed 002: accountant access granted with a message; the accountant
	// takes the link in their own browser, lists the organizations they
	// serve and opens this one: no settings link anywhere.
	owner.run(navigate("#tab-settings", "#members"), navigate("#settings-accountants", "#grant"))
	owner.page("s002-accountant-access-empty")
	owner.fill("#acc-email", "compta@cabinet.test")
	owner.fill("#acc-message", "Bonjour, voici l'accès à nos documents.")
	owner.run(navigate("#grant button[type=submit]", "#accountants"))
	owner.page("s002-accountant-pending")
	owner.sees("#accountants", "En attente")
	acc := newPerson(t, "accountant", s.URL, axe, out, &n)
	acc.run(chromedp.Navigate(s.mailTo(t, "compta@cabinet.test", "/accountant-invitations/")), chromedp.WaitVisible("#link", chromedp.ByQuery))
	acc.page("s002-accountant-landing")
	acc.signIn("Cabinet Compta", "compta@cabinet.test", "s002-accountant")
	acc.run(navigate("#answer-link button", ".flash"))
	acc.run(navigate("#nav-accounting", "#served"))
	acc.page("s002-organizations-served")
	acc.run(navigate("#served a", "#partners-empty"))
	acc.page("s002-accountant-reads")
	var links []string
	acc.run(chromedp.Evaluate(`[...document.querySelectorAll('a')].map(a => a.getAttribute('href')).filter(h => h.includes('/settings') || h.includes('/collaborators'))`, &links))
	if len(links) > 0 {
		t.Fatalf("the accountant sees settings links: %v", links)
	}
	owner.run(chromedp.Reload(), chromedp.WaitVisible("#accountants", chromedp.ByQuery))
	owner.page("s002-accountant-granted")
	owner.sees("#accountants", "Accordé")

	// Seed 003: "Mes collaborateurs", empty; a collaborator account with
	// the seed's fields, activated by Léa; Paul asks by SIRET, the badge
	// shows, the owner approves choosing the two permissions.
	owner.run(navigate("#tab-collaborators", "#ask"))
	owner.page("s003-my-collaborators-empty")
	owner.sees("#collaborators-empty", "Vous n'avez aucun collaborateur.")
	owner.run(navigate("#create-link", "#create-collaborator"))
	owner.page("s003-create-collaborator")
	owner.fill("#cb-first", "Léa")
	owner.fill("#cb-last", "Martin")
	owner.fill("#cb-email", "lea@bureau.test")
	owner.fill("#cb-phone", "06 11 22 33 44")
	owner.run(chromedp.Click("#cb-buy", chromedp.ByQuery), navigate("#create-collaborator button[type=submit]", "#pending"))
	owner.page("s003-pending-account")
	lea := newPerson(t, "collaborator", s.URL, axe, out, &n)
	lea.run(chromedp.Navigate(s.mailTo(t, "lea@bureau.test", "/collaborators/activate/")), chromedp.WaitVisible("#link", chromedp.ByQuery))
	lea.page("s003-activation-landing")
	lea.signIn("Léa Martin", "lea@bureau.test", "s003-collaborator")
	lea.run(navigate("#answer-link button", ".flash"))
	lea.page("s003-collaborator-in")

	paul := newPerson(t, "requester", s.URL, axe, out, &n)
	paul.signIn("Paul", "paul@freelance.test", "s003-requester")
	paul.run(navigate("#nav-requests", "#ask"))
	paul.fill("#ask-target", "73282932000074")
	paul.run(navigate("#ask button[type=submit]", "#my-requests"))
	paul.page("s003-my-requests-pending")
	paul.sees("#my-requests", "En attente")

	owner.run(chromedp.Reload(), chromedp.WaitVisible("#incoming", chromedp.ByQuery))
	owner.page("s003-incoming-request-badge")
	var badge string
	owner.run(chromedp.Text("#tab-collaborators .badge", &badge, chromedp.ByQuery))
	if strings.TrimSpace(badge) != "1" {
		t.Fatalf("requests badge: %q, want 1", badge)
	}
	owner.run(chromedp.Click(`#incoming input[name="can_see_all_orders"]`, chromedp.ByQuery), navigate(`#incoming button[type=submit]`, "#collaborators"))
	owner.page("s003-collaborators-list")
	owner.sees("#collaborators", "paul@freelance.test")
	owner.sees("#collaborators", "lea@bureau.test")
	paul.run(chromedp.Reload(), chromedp.WaitVisible("#my-requests", chromedp.ByQuery))
	paul.page("s003-my-requests-approved")
	paul.sees("#my-requests", "Bureau SA")

	// The team: the last owner cannot be removed, and the page says why.
	owner.run(navigate("#tab-settings", "#members"))
	owner.page("team-last-owner")
	owner.sees("#last-owner", "dernier propriétaire")
}

var orgPathRe = regexp.MustCompile(`/o/([0-9a-f-]{36})/`)

// orgOf is the organization of the page the person is on.
func orgOf(t *testing.T, p *person) string {
	t.Helper()
	var loc string
	p.run(chromedp.Location(&loc))
	m := orgPathRe.FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("not on an organization's page: %s", loc)
	}
	return m[1]
}
