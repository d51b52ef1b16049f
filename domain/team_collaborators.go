package domain

import (
	"maps"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
)

// This file holds collaborators (DOMAIN.md section 4, seed 003): people
// attached to a parent account with two permissions, "can purchase" and
// "can see all orders of the account". They come in two ways. The owner or
// an admin creates the account (CollaboratorInvitation: the invited person
// activates it with the emailed token, signed in with any account). Or a
// user asks to be attached by the account's SIRET or its owner's email
// (CollaborationRequest): the request is recorded whatever the target, so
// the answer to the asker reveals nothing, and it reaches every
// organization it matches, each of which approves or rejects it on its own.

// Collaboration request statuses, per organization that received it.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusRejected = "rejected"
)

// CollaboratorInvitationStreamType is the stream type of collaborator
// invitations.
const CollaboratorInvitationStreamType = "collaborator_invitation"

// CollaboratorInvitationStream is one collaborator invitation's stream.
func CollaboratorInvitationStream(id uuid.UUID) string {
	return "collaborator-invitation-" + id.String()
}

// CollaborationRequestStreamType is the stream type of collaboration
// requests.
const CollaborationRequestStreamType = "collaboration_request"

// CollaborationRequestStream is one collaboration request's stream.
func CollaborationRequestStream(id uuid.UUID) string { return "collaboration-request-" + id.String() }

// =============================================================================
// Values

const personNameMaxRunes = 100

// ParseFirstName trims s and accepts 1 to 100 characters without control
// characters.
func ParseFirstName(s string) (string, error) {
	return cleanText("first_name", s, personNameMaxRunes, true)
}

// ParseLastName trims s and accepts 1 to 100 characters without control
// characters.
func ParseLastName(s string) (string, error) {
	return cleanText("last_name", s, personNameMaxRunes, true)
}

const msgCollaborationTarget = "must be the SIRET (14 digits) or the owner's email address of the account to be attached to"

// ParseCollaborationTarget reads what a user types to be attached to an
// account: a SIRET (spaces allowed) or an email address. Exactly one of the
// results is set.
func ParseCollaborationTarget(s string) (Siret, Email, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Siret{}, Email{}, Invalid("target", msgRequired)
	}
	if strings.Contains(s, "@") {
		e, err := ParseEmail(s)
		if err != nil {
			return Siret{}, Email{}, Invalid("target", msgCollaborationTarget)
		}
		return Siret{}, e, nil
	}
	digits := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	if len(digits) != siretLength {
		return Siret{}, Email{}, Invalid("target", msgCollaborationTarget)
	}
	siret, err := ParseSiret(digits)
	if err != nil {
		return Siret{}, Email{}, Invalid("target", "is not a valid SIRET (14 digits with a valid checksum); check it, or give the owner's email address instead")
	}
	return siret, Email{}, nil
}

// =============================================================================
// Events

// CollaboratorInvited: an owner or admin created a collaborator account;
// the invited person gets an activation email. It holds what the email
// shows, and the profile the owner typed (personal data of the invitee).
type CollaboratorInvited struct {
	InvitationID     uuid.UUID `json:"invitation_id"`
	OrganizationID   uuid.UUID `json:"organization_id"`
	OrganizationName string    `json:"organization_name"`
	InvitedBy        string    `json:"invited_by"`
	// InviterName is who the link's preview says invites (null in events
	// recorded before previews: the preview then names the organization).
	InviterName     Personal  `json:"inviter_name"`
	FirstName       Personal  `json:"first_name"`
	LastName        Personal  `json:"last_name"`
	Email           Personal  `json:"email"`
	EmailRef        PersonRef `json:"email_ref"`
	Phone           Personal  `json:"phone"`
	CanPurchase     bool      `json:"can_purchase"`
	CanSeeAllOrders bool      `json:"can_see_all_orders"`
	TokenHash       string    `json:"token_hash"`
	ExpiresAt       time.Time `json:"expires_at"`
	Locale          string    `json:"locale"`
}

// CollaboratorInvitationResent: an owner or admin resent the activation
// email of an account not yet activated, with a new token (the previous
// link stops working) and a new expiry. Like CollaboratorInvited, it holds
// what the email shows.
type CollaboratorInvitationResent struct {
	InvitationID     uuid.UUID `json:"invitation_id"`
	OrganizationID   uuid.UUID `json:"organization_id"`
	OrganizationName string    `json:"organization_name"`
	ResentBy         string    `json:"resent_by"`
	FirstName        Personal  `json:"first_name"`
	Email            Personal  `json:"email"`
	EmailRef         PersonRef `json:"email_ref"`
	CanPurchase      bool      `json:"can_purchase"`
	CanSeeAllOrders  bool      `json:"can_see_all_orders"`
	TokenHash        string    `json:"token_hash"`
	ExpiresAt        time.Time `json:"expires_at"`
	Locale           string    `json:"locale"`
}

// CollaboratorActivated: the invited person, signed in as UserID, activated
// the collaborator account; they are a collaborator member from now on.
type CollaboratorActivated struct {
	InvitationID   uuid.UUID `json:"invitation_id"`
	OrganizationID uuid.UUID `json:"organization_id"`
	UserID         string    `json:"user_id"`
}

// CollaborationRequested: a user asked to be attached to the account with
// a SIRET or whose owner has an email. It names no organization: which ones
// receive it is worked out afterwards, so recording it reveals nothing.
type CollaborationRequested struct {
	RequestID              uuid.UUID `json:"request_id"`
	RequesterID            string    `json:"requester_id"`
	RequesterEmail         Personal  `json:"requester_email"`
	RequesterName          Personal  `json:"requester_name"`
	RequesterEmailVerified bool      `json:"requester_email_verified"`
	TargetSiret            string    `json:"target_siret,omitempty"`
	// TargetRef is the person ref of the owner's email typed as the target
	// (never the address itself).
	TargetRef PersonRef `json:"target_ref,omitempty"`
	// TargetEmail is the address itself, so the requester can follow
	// their request; it is the target's personal data (owned by
	// TargetRef), forgotten with them. Requests recorded before it have
	// none.
	TargetEmail Personal `json:"target_email"`
}

// CollaborationRequestApproved: an organization the request reached
// attached the requester as a collaborator with these permissions.
type CollaborationRequestApproved struct {
	RequestID       uuid.UUID `json:"request_id"`
	OrganizationID  uuid.UUID `json:"organization_id"`
	RequesterID     string    `json:"requester_id"`
	CanPurchase     bool      `json:"can_purchase"`
	CanSeeAllOrders bool      `json:"can_see_all_orders"`
	ApprovedBy      string    `json:"approved_by"`
}

// CollaborationRequestRejected: an organization the request reached said no.
type CollaborationRequestRejected struct {
	RequestID      uuid.UUID `json:"request_id"`
	OrganizationID uuid.UUID `json:"organization_id"`
	RequesterID    string    `json:"requester_id"`
	RejectedBy     string    `json:"rejected_by"`
}

// CollaboratorInvitationRevoked: the organization withdrew the account
// before its activation; Reason says why (ReasonAuthorLostRight).
type CollaboratorInvitationRevoked struct {
	InvitationID   uuid.UUID `json:"invitation_id"`
	OrganizationID uuid.UUID `json:"organization_id"`
	RevokedBy      string    `json:"revoked_by"`
	Reason         string    `json:"reason,omitempty"`
}

func (CollaboratorInvited) EventType() string           { return "CollaboratorInvited" }
func (CollaboratorInvitationRevoked) EventType() string { return "CollaboratorInvitationRevoked" }
func (CollaboratorInvitationResent) EventType() string  { return "CollaboratorInvitationResent" }
func (CollaboratorActivated) EventType() string         { return "CollaboratorActivated" }
func (CollaborationRequested) EventType() string        { return "CollaborationRequested" }
func (CollaborationRequestApproved) EventType() string  { return "CollaborationRequestApproved" }
func (CollaborationRequestRejected) EventType() string  { return "CollaborationRequestRejected" }

func (e CollaboratorInvited) OrganizationIDs() []uuid.UUID   { return []uuid.UUID{e.OrganizationID} }
func (e CollaboratorActivated) OrganizationIDs() []uuid.UUID { return []uuid.UUID{e.OrganizationID} }
func (e CollaboratorInvitationResent) OrganizationIDs() []uuid.UUID {
	return []uuid.UUID{e.OrganizationID}
}
func (e CollaboratorInvitationRevoked) OrganizationIDs() []uuid.UUID {
	return []uuid.UUID{e.OrganizationID}
}
func (e CollaborationRequestApproved) OrganizationIDs() []uuid.UUID {
	return []uuid.UUID{e.OrganizationID}
}
func (e CollaborationRequestRejected) OrganizationIDs() []uuid.UUID {
	return []uuid.UUID{e.OrganizationID}
}

func init() {
	register(EventSpec{New: func() Event { return &CollaboratorInvited{} }})
	register(EventSpec{New: func() Event { return &CollaboratorActivated{} }})
	register(EventSpec{New: func() Event { return &CollaboratorInvitationRevoked{} }})
	register(EventSpec{New: func() Event { return &CollaboratorInvitationResent{} }})
	register(EventSpec{New: func() Event { return &CollaborationRequested{} }})
	register(EventSpec{New: func() Event { return &CollaborationRequestApproved{} }})
	register(EventSpec{New: func() Event { return &CollaborationRequestRejected{} }})
}

// =============================================================================
// Collaborator invitation

// CollaboratorInvitation is the aggregate of one collaborator account
// created by an owner or admin, until its activation. Its Status is
// invited, activated or revoked.
type CollaboratorInvitation struct {
	InvitationCore[CollaboratorStatus]
	OrganizationID  uuid.UUID
	InvitedBy       string
	FirstName       Personal
	LastName        Personal
	Phone           Personal
	CanPurchase     bool
	CanSeeAllOrders bool
	ActivatedBy     string
	// RevokedFor is the revocation's reason (team_authors.go), if any.
	RevokedFor string
	// OrganizationName, InviterName and Locale are what the last email
	// showed, for the link's preview and the next resend.
	OrganizationName string
	InviterName      Personal
	Locale           string
}

// Apply evolves the state by one event.
func (i *CollaboratorInvitation) Apply(e Event) {
	i.Version++
	switch e := e.(type) {
	case CollaboratorInvited:
		*i = CollaboratorInvitation{InvitationCore: opened(e.InvitationID, e.Email, e.EmailRef, e.TokenHash, e.ExpiresAt, StatusInvited, i.Version),
			OrganizationID: e.OrganizationID, InvitedBy: e.InvitedBy, FirstName: e.FirstName, LastName: e.LastName, Phone: e.Phone,
			CanPurchase: e.CanPurchase, CanSeeAllOrders: e.CanSeeAllOrders, OrganizationName: e.OrganizationName,
			InviterName: e.InviterName, Locale: e.Locale}
	case CollaboratorInvitationResent:
		i.TokenHash, i.ExpiresAt, i.Locale = e.TokenHash, e.ExpiresAt, e.Locale
	case CollaboratorActivated:
		i.Status, i.ActivatedBy = StatusActivated, e.UserID
	case CollaboratorInvitationRevoked:
		i.Status, i.RevokedFor = StatusCollaboratorRevoked, e.Reason
	}
}

// collaboratorRefusals is what a collaborator account's activation link
// says when it can no longer be used.
var collaboratorRefusals = refusals{
	answered:  "This collaborator account was already %s.",
	withdrawn: "This collaborator account was withdrawn by the organization that created it.",
	expired:   "This activation link has expired. Ask the organization that created your account to create it again.",
	pending:   "A collaborator account for this email already waits for its activation.",
}

// InviteCollaborator creates a collaborator account.
type InviteCollaborator struct {
	TokenSend
	FirstName       string
	LastName        string
	Phone           Phone
	CanPurchase     bool
	CanSeeAllOrders bool
	// Pending is the collaborator invitation that holds this organization's
	// pending slot for the email, if any.
	Pending *CollaboratorInvitation
}

// DecideInviteCollaborator decides the creation of a collaborator account.
func DecideInviteCollaborator(o *Organization, c InviteCollaborator) ([]Event, error) {
	if err := o.Require(c.Actor, ActionMembersManage); err != nil {
		return nil, err
	}
	var v Validation
	first := ParseField(&v, "first_name", c.FirstName, ParseFirstName)
	last := ParseField(&v, "last_name", c.LastName, ParseLastName)
	v.Check(c.Email.IsZero(), "email", msgRequired)
	v.Check(c.Phone.IsZero(), "phone", msgRequired)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if m, ok := o.MemberByRef(c.EmailRef); ok {
		return nil, alreadyMember(m)
	}
	if c.Pending != nil && c.Pending.IsPending(c.Now) {
		return nil, c.Pending.duplicate(collaboratorRefusals)
	}
	return []Event{CollaboratorInvited{InvitationID: c.InvitationID, OrganizationID: o.ID, OrganizationName: o.Name,
		InvitedBy: c.Actor.UserID, InviterName: inviterName(c.Actor), FirstName: c.own(first), LastName: c.own(last), Email: c.email(), EmailRef: c.EmailRef,
		Phone: c.own(c.Phone.String()), CanPurchase: c.CanPurchase, CanSeeAllOrders: c.CanSeeAllOrders,
		TokenHash: c.TokenHash, ExpiresAt: c.expiresAt(), Locale: c.Locale}}, nil
}

// ResendCollaboratorInvitation sends the activation email again with a
// new token; an empty Locale keeps the invitation's.
type ResendCollaboratorInvitation struct {
	TokenHash string
	Locale    string
	Actor     Actor
	Now       time.Time
	TTL       time.Duration
}

// pendingCollaboratorCheck is shared by resend and revoke: an owner or
// admin of the organization that created the account, while it is not
// activated nor withdrawn (an expired one may be resent or withdrawn).
// Someone who may not see it learns what an id never sent answers.
func pendingCollaboratorCheck(inv *CollaboratorInvitation, o *Organization, actor Actor) error {
	if !inv.Exists() || o.ID != inv.OrganizationID {
		return ErrInvitationNotFound()
	}
	if err := requireOn(o, actor, ActionMembersManage); err != nil {
		return err
	}
	return inv.open(collaboratorRefusals)
}

// DecideResendCollaboratorInvitation gives an account not yet activated a
// new activation link (the previous one dies), a new expiry and a new
// email. An account whose author may no longer grant it died with that
// right: it is created again, by someone who may.
func DecideResendCollaboratorInvitation(inv *CollaboratorInvitation, o *Organization, c ResendCollaboratorInvitation) ([]Event, error) {
	if err := pendingCollaboratorCheck(inv, o, c.Actor); err != nil {
		return nil, err
	}
	// Expired, it escaped its author's removal; resent, it would be
	// refused at activation all the same.
	if !o.MayGrant(inv.author(), inv.grants()) {
		return nil, errAuthorLostRight()
	}
	if m, ok := o.MemberByRef(inv.EmailRef); ok {
		return nil, alreadyMember(m)
	}
	locale := c.Locale
	if locale == "" {
		locale = inv.Locale
	}
	return []Event{CollaboratorInvitationResent{InvitationID: inv.ID, OrganizationID: o.ID, OrganizationName: inv.OrganizationName,
		ResentBy: c.Actor.UserID, FirstName: inv.FirstName, Email: inv.Email, EmailRef: inv.EmailRef, CanPurchase: inv.CanPurchase,
		CanSeeAllOrders: inv.CanSeeAllOrders, TokenHash: c.TokenHash, ExpiresAt: c.Now.Add(c.TTL).UTC(), Locale: locale}}, nil
}

// RevokeCollaboratorInvitation withdraws an account not yet activated.
type RevokeCollaboratorInvitation struct {
	Actor Actor
}

// DecideRevokeCollaboratorInvitation withdraws an account not yet
// activated (a typo in its email, a change of mind); its links are then
// refused as withdrawn. The reason is empty: an owner or admin chose it.
func DecideRevokeCollaboratorInvitation(inv *CollaboratorInvitation, o *Organization, c RevokeCollaboratorInvitation) ([]Event, error) {
	if err := pendingCollaboratorCheck(inv, o, c.Actor); err != nil {
		return nil, err
	}
	return []Event{CollaboratorInvitationRevoked{InvitationID: inv.ID, OrganizationID: o.ID, RevokedBy: c.Actor.UserID}}, nil
}

// ErrActivationLinkInvalid is the answer to a token that opens no
// collaborator account (unknown, or another kind of link).
func ErrActivationLinkInvalid() *Error {
	return Errorf(CodeInvalidToken, "This activation link is not valid. Ask the organization that created your account for a new one.")
}

// ActivateCollaborator is the activation by the signed-in holder of the
// token.
type ActivateCollaborator struct {
	Actor Actor
	Now   time.Time
}

// DecideActivateCollaborator decides the activation by the signed-in
// person holding the token (checked by the caller): they join as a
// collaborator with the permissions chosen at creation.
func DecideActivateCollaborator(inv *CollaboratorInvitation, o *Organization, c ActivateCollaborator) (invEvents, orgEvents []Event, err error) {
	if !inv.Exists() || !o.Exists() || o.ID != inv.OrganizationID {
		return nil, nil, ErrActivationLinkInvalid()
	}
	if err := diedWithAuthor(o, inv, c.Now); err != nil {
		return nil, nil, err
	}
	if err := inv.answerable(c.Now, collaboratorRefusals); err != nil {
		return nil, nil, err
	}
	if m, ok := o.Members[c.Actor.UserID]; ok {
		return nil, nil, alreadyMember(m)
	}
	id := inv.ID
	return []Event{CollaboratorActivated{InvitationID: inv.ID, OrganizationID: o.ID, UserID: c.Actor.UserID}},
		[]Event{MemberJoined{OrganizationID: o.ID, UserID: c.Actor.UserID, Email: c.Actor.EmailPersonal(), Name: c.Actor.NamePersonal(),
			EmailVerified: c.Actor.EmailVerified, Role: RoleCollaborator, CanPurchase: inv.CanPurchase, CanSeeAllOrders: inv.CanSeeAllOrders,
			Via: ViaCollaboratorInvite, InvitationID: &id}}, nil
}

// =============================================================================
// Collaboration request

// CollaborationRequest is the aggregate of one request to be attached, and
// of each receiving organization's answer.
type CollaborationRequest struct {
	ID                     uuid.UUID
	RequesterID            string
	RequesterEmail         Personal
	RequesterName          Personal
	RequesterEmailVerified bool
	TargetSiret            string
	TargetRef              PersonRef
	TargetEmail            Personal
	// Answers holds each answering organization's status (approved or
	// rejected); an organization that has not answered is pending.
	Answers map[uuid.UUID]string
	Version int
}

// Exists reports whether the request was recorded.
func (r *CollaborationRequest) Exists() bool { return r.ID != uuid.Nil }

// Apply evolves the state by one event.
func (r *CollaborationRequest) Apply(e Event) {
	r.Version++
	switch e := e.(type) {
	case CollaborationRequested:
		*r = CollaborationRequest{ID: e.RequestID, RequesterID: e.RequesterID, RequesterEmail: e.RequesterEmail,
			RequesterName: e.RequesterName, RequesterEmailVerified: e.RequesterEmailVerified, TargetSiret: e.TargetSiret,
			TargetRef: e.TargetRef, TargetEmail: e.TargetEmail, Answers: map[uuid.UUID]string{}, Version: r.Version}
	case CollaborationRequestApproved:
		r.Answers[e.OrganizationID] = StatusApproved
	case CollaborationRequestRejected:
		r.Answers[e.OrganizationID] = StatusRejected
	}
}

// Clone is a copy that shares nothing with r.
func (r *CollaborationRequest) Clone() *CollaborationRequest {
	c := *r
	c.Answers = maps.Clone(r.Answers)
	return &c
}

// Reaches reports whether the request reached the organization: its SIRET
// is the target, or the target is the verified email of one of its owners.
// It also says which ("siret" or "email").
func (r *CollaborationRequest) Reaches(o *Organization) (bool, string) {
	if r.TargetSiret != "" && r.TargetSiret == o.Siret {
		return true, "siret"
	}
	if r.TargetRef != "" {
		for _, m := range o.Members {
			if m.Role == RoleOwner && m.EmailVerified && m.Email.Owner == r.TargetRef {
				return true, "email"
			}
		}
	}
	return false, ""
}

// StatusFor is the request's status for one organization it reached.
func (r *CollaborationRequest) StatusFor(org uuid.UUID) string {
	if s, ok := r.Answers[org]; ok {
		return s
	}
	return StatusPending
}

// RequestCollaboration asks to be attached to the account with a SIRET or
// whose owner has an email (exactly one is set).
type RequestCollaboration struct {
	RequestID   uuid.UUID
	TargetSiret Siret
	TargetRef   PersonRef
	// TargetEmail is the address TargetRef was computed from.
	TargetEmail Email
	Actor       Actor
}

// DecideRequestCollaboration records the request. It consults no
// organization: whether the target exists must not change the answer.
func DecideRequestCollaboration(r *CollaborationRequest, c RequestCollaboration) ([]Event, error) {
	if r.Exists() {
		return nil, ErrConcurrencyConflict("This collaboration request already exists.")
	}
	if c.TargetSiret.IsZero() == (c.TargetRef == "") {
		return nil, Invalid("target", msgCollaborationTarget)
	}
	return []Event{CollaborationRequested{RequestID: c.RequestID, RequesterID: c.Actor.UserID, RequesterEmail: c.Actor.EmailPersonal(),
		RequesterName: c.Actor.NamePersonal(), RequesterEmailVerified: c.Actor.EmailVerified,
		TargetSiret: c.TargetSiret.String(), TargetRef: c.TargetRef, TargetEmail: targetEmail(c)}}, nil
}

// targetEmail is the typed address as its owner's personal data, or
// nothing for a request by SIRET.
func targetEmail(c RequestCollaboration) Personal {
	if c.TargetRef == "" || c.TargetEmail.IsZero() {
		return Personal{}
	}
	return PersonalOf(c.TargetRef, c.TargetEmail.String())
}

// ErrCollaborationRequestNotFound is what an organization the request did
// not reach learns about it.
func ErrCollaborationRequestNotFound() *Error {
	return Errorf(CodeNotFound, "No such collaboration request for this organization.")
}

// answeringRequest runs the checks shared by approve and reject.
func answeringRequest(r *CollaborationRequest, o *Organization, actor Actor) error {
	if err := o.Require(actor, ActionMembersManage); err != nil {
		return err
	}
	if !r.Exists() {
		return ErrCollaborationRequestNotFound()
	}
	if ok, _ := r.Reaches(o); !ok {
		return ErrCollaborationRequestNotFound()
	}
	if s := r.StatusFor(o.ID); s != StatusPending {
		return (&Error{Code: CodeCollaborationRequestAnswered, Message: "This collaboration request was already " + s + "."}).With("status", s)
	}
	return nil
}

// ApproveCollaborationRequest attaches the requester with two permissions.
type ApproveCollaborationRequest struct {
	CanPurchase     bool
	CanSeeAllOrders bool
	Actor           Actor
}

// DecideApproveCollaborationRequest decides the approval: the request's
// events and the organization's (the requester joins as a collaborator).
func DecideApproveCollaborationRequest(r *CollaborationRequest, o *Organization, c ApproveCollaborationRequest) (reqEvents, orgEvents []Event, err error) {
	if err := answeringRequest(r, o, c.Actor); err != nil {
		return nil, nil, err
	}
	if m, ok := o.Members[r.RequesterID]; ok {
		return nil, nil, alreadyMember(m)
	}
	id := r.ID
	return []Event{CollaborationRequestApproved{RequestID: r.ID, OrganizationID: o.ID, RequesterID: r.RequesterID,
			CanPurchase: c.CanPurchase, CanSeeAllOrders: c.CanSeeAllOrders, ApprovedBy: c.Actor.UserID}},
		[]Event{MemberJoined{OrganizationID: o.ID, UserID: r.RequesterID, Email: r.RequesterEmail, Name: r.RequesterName,
			EmailVerified: r.RequesterEmailVerified, Role: RoleCollaborator, CanPurchase: c.CanPurchase,
			CanSeeAllOrders: c.CanSeeAllOrders, Via: ViaCollaborationRequest, InvitationID: &id}}, nil
}

// RejectCollaborationRequest says no for one organization.
type RejectCollaborationRequest struct {
	Actor Actor
}

// DecideRejectCollaborationRequest decides the rejection by one of the
// organizations the request reached.
func DecideRejectCollaborationRequest(r *CollaborationRequest, o *Organization, c RejectCollaborationRequest) ([]Event, error) {
	if err := answeringRequest(r, o, c.Actor); err != nil {
		return nil, err
	}
	return []Event{CollaborationRequestRejected{RequestID: r.ID, OrganizationID: o.ID, RequesterID: r.RequesterID, RejectedBy: c.Actor.UserID}}, nil
}
