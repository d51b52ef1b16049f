package projections_test

import (
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"partners/eventstore"
	"partners/internal/apitest"
	"partners/internal/pgtest"
	"partners/projections"
)

// Issue 16's reads: the contact details in "Invitations sent", the window
// at sign-up by email, and the partner's details pane, live and as of an
// instant (which needs the partner's events as well as the caller's); a
// verification finds the live read models equal to a replay.
func TestPartnerPaneWindowAndContacts(t *testing.T) {
	ctx := context.Background()
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{})
	claire, dana, samir := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Dana"), apitest.NewUser(t, "Samir")
	acme, _ := s.CreateOrganization(t, claire, "Acme", "client")
	plomb, _ := s.CreateOrganization(t, samir, "Plomberie", "subcontractor")
	post := func(u apitest.User, path string, body any, status int) apitest.Response {
		t.Helper()
		r := s.Do(t, apitest.Request{Method: "POST", Path: path, Token: u.Token, Body: body})
		apitest.Expect(t, r, status)
		return r
	}
	r := post(claire, "/v1/organizations/"+acme+"/invitations", map[string]any{"email": samir.Email,
		"contact": map[string]any{"name": "Samir H.", "phone": "0612345678"}}, http.StatusCreated)
	inv := uuid.MustParse(r.JSON(t)["id"].(string))
	post(samir, "/v1/invitations/"+inv.String()+"/accept", map[string]any{"organization_id": plomb}, http.StatusOK)
	const waiting = "window@example.org"
	pending := post(claire, "/v1/organizations/"+acme+"/invitations", map[string]any{"email": waiting}, http.StatusCreated)
	r = post(claire, "/v1/organizations/"+acme+"/member-invitations", map[string]any{"email": dana.Email, "role": "admin"}, http.StatusCreated)
	r = post(dana, "/v1/member-invitations/"+r.JSON(t)["id"].(string)+"/accept", map[string]any{"token": r.JSON(t)["token"]}, http.StatusOK)
	waitAll(t, s, r.Position)
	rd := projections.Reader{Q: s.Pool}
	now := time.Now()

	sent, _, err := rd.SentInvitations(ctx, uuid.MustParse(acme), "", now, projections.Page{Limit: 10})
	if err != nil || len(sent) != 2 {
		t.Fatalf("sent = %+v, %v", sent, err)
	}
	name, phone := "Samir H.", "+33612345678"
	for _, v := range sent {
		want := (*projections.ContactView)(nil)
		if v.ID == inv {
			want = &projections.ContactView{Name: &name, Phone: &phone}
		}
		if !reflect.DeepEqual(v.Contact, want) {
			t.Fatalf("contact of %s = %+v; want %+v", v.ID, v.Contact, want)
		}
	}

	window, _, err := rd.MyInvitations(ctx, string(s.Store.Keys().Ref(waiting)), now, projections.Page{Limit: 10})
	if err != nil || len(window) != 1 || window[0].ID.String() != pending.JSON(t)["id"] || window[0].InviteeSide != "subcontractor" {
		t.Fatalf("window of %s = %+v, %v", waiting, window, err)
	}
	if gone, _, _ := rd.MyInvitations(ctx, string(s.Store.Keys().Ref(samir.Email)), now, projections.Page{Limit: 10}); len(gone) != 0 {
		t.Fatalf("an accepted invitation is still in the window: %+v", gone)
	}

	pane, ok, err := rd.PartnerDetails(ctx, uuid.MustParse(plomb), uuid.MustParse(acme))
	want := []projections.PartnerContactView{{Name: "Claire", Email: claire.Email, Role: "owner"}, {Name: "Dana", Email: dana.Email, Role: "admin"}}
	if err != nil || !ok || pane.Name != "Acme" || pane.InvitationID != inv || !reflect.DeepEqual(pane.Contacts, want) {
		t.Fatalf("pane = %+v, %v, %v", pane, ok, err)
	}
	if _, ok, err := rd.PartnerDetails(ctx, uuid.MustParse(plomb), uuid.MustParse(plomb)); ok || err != nil {
		t.Fatalf("an organization is its own partner: %v, %v", ok, err)
	}

	// As of now, replayed: the partner's members come from its own events.
	ps, err := projections.ByName("partners", "members")
	if err != nil {
		t.Fatal(err)
	}
	answer := func(asOf func(context.Context, *eventstore.Store, []projections.Projection, projections.Filter, func(context.Context, projections.Reader) error) error,
		f projections.Filter) projections.PartnerDetailsView {
		t.Helper()
		var v projections.PartnerDetailsView
		if err := asOf(ctx, s.Store, ps, f, func(ctx context.Context, r projections.Reader) (err error) {
			v, _, err = r.PartnerDetails(ctx, uuid.MustParse(plomb), uuid.MustParse(acme))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return v
	}
	f := projections.Filter{Organization: uuid.MustParse(plomb), Organizations: []uuid.UUID{uuid.MustParse(acme)}, Until: time.Now()}
	if got := answer(projections.AsOfReplay, f); !reflect.DeepEqual(got, pane) {
		t.Fatalf("as of now, replayed = %+v; want the live pane %+v", got, pane)
	}
	f.Organizations = nil
	if got := answer(projections.AsOfReplay, f); len(got.Contacts) != 0 {
		t.Fatalf("the caller's events alone gave contacts %+v: the partner's are needed", got.Contacts)
	}
	// The valid-time answer reads every row true then: the filter, which
	// only selects what a replay reads, does not narrow it.
	if got := answer(projections.AsOf, f); !reflect.DeepEqual(got, pane) {
		t.Fatalf("as of now, from the valid-time read models = %+v; want the live pane %+v", got, pane)
	}

	diffs, err := s.Projector.Verify(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("difference: %s", d)
	}
}
