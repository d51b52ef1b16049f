package projections_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"partners/domain"
	"partners/internal/apitest"
	"partners/internal/pgtest"
	"partners/projections"
)

// world is a random history's organizations and what is pending in them.
type world struct {
	t     *testing.T
	s     *apitest.Server
	rng   *rand.Rand
	clock *apitest.Clock
	admin string
	orgs  []*worldOrg
	// pending partner invitations: id -> token, inviter and invitee org
	invitations []worldInvitation
	// people ever named in the history, some of whom get forgotten
	emails []string
}

type worldOrg struct {
	id, side    string
	owner       apitest.User
	members     []apitest.User // colleagues, removable
	accountants []apitest.User
	collabs     []apitest.User
	portalUsers []string
	contracts   []string
	partners    []string
}

type worldInvitation struct {
	id, token string
	from, to  *worldOrg
}

func (w *world) do(method, path, token string, body any) (apitest.Response, bool) {
	w.t.Helper()
	w.tick()
	r := w.s.Do(w.t, apitest.Request{Method: method, Path: path, Token: token, Body: body})
	if r.Status >= 500 {
		w.t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
	}
	return r, r.Status < 300
}

// tick moves the clock on by nothing (several appends at one instant), a
// microsecond, a millisecond or a second.
func (w *world) tick() {
	w.clock.Advance([]time.Duration{0, 0, time.Microsecond, time.Millisecond, time.Second}[w.rng.IntN(5)])
}

func (w *world) pick() *worldOrg { return w.orgs[w.rng.IntN(len(w.orgs))] }

func (w *world) newOrg(side string) {
	u := apitest.NewUser(w.t, "Owner")
	w.tick()
	id, _ := w.s.CreateOrganization(w.t, u, "Org "+u.Sub, side)
	w.orgs = append(w.orgs, &worldOrg{id: id, side: side, owner: u})
	w.emails = append(w.emails, u.Email)
}

// step does one random thing; things the rules refuse are simply refused.
func (w *world) step() {
	o := w.pick()
	path := "/v1/organizations/" + o.id
	switch w.rng.IntN(16) {
	case 0:
		if len(w.orgs) < 6 {
			w.newOrg([]string{"client", "subcontractor"}[w.rng.IntN(2)])
		}
	case 1, 2: // a partner invitation, to another organization's owner or to an email
		to := w.pick()
		email := "x" + strconv.Itoa(w.rng.IntN(1000)) + "." + to.owner.Email
		if w.rng.IntN(2) == 0 {
			email = to.owner.Email
		}
		body := map[string]any{"email": email, "message": "hello " + strconv.Itoa(w.rng.IntN(9))}
		if w.rng.IntN(2) == 0 {
			body["contact"] = map[string]any{"name": "Contact " + to.owner.Name, "phone": "0612345678"}
		}
		if r, ok := w.do("POST", path+"/invitations", o.owner.Token, body); ok {
			w.invitations = append(w.invitations, worldInvitation{id: r.JSON(w.t)["id"].(string), token: r.JSON(w.t)["token"].(string), from: o, to: to})
			w.emails = append(w.emails, email)
		}
	case 3: // an invitation answered, claimed, revoked or resent
		if len(w.invitations) == 0 {
			return
		}
		inv := w.invitations[w.rng.IntN(len(w.invitations))]
		switch w.rng.IntN(5) {
		case 0:
			w.do("POST", "/v1/invitations/claim", inv.to.owner.Token, map[string]any{"token": inv.token, "organization_id": inv.to.id})
		case 1:
			if _, ok := w.do("POST", "/v1/invitations/"+inv.id+"/accept", inv.to.owner.Token, map[string]any{"organization_id": inv.to.id}); ok {
				inv.from.partners = append(inv.from.partners, inv.to.id)
				inv.to.partners = append(inv.to.partners, inv.from.id)
			}
		case 2:
			w.do("POST", "/v1/invitations/"+inv.id+"/decline", inv.to.owner.Token, map[string]any{"organization_id": inv.to.id})
		case 3:
			w.do("POST", "/v1/invitations/"+inv.id+"/revoke", inv.from.owner.Token, nil)
		case 4:
			w.do("POST", "/v1/invitations/"+inv.id+"/resend", inv.from.owner.Token, nil)
		}
	case 4: // a colleague joins
		u := apitest.NewUser(w.t, "Cole")
		role := []string{"admin", "member"}[w.rng.IntN(2)]
		if r, ok := w.do("POST", path+"/member-invitations", o.owner.Token, map[string]any{"email": u.Email, "role": role}); ok {
			if _, ok := w.do("POST", "/v1/member-invitations/"+r.JSON(w.t)["id"].(string)+"/accept", u.Token, map[string]any{"token": r.JSON(w.t)["token"]}); ok {
				o.members = append(o.members, u)
				w.emails = append(w.emails, u.Email)
			}
		}
	case 5: // a colleague's role changes, or they leave
		if len(o.members) == 0 {
			return
		}
		i := w.rng.IntN(len(o.members))
		u := o.members[i]
		if w.rng.IntN(3) == 0 {
			if _, ok := w.do("DELETE", path+"/members/"+u.Sub, o.owner.Token, nil); ok {
				o.members = slices.Delete(o.members, i, i+1)
			}
			return
		}
		w.do("PATCH", path+"/members/"+u.Sub, o.owner.Token, map[string]any{"role": []string{"admin", "member"}[w.rng.IntN(2)]})
	case 6: // an accountant granted, or revoked
		if len(o.accountants) > 0 && w.rng.IntN(2) == 0 {
			u := o.accountants[0]
			if _, ok := w.do("DELETE", path+"/accountants/"+u.Sub, o.owner.Token, nil); ok {
				o.accountants = o.accountants[1:]
			}
			return
		}
		u := apitest.NewUser(w.t, "Acc")
		if r, ok := w.do("POST", path+"/accountants", o.owner.Token, map[string]any{"email": u.Email}); ok {
			if _, ok := w.do("POST", "/v1/accountant-invitations/"+r.JSON(w.t)["id"].(string)+"/accept", u.Token, map[string]any{"token": r.JSON(w.t)["token"]}); ok {
				o.accountants = append(o.accountants, u)
				w.emails = append(w.emails, u.Email)
			}
		}
	case 7: // a collaborator account, activated or not
		u := apitest.NewUser(w.t, "Hugo")
		r, ok := w.do("POST", path+"/collaborators", o.owner.Token, map[string]any{"first_name": "Hugo", "last_name": "Moreau", "email": u.Email,
			"phone": "+33612345678", "can_purchase": w.rng.IntN(2) == 0, "can_see_all_orders": false})
		w.emails = append(w.emails, u.Email)
		if ok && w.rng.IntN(3) > 0 {
			if _, ok := w.do("POST", "/v1/collaborators/activate", u.Token, map[string]any{"token": r.JSON(w.t)["token"]}); ok {
				o.collabs = append(o.collabs, u)
			}
		}
	case 8: // a collaborator's permissions change, or they are removed
		if len(o.collabs) == 0 {
			return
		}
		i := w.rng.IntN(len(o.collabs))
		if w.rng.IntN(3) == 0 {
			if _, ok := w.do("DELETE", path+"/collaborators/"+o.collabs[i].Sub, o.owner.Token, nil); ok {
				o.collabs = slices.Delete(o.collabs, i, i+1)
			}
			return
		}
		w.do("PATCH", path+"/collaborators/"+o.collabs[i].Sub, o.owner.Token, map[string]any{"can_see_all_orders": w.rng.IntN(2) == 0})
	case 9: // a collaboration request to an owner
		u := apitest.NewUser(w.t, "Eva")
		w.do("POST", "/v1/collaboration-requests", u.Token, map[string]any{"target": o.owner.Email})
		w.emails = append(w.emails, u.Email)
	case 10: // a portal user
		email := "pu" + strconv.Itoa(w.rng.IntN(1e6)) + "." + o.owner.Sub + "@client.example"
		if r, ok := w.do("POST", path+"/portal-users", o.owner.Token, map[string]any{"email": email, "name": "Jean",
			"company": []string{"Client SA", "client sa", "Other Ltd"}[w.rng.IntN(3)]}); ok {
			o.portalUsers = append(o.portalUsers, r.JSON(w.t)["id"].(string))
			w.emails = append(w.emails, email)
		}
	case 11: // a portal user renamed or moved to another company
		if len(o.portalUsers) == 0 {
			return
		}
		body := map[string]any{"name": "Renamed " + strconv.Itoa(w.rng.IntN(9))}
		if w.rng.IntN(2) == 0 {
			body = map[string]any{"company": []string{"Client SA", "Other Ltd"}[w.rng.IntN(2)]}
		}
		w.do("PATCH", path+"/portal-users/"+o.portalUsers[w.rng.IntN(len(o.portalUsers))], o.owner.Token, body)
	case 12: // a contract shown in the portal
		if len(o.portalUsers) == 0 {
			return
		}
		contract := "CTR-" + strconv.Itoa(w.rng.IntN(4))
		req := o.portalUsers[w.rng.IntN(len(o.portalUsers))]
		watcher := o.portalUsers[w.rng.IntN(len(o.portalUsers))]
		watchers := []string{}
		if watcher != req {
			watchers = append(watchers, watcher)
		}
		if _, ok := w.do("PUT", path+"/contracts/"+contract+"/portal", o.owner.Token, map[string]any{"title": "Toiture " + strconv.Itoa(w.rng.IntN(9)),
			"requester_id": req, "watcher_ids": watchers, "attachments_visible": w.rng.IntN(2) == 0}); ok && !slices.Contains(o.contracts, contract) {
			o.contracts = append(o.contracts, contract)
		}
	case 13: // a contract's watchers, switch, or withdrawal
		if len(o.contracts) == 0 || len(o.portalUsers) == 0 {
			return
		}
		c := path + "/contracts/" + o.contracts[w.rng.IntN(len(o.contracts))]
		pu := o.portalUsers[w.rng.IntN(len(o.portalUsers))]
		switch w.rng.IntN(4) {
		case 0:
			w.do("POST", c+"/watchers", o.owner.Token, map[string]any{"portal_user_id": pu})
		case 1:
			w.do("DELETE", c+"/watchers/"+pu, o.owner.Token, nil)
		case 2:
			w.do("PATCH", c+"/portal", o.owner.Token, map[string]any{"attachments_visible": w.rng.IntN(2) == 0})
		case 3:
			w.do("DELETE", c+"/portal", o.owner.Token, nil)
		}
	case 14, 15: // nothing for a while
		w.clock.Advance(time.Minute)
	}
}

// forget forgets people of the history. It comes after the steps: an
// answer about what names a forgotten person fails the API's own contract
// today (a revoked invitation's "email" reads "[forgotten]", which is no
// email: found by this test, left to the API), and the instants before and
// after the forgetting are what as-of must get right.
func (w *world) forget(n int) {
	for range n {
		w.do("POST", "/v1/admin/people/forget", w.admin, map[string]any{"email": w.emails[w.rng.IntN(len(w.emails))]})
	}
}

// asOfAnswers is every answer the API and the web serve as of an instant
// for one organization, read in one transaction.
type asOfAnswers map[string]any

// The read models the API replays for an as-of answer, and the partner
// details pane's.
var asOfModels = []string{"partners", "invitations_sent", "members", "collaborator_invitations", "portal_users", "portal_access"}

func readAsOf(ctx context.Context, r projections.Reader, o *worldOrg, at time.Time) (asOfAnswers, error) {
	org := uuid.MustParse(o.id)
	all := projections.Page{Limit: 500}
	a := asOfAnswers{}
	var err error
	if a["partners"], _, err = r.Partners(ctx, org, "", all); err != nil {
		return nil, err
	}
	for _, st := range []string{"", "sent", "expired", "accepted", "declined", "revoked"} {
		if a["sent/"+st], _, err = r.SentInvitations(ctx, org, st, at, all); err != nil {
			return nil, err
		}
	}
	if a["members"], _, err = r.Members(ctx, org, all); err != nil {
		return nil, err
	}
	if a["collaborators"], _, err = r.Collaborators(ctx, org, all); err != nil {
		return nil, err
	}
	for _, pu := range o.portalUsers {
		id := uuid.MustParse(pu)
		v, ok, err := r.PortalUser(ctx, org, id)
		if err != nil {
			return nil, err
		}
		a["portal_user/"+pu] = fmt.Sprint(ok, v)
		if a["contracts_of/"+pu], _, err = r.PortalUserContracts(ctx, org, id, all); err != nil {
			return nil, err
		}
	}
	for _, c := range o.contracts {
		v, ok, err := r.ContractPortal(ctx, org, c)
		if err != nil {
			return nil, err
		}
		a["contract/"+c] = fmt.Sprint(ok, v)
	}
	return a, nil
}

// Property: on random histories driven through the API and the live
// projector, at random instants (each event's, just before it, and in
// between), the answer from the valid-time read models equals the replay's
// for every query served as of an instant.
func TestAsOfEqualsReplay(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	if s := testingSeed(); s != 0 {
		seed = s
	}
	t.Logf("seed %d (PARTNERS_ASOF_SEED reruns it)", seed)
	clock := apitest.NewClock()
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{Now: clock.Now})
	w := &world{t: t, s: s, rng: rand.New(rand.NewPCG(seed, seed>>7)), clock: clock,
		admin: apitest.Token(t, "ops", "ops@partners.example", "Ops", "partners:admin")}
	for _, side := range []string{"client", "client", "subcontractor", "subcontractor"} {
		w.newOrg(side)
	}
	steps := 250
	if testing.Short() {
		steps = 80
	}
	for range steps {
		w.step()
	}
	w.forget(3)
	ctx := context.Background()
	var last int64
	if err := s.Pool.QueryRow(ctx, `SELECT max(position) FROM events`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	waitAll(t, s, last)

	instants := asOfInstants(t, s, w.rng, 25)
	received, err := projections.ByName("invitations_received")
	if err != nil {
		t.Fatal(err)
	}
	pane, err := projections.ByName("partners", "members")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := projections.ByName(asOfModels...)
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, at := range instants {
		for _, o := range w.orgs {
			org := uuid.MustParse(o.id)
			refs, err := s.Store.PersonRefsIn(ctx, domain.OrganizationStream(org))
			if err != nil {
				t.Fatal(err)
			}
			side := o.side
			queries := []struct {
				name string
				ps   []projections.Projection
				f    projections.Filter
				read func(context.Context, projections.Reader) (any, error)
			}{
				{"lists", ps, projections.Filter{Organization: org, Until: at}, func(ctx context.Context, r projections.Reader) (any, error) {
					return readAsOf(ctx, r, o, at)
				}},
				{"received", received, projections.Filter{Organization: org, PersonRefs: refs, Until: at}, func(ctx context.Context, r projections.Reader) (any, error) {
					out := map[string]any{}
					for _, st := range []string{"", "sent", "expired", "accepted", "declined", "revoked"} {
						v, _, err := r.ReceivedInvitations(ctx, org, side, st, at, projections.Page{Limit: 500})
						if err != nil {
							return nil, err
						}
						out[st] = v
					}
					return out, nil
				}},
			}
			// The pane of each partner then, and of an organization that
			// is none.
			for _, p := range w.orgs {
				if p != o && !slices.Contains(o.partners, p.id) {
					continue
				}
				partner := uuid.MustParse(p.id)
				queries = append(queries, struct {
					name string
					ps   []projections.Projection
					f    projections.Filter
					read func(context.Context, projections.Reader) (any, error)
				}{"pane " + p.id, pane, projections.Filter{Organization: org, Organizations: []uuid.UUID{partner}, Until: at},
					func(ctx context.Context, r projections.Reader) (any, error) {
						v, ok, err := r.PartnerDetails(ctx, org, partner)
						return fmt.Sprint(ok, v), err
					}})
			}
			for _, q := range queries {
				var replayed, valid any
				if err := projections.AsOfReplay(ctx, s.Store, q.ps, q.f, func(ctx context.Context, r projections.Reader) (err error) {
					replayed, err = q.read(ctx, r)
					return err
				}); err != nil {
					t.Fatal(err)
				}
				ok, err := projections.AsOfValidTime(ctx, s.Store, q.ps, at, func(ctx context.Context, r projections.Reader) (err error) {
					valid, err = q.read(ctx, r)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					t.Fatalf("as of %s the valid-time read models did not answer: their history should reach every instant", at.Format(time.RFC3339Nano))
				}
				if !reflect.DeepEqual(valid, replayed) {
					t.Fatalf("%s of %s as of %s:\nvalid time %+v\nreplay     %+v", q.name, o.id, at.Format(time.RFC3339Nano), valid, replayed)
				}
				compared++
			}
		}
	}
	t.Logf("%d answers compared at %d instants over %d events", compared, len(instants), last)
	// No version of a row was true for no time, or for less than none.
	for _, pr := range projections.All() {
		for _, tbl := range pr.Tables() {
			if tbl == "rm_member_streams" {
				continue
			}
			var bad int
			if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM `+tbl+`_history WHERE valid_to <= valid_from`).Scan(&bad); err != nil {
				t.Fatal(err)
			}
			if bad != 0 {
				t.Errorf("%s_history holds %d versions ending before they start", tbl, bad)
			}
		}
	}
}

// asOfInstants picks instants of the history: events' own instants, a
// microsecond before them, and random ones in between, each one where the
// events recorded at or before it are a prefix of the log (see AsOf: where
// they are not, the two answers differ by design). The apitest clock and
// the sequential requests make that every instant, except where a
// reaction appended concurrently.
func asOfInstants(t *testing.T, s *apitest.Server, rng *rand.Rand, n int) []time.Time {
	t.Helper()
	ctx := context.Background()
	rows, err := s.Pool.Query(ctx, `SELECT DISTINCT recorded_at FROM events ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var recorded []time.Time
	for rows.Next() {
		var at time.Time
		if err := rows.Scan(&at); err != nil {
			t.Fatal(err)
		}
		recorded = append(recorded, at)
	}
	if rows.Err() != nil || len(recorded) < 2 {
		t.Fatalf("history of %d instants: %v", len(recorded), rows.Err())
	}
	var out []time.Time
	skipped := 0
	for len(out) < n {
		at := recorded[rng.IntN(len(recorded))]
		switch rng.IntN(3) {
		case 1:
			at = at.Add(-time.Microsecond)
		case 2:
			first, lastAt := recorded[0], recorded[len(recorded)-1]
			at = first.Add(time.Duration(rng.Int64N(int64(lastAt.Sub(first)))))
		}
		var prefix bool
		if err := s.Pool.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM
			(SELECT transaction_id, position FROM events WHERE recorded_at > $1 ORDER BY transaction_id, position LIMIT 1) a,
			(SELECT transaction_id, position FROM events WHERE recorded_at <= $1 ORDER BY transaction_id DESC, position DESC LIMIT 1) b
			WHERE (a.transaction_id, a.position) < (b.transaction_id, b.position))`, at).Scan(&prefix); err != nil {
			t.Fatal(err)
		}
		if !prefix {
			skipped++
			if skipped > n {
				t.Fatalf("%d instants where the log's order and recorded_at disagree: the history is not what this test needs", skipped)
			}
			continue
		}
		out = append(out, at)
	}
	return out
}

// testingSeed is PARTNERS_ASOF_SEED, to rerun a failing history.
func testingSeed() uint64 {
	n, _ := strconv.ParseUint(os.Getenv("PARTNERS_ASOF_SEED"), 10, 64)
	return n
}

// A rebuild makes the history again from the events: the answers as of
// every instant stay the same, and verify compares the history tables too.
func TestRebuildKeepsHistory(t *testing.T) {
	t.Parallel()
	clock := apitest.NewClock()
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{Now: clock.Now})
	w := &world{t: t, s: s, rng: rand.New(rand.NewPCG(7, 11)), clock: clock,
		admin: apitest.Token(t, "ops", "ops@partners.example", "Ops", "partners:admin")}
	for _, side := range []string{"client", "subcontractor", "subcontractor"} {
		w.newOrg(side)
	}
	for range 80 {
		w.step()
	}
	w.forget(2)
	ctx := context.Background()
	var last int64
	if err := s.Pool.QueryRow(ctx, `SELECT max(position) FROM events`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	waitAll(t, s, last)
	ps, err := projections.ByName(asOfModels...)
	if err != nil {
		t.Fatal(err)
	}
	instants := asOfInstants(t, s, w.rng, 12)
	answers := func() []any {
		t.Helper()
		var out []any
		for _, at := range instants {
			for _, o := range w.orgs {
				var a any
				ok, err := projections.AsOfValidTime(ctx, s.Store, ps, at, func(ctx context.Context, r projections.Reader) (err error) {
					a, err = readAsOf(ctx, r, o, at)
					return err
				})
				if err != nil || !ok {
					t.Fatalf("as of %s: answered %v, %v", at, ok, err)
				}
				out = append(out, a)
			}
		}
		return out
	}
	before := answers()
	historyRows := func() int {
		var n int
		if err := s.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM rm_members_history) + (SELECT count(*) FROM rm_invitations_sent_history)
			+ (SELECT count(*) FROM rm_portal_access_history)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	kept := historyRows()
	if kept == 0 {
		t.Fatal("the history left no rows in history tables: nothing to rebuild")
	}
	// As after migration 014 on a database that already held rows: no
	// history before it, so an answer about an earlier instant is replayed
	// (and still right), until a rebuild makes the whole history.
	if _, err := s.Pool.Exec(ctx, `UPDATE projection_checkpoints SET history_since = now() + interval '1 day'`); err != nil {
		t.Fatal(err)
	}
	for i, at := range instants[:3] {
		o := w.orgs[i%len(w.orgs)]
		if ok, err := projections.AsOfValidTime(ctx, s.Store, ps, at, func(context.Context, projections.Reader) error { return nil }); ok || err != nil {
			t.Fatalf("as of %s, before the history starts: answered %v, %v; want no valid-time answer", at, ok, err)
		}
		var got, want any
		if err := projections.AsOf(ctx, s.Store, ps, projections.Filter{Organization: uuid.MustParse(o.id), Until: at},
			func(ctx context.Context, r projections.Reader) (err error) {
				got, err = readAsOf(ctx, r, o, at)
				return err
			}); err != nil {
			t.Fatal(err)
		}
		if err := projections.AsOfReplay(ctx, s.Store, ps, projections.Filter{Organization: uuid.MustParse(o.id), Until: at},
			func(ctx context.Context, r projections.Reader) (err error) {
				want, err = readAsOf(ctx, r, o, at)
				return err
			}); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("as of %s, before the history starts:\ngot  %+v\nwant %+v", at, got, want)
		}
	}
	var names []string
	for _, pr := range s.Projector.Projections() {
		names = append(names, pr.Name())
	}
	if _, err := s.Projector.Rebuild(ctx, names, nil); err != nil {
		t.Fatal(err)
	}
	if n := historyRows(); n != kept {
		t.Fatalf("history rows after the rebuild = %d; want %d", n, kept)
	}
	if after := answers(); !reflect.DeepEqual(after, before) {
		t.Fatalf("as-of answers changed with the rebuild:\nafter  %+v\nbefore %+v", after, before)
	}
	diffs, err := s.Projector.Verify(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("difference after rebuild: %s", d)
	}
	// Verify reads the history: a tampered history row is found.
	if _, err := s.Pool.Exec(ctx, `UPDATE rm_members_history SET role = 'tampered' WHERE ctid = (SELECT ctid FROM rm_members_history LIMIT 1)`); err != nil {
		t.Fatal(err)
	}
	diffs, err = s.Projector.Verify(ctx, []string{"members"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 2 || diffs[0].Table != "rm_members_history" {
		t.Fatalf("verify after tampering with history found %v; want the tampered row and its replayed original", diffs)
	}
}

// Forgetting a person scrubs their data at every instant, the history
// included: as of before the forgetting, the valid-time answer shows the
// forgotten marker, as the replay does, and no table keeps the email.
func TestForgottenInHistory(t *testing.T) {
	t.Parallel()
	clock := apitest.NewClock()
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{Now: clock.Now})
	ctx := context.Background()
	owner, cole := apitest.NewUser(t, "Claire"), apitest.NewUser(t, "Cole")
	org, _ := s.CreateOrganization(t, owner, "Acme", "client")
	do := func(method, path string, u string, body any, status int) apitest.Response {
		t.Helper()
		clock.Advance(time.Second)
		r := s.Do(t, apitest.Request{Method: method, Path: path, Token: u, Body: body})
		apitest.Expect(t, r, status)
		return r
	}
	o := "/v1/organizations/" + org
	m := do("POST", o+"/member-invitations", owner.Token, map[string]any{"email": cole.Email, "role": "admin"}, 201).JSON(t)
	do("POST", "/v1/member-invitations/"+m["id"].(string)+"/accept", cole.Token, map[string]any{"token": m["token"]}, 200)
	do("PATCH", o+"/members/"+cole.Sub, owner.Token, map[string]any{"role": "member"}, 200)
	do("POST", o+"/invitations", owner.Token, map[string]any{"email": cole.Email, "message": "for Cole"}, 201)
	clock.Advance(time.Second)
	whileKnown := clock.Now()
	do("DELETE", o+"/members/"+cole.Sub, owner.Token, nil, 204)
	admin := apitest.Token(t, "ops", "ops@partners.example", "Ops", "partners:admin")
	r := do("POST", "/v1/admin/people/forget", admin, map[string]any{"email": cole.Email}, 200)
	waitAll(t, s, r.Position)

	ps, err := projections.ByName("members", "invitations_sent")
	if err != nil {
		t.Fatal(err)
	}
	read := func(ctx context.Context, r projections.Reader) (any, error) {
		members, _, err := r.Members(ctx, uuid.MustParse(org), projections.Page{Limit: 50})
		if err != nil {
			return nil, err
		}
		sent, _, err := r.SentInvitations(ctx, uuid.MustParse(org), "", whileKnown, projections.Page{Limit: 50})
		return []any{members, sent}, err
	}
	var valid, replayed any
	ok, err := projections.AsOfValidTime(ctx, s.Store, ps, whileKnown, func(ctx context.Context, r projections.Reader) (err error) {
		valid, err = read(ctx, r)
		return err
	})
	if err != nil || !ok {
		t.Fatalf("valid time: %v, %v", ok, err)
	}
	if err := projections.AsOfReplay(ctx, s.Store, ps, projections.Filter{Organization: uuid.MustParse(org), Until: whileKnown},
		func(ctx context.Context, r projections.Reader) (err error) {
			replayed, err = read(ctx, r)
			return err
		}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(valid, replayed) {
		t.Fatalf("as of before the forgetting:\nvalid time %+v\nreplay     %+v", valid, replayed)
	}
	got := fmt.Sprint(valid)
	if !strings.Contains(got, domain.Forgotten) || strings.Contains(got, cole.Email) {
		t.Fatalf("as of before the forgetting = %s; want Cole's email read as %s", got, domain.Forgotten)
	}
	// No copy left anywhere, current or past.
	for _, tbl := range []string{"rm_members", "rm_members_history", "rm_invitations_sent", "rm_invitations_sent_history",
		"rm_team_invitations", "rm_team_invitations_history"} {
		var n int
		if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM `+tbl+` t WHERE strpos(row_to_json(t)::text, $1) > 0`, cole.Email).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s keeps %d rows with the forgotten email", tbl, n)
		}
	}
	var past int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM rm_members_history WHERE email = $1`, domain.Forgotten).Scan(&past); err != nil || past == 0 {
		t.Fatalf("rm_members_history holds %d scrubbed versions of Cole (%v); want his past kept, scrubbed", past, err)
	}
}

// Every read-model table keeps history (but the members' version guard):
// a history table with its columns and valid_to, the two triggers, and a
// view in schema asof over both. A column added to a read-model table and
// not to its history, or a table added without them, fails here.
func TestEveryReadModelKeepsHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	columns := func(schema, table string) []string {
		t.Helper()
		rows, err := pool.Query(ctx, `SELECT attname FROM pg_attribute
			WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attname`, schema+"."+table)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
		return out
	}
	for _, pr := range projections.All() {
		for _, tbl := range pr.Tables() {
			if tbl == "rm_member_streams" {
				continue
			}
			live := columns("public", tbl)
			if !slices.Contains(live, "valid_from") {
				t.Errorf("%s has no valid_from", tbl)
				continue
			}
			want := slices.Sorted(slices.Values(append(slices.Clone(live), "valid_to")))
			if got := columns("public", tbl+"_history"); !reflect.DeepEqual(got, want) {
				t.Errorf("%s_history has columns %v; want %v", tbl, got, want)
			}
			if got := columns("asof", tbl); !reflect.DeepEqual(got, live) {
				t.Errorf("asof.%s has columns %v; want %v", tbl, got, live)
			}
			var triggers []string
			rows, err := pool.Query(ctx, `SELECT tgname FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal ORDER BY tgname`, tbl)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
				triggers = append(triggers, n)
			}
			if want := []string{"rm_history", "rm_valid_from"}; !reflect.DeepEqual(triggers, want) {
				t.Errorf("%s has triggers %v; want %v", tbl, triggers, want)
			}
			// The history function names every column of the table.
			var body string
			if err := pool.QueryRow(ctx, `SELECT prosrc FROM pg_proc WHERE proname = $1`, "rm_history_"+tbl).Scan(&body); err != nil {
				t.Fatalf("history function of %s: %v", tbl, err)
			}
			for _, c := range live {
				if !strings.Contains(body, "OLD."+c+",") && !strings.Contains(body, `OLD."`+c+`",`) {
					t.Errorf("rm_history_%s does not copy %s", tbl, c)
				}
			}
		}
	}
}
