package app

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
	"partners/internal/pgtest"
)

// replica is an App with a store of its own (its own pool, keyring and
// folds) on the package's database, its round trips counted.
func replica(t *testing.T) (*App, *pgtest.Trace) {
	t.Helper()
	pool, rt := pgtest.TracedPool(t)
	keys, err := eventstore.NewKeyring("test-data-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	return New(eventstore.New(pool, keys, time.Now)), rt
}

// cachedOrg is the organization this replica's cache holds, and its version.
func cachedOrg(t *testing.T, a *App, org uuid.UUID) (*OrganizationState, int) {
	t.Helper()
	e, ok := a.folds.get(organizationFold.key(organizationStream(org)))
	if !ok {
		t.Fatal("the organization is not cached")
	}
	return e.state.(*OrganizationState), e.version
}

// team is an organization of ann (owner) with bob and carl as members.
func team(t *testing.T, a *App) (uuid.UUID, domain.Actor) {
	t.Helper()
	ctx := context.Background()
	ann := a.ActorFor("ann", email(t, "ann@example.fr"), true, "Ann Martin")
	org, _, err := a.CreateOrganization(ctx, ann, "Martin SA", domain.SideClient, domain.Siret{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bob", "carl"} {
		who := a.ActorFor(name, email(t, name+"@example.fr"), true, name)
		in, err := a.InviteMember(ctx, ann, org, who.Email, domain.RoleMember, "fr")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.AcceptTeamInvitation(ctx, who, domain.TeamInvitationMember, in.Invitation.ID, in.Token); err != nil {
			t.Fatal(err)
		}
	}
	return org, ann
}

// A command on a replica that already folds what it decides on makes one
// round trip, its append; a cold one reads each stream first (issue 19).
// UpdatePortalUser decides on the organization and the portal user.
func TestWarmCommandIsOneRoundTrip(t *testing.T) {
	ctx := context.Background()
	a, rt := replica(t)
	org, ann := team(t, a)
	p, err := a.CreatePortalUser(ctx, ann, org, email(t, "paul@client.example"), "Paul", "Client SA")
	if err != nil {
		t.Fatal(err)
	}
	rename := func(a *App, name string) {
		t.Helper()
		if _, err := a.UpdatePortalUser(ctx, ann, org, p.PortalUser.ID, &name, nil); err != nil {
			t.Fatal(err)
		}
	}
	rename(a, "Paul A.") // the keyring keeps ann's data key for a while: warm it
	cold := New(a.Store) // a replica that folds nothing yet
	rt.Reset()
	rename(cold, "Paul B.")
	coldN := rt.Reset().Trips()
	for i := 0; i < 3; i++ {
		rename(cold, fmt.Sprintf("Paul %d", i))
		if r := rt.Reset(); r.Trips() != 1 || len(r.Failed) > 0 {
			t.Errorf("warm command %d: %d round trips (errors %v); want 1", i, r.Trips(), r.Failed)
		}
	}
	// Cold, each of the two streams is read (its tail, then the data keys
	// that open it), then appended to.
	if coldN < 3 {
		t.Errorf("cold command: %d round trips; want a read of each stream and the append", coldN)
	}
	t.Logf("round trips per UpdatePortalUser: cold %d, warm 1", coldN)

	// A team change also reads the invitations its member sent (a query,
	// not a fold): one more round trip, warm or cold.
	if _, err := cold.ChangeMemberRole(ctx, ann, org, "bob", domain.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	rt.Reset()
	if _, err := cold.ChangeMemberRole(ctx, ann, org, "bob", domain.RoleMember); err != nil {
		t.Fatal(err)
	}
	n := rt.Reset().Trips()
	t.Logf("round trips per ChangeMemberRole, warm: %d", n)
}

// Two replicas, two caches: what one changes, the other's next command
// decides on (its first attempt's append is refused, the retry reads).
func TestReplicaDecidesOnTheOtherReplicasChange(t *testing.T) {
	ctx := context.Background()
	a, _ := replica(t)
	b, rtB := replica(t)
	org, ann := team(t, a)
	bob := a.ActorFor("bob", email(t, "bob@example.fr"), true, "bob")
	if _, err := a.ChangeMemberRole(ctx, ann, org, "bob", domain.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GrantOf(ctx, org, "ann"); err != nil { // b folds the organization
		t.Fatal(err)
	}
	// A change on a, then a command on b on its now stale state.
	if _, err := a.ChangeMemberRole(ctx, ann, org, "carl", domain.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	rtB.Reset()
	if _, err := b.ChangeMemberRole(ctx, ann, org, "bob", domain.RoleMember); err != nil {
		t.Fatal(err)
	}
	states := rtB.Reset().Failed
	if !slices.Contains(states, "PA001") {
		t.Errorf("b's stale first attempt was not refused by its append: %v", states)
	}
	st, version := cachedOrg(t, b, org)
	if st.Org.Members["carl"].Role != domain.RoleAdmin || st.Org.Members["bob"].Role != domain.RoleMember {
		t.Fatalf("b's state after its command misses a's change: carl %s, bob %s", st.Org.Members["carl"].Role, st.Org.Members["bob"].Role)
	}
	if _, v, err := a.Store.ReadStream(ctx, domain.OrganizationStream(org)); err != nil || v != version {
		t.Fatalf("b caches version %d; the stream is at %d (%v)", version, v, err)
	}

	// bob's membership revoked on a; bob's command on b, whose cache still
	// has him admin, is refused.
	if _, err := b.ChangeMemberRole(ctx, ann, org, "bob", domain.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if st, _ := cachedOrg(t, b, org); st.Org.Members["bob"].Role != domain.RoleAdmin {
		t.Fatal("b does not fold bob as admin")
	}
	if _, err := a.RemoveMember(ctx, ann, org, "bob"); err != nil {
		t.Fatal(err)
	}
	_, before, err := a.Store.ReadStream(ctx, domain.OrganizationStream(org))
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.ChangeMemberRole(ctx, bob, org, "carl", domain.RoleMember)
	if code := domain.ErrorCode(err); code == "" || code == domain.CodeConcurrencyConflict {
		t.Fatalf("a removed member's command on the other replica: %v; want a refusal", err)
	}
	evs, after, err := a.Store.ReadStream(ctx, domain.OrganizationStream(org))
	if err != nil || after != before {
		t.Fatalf("the removed member's command appended: version %d → %d (%v)", before, after, err)
	}
	if got := evs[len(evs)-1]; got.Meta.Actor.UserID == "bob" {
		t.Fatalf("last event by the removed member: %T", got.Data)
	}
}

// A person forgotten through one replica: the other's cached state that
// holds their data is not decided on; its append is refused as stale and
// the retry rebuilds the state from the stream, with the person forgotten.
func TestForgottenPersonStaleStateIsRebuilt(t *testing.T) {
	ctx := context.Background()
	a, _ := replica(t)
	b, rtB := replica(t)
	org, ann := team(t, a)
	if _, err := b.ChangeMemberRole(ctx, ann, org, "carl", domain.RoleAdmin); err != nil { // b folds carl's email
		t.Fatal(err)
	}
	if st, _ := cachedOrg(t, b, org); st.Org.Members["bob"].Email.String() != "bob@example.fr" {
		t.Fatalf("b's state does not hold bob's email: %+v", st.Org.Members["bob"])
	}
	if _, err := a.ForgetPerson(ctx, ann, email(t, "bob@example.fr")); err != nil {
		t.Fatal(err)
	}
	rtB.Reset()
	if _, err := b.ChangeMemberRole(ctx, ann, org, "carl", domain.RoleMember); err != nil {
		t.Fatal(err)
	}
	if states := rtB.Reset().Failed; !slices.Contains(states, "PA004") {
		t.Errorf("b's first attempt on state holding a forgotten person was not refused as stale: %v", states)
	}
	st, _ := cachedOrg(t, b, org)
	if got := st.Org.Members["bob"]; !got.Email.IsForgotten() || got.Name.String() != domain.Forgotten {
		t.Fatalf("b still holds the forgotten person: %+v", got)
	}
	if st.Org.Members["carl"].Role != domain.RoleMember || st.Org.Members["ann"].Email.String() != "ann@example.fr" {
		t.Fatalf("b's rebuilt state is wrong: %+v", st.Org.Members)
	}
}

// Refusals and no-ops decided on a replica's cached state are decided
// again on read state before they are answered.
func TestRefusalsAndNoOpsFromCachedStateAreDecidedAgain(t *testing.T) {
	ctx := context.Background()
	a, _ := replica(t)
	b, rtB := replica(t)
	org, ann := team(t, a)
	if _, err := b.ChangeMemberRole(ctx, ann, org, "carl", domain.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	// erin joins as admin through a; b's cache says she is not a member.
	erin := a.ActorFor("erin", email(t, "erin@example.fr"), true, "Erin")
	in, err := a.InviteMember(ctx, ann, org, erin.Email, domain.RoleAdmin, "fr")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.AcceptTeamInvitation(ctx, erin, domain.TeamInvitationMember, in.Invitation.ID, in.Token); err != nil {
		t.Fatal(err)
	}
	if st, _ := cachedOrg(t, b, org); st.Org.Members["erin"].UserID != "" {
		t.Fatal("b already folds erin")
	}
	rtB.Reset()
	if _, err := b.InviteMember(ctx, erin, org, email(t, "fred@example.fr"), domain.RoleMember, "fr"); err != nil {
		t.Fatalf("erin, a member on a, refused on b: %v", err)
	}
	if n := rtB.Reset().Trips(); n < 2 {
		t.Errorf("the refusal on cached state was answered without a read (%d round trips)", n)
	}
	// carl made a member on a; b's cache says admin, so "make carl admin"
	// looks like a no-op there. It is not.
	if _, err := a.ChangeMemberRole(ctx, ann, org, "carl", domain.RoleMember); err != nil {
		t.Fatal(err)
	}
	_, before, _ := a.Store.ReadStream(ctx, domain.OrganizationStream(org))
	if _, err := b.ChangeMemberRole(ctx, ann, org, "carl", domain.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	_, after, _ := a.Store.ReadStream(ctx, domain.OrganizationStream(org))
	if after != before+1 {
		t.Fatalf("the change decided as a no-op on stale state: version %d → %d", before, after)
	}
	if g, _ := a.GrantOf(ctx, org, "carl"); g.Role != domain.RoleAdmin.String() {
		t.Fatalf("carl is %s; want admin", g.Role)
	}
}

// The state a replica caches after its appends is the fold of the stored
// stream, for every kind of fold.
func TestWriteThroughEqualsAFreshFold(t *testing.T) {
	ctx := context.Background()
	a, _ := replica(t)
	org, ann := team(t, a)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	for _, role := range []domain.Role{domain.RoleAdmin, domain.RoleMember, domain.RoleAdmin} {
		_, err := a.ChangeMemberRole(ctx, ann, org, "carl", role)
		must("role", err)
	}
	// Team invitations: sent, resent? revoked.
	in, err := a.InviteMember(ctx, ann, org, email(t, "dan@example.fr"), domain.RoleMember, "fr")
	must("invite", err)
	_, _, err = a.RevokeTeamInvitation(ctx, ann, domain.TeamInvitationMember, in.Invitation.ID)
	must("revoke", err)
	acc, err := a.GrantAccountantAccess(ctx, ann, org, email(t, "acc@example.fr"), "hello", "fr")
	must("accountant", err)
	// Partner invitations: sent, resent twice, revoked.
	sent, err := a.SendInvitation(ctx, ann, org, email(t, "sub@example.fr"), "", domain.PartnerContact{}, "fr")
	must("send", err)
	for i := 0; i < 2; i++ {
		_, err = a.ResendInvitation(ctx, ann, sent.Invitation.ID, "fr")
		must("resend", err)
	}
	_, _, err = a.RevokeInvitation(ctx, ann, sent.Invitation.ID)
	must("revoke partner", err)
	// Collaborators: created, resent twice.
	col, err := a.CreateCollaborator(ctx, ann, org, NewCollaborator{FirstName: "Col", LastName: "Lab", Email: email(t, "col@example.fr"),
		Phone: domain.MustParsePhone("+33612345678"), Locale: "fr"})
	must("collaborator", err)
	for i := 0; i < 2; i++ {
		_, err = a.ResendCollaboratorInvitation(ctx, ann, col.Invitation.ID, "fr")
		must("resend collaborator", err)
	}
	// A collaboration request, answered.
	yann := a.ActorFor("yann", email(t, "yann@example.fr"), true, "Yann")
	req, err := a.RequestCollaboration(ctx, yann, domain.Siret{}, email(t, "ann@example.fr"))
	must("request", err)
	_, err = a.RejectCollaborationRequest(ctx, ann, org, req.RequestID)
	must("reject", err)
	// Portal users and contract shares.
	p1, err := a.CreatePortalUser(ctx, ann, org, email(t, "p1@client.example"), "Paul", "Client SA")
	must("portal user", err)
	p2, err := a.CreatePortalUser(ctx, ann, org, email(t, "p2@client.example"), "Pia", "Client SA")
	must("portal user", err)
	for _, name := range []string{"Paul P.", "Paul Q."} {
		n := name
		_, err = a.UpdatePortalUser(ctx, ann, org, p1.PortalUser.ID, &n, nil)
		must("update portal user", err)
	}
	contract, err := domain.ParseContractID("C-1")
	must("contract", err)
	_, err = a.ShowContract(ctx, ann, org, ShowContractInput{ContractID: contract, Title: "Framework", RequesterID: p1.PortalUser.ID, Locale: "fr"})
	must("show", err)
	_, err = a.ShareContractWithWatcher(ctx, ann, org, contract, p2.PortalUser.ID, "fr")
	must("watcher", err)
	_, err = a.SetAttachmentsVisible(ctx, ann, org, contract, true)
	must("attachments", err)
	_, err = a.RemoveWatcher(ctx, ann, org, contract, p2.PortalUser.ID)
	must("remove watcher", err)
	_, err = a.ShowContract(ctx, ann, org, ShowContractInput{ContractID: contract, Title: "Framework v2", RequesterID: p1.PortalUser.ID, Locale: "fr"})
	must("show again", err)
	_ = acc

	fresh := New(a.Store)
	specs := map[string]func(id string) (any, int, int64, []uuid.UUID, error){}
	add := func(kind string, f func(id string) (any, int, int64, []uuid.UUID, error)) { specs[kind] = f }
	add(organizationFold.kind, freshFold(ctx, fresh, organizationFold))
	add(invitations.fold.kind, freshFold(ctx, fresh, invitations.fold))
	add(teamInvitations(domain.TeamInvitationMember).fold.kind, freshFold(ctx, fresh, teamInvitations(domain.TeamInvitationMember).fold))
	add(collaborators.fold.kind, freshFold(ctx, fresh, collaborators.fold))
	add(requests.kind, freshFold(ctx, fresh, requests))
	add(portalUserFold.kind, freshFold(ctx, fresh, portalUserFold))
	add(contractShareFold.kind, freshFold(ctx, fresh, contractShareFold))

	written := map[string]int{}
	a.folds.mu.Lock()
	entries := cloneEntries(a.folds.entries)
	a.folds.mu.Unlock()
	for key, e := range entries {
		kind, id, _ := strings.Cut(key, "\x00")
		load, ok := specs[kind]
		if !ok {
			t.Errorf("no fresh fold for kind %q", kind)
			continue
		}
		st, version, position, keys, err := load(id)
		if err != nil {
			t.Fatal(err)
		}
		if e.version != version || e.position != position {
			t.Errorf("%s %s: cached at version %d position %d; stored %d, %d", kind, id, e.version, e.position, version, position)
		}
		if !reflect.DeepEqual(e.state, st) {
			t.Errorf("%s %s: cached state differs from the fold of the stream:\ncached %#v\nfresh  %#v", kind, id, e.state, st)
		}
		for _, k := range keys {
			if !slices.Contains(e.keys, k) {
				t.Errorf("%s %s: key %s the state was opened with is not among the cached keys", kind, id, k)
			}
		}
		written[kind]++
	}
	for kind := range specs {
		if written[kind] == 0 {
			t.Errorf("no %s fold cached", kind)
		}
	}
	t.Logf("cached folds compared: %v", written)
}

func freshFold[S any](ctx context.Context, a *App, spec foldSpec[S]) func(id string) (any, int, int64, []uuid.UUID, error) {
	return func(id string) (any, int, int64, []uuid.UUID, error) {
		a.folds.drop(spec.key(stream{id: id}))
		l, err := spec.load(ctx, a, stream{id: id})
		return l.state, l.version, l.position, l.keys, err
	}
}

func cloneEntries(m map[string]foldEntry) map[string]foldEntry {
	out := make(map[string]foldEntry, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
