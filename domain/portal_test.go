package domain_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"partners/domain"
)

// portalState is what the portal's decisions read: the organization, its
// portal users and one contract's share. Given events go to whichever of
// them they belong to.
type portalState struct {
	org   domain.Organization
	users map[uuid.UUID]*domain.PortalUser
	share domain.ContractShare
}

func applyPortal(s *portalState, e domain.Event) {
	if s.users == nil {
		s.users = map[uuid.UUID]*domain.PortalUser{}
	}
	switch e := e.(type) {
	case domain.OrganizationCreated, domain.MemberJoined:
		s.org.Apply(e)
	case domain.PortalUserCreated:
		u := &domain.PortalUser{}
		u.Apply(e)
		s.users[e.PortalUserID] = u
	case domain.PortalUserRenamed:
		s.users[e.PortalUserID].Apply(e)
	case domain.PortalUserCompanyChanged:
		s.users[e.PortalUserID].Apply(e)
	default:
		s.share.Apply(e)
	}
}

var (
	puAnna  = uuid.MustParse("00000000-0000-4000-8000-0000000000a1") // requester, Acme SA
	puBruno = uuid.MustParse("00000000-0000-4000-8000-0000000000b2") // Acme SA, typed differently
	puCarla = uuid.MustParse("00000000-0000-4000-8000-0000000000c3") // Beta SARL
	puDenis = uuid.MustParse("00000000-0000-4000-8000-0000000000d4") // no company
	puEmma  = uuid.MustParse("00000000-0000-4000-8000-0000000000e5") // Acme SA
	puOther = uuid.MustParse("00000000-0000-4000-8000-0000000000f6") // another organization's
	c42     = domain.MustParseContractID("C-2026:42")
)

func pref(email string) domain.PersonRef { return domain.PersonRef("ref:" + email) }

func portalUser(org, id uuid.UUID, email, name, company string) domain.PortalUserCreated {
	return domain.PortalUserCreated{PortalUserID: id, OrganizationID: org, Email: domain.PersonalOf(pref(email), email),
		EmailRef: pref(email), Name: domain.PersonalOf(pref(email), name), Company: company}
}

func recipientOf(e domain.PortalUserCreated) domain.PortalRecipient {
	return domain.PortalRecipient{PortalUserID: e.PortalUserID, Email: e.Email, Name: e.Name, Company: e.Company}
}

var (
	evAnna  = portalUser(orgA, puAnna, "anna@client.fr", "Anna Klein", "Acme SA")
	evBruno = portalUser(orgA, puBruno, "bruno@client.fr", "Bruno Roy", "  ACME   sa ")
	evCarla = portalUser(orgA, puCarla, "carla@beta.fr", "Carla Diaz", "Beta SARL")
	evDenis = portalUser(orgA, puDenis, "denis@client.fr", "Denis Lenoir", "")
	evEmma  = portalUser(orgA, puEmma, "emma@client.fr", "Emma Petit", "Acme SA")
	evOlga  = portalUser(orgB, puOther, "olga@other.fr", "Olga", "Acme SA")
)

// portalOrg is organization A with an owner, a member, an accountant and a
// collaborator, its five portal users, and organization B's one.
func portalOrg() []domain.Event {
	return []domain.Event{
		created(orgA, "Acme Travaux", domain.SideClient),
		joined(orgA, actor("owner", "owner@acme.fr"), domain.RoleOwner),
		joined(orgA, actor("member", "member@acme.fr"), domain.RoleMember),
		joined(orgA, actor("accountant", "compta@cabinet.fr"), domain.RoleAccountant),
		joined(orgA, actor("collab", "collab@acme.fr"), domain.RoleCollaborator),
		evAnna, evBruno, evCarla, evDenis, evEmma, evOlga,
	}
}

func portalGiven(extra ...domain.Event) []domain.Event { return append(portalOrg(), extra...) }

var (
	pOwner      = actor("owner", "owner@acme.fr")
	pMember     = actor("member", "member@acme.fr")
	pAccountant = actor("accountant", "compta@cabinet.fr")
	pCollab     = actor("collab", "collab@acme.fr")
	pOutsider   = actor("eve", "eve@evil.fr")
)

func shownEvent(title string, visible bool, requester domain.PortalUserCreated, watchers ...domain.PortalUserCreated) domain.ContractShown {
	e := domain.ContractShown{OrganizationID: orgA, OrganizationName: "Acme Travaux", ContractID: c42, Title: title,
		Requester: recipientOf(requester), Watchers: []domain.PortalRecipient{}, AttachmentsVisible: visible, Locale: "fr"}
	for _, w := range watchers {
		e.Watchers = append(e.Watchers, recipientOf(w))
	}
	return e
}

func addedEvent(title string, w domain.PortalUserCreated) domain.WatcherAdded {
	return domain.WatcherAdded{OrganizationID: orgA, OrganizationName: "Acme Travaux", ContractID: c42, Title: title,
		Watcher: recipientOf(w), Locale: "fr"}
}

func showCmd(by domain.Actor, title string, requester uuid.UUID, visible bool, watchers ...uuid.UUID) func(*portalState) ([]domain.Event, error) {
	return func(s *portalState) ([]domain.Event, error) {
		return domain.DecideShowContract(&s.org, &s.share, domain.ShowContract{ContractID: c42, Title: title, RequesterID: requester,
			WatcherIDs: watchers, AttachmentsVisible: visible, Locale: "fr", PortalUsers: s.users, Actor: by})
	}
}

func pstr(s string) *string { return &s }

func TestCreatePortalUser(t *testing.T) {
	t.Parallel()
	create := func(by domain.Actor, name, company string) func(*portalState) ([]domain.Event, error) {
		return func(s *portalState) ([]domain.Event, error) {
			return domain.DecideCreatePortalUser(&s.org, &domain.PortalUser{}, domain.CreatePortalUser{PortalUserID: puAnna,
				Email: domain.MustParseEmail("anna@client.fr"), EmailRef: pref("anna@client.fr"), Name: name, Company: company, Actor: by})
		}
	}
	orgOnly := portalOrg()[:5]
	run(t, applyPortal, []scenario[portalState]{
		{name: "OK: trimmed name and company", given: orgOnly, when: create(pMember, "  Anna Klein ", " Acme SA "), then: []domain.Event{evAnna}},
		{name: "OK: company may be empty", given: orgOnly, when: create(pOwner, "Anna Klein", "  "),
			then: []domain.Event{portalUser(orgA, puAnna, "anna@client.fr", "Anna Klein", "")}},
		{name: "ErrNameRequired", given: orgOnly, when: create(pOwner, " ", "Acme"), err: domain.CodeValidationFailed},
		{name: "ErrNameWithLineBreak", given: orgOnly, when: create(pOwner, "Anna\nKlein", "Acme"), err: domain.CodeValidationFailed},
		{name: "ErrCompanyTooLong", given: orgOnly, when: create(pOwner, "Anna", strings.Repeat("x", 201)), err: domain.CodeValidationFailed},
		{name: "ErrAccountantMayNotManage", given: orgOnly, when: create(pAccountant, "Anna", ""), err: domain.CodeNotAllowed},
		{name: "ErrCollaboratorMayNotManage", given: orgOnly, when: create(pCollab, "Anna", ""), err: domain.CodeNotAllowed},
		{name: "ErrOutsiderSeesNothing", given: orgOnly, when: create(pOutsider, "Anna", ""), err: domain.CodeNotFound},
	})
}

func TestUpdatePortalUser(t *testing.T) {
	t.Parallel()
	update := func(by domain.Actor, id uuid.UUID, name, company *string) func(*portalState) ([]domain.Event, error) {
		return func(s *portalState) ([]domain.Event, error) {
			u := s.users[id]
			if u == nil {
				u = &domain.PortalUser{}
			}
			return domain.DecideUpdatePortalUser(&s.org, u, domain.UpdatePortalUser{Name: name, Company: company, Actor: by})
		}
	}
	run(t, applyPortal, []scenario[portalState]{
		{name: "OK: name and company", given: portalOrg(), when: update(pMember, puCarla, pstr("Carla Díaz "), pstr("Acme SA")),
			then: []domain.Event{
				domain.PortalUserRenamed{PortalUserID: puCarla, OrganizationID: orgA, Name: domain.PersonalOf(pref("carla@beta.fr"), "Carla Díaz")},
				domain.PortalUserCompanyChanged{PortalUserID: puCarla, OrganizationID: orgA, Company: "Acme SA", PreviousCompany: "Beta SARL"},
			}},
		{name: "OK: clearing the company", given: portalOrg(), when: update(pOwner, puAnna, nil, pstr("")),
			then: []domain.Event{domain.PortalUserCompanyChanged{PortalUserID: puAnna, OrganizationID: orgA, Company: "", PreviousCompany: "Acme SA"}}},
		{name: "OK: the same values change nothing", given: portalOrg(), when: update(pOwner, puAnna, pstr("Anna Klein"), pstr(" Acme SA")), then: nil},
		{name: "OK: nothing asked, nothing changes", given: portalOrg(), when: update(pOwner, puAnna, nil, nil), then: nil},
		{name: "ErrNameRequired", given: portalOrg(), when: update(pOwner, puAnna, pstr(""), nil), err: domain.CodeValidationFailed},
		{name: "ErrAnotherOrganizationsPortalUser", given: portalOrg(), when: update(pOwner, puOther, pstr("X"), nil), err: domain.CodeNotFound},
		{name: "ErrUnknownPortalUser", given: portalOrg(), when: update(pOwner, uuid.New(), pstr("X"), nil), err: domain.CodeNotFound},
		{name: "ErrAccountantMayNotManage", given: portalOrg(), when: update(pAccountant, puAnna, pstr("X"), nil), err: domain.CodeNotAllowed},
	})
}

func TestShowContract(t *testing.T) {
	t.Parallel()
	run(t, applyPortal, []scenario[portalState]{
		{name: "OK: requester, watchers in order, a watcher named twice once", given: portalGiven(),
			when: showCmd(pMember, " Maintenance 2026 ", puAnna, true, puEmma, puBruno, puEmma),
			then: []domain.Event{shownEvent("Maintenance 2026", true, evAnna, evEmma, evBruno)}},
		{name: "OK: no watchers, requester without company", given: portalGiven(),
			when: showCmd(pOwner, "Maintenance", puDenis, false),
			then: []domain.Event{shownEvent("Maintenance", false, evDenis)}},
		{name: "ErrCompanyMismatch", given: portalGiven(), when: showCmd(pOwner, "M", puAnna, false, puEmma, puCarla), err: domain.CodeCompanyMismatch},
		{name: "ErrCompanyMismatch: watcher without company", given: portalGiven(), when: showCmd(pOwner, "M", puAnna, false, puDenis), err: domain.CodeCompanyMismatch},
		{name: "ErrCompanyMismatch: requester without company", given: portalGiven(), when: showCmd(pOwner, "M", puDenis, false, puAnna), err: domain.CodeCompanyMismatch},
		{name: "ErrRequesterAsWatcher", given: portalGiven(), when: showCmd(pOwner, "M", puAnna, false, puEmma, puAnna), err: domain.CodeValidationFailed},
		{name: "ErrUnknownWatcher", given: portalGiven(), when: showCmd(pOwner, "M", puAnna, false, uuid.New()), err: domain.CodeValidationFailed},
		{name: "ErrAnotherOrganizationsWatcher", given: portalGiven(), when: showCmd(pOwner, "M", puAnna, false, puOther), err: domain.CodeValidationFailed},
		{name: "ErrUnknownRequester", given: portalGiven(), when: showCmd(pOwner, "M", puOther, false), err: domain.CodeValidationFailed},
		{name: "ErrTitleRequired", given: portalGiven(), when: showCmd(pOwner, "  ", puAnna, false), err: domain.CodeValidationFailed},
		{name: "ErrAccountantMayNotManage", given: portalGiven(), when: showCmd(pAccountant, "M", puAnna, false), err: domain.CodeNotAllowed},
		{name: "ErrCollaboratorMayNotManage", given: portalGiven(), when: showCmd(pCollab, "M", puAnna, false), err: domain.CodeNotAllowed},
		{name: "ErrOutsiderSeesNothing", given: portalGiven(), when: showCmd(pOutsider, "M", puAnna, false), err: domain.CodeNotFound},
		{name: "OK: replacing changes one thing at a time", given: portalGiven(shownEvent("M", false, evAnna, evEmma)),
			when: showCmd(pOwner, "M v2", puAnna, true, puBruno),
			then: []domain.Event{
				domain.ContractRetitled{OrganizationID: orgA, ContractID: c42, Title: "M v2", PreviousTitle: "M"},
				domain.WatcherRemoved{OrganizationID: orgA, ContractID: c42, PortalUserID: puEmma},
				addedEvent("M v2", evBruno),
				domain.AttachmentsVisibilityChanged{OrganizationID: orgA, ContractID: c42, AttachmentsVisible: true},
			}},
		{name: "OK: a watcher and the requester swap", given: portalGiven(shownEvent("M", false, evAnna, evEmma)),
			when: showCmd(pOwner, "M", puEmma, false, puAnna),
			then: []domain.Event{
				domain.WatcherRemoved{OrganizationID: orgA, ContractID: c42, PortalUserID: puEmma},
				domain.RequesterChanged{OrganizationID: orgA, OrganizationName: "Acme Travaux", ContractID: c42, Title: "M",
					Requester: recipientOf(evEmma), PreviousRequesterID: puAnna, Locale: "fr"},
				addedEvent("M", evAnna),
			}},
		{name: "OK: replacing with the same changes nothing", given: portalGiven(shownEvent("M", true, evAnna, evEmma, evBruno)),
			when: showCmd(pOwner, "M", puAnna, true, puBruno, puEmma), then: nil},
		{name: "ErrCompanyMismatch: replacing keeps the rule", given: portalGiven(shownEvent("M", false, evAnna, evEmma)),
			when: showCmd(pOwner, "M", puAnna, false, puEmma, puCarla), err: domain.CodeCompanyMismatch},
		{name: "OK: shown again after a withdrawal", given: portalGiven(shownEvent("M", false, evAnna, evEmma), domain.ContractWithdrawn{OrganizationID: orgA, ContractID: c42}),
			when: showCmd(pOwner, "M", puAnna, false, puBruno),
			then: []domain.Event{shownEvent("M", false, evAnna, evBruno)}},
	})
}

// The company error names every offending portal user by id and name, and
// points to the setting that fixes it.
func TestCompanyMismatchNamesPortalUsers(t *testing.T) {
	t.Parallel()
	var s portalState
	for _, e := range portalGiven() {
		applyPortal(&s, e)
	}
	for _, tc := range []struct {
		name      string
		requester uuid.UUID
		watchers  []uuid.UUID
		want      []string // in the message
		offenders []string // ids in details.portal_users
	}{
		{"ErrWatchersOfOtherCompanies", puAnna, []uuid.UUID{puEmma, puCarla, puDenis},
			[]string{"Carla Diaz (" + puCarla.String(), `company "Beta SARL"`, "Denis Lenoir (" + puDenis.String(), "no company", `"Acme SA"`},
			[]string{puCarla.String(), puDenis.String()}},
		{"ErrRequesterWithoutCompany", puDenis, []uuid.UUID{puAnna},
			[]string{"requester Denis Lenoir (" + puDenis.String() + ") has no company"},
			[]string{puDenis.String()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := showCmd(pOwner, "M", tc.requester, false, tc.watchers...)(&s)
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.CodeCompanyMismatch {
				t.Fatalf("err = %v; want company_mismatch", err)
			}
			for _, w := range append(tc.want, "Settings → Client portal → Manage clients") {
				if !strings.Contains(de.Message, w) {
					t.Errorf("message = %q; want it to contain %q", de.Message, w)
				}
			}
			var got []string
			for _, p := range de.Details["portal_users"].([]map[string]any) {
				got = append(got, p["id"].(string))
			}
			if !reflect.DeepEqual(got, tc.offenders) {
				t.Errorf("details.portal_users ids = %v; want %v", got, tc.offenders)
			}
			if de.Details["settings"] != domain.PortalSettingsPath {
				t.Errorf("details.settings = %v; want %q", de.Details["settings"], domain.PortalSettingsPath)
			}
		})
	}
}

// Validation errors name the request's field, with the index the request
// gave.
func TestShowContractFieldNames(t *testing.T) {
	t.Parallel()
	var s portalState
	for _, e := range portalGiven() {
		applyPortal(&s, e)
	}
	for _, tc := range []struct {
		name      string
		requester uuid.UUID
		watchers  []uuid.UUID
		fields    []string
	}{
		{"ErrUnknownWatcher", puAnna, []uuid.UUID{puEmma, uuid.New()}, []string{"watcher_ids[1]"}},
		{"ErrRequesterAsWatcher", puAnna, []uuid.UUID{puEmma, puEmma, puAnna}, []string{"watcher_ids[2]"}},
		{"ErrUnknownRequesterAndWatcher", puOther, []uuid.UUID{puOther}, []string{"requester_id", "watcher_ids[0]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := showCmd(pOwner, "M", tc.requester, false, tc.watchers...)(&s)
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.CodeValidationFailed {
				t.Fatalf("err = %v; want validation_failed", err)
			}
			var got []string
			for _, f := range de.Fields {
				got = append(got, f.Field)
			}
			if !reflect.DeepEqual(got, tc.fields) {
				t.Fatalf("fields = %v; want %v", got, tc.fields)
			}
		})
	}
}

func TestShareContractWithWatcher(t *testing.T) {
	t.Parallel()
	share := func(by domain.Actor, watcher uuid.UUID) func(*portalState) ([]domain.Event, error) {
		return func(s *portalState) ([]domain.Event, error) {
			return domain.DecideShareContractWithWatcher(&s.org, &s.share, domain.ShareContractWithWatcher{
				Watcher: s.users[watcher], Requester: s.users[s.share.RequesterID], Locale: "fr", Actor: by})
		}
	}
	run(t, applyPortal, []scenario[portalState]{
		{name: "OK", given: portalGiven(shownEvent("M", false, evAnna)), when: share(pMember, puBruno), then: []domain.Event{addedEvent("M", evBruno)}},
		{name: "OK: the title is the current one", given: portalGiven(shownEvent("M", false, evAnna), domain.ContractRetitled{OrganizationID: orgA, ContractID: c42, Title: "M2"}),
			when: share(pOwner, puEmma), then: []domain.Event{addedEvent("M2", evEmma)}},
		{name: "OK: adding a watcher twice is harmless", given: portalGiven(shownEvent("M", false, evAnna, evEmma)), when: share(pOwner, puEmma), then: nil},
		{name: "OK: again after a removal", given: portalGiven(shownEvent("M", false, evAnna, evEmma), domain.WatcherRemoved{OrganizationID: orgA, ContractID: c42, PortalUserID: puEmma}),
			when: share(pOwner, puEmma), then: []domain.Event{addedEvent("M", evEmma)}},
		{name: "ErrCompanyMismatch", given: portalGiven(shownEvent("M", false, evAnna)), when: share(pOwner, puCarla), err: domain.CodeCompanyMismatch},
		{name: "ErrCompanyMismatch: requester without company", given: portalGiven(shownEvent("M", false, evDenis)), when: share(pOwner, puAnna), err: domain.CodeCompanyMismatch},
		{name: "ErrCompanyMismatch: after the requester's company changed", given: portalGiven(shownEvent("M", false, evAnna),
			domain.PortalUserCompanyChanged{PortalUserID: puAnna, OrganizationID: orgA, Company: "Beta SARL", PreviousCompany: "Acme SA"}),
			when: share(pOwner, puEmma), err: domain.CodeCompanyMismatch},
		{name: "ErrRequesterAsWatcher", given: portalGiven(shownEvent("M", false, evAnna)), when: share(pOwner, puAnna), err: domain.CodeValidationFailed},
		{name: "ErrUnknownPortalUser", given: portalGiven(shownEvent("M", false, evAnna)), when: share(pOwner, uuid.New()), err: domain.CodeValidationFailed},
		{name: "ErrAnotherOrganizationsPortalUser", given: portalGiven(shownEvent("M", false, evAnna)), when: share(pOwner, puOther), err: domain.CodeValidationFailed},
		{name: "ErrNotShown", given: portalGiven(), when: share(pOwner, puEmma), err: domain.CodeNotFound},
		{name: "ErrWithdrawn", given: portalGiven(shownEvent("M", false, evAnna), domain.ContractWithdrawn{OrganizationID: orgA, ContractID: c42}),
			when: share(pOwner, puEmma), err: domain.CodeNotFound},
		{name: "ErrAccountantMayNotManage", given: portalGiven(shownEvent("M", false, evAnna)), when: share(pAccountant, puEmma), err: domain.CodeNotAllowed},
		{name: "ErrOutsiderSeesNothing", given: portalGiven(shownEvent("M", false, evAnna)), when: share(pOutsider, puEmma), err: domain.CodeNotFound},
	})
}

func TestRemoveWatcher(t *testing.T) {
	t.Parallel()
	remove := func(by domain.Actor, watcher uuid.UUID) func(*portalState) ([]domain.Event, error) {
		return func(s *portalState) ([]domain.Event, error) {
			return domain.DecideRemoveWatcher(&s.org, &s.share, domain.RemoveWatcher{Watcher: s.users[watcher], Actor: by})
		}
	}
	run(t, applyPortal, []scenario[portalState]{
		{name: "OK", given: portalGiven(shownEvent("M", false, evAnna, evEmma)), when: remove(pMember, puEmma),
			then: []domain.Event{domain.WatcherRemoved{OrganizationID: orgA, ContractID: c42, PortalUserID: puEmma}}},
		{name: "OK: not a watcher, nothing to do", given: portalGiven(shownEvent("M", false, evAnna, evEmma)), when: remove(pOwner, puBruno), then: nil},
		{name: "OK: the requester is not a watcher", given: portalGiven(shownEvent("M", false, evAnna)), when: remove(pOwner, puAnna), then: nil},
		{name: "ErrUnknownPortalUser", given: portalGiven(shownEvent("M", false, evAnna)), when: remove(pOwner, uuid.New()), err: domain.CodeNotFound},
		{name: "ErrAnotherOrganizationsPortalUser", given: portalGiven(shownEvent("M", false, evAnna)), when: remove(pOwner, puOther), err: domain.CodeNotFound},
		{name: "ErrNotShown", given: portalGiven(), when: remove(pOwner, puEmma), err: domain.CodeNotFound},
		{name: "ErrAccountantMayNotManage", given: portalGiven(shownEvent("M", false, evAnna, evEmma)), when: remove(pAccountant, puEmma), err: domain.CodeNotAllowed},
	})
}

func TestSetAttachmentsVisible(t *testing.T) {
	t.Parallel()
	set := func(by domain.Actor, visible bool) func(*portalState) ([]domain.Event, error) {
		return func(s *portalState) ([]domain.Event, error) {
			return domain.DecideSetAttachmentsVisible(&s.org, &s.share, domain.SetAttachmentsVisible{Visible: visible, Actor: by})
		}
	}
	run(t, applyPortal, []scenario[portalState]{
		{name: "OK: on", given: portalGiven(shownEvent("M", false, evAnna)), when: set(pMember, true),
			then: []domain.Event{domain.AttachmentsVisibilityChanged{OrganizationID: orgA, ContractID: c42, AttachmentsVisible: true}}},
		{name: "OK: off", given: portalGiven(shownEvent("M", true, evAnna)), when: set(pOwner, false),
			then: []domain.Event{domain.AttachmentsVisibilityChanged{OrganizationID: orgA, ContractID: c42, AttachmentsVisible: false}}},
		{name: "OK: unchanged", given: portalGiven(shownEvent("M", true, evAnna)), when: set(pOwner, true), then: nil},
		{name: "ErrNotShown", given: portalGiven(), when: set(pOwner, true), err: domain.CodeNotFound},
		{name: "ErrAccountantMayNotManage", given: portalGiven(shownEvent("M", false, evAnna)), when: set(pAccountant, true), err: domain.CodeNotAllowed},
	})
}

func TestWithdrawContract(t *testing.T) {
	t.Parallel()
	withdraw := func(by domain.Actor) func(*portalState) ([]domain.Event, error) {
		return func(s *portalState) ([]domain.Event, error) {
			return domain.DecideWithdrawContract(&s.org, &s.share, domain.WithdrawContract{Actor: by})
		}
	}
	run(t, applyPortal, []scenario[portalState]{
		{name: "OK", given: portalGiven(shownEvent("M", false, evAnna, evEmma)), when: withdraw(pMember),
			then: []domain.Event{domain.ContractWithdrawn{OrganizationID: orgA, ContractID: c42}}},
		{name: "ErrNotShown", given: portalGiven(), when: withdraw(pOwner), err: domain.CodeNotFound},
		{name: "ErrWithdrawnTwice", given: portalGiven(shownEvent("M", false, evAnna), domain.ContractWithdrawn{OrganizationID: orgA, ContractID: c42}),
			when: withdraw(pOwner), err: domain.CodeNotFound},
		{name: "ErrAccountantMayNotManage", given: portalGiven(shownEvent("M", false, evAnna)), when: withdraw(pAccountant), err: domain.CodeNotAllowed},
		{name: "ErrOutsiderSeesNothing", given: portalGiven(shownEvent("M", false, evAnna)), when: withdraw(pOutsider), err: domain.CodeNotFound},
	})
}

func TestWithdrawMismatchedWatchers(t *testing.T) {
	t.Parallel()
	decide := func(s *portalState) ([]domain.Event, error) {
		return domain.DecideWithdrawMismatchedWatchers(&s.share, domain.WithdrawMismatchedWatchers{PortalUsers: s.users}), nil
	}
	companyChanged := func(id uuid.UUID, from, to string) domain.Event {
		return domain.PortalUserCompanyChanged{PortalUserID: id, OrganizationID: orgA, Company: to, PreviousCompany: from}
	}
	withdrawn := func(w uuid.UUID, wc, rc string) domain.Event {
		return domain.WatcherAccessWithdrawn{OrganizationID: orgA, ContractID: c42, PortalUserID: w, Reason: "company_mismatch",
			WatcherCompany: wc, RequesterID: puAnna, RequesterCompany: rc}
	}
	run(t, applyPortal, []scenario[portalState]{
		{name: "OK: every watcher still matches", given: portalGiven(shownEvent("M", false, evAnna, evEmma, evBruno)), when: decide, then: nil},
		{name: "OK: a watcher's company changed", given: portalGiven(shownEvent("M", false, evAnna, evEmma, evBruno), companyChanged(puEmma, "Acme SA", "Beta SARL")),
			when: decide, then: []domain.Event{withdrawn(puEmma, "Beta SARL", "Acme SA")}},
		{name: "OK: only a spelling changed", given: portalGiven(shownEvent("M", false, evAnna, evEmma), companyChanged(puEmma, "Acme SA", "ACME SA")),
			when: decide, then: nil},
		{name: "OK: the requester's company changed", given: portalGiven(shownEvent("M", false, evAnna, evEmma, evBruno), companyChanged(puAnna, "Acme SA", "Beta SARL")),
			when: decide, then: []domain.Event{withdrawn(puEmma, "Acme SA", "Beta SARL"), withdrawn(puBruno, "  ACME   sa ", "Beta SARL")}},
		{name: "OK: the requester's company was cleared", given: portalGiven(shownEvent("M", false, evAnna, evEmma), companyChanged(puAnna, "Acme SA", "")),
			when: decide, then: []domain.Event{withdrawn(puEmma, "Acme SA", "")}},
		{name: "OK: the watcher and the requester moved together", given: portalGiven(shownEvent("M", false, evAnna, evEmma),
			companyChanged(puAnna, "Acme SA", "Beta SARL"), companyChanged(puEmma, "Acme SA", "beta sarl")),
			when: decide, then: nil},
		{name: "OK: decided again after the withdrawal, nothing more (redelivery)", given: portalGiven(shownEvent("M", false, evAnna, evEmma),
			companyChanged(puEmma, "Acme SA", "Beta SARL"), withdrawn(puEmma, "Beta SARL", "Acme SA")),
			when: decide, then: nil},
		{name: "OK: a withdrawn contract has no watchers", given: portalGiven(shownEvent("M", false, evAnna, evEmma),
			companyChanged(puEmma, "Acme SA", "Beta SARL"), domain.ContractWithdrawn{OrganizationID: orgA, ContractID: c42}),
			when: decide, then: nil},
	})
}

// A share rebuilt from its events is what the events say, whatever the
// order of additions and removals.
func TestContractShareApply(t *testing.T) {
	t.Parallel()
	var s domain.ContractShare
	for _, e := range []domain.Event{
		shownEvent("M", false, evAnna, evEmma),
		addedEvent("M", evBruno),
		addedEvent("M", evBruno),
		domain.WatcherRemoved{OrganizationID: orgA, ContractID: c42, PortalUserID: puEmma},
		domain.WatcherAccessWithdrawn{OrganizationID: orgA, ContractID: c42, PortalUserID: puBruno, Reason: "company_mismatch"},
		addedEvent("M", evEmma),
		domain.RequesterChanged{OrganizationID: orgA, ContractID: c42, Requester: recipientOf(evDenis), PreviousRequesterID: puAnna},
		domain.AttachmentsVisibilityChanged{OrganizationID: orgA, ContractID: c42, AttachmentsVisible: true},
	} {
		s.Apply(e)
	}
	want := domain.ContractShare{OrganizationID: orgA, ContractID: c42, Title: "M", RequesterID: puDenis,
		Watchers: []uuid.UUID{puEmma}, AttachmentsVisible: true, Shown: true, Version: 8}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("share =\n%+v\nwant\n%+v", s, want)
	}
}
