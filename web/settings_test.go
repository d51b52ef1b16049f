package web_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Part 2's stories through the pages' forms: the client portal (seed 001),
// accountant access (seed 002), collaborators (seed 003) and the team.

// mailedTo waits for an email to addr that says what.
func mailedTo(t *testing.T, s *service, addr, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(s.MailDir, "*.eml"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			text := strings.ToLower(string(b))
			if strings.Contains(text, "to: <"+addr+">") && strings.Contains(text, strings.ToLower(what)) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond) // polling a folder another process writes: no event to wait on
	}
	t.Fatalf("no email to %s saying %q", addr, what)
}

// portalUserID finds a portal user's id by its email on Manage clients.
func portalUserID(t *testing.T, b *browser, email string) string {
	t.Helper()
	m := regexp.MustCompile(`<td>` + regexp.QuoteMeta(email) + `</td>\s*<td[^>]*><form method="post" action="/o/[0-9a-f-]{36}/portal/clients/([0-9a-f-]{36})"`).FindStringSubmatch(b.body)
	if m == nil {
		t.Fatalf("no portal user %s on the page:\n%s", email, b.body)
	}
	return m[1]
}

// Seed 001: portal users with their company; a contract shown with a
// requester, a watcher of the same company and the attachments switch; a
// watcher of another company refused with the link to Manage clients; the
// requester's and the watcher's Contracts pages; the emails.
func TestSeed001Portal(t *testing.T) {
	s := startService(t, nil)
	owner := newBrowser(t, s.URL).signIn("Olga Owner", "olga@bureau.test")
	createOrg(owner, "Bureau SA", "client")
	org := owner.org()
	clients := "/o/" + org + "/portal/clients"
	owner.get(clients).must(http.StatusOK, "Gérer les clients", "Aucun utilisateur du portail client")
	for _, u := range [][3]string{{"anna@acme.test", "Anna", "ACME"}, {"emma@acme.test", "Emma", "ACME"}, {"carla@other.test", "Carla", "Other"}} {
		owner.post(clients, url.Values{"email": {u[0]}, "name": {u[1]}, "company": {u[2]}}).must(http.StatusOK, u[1]+" ajouté")
	}
	anna, emma, carla := portalUserID(t, owner, "anna@acme.test"), portalUserID(t, owner, "emma@acme.test"), portalUserID(t, owner, "carla@other.test")

	contracts := "/o/" + org + "/portal/contracts"
	owner.get(contracts).must(http.StatusOK, "Afficher dans le portail client", "Aucun contrat")
	// A watcher of another company: refused, and the page links to Manage clients.
	owner.post(contracts, url.Values{"contract_id": {"C-1"}, "title": {"Maintenance 2024"}, "requester": {anna}, "watchers": {emma, carla}}).
		must(http.StatusOK, `id="mismatch"`, `href="/o/`+org+`/portal/clients"`, "même entreprise")
	owner.post(contracts, url.Values{"contract_id": {"C-1"}, "title": {"Maintenance 2024"}, "requester": {anna}, "watchers": {emma}, "attachments": {"on"}}).
		must(http.StatusOK, "Maintenance 2024 est affiché dans le portail client", `id="shown"`, "Emma", "visibles")
	mailedTo(t, s, "anna@acme.test", "Maintenance 2024")
	mailedTo(t, s, "emma@acme.test", "Maintenance 2024")

	owner.get(clients+"/"+anna+"/contracts").must(http.StatusOK, "Maintenance 2024", "demandeur", "visibles")
	owner.get(clients+"/"+emma+"/contracts").must(http.StatusOK, "Maintenance 2024", "observateur")
	owner.get(clients+"/"+carla+"/contracts").must(http.StatusOK, "Aucun contrat n&#39;est partagé")

	// The switch, then Carla moved to ACME: now she may watch.
	owner.post(contracts+"/attachments", url.Values{"contract_id": {"C-1"}, "visible": {"false"}}).must(http.StatusOK, "non visibles")
	owner.get(clients).post(clients+"/"+carla, url.Values{"name": {"Carla"}, "company": {"ACME"}}).must(http.StatusOK, "Carla enregistré")
	owner.post(contracts, url.Values{"contract_id": {"C-1"}, "title": {"Maintenance 2024"}, "requester": {anna}, "watchers": {emma, carla}}).
		must(http.StatusOK, "est affiché")
	owner.get(clients+"/"+carla+"/contracts").must(http.StatusOK, "Maintenance 2024", "observateur")
	owner.get(contracts).post(contracts+"/withdraw", url.Values{"contract_id": {"C-1"}}).must(http.StatusOK, "Retiré du portail client", "Aucun contrat")
}

// Seed 002: the owner grants accountant access with a message; pending,
// then granted; the accountant lists the organizations they serve and
// opens one with no settings link at all; revoked, they get nothing.
func TestSeed002Accountant(t *testing.T) {
	s := startService(t, nil)
	owner := newBrowser(t, s.URL).signIn("Alwin", "alwin@alwaysclean.test")
	createOrg(owner, "Always clean", "subcontractor")
	org := owner.org()
	page := "/o/" + org + "/settings/accountants"
	owner.get("/o/"+org+"/settings/team").must(http.StatusOK, `id="settings-accountants"`)
	owner.get(page).must(http.StatusOK, "Accès comptable", "Aucun accès comptable").
		post(page, url.Values{"email": {"compta@cabinet.test"}, "message": {"Bonjour, voici l'accès."}}).must(http.StatusOK, "compta@cabinet.test", "En attente")

	acc := newBrowser(t, s.URL)
	acc.get(s.mailTo(t, "compta@cabinet.test", "/accountant-invitations/")).must(http.StatusOK, "Always clean")
	acc.get("/signin").post("/signin/dev", url.Values{"name": {"Cabinet Compta"}, "email": {"compta@cabinet.test"}}).must(http.StatusOK, `action="/link/join"`)
	acc.post("/link/join", url.Values{}).must(http.StatusOK, "Vous avez rejoint Always clean")
	acc.get("/accounting").must(http.StatusOK, "Always clean", `href="/o/`+org+`/partners"`)
	acc.get("/o/"+org+"/partners").must(http.StatusOK, "Clients")
	for _, absent := range []string{"/settings/", "tab-settings", "tab-collaborators", "tab-invite"} {
		if strings.Contains(acc.body, absent) {
			t.Fatalf("the accountant's page links to %s:\n%s", absent, acc.body)
		}
	}
	acc.get("/o/"+org+"/portal/contracts").must(http.StatusOK, "Contrats du portail client")
	if strings.Contains(acc.body, `id="show"`) {
		t.Fatal("the accountant may show contracts")
	}
	acc.get("/o/" + org + "/settings/team").must(http.StatusForbidden)
	acc.get(page).must(http.StatusForbidden)

	owner.get(page).must(http.StatusOK, "Cabinet Compta", "Accordé")
	owner.post(page+"/revoke", url.Values{"user": {s.devUser("compta@cabinet.test")}}).must(http.StatusOK, "Retiré", "Aucun accès comptable")
	acc.get("/o/" + org + "/partners").must(http.StatusNotFound)
	acc.get("/accounting").must(http.StatusOK, "comptable d&#39;aucune entreprise")
}

var requestForm = regexp.MustCompile(`action="(/o/[0-9a-f-]{36}/collaborators/requests/[0-9a-f-]{36})/approve"`)

// Seed 003: the empty state; an account created with the seed's fields,
// pending (resend, withdraw), activated; a request by SIRET and one by
// email, the badge, approved with two permissions, rejected; the switches.
func TestSeed003Collaborators(t *testing.T) {
	s := startService(t, nil)
	owner := newBrowser(t, s.URL).signIn("Eric EMS", "eric@emsproto.test")
	owner.get("/welcome").post("/organizations", url.Values{"name": {"EMS Proto"}, "side": {"client"}, "siret": {"73282932000074"}, "next": {"welcome"}}).must(http.StatusOK)
	org := owner.org()
	page := "/o/" + org + "/collaborators"
	owner.get(page).must(http.StatusOK, "Mes collaborateurs", "Vous n&#39;avez aucun collaborateur.", "Créer un compte collaborateur", "Faire une demande de collaboration")
	owner.get(page+"/new").must(http.StatusOK, "Prénom", "Nom", "E-mail", "Numéro de téléphone", "Il peut acheter ?", "Il peut voir toutes les commandes").
		post(page, url.Values{"first_name": {"Léa"}, "last_name": {"Martin"}, "email": {"lea@emsproto.test"}, "phone": {"06 11 22 33 44"}, "can_purchase": {"on"}}).
		must(http.StatusOK, "Compte créé", "lea@emsproto.test", "Comptes pas encore activés")
	first := s.mailTo(t, "lea@emsproto.test", "/collaborators/activate/")
	id := regexp.MustCompile(`/collaborators/invitations/([0-9a-f-]{36})/resend`).FindStringSubmatch(owner.body)[1]
	owner.post(page+"/invitations/"+id+"/resend", url.Values{}).must(http.StatusOK, "Nouveau lien")

	lea := newBrowser(t, s.URL)
	lea.get(first).must(http.StatusOK, `id="link-invalid"`)
	second := s.URL + regexp.MustCompile(`/collaborators/activate/[A-Za-z0-9_-]+`).FindString(owner.body)
	lea.get(second).must(http.StatusOK, "EMS Proto")
	lea.get("/signin").post("/signin/dev", url.Values{"name": {"Léa Martin"}, "email": {"lea@emsproto.test"}}).must(http.StatusOK)
	lea.post("/link/join", url.Values{}).must(http.StatusOK, "Vous avez rejoint EMS Proto")
	owner.get(page).must(http.StatusOK, `id="collaborators"`, "lea@emsproto.test", "Aucun compte en attente")

	// Two requests: by SIRET and by the owner's email; the badge counts them.
	paul := newBrowser(t, s.URL).signIn("Paul", "paul@freelance.test")
	paul.get("/collaboration-requests").must(http.StatusOK, "Siret ou Email du compte").
		post("/collaboration-requests", url.Values{"target": {"732 829 320 00074"}}).must(http.StatusOK, "Votre demande est enregistrée", "En attente")
	nina := newBrowser(t, s.URL).signIn("Nina", "nina@freelance.test")
	nina.get("/collaboration-requests").post("/collaboration-requests", url.Values{"target": {"eric@emsproto.test"}}).must(http.StatusOK, "eric@emsproto.test", "En attente")
	// A target that matches nobody answers the same.
	nina.post("/collaboration-requests", url.Values{"target": {"nobody@nowhere.test"}}).must(http.StatusOK, "Votre demande est enregistrée", "nobody@nowhere.test")

	owner.get(page).must(http.StatusOK, "Paul", "Nina")
	if got := badgeCount(owner); got != "2" {
		t.Fatalf("requests badge: %s, want 2", got)
	}
	forms := requestForm.FindAllStringSubmatch(owner.body, -1)
	if len(forms) != 2 {
		t.Fatalf("%d request forms, want 2", len(forms))
	}
	owner.post(forms[0][1]+"/approve", url.Values{"can_see_all_orders": {"on"}}).must(http.StatusOK, "Demande acceptée")
	owner.post(forms[1][1]+"/reject", url.Values{}).must(http.StatusOK, "Demande refusée", "Aucune demande de collaboration en attente")
	paul.get("/collaboration-requests").must(http.StatusOK, "Acceptée", "EMS Proto")
	nina.get("/collaboration-requests").must(http.StatusOK, "Refusée", "En attente")

	// The switches: Léa may no longer buy, may see all orders.
	owner.get(page).post(page+"/permissions", url.Values{"user": {s.devUser("lea@emsproto.test")}, "can_see_all_orders": {"on"}}).must(http.StatusOK, "Enregistré")
	if !regexp.MustCompile(`name="can_purchase">`).MatchString(owner.body) {
		t.Fatalf("a collaborator's purchase switch is still on:\n%s", owner.body)
	}
	owner.post(page+"/remove", url.Values{"user": {s.devUser("paul@freelance.test")}}).must(http.StatusOK, "Retiré")
	if strings.Contains(owner.body, "paul@freelance.test") {
		t.Fatal("Paul is still listed")
	}
}

// The team: invite an admin and a member, change a role; the last owner
// cannot be removed, and the page says why.
func TestTeam(t *testing.T) {
	s := startService(t, nil)
	owner := newBrowser(t, s.URL).signIn("Olga Owner", "olga@org.test")
	createOrg(owner, "Org SA", "client")
	org := owner.org()
	page := "/o/" + org + "/settings/team"
	owner.get(page).must(http.StatusOK, `id="last-owner"`, "dernier propriétaire")
	if strings.Contains(owner.body, "/settings/team/remove") {
		t.Fatal("the last owner has a remove button")
	}
	owner.post(page+"/remove", url.Values{"user": {s.devUser("olga@org.test")}}).must(http.StatusOK, `class="error"`)
	owner.post(page+"/invite", url.Values{"email": {"adam@org.test"}, "role": {"admin"}}).must(http.StatusOK, "adam@org.test", "administrateur")
	adam := newBrowser(t, s.URL)
	adam.get(s.mailTo(t, "adam@org.test", "/member-invitations/"))
	adam.get("/signin").post("/signin/dev", url.Values{"name": {"Adam"}, "email": {"adam@org.test"}})
	adam.post("/link/join", url.Values{}).must(http.StatusOK, "Vous avez rejoint Org SA")
	owner.get(page).must(http.StatusOK, "Adam", "Aucune invitation de collègue en attente")
	owner.post(page+"/role", url.Values{"user": {s.devUser("adam@org.test")}, "role": {"owner"}}).must(http.StatusOK, "Enregistré")
	if strings.Contains(owner.body, `id="last-owner"`) {
		t.Fatal("two owners, and the page still says last owner")
	}
	owner.post(page+"/role", url.Values{"user": {s.devUser("adam@org.test")}, "role": {"member"}}).must(http.StatusOK, "Enregistré", `id="last-owner"`)
	// A member sees no settings link and may not open them.
	adam.get("/o/" + org + "/partners").must(http.StatusOK)
	if strings.Contains(adam.body, "tab-settings") {
		t.Fatal("a member sees the settings")
	}
	adam.get(page).must(http.StatusForbidden)
}
