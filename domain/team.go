package domain

import (
	"time"

	"github.com/google/uuid"
)

// This file holds the invitations that bring people into an organization's
// team (DOMAIN.md sections 3 and 5): colleagues invited as admin or member,
// and the accountant invited by GrantAccountantAccess. Both work like the
// partner invitations: an email with a link holding a single-use token,
// only its hash kept here, an expiry derived from ExpiresAt. Whoever holds
// the token accepts from any user account (an accountant serves many
// organizations from one account); without the token, only the invited
// email, verified, may accept.

// TeamInvitationKind tells a colleague's invitation from an accountant's.
type TeamInvitationKind string

// The kinds of team invitations.
const (
	TeamInvitationMember     TeamInvitationKind = "member"
	TeamInvitationAccountant TeamInvitationKind = "accountant"
)

// StreamType is the stream type of the kind's invitations.
func (k TeamInvitationKind) StreamType() string { return string(k) + "_invitation" }

// Stream is one invitation's stream.
func (k TeamInvitationKind) Stream(id uuid.UUID) string {
	return string(k) + "-invitation-" + id.String()
}

// ParseInvitedRole accepts the roles a colleague may be invited with:
// "admin" or "member" (owners are made by changing a member's role).
func ParseInvitedRole(s string) (Role, error) {
	switch s {
	case RoleAdmin.s:
		return RoleAdmin, nil
	case RoleMember.s:
		return RoleMember, nil
	case "":
		return Role{}, Invalid("role", msgRequired)
	}
	return Role{}, Invalid("role", `must be "admin" or "member"`)
}

// maxInvitationMessage bounds an accountant invitation's personal message,
// as for partner invitations.
const maxInvitationMessage = 2000

// =============================================================================
// Events

// MemberInvitationSent: an owner or admin invited a colleague by email. It
// holds what the email shows.
type MemberInvitationSent struct {
	InvitationID     uuid.UUID `json:"invitation_id"`
	OrganizationID   uuid.UUID `json:"organization_id"`
	OrganizationName string    `json:"organization_name"`
	InvitedBy        string    `json:"invited_by"`
	InviterName      Personal  `json:"inviter_name"`
	Email            Personal  `json:"email"`
	EmailRef         PersonRef `json:"email_ref"`
	Role             Role      `json:"role"`
	TokenHash        string    `json:"token_hash"`
	ExpiresAt        time.Time `json:"expires_at"`
	Locale           string    `json:"locale"`
}

// MemberInvitationAccepted: the invited colleague joined. Via is "token"
// (the link's token) or "email" (the caller's verified email is the invited
// one).
type MemberInvitationAccepted struct {
	InvitationID   uuid.UUID `json:"invitation_id"`
	OrganizationID uuid.UUID `json:"organization_id"`
	UserID         string    `json:"user_id"`
	Via            string    `json:"via"`
}

// MemberInvitationRevoked: the organization withdrew the invitation.
// Reason is empty when an owner or admin withdrew it, or
// ReasonAuthorLostRight (events stored before it existed have none).
type MemberInvitationRevoked struct {
	InvitationID   uuid.UUID `json:"invitation_id"`
	OrganizationID uuid.UUID `json:"organization_id"`
	RevokedBy      string    `json:"revoked_by"`
	Reason         string    `json:"reason,omitempty"`
}

// AccountantInvitationSent: GrantAccountantAccess, an owner or admin
// invited the organization's accountant by email.
type AccountantInvitationSent struct {
	InvitationID     uuid.UUID `json:"invitation_id"`
	OrganizationID   uuid.UUID `json:"organization_id"`
	OrganizationName string    `json:"organization_name"`
	InvitedBy        string    `json:"invited_by"`
	InviterName      Personal  `json:"inviter_name"`
	Email            Personal  `json:"email"`
	EmailRef         PersonRef `json:"email_ref"`
	Message          Personal  `json:"message"`
	TokenHash        string    `json:"token_hash"`
	ExpiresAt        time.Time `json:"expires_at"`
	Locale           string    `json:"locale"`
}

// AccountantInvitationAccepted: the accountant accepted, from UserID's
// account; they are a member with the accountant role from now on.
type AccountantInvitationAccepted struct {
	InvitationID   uuid.UUID `json:"invitation_id"`
	OrganizationID uuid.UUID `json:"organization_id"`
	UserID         string    `json:"user_id"`
	Via            string    `json:"via"`
}

// AccountantInvitationRevoked: the organization withdrew the invitation
// before it was accepted. Reason as for MemberInvitationRevoked.
type AccountantInvitationRevoked struct {
	InvitationID   uuid.UUID `json:"invitation_id"`
	OrganizationID uuid.UUID `json:"organization_id"`
	RevokedBy      string    `json:"revoked_by"`
	Reason         string    `json:"reason,omitempty"`
}

func (MemberInvitationSent) EventType() string         { return "MemberInvitationSent" }
func (MemberInvitationAccepted) EventType() string     { return "MemberInvitationAccepted" }
func (MemberInvitationRevoked) EventType() string      { return "MemberInvitationRevoked" }
func (AccountantInvitationSent) EventType() string     { return "AccountantInvitationSent" }
func (AccountantInvitationAccepted) EventType() string { return "AccountantInvitationAccepted" }
func (AccountantInvitationRevoked) EventType() string  { return "AccountantInvitationRevoked" }

func (e MemberInvitationSent) OrganizationIDs() []uuid.UUID     { return []uuid.UUID{e.OrganizationID} }
func (e MemberInvitationAccepted) OrganizationIDs() []uuid.UUID { return []uuid.UUID{e.OrganizationID} }
func (e MemberInvitationRevoked) OrganizationIDs() []uuid.UUID  { return []uuid.UUID{e.OrganizationID} }
func (e AccountantInvitationSent) OrganizationIDs() []uuid.UUID { return []uuid.UUID{e.OrganizationID} }
func (e AccountantInvitationAccepted) OrganizationIDs() []uuid.UUID {
	return []uuid.UUID{e.OrganizationID}
}
func (e AccountantInvitationRevoked) OrganizationIDs() []uuid.UUID {
	return []uuid.UUID{e.OrganizationID}
}

func init() {
	register(EventSpec{New: func() Event { return &MemberInvitationSent{} }})
	register(EventSpec{New: func() Event { return &MemberInvitationAccepted{} }})
	register(EventSpec{New: func() Event { return &MemberInvitationRevoked{} }})
	register(EventSpec{New: func() Event { return &AccountantInvitationSent{} }})
	register(EventSpec{New: func() Event { return &AccountantInvitationAccepted{} }})
	register(EventSpec{New: func() Event { return &AccountantInvitationRevoked{} }})
}

// =============================================================================
// Aggregate

// TeamInvitation is the aggregate of one colleague's or accountant's
// invitation. Its Status is sent, accepted or revoked.
type TeamInvitation struct {
	InvitationCore[InvitationStatus]
	Kind           TeamInvitationKind
	OrganizationID uuid.UUID
	// Role is the role the invitee joins with: admin or member for a
	// colleague, accountant for an accountant.
	Role       Role
	InvitedBy  string
	AcceptedBy string
	// OrganizationName and InviterName are what the email showed, and
	// what the link's preview shows.
	OrganizationName string
	InviterName      Personal
	// RevokedFor is the revocation's reason (team_authors.go), if any.
	RevokedFor string
}

// Apply evolves the state by one event.
func (i *TeamInvitation) Apply(e Event) {
	i.Version++
	switch e := e.(type) {
	case MemberInvitationSent:
		*i = TeamInvitation{InvitationCore: opened(e.InvitationID, e.Email, e.EmailRef, e.TokenHash, e.ExpiresAt, StatusSent, i.Version),
			Kind: TeamInvitationMember, OrganizationID: e.OrganizationID, Role: e.Role, InvitedBy: e.InvitedBy,
			OrganizationName: e.OrganizationName, InviterName: e.InviterName}
	case AccountantInvitationSent:
		*i = TeamInvitation{InvitationCore: opened(e.InvitationID, e.Email, e.EmailRef, e.TokenHash, e.ExpiresAt, StatusSent, i.Version),
			Kind: TeamInvitationAccountant, OrganizationID: e.OrganizationID, Role: RoleAccountant, InvitedBy: e.InvitedBy,
			OrganizationName: e.OrganizationName, InviterName: e.InviterName}
	case MemberInvitationAccepted:
		i.Status, i.AcceptedBy = StatusAccepted, e.UserID
	case AccountantInvitationAccepted:
		i.Status, i.AcceptedBy = StatusAccepted, e.UserID
	case MemberInvitationRevoked:
		i.Status, i.RevokedFor = StatusRevoked, e.Reason
	case AccountantInvitationRevoked:
		i.Status, i.RevokedFor = StatusRevoked, e.Reason
	}
}

// teamRefusals is what a colleague's or accountant's invitation says when
// it can no longer be accepted or withdrawn.
var teamRefusals = refusals{
	answered:  "This invitation was already %s.",
	withdrawn: "This invitation was withdrawn by the organization that sent it.",
	expired:   "This invitation has expired. Ask the organization to invite you again.",
	pending:   "A pending invitation to this email already exists. Withdraw it first, or wait for the answer.",
}

// =============================================================================
// Decisions

// inviterName is the inviter's name as the email shows it: their display
// name, else their email, held as their personal data. A token without an
// email names nobody to key it to: the email then shows the organization.
func inviterName(a Actor) Personal {
	if a.EmailRef == "" {
		return Personal{}
	}
	if a.Name != "" {
		return PersonalOf(a.EmailRef, a.Name)
	}
	return PersonalOf(a.EmailRef, a.Email.String())
}

// alreadyMember refuses to bring in someone who is a member already.
func alreadyMember(m Member) *Error {
	return (&Error{Code: CodeAlreadyMember, Message: "This person is already a member of this organization (as " + m.Role.String() + ")."}).
		With("role", m.Role.String())
}

// SendTeamInvitation invites a colleague (Kind member, with Role admin or
// member) or the accountant (Kind accountant, with an optional Message).
type SendTeamInvitation struct {
	TokenSend
	Kind    TeamInvitationKind
	Role    Role
	Message string
	// Pending is the invitation that holds this organization's pending slot
	// for the email and kind, if any.
	Pending *TeamInvitation
}

// DecideSendTeamInvitation decides InviteMember and GrantAccountantAccess.
// Owners invite admins and members, admins members only.
func DecideSendTeamInvitation(o *Organization, c SendTeamInvitation) ([]Event, error) {
	if err := o.Require(c.Actor, ActionMembersManage); err != nil {
		return nil, err
	}
	if c.Kind == TeamInvitationMember {
		if c.Role != RoleAdmin && c.Role != RoleMember {
			return nil, Invalid("role", `must be "admin" or "member"`)
		}
		if !o.MayGrant(c.Actor.UserID, c.Role) {
			return nil, (&Error{Code: CodeNotAllowed, Message: "Only owners can invite admins; admins invite members."}).
				With("action", string(ActionMembersManage))
		}
	}
	if len([]rune(c.Message)) > maxInvitationMessage {
		return nil, Invalid("message", "must be at most 2000 characters")
	}
	if m, ok := o.MemberByRef(c.EmailRef); ok {
		return nil, alreadyMember(m)
	}
	if c.Pending != nil && c.Pending.IsPending(c.Now) {
		return nil, c.Pending.duplicate(teamRefusals)
	}
	if c.Kind == TeamInvitationAccountant {
		return []Event{AccountantInvitationSent{InvitationID: c.InvitationID, OrganizationID: o.ID, OrganizationName: o.Name,
			InvitedBy: c.Actor.UserID, InviterName: inviterName(c.Actor), Email: c.email(), EmailRef: c.EmailRef,
			Message: c.own(c.Message), TokenHash: c.TokenHash, ExpiresAt: c.expiresAt(), Locale: c.Locale}}, nil
	}
	return []Event{MemberInvitationSent{InvitationID: c.InvitationID, OrganizationID: o.ID, OrganizationName: o.Name,
		InvitedBy: c.Actor.UserID, InviterName: inviterName(c.Actor), Email: c.email(), EmailRef: c.EmailRef, Role: c.Role,
		TokenHash: c.TokenHash, ExpiresAt: c.expiresAt(), Locale: c.Locale}}, nil
}

// AcceptTeamInvitation is the invitee's answer.
type AcceptTeamInvitation struct {
	Actor Actor
	// TokenGiven says the caller presented a token; TokenValid that it is
	// this invitation's (compared by the caller, in constant time).
	TokenGiven, TokenValid bool
	Now                    time.Time
}

// errNotYourInvitation is the answer to a caller who can neither show the
// invitation's token nor has its invited email, verified, and to an id
// never sent: the two read the same, so an id tells an outsider nothing.
func errNotYourInvitation() *Error {
	return Errorf(CodeInvalidToken, "No invitation of yours has this id. "+
		"Open the link from the invitation email: it lets you accept from any account.")
}

// entitled checks the token rule shared by every team invitation: the
// link's token opens it for any account; without a token only the invited
// email, verified, does. It says how.
func entitled(ref PersonRef, c Actor, given, valid bool) (string, error) {
	if given {
		if !valid {
			return "", errNotYourInvitation()
		}
		return "token", nil
	}
	if c.EmailVerified && c.EmailRef != "" && c.EmailRef == ref {
		return "email", nil
	}
	return "", errNotYourInvitation()
}

// DecideAcceptTeamInvitation decides the acceptance: the invitation's
// events and the organization's (the invitee joins with the invited role).
func DecideAcceptTeamInvitation(inv *TeamInvitation, o *Organization, c AcceptTeamInvitation) (invEvents, orgEvents []Event, err error) {
	if !inv.Exists() || !o.Exists() || o.ID != inv.OrganizationID {
		return nil, nil, errNotYourInvitation()
	}
	via, err := entitled(inv.EmailRef, c.Actor, c.TokenGiven, c.TokenValid)
	if err != nil {
		return nil, nil, err
	}
	if err := diedWithAuthor(o, inv, c.Now); err != nil {
		return nil, nil, err
	}
	if err := inv.answerable(c.Now, teamRefusals); err != nil {
		return nil, nil, err
	}
	if m, ok := o.Members[c.Actor.UserID]; ok {
		return nil, nil, alreadyMember(m)
	}
	joinedVia := ViaMemberInvitation
	var accepted Event = MemberInvitationAccepted{InvitationID: inv.ID, OrganizationID: o.ID, UserID: c.Actor.UserID, Via: via}
	if inv.Kind == TeamInvitationAccountant {
		joinedVia = ViaAccountantInvitation
		accepted = AccountantInvitationAccepted{InvitationID: inv.ID, OrganizationID: o.ID, UserID: c.Actor.UserID, Via: via}
	}
	id := inv.ID
	return []Event{accepted}, []Event{MemberJoined{OrganizationID: o.ID, UserID: c.Actor.UserID, Email: c.Actor.EmailPersonal(),
		Name: c.Actor.NamePersonal(), EmailVerified: c.Actor.EmailVerified, Role: inv.Role, Via: joinedVia, InvitationID: &id}}, nil
}

// RevokeTeamInvitation withdraws a colleague's or accountant's invitation.
type RevokeTeamInvitation struct {
	Actor Actor
}

// DecideRevokeTeamInvitation withdraws a pending (or expired) invitation,
// by an owner or admin of the organization that sent it.
func DecideRevokeTeamInvitation(inv *TeamInvitation, o *Organization, c RevokeTeamInvitation) ([]Event, error) {
	if !inv.Exists() || o.ID != inv.OrganizationID {
		return nil, ErrInvitationNotFound()
	}
	if err := requireOn(o, c.Actor, ActionMembersManage); err != nil {
		return nil, err
	}
	if err := inv.open(teamRefusals); err != nil {
		return nil, err
	}
	if inv.Kind == TeamInvitationAccountant {
		return []Event{AccountantInvitationRevoked{InvitationID: inv.ID, OrganizationID: o.ID, RevokedBy: c.Actor.UserID}}, nil
	}
	return []Event{MemberInvitationRevoked{InvitationID: inv.ID, OrganizationID: o.ID, RevokedBy: c.Actor.UserID}}, nil
}
