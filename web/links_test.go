package web_test

import (
	"context"
	"net/http"
	"net/url"
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
