package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// History through the pages: the audit timeline filtered and exported, the
// panel, invitations and members as of an instant with the banner that
// says it is the past, and the "why?" pages beside members and watchers.
func TestHistory(t *testing.T) {
	s := startService(t, nil)
	owner := newBrowser(t, s.URL).signIn("Olga Owner", "olga@org.test")
	createOrg(owner, "Org SA", "client")
	org := owner.org()
	invite(owner, "sam@sub.test", "Sam", "")
	team := "/o/" + org + "/settings/team"
	owner.get(team).post(team+"/invite", url.Values{"email": {"adam@org.test"}, "role": {"admin"}}).must(http.StatusOK)
	adam := newBrowser(t, s.URL)
	adam.get(s.mailTo(t, "adam@org.test", "/member-invitations/"))
	adam.get("/signin").post("/signin/dev", url.Values{"name": {"Adam"}, "email": {"adam@org.test"}})
	adam.post("/link/join", url.Values{}).must(http.StatusOK, "Vous avez rejoint Org SA")
	// Adam, an admin, reads the history too.
	adam.get("/o/"+org+"/history").must(http.StatusOK, `id="timeline"`)

	before := time.Now().UTC()
	owner.get(team).post(team+"/remove", url.Values{"user": {s.devUser("adam@org.test")}}).must(http.StatusOK, "Retiré")
	if strings.Contains(owner.body, "adam@org.test") {
		t.Fatal("Adam is still on the team page")
	}
	s.Clock.Advance(time.Hour) // the web app's clock: "before" is in its past

	// The timeline, its kind filter and its exports.
	history := "/o/" + org + "/history"
	owner.get(team).must(http.StatusOK, `id="tab-history"`)
	owner.get(history).must(http.StatusOK, "OrganizationCreated", "MemberInvitationSent", "MemberRemoved", "InvitationSent", "olga@org.test",
		`href="/o/`+org+`/history/export?format=csv"`, `href="/o/`+org+`/history/export?format=jsonl"`)
	owner.get(history+"?kind=invitation").must(http.StatusOK, "InvitationSent")
	if strings.Contains(owner.body, "MemberRemoved") {
		t.Fatal("the partner invitations' filter lists a member's removal")
	}
	owner.get(history+"/export?format=csv").must(http.StatusOK, "position,occurred_at,type,actor_user_id,actor_email,stream,data", "MemberRemoved")
	owner.get(history+"/export?format=jsonl").must(http.StatusOK, `"type":"MemberRemoved"`)

	// As of before the removal: Adam was a member, Sam's invitation sent;
	// the page says it is the past.
	owner.get(history+"/asof?at="+url.QueryEscape(before.Format(time.RFC3339Nano))).
		must(http.StatusOK, `id="asof-banner"`, "c&#39;est le passé", `id="asof-members"`, "adam@org.test", `id="asof-sent"`, "sam@sub.test")
	owner.get(history+"/asof?at="+url.QueryEscape(time.Now().Add(48*time.Hour).UTC().Format("2006-01-02T15:04"))).
		must(http.StatusOK, "l&#39;avenir n&#39;est pas encore enregistré")
	if strings.Contains(owner.body, `id="asof-banner"`) {
		t.Fatal("a future instant got a banner")
	}

	// "why?" beside each member: Adam's access history, given and ended.
	owner.get(team).must(http.StatusOK, `href="/o/`+org+`/history/member?user=dev%7c`+strings.TrimPrefix(s.devUser("olga@org.test"), "dev|")+`"`)
	owner.get(history+"/member?user="+url.QueryEscape(s.devUser("adam@org.test"))).must(http.StatusOK, `id="member-history"`, "administrateur", "Retiré par")
	if !strings.Contains(owner.body, "olga") {
		t.Fatalf("the member history names nobody:\n%s", owner.body)
	}

	// "why?" beside each watcher: who could see the contract.
	clients, contracts := "/o/"+org+"/portal/clients", "/o/"+org+"/portal/contracts"
	for _, u := range [][3]string{{"anna@acme.test", "Anna", "ACME"}, {"emma@acme.test", "Emma", "ACME"}} {
		owner.get(clients).post(clients, url.Values{"email": {u[0]}, "name": {u[1]}, "company": {u[2]}}).must(http.StatusOK)
	}
	anna, emma := portalUserID(t, owner, "anna@acme.test"), portalUserID(t, owner, "emma@acme.test")
	owner.get(contracts).post(contracts, url.Values{"contract_id": {"C-1"}, "title": {"Maintenance"}, "requester": {anna}, "watchers": {emma}}).
		must(http.StatusOK, `href="/o/`+org+`/history/contract?id=C-1"`)
	owner.get(history+"/contract?id=C-1").must(http.StatusOK, `id="contract-access"`, "Anna", "Emma", "watcher", "requester")

	// A member has no history: no tab, and the pages refuse.
	owner.get(team).post(team+"/invite", url.Values{"email": {"mia@org.test"}, "role": {"member"}}).must(http.StatusOK)
	mia := newBrowser(t, s.URL)
	mia.get(s.mailTo(t, "mia@org.test", "/member-invitations/"))
	mia.get("/signin").post("/signin/dev", url.Values{"name": {"Mia"}, "email": {"mia@org.test"}})
	mia.post("/link/join", url.Values{}).must(http.StatusOK)
	mia.get("/o/" + org + "/partners").must(http.StatusOK)
	if strings.Contains(mia.body, "tab-history") || strings.Contains(mia.body, "/history/member") {
		t.Fatal("a member sees the history")
	}
	for _, p := range []string{"", "/asof", "/export?format=csv", "/member?user=x", "/contract?id=C-1"} {
		mia.get(history + p).must(http.StatusForbidden)
	}
}
