//go:build browser

package web_test

// The seeds' stories clicked through in Debian's Chromium, two browsers at
// once (inviter and invitee), with axe-core on every page, a label check,
// keyboard sign-in and a screenshot of every page. Run with
// `go test -tags browser ./web/` (.ci/run does, without -race).

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// needs finds a tool the browser tests need: missing, they skip with the
// reason, except in CI, where they fail.
func needs(t *testing.T, what, path, hint string) string {
	t.Helper()
	if path != "" {
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	msg := fmt.Sprintf("%s not found (%s): %s", what, path, hint)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func chromiumPath() string {
	if p := os.Getenv("PARTNERS_CHROMIUM"); p != "" {
		return p
	}
	p, _ := exec.LookPath("chromium")
	return p
}

func axePath() string {
	if p := os.Getenv("PARTNERS_AXE_JS"); p != "" {
		return p
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "partners-ci", "node_modules", "axe-core", "axe.min.js")
}

// outputDir is where the screenshots go: PARTNERS_TEST_OUTPUT, else
// web/testoutput (ignored by git).
func outputDir(t *testing.T) string {
	dir := os.Getenv("PARTNERS_TEST_OUTPUT")
	if dir == "" {
		dir = "testoutput"
	}
	dir = filepath.Join(dir, "screens")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// person is one browser.
type person struct {
	t    *testing.T
	name string
	ctx  context.Context
	base string
	axe  string
	out  string
	n    *int
}

func newPerson(t *testing.T, name, base, axe, out string, n *int) *person {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath()), chromedp.NoSandbox, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900), chromedp.Flag("lang", "fr-FR"))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel3)
	p := &person{t: t, name: name, ctx: ctx, base: base, axe: axe, out: out, n: n}
	p.run(chromedp.Navigate(base + "/?lang=fr"))
	return p
}

func (p *person) run(actions ...chromedp.Action) {
	p.t.Helper()
	if err := chromedp.Run(p.ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

// page checks the page the person is on: no serious or critical axe-core
// violation, every field labelled, and a screenshot named for the step.
func (p *person) page(step string) {
	p.t.Helper()
	var violations []string
	var unlabelled int
	p.run(chromedp.WaitReady("body"),
		chromedp.Evaluate(p.axe, nil),
		chromedp.Evaluate(`axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
			.filter(v => v.impact === 'serious' || v.impact === 'critical')
			.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))`, &violations,
			func(e *runtime.EvaluateParams) *runtime.EvaluateParams { return e.WithAwaitPromise(true) }),
		chromedp.Evaluate(`[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
			.filter(e => !e.labels || e.labels.length === 0).length`, &unlabelled))
	if len(violations) > 0 {
		p.t.Errorf("%s, %s: accessibility violations:\n%s", p.name, step, strings.Join(violations, "\n"))
	}
	if unlabelled > 0 {
		p.t.Errorf("%s, %s: %d form fields without a label", p.name, step, unlabelled)
	}
	var png []byte
	p.run(chromedp.FullScreenshot(&png, 100))
	*p.n++
	file := filepath.Join(p.out, fmt.Sprintf("%02d-%s.png", *p.n, step))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func (p *person) text(sel string) string {
	p.t.Helper()
	var s string
	p.run(chromedp.Text(sel, &s, chromedp.ByQuery))
	return s
}

func (p *person) sees(sel, want string) {
	p.t.Helper()
	if got := p.text(sel); !strings.Contains(got, want) {
		p.t.Fatalf("%s: %s shows %q, want %q", p.name, sel, got, want)
	}
}

func (p *person) badge() string {
	p.t.Helper()
	var n []string
	p.run(chromedp.Evaluate(`[...document.querySelectorAll('#tab-received .badge')].map(e => e.textContent)`, &n))
	if len(n) == 0 {
		return "0"
	}
	return n[0]
}

// signIn uses the development form with the keyboard only: Tab from the
// name to the email, Enter to submit.
func (p *person) signIn(name, email string, step string) {
	p.t.Helper()
	p.run(chromedp.Navigate(p.base + "/signin"))
	p.page(step + "-signin")
	p.run(chromedp.Focus("#dev-name", chromedp.ByQuery), chromedp.KeyEvent(name), chromedp.KeyEvent("\t"),
		chromedp.KeyEvent(email), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible("main h1", chromedp.ByQuery))
}

func (p *person) createOrg(name, side, step string) {
	p.t.Helper()
	p.run(chromedp.SendKeys("#org-name", name, chromedp.ByQuery), chromedp.Click("#side-"+side, chromedp.ByQuery),
		navigate(`form.orgform button[type=submit]`, ".flash, #link"))
	p.page(step)
}

func (p *person) invite(email, name, message, sentLabel, step string) {
	p.t.Helper()
	p.run(navigate("#tab-invite", "#invite"))
	p.page(step + "-form")
	p.run(chromedp.SendKeys("#inv-email", email, chromedp.ByQuery), chromedp.SendKeys("#inv-name", name, chromedp.ByQuery),
		chromedp.SendKeys("#inv-company", "ACME", chromedp.ByQuery), chromedp.SendKeys("#inv-phone", "06 12 34 56 78", chromedp.ByQuery),
		chromedp.SendKeys("#inv-message", message, chromedp.ByQuery),
		navigate("#invite button[type=submit]", "#sent"))
	p.page(step + "-sent")
	p.sees("#sent", sentLabel)
}

// navigate clicks what loads another page and waits for that page (not
// the one still showing) to be loaded and to show wait.
func navigate(click, wait string) chromedp.Tasks {
	return chromedp.Tasks{chromedp.Evaluate(`document.body.setAttribute('data-stale', '1')`, nil), chromedp.Click(click, chromedp.ByQuery),
		chromedp.WaitNotPresent(`body[data-stale]`, chromedp.ByQuery), chromedp.WaitVisible(wait, chromedp.ByQuery)}
}

func browserEnv(t *testing.T) (*service, string, string) {
	needs(t, "chromium", chromiumPath(), "apt-get install chromium (.ci/run does)")
	axeFile := needs(t, "axe-core", axePath(), "npm install axe-core into the CI cache folder (.ci/run does)")
	axe, err := os.ReadFile(axeFile)
	if err != nil {
		t.Fatal(err)
	}
	return startService(t, nil), string(axe), outputDir(t)
}

// Seed 000, both stories, then seed 004: one service, three pairs.
func TestBrowserStories(t *testing.T) {
	s, axe, out := browserEnv(t)
	n := 0

	// Seed 000, second story: another email, the claim, the red badge on
	// "Clients", accepted; "Validé" for the client.
	client := newPerson(t, "client", s.URL, axe, out, &n)
	client.page("home")
	client.signIn("Claire Client", "claire@client.test", "client")
	client.page("client-welcome")
	client.createOrg("Client SA", "client", "client-panel-empty")
	client.invite("contact@sub.test", "Sam", "Bonjour, travaillons ensemble.", "Envoyée", "client-invite")

	sub := newPerson(t, "subcontractor", s.URL, axe, out, &n)
	sub.signIn("Sam", "sam.perso@other.test", "sub")
	sub.createOrg("Sous-Traitant SARL", "subcontractor", "sub-panel-empty")
	sub.run(chromedp.Navigate(s.mailTo(t, "contact@sub.test", "/invitations/")), chromedp.WaitVisible("#link", chromedp.ByQuery))
	var loc string
	sub.run(chromedp.Location(&loc))
	if strings.Contains(loc, "/invitations/") {
		t.Fatalf("the landing page kept the token in its URL: %s", loc)
	}
	sub.page("sub-landing")
	sub.sees("#link", "Client SA")
	sub.run(navigate(`button[value="claim"]`, "#received"))
	sub.page("sub-my-invitations-badge")
	if got := sub.badge(); got != "1" {
		t.Fatalf("red badge: %s, want 1", got)
	}
	sub.sees("#tab-panel", "Clients")
	client.run(navigate("#tab-sent", "#sent"))
	client.sees("#sent", "Envoyée")
	client.sees("#sent", "Sous-Traitant SARL")
	sub.run(navigate(`#received button[value="accept"]`, "#partners"))
	sub.page("sub-panel-clients")
	sub.sees(".flash", "Client SA")
	sub.sees("#partners", "Client SA")
	if got := sub.badge(); got != "0" {
		t.Fatalf("red badge after accepting: %s, want 0", got)
	}
	client.run(chromedp.Reload(), chromedp.WaitVisible("#sent", chromedp.ByQuery))
	client.page("client-sent-validated")
	client.sees("#sent", "Validé")
	client.run(navigate("#tab-panel", "#partners"))
	client.page("client-panel-subcontractors")
	client.sees("#partners", "Sous-Traitant SARL")

	// Seed 000, first story: the invited email signs up; the window at
	// sign-up offers the invitation.
	client.invite("marc@maconnerie.test", "Marc", "", "Envoyée", "client-invite-2")
	marc := newPerson(t, "marc", s.URL, axe, out, &n)
	marc.run(chromedp.Navigate(s.mailTo(t, "marc@maconnerie.test", "/invitations/")), chromedp.WaitVisible("#link", chromedp.ByQuery))
	marc.page("marc-landing-signed-out")
	marc.signIn("Marc", "marc@maconnerie.test", "marc")
	marc.page("marc-landing-create-org")
	marc.createOrg("Maçonnerie Marc", "subcontractor", "marc-landing-answer")
	marc.run(chromedp.Navigate(s.URL+"/welcome"), chromedp.WaitVisible("main h1", chromedp.ByQuery))
	marc.page("marc-window-at-signup")
	marc.run(navigate(`button[value="accept"]`, "#partners"))
	marc.sees("#partners", "Client SA")

	// Seed 004: the provider's side, in German, invites a client with
	// contact details; the client accepts in "Meine Einladungen"; both see
	// each other and the details pane with its contacts.
	prov := newPerson(t, "provider", s.URL, axe, out, &n)
	prov.run(chromedp.Navigate(s.URL + "/?lang=de"))
	prov.signIn("Paul Provider", "paul@anbieter.test", "provider")
	prov.createOrg("Anbieter GmbH", "subcontractor", "provider-panel-empty")
	prov.sees("#tab-panel", "Kunden")
	prov.invite("karl@kunde.test", "Karl", "Servus Karl", "Gesendet", "provider-invite")
	kunde := newPerson(t, "kunde", s.URL, axe, out, &n)
	kunde.run(chromedp.Navigate(s.URL + "/?lang=de"))
	kunde.signIn("Karl", "karl@kunde.test", "kunde")
	kunde.createOrg("Kunde AG", "client", "kunde-panel-empty")
	kunde.run(navigate("#tab-received", "#received"))
	kunde.page("kunde-meine-einladungen")
	if got := kunde.badge(); got != "1" {
		t.Fatalf("badge: %s, want 1", got)
	}
	kunde.run(navigate(`#received button[value="accept"]`, "#partners"))
	kunde.run(navigate(`#partners a`, "#details"))
	kunde.page("kunde-details-pane")
	kunde.sees("#contacts", "paul@anbieter.test")
	prov.run(navigate("#tab-sent", "#sent"))
	prov.sees("#sent", "Angenommen")
	prov.run(navigate("#tab-panel", "#partners"),
		navigate(`#partners a`, "#details"))
	prov.page("provider-details-pane")
	prov.sees("#contacts", "karl@kunde.test")
}
