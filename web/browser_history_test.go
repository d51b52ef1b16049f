//go:build browser

package web_test

// History and the operator console clicked through in Chromium: the owner
// reads the timeline, filters it, picks an instant before a colleague left
// and sees the banner, follows "why?"; the operator rebuilds a read model
// and watches the self-reloading page to the end, verifies, browses a
// stream. axe-core and a screenshot on every page.

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestBrowserHistoryAndConsole(t *testing.T) {
	s, axe, out := browserEnv(t)
	n := 200

	owner := newPerson(t, "owner", s.URL, axe, out, &n)
	owner.signIn("Olga Owner", "olga@org.test", "h-owner")
	owner.createOrg("Org SA", "client", "h-owner-panel")
	org := orgOf(t, owner)
	owner.invite("sam@sub.test", "Sam", "Bonjour", "Envoyée", "h-owner-invite")
	owner.run(navigate("#tab-settings", "#members"))
	owner.fill("#col-email", "adam@org.test")
	owner.run(chromedp.SetValue("#col-role", "admin", chromedp.ByQuery), navigate("#invite-colleague button[type=submit]", ".flash"))
	adam := newPerson(t, "adam", s.URL, axe, out, &n)
	adam.run(chromedp.Navigate(s.mailTo(t, "adam@org.test", "/member-invitations/")), chromedp.WaitVisible("#link", chromedp.ByQuery))
	adam.signIn("Adam", "adam@org.test", "h-adam")
	adam.run(navigate("#answer-link button", ".flash"))
	before := time.Now().UTC().Add(time.Second).Truncate(time.Second)
	time.Sleep(1100 * time.Millisecond) // the instant picked must fall between the join and the removal, to the second
	s.Clock.Advance(time.Hour)
	owner.run(chromedp.Reload(), chromedp.WaitVisible("#members", chromedp.ByQuery),
		navigate(`#members form[action$="/remove"] button[aria-label$="adam@org.test"]`, ".flash"))
	owner.page("h-team-why-links")

	// The timeline, filtered by kind.
	owner.run(navigate("#tab-history", "#timeline"))
	owner.page("h-timeline")
	owner.sees("#timeline", "MemberRemoved")
	owner.run(chromedp.SetValue("#kind", "invitation", chromedp.ByQuery), navigate("#kind-filter button", "#timeline"))
	owner.page("h-timeline-invitations")
	if strings.Contains(owner.text("#timeline"), "MemberRemoved") {
		t.Fatal("the filter kept a member's removal")
	}

	// As of an instant before Adam left: the banner says it is the past.
	owner.run(navigate("#history-asof", "#asof-form"))
	owner.page("h-asof-form")
	owner.run(chromedp.SetValue("#asof-at", before.Format("2006-01-02T15:04:05"), chromedp.ByQuery), navigate("#asof-form button", "#asof-banner"))
	owner.page("h-asof-past")
	owner.sees("#asof-banner", "c'est le passé")
	owner.sees("#asof-members", "adam@org.test")
	owner.sees("#asof-sent", "sam@sub.test")
	owner.run(navigate(`#asof-members a.why[aria-label$="adam@org.test"]`, "#member-history"))
	owner.page("h-why-member")
	owner.sees("#member-history", "administrateur")

	// The operator console: a rebuild followed to its end.
	op := newPerson(t, "operator", s.URL, axe, out, &n)
	op.run(chromedp.Navigate(s.URL + "/signin"))
	op.page("c-signin-operator")
	op.run(chromedp.SendKeys("#dev-name", "Otto", chromedp.ByQuery), chromedp.SendKeys("#dev-email", "otto@ops.test", chromedp.ByQuery),
		chromedp.Click("#dev-operator", chromedp.ByQuery), navigate(`form[action="/signin/dev"] button[type=submit]`, "main h1"))
	op.run(navigate("#nav-console", "#read-models"))
	op.page("c-read-models")
	// The page reloads itself (at the server's pace) until the rebuild is
	// done; axe-core runs on the page it ends on (a page about to reload
	// cannot be checked).
	op.run(chromedp.Click(`#model-partners button[aria-label$=": partners"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#model-partners [data-state="done"]`, chromedp.ByQuery))
	op.page("c-rebuild-done")
	op.run(navigate(`#model-partners form[action="/console/verify"] button`, "#verify"))
	op.page("c-verify")
	op.sees("#verify", "Aucune différence")
	op.run(navigate("#console-streams", "#stream-form"))
	op.fill("#stream-id", "organization-"+org)
	op.run(navigate("#stream-form button", "#stream-events"))
	op.page("c-stream")
	op.sees("#stream-events", "OrganizationCreated")
}
