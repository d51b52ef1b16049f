package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"partners/domain"
)

// The colleague's link lands on its page, and joining with it makes the
// person a member (the accountant's and the collaborator's links share the
// same page and handler).
func TestColleagueLink(t *testing.T) {
	s := startService(t, nil)
	owner := newBrowser(t, s.URL).signIn("Olga Owner", "olga@org.test")
	createOrg(owner, "Org SA", "client")
	org := uuid.MustParse(owner.org())
	email, _ := domain.ParseEmail("colin@org.test")
	olga, _ := domain.ParseEmail("olga@org.test")
	actor := s.App.ActorFor(s.devUser("olga@org.test"), olga, true, "Olga Owner")
	if _, err := s.App.InviteMember(context.Background(), actor, org, email, domain.RoleMember, "fr"); err != nil {
		t.Fatal(err)
	}
	colin := newBrowser(t, s.URL)
	colin.get(s.mailTo(t, "colin@org.test", "/member-invitations/")).must(http.StatusOK, "Org SA", "membre")
	colin.get("/signin").post("/signin/dev", url.Values{"name": {"Colin"}, "email": {"colin@org.test"}}).must(http.StatusOK, `action="/link/join"`)
	colin.post("/link/join", url.Values{}).must(http.StatusOK, "Vous avez rejoint Org SA")
	colin.get("/o/"+org.String()+"/partners").must(http.StatusOK, "Sous-traitants")
	// The link is spent: its token opens nothing any more.
	colin.get(s.mailTo(t, "colin@org.test", "/member-invitations/")).must(http.StatusOK, `id="link-invalid"`)
}

// A link that opens nothing leaves the session once its page said so (the
// home page then no longer sends there), and a partner invitation's own
// words are shown only after sign-in, as the API's preview keeps them.
func TestLandingPageKeepsOnlyOpenLinks(t *testing.T) {
	s := startService(t, nil)
	owner := newBrowser(t, s.URL).signIn("Olga Owner", "olga@org.test")
	createOrg(owner, "Org SA", "client")
	org := uuid.MustParse(owner.org())
	olga, _ := domain.ParseEmail("olga@org.test")
	actor := s.App.ActorFor(s.devUser("olga@org.test"), olga, true, "Olga Owner")
	samir, _ := domain.ParseEmail("samir@sub.test")
	if _, err := s.App.SendInvitation(context.Background(), actor, org, samir, "Un mot personnel pour Samir", domain.PartnerContact{}, "fr"); err != nil {
		t.Fatal(err)
	}
	link := s.mailTo(t, "samir@sub.test", "/invitations/")

	stranger := newBrowser(t, s.URL)
	stranger.get(link).must(http.StatusOK, "Org SA")
	if strings.Contains(stranger.body, "Un mot personnel") {
		t.Fatalf("the landing page shows the inviter's message before sign-in:\n%s", stranger.body)
	}
	stranger.signIn("Samir", "samir@sub.test")
	stranger.get("/link").must(http.StatusOK, "Un mot personnel pour Samir")

	wrong := newBrowser(t, s.URL).signIn("Wendy", "wendy@else.test")
	wrong.get("/invitations/"+strings.Repeat("z", 43)).must(http.StatusOK, `id="link-invalid"`)
	wrong.get("/").must(http.StatusOK)
	if strings.HasSuffix(wrong.url, "/link") {
		t.Fatalf("home still sends to the dead link's page: %s", wrong.url)
	}
}

// A page's parameters are held to the API's rule: a NUL or broken UTF-8 is
// the visitor's 422, never a 500 from a query PostgreSQL refuses.
func TestHostilePageParameters(t *testing.T) {
	s := startService(t, nil)
	owner := newBrowser(t, s.URL).signIn("Olga Owner", "olga@org.test")
	createOrg(owner, "Org SA", "client")
	org := owner.org()
	for _, q := range []string{"%00", "%FF%FE", "a%1Bb"} {
		owner.get("/o/" + org + "/partners?q=" + q).must(http.StatusUnprocessableEntity)
	}
	owner.get("/o/" + org + "/partners?q=" + url.QueryEscape("é")).must(http.StatusOK)
}
