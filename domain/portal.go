package domain

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// This file holds the client portal (DOMAIN.md section 2, seed 001): an
// organization's portal users (its external client contacts) and the
// contracts it shows them, each with a requester, watchers and a switch that
// makes every attachment visible. This service keeps only who may see a
// contract; the contract itself lives in the caller's system.

// PortalSettingsPath is where, in the web app, a customer fixes a portal
// user's company. Every company error points there.
const PortalSettingsPath = "Settings → Client portal → Manage clients"

// WithdrawalReasonCompanyMismatch is the reason of a WatcherAccessWithdrawn
// decided because the watcher's company no longer matches the requester's.
const WithdrawalReasonCompanyMismatch = "company_mismatch"

// MaxWatchers bounds the watchers of one contract: far above what a client
// company puts on a contract, low enough that a share decides quickly.
const MaxWatchers = 100

// The roles a portal user has on a contract, as the Contracts page says.
const (
	PortalRoleRequester = "requester"
	PortalRoleWatcher   = "watcher"
)

// PortalUserStreamType is the stream type of portal users.
const PortalUserStreamType = "portal_user"

// PortalUserStream is one portal user's stream.
func PortalUserStream(id uuid.UUID) string { return "portal-user-" + id.String() }

// ContractShareStreamType is the stream type of contracts shown in the portal.
const ContractShareStreamType = "contract_share"

// ContractShareStream is the stream of one contract in one organization's
// portal. Contract ids are the caller's own, so they are unique only within
// the organization.
func ContractShareStream(org uuid.UUID, contract ContractID) string {
	return "contract-share-" + org.String() + "-" + contract.String()
}

// =============================================================================
// Values

const (
	portalNameMaxRunes    = 200
	companyMaxRunes       = 200
	contractTitleMaxRunes = 300
	msgNoControl          = "must not contain control characters (such as line breaks or tabs)"
	msgUnknownPortalUser  = "is not a portal user of this organization"
	msgRequesterIsWatcher = "is the contract's requester, who sees it already: a requester cannot also be a watcher"
)

// cleanText trims s and checks it is valid UTF-8 without control characters
// and at most max characters long.
func cleanText(field, s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return "", Invalid(field, msgRequired)
		}
		return "", nil
	}
	if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", Invalid(field, msgNoControl)
	}
	if utf8.RuneCountInString(s) > max {
		return "", Invalid(field, fmt.Sprintf("is too long (at most %d characters)", max))
	}
	return s, nil
}

// ParsePortalUserName trims s and accepts 1 to 200 characters without
// control characters.
func ParsePortalUserName(s string) (string, error) {
	return cleanText("name", s, portalNameMaxRunes, true)
}

// ParseCompany trims s and accepts at most 200 characters without control
// characters; empty means "no company". It keeps the case as typed, for
// display: companies are compared through NormalizeCompany.
func ParseCompany(s string) (string, error) {
	return cleanText("company", s, companyMaxRunes, false)
}

// ParseContractTitle trims s and accepts 1 to 300 characters without
// control characters.
func ParseContractTitle(s string) (string, error) {
	return cleanText("title", s, contractTitleMaxRunes, true)
}

// =============================================================================
// Events

// PortalRecipient is a portal user as a share event names them: enough to
// address the "a contract is shared with you" email and to audit the
// company rule at that moment.
type PortalRecipient struct {
	PortalUserID uuid.UUID `json:"portal_user_id"`
	Email        Personal  `json:"email"`
	Name         Personal  `json:"name"`
	Company      string    `json:"company"`
}

// PortalUserCreated: an organization added a client contact to its portal.
type PortalUserCreated struct {
	PortalUserID   uuid.UUID `json:"portal_user_id"`
	OrganizationID uuid.UUID `json:"organization_id"`
	Email          Personal  `json:"email"`
	EmailRef       PersonRef `json:"email_ref"`
	Name           Personal  `json:"name"`
	Company        string    `json:"company"`
}

// PortalUserRenamed: a portal user's name was changed.
type PortalUserRenamed struct {
	PortalUserID   uuid.UUID `json:"portal_user_id"`
	OrganizationID uuid.UUID `json:"organization_id"`
	Name           Personal  `json:"name"`
}

// PortalUserCompanyChanged: a portal user's company was changed. Watchers
// that no longer match their requester's company lose access by a
// WatcherAccessWithdrawn of their own, decided by the process manager.
type PortalUserCompanyChanged struct {
	PortalUserID    uuid.UUID `json:"portal_user_id"`
	OrganizationID  uuid.UUID `json:"organization_id"`
	Company         string    `json:"company"`
	PreviousCompany string    `json:"previous_company"`
}

// ContractShown: a contract appeared in the client portal, with its
// requester, its watchers and the attachments switch. The requester and
// every watcher get the "a contract is shared with you" email, in Locale.
type ContractShown struct {
	OrganizationID     uuid.UUID         `json:"organization_id"`
	OrganizationName   string            `json:"organization_name"`
	ContractID         ContractID        `json:"contract_id"`
	Title              string            `json:"title"`
	Requester          PortalRecipient   `json:"requester"`
	Watchers           []PortalRecipient `json:"watchers"`
	AttachmentsVisible bool              `json:"attachments_visible"`
	Locale             string            `json:"locale"`
}

// ContractRetitled: the title the portal shows changed.
type ContractRetitled struct {
	OrganizationID uuid.UUID  `json:"organization_id"`
	ContractID     ContractID `json:"contract_id"`
	Title          string     `json:"title"`
	PreviousTitle  string     `json:"previous_title"`
}

// RequesterChanged: another portal user became the contract's requester;
// they get the email.
type RequesterChanged struct {
	OrganizationID      uuid.UUID       `json:"organization_id"`
	OrganizationName    string          `json:"organization_name"`
	ContractID          ContractID      `json:"contract_id"`
	Title               string          `json:"title"`
	Requester           PortalRecipient `json:"requester"`
	PreviousRequesterID uuid.UUID       `json:"previous_requester_id"`
	Locale              string          `json:"locale"`
}

// WatcherAdded: a portal user may now see the contract as a watcher
// (ShareContractWithWatcher); they get the email.
type WatcherAdded struct {
	OrganizationID   uuid.UUID       `json:"organization_id"`
	OrganizationName string          `json:"organization_name"`
	ContractID       ContractID      `json:"contract_id"`
	Title            string          `json:"title"`
	Watcher          PortalRecipient `json:"watcher"`
	Locale           string          `json:"locale"`
}

// WatcherRemoved: a member of the organization removed a watcher.
type WatcherRemoved struct {
	OrganizationID uuid.UUID  `json:"organization_id"`
	ContractID     ContractID `json:"contract_id"`
	PortalUserID   uuid.UUID  `json:"portal_user_id"`
}

// WatcherAccessWithdrawn: the service took a watcher's access away, for
// the Reason given (company_mismatch: the watcher's company no longer
// matches the requester's). It records both companies as they were then.
type WatcherAccessWithdrawn struct {
	OrganizationID   uuid.UUID  `json:"organization_id"`
	ContractID       ContractID `json:"contract_id"`
	PortalUserID     uuid.UUID  `json:"portal_user_id"`
	Reason           string     `json:"reason"`
	WatcherCompany   string     `json:"watcher_company"`
	RequesterID      uuid.UUID  `json:"requester_id"`
	RequesterCompany string     `json:"requester_company"`
}

// AttachmentsVisibilityChanged: the switch that shows every attachment of
// the contract in the portal was turned on or off.
type AttachmentsVisibilityChanged struct {
	OrganizationID     uuid.UUID  `json:"organization_id"`
	ContractID         ContractID `json:"contract_id"`
	AttachmentsVisible bool       `json:"attachments_visible"`
}

// ContractWithdrawn: the contract no longer appears in the portal; nobody
// sees it there any more.
type ContractWithdrawn struct {
	OrganizationID uuid.UUID  `json:"organization_id"`
	ContractID     ContractID `json:"contract_id"`
}

func (PortalUserCreated) EventType() string            { return "PortalUserCreated" }
func (PortalUserRenamed) EventType() string            { return "PortalUserRenamed" }
func (PortalUserCompanyChanged) EventType() string     { return "PortalUserCompanyChanged" }
func (ContractShown) EventType() string                { return "ContractShown" }
func (ContractRetitled) EventType() string             { return "ContractRetitled" }
func (RequesterChanged) EventType() string             { return "RequesterChanged" }
func (WatcherAdded) EventType() string                 { return "WatcherAdded" }
func (WatcherRemoved) EventType() string               { return "WatcherRemoved" }
func (WatcherAccessWithdrawn) EventType() string       { return "WatcherAccessWithdrawn" }
func (AttachmentsVisibilityChanged) EventType() string { return "AttachmentsVisibilityChanged" }
func (ContractWithdrawn) EventType() string            { return "ContractWithdrawn" }

func (e PortalUserCreated) OrganizationIDs() []uuid.UUID        { return []uuid.UUID{e.OrganizationID} }
func (e PortalUserRenamed) OrganizationIDs() []uuid.UUID        { return []uuid.UUID{e.OrganizationID} }
func (e PortalUserCompanyChanged) OrganizationIDs() []uuid.UUID { return []uuid.UUID{e.OrganizationID} }
func (e ContractShown) OrganizationIDs() []uuid.UUID            { return []uuid.UUID{e.OrganizationID} }
func (e ContractRetitled) OrganizationIDs() []uuid.UUID         { return []uuid.UUID{e.OrganizationID} }
func (e RequesterChanged) OrganizationIDs() []uuid.UUID         { return []uuid.UUID{e.OrganizationID} }
func (e WatcherAdded) OrganizationIDs() []uuid.UUID             { return []uuid.UUID{e.OrganizationID} }
func (e WatcherRemoved) OrganizationIDs() []uuid.UUID           { return []uuid.UUID{e.OrganizationID} }
func (e WatcherAccessWithdrawn) OrganizationIDs() []uuid.UUID   { return []uuid.UUID{e.OrganizationID} }
func (e AttachmentsVisibilityChanged) OrganizationIDs() []uuid.UUID {
	return []uuid.UUID{e.OrganizationID}
}
func (e ContractWithdrawn) OrganizationIDs() []uuid.UUID { return []uuid.UUID{e.OrganizationID} }

func init() {
	register(EventSpec{New: func() Event { return &PortalUserCreated{} }})
	register(EventSpec{New: func() Event { return &PortalUserRenamed{} }})
	register(EventSpec{New: func() Event { return &PortalUserCompanyChanged{} }})
	register(EventSpec{New: func() Event { return &ContractShown{} }})
	register(EventSpec{New: func() Event { return &ContractRetitled{} }})
	register(EventSpec{New: func() Event { return &RequesterChanged{} }})
	register(EventSpec{New: func() Event { return &WatcherAdded{} }})
	register(EventSpec{New: func() Event { return &WatcherRemoved{} }})
	register(EventSpec{New: func() Event { return &WatcherAccessWithdrawn{} }})
	register(EventSpec{New: func() Event { return &AttachmentsVisibilityChanged{} }})
	register(EventSpec{New: func() Event { return &ContractWithdrawn{} }})
}

// =============================================================================
// Portal users

// PortalUser is the aggregate of one client contact of an organization's
// portal. It is not a member: it has no say in the organization.
type PortalUser struct {
	ID             uuid.UUID
	OrganizationID uuid.UUID
	Email          Personal
	EmailRef       PersonRef
	Name           Personal
	Company        string
	Version        int
}

// Exists reports whether the portal user was created.
func (p *PortalUser) Exists() bool { return p.ID != uuid.Nil }

// Apply evolves the state by one event.
func (p *PortalUser) Apply(e Event) {
	p.Version++
	switch e := e.(type) {
	case PortalUserCreated:
		p.ID, p.OrganizationID, p.Email, p.EmailRef, p.Name, p.Company =
			e.PortalUserID, e.OrganizationID, e.Email, e.EmailRef, e.Name, e.Company
	case PortalUserRenamed:
		p.Name = e.Name
	case PortalUserCompanyChanged:
		p.Company = e.Company
	}
}

// Recipient is the portal user as share events name them.
func (p *PortalUser) Recipient() PortalRecipient {
	return PortalRecipient{PortalUserID: p.ID, Email: p.Email, Name: p.Name, Company: p.Company}
}

// of reports whether the portal user belongs to the organization. A portal
// user of another organization is, to this one, unknown.
func (p *PortalUser) of(org *Organization) bool {
	return p != nil && p.Exists() && p.OrganizationID == org.ID
}

// ErrPortalUserNotFound is what anyone learns of a portal user that is not
// their organization's.
func ErrPortalUserNotFound() *Error { return Errorf(CodeNotFound, "No such portal user.") }

// ErrPortalUserExists refuses a second portal user with the same email in
// one organization, naming the existing one.
func ErrPortalUserExists(existing string) *Error {
	return (&Error{Code: CodePortalUserExists,
		Message: "This organization already has a portal user with this email. Edit that portal user instead.",
		Fields:  []FieldError{{Field: "email", Message: "is already the email of a portal user of this organization"}}}).
		With("portal_user_id", existing)
}

// CreatePortalUser adds a client contact to the organization's portal.
type CreatePortalUser struct {
	PortalUserID uuid.UUID
	Email        Email
	EmailRef     PersonRef
	Name         string
	Company      string
	Actor        Actor
}

// DecideCreatePortalUser decides CreatePortalUser. One portal user per
// email and organization is the caller's reservation to keep.
func DecideCreatePortalUser(org *Organization, p *PortalUser, c CreatePortalUser) ([]Event, error) {
	if err := org.Require(c.Actor, ActionPortalManage); err != nil {
		return nil, err
	}
	if p.Exists() {
		return nil, ErrConcurrencyConflict("This portal user already exists.")
	}
	var v Validation
	v.Check(c.Email.IsZero(), "email", msgRequired)
	name := ParseField(&v, "name", c.Name, ParsePortalUserName)
	company := ParseField(&v, "company", c.Company, ParseCompany)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []Event{PortalUserCreated{PortalUserID: c.PortalUserID, OrganizationID: org.ID,
		Email: PersonalOf(c.EmailRef, c.Email.String()), EmailRef: c.EmailRef,
		Name: PersonalOf(c.EmailRef, name), Company: company}}, nil
}

// UpdatePortalUser changes a portal user's name, company, or both; a nil
// field stays as it is.
type UpdatePortalUser struct {
	Name    *string
	Company *string
	Actor   Actor
}

// DecideUpdatePortalUser decides UpdatePortalUser. Setting what is already
// there records nothing.
func DecideUpdatePortalUser(org *Organization, p *PortalUser, c UpdatePortalUser) ([]Event, error) {
	if err := org.Require(c.Actor, ActionPortalManage); err != nil {
		return nil, err
	}
	if !p.of(org) {
		return nil, ErrPortalUserNotFound()
	}
	var v Validation
	var name, company string
	if c.Name != nil {
		name = ParseField(&v, "name", *c.Name, ParsePortalUserName)
	}
	if c.Company != nil {
		company = ParseField(&v, "company", *c.Company, ParseCompany)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var evs []Event
	if c.Name != nil && name != p.Name.Value {
		evs = append(evs, PortalUserRenamed{PortalUserID: p.ID, OrganizationID: org.ID, Name: PersonalOf(p.EmailRef, name)})
	}
	if c.Company != nil && company != p.Company {
		evs = append(evs, PortalUserCompanyChanged{PortalUserID: p.ID, OrganizationID: org.ID, Company: company, PreviousCompany: p.Company})
	}
	return evs, nil
}

// =============================================================================
// Contracts in the portal

// ContractShare is the aggregate of one contract in one organization's
// portal: who sees it and whether its attachments are visible.
type ContractShare struct {
	OrganizationID     uuid.UUID
	ContractID         ContractID
	Title              string
	RequesterID        uuid.UUID
	Watchers           []uuid.UUID // in the order they were added
	AttachmentsVisible bool
	// Shown is false before the first ContractShown and after a
	// ContractWithdrawn.
	Shown   bool
	Version int
}

// IsWatcher reports whether a portal user watches the contract.
func (s *ContractShare) IsWatcher(id uuid.UUID) bool {
	for _, w := range s.Watchers {
		if w == id {
			return true
		}
	}
	return false
}

func (s *ContractShare) dropWatcher(id uuid.UUID) {
	out := s.Watchers[:0:0]
	for _, w := range s.Watchers {
		if w != id {
			out = append(out, w)
		}
	}
	s.Watchers = out
}

// Apply evolves the state by one event.
func (s *ContractShare) Apply(e Event) {
	s.Version++
	switch e := e.(type) {
	case ContractShown:
		s.OrganizationID, s.ContractID, s.Title = e.OrganizationID, e.ContractID, e.Title
		s.RequesterID, s.AttachmentsVisible, s.Shown = e.Requester.PortalUserID, e.AttachmentsVisible, true
		s.Watchers = make([]uuid.UUID, len(e.Watchers))
		for i, w := range e.Watchers {
			s.Watchers[i] = w.PortalUserID
		}
	case ContractRetitled:
		s.Title = e.Title
	case RequesterChanged:
		s.RequesterID = e.Requester.PortalUserID
	case WatcherAdded:
		if !s.IsWatcher(e.Watcher.PortalUserID) {
			s.Watchers = append(s.Watchers, e.Watcher.PortalUserID)
		}
	case WatcherRemoved:
		s.dropWatcher(e.PortalUserID)
	case WatcherAccessWithdrawn:
		s.dropWatcher(e.PortalUserID)
	case AttachmentsVisibilityChanged:
		s.AttachmentsVisible = e.AttachmentsVisible
	case ContractWithdrawn:
		*s = ContractShare{OrganizationID: s.OrganizationID, ContractID: s.ContractID, Version: s.Version}
	}
}

// ErrContractNotShown is the answer about a contract the organization's
// portal does not show (never shown, withdrawn, or another organization's).
func ErrContractNotShown() *Error {
	return Errorf(CodeNotFound, "This contract is not shown in the client portal.")
}

// companyMismatch enforces the same-company rule: every watcher belongs to
// the requester's company (compared trimmed and case-insensitively), which
// must not be empty. The error names the portal users to fix and where.
func companyMismatch(requester *PortalUser, watchers []*PortalUser) *Error {
	if len(watchers) == 0 {
		return nil
	}
	settings := " Set each portal user's company in " + PortalSettingsPath + ", then share again."
	who := func(p *PortalUser) map[string]any {
		return map[string]any{"id": p.ID.String(), "name": p.Name.Value, "company": p.Company}
	}
	company := NormalizeCompany(requester.Company)
	if company == "" {
		return (&Error{Code: CodeCompanyMismatch,
			Message: fmt.Sprintf("Watchers must belong to the same company as the requester, and the requester %s (%s) has no company.",
				requester.Name.Value, requester.ID) + settings}).
			With("requester", who(requester)).
			With("portal_users", []map[string]any{who(requester)}).
			With("settings", PortalSettingsPath)
	}
	var names []string
	var offenders []map[string]any
	for _, w := range watchers {
		if NormalizeCompany(w.Company) == company {
			continue
		}
		c := fmt.Sprintf("company %q", w.Company)
		if strings.TrimSpace(w.Company) == "" {
			c = "no company"
		}
		names = append(names, fmt.Sprintf("%s (%s, %s)", w.Name.Value, w.ID, c))
		offenders = append(offenders, who(w))
	}
	if len(offenders) == 0 {
		return nil
	}
	return (&Error{Code: CodeCompanyMismatch,
		Message: fmt.Sprintf("Watchers must belong to the same company as the requester (%q). Not in that company: %s.",
			requester.Company, strings.Join(names, "; ")) + settings}).
		With("requester", who(requester)).
		With("portal_users", offenders).
		With("settings", PortalSettingsPath)
}

// ShowContract shows a contract in the portal, or, when it is shown
// already, replaces its title, requester, watchers and switch.
type ShowContract struct {
	ContractID  ContractID
	Title       string
	RequesterID uuid.UUID
	// WatcherIDs is the list as the request gave it: an id given twice is
	// one watcher, and errors name the index in this list.
	WatcherIDs         []uuid.UUID
	AttachmentsVisible bool
	Locale             string
	// PortalUsers holds the current state of the portal users named; an id
	// missing here, or of another organization, is unknown.
	PortalUsers map[uuid.UUID]*PortalUser
	Actor       Actor
}

// DecideShowContract decides ShowContract: ContractShown for a contract
// not shown, else the changes one by one (title, removed watchers, new
// requester, added watchers, switch), or nothing when nothing changes.
func DecideShowContract(org *Organization, share *ContractShare, c ShowContract) ([]Event, error) {
	if err := org.Require(c.Actor, ActionPortalManage); err != nil {
		return nil, err
	}
	var v Validation
	title := ParseField(&v, "title", c.Title, ParseContractTitle)
	requester := c.PortalUsers[c.RequesterID]
	if !requester.of(org) {
		v.Add("requester_id", msgUnknownPortalUser)
	}
	var watchers []*PortalUser
	seen := map[uuid.UUID]bool{}
	for i, id := range c.WatcherIDs {
		field := fmt.Sprintf("watcher_ids[%d]", i)
		w := c.PortalUsers[id]
		switch {
		case id == c.RequesterID:
			v.Add(field, msgRequesterIsWatcher)
		case seen[id]:
			// Naming a watcher twice is harmless.
		case !w.of(org):
			v.Add(field, msgUnknownPortalUser)
		default:
			seen[id] = true
			watchers = append(watchers, w)
		}
	}
	v.Check(len(watchers) > MaxWatchers, "watcher_ids", fmt.Sprintf("must name at most %d portal users", MaxWatchers))
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := companyMismatch(requester, watchers); err != nil {
		return nil, err
	}
	if !share.Shown {
		shown := ContractShown{OrganizationID: org.ID, OrganizationName: org.Name, ContractID: c.ContractID, Title: title,
			Requester: requester.Recipient(), Watchers: []PortalRecipient{}, AttachmentsVisible: c.AttachmentsVisible, Locale: c.Locale}
		for _, w := range watchers {
			shown.Watchers = append(shown.Watchers, w.Recipient())
		}
		return []Event{shown}, nil
	}
	var evs []Event
	if title != share.Title {
		evs = append(evs, ContractRetitled{OrganizationID: org.ID, ContractID: share.ContractID, Title: title, PreviousTitle: share.Title})
	}
	// Removals come first, so a watcher who becomes the requester is no
	// longer a watcher when the requester changes.
	for _, id := range share.Watchers {
		if !seen[id] {
			evs = append(evs, WatcherRemoved{OrganizationID: org.ID, ContractID: share.ContractID, PortalUserID: id})
		}
	}
	if requester.ID != share.RequesterID {
		evs = append(evs, RequesterChanged{OrganizationID: org.ID, OrganizationName: org.Name, ContractID: share.ContractID,
			Title: title, Requester: requester.Recipient(), PreviousRequesterID: share.RequesterID, Locale: c.Locale})
	}
	for _, w := range watchers {
		if !share.IsWatcher(w.ID) {
			evs = append(evs, WatcherAdded{OrganizationID: org.ID, OrganizationName: org.Name, ContractID: share.ContractID,
				Title: title, Watcher: w.Recipient(), Locale: c.Locale})
		}
	}
	if c.AttachmentsVisible != share.AttachmentsVisible {
		evs = append(evs, AttachmentsVisibilityChanged{OrganizationID: org.ID, ContractID: share.ContractID, AttachmentsVisible: c.AttachmentsVisible})
	}
	return evs, nil
}

// ShareContractWithWatcher gives one more portal user access to a shown
// contract.
type ShareContractWithWatcher struct {
	// Watcher is the portal user named (nil or empty when unknown);
	// Requester is the contract's current requester.
	Watcher   *PortalUser
	Requester *PortalUser
	Locale    string
	Actor     Actor
}

// DecideShareContractWithWatcher decides ShareContractWithWatcher. Adding
// a watcher twice records nothing.
func DecideShareContractWithWatcher(org *Organization, share *ContractShare, c ShareContractWithWatcher) ([]Event, error) {
	if err := org.Require(c.Actor, ActionPortalManage); err != nil {
		return nil, err
	}
	if !share.Shown {
		return nil, ErrContractNotShown()
	}
	if !c.Watcher.of(org) {
		return nil, Invalid("portal_user_id", msgUnknownPortalUser)
	}
	if c.Watcher.ID == share.RequesterID {
		return nil, Invalid("portal_user_id", msgRequesterIsWatcher)
	}
	if share.IsWatcher(c.Watcher.ID) {
		return nil, nil
	}
	if err := companyMismatch(c.Requester, []*PortalUser{c.Watcher}); err != nil {
		return nil, err
	}
	return []Event{WatcherAdded{OrganizationID: org.ID, OrganizationName: org.Name, ContractID: share.ContractID,
		Title: share.Title, Watcher: c.Watcher.Recipient(), Locale: c.Locale}}, nil
}

// RemoveWatcher takes a watcher's access to a contract away; Watcher is
// the portal user's current state.
type RemoveWatcher struct {
	Watcher *PortalUser
	Actor   Actor
}

// DecideRemoveWatcher takes a watcher's access away. Removing a portal user
// who does not watch the contract records nothing.
func DecideRemoveWatcher(org *Organization, share *ContractShare, c RemoveWatcher) ([]Event, error) {
	if err := org.Require(c.Actor, ActionPortalManage); err != nil {
		return nil, err
	}
	if !share.Shown {
		return nil, ErrContractNotShown()
	}
	if !c.Watcher.of(org) {
		return nil, ErrPortalUserNotFound()
	}
	if !share.IsWatcher(c.Watcher.ID) {
		return nil, nil
	}
	return []Event{WatcherRemoved{OrganizationID: org.ID, ContractID: share.ContractID, PortalUserID: c.Watcher.ID}}, nil
}

// SetAttachmentsVisible turns a contract's attachments switch.
type SetAttachmentsVisible struct {
	Visible bool
	Actor   Actor
}

// DecideSetAttachmentsVisible turns the attachments switch on or off.
func DecideSetAttachmentsVisible(org *Organization, share *ContractShare, c SetAttachmentsVisible) ([]Event, error) {
	if err := org.Require(c.Actor, ActionPortalManage); err != nil {
		return nil, err
	}
	if !share.Shown {
		return nil, ErrContractNotShown()
	}
	if share.AttachmentsVisible == c.Visible {
		return nil, nil
	}
	return []Event{AttachmentsVisibilityChanged{OrganizationID: org.ID, ContractID: share.ContractID, AttachmentsVisible: c.Visible}}, nil
}

// WithdrawContract withdraws a contract from the portal.
type WithdrawContract struct {
	Actor Actor
}

// DecideWithdrawContract withdraws a contract from the portal.
func DecideWithdrawContract(org *Organization, share *ContractShare, c WithdrawContract) ([]Event, error) {
	if err := org.Require(c.Actor, ActionPortalManage); err != nil {
		return nil, err
	}
	if !share.Shown {
		return nil, ErrContractNotShown()
	}
	return []Event{ContractWithdrawn{OrganizationID: org.ID, ContractID: share.ContractID}}, nil
}

// WithdrawMismatchedWatchers is the process manager's check of a share;
// PortalUsers holds the current state of the requester and the watchers.
type WithdrawMismatchedWatchers struct {
	PortalUsers map[uuid.UUID]*PortalUser
}

// DecideWithdrawMismatchedWatchers is the process manager's decision after
// a company changed (or a share raced with such a change): every watcher
// whose company no longer matches the requester's, or whose requester has
// no company, loses access by an event that names the reason. A portal
// user missing from c.PortalUsers is left alone. Deciding again on the resulting state
// gives nothing, so a redelivery appends nothing.
func DecideWithdrawMismatchedWatchers(share *ContractShare, c WithdrawMismatchedWatchers) []Event {
	requester := c.PortalUsers[share.RequesterID]
	if !share.Shown || requester == nil || !requester.Exists() {
		return nil
	}
	company := NormalizeCompany(requester.Company)
	var evs []Event
	for _, id := range share.Watchers {
		w := c.PortalUsers[id]
		if w == nil || !w.Exists() {
			continue
		}
		if company != "" && NormalizeCompany(w.Company) == company {
			continue
		}
		evs = append(evs, WatcherAccessWithdrawn{OrganizationID: share.OrganizationID, ContractID: share.ContractID,
			PortalUserID: id, Reason: WithdrawalReasonCompanyMismatch, WatcherCompany: w.Company,
			RequesterID: requester.ID, RequesterCompany: requester.Company})
	}
	return evs
}

// Clone is a copy that shares nothing with s.
func (s *ContractShare) Clone() *ContractShare {
	c := *s
	c.Watchers = slices.Clone(s.Watchers)
	return &c
}
