package app

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"partners/domain"
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
