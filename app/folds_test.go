package app

import (
	"context"
	"testing"
	"time"

	"partners/domain"
	"partners/eventstore"
	"partners/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newTestApp(t *testing.T) *App {
	t.Helper()
	keys, err := eventstore.NewKeyring("test-data-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	return New(eventstore.New(pgtest.Pool(t), keys, time.Now))
}

// The cached organization follows appends made by anyone, hands out copies
// only, and never outlives a forgotten person's data.
func TestOrganizationFoldFollowsAppendsAndForgetting(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	ann := a.ActorFor("ann", email(t, "ann@example.fr"), true, "Ann Martin")
	org, _, err := a.CreateOrganization(ctx, ann, "Martin SA", domain.SideClient, domain.Siret{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := a.LoadOrganization(ctx, org)
	if err != nil || first.Members["ann"].Email.String() != "ann@example.fr" {
		t.Fatalf("first load: %+v %v", first, err)
	}
	first.Members["intruder"] = domain.Member{UserID: "intruder"} // the caller's own copy

	// Another replica (another App on the same store) appends a member.
	other := New(a.Store)
	bob := a.ActorFor("bob", email(t, "bob@example.fr"), true, "Bob Durand")
	joined := domain.MemberJoined{OrganizationID: org, UserID: "bob", Email: bob.EmailPersonal(), Name: bob.NamePersonal(),
		EmailVerified: true, Role: domain.RoleMember, Via: domain.ViaMemberInvitation}
	if _, err := other.Store.Append(ctx, eventstore.Batch{Streams: []eventstore.StreamAppend{{
		StreamID: domain.OrganizationStream(org), StreamType: domain.OrganizationStreamType,
		Expected: eventstore.Exactly(first.Version), Events: other.newEvents([]domain.Event{joined})}}}); err != nil {
		t.Fatal(err)
	}
	second, err := a.LoadOrganization(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := second.Members["intruder"]; ok {
		t.Fatal("a caller's change leaked into the cached state")
	}
	if second.Members["bob"].Email.String() != "bob@example.fr" || second.Version != first.Version+1 {
		t.Fatalf("the append after the cached version is missing: %+v", second)
	}

	// Forgetting Bob on the other replica: this one's cached copy of his
	// email must not be served again.
	if _, err := other.ForgetPerson(ctx, ann, email(t, "bob@example.fr")); err != nil {
		t.Fatal(err)
	}
	third, err := a.LoadOrganization(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	if got := third.Members["bob"]; !got.Email.IsForgotten() || got.Name.String() != domain.Forgotten {
		t.Fatalf("forgotten person still in the cached state: %+v", got)
	}
	if third.Members["ann"].Email.String() != "ann@example.fr" || third.Version != second.Version {
		t.Fatalf("rebuilt state is wrong: %+v", third)
	}
}

func email(t *testing.T, s string) domain.Email {
	t.Helper()
	e, err := domain.ParseEmail(s)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
