package domain

import (
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
}

// EmailPersonal is the actor's email as personal data.
func (a Actor) EmailPersonal() Personal { return PersonalOf(a.EmailRef, a.Email.String()) }

// NamePersonal is the actor's display name as personal data.
func (a Actor) NamePersonal() Personal { return PersonalOf(a.EmailRef, a.Name) }

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

func (OrganizationCreated) EventType() string { return "OrganizationCreated" }
func (MemberJoined) EventType() string        { return "MemberJoined" }

func (e OrganizationCreated) OrganizationIDs() []uuid.UUID { return []uuid.UUID{e.OrganizationID} }
func (e MemberJoined) OrganizationIDs() []uuid.UUID        { return []uuid.UUID{e.OrganizationID} }

func init() {
	register(EventSpec{Type: "OrganizationCreated", New: func() Event { return &OrganizationCreated{} }})
	register(EventSpec{Type: "MemberJoined", New: func() Event { return &MemberJoined{} }})
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
	}
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
		return nil, Errorf(CodeConcurrencyConflict, "This organization already exists.")
	}
	return []Event{
		OrganizationCreated{OrganizationID: c.OrganizationID, Name: c.Name, Side: c.Side, Siret: c.Siret.String()},
		MemberJoined{OrganizationID: c.OrganizationID, UserID: c.Actor.UserID, Email: c.Actor.EmailPersonal(),
			Name: c.Actor.NamePersonal(), EmailVerified: c.Actor.EmailVerified, Role: RoleOwner, Via: "creation"},
	}, nil
}
