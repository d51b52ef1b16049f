package api_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/stdlib"

	"partners/app"
	"partners/domain"
	"partners/eventstore"
	"partners/internal/apitest"
	"partners/internal/pgtest"
	"partners/notify/mail"
	"partners/notify/mail/mailtest"
)

// portal is a client organization with its owner, for the portal tests.
type portal struct {
	s     *apitest.Server
	owner apitest.User
	org   string
}

func newPortal(t *testing.T, s *apitest.Server, name string) portal {
	t.Helper()
	owner := apitest.NewUser(t, "Claire")
	org, _ := s.CreateOrganization(t, owner, name, "client")
	return portal{s: s, owner: owner, org: org}
}

func (p portal) do(t *testing.T, u apitest.User, method, path string, body any) apitest.Response {
	t.Helper()
	return p.s.Do(t, apitest.Request{Method: method, Path: "/v1/organizations/" + p.org + path, Token: u.Token, Body: body})
}

// user adds a portal user and returns its id.
func (p portal) user(t *testing.T, email, name, company string) string {
	t.Helper()
	r := p.do(t, p.owner, "POST", "/portal-users", map[string]any{"email": email, "name": name, "company": company})
	apitest.Expect(t, r, http.StatusCreated)
	return r.JSON(t)["id"].(string)
}

func contractPath(id string) string { return "/contracts/" + url.PathEscape(id) }

// share shows (or replaces) a contract in the portal.
func (p portal) share(t *testing.T, contract, title, requester string, watchers []string, visible bool) apitest.Response {
	t.Helper()
	if watchers == nil {
		watchers = []string{}
	}
	return p.do(t, p.owner, "PUT", contractPath(contract)+"/portal",
		map[string]any{"title": title, "requester_id": requester, "watcher_ids": watchers, "attachments_visible": visible})
}

// join makes u a member of the organization with a role, as the team
// feature would (its commands are built elsewhere), and returns the
// position to read after.
func (p portal) join(t *testing.T, u apitest.User, role domain.Role) int64 {
	t.Helper()
	id := uuid.MustParse(p.org)
	ref := p.s.Store.Keys().Ref(u.Email)
	res, err := p.s.Store.Append(context.Background(), eventstore.Batch{Streams: []eventstore.StreamAppend{{
		StreamID: domain.OrganizationStream(id), StreamType: domain.OrganizationStreamType, Expected: eventstore.Any,
		Events: []eventstore.NewEvent{{ID: uuid.New(), Data: domain.MemberJoined{OrganizationID: id, UserID: u.Sub,
			Email: domain.PersonalOf(ref, u.Email), Name: domain.PersonalOf(ref, u.Name), EmailVerified: true, Role: role, Via: "test"}}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	p.s.Projector.Wake()
	return res.Position
}

type portalPerson struct {
	ID, Name, Email, Company string
}

type contractPortal struct {
	ContractID         string         `json:"contract_id"`
	Title              string         `json:"title"`
	Requester          portalPerson   `json:"requester"`
	Watchers           []portalPerson `json:"watchers"`
	AttachmentsVisible bool           `json:"attachments_visible"`
	SharedAt           time.Time      `json:"shared_at"`
}

func decodePortal(t *testing.T, r apitest.Response) contractPortal {
	t.Helper()
	var v contractPortal
	r.Decode(t, &v)
	return v
}

func watcherIDs(v contractPortal) []string {
	out := []string{}
	for _, w := range v.Watchers {
		out = append(out, w.ID)
	}
	return out
}

type portalContract struct {
	ContractID         string `json:"contract_id"`
	Title              string `json:"title"`
	As                 string `json:"as"`
	AttachmentsVisible bool   `json:"attachments_visible"`
}

func (p portal) contracts(t *testing.T, u apitest.User, portalUser string, after int64) []portalContract {
	t.Helper()
	r := p.s.Get(t, u, "/v1/organizations/"+p.org+"/portal-users/"+portalUser+"/contracts", after)
	apitest.Expect(t, r, http.StatusOK)
	var l struct {
		Items []portalContract `json:"items"`
	}
	r.Decode(t, &l)
	return l.Items
}

func (p portal) portalOf(t *testing.T, u apitest.User, contract string, after int64) apitest.Response {
	t.Helper()
	return p.s.Get(t, u, "/v1/organizations/"+p.org+contractPath(contract)+"/portal", after)
}

func problemOf(t *testing.T, r apitest.Response) (detail string, fields []string, details map[string]any) {
	t.Helper()
	var pb struct {
		Detail string `json:"detail"`
		Errors []struct {
			Field string `json:"field"`
		} `json:"errors"`
		Details map[string]any `json:"details"`
	}
	r.Decode(t, &pb)
	for _, e := range pb.Errors {
		fields = append(fields, e.Field)
	}
	return pb.Detail, fields, pb.Details
}

// Seed 001: a contract shown in the client portal with a requester and
// watchers of the same company, the attachments switch, a watcher added
// later (ShareContractWithWatcher) once the company setting is fixed, one
// removed, and the contract withdrawn.
func TestSeed001ClientPortal(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	p := newPortal(t, s, "Acme Travaux")
	anna := p.user(t, "Anna.Klein@Dupont.fr ", "Anna Klein", "Dupont SA")
	bruno := p.user(t, "bruno@dupont.fr", "Bruno Roy", "  DUPONT   sa ")
	carla := p.user(t, "carla@dupont.fr", "Carla Diaz", "Dupont et fils")
	denis := p.user(t, "denis@perso.fr", "Denis Lenoir", "")
	const contract = "C-2026:42"

	// "Afficher dans le portail client": the requester, a watcher, all
	// attachments visible.
	r := p.share(t, contract, "Maintenance 2026", anna, []string{bruno}, true)
	apitest.Expect(t, r, http.StatusCreated)
	shown := decodePortal(t, r)
	if shown.ContractID != contract || shown.Title != "Maintenance 2026" || shown.Requester.ID != anna || shown.Requester.Email != "anna.klein@dupont.fr" ||
		!reflect.DeepEqual(watcherIDs(shown), []string{bruno}) || !shown.AttachmentsVisible || shown.SharedAt.IsZero() || r.Position == 0 {
		t.Fatalf("PUT answer = %s (position %d)", r.Body, r.Position)
	}
	got := decodePortal(t, p.portalOf(t, p.owner, contract, r.Position))
	if !reflect.DeepEqual(got, shown) {
		t.Fatalf("GET portal =\n%+v\nwant the PUT's answer\n%+v", got, shown)
	}
	if c := p.contracts(t, p.owner, anna, r.Position); !reflect.DeepEqual(c, []portalContract{{contract, "Maintenance 2026", "requester", true}}) {
		t.Fatalf("Anna's Contracts page = %+v", c)
	}
	if c := p.contracts(t, p.owner, bruno, r.Position); !reflect.DeepEqual(c, []portalContract{{contract, "Maintenance 2026", "watcher", true}}) {
		t.Fatalf("Bruno's Contracts page = %+v", c)
	}

	t.Run("OK: the same PUT again changes nothing", func(t *testing.T) {
		again := p.share(t, contract, "Maintenance 2026", anna, []string{bruno, bruno}, true)
		apitest.Expect(t, again, http.StatusOK)
		if again.Position != r.Position || !reflect.DeepEqual(decodePortal(t, again), shown) {
			t.Fatalf("repeated PUT: position %d (want %d), body %s", again.Position, r.Position, again.Body)
		}
	})
	t.Run("ErrCompanyMismatch", func(t *testing.T) {
		res := p.do(t, p.owner, "POST", contractPath(contract)+"/watchers", map[string]any{"portal_user_id": carla})
		apitest.Expect(t, res, http.StatusUnprocessableEntity, "company_mismatch")
		detail, _, details := problemOf(t, res)
		for _, want := range []string{"Carla Diaz", carla, "Settings → Client portal → Manage clients", `"Dupont SA"`} {
			if !strings.Contains(detail, want) {
				t.Errorf("detail %q lacks %q", detail, want)
			}
		}
		if users, _ := details["portal_users"].([]any); len(users) != 1 || users[0].(map[string]any)["id"] != carla {
			t.Errorf("details.portal_users = %v; want Carla", details["portal_users"])
		}
		res = p.share(t, "C-other", "Other", denis, []string{anna}, false)
		apitest.Expect(t, res, http.StatusUnprocessableEntity, "company_mismatch")
		if detail, _, _ := problemOf(t, res); !strings.Contains(detail, "Denis Lenoir") || !strings.Contains(detail, "has no company") {
			t.Errorf("requester without company: detail %q", detail)
		}
	})
	t.Run("OK: ShareContractWithWatcher once the company is fixed", func(t *testing.T) {
		fix := p.do(t, p.owner, "PATCH", "/portal-users/"+carla, map[string]any{"company": "dupont sa"})
		apitest.Expect(t, fix, http.StatusOK)
		if m := fix.JSON(t); m["company"] != "dupont sa" || m["name"] != "Carla Diaz" || m["email"] != "carla@dupont.fr" {
			t.Fatalf("PATCH answer = %s", fix.Body)
		}
		res := p.do(t, p.owner, "POST", contractPath(contract)+"/watchers", map[string]any{"portal_user_id": carla})
		apitest.Expect(t, res, http.StatusOK)
		if w := watcherIDs(decodePortal(t, res)); !reflect.DeepEqual(w, []string{bruno, carla}) {
			t.Fatalf("watchers = %v; want Bruno then Carla", w)
		}
		twice := p.do(t, p.owner, "POST", contractPath(contract)+"/watchers", map[string]any{"portal_user_id": carla})
		apitest.Expect(t, twice, http.StatusOK)
		if twice.Position != res.Position {
			t.Fatalf("adding a watcher twice answered position %d; want %d (nothing appended)", twice.Position, res.Position)
		}
		if c := p.contracts(t, p.owner, carla, res.Position); len(c) != 1 || c[0].As != "watcher" {
			t.Fatalf("Carla's Contracts page = %+v", c)
		}
	})
	t.Run("ErrRequesterAsWatcher", func(t *testing.T) {
		res := p.do(t, p.owner, "POST", contractPath(contract)+"/watchers", map[string]any{"portal_user_id": anna})
		apitest.Expect(t, res, http.StatusUnprocessableEntity, "validation_failed")
		if _, fields, _ := problemOf(t, res); !reflect.DeepEqual(fields, []string{"portal_user_id"}) {
			t.Fatalf("fields = %v", fields)
		}
		res = p.share(t, contract, "Maintenance 2026", anna, []string{bruno, anna}, true)
		apitest.Expect(t, res, http.StatusUnprocessableEntity, "validation_failed")
		if _, fields, _ := problemOf(t, res); !reflect.DeepEqual(fields, []string{"watcher_ids[1]"}) {
			t.Fatalf("fields = %v", fields)
		}
	})
	t.Run("ErrUnknownPortalUser", func(t *testing.T) {
		res := p.share(t, contract, "Maintenance 2026", anna, []string{bruno, uuid.NewString(), "not-an-id"}, true)
		apitest.Expect(t, res, http.StatusUnprocessableEntity, "validation_failed")
		if _, fields, _ := problemOf(t, res); !reflect.DeepEqual(fields, []string{"watcher_ids[2]"}) && !reflect.DeepEqual(fields, []string{"watcher_ids[1]", "watcher_ids[2]"}) {
			t.Fatalf("fields = %v; want the unknown and the malformed watcher named", fields)
		}
		res = p.share(t, contract, "Maintenance 2026", anna, []string{bruno, uuid.NewString()}, true)
		apitest.Expect(t, res, http.StatusUnprocessableEntity, "validation_failed")
		if _, fields, _ := problemOf(t, res); !reflect.DeepEqual(fields, []string{"watcher_ids[1]"}) {
			t.Fatalf("fields = %v; want watcher_ids[1]", fields)
		}
		res = p.do(t, p.owner, "POST", contractPath(contract)+"/watchers", map[string]any{"portal_user_id": uuid.NewString()})
		apitest.Expect(t, res, http.StatusUnprocessableEntity, "validation_failed")
	})
	t.Run("ErrValidation", func(t *testing.T) {
		for name, tc := range map[string]struct {
			path   string
			body   any
			fields []string
		}{
			"ErrTitleRequired":     {contractPath(contract) + "/portal", map[string]any{"requester_id": anna}, []string{"title"}},
			"ErrRequesterRequired": {contractPath(contract) + "/portal", map[string]any{"title": "T"}, []string{"requester_id"}},
			"ErrBadContractID":     {"/contracts/bad%2Fid/portal", map[string]any{"title": "T", "requester_id": anna}, []string{"contract_id"}},
			"ErrContractIDTooLong": {"/contracts/" + strings.Repeat("x", 129) + "/portal", map[string]any{"title": "T", "requester_id": anna}, []string{"contract_id"}},
			"ErrBadLocale":         {contractPath(contract) + "/portal", map[string]any{"title": "T", "requester_id": anna, "locale": "it"}, []string{"locale"}},
		} {
			t.Run(name, func(t *testing.T) {
				res := p.do(t, p.owner, "PUT", tc.path, tc.body)
				apitest.Expect(t, res, http.StatusUnprocessableEntity, "validation_failed")
				if _, fields, _ := problemOf(t, res); !reflect.DeepEqual(fields, tc.fields) {
					t.Fatalf("fields = %v; want %v", fields, tc.fields)
				}
			})
		}
		apitest.Expect(t, p.do(t, p.owner, "PUT", contractPath(contract)+"/portal", `{"title": "T", "watcher_ids": "x"}`), http.StatusUnprocessableEntity, "validation_failed")
		apitest.Expect(t, p.do(t, p.owner, "PUT", contractPath(contract)+"/portal", `{"title": `), http.StatusBadRequest, "malformed_request")
		apitest.Expect(t, p.do(t, p.owner, "PATCH", contractPath(contract)+"/portal", map[string]any{}), http.StatusUnprocessableEntity, "validation_failed")
		apitest.Expect(t, p.s.Get(t, p.owner, "/v1/organizations/"+p.org+"/contracts/bad%2Fid/portal", 0), http.StatusUnprocessableEntity, "validation_failed")
		apitest.Expect(t, p.do(t, p.owner, "POST", "/portal-users", map[string]any{"email": "x", "name": ""}), http.StatusUnprocessableEntity, "validation_failed")
		apitest.Expect(t, p.do(t, p.owner, "PATCH", "/portal-users/"+anna, map[string]any{"name": " "}), http.StatusUnprocessableEntity, "validation_failed")
		apitest.Expect(t, p.do(t, p.owner, "PATCH", "/portal-users/not-an-id", map[string]any{"name": "X"}), http.StatusNotFound, "not_found")
	})
	t.Run("ErrPortalUserExists", func(t *testing.T) {
		res := p.do(t, p.owner, "POST", "/portal-users", map[string]any{"email": " ANNA.KLEIN@dupont.fr", "name": "Anna K.", "company": ""})
		apitest.Expect(t, res, http.StatusConflict, "portal_user_exists")
		if _, _, details := problemOf(t, res); details["portal_user_id"] != anna {
			t.Fatalf("details = %v; want the existing portal user %s", details, anna)
		}
	})
	t.Run("OK: the switch, a removal, the list by company", func(t *testing.T) {
		sw := p.do(t, p.owner, "PATCH", contractPath(contract)+"/portal", map[string]any{"attachments_visible": false})
		apitest.Expect(t, sw, http.StatusOK)
		if decodePortal(t, sw).AttachmentsVisible {
			t.Fatalf("switch answer = %s", sw.Body)
		}
		rm := p.do(t, p.owner, "DELETE", contractPath(contract)+"/watchers/"+bruno, nil)
		apitest.Expect(t, rm, http.StatusNoContent)
		if rm.Position <= sw.Position {
			t.Fatalf("removal position %d; want after %d", rm.Position, sw.Position)
		}
		again := p.do(t, p.owner, "DELETE", contractPath(contract)+"/watchers/"+bruno, nil)
		apitest.Expect(t, again, http.StatusNoContent)
		if again.Position != rm.Position {
			t.Fatalf("removing twice answered position %d; want %d", again.Position, rm.Position)
		}
		v := decodePortal(t, p.portalOf(t, p.owner, contract, rm.Position))
		if !reflect.DeepEqual(watcherIDs(v), []string{carla}) || v.AttachmentsVisible {
			t.Fatalf("portal after switch and removal = %+v", v)
		}
		if c := p.contracts(t, p.owner, bruno, rm.Position); len(c) != 0 {
			t.Fatalf("Bruno still sees %+v", c)
		}
		l := list(t, s, p.owner, "/v1/organizations/"+p.org+"/portal-users?company="+url.QueryEscape(" dupont SA"), rm.Position)
		var names []string
		for _, it := range l {
			names = append(names, it["name"].(string))
		}
		if !reflect.DeepEqual(names, []string{"Anna Klein", "Bruno Roy", "Carla Diaz"}) {
			t.Fatalf("portal users of Dupont SA = %v", names)
		}
		if all := list(t, s, p.owner, "/v1/organizations/"+p.org+"/portal-users?limit=2", 0); len(all) != 2 {
			t.Fatalf("first page of 2 = %v", all)
		}
	})
	t.Run("OK: withdrawn", func(t *testing.T) {
		w := p.do(t, p.owner, "DELETE", contractPath(contract)+"/portal", nil)
		apitest.Expect(t, w, http.StatusNoContent)
		apitest.Expect(t, p.portalOf(t, p.owner, contract, w.Position), http.StatusNotFound, "not_found")
		if c := p.contracts(t, p.owner, anna, w.Position); len(c) != 0 {
			t.Fatalf("Anna still sees %+v", c)
		}
		apitest.Expect(t, p.do(t, p.owner, "DELETE", contractPath(contract)+"/portal", nil), http.StatusNotFound, "not_found")
		apitest.Expect(t, p.do(t, p.owner, "PATCH", contractPath(contract)+"/portal", map[string]any{"attachments_visible": true}), http.StatusNotFound, "not_found")
		apitest.Expect(t, p.do(t, p.owner, "POST", contractPath(contract)+"/watchers", map[string]any{"portal_user_id": bruno}), http.StatusNotFound, "not_found")
		// Shown again: a new showing, 201.
		again := p.share(t, contract, "Maintenance 2026", anna, nil, false)
		apitest.Expect(t, again, http.StatusCreated)
		if v := decodePortal(t, again); len(v.Watchers) != 0 || !v.SharedAt.After(shown.SharedAt) {
			t.Fatalf("shown again = %s", again.Body)
		}
	})
}

// portal.manage for owners, admins and members; portal.read also for
// accountants; nothing for collaborators; and one organization's portal
// users are invisible to every other.
func TestPortalRoles(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	p := newPortal(t, s, "Acme Travaux")
	admin, member, accountant, collab, outsider := apitest.NewUser(t, "Adam"), apitest.NewUser(t, "Mia"),
		apitest.NewUser(t, "Compta"), apitest.NewUser(t, "Colin"), apitest.NewUser(t, "Eve")
	p.join(t, admin, domain.RoleAdmin)
	p.join(t, member, domain.RoleMember)
	p.join(t, accountant, domain.RoleAccountant)
	pos := p.join(t, collab, domain.RoleCollaborator)
	p.s.Get(t, p.owner, "/v1/organizations/"+p.org+"/members", pos)
	anna := p.user(t, "anna@dupont.fr", "Anna Klein", "Dupont SA")
	const contract = "C-1"
	r := p.share(t, contract, "Maintenance", anna, nil, false)
	apitest.Expect(t, r, http.StatusCreated)

	manage := func(u apitest.User, status int, code ...string) {
		t.Helper()
		apitest.Expect(t, p.do(t, u, "POST", "/portal-users", map[string]any{"email": "x." + u.Sub + "@dupont.fr", "name": "X", "company": "Dupont SA"}), status, code...)
		apitest.Expect(t, p.do(t, u, "PATCH", "/portal-users/"+anna, map[string]any{"name": "Anna Klein"}), orOK(status), code...)
		apitest.Expect(t, p.do(t, u, "PATCH", contractPath(contract)+"/portal", map[string]any{"attachments_visible": false}), orOK(status), code...)
	}
	read := func(u apitest.User, status int, code ...string) {
		t.Helper()
		apitest.Expect(t, p.portalOf(t, u, contract, r.Position), status, code...)
		apitest.Expect(t, p.s.Get(t, u, "/v1/organizations/"+p.org+"/portal-users", r.Position), status, code...)
		apitest.Expect(t, p.s.Get(t, u, "/v1/organizations/"+p.org+"/portal-users/"+anna+"/contracts", r.Position), status, code...)
	}
	t.Run("OK: admin", func(t *testing.T) { manage(admin, http.StatusCreated); read(admin, http.StatusOK) })
	t.Run("OK: member", func(t *testing.T) { manage(member, http.StatusCreated); read(member, http.StatusOK) })
	t.Run("ErrAccountantMayNotManage", func(t *testing.T) {
		manage(accountant, http.StatusForbidden, "not_allowed")
		read(accountant, http.StatusOK)
	})
	t.Run("ErrCollaboratorMayNotRead", func(t *testing.T) {
		manage(collab, http.StatusForbidden, "not_allowed")
		read(collab, http.StatusForbidden, "not_allowed")
	})
	t.Run("ErrOutsiderSeesNothing", func(t *testing.T) {
		manage(outsider, http.StatusNotFound, "not_found")
		read(outsider, http.StatusNotFound, "not_found")
	})
	t.Run("ErrAnotherOrganizationsPortalUser", func(t *testing.T) {
		other := newPortal(t, s, "Other Client")
		olga := other.user(t, "olga@dupont.fr", "Olga", "Dupont SA")
		// Not addressable from the first organization...
		res := p.do(t, p.owner, "POST", contractPath(contract)+"/watchers", map[string]any{"portal_user_id": olga})
		apitest.Expect(t, res, http.StatusUnprocessableEntity, "validation_failed")
		apitest.Expect(t, p.do(t, p.owner, "PATCH", "/portal-users/"+olga, map[string]any{"company": "X"}), http.StatusNotFound, "not_found")
		apitest.Expect(t, p.s.Get(t, p.owner, "/v1/organizations/"+p.org+"/portal-users/"+olga+"/contracts", res.Position), http.StatusNotFound, "not_found")
		// ... nor listed, and the same contract id is another contract there.
		for _, it := range list(t, s, p.owner, "/v1/organizations/"+p.org+"/portal-users", 0) {
			if it["id"] == olga {
				t.Fatalf("Olga listed in the first organization")
			}
		}
		apitest.Expect(t, other.portalOf(t, other.owner, contract, 0), http.StatusNotFound, "not_found")
		// The same email may be a portal user of both organizations.
		apitest.Expect(t, other.do(t, other.owner, "POST", "/portal-users", map[string]any{"email": "anna@dupont.fr", "name": "Anna", "company": ""}), http.StatusCreated)
	})
}

func orOK(status int) int {
	if status == http.StatusCreated {
		return http.StatusOK
	}
	return status
}

// runPortalProcess runs the company-change process manager as serve does:
// a Watermill reaction over the outbox in its own consumer group. wrap,
// when given, wraps it (to make it fail).
func runPortalProcess(t *testing.T, s *apitest.Server, wrap func(eventstore.Reaction) eventstore.Reaction) {
	t.Helper()
	rs, err := eventstore.NewReactions(s.Store, s.Pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	var react eventstore.Reaction = s.App.ReactToPortalChange
	if wrap != nil {
		react = wrap(react)
	}
	if err := rs.Add(app.PortalConsumerGroup, react); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = rs.Run(ctx) }()
	<-rs.Running()
	t.Cleanup(func() { cancel(); <-done })
}

// settle waits until the process manager has handled every event and the
// portal read models have applied them all, and returns the last position.
func settle(t *testing.T, s *apitest.Server) int64 {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var done bool
		var last int64
		if err := s.Pool.QueryRow(ctx, `SELECT NOT EXISTS (
				SELECT 1 FROM watermill_events w, watermill_offsets_events o
				 WHERE o.consumer_group = $1 AND (w.transaction_id, w."offset") > (o.last_processed_transaction_id, o.offset_acked)),
			(SELECT coalesce(max(position), 0) FROM events)`, app.PortalConsumerGroup).Scan(&done, &last); err != nil {
			t.Fatal(err)
		}
		if done {
			if err := s.Projector.WaitApplied(ctx, []string{"portal_users", "portal_access"}, last, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("the process manager did not catch up")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type withdrawal struct {
	contract, watcher, reason, causation string
}

// withdrawals lists the WatcherAccessWithdrawn events of an organization.
func withdrawals(t *testing.T, s *apitest.Server, org string) []withdrawal {
	t.Helper()
	rows, err := s.Pool.Query(context.Background(), `SELECT data->>'contract_id', data->>'portal_user_id', data->>'reason',
		coalesce(metadata->>'causation_id', '') FROM events
		WHERE event_type = 'WatcherAccessWithdrawn' AND data->>'organization_id' = $1 ORDER BY position`, org)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []withdrawal
	for rows.Next() {
		var w withdrawal
		if err := rows.Scan(&w.contract, &w.watcher, &w.reason, &w.causation); err != nil {
			t.Fatal(err)
		}
		out = append(out, w)
	}
	return out
}

// checkSameCompany fails unless every watcher of every contract named
// belongs to its requester's company, per the read models.
func checkSameCompany(t *testing.T, p portal, after int64, contracts ...string) {
	t.Helper()
	for _, c := range contracts {
		r := p.portalOf(t, p.owner, c, after)
		if r.Status == http.StatusNotFound {
			continue
		}
		apitest.Expect(t, r, http.StatusOK)
		v := decodePortal(t, r)
		for _, w := range v.Watchers {
			if domain.NormalizeCompany(w.Company) != domain.NormalizeCompany(v.Requester.Company) || domain.NormalizeCompany(v.Requester.Company) == "" {
				t.Errorf("contract %s: watcher %s (%q) kept access with requester %s (%q)", c, w.Name, w.Company, v.Requester.Name, v.Requester.Company)
			}
		}
	}
}

// A company change withdraws, by events of their own naming the reason,
// the watchers who no longer match their requester's company, on every
// contract involved, whether the watcher or the requester moved.
func TestPortalCompanyChangeWithdrawsWatchers(t *testing.T) {
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{})
	runPortalProcess(t, s, nil)
	p := newPortal(t, s, "Acme Travaux")
	anna := p.user(t, "anna@dupont.fr", "Anna Klein", "Dupont SA")
	bruno := p.user(t, "bruno@dupont.fr", "Bruno Roy", "Dupont SA")
	emma := p.user(t, "emma@dupont.fr", "Emma Petit", "dupont sa")
	apitest.Expect(t, p.share(t, "C-1", "Maintenance", anna, []string{bruno, emma}, false), http.StatusCreated)
	apitest.Expect(t, p.share(t, "C-2", "Toiture", bruno, []string{anna}, false), http.StatusCreated)
	apitest.Expect(t, p.share(t, "C-3", "Peinture", emma, []string{anna}, true), http.StatusCreated)
	settle(t, s)
	if w := withdrawals(t, s, p.org); len(w) != 0 {
		t.Fatalf("withdrawals before any change: %+v", w)
	}

	// Bruno moves: he loses C-1 as a watcher, and Anna loses C-2, whose
	// requester he is. A change of spelling only (Emma) changes nothing.
	move := p.do(t, p.owner, "PATCH", "/portal-users/"+bruno, map[string]any{"company": "Autre SARL"})
	apitest.Expect(t, move, http.StatusOK)
	apitest.Expect(t, p.do(t, p.owner, "PATCH", "/portal-users/"+emma, map[string]any{"company": "DUPONT SA"}), http.StatusOK)
	last := settle(t, s)

	var cause string
	if err := s.Pool.QueryRow(context.Background(), `SELECT event_id::text FROM events WHERE position = $1`, move.Position).Scan(&cause); err != nil {
		t.Fatal(err)
	}
	want := []withdrawal{{"C-1", bruno, "company_mismatch", cause}, {"C-2", anna, "company_mismatch", cause}}
	if got := withdrawals(t, s, p.org); !reflect.DeepEqual(got, want) {
		t.Fatalf("withdrawals =\n%+v\nwant\n%+v", got, want)
	}
	if w := watcherIDs(decodePortal(t, p.portalOf(t, p.owner, "C-1", last))); !reflect.DeepEqual(w, []string{emma}) {
		t.Fatalf("C-1 watchers = %v; want Emma only", w)
	}
	if c := p.contracts(t, p.owner, bruno, last); !reflect.DeepEqual(c, []portalContract{{"C-2", "Toiture", "requester", false}}) {
		t.Fatalf("Bruno's Contracts page = %+v; want C-2 as requester only", c)
	}
	if c := p.contracts(t, p.owner, anna, last); len(c) != 2 || c[0].ContractID != "C-1" || c[1].ContractID != "C-3" {
		t.Fatalf("Anna's Contracts page = %+v; want C-1 (requester) and C-3 (watcher)", c)
	}
	checkSameCompany(t, p, last, "C-1", "C-2", "C-3")

	// Emma's company emptied: she loses nothing as a watcher of nobody's,
	// but Anna, watcher of C-3 that Emma requests, does.
	apitest.Expect(t, p.do(t, p.owner, "PATCH", "/portal-users/"+emma, map[string]any{"company": ""}), http.StatusOK)
	last = settle(t, s)
	if w := watcherIDs(decodePortal(t, p.portalOf(t, p.owner, "C-3", last))); len(w) != 0 {
		t.Fatalf("C-3 watchers = %v; want none (requester without company)", w)
	}
	if w := watcherIDs(decodePortal(t, p.portalOf(t, p.owner, "C-1", last))); len(w) != 0 {
		t.Fatalf("C-1 watchers = %v; want none (Emma has no company)", w)
	}
	checkSameCompany(t, p, last, "C-1", "C-2", "C-3")
	if n := len(withdrawals(t, s, p.org)); n != 4 {
		t.Fatalf("%d withdrawals; want 4", n)
	}
}

// A redelivered company change (the handler failed after appending) and a
// second direct run withdraw nothing more: the decision is made on the
// current state and the events' ids are deterministic.
func TestPortalProcessRedelivery(t *testing.T) {
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{})
	var failures atomic.Int32
	failures.Store(2)
	runPortalProcess(t, s, func(next eventstore.Reaction) eventstore.Reaction {
		return func(ctx context.Context, tx *sql.Tx, ev *eventstore.Event) error {
			if err := next(ctx, tx, ev); err != nil {
				return err
			}
			if ev.Type == "PortalUserCompanyChanged" && failures.Add(-1) >= 0 {
				return errors.New("made to fail after the work, before the acknowledgement")
			}
			return nil
		}
	})
	p := newPortal(t, s, "Acme Travaux")
	anna := p.user(t, "anna@dupont.fr", "Anna Klein", "Dupont SA")
	bruno := p.user(t, "bruno@dupont.fr", "Bruno Roy", "Dupont SA")
	apitest.Expect(t, p.share(t, "C-1", "Maintenance", anna, []string{bruno}, false), http.StatusCreated)
	move := p.do(t, p.owner, "PATCH", "/portal-users/"+bruno, map[string]any{"company": "Autre"})
	apitest.Expect(t, move, http.StatusOK)
	settle(t, s)
	if failures.Load() >= 0 {
		t.Fatalf("the company change was not redelivered (%d failures left)", failures.Load())
	}
	if w := withdrawals(t, s, p.org); len(w) != 1 {
		t.Fatalf("withdrawals after redeliveries = %+v; want exactly one", w)
	}

	// Driven directly, the same event again appends nothing.
	var eventID uuid.UUID
	if err := s.Pool.QueryRow(context.Background(), `SELECT event_id FROM events WHERE position = $1`, move.Position).Scan(&eventID); err != nil {
		t.Fatal(err)
	}
	ev, ok, err := s.Store.ReadEvent(context.Background(), eventID)
	if err != nil || !ok {
		t.Fatalf("read the company change: %v, %v", ok, err)
	}
	db := stdlib.OpenDBFromPool(s.Pool)
	defer db.Close()
	for i := 0; i < 2; i++ {
		tx, err := db.BeginTx(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.App.ReactToPortalChange(context.Background(), tx, &ev); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if w := withdrawals(t, s, p.org); len(w) != 1 {
		t.Fatalf("withdrawals after driving the event twice more = %+v; want one", w)
	}
}

// A company change racing with a new share: whichever wins, no watcher
// keeps access outside the requester's company once the process manager
// has handled both, and nobody is withdrawn twice. Two company changes
// racing on the same contract end the same way.
func TestPortalCompanyChangeRacesShare(t *testing.T) {
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{})
	runPortalProcess(t, s, nil)
	p := newPortal(t, s, "Acme Travaux")
	anna := p.user(t, "anna@dupont.fr", "Anna Klein", "Dupont SA")
	const n = 18
	var contracts []string
	var wg sync.WaitGroup
	var shared, refused atomic.Int32
	for i := 0; i < n; i++ {
		w := p.user(t, fmt.Sprintf("w%d@dupont.fr", i), fmt.Sprintf("Watcher %d", i), "Dupont SA")
		c := fmt.Sprintf("C-race-%d", i)
		contracts = append(contracts, c)
		start := make(chan struct{})
		wg.Add(2)
		// Stagger the two sides a little, differently each time, so both
		// orders happen.
		shareDelay, moveDelay := time.Duration(i%3)*time.Millisecond, time.Duration((i/3)%3)*time.Millisecond
		go func() {
			defer wg.Done()
			<-start
			time.Sleep(shareDelay)
			r := p.share(t, c, "Race", anna, []string{w}, false)
			switch {
			case r.Status == http.StatusCreated:
				shared.Add(1)
			case r.Status == http.StatusUnprocessableEntity:
				refused.Add(1)
			default:
				t.Errorf("share %s: %d %s", c, r.Status, r.Body)
			}
		}()
		go func() {
			defer wg.Done()
			<-start
			time.Sleep(moveDelay)
			r := p.do(t, p.owner, "PATCH", "/portal-users/"+w, map[string]any{"company": "Autre SARL"})
			if r.Status != http.StatusOK {
				t.Errorf("company change: %d %s", r.Status, r.Body)
			}
		}()
		close(start)
	}
	wg.Wait()
	last := settle(t, s)
	checkSameCompany(t, p, last, contracts...)
	seen := map[withdrawal]bool{}
	for _, w := range withdrawals(t, s, p.org) {
		w.causation = ""
		if seen[w] {
			t.Fatalf("watcher %s withdrawn twice from %s", w.watcher, w.contract)
		}
		seen[w] = true
	}
	if int(shared.Load()) != len(seen) {
		t.Errorf("%d shares went through but %d watchers were withdrawn; want the same (every watcher moved)", shared.Load(), len(seen))
	}
	t.Logf("%d shares before the company change won, %d refused after it", shared.Load(), refused.Load())

	// The requester and a watcher move at once, to the same company or not.
	bob := p.user(t, "bob@dupont.fr", "Bob", "Dupont SA")
	cid := p.user(t, "cid@dupont.fr", "Cid", "Dupont SA")
	apitest.Expect(t, p.share(t, "C-pair-1", "Pair", bob, []string{cid}, false), http.StatusCreated)
	apitest.Expect(t, p.share(t, "C-pair-2", "Pair", cid, []string{bob}, false), http.StatusCreated)
	wg.Add(2)
	go func() {
		defer wg.Done()
		apitest.Expect(t, p.do(t, p.owner, "PATCH", "/portal-users/"+bob, map[string]any{"company": "Neuve SA"}), http.StatusOK)
	}()
	go func() {
		defer wg.Done()
		apitest.Expect(t, p.do(t, p.owner, "PATCH", "/portal-users/"+cid, map[string]any{"company": "neuve sa"}), http.StatusOK)
	}()
	wg.Wait()
	checkSameCompany(t, p, settle(t, s), "C-pair-1", "C-pair-2")
}

// The requester and each new watcher receive "a contract is shared with
// you" once, in the request's language, from a real SMTP server; the same
// share again, or a redelivered event, sends nothing more.
func TestPortalEmails(t *testing.T) {
	smtp := mailtest.NewServer(t)
	sender, err := mail.NewSMTPSender(smtp.URL, "partners@example.com", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	var failures atomic.Int32
	failures.Store(1)
	wrap := func(next eventstore.Reaction) eventstore.Reaction {
		return func(ctx context.Context, tx *sql.Tx, ev *eventstore.Event) error {
			if ev.Type == "ContractShown" && failures.Add(-1) >= 0 {
				return errors.New("made to fail once")
			}
			return next(ctx, tx, ev)
		}
	}
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{Mail: sender, WrapQueue: wrap})
	p := newPortal(t, s, "Acme Travaux")
	anna := p.user(t, "anna@dupont.fr", "Anna Klein", "Dupont SA")
	bruno := p.user(t, "bruno@dupont.fr", "Bruno Roy", "Dupont SA")
	carla := p.user(t, "carla@dupont.fr", "Carla Diaz", "Dupont SA")
	const contract = "C-2026:42"

	r := p.do(t, p.owner, "PUT", contractPath(contract)+"/portal", map[string]any{"title": "Maintenance 2026", "requester_id": anna,
		"watcher_ids": []string{bruno}, "locale": "fr"})
	apitest.Expect(t, r, http.StatusCreated)
	// The same again: nobody new, no email.
	apitest.Expect(t, p.do(t, p.owner, "PUT", contractPath(contract)+"/portal", map[string]any{"title": "Maintenance 2026", "requester_id": anna,
		"watcher_ids": []string{bruno}}), http.StatusOK)
	smtp.FailNext(1)
	w := s.Do(t, apitest.Request{Method: "POST", Path: "/v1/organizations/" + p.org + contractPath(contract) + "/watchers", Token: p.owner.Token,
		Body: map[string]any{"portal_user_id": carla}, Header: map[string]string{"Accept-Language": "de-CH, fr;q=0.5"}})
	apitest.Expect(t, w, http.StatusOK)
	apitest.Expect(t, p.do(t, p.owner, "POST", contractPath(contract)+"/watchers", map[string]any{"portal_user_id": carla}), http.StatusOK)
	// Bruno becomes the requester (an email) and Anna a watcher (another).
	apitest.Expect(t, p.do(t, p.owner, "PUT", contractPath(contract)+"/portal", map[string]any{"title": "Maintenance 2026", "requester_id": bruno,
		"watcher_ids": []string{carla, anna}, "locale": "en"}), http.StatusOK)

	smtp.WaitFor(t, 5, 20*time.Second)
	time.Sleep(500 * time.Millisecond) // nothing more may arrive
	got := smtp.Messages()
	if len(got) != 5 {
		t.Fatalf("received %d emails; want 5 (requester and watcher, a new watcher, a new requester and a new watcher)", len(got))
	}
	ids := map[string]bool{}
	byTo := map[string][]mailtest.Received{}
	for _, m := range got {
		if ids[m.MessageID] {
			t.Fatalf("Message-ID %s received twice", m.MessageID)
		}
		ids[m.MessageID] = true
		byTo[m.To[0]] = append(byTo[m.To[0]], m)
		if !strings.Contains(m.Text, "Maintenance 2026") || !strings.Contains(m.Text, "Acme Travaux") ||
			!strings.Contains(m.Text, apitest.PublicURL+"/portal/"+p.org+"/contracts/"+contract) {
			t.Errorf("email to %s lacks the title, the organization or the link:\n%s", m.To[0], m.Text)
		}
	}
	// A refused delivery is retried later, so arrival order says nothing.
	langs := func(to string) []string {
		var out []string
		for _, m := range byTo[to] {
			out = append(out, m.ContentLanguage)
		}
		sort.Strings(out)
		return out
	}
	for to, want := range map[string][]string{
		"anna@dupont.fr":  {"en", "fr"}, // requester (fr), then watcher (en)
		"bruno@dupont.fr": {"en", "fr"}, // watcher (fr), then requester (en)
		"carla@dupont.fr": {"de"},       // ShareContractWithWatcher with Accept-Language
	} {
		if got := langs(to); !reflect.DeepEqual(got, want) {
			t.Errorf("emails to %s in %v; want %v", to, got, want)
		}
	}
}

// The two interleavings an HTTP race rarely produces, made on purpose: an
// event takes its place in the log (its transaction id) before the other
// but commits after it, so each command decided without seeing the other.
func TestPortalCompanyChangeLogOrder(t *testing.T) {
	s := apitest.Start(t, pgtest.Fresh2(t), apitest.Options{})
	runPortalProcess(t, s, nil)
	p := newPortal(t, s, "Acme Travaux")
	anna := p.user(t, "anna@dupont.fr", "Anna Klein", "Dupont SA")
	ctx := context.Background()
	org := uuid.MustParse(p.org)

	// appendOpen appends events in a transaction left open: they hold their
	// place in the log, and nobody reads them until commit is called.
	appendOpen := func(t *testing.T, stream, typ string, expected eventstore.Expected, evs ...domain.Event) (commit func()) {
		t.Helper()
		tx, err := s.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var news []eventstore.NewEvent
		for _, e := range evs {
			news = append(news, eventstore.NewEvent{ID: uuid.New(), Data: e})
		}
		if _, err := s.Store.AppendTx(ctx, tx, eventstore.Batch{Meta: eventstore.Metadata{Actor: eventstore.Actor{UserID: p.owner.Sub}},
			Streams: []eventstore.StreamAppend{{StreamID: stream, StreamType: typ, Expected: expected, Events: news}}}); err != nil {
			_ = tx.Rollback(ctx)
			t.Fatal(err)
		}
		return func() {
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	portalUser := func(t *testing.T, id string) *domain.PortalUser {
		t.Helper()
		u := &domain.PortalUser{}
		evs, _, err := s.Store.ReadStream(ctx, domain.PortalUserStream(uuid.MustParse(id)))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			u.Apply(e.Data)
		}
		return u
	}
	moved := func(u *domain.PortalUser) domain.Event {
		return domain.PortalUserCompanyChanged{PortalUserID: u.ID, OrganizationID: org, Company: "Autre SARL", PreviousCompany: u.Company}
	}

	t.Run("OK: the company change is first in the log, the share commits first", func(t *testing.T) {
		w := p.user(t, "first.change@dupont.fr", "Watcher One", "Dupont SA")
		u := portalUser(t, w)
		commit := appendOpen(t, domain.PortalUserStream(u.ID), domain.PortalUserStreamType, eventstore.Exactly(u.Version), moved(u))
		// The share cannot see the uncommitted change: it goes through.
		apitest.Expect(t, p.share(t, "C-log-1", "Log order", anna, []string{w}, false), http.StatusCreated)
		commit()
		last := settle(t, s)
		checkSameCompany(t, p, last, "C-log-1")
		if got := withdrawals(t, s, p.org); len(got) != 1 || got[0].contract != "C-log-1" || got[0].watcher != w {
			t.Fatalf("withdrawals = %+v; want the watcher's, once", got)
		}
	})
	t.Run("OK: the share is first in the log, the company change commits first", func(t *testing.T) {
		w := p.user(t, "first.share@dupont.fr", "Watcher Two", "Dupont SA")
		requester, watcher := portalUser(t, anna), portalUser(t, w)
		c := domain.MustParseContractID("C-log-2")
		commit := appendOpen(t, domain.ContractShareStream(org, c), domain.ContractShareStreamType, eventstore.NoStream,
			domain.ContractShown{OrganizationID: org, OrganizationName: "Acme Travaux", ContractID: c, Title: "Log order",
				Requester: requester.Recipient(), Watchers: []domain.PortalRecipient{watcher.Recipient()}, Locale: "en"})
		apitest.Expect(t, p.do(t, p.owner, "PATCH", "/portal-users/"+w, map[string]any{"company": "Autre SARL"}), http.StatusOK)
		commit()
		last := settle(t, s)
		checkSameCompany(t, p, last, "C-log-2")
		if got := withdrawals(t, s, p.org); len(got) != 2 || got[1].contract != "C-log-2" || got[1].watcher != w {
			t.Fatalf("withdrawals = %+v; want the watcher's, once", got)
		}
	})
}

// A contract's portal access and a Contracts page as of a past instant are
// replayed from the events up to it.
func TestPortalAsOf(t *testing.T) {
	clock := apitest.NewClock()
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{Now: clock.Now})
	step := func() time.Time { at := clock.Now(); clock.Advance(time.Minute); return at }
	p := newPortal(t, s, "Acme Travaux")
	anna := p.user(t, "anna@dupont.fr", "Anna Klein", "Dupont SA")
	bruno := p.user(t, "bruno@dupont.fr", "Bruno Roy", "Dupont SA")
	beforeShare := step()
	apitest.Expect(t, p.share(t, "C-1", "Maintenance", anna, nil, false), http.StatusCreated)
	shared := step()
	apitest.Expect(t, p.do(t, p.owner, "POST", contractPath("C-1")+"/watchers", map[string]any{"portal_user_id": bruno}), http.StatusOK)
	watched := step()
	w := p.do(t, p.owner, "DELETE", contractPath("C-1")+"/portal", nil)
	apitest.Expect(t, w, http.StatusNoContent)
	now := p.contracts(t, p.owner, bruno, w.Position) // read-your-writes before reading the past
	if len(now) != 0 {
		t.Fatalf("Bruno's Contracts page now = %+v; want none (withdrawn)", now)
	}
	at := func(path string, when time.Time) apitest.Response {
		return s.Do(t, apitest.Request{Method: "GET", Token: p.owner.Token,
			Path: "/v1/organizations/" + p.org + path + "?as_of=" + url.QueryEscape(when.Format(time.RFC3339Nano))})
	}
	apitest.Expect(t, at(contractPath("C-1")+"/portal", beforeShare), http.StatusNotFound, "not_found")
	if v := decodePortal(t, at(contractPath("C-1")+"/portal", shared)); v.Requester.ID != anna || len(v.Watchers) != 0 {
		t.Fatalf("C-1 as of its showing = %+v; want Anna alone", v)
	}
	if v := decodePortal(t, at(contractPath("C-1")+"/portal", watched)); !reflect.DeepEqual(watcherIDs(v), []string{bruno}) || v.Watchers[0].Name != "Bruno Roy" {
		t.Fatalf("C-1 as of Bruno's addition = %+v; want Bruno watching", v)
	}
	r := at("/portal-users/"+bruno+"/contracts", watched)
	apitest.Expect(t, r, http.StatusOK)
	if items := r.JSON(t)["items"].([]any); len(items) != 1 || items[0].(map[string]any)["as"] != "watcher" {
		t.Fatalf("Bruno's Contracts page as of his addition = %s", r.Body)
	}
}
