package app

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/domain"
	"partners/eventstore"
	"partners/internal/pgtest"
)

// Two replicas on one store: a revocation acknowledged by one is in the
// other's answer at once, though the other cached the organization before.
func TestGrantOfFollowsAnotherReplica(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	b := New(a.Store)
	ann := a.ActorFor("ann", email(t, "ann@example.fr"), true, "Ann")
	org, _, err := a.CreateOrganization(ctx, ann, "Martin SA", domain.SideClient, domain.Siret{})
	if err != nil {
		t.Fatal(err)
	}
	race(t, a, org, "bob")
	for _, r := range []*App{a, b} {
		if g, err := r.GrantOf(ctx, org, "bob"); err != nil || g.Role != domain.RoleMember.String() {
			t.Fatalf("GrantOf(bob) = %+v, %v; want member", g, err)
		}
	}
	if _, err := a.RemoveMember(ctx, ann, org, "bob"); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*App{b, a} {
		if g, err := r.GrantOf(ctx, org, "bob"); err != nil || g != (domain.Grant{}) {
			t.Fatalf("GrantOf(bob) after the removal = %+v, %v; want none", g, err)
		}
	}
}

// Many requests with a member's new verified email, on two replicas at
// once, record it by exactly one event; an unverified one records nothing.
func TestEnterRecordsANewEmailOnce(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	b := New(a.Store)
	ann := a.ActorFor("ann", email(t, "ann@example.fr"), true, "Ann")
	org, _, err := a.CreateOrganization(ctx, ann, "Martin SA", domain.SideClient, domain.Siret{})
	if err != nil {
		t.Fatal(err)
	}
	count := func() (n int, last domain.MemberEmailChanged) {
		evs, _, err := a.Store.ReadStream(ctx, domain.OrganizationStream(org))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if c, ok := e.Data.(domain.MemberEmailChanged); ok {
				n, last = n+1, c
			}
		}
		return n, last
	}

	unverified := a.ActorFor("ann", email(t, "someone@elsewhere.fr"), false, "Ann")
	if g, err := a.Enter(ctx, unverified, org); err != nil || g.Role != domain.RoleOwner.String() {
		t.Fatalf("Enter(unverified) = %+v, %v; want owner", g, err)
	}
	if n, _ := count(); n != 0 {
		t.Fatalf("MemberEmailChanged after an unverified email = %d; want 0", n)
	}

	moved := a.ActorFor("ann", email(t, "ann@martin-group.fr"), true, "Ann Martin")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := a
			if i%2 == 1 {
				r = b
			}
			g, err := r.Enter(ctx, moved, org)
			if err == nil && g.Role != domain.RoleOwner.String() {
				err = fmt.Errorf("grant %+v; want owner", g)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Enter(new email) = %v", err)
		}
	}
	n, c := count()
	if n != 1 || c.EmailRef != moved.EmailRef || c.Email.Value != "ann@martin-group.fr" || c.Name.Value != "Ann Martin" || c.Role != domain.RoleOwner {
		t.Fatalf("MemberEmailChanged = %d, last %+v; want exactly one, to ann@martin-group.fr", n, c)
	}
	for _, r := range []*App{a, b} {
		o, err := r.LoadOrganization(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := o.MemberByRef(moved.EmailRef); !ok || m.UserID != "ann" {
			t.Fatalf("member by the new email = %+v, %v", m, ok)
		}
	}
}

// A command records the actor's newer verified email in its own append,
// ahead of its events, and decides with it; a command its rule refuses
// records the email alone (as RecordMemberEmail), and nothing of its own.
// Either way, once.
func TestCommandsRecordANewEmailOnce(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	ann := a.ActorFor("ann", email(t, "ann@example.fr"), true, "Ann")
	org, _, err := a.CreateOrganization(ctx, ann, "Martin SA", domain.SideClient, domain.Siret{})
	if err != nil {
		t.Fatal(err)
	}
	race(t, a, org, "bob")
	stream := func() []eventstore.Event {
		evs, _, err := a.Store.ReadStream(ctx, domain.OrganizationStream(org))
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}

	bob := a.ActorFor("bob", email(t, "bob@martin-group.fr"), true, "Bob")
	before := len(stream())
	for range 2 {
		if _, err := a.RevokeAccountantAccess(ctx, bob, org, "ann"); domain.ErrorCode(err) == "" {
			t.Fatalf("RevokeAccountantAccess by a member = %v; want a refusal", err)
		}
	}
	evs := stream()
	if len(evs) != before+1 {
		t.Fatalf("a refused command appended %d events; want 1", len(evs)-before)
	}
	if c, ok := evs[before].Data.(domain.MemberEmailChanged); !ok || c.UserID != "bob" || c.EmailRef != bob.EmailRef ||
		evs[before].Meta.Command != "RecordMemberEmail" {
		t.Fatalf("refused command appended %T %+v (command %q); want bob's MemberEmailChanged, as RecordMemberEmail",
			evs[before].Data, evs[before].Data, evs[before].Meta.Command)
	}

	// Ann's new email is recorded with her role change, in one append;
	// inviting it then is inviting a member.
	moved := a.ActorFor("ann", email(t, "ann@martin-group.fr"), true, "Ann")
	before = len(stream())
	ch, err := a.ChangeMemberRole(ctx, moved, org, "bob", domain.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	evs = stream()
	if len(evs) != before+2 {
		t.Fatalf("ChangeMemberRole appended %d events; want 2", len(evs)-before)
	}
	c, ok := evs[before].Data.(domain.MemberEmailChanged)
	if _, role := evs[before+1].Data.(domain.MemberRoleChanged); !ok || !role || c.UserID != "ann" ||
		evs[before].RecordedAt != evs[before+1].RecordedAt || evs[before+1].Position != ch.Result.Position ||
		evs[before].Meta.Command != "ChangeMemberRole" {
		t.Fatalf("ChangeMemberRole appended %T then %T (at %v, %v); want ann's MemberEmailChanged then the role, in one append",
			evs[before].Data, evs[before+1].Data, evs[before].RecordedAt, evs[before+1].RecordedAt)
	}
	if _, err := a.InviteMember(ctx, moved, org, moved.Email, domain.RoleMember, "fr"); domain.ErrorCode(err) != domain.CodeAlreadyMember {
		t.Fatalf("inviting one's own new email = %v; want already_member", err)
	}
	if n := len(stream()); n != before+2 {
		t.Fatalf("%d events after; want %d", n, before+2)
	}
}

// A database that fails the organization's read is an error for the
// request, never a panic (the reliability run restarting PostgreSQL under
// load answered 500 "nil pointer" here).
func TestEnterWhenTheDatabaseFails(t *testing.T) {
	ctx := context.Background()
	keys, err := eventstore.NewKeyring("test-data-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	a := New(eventstore.New(pool, keys, time.Now))
	pool.Close() // every read now fails
	ann := a.ActorFor("ann", email(t, "ann@example.fr"), true, "Ann")
	if _, err := a.Enter(ctx, ann, uuid.New()); err == nil {
		t.Fatal("Enter on a closed pool answered no error")
	}
}
