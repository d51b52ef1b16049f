package domain

import (
	"maps"
	"time"

	"github.com/google/uuid"
)

// Actor is who issues a command: the verified token's subject and email,
// with the email's person ref already computed by the caller.
type Actor struct {
	UserID        string
	Email         Email
	EmailRef      PersonRef
	EmailVerified bool
	Name          string
	// TokenIssuedAt is when the token was issued ("iat"); zero when it
	// does not say. Of two tokens, the later one's email is the member's.
	TokenIssuedAt time.Time
}

// EmailPersonal is the actor's email as personal data.
func (a Actor) EmailPersonal() Personal { return PersonalOf(a.EmailRef, a.Email.String()) }

// NamePersonal is the actor's display name as personal data. A token without
// an email names nobody the name could be keyed to (and forgotten with), so
// the name is left out rather than stored in clear.
func (a Actor) NamePersonal() Personal {
	if a.EmailRef == "" {
		return Personal{}
	}
	return PersonalOf(a.EmailRef, a.Name)
}

// OrganizationStreamType is the stream type of organizations.
const OrganizationStreamType = "organization"

// OrganizationStream is the stream of one organization: its identity and its
// memberships, so that "at least one owner" is guarded by one version.
func OrganizationStream(id uuid.UUID) string { return "organization-" + id.String() }

// OrganizationCreated: a company account was opened.
type OrganizationCreated struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	Name           string    `json:"name"`
	Side           Side      `json:"side"`
	Siret          string    `json:"siret,omitempty"`
}

// MemberJoined: a user became a member of an organization with a role.
type MemberJoined struct {
	OrganizationID  uuid.UUID  `json:"organization_id"`
	UserID          string     `json:"user_id"`
	Email           Personal   `json:"email"`
	Name            Personal   `json:"name"`
	EmailVerified   bool       `json:"email_verified"`
	Role            Role       `json:"role"`
	CanPurchase     bool       `json:"can_purchase,omitempty"`
	CanSeeAllOrders bool       `json:"can_see_all_orders,omitempty"`
	Via             string     `json:"via"`
	InvitationID    *uuid.UUID `json:"invitation_id,omitempty"`
}

// How a member joined (MemberJoined.Via).
const (
	ViaCreation             = "creation"
	ViaMemberInvitation     = "member_invitation"
	ViaAccountantInvitation = "accountant_invitation"
	ViaCollaboratorInvite   = "collaborator_activation"
	ViaCollaborationRequest = "collaboration_request"
)

// MemberRoleChanged: a colleague's role changed (owner, admin or member).
// It repeats the member's email ref and whether that email is verified, so
// read models that look people up by email (partner invitations addressed
// to owners and admins, collaboration requests to owners) follow the
// change without reading anything else.
type MemberRoleChanged struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	UserID         string    `json:"user_id"`
	EmailRef       PersonRef `json:"email_ref"`
	EmailVerified  bool      `json:"email_verified"`
	Role           Role      `json:"role"`
	PreviousRole   Role      `json:"previous_role"`
	ChangedBy      string    `json:"changed_by"`
}

// MemberRemoved: a colleague (owner, admin or member) left the team. Role
// is the role they had.
type MemberRemoved struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	UserID         string    `json:"user_id"`
	Role           Role      `json:"role"`
	RemovedBy      string    `json:"removed_by"`
}

// AccountantAccessRevoked: the organization withdrew its accountant's
// access; every decision from then on is made without it.
type AccountantAccessRevoked struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	UserID         string    `json:"user_id"`
	RevokedBy      string    `json:"revoked_by"`
}

// CollaboratorPermissionsChanged: a collaborator's two permissions, as
// they are from now on.
type CollaboratorPermissionsChanged struct {
	OrganizationID  uuid.UUID `json:"organization_id"`
	UserID          string    `json:"user_id"`
	CanPurchase     bool      `json:"can_purchase"`
	CanSeeAllOrders bool      `json:"can_see_all_orders"`
	ChangedBy       string    `json:"changed_by"`
}

// CollaboratorRemoved: a collaborator was detached from the organization.
type CollaboratorRemoved struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	UserID         string    `json:"user_id"`
	RemovedBy      string    `json:"removed_by"`
}

// MemberEmailChanged: a member's token now carries another verified email
// than the one recorded (a member's email is the one of their latest
// token, not the one they joined with). Name is the token's, keyed to the
// new email like everything else about them. TokenIssuedAt is when that
// token was issued: an older token still in use elsewhere does not change
// it back. It repeats the role, so read models that look people up by
// email (partner invitations addressed to owners and admins, collaboration
// requests to owners) follow the change without reading anything else.
type MemberEmailChanged struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	UserID         string    `json:"user_id"`
	Email          Personal  `json:"email"`
	EmailRef       PersonRef `json:"email_ref"`
	Name           Personal  `json:"name"`
	Role           Role      `json:"role"`
	TokenIssuedAt  time.Time `json:"token_issued_at"`
}

func (MemberEmailChanged) EventType() string { return "MemberEmailChanged" }
func (e MemberEmailChanged) OrganizationIDs() []uuid.UUID {
	return []uuid.UUID{e.OrganizationID}
}

func (OrganizationCreated) EventType() string            { return "OrganizationCreated" }
func (MemberJoined) EventType() string                   { return "MemberJoined" }
func (MemberRoleChanged) EventType() string              { return "MemberRoleChanged" }
func (MemberRemoved) EventType() string                  { return "MemberRemoved" }
func (AccountantAccessRevoked) EventType() string        { return "AccountantAccessRevoked" }
func (CollaboratorPermissionsChanged) EventType() string { return "CollaboratorPermissionsChanged" }
func (CollaboratorRemoved) EventType() string            { return "CollaboratorRemoved" }

func (e OrganizationCreated) OrganizationIDs() []uuid.UUID     { return []uuid.UUID{e.OrganizationID} }
func (e MemberJoined) OrganizationIDs() []uuid.UUID            { return []uuid.UUID{e.OrganizationID} }
func (e MemberRoleChanged) OrganizationIDs() []uuid.UUID       { return []uuid.UUID{e.OrganizationID} }
func (e MemberRemoved) OrganizationIDs() []uuid.UUID           { return []uuid.UUID{e.OrganizationID} }
func (e AccountantAccessRevoked) OrganizationIDs() []uuid.UUID { return []uuid.UUID{e.OrganizationID} }
func (e CollaboratorPermissionsChanged) OrganizationIDs() []uuid.UUID {
	return []uuid.UUID{e.OrganizationID}
}
func (e CollaboratorRemoved) OrganizationIDs() []uuid.UUID { return []uuid.UUID{e.OrganizationID} }

func init() {
	register(EventSpec{New: func() Event { return &OrganizationCreated{} }})
	register(EventSpec{New: func() Event { return &MemberJoined{} }})
	register(EventSpec{New: func() Event { return &MemberRoleChanged{} }})
	register(EventSpec{New: func() Event { return &MemberRemoved{} }})
	register(EventSpec{New: func() Event { return &AccountantAccessRevoked{} }})
	register(EventSpec{New: func() Event { return &CollaboratorPermissionsChanged{} }})
	register(EventSpec{New: func() Event { return &CollaboratorRemoved{} }})
	register(EventSpec{New: func() Event { return &MemberEmailChanged{} }})
}

// Member is a membership as the organization sees it.
type Member struct {
	UserID          string
	Email           Personal
	Name            Personal
	EmailVerified   bool
	Role            Role
	CanPurchase     bool
	CanSeeAllOrders bool
	// EmailSince is when the token that recorded Email was issued; zero
	// when it is the email they joined with (or the token did not say).
	EmailSince time.Time
}

// Organization is the aggregate of a company account and its memberships.
type Organization struct {
	ID      uuid.UUID
	Name    string
	Side    Side
	Siret   string
	Members map[string]Member
	Version int
}

// Exists reports whether the organization was created.
func (o *Organization) Exists() bool { return o.ID != uuid.Nil }

// Apply evolves the state by one event.
func (o *Organization) Apply(e Event) {
	o.Version++
	switch e := e.(type) {
	case OrganizationCreated:
		o.ID, o.Name, o.Side, o.Siret = e.OrganizationID, e.Name, e.Side, e.Siret
		o.Members = map[string]Member{}
	case MemberJoined:
		o.Members[e.UserID] = Member{UserID: e.UserID, Email: e.Email, Name: e.Name, EmailVerified: e.EmailVerified, Role: e.Role,
			CanPurchase: e.CanPurchase, CanSeeAllOrders: e.CanSeeAllOrders}
	case MemberRoleChanged:
		if m, ok := o.Members[e.UserID]; ok {
			m.Role = e.Role
			o.Members[e.UserID] = m
		}
	case CollaboratorPermissionsChanged:
		if m, ok := o.Members[e.UserID]; ok {
			m.CanPurchase, m.CanSeeAllOrders = e.CanPurchase, e.CanSeeAllOrders
			o.Members[e.UserID] = m
		}
	case MemberEmailChanged:
		if m, ok := o.Members[e.UserID]; ok {
			m.Email, m.Name, m.EmailVerified, m.EmailSince = e.Email, e.Name, true, e.TokenIssuedAt
			o.Members[e.UserID] = m
		}
	case MemberRemoved:
		delete(o.Members, e.UserID)
	case AccountantAccessRevoked:
		delete(o.Members, e.UserID)
	case CollaboratorRemoved:
		delete(o.Members, e.UserID)
	}
}

// Owners counts the organization's owners.
func (o *Organization) Owners() int {
	n := 0
	for _, m := range o.Members {
		if m.Role == RoleOwner {
			n++
		}
	}
	return n
}

// MemberByRef finds the member whose token email is the person ref; ok is
// false when there is none.
func (o *Organization) MemberByRef(ref PersonRef) (Member, bool) {
	if ref == "" {
		return Member{}, false
	}
	for _, m := range o.Members {
		if m.Email.Owner == ref {
			return m, true
		}
	}
	return Member{}, false
}

// GrantOf is a user's standing here; zero when not a member.
func (o *Organization) GrantOf(userID string) Grant {
	m, ok := o.Members[userID]
	if !ok {
		return Grant{}
	}
	return Grant{Role: m.Role.String(), CanPurchase: m.CanPurchase, CanSeeAllOrders: m.CanSeeAllOrders}
}

// ErrOrganizationNotFound is what anyone outside an organization learns
// about it: nothing more than "not found".
func ErrOrganizationNotFound() *Error {
	return Errorf(CodeNotFound, "No such organization.")
}

// Require checks the actor against the permission table. Someone who is not
// a member learns nothing: the organization is "not found".
func (o *Organization) Require(actor Actor, a Action) error {
	if !o.Exists() {
		return ErrOrganizationNotFound()
	}
	g := o.GrantOf(actor.UserID)
	if g.Role == "" {
		return ErrOrganizationNotFound()
	}
	if d := Authorize(g, a); !d.Allowed {
		return (&Error{Code: CodeNotAllowed, Message: "Your role in this organization does not allow this (" + d.Reason + ")."}).
			With("action", string(a))
	}
	return nil
}

// CreateOrganization opens a company account; its creator is its owner.
type CreateOrganization struct {
	OrganizationID uuid.UUID
	Name           string
	Side           Side
	Siret          Siret
	Actor          Actor
}

// DecideCreateOrganization decides the events of CreateOrganization.
func DecideCreateOrganization(o *Organization, c CreateOrganization) ([]Event, error) {
	if o.Exists() {
		return nil, ErrConcurrencyConflict("This organization already exists.")
	}
	return []Event{
		OrganizationCreated{OrganizationID: c.OrganizationID, Name: c.Name, Side: c.Side, Siret: c.Siret.String()},
		MemberJoined{OrganizationID: c.OrganizationID, UserID: c.Actor.UserID, Email: c.Actor.EmailPersonal(),
			Name: c.Actor.NamePersonal(), EmailVerified: c.Actor.EmailVerified, Role: RoleOwner, Via: "creation"},
	}, nil
}

// =============================================================================
// The team: roles, removals, accountant access and collaborators' permissions
// (DOMAIN.md sections 3 to 5). Every decision here reads and writes the
// organization's own stream, so "at least one owner" holds under concurrency:
// two owners demoting each other at the same moment append at the same
// version, the loser decides again on the new state and is refused.

// isTeamRole reports whether r is a colleague's role: owners, admins and
// members are the team; accountants and collaborators have endpoints of
// their own.
func isTeamRole(r Role) bool { return r == RoleOwner || r == RoleAdmin || r == RoleMember }

// ParseTeamRole accepts the roles a colleague can be given: "owner",
// "admin" or "member".
func ParseTeamRole(s string) (Role, error) {
	if s == "" {
		return Role{}, Invalid("role", msgRequired)
	}
	r, err := ParseRole(s)
	if err != nil || !isTeamRole(r) {
		return Role{}, Invalid("role", `must be "owner", "admin" or "member" (accountants and collaborators are managed under their own settings)`)
	}
	return r, nil
}

func errLastOwner() *Error {
	return Errorf(CodeLastOwner, "An organization must keep at least one owner. Make another member an owner first.")
}

func errNoSuchMember() *Error { return Errorf(CodeNotFound, "No such member in this organization.") }

// teamMember returns the colleague a role change or a removal is about. An
// accountant or a collaborator is refused with where to manage them.
func (o *Organization) teamMember(userID string) (Member, error) {
	m, ok := o.Members[userID]
	if !ok {
		return Member{}, errNoSuchMember()
	}
	switch m.Role {
	case RoleAccountant:
		return Member{}, (&Error{Code: CodeNotTeamMember,
			Message: "This person is the organization's accountant: manage their access under Accountant access."}).With("role", m.Role.String())
	case RoleCollaborator:
		return Member{}, (&Error{Code: CodeNotTeamMember,
			Message: "This person is a collaborator: change their permissions or remove them under Collaborators."}).With("role", m.Role.String())
	}
	return m, nil
}

// ownerOnly applies "owners change any role; admins change and remove
// members only": an actor who is not an owner may act only on a member, and
// may give only the member role.
func (o *Organization) ownerOnly(actor Actor, target Member, newRole Role, verb string) error {
	if o.Members[actor.UserID].Role == RoleOwner {
		return nil
	}
	if target.Role != RoleMember {
		return (&Error{Code: CodeNotAllowed, Message: "Only owners can " + verb + " an owner or an admin."}).
			With("action", string(ActionMembersManage))
	}
	if !newRole.IsZero() && newRole != RoleMember {
		return (&Error{Code: CodeNotAllowed, Message: "Only owners can make owners or admins."}).
			With("action", string(ActionMembersManage))
	}
	return nil
}

// ChangeMemberRole gives a colleague another team role.
type ChangeMemberRole struct {
	UserID string
	Role   Role
	Actor  Actor
}

// DecideChangeMemberRole changes a colleague's role. Giving the role they
// already have changes nothing.
func DecideChangeMemberRole(o *Organization, c ChangeMemberRole) ([]Event, error) {
	if err := o.Require(c.Actor, ActionMembersManage); err != nil {
		return nil, err
	}
	if !isTeamRole(c.Role) {
		return nil, Invalid("role", `must be "owner", "admin" or "member"`)
	}
	target, err := o.teamMember(c.UserID)
	if err != nil {
		return nil, err
	}
	if err := o.ownerOnly(c.Actor, target, c.Role, "change the role of"); err != nil {
		return nil, err
	}
	if target.Role == c.Role {
		return nil, nil
	}
	if target.Role == RoleOwner && o.Owners() == 1 {
		return nil, errLastOwner()
	}
	return []Event{MemberRoleChanged{OrganizationID: o.ID, UserID: c.UserID, EmailRef: target.Email.Owner, EmailVerified: target.EmailVerified,
		Role: c.Role, PreviousRole: target.Role, ChangedBy: c.Actor.UserID}}, nil
}

// RemoveMember removes a colleague from the team.
type RemoveMember struct {
	UserID string
	Actor  Actor
}

// DecideRemoveMember removes a colleague from the team.
func DecideRemoveMember(o *Organization, c RemoveMember) ([]Event, error) {
	if err := o.Require(c.Actor, ActionMembersManage); err != nil {
		return nil, err
	}
	target, err := o.teamMember(c.UserID)
	if err != nil {
		return nil, err
	}
	if err := o.ownerOnly(c.Actor, target, Role{}, "remove"); err != nil {
		return nil, err
	}
	if target.Role == RoleOwner && o.Owners() == 1 {
		return nil, errLastOwner()
	}
	return []Event{MemberRemoved{OrganizationID: o.ID, UserID: c.UserID, Role: target.Role, RemovedBy: c.Actor.UserID}}, nil
}

// RevokeAccountantAccess withdraws an accountant's access.
type RevokeAccountantAccess struct {
	UserID string
	Actor  Actor
}

// DecideRevokeAccountantAccess withdraws an accountant's access at once.
func DecideRevokeAccountantAccess(o *Organization, c RevokeAccountantAccess) ([]Event, error) {
	if err := o.Require(c.Actor, ActionMembersManage); err != nil {
		return nil, err
	}
	if m, ok := o.Members[c.UserID]; !ok || m.Role != RoleAccountant {
		return nil, Errorf(CodeNotFound, "This organization has no accountant with this user id.")
	}
	return []Event{AccountantAccessRevoked{OrganizationID: o.ID, UserID: c.UserID, RevokedBy: c.Actor.UserID}}, nil
}

func (o *Organization) collaborator(userID string) (Member, error) {
	m, ok := o.Members[userID]
	if !ok || m.Role != RoleCollaborator {
		return Member{}, Errorf(CodeNotFound, "This organization has no collaborator with this user id.")
	}
	return m, nil
}

// ChangeCollaboratorPermissions sets either or both of a collaborator's
// permissions; a nil one stays as it is.
type ChangeCollaboratorPermissions struct {
	UserID          string
	CanPurchase     *bool
	CanSeeAllOrders *bool
	Actor           Actor
}

// DecideChangeCollaboratorPermissions changes a collaborator's permissions.
// Setting them to what they are changes nothing.
func DecideChangeCollaboratorPermissions(o *Organization, c ChangeCollaboratorPermissions) ([]Event, error) {
	if err := o.Require(c.Actor, ActionMembersManage); err != nil {
		return nil, err
	}
	m, err := o.collaborator(c.UserID)
	if err != nil {
		return nil, err
	}
	purchase, all := m.CanPurchase, m.CanSeeAllOrders
	if c.CanPurchase != nil {
		purchase = *c.CanPurchase
	}
	if c.CanSeeAllOrders != nil {
		all = *c.CanSeeAllOrders
	}
	if purchase == m.CanPurchase && all == m.CanSeeAllOrders {
		return nil, nil
	}
	return []Event{CollaboratorPermissionsChanged{OrganizationID: o.ID, UserID: c.UserID, CanPurchase: purchase,
		CanSeeAllOrders: all, ChangedBy: c.Actor.UserID}}, nil
}

// RemoveCollaborator detaches a collaborator.
type RemoveCollaborator struct {
	UserID string
	Actor  Actor
}

// DecideRemoveCollaborator detaches a collaborator from the organization.
func DecideRemoveCollaborator(o *Organization, c RemoveCollaborator) ([]Event, error) {
	if err := o.Require(c.Actor, ActionMembersManage); err != nil {
		return nil, err
	}
	if _, err := o.collaborator(c.UserID); err != nil {
		return nil, err
	}
	return []Event{CollaboratorRemoved{OrganizationID: o.ID, UserID: c.UserID, RemovedBy: c.Actor.UserID}}, nil
}

// RecordMemberEmail brings a member's recorded email up to their token's.
type RecordMemberEmail struct {
	Actor Actor
}

// DecideRecordMemberEmail records the actor's verified email when it is
// not the one recorded (nor recorded as verified). An email the token does
// not vouch for changes nothing: it would let anyone who can put any
// address in a token be addressed as that person. Nor does a token issued
// before the one that recorded the current email (or one that does not say
// when it was issued, once a change was recorded): a person using an old
// and a new token at once would otherwise change it back and forth.
func DecideRecordMemberEmail(o *Organization, c RecordMemberEmail) ([]Event, error) {
	m, ok := o.Members[c.Actor.UserID]
	if !ok || !c.Actor.EmailVerified || c.Actor.EmailRef == "" {
		return nil, nil
	}
	if m.EmailVerified && m.Email.Owner == c.Actor.EmailRef {
		return nil, nil
	}
	if !m.EmailSince.IsZero() && !c.Actor.TokenIssuedAt.After(m.EmailSince) {
		return nil, nil
	}
	return []Event{MemberEmailChanged{OrganizationID: o.ID, UserID: m.UserID, Email: c.Actor.EmailPersonal(),
		EmailRef: c.Actor.EmailRef, Name: c.Actor.NamePersonal(), Role: m.Role, TokenIssuedAt: c.Actor.TokenIssuedAt}}, nil
}

// Clone is a copy that shares nothing with o.
func (o *Organization) Clone() *Organization {
	c := *o
	c.Members = maps.Clone(o.Members)
	return &c
}

// OrganizationEventTypes are the event types an organization's stream holds.
func OrganizationEventTypes() []string {
	return []string{"OrganizationCreated", "MemberJoined", "MemberRoleChanged", "MemberRemoved",
		"AccountantAccessRevoked", "CollaboratorPermissionsChanged", "CollaboratorRemoved", "MemberEmailChanged"}
}
